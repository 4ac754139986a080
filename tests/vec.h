/* vec.h: reading the JSON test vectors of tests/vectors from tests (jansson). */
#ifndef OV_TEST_VEC_H
#define OV_TEST_VEC_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/codec.h"
#include "test.h"

/* Loads <vectors>/<name>, or exits the test program with a failure. */
static inline json_t *
vec_load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", test_vectors_dir(), name);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (j == NULL) {
        fprintf(stderr, "cannot load %s: %s (line %d)\n", path, e.text, e.line);
        exit(1);
    }
    return j;
}

/* The string field `key` of `obj`, or "" when absent. */
static inline const char *
vec_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* Hex field -> freshly allocated ov_buf (cap 1 MiB). Exits on malformed hex. */
static inline struct ov_buf
vec_hex(const json_t *obj, const char *key)
{
    const char *s = vec_str(obj, key);
    struct ov_buf b;
    ov_buf_init(&b, 1 << 20);
    size_t n = strlen(s);
    if (ov_buf_reserve(&b, n / 2 + 1) != 0 ||
        ov_hex_decode(b.ptr, b.cap, &b.len, s, n) != 0) {
        fprintf(stderr, "bad hex in field %s\n", key);
        exit(1);
    }
    return b;
}

/* Standard padded base64 field -> ov_buf. Exits on malformed input. */
static inline struct ov_buf
vec_b64(const json_t *obj, const char *key)
{
    const char *s = vec_str(obj, key);
    struct ov_buf b;
    ov_buf_init(&b, 1 << 20);
    size_t n = strlen(s);
    if (ov_buf_reserve(&b, n + 1) != 0 ||
        ov_b64_decode(b.ptr, b.cap, &b.len, s, n, OV_B64_STD) != 0) {
        fprintf(stderr, "bad base64 in field %s\n", key);
        exit(1);
    }
    return b;
}

#endif
