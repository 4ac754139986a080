/* cbor: onevoice's deterministic CBOR profile (RFC 8949 §4.2.1) on top of libcbor 0.8.
 * Owns the canonical encoder, the strict decoder and the typed readers that log entries
 * and protocol messages use. Values are libcbor trees (cbor_item_t); every tree has one
 * owner, who releases it with ov_cbor_free.
 *
 * The profile (a strict subset of deterministically encoded CBOR):
 *   - unsigned and negative integers, byte strings, UTF-8 text strings, arrays, maps,
 *     false, true and null; no floats, tags, undefined or other simple values;
 *   - every head in its shortest form, every length definite;
 *   - map keys are text strings, sorted bytewise by their encoding, without duplicates;
 *   - at most OV_MAX_CBOR_LEN bytes, OV_MAX_CBOR_DEPTH nested containers and
 *     OV_MAX_CBOR_ITEMS data items (map keys count as items).
 * Encoding any tree yields bytes in this profile (or fails); decoding accepts only bytes in
 * this profile, so decode(b) succeeds exactly when b == encode(decode(b)). Signatures and
 * log leaves cover the exact bytes, so there is one encoding per value. */
#ifndef OV_CBOR_H
#define OV_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include "base/bytes.h"
#include "base/err.h"

#define OV_MAX_CBOR_LEN   65536u /* bytes of one message (an entry: core/protocol/entry.h) */
#define OV_MAX_CBOR_DEPTH 16u    /* nested arrays and maps */
#define OV_MAX_CBOR_ITEMS 8192u  /* data items, map keys included */

/* Size limits of one message. The defaults (OV_MAX_CBOR_LEN, OV_MAX_CBOR_ITEMS) fit log
 * entries; a container of many entries (the log's append batch) names larger ones. */
struct ov_cbor_limits {
    size_t max_len;   /* bytes */
    size_t max_items; /* data items, map keys included */
};
extern const struct ov_cbor_limits ov_cbor_default_limits;

/* ---- Building. Constructors return a new tree the caller owns, or NULL when out of
 * memory. Maps and arrays grow as needed; their length is written at encoding time. */
cbor_item_t *ov_cbor_map_new(void);
cbor_item_t *ov_cbor_array_new(void);
cbor_item_t *ov_cbor_uint(uint64_t v);
cbor_item_t *ov_cbor_int(int64_t v);
cbor_item_t *ov_cbor_bytes(const void *p, size_t n);
/* Text of n bytes; UTF-8 is checked when the tree is encoded. */
cbor_item_t *ov_cbor_text(const char *s, size_t n);
cbor_item_t *ov_cbor_bool(bool v);
cbor_item_t *ov_cbor_null(void);
/* Releases a tree (a reference). Accepts NULL. */
void ov_cbor_free(cbor_item_t *item);

/* Adds key -> v to a map. Always takes ownership of v, even on failure, so a call can
 * wrap a constructor: ov_cbor_put(m, "n", ov_cbor_uint(7)). A NULL v is -OV_E_NOMEM.
 * Key order does not matter; a duplicate key makes ov_cbor_encode fail. */
OV_MUST_CHECK int ov_cbor_put(cbor_item_t *map, const char *key, cbor_item_t *v);
OV_MUST_CHECK int ov_cbor_put_uint(cbor_item_t *map, const char *key, uint64_t v);
OV_MUST_CHECK int ov_cbor_put_bytes(cbor_item_t *map, const char *key, const void *p, size_t n);
/* s is NUL-terminated; the NUL is not encoded. */
OV_MUST_CHECK int ov_cbor_put_text(cbor_item_t *map, const char *key, const char *s);
OV_MUST_CHECK int ov_cbor_put_bool(cbor_item_t *map, const char *key, bool v);
/* Appends v to an array, taking ownership of v as ov_cbor_put does. */
OV_MUST_CHECK int ov_cbor_push(cbor_item_t *array, cbor_item_t *v);

/* Appends the deterministic encoding of item to out (map keys sorted, shortest heads,
 * definite lengths). Fails with -OV_E_MALFORMED for values outside the profile (floats,
 * tags, undefined, non-text or duplicate map keys, invalid UTF-8), -OV_E_TOO_BIG past
 * the OV_MAX_CBOR_* limits or out->max, -OV_E_NOMEM. On failure out is as it was. */
OV_MUST_CHECK int ov_cbor_encode(const cbor_item_t *item, struct ov_buf *out);
OV_MUST_CHECK int ov_cbor_encode_limits(const cbor_item_t *item, const struct ov_cbor_limits *lim,
                                        struct ov_buf *out);

/* ---- Writing by hand, for hot paths whose shape is fixed (the log's append request):
 * each call appends one head in its shortest form, or one whole string. The caller keeps
 * map keys in the profile's order; ov_cbor_check on the result proves it did. On failure
 * out is as it was. */
enum { OV_CBOR_UINT = 0, OV_CBOR_NEGINT = 1, OV_CBOR_BYTES = 2, OV_CBOR_TEXT = 3, OV_CBOR_ARRAY = 4, OV_CBOR_MAP = 5 };
OV_MUST_CHECK int ov_cbor_write_head(struct ov_buf *out, unsigned major, uint64_t arg);
OV_MUST_CHECK int ov_cbor_write_bytes(struct ov_buf *out, const void *p, size_t n);
/* s is NUL-terminated; -OV_E_MALFORMED unless it is UTF-8. */
OV_MUST_CHECK int ov_cbor_write_text(struct ov_buf *out, const char *s);

/* ---- Decoding untrusted bytes. */

/* Checks that in is one data item in the profile, allocating nothing. Failures:
 * -OV_E_TOO_BIG (over a limit), -OV_E_TRUNCATED, -OV_E_TRAILING, -OV_E_NONCANONICAL
 * (a longer head than needed, an indefinite length, map keys out of order),
 * -OV_E_MALFORMED (floats, tags, simple values other than false/true/null, reserved
 * encodings, invalid UTF-8, a non-text or duplicate map key). */
OV_MUST_CHECK int ov_cbor_check(struct ov_bytes in);
OV_MUST_CHECK int ov_cbor_check_limits(struct ov_bytes in, const struct ov_cbor_limits *lim);
/* ov_cbor_check, then cbor_load, then re-encodes the tree and requires the very same
 * bytes. On success *out is a tree the caller owns (ov_cbor_free); on failure *out is
 * NULL and the result is one of ov_cbor_check's or -OV_E_NOMEM. */
OV_MUST_CHECK int ov_cbor_decode(struct ov_bytes in, cbor_item_t **out);
OV_MUST_CHECK int ov_cbor_decode_limits(struct ov_bytes in, const struct ov_cbor_limits *lim,
                                        cbor_item_t **out);
/* ov_cbor_decode, also requiring the top item to be a map (-OV_E_MALFORMED if not). */
OV_MUST_CHECK int ov_cbor_decode_map(struct ov_bytes in, cbor_item_t **out);

/* ---- Reading a tree. Views and items handed out are borrowed from the tree and live as
 * long as it does. Every reader fails with -OV_E_MALFORMED on a wrong type and leaves
 * its outputs zeroed (NULL, 0, empty view) on any failure. */
OV_MUST_CHECK int ov_cbor_as_uint(const cbor_item_t *it, uint64_t max, uint64_t *v);
/* An unsigned or negative integer that fits int64_t (else -OV_E_RANGE). */
OV_MUST_CHECK int ov_cbor_as_int(const cbor_item_t *it, int64_t *v);
OV_MUST_CHECK int ov_cbor_as_bool(const cbor_item_t *it, bool *v);
/* A byte string of min_len..max_len bytes: -OV_E_MALFORMED if shorter, -OV_E_TOO_BIG if
 * longer. */
OV_MUST_CHECK int ov_cbor_as_bytes(const cbor_item_t *it, size_t min_len, size_t max_len,
                                   struct ov_bytes *v);
/* A byte string of exactly n bytes copied into dst (-OV_E_MALFORMED on any other length;
 * dst is zeroed on failure). For keys, hashes, signatures. */
OV_MUST_CHECK int ov_cbor_as_fixed(const cbor_item_t *it, void *dst, size_t n);
/* A text string (valid UTF-8, not NUL-terminated, may contain U+0000) of at most max_len
 * bytes (-OV_E_TOO_BIG if longer). */
OV_MUST_CHECK int ov_cbor_as_text(const cbor_item_t *it, size_t max_len, struct ov_bytes *v);
/* An array of at most max_n elements (-OV_E_TOO_BIG if more); *n is its length. */
OV_MUST_CHECK int ov_cbor_as_array(const cbor_item_t *it, size_t max_n, size_t *n);
OV_MUST_CHECK int ov_cbor_as_map(const cbor_item_t *it);
/* Element i of an array, or NULL if it is not an array or i is out of range. */
const cbor_item_t *ov_cbor_at(const cbor_item_t *array, size_t i);

/* The value under key in map: -OV_E_NOT_FOUND when absent, -OV_E_MALFORMED when map is
 * not a map. The typed getters below are ov_cbor_get followed by ov_cbor_as_*. */
OV_MUST_CHECK int ov_cbor_get(const cbor_item_t *map, const char *key, const cbor_item_t **v);
OV_MUST_CHECK int ov_cbor_get_uint(const cbor_item_t *map, const char *key, uint64_t max,
                                   uint64_t *v);
OV_MUST_CHECK int ov_cbor_get_int(const cbor_item_t *map, const char *key, int64_t *v);
OV_MUST_CHECK int ov_cbor_get_bool(const cbor_item_t *map, const char *key, bool *v);
OV_MUST_CHECK int ov_cbor_get_bytes(const cbor_item_t *map, const char *key, size_t min_len,
                                    size_t max_len, struct ov_bytes *v);
OV_MUST_CHECK int ov_cbor_get_fixed(const cbor_item_t *map, const char *key, void *dst,
                                    size_t n);
OV_MUST_CHECK int ov_cbor_get_text(const cbor_item_t *map, const char *key, size_t max_len,
                                   struct ov_bytes *v);
OV_MUST_CHECK int ov_cbor_get_array(const cbor_item_t *map, const char *key, size_t max_n,
                                    const cbor_item_t **array, size_t *n);
OV_MUST_CHECK int ov_cbor_get_map(const cbor_item_t *map, const char *key,
                                  const cbor_item_t **v);
/* True when the text view equals the NUL-terminated s (for "kind" fields and the like). */
bool ov_cbor_text_eq(struct ov_bytes text, const char *s);
/* Refuses (-OV_E_MALFORMED) a map holding any key not among keys[0..n_keys-1], so a
 * message cannot smuggle fields that some reader would ignore and another would not. */
OV_MUST_CHECK int ov_cbor_only_keys(const cbor_item_t *map, const char *const *keys,
                                    size_t n_keys);

/* ---- Reading encoded bytes without a tree, for hot paths that read a few fields of a
 * large message (the log's append request, the kind of each entry it carries). Call them
 * on bytes ov_cbor_check accepted: an item is then a view of its own encoded bytes, and the
 * views handed out point into the caller's bytes. Each reader fails with the code of its
 * tree counterpart above; on bytes that were never checked they fail, never read beyond. */

/* Splits the first whole item off *rest into *item. -OV_E_TRUNCATED, -OV_E_MALFORMED. */
OV_MUST_CHECK int ov_cbor_view_next(struct ov_bytes *rest, struct ov_bytes *item);
OV_MUST_CHECK int ov_cbor_view_get(struct ov_bytes map, const char *key, struct ov_bytes *item);
OV_MUST_CHECK int ov_cbor_view_only_keys(struct ov_bytes map, const char *const *keys,
                                         size_t n_keys);
OV_MUST_CHECK int ov_cbor_view_uint(struct ov_bytes item, uint64_t max, uint64_t *v);
OV_MUST_CHECK int ov_cbor_view_int(struct ov_bytes item, int64_t *v);
/* One pass over a map's pairs, for a decoder that reads most of them: every key must be
 * one of keys[0..n_keys) (else -OV_E_MALFORMED); vals[i] is the value under keys[i], or an
 * empty view (ptr NULL) when the map has no such key. */
OV_MUST_CHECK int ov_cbor_view_fields(struct ov_bytes map, const char *const *keys,
                                      size_t n_keys, struct ov_bytes *vals);
OV_MUST_CHECK int ov_cbor_view_bytes(struct ov_bytes item, size_t min_len, size_t max_len,
                                     struct ov_bytes *v);
OV_MUST_CHECK int ov_cbor_view_fixed(struct ov_bytes item, void *dst, size_t n);
OV_MUST_CHECK int ov_cbor_view_text(struct ov_bytes item, size_t max_len, struct ov_bytes *v);
/* An array of at most max_n elements: *n of them, in *elems one after another (take each
 * with ov_cbor_view_next). */
OV_MUST_CHECK int ov_cbor_view_array(struct ov_bytes item, size_t max_n, size_t *n,
                                     struct ov_bytes *elems);

#endif
