#include "protocol/receipt.h"

#include <string.h>

#include <jansson.h>

#include "base/codec.h"
#include "primitives/json.h"
#include "primitives/note.h"
#include "primitives/tiles.h"

static const char *const status_names[] = {
    [OV_RECEIPT_PENDING] = "pending",
    [OV_RECEIPT_LOGGED] = "logged",
    [OV_RECEIPT_PROVEN] = "proven",
};

void
ov_receipt_init(struct ov_receipt *r)
{
    memset(r, 0, sizeof *r);
    ov_buf_init(&r->entry, OV_MAX_ENTRY_LEN);
    ov_buf_init(&r->checkpoint, OV_NOTE_MAX_LEN);
}

void
ov_receipt_clear(struct ov_receipt *r)
{
    if (r != NULL) {
        ov_buf_clear(&r->entry);
        ov_buf_clear(&r->checkpoint);
        memset(r, 0, sizeof *r);
    }
}

void
ov_receipt_path(const uint8_t hash[OV_HASH_LEN], char out[OV_RECEIPT_PATH_LEN + 1])
{
    memcpy(out, OV_RECEIPT_PATH_PREFIX, sizeof OV_RECEIPT_PATH_PREFIX - 1);
    /* cannot fail: the room is exact */
    (void)!ov_hex_encode(out + sizeof OV_RECEIPT_PATH_PREFIX - 1, 2 * OV_HASH_LEN + 1, hash,
                         OV_HASH_LEN);
}

/* ---- parsing ------------------------------------------------------------------------ */

/* A padded-base64 string decoding into buf (up to its max). */
static int
get_b64_buf(json_t *v, struct ov_buf *buf)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), got = 0;
    if (s == NULL || n % 4 != 0) {
        return -OV_E_MALFORMED;
    }
    /* the exact decoded length: three bytes a quantum, less the padding */
    size_t want = n / 4 * 3 - (n > 0 && s[n - 1] == '=') - (n > 1 && s[n - 2] == '=');
    if (want > buf->max) {
        return -OV_E_TOO_BIG;
    }
    int rc = ov_buf_reserve(buf, want);
    if (rc == 0 && (ov_b64_decode(buf->ptr, want, &got, s, n, OV_B64_STD) != 0 || got != want)) {
        rc = -OV_E_MALFORMED;
    }
    buf->len = rc == 0 ? got : 0;
    return rc;
}

static int
get_hash(json_t *v, uint8_t out[OV_HASH_LEN])
{
    const char *s = json_string_value(v);
    size_t got = 0;
    if (s == NULL || ov_b64_decode(out, OV_HASH_LEN, &got, s, json_string_length(v),
                                   OV_B64_STD) != 0 ||
        got != OV_HASH_LEN) {
        return -OV_E_MALFORMED;
    }
    return 0;
}

static const char *const known_keys[] = { "checkpoint", "entry", "hash",  "index",
                                           "proof",      "receipt", "status" };

static int
parse_proven(json_t *o, struct ov_receipt *r)
{
    json_t *cp = json_object_get(o, "checkpoint"), *proof = json_object_get(o, "proof");
    if (r->status != OV_RECEIPT_PROVEN) {
        return cp == NULL && proof == NULL ? 0 : -OV_E_MALFORMED;
    }
    if (!json_is_string(cp) || !json_is_array(proof)) {
        return -OV_E_MALFORMED;
    }
    size_t n = json_string_length(cp);
    if (n > OV_NOTE_MAX_LEN || json_array_size(proof) > OV_MERKLE_MAX_PROOF) {
        return -OV_E_TOO_BIG;
    }
    int rc = ov_buf_append(&r->checkpoint, json_string_value(cp), n);
    for (size_t i = 0; i < json_array_size(proof) && rc == 0; i++) {
        rc = get_hash(json_array_get(proof, i), r->proof + i * OV_HASH_LEN);
    }
    r->n_proof = rc == 0 ? json_array_size(proof) : 0;
    return rc;
}

static int
parse_object(json_t *o, struct ov_receipt *r)
{
    const char *st = json_string_value(json_object_get(o, "status"));
    const char *path = json_string_value(json_object_get(o, "receipt"));
    json_t *index = json_object_get(o, "index");
    char want[OV_RECEIPT_PATH_LEN + 1];
    int rc = ov_json_only_keys(o, known_keys, sizeof known_keys / sizeof known_keys[0]);
    for (int s = OV_RECEIPT_PENDING; rc == 0 && st != NULL && s <= OV_RECEIPT_PROVEN; s++) {
        if (strcmp(st, status_names[s]) == 0) {
            r->status = (enum ov_receipt_status)s;
        }
    }
    rc = rc ? rc : (r->status == 0 ? -OV_E_MALFORMED : 0);
    rc = rc ? rc : get_hash(json_object_get(o, "hash"), r->hash);
    rc = rc ? rc : get_b64_buf(json_object_get(o, "entry"), &r->entry);
    if (rc == 0 && r->entry.len == 0) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0) {
        ov_receipt_path(r->hash, want);
        rc = path != NULL && strcmp(path, want) == 0 ? 0 : -OV_E_MALFORMED;
    }
    if (rc == 0 && r->status == OV_RECEIPT_PENDING) {
        rc = index == NULL ? 0 : -OV_E_MALFORMED;
    } else if (rc == 0) {
        rc = json_is_integer(index) && json_integer_value(index) >= 0 ? 0 : -OV_E_MALFORMED;
        r->index = rc == 0 ? (uint64_t)json_integer_value(index) : 0;
    }
    return rc ? rc : parse_proven(o, r);
}

int
ov_receipt_parse(struct ov_bytes json, struct ov_receipt *r)
{
    json_t *o = NULL;
    ov_receipt_init(r);
    int rc = ov_json_parse(json, OV_MAX_RECEIPT_LEN, &o);
    rc = rc ? rc : parse_object(o, r);
    json_decref(o);
    if (rc != 0) {
        ov_receipt_clear(r);
    }
    return rc;
}

/* ---- formatting --------------------------------------------------------------------- */

/* Appends s as a JSON string (RFC 8259 §7): quotes, backslashes and control bytes escaped,
 * UTF-8 as is (a checkpoint note is UTF-8 without control bytes but newlines). */
static int
json_string_append(struct ov_buf *b, const uint8_t *s, size_t n)
{
    int rc = ov_buf_append(b, "\"", 1);
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            rc = ov_buf_append(b, e, 2);
        } else if (c == '\n') {
            rc = ov_buf_append(b, "\\n", 2);
        } else if (c < 0x20) {
            rc = ov_buf_printf(b, "\\u%04x", c);
        } else {
            rc = ov_buf_append(b, &c, 1);
        }
    }
    return rc ? rc : ov_buf_append(b, "\"", 1);
}

static int
b64_field(struct ov_buf *b, const char *key, const uint8_t *p, size_t n)
{
    int rc = ov_buf_printf(b, "\"%s\":\"", key);
    rc = rc ? rc : ov_buf_append_b64_public(b, p, n); /* an entry or a hash: public */
    return rc ? rc : ov_buf_append(b, "\"", 1);
}

/* Written by hand, not through jansson: the verifier writes one per action. Keys sorted,
 * compact, the same bytes jansson's JSON_COMPACT | JSON_SORT_KEYS would give. */
int
ov_receipt_format(const struct ov_receipt *r, struct ov_buf *out)
{
    static const char *const names[] = { "", "pending", "logged", "proven" };
    char path[OV_RECEIPT_PATH_LEN + 1];
    ov_buf_init(out, OV_MAX_RECEIPT_LEN);
    if (r->status < OV_RECEIPT_PENDING || r->status > OV_RECEIPT_PROVEN || r->entry.len == 0 ||
        r->n_proof > OV_MERKLE_MAX_PROOF || r->index > INT64_MAX ||
        (r->status == OV_RECEIPT_PROVEN && r->checkpoint.len == 0)) {
        return -OV_E_MALFORMED;
    }
    bool proven = r->status == OV_RECEIPT_PROVEN;
    ov_receipt_path(r->hash, path);
    /* one allocation for a receipt of a usual entry, not a doubling chain */
    int rc = ov_buf_reserve(out, proven ? 4096 : 2048);
    rc = rc ? rc : ov_buf_append(out, "{", 1);
    if (rc == 0 && proven) {
        rc = ov_buf_append_str(out, "\"checkpoint\":");
        rc = rc ? rc : json_string_append(out, r->checkpoint.ptr, r->checkpoint.len);
        rc = rc ? rc : ov_buf_append(out, ",", 1);
    }
    rc = rc ? rc : b64_field(out, "entry", r->entry.ptr, r->entry.len);
    rc = rc ? rc : ov_buf_append(out, ",", 1);
    rc = rc ? rc : b64_field(out, "hash", r->hash, OV_HASH_LEN);
    if (rc == 0 && r->status != OV_RECEIPT_PENDING) {
        rc = ov_buf_printf(out, ",\"index\":%llu", (unsigned long long)r->index);
    }
    if (rc == 0 && proven) {
        rc = ov_buf_append_str(out, ",\"proof\":[");
        for (size_t i = 0; i < r->n_proof && rc == 0; i++) {
            rc = ov_buf_append_str(out, i ? ",\"" : "\"");
            rc = rc ? rc : ov_buf_append_b64(out, r->proof + i * OV_HASH_LEN, OV_HASH_LEN,
                                             OV_B64_STD);
            rc = rc ? rc : ov_buf_append(out, "\"", 1);
        }
        rc = rc ? rc : ov_buf_append(out, "]", 1);
    }
    rc = rc ? rc
            : ov_buf_printf(out, ",\"receipt\":\"%s\",\"status\":\"%s\"}", path,
                            names[r->status]);
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

/* ---- the offline check -------------------------------------------------------------- */

int
ov_receipt_check(const struct ov_receipt *r, const struct ov_logreader_cfg *log,
                 struct ov_entry *entry)
{
    struct ov_entry e;
    struct ov_logreader_cp cp;
    uint8_t h[OV_HASH_LEN];
    memset(&cp, 0, sizeof cp);
    if (entry != NULL) {
        memset(entry, 0, sizeof *entry);
    }
    int rc = ov_merkle_leaf_hash(r->entry.ptr, r->entry.len, h);
    if (rc == 0 && memcmp(h, r->hash, OV_HASH_LEN) != 0) {
        rc = -OV_E_BAD_PROOF; /* the hash is not this entry's */
    }
    rc = rc ? rc : ov_entry_decode(ov_buf_view(&r->entry), &e);
    if (rc != 0) {
        return rc;
    }
    if (r->status != OV_RECEIPT_PROVEN) {
        rc = -OV_E_STATE;
    }
    rc = rc ? rc : ov_logreader_verify_note(log, ov_buf_view(&r->checkpoint), &cp);
    if (rc == 0 && r->index >= cp.size) {
        rc = -OV_E_MALFORMED;
    }
    rc = rc ? rc
            : ov_merkle_verify_inclusion(r->index, cp.size, r->hash, r->proof, r->n_proof,
                                         cp.root);
    if (rc == -OV_E_RANGE) {
        rc = -OV_E_MALFORMED;
    }
    ov_logreader_cp_clear(&cp);
    if (rc == 0 && entry != NULL) {
        *entry = e;
    } else {
        ov_entry_clear(&e);
    }
    return rc;
}
