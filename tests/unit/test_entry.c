/* Unit tests: the onevoice log entries (core/protocol/entry). Round trips of every kind and variant,
 * the strict decoder's refusals (unknown and missing keys, wrong types, bad ids and labels,
 * invalid UTF-8 and control characters, out-of-range values, non-canonical CBOR, truncation
 * at every offset, trailing bytes, the 65,535-byte entry limit), the encoder's refusals, the
 * context's TokenChallenge, and action signatures with the token's nonce binding. */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "base/bytes.h"
#include "base/codec.h"
#include "primitives/cbor.h"
#include "protocol/entry.h"
#include "primitives/pp.h"
#include "primitives/sign.h"
#include "../test.h"
#include "../cbormutate.h"

/* ------------------------------------------------------------------ samples */

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(seed + i * 31);
    }
}

static void
sample_assembly(struct ov_entry *e)
{
    memset(e, 0, sizeof *e);
    e->kind = OV_ENTRY_CONTEXT;
    struct ov_context *c = &e->u.context;
    strcpy(c->id, "budget-2025");
    strcpy(c->title, "Participatory budget: which park gets renovated? \xc3\xa9t\xc3\xa9");
    c->type = OV_CONTEXT_ASSEMBLY;
    c->n_choices = 3;
    strcpy(c->choices[0], "north park");
    strcpy(c->choices[1], "south park");
    strcpy(c->choices[2], "\xe2\x82\xac none");
    c->opens = 1700000000;
    c->closes = 1700086400;
    c->quota = 1;
    strcpy(c->issuer, "issuer.example.org");
    c->token_key_len = 342;
    fill(c->token_key, c->token_key_len, 7);
    fill(c->token_key_id, OV_PP_NID, 9);
    c->time = 1699999000;
}

static void
sample_rating(struct ov_entry *e)
{
    sample_assembly(e);
    struct ov_context *c = &e->u.context;
    strcpy(c->id, "notes-round-1");
    c->type = OV_CONTEXT_RATING;
    c->n_choices = 0;
    memset(c->choices, 0, sizeof c->choices);
    c->scale_min = -2;
    c->scale_max = 2;
    c->quota = 3;
}

static void
sample_enrollment(struct ov_entry *e, enum ov_enroll_route r)
{
    memset(e, 0, sizeof *e);
    e->kind = OV_ENTRY_ENROLLMENT;
    e->u.enrollment.route = r;
    e->u.enrollment.n = 42;
    e->u.enrollment.time = 1700000001;
}

static void
sample_issuance(struct ov_entry *e)
{
    memset(e, 0, sizeof *e);
    e->kind = OV_ENTRY_ISSUANCE;
    strcpy(e->u.issuance.context, "budget-2025");
    fill(e->u.issuance.tag, OV_TAG_LEN, 3);
    e->u.issuance.n = 1;
    e->u.issuance.time = 1700000002;
}

static void
sample_vote(struct ov_entry *e, bool token)
{
    memset(e, 0, sizeof *e);
    e->kind = OV_ENTRY_ACTION;
    struct ov_action *a = &e->u.action;
    strcpy(a->context, "budget-2025");
    fill(a->pseudonym, sizeof a->pseudonym, 1);
    a->has_token = token;
    if (token) {
        fill(a->token, sizeof a->token, 2);
        a->token[0] = 0;
        a->token[1] = 2;
    }
    strcpy(a->choice, "north park");
    strcpy(a->platform, "civic-app");
    fill(a->sig, sizeof a->sig, 4);
    a->time = 1700000100;
}

static void
sample_rate(struct ov_entry *e, bool token)
{
    sample_vote(e, token);
    struct ov_action *a = &e->u.action;
    strcpy(a->context, "notes-round-1");
    a->is_rating = true;
    memset(a->choice, 0, sizeof a->choice);
    strcpy(a->target, "note-17");
    a->rating = -2;
}

static void
sample_tally(struct ov_entry *e, bool ratings, size_t n)
{
    memset(e, 0, sizeof *e);
    e->kind = OV_ENTRY_TALLY;
    struct ov_tally *t = &e->u.tally;
    strcpy(t->context, ratings ? "notes-round-1" : "budget-2025");
    t->size = 12345;
    t->ratings = ratings;
    t->n = n;
    t->items = n ? calloc(n, sizeof *t->items) : NULL;
    for (size_t i = 0; i < n; i++) {
        snprintf(t->items[i].name, sizeof t->items[i].name, "choice-%04zu", i);
        t->items[i].count = i * 1000003u;
        t->items[i].sum = ratings ? -(int64_t)i * 5 : 0;
    }
    t->time = 1700090000;
}

/* ------------------------------------------------------------------ helpers */

static int
encode(const struct ov_entry *e, struct ov_buf *b)
{
    return ov_entry_encode(e, b);
}

/* decode(b) must succeed and re-encode to the same bytes. */
static void
round_trip_bytes(struct ov_bytes b, struct ov_entry *out)
{
    struct ov_buf again;
    CHECK_EQ_INT(ov_entry_decode(b, out), 0);
    CHECK_EQ_INT(ov_entry_encode(out, &again), 0);
    CHECK_EQ_INT(again.len, b.len);
    if (again.len == b.len) {
        CHECK_EQ_MEM(again.ptr, b.ptr, b.len);
    }
    ov_buf_clear(&again);
}

/* encode -> decode -> encode, and the decoded struct equals the original (e is cleared). */
static void
round_trip(struct ov_entry *e)
{
    struct ov_buf b;
    struct ov_entry d;
    CHECK_EQ_INT(encode(e, &b), 0);
    round_trip_bytes(ov_buf_view(&b), &d);
    CHECK_EQ_INT(d.kind, e->kind);
    switch (e->kind) {
    case OV_ENTRY_TALLY:
        CHECK_EQ_INT(d.u.tally.n, e->u.tally.n);
        CHECK_EQ_INT(d.u.tally.size, e->u.tally.size);
        CHECK_EQ_INT(d.u.tally.ratings, e->u.tally.ratings);
        CHECK(strcmp(d.u.tally.context, e->u.tally.context) == 0);
        for (size_t i = 0; i < d.u.tally.n && d.u.tally.n == e->u.tally.n; i++) {
            CHECK(strcmp(d.u.tally.items[i].name, e->u.tally.items[i].name) == 0);
            CHECK_EQ_INT(d.u.tally.items[i].count, e->u.tally.items[i].count);
            CHECK_EQ_INT(d.u.tally.items[i].sum, e->u.tally.items[i].sum);
        }
        CHECK_EQ_INT(d.u.tally.has_results, e->u.tally.has_results);
        if (d.u.tally.has_results && e->u.tally.has_results) {
            const struct ov_tally_results *x = &d.u.tally.results, *y = &e->u.tally.results;
            CHECK_EQ_MEM(x->seed, y->seed, 32);
            CHECK_EQ_MEM(x->bridging, y->bridging, 32);
            CHECK_EQ_MEM(x->groups, y->groups, 32);
            CHECK_EQ_INT(x->min_ratings_per_rater, y->min_ratings_per_rater);
            CHECK_EQ_INT(x->min_raters_per_note, y->min_raters_per_note);
            CHECK_EQ_INT(x->n_helpful, y->n_helpful);
            CHECK_EQ_INT(x->n_not_helpful, y->n_not_helpful);
            CHECK_EQ_INT(x->k, y->k);
            CHECK_EQ_INT(x->n_consensus, y->n_consensus);
            if (x->n_helpful == y->n_helpful && x->n_helpful > 0) {
                CHECK_EQ_MEM(x->helpful, y->helpful, x->n_helpful * sizeof *x->helpful);
            }
            if (x->n_not_helpful == y->n_not_helpful && x->n_not_helpful > 0) {
                CHECK_EQ_MEM(x->not_helpful, y->not_helpful, x->n_not_helpful * sizeof *x->helpful);
            }
            CHECK_EQ_MEM(x->sizes, y->sizes, sizeof x->sizes);
            CHECK_EQ_MEM(x->consensus, y->consensus, sizeof x->consensus);
        }
        break;
    /* every field of the fixed-size structs: decoding zeroes what it does not set of the
     * kind's member (only that member of the union is defined) */
    case OV_ENTRY_ENROLLMENT:
        CHECK_EQ_MEM(&d.u.enrollment, &e->u.enrollment, sizeof d.u.enrollment);
        break;
    case OV_ENTRY_ISSUANCE:
        CHECK_EQ_MEM(&d.u.issuance, &e->u.issuance, sizeof d.u.issuance);
        break;
    case OV_ENTRY_INVITATIONS:
        CHECK_EQ_MEM(&d.u.invitations, &e->u.invitations, sizeof d.u.invitations);
        break;
    case OV_ENTRY_ACTION:
    case OV_ENTRY_STATEMENT:
        CHECK_EQ_MEM(&d.u.action, &e->u.action, sizeof d.u.action);
        break;
    case OV_ENTRY_CONTEXT:
    default:
        CHECK_EQ_MEM(&d.u, &e->u, sizeof d.u);
        break;
    }
    ov_entry_clear(&d);
    ov_entry_clear(e);
    ov_buf_clear(&b);
}

/* decode must fail with want (0: any failure), leaving the entry zeroed. */
static void
refuse(struct ov_bytes b, int want)
{
    struct ov_entry e;
    static const struct ov_entry zero;
    memset(&e, 0xa5, sizeof e);
    int rc = ov_entry_decode(b, &e);
    if (want == 0) {
        CHECK(rc < 0);
    } else {
        CHECK_EQ_INT(rc, want);
    }
    CHECK(memcmp(&e, &zero, sizeof e) == 0);
    if (rc == 0) {
        ov_entry_clear(&e);
    }
}

/* The sample with key replaced by v must be refused with want. */
static void
refuse_with(const struct ov_entry *e, const char *key, cbor_item_t *v, int want)
{
    struct ov_buf b, m;
    CHECK_EQ_INT(encode(e, &b), 0);
    mutate(ov_buf_view(&b), key, v, &m);
    refuse(ov_buf_view(&m), want);
    ov_buf_clear(&m);
    ov_buf_clear(&b);
}

/* The sample with key replaced by v must still decode (a control for refuse_with). */
static void
accept_with(const struct ov_entry *e, const char *key, cbor_item_t *v)
{
    struct ov_buf b, m;
    struct ov_entry d;
    CHECK_EQ_INT(encode(e, &b), 0);
    mutate(ov_buf_view(&b), key, v, &m);
    round_trip_bytes(ov_buf_view(&m), &d);
    ov_entry_clear(&d);
    ov_buf_clear(&m);
    ov_buf_clear(&b);
}

static cbor_item_t *
text(const char *s)
{
    return ov_cbor_text(s, strlen(s));
}

static cbor_item_t *
bytes_n(size_t n)
{
    uint8_t b[400];
    fill(b, n, 5);
    return ov_cbor_bytes(b, n);
}

static cbor_item_t *
pair(cbor_item_t *a, cbor_item_t *b)
{
    cbor_item_t *arr = ov_cbor_array_new();
    CHECK_EQ_INT(ov_cbor_push(arr, a), 0);
    CHECK_EQ_INT(ov_cbor_push(arr, b), 0);
    return arr;
}

/* Every sample, one per kind and variant, for the generic checks. */
static void
sample_invitations(struct ov_entry *e, const char *draw)
{
    memset(e, 0, sizeof *e);
    e->kind = OV_ENTRY_INVITATIONS;
    snprintf(e->u.invitations.draw, sizeof e->u.invitations.draw, "%s", draw);
    e->u.invitations.count = 447;
    e->u.invitations.total = 500;
    e->u.invitations.time = 1767225600;
}

#define N_SAMPLES 13
static void
sample(size_t i, struct ov_entry *e)
{
    switch (i) {
    case 0: sample_assembly(e); break;
    case 1: sample_rating(e); break;
    case 2: sample_enrollment(e, OV_ROUTE_INVITE); break;
    case 3: sample_enrollment(e, OV_ROUTE_RECOVERY); break;
    case 4: sample_issuance(e); break;
    case 5: sample_vote(e, true); break;
    case 6: sample_vote(e, false); break;
    case 7: sample_rate(e, true); break;
    case 8: sample_rate(e, false); break;
    case 9: sample_tally(e, false, 3); break;
    case 11: sample_invitations(e, "assembly-2027"); break;
    case 12: sample_invitations(e, ""); break;
    default: sample_tally(e, true, 2); break;
    }
}

/* ------------------------------------------------------------------ tests */

static void
test_round_trips(void)
{
    struct ov_entry e;
    for (size_t i = 0; i < N_SAMPLES; i++) {
        sample(i, &e);
        round_trip(&e);
    }
    for (int r = OV_ROUTE_INVITE; r <= OV_ROUTE_RECOVERY; r++) {
        sample_enrollment(&e, (enum ov_enroll_route)r);
        round_trip(&e);
    }
    /* extremes: empty tally, many items, 64 choices, full-width numbers, longest fields */
    sample_tally(&e, false, 0);
    round_trip(&e);
    sample_tally(&e, true, 300);
    round_trip(&e);
    sample_assembly(&e);
    e.u.context.n_choices = OV_MAX_CHOICES;
    memset(e.u.context.choices, 0, sizeof e.u.context.choices);
    for (size_t i = 0; i < OV_MAX_CHOICES; i++) {
        snprintf(e.u.context.choices[i], sizeof e.u.context.choices[i], "option %zu", i);
    }
    memset(e.u.context.id, 'z', OV_MAX_CONTEXT_ID_LEN);
    e.u.context.id[OV_MAX_CONTEXT_ID_LEN] = 0;
    memset(e.u.context.title, 't', OV_MAX_TITLE_LEN);
    e.u.context.title[OV_MAX_TITLE_LEN] = 0;
    memset(e.u.context.issuer, 'i', OV_MAX_ISSUER_NAME);
    e.u.context.issuer[OV_MAX_ISSUER_NAME] = 0;
    e.u.context.token_key_len = OV_MAX_TOKEN_KEY_LEN;
    e.u.context.opens = 0;
    e.u.context.closes = UINT64_MAX;
    e.u.context.quota = UINT64_MAX;
    e.u.context.time = UINT64_MAX;
    round_trip(&e);
    sample_rating(&e);
    e.u.context.scale_min = INT64_MIN;
    e.u.context.scale_max = INT64_MAX;
    e.u.context.token_key_len = 1;
    memset(e.u.context.token_key + 1, 0, sizeof e.u.context.token_key - 1);
    round_trip(&e);
    sample_rate(&e, true);
    e.u.action.rating = INT64_MIN;
    memset(e.u.action.target, 'x', OV_MAX_LABEL_LEN);
    e.u.action.target[OV_MAX_LABEL_LEN] = 0;
    memset(e.u.action.platform, 'p', OV_MAX_LABEL_LEN);
    e.u.action.platform[OV_MAX_LABEL_LEN] = 0;
    round_trip(&e);
    sample_rate(&e, false);
    e.u.action.rating = INT64_MAX;
    round_trip(&e);
    sample_tally(&e, true, 1);
    e.u.tally.items[0].count = UINT64_MAX;
    e.u.tally.items[0].sum = INT64_MIN;
    round_trip(&e);
    /* items come back sorted by name, whatever order they were given in */
    sample_tally(&e, false, 3);
    strcpy(e.u.tally.items[0].name, "zeta");
    strcpy(e.u.tally.items[1].name, "alpha");
    strcpy(e.u.tally.items[2].name, "mu");
    struct ov_buf b;
    struct ov_entry d;
    CHECK_EQ_INT(encode(&e, &b), 0);
    CHECK_EQ_INT(ov_entry_decode(ov_buf_view(&b), &d), 0);
    CHECK(strcmp(d.u.tally.items[0].name, "alpha") == 0);
    CHECK(strcmp(d.u.tally.items[2].name, "zeta") == 0);
    ov_entry_clear(&d);
    ov_entry_clear(&e);
    ov_buf_clear(&b);
}

/* Truncation at every offset and trailing bytes, for every sample. */
static void
test_truncation(void)
{
    for (size_t i = 0; i < N_SAMPLES; i++) {
        struct ov_entry e;
        struct ov_buf b;
        sample(i, &e);
        CHECK_EQ_INT(encode(&e, &b), 0);
        int bad = 0;
        for (size_t cut = 0; cut < b.len; cut++) {
            struct ov_entry d;
            if (ov_entry_decode(OV_BYTES(b.ptr, cut), &d) != -OV_E_TRUNCATED) {
                bad++;
            }
        }
        CHECK_EQ_INT(bad, 0);
        static const uint8_t tails[] = { 0x00, 0xa0, 0xff };
        for (size_t t = 0; t < sizeof tails; t++) {
            struct ov_buf x;
            ov_buf_init(&x, OV_MAX_CBOR_LEN);
            CHECK_EQ_INT(ov_buf_append(&x, b.ptr, b.len), 0);
            CHECK_EQ_INT(ov_buf_append(&x, &tails[t], 1), 0);
            refuse(ov_buf_view(&x), -OV_E_TRAILING);
            ov_buf_clear(&x);
        }
        ov_entry_clear(&e);
        ov_buf_clear(&b);
    }
    refuse(OV_BYTES("", 0), -OV_E_TRUNCATED);
}

/* Unknown keys, missing keys and every key with a value of the wrong type. */
static void
test_keys_and_types(void)
{
    for (size_t i = 0; i < N_SAMPLES; i++) {
        struct ov_entry e;
        struct ov_buf b;
        sample(i, &e);
        CHECK_EQ_INT(encode(&e, &b), 0);
        /* an extra key, sorted anywhere */
        refuse_with(&e, "extra", ov_cbor_uint(1), -OV_E_MALFORMED);
        refuse_with(&e, "a", ov_cbor_null(), -OV_E_MALFORMED);
        refuse_with(&e, "zzzz", text("x"), -OV_E_MALFORMED);
        /* each key: absent, then with a value of another type */
        cbor_item_t *m = NULL;
        CHECK_EQ_INT(ov_cbor_decode_map(ov_buf_view(&b), &m), 0);
        size_t np = m ? cbor_map_size(m) : 0;
        struct cbor_pair *p = m ? cbor_map_handle(m) : NULL;
        for (size_t k = 0; k < np; k++) {
            char key[64];
            size_t kl = cbor_string_length(p[k].key);
            memcpy(key, cbor_string_handle(p[k].key), kl);
            key[kl] = 0;
            bool optional = strcmp(key, "token") == 0 || strcmp(key, "draw") == 0;
            struct ov_buf x;
            mutate(ov_buf_view(&b), key, NULL, &x);
            if (optional) {
                struct ov_entry d;
                round_trip_bytes(ov_buf_view(&x), &d);
                ov_entry_clear(&d);
            } else {
                refuse(ov_buf_view(&x), 0);
            }
            ov_buf_clear(&x);
            cbor_item_t *wrong[] = { ov_cbor_bool(true), ov_cbor_null(), ov_cbor_map_new(),
                                     ov_cbor_array_new(), NULL, NULL, NULL };
            const cbor_item_t *val = p[k].value;
            if (cbor_isa_string(val)) {
                wrong[4] = ov_cbor_bytes(cbor_string_handle(val), cbor_string_length(val));
                wrong[5] = ov_cbor_uint(1);
            } else if (cbor_isa_bytestring(val)) {
                wrong[4] = ov_cbor_text("abc", 3);
                wrong[5] = ov_cbor_uint(1);
            } else if (cbor_is_int(val)) {
                wrong[4] = text("1");
                wrong[5] = ov_cbor_bytes("\x01", 1);
                if (cbor_isa_uint(val) && strcmp(key, "rating") != 0) {
                    wrong[6] = ov_cbor_int(-1); /* unsigned fields refuse negative numbers */
                }
            } else {
                wrong[4] = text("x");
                wrong[5] = ov_cbor_uint(0);
            }
            for (size_t w = 0; w < sizeof wrong / sizeof wrong[0]; w++) {
                if (wrong[w] != NULL && cbor_typeof(wrong[w]) == cbor_typeof(val)) {
                    ov_cbor_free(wrong[w]); /* the same type: not a wrong one */
                } else if (wrong[w] != NULL) {
                    refuse_with(&e, key, wrong[w], 0);
                }
            }
        }
        ov_cbor_free(m);
        /* kind and version */
        refuse_with(&e, "v", ov_cbor_uint(2), -OV_E_MALFORMED);
        refuse_with(&e, "v", ov_cbor_uint(0), -OV_E_MALFORMED);
        refuse_with(&e, "kind", text("test"), -OV_E_MALFORMED);
        refuse_with(&e, "kind", text("Context"), -OV_E_MALFORMED);
        refuse_with(&e, "kind", text("context\xc2\xa0"), -OV_E_MALFORMED);
        ov_entry_clear(&e);
        ov_buf_clear(&b);
    }
    /* a kind's keys under another kind */
    struct ov_entry e;
    sample_issuance(&e);
    refuse_with(&e, "kind", text("enrollment"), -OV_E_MALFORMED);
    refuse_with(&e, "kind", text("action"), -OV_E_MALFORMED);
    sample_vote(&e, true);
    refuse_with(&e, "target", text("note-1"), -OV_E_MALFORMED); /* choice and target */
    refuse_with(&e, "rating", ov_cbor_uint(1), -OV_E_MALFORMED);
    sample_rate(&e, true);
    refuse_with(&e, "choice", text("yes"), -OV_E_MALFORMED);
    sample_assembly(&e);
    refuse_with(&e, "scale", pair(ov_cbor_uint(1), ov_cbor_uint(2)), -OV_E_MALFORMED);
    refuse_with(&e, "type", text("rating"), -OV_E_MALFORMED);
    refuse_with(&e, "type", text("poll"), -OV_E_MALFORMED);
    sample_rating(&e);
    refuse_with(&e, "choices", pair(text("a"), text("b")), -OV_E_MALFORMED);
    refuse_with(&e, "type", text("assembly"), -OV_E_MALFORMED);
    /* not a map at all */
    static const uint8_t arr[] = { 0x82, 0x01, 0x02 }, num[] = { 0x01 }, txt[] = { 0x61, 0x61 };
    refuse(OV_BYTES(arr, sizeof arr), -OV_E_MALFORMED);
    refuse(OV_BYTES(num, sizeof num), -OV_E_MALFORMED);
    refuse(OV_BYTES(txt, sizeof txt), -OV_E_MALFORMED);
    static const uint8_t empty_map[] = { 0xa0 };
    refuse(OV_BYTES(empty_map, 1), -OV_E_MALFORMED);
}

/* Field values: ids, labels, UTF-8, ranges, lengths. */
static void
test_values(void)
{
    struct ov_entry e;
    static const char *const bad_ids[] = {
        "", "-lead", "Upper", "a b", "a_b", "a.b", "caf\xc3\xa9", "a\x01",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", /* 65 */
    };
    static const char *const good_ids[] = { "a", "0", "a-", "9-x--y", "budget-2025" };
    static const char *const bad_labels[] = {
        "",             /* empty */
        "a\nb",         /* C0 */
        "tab\t",        /* C0 */
        "del\x7f",      /* DEL */
        "c1\xc2\x85",   /* C1 (NEL) */
        "c1\xc2\x9f",   /* C1 */
    };
    static const char *const good_labels[] = { "a", "\xc2\xa0nbsp", "\xf0\x9f\x97\xb3 vote",
                                               "spaces are fine", "\xef\xbf\xbd" };
    for (int kind = 0; kind < 3; kind++) {
        const char *key = kind == 0 ? "context" : kind == 1 ? "context" : "id";
        for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
            if (kind == 0) {
                sample_issuance(&e);
            } else if (kind == 1) {
                sample_vote(&e, true);
            } else {
                sample_assembly(&e);
            }
            refuse_with(&e, key, text(bad_ids[i]), 0);
        }
        for (size_t i = 0; i < sizeof good_ids / sizeof good_ids[0]; i++) {
            accept_with(&e, key, text(good_ids[i]));
        }
    }
    sample_tally(&e, false, 1);
    refuse_with(&e, "context", text("Bad"), -OV_E_MALFORMED);
    ov_entry_clear(&e);
    /* labels: choice, target, platform, tally names, choices */
    for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
        sample_vote(&e, false);
        refuse_with(&e, "choice", text(bad_labels[i]), -OV_E_MALFORMED);
        refuse_with(&e, "platform", text(bad_labels[i]), -OV_E_MALFORMED);
        sample_rate(&e, false);
        refuse_with(&e, "target", text(bad_labels[i]), -OV_E_MALFORMED);
        sample_assembly(&e);
        refuse_with(&e, "choices", pair(text("ok"), text(bad_labels[i])), -OV_E_MALFORMED);
        refuse_with(&e, "title", text(bad_labels[i]), -OV_E_MALFORMED);
        refuse_with(&e, "issuer", text(bad_labels[i]), -OV_E_MALFORMED);
        sample_tally(&e, false, 0);
        cbor_item_t *res = ov_cbor_map_new();
        CHECK_EQ_INT(ov_cbor_put_uint(res, bad_labels[i], 1), 0);
        refuse_with(&e, "result", res, -OV_E_MALFORMED);
    }
    for (size_t i = 0; i < sizeof good_labels / sizeof good_labels[0]; i++) {
        sample_vote(&e, false);
        accept_with(&e, "choice", text(good_labels[i]));
        accept_with(&e, "platform", text(good_labels[i]));
    }
    /* a NUL inside text, which a C string would silently cut */
    sample_vote(&e, false);
    refuse_with(&e, "choice", ov_cbor_text("yes\0no", 6), -OV_E_MALFORMED);
    refuse_with(&e, "context", ov_cbor_text("a\0b", 3), -OV_E_MALFORMED);
    sample_assembly(&e);
    refuse_with(&e, "choices", pair(text("ok"), ov_cbor_text("n\0o", 3)), -OV_E_MALFORMED);
    /* label lengths: 128 bytes is the most, in bytes not characters */
    char longest[OV_MAX_LABEL_LEN + 2];
    memset(longest, 'l', sizeof longest);
    longest[OV_MAX_LABEL_LEN] = 0;
    sample_vote(&e, false);
    accept_with(&e, "choice", text(longest));
    longest[OV_MAX_LABEL_LEN] = 'l';
    longest[OV_MAX_LABEL_LEN + 1] = 0;
    refuse_with(&e, "choice", text(longest), -OV_E_MALFORMED);
    char euros[OV_MAX_LABEL_LEN + 4] = "";
    for (size_t i = 0; i < 43; i++) {
        strcat(euros, "\xe2\x82\xac"); /* 129 bytes, 43 characters */
    }
    refuse_with(&e, "choice", text(euros), -OV_E_MALFORMED);
    char title[OV_MAX_TITLE_LEN + 2];
    memset(title, 't', sizeof title);
    title[OV_MAX_TITLE_LEN + 1] = 0;
    sample_assembly(&e);
    refuse_with(&e, "title", text(title), -OV_E_MALFORMED);
    title[OV_MAX_TITLE_LEN] = 0;
    accept_with(&e, "title", text(title));
    char issuer[OV_MAX_ISSUER_NAME + 2];
    memset(issuer, 'i', sizeof issuer);
    issuer[OV_MAX_ISSUER_NAME + 1] = 0;
    refuse_with(&e, "issuer", text(issuer), -OV_E_MALFORMED);
    /* invalid UTF-8 as raw CBOR text: the CBOR profile refuses it before entry.c sees it */
    static const uint8_t bad_utf8[][3] = { { 0xc0, 0xaf, 0 }, { 0xed, 0xa0, 0x80 },
                                           { 0xff, 0, 0 } };
    for (size_t i = 0; i < 3; i++) {
        struct ov_buf b;
        sample_vote(&e, false);
        strcpy(e.u.action.choice, "abc");
        CHECK_EQ_INT(encode(&e, &b), 0);
        uint8_t *hit = memmem(b.ptr, b.len, "abc", 3);
        CHECK(hit != NULL);
        if (hit != NULL) {
            memcpy(hit, bad_utf8[i], 3);
            refuse(ov_buf_view(&b), -OV_E_MALFORMED);
        }
        ov_buf_clear(&b);
    }
    /* contexts: window, quota, choices, scale, key sizes */
    sample_assembly(&e);
    refuse_with(&e, "closes", ov_cbor_uint(e.u.context.opens), -OV_E_MALFORMED);
    refuse_with(&e, "closes", ov_cbor_uint(e.u.context.opens - 1), -OV_E_MALFORMED);
    accept_with(&e, "closes", ov_cbor_uint(e.u.context.opens + 1));
    refuse_with(&e, "quota", ov_cbor_uint(0), -OV_E_MALFORMED);
    refuse_with(&e, "choices", ov_cbor_array_new(), -OV_E_MALFORMED);
    cbor_item_t *one = ov_cbor_array_new();
    CHECK_EQ_INT(ov_cbor_push(one, text("only")), 0);
    refuse_with(&e, "choices", one, -OV_E_MALFORMED);
    refuse_with(&e, "choices", pair(text("same"), text("same")), -OV_E_MALFORMED);
    refuse_with(&e, "choices", pair(text("a"), ov_cbor_uint(1)), -OV_E_MALFORMED);
    cbor_item_t *many = ov_cbor_array_new();
    for (int i = 0; i <= OV_MAX_CHOICES; i++) {
        char c[16];
        snprintf(c, sizeof c, "c%d", i);
        CHECK_EQ_INT(ov_cbor_push(many, text(c)), 0);
    }
    refuse_with(&e, "choices", many, 0);
    refuse_with(&e, "token_key", ov_cbor_bytes("", 0), 0);
    refuse_with(&e, "token_key", bytes_n(OV_MAX_TOKEN_KEY_LEN + 1), 0);
    refuse_with(&e, "token_key_id", bytes_n(31), -OV_E_MALFORMED);
    refuse_with(&e, "token_key_id", bytes_n(33), -OV_E_MALFORMED);
    refuse_with(&e, "opens", ov_cbor_int(-1), -OV_E_MALFORMED);
    sample_rating(&e);
    refuse_with(&e, "scale", pair(ov_cbor_int(2), ov_cbor_int(2)), -OV_E_MALFORMED);
    refuse_with(&e, "scale", pair(ov_cbor_int(3), ov_cbor_int(-3)), -OV_E_MALFORMED);
    refuse_with(&e, "scale", pair(text("1"), ov_cbor_int(3)), -OV_E_MALFORMED);
    cbor_item_t *three = pair(ov_cbor_int(1), ov_cbor_int(2));
    CHECK_EQ_INT(ov_cbor_push(three, ov_cbor_int(3)), 0);
    refuse_with(&e, "scale", three, 0);
    cbor_item_t *big = pair(ov_cbor_int(0), ov_cbor_uint((uint64_t)INT64_MAX + 1));
    refuse_with(&e, "scale", big, -OV_E_MALFORMED);
    accept_with(&e, "scale", pair(ov_cbor_int(-5), ov_cbor_int(5)));
    /* enrollments */
    sample_enrollment(&e, OV_ROUTE_INVITE);
    refuse_with(&e, "route", text("sms"), -OV_E_MALFORMED);
    refuse_with(&e, "route", text("Invite"), -OV_E_MALFORMED);
    refuse_with(&e, "route", text(""), -OV_E_MALFORMED);
    accept_with(&e, "route", text("attestation"));
    /* issuances and actions: fixed sizes */
    sample_issuance(&e);
    refuse_with(&e, "tag", bytes_n(31), -OV_E_MALFORMED);
    refuse_with(&e, "tag", bytes_n(33), -OV_E_MALFORMED);
    sample_vote(&e, true);
    refuse_with(&e, "token", bytes_n(OV_PP_TOKEN_LEN - 1), -OV_E_MALFORMED);
    refuse_with(&e, "token", bytes_n(OV_PP_TOKEN_LEN + 1), -OV_E_MALFORMED);
    refuse_with(&e, "pseudonym", bytes_n(31), -OV_E_MALFORMED);
    refuse_with(&e, "sig", bytes_n(65), -OV_E_MALFORMED);
    sample_rate(&e, false);
    refuse_with(&e, "rating", ov_cbor_uint((uint64_t)INT64_MAX + 1), -OV_E_MALFORMED);
    accept_with(&e, "rating", ov_cbor_int(INT64_MIN));
    /* tallies */
    sample_tally(&e, false, 2);
    refuse_with(&e, "algorithm", text("onevoice/plurality/v2"), -OV_E_MALFORMED);
    refuse_with(&e, "algorithm", text(OV_TALLY_PLURALITY "\xc2\xa0"), -OV_E_MALFORMED);
    cbor_item_t *res = ov_cbor_map_new();
    CHECK_EQ_INT(ov_cbor_put(res, "yes", pair(ov_cbor_uint(1), ov_cbor_int(2))), 0);
    refuse_with(&e, "result", res, -OV_E_MALFORMED); /* a ratings pair under plurality */
    res = ov_cbor_map_new();
    CHECK_EQ_INT(ov_cbor_put(res, "yes", ov_cbor_int(-1)), 0);
    refuse_with(&e, "result", res, -OV_E_MALFORMED);
    refuse_with(&e, "result", pair(ov_cbor_uint(1), ov_cbor_uint(2)), -OV_E_MALFORMED);
    ov_entry_clear(&e);
    sample_tally(&e, true, 2);
    res = ov_cbor_map_new();
    CHECK_EQ_INT(ov_cbor_put_uint(res, "note", 1), 0);
    refuse_with(&e, "result", res, -OV_E_MALFORMED); /* a plain count under ratings */
    res = ov_cbor_map_new();
    CHECK_EQ_INT(ov_cbor_put(res, "note", pair(ov_cbor_int(-1), ov_cbor_int(2))), 0);
    refuse_with(&e, "result", res, -OV_E_MALFORMED);
    res = ov_cbor_map_new();
    cbor_item_t *trip = pair(ov_cbor_uint(1), ov_cbor_int(2));
    CHECK_EQ_INT(ov_cbor_push(trip, ov_cbor_int(3)), 0);
    CHECK_EQ_INT(ov_cbor_put(res, "note", trip), 0);
    refuse_with(&e, "result", res, 0);
    res = ov_cbor_map_new();
    CHECK_EQ_INT(ov_cbor_put(res, "note", pair(ov_cbor_uint(1), text("2"))), 0);
    refuse_with(&e, "result", res, -OV_E_MALFORMED);
    ov_entry_clear(&e);
    /* more than OV_MAX_TALLY_ITEMS results cannot even be CBOR in our profile (4,097
     * names and counts are over OV_MAX_CBOR_ITEMS): the encoder test covers the cap */
}

/* b with the n bytes at off replaced by rep[0..rn). */
static void
splice(const struct ov_buf *b, size_t off, size_t n, const uint8_t *rep, size_t rn,
       struct ov_buf *out)
{
    ov_buf_init(out, 2 * OV_MAX_CBOR_LEN);
    CHECK_EQ_INT(ov_buf_append(out, b->ptr, off), 0);
    CHECK_EQ_INT(ov_buf_append(out, rep, rn), 0);
    CHECK_EQ_INT(ov_buf_append(out, b->ptr + off + n, b->len - off - n), 0);
}

/* Non-canonical CBOR of a valid entry: longer heads, unsorted keys, indefinite lengths,
 * duplicate keys, floats and tags. */
static void
test_noncanonical(void)
{
    struct ov_entry e;
    struct ov_buf b, x;
    sample_issuance(&e);
    CHECK_EQ_INT(encode(&e, &b), 0);
    /* keys sort by their encoded bytes, so shorter first: "n", "v", "tag", "kind", "time",
     * "context"; the entry starts a6 61 6e 01 (n = 1) */
    static const uint8_t head[] = { 0xa6, 0x61, 'n', 0x01 };
    CHECK_EQ_MEM(b.ptr, head, sizeof head);
    static const uint8_t wide_v[] = { 0x61, 'n', 0x18, 0x01 };
    splice(&b, 1, 3, wide_v, sizeof wide_v, &x);
    refuse(ov_buf_view(&x), -OV_E_NONCANONICAL);
    ov_buf_clear(&x);
    static const uint8_t wide_map[] = { 0xb8, 0x06 };
    splice(&b, 0, 1, wide_map, sizeof wide_map, &x);
    refuse(ov_buf_view(&x), -OV_E_NONCANONICAL);
    ov_buf_clear(&x);
    static const uint8_t indef = 0xbf, brk = 0xff;
    splice(&b, 0, 1, &indef, 1, &x);
    CHECK_EQ_INT(ov_buf_append(&x, &brk, 1), 0);
    refuse(ov_buf_view(&x), -OV_E_NONCANONICAL);
    ov_buf_clear(&x);
    /* "n" moved from first to last */
    splice(&b, 1, 3, NULL, 0, &x);
    CHECK_EQ_INT(ov_buf_append(&x, head + 1, 3), 0);
    refuse(ov_buf_view(&x), -OV_E_NONCANONICAL);
    ov_buf_clear(&x);
    /* "n" twice */
    static const uint8_t six = 0xa7;
    splice(&b, 0, 1, &six, 1, &x);
    CHECK_EQ_INT(ov_buf_append(&x, head + 1, 3), 0);
    refuse(ov_buf_view(&x), 0);
    ov_buf_clear(&x);
    /* the time as a float, then as a tagged number: outside the profile */
    static const uint8_t time_key[] = { 0x64, 't', 'i', 'm', 'e', 0x1a };
    uint8_t *t = memmem(b.ptr, b.len, time_key, sizeof time_key);
    CHECK(t != NULL);
    if (t != NULL) {
        size_t off = (size_t)(t - b.ptr) + 5;
        static const uint8_t f32[] = { 0xfa, 0x4e, 0xca, 0xa2, 0x7f };
        splice(&b, off, 5, f32, sizeof f32, &x);
        refuse(ov_buf_view(&x), -OV_E_MALFORMED);
        ov_buf_clear(&x);
        uint8_t tagged[6] = { 0xc1 };
        memcpy(tagged + 1, b.ptr + off, 5);
        splice(&b, off, 5, tagged, sizeof tagged, &x);
        refuse(ov_buf_view(&x), -OV_E_MALFORMED);
        ov_buf_clear(&x);
        /* the same time, in a wider head than it needs */
        uint8_t wide_t[9] = { 0x1b, 0, 0, 0, 0 };
        memcpy(wide_t + 5, b.ptr + off + 1, 4);
        splice(&b, off, 5, wide_t, sizeof wide_t, &x);
        refuse(ov_buf_view(&x), -OV_E_NONCANONICAL);
        ov_buf_clear(&x);
    }
    ov_buf_clear(&b);
}

/* The C2SP bundle limit: an entry is at most 65,535 bytes, encoded or decoded. */
/* The rules of an invitations entry: a batch of 1..100,000, a total at least the batch, a
 * draw id as a context id's, or none (the key absent, never empty). */
static void
test_invitations(void)
{
    struct ov_entry e;
    struct ov_buf b;
    sample_invitations(&e, "d");
    e.u.invitations.count = 0;
    CHECK_EQ_INT(encode(&e, &b), -OV_E_MALFORMED);
    e.u.invitations.count = OV_MAX_INVITES_BATCH + 1;
    e.u.invitations.total = UINT64_MAX;
    CHECK_EQ_INT(encode(&e, &b), -OV_E_MALFORMED);
    e.u.invitations.count = 10;
    e.u.invitations.total = 9;
    CHECK_EQ_INT(encode(&e, &b), -OV_E_MALFORMED);
    e.u.invitations.total = 10;
    CHECK_EQ_INT(encode(&e, &b), 0);
    ov_buf_clear(&b);
    snprintf(e.u.invitations.draw, sizeof e.u.invitations.draw, "Bad Id");
    CHECK_EQ_INT(encode(&e, &b), -OV_E_MALFORMED);
    sample_invitations(&e, "d");
    refuse_with(&e, "draw", text(""), -OV_E_MALFORMED);
    refuse_with(&e, "draw", text("-x"), -OV_E_MALFORMED);
    refuse_with(&e, "count", ov_cbor_uint(0), -OV_E_MALFORMED);
    refuse_with(&e, "total", ov_cbor_uint(446), -OV_E_MALFORMED);
    refuse_with(&e, "count", ov_cbor_uint(OV_MAX_INVITES_BATCH + 1), -OV_E_MALFORMED);
}

static void
test_size_limit(void)
{
    struct ov_entry e;
    struct ov_buf b;
    /* a tally whose encoding lands exactly on the limit, then one byte over it: names of
     * 128 bytes, grown one byte at a time until the entry passes 65,535 bytes */
    sample_tally(&e, false, 0);
    e.u.tally.items = calloc(OV_MAX_TALLY_ITEMS, sizeof *e.u.tally.items);
    CHECK(e.u.tally.items != NULL);
    size_t len = 0;
    size_t n;
    for (n = 1; n <= OV_MAX_TALLY_ITEMS && e.u.tally.items != NULL; n++) {
        snprintf(e.u.tally.items[n - 1].name, OV_MAX_LABEL_LEN + 1, "%0120zu", n);
        e.u.tally.n = n;
        int rc = encode(&e, &b);
        if (rc != 0) {
            CHECK_EQ_INT(rc, -OV_E_TOO_BIG);
            break;
        }
        len = b.len;
        ov_buf_clear(&b);
    }
    CHECK(len <= OV_MAX_ENTRY_LEN);
    CHECK(len > OV_MAX_ENTRY_LEN - 200);
    /* a hand-made map of just over the limit is refused before any decoding */
    uint8_t *big = calloc(1, OV_MAX_ENTRY_LEN + 1);
    if (big != NULL) {
        /* {"kind": ..., "x": h'00...'} of OV_MAX_ENTRY_LEN + 1 bytes */
        static const uint8_t pre[] = { 0xa2, 0x61, 'x', 0x59, 0, 0 };
        size_t blen = OV_MAX_ENTRY_LEN + 1 - sizeof pre - 15;
        memcpy(big, pre, sizeof pre);
        big[4] = (uint8_t)(blen >> 8);
        big[5] = (uint8_t)blen;
        static const uint8_t kind[] = { 0x64, 'k', 'i', 'n', 'd', 0x69, 'e', 'n', 'r', 'o',
                                        'l', 'l', 'm', 'e', 'n' };
        memcpy(big + sizeof pre + blen, kind, sizeof kind);
        refuse(OV_BYTES(big, OV_MAX_ENTRY_LEN + 1), -OV_E_TOO_BIG);
        free(big);
    }
    ov_entry_clear(&e);
}

/* The encoder refuses what the decoder would refuse. */
static void
test_encoder_refuses(void)
{
    struct ov_entry e;
    struct ov_buf b;
#define ENC_REFUSES(setup)                                   \
    do {                                                     \
        setup;                                               \
        CHECK_EQ_INT(encode(&e, &b), -OV_E_MALFORMED);       \
        CHECK(b.len == 0 && b.ptr == NULL);                  \
        ov_entry_clear(&e);                                  \
    } while (0)
    ENC_REFUSES((sample_assembly(&e), e.kind = 0));
    ENC_REFUSES((sample_assembly(&e), e.kind = (enum ov_entry_kind)6));
    ENC_REFUSES((sample_assembly(&e), strcpy(e.u.context.id, "-x")));
    ENC_REFUSES((sample_assembly(&e), e.u.context.title[0] = 0));
    ENC_REFUSES((sample_assembly(&e), e.u.context.closes = e.u.context.opens));
    ENC_REFUSES((sample_assembly(&e), e.u.context.quota = 0));
    ENC_REFUSES((sample_assembly(&e), e.u.context.n_choices = 1));
    ENC_REFUSES((sample_assembly(&e), e.u.context.n_choices = OV_MAX_CHOICES + 1));
    ENC_REFUSES((sample_assembly(&e), strcpy(e.u.context.choices[1], e.u.context.choices[0])));
    ENC_REFUSES((sample_assembly(&e), strcpy(e.u.context.choices[2], "a\nb")));
    ENC_REFUSES((sample_assembly(&e), e.u.context.token_key_len = 0));
    ENC_REFUSES((sample_assembly(&e), e.u.context.token_key_len = OV_MAX_TOKEN_KEY_LEN + 1));
    ENC_REFUSES((sample_assembly(&e), e.u.context.type = 0));
    ENC_REFUSES((sample_rating(&e), e.u.context.scale_min = e.u.context.scale_max));
    ENC_REFUSES((sample_enrollment(&e, 0)));
    ENC_REFUSES((sample_enrollment(&e, (enum ov_enroll_route)5)));
    ENC_REFUSES((sample_issuance(&e), strcpy(e.u.issuance.context, "")));
    ENC_REFUSES((sample_vote(&e, true), e.u.action.choice[0] = 0));
    ENC_REFUSES((sample_vote(&e, true), strcpy(e.u.action.platform, "\x7f")));
    ENC_REFUSES((sample_rate(&e, true), strcpy(e.u.action.target, "\xc3")));
    ENC_REFUSES((sample_tally(&e, false, 2), strcpy(e.u.tally.items[1].name, "")));
    ENC_REFUSES((sample_tally(&e, false, 2), strcpy(e.u.tally.context, "A")));
    /* two items of the same name would make a map with a duplicate key */
    sample_tally(&e, false, 2);
    strcpy(e.u.tally.items[1].name, e.u.tally.items[0].name);
    CHECK(encode(&e, &b) < 0);
    ov_entry_clear(&e);
    sample_tally(&e, false, 1);
    e.u.tally.n = OV_MAX_TALLY_ITEMS + 1;
    CHECK_EQ_INT(encode(&e, &b), -OV_E_TOO_BIG);
    e.u.tally.n = 1;
    ov_entry_clear(&e);
#undef ENC_REFUSES
}

static void
sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    unsigned int l = 0;
    CHECK(EVP_Digest(p, n, out, &l, EVP_sha256(), NULL) == 1);
}

static void
test_challenge(void)
{
    uint8_t out[OV_ENTRY_MAX_CHALLENGE_LEN];
    size_t n = 0;
    CHECK_EQ_INT(ov_entry_challenge("issuer.example.org", "budget-2025", out, sizeof out, &n), 0);
    struct ov_pp_challenge c;
    CHECK_EQ_INT(ov_pp_challenge_parse(OV_BYTES(out, n), &c), 0);
    CHECK_EQ_INT(c.token_type, OV_PP_TOKEN_TYPE);
    CHECK_EQ_INT(c.issuer_name.len, 18);
    CHECK_EQ_MEM(c.issuer_name.ptr, "issuer.example.org", 18);
    CHECK_EQ_INT(c.origin_info.len, 0);
    CHECK_EQ_INT(c.redemption_context.len, 32);
    static const char tag[] = "onevoice/v1/redemption-context";
    uint8_t msg[sizeof tag + 11], want[32];
    memcpy(msg, tag, sizeof tag); /* with its NUL */
    memcpy(msg + sizeof tag, "budget-2025", 11);
    sha256(msg, sizeof msg, want);
    if (c.redemption_context.len == 32) {
        CHECK_EQ_MEM(c.redemption_context.ptr, want, 32);
    }
    CHECK_EQ_INT(n, 2 + 2 + 18 + 1 + 32 + 2);
    /* another context or issuer: another challenge */
    uint8_t other[OV_ENTRY_MAX_CHALLENGE_LEN];
    size_t on = 0;
    CHECK_EQ_INT(ov_entry_challenge("issuer.example.org", "budget-2026", other, sizeof other,
                                    &on), 0);
    CHECK(on == n && memcmp(other, out, n) != 0);
    /* refusals */
    CHECK_EQ_INT(ov_entry_challenge("issuer.example.org", "Bad", out, sizeof out, &n),
                 -OV_E_MALFORMED);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(ov_entry_challenge("", "a", out, sizeof out, &n), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_entry_challenge("a\nb", "a", out, sizeof out, &n), -OV_E_MALFORMED);
    CHECK(ov_entry_challenge("issuer", "a", out, 10, &n) < 0);
    char longest[OV_MAX_ISSUER_NAME + 1];
    memset(longest, 'i', OV_MAX_ISSUER_NAME);
    longest[OV_MAX_ISSUER_NAME] = 0;
    CHECK_EQ_INT(ov_entry_challenge(longest, "a", out, sizeof out, &n), 0);
    CHECK_EQ_INT(n, OV_ENTRY_MAX_CHALLENGE_LEN);
}

/* The worked example of docs/PROTOCOL.md §7 ("The TokenChallenge of a context"), byte for
 * byte: if this fails, the code or the document changed, and the other must follow. */
static void
test_challenge_doc_example(void)
{
    static const char want_rctx[] =
        "25d4b7b7ce5317ed60b67607359e7d83f730ca2c444039cdef43a2ee5a30f08d";
    static const char want_challenge[] =
        "0002" "000e" "6973737565722e6578616d706c65" "20"
        "25d4b7b7ce5317ed60b67607359e7d83f730ca2c444039cdef43a2ee5a30f08d" "0000";
    static const char want_digest[] =
        "d1a3d1ca4b80024cf21eab5a881eec9b498d826808a2ff0a374be8941726b41a";
    uint8_t out[OV_ENTRY_MAX_CHALLENGE_LEN], digest[OV_PP_DIGEST_LEN];
    char hex[2 * OV_ENTRY_MAX_CHALLENGE_LEN + 1];
    size_t n = 0;
    CHECK_EQ_INT(ov_entry_challenge("issuer.example", "budget-2027", out, sizeof out, &n), 0);
    CHECK_EQ_INT(n, 53);
    CHECK_EQ_INT(ov_hex_encode(hex, sizeof hex, out, n), 0);
    if (strcmp(hex, want_challenge) != 0) {
        fprintf(stderr, "TokenChallenge of the PROTOCOL.md example is %s\n", hex);
    }
    CHECK(strcmp(hex, want_challenge) == 0);
    /* the redemption context: bytes 19..50, SHA-256 of the tag, its NUL and the id */
    static const char msg[] = "onevoice/v1/redemption-context\0budget-2027";
    uint8_t rctx[32];
    crypto_hash_sha256(rctx, (const uint8_t *)msg, sizeof msg - 1);
    CHECK_EQ_INT(sizeof msg - 1, 30 + 1 + 11);
    CHECK_EQ_INT(ov_hex_encode(hex, sizeof hex, rctx, sizeof rctx), 0);
    CHECK(strcmp(hex, want_rctx) == 0);
    if (n == 53) {
        CHECK_EQ_MEM(out + 19, rctx, 32);
    }
    /* what a Token's challenge_digest must be */
    ov_pp_challenge_digest(OV_BYTES(out, n), digest);
    CHECK_EQ_INT(ov_hex_encode(hex, sizeof hex, digest, sizeof digest), 0);
    if (strcmp(hex, want_digest) != 0) {
        fprintf(stderr, "challenge_digest of the PROTOCOL.md example is %s\n", hex);
    }
    CHECK(strcmp(hex, want_digest) == 0);
    /* and the document shows these very bytes (tests run from the project's top folder) */
    struct ov_buf doc;
    CHECK_EQ_INT(ov_file_read("docs/PROTOCOL.md", 1u << 20, &doc), 0);
    if (doc.ptr != NULL && ov_buf_reserve(&doc, 1) == 0) { /* room for a NUL */
        doc.ptr[doc.len] = 0;
        const char *shown[] = { want_rctx, want_digest, "000e 6973737565722e6578616d706c65",
                                "6275646765742d32303237" };
        for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
            if (strstr((const char *)doc.ptr, shown[i]) == NULL) {
                fprintf(stderr, "docs/PROTOCOL.md §7.1 does not show %s\n", shown[i]);
                test_failed++;
            } else {
                test_passed++;
            }
        }
    }
    ov_buf_clear(&doc);
}

static void
test_action_signature(void)
{
    struct ov_sign_key *k = NULL, *k2 = NULL;
    CHECK_EQ_INT(ov_sign_key_generate(&k), 0);
    CHECK_EQ_INT(ov_sign_key_generate(&k2), 0);
    if (k == NULL || k2 == NULL) {
        return;
    }
    struct ov_entry e;
    sample_vote(&e, false);
    struct ov_action *a = &e.u.action;
    CHECK_EQ_INT(ov_action_sign(a, k), 0);
    CHECK_EQ_MEM(a->pseudonym, ov_sign_key_pk(k), OV_PSEUDONYM_LEN);
    CHECK_EQ_INT(ov_action_verify(a), 0);
    /* the signed bytes: {"choice","context","platform","pseudonym"} only */
    struct ov_buf sb;
    CHECK_EQ_INT(ov_action_signed_bytes(a, &sb), 0);
    cbor_item_t *m = NULL;
    CHECK_EQ_INT(ov_cbor_decode_map(ov_buf_view(&sb), &m), 0);
    static const char *const keys[] = { "choice", "context", "platform", "pseudonym" };
    CHECK_EQ_INT(ov_cbor_only_keys(m, keys, 4), 0);
    CHECK_EQ_INT(m ? cbor_map_size(m) : 0, 4);
    CHECK_EQ_INT(ov_sign_verify(a->pseudonym, OV_SIGN_ACTION, sb.ptr, sb.len, a->sig), 0);
    CHECK_EQ_INT(ov_sign_verify(a->pseudonym, OV_SIGN_RECEIPT, sb.ptr, sb.len, a->sig),
                 -OV_E_BAD_SIG);
    ov_cbor_free(m);
    ov_buf_clear(&sb);
    /* time is not signed (the verifier sets it); everything else is */
    struct ov_action x = *a;
    x.time++;
    CHECK_EQ_INT(ov_action_verify(&x), 0);
    x = *a;
    strcpy(x.choice, "south park");
    CHECK_EQ_INT(ov_action_verify(&x), -OV_E_BAD_SIG);
    x = *a;
    strcpy(x.platform, "other-app");
    CHECK_EQ_INT(ov_action_verify(&x), -OV_E_BAD_SIG);
    x = *a;
    strcpy(x.context, "budget-2026");
    CHECK_EQ_INT(ov_action_verify(&x), -OV_E_BAD_SIG);
    x = *a;
    x.sig[5] ^= 1;
    CHECK_EQ_INT(ov_action_verify(&x), -OV_E_BAD_SIG);
    x = *a;
    ov_sign_key_public(k2, x.pseudonym);
    CHECK_EQ_INT(ov_action_verify(&x), -OV_E_BAD_SIG);
    x = *a;
    x.choice[0] = 0; /* unencodable: refused, not verified */
    CHECK_EQ_INT(ov_action_verify(&x), -OV_E_MALFORMED);
    /* ratings sign target and rating */
    sample_rate(&e, false);
    CHECK_EQ_INT(ov_action_sign(a, k), 0);
    CHECK_EQ_INT(ov_action_verify(a), 0);
    x = *a;
    x.rating = 2;
    CHECK_EQ_INT(ov_action_verify(&x), -OV_E_BAD_SIG);
    x = *a;
    strcpy(x.target, "note-18");
    CHECK_EQ_INT(ov_action_verify(&x), -OV_E_BAD_SIG);
    x = *a;
    x.is_rating = false;
    strcpy(x.choice, "note-17");
    CHECK_EQ_INT(ov_action_verify(&x), -OV_E_BAD_SIG);
    /* the token's nonce must be SHA-256(pseudonym) */
    sample_vote(&e, false);
    CHECK_EQ_INT(ov_action_sign(a, k), 0);
    struct ov_pp_token t;
    memset(&t, 0x11, sizeof t);
    t.token_type = OV_PP_TOKEN_TYPE;
    sha256(ov_sign_key_pk(k), OV_PSEUDONYM_LEN, t.nonce);
    CHECK_EQ_INT(ov_pp_token_encode(&t, a->token), 0);
    a->has_token = true;
    CHECK_EQ_INT(ov_action_verify(a), 0);
    sha256(ov_sign_key_pk(k2), OV_PSEUDONYM_LEN, t.nonce);
    CHECK_EQ_INT(ov_pp_token_encode(&t, a->token), 0);
    CHECK_EQ_INT(ov_action_verify(a), -OV_E_BAD_SIG);
    a->token[1] = 3; /* not a type-2 token */
    CHECK(ov_action_verify(a) < 0);
    ov_sign_key_free(k);
    ov_sign_key_free(k2);
}

static void
test_checks(void)
{
    CHECK_EQ_INT(ov_context_id_check("a"), 0);
    CHECK_EQ_INT(ov_context_id_check("-a"), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_context_id_check(""), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_label_check("ok"), 0);
    CHECK_EQ_INT(ov_label_check("\xe0\x80\xaf"), -OV_E_MALFORMED); /* overlong */
    CHECK_EQ_INT(ov_label_check("\xed\xa0\x80"), -OV_E_MALFORMED); /* surrogate */
    CHECK_EQ_INT(ov_label_check("\xf4\x90\x80\x80"), -OV_E_MALFORMED); /* > U+10FFFF */
    CHECK_EQ_INT(ov_label_check("\xf0\x80\x80\xaf"), -OV_E_MALFORMED); /* overlong 4 */
    CHECK_EQ_INT(ov_label_check("\xc2"), -OV_E_MALFORMED);          /* truncated */
    CHECK_EQ_INT(ov_label_check("\x80"), -OV_E_MALFORMED);          /* continuation */
    CHECK_EQ_INT(ov_label_check("\xf8\x88\x80\x80\x80"), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_label_check("\xf4\x8f\xbf\xbf"), 0);           /* U+10FFFF */
    CHECK_EQ_INT(ov_label_check("\xc2\xa0"), 0);                   /* U+00A0 */
}

/* An action entry (or only the fields its signature covers) as the libcbor tree encoder
 * writes it: ov_entry_encode and ov_action_signed_bytes write them by hand, and must give
 * these very bytes. */
static int
action_by_tree(const struct ov_action *a, bool signed_only, struct ov_buf *out)
{
    cbor_item_t *m = ov_cbor_map_new();
    int rc = m ? 0 : -OV_E_NOMEM;
    if (!signed_only) {
        rc = rc ? rc : ov_cbor_put_text(m, "kind", "action");
        rc = rc ? rc : ov_cbor_put_uint(m, "v", OV_ENTRY_VERSION);
        if (a->has_token) {
            rc = rc ? rc : ov_cbor_put_bytes(m, "token", a->token, OV_PP_TOKEN_LEN);
        }
        rc = rc ? rc : ov_cbor_put_bytes(m, "sig", a->sig, OV_SIGN_SIG_LEN);
        rc = rc ? rc : ov_cbor_put_uint(m, "time", a->time);
    }
    rc = rc ? rc : ov_cbor_put_text(m, "context", a->context);
    rc = rc ? rc : ov_cbor_put_bytes(m, "pseudonym", a->pseudonym, OV_PSEUDONYM_LEN);
    rc = rc ? rc : ov_cbor_put_text(m, "platform", a->platform);
    if (a->is_rating) {
        rc = rc ? rc : ov_cbor_put_text(m, "target", a->target);
        rc = rc ? rc : ov_cbor_put(m, "rating", ov_cbor_int(a->rating));
    } else {
        rc = rc ? rc : ov_cbor_put_text(m, "choice", a->choice);
    }
    ov_buf_init(out, OV_MAX_ENTRY_LEN);
    rc = rc ? rc : ov_cbor_encode(m, out);
    ov_cbor_free(m);
    return rc;
}

static void
random_label(char *s, size_t max)
{
    size_t n = 1 + randombytes_uniform((uint32_t)max);
    for (size_t i = 0; i < n; i++) {
        s[i] = (char)('a' + randombytes_uniform(26));
    }
    s[n] = 0;
}

static void
test_action_by_hand(void)
{
    static const int64_t ratings[] = { 0, -1, 1, -24, -25, 23, 24, -256, 255, 256, INT64_MIN,
                                       INT64_MAX };
    static const uint64_t times[] = { 0, 23, 24, 255, 256, 65535, 65536, 4294967295u,
                                      4294967296u, UINT64_MAX };
    int differ = 0, failed = 0, bytes_differ = 0;
    for (int i = 0; i < 3000; i++) {
        struct ov_entry e, back;
        memset(&e, 0, sizeof e);
        e.kind = OV_ENTRY_ACTION;
        struct ov_action *a = &e.u.action;
        random_label(a->context, OV_MAX_CONTEXT_ID_LEN);
        random_label(a->platform, i % 2 ? OV_MAX_LABEL_LEN : 8);
        a->is_rating = i % 3 == 0;
        a->has_token = i % 4 != 0;
        random_label(a->is_rating ? a->target : a->choice, i % 5 ? 30 : OV_MAX_LABEL_LEN);
        a->rating = i < 12 ? ratings[i] : (int64_t)randombytes_random() - (1ll << 31);
        a->time = times[i % 10];
        randombytes_buf(a->pseudonym, sizeof a->pseudonym);
        if (a->has_token) {
            randombytes_buf(a->token, sizeof a->token);
        }
        if (!a->is_rating) {
            a->rating = 0; /* what decoding gives for fields the entry does not hold */
        }
        randombytes_buf(a->sig, sizeof a->sig);
        struct ov_buf hand, tree, signed_hand, signed_tree;
        int rc = ov_entry_encode(&e, &hand);
        failed += rc != 0 || action_by_tree(a, false, &tree) != 0;
        bytes_differ += rc == 0 && (hand.len != tree.len || memcmp(hand.ptr, tree.ptr, hand.len) != 0);
        failed += ov_action_signed_bytes(a, &signed_hand) != 0 ||
                  action_by_tree(a, true, &signed_tree) != 0;
        bytes_differ += signed_hand.len != signed_tree.len ||
                        memcmp(signed_hand.ptr, signed_tree.ptr, signed_hand.len) != 0;
        ov_buf_clear(&signed_hand);
        ov_buf_clear(&signed_tree);
        if (rc == 0 && ov_entry_decode(ov_buf_view(&hand), &back) == 0) {
            differ += memcmp(&back.u.action, a, sizeof *a) != 0;
            ov_entry_clear(&back);
        } else {
            failed++;
        }
        ov_buf_clear(&hand);
        ov_buf_clear(&tree);
    }
    CHECK_EQ_INT(failed, 0);
    CHECK_EQ_INT(bytes_differ, 0);
    CHECK_EQ_INT(differ, 0);
    /* the checks of the tree path hold by hand too */
    struct ov_entry e;
    struct ov_buf b;
    sample_vote(&e, true);
    strcpy(e.u.action.choice, "bad\x01label");
    CHECK(ov_entry_encode(&e, &b) == -OV_E_MALFORMED && b.len == 0);
    sample_vote(&e, true);
    strcpy(e.u.action.context, "Not A Slug");
    CHECK(ov_entry_encode(&e, &b) == -OV_E_MALFORMED && b.len == 0);
}

/* ------------------------------------------------------------------ statement rounds */

static void
sample_statement(struct ov_entry *e, bool token)
{
    sample_vote(e, token);
    e->kind = OV_ENTRY_STATEMENT;
    struct ov_action *a = &e->u.action;
    strcpy(a->context, "town-budget");
    memset(a->choice, 0, sizeof a->choice);
    a->is_statement = true;
    strcpy(a->text, "\xe5\x85\xac\xe5\x9c\x92\xe8\xa6\x81\xe6\x9c\x89\xe6\x9b\xb4\xe5\xa4\x9a\xe6\xa8\xb9\xe8\x94\xad");
}

/* A statement round's tally: counts, seed, both algorithms' hashes and summaries. */
static void
sample_results_tally(struct ov_entry *e, size_t n_helpful)
{
    sample_tally(e, true, 2);
    struct ov_tally_results *r = &e->u.tally.results;
    e->u.tally.has_results = true;
    fill(r->seed, 32, 11);
    fill(r->bridging, 32, 12);
    fill(r->groups, 32, 13);
    r->min_ratings_per_rater = 5;
    r->min_raters_per_note = 10;
    r->n_helpful = n_helpful;
    r->helpful = n_helpful ? calloc(n_helpful, sizeof *r->helpful) : NULL;
    for (size_t i = 0; i < n_helpful; i++) {
        snprintf(r->helpful[i], sizeof r->helpful[i], "%032zx", i * 2 + 1);
    }
    r->n_not_helpful = 1;
    r->not_helpful = calloc(1, sizeof *r->not_helpful);
    strcpy(r->not_helpful[0], "00000000000000000000000000000000");
    r->k = 2;
    r->sizes[0] = 230;
    r->sizes[1] = 217;
    r->n_consensus = 2;
    strcpy(r->consensus[0], "ffffffffffffffffffffffffffffffff");
    strcpy(r->consensus[1], "00000000000000000000000000000001");
}

static void
test_statement_rounds(void)
{
    struct ov_entry e;
    struct ov_buf b;
    char id[OV_STATEMENT_ID_LEN + 1];
    /* python3 -c "import hashlib; print(hashlib.sha256(b'onevoice/v1/statement\0town-budget\0'
     *   + 'PARK TEXT'.encode()).hexdigest()[:32])" with the text of sample_statement */
    CHECK_EQ_INT(ov_statement_id("town-budget",
                                 "\xe5\x85\xac\xe5\x9c\x92\xe8\xa6\x81\xe6\x9c\x89\xe6\x9b\xb4\xe5\xa4\x9a\xe6\xa8\xb9\xe8\x94\xad", id),
                 0);
    CHECK(strcmp(id, "d13c8c7e536c90ae0272a50de67baf3b") == 0);
    CHECK_EQ_INT(ov_statement_id_check(id), 0);
    CHECK(ov_statement_id_check("D13C8C7E536C90AE0272A50DE67BAF3B") != 0);
    CHECK(ov_statement_id_check("d13c8c7e536c90ae0272a50de67baf3") != 0);

    /* statements round-trip, with and without the token, the longest text */
    sample_statement(&e, true);
    round_trip(&e);
    sample_statement(&e, false);
    round_trip(&e);
    sample_statement(&e, false);
    memset(e.u.action.text, 'w', OV_MAX_STATEMENT_LEN);
    e.u.action.text[OV_MAX_STATEMENT_LEN] = 0;
    round_trip(&e);
    /* its signed bytes are its own: a statement and a vote never sign the same map */
    sample_statement(&e, false);
    struct ov_buf sb;
    CHECK_EQ_INT(ov_action_signed_bytes(&e.u.action, &sb), 0);
    CHECK(sb.len > 0 && memmem(sb.ptr, sb.len, "text", 4) != NULL);
    ov_buf_clear(&sb);
    /* the encoder refuses an empty text, a control character, a kind that disagrees */
    sample_statement(&e, false);
    e.u.action.text[0] = 0;
    CHECK(ov_entry_encode(&e, &b) == -OV_E_MALFORMED);
    sample_statement(&e, false);
    strcpy(e.u.action.text, "line\nbreak");
    CHECK(ov_entry_encode(&e, &b) == -OV_E_MALFORMED);
    sample_statement(&e, false);
    e.kind = OV_ENTRY_ACTION;
    CHECK(ov_entry_encode(&e, &b) == -OV_E_MALFORMED);
    /* a decoder refuses a statement with a target or a choice, an action with a text */
    sample_statement(&e, false);
    refuse_with(&e, "target", ov_cbor_text("note-1", 6), -OV_E_MALFORMED);
    refuse_with(&e, "choice", ov_cbor_text("a", 1), -OV_E_MALFORMED);
    refuse_with(&e, "text", ov_cbor_text("", 0), -OV_E_MALFORMED);
    sample_vote(&e, false);
    refuse_with(&e, "text", ov_cbor_text("words", 5), -OV_E_MALFORMED);

    /* contexts: a kind fixes the scale; statements only with a kind */
    sample_rating(&e);
    e.u.context.rating_kind = OV_RATING_HELPFULNESS;
    e.u.context.scale_min = 0;
    e.u.context.scale_max = 2;
    e.u.context.statements = 3;
    round_trip(&e);
    sample_rating(&e);
    e.u.context.rating_kind = OV_RATING_AGREEMENT;
    e.u.context.scale_min = -1;
    e.u.context.scale_max = 1;
    round_trip(&e);
    sample_rating(&e);
    e.u.context.rating_kind = OV_RATING_AGREEMENT; /* scale -2..2 */
    CHECK(ov_entry_encode(&e, &b) == -OV_E_MALFORMED);
    sample_rating(&e);
    e.u.context.statements = 2; /* no kind */
    CHECK(ov_entry_encode(&e, &b) == -OV_E_MALFORMED);
    sample_rating(&e);
    e.u.context.rating_kind = OV_RATING_HELPFULNESS;
    e.u.context.scale_min = 0;
    e.u.context.scale_max = 2;
    e.u.context.statements = OV_MAX_STATEMENT_QUOTA + 1;
    CHECK(ov_entry_encode(&e, &b) == -OV_E_MALFORMED);
    e.u.context.statements = 1;
    refuse_with(&e, "rating_kind", ov_cbor_text("likert", 6), -OV_E_MALFORMED);
    refuse_with(&e, "statements", ov_cbor_uint(0), -OV_E_MALFORMED);
    refuse_with(&e, "statements", ov_cbor_uint(OV_MAX_STATEMENT_QUOTA + 1), 0);
    cbor_item_t *other = ov_cbor_array_new(); /* helpfulness with agreement's scale */
    CHECK(ov_cbor_push(other, ov_cbor_int(-1)) == 0 && ov_cbor_push(other, ov_cbor_int(1)) == 0);
    refuse_with(&e, "scale", other, -OV_E_MALFORMED);
    sample_rating(&e); /* a free scale with a kind's name added */
    refuse_with(&e, "rating_kind", ov_cbor_text("helpfulness", 11), -OV_E_MALFORMED);

    /* tallies with results: round trip, the largest lists, and what a decoder refuses */
    sample_results_tally(&e, 3);
    round_trip(&e);
    sample_results_tally(&e, OV_MAX_ROUND_STATEMENTS - 1);
    round_trip(&e);
    sample_results_tally(&e, 3);
    strcpy(e.u.tally.results.helpful[1], e.u.tally.results.helpful[0]); /* not sorted */
    CHECK(ov_entry_encode(&e, &b) == -OV_E_MALFORMED);
    ov_entry_clear(&e);
    sample_results_tally(&e, 3);
    strcpy(e.u.tally.results.consensus[1], e.u.tally.results.consensus[0]); /* twice */
    CHECK(ov_entry_encode(&e, &b) == -OV_E_MALFORMED);
    ov_entry_clear(&e);
    sample_results_tally(&e, 3);
    e.u.tally.ratings = false; /* results in a plurality tally */
    CHECK(ov_entry_encode(&e, &b) == -OV_E_MALFORMED);
    e.u.tally.ratings = true;
    refuse_with(&e, "seed", ov_cbor_bytes("short", 5), -OV_E_MALFORMED);
    refuse_with(&e, "groups", ov_cbor_uint(1), -OV_E_MALFORMED);
    ov_entry_clear(&e);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    test_action_by_hand();
    test_round_trips();
    test_truncation();
    test_keys_and_types();
    test_values();
    test_noncanonical();
    test_size_limit();
    test_invitations();
    test_encoder_refuses();
    test_challenge();
    test_challenge_doc_example();
    test_action_signature();
    test_checks();
    test_statement_rounds();
    TEST_DONE("test_entry");
}
