/* sortentry: the sortition's log entries (sortentry.h), on the CBOR tree like entry.c's
 * context and tally: encoded in the profile's order, decoded with the exact key set. */
#include "protocol/sortentry.h"

#include <stdlib.h>
#include <string.h>

#include "primitives/cbor.h"
#include "primitives/merkle.h"

static const char *const kind_names[] = {
    [OV_SORTENTRY_COMMIT] = "sortition-commit",
    [OV_SORTENTRY_POOL] = "pool",
    [OV_SORTENTRY_REVEAL] = "sortition-reveal",
    [OV_SORTENTRY_DRAW] = "draw",
};

enum ov_sortentry_kind
ov_sortentry_kind_of(struct ov_bytes entry)
{
    struct ov_bytes item, kind;
    if (ov_cbor_check(entry) != 0 || ov_cbor_view_get(entry, "kind", &item) != 0 ||
        ov_cbor_view_text(item, 32, &kind) != 0) {
        return 0;
    }
    for (int k = OV_SORTENTRY_COMMIT; k <= OV_SORTENTRY_DRAW; k++) {
        if (ov_cbor_text_eq(kind, kind_names[k])) {
            return (enum ov_sortentry_kind)k;
        }
    }
    return 0;
}

/* ---- the commitment, its signature, the seed ---------------------------------------- */

int
ov_sort_commitment(const char *draw, const uint8_t secret[OV_SORT_SECRET_LEN], uint8_t out[32])
{
    static const char tag[] = "onevoice/v1/sortition-commit";
    uint8_t in[sizeof tag + OV_MAX_CONTEXT_ID_LEN + 1 + OV_SORT_SECRET_LEN];
    size_t n = strlen(draw);
    if (ov_context_id_check(draw) != 0) {
        return -OV_E_MALFORMED;
    }
    memcpy(in, tag, sizeof tag); /* the tag and its NUL: the 0x00 */
    memcpy(in + sizeof tag, draw, n);
    in[sizeof tag + n] = 0;
    memcpy(in + sizeof tag + n + 1, secret, OV_SORT_SECRET_LEN);
    return ov_sha256(in, sizeof tag + n + 1 + OV_SORT_SECRET_LEN, out);
}

/* The signed message: {"commitment": bytes, "draw": text, "party": text}. */
static int
commit_message(const struct ov_sort_commit *c, struct ov_buf *out)
{
    cbor_item_t *m = ov_cbor_map_new();
    int rc = m ? 0 : -OV_E_NOMEM;
    rc = rc ? rc : ov_context_id_check(c->draw);
    rc = rc ? rc : ov_label_check(c->party);
    rc = rc ? rc : ov_cbor_put_bytes(m, "commitment", c->commitment, 32);
    rc = rc ? rc : ov_cbor_put_text(m, "draw", c->draw);
    rc = rc ? rc : ov_cbor_put_text(m, "party", c->party);
    ov_buf_init(out, 1024);
    rc = rc ? rc : ov_cbor_encode(m, out);
    ov_cbor_free(m);
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

int
ov_sort_commit_sign(struct ov_sort_commit *c, const struct ov_sign_key *key)
{
    struct ov_buf msg;
    int rc = commit_message(c, &msg);
    if (rc == 0) {
        ov_sign_key_public(key, c->party_key);
        rc = ov_sign(key, OV_SIGN_SORTITION_COMMIT, msg.ptr, msg.len, c->sig);
    }
    ov_buf_clear(&msg);
    return rc;
}

int
ov_sort_commit_verify(const struct ov_sort_commit *c)
{
    struct ov_buf msg;
    int rc = commit_message(c, &msg);
    rc = rc ? rc
            : ov_sign_verify(c->party_key, OV_SIGN_SORTITION_COMMIT, msg.ptr, msg.len, c->sig);
    ov_buf_clear(&msg);
    return rc;
}

int
ov_sort_seed(const uint8_t pool[32], const uint8_t (*secrets)[OV_SORT_SECRET_LEN], size_t n,
             uint8_t seed[OV_SORT_SEED_LEN])
{
    static const char tag[] = "onevoice/v1/sortition-seed";
    uint8_t in[sizeof tag + 32 + OV_SORT_MAX_PARTIES * OV_SORT_SECRET_LEN];
    if (n == 0 || n > OV_SORT_MAX_PARTIES) {
        return -OV_E_RANGE;
    }
    memcpy(in, tag, sizeof tag);
    memcpy(in + sizeof tag, pool, 32);
    memcpy(in + sizeof tag + 32, secrets, n * OV_SORT_SECRET_LEN);
    return ov_sha256(in, sizeof tag + 32 + n * OV_SORT_SECRET_LEN, seed);
}

/* ---- encoding ------------------------------------------------------------------------ */

static int
put_ids(cbor_item_t *m, const char *key, const uint32_t *ids, size_t n)
{
    cbor_item_t *a = ov_cbor_array_new();
    int rc = a ? 0 : -OV_E_NOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = ids[i] == 0 ? -OV_E_MALFORMED : ov_cbor_push(a, ov_cbor_uint(ids[i]));
    }
    return rc ? (ov_cbor_free(a), rc) : ov_cbor_put(m, key, a);
}

static int
encode_pool(cbor_item_t *m, const struct ov_sort_poolentry *p)
{
    int rc = ov_context_id_check(p->id);
    rc = rc ? rc : ov_text_check(p->title, OV_MAX_TITLE_LEN);
    if (rc == 0 && (p->members == 0 || p->panel == 0 || p->members > OV_SORT_MAX_MEMBERS ||
                    p->max_attempts == 0 || p->max_attempts > OV_SORT_MAX_ATTEMPTS ||
                    p->n_parties == 0 || p->n_parties > OV_SORT_MAX_PARTIES ||
                    p->panel + p->reserves > OV_SORT_MAX_DRAWN)) {
        rc = -OV_E_MALFORMED;
    }
    cbor_item_t *a = rc ? NULL : ov_cbor_array_new();
    rc = rc ? rc : (a ? 0 : -OV_E_NOMEM);
    for (size_t i = 0; i < p->n_parties && rc == 0; i++) {
        for (size_t j = 0; j < i && rc == 0; j++) {
            rc = memcmp(p->parties[i], p->parties[j], OV_SIGN_PK_LEN) == 0 ? -OV_E_MALFORMED : 0;
        }
        rc = rc ? rc : ov_cbor_push(a, ov_cbor_bytes(p->parties[i], OV_SIGN_PK_LEN));
    }
    if (a != NULL) {
        rc = rc ? (ov_cbor_free(a), rc) : ov_cbor_put(m, "parties", a);
    }
    rc = rc ? rc : ov_cbor_put_text(m, "algorithm", OV_SORT_ALGORITHM);
    rc = rc ? rc : ov_cbor_put_text(m, "id", p->id);
    rc = rc ? rc : ov_cbor_put_text(m, "title", p->title);
    rc = rc ? rc : ov_cbor_put_bytes(m, "pool", p->pool, 32);
    rc = rc ? rc : ov_cbor_put_uint(m, "members", p->members);
    rc = rc ? rc : ov_cbor_put_uint(m, "panel", p->panel);
    rc = rc ? rc : ov_cbor_put_uint(m, "reserves", p->reserves);
    rc = rc ? rc : ov_cbor_put_uint(m, "max_attempts", p->max_attempts);
    rc = rc ? rc : ov_cbor_put_uint(m, "reveal_by", p->reveal_by);
    return rc ? rc : ov_cbor_put_uint(m, "time", p->time);
}

int
ov_sortentry_encode(const struct ov_sortentry *e, struct ov_buf *out)
{
    ov_buf_init(out, OV_MAX_ENTRY_LEN);
    if (e->kind < OV_SORTENTRY_COMMIT || e->kind > OV_SORTENTRY_DRAW) {
        return -OV_E_MALFORMED;
    }
    cbor_item_t *m = ov_cbor_map_new();
    int rc = m ? 0 : -OV_E_NOMEM;
    rc = rc ? rc : ov_cbor_put_text(m, "kind", kind_names[e->kind]);
    rc = rc ? rc : ov_cbor_put_uint(m, "v", OV_ENTRY_VERSION);
    switch (e->kind) {
    case OV_SORTENTRY_COMMIT: {
        const struct ov_sort_commit *c = &e->u.commit;
        rc = rc ? rc : ov_context_id_check(c->draw);
        rc = rc ? rc : ov_label_check(c->party);
        rc = rc ? rc : ov_cbor_put_text(m, "draw", c->draw);
        rc = rc ? rc : ov_cbor_put_text(m, "party", c->party);
        rc = rc ? rc : ov_cbor_put_bytes(m, "party_key", c->party_key, OV_SIGN_PK_LEN);
        rc = rc ? rc : ov_cbor_put_bytes(m, "commitment", c->commitment, 32);
        rc = rc ? rc : ov_cbor_put_bytes(m, "sig", c->sig, OV_SIGN_SIG_LEN);
        rc = rc ? rc : ov_cbor_put_uint(m, "time", c->time);
        break;
    }
    case OV_SORTENTRY_POOL:
        rc = rc ? rc : encode_pool(m, &e->u.pool);
        break;
    case OV_SORTENTRY_REVEAL: {
        const struct ov_sort_reveal *r = &e->u.reveal;
        rc = rc ? rc : ov_context_id_check(r->draw);
        rc = rc ? rc : ov_cbor_put_text(m, "draw", r->draw);
        rc = rc ? rc : ov_cbor_put_bytes(m, "party_key", r->party_key, OV_SIGN_PK_LEN);
        rc = rc ? rc : ov_cbor_put_bytes(m, "reveal", r->reveal, OV_SORT_SECRET_LEN);
        rc = rc ? rc : ov_cbor_put_uint(m, "time", r->time);
        break;
    }
    case OV_SORTENTRY_DRAW: {
        const struct ov_sort_drawentry *d = &e->u.draw;
        rc = rc ? rc : ov_context_id_check(d->id);
        if (rc == 0 && (d->n_panel == 0 || d->n_panel + d->n_reserves > OV_SORT_MAX_DRAWN ||
                        d->attempt >= OV_SORT_MAX_ATTEMPTS)) {
            rc = -OV_E_MALFORMED;
        }
        rc = rc ? rc : ov_cbor_put_text(m, "id", d->id);
        rc = rc ? rc : ov_cbor_put_bytes(m, "seed", d->seed, OV_SORT_SEED_LEN);
        rc = rc ? rc : ov_cbor_put_uint(m, "attempt", d->attempt);
        rc = rc ? rc : put_ids(m, "panel", d->panel, d->n_panel);
        rc = rc ? rc : put_ids(m, "reserves", d->reserves, d->n_reserves);
        rc = rc ? rc : ov_cbor_put_uint(m, "time", d->time);
        break;
    }
    }
    rc = rc ? rc : ov_cbor_encode(m, out);
    ov_cbor_free(m);
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

/* ---- decoding ------------------------------------------------------------------------- */

static int
get_text(const cbor_item_t *m, const char *key, char *dst, size_t max)
{
    struct ov_bytes v;
    int rc = ov_cbor_get_text(m, key, max, &v);
    if (rc != 0) {
        return -OV_E_MALFORMED;
    }
    memcpy(dst, v.ptr, v.len);
    dst[v.len] = 0;
    return memchr(v.ptr, 0, v.len) == NULL ? ov_text_check(dst, max) : -OV_E_MALFORMED;
}

static int
get_ids(const cbor_item_t *m, const char *key, size_t min, uint32_t **ids, size_t *n)
{
    const cbor_item_t *a = NULL;
    int rc = ov_cbor_get_array(m, key, OV_SORT_MAX_DRAWN, &a, n);
    rc = rc ? rc : (*n < min ? -OV_E_MALFORMED : 0);
    *ids = rc ? NULL : calloc(*n ? *n : 1, sizeof **ids);
    rc = rc ? rc : (*ids ? 0 : -OV_E_NOMEM);
    for (size_t i = 0; i < *n && rc == 0; i++) {
        uint64_t v = 0;
        rc = ov_cbor_as_uint(ov_cbor_at(a, i), OV_SORT_MAX_MEMBERS, &v);
        rc = rc ? rc : (v == 0 ? -OV_E_MALFORMED : 0);
        (*ids)[i] = (uint32_t)v;
    }
    return rc;
}

static int
decode_pool(const cbor_item_t *m, struct ov_sort_poolentry *p)
{
    static const char *const keys[] = { "algorithm", "id",       "kind",      "max_attempts",
                                        "members",   "panel",    "parties",   "pool",
                                        "reserves",  "reveal_by", "time",     "title", "v" };
    struct ov_bytes alg;
    const cbor_item_t *a = NULL;
    int rc = ov_cbor_only_keys(m, keys, sizeof keys / sizeof keys[0]);
    rc = rc ? rc : ov_cbor_get_text(m, "algorithm", 64, &alg);
    rc = rc ? rc : (ov_cbor_text_eq(alg, OV_SORT_ALGORITHM) ? 0 : -OV_E_MALFORMED);
    rc = rc ? rc : get_text(m, "id", p->id, OV_MAX_CONTEXT_ID_LEN);
    rc = rc ? rc : ov_context_id_check(p->id);
    rc = rc ? rc : get_text(m, "title", p->title, OV_MAX_TITLE_LEN);
    rc = rc ? rc : ov_cbor_get_fixed(m, "pool", p->pool, 32);
    rc = rc ? rc : ov_cbor_get_uint(m, "members", OV_SORT_MAX_MEMBERS, &p->members);
    rc = rc ? rc : ov_cbor_get_uint(m, "panel", OV_SORT_MAX_DRAWN, &p->panel);
    rc = rc ? rc : ov_cbor_get_uint(m, "reserves", OV_SORT_MAX_DRAWN, &p->reserves);
    rc = rc ? rc : ov_cbor_get_uint(m, "max_attempts", OV_SORT_MAX_ATTEMPTS, &p->max_attempts);
    rc = rc ? rc : ov_cbor_get_uint(m, "reveal_by", UINT64_MAX, &p->reveal_by);
    rc = rc ? rc : ov_cbor_get_uint(m, "time", UINT64_MAX, &p->time);
    rc = rc ? rc : ov_cbor_get_array(m, "parties", OV_SORT_MAX_PARTIES, &a, &p->n_parties);
    if (rc == 0 && (p->members == 0 || p->panel == 0 || p->max_attempts == 0 ||
                    p->n_parties == 0 || p->panel + p->reserves > OV_SORT_MAX_DRAWN)) {
        rc = -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < p->n_parties && rc == 0; i++) {
        rc = ov_cbor_as_fixed(ov_cbor_at(a, i), p->parties[i], OV_SIGN_PK_LEN);
        for (size_t j = 0; j < i && rc == 0; j++) {
            rc = memcmp(p->parties[i], p->parties[j], OV_SIGN_PK_LEN) == 0 ? -OV_E_MALFORMED : 0;
        }
    }
    return rc;
}

static int
decode_tree(const cbor_item_t *m, enum ov_sortentry_kind k, struct ov_sortentry *e)
{
    static const char *const k_commit[] = { "commitment", "draw", "kind", "party",
                                            "party_key",  "sig",  "time", "v" };
    static const char *const k_reveal[] = { "draw", "kind", "party_key", "reveal", "time", "v" };
    static const char *const k_draw[] = { "attempt",  "id",   "kind", "panel",
                                          "reserves", "seed", "time", "v" };
    int rc = 0;
    switch (k) {
    case OV_SORTENTRY_COMMIT: {
        struct ov_sort_commit *c = &e->u.commit;
        rc = ov_cbor_only_keys(m, k_commit, sizeof k_commit / sizeof k_commit[0]);
        rc = rc ? rc : get_text(m, "draw", c->draw, OV_MAX_CONTEXT_ID_LEN);
        rc = rc ? rc : ov_context_id_check(c->draw);
        rc = rc ? rc : get_text(m, "party", c->party, OV_MAX_LABEL_LEN);
        rc = rc ? rc : ov_label_check(c->party);
        rc = rc ? rc : ov_cbor_get_fixed(m, "party_key", c->party_key, OV_SIGN_PK_LEN);
        rc = rc ? rc : ov_cbor_get_fixed(m, "commitment", c->commitment, 32);
        rc = rc ? rc : ov_cbor_get_fixed(m, "sig", c->sig, OV_SIGN_SIG_LEN);
        rc = rc ? rc : ov_cbor_get_uint(m, "time", UINT64_MAX, &c->time);
        break;
    }
    case OV_SORTENTRY_POOL:
        rc = decode_pool(m, &e->u.pool);
        break;
    case OV_SORTENTRY_REVEAL: {
        struct ov_sort_reveal *r = &e->u.reveal;
        rc = ov_cbor_only_keys(m, k_reveal, sizeof k_reveal / sizeof k_reveal[0]);
        rc = rc ? rc : get_text(m, "draw", r->draw, OV_MAX_CONTEXT_ID_LEN);
        rc = rc ? rc : ov_context_id_check(r->draw);
        rc = rc ? rc : ov_cbor_get_fixed(m, "party_key", r->party_key, OV_SIGN_PK_LEN);
        rc = rc ? rc : ov_cbor_get_fixed(m, "reveal", r->reveal, OV_SORT_SECRET_LEN);
        rc = rc ? rc : ov_cbor_get_uint(m, "time", UINT64_MAX, &r->time);
        break;
    }
    case OV_SORTENTRY_DRAW: {
        struct ov_sort_drawentry *d = &e->u.draw;
        rc = ov_cbor_only_keys(m, k_draw, sizeof k_draw / sizeof k_draw[0]);
        rc = rc ? rc : get_text(m, "id", d->id, OV_MAX_CONTEXT_ID_LEN);
        rc = rc ? rc : ov_context_id_check(d->id);
        rc = rc ? rc : ov_cbor_get_fixed(m, "seed", d->seed, OV_SORT_SEED_LEN);
        rc = rc ? rc : ov_cbor_get_uint(m, "attempt", OV_SORT_MAX_ATTEMPTS - 1, &d->attempt);
        rc = rc ? rc : get_ids(m, "panel", 1, &d->panel, &d->n_panel);
        rc = rc ? rc : get_ids(m, "reserves", 0, &d->reserves, &d->n_reserves);
        rc = rc ? rc : (d->n_panel + d->n_reserves > OV_SORT_MAX_DRAWN ? -OV_E_MALFORMED : 0);
        rc = rc ? rc : ov_cbor_get_uint(m, "time", UINT64_MAX, &d->time);
        break;
    }
    }
    return rc;
}

int
ov_sortentry_decode(struct ov_bytes in, struct ov_sortentry *e)
{
    memset(e, 0, sizeof *e);
    enum ov_sortentry_kind k = in.len <= OV_MAX_ENTRY_LEN ? ov_sortentry_kind_of(in) : 0;
    cbor_item_t *m = NULL;
    uint64_t v = 0;
    if (k == 0) {
        return -OV_E_MALFORMED;
    }
    int rc = ov_cbor_decode_map(in, &m);
    rc = rc ? rc : ov_cbor_get_uint(m, "v", UINT64_MAX, &v);
    rc = rc ? rc : (v == OV_ENTRY_VERSION ? 0 : -OV_E_MALFORMED);
    e->kind = k;
    rc = rc ? rc : decode_tree(m, k, e);
    ov_cbor_free(m);
    if (rc == -OV_E_NOT_FOUND || rc == -OV_E_TOO_BIG || rc == -OV_E_RANGE) {
        rc = -OV_E_MALFORMED;
    }
    return rc;
}

void
ov_sortentry_clear(struct ov_sortentry *e)
{
    if (e->kind == OV_SORTENTRY_DRAW) {
        free(e->u.draw.panel);
        free(e->u.draw.reserves);
    }
    memset(e, 0, sizeof *e);
}
