#include "base/codec.h"

#include <stdlib.h>

#include <sodium.h>

static int
sodium_variant(enum ov_b64 v)
{
    switch (v) {
    case OV_B64_STD:
        return sodium_base64_VARIANT_ORIGINAL;
    case OV_B64_STD_NOPAD:
        return sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    case OV_B64_URL:
        return sodium_base64_VARIANT_URLSAFE;
    case OV_B64_URL_NOPAD:
        return sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    default:
        abort();
    }
}

int
ov_hex_encode(char *out, size_t out_max, const uint8_t *in, size_t n)
{
    if (n > (SIZE_MAX - 1) / 2 || out_max < 2 * n + 1) {
        return -OV_E_TOO_BIG;
    }
    sodium_bin2hex(out, out_max, in, n);
    return 0;
}

int
ov_hex_decode(uint8_t *out, size_t out_max, size_t *out_len, const char *in, size_t in_len)
{
    const char *end = NULL;
    *out_len = 0;
    if (in_len % 2 != 0) {
        return -OV_E_MALFORMED;
    }
    if (in_len / 2 > out_max) {
        return -OV_E_TOO_BIG;
    }
    if (sodium_hex2bin(out, out_max, in, in_len, NULL, out_len, &end) != 0 ||
        end != in + in_len) {
        *out_len = 0;
        return -OV_E_MALFORMED;
    }
    return 0;
}

size_t
ov_b64_encoded_size(size_t n, enum ov_b64 v)
{
    return sodium_base64_encoded_len(n, sodium_variant(v));
}

int
ov_b64_encode(char *out, size_t out_max, const uint8_t *in, size_t n, enum ov_b64 v)
{
    if (n > SIZE_MAX / 2 || out_max < ov_b64_encoded_size(n, v)) {
        return -OV_E_TOO_BIG;
    }
    sodium_bin2base64(out, out_max, in, n, sodium_variant(v));
    return 0;
}

/* 1 if lo <= c <= hi; plain arithmetic, so no branch depends on (possibly secret) c. */
static unsigned
in_range(unsigned c, unsigned lo, unsigned hi)
{
    return (unsigned)(c - lo <= hi - lo);
}

/* 1 when every byte of in is in the variant's alphabet, or '=' for padded variants.
 * libsodium 1.0.18's sodium_base642bin decodes every byte >= 0x80 as if it were '/' (or '_'),
 * so "kG2T\xd5..." passed as valid base64: this check runs first and refuses such input. */
static int
b64_alphabet_ok(const char *in, size_t in_len, enum ov_b64 v)
{
    unsigned url = v == OV_B64_URL || v == OV_B64_URL_NOPAD;
    unsigned pad = v == OV_B64_STD || v == OV_B64_URL;
    unsigned bad = 0;
    for (size_t i = 0; i < in_len; i++) {
        unsigned c = (unsigned char)in[i];
        unsigned ok = in_range(c, 'A', 'Z') | in_range(c, 'a', 'z') | in_range(c, '0', '9') |
                      ((c == '+') & !url) | ((c == '/') & !url) | ((c == '-') & url) |
                      ((c == '_') & url) | ((c == '=') & pad);
        bad |= ok ^ 1u;
    }
    return bad == 0;
}

int
ov_b64_decode(uint8_t *out, size_t out_max, size_t *out_len, const char *in, size_t in_len,
              enum ov_b64 v)
{
    const char *end = NULL;
    *out_len = 0;
    if (in_len / 4 * 3 > out_max + 3) {
        return -OV_E_TOO_BIG;
    }
    if (!b64_alphabet_ok(in, in_len, v) ||
        sodium_base642bin(out, out_max, in, in_len, NULL, out_len, &end, sodium_variant(v)) != 0 ||
        end != in + in_len) {
        *out_len = 0;
        return -OV_E_MALFORMED;
    }
    return 0;
}

/* The base64url alphabet's values; 0 also for every byte outside it (told apart from 'A'
 * by the byte itself). */
static const uint8_t url_values[256] = {
    ['A'] = 0,  ['B'] = 1,  ['C'] = 2,  ['D'] = 3,  ['E'] = 4,  ['F'] = 5,  ['G'] = 6,
    ['H'] = 7,  ['I'] = 8,  ['J'] = 9,  ['K'] = 10, ['L'] = 11, ['M'] = 12, ['N'] = 13,
    ['O'] = 14, ['P'] = 15, ['Q'] = 16, ['R'] = 17, ['S'] = 18, ['T'] = 19, ['U'] = 20,
    ['V'] = 21, ['W'] = 22, ['X'] = 23, ['Y'] = 24, ['Z'] = 25, ['a'] = 26, ['b'] = 27,
    ['c'] = 28, ['d'] = 29, ['e'] = 30, ['f'] = 31, ['g'] = 32, ['h'] = 33, ['i'] = 34,
    ['j'] = 35, ['k'] = 36, ['l'] = 37, ['m'] = 38, ['n'] = 39, ['o'] = 40, ['p'] = 41,
    ['q'] = 42, ['r'] = 43, ['s'] = 44, ['t'] = 45, ['u'] = 46, ['v'] = 47, ['w'] = 48,
    ['x'] = 49, ['y'] = 50, ['z'] = 51, ['0'] = 52, ['1'] = 53, ['2'] = 54, ['3'] = 55,
    ['4'] = 56, ['5'] = 57, ['6'] = 58, ['7'] = 59, ['8'] = 60, ['9'] = 61, ['-'] = 62,
    ['_'] = 63,
};

int
ov_b64url_decode_public(uint8_t *out, size_t out_max, size_t *out_len, const char *in,
                        size_t in_len)
{
    *out_len = 0;
    if (in_len / 4 * 3 > out_max + 3) {
        return -OV_E_TOO_BIG;
    }
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < in_len; i++) {
        unsigned char c = (unsigned char)in[i];
        uint8_t v = url_values[c];
        if (v == 0 && c != 'A') {
            return -OV_E_MALFORMED;
        }
        acc = (acc << 6 | v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == out_max) {
                return -OV_E_MALFORMED;
            }
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    /* 2 or 4 bits left over must be zero; 6 means a lone final character */
    if (bits > 4 || (acc & ((1u << bits) - 1u)) != 0) {
        return -OV_E_MALFORMED;
    }
    *out_len = n;
    return 0;
}

int
ov_buf_append_b64_public(struct ov_buf *b, const uint8_t *in, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t need = ov_b64_encoded_size(n, OV_B64_STD) - 1; /* less the NUL it counts */
    int rc = ov_buf_reserve(b, need);
    if (rc != 0) {
        return rc;
    }
    char *o = (char *)b->ptr + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len += need;
    return 0;
}

int
ov_buf_append_b64(struct ov_buf *b, const uint8_t *in, size_t n, enum ov_b64 v)
{
    size_t need = ov_b64_encoded_size(n, v);
    int rc = ov_buf_reserve(b, need);
    if (rc != 0) {
        return rc;
    }
    sodium_bin2base64((char *)b->ptr + b->len, need, in, n, sodium_variant(v));
    b->len += need - 1;
    return 0;
}

int
ov_buf_append_hex(struct ov_buf *b, const uint8_t *in, size_t n)
{
    if (n > (SIZE_MAX - 1) / 2) {
        return -OV_E_TOO_BIG;
    }
    int rc = ov_buf_reserve(b, 2 * n + 1);
    if (rc != 0) {
        return rc;
    }
    sodium_bin2hex((char *)b->ptr + b->len, 2 * n + 1, in, n);
    b->len += 2 * n;
    return 0;
}

int
ov_parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    *out = 0;
    if (len == 0 || len > 20) {
        return len == 0 ? -OV_E_MALFORMED : -OV_E_RANGE;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -OV_E_MALFORMED;
        }
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return -OV_E_RANGE;
        }
        v = v * 10 + d;
    }
    if (s[0] == '0' && len > 1) {
        return -OV_E_NONCANONICAL;
    }
    *out = v;
    return 0;
}
