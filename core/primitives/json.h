/* json: the strict JSON helpers shared by onevoice's JSON formats (on jansson): parsing
 * untrusted bytes with a size cap, refusing repeated keys, trailing bytes and "\u0000";
 * refusing keys a format does not know; and writing compact, key-sorted JSON into an ov_buf
 * (one spelling per value, so tests and fuzzers can compare bytes). */
#ifndef OV_JSON_H
#define OV_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/bytes.h"
#include "base/err.h"

/* Makes jansson zero every block it frees, for the whole process: parsed requests hold
 * secrets (invitation codes, registrar tokens, passphrases) in strings the caller never
 * sees. Call once at start-up, before any JSON is made. */
void ov_json_wipe_freed(void);
/* Parses in (at most max bytes, else -OV_E_TOO_BIG) into *out, the caller's to
 * json_decref. -OV_E_MALFORMED for anything that is not one JSON value, a key repeated in
 * an object, or trailing bytes. *out is NULL on failure. */
OV_MUST_CHECK int ov_json_parse(struct ov_bytes in, size_t max, json_t **out);
/* -OV_E_MALFORMED unless o is an object whose keys are all among keys[0..n_keys). */
OV_MUST_CHECK int ov_json_only_keys(const json_t *o, const char *const *keys, size_t n_keys);
/* Writes j compact with sorted keys into out (initialised here, max bytes at most).
 * -OV_E_TOO_BIG, -OV_E_NOMEM, -OV_E_MALFORMED (j cannot be encoded); out is cleared on
 * failure. */
OV_MUST_CHECK int ov_json_dump(const json_t *j, size_t max, struct ov_buf *out);

/* Scanners for the plain subset of JSON that the fast paths read in place (actionreq,
 * logack): each takes p at the value and returns the byte after it, or NULL when the value
 * is not in the subset (the caller then leaves the input to jansson, so both readers agree).
 * A string of printable ASCII without escapes, its opening quote at p: its bytes. */
const char *ov_json_scan_plain_string(const char *p, const char *end, struct ov_bytes *out);
/* -?(0|[1-9][0-9]*), at most 18 digits (no overflow), not followed by a fraction or an
 * exponent. */
const char *ov_json_scan_plain_int(const char *p, const char *end, int64_t *out);

#endif
