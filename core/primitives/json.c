#include "primitives/json.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* jansson frees with the pointer alone; the allocator knows the block's size */
static void
wiping_free(void *p)
{
    if (p != NULL) {
        sodium_memzero(p, malloc_usable_size(p));
        free(p);
    }
}

void
ov_json_wipe_freed(void)
{
    json_set_alloc_funcs(malloc, wiping_free);
}

int
ov_json_parse(struct ov_bytes in, size_t max, json_t **out)
{
    json_error_t err;
    *out = NULL;
    if (in.len > max) {
        return -OV_E_TOO_BIG;
    }
    /* no JSON_DISABLE_EOF_CHECK: trailing bytes fail; no JSON_ALLOW_NUL: "\u0000" fails */
    *out = json_loadb((const char *)in.ptr, in.len, JSON_REJECT_DUPLICATES, &err);
    return *out != NULL ? 0 : -OV_E_MALFORMED;
}

int
ov_json_only_keys(const json_t *o, const char *const *keys, size_t n_keys)
{
    const char *key;
    json_t *v;
    if (!json_is_object(o)) {
        return -OV_E_MALFORMED;
    }
    json_object_foreach((json_t *)(uintptr_t)o, key, v) {
        size_t i = 0;
        while (i < n_keys && strcmp(key, keys[i]) != 0) {
            i++;
        }
        if (i == n_keys) {
            return -OV_E_MALFORMED;
        }
    }
    return 0;
}

int
ov_json_dump(const json_t *j, size_t max, struct ov_buf *out)
{
    ov_buf_init(out, max);
    size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = n == 0 ? -OV_E_MALFORMED : ov_buf_reserve(out, n);
    if (rc == 0 && json_dumpb(j, (char *)out->ptr, n, JSON_COMPACT | JSON_SORT_KEYS) != n) {
        rc = -OV_E_NOMEM;
    }
    out->len = rc == 0 ? n : 0;
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

/* ---- the plain subset, scanned in place ---------------------------------------------- */

const char *
ov_json_scan_plain_string(const char *p, const char *end, struct ov_bytes *out)
{
    if (p >= end || *p != '"') {
        return NULL;
    }
    const char *s = ++p;
    while (p < end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c > 0x7e || c == '\\') {
            return NULL;
        }
        p++;
    }
    if (p >= end) {
        return NULL;
    }
    *out = OV_BYTES(s, (size_t)(p - s));
    return p + 1;
}

const char *
ov_json_scan_plain_int(const char *p, const char *end, int64_t *out)
{
    bool neg = p < end && *p == '-';
    p += neg;
    const char *d = p;
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9' && p - d < 18) {
        v = v * 10 + (*p++ - '0');
    }
    size_t n = (size_t)(p - d);
    if (n == 0 || (n > 1 && *d == '0') ||
        (p < end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E'))) {
        return NULL;
    }
    *out = neg ? -v : v;
    return p;
}
