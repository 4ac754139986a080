#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <jansson.h>

#include "base/codec.h"
#include "infra/httpc.h"
#include "protocol/logfiles.h"
#include "protocol/roundresult.h"
#include "rules_ids.h"
#include "sortition.h"
#include "store.h"
#include "tree.h"

const char *const audit_count_names[AUDIT_N_COUNTS] = {
    [AUDIT_N_CONTEXT] = "context",         [AUDIT_N_ENROLLMENT] = "enrollment",
    [AUDIT_N_ISSUANCE] = "issuance",       [AUDIT_N_ACTION] = "action",
    [AUDIT_N_TALLY] = "tally",             [AUDIT_N_MALFORMED] = "malformed",
    [AUDIT_N_INVITE] = "enrollment.invite", [AUDIT_N_REGISTRAR] = "enrollment.registrar",
    [AUDIT_N_ATTESTATION] = "enrollment.attestation",
    [AUDIT_N_RECOVERY] = "enrollment.recovery",
    [AUDIT_N_SORT_COMMIT] = "sortition-commit", [AUDIT_N_SORT_POOL] = "pool",
    [AUDIT_N_SORT_REVEAL] = "sortition-reveal", [AUDIT_N_SORT_DRAW] = "draw",
    [AUDIT_N_INVITATIONS] = "invitations", [AUDIT_N_INVITATION_CODES] = "invitations.codes",
    [AUDIT_N_STATEMENT] = "statement",
};

/* Open addressing over context pointers, keyed by id or by token key id. */
struct ctxmap {
    struct audit_ctx **slot;
    size_t cap, n;
    bool by_key;
};

struct audit_rules {
    struct ov_db *db;
    struct audit_verify *verify;
    int64_t run;
    struct audit_ctx **ctxs;
    size_t n_ctxs, cap_ctxs;
    struct ctxmap by_id, by_key;
    uint64_t counts[AUDIT_N_COUNTS];
    uint64_t n_new;      /* violations recorded by this run */
    uint64_t n_saved;    /* of which committed */
    unsigned since_take; /* submissions since the workers' findings were last taken */
    uint64_t n_rejected; /* rating pseudonyms whose admitting token failed */
    uint64_t n_deferred; /* token-less actions waiting for their pseudonym's admission */
    uint64_t tally_grace, clock_entries, clock_witnesses;
    struct audit_standing *standing;
    size_t n_standing;
    struct ov_entry scratch; /* the entry being checked (large: kept off the stack) */
    struct ov_sortentry sort_scratch;
    struct audit_sort *sort; /* draws pinned in the log */
    struct audit_tree tree;  /* the tree read, for the roots at tallies' sizes */
    const char *log;         /* the log's URL (borrowed): its result files (NULL: unchecked) */
    struct ov_httpc *http;   /* for them, made on first use */
};

/* ------------------------------------------------------------------ contexts by key */

static struct ov_bytes
map_key(const struct ctxmap *m, const struct audit_ctx *c)
{
    return m->by_key ? OV_BYTES(c->c.token_key_id, OV_PP_NID)
                     : OV_BYTES(c->c.id, strlen(c->c.id));
}

static size_t
map_hash(struct ov_bytes k)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < k.len; i++) {
        h = (h ^ k.ptr[i]) * 1099511628211u;
    }
    return (size_t)h;
}

static struct audit_ctx *
map_find(const struct ctxmap *m, struct ov_bytes k)
{
    if (m->cap == 0) {
        return NULL;
    }
    for (size_t i = map_hash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct audit_ctx *c = m->slot[i];
        if (c == NULL) {
            return NULL;
        }
        struct ov_bytes ck = map_key(m, c);
        if (ck.len == k.len && memcmp(ck.ptr, k.ptr, k.len) == 0) {
            return c;
        }
    }
}

/* Adds c unless its key is there already (several contexts may share a token key: the
 * first one keeps it). */
static int
map_add(struct ctxmap *m, struct audit_ctx *c)
{
    if (2 * (m->n + 1) > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        struct audit_ctx **slot = calloc(cap, sizeof *slot);
        if (slot == NULL) {
            return -OV_E_NOMEM;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (m->slot[i] != NULL) {
                size_t j = map_hash(map_key(m, m->slot[i])) & (cap - 1);
                while (slot[j] != NULL) {
                    j = (j + 1) & (cap - 1);
                }
                slot[j] = m->slot[i];
            }
        }
        free(m->slot);
        m->slot = slot;
        m->cap = cap;
    }
    struct ov_bytes k = map_key(m, c);
    size_t i = map_hash(k) & (m->cap - 1);
    while (m->slot[i] != NULL) {
        struct ov_bytes ck = map_key(m, m->slot[i]);
        if (ck.len == k.len && memcmp(ck.ptr, k.ptr, k.len) == 0) {
            return 0;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->slot[i] = c;
    m->n++;
    return 0;
}

static struct audit_ctx *
find_ctx(const struct audit_rules *r, const char *id)
{
    return map_find(&r->by_id, OV_BYTES(id, strlen(id)));
}

/* ------------------------------------------------------------------ violations */

/* Cuts a string that vsnprintf truncated back to whole UTF-8 characters (details quote
 * labels from the log, which may be multi-byte): the state and the JSON report hold only
 * valid text. */
static void
utf8_trim(char *s)
{
    size_t n = strlen(s), j = n;
    while (j > 0 && ((unsigned char)s[j - 1] & 0xc0) == 0x80) {
        j--;
    }
    if (j == 0 || (unsigned char)s[j - 1] < 0xc0) {
        return; /* ends in ASCII or a complete sequence of stray continuations */
    }
    unsigned char lead = (unsigned char)s[j - 1];
    size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (n - (j - 1) < want) {
        s[j - 1] = 0;
    }
}

#define violation audit_violation

int
audit_violation(struct audit_rules *r, uint64_t index, const char *rule, const char *ctx,
                const char *fmt, ...)
{
    char detail[AUDIT_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (n < 0) {
        detail[0] = 0;
    } else if ((size_t)n >= sizeof detail) {
        utf8_trim(detail);
    }
    sqlite3_stmt *st = ov_db_stmt(r->db, "violation_put");
    int rc = index == AUDIT_NO_INDEX ? ov_db_bind_null(st, 1) : ov_db_bind_uint64(st, 1, index);
    rc = rc ? rc : ov_db_bind_text(st, 2, rule, strlen(rule));
    rc = rc ? rc : (ctx ? ov_db_bind_text(st, 3, ctx, strlen(ctx)) : ov_db_bind_null(st, 3));
    rc = rc ? rc : ov_db_bind_text(st, 4, detail, strlen(detail));
    rc = rc ? rc : ov_db_bind_int64(st, 5, r->run);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    r->n_new += rc == 0;
    return rc;
}

static struct audit_ctx *find_ctx(const struct audit_rules *r, const char *id);

/* Runs the INSERT OR IGNORE statement `name` with (context, 32-byte key, index) bound:
 * *fresh tells whether it added the row (false: the key was there). */
static int
put_keyed(struct audit_rules *r, const char *name, const struct audit_ctx *x,
          const uint8_t key[32], uint64_t index, bool *fresh)
{
    sqlite3_stmt *st = ov_db_stmt(r->db, name);
    int rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(key, 32));
    rc = rc ? rc : ov_db_bind_uint64(st, 3, index);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    *fresh = rc == 0 && sqlite3_changes(ov_db_handle(r->db)) > 0;
    return rc;
}

/* A rating pseudonym whose admitting token failed: none of its ratings count. */
static int
reject_pseudonym(struct audit_rules *r, const struct audit_ctx *x, uint64_t index,
                 const uint8_t pseudonym[OV_PSEUDONYM_LEN])
{
    bool fresh;
    int rc = put_keyed(r, "rejected_put", x, pseudonym, index, &fresh);
    r->n_rejected += fresh;
    sqlite3_stmt *st = ov_db_stmt(r->db, "rejected_uncount");
    rc = rc ? rc : ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(pseudonym, OV_PSEUDONYM_LEN));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

/* A worker's finding: the action does not count. A token that fails admits nothing: it no
 * longer counts among the context's tokens, and a rating pseudonym it admitted has none of
 * its ratings counted. */
static int
uncount_finding(struct audit_rules *r, const struct audit_finding *f)
{
    struct audit_ctx *x = find_ctx(r, f->context);
    if (x == NULL) {
        return -OV_E_STATE; /* a job is only submitted for a known context: our bug */
    }
    bool token_failed = strcmp(f->rule, R_TOKEN_INVALID) == 0;
    int64_t tok = 0;
    sqlite3_stmt *st;
    int rc = 0;
    if (token_failed) {
        st = ov_db_stmt(r->db, "act_tok");
        rc = ov_db_bind_int64(st, 1, x->n);
        rc = rc ? rc : ov_db_bind_uint64(st, 2, f->index);
        rc = rc ? rc : ov_db_step(st);
        rc = rc == OV_DB_ROW ? ov_db_col_int64(st, 0, &tok) : (rc ? rc : -OV_E_STATE);
        ov_db_reset(st);
    }
    st = ov_db_stmt(r->db, "act_uncount");
    rc = rc ? rc : ov_db_bind_int64(st, 1, token_failed);
    rc = rc ? rc : ov_db_bind_int64(st, 2, x->n);
    rc = rc ? rc : ov_db_bind_uint64(st, 3, f->index);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc != 0 || tok != 1) {
        return rc;
    }
    x->tokens--;
    return x->c.type == OV_CONTEXT_RATING ? reject_pseudonym(r, x, f->index, f->pseudonym) : 0;
}

/* Records what the workers found since the last call. */
static int
take_findings(struct audit_rules *r)
{
    const struct audit_finding *f;
    size_t n = audit_verify_take(r->verify, &f);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char detail[AUDIT_DETAIL_MAX];
        audit_finding_detail(&f[i], detail, sizeof detail);
        rc = violation(r, f[i].index, f[i].rule, f[i].context, "%s", detail);
        rc = rc ? rc : uncount_finding(r, &f[i]);
    }
    r->since_take = 0;
    return rc;
}

static void
hex8(const uint8_t *p, char out[17])
{
    if (ov_hex_encode(out, 17, p, 8) != 0) {
        out[0] = 0;
    }
}

static int compute_standing(struct audit_rules *r);

/* arr with room for element n (of size bytes; *cap: the room it has), doubling it when
 * full; NULL when memory runs out (arr is then as it was). */
static void *
grown(void *arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) {
        return arr;
    }
    size_t nc = *cap ? 2 * *cap : 16;
    void *p = realloc(arr, nc * size);
    *cap = p != NULL ? nc : *cap;
    return p;
}

/* A count from a statement (st bound). */
static int
count_of(sqlite3_stmt *st, uint64_t *n)
{
    *n = 0;
    int rc = ov_db_step(st);
    rc = rc == OV_DB_ROW ? ov_db_col_uint64(st, 0, n) : (rc ? rc : -OV_E_DB);
    ov_db_reset(st);
    return rc;
}

/* ------------------------------------------------------------------ loading */

/* An audit_ctx for context c (announced at index); key_ok tells whether its key is sound.
 * *why (when not) says why, for the caller's violation. */
static int
ctx_make(const struct ov_context *c, uint64_t index, int64_t n, struct audit_ctx **out,
         const char **why)
{
    struct audit_ctx *x = calloc(1, sizeof *x);
    *out = NULL;
    *why = NULL;
    if (x == NULL) {
        return -OV_E_NOMEM;
    }
    x->n = n;
    x->index = index;
    x->c = *c;
    x->tally_min = AUDIT_NO_INDEX;
    int rc = ov_pp_key_from_spki(&x->key, OV_BYTES(c->token_key, c->token_key_len));
    if (rc == -OV_E_NOMEM) {
        free(x);
        return rc;
    }
    if (rc != 0) {
        *why = "its token_key is not an RSA-2048 token key (RFC 9578 SPKI)";
    } else if (memcmp(x->key.token_key_id, c->token_key_id, OV_PP_NID) != 0) {
        *why = "its token_key_id is not SHA-256(token_key)";
    } else {
        x->key_ok = true;
    }
    uint8_t ch[OV_ENTRY_MAX_CHALLENGE_LEN];
    size_t chl = 0;
    rc = ov_entry_challenge(c->issuer, c->id, ch, sizeof ch, &chl);
    if (rc != 0) {
        ov_pp_key_clear(&x->key);
        free(x);
        return rc; /* a decoded context always has a challenge: our bug or memory */
    }
    ov_pp_challenge_digest(OV_BYTES(ch, chl), x->digest);
    *out = x;
    return 0;
}

static int
ctx_register(struct audit_rules *r, struct audit_ctx *x)
{
    if (r->n_ctxs == r->cap_ctxs) {
        size_t cap = r->cap_ctxs ? 2 * r->cap_ctxs : 16;
        struct audit_ctx **p = realloc(r->ctxs, cap * sizeof *p);
        if (p == NULL) {
            return -OV_E_NOMEM;
        }
        r->ctxs = p;
        r->cap_ctxs = cap;
    }
    int rc = map_add(&r->by_id, x);
    rc = rc ? rc : (x->key_ok ? map_add(&r->by_key, x) : 0);
    if (rc == 0) {
        r->ctxs[r->n_ctxs++] = x;
    }
    return rc;
}

static void
forget_all(struct audit_rules *r)
{
    for (size_t i = 0; i < r->n_ctxs; i++) {
        ov_pp_key_clear(&r->ctxs[i]->key);
        free(r->ctxs[i]);
    }
    free(r->ctxs);
    free(r->by_id.slot);
    free(r->by_key.slot);
    r->ctxs = NULL;
    r->n_ctxs = r->cap_ctxs = 0;
    r->by_id = (struct ctxmap){ .by_key = false };
    r->by_key = (struct ctxmap){ .by_key = true };
    memset(r->counts, 0, sizeof r->counts);
    r->n_standing = 0;
}

static int
load_state(struct audit_rules *r)
{
    sqlite3_stmt *st = ov_db_stmt(r->db, "context_all");
    int rc;
    while ((rc = ov_db_step(st)) == OV_DB_ROW) {
        int64_t n;
        uint64_t idx;
        struct ov_bytes b;
        struct audit_ctx *x = NULL;
        const char *why;
        rc = ov_db_col_int64(st, 0, &n);
        rc = rc ? rc : ov_db_col_uint64(st, 1, &idx);
        rc = rc ? rc : ov_db_col_blob(st, 2, OV_MAX_ENTRY_LEN, &b);
        rc = rc ? rc : ov_entry_decode(b, &r->scratch);
        if (rc == 0 && r->scratch.kind != OV_ENTRY_CONTEXT) {
            rc = -OV_E_MALFORMED;
        }
        rc = rc ? rc : ctx_make(&r->scratch.u.context, idx, n, &x, &why);
        ov_entry_clear(&r->scratch);
        if (rc == 0) {
            rc = ov_db_col_uint64(st, 3, &x->issuances);
            rc = rc ? rc : ov_db_col_uint64(st, 4, &x->tokens);
            rc = rc ? rc : ov_db_col_uint64(st, 5, &x->actions);
            rc = rc ? rc : ov_db_col_uint64(st, 6, &x->tags);
            if (rc == 0 && !ov_db_col_is_null(st, 7)) {
                rc = ov_db_col_uint64(st, 7, &x->tally_min);
            }
            rc = rc ? rc : ctx_register(r, x);
            if (rc != 0) {
                ov_pp_key_clear(&x->key);
                free(x);
            }
        }
        if (rc != 0) {
            break;
        }
    }
    ov_db_reset(st);
    if (rc != 0) {
        return rc;
    }
    st = ov_db_stmt(r->db, "count_all");
    while ((rc = ov_db_step(st)) == OV_DB_ROW) {
        struct ov_bytes k;
        uint64_t v;
        rc = ov_db_col_text(st, 0, 64, &k);
        rc = rc ? rc : ov_db_col_uint64(st, 1, &v);
        for (int i = 0; rc == 0 && i < AUDIT_N_COUNTS; i++) {
            if (k.len == strlen(audit_count_names[i]) &&
                memcmp(k.ptr, audit_count_names[i], k.len) == 0) {
                r->counts[i] = v;
            }
        }
        if (rc != 0) {
            break;
        }
    }
    ov_db_reset(st);
    st = ov_db_stmt(r->db, "rejected_count");
    rc = rc ? rc : ov_db_step(st);
    rc = rc == OV_DB_ROW ? ov_db_col_uint64(st, 0, &r->n_rejected) : (rc ? rc : -OV_E_DB);
    ov_db_reset(st);
    st = ov_db_stmt(r->db, "deferred_count");
    rc = rc ? (ov_db_reset(st), rc) : count_of(st, &r->n_deferred);
    rc = rc ? rc : audit_tree_load(&r->tree, r->db);
    int g = audit_meta_get_u64(r->db, "clock_entries", &r->clock_entries);
    rc = rc ? rc : (g == -OV_E_NOT_FOUND ? 0 : g);
    g = audit_meta_get_u64(r->db, "clock_witnesses", &r->clock_witnesses);
    rc = rc ? rc : (g == -OV_E_NOT_FOUND ? 0 : g);
    return rc;
}

int
audit_rules_new(struct ov_db *db, unsigned n_threads, int64_t run, uint64_t tally_grace,
                struct audit_rules **out)
{
    *out = NULL;
    struct audit_rules *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return -OV_E_NOMEM;
    }
    r->db = db;
    r->run = run;
    r->tally_grace = tally_grace;
    r->by_key.by_key = true;
    int rc = audit_verify_new(n_threads, &r->verify);
    rc = rc ? rc : audit_sort_new(db, &r->sort);
    rc = rc ? rc : load_state(r);
    /* the standing violations hold for the state as loaded, even if nothing new is read */
    rc = rc ? rc : compute_standing(r);
    if (rc != 0) {
        audit_rules_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void
audit_rules_free(struct audit_rules *r)
{
    if (r != NULL) {
        audit_verify_free(r->verify); /* first: workers borrow the contexts' keys */
        forget_all(r);
        audit_sort_free(r->sort);
        ov_httpc_free(r->http);
        free(r->standing);
        free(r);
    }
}

int
audit_rules_pool_sources(struct audit_rules *r, const char *dir, const char *url,
                         const char *log)
{
    audit_sort_sources(r->sort, dir, url, log);
    r->log = log;
    audit_sort_forget(r->sort); /* what was checked without them */
    return compute_standing(r);
}

const struct audit_sort *
audit_rules_sort(const struct audit_rules *r)
{
    return r->sort;
}

int
audit_rules_reset(struct audit_rules *r)
{
    const struct audit_finding *f;
    audit_verify_wait(r->verify);
    (void)audit_verify_take(r->verify, &f); /* findings of entries rolled back */
    r->since_take = 0;
    r->n_new = r->n_saved; /* what the rolled-back sync found is gone with it */
    forget_all(r);
    audit_sort_forget(r->sort);
    int rc = load_state(r);
    return rc ? rc : compute_standing(r);
}

int
audit_rules_tree_check(struct audit_rules *r, uint64_t size, const uint8_t root[32])
{
    uint8_t mine[OV_HASH_LEN];
    int rc = audit_tree_root(&r->tree, size, mine);
    if (rc == -OV_E_NOT_FOUND) {
        return 0;
    }
    if (rc == 0 && memcmp(mine, root, OV_HASH_LEN) != 0) {
        fprintf(stderr, "onevoice-audit: the tree rebuilt from the entries does not give the "
                "verified root at %llu\n", (unsigned long long)size);
        rc = -OV_E_STATE;
    }
    return rc;
}

void
audit_rules_committed(struct audit_rules *r)
{
    r->n_saved = r->n_new;
}

int
audit_rules_witness_time(struct audit_rules *r, uint64_t t)
{
    if (t <= r->clock_witnesses) {
        return 0;
    }
    r->clock_witnesses = t;
    int rc = audit_meta_put_u64(r->db, "clock_witnesses", t);
    return rc ? rc : compute_standing(r);
}

void
audit_rules_clock(const struct audit_rules *r, uint64_t *entries, uint64_t *witnesses,
                  uint64_t *grace)
{
    *entries = r->clock_entries;
    *witnesses = r->clock_witnesses;
    *grace = r->tally_grace;
}

/* ------------------------------------------------------------------ the rules */

static int
on_context(struct audit_rules *r, uint64_t index, const struct ov_context *c,
           struct ov_bytes bytes)
{
    struct audit_ctx *x = find_ctx(r, c->id);
    if (x != NULL) {
        bool same_key = x->c.token_key_len == c->token_key_len &&
                        memcmp(x->c.token_key, c->token_key, c->token_key_len) == 0;
        return violation(r, index, R_CONTEXT_DUPLICATE, c->id,
                         "context %s was announced at entry %llu; this second announcement "
                         "(%s) is ignored", c->id, (unsigned long long)x->index,
                         same_key ? "same token key" : "another token key");
    }
    if (r->n_ctxs >= AUDIT_MAX_CONTEXTS) {
        fprintf(stderr, "onevoice-audit: entry %llu announces context number %d: more than "
                "this auditor keeps in memory\n", (unsigned long long)index,
                AUDIT_MAX_CONTEXTS + 1);
        return -OV_E_TOO_BIG;
    }
    const char *why;
    int rc = ctx_make(c, index, (int64_t)r->n_ctxs + 1, &x, &why);
    if (rc != 0) {
        return rc;
    }
    rc = ctx_register(r, x);
    if (rc != 0) {
        ov_pp_key_clear(&x->key);
        free(x);
        return rc;
    }
    sqlite3_stmt *st = ov_db_stmt(r->db, "context_put");
    rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_text(st, 2, c->id, strlen(c->id));
    rc = rc ? rc : ov_db_bind_uint64(st, 3, index);
    rc = rc ? rc : ov_db_bind_blob(st, 4, bytes);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc == 0 && why != NULL) {
        rc = violation(r, index, R_CONTEXT_INVALID, c->id,
                       "context %s: %s, so none of its tokens can be checked", c->id, why);
    }
    return rc;
}

/* idx of the row a lookup statement finds (st bound), or AUDIT_NO_INDEX. */
static int
lookup_idx(sqlite3_stmt *st, uint64_t *idx)
{
    *idx = AUDIT_NO_INDEX;
    int rc = ov_db_step(st);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_uint64(st, 0, idx);
    }
    ov_db_reset(st);
    return rc;
}

/* Puts (tag, n) first seen at index into the serials table: 1 when it was there already
 * (*first: where), 0 when new. */
static int
serial_put(struct audit_rules *r, const struct audit_ctx *x, const uint8_t tag[OV_TAG_LEN],
           uint64_t n, uint64_t index, uint64_t *first)
{
    sqlite3_stmt *st = ov_db_stmt(r->db, "serial_put");
    int rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(tag, OV_TAG_LEN));
    rc = rc ? rc : ov_db_bind_uint64(st, 3, n);
    rc = rc ? rc : ov_db_bind_uint64(st, 4, index);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc != 0 || sqlite3_changes(ov_db_handle(r->db)) > 0) {
        return rc;
    }
    st = ov_db_stmt(r->db, "serial_get");
    rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(tag, OV_TAG_LEN));
    rc = rc ? rc : ov_db_bind_uint64(st, 3, n);
    rc = rc ? (ov_db_reset(st), rc) : lookup_idx(st, first);
    return rc ? rc : 1;
}

/* A tag issued before in this context: both its first serial (kept in `issued`) and this
 * one go to `serials`, where a repeat shows. *first: where this serial was issued before,
 * or AUDIT_NO_INDEX. */
static int
serial_again(struct audit_rules *r, const struct audit_ctx *x, const struct ov_issuance *is,
             uint64_t index, uint64_t *first)
{
    uint64_t n0 = 0, idx0 = 0, ignored;
    *first = AUDIT_NO_INDEX;
    sqlite3_stmt *st = ov_db_stmt(r->db, "issued_get");
    int rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(is->tag, OV_TAG_LEN));
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_uint64(st, 0, &n0);
        rc = rc ? rc : ov_db_col_uint64(st, 1, &idx0);
    } else if (rc == 0) {
        rc = -OV_E_STATE; /* issued_first found the row */
    }
    ov_db_reset(st);
    if (rc == 0 && n0 != 0) { /* 0: a tag read by an auditor without serials */
        rc = serial_put(r, x, is->tag, n0, idx0, &ignored);
        rc = rc < 0 ? rc : 0;
    }
    rc = rc ? rc : serial_put(r, x, is->tag, is->n, index, first);
    return rc < 0 ? rc : 0;
}

/* Each (tag, n) once per context, n in 1..quota; no more distinct tags in a context than
 * enrollments before (a tag stands for one enrolled person). */
static int
on_issuance(struct audit_rules *r, uint64_t index, const struct ov_issuance *is)
{
    struct audit_ctx *x = find_ctx(r, is->context);
    if (x == NULL) {
        return violation(r, index, R_CONTEXT_MISSING, is->context,
                         "an issuance for context %s, which the log has not announced before",
                         is->context);
    }
    x->issuances++;
    char tag[17] = ""; /* for a violation's detail only: written when one is found */
    bool in_range = is->n >= 1 && is->n <= x->c.quota;
    sqlite3_stmt *st = ov_db_stmt(r->db, "issued_first");
    int rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(is->tag, OV_TAG_LEN));
    rc = rc ? rc : ov_db_bind_uint64(st, 3, in_range ? is->n : 0);
    rc = rc ? rc : ov_db_bind_uint64(st, 4, index);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    bool fresh = rc == 0 && sqlite3_changes(ov_db_handle(r->db)) > 0;
    if (rc == 0 && !in_range) {
        hex8(is->tag, tag);
        rc = violation(r, index, R_QUOTA_EXCEEDED, x->c.id,
                       "enrollee tag %s... got issuance number %llu in context %s, whose quota "
                       "is %llu", tag, (unsigned long long)is->n, x->c.id,
                       (unsigned long long)x->c.quota);
    } else if (rc == 0 && !fresh) {
        uint64_t first;
        rc = serial_again(r, x, is, index, &first);
        if (rc == 0 && first != AUDIT_NO_INDEX) {
            hex8(is->tag, tag);
            rc = violation(r, index, R_ISSUANCE_REPEATED, x->c.id,
                           "enrollee tag %s... got issuance number %llu again (first at entry "
                           "%llu)", tag, (unsigned long long)is->n, (unsigned long long)first);
        }
    }
    if (rc == 0 && fresh) {
        x->tags++;
        if (x->tags > r->counts[AUDIT_N_ENROLLMENT]) {
            hex8(is->tag, tag);
            rc = violation(r, index, R_TAGS_EXCEED, x->c.id,
                           "enrollee tag %s... is the %llu-th of context %s, but the log shows "
                           "only %llu enrollments before it: an enrollee no one enrolled", tag,
                           (unsigned long long)x->tags, x->c.id,
                           (unsigned long long)r->counts[AUDIT_N_ENROLLMENT]);
        }
    }
    return rc;
}

static int
spent_lookup(struct audit_rules *r, const struct audit_ctx *x, const uint8_t nonce[32],
             uint64_t *idx)
{
    sqlite3_stmt *st = ov_db_stmt(r->db, "spent_get");
    int rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(nonce, 32));
    return rc ? (ov_db_reset(st), rc) : lookup_idx(st, idx);
}

/* Counts the token's nonce once per context: *fresh tells whether it was new. */
static int
spend(struct audit_rules *r, uint64_t index, const struct audit_ctx *x,
      const uint8_t nonce[OV_PP_NONCE_LEN], bool *fresh)
{
    int rc = put_keyed(r, "spent_put", x, nonce, index, fresh);
    if (rc != 0 || *fresh) {
        return rc;
    }
    uint64_t first;
    char hex[17];
    rc = spent_lookup(r, x, nonce, &first);
    hex8(nonce, hex);
    return rc ? rc : violation(r, index, R_NONCE_REUSED, x->c.id,
                               "token nonce %s... was already counted at entry %llu", hex,
                               (unsigned long long)first);
}

/* The token checks that need no RSA: format, key, challenge, nonce binding, spending. The
 * RSA-PSS verification is left to a worker: *key is set when it should run. */
static int
check_token(struct audit_rules *r, uint64_t index, struct audit_ctx *x,
            const struct ov_action *a, const struct ov_pp_key **key, bool *admitted)
{
    struct ov_pp_token t;
    *key = NULL;
    *admitted = false;
    int rc = ov_pp_token_parse(OV_BYTES(a->token, OV_PP_TOKEN_LEN), &t);
    if (rc != 0) {
        return violation(r, index, R_TOKEN_INVALID, x->c.id,
                         "the token is not a type-2 Privacy Pass token (%s)", ov_strerror(rc));
    }
    uint8_t h[32];
    crypto_hash_sha256(h, a->pseudonym, OV_PSEUDONYM_LEN);
    if (memcmp(h, t.nonce, sizeof h) != 0) {
        rc = violation(r, index, R_NONCE_BINDING, x->c.id,
                       "the token's nonce is not SHA-256 of the action's pseudonym: the "
                       "token was issued to another one-time key");
    }
    if (rc == 0 && memcmp(t.token_key_id, x->c.token_key_id, OV_PP_NID) == 0) {
        if (x->key_ok) {
            *key = &x->key;
        } else {
            rc = violation(r, index, R_TOKEN_INVALID, x->c.id,
                           "the context's logged token key is invalid: the token cannot verify");
        }
    } else if (rc == 0) {
        const struct audit_ctx *y = map_find(&r->by_key, OV_BYTES(t.token_key_id, OV_PP_NID));
        char kid[17];
        hex8(t.token_key_id, kid);
        rc = y != NULL
                 ? violation(r, index, R_KEY_SWAPPED, x->c.id,
                             "the token was issued under the key of context %s (entry %llu), "
                             "not the key context %s announced", y->c.id,
                             (unsigned long long)y->index, x->c.id)
                 : violation(r, index, R_KEY_MISSING, x->c.id,
                             "the token was issued under key %s..., which no context in the log "
                             "announced (a key kept off the log)", kid);
    }
    if (rc == 0 && memcmp(t.challenge_digest, x->digest, OV_PP_DIGEST_LEN) != 0) {
        rc = violation(r, index, R_TOKEN_CHALLENGE, x->c.id,
                       "the token answers another TokenChallenge than context %s's", x->c.id);
    }
    rc = rc ? rc : spend(r, index, x, t.nonce, admitted);
    return rc;
}

static bool
choice_offered(const struct ov_context *c, const char *choice)
{
    for (size_t i = 0; i < c->n_choices; i++) {
        if (strcmp(c->choices[i], choice) == 0) {
            return true;
        }
    }
    return false;
}

static bool
statement_round(const struct audit_ctx *x)
{
    return x->c.type == OV_CONTEXT_RATING && x->c.rating_kind != OV_RATING_SCALE;
}

static int statement_rules(struct audit_rules *r, uint64_t index, const struct audit_ctx *x,
                           const uint8_t pseudonym[OV_PSEUDONYM_LEN], bool has_token,
                           const char *sid);
static int admit_deferred(struct audit_rules *r, const struct audit_ctx *x,
                          const uint8_t pseudonym[OV_PSEUDONYM_LEN]);

static int
on_action(struct audit_rules *r, uint64_t index, const struct ov_action *a)
{
    struct audit_ctx *x = find_ctx(r, a->context);
    if (x == NULL) {
        return violation(r, index, R_CONTEXT_MISSING, a->context,
                         "%s for context %s, which the log has not announced before",
                         a->is_statement ? "a statement" : "an action", a->context);
    }
    x->actions++;
    bool rating_ctx = x->c.type == OV_CONTEXT_RATING, counted = true;
    uint64_t found_before = r->n_new; /* an action with any violation of its own is not counted */
    int rc = 0;
    if (a->is_statement) {
        if (x->c.statements == 0) {
            counted = false;
            rc = violation(r, index, R_STATEMENT_UNEXPECTED, x->c.id,
                           "a statement in %s %s, which takes none",
                           rating_ctx ? "rating round" : "assembly", x->c.id);
        }
    } else if (a->is_rating != rating_ctx) {
        counted = false;
        rc = violation(r, index, R_INVALID_ACTION, x->c.id, "%s in %s %s",
                       a->is_rating ? "a rating" : "a ballot",
                       rating_ctx ? "rating round" : "assembly", x->c.id);
    } else if (!rating_ctx && !choice_offered(&x->c, a->choice)) {
        counted = false;
        rc = violation(r, index, R_INVALID_ACTION, x->c.id,
                       "a ballot for \"%s\", which context %s does not offer", a->choice,
                       x->c.id);
    } else if (rating_ctx && (a->rating < x->c.scale_min || a->rating > x->c.scale_max)) {
        counted = false;
        rc = violation(r, index, R_INVALID_ACTION, x->c.id,
                       "rating %lld outside the scale [%lld, %lld]", (long long)a->rating,
                       (long long)x->c.scale_min, (long long)x->c.scale_max);
    }
    if (rc == 0 && (a->time < x->c.opens || a->time >= x->c.closes)) {
        rc = violation(r, index, R_OUTSIDE_WINDOW, x->c.id,
                       "counted at time %llu, outside the context's window [%llu, %llu)",
                       (unsigned long long)a->time, (unsigned long long)x->c.opens,
                       (unsigned long long)x->c.closes);
    }
    const struct ov_pp_key *key = NULL;
    bool admitted = false, deferred = false;
    if (rc == 0 && a->has_token) {
        rc = check_token(r, index, x, a, &key, &admitted);
        x->tokens += admitted;
    } else if (rc == 0 && !rating_ctx && !a->is_statement) {
        rc = violation(r, index, R_TOKEN_MISSING, x->c.id,
                       "a ballot without a token (one token, one ballot)");
    } else if (rc == 0) {
        uint8_t h[32];
        uint64_t first;
        crypto_hash_sha256(h, a->pseudonym, OV_PSEUDONYM_LEN);
        rc = spent_lookup(r, x, h, &first);
        if (rc == 0 && first == AUDIT_NO_INDEX) {
            /* not admitted yet: its admitting action may come later in the log (§3, producers
             * append in parallel); judged then, at the round's tally, or at the end of the
             * read (admit_deferred, unadmitted, compute_standing) */
            deferred = true;
        } else if (rc == 0 && r->n_rejected > 0) {
            /* admitted by a token that failed (reported at its entry): not counted, whether
             * the workers told it before this rating or after (rejected_uncount) */
            sqlite3_stmt *st = ov_db_stmt(r->db, "rejected_get");
            rc = ov_db_bind_int64(st, 1, x->n);
            rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(a->pseudonym, OV_PSEUDONYM_LEN));
            rc = rc ? (ov_db_reset(st), rc) : lookup_idx(st, &first);
            counted = counted && first == AUDIT_NO_INDEX;
        }
    }
    if (rc == 0 && a->is_rating && rating_ctx) {
        sqlite3_stmt *st = ov_db_stmt(r->db, "rated_put");
        rc = ov_db_bind_int64(st, 1, x->n);
        rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(a->pseudonym, OV_PSEUDONYM_LEN));
        rc = rc ? rc : ov_db_bind_text(st, 3, a->target, strlen(a->target));
        rc = rc ? rc : ov_db_bind_uint64(st, 4, index);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
        if (rc == 0 && sqlite3_changes(ov_db_handle(r->db)) == 0) { /* rated before */
            uint64_t first = AUDIT_NO_INDEX;
            st = ov_db_stmt(r->db, "rated_get");
            rc = ov_db_bind_int64(st, 1, x->n);
            rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(a->pseudonym, OV_PSEUDONYM_LEN));
            rc = rc ? rc : ov_db_bind_text(st, 3, a->target, strlen(a->target));
            rc = rc ? (ov_db_reset(st), rc) : lookup_idx(st, &first);
            rc = rc ? rc : violation(r, index, R_DOUBLE_RATING, x->c.id,
                                     "this pseudonym already rated \"%s\" at entry %llu",
                                     a->target, (unsigned long long)first);
        }
    }
    if (rc == 0 && index >= x->tally_min) {
        rc = violation(r, index, R_ACTION_AFTER_TALLY, x->c.id,
                       "an action of context %s after its tally of entries [0, %llu): that "
                       "tally is incomplete", x->c.id, (unsigned long long)x->tally_min);
        sqlite3_stmt *st = ov_db_stmt(r->db, "tally_late");
        rc = rc ? rc : ov_db_bind_int64(st, 1, x->n);
        rc = rc ? rc : ov_db_bind_uint64(st, 2, index);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
    }
    counted = counted && r->n_new == found_before && !deferred;
    char sid[OV_STATEMENT_ID_LEN + 1] = "";
    if (rc == 0 && a->is_statement) {
        rc = ov_statement_id(a->context, a->text, sid);
    }
    if (rc == 0) {
        const char *name = a->is_statement ? sid : a->is_rating ? a->target : a->choice;
        bool who = statement_round(x) || a->is_statement;
        sqlite3_stmt *st = ov_db_stmt(r->db, "act_put");
        rc = ov_db_bind_int64(st, 1, x->n);
        rc = rc ? rc : ov_db_bind_uint64(st, 2, index);
        rc = rc ? rc : ov_db_bind_text(st, 3, name, strlen(name));
        rc = rc ? rc : ov_db_bind_int64(st, 4, a->is_rating ? a->rating : 0);
        rc = rc ? rc : ov_db_bind_int64(st, 5, admitted);
        rc = rc ? rc : ov_db_bind_int64(st, 6, counted);
        rc = rc ? rc : ov_db_bind_int64(st, 7, a->is_statement);
        rc = rc ? rc : (who ? ov_db_bind_blob(st, 8, OV_BYTES(a->pseudonym, OV_PSEUDONYM_LEN))
                            : ov_db_bind_null(st, 8));
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
    }
    if (rc == 0) {
        struct audit_vjob j = { .index = index, .key = key, .context = x->c.id };
        j.action = *a;
        audit_verify_submit(r->verify, &j);
        if (++r->since_take >= AUDIT_VERIFY_TAKE_EVERY) {
            rc = take_findings(r);
        }
    }
    if (rc == 0 && deferred) {
        const char *name = a->is_statement ? sid : a->target;
        sqlite3_stmt *st = ov_db_stmt(r->db, "deferred_put");
        rc = ov_db_bind_int64(st, 1, x->n);
        rc = rc ? rc : ov_db_bind_uint64(st, 2, index);
        rc = rc ? rc : ov_db_bind_blob(st, 3, OV_BYTES(a->pseudonym, OV_PSEUDONYM_LEN));
        rc = rc ? rc : ov_db_bind_text(st, 4, name, strlen(name));
        rc = rc ? rc : ov_db_bind_int64(st, 5, a->is_statement);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
        r->n_deferred += rc == 0;
    }
    if (rc == 0 && a->is_statement && counted) {
        rc = statement_rules(r, index, x, a->pseudonym, a->has_token, sid);
    }
    if (rc == 0 && admitted && r->n_deferred > 0) {
        rc = admit_deferred(r, x, a->pseudonym);
    }
    return rc;
}

/* A deferred action judged: no longer waiting. */
static int
deferred_del(struct audit_rules *r, const struct audit_ctx *x, uint64_t index)
{
    sqlite3_stmt *st = ov_db_stmt(r->db, "deferred_del");
    int rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, index);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    r->n_deferred -= rc == 0 && r->n_deferred > 0;
    return rc;
}

/* A token just spent may admit a pseudonym whose token-less actions were logged before it:
 * each counts now if it has no violation of its own (the workers' included: waited for, as
 * is the admitting token's RSA check) and the token that admits it verifies; a statement then
 * goes through the statement rules at this point, the order in which the verifier decided
 * it. Rare (an honest log holds such an action only when the sender's requests in flight
 * were logged out of order), so the wait costs nothing in the common case. */
static int
admit_deferred(struct audit_rules *r, const struct audit_ctx *x,
               const uint8_t pseudonym[OV_PSEUDONYM_LEN])
{
    struct later { uint64_t idx; bool stmt; char name[OV_MAX_LABEL_LEN + 1]; } *w = NULL;
    size_t n = 0, cap = 0;
    uint8_t h[32];
    uint64_t spent = AUDIT_NO_INDEX;
    crypto_hash_sha256(h, pseudonym, OV_PSEUDONYM_LEN);
    int rc = spent_lookup(r, x, h, &spent); /* the token's nonce may be another key's */
    sqlite3_stmt *st = ov_db_stmt(r->db, "deferred_of");
    rc = rc ? rc : ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(pseudonym, OV_PSEUDONYM_LEN));
    while (rc == 0 && spent != AUDIT_NO_INDEX && (rc = ov_db_step(st)) == OV_DB_ROW) {
        struct later *p = grown(w, &cap, n, sizeof *p);
        if (p == NULL) {
            rc = -OV_E_NOMEM;
            break;
        }
        w = p;
        struct ov_bytes name;
        int64_t stmt = 0;
        rc = ov_db_col_uint64(st, 0, &w[n].idx);
        rc = rc ? rc : ov_db_col_text(st, 1, OV_MAX_LABEL_LEN, &name);
        rc = rc ? rc : ov_db_col_int64(st, 2, &stmt);
        if (rc == 0) {
            memcpy(w[n].name, name.ptr, name.len);
            w[n].name[name.len] = 0;
            w[n++].stmt = stmt != 0;
        }
    }
    ov_db_reset(st);
    rc = rc == OV_DB_DONE ? 0 : rc;
    uint64_t rejected = AUDIT_NO_INDEX;
    if (rc == 0 && n > 0) {
        audit_verify_wait(r->verify);
        rc = take_findings(r);
        st = ov_db_stmt(r->db, "rejected_get");
        rc = rc ? rc : ov_db_bind_int64(st, 1, x->n);
        rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(pseudonym, OV_PSEUDONYM_LEN));
        rc = rc ? (ov_db_reset(st), rc) : lookup_idx(st, &rejected);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t own = 0;
        rc = deferred_del(r, x, w[i].idx);
        st = ov_db_stmt(r->db, "violation_at");
        rc = rc ? rc : ov_db_bind_uint64(st, 1, w[i].idx);
        rc = rc ? (ov_db_reset(st), rc) : count_of(st, &own);
        if (rc != 0 || own > 0 || rejected != AUDIT_NO_INDEX) {
            continue; /* not counted (a rejected pseudonym's: the token's violation says it) */
        }
        st = ov_db_stmt(r->db, "act_count");
        rc = ov_db_bind_int64(st, 1, x->n);
        rc = rc ? rc : ov_db_bind_uint64(st, 2, w[i].idx);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
        if (rc == 0 && w[i].stmt) {
            rc = statement_rules(r, w[i].idx, x, pseudonym, true, w[i].name);
        }
    }
    free(w);
    return rc;
}

/* At a tally of x (bound: its size, or its own index if smaller): the deferred actions below
 * it whose pseudonym no token admitted in [0, bound) never count. Each is reported at its
 * own entry. */
static int
unadmitted(struct audit_rules *r, const struct audit_ctx *x, uint64_t bound, uint64_t tally)
{
    uint64_t *idx = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = ov_db_stmt(r->db, "deferred_below");
    int rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, bound > INT64_MAX ? INT64_MAX : bound);
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        uint64_t *p = grown(idx, &cap, n, sizeof *p);
        if (p == NULL) {
            rc = -OV_E_NOMEM;
            break;
        }
        idx = p;
        rc = ov_db_col_uint64(st, 0, &idx[n]);
        n += rc == 0;
    }
    ov_db_reset(st);
    rc = rc == OV_DB_DONE ? 0 : rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = violation(r, idx[i], R_UNKNOWN_PSEUDONYM, x->c.id,
                       "an action without token by a pseudonym no token admitted in entries "
                       "[0, %llu) (the tally at entry %llu)", (unsigned long long)bound,
                       (unsigned long long)tally);
        rc = rc ? rc : deferred_del(r, x, idx[i]);
    }
    free(idx);
    return rc;
}

/* The action at index no longer counts. */
static int
act_uncount(struct audit_rules *r, const struct audit_ctx *x, uint64_t index)
{
    sqlite3_stmt *st = ov_db_stmt(r->db, "act_uncount");
    int rc = ov_db_bind_int64(st, 1, 0);
    rc = rc ? rc : ov_db_bind_int64(st, 2, x->n);
    rc = rc ? rc : ov_db_bind_uint64(st, 3, index);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

/* What only a statement must keep (§11.3 "What the tally counts"), in log order: its author
 * has counted fewer than the context's `statements`, its id is no counted statement's, the
 * round has fewer than OV_MAX_ROUND_STATEMENTS. Whether it counts depends on every earlier
 * statement's signature and token, so the workers are waited for first (statements are few:
 * at most 512 count per round). A statement that counts joins stmts. */
static int
statement_rules(struct audit_rules *r, uint64_t index, const struct audit_ctx *x,
                const uint8_t pseudonym[OV_PSEUDONYM_LEN], bool has_token, const char *sid)
{
    audit_verify_wait(r->verify);
    int rc = take_findings(r);
    int64_t counted = 0;
    sqlite3_stmt *st = ov_db_stmt(r->db, "act_counted");
    rc = rc ? rc : ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, index);
    rc = rc ? rc : ov_db_step(st);
    rc = rc == OV_DB_ROW ? ov_db_col_int64(st, 0, &counted) : (rc ? rc : -OV_E_STATE);
    ov_db_reset(st);
    if (rc != 0 || counted == 0) {
        return rc;
    }
    uint64_t by = 0, total = 0, first = AUDIT_NO_INDEX, rejected = AUDIT_NO_INDEX;
    uint64_t found_before = r->n_new;
    if (!has_token && r->n_rejected > 0) { /* admitted by a token that failed */
        st = ov_db_stmt(r->db, "rejected_get");
        rc = ov_db_bind_int64(st, 1, x->n);
        rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(pseudonym, OV_PSEUDONYM_LEN));
        rc = rc ? (ov_db_reset(st), rc) : lookup_idx(st, &rejected);
    }
    if (rc != 0 || rejected != AUDIT_NO_INDEX) {
        return rc ? rc : act_uncount(r, x, index);
    }
    st = ov_db_stmt(r->db, "stmt_by");
    rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(pseudonym, OV_PSEUDONYM_LEN));
    rc = rc ? (ov_db_reset(st), rc) : count_of(st, &by);
    st = ov_db_stmt(r->db, "stmt_n");
    rc = rc ? rc : ov_db_bind_int64(st, 1, x->n);
    rc = rc ? (ov_db_reset(st), rc) : count_of(st, &total);
    st = ov_db_stmt(r->db, "stmt_get");
    rc = rc ? rc : ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_text(st, 2, sid, strlen(sid));
    rc = rc ? (ov_db_reset(st), rc) : lookup_idx(st, &first);
    if (rc == 0 && by >= x->c.statements) {
        rc = violation(r, index, R_STATEMENT_QUOTA, x->c.id,
                       "statement %s: its author already wrote %llu counted statements, the "
                       "most context %s allows", sid, (unsigned long long)by, x->c.id);
    }
    if (rc == 0 && first != AUDIT_NO_INDEX) {
        rc = violation(r, index, R_STATEMENT_DUPLICATE, x->c.id,
                       "statement %s was already written at entry %llu (the same text)", sid,
                       (unsigned long long)first);
    }
    if (rc == 0 && total >= OV_MAX_ROUND_STATEMENTS) {
        rc = violation(r, index, R_STATEMENT_CAP, x->c.id,
                       "statement %s: round %s has %d statements already", sid, x->c.id,
                       OV_MAX_ROUND_STATEMENTS);
    }
    if (rc == 0 && r->n_new != found_before) {
        return act_uncount(r, x, index);
    }
    st = ov_db_stmt(r->db, "stmt_put");
    rc = rc ? rc : ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_text(st, 2, sid, strlen(sid));
    rc = rc ? rc : ov_db_bind_blob(st, 3, OV_BYTES(pseudonym, OV_PSEUDONYM_LEN));
    rc = rc ? rc : ov_db_bind_uint64(st, 4, index);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

/* ---- tallies */

struct cmp_state {
    const struct ov_tally *t;
    size_t next;        /* next published item to compare */
    bool ratings;
    char diff[AUDIT_DETAIL_MAX];
};

static void
note_diff(struct cmp_state *s, const char *name, uint64_t pc, int64_t ps, uint64_t rc,
          int64_t rs)
{
    if (s->diff[0] != 0) {
        return; /* the first difference is enough */
    }
    int n;
    if (s->ratings) {
        n = snprintf(s->diff, sizeof s->diff, "\"%s\": published [%llu, %lld], recount [%llu, "
                     "%lld]", name, (unsigned long long)pc, (long long)ps,
                     (unsigned long long)rc, (long long)rs);
    } else {
        n = snprintf(s->diff, sizeof s->diff, "\"%s\": published %llu, recount %llu", name,
                     (unsigned long long)pc, (unsigned long long)rc);
    }
    if (n < 0) {
        snprintf(s->diff, sizeof s->diff, "\"%s\" differs", name);
    } else if ((size_t)n >= sizeof s->diff) {
        utf8_trim(s->diff);
    }
}

/* Published items before `name` have no recount: they must be zero. */
static void
cmp_skip_to(struct cmp_state *s, const char *name)
{
    while (s->next < s->t->n && (name == NULL || strcmp(s->t->items[s->next].name, name) < 0)) {
        const struct ov_tally_item *it = &s->t->items[s->next++];
        if (it->count != 0 || it->sum != 0) {
            note_diff(s, it->name, it->count, it->sum, 0, 0);
        }
    }
}

static int
cmp_row(void *arg, const char *name, uint64_t count, int64_t sum)
{
    struct cmp_state *s = arg;
    cmp_skip_to(s, name);
    uint64_t pc = 0;
    int64_t ps = 0;
    if (s->next < s->t->n && strcmp(s->t->items[s->next].name, name) == 0) {
        pc = s->t->items[s->next].count;
        ps = s->t->items[s->next].sum;
        s->next++;
    }
    if (pc != count || (s->ratings && ps != sum)) {
        note_diff(s, name, pc, ps, count, sum);
    }
    return 0;
}

/* Actions of x logged at or beyond the tally's size but before the tally itself: the tally
 * left them out. Each is reported and no longer counted. */
static int
late_actions(struct audit_rules *r, struct audit_ctx *x, const struct ov_tally *t,
             uint64_t index, uint64_t *n)
{
    sqlite3_stmt *st = ov_db_stmt(r->db, "acts_from");
    int rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, t->size);
    uint64_t *idx = NULL;
    size_t cap = 0;
    *n = 0;
    /* collected first: the violations and updates below cannot run inside the SELECT */
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        uint64_t *p = grown(idx, &cap, *n, sizeof *p);
        if (p == NULL) {
            rc = -OV_E_NOMEM;
            break;
        }
        idx = p;
        rc = ov_db_col_uint64(st, 0, &idx[*n]);
        *n += rc == 0;
    }
    ov_db_reset(st);
    rc = rc == OV_DB_DONE ? 0 : rc;
    for (size_t i = 0; i < *n && rc == 0; i++) {
        rc = violation(r, idx[i], R_ACTION_AFTER_TALLY, x->c.id,
                       "the tally of context %s at entry %llu counts entries [0, %llu) and "
                       "leaves this action out", x->c.id, (unsigned long long)index,
                       (unsigned long long)t->size);
        st = ov_db_stmt(r->db, "act_uncount");
        rc = rc ? rc : ov_db_bind_int64(st, 1, 0);
        rc = rc ? rc : ov_db_bind_int64(st, 2, x->n);
        rc = rc ? rc : ov_db_bind_uint64(st, 3, idx[i]);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
    }
    free(idx);
    return rc;
}

/* ---- statement rounds' tallies (§11.3) */

/* Ratings in [0, size) valid as any rating round's that the round does not count: of no
 * statement counted in [0, size), or of the rater's own. The verifier refuses both, so each
 * one logged is reported (once: it is no longer counted). */
static int
uncounted_ratings(struct audit_rules *r, const struct audit_ctx *x, const struct ov_tally *t,
                  uint64_t index)
{
    struct bad { uint64_t idx, stmt; bool unknown; char name[OV_MAX_LABEL_LEN + 1]; } *bad = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = ov_db_stmt(r->db, "stmt_bad_ratings");
    int rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, t->size);
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        struct bad *p = grown(bad, &cap, n, sizeof *p);
        if (p == NULL) {
            rc = -OV_E_NOMEM;
            break;
        }
        bad = p;
        struct ov_bytes name;
        struct bad *b = &bad[n];
        b->stmt = AUDIT_NO_INDEX;
        rc = ov_db_col_uint64(st, 0, &b->idx);
        rc = rc ? rc : ov_db_col_text(st, 1, OV_MAX_LABEL_LEN, &name);
        if (rc == 0 && !ov_db_col_is_null(st, 2)) {
            rc = ov_db_col_uint64(st, 2, &b->stmt);
        }
        if (rc == 0) {
            memcpy(b->name, name.ptr, name.len);
            b->name[name.len] = 0;
            b->unknown = b->stmt == AUDIT_NO_INDEX || b->stmt >= t->size;
            n++;
        }
    }
    ov_db_reset(st);
    rc = rc == OV_DB_DONE ? 0 : rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = bad[i].unknown
                 ? violation(r, bad[i].idx, R_RATING_UNKNOWN_STATEMENT, x->c.id,
                             "a rating of \"%s\", which no statement counted in entries [0, "
                             "%llu) has (the tally at entry %llu)", bad[i].name,
                             (unsigned long long)t->size, (unsigned long long)index)
                 : violation(r, bad[i].idx, R_RATING_OWN_STATEMENT, x->c.id,
                             "a rating of statement %s by its own author (entry %llu)",
                             bad[i].name, (unsigned long long)bad[i].stmt);
        rc = rc ? rc : act_uncount(r, x, bad[i].idx);
    }
    free(bad);
    return rc;
}

/* The round's input over [0, size): the counted statements and the ratings counted. */
static int
round_input(struct audit_rules *r, const struct audit_ctx *x, uint64_t size,
            struct ov_round_input *in, char (**ids)[OV_STATEMENT_ID_LEN + 1],
            struct ov_round_rating **ratings)
{
    size_t cap = 0;
    *ids = NULL;
    *ratings = NULL;
    sqlite3_stmt *st = ov_db_stmt(r->db, "stmt_ids");
    int rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, size);
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        struct ov_bytes id;
        if (in->n_statements == cap) {
            size_t nc = cap ? 2 * cap : 64;
            char (*p)[OV_STATEMENT_ID_LEN + 1] = realloc(*ids, nc * sizeof *p);
            if (p == NULL) {
                rc = -OV_E_NOMEM;
                break;
            }
            *ids = p;
            cap = nc;
        }
        rc = ov_db_col_text(st, 0, OV_STATEMENT_ID_LEN, &id);
        if (rc == 0) {
            memcpy((*ids)[in->n_statements], id.ptr, id.len);
            (*ids)[in->n_statements++][id.len] = 0;
        }
    }
    ov_db_reset(st);
    rc = rc == OV_DB_DONE ? 0 : rc;
    cap = 0;
    st = ov_db_stmt(r->db, "stmt_ratings");
    rc = rc ? rc : ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, size);
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        if (in->n_ratings == cap) {
            size_t nc = cap ? 2 * cap : 1024;
            struct ov_round_rating *p = realloc(*ratings, nc * sizeof *p);
            if (p == NULL) {
                rc = -OV_E_NOMEM;
                break;
            }
            *ratings = p;
            cap = nc;
        }
        struct ov_round_rating *g = &(*ratings)[in->n_ratings];
        struct ov_bytes who, id;
        rc = ov_db_col_blob(st, 0, OV_PSEUDONYM_LEN, &who);
        rc = rc ? rc : ov_db_col_text(st, 1, OV_STATEMENT_ID_LEN, &id);
        rc = rc ? rc : ov_db_col_int64(st, 2, &g->rating);
        rc = rc ? rc : (who.len == OV_PSEUDONYM_LEN ? 0 : -OV_E_STATE);
        if (rc == 0) {
            memcpy(g->pseudonym, who.ptr, OV_PSEUDONYM_LEN);
            memcpy(g->statement, id.ptr, id.len);
            g->statement[id.len] = 0;
            in->n_ratings++;
        }
    }
    ov_db_reset(st);
    rc = rc == OV_DB_DONE ? 0 : rc;
    in->statements = (const char (*)[OV_STATEMENT_ID_LEN + 1]) * ids;
    in->ratings = *ratings;
    return rc;
}

static void
hex_short(const uint8_t *p, char out[20])
{
    char h[17];
    hex8(p, h);
    snprintf(out, 20, "%s...", h);
}

/* Lists of statement ids (ov_statement_id_str arrays, const or not). */
static bool
ids_equal(const void *a, size_t na, const void *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof(ov_statement_id_str)) == 0);
}

/* Appends "; part" to the detail (the first without "; "). */
static void
add_part(char *d, size_t max, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
add_part(char *d, size_t max, const char *fmt, ...)
{
    size_t n = strlen(d);
    if (n > 0 && n + 2 < max) {
        memcpy(d + n, "; ", 3);
        n += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(d + n, max - n, fmt, ap);
    va_end(ap);
}

static json_t *
ids_json(const void *p, size_t n)
{
    const char *ids = p;
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        json_array_append_new(a, json_string(ids + i * sizeof(ov_statement_id_str)));
    }
    return a;
}

/* The summary recomputed, for the report (NULL: memory). */
static char *
results_json(const struct ov_tally_results *s, bool seed_verified, size_t n_statements,
             size_t n_ratings, bool ok)
{
    char seed[65], bh[65], gh[65];
    if (ov_hex_encode(seed, sizeof seed, s->seed, 32) != 0 ||
        ov_hex_encode(bh, sizeof bh, s->bridging, 32) != 0 ||
        ov_hex_encode(gh, sizeof gh, s->groups, 32) != 0) {
        return NULL;
    }
    json_t *sizes = json_array();
    for (size_t i = 0; sizes != NULL && i < s->k; i++) {
        json_array_append_new(sizes, json_integer((json_int_t)s->sizes[i]));
    }
    json_t *o = json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:s,s:s,s:o*,s:o*,s:o*,s:o*,s:b}", "seed",
                          seed, "seed_verified", seed_verified, "statements",
                          (json_int_t)n_statements, "ratings", (json_int_t)n_ratings,
                          "min_ratings_per_rater", (json_int_t)s->min_ratings_per_rater,
                          "min_raters_per_note", (json_int_t)s->min_raters_per_note,
                          "bridging", bh, "groups", gh, "helpful",
                          ids_json(s->helpful, s->n_helpful), "not_helpful",
                          ids_json(s->not_helpful, s->n_not_helpful), "sizes", sizes,
                          "consensus", ids_json(s->consensus, s->n_consensus), "ok", ok);
    char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return txt;
}

/* One result file of a statement round's tally (§11.3): the log serves the file named by
 * its hash (one GET, core/protocol/logfiles), and its bytes hash to it. expect: the length
 * of the bytes recomputed when their hash is the tally's, else 0 (any length up to the
 * log's hard maximum). A violation otherwise; -OV_E_HTTP when the log cannot be reached. */
static int
check_file(struct audit_rules *r, uint64_t index, const struct audit_ctx *x, const char *what,
           const uint8_t want[32], size_t expect, bool *ok)
{
    char url[1200], name[OV_LOGFILE_HEX_LEN + 1];
    uint8_t got[32];
    struct ov_httpc_resp resp;
    ov_logfile_name(want, name);
    int rc = r->http ? 0 : ov_httpc_new(&r->http);
    size_t max = expect ? expect : OV_LOGFILE_HARD_MAX;
    rc = rc ? rc : ov_logfile_fetch(r->http, r->log, want, max, url, sizeof url, &resp);
    if (rc == -OV_E_TOO_BIG) {
        *ok = false;
        return violation(r, index, R_STATEMENT_RESULTS_FILE, x->c.id, "the log serves a %s "
                         "result file %s of more than %zu bytes", what, name, max);
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-audit: GET %s: %s\n", url,
                r->http ? ov_httpc_errmsg(r->http) : ov_strerror(rc));
        return rc;
    }
    if (resp.status != 200) {
        *ok = false;
        rc = violation(r, index, R_STATEMENT_RESULTS_FILE, x->c.id, "the log does not serve "
                       "the %s result file %s of the tally of %s (HTTP %u)", what, name, x->c.id,
                       resp.status);
    } else if (crypto_hash_sha256(got, resp.body.ptr, resp.body.len) != 0 ||
               memcmp(got, want, 32) != 0) {
        *ok = false;
        rc = violation(r, index, R_STATEMENT_RESULTS_FILE, x->c.id, "the log's %s result file "
                       "%s holds other bytes (%zu)", what, name, resp.body.len);
    }
    ov_httpc_resp_clear(&resp);
    return rc;
}

/* Rule statement_results_file: both result files of the tally on the log (groups' only when
 * they ran: an empty result is no file). rr: the results recomputed, or NULL. */
static int
check_files(struct audit_rules *r, uint64_t index, const struct audit_ctx *x,
            const struct ov_tally_results *g, const struct ov_roundresult *rr, bool *ok)
{
    uint8_t empty[32], *b = NULL;
    size_t bn = 0, gn = 0;
    if (r->log == NULL) {
        return 0;
    }
    crypto_hash_sha256(empty, (const unsigned char *)"", 0);
    int rc = 0;
    if (rr != NULL && memcmp(rr->bridging_hash, g->bridging, 32) == 0) {
        rc = ov_bridge_encode(&rr->bridging, &b, &bn);
        free(b);
        b = NULL;
    }
    if (rc == 0 && rr != NULL && rr->groups_run && memcmp(rr->groups_hash, g->groups, 32) == 0) {
        rc = ov_groups_encode(&rr->groups, &b, &gn);
        free(b);
    }
    rc = rc ? rc : check_file(r, index, x, "bridging", g->bridging, bn, ok);
    if (rc == 0 && memcmp(g->groups, empty, 32) != 0) {
        rc = check_file(r, index, x, "groups", g->groups, gn, ok);
    }
    return rc;
}

/* Rule statement_results: the tally's results equal those recomputed from the log with
 * core/protocol/roundresult (the counted statements and ratings of [0, size), the root at
 * size as the seed, the tally's minimums). *json: the recomputed summary for the report. */
static int
check_results(struct audit_rules *r, uint64_t index, const struct audit_ctx *x,
              const struct ov_tally *t, char **json, bool *ok)
{
    *json = NULL;
    *ok = true;
    struct ov_round_input in = { .kind = x->c.rating_kind };
    char (*ids)[OV_STATEMENT_ID_LEN + 1] = NULL;
    struct ov_round_rating *ratings = NULL;
    int rc = 0;
    if (!t->has_results) {
        *ok = false;
        rc = violation(r, index, R_STATEMENT_RESULTS, x->c.id,
                       "the tally of statement round %s carries no results (seed, bridging, "
                       "groups)", x->c.id);
        ov_bridge_params_default(&in.params);
    } else {
        in.params.min_ratings_per_rater = t->results.min_ratings_per_rater;
        in.params.min_raters_per_note = t->results.min_raters_per_note;
    }
    rc = rc ? rc : round_input(r, x, t->size, &in, &ids, &ratings);
    int tr = rc ? rc : audit_tree_root(&r->tree, t->size, in.seed);
    bool seed_verified = tr == 0;
    if (rc == 0 && tr != 0 && tr != -OV_E_NOT_FOUND) {
        rc = tr;
    } else if (rc == 0 && !seed_verified && t->has_results) {
        memcpy(in.seed, t->results.seed, sizeof in.seed); /* the tree is unknown (tree.h) */
    }
    struct ov_roundresult rr;
    struct ov_tally_results sum;
    memset(&rr, 0, sizeof rr);
    memset(&sum, 0, sizeof sum);
    int run = rc ? rc : ov_roundresult_run(&in, &rr);
    if (rc == 0 && run != 0 && run != -OV_E_NOMEM) {
        *ok = false;
        rc = violation(r, index, R_STATEMENT_RESULTS, x->c.id,
                       "the results of the %zu statements and %zu ratings counted cannot be "
                       "computed (%s)", in.n_statements, in.n_ratings, ov_strerror(run));
    } else if (rc == 0) {
        rc = run ? run : ov_roundresult_summary(&rr, &sum);
    }
    if (rc == 0 && run == 0 && t->has_results) {
        const struct ov_tally_results *g = &t->results;
        char d[AUDIT_DETAIL_MAX] = "", a[20], b[20];
        if (seed_verified && memcmp(g->seed, sum.seed, 32) != 0) {
            hex_short(g->seed, a);
            hex_short(sum.seed, b);
            add_part(d, sizeof d, "seed differs from the log's root at %llu: logged %s, root %s",
                     (unsigned long long)t->size, a, b);
        }
        if (memcmp(g->bridging, sum.bridging, 32) != 0) {
            hex_short(g->bridging, a);
            hex_short(sum.bridging, b);
            add_part(d, sizeof d, "bridging result hash differs: logged %s, recomputed %s", a, b);
        }
        if (memcmp(g->groups, sum.groups, 32) != 0) {
            hex_short(g->groups, a);
            hex_short(sum.groups, b);
            add_part(d, sizeof d, "groups result hash differs: logged %s, recomputed %s", a, b);
        }
        if (!ids_equal(g->helpful, g->n_helpful, sum.helpful, sum.n_helpful)) {
            add_part(d, sizeof d, "helpful lists differ (logged %zu, recomputed %zu)",
                     g->n_helpful, sum.n_helpful);
        }
        if (!ids_equal(g->not_helpful, g->n_not_helpful, sum.not_helpful, sum.n_not_helpful)) {
            add_part(d, sizeof d, "not_helpful lists differ (logged %zu, recomputed %zu)",
                     g->n_not_helpful, sum.n_not_helpful);
        }
        if (g->k != sum.k || memcmp(g->sizes, sum.sizes, sum.k * sizeof sum.sizes[0]) != 0) {
            add_part(d, sizeof d, "group sizes differ (logged %zu groups, recomputed %zu)",
                     g->k, sum.k);
        }
        if (!ids_equal(g->consensus, g->n_consensus, sum.consensus, sum.n_consensus)) {
            add_part(d, sizeof d, "consensus lists differ");
        }
        if (d[0] != 0) {
            utf8_trim(d);
            *ok = false;
            rc = violation(r, index, R_STATEMENT_RESULTS, x->c.id, "%s", d);
        }
    }
    if (rc == 0 && t->has_results) {
        rc = check_files(r, index, x, &t->results, run == 0 ? &rr : NULL, ok);
    }
    if (rc == 0 && run == 0) {
        *json = results_json(&sum, seed_verified, in.n_statements, in.n_ratings, *ok);
        rc = *json ? 0 : -OV_E_NOMEM;
    }
    free(sum.helpful);
    free(sum.not_helpful);
    ov_roundresult_free(&rr);
    free(ids);
    free(ratings);
    return rc;
}

static int
on_tally(struct audit_rules *r, uint64_t index, const struct ov_tally *t)
{
    struct audit_ctx *x = find_ctx(r, t->context);
    if (x == NULL) {
        return violation(r, index, R_CONTEXT_MISSING, t->context,
                         "a tally for context %s, which the log has not announced before",
                         t->context);
    }
    bool ok = false;
    char *results = NULL; /* a statement round's recomputed summary (JSON) */
    /* the workers' findings first: the recount counts valid actions only */
    audit_verify_wait(r->verify);
    int rc = take_findings(r);
    if (rc == 0 && r->n_deferred > 0) {
        rc = unadmitted(r, x, t->size < index ? t->size : index, index);
    }
    if (rc != 0) {
        return rc;
    }
    if (t->ratings != (x->c.type == OV_CONTEXT_RATING)) {
        rc = violation(r, index, R_TALLY_INVALID, x->c.id, "algorithm %s for %s %s",
                       t->ratings ? OV_TALLY_RATINGS : OV_TALLY_PLURALITY,
                       x->c.type == OV_CONTEXT_RATING ? "rating round" : "assembly", x->c.id);
    } else if (t->size > index) {
        rc = violation(r, index, R_TALLY_INVALID, x->c.id,
                       "the tally claims to count entries up to %llu, beyond its own index",
                       (unsigned long long)t->size);
    } else {
        struct cmp_state s = { .t = t, .ratings = t->ratings };
        uint64_t late = 0;
        rc = late_actions(r, x, t, index, &late);
        if (rc == 0 && statement_round(x)) {
            rc = uncounted_ratings(r, x, t, index);
        }
        rc = rc ? rc : audit_rules_recount(r, x, t->size, cmp_row, &s);
        if (rc == 0) {
            cmp_skip_to(&s, NULL);
            for (size_t i = 0; i < t->n && !t->ratings && s.diff[0] == 0; i++) {
                if (!choice_offered(&x->c, t->items[i].name)) {
                    snprintf(s.diff, sizeof s.diff, "\"%s\" is not a choice of the context",
                             t->items[i].name);
                }
            }
            ok = s.diff[0] == 0 && late == 0;
            if (s.diff[0] != 0) {
                rc = violation(r, index, R_TALLY_MISMATCH, x->c.id,
                               "the tally of entries [0, %llu) differs from the recount: %s",
                               (unsigned long long)t->size, s.diff);
            }
        }
        if (rc == 0 && statement_round(x)) {
            bool results_ok = false;
            rc = check_results(r, index, x, t, &results, &results_ok);
            ok = ok && results_ok;
        }
    }
    if (rc == 0 && t->has_results && !statement_round(x)) {
        ok = false;
        rc = violation(r, index, R_STATEMENT_RESULTS, x->c.id,
                       "the tally carries a statement round's results, but %s is not one "
                       "(its context has no rating_kind)", x->c.id);
    }
    if (t->size < x->tally_min && t->size <= index) {
        x->tally_min = t->size;
    }
    sqlite3_stmt *st = ov_db_stmt(r->db, "tally_put");
    rc = rc ? rc : ov_db_bind_uint64(st, 1, index);
    rc = rc ? rc : ov_db_bind_int64(st, 2, x->n);
    rc = rc ? rc : ov_db_bind_uint64(st, 3, t->size);
    rc = rc ? rc : ov_db_bind_int64(st, 4, ok);
    rc = rc ? rc : (results ? ov_db_bind_text(st, 5, results, strlen(results))
                            : ov_db_bind_null(st, 5));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    free(results);
    return rc;
}

static uint64_t
entry_time(const struct ov_entry *e)
{
    switch (e->kind) {
    case OV_ENTRY_CONTEXT: return e->u.context.time;
    case OV_ENTRY_ENROLLMENT: return e->u.enrollment.time;
    case OV_ENTRY_ISSUANCE: return e->u.issuance.time;
    case OV_ENTRY_ACTION:
    case OV_ENTRY_STATEMENT: return e->u.action.time;
    case OV_ENTRY_TALLY: return e->u.tally.time;
    case OV_ENTRY_INVITATIONS: return e->u.invitations.time;
    default: return 0;
    }
}

/* ---- invitation codes: the issuer's running total per draw adds up, a draw's codes come
 * after its draw entry and stay within its panel and reserves, and enrollments by
 * invitation never pass the codes announced before them (docs/PROTOCOL.md §3). */

/* The draw entry of draw id logged before index, as counted (sortition.c): its panel and
 * reserves in *seats; 0 found, 1 none. */
static int
draw_seats(struct audit_rules *r, const char *id, uint64_t index, uint64_t *seats)
{
    sqlite3_stmt *st = ov_db_stmt(r->db, "sd_get");
    struct ov_bytes entry;
    int64_t idx = 0;
    int rc = ov_db_bind_text(st, 1, id, strlen(id));
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_ROW) {
        struct ov_sortentry e;
        rc = ov_db_col_int64(st, 0, &idx);
        rc = rc ? rc : ov_db_col_blob(st, 1, OV_MAX_ENTRY_LEN, &entry);
        rc = rc ? rc : ov_sortentry_decode(entry, &e);
        if (rc == 0) {
            *seats = e.kind == OV_SORTENTRY_DRAW ? e.u.draw.n_panel + e.u.draw.n_reserves : 0;
            rc = e.kind == OV_SORTENTRY_DRAW && (uint64_t)idx < index ? 0 : 1;
            ov_sortentry_clear(&e);
        }
    } else if (rc == OV_DB_DONE) {
        rc = 1;
    }
    ov_db_reset(st);
    return rc;
}

static int
on_invitations(struct audit_rules *r, uint64_t index, const struct ov_invitations *iv)
{
    const char *draw = iv->draw;
    sqlite3_stmt *st = ov_db_stmt(r->db, "it_get");
    int64_t before = 0;
    int rc = ov_db_bind_text(st, 1, draw, strlen(draw));
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_int64(st, 0, &before);
    }
    ov_db_reset(st);
    rc = rc < 0 ? rc : 0;
    r->counts[AUDIT_N_INVITATION_CODES] += iv->count;
    if (rc == 0 && iv->total != (uint64_t)before + iv->count) {
        rc = audit_violation(r, index, R_INVITATIONS_TOTAL, draw[0] ? draw : NULL,
                             "a batch of %llu codes brings the total to %llu, but %llu were "
                             "announced before it: batches are missing from the log",
                             (unsigned long long)iv->count, (unsigned long long)iv->total,
                             (unsigned long long)before);
    }
    st = ov_db_stmt(r->db, "it_put");
    rc = rc ? rc : ov_db_bind_text(st, 1, draw, strlen(draw));
    rc = rc ? rc : ov_db_bind_uint64(st, 2, iv->total);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    rc = rc < 0 ? rc : 0;
    if (rc != 0 || draw[0] == '\0') {
        return rc;
    }
    uint64_t seats = 0;
    int found = draw_seats(r, draw, index, &seats);
    if (found == 1) {
        return audit_violation(r, index, R_INVITATIONS_NO_DRAW, draw,
                               "invitation codes for draw '%s', whose draw entry is not in "
                               "the log before them", draw);
    }
    if (found == 0 && iv->total > seats) {
        return audit_violation(r, index, R_INVITATIONS_EXCEED, draw,
                               "%llu invitation codes for draw '%s', which drew %llu (panel "
                               "and reserves)", (unsigned long long)iv->total, draw,
                               (unsigned long long)seats);
    }
    return found < 0 ? found : 0;
}

/* A draw's entry (sortition.h): decoded here, checked there. */
static int
on_sortition(struct audit_rules *r, uint64_t index, struct ov_bytes bytes)
{
    struct ov_sortentry *e = &r->sort_scratch;
    int rc = ov_sortentry_decode(bytes, e);
    if (rc != 0) {
        ov_sortentry_clear(e);
        r->counts[AUDIT_N_MALFORMED]++;
        return violation(r, index, R_ENTRY_MALFORMED, NULL,
                         "the entry is not a onevoice sortition entry (%s)", ov_strerror(rc));
    }
    uint64_t t = e->kind == OV_SORTENTRY_COMMIT   ? e->u.commit.time
                 : e->kind == OV_SORTENTRY_POOL   ? e->u.pool.time
                 : e->kind == OV_SORTENTRY_REVEAL ? e->u.reveal.time
                                                  : e->u.draw.time;
    r->counts[AUDIT_N_SORT_COMMIT - OV_SORTENTRY_COMMIT + (int)e->kind]++;
    /* a reveal is judged by the clock of the entries before it */
    rc = audit_sort_entry(r->sort, r, index, e, bytes, r->clock_entries);
    r->clock_entries = t > r->clock_entries ? t : r->clock_entries;
    ov_sortentry_clear(e);
    return rc;
}

int
audit_rules_entry(struct audit_rules *r, uint64_t index, struct ov_bytes bytes)
{
    struct ov_entry *e = &r->scratch;
    int rc = audit_tree_append(&r->tree, index, bytes);
    if (rc != 0) {
        return rc;
    }
    rc = ov_entry_decode(bytes, e);
    /* the entry decoder refuses a draw's kinds: asked only then, the hot path is as before */
    if (rc != 0 && ov_sortentry_kind_of(bytes) != 0) {
        return on_sortition(r, index, bytes); /* *e is zeroed on failure */
    }
    if (rc != 0) {
        r->counts[AUDIT_N_MALFORMED]++;
        return violation(r, index, R_ENTRY_MALFORMED, NULL,
                         "the entry is not a onevoice entry (%s)", ov_strerror(rc));
    }
    uint64_t t = entry_time(e);
    r->clock_entries = t > r->clock_entries ? t : r->clock_entries;
    switch (e->kind) {
    case OV_ENTRY_CONTEXT:
        r->counts[AUDIT_N_CONTEXT]++;
        rc = on_context(r, index, &e->u.context, bytes);
        break;
    case OV_ENTRY_ENROLLMENT:
        r->counts[AUDIT_N_ENROLLMENT]++;
        r->counts[AUDIT_N_INVITE - OV_ROUTE_INVITE + (int)e->u.enrollment.route]++;
        if (e->u.enrollment.route == OV_ROUTE_INVITE &&
            r->counts[AUDIT_N_INVITE] > r->counts[AUDIT_N_INVITATION_CODES]) {
            rc = audit_violation(r, index, R_ENROLLMENTS_EXCEED, NULL,
                                 "enrollment by invitation number %llu, but only %llu "
                                 "invitation codes were announced before it",
                                 (unsigned long long)r->counts[AUDIT_N_INVITE],
                                 (unsigned long long)r->counts[AUDIT_N_INVITATION_CODES]);
        }
        break;
    case OV_ENTRY_INVITATIONS:
        r->counts[AUDIT_N_INVITATIONS]++;
        rc = on_invitations(r, index, &e->u.invitations);
        break;
    case OV_ENTRY_ISSUANCE:
        r->counts[AUDIT_N_ISSUANCE]++;
        rc = on_issuance(r, index, &e->u.issuance);
        break;
    case OV_ENTRY_ACTION:
        r->counts[AUDIT_N_ACTION]++;
        rc = on_action(r, index, &e->u.action);
        break;
    case OV_ENTRY_TALLY:
        r->counts[AUDIT_N_TALLY]++;
        rc = on_tally(r, index, &e->u.tally);
        break;
    case OV_ENTRY_STATEMENT:
        r->counts[AUDIT_N_STATEMENT]++;
        rc = on_action(r, index, &e->u.action);
        break;
    default:
        rc = -OV_E_STATE; /* the decoder returned a kind it does not define: our bug */
        break;
    }
    ov_entry_clear(e);
    return rc;
}

/* ------------------------------------------------------------------ end of a sync */

/* The clock that decides whether a tally is overdue (rules.h). */
static uint64_t
clock_now(const struct audit_rules *r)
{
    return r->clock_entries > r->clock_witnesses ? r->clock_entries : r->clock_witnesses;
}

static bool
tally_overdue(const struct audit_rules *r, const struct audit_ctx *x)
{
    return x->tally_min == AUDIT_NO_INDEX && x->c.closes <= UINT64_MAX - r->tally_grace &&
           clock_now(r) >= x->c.closes + r->tally_grace;
}

/* Whether a context's tokens are judged against its issuances yet: once it has a tally, or
 * once its tally is overdue. Before, the issuer and the verifier may each hold an epoch's
 * entries (docs/PROTOCOL.md §3.1): a ballot can be logged before the issuance of its token,
 * which comes at the end of the issuer's epoch. The verifier writes a tally two epochs
 * after the close, after the issuer's last epoch of the context; so from the tally on (or
 * the tally grace, without one) every token must have its issuance in the log read. */
static bool
tokens_judged(const struct audit_rules *r, const struct audit_ctx *x)
{
    return x->tokens > x->issuances &&
           (x->tally_min != AUDIT_NO_INDEX ||
            (x->c.closes <= UINT64_MAX - r->tally_grace &&
             clock_now(r) >= x->c.closes + r->tally_grace));
}

/* The contexts with deferred actions still waiting at the end of the read (one row each: the
 * context, the first such action, how many), for the standing unknown_pseudonym. */
struct waiting { int64_t ctx; uint64_t first, n; };

static int
waiting_list(struct audit_rules *r, struct waiting **out, size_t *n_out)
{
    struct waiting *w = NULL;
    size_t n = 0, cap = 0;
    *out = NULL;
    *n_out = 0;
    if (r->n_deferred == 0) {
        return 0;
    }
    sqlite3_stmt *st = ov_db_stmt(r->db, "deferred_first");
    int rc;
    while ((rc = ov_db_step(st)) == OV_DB_ROW) {
        struct waiting *p = grown(w, &cap, n, sizeof *p);
        if (p == NULL) {
            rc = -OV_E_NOMEM;
            break;
        }
        w = p;
        rc = ov_db_col_int64(st, 0, &w[n].ctx);
        rc = rc ? rc : ov_db_col_uint64(st, 1, &w[n].first);
        rc = rc ? rc : ov_db_col_uint64(st, 2, &w[n].n);
        if (rc != 0) {
            break;
        }
        n++;
    }
    ov_db_reset(st);
    if (rc != OV_DB_DONE) {
        free(w);
        return rc < 0 ? rc : -OV_E_DB;
    }
    *out = w;
    *n_out = n;
    return 0;
}

static const struct audit_ctx *
ctx_of_row(const struct audit_rules *r, int64_t n)
{
    return n >= 1 && (size_t)n <= r->n_ctxs && r->ctxs[n - 1]->n == n ? r->ctxs[n - 1] : NULL;
}

static int
compute_standing(struct audit_rules *r)
{
    r->n_standing = 0;
    free(r->standing);
    r->standing = NULL;
    const struct audit_standing *sf;
    struct waiting *w = NULL;
    size_t n_w = 0;
    int rc = audit_sort_refresh(r->sort, clock_now(r));
    rc = rc ? rc : waiting_list(r, &w, &n_w);
    size_t n = rc ? 0 : audit_sort_findings(r->sort, &sf) + n_w;
    for (size_t i = 0; i < r->n_ctxs; i++) {
        n += tokens_judged(r, r->ctxs[i]);
        n += tally_overdue(r, r->ctxs[i]);
    }
    if (rc != 0 || n == 0) {
        free(w);
        return rc;
    }
    r->standing = calloc(n, sizeof *r->standing);
    if (r->standing == NULL) {
        free(w);
        return -OV_E_NOMEM;
    }
    size_t ns = audit_sort_findings(r->sort, &sf);
    if (ns > 0) {
        memcpy(r->standing, sf, ns * sizeof *sf);
    }
    r->n_standing = ns;
    for (size_t i = 0; i < n_w; i++) {
        const struct audit_ctx *x = ctx_of_row(r, w[i].ctx);
        if (x == NULL) {
            continue; /* a state that does not match its contexts: nothing to name */
        }
        struct audit_standing *s = &r->standing[r->n_standing++];
        s->index = w[i].first;
        s->rule = R_UNKNOWN_PSEUDONYM;
        s->ctx = x;
        snprintf(s->detail, sizeof s->detail,
                 "%llu action(s) without token in %s (the first here) by pseudonyms no "
                 "token admitted yet; each counts if its admission is logged before the tally",
                 (unsigned long long)w[i].n, x->c.id);
    }
    free(w);
    for (size_t i = 0; i < r->n_ctxs && rc == 0; i++) {
        const struct audit_ctx *x = r->ctxs[i];
        if (tally_overdue(r, x)) {
            struct audit_standing *s = &r->standing[r->n_standing++];
            s->index = x->index;
            s->rule = R_TALLY_MISSING;
            s->ctx = x;
            snprintf(s->detail, sizeof s->detail,
                     "context %s closed at %llu and the log has no tally of it by %llu (%s; "
                     "grace %llu s)", x->c.id, (unsigned long long)x->c.closes,
                     (unsigned long long)clock_now(r),
                     r->clock_witnesses >= r->clock_entries ? "the witnesses' time"
                                                            : "the latest entry's time",
                     (unsigned long long)r->tally_grace);
        }
        if (!tokens_judged(r, x)) {
            continue;
        }
        /* the first admitted token beyond the number of issuances */
        sqlite3_stmt *st = ov_db_stmt(r->db, "token_nth");
        uint64_t idx = AUDIT_NO_INDEX;
        rc = ov_db_bind_int64(st, 1, x->n);
        rc = rc ? rc : ov_db_bind_uint64(st, 2, x->issuances);
        rc = rc ? (ov_db_reset(st), rc) : lookup_idx(st, &idx);
        struct audit_standing *s = &r->standing[r->n_standing++];
        s->index = idx;
        s->rule = R_TOKENS_EXCEED;
        s->ctx = x;
        snprintf(s->detail, sizeof s->detail,
                 "context %s admitted %llu tokens but the log shows only %llu issuances",
                 x->c.id, (unsigned long long)x->tokens, (unsigned long long)x->issuances);
    }
    return rc;
}

int
audit_rules_finish(struct audit_rules *r)
{
    audit_verify_wait(r->verify);
    int rc = take_findings(r);
    for (size_t i = 0; i < r->n_ctxs && rc == 0; i++) {
        const struct audit_ctx *x = r->ctxs[i];
        sqlite3_stmt *st = ov_db_stmt(r->db, "context_counts");
        rc = ov_db_bind_uint64(st, 1, x->issuances);
        rc = rc ? rc : ov_db_bind_uint64(st, 2, x->tokens);
        rc = rc ? rc : ov_db_bind_uint64(st, 3, x->actions);
        rc = rc ? rc : ov_db_bind_uint64(st, 4, x->tags);
        rc = rc ? rc : (x->tally_min == AUDIT_NO_INDEX ? ov_db_bind_null(st, 5)
                                                       : ov_db_bind_uint64(st, 5, x->tally_min));
        rc = rc ? rc : ov_db_bind_int64(st, 6, x->n);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
    }
    for (int i = 0; i < AUDIT_N_COUNTS && rc == 0; i++) {
        sqlite3_stmt *st = ov_db_stmt(r->db, "count_put");
        rc = ov_db_bind_text(st, 1, audit_count_names[i], strlen(audit_count_names[i]));
        rc = rc ? rc : ov_db_bind_uint64(st, 2, r->counts[i]);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
    }
    rc = rc ? rc : audit_meta_put_u64(r->db, "clock_entries", r->clock_entries);
    rc = rc ? rc : audit_tree_save(&r->tree);
    return rc ? rc : compute_standing(r);
}

/* ------------------------------------------------------------------ reading */

static int
cmp_choice(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
audit_rules_recount(struct audit_rules *r, const struct audit_ctx *x, uint64_t size,
                    audit_recount_fn fn, void *arg)
{
    bool ratings = x->c.type == OV_CONTEXT_RATING;
    uint64_t counts[OV_MAX_CHOICES] = { 0 };
    /* ratings: SQLite groups the targets (its sorter spills to temporary files, so a round
     * with millions of targets needs no memory); an assembly has at most OV_MAX_CHOICES
     * names, counted here in one pass along the primary key, with no sort at all */
    sqlite3_stmt *st = ov_db_stmt(r->db, statement_round(x) ? "recount_stmt"
                                         : ratings          ? "recount"
                                                            : "recount_rows");
    int rc = ov_db_bind_int64(st, 1, x->n);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, size > INT64_MAX ? INT64_MAX : size);
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        struct ov_bytes name;
        uint64_t count = 0;
        int64_t sum = 0;
        char nm[OV_MAX_LABEL_LEN + 1];
        rc = ov_db_col_text(st, 0, OV_MAX_LABEL_LEN, &name);
        if (rc == 0 && ratings) {
            rc = ov_db_col_uint64(st, 1, &count);
            rc = rc ? rc : ov_db_col_int64(st, 2, &sum);
        }
        if (rc != 0) {
            break;
        }
        memcpy(nm, name.ptr, name.len);
        nm[name.len] = 0;
        if (ratings) {
            rc = fn(arg, nm, count, sum);
            continue;
        }
        for (size_t i = 0; i < x->c.n_choices; i++) {
            if (strcmp(x->c.choices[i], nm) == 0) {
                counts[i]++;
                break;
            }
        }
    }
    ov_db_reset(st);
    if (rc != 0 || ratings) {
        return rc;
    }
    /* every choice, in bytewise order, zeros included */
    const char *names[OV_MAX_CHOICES] = { 0 };
    for (size_t i = 0; i < x->c.n_choices; i++) {
        names[i] = x->c.choices[i];
    }
    qsort(names, x->c.n_choices, sizeof names[0], cmp_choice);
    for (size_t i = 0; i < x->c.n_choices && rc == 0; i++) {
        size_t k = (size_t)(names[i] - x->c.choices[0]) / sizeof x->c.choices[0];
        rc = fn(arg, names[i], counts[k], 0);
    }
    return rc;
}

size_t
audit_rules_n_contexts(const struct audit_rules *r)
{
    return r->n_ctxs;
}

const struct audit_ctx *
audit_rules_context(const struct audit_rules *r, size_t i)
{
    return i < r->n_ctxs ? r->ctxs[i] : NULL;
}

const uint64_t *
audit_rules_counts(const struct audit_rules *r)
{
    return r->counts;
}

size_t
audit_rules_standing(const struct audit_rules *r, const struct audit_standing **out)
{
    *out = r->standing;
    return r->n_standing;
}

uint64_t
audit_rules_new_violations(const struct audit_rules *r)
{
    return r->n_new;
}
