/* Fuzz target: the log's append request parser (core/protocol/logreq) and the entry shape check
 * (ov_entry_check_shape), both of which read checked bytes in place (core/primitives/cbor views).
 * Each is compared with a reference written on the libcbor tree API, which decodes and
 * re-encodes: both must give the same result, and on success the same fields. Whatever
 * parses must be re-encodable to the very same bytes, and every view must lie inside the
 * input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "primitives/cbor.h"
#include "protocol/entry.h"
#include "protocol/logreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = { "entries", "nonce", "producer", "time", "wait" };

/* The request parser as it was on the tree API. */
static int
parse_tree(struct ov_bytes body, struct ov_logreq *req, cbor_item_t **tree)
{
    const cbor_item_t *arr = NULL;
    struct ov_bytes wait;
    size_t n = 0;
    req->n = 0;
    *tree = NULL;
    if (body.len > OV_LOG_MAX_REQUEST_LEN) {
        return -OV_E_TOO_BIG;
    }
    int rc = ov_cbor_decode_limits(body, &ov_logreq_limits, tree);
    if (rc == 0 && !cbor_isa_map(*tree)) {
        rc = -OV_E_MALFORMED;
    }
    rc = rc ? rc : ov_cbor_only_keys(*tree, keys, sizeof keys / sizeof keys[0]);
    rc = rc ? rc : ov_cbor_get_array(*tree, "entries", OV_LOG_MAX_BATCH, &arr, &n);
    if (rc == 0 && n == 0) {
        rc = -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = ov_cbor_as_bytes(ov_cbor_at(arr, i), 1, OV_MAX_ENTRY_LEN, &req->entries[i]);
    }
    rc = rc ? rc : ov_cbor_get_fixed(*tree, "nonce", req->nonce, OV_LOG_NONCE_LEN);
    rc = rc ? rc : ov_cbor_get_text(*tree, "producer", 64, &req->producer);
    rc = rc ? rc : ov_cbor_get_uint(*tree, "time", UINT64_MAX, &req->time_ms);
    rc = rc ? rc : ov_cbor_get_text(*tree, "wait", 16, &wait);
    if (rc == 0) {
        req->wait_checkpoint = ov_cbor_text_eq(wait, "checkpoint");
        if (!req->wait_checkpoint && !ov_cbor_text_eq(wait, "durable")) {
            rc = -OV_E_MALFORMED;
        }
    }
    req->n = rc == 0 ? n : 0;
    return rc;
}

/* The log's entry check as it was on the tree API. */
static int
shape_tree(struct ov_bytes e)
{
    cbor_item_t *m = NULL;
    struct ov_bytes kind;
    int rc = ov_cbor_decode_map(e, &m);
    rc = rc ? rc : ov_cbor_get_text(m, "kind", 32, &kind);
    ov_cbor_free(m);
    return rc;
}

static bool
same_bytes(struct ov_bytes a, struct ov_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool
inside(struct ov_bytes v, const uint8_t *data, size_t size)
{
    return v.len == 0 || (v.ptr >= data && v.ptr + v.len <= data + size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ov_logreq req, ref;
    struct ov_bytes in = OV_BYTES(data, size);
    cbor_item_t *tree = NULL;
    int rc = ov_logreq_parse(in, &req), rc_ref = parse_tree(in, &ref, &tree);
    if (rc != rc_ref) {
        abort();
    }
    if (rc == 0) {
        struct ov_buf again;
        ov_buf_init(&again, OV_LOG_MAX_REQUEST_LEN);
        if (req.n == 0 || req.n > OV_LOG_MAX_BATCH || req.n != ref.n ||
            ov_cbor_encode_limits(tree, &ov_logreq_limits, &again) != 0 || again.len != size ||
            memcmp(again.ptr, data, size) != 0 || memcmp(req.nonce, ref.nonce, sizeof req.nonce) ||
            req.time_ms != ref.time_ms || req.wait_checkpoint != ref.wait_checkpoint ||
            !same_bytes(req.producer, ref.producer) || !inside(req.producer, data, size)) {
            abort();
        }
        for (size_t i = 0; i < req.n; i++) {
            if (req.entries[i].len == 0 || req.entries[i].len > OV_MAX_ENTRY_LEN ||
                !same_bytes(req.entries[i], ref.entries[i]) ||
                !inside(req.entries[i], data, size) ||
                ov_entry_check_shape(req.entries[i]) != shape_tree(req.entries[i])) {
                abort();
            }
        }
        ov_buf_clear(&again);
    }
    if (ov_entry_check_shape(in) != shape_tree(in)) {
        abort();
    }
    ov_cbor_free(tree);
    ov_logreq_clear(&req);
    ov_logreq_clear(&ref);
    return 0;
}
