/* h_proof: GET /proof/inclusion and GET /proof/consistency, and the inclusion proof /add uses. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "handlers.h"
#include "primitives/tiles.h"
#include "store.h"

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

int
tlog_inclusion_proof(struct tlog_app *app, uint64_t index, uint64_t size, json_t **out)
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

/* A strict u64 query argument. */
static int
query_u64(struct ov_req *rq, const char *key, uint64_t *v)
{
    const char *s = NULL;
    int rc = ov_req_query(rq, key, &s);
    return rc != 0 ? rc : ov_parse_u64(s, strlen(s), v);
}

int
tlog_h_inclusion(struct ov_req *rq)
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
    rc = tlog_inclusion_proof(app, index, size, &proof);
    if (rc != 0) {
        return rc;
    }
    return ov_http_reply_json(rq, 200, json_pack("{sIsIso}", "index", (json_int_t)index, "size",
                                                 (json_int_t)size, "proof", proof));
}

int
tlog_h_consistency(struct ov_req *rq)
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
