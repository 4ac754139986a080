#include "contexts.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "primitives/cbor.h"
#include "base/codec.h"
#include "protocol/issuerapi.h"

struct issuer_contexts {
    pthread_rwlock_t lock;
    size_t n, cap;
    struct issuer_ctx **v;
};

int
issuer_contexts_new(struct issuer_contexts **out)
{
    struct issuer_contexts *cs = calloc(1, sizeof *cs);
    *out = NULL;
    if (cs == NULL || pthread_rwlock_init(&cs->lock, NULL) != 0) {
        free(cs);
        return -OV_E_NOMEM;
    }
    *out = cs;
    return 0;
}

void
issuer_contexts_free(struct issuer_contexts *cs)
{
    if (cs == NULL) {
        return;
    }
    for (size_t i = 0; i < cs->n; i++) {
        ov_brsa_sk_free(cs->v[i]->sk);
        free(cs->v[i]);
    }
    free(cs->v);
    pthread_rwlock_destroy(&cs->lock);
    free(cs);
}

static const struct issuer_ctx *
find_locked(struct issuer_contexts *cs, const char *id)
{
    for (size_t i = 0; i < cs->n; i++) {
        if (strcmp(cs->v[i]->def.id, id) == 0) {
            return cs->v[i];
        }
    }
    return NULL;
}

const struct issuer_ctx *
issuer_contexts_find(struct issuer_contexts *cs, const char *id)
{
    pthread_rwlock_rdlock(&cs->lock);
    const struct issuer_ctx *c = find_locked(cs, id);
    pthread_rwlock_unlock(&cs->lock);
    return c;
}

/* One row of ctx_logged into a new issuer_ctx. */
static int
from_row(sqlite3_stmt *st, struct issuer_ctx **out)
{
    struct ov_bytes entry, sk;
    struct ov_entry e;
    struct issuer_ctx *c = calloc(1, sizeof *c);
    *out = NULL;
    int rc = c ? 0 : -OV_E_NOMEM;
    rc = rc ? rc : ov_db_col_blob(st, 1, OV_MAX_ENTRY_LEN, &entry);
    rc = rc ? rc : ov_db_col_blob(st, 2, OV_BRSA_MAX_SK_DER_LEN, &sk);
    rc = rc ? rc : ov_db_col_uint64(st, 3, &c->log_index);
    rc = rc ? rc : ov_entry_decode(entry, &e);
    if (rc == 0 && e.kind != OV_ENTRY_CONTEXT) {
        ov_entry_clear(&e);
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0) {
        c->def = e.u.context;
        rc = ov_brsa_sk_load(sk, &c->sk);
    }
    if (rc != 0) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int
issuer_contexts_load(struct issuer_contexts *cs, struct ov_db *db)
{
    sqlite3_stmt *st = ov_db_stmt(db, "ctx_logged");
    int rc;
    while ((rc = ov_db_step(st)) == OV_DB_ROW) {
        struct ov_bytes id;
        char sid[OV_MAX_CONTEXT_ID_LEN + 1];
        rc = ov_db_col_text(st, 0, OV_MAX_CONTEXT_ID_LEN, &id);
        if (rc != 0) {
            break;
        }
        memcpy(sid, id.ptr, id.len);
        sid[id.len] = 0;
        if (issuer_contexts_find(cs, sid) != NULL) {
            continue;
        }
        struct issuer_ctx *c = NULL;
        rc = from_row(st, &c);
        if (rc != 0) {
            break;
        }
        pthread_rwlock_wrlock(&cs->lock);
        if (cs->n == cs->cap) {
            size_t cap = cs->cap ? 2 * cs->cap : 16;
            struct issuer_ctx **v = realloc(cs->v, cap * sizeof *v);
            if (v == NULL) {
                pthread_rwlock_unlock(&cs->lock);
                ov_brsa_sk_free(c->sk);
                free(c);
                rc = -OV_E_NOMEM;
                break;
            }
            cs->v = v;
            cs->cap = cap;
        }
        cs->v[cs->n++] = c;
        pthread_rwlock_unlock(&cs->lock);
    }
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

const struct issuer_ctx *
issuer_contexts_by_key(struct issuer_contexts *cs, uint8_t truncated, uint64_t now_s,
                       bool *closed)
{
    const struct issuer_ctx *found = NULL, *old = NULL;
    *closed = false;
    pthread_rwlock_rdlock(&cs->lock);
    for (size_t i = 0; i < cs->n && found == NULL; i++) {
        const struct issuer_ctx *c = cs->v[i];
        if (c->def.token_key_id[OV_PP_NID - 1] != truncated) {
            continue;
        }
        if (now_s < c->def.closes) {
            found = c;
        } else {
            old = c;
        }
    }
    pthread_rwlock_unlock(&cs->lock);
    if (found == NULL && old != NULL) {
        *closed = true;
        return old;
    }
    return found;
}

int
issuer_ctx_json(const struct issuer_ctx *c, uint64_t now_s, struct ov_buf *out)
{
    struct ov_issuer_context ic;
    ic.def = c->def;
    ic.log_index = c->log_index;
    ic.open = c->def.opens <= now_s && now_s < c->def.closes;
    return ov_issuer_context_json(&ic, out);
}

int
issuer_contexts_list(struct issuer_contexts *cs, uint64_t now_s, struct ov_buf *out)
{
    int rc = ov_buf_append_str(out, "[");
    pthread_rwlock_rdlock(&cs->lock);
    for (size_t i = 0; i < cs->n && i < OV_ISSUER_MAX_CONTEXTS && rc == 0; i++) {
        rc = i ? ov_buf_append_str(out, ",") : 0;
        rc = rc ? rc : issuer_ctx_json(cs->v[i], now_s, out);
    }
    pthread_rwlock_unlock(&cs->lock);
    return rc ? rc : ov_buf_append_str(out, "]");
}

int
issuer_contexts_directory(struct issuer_contexts *cs, uint64_t now_s, struct ov_buf *out)
{
    json_t *keys = json_array();
    int rc = keys ? 0 : -OV_E_NOMEM;
    pthread_rwlock_rdlock(&cs->lock);
    for (size_t i = 0; i < cs->n && rc == 0; i++) {
        const struct ov_context *d = &cs->v[i]->def;
        char b64[OV_MAX_TOKEN_KEY_LEN * 2];
        if (!(d->opens <= now_s && now_s < d->closes)) {
            continue;
        }
        /* RFC 9578 §4: base64url with padding */
        rc = ov_b64_encode(b64, sizeof b64, d->token_key, d->token_key_len, OV_B64_URL);
        if (rc == 0 && json_array_append_new(keys, json_pack("{sisssI}", "token-type",
                                                             OV_PP_TOKEN_TYPE, "token-key", b64,
                                                             "not-before",
                                                             (json_int_t)d->opens)) != 0) {
            rc = -OV_E_NOMEM;
        }
    }
    pthread_rwlock_unlock(&cs->lock);
    json_t *o = rc == 0 ? json_pack("{ssso}", "issuer-request-uri", "/token-request",
                                    "token-keys", keys)
                        : NULL;
    if (o == NULL) {
        json_decref(keys);
        return rc ? rc : -OV_E_NOMEM;
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    rc = s ? ov_buf_append_str(out, s) : -OV_E_NOMEM;
    free(s);
    return rc;
}
