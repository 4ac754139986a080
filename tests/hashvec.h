/* hashvec.h: reading Merkle hashes, proofs and 64-bit sizes from the JSON test vectors.
 * jansson refuses integers above INT64_MAX ("too big integer"), and two inclusion cases
 * carry leafIdx 18446744073709551615, so hashvec_load quotes long digit runs before parsing
 * and hashvec_u64 reads either form as an exact uint64. */
#ifndef OV_TEST_HASHVEC_H
#define OV_TEST_HASHVEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/codec.h"
#include "primitives/merkle.h"
#include "test.h"

/* Loads <vectors>/<name>, turning every bare integer of 19 or more digits into a string. */
static inline json_t *
hashvec_load(const char *name)
{
    char path[1024];
    struct ov_buf raw, fixed;
    json_error_t e;
    snprintf(path, sizeof path, "%s/%s", test_vectors_dir(), name);
    ov_buf_init(&raw, 64 << 20);
    ov_buf_init(&fixed, 128 << 20);
    if (ov_file_read(path, raw.max, &raw) != 0) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    bool in_str = false;
    for (size_t i = 0; i < raw.len;) {
        char c = (char)raw.ptr[i];
        size_t run = 0;
        while (!in_str && i + run < raw.len && raw.ptr[i + run] >= '0' && raw.ptr[i + run] <= '9') {
            run++;
        }
        if (run >= 19) {
            if (ov_buf_append(&fixed, "\"", 1) != 0 ||
                ov_buf_append(&fixed, raw.ptr + i, run) != 0 ||
                ov_buf_append(&fixed, "\"", 1) != 0) {
                exit(1);
            }
            i += run;
            continue;
        }
        run = run > 0 ? run : 1;
        if (c == '"') {
            in_str = !in_str;
        } else if (c == '\\' && in_str) {
            run = raw.len - i > 1 ? 2 : 1; /* an escape: the next byte never closes */
        }
        if (ov_buf_append(&fixed, raw.ptr + i, run) != 0) {
            exit(1);
        }
        i += run;
    }
    json_t *j = json_loadb((const char *)fixed.ptr, fixed.len, 0, &e);
    if (j == NULL) {
        fprintf(stderr, "cannot parse %s: %s (line %d)\n", path, e.text, e.line);
        exit(1);
    }
    ov_buf_clear(&raw);
    ov_buf_clear(&fixed);
    return j;
}

/* obj[key] as an exact uint64: a JSON integer >= 0, or a string of decimal digits. */
static inline uint64_t
hashvec_u64(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        return (uint64_t)json_integer_value(v);
    }
    const char *s = json_string_value(v);
    uint64_t x = 0;
    if (s == NULL || *s == '\0') {
        fprintf(stderr, "field %s is not an unsigned integer\n", key);
        exit(1);
    }
    for (; *s != '\0'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (d > 9 || x > (UINT64_MAX - d) / 10) {
            fprintf(stderr, "field %s is not a uint64\n", key);
            exit(1);
        }
        x = x * 10 + d;
    }
    return x;
}

/* A standard-base64 hash string; false unless it decodes to exactly 32 bytes. */
static inline bool
hashvec_hash_str(const char *s, uint8_t out[OV_HASH_LEN])
{
    uint8_t tmp[256];
    size_t n = 0;
    if (s == NULL || ov_b64_decode(tmp, sizeof tmp, &n, s, strlen(s), OV_B64_STD) != 0 ||
        n != OV_HASH_LEN) {
        return false;
    }
    memcpy(out, tmp, OV_HASH_LEN);
    return true;
}

static inline bool
hashvec_hash(const json_t *obj, const char *key, uint8_t out[OV_HASH_LEN])
{
    return hashvec_hash_str(json_string_value(json_object_get(obj, key)), out);
}

/* obj[key]: an array of hashes (null = empty). false if any is not 32 bytes or too many. */
static inline bool
hashvec_proof(const json_t *obj, const char *key, uint8_t (*proof)[OV_HASH_LEN], size_t max,
              size_t *n)
{
    const json_t *a = json_object_get(obj, key);
    *n = 0;
    if (a == NULL || json_is_null(a)) {
        return true;
    }
    if (!json_is_array(a) || json_array_size(a) > max) {
        return false;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        if (!hashvec_hash_str(json_string_value(json_array_get(a, i)), proof[i])) {
            return false;
        }
    }
    *n = json_array_size(a);
    return true;
}

#endif
