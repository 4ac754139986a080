#include "sortition.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/codec.h"
#include "infra/httpc.h"
#include "protocol/logfiles.h"
#include "protocol/poolfile.h"
#include "rules_ids.h"

const char *const audit_draw_verdicts[] = {
    [AUDIT_DRAW_PENDING] = "pending",           [AUDIT_DRAW_VERIFIED] = "verified",
    [AUDIT_DRAW_FAILED] = "failed",             [AUDIT_DRAW_UNVERIFIABLE] = "unverifiable",
    [AUDIT_DRAW_VOID] = "void",
};

#define CHECK_MAX_FINDINGS 3 /* pool_file_mismatch or pool_invalid; draw_quota; draw_mismatch */

/* What the pool file said of one draw entry: read once per run. */
struct check {
    uint64_t draw_index;
    enum audit_draw_verdict verdict;
    char source[AUDIT_SOURCE_MAX];
    char detail[AUDIT_DETAIL_MAX];
    size_t n;
    struct audit_standing f[CHECK_MAX_FINDINGS];
};

struct audit_sort {
    struct ov_db *db;
    const char *dir, *url, *log;
    struct ov_httpc *http; /* made at the first fetch */
    struct check *checks;
    size_t n_checks;
    struct audit_draw *draws;
    size_t n_draws;
    struct audit_standing *findings;
    size_t n_findings;
};

int
audit_sort_new(struct ov_db *db, struct audit_sort **out)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL) {
        return -OV_E_NOMEM;
    }
    (*out)->db = db;
    return 0;
}

void
audit_sort_forget(struct audit_sort *s)
{
    free(s->checks);
    s->checks = NULL;
    s->n_checks = 0;
}

void
audit_sort_free(struct audit_sort *s)
{
    if (s != NULL) {
        audit_sort_forget(s);
        ov_httpc_free(s->http);
        free(s->draws);
        free(s->findings);
        free(s);
    }
}

void
audit_sort_sources(struct audit_sort *s, const char *dir, const char *url, const char *log)
{
    s->dir = dir;
    s->url = url;
    s->log = log;
}

/* ------------------------------------------------------------------ the state */

static void
key_hex(const uint8_t *k, char out[17])
{
    if (ov_hex_encode(out, 17, k, 8) != 0) {
        out[0] = 0;
    }
}

/* The pool entry of draw id: 0 with *found false when none. */
static int
pool_get(struct audit_sort *s, const char *id, bool *found, uint64_t *idx,
         struct ov_sortentry *pe, bool *ok)
{
    sqlite3_stmt *st = ov_db_stmt(s->db, "sp_get");
    struct ov_bytes b;
    int64_t k = 0;
    *found = false;
    memset(pe, 0, sizeof *pe);
    int rc = ov_db_bind_text(st, 1, id, strlen(id));
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_ROW) {
        *found = true;
        rc = ov_db_col_uint64(st, 0, idx);
        rc = rc ? rc : ov_db_col_blob(st, 1, OV_MAX_ENTRY_LEN, &b);
        rc = rc ? rc : ov_db_col_int64(st, 2, &k);
        rc = rc ? rc : ov_sortentry_decode(b, pe);
        rc = rc ? rc : (pe->kind == OV_SORTENTRY_POOL ? 0 : -OV_E_MALFORMED);
        *ok = k != 0;
    }
    ov_db_reset(st);
    return rc == OV_DB_DONE ? 0 : rc;
}

static int
pool_taint(struct audit_sort *s, const char *id)
{
    sqlite3_stmt *st = ov_db_stmt(s->db, "sp_bad");
    int rc = ov_db_bind_text(st, 1, id, strlen(id));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

/* A party's commitment to draw (found false: none); party may be NULL. */
static int
commit_get(struct audit_sort *s, const char *draw, const uint8_t key[OV_SIGN_PK_LEN],
           bool *found, uint8_t commitment[32], uint64_t *idx, char party[OV_MAX_LABEL_LEN + 1])
{
    sqlite3_stmt *st = ov_db_stmt(s->db, "sc_get");
    struct ov_bytes p;
    *found = false;
    int rc = ov_db_bind_text(st, 1, draw, strlen(draw));
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(key, OV_SIGN_PK_LEN));
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_ROW) {
        *found = true;
        rc = ov_db_col_fixed(st, 0, commitment, 32);
        rc = rc ? rc : ov_db_col_uint64(st, 1, idx);
        rc = rc ? rc : ov_db_col_text(st, 2, OV_MAX_LABEL_LEN, &p);
        if (rc == 0 && party != NULL) {
            memcpy(party, p.ptr, p.len);
            party[p.len] = 0;
        }
    }
    ov_db_reset(st);
    return rc == OV_DB_DONE ? 0 : rc;
}

static int
reveal_get(struct audit_sort *s, const char *draw, const uint8_t key[OV_SIGN_PK_LEN],
           bool *found, uint8_t secret[OV_SORT_SECRET_LEN])
{
    sqlite3_stmt *st = ov_db_stmt(s->db, "sr_get");
    *found = false;
    int rc = ov_db_bind_text(st, 1, draw, strlen(draw));
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(key, OV_SIGN_PK_LEN));
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_ROW) {
        *found = true;
        rc = ov_db_col_fixed(st, 0, secret, OV_SORT_SECRET_LEN);
    }
    ov_db_reset(st);
    return rc == OV_DB_DONE ? 0 : rc;
}

/* The seed of the reveals logged for pool p, if every party revealed (*missing: the first
 * party that did not, or -1). */
static int
seed_of(struct audit_sort *s, const struct ov_sort_poolentry *p, size_t *revealed,
        int *missing, uint8_t seed[OV_SORT_SEED_LEN])
{
    uint8_t secrets[OV_SORT_MAX_PARTIES][OV_SORT_SECRET_LEN];
    int rc = 0;
    *revealed = 0;
    *missing = -1;
    for (size_t i = 0; i < p->n_parties && rc == 0; i++) {
        bool found;
        rc = reveal_get(s, p->id, p->parties[i], &found, secrets[i]);
        *revealed += rc == 0 && found;
        if (rc == 0 && !found && *missing < 0) {
            *missing = (int)i;
        }
    }
    if (rc == 0 && *missing < 0) {
        rc = ov_sort_seed(p->pool, (const uint8_t(*)[OV_SORT_SECRET_LEN])secrets, p->n_parties,
                          seed);
    }
    sodium_memzero(secrets, sizeof secrets);
    return rc;
}

/* ------------------------------------------------------------------ entries, in log order */

static int
on_commit(struct audit_sort *s, struct audit_rules *r, uint64_t index,
          const struct ov_sort_commit *c)
{
    char kh[17];
    key_hex(c->party_key, kh);
    int rc = ov_sort_commit_verify(c);
    if (rc == -OV_E_NOMEM) {
        return rc;
    }
    if (rc != 0) {
        return audit_violation(r, index, R_COMMITMENT_SIGNATURE, c->draw,
                               "the commitment of party \"%s\" to draw %s is not signed by its "
                               "party_key %s...", c->party, c->draw, kh);
    }
    struct ov_sortentry pe;
    bool found = false, ok;
    uint64_t idx = 0;
    uint8_t prev[32];
    rc = pool_get(s, c->draw, &found, &idx, &pe, &ok);
    ov_sortentry_clear(&pe);
    if (rc == 0 && found) {
        return audit_violation(r, index, R_COMMITMENT_LATE, c->draw,
                               "party \"%s\" commits to draw %s after its pool entry %llu: a "
                               "commitment made once the pool is known does not count",
                               c->party, c->draw, (unsigned long long)idx);
    }
    rc = rc ? rc : commit_get(s, c->draw, c->party_key, &found, prev, &idx, NULL);
    if (rc == 0 && found) {
        return audit_violation(r, index, R_COMMITMENT_REPEATED, c->draw,
                               "party %s... committed to draw %s at entry %llu already: this "
                               "second commitment is ignored", kh, c->draw,
                               (unsigned long long)idx);
    }
    sqlite3_stmt *st = ov_db_stmt(s->db, "sc_put");
    rc = rc ? rc : ov_db_bind_text(st, 1, c->draw, strlen(c->draw));
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(c->party_key, OV_SIGN_PK_LEN));
    rc = rc ? rc : ov_db_bind_text(st, 3, c->party, strlen(c->party));
    rc = rc ? rc : ov_db_bind_blob(st, 4, OV_BYTES(c->commitment, 32));
    rc = rc ? rc : ov_db_bind_uint64(st, 5, index);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

/* Whether the draw id had a violation before its pool entry that the seed does not show (a
 * party's second commitment, a reveal before the pool): the draw cannot pass then. Entries
 * that merely do not count (a bad signature, a reveal opening nothing, anything late) are
 * reported but leave the draw to its seed and its recomputation. */
static int
earlier_violations(struct audit_sort *s, const char *id, bool *any)
{
    sqlite3_stmt *st = ov_db_stmt(s->db, "sv_count");
    int64_t n = 0;
    int rc = ov_db_bind_text(st, 1, id, strlen(id));
    rc = rc ? rc : ov_db_step(st);
    rc = rc == OV_DB_ROW ? ov_db_col_int64(st, 0, &n) : (rc ? rc : -OV_E_DB);
    ov_db_reset(st);
    *any = n > 0;
    return rc;
}

static int
on_pool(struct audit_sort *s, struct audit_rules *r, uint64_t index,
        const struct ov_sort_poolentry *p, struct ov_bytes bytes)
{
    struct ov_sortentry pe;
    bool found = false, ok = true, any = false;
    uint64_t idx = 0;
    int rc = pool_get(s, p->id, &found, &idx, &pe, &ok);
    ov_sortentry_clear(&pe);
    if (rc == 0 && found) {
        rc = audit_violation(r, index, R_POOL_DUPLICATE, p->id,
                             "draw %s has its pool entry at %llu: this second one is ignored "
                             "(a new draw needs a new id)", p->id, (unsigned long long)idx);
        return rc ? rc : pool_taint(s, p->id);
    }
    ok = true;
    if (rc == 0 && p->panel + p->reserves > p->members) {
        ok = false;
        rc = audit_violation(r, index, R_POOL_INVALID, p->id,
                             "draw %s: a panel of %llu and %llu reserves from %llu members",
                             p->id, (unsigned long long)p->panel,
                             (unsigned long long)p->reserves, (unsigned long long)p->members);
    }
    for (size_t i = 0; i < p->n_parties && rc == 0; i++) {
        uint8_t cm[32];
        char kh[17];
        rc = commit_get(s, p->id, p->parties[i], &found, cm, &idx, NULL);
        if (rc == 0 && !found) {
            ok = false;
            key_hex(p->parties[i], kh);
            rc = audit_violation(r, index, R_COMMITMENT_MISSING, p->id,
                                 "the pool of draw %s names party %zu (%s...), which has no "
                                 "valid commitment to it logged before", p->id, i + 1, kh);
        }
    }
    rc = rc ? rc : earlier_violations(s, p->id, &any);
    sqlite3_stmt *st = ov_db_stmt(s->db, "sp_put");
    rc = rc ? rc : ov_db_bind_text(st, 1, p->id, strlen(p->id));
    rc = rc ? rc : ov_db_bind_uint64(st, 2, index);
    rc = rc ? rc : ov_db_bind_blob(st, 3, bytes);
    rc = rc ? rc : ov_db_bind_int64(st, 4, ok && !any);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

static bool
names_party(const struct ov_sort_poolentry *p, const uint8_t key[OV_SIGN_PK_LEN])
{
    for (size_t i = 0; i < p->n_parties; i++) {
        if (memcmp(p->parties[i], key, OV_SIGN_PK_LEN) == 0) {
            return true;
        }
    }
    return false;
}

/* Records why reveal v (of pool p) does not count, if it does not: *bad then. */
static int
reveal_check(struct audit_sort *s, struct audit_rules *r, uint64_t index,
             const struct ov_sort_reveal *v, const struct ov_sort_poolentry *p, uint64_t clock,
             bool *bad)
{
    uint8_t cm[32], mine[32];
    uint64_t idx = 0;
    bool found = false;
    char party[OV_MAX_LABEL_LEN + 1] = "";
    *bad = true;
    int rc = commit_get(s, v->draw, v->party_key, &found, cm, &idx, party);
    if (rc != 0) {
        return rc;
    }
    if (!found || !names_party(p, v->party_key)) {
        return audit_violation(r, index, R_REVEAL_MISMATCH, v->draw, "no party of the pool of "
                               "draw %s with this key committed", v->draw);
    }
    if (v->time >= p->reveal_by || clock >= p->reveal_by) {
        return audit_violation(r, index, R_REVEAL_LATE, v->draw, "party \"%s\" reveals for draw "
                               "%s at time %llu (the log's clock %llu), not before reveal_by "
                               "%llu: it does not count", party, v->draw,
                               (unsigned long long)v->time, (unsigned long long)clock,
                               (unsigned long long)p->reveal_by);
    }
    if (ov_sort_commitment(v->draw, v->reveal, mine) != 0 || sodium_memcmp(mine, cm, 32) != 0) {
        return audit_violation(r, index, R_REVEAL_MISMATCH, v->draw, "party \"%s\"'s reveal "
                               "for draw %s does not open its commitment at entry %llu", party,
                               v->draw, (unsigned long long)idx);
    }
    *bad = false;
    return 0;
}

static int
on_reveal(struct audit_sort *s, struct audit_rules *r, uint64_t index,
          const struct ov_sort_reveal *v, uint64_t clock)
{
    struct ov_sortentry pe;
    bool found = false, ok, bad = false;
    uint64_t pidx = 0;
    int rc = pool_get(s, v->draw, &found, &pidx, &pe, &ok);
    if (rc == 0 && !found) {
        ov_sortentry_clear(&pe);
        return audit_violation(r, index, R_REVEAL_EARLY, v->draw,
                               "a reveal for draw %s before its pool entry: a secret known "
                               "before the pool is fixed lets the pool be chosen", v->draw);
    }
    rc = rc ? rc : reveal_check(s, r, index, v, &pe.u.pool, clock, &bad);
    ov_sortentry_clear(&pe);
    if (rc != 0 || bad) {
        return rc; /* it does not count, nor stop the party's own: the seed tells the rest */
    }
    sqlite3_stmt *st = ov_db_stmt(s->db, "sr_put");
    rc = ov_db_bind_text(st, 1, v->draw, strlen(v->draw));
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(v->party_key, OV_SIGN_PK_LEN));
    rc = rc ? rc : ov_db_bind_blob(st, 3, OV_BYTES(v->reveal, OV_SORT_SECRET_LEN));
    rc = rc ? rc : ov_db_bind_uint64(st, 4, index);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* What is wrong with the draw's shape against its pool entry (why[0] 0: nothing). */
static int
draw_shape(const struct ov_sort_drawentry *d, const struct ov_sort_poolentry *p, char *why,
           size_t why_len)
{
    why[0] = 0;
    if (d->n_panel != p->panel || d->n_reserves != p->reserves) {
        snprintf(why, why_len, "draw %s names %zu members and %zu reserves; its pool entry "
                 "says %llu and %llu", d->id, d->n_panel, d->n_reserves,
                 (unsigned long long)p->panel, (unsigned long long)p->reserves);
        return 0;
    }
    if (d->attempt >= p->max_attempts) {
        snprintf(why, why_len, "draw %s claims attempt %llu; its pool allows %llu", d->id,
                 (unsigned long long)d->attempt, (unsigned long long)p->max_attempts);
        return 0;
    }
    size_t n = d->n_panel + d->n_reserves;
    uint32_t *ids = malloc(n * sizeof *ids);
    if (ids == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(ids, d->panel, d->n_panel * sizeof *ids);
    if (d->n_reserves > 0) {
        memcpy(ids + d->n_panel, d->reserves, d->n_reserves * sizeof *ids);
    }
    qsort(ids, n, sizeof *ids, cmp_u32);
    for (size_t i = 0; i < n && why[0] == 0; i++) {
        if (ids[i] > p->members) {
            snprintf(why, why_len, "draw %s names member %u; its pool has %llu", d->id,
                     ids[i], (unsigned long long)p->members);
        } else if (i > 0 && ids[i] == ids[i - 1]) {
            snprintf(why, why_len, "draw %s names member %u twice", d->id, ids[i]);
        }
    }
    free(ids);
    return 0;
}

static int
on_draw(struct audit_sort *s, struct audit_rules *r, uint64_t index,
        const struct ov_sort_drawentry *d, struct ov_bytes bytes)
{
    struct ov_sortentry pe;
    bool found = false, ok = true;
    uint64_t idx = 0;
    char why[AUDIT_DETAIL_MAX];
    int rc = pool_get(s, d->id, &found, &idx, &pe, &ok);
    if (rc == 0 && !found) {
        ov_sortentry_clear(&pe);
        return audit_violation(r, index, R_DRAW_INVALID, d->id,
                               "a draw %s with no pool entry before it", d->id);
    }
    sqlite3_stmt *st = ov_db_stmt(s->db, "sd_get");
    rc = rc ? rc : ov_db_bind_text(st, 1, d->id, strlen(d->id));
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_uint64(st, 0, &idx);
        ov_db_reset(st);
        ov_sortentry_clear(&pe);
        rc = rc ? rc : audit_violation(r, index, R_DRAW_INVALID, d->id,
                                       "draw %s was logged at entry %llu: this second draw is "
                                       "ignored", d->id, (unsigned long long)idx);
        return rc ? rc : pool_taint(s, d->id);
    }
    ov_db_reset(st);
    rc = rc == OV_DB_DONE ? 0 : rc;
    const struct ov_sort_poolentry *p = &pe.u.pool;
    size_t revealed = 0;
    int missing = -1;
    uint8_t seed[OV_SORT_SEED_LEN];
    bool draw_ok = true;
    rc = rc ? rc : draw_shape(d, p, why, sizeof why);
    if (rc == 0 && why[0] != 0) {
        draw_ok = false;
        rc = audit_violation(r, index, R_DRAW_INVALID, d->id, "%s", why);
    }
    rc = rc ? rc : seed_of(s, p, &revealed, &missing, seed);
    if (rc == 0 && missing >= 0) {
        char kh[17];
        key_hex(p->parties[missing], kh);
        draw_ok = false;
        rc = audit_violation(r, index, R_DRAW_INVALID, d->id,
                             "draw %s is logged before the reveal of party %d (%s...): its seed "
                             "was not yet determined", d->id, missing + 1, kh);
    } else if (rc == 0 && sodium_memcmp(seed, d->seed, OV_SORT_SEED_LEN) != 0) {
        draw_ok = false;
        rc = audit_violation(r, index, R_DRAW_SEED, d->id,
                             "the seed of draw %s is not SHA-256 of its pool and the %zu "
                             "reveals logged", d->id, revealed);
    }
    ov_sortentry_clear(&pe);
    st = ov_db_stmt(s->db, "sd_put");
    rc = rc ? rc : ov_db_bind_text(st, 1, d->id, strlen(d->id));
    rc = rc ? rc : ov_db_bind_uint64(st, 2, index);
    rc = rc ? rc : ov_db_bind_blob(st, 3, bytes);
    rc = rc ? rc : ov_db_bind_int64(st, 4, draw_ok);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

int
audit_sort_entry(struct audit_sort *s, struct audit_rules *r, uint64_t index,
                 const struct ov_sortentry *e, struct ov_bytes bytes, uint64_t clock)
{
    switch (e->kind) {
    case OV_SORTENTRY_COMMIT: return on_commit(s, r, index, &e->u.commit);
    case OV_SORTENTRY_POOL: return on_pool(s, r, index, &e->u.pool, bytes);
    case OV_SORTENTRY_REVEAL: return on_reveal(s, r, index, &e->u.reveal, clock);
    case OV_SORTENTRY_DRAW: return on_draw(s, r, index, &e->u.draw, bytes);
    }
    return -OV_E_STATE; /* the decoder returned a kind it does not define: our bug */
}

/* ------------------------------------------------------------------ the pool file */

static void
finding(struct check *c, uint64_t index, const char *rule, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
finding(struct check *c, uint64_t index, const char *rule, const char *id, const char *fmt, ...)
{
    if (c->n == CHECK_MAX_FINDINGS) {
        return;
    }
    struct audit_standing *f = &c->f[c->n++];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(f->detail, sizeof f->detail, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof f->detail) {
        /* cut: drop the trailing non-ASCII bytes, so no character is left half */
        size_t len = strlen(f->detail);
        while (len > 0 && (unsigned char)f->detail[len - 1] >= 0x80) {
            f->detail[--len] = 0;
        }
    }
    f->index = index;
    f->rule = rule;
    f->ctx = NULL;
    snprintf(f->id, sizeof f->id, "%s", id);
}

/* What a GET of c->source gave: the body handed to b on 200, else the reason in c->detail. */
static int
fetched(struct check *c, int rc, struct ov_httpc_resp *resp, struct ov_buf *b, bool *found)
{
    if (rc == 0 && resp->status == 200) {
        ov_buf_clear(b);
        *b = resp->body; /* handed over */
        resp->body = (struct ov_buf){ 0 };
        *found = true;
    } else if (rc != 0) {
        snprintf(c->detail, sizeof c->detail, "no pool file at %.160s (%s)", c->source,
                 ov_strerror(rc));
    } else {
        snprintf(c->detail, sizeof c->detail, "no pool file at %.160s (HTTP %u)", c->source,
                 resp->status);
    }
    if (rc == 0) {
        ov_httpc_resp_clear(resp);
    }
    return rc == -OV_E_NOMEM ? rc : 0;
}

/* GETs c->source into b: *found on 200; otherwise c->detail says what was answered. */
static int
fetch_url(struct audit_sort *s, struct check *c, struct ov_buf *b, bool *found)
{
    struct ov_httpc_resp resp;
    int rc = s->http ? 0 : ov_httpc_new(&s->http);
    rc = rc ? rc : ov_httpc_get(s->http, c->source, OV_POOL_MAX_FILE, &resp);
    return fetched(c, rc, &resp, b, found);
}

/* DIR/<id>.csv into b: *found when there; c->detail says why not. */
static int
fetch_dir(struct audit_sort *s, const char *id, struct check *c, struct ov_buf *b, bool *found)
{
    snprintf(c->source, sizeof c->source, "%s/%s.csv", s->dir, id);
    ov_buf_clear(b);
    int rc = ov_file_read(c->source, OV_POOL_MAX_FILE, b);
    *found = rc == 0;
    if (rc != 0 && rc != -OV_E_NOT_FOUND) {
        snprintf(c->detail, sizeof c->detail, "cannot read %.160s: %s", c->source,
                 ov_strerror(rc));
    } else if (rc != 0) {
        snprintf(c->detail, sizeof c->detail, "no pool file at %.160s", c->source);
    }
    return rc == -OV_E_NOMEM ? rc : 0;
}

/* The pool file of draw id (hash sha in its pool entry) from the configured places, in
 * order: --pool-dir, --pool-url, then the log itself (GET /files/<sha>), so a watchdog with
 * only the log's URL verifies a draw. *found false when none has it (c->detail says where
 * it looked last). */
static int
fetch_pool(struct audit_sort *s, const char *id, const uint8_t sha[32], struct check *c,
           struct ov_buf *b, bool *found)
{
    int rc = 0;
    *found = false;
    ov_buf_init(b, OV_POOL_MAX_FILE);
    snprintf(c->detail, sizeof c->detail, "no pool file given (--pool-dir DIR holding %s.csv, "
             "--pool-url URL serving it, or a log serving it)", id);
    if (s->dir != NULL) {
        rc = fetch_dir(s, id, c, b, found);
    }
    if (rc == 0 && !*found && s->url != NULL) {
        snprintf(c->source, sizeof c->source, "%s/%s.csv", s->url, id);
        rc = fetch_url(s, c, b, found);
    }
    if (rc == 0 && !*found && s->log != NULL) {
        struct ov_httpc_resp resp;
        rc = s->http ? 0 : ov_httpc_new(&s->http);
        rc = rc ? rc : ov_logfile_fetch(s->http, s->log, sha, OV_POOL_MAX_FILE, c->source,
                                        sizeof c->source, &resp);
        rc = fetched(c, rc, &resp, b, found);
    }
    if (!*found) {
        c->source[0] = 0;
    }
    return rc;
}

/* The logged panel against the file's quotas: the first value outside [min, max]. */
static void
quota_check(struct check *c, const struct ov_pool_file *f, const struct ov_sort_drawentry *d,
            uint64_t index)
{
    const struct ov_sort_pool *p = &f->pool;
    uint32_t count[OV_SORT_MAX_CATEGORIES][OV_SORT_MAX_VALUES] = { { 0 } };
    for (size_t i = 0; i < d->n_panel; i++) {
        for (size_t k = 0; k < p->n_categories; k++) {
            count[k][p->values[(size_t)(d->panel[i] - 1) * p->n_categories + k]]++;
        }
    }
    for (size_t k = 0; k < p->n_categories; k++) {
        for (size_t v = 0; v < p->n_values[k]; v++) {
            if (count[k][v] < p->quota[k][v].min || count[k][v] > p->quota[k][v].max) {
                finding(c, index, R_DRAW_QUOTA, d->id, "the panel of draw %s has %u of %s = "
                        "%s, outside its quota [%u, %u]", d->id, count[k][v], f->cat_name[k],
                        f->value_name[k][v], p->quota[k][v].min, p->quota[k][v].max);
                return;
            }
        }
    }
}

/* The first difference between the logged draw and the recomputed one, or "". */
static void
compare(const struct ov_sort_drawentry *d, uint32_t attempt, const uint32_t *panel,
        const uint32_t *reserves, char *diff, size_t len)
{
    diff[0] = 0;
    if (d->attempt != attempt) {
        snprintf(diff, len, "attempt %llu logged, %u recomputed", (unsigned long long)d->attempt,
                 attempt);
        return;
    }
    for (size_t i = 0; i < d->n_panel; i++) {
        if (d->panel[i] != panel[i] + 1) {
            snprintf(diff, len, "panel place %zu: member %u logged, %u recomputed", i + 1,
                     d->panel[i], panel[i] + 1);
            return;
        }
    }
    for (size_t i = 0; i < d->n_reserves; i++) {
        if (d->reserves[i] != reserves[i] + 1) {
            snprintf(diff, len, "reserve %zu: member %u logged, %u recomputed", i + 1,
                     d->reserves[i], reserves[i] + 1);
            return;
        }
    }
}

/* Recomputes the draw from the parsed pool file and the reveals' seed. */
static int
recompute(struct check *c, const struct ov_pool_file *f, const struct ov_sort_poolentry *p,
          const struct ov_sort_drawentry *d, const uint8_t seed[OV_SORT_SEED_LEN],
          uint64_t index)
{
    uint32_t *panel = calloc(p->panel, sizeof *panel);
    uint32_t *reserves = calloc(p->reserves ? p->reserves : 1, sizeof *reserves);
    uint32_t attempt = 0;
    char diff[160];
    int rc = panel && reserves ? 0 : -OV_E_NOMEM;
    rc = rc ? rc : ov_sort_draw(&f->pool, (uint32_t)p->panel, (uint32_t)p->reserves, seed,
                                (uint32_t)p->max_attempts, panel,
                                p->reserves ? reserves : NULL, &attempt);
    if (rc == -OV_E_STATE || rc == -OV_E_RANGE) {
        finding(c, index, R_DRAW_MISMATCH, d->id, "draw %s: the pool file and the reveals' seed "
                "give no draw (%s), yet one is logged", d->id,
                rc == -OV_E_RANGE ? "quotas the pool cannot meet" : "no attempt meets the quotas");
        rc = 0;
    } else if (rc == 0) {
        compare(d, attempt, panel, reserves, diff, sizeof diff);
        if (diff[0] != 0) {
            finding(c, index, R_DRAW_MISMATCH, d->id, "draw %s is not the draw of its pool file "
                    "and the reveals' seed: %s", d->id, diff);
        }
    }
    free(panel);
    free(reserves);
    return rc;
}

/* The pool entry against the file it names (hash already equal): its own numbers. */
static bool
file_agrees(struct check *c, const struct ov_pool_file *f, const struct ov_sort_poolentry *p,
            uint64_t pidx)
{
    if (f->pool.n_members == p->members && f->panel == p->panel &&
        f->reserves == p->reserves && f->max_attempts == p->max_attempts) {
        return true;
    }
    finding(c, pidx, R_POOL_INVALID, p->id, "the pool entry of draw %s says %llu members, panel "
            "%llu, reserves %llu, %llu attempts; its pool file %zu, %u, %u, %u", p->id,
            (unsigned long long)p->members, (unsigned long long)p->panel,
            (unsigned long long)p->reserves, (unsigned long long)p->max_attempts,
            f->pool.n_members, f->panel, f->reserves, f->max_attempts);
    return false;
}

/* Checks draw entry d (at didx) of pool p (at pidx) against the pool file. */
static int
check_draw(struct audit_sort *s, struct check *c, const struct ov_sort_poolentry *p,
           uint64_t pidx, const struct ov_sort_drawentry *d, const uint8_t seed[OV_SORT_SEED_LEN])
{
    struct ov_buf b;
    bool found;
    uint8_t h[32];
    char err[200] = "";
    struct ov_pool_file f;
    memset(&f, 0, sizeof f);
    c->verdict = AUDIT_DRAW_UNVERIFIABLE;
    int rc = fetch_pool(s, p->id, p->pool, c, &b, &found);
    if (rc != 0 || !found) {
        ov_buf_clear(&b);
        return rc;
    }
    crypto_hash_sha256(h, b.ptr, b.len);
    if (sodium_memcmp(h, p->pool, 32) != 0) {
        finding(c, pidx, R_POOL_FILE_MISMATCH, p->id, "the pool file %.100s is not the pool of "
                "draw %s: its SHA-256 differs from the pool entry's", c->source, p->id);
        snprintf(c->detail, sizeof c->detail, "the pool file given is not the one the log names");
        ov_buf_clear(&b);
        return 0;
    }
    c->verdict = AUDIT_DRAW_FAILED;
    rc = ov_pool_parse(ov_buf_view(&b), &f, err, sizeof err);
    ov_buf_clear(&b);
    if (rc == -OV_E_MALFORMED) {
        finding(c, pidx, R_POOL_INVALID, p->id, "the pool file of draw %s (its SHA-256 as logged) "
                "does not parse: %s", p->id, err);
        rc = 0;
    } else if (rc == 0 && file_agrees(c, &f, p, pidx)) {
        rc = draw_shape(d, p, err, sizeof err); /* a misshapen draw is draw_invalid already */
        if (rc == 0 && err[0] == 0) {
            quota_check(c, &f, d, c->draw_index);
            rc = recompute(c, &f, p, d, seed, c->draw_index);
        }
    }
    ov_pool_free(&f);
    if (rc == 0 && c->n == 0 && err[0] != 0) {
        snprintf(c->detail, sizeof c->detail, "%s", err);
    } else if (rc == 0 && c->n == 0) {
        c->verdict = AUDIT_DRAW_VERIFIED;
        snprintf(c->detail, sizeof c->detail, "recomputed from the pool file: the same panel "
                 "and reserves");
    } else if (rc == 0) {
        snprintf(c->detail, sizeof c->detail, "%s", c->f[0].detail);
    }
    return rc;
}

/* ------------------------------------------------------------------ each run */

static struct check *
check_find(struct audit_sort *s, uint64_t didx)
{
    for (size_t i = 0; i < s->n_checks; i++) {
        if (s->checks[i].draw_index == didx) {
            return &s->checks[i];
        }
    }
    return NULL;
}

static int
check_cached(struct audit_sort *s, const struct ov_sort_poolentry *p, uint64_t pidx,
             const struct ov_sort_drawentry *d, uint64_t didx,
             const uint8_t seed[OV_SORT_SEED_LEN], const struct check **out)
{
    struct check *c = check_find(s, didx);
    if (c == NULL) {
        struct check *n = realloc(s->checks, (s->n_checks + 1) * sizeof *n);
        if (n == NULL) {
            return -OV_E_NOMEM;
        }
        s->checks = n;
        c = &n[s->n_checks];
        memset(c, 0, sizeof *c);
        c->draw_index = didx;
        int rc = check_draw(s, c, p, pidx, d, seed);
        if (rc != 0) {
            return rc;
        }
        /* a file not found is looked for again next time (it may be published meanwhile):
         * then c stays beyond n_checks, valid until the next call */
        s->n_checks += c->verdict != AUDIT_DRAW_UNVERIFIABLE || c->n > 0;
    }
    *out = c;
    return 0;
}

static int
add_finding(struct audit_sort *s, const struct audit_standing *f)
{
    struct audit_standing *n = realloc(s->findings, (s->n_findings + 1) * sizeof *n);
    if (n == NULL) {
        return -OV_E_NOMEM;
    }
    s->findings = n;
    n[s->n_findings++] = *f;
    return 0;
}

/* The draw entry of id, if any (e->kind 0 when none). */
static int
draw_get(struct audit_sort *s, const char *id, uint64_t *idx, struct ov_sortentry *e, bool *ok)
{
    sqlite3_stmt *st = ov_db_stmt(s->db, "sd_get");
    struct ov_bytes b;
    int64_t k = 0;
    memset(e, 0, sizeof *e);
    int rc = ov_db_bind_text(st, 1, id, strlen(id));
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_uint64(st, 0, idx);
        rc = rc ? rc : ov_db_col_int64(st, 2, &k);
        rc = rc ? rc : ov_db_col_blob(st, 1, OV_MAX_ENTRY_LEN, &b);
        rc = rc ? rc : ov_sortentry_decode(b, e);
        rc = rc ? rc : (e->kind == OV_SORTENTRY_DRAW ? 0 : -OV_E_MALFORMED);
        *ok = k != 0;
    }
    ov_db_reset(st);
    return rc == OV_DB_DONE ? 0 : rc;
}

/* A withheld seed: reveal_by passed by the clock and party `missing` never revealed. */
static int
withheld(struct audit_sort *s, struct audit_draw *w, const struct ov_sort_poolentry *p,
         int missing, uint64_t clock)
{
    struct audit_standing f = { .index = w->pool_index, .rule = R_SEED_WITHHELD };
    char kh[17];
    key_hex(p->parties[missing], kh);
    snprintf(f.id, sizeof f.id, "%s", p->id);
    snprintf(f.detail, sizeof f.detail, "reveal_by %llu of draw %s has passed (clock %llu) "
             "and party %d (%s...) has not revealed: the draw is void (%zu of %zu revealed)",
             (unsigned long long)p->reveal_by, p->id, (unsigned long long)clock, missing + 1,
             kh, w->revealed, w->parties);
    w->verdict = AUDIT_DRAW_VOID;
    snprintf(w->detail, sizeof w->detail, "void: party %d did not reveal before reveal_by",
             missing + 1);
    return add_finding(s, &f);
}

/* The verdict of one draw id and its standing findings. */
static int
refresh_one(struct audit_sort *s, struct audit_draw *w, uint64_t clock)
{
    struct ov_sortentry pe, de;
    bool found = false, pool_ok = true, draw_ok = true;
    int missing = -1;
    int rc = pool_get(s, w->id, &found, &w->pool_index, &pe, &pool_ok);
    const struct ov_sort_poolentry *p = &pe.u.pool;
    memset(&de, 0, sizeof de);
    rc = rc ? rc : (found ? 0 : -OV_E_STATE);
    if (rc == 0) {
        snprintf(w->title, sizeof w->title, "%s", p->title);
        memcpy(w->pool, p->pool, 32);
        w->members = p->members;
        w->panel = p->panel;
        w->reserves = p->reserves;
        w->reveal_by = p->reveal_by;
        w->parties = p->n_parties;
        w->draw_index = AUDIT_NO_INDEX;
        rc = seed_of(s, p, &w->revealed, &missing, w->seed);
        w->seed_known = rc == 0 && missing < 0;
    }
    rc = rc ? rc : draw_get(s, w->id, &w->draw_index, &de, &draw_ok);
    w->verdict = AUDIT_DRAW_PENDING;
    snprintf(w->detail, sizeof w->detail, "%s", w->seed_known ? "waiting for the draw entry"
                                                              : "waiting for reveals");
    if (rc == 0 && !w->seed_known && clock >= p->reveal_by) {
        rc = withheld(s, w, p, missing, clock);
    } else if (rc == 0 && w->seed_known && de.kind == OV_SORTENTRY_DRAW) {
        const struct check *c = NULL;
        rc = check_cached(s, p, w->pool_index, &de.u.draw, w->draw_index, w->seed, &c);
        for (size_t i = 0; rc == 0 && i < c->n; i++) {
            rc = add_finding(s, &c->f[i]);
        }
        if (rc == 0) {
            w->verdict = c->verdict;
            snprintf(w->source, sizeof w->source, "%s", c->source);
            snprintf(w->detail, sizeof w->detail, "%s", c->detail);
        }
    }
    if (rc == 0 && (!pool_ok || !draw_ok) && w->verdict != AUDIT_DRAW_VOID) {
        w->verdict = AUDIT_DRAW_FAILED;
        snprintf(w->detail, sizeof w->detail, "violations at the draw's entries (see "
                 "violations)");
    }
    ov_sortentry_clear(&de);
    ov_sortentry_clear(&pe);
    return rc;
}

int
audit_sort_refresh(struct audit_sort *s, uint64_t clock)
{
    free(s->draws);
    free(s->findings);
    s->draws = NULL;
    s->findings = NULL;
    s->n_draws = s->n_findings = 0;
    sqlite3_stmt *st = ov_db_stmt(s->db, "sp_all");
    int rc;
    while ((rc = ov_db_step(st)) == OV_DB_ROW) {
        struct ov_bytes id;
        struct audit_draw *n = realloc(s->draws, (s->n_draws + 1) * sizeof *n);
        if (n == NULL) {
            rc = -OV_E_NOMEM;
            break;
        }
        s->draws = n;
        memset(&n[s->n_draws], 0, sizeof *n);
        rc = ov_db_col_text(st, 0, OV_MAX_CONTEXT_ID_LEN, &id);
        if (rc != 0) {
            break;
        }
        memcpy(n[s->n_draws].id, id.ptr, id.len);
        n[s->n_draws++].id[id.len] = 0;
    }
    ov_db_reset(st);
    rc = rc == OV_DB_DONE ? 0 : rc;
    for (size_t i = 0; i < s->n_draws && rc == 0; i++) {
        rc = refresh_one(s, &s->draws[i], clock);
    }
    return rc;
}

size_t
audit_sort_findings(const struct audit_sort *s, const struct audit_standing **out)
{
    *out = s->findings;
    return s->n_findings;
}

size_t
audit_sort_draws(const struct audit_sort *s, const struct audit_draw **out)
{
    *out = s->draws;
    return s->n_draws;
}
