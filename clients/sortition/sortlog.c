/* sortlog: reading and appending a draw's entries (sortlog.h). */
#include "sortlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/codec.h"
#include "base/clock.h"
#include "protocol/logclient.h"
#include "primitives/cbor.h"
#include "primitives/merkle.h"

#define PROG "onevoice-sortition"
#define SL_MAX_WITNESS_FILE (64 * 1024)

const char *
sl_key_b64(const uint8_t key[OV_SIGN_PK_LEN], char out[48])
{
    if (ov_b64_encode(out, 48, key, OV_SIGN_PK_LEN, OV_B64_STD) != 0) {
        snprintf(out, 48, "?");
    }
    return out;
}

/* ---- opening: the log's key, the witnesses' keys, the quorum ------------------------------ */

/* "URL VKEY" lines as the log's --witnesses file has them (or a vkey alone): the last field
 * is the key; '#' starts a comment. */
static int
load_witnesses(struct sl_log *L, const char *path)
{
    struct ov_buf b;
    int rc = ov_file_read(path, SL_MAX_WITNESS_FILE, &b);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s: %s\n", path, ov_strerror(rc));
        return rc;
    }
    char *save = NULL;
    size_t line = 0;
    for (char *s = strtok_r((char *)b.ptr, "\n", &save); s != NULL && rc == 0;
         s = strtok_r(NULL, "\n", &save)) {
        line++;
        s[strcspn(s, "\r#")] = 0;
        size_t len = strlen(s);
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
            s[--len] = 0;
        }
        if (len == 0) {
            continue;
        }
        const char *k = strrchr(s, ' ') ? strrchr(s, ' ') + 1 : s;
        struct ov_note_verifier *v = &L->witnesses[L->cfg.n_witnesses];
        if (L->cfg.n_witnesses == OV_LOGREADER_MAX_WITNESSES) {
            fprintf(stderr, PROG ": %s: more than %d witnesses\n", path,
                    OV_LOGREADER_MAX_WITNESSES);
            rc = -OV_E_TOO_BIG;
        } else if (ov_note_vkey_parse(OV_BYTES(k, strlen(k)), v) != 0 ||
                   v->type != OV_NOTE_TYPE_COSIG_V1) {
            fprintf(stderr, PROG ": %s line %zu: not a cosignature/v1 verifier key\n", path, line);
            rc = -OV_E_MALFORMED;
        } else {
            L->cfg.n_witnesses++;
        }
    }
    ov_buf_clear(&b);
    return rc;
}

int
sl_open(struct sl_log *L, const struct sl_opts *o, const char *id)
{
    memset(L, 0, sizeof *L);
    uint64_t q = 0;
    if (o->log == NULL || o->vkey == NULL) {
        fprintf(stderr, PROG ": the log is needed: --log URL --log-vkey VKEY (and --witnesses "
                        "FILE, --quorum K)\n");
        return 2;
    }
    if (ov_context_id_check(id) != 0) {
        fprintf(stderr, PROG ": --id: 1-64 of [a-z0-9-], not starting with '-'\n");
        return 2;
    }
    snprintf(L->id, sizeof L->id, "%s", id);
    L->cfg.url = o->log;
    L->cfg.witnesses = L->witnesses;
    if (ov_note_vkey_parse(OV_BYTES(o->vkey, strlen(o->vkey)), &L->cfg.log_key) != 0 ||
        L->cfg.log_key.type != OV_NOTE_TYPE_ED25519) {
        fprintf(stderr, PROG ": --log-vkey: not a log's verifier key\n");
        return 2;
    }
    if (o->witnesses != NULL && load_witnesses(L, o->witnesses) != 0) {
        return 2;
    }
    L->cfg.quorum = (unsigned)L->cfg.n_witnesses; /* by default, every witness listed */
    if (o->quorum != NULL &&
        (ov_parse_u64(o->quorum, strlen(o->quorum), &q) != 0 || q > L->cfg.n_witnesses)) {
        fprintf(stderr, PROG ": --quorum: at most the %zu witnesses listed\n", L->cfg.n_witnesses);
        return 2;
    }
    L->cfg.quorum = o->quorum != NULL ? (unsigned)q : L->cfg.quorum;
    if (ov_logreader_new(&L->cfg, &L->reader) != 0) {
        fprintf(stderr, PROG ": cannot make a log reader\n");
        return 1;
    }
    return 0;
}

void
sl_close(struct sl_log *L)
{
    for (size_t i = 0; i < L->n_items; i++) {
        ov_sortentry_clear(&L->items[i].e);
    }
    free(L->items);
    ov_logreader_free(L->reader);
    sodium_memzero(L, sizeof *L);
}

/* ---- reading ------------------------------------------------------------------------------ */

static const char *
id_of(const struct ov_sortentry *e)
{
    switch (e->kind) {
    case OV_SORTENTRY_COMMIT:
        return e->u.commit.draw;
    case OV_SORTENTRY_POOL:
        return e->u.pool.id;
    case OV_SORTENTRY_REVEAL:
        return e->u.reveal.draw;
    case OV_SORTENTRY_DRAW:
        return e->u.draw.id;
    }
    return "";
}

/* Every entry passes here before the root is checked: the caller keeps them only once the
 * sync verified (sl_sync drops them otherwise). */
static int
on_entry(void *ctx, uint64_t index, struct ov_bytes entry)
{
    struct sl_log *L = ctx;
    if (L->want_index == index + 1) { /* want_index is the index plus one: 0 looks for none */
        uint8_t h[32];
        L->found = ov_merkle_leaf_hash(entry.ptr, entry.len, h) == 0 &&
                   memcmp(h, L->want_hash, 32) == 0;
    }
    uint64_t before = L->latest, t = 0;
    struct ov_bytes item;
    if (ov_cbor_check(entry) == 0 && ov_cbor_view_get(entry, "time", &item) == 0 &&
        ov_cbor_view_uint(item, UINT64_MAX, &t) == 0 && t > L->latest) {
        L->latest = t; /* a reveal is late once any entry before it is at reveal_by */
    }
    if (ov_sortentry_kind_of(entry) == 0) {
        return 0;
    }
    struct ov_sortentry e;
    if (ov_sortentry_decode(entry, &e) != 0) {
        L->n_malformed++;
        return 0;
    }
    if (strcmp(id_of(&e), L->id) != 0) {
        ov_sortentry_clear(&e);
        return 0;
    }
    if (L->n_items == L->cap) {
        size_t cap = L->cap ? 2 * L->cap : 16;
        struct sl_item *x = realloc(L->items, cap * sizeof *x);
        if (x == NULL) {
            ov_sortentry_clear(&e);
            return -OV_E_NOMEM;
        }
        L->items = x;
        L->cap = cap;
    }
    L->items[L->n_items].index = index;
    L->items[L->n_items].before = before;
    L->items[L->n_items++].e = e;
    return 0;
}

int
sl_sync(struct sl_log *L)
{
    struct ov_logreader_cp cp;
    size_t before = L->n_items, bad_before = L->n_malformed;
    uint64_t latest_before = L->latest;
    int rc = ov_logreader_checkpoint(L->reader, &cp);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s: no verified checkpoint (%s%s)\n", L->cfg.url, ov_strerror(rc),
                rc == -OV_E_STATE ? ": fewer witness cosignatures than the quorum" : "");
        return rc;
    }
    rc = ov_logreader_sync(L->reader, &cp, on_entry, L);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s: the log does not verify (%s%s)\n", L->cfg.url,
                ov_strerror(rc),
                rc == -OV_E_BAD_PROOF ? ": its entries do not hash to its signed root" : "");
        for (size_t i = before; i < L->n_items; i++) {
            ov_sortentry_clear(&L->items[i].e);
        }
        L->n_items = before;
        L->n_malformed = bad_before;
        L->latest = latest_before;
    } else {
        L->size = cp.size;
    }
    ov_logreader_cp_clear(&cp);
    return rc;
}

/* ---- appending ---------------------------------------------------------------------------- */

/* 0 when e encodes to the leaf hash h (deterministic CBOR: one encoding per entry). */
static int
same_entry(const struct ov_sortentry *e, const uint8_t h[32])
{
    struct ov_buf b;
    uint8_t got[32];
    int rc = ov_sortentry_encode(e, &b);
    rc = rc ? rc : ov_merkle_leaf_hash(b.ptr, b.len, got);
    ov_buf_clear(&b);
    return rc ? rc : (memcmp(got, h, 32) == 0 ? 0 : -OV_E_STATE);
}

int
sl_append(struct sl_log *L, const char *producer, const struct ov_sign_key *key,
          const struct ov_sortentry *e, uint64_t *index)
{
    struct ov_buf entry;
    struct ov_logclient *c = NULL;
    struct ov_log_ack ack;
    char why[512];
    memset(&ack, 0, sizeof ack);
    int rc = ov_sortentry_encode(e, &entry);
    rc = rc ? rc : ov_merkle_leaf_hash(entry.ptr, entry.len, L->want_hash);
    rc = rc ? rc : ov_logclient_new(L->cfg.url, producer, key, &c);
    if (rc != 0) {
        fprintf(stderr, PROG ": cannot make the entry or the log client: %s\n", ov_strerror(rc));
    } else if ((rc = ov_logclient_append(c, &(struct ov_bytes){ entry.ptr, entry.len }, 1, true,
                                         &ack)) != 0) {
        ov_logclient_explain(c, rc, &ack, why, sizeof why);
        fprintf(stderr, PROG ": the log refused the entry: %s%s\n", why,
                ack.status == 403 && strcmp(ack.reason, "unknown_producer") == 0
                    ? " (the log's --producers file must list this key: " PROG " key prints its line)"
                    : "");
    } else {
        /* the log's word is not enough: the entry must be in the verified tree */
        L->want_index = ack.indices[0] + 1;
        L->found = false;
        *index = ack.indices[0];
        bool known = ack.indices[0] < L->size; /* logged before: the log keeps one leaf */
        rc = known ? -OV_E_STATE : sl_sync(L);
        if (rc == 0 && !L->found) {
            fprintf(stderr, PROG ": the log acknowledged the entry at index %llu, but its "
                            "verified tree does not hold it there\n",
                    (unsigned long long)ack.indices[0]);
            rc = -OV_E_BAD_PROOF;
        } else if (known) {
            for (size_t i = 0; i < L->n_items && rc != 0; i++) {
                rc = L->items[i].index == ack.indices[0] ? same_entry(&L->items[i].e, L->want_hash)
                                                         : rc;
            }
            if (rc != 0) {
                fprintf(stderr, PROG ": the log acknowledged the entry at index %llu, which "
                                "holds another entry\n", (unsigned long long)ack.indices[0]);
            }
        }
        L->want_index = 0;
    }
    ov_log_ack_clear(&ack);
    ov_logclient_free(c);
    ov_buf_clear(&entry);
    return rc;
}

/* ---- what the entries say ------------------------------------------------------------------ */

struct sl_party *
sl_find(struct sl_view *v, const uint8_t key[OV_SIGN_PK_LEN])
{
    for (size_t i = 0; i < v->n_committed; i++) {
        if (memcmp(v->committed[i].key, key, OV_SIGN_PK_LEN) == 0) {
            return &v->committed[i];
        }
    }
    return NULL;
}

/* Appends to buf (a NUL-terminated string of len bytes at most), truncating. */
__attribute__((format(printf, 3, 4))) static void
say(char *buf, size_t len, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    if (n + 1 < len) {
        vsnprintf(buf + n, len - n, fmt, ap);
    }
    va_end(ap);
}

static void
view_commit(struct sl_view *v, const struct sl_item *it)
{
    const struct ov_sort_commit *c = &it->e.u.commit;
    if (ov_sort_commit_verify(c) != 0) {
        v->n_bad_sig++; /* anyone's bytes: only a valid signature names a party */
        return;
    }
    if (sl_find(v, c->party_key) != NULL || v->n_committed == SL_MAX_COMMITS) {
        v->n_repeated++; /* a party's first commitment is its commitment */
        return;
    }
    struct sl_party *p = &v->committed[v->n_committed++];
    memset(p, 0, sizeof *p);
    memcpy(p->key, c->party_key, OV_SIGN_PK_LEN);
    memcpy(p->commitment, c->commitment, 32);
    snprintf(p->label, sizeof p->label, "%s", c->party);
    p->commit_index = it->index;
}

static void
view_pool(struct sl_view *v, const struct sl_item *it)
{
    char b64[48];
    if (v->n_pools++ > 0) {
        return; /* the first pool entry of an id is the pool; later ones are void */
    }
    v->pool = &it->e.u.pool;
    v->pool_index = it->index;
    for (size_t i = 0; i < v->pool->n_parties; i++) {
        struct sl_party *p = sl_find(v, v->pool->parties[i]);
        v->at[i] = p ? (int)(p - v->committed) : -1;
        if (p == NULL) {
            say(v->void_why, sizeof v->void_why, "the pool entry (index %llu) names party %s, "
                "whose commitment is not logged before it\n", (unsigned long long)it->index,
                sl_key_b64(v->pool->parties[i], b64));
        } else if (p->early) {
            say(v->void_why, sizeof v->void_why, "party %s revealed its secret (index %llu) "
                "before the pool entry\n", p->label, (unsigned long long)p->early_index);
        }
    }
}

static void
view_reveal(struct sl_view *v, const struct sl_item *it, const char *id)
{
    const struct ov_sort_reveal *r = &it->e.u.reveal;
    struct sl_party *p = sl_find(v, r->party_key);
    uint8_t c[32];
    if (p == NULL || v->draw != NULL) {
        return; /* no commitment, or after the draw: nothing it could change */
    }
    if (ov_sort_commitment(id, r->reveal, c) != 0 || sodium_memcmp(c, p->commitment, 32) != 0) {
        p->bad = true; /* anyone may log bytes under a party's key: they do not count */
        p->bad_index = it->index;
    } else if (v->pool == NULL) {
        p->early_index = p->early ? p->early_index : it->index;
        p->early = true;
    } else if (r->time >= v->pool->reveal_by || it->before >= v->pool->reveal_by) {
        p->late = true;
        p->late_index = it->index;
    } else if (!p->revealed) {
        p->revealed = true;
        p->reveal_index = it->index;
        memcpy(p->secret, r->reveal, OV_SORT_SECRET_LEN);
    }
}

void
sl_view(const struct sl_log *L, struct sl_view *v)
{
    memset(v, 0, sizeof *v);
    v->latest = L->latest;
    for (size_t i = 0; i < L->n_items; i++) {
        const struct sl_item *it = &L->items[i];
        switch (it->e.kind) {
        case OV_SORTENTRY_COMMIT:
            view_commit(v, it);
            break;
        case OV_SORTENTRY_POOL:
            view_pool(v, it);
            break;
        case OV_SORTENTRY_REVEAL:
            view_reveal(v, it, L->id);
            break;
        case OV_SORTENTRY_DRAW:
            if (v->n_draws++ == 0) {
                v->draw = &it->e.u.draw;
                v->draw_index = it->index;
            }
            break;
        }
    }
    if (v->n_pools > 1) {
        say(v->void_why, sizeof v->void_why, "%zu pool entries name this id (one draw id, one "
            "pool)\n", v->n_pools);
    }
}

const char *
sl_pool_differs(const struct ov_sort_poolentry *e, const struct ov_pool_file *p)
{
    if (memcmp(e->pool, p->sha256, 32) != 0) {
        return "the logged pool is another file (SHA-256 of the pool file)";
    }
    if (e->members != p->pool.n_members || e->panel != p->panel || e->reserves != p->reserves ||
        e->max_attempts != p->max_attempts) {
        return "the logged pool entry's members, panel, reserves or max_attempts are not the "
               "pool file's";
    }
    return NULL;
}


int
sl_seed(const struct sl_view *v, uint64_t now_s, uint8_t seed[OV_SORT_SEED_LEN], char *why,
        size_t why_len)
{
    uint8_t secrets[OV_SORT_MAX_PARTIES][OV_SORT_SECRET_LEN];
    why[0] = 0;
    if (v->pool == NULL) {
        say(why, why_len, "no pool entry for this id in the log\n");
        return 1;
    }
    if (v->void_why[0] != 0) {
        say(why, why_len, "%s", v->void_why);
        return 1;
    }
    bool past = now_s >= v->pool->reveal_by || v->latest >= v->pool->reveal_by;
    for (size_t i = 0; i < v->pool->n_parties; i++) {
        const struct sl_party *p = &v->committed[v->at[i]];
        if (p->revealed) {
            memcpy(secrets[i], p->secret, OV_SORT_SECRET_LEN);
            continue;
        }
        say(why, why_len, "party %s: ", p->label);
        if (p->bad) {
            say(why, why_len, "its reveal at index %llu does not match its commitment; ",
                (unsigned long long)p->bad_index);
        }
        if (p->late) {
            say(why, why_len, "its reveal at index %llu came after reveal_by; ",
                (unsigned long long)p->late_index);
        }
        say(why, why_len, "no matching reveal %s reveal_by (%llu)\n", past ? "by" : "yet, before",
            (unsigned long long)v->pool->reveal_by);
    }
    if (why[0] != 0) {
        say(why, why_len, "%s\n", past ? "the draw is void: a party's reveal is missing after "
                                         "reveal_by; a new draw needs a new id and new commitments"
                                       : "waiting for the reveals");
        sodium_memzero(secrets, sizeof secrets);
        return 1;
    }
    int rc = ov_sort_seed(v->pool->pool, (const uint8_t(*)[OV_SORT_SECRET_LEN])secrets,
                          v->pool->n_parties, seed);
    sodium_memzero(secrets, sizeof secrets);
    return rc == 0 ? 0 : 1;
}
