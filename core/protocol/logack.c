#include "protocol/logack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/codec.h"
#include "primitives/json.h"

#define ACK_MAX_LEN (64u << 20) /* far above 4096 entries with their proofs */
#define HASH_B64_LEN 44         /* padded base64 of 32 bytes */

void
ov_log_ack_clear(struct ov_log_ack *ack)
{
    free(ack->indices);
    free(ack->hashes);
    free(ack->proofs);
    free(ack->n_proof);
    ov_buf_clear(&ack->checkpoint);
    memset(ack, 0, sizeof *ack);
}

int
ov_log_ack_write(uint64_t size, const uint64_t *indices, const uint8_t *hashes,
                 size_t n, struct ov_buf *out)
{
    ov_buf_init(out, ACK_MAX_LEN);
    /* each entry: {"index":<20 digits>,"hash":"<44>"}, and a comma */
    int rc = ov_buf_reserve(out, 64 + n * (sizeof "{\"index\":,\"hash\":\"\"}," + 20 + HASH_B64_LEN));
    rc = rc ? rc : ov_buf_printf(out, "{\"size\":%llu,\"entries\":[", (unsigned long long)size);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char b64[HASH_B64_LEN + 1];
        rc = ov_b64_encode(b64, sizeof b64, hashes + i * OV_HASH_LEN, OV_HASH_LEN, OV_B64_STD);
        rc = rc ? rc
                : ov_buf_printf(out, "%s{\"index\":%llu,\"hash\":\"%s\"}", i ? "," : "",
                                (unsigned long long)indices[i], b64);
    }
    rc = rc ? rc : ov_buf_append_str(out, "]}");
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

/* ---- both readers: the same checks on what they found ------------------------------- */

static int
ack_alloc(struct ov_log_ack *ack, size_t n)
{
    ack->n = n;
    ack->indices = calloc(n ? n : 1, sizeof *ack->indices);
    ack->hashes = calloc(n ? n : 1, sizeof *ack->hashes);
    return ack->indices != NULL && ack->hashes != NULL ? 0 : -OV_E_NOMEM;
}

/* Entry i of the answer: its index, and its hash in base64, which must be want's. */
static int
ack_entry(struct ov_log_ack *ack, size_t i, uint64_t index, const char *b64, size_t b64_len,
          const uint8_t want[OV_HASH_LEN])
{
    size_t got = 0;
    if (ov_b64_decode(ack->hashes[i], OV_HASH_LEN, &got, b64, b64_len, OV_B64_STD) != 0 ||
        got != OV_HASH_LEN || memcmp(ack->hashes[i], want, OV_HASH_LEN) != 0) {
        return -OV_E_MALFORMED;
    }
    ack->indices[i] = index;
    return 0;
}

/* ---- the reference: jansson ---------------------------------------------------------- */

static bool
json_uint(json_t *j, uint64_t *out)
{
    if (!json_is_integer(j) || json_integer_value(j) < 0) {
        return false;
    }
    *out = (uint64_t)json_integer_value(j);
    return true;
}

static int
tree_proofs(json_t *root, size_t n, struct ov_log_ack *ack)
{
    const char *cp = json_string_value(json_object_get(root, "checkpoint"));
    json_t *proofs = json_object_get(root, "proofs");
    if (cp == NULL || !json_uint(json_object_get(root, "checkpoint_size"), &ack->checkpoint_size) ||
        !json_is_array(proofs) || json_array_size(proofs) != n) {
        return -OV_E_MALFORMED;
    }
    ov_buf_init(&ack->checkpoint, 1 << 16);
    int rc = ov_buf_append_str(&ack->checkpoint, cp);
    ack->n_proof = calloc(n ? n : 1, sizeof *ack->n_proof);
    ack->proofs = calloc(n ? n * OV_MERKLE_MAX_PROOF : 1, OV_HASH_LEN);
    if (rc == 0 && (ack->n_proof == NULL || ack->proofs == NULL)) {
        rc = -OV_E_NOMEM;
    }
    size_t off = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *p = json_array_get(proofs, i);
        size_t k = json_array_size(p);
        if (!json_is_array(p) || k > OV_MERKLE_MAX_PROOF) {
            return -OV_E_MALFORMED;
        }
        for (size_t j = 0; j < k && rc == 0; j++) {
            const char *s = json_string_value(json_array_get(p, j));
            size_t got = 0;
            if (s == NULL ||
                ov_b64_decode(ack->proofs + (off + j) * OV_HASH_LEN, OV_HASH_LEN, &got, s,
                              strlen(s), OV_B64_STD) != 0 ||
                got != OV_HASH_LEN) {
                rc = -OV_E_MALFORMED;
            }
        }
        ack->n_proof[i] = k;
        off += k;
    }
    return rc;
}

static int
tree_ack(json_t *root, const uint8_t *want, size_t n, bool wait_checkpoint,
         struct ov_log_ack *ack)
{
    json_t *arr = json_object_get(root, "entries");
    if (!json_is_array(arr) || json_array_size(arr) != n ||
        !json_uint(json_object_get(root, "size"), &ack->size)) {
        return -OV_E_MALFORMED;
    }
    int rc = ack_alloc(ack, n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *e = json_array_get(arr, i), *h = json_object_get(e, "hash");
        uint64_t index;
        const char *s = json_string_value(h);
        rc = s != NULL && json_uint(json_object_get(e, "index"), &index)
                 ? ack_entry(ack, i, index, s, json_string_length(h), want + i * OV_HASH_LEN)
                 : -OV_E_MALFORMED;
    }
    return rc == 0 && wait_checkpoint ? tree_proofs(root, n, ack) : rc;
}

int
ov_log_ack_parse_tree(struct ov_bytes body, const uint8_t *want, size_t n,
                      bool wait_checkpoint, struct ov_log_ack *ack)
{
    json_error_t e;
    memset(ack, 0, sizeof *ack);
    json_t *root = json_loadb((const char *)body.ptr, body.len, 0, &e);
    int rc = root != NULL ? tree_ack(root, want, n, wait_checkpoint, ack) : -OV_E_MALFORMED;
    json_decref(root);
    if (rc != 0) {
        ov_log_ack_clear(ack);
    }
    return rc;
}

/* ---- the fast path: exactly what ov_log_ack_write writes ----------------------------
 * The whole body is scanned first: only when it is that compact form from its first byte to
 * its last (so no key repeats, and jansson would read the same tree) are its values
 * checked. Otherwise the scan gives up and jansson decides. */

struct scan {
    const char *p, *end;
};

static bool
lit(struct scan *s, const char *want, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, want, n) != 0) {
        return false;
    }
    s->p += n;
    return true;
}
#define LIT(s, w) lit((s), (w), sizeof(w) - 1)

/* A non-negative integer of the plain subset (a sign is not this form: jansson decides). */
static bool
scan_uint(struct scan *s, uint64_t *out)
{
    int64_t v;
    const char *p = s->p < s->end && *s->p != '-' ? ov_json_scan_plain_int(s->p, s->end, &v) : NULL;
    if (p == NULL) {
        return false;
    }
    s->p = p;
    *out = (uint64_t)v;
    return true;
}

static bool
scan_plain_string(struct scan *s, struct ov_bytes *out)
{
    const char *p = ov_json_scan_plain_string(s->p, s->end, out);
    if (p == NULL) {
        return false;
    }
    s->p = p;
    return true;
}

/* 1: the body is the compact durable answer, and *rc says what it holds; 0: it is not. */
static int
scan_durable(struct ov_bytes body, const uint8_t *want, size_t n,
             struct ov_log_ack *ack, int *rc)
{
    struct scan s = { (const char *)body.ptr, (const char *)body.ptr + body.len };
    uint64_t size, index;
    struct ov_bytes h;
    size_t count = 0;
    if (!LIT(&s, "{\"size\":") || !scan_uint(&s, &size) || !LIT(&s, ",\"entries\":[")) {
        return 0;
    }
    const char *first = s.p;
    while (s.p < s.end && *s.p != ']') {
        if ((count > 0 && !LIT(&s, ",")) || !LIT(&s, "{\"index\":") || !scan_uint(&s, &index) ||
            !LIT(&s, ",\"hash\":") || !scan_plain_string(&s, &h) || !LIT(&s, "}")) {
            return 0;
        }
        count++;
    }
    if (!LIT(&s, "]}") || s.p != s.end) {
        return 0;
    }
    if (count != n) {
        *rc = -OV_E_MALFORMED;
        return 1;
    }
    ack->size = size;
    *rc = ack_alloc(ack, n);
    s.p = first; /* again, now that the shape is known: the values */
    for (size_t i = 0; i < n && *rc == 0; i++) {
        bool ok = (i == 0 || LIT(&s, ",")) && LIT(&s, "{\"index\":") && scan_uint(&s, &index) &&
                  LIT(&s, ",\"hash\":") && scan_plain_string(&s, &h) && LIT(&s, "}");
        *rc = ok ? ack_entry(ack, i, index, (const char *)h.ptr, h.len, want + i * OV_HASH_LEN) : -OV_E_STATE;
    }
    return 1;
}

int
ov_log_ack_parse(struct ov_bytes body, const uint8_t *want, size_t n,
                 bool wait_checkpoint, struct ov_log_ack *ack)
{
    int rc = 0;
    memset(ack, 0, sizeof *ack);
    if (wait_checkpoint || !scan_durable(body, want, n, ack, &rc)) {
        return ov_log_ack_parse_tree(body, want, n, wait_checkpoint, ack);
    }
    if (rc != 0) {
        ov_log_ack_clear(ack);
    }
    return rc;
}
