/* routes: the log's HTTP API (docs/PROTOCOL.md §4).
 *   POST /add                          append entries (producers only, signed)
 *   GET  /checkpoint                   the latest published checkpoint (C2SP tlog-checkpoint)
 *   GET  /tile/<L>/<N>[.p/<W>]         hash tiles (C2SP tlog-tiles)
 *   GET  /tile/entries/<N>[.p/<W>]     entry bundles
 *   GET  /proof/inclusion?index=I&size=S  or  ?hash=<base64url leaf hash>&size=S
 *   GET  /proof/consistency?old=M&size=N
 *   GET  /vkey                         the log's verifier key */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/codec.h"
#include "protocol/entry.h"
#include "protocol/logack.h"
#include "protocol/logreq.h"
#include "store.h"
#include "primitives/tiles.h"

#define TLOG_APPEND_WAIT_MS 30000

int
tlog_app_init(struct tlog_app *app)
{
    int rc = tlog_cache_new(&app->cache);
    rc = rc ? rc : ov_db_per_thread_init(&app->dbs, app->dir, tlog_store_open);
    return rc;
}

/* Shared by the proof handlers: an inclusion or consistency proof as a JSON array. */
static json_t *
proof_json(const uint8_t *proof, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        char b64[64];
        if (ov_b64_encode(b64, sizeof b64, proof + i * OV_HASH_LEN, OV_HASH_LEN, OV_B64_STD) != 0 ||
            json_array_append_new(a, json_string(b64)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static int
inclusion_proof(struct tlog_app *app, uint64_t index, uint64_t size, json_t **out)
{
    uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
    size_t n = 0;
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    struct ov_tile_src *src = malloc(sizeof *src);
    int rc = (db && src) ? 0 : -OV_E_NOMEM;
    if (rc == 0) {
        ov_tile_src_init(src, size, tlog_store_tile_reader, db);
        struct ov_merkle_src m = ov_tile_src_merkle(src);
        rc = ov_merkle_inclusion_proof(&m, index, size, proof, OV_MERKLE_MAX_PROOF, &n);
    }
    free(src);
    *out = rc == 0 ? proof_json(proof, n) : NULL;
    return rc == 0 && *out == NULL ? -OV_E_NOMEM : rc;
}

/* ---- POST /add -------------------------------------------------------------------- */

static void
free_ticket(void *t)
{
    tlog_ticket_release(t);
}

/* Before any body is read: only a known producer that signs may upload one. */
int
tlog_precheck(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    if (strcmp(ov_req_path(rq), "/add") != 0) {
        return 0;
    }
    const char *name = ov_req_header(rq, OV_LOG_PRODUCER_HEADER);
    uint8_t pk[OV_SIGN_PK_LEN];
    if (name == NULL || tlog_producers_key(app->producers, OV_BYTES(name, strlen(name)), pk) != 0) {
        return ov_http_error(rq, 403, "unknown_producer", "name a producer the log knows");
    }
    if (ov_req_header(rq, OV_LOG_SIG_HEADER) == NULL) {
        return ov_http_error(rq, 403, "bad_signature", "the request is not signed");
    }
    return 0;
}

/* First call: authenticate, validate, queue the batch. */
static int
add_submit(struct ov_req *rq, struct tlog_app *app)
{
    struct ov_bytes body = ov_req_body(rq);
    struct ov_logreq *req = malloc(sizeof *req);
    struct tlog_ticket *t = NULL;
    uint8_t pk[OV_SIGN_PK_LEN];
    uint64_t now = ov_now_ms();
    if (req == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = ov_logreq_parse(body, req);
    const char *reason = "malformed_request";
    unsigned status = 400;
    const char *hdr = ov_req_header(rq, OV_LOG_PRODUCER_HEADER);
    if (rc == 0 && (hdr == NULL || strlen(hdr) != req->producer.len ||
                    memcmp(hdr, req->producer.ptr, req->producer.len) != 0)) {
        rc = -OV_E_MALFORMED; /* the header must name the producer the body names */
    }
    if (rc == 0) {
        rc = tlog_producers_key(app->producers, req->producer, pk);
        reason = "unknown_producer";
        status = 403;
    }
    if (rc == 0) {
        rc = ov_logreq_verify(pk, body, ov_req_header(rq, OV_LOG_SIG_HEADER));
        reason = "bad_signature";
    }
    if (rc == 0 && (req->time_ms + OV_LOG_APPEND_WINDOW_MS < now ||
                    req->time_ms > now + OV_LOG_APPEND_WINDOW_MS)) {
        rc = -OV_E_RANGE;
        reason = "stale_request";
    }
    for (size_t i = 0; rc == 0 && !app->opaque_entries && i < req->n; i++) {
        rc = ov_entry_check_shape(req->entries[i]);
        reason = "bad_entry";
        status = 400;
    }
    if (rc == 0) {
        rc = tlog_producers_use_nonce(app->producers, req->nonce,
                                      now + 2 * OV_LOG_APPEND_WINDOW_MS, now);
        reason = "replayed_request";
        status = 409;
    }
    if (rc == 0) {
        rc = tlog_ticket_new(req->entries, req->n, req->nonce, now + 2 * OV_LOG_APPEND_WINDOW_MS,
                             &t);
        reason = NULL;
    }
    if (rc == 0) {
        rc = tlog_seq_submit(app->seq, t);
        if (rc != 0) {
            tlog_producers_forget_nonce(app->producers, t->nonce);
            reason = "shutting_down";
            status = 503;
        }
    }
    bool wait_cp = req->wait_checkpoint;
    ov_logreq_clear(req);
    free(req);
    if (rc != 0) {
        tlog_ticket_release(t);
        ov_counter_add(app->refused, 1);
        return reason ? ov_http_error(rq, status, reason, ov_strerror(rc)) : rc;
    }
    t->wait_checkpoint = wait_cp;
    ov_req_set_state(rq, t, free_ticket);
    return ov_http_wait_on(rq, TLOG_EVENT_COMMIT, TLOG_APPEND_WAIT_MS);
}

static int
add_reply(struct ov_req *rq, struct tlog_app *app, struct tlog_ticket *t)
{
    struct ov_buf note;
    uint64_t cp_size = 0;
    int rc = 0;
    if (!t->wait_checkpoint) {
        struct ov_buf body;
        rc = ov_log_ack_write(t->size, t->indices, (const uint8_t *)t->hashes, t->n,
                              &body);
        if (rc == 0) {
            ov_counter_add(app->appended, t->n);
            rc = ov_http_reply(rq, 200, "application/json", ov_buf_view(&body));
        }
        ov_buf_clear(&body);
        return rc;
    }
    uint64_t need = 0; /* the checkpoint must cover every entry */
    for (size_t i = 0; i < t->n; i++) {
        need = t->indices[i] + 1 > need ? t->indices[i] + 1 : need;
    }
    ov_buf_init(&note, 0);
    rc = tlog_seq_published(app->seq, &note, &cp_size);
    if (rc == 0 && cp_size < need) {
        ov_buf_clear(&note);
        if (ov_req_wait_expired(rq)) {
            return ov_http_error(rq, 503, "checkpoint_pending",
                                 "entries are durable; no checkpoint covers them yet");
        }
        return ov_http_wait_on(rq, TLOG_EVENT_CHECKPOINT, TLOG_APPEND_WAIT_MS);
    }
    json_t *entries = json_array(), *proofs = json_array();
    json_t *res = json_object();
    rc = rc == 0 && entries && res && proofs ? 0 : -OV_E_NOMEM;
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        char b64[64];
        rc = ov_b64_encode(b64, sizeof b64, t->hashes[i], OV_HASH_LEN, OV_B64_STD);
        if (rc == 0) {
            rc = json_array_append_new(entries, json_pack("{sIss}", "index",
                                                          (json_int_t)t->indices[i], "hash",
                                                          b64)) == 0 ? 0 : -OV_E_NOMEM;
        }
        if (rc == 0) {
            json_t *p = NULL;
            rc = inclusion_proof(app, t->indices[i], cp_size, &p);
            if (rc == 0) {
                rc = json_array_append_new(proofs, p) == 0 ? 0 : -OV_E_NOMEM;
            }
        }
    }
    if (rc == 0) {
        json_object_set_new(res, "size", json_integer((json_int_t)t->size));
        json_object_set(res, "entries", entries);
        json_object_set_new(res, "checkpoint", json_stringn((const char *)note.ptr, note.len));
        json_object_set_new(res, "checkpoint_size", json_integer((json_int_t)cp_size));
        json_object_set(res, "proofs", proofs);
    }
    json_decref(entries);
    json_decref(proofs);
    ov_buf_clear(&note);
    if (rc != 0) {
        json_decref(res);
        return rc;
    }
    ov_counter_add(app->appended, t->n);
    return ov_http_reply_json(rq, 200, res);
}

static int
h_add(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    struct tlog_ticket *t = ov_req_state(rq);
    if (t == NULL) {
        return add_submit(rq, app);
    }
    if (!atomic_load(&t->done)) {
        if (ov_req_wait_expired(rq)) {
            return ov_http_error(rq, 503, "append_pending", "the batch is not durable yet");
        }
        return ov_http_wait_on(rq, TLOG_EVENT_COMMIT, TLOG_APPEND_WAIT_MS);
    }
    if (t->err != 0) {
        /* nothing was stored: the producer may send the very same request again */
        tlog_producers_forget_nonce(app->producers, t->nonce);
        return ov_http_error(rq, 503, "append_failed", ov_strerror(t->err));
    }
    return add_reply(rq, app, t);
}

/* ---- reads ------------------------------------------------------------------------ */

static int
h_checkpoint(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    struct ov_buf note;
    uint64_t size;
    int rc = tlog_seq_published(app->seq, &note, &size);
    if (rc != 0) {
        return rc;
    }
    rc = ov_http_header(rq, "Cache-Control", "no-cache, max-age=0");
    if (rc == 0) {
        rc = ov_http_reply(rq, 200, "text/plain; charset=utf-8", ov_buf_view(&note));
    }
    ov_buf_clear(&note);
    return rc;
}

/* The last leaf index a tile covers, plus one: it must not pass the published size. */
static int
tile_within(const struct ov_tile *t, uint64_t size)
{
    int level = t->level < 0 ? 0 : t->level;
    uint64_t n_full;
    unsigned partial;
    ov_tile_level_shape(size, level, &n_full, &partial);
    if (t->n < n_full) {
        return t->width == OV_TILE_WIDTH;
    }
    return t->n == n_full && t->width <= partial && t->width < OV_TILE_WIDTH;
}

static int
h_tile(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    char path[OV_MAX_TILE_PATH_LEN + 8];
    const char *rest = ov_req_rest(rq);
    struct ov_tile t;
    int n = snprintf(path, sizeof path, "tile/%s", rest ? rest : "");
    if (n < 0 || (size_t)n >= sizeof path ||
        ov_tile_parse_path(path, (size_t)n, &t) != 0) {
        return ov_http_error(rq, 404, "not_a_tile", "no such tile path");
    }
    if (!tile_within(&t, tlog_seq_published_size(app->seq))) {
        return ov_http_error(rq, 404, "not_found", "the published tree has no such tile");
    }
    struct ov_buf data;
    ov_buf_init(&data, OV_MAX_BUNDLE_LEN);
    int rc = 0;
    if (!tlog_cache_get(app->cache, &t, &data)) {
        struct ov_db *db = ov_db_per_thread_get(&app->dbs);
        rc = db ? tlog_store_read_tile(db, &t, &data) : -OV_E_NOMEM;
        if (rc == 0) {
            tlog_cache_put(app->cache, &t, ov_buf_view(&data));
        }
    }
    if (rc == 0) {
        rc = ov_http_header(rq, "Cache-Control", "public, max-age=31536000, immutable");
    }
    if (rc == 0) {
        rc = ov_http_reply(rq, 200, "application/octet-stream", ov_buf_view(&data));
    }
    ov_buf_clear(&data);
    return rc;
}

/* A strict u64 query argument. */
static int
query_u64(struct ov_req *rq, const char *key, uint64_t *v)
{
    const char *s = NULL;
    int rc = ov_req_query(rq, key, &s);
    return rc != 0 ? rc : ov_parse_u64(s, strlen(s), v);
}

static int
h_inclusion(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    uint64_t index = 0, size = 0;
    const char *hash_b64 = NULL;
    int rc = query_u64(rq, "size", &size);
    if (rc == 0 && ov_req_query(rq, "hash", &hash_b64) == 0) {
        uint8_t h[OV_HASH_LEN];
        size_t n = 0;
        struct ov_db *db = ov_db_per_thread_get(&app->dbs);
        rc = ov_b64_decode(h, sizeof h, &n, hash_b64, strlen(hash_b64), OV_B64_URL_NOPAD);
        if (rc == 0 && n != OV_HASH_LEN) {
            rc = -OV_E_MALFORMED;
        }
        if (rc == 0) {
            rc = db ? tlog_seq_find(app->seq, db, h, &index) : -OV_E_NOMEM;
        }
    } else if (rc == 0) {
        rc = query_u64(rq, "index", &index);
    }
    if (rc != 0) {
        return ov_http_error(rq, rc == -OV_E_NOT_FOUND ? 404 : 400,
                             rc == -OV_E_NOT_FOUND ? "not_found" : "bad_query", ov_strerror(rc));
    }
    if (size > tlog_seq_published_size(app->seq) || index >= size) {
        return ov_http_error(rq, 400, "bad_size", "index must be below size, size published");
    }
    json_t *proof = NULL;
    rc = inclusion_proof(app, index, size, &proof);
    if (rc != 0) {
        return rc;
    }
    return ov_http_reply_json(rq, 200, json_pack("{sIsIso}", "index", (json_int_t)index, "size",
                                                 (json_int_t)size, "proof", proof));
}

static int
h_consistency(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    uint64_t old = 0, size = 0;
    int rc = query_u64(rq, "old", &old);
    if (rc == 0) {
        rc = query_u64(rq, "size", &size);
    }
    if (rc != 0) {
        return ov_http_error(rq, 400, "bad_query", ov_strerror(rc));
    }
    if (old == 0 || old > size || size > tlog_seq_published_size(app->seq)) {
        return ov_http_error(rq, 400, "bad_size", "need 0 < old <= size <= published size");
    }
    uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
    size_t n = 0;
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    struct ov_tile_src *src = malloc(sizeof *src);
    rc = (db && src) ? 0 : -OV_E_NOMEM;
    if (rc == 0) {
        ov_tile_src_init(src, size, tlog_store_tile_reader, db);
        struct ov_merkle_src m = ov_tile_src_merkle(src);
        rc = ov_merkle_consistency_proof(&m, old, size, proof, OV_MERKLE_MAX_PROOF, &n);
    }
    free(src);
    if (rc != 0) {
        return rc;
    }
    return ov_http_reply_json(rq, 200, json_pack("{sIsIso*}", "old", (json_int_t)old, "size",
                                                 (json_int_t)size, "proof", proof_json(proof, n)));
}

static int
h_vkey(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    return ov_http_reply(rq, 200, "text/plain; charset=utf-8",
                         OV_BYTES(app->vkey, strlen(app->vkey)));
}

const struct ov_http_route tlog_routes[] = {
    { "POST", "/add", h_add, OV_LOG_MAX_REQUEST_LEN },
    { "GET", "/checkpoint", h_checkpoint, 0 },
    { "GET", "/tile/*", h_tile, 0 },
    { "GET", "/proof/inclusion", h_inclusion, 0 },
    { "GET", "/proof/consistency", h_consistency, 0 },
    { "GET", "/vkey", h_vkey, 0 },
};
const size_t tlog_n_routes = sizeof tlog_routes / sizeof tlog_routes[0];
