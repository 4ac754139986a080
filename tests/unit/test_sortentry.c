/* test_sortentry: the sortition's log entries (core/protocol/sortentry): each kind round
 * trips byte for byte, a party's commitment signature verifies and nothing else does, the
 * seed depends on every reveal and their order, the decoder refuses every deviation, and
 * the general entry decoder refuses these kinds (a log holding one fails the audit until
 * the auditor checks them). */
#include <sodium.h>

#include "../test.h"
#include "../cbormutate.h"
#include "protocol/sortentry.h"

static void
roundtrip(const struct ov_sortentry *e, const char *what)
{
    struct ov_buf a, b;
    struct ov_sortentry d;
    int rc = ov_sortentry_encode(e, &a);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(ov_sortentry_kind_of(ov_buf_view(&a)), e->kind);
    CHECK_EQ_INT(ov_sortentry_decode(ov_buf_view(&a), &d), 0);
    CHECK_EQ_INT(ov_sortentry_encode(&d, &b), 0);
    CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0);
    struct ov_entry ge;
    CHECK_EQ_INT(ov_entry_decode(ov_buf_view(&a), &ge), -OV_E_MALFORMED);
    ov_entry_clear(&ge);
    if (test_failed) {
        fprintf(stderr, "  (%s)\n", what);
    }
    ov_sortentry_clear(&d);
    ov_buf_clear(&a);
    ov_buf_clear(&b);
}

/* Decodes e's encoding with one key replaced or added: must fail. */
static void
refused_with(const struct ov_sortentry *e, const char *key, cbor_item_t *v, const char *what)
{
    struct ov_buf a, b;
    struct ov_sortentry d;
    CHECK_EQ_INT(ov_sortentry_encode(e, &a), 0);
    mutate(ov_buf_view(&a), key, v, &b);
    int rc = ov_sortentry_decode(ov_buf_view(&b), &d);
    if (rc == 0) {
        fprintf(stderr, "accepted: %s\n", what);
    }
    CHECK(rc != 0);
    ov_sortentry_clear(&d);
    ov_buf_clear(&a);
    ov_buf_clear(&b);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    struct ov_sign_key *party = NULL, *other = NULL;
    CHECK_EQ_INT(ov_sign_key_generate(&party), 0);
    CHECK_EQ_INT(ov_sign_key_generate(&other), 0);
    uint8_t secret[OV_SORT_SECRET_LEN], c1[32], c2[32];
    randombytes_buf(secret, sizeof secret);

    /* the commitment binds the draw and the secret */
    CHECK_EQ_INT(ov_sort_commitment("assembly-2027", secret, c1), 0);
    CHECK_EQ_INT(ov_sort_commitment("assembly-2028", secret, c2), 0);
    CHECK(memcmp(c1, c2, 32) != 0);
    CHECK_EQ_INT(ov_sort_commitment("Not A Slug", secret, c2), -OV_E_MALFORMED);

    /* a commit entry, signed by its party */
    struct ov_sortentry e;
    memset(&e, 0, sizeof e);
    e.kind = OV_SORTENTRY_COMMIT;
    snprintf(e.u.commit.draw, sizeof e.u.commit.draw, "assembly-2027");
    snprintf(e.u.commit.party, sizeof e.u.commit.party, "The Daily Observer");
    memcpy(e.u.commit.commitment, c1, 32);
    e.u.commit.time = 1796600000;
    CHECK_EQ_INT(ov_sort_commit_sign(&e.u.commit, party), 0);
    CHECK_EQ_INT(ov_sort_commit_verify(&e.u.commit), 0);
    roundtrip(&e, "commit");
    struct ov_sort_commit bad = e.u.commit;
    bad.commitment[0] ^= 1;
    CHECK_EQ_INT(ov_sort_commit_verify(&bad), -OV_E_BAD_SIG);
    bad = e.u.commit;
    snprintf(bad.party, sizeof bad.party, "Someone Else");
    CHECK_EQ_INT(ov_sort_commit_verify(&bad), -OV_E_BAD_SIG);
    bad = e.u.commit;
    ov_sign_key_public(other, bad.party_key);
    CHECK_EQ_INT(ov_sort_commit_verify(&bad), -OV_E_BAD_SIG);
    refused_with(&e, "extra", ov_cbor_uint(1), "a commit with an unknown key");
    refused_with(&e, "party_key", ov_cbor_bytes(c1, 31), "a short party key");
    refused_with(&e, "v", ov_cbor_uint(2), "a commit of version 2");
    refused_with(&e, "party", ov_cbor_text("a,b\n", 4), "a party with a control character");

    /* the pool */
    memset(&e, 0, sizeof e);
    e.kind = OV_SORTENTRY_POOL;
    struct ov_sort_poolentry *p = &e.u.pool;
    snprintf(p->id, sizeof p->id, "assembly-2027");
    snprintf(p->title, sizeof p->title, "Citizens' assembly on transport, 2027");
    memset(p->pool, 0xab, 32);
    p->members = 200000;
    p->panel = 447;
    p->reserves = 40;
    p->max_attempts = 100;
    p->n_parties = 2;
    ov_sign_key_public(party, p->parties[0]);
    ov_sign_key_public(other, p->parties[1]);
    p->reveal_by = 1796700000;
    p->time = 1796600100;
    roundtrip(&e, "pool");
    refused_with(&e, "algorithm", ov_cbor_text("other/v1", 8), "another algorithm");
    refused_with(&e, "panel", ov_cbor_uint(0), "an empty panel");
    refused_with(&e, "max_attempts", ov_cbor_uint(10001), "too many attempts");
    refused_with(&e, "parties", ov_cbor_array_new(), "no party");
    memcpy(p->parties[1], p->parties[0], OV_SIGN_PK_LEN);
    struct ov_buf out;
    CHECK_EQ_INT(ov_sortentry_encode(&e, &out), -OV_E_MALFORMED); /* a party twice */

    /* a reveal */
    memset(&e, 0, sizeof e);
    e.kind = OV_SORTENTRY_REVEAL;
    snprintf(e.u.reveal.draw, sizeof e.u.reveal.draw, "assembly-2027");
    ov_sign_key_public(party, e.u.reveal.party_key);
    memcpy(e.u.reveal.reveal, secret, sizeof secret);
    e.u.reveal.time = 1796650000;
    roundtrip(&e, "reveal");
    uint8_t long33[33] = { 0 };
    refused_with(&e, "reveal", ov_cbor_bytes(long33, sizeof long33), "a long reveal");

    /* the seed: every reveal counts, in order */
    uint8_t pool[32], secrets[2][OV_SORT_SECRET_LEN], s1[32], s2[32];
    memset(pool, 7, sizeof pool);
    randombytes_buf(secrets, sizeof secrets);
    CHECK_EQ_INT(ov_sort_seed(pool, (const uint8_t(*)[OV_SORT_SECRET_LEN])secrets, 2, s1), 0);
    uint8_t swapped[2][OV_SORT_SECRET_LEN];
    memcpy(swapped[0], secrets[1], 32);
    memcpy(swapped[1], secrets[0], 32);
    CHECK_EQ_INT(ov_sort_seed(pool, (const uint8_t(*)[OV_SORT_SECRET_LEN])swapped, 2, s2), 0);
    CHECK(memcmp(s1, s2, 32) != 0);
    secrets[1][0] ^= 1;
    CHECK_EQ_INT(ov_sort_seed(pool, (const uint8_t(*)[OV_SORT_SECRET_LEN])secrets, 2, s2), 0);
    CHECK(memcmp(s1, s2, 32) != 0);
    CHECK_EQ_INT(ov_sort_seed(pool, (const uint8_t(*)[OV_SORT_SECRET_LEN])secrets, 0, s2),
                 -OV_E_RANGE);

    /* the draw */
    uint32_t panel[447], reserves[40];
    for (uint32_t i = 0; i < 447; i++) {
        panel[i] = 1 + i * 397;
    }
    for (uint32_t i = 0; i < 40; i++) {
        reserves[i] = 5 + i * 1001;
    }
    memset(&e, 0, sizeof e);
    e.kind = OV_SORTENTRY_DRAW;
    snprintf(e.u.draw.id, sizeof e.u.draw.id, "assembly-2027");
    memcpy(e.u.draw.seed, s1, 32);
    e.u.draw.attempt = 3;
    e.u.draw.panel = panel;
    e.u.draw.n_panel = 447;
    e.u.draw.reserves = reserves;
    e.u.draw.n_reserves = 40;
    e.u.draw.time = 1796660000;
    roundtrip(&e, "draw");
    cbor_item_t *zero = ov_cbor_array_new();
    CHECK_EQ_INT(ov_cbor_push(zero, ov_cbor_uint(0)), 0);
    refused_with(&e, "panel", zero, "member ID 0");
    refused_with(&e, "panel", ov_cbor_array_new(), "an empty panel");
    refused_with(&e, "attempt", ov_cbor_uint(10000), "an attempt past the maximum");
    panel[0] = 0;
    CHECK_EQ_INT(ov_sortentry_encode(&e, &out), -OV_E_MALFORMED);

    /* other entries are none of these */
    struct ov_entry en;
    memset(&en, 0, sizeof en);
    en.kind = OV_ENTRY_ENROLLMENT;
    en.u.enrollment.route = OV_ROUTE_INVITE;
    en.u.enrollment.n = 1;
    CHECK_EQ_INT(ov_entry_encode(&en, &out), 0);
    CHECK_EQ_INT(ov_sortentry_kind_of(ov_buf_view(&out)), 0);
    struct ov_sortentry d;
    CHECK_EQ_INT(ov_sortentry_decode(ov_buf_view(&out), &d), -OV_E_MALFORMED);
    ov_sortentry_clear(&d);
    ov_buf_clear(&out);
    ov_sign_key_free(party);
    ov_sign_key_free(other);
    TEST_DONE("test_sortentry");
}
