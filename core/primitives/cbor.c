/* cbor: deterministic CBOR (RFC 8949 §4.2.1) for onevoice, on libcbor 0.8.
 *
 * Accepted encodings (RFC 8949 §3; "arg" is the head's argument, big-endian):
 *
 *   initial byte   meaning                         accepted when
 *   0x00..0x17     uint 0..23                      always
 *   0x18 a         uint, 1-byte arg                a >= 24
 *   0x19 a a       uint, 2-byte arg                arg > 0xff
 *   0x1a a*4       uint, 4-byte arg                arg > 0xffff
 *   0x1b a*8       uint, 8-byte arg                arg > 0xffffffff
 *   0x20..0x3b     negint -1-arg                   as for uint
 *   0x40..0x5b     byte string of arg bytes        as for uint; arg <= bytes left
 *   0x60..0x7b     text string of arg bytes        as above, and strict UTF-8 (RFC 3629)
 *   0x80..0x9b     array of arg items              as above; depth <= OV_MAX_CBOR_DEPTH
 *   0xa0..0xbb     map of arg pairs                as above; keys are text strings in
 *                                                  strictly increasing bytewise order of
 *                                                  their encoding (so no duplicates)
 *   0xf4 0xf5 0xf6 false, true, null               always
 *   anything else: 0x1c..0x1f 0x3c..0x3f 0x5c..0x5f 0x7c..0x7f 0x9c..0x9f 0xbc..0xbf
 *   (reserved or indefinite), 0xc0..0xdf (tags), 0xe0..0xf3 0xf7..0xff (simple values,
 *   undefined, floats, break): refused.
 *
 * Why a scanner of our own before cbor_load: libcbor 0.8 allocates an array or map of the
 * declared size before reading its items (0x9a ffffffff asks malloc for 32 GiB), frees
 * trees recursively, keeps duplicate map keys, ignores trailing bytes and accepts every
 * encoding the profile refuses. ov_cbor_check bounds all of that on the raw bytes, and
 * ov_cbor_decode then re-encodes libcbor's tree and requires the input back byte for byte,
 * so the two parsers must agree on every accepted input (the fuzz target checks it). */
#include "primitives/cbor.h"

#include <stdlib.h>
#include <string.h>

#include "base/reader.h"

enum {
    MT_UINT = 0,
    MT_NEGINT = 1,
    MT_BYTES = 2,
    MT_TEXT = 3,
    MT_ARRAY = 4,
    MT_MAP = 5,
    MT_TAG = 6,
    MT_SIMPLE = 7,
};

enum {
    SIMPLE_FALSE = 20,
    SIMPLE_TRUE = 21,
    SIMPLE_NULL = 22,
};

/* Strict UTF-8 (RFC 3629 §4): no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool
utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t extra;
        uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the first continuation byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            lo = (c == 0xe0) ? 0xa0 : 0x80;
            hi = (c == 0xed) ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            lo = (c == 0xf0) ? 0x90 : 0x80;
            hi = (c == 0xf4) ? 0x8f : 0xbf;
        } else {
            return false;
        }
        if (extra > n - i - 1) {
            return false;
        }
        if (p[i + 1] < lo || p[i + 1] > hi) {
            return false;
        }
        for (size_t k = 2; k <= extra; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return false;
            }
        }
        i += extra + 1;
    }
    return true;
}

/* Bytewise order of two byte strings (a shorter prefix sorts first). */
static int
bytes_cmp(struct ov_bytes a, struct ov_bytes b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = (n == 0) ? 0 : memcmp(a.ptr, b.ptr, n);
    if (c != 0) {
        return c;
    }
    return (a.len > b.len) - (a.len < b.len);
}

/* ---------------------------------------------------------------- scanner */

struct scan {
    struct ov_reader r;
    size_t n_items, max_items;
};

static int
scan_head(struct ov_reader *r, unsigned *mt, uint64_t *arg)
{
    uint8_t ib = ov_reader_u8(r);
    if (r->err != 0) {
        return r->err;
    }
    *mt = ib >> 5;
    unsigned ai = ib & 0x1fu;
    if (*mt == MT_SIMPLE) {
        /* Floats (ai 25..27) and every simple value but false/true/null are outside the
         * profile; ai 31 here is a stray "break". */
        *arg = ai;
        return (ai >= SIMPLE_FALSE && ai <= SIMPLE_NULL) ? 0 : -OV_E_MALFORMED;
    }
    uint64_t v, min;
    switch (ai) {
    case 24:
        v = ov_reader_u8(r);
        min = 24;
        break;
    case 25:
        v = ov_reader_u16be(r);
        min = 0x100;
        break;
    case 26:
        v = ov_reader_u32be(r);
        min = 0x10000;
        break;
    case 27:
        v = ov_reader_u64be(r);
        min = 0x100000000;
        break;
    case 31:
        /* Indefinite strings, arrays and maps are valid CBOR but never deterministic;
         * for integers and tags ai 31 is not even well-formed. */
        return (*mt >= MT_BYTES && *mt <= MT_MAP) ? -OV_E_NONCANONICAL : -OV_E_MALFORMED;
    default:
        if (ai >= 24) { /* 28..30: reserved */
            return -OV_E_MALFORMED;
        }
        *arg = ai;
        return 0;
    }
    if (r->err != 0) {
        return r->err;
    }
    if (v < min) {
        return -OV_E_NONCANONICAL; /* RFC 8949 §4.2.1: the shortest head only */
    }
    *arg = v;
    return 0;
}

static int scan_item(struct scan *s, unsigned depth);

static int
scan_map(struct scan *s, uint64_t n_pairs, unsigned depth)
{
    struct ov_reader *r = &s->r;
    /* each pair takes at least two bytes; checked before looping on an attacker's count */
    if (n_pairs > ov_reader_left(r) / 2) {
        return -OV_E_TRUNCATED;
    }
    struct ov_bytes prev = { NULL, 0 };
    for (uint64_t i = 0; i < n_pairs; i++) {
        size_t start = r->off;
        int rc = scan_item(s, depth);
        if (rc != 0) {
            return rc;
        }
        if ((r->p[start] >> 5) != MT_TEXT) {
            return -OV_E_MALFORMED;
        }
        struct ov_bytes key = { r->p + start, r->off - start };
        if (i > 0) {
            int c = bytes_cmp(prev, key);
            if (c == 0) {
                return -OV_E_MALFORMED; /* duplicate key: not valid CBOR (§5.6) */
            }
            if (c > 0) {
                return -OV_E_NONCANONICAL;
            }
        }
        prev = key;
        rc = scan_item(s, depth);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* depth: the number of arrays and maps around this item. */
static int
scan_item(struct scan *s, unsigned depth)
{
    struct ov_reader *r = &s->r;
    unsigned mt;
    uint64_t arg;
    if (++s->n_items > s->max_items) {
        return -OV_E_TOO_BIG;
    }
    int rc = scan_head(r, &mt, &arg);
    if (rc != 0) {
        return rc;
    }
    switch (mt) {
    case MT_UINT:
    case MT_NEGINT:
    case MT_SIMPLE:
        return 0;
    case MT_BYTES:
    case MT_TEXT: {
        if (arg > ov_reader_left(r)) {
            return -OV_E_TRUNCATED;
        }
        struct ov_bytes v;
        ov_reader_bytes(r, (size_t)arg, &v);
        if (mt == MT_TEXT && !utf8_valid(v.ptr, v.len)) {
            return -OV_E_MALFORMED;
        }
        return 0;
    }
    case MT_ARRAY:
        if (depth >= OV_MAX_CBOR_DEPTH) {
            return -OV_E_TOO_BIG;
        }
        if (arg > ov_reader_left(r)) { /* each item takes at least one byte */
            return -OV_E_TRUNCATED;
        }
        for (uint64_t i = 0; i < arg; i++) {
            rc = scan_item(s, depth + 1);
            if (rc != 0) {
                return rc;
            }
        }
        return 0;
    case MT_MAP:
        if (depth >= OV_MAX_CBOR_DEPTH) {
            return -OV_E_TOO_BIG;
        }
        return scan_map(s, arg, depth + 1);
    default: /* MT_TAG */
        return -OV_E_MALFORMED;
    }
}

const struct ov_cbor_limits ov_cbor_default_limits = { OV_MAX_CBOR_LEN, OV_MAX_CBOR_ITEMS };

int
ov_cbor_check(struct ov_bytes in)
{
    return ov_cbor_check_limits(in, &ov_cbor_default_limits);
}

int
ov_cbor_check_limits(struct ov_bytes in, const struct ov_cbor_limits *lim)
{
    if (in.len > lim->max_len) {
        return -OV_E_TOO_BIG;
    }
    struct scan s = { .n_items = 0, .max_items = lim->max_items };
    ov_reader_init(&s.r, in);
    int rc = scan_item(&s, 0);
    if (rc != 0) {
        return rc;
    }
    return ov_reader_end(&s.r);
}

/* ---------------------------------------------------------------- encoder */

struct enc {
    struct ov_buf *out;
    size_t n_items, max_items;
};

/* The shortest head for (major type, argument): RFC 8949 §4.2.1, first bullet. */
static int
enc_head(struct ov_buf *out, unsigned mt, uint64_t arg)
{
    uint8_t h[9];
    struct ov_writer w;
    uint8_t m = (uint8_t)(mt << 5);
    ov_writer_init(&w, h, sizeof h);
    if (arg < 24) {
        ov_writer_u8(&w, (uint8_t)(m | arg));
    } else if (arg <= 0xff) {
        ov_writer_u8(&w, m | 24);
        ov_writer_u8(&w, (uint8_t)arg);
    } else if (arg <= 0xffff) {
        ov_writer_u8(&w, m | 25);
        ov_writer_u16be(&w, (uint16_t)arg);
    } else if (arg <= 0xffffffff) {
        ov_writer_u8(&w, m | 26);
        ov_writer_u32be(&w, (uint32_t)arg);
    } else {
        ov_writer_u8(&w, m | 27);
        ov_writer_u64be(&w, arg);
    }
    return ov_buf_append(out, h, w.len);
}

int
ov_cbor_write_head(struct ov_buf *out, unsigned major, uint64_t arg)
{
    return major <= MT_MAP ? enc_head(out, major, arg) : -OV_E_MALFORMED;
}

/* A head and its string, both or neither. */
static int
write_string(struct ov_buf *out, unsigned major, const void *p, size_t n)
{
    size_t len = out->len;
    int rc = enc_head(out, major, n);
    rc = rc || n == 0 ? rc : ov_buf_append(out, p, n);
    if (rc != 0) {
        out->len = len;
    }
    return rc;
}

int
ov_cbor_write_bytes(struct ov_buf *out, const void *p, size_t n)
{
    return write_string(out, MT_BYTES, p, n);
}

int
ov_cbor_write_text(struct ov_buf *out, const char *s)
{
    size_t n = strlen(s);
    return utf8_valid((const uint8_t *)s, n) ? write_string(out, MT_TEXT, s, n)
                                             : -OV_E_MALFORMED;
}

static int
enc_string(struct ov_buf *out, const cbor_item_t *it)
{
    bool text = cbor_isa_string(it);
    if (text ? cbor_string_is_indefinite(it) : cbor_bytestring_is_indefinite(it)) {
        return -OV_E_MALFORMED; /* chunked strings only come from libcbor's own API */
    }
    size_t n = text ? cbor_string_length(it) : cbor_bytestring_length(it);
    const uint8_t *p = text ? cbor_string_handle(it) : cbor_bytestring_handle(it);
    if (text && !utf8_valid(p, n)) {
        return -OV_E_MALFORMED;
    }
    int rc = enc_head(out, text ? MT_TEXT : MT_BYTES, n);
    if (rc != 0) {
        return rc;
    }
    return ov_buf_append(out, p, n);
}

/* The view of a text key; non-text keys yield a NULL ptr. */
static struct ov_bytes
text_view(const cbor_item_t *it)
{
    /* The fields of libcbor's public item struct (cbor/data.h), read as cbor_isa_string,
     * cbor_string_is_definite, cbor_string_length and cbor_string_handle read them: those
     * are out-of-line calls, and key lookups make dozens per decoded entry. */
    if (it->type != CBOR_TYPE_STRING ||
        it->metadata.string_metadata.type != _CBOR_METADATA_DEFINITE) {
        return (struct ov_bytes){ NULL, 0 };
    }
    size_t n = it->metadata.string_metadata.length;
    const uint8_t *p = it->data;
    /* libcbor keeps no buffer for "", but callers tell a key from a non-key by ptr */
    return (struct ov_bytes){ p != NULL ? p : (const uint8_t *)"", n };
}

/* A map pair and the view of its key, for ordering. */
struct keyed_pair {
    struct ov_bytes key;
    const struct cbor_pair *pair;
};

/* Order of the encodings of two text keys. Both heads are shortest-form with the same
 * major type, so comparing encodings bytewise is comparing lengths, then contents. */
static int
key_order(struct ov_bytes ka, struct ov_bytes kb)
{
    if (ka.len != kb.len) {
        return ka.len < kb.len ? -1 : 1;
    }
    return bytes_cmp(ka, kb);
}

static int
key_cmp(const void *a, const void *b)
{
    return key_order(((const struct keyed_pair *)a)->key, ((const struct keyed_pair *)b)->key);
}

static int enc_item(struct enc *e, const cbor_item_t *it, unsigned depth);

static int
enc_map(struct enc *e, const cbor_item_t *it, unsigned depth)
{
    size_t n = cbor_map_size(it);
    const struct cbor_pair *pairs = cbor_map_handle(it);
    struct keyed_pair small[32];
    struct keyed_pair *order = small;
    bool sorted = true;
    int rc = 0;
    if (n > e->max_items) {
        return -OV_E_TOO_BIG;
    }
    if (n > sizeof small / sizeof small[0]) {
        order = malloc(n * sizeof *order);
        if (order == NULL) {
            return -OV_E_NOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        order[i] = (struct keyed_pair){ text_view(pairs[i].key), &pairs[i] };
        if (order[i].key.ptr == NULL) {
            rc = -OV_E_MALFORMED;
            goto out;
        }
        sorted = sorted && (i == 0 || key_order(order[i - 1].key, order[i].key) < 0);
    }
    /* A map ov_cbor_decode read is in the profile's order already (strictly increasing, so
     * without duplicates): the pass above proved it, and only a map built out of order is
     * sorted. */
    if (!sorted) {
        qsort(order, n, sizeof *order, key_cmp);
        for (size_t i = 1; i < n; i++) {
            if (key_cmp(&order[i - 1], &order[i]) == 0) {
                rc = -OV_E_MALFORMED; /* duplicate key */
                goto out;
            }
        }
    }
    rc = enc_head(e->out, MT_MAP, n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = enc_item(e, order[i].pair->key, depth + 1);
        if (rc == 0) {
            rc = enc_item(e, order[i].pair->value, depth + 1);
        }
    }
out:
    if (order != small) {
        free(order);
    }
    return rc;
}

static int
enc_array(struct enc *e, const cbor_item_t *it, unsigned depth)
{
    size_t n = cbor_array_size(it);
    cbor_item_t **items = cbor_array_handle(it);
    int rc = enc_head(e->out, MT_ARRAY, n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = enc_item(e, items[i], depth + 1);
    }
    return rc;
}

static int
enc_simple(struct ov_buf *out, const cbor_item_t *it)
{
    if (!cbor_float_ctrl_is_ctrl(it)) {
        return -OV_E_MALFORMED; /* no floats in the profile */
    }
    uint8_t v = cbor_ctrl_value(it);
    if (v < SIMPLE_FALSE || v > SIMPLE_NULL) {
        return -OV_E_MALFORMED; /* undefined and unassigned simple values */
    }
    return enc_head(out, MT_SIMPLE, v);
}

/* depth: the number of arrays and maps around it, as in scan_item. */
static int
enc_item(struct enc *e, const cbor_item_t *it, unsigned depth)
{
    if (++e->n_items > e->max_items) {
        return -OV_E_TOO_BIG;
    }
    switch (cbor_typeof(it)) {
    case CBOR_TYPE_UINT:
        return enc_head(e->out, MT_UINT, cbor_get_int(it));
    case CBOR_TYPE_NEGINT:
        return enc_head(e->out, MT_NEGINT, cbor_get_int(it));
    case CBOR_TYPE_BYTESTRING:
    case CBOR_TYPE_STRING:
        return enc_string(e->out, it);
    case CBOR_TYPE_ARRAY:
        return depth >= OV_MAX_CBOR_DEPTH ? -OV_E_TOO_BIG : enc_array(e, it, depth);
    case CBOR_TYPE_MAP:
        return depth >= OV_MAX_CBOR_DEPTH ? -OV_E_TOO_BIG : enc_map(e, it, depth);
    case CBOR_TYPE_FLOAT_CTRL:
        return enc_simple(e->out, it);
    case CBOR_TYPE_TAG:
    default:
        return -OV_E_MALFORMED;
    }
}

int
ov_cbor_encode(const cbor_item_t *item, struct ov_buf *out)
{
    return ov_cbor_encode_limits(item, &ov_cbor_default_limits, out);
}

int
ov_cbor_encode_limits(const cbor_item_t *item, const struct ov_cbor_limits *lim,
                      struct ov_buf *out)
{
    size_t len0 = out->len, max0 = out->max;
    struct enc e = { out, 0, lim->max_items };
    /* Never produce what ov_cbor_decode would refuse as too long. */
    if (max0 - len0 > lim->max_len) {
        out->max = len0 + lim->max_len;
    }
    int rc = (item == NULL) ? -OV_E_MALFORMED : enc_item(&e, item, 0);
    out->max = max0;
    if (rc != 0) {
        out->len = len0;
    }
    return rc;
}

/* ---------------------------------------------------------------- building */

cbor_item_t *
ov_cbor_map_new(void)
{
    /* libcbor's "indefinite" map only means growable here: the encoder writes the
     * definite length. */
    return cbor_new_indefinite_map();
}

cbor_item_t *
ov_cbor_array_new(void)
{
    return cbor_new_indefinite_array();
}

cbor_item_t *
ov_cbor_uint(uint64_t v)
{
    /* the smallest libcbor width too, so even cbor_serialize would be canonical */
    if (v <= 0xff) {
        return cbor_build_uint8((uint8_t)v);
    } else if (v <= 0xffff) {
        return cbor_build_uint16((uint16_t)v);
    } else if (v <= 0xffffffff) {
        return cbor_build_uint32((uint32_t)v);
    }
    return cbor_build_uint64(v);
}

cbor_item_t *
ov_cbor_int(int64_t v)
{
    if (v >= 0) {
        return ov_cbor_uint((uint64_t)v);
    }
    cbor_item_t *it = ov_cbor_uint((uint64_t)(-1 - v)); /* no overflow: -1 - INT64_MIN */
    if (it != NULL) {
        cbor_mark_negint(it);
    }
    return it;
}

cbor_item_t *
ov_cbor_bytes(const void *p, size_t n)
{
    return n == 0 ? cbor_new_definite_bytestring() : cbor_build_bytestring(p, n);
}

cbor_item_t *
ov_cbor_text(const char *s, size_t n)
{
    return n == 0 ? cbor_new_definite_string() : cbor_build_stringn(s, n);
}

cbor_item_t *
ov_cbor_bool(bool v)
{
    return cbor_build_bool(v);
}

cbor_item_t *
ov_cbor_null(void)
{
    return cbor_new_null();
}

void
ov_cbor_free(cbor_item_t *item)
{
    if (item != NULL) {
        cbor_decref(&item);
    }
}

int
ov_cbor_put(cbor_item_t *map, const char *key, cbor_item_t *v)
{
    if (map == NULL || !cbor_isa_map(map) || key == NULL) {
        abort(); /* API misuse */
    }
    int rc = 0;
    cbor_item_t *k = NULL;
    if (v == NULL) {
        return -OV_E_NOMEM;
    }
    k = ov_cbor_text(key, strlen(key));
    if (k == NULL) {
        rc = -OV_E_NOMEM;
    } else if (!cbor_map_add(map, (struct cbor_pair){ .key = k, .value = v })) {
        rc = cbor_map_is_definite(map) ? -OV_E_TOO_BIG : -OV_E_NOMEM;
    }
    /* cbor_map_add took its own references */
    ov_cbor_free(k);
    ov_cbor_free(v);
    return rc;
}

int
ov_cbor_put_uint(cbor_item_t *map, const char *key, uint64_t v)
{
    return ov_cbor_put(map, key, ov_cbor_uint(v));
}

int
ov_cbor_put_bytes(cbor_item_t *map, const char *key, const void *p, size_t n)
{
    return ov_cbor_put(map, key, ov_cbor_bytes(p, n));
}

int
ov_cbor_put_text(cbor_item_t *map, const char *key, const char *s)
{
    return ov_cbor_put(map, key, ov_cbor_text(s, strlen(s)));
}

int
ov_cbor_put_bool(cbor_item_t *map, const char *key, bool v)
{
    return ov_cbor_put(map, key, ov_cbor_bool(v));
}

int
ov_cbor_push(cbor_item_t *array, cbor_item_t *v)
{
    if (array == NULL || !cbor_isa_array(array)) {
        abort(); /* API misuse */
    }
    if (v == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = 0;
    if (!cbor_array_push(array, v)) {
        rc = cbor_array_is_definite(array) ? -OV_E_TOO_BIG : -OV_E_NOMEM;
    }
    ov_cbor_free(v); /* cbor_array_push took its own reference */
    return rc;
}

/* ---------------------------------------------------------------- decoding */

int
ov_cbor_decode(struct ov_bytes in, cbor_item_t **out)
{
    return ov_cbor_decode_limits(in, &ov_cbor_default_limits, out);
}

int
ov_cbor_decode_limits(struct ov_bytes in, const struct ov_cbor_limits *lim, cbor_item_t **out)
{
    cbor_item_t *item = NULL;
    struct cbor_load_result res;
    struct ov_buf again;
    ov_buf_init(&again, in.len);
    *out = NULL;
    int rc = ov_cbor_check_limits(in, lim);
    if (rc != 0) {
        goto out;
    }
    item = cbor_load(in.ptr, in.len, &res);
    if (item == NULL || res.error.code != CBOR_ERR_NONE) {
        rc = (res.error.code == CBOR_ERR_MEMERROR) ? -OV_E_NOMEM : -OV_E_MALFORMED;
        goto out;
    }
    if (res.read != in.len) {
        rc = -OV_E_TRAILING;
        goto out;
    }
    /* The scanner already proved the bytes canonical; this proves libcbor read the same
     * value from them, so nobody acts on a tree other than the bytes that were signed.
     * (Room for all of it at once: no chain of doublings.) */
    rc = ov_buf_reserve(&again, in.len);
    rc = rc ? rc : ov_cbor_encode_limits(item, lim, &again);
    if (rc == -OV_E_NOMEM) {
        goto out;
    }
    if (rc != 0 || again.len != in.len || memcmp(again.ptr, in.ptr, in.len) != 0) {
        rc = -OV_E_NONCANONICAL;
        goto out;
    }
    *out = item;
    item = NULL;
out:
    ov_buf_clear(&again);
    ov_cbor_free(item);
    return rc;
}

int
ov_cbor_decode_map(struct ov_bytes in, cbor_item_t **out)
{
    int rc = ov_cbor_decode(in, out);
    if (rc == 0 && !cbor_isa_map(*out)) {
        ov_cbor_free(*out);
        *out = NULL;
        rc = -OV_E_MALFORMED;
    }
    return rc;
}

/* ---------------------------------------------------------------- reading */

int
ov_cbor_as_uint(const cbor_item_t *it, uint64_t max, uint64_t *v)
{
    *v = 0;
    if (it == NULL || !cbor_isa_uint(it)) {
        return -OV_E_MALFORMED;
    }
    uint64_t x = cbor_get_int(it);
    if (x > max) {
        return -OV_E_RANGE;
    }
    *v = x;
    return 0;
}

int
ov_cbor_as_int(const cbor_item_t *it, int64_t *v)
{
    *v = 0;
    if (it == NULL || !cbor_is_int(it)) {
        return -OV_E_MALFORMED;
    }
    uint64_t x = cbor_get_int(it);
    if (x > INT64_MAX) {
        return -OV_E_RANGE;
    }
    *v = cbor_isa_uint(it) ? (int64_t)x : -1 - (int64_t)x;
    return 0;
}

int
ov_cbor_as_bool(const cbor_item_t *it, bool *v)
{
    *v = false;
    if (it == NULL || !cbor_isa_float_ctrl(it) || !cbor_is_bool(it)) {
        return -OV_E_MALFORMED;
    }
    *v = cbor_get_bool(it);
    return 0;
}

int
ov_cbor_as_bytes(const cbor_item_t *it, size_t min_len, size_t max_len, struct ov_bytes *v)
{
    *v = (struct ov_bytes){ NULL, 0 };
    if (it == NULL || !cbor_isa_bytestring(it) || cbor_bytestring_is_indefinite(it)) {
        return -OV_E_MALFORMED;
    }
    size_t n = cbor_bytestring_length(it);
    if (n < min_len) {
        return -OV_E_MALFORMED;
    }
    if (n > max_len) {
        return -OV_E_TOO_BIG;
    }
    *v = (struct ov_bytes){ cbor_bytestring_handle(it), n };
    return 0;
}

/* Copies a byte string read as exactly n bytes (rc: the read's result) into dst. */
static int
copy_fixed(int rc, struct ov_bytes v, void *dst, size_t n)
{
    if (rc != 0) {
        if (n > 0) {
            memset(dst, 0, n);
        }
        return -OV_E_MALFORMED;
    }
    if (n > 0) {
        memcpy(dst, v.ptr, n);
    }
    return 0;
}

int
ov_cbor_as_fixed(const cbor_item_t *it, void *dst, size_t n)
{
    struct ov_bytes v;
    return copy_fixed(ov_cbor_as_bytes(it, n, n, &v), v, dst, n);
}

int
ov_cbor_as_text(const cbor_item_t *it, size_t max_len, struct ov_bytes *v)
{
    *v = (struct ov_bytes){ NULL, 0 };
    if (it == NULL) {
        return -OV_E_MALFORMED;
    }
    struct ov_bytes t = text_view(it);
    /* decoded trees are valid already; a built tree may not be */
    if (t.ptr == NULL || !utf8_valid(t.ptr, t.len)) {
        return -OV_E_MALFORMED;
    }
    if (t.len > max_len) {
        return -OV_E_TOO_BIG;
    }
    *v = t;
    return 0;
}

int
ov_cbor_as_array(const cbor_item_t *it, size_t max_n, size_t *n)
{
    *n = 0;
    if (it == NULL || !cbor_isa_array(it)) {
        return -OV_E_MALFORMED;
    }
    size_t k = cbor_array_size(it);
    if (k > max_n) {
        return -OV_E_TOO_BIG;
    }
    *n = k;
    return 0;
}

int
ov_cbor_as_map(const cbor_item_t *it)
{
    return (it != NULL && cbor_isa_map(it)) ? 0 : -OV_E_MALFORMED;
}

const cbor_item_t *
ov_cbor_at(const cbor_item_t *array, size_t i)
{
    if (array == NULL || !cbor_isa_array(array) || i >= cbor_array_size(array)) {
        return NULL;
    }
    return cbor_array_handle(array)[i];
}

bool
ov_cbor_text_eq(struct ov_bytes text, const char *s)
{
    /* no strlen: most calls (key lookups) differ at the first byte */
    for (size_t i = 0; i < text.len; i++) {
        if (s[i] == 0 || (uint8_t)s[i] != text.ptr[i]) {
            return false;
        }
    }
    return s[text.len] == 0;
}

int
ov_cbor_get(const cbor_item_t *map, const char *key, const cbor_item_t **v)
{
    *v = NULL;
    if (map == NULL || !cbor_isa_map(map)) {
        return -OV_E_MALFORMED;
    }
    size_t n = cbor_map_size(map);
    const struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < n; i++) {
        struct ov_bytes k = text_view(pairs[i].key);
        if (k.ptr != NULL && ov_cbor_text_eq(k, key)) {
            *v = pairs[i].value;
            return 0;
        }
    }
    return -OV_E_NOT_FOUND;
}

int
ov_cbor_get_uint(const cbor_item_t *map, const char *key, uint64_t max, uint64_t *v)
{
    const cbor_item_t *it;
    int rc = ov_cbor_get(map, key, &it);
    *v = 0;
    return rc != 0 ? rc : ov_cbor_as_uint(it, max, v);
}

int
ov_cbor_get_int(const cbor_item_t *map, const char *key, int64_t *v)
{
    const cbor_item_t *it;
    int rc = ov_cbor_get(map, key, &it);
    *v = 0;
    return rc != 0 ? rc : ov_cbor_as_int(it, v);
}

int
ov_cbor_get_bool(const cbor_item_t *map, const char *key, bool *v)
{
    const cbor_item_t *it;
    int rc = ov_cbor_get(map, key, &it);
    *v = false;
    return rc != 0 ? rc : ov_cbor_as_bool(it, v);
}

int
ov_cbor_get_bytes(const cbor_item_t *map, const char *key, size_t min_len, size_t max_len,
                  struct ov_bytes *v)
{
    const cbor_item_t *it;
    int rc = ov_cbor_get(map, key, &it);
    *v = (struct ov_bytes){ NULL, 0 };
    return rc != 0 ? rc : ov_cbor_as_bytes(it, min_len, max_len, v);
}

int
ov_cbor_get_fixed(const cbor_item_t *map, const char *key, void *dst, size_t n)
{
    const cbor_item_t *it;
    int rc = ov_cbor_get(map, key, &it);
    if (rc != 0) {
        if (n > 0) {
            memset(dst, 0, n);
        }
        return rc;
    }
    return ov_cbor_as_fixed(it, dst, n);
}

int
ov_cbor_get_text(const cbor_item_t *map, const char *key, size_t max_len, struct ov_bytes *v)
{
    const cbor_item_t *it;
    int rc = ov_cbor_get(map, key, &it);
    *v = (struct ov_bytes){ NULL, 0 };
    return rc != 0 ? rc : ov_cbor_as_text(it, max_len, v);
}

int
ov_cbor_get_array(const cbor_item_t *map, const char *key, size_t max_n,
                  const cbor_item_t **array, size_t *n)
{
    int rc = ov_cbor_get(map, key, array);
    *n = 0;
    if (rc == 0) {
        rc = ov_cbor_as_array(*array, max_n, n);
    }
    if (rc != 0) {
        *array = NULL;
    }
    return rc;
}

int
ov_cbor_get_map(const cbor_item_t *map, const char *key, const cbor_item_t **v)
{
    int rc = ov_cbor_get(map, key, v);
    if (rc == 0) {
        rc = ov_cbor_as_map(*v);
    }
    if (rc != 0) {
        *v = NULL;
    }
    return rc;
}

int
ov_cbor_only_keys(const cbor_item_t *map, const char *const *keys, size_t n_keys)
{
    if (map == NULL || !cbor_isa_map(map)) {
        return -OV_E_MALFORMED;
    }
    size_t n = cbor_map_size(map);
    const struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < n; i++) {
        struct ov_bytes k = text_view(pairs[i].key);
        bool known = false;
        for (size_t j = 0; j < n_keys && k.ptr != NULL && !known; j++) {
            known = ov_cbor_text_eq(k, keys[j]);
        }
        if (!known) {
            return -OV_E_MALFORMED;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- views */

/* The head of the item that starts v: major type, argument and, for a string, its content;
 * *after: the bytes past the head (and past a string's content). */
static int
view_head(struct ov_bytes v, unsigned *mt, uint64_t *arg, struct ov_bytes *str,
          struct ov_bytes *after)
{
    struct ov_reader r;
    ov_reader_init(&r, v);
    *str = (struct ov_bytes){ NULL, 0 };
    int rc = scan_head(&r, mt, arg);
    if (rc == 0 && (*mt == MT_BYTES || *mt == MT_TEXT)) {
        if (*arg > ov_reader_left(&r)) {
            return -OV_E_TRUNCATED;
        }
        ov_reader_bytes(&r, (size_t)*arg, str);
    }
    if (rc == 0) {
        *after = (struct ov_bytes){ v.ptr + r.off, v.len - r.off };
    }
    return rc;
}

int
ov_cbor_view_next(struct ov_bytes *rest, struct ov_bytes *item)
{
    /* iterative, so that no input nests this code deeper than the C stack allows */
    struct ov_bytes at = *rest;
    uint64_t pending = 1;
    *item = (struct ov_bytes){ NULL, 0 };
    while (pending > 0) {
        unsigned mt;
        uint64_t arg;
        struct ov_bytes str;
        int rc = view_head(at, &mt, &arg, &str, &at);
        if (rc != 0) {
            return rc;
        }
        pending--;
        if (mt == MT_ARRAY || mt == MT_MAP) {
            uint64_t more = mt == MT_MAP ? 2 * arg : arg;
            if (arg > at.len || more > at.len) { /* each item takes at least a byte */
                return -OV_E_TRUNCATED;
            }
            pending += more;
        } else if (mt == MT_TAG) {
            return -OV_E_MALFORMED;
        }
    }
    *item = (struct ov_bytes){ rest->ptr, rest->len - at.len };
    *rest = at;
    return 0;
}

/* The pairs of the map that starts v: their count, and their bytes in *pairs. */
static int
view_map(struct ov_bytes v, uint64_t *n, struct ov_bytes *pairs)
{
    unsigned mt;
    struct ov_bytes str;
    int rc = view_head(v, &mt, n, &str, pairs);
    return rc == 0 && mt != MT_MAP ? -OV_E_MALFORMED : rc;
}

/* The next pair of a map: its key as text (empty view when the key is not text). */
static int
view_pair(struct ov_bytes *pairs, struct ov_bytes *key, struct ov_bytes *value)
{
    struct ov_bytes k, after;
    unsigned mt;
    uint64_t arg;
    int rc = ov_cbor_view_next(pairs, &k);
    rc = rc ? rc : ov_cbor_view_next(pairs, value);
    rc = rc ? rc : view_head(k, &mt, &arg, key, &after);
    if (rc == 0 && mt != MT_TEXT) {
        *key = (struct ov_bytes){ NULL, 0 };
    }
    return rc;
}

int
ov_cbor_view_get(struct ov_bytes map, const char *key, struct ov_bytes *item)
{
    uint64_t n;
    struct ov_bytes pairs;
    *item = (struct ov_bytes){ NULL, 0 };
    int rc = view_map(map, &n, &pairs);
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        struct ov_bytes k, v;
        rc = view_pair(&pairs, &k, &v);
        if (rc == 0 && k.ptr != NULL && ov_cbor_text_eq(k, key)) {
            *item = v;
            return 0;
        }
    }
    return rc ? rc : -OV_E_NOT_FOUND;
}

int
ov_cbor_view_only_keys(struct ov_bytes map, const char *const *keys, size_t n_keys)
{
    uint64_t n;
    struct ov_bytes pairs;
    int rc = view_map(map, &n, &pairs);
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        struct ov_bytes k, v;
        rc = view_pair(&pairs, &k, &v);
        bool known = false;
        for (size_t j = 0; j < n_keys && rc == 0 && k.ptr != NULL && !known; j++) {
            known = ov_cbor_text_eq(k, keys[j]);
        }
        rc = rc ? rc : (known ? 0 : -OV_E_MALFORMED);
    }
    return rc;
}

/* The head of item, which must be of major type want (-OV_E_MALFORMED if not). */
static int
view_typed(struct ov_bytes item, unsigned want, uint64_t *arg, struct ov_bytes *str,
           struct ov_bytes *after)
{
    unsigned mt;
    int rc = item.len > 0 ? view_head(item, &mt, arg, str, after) : -OV_E_MALFORMED;
    return rc != 0 || mt != want ? -OV_E_MALFORMED : 0;
}

int
ov_cbor_view_uint(struct ov_bytes item, uint64_t max, uint64_t *v)
{
    struct ov_bytes str, after;
    uint64_t x;
    *v = 0;
    int rc = view_typed(item, MT_UINT, &x, &str, &after);
    if (rc == 0 && x > max) {
        rc = -OV_E_RANGE;
    }
    *v = rc == 0 ? x : 0;
    return rc;
}

int
ov_cbor_view_int(struct ov_bytes item, int64_t *v)
{
    struct ov_bytes str, after;
    uint64_t x;
    unsigned mt;
    *v = 0;
    int rc = item.len > 0 ? view_head(item, &mt, &x, &str, &after) : -OV_E_MALFORMED;
    if (rc == 0 && mt != MT_UINT && mt != MT_NEGINT) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0 && x > INT64_MAX) {
        rc = -OV_E_RANGE;
    }
    if (rc == 0) {
        *v = mt == MT_UINT ? (int64_t)x : -1 - (int64_t)x;
    }
    return rc;
}

int
ov_cbor_view_fields(struct ov_bytes map, const char *const *keys, size_t n_keys,
                    struct ov_bytes *vals)
{
    uint64_t n;
    struct ov_bytes pairs;
    for (size_t j = 0; j < n_keys; j++) {
        vals[j] = (struct ov_bytes){ NULL, 0 };
    }
    int rc = view_map(map, &n, &pairs);
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        struct ov_bytes k, v;
        size_t j = n_keys;
        rc = view_pair(&pairs, &k, &v);
        for (size_t t = 0; rc == 0 && k.ptr != NULL && t < n_keys && j == n_keys; t++) {
            j = ov_cbor_text_eq(k, keys[t]) ? t : n_keys;
        }
        if (rc == 0 && (j == n_keys || vals[j].ptr != NULL)) {
            rc = -OV_E_MALFORMED; /* unknown, or twice (only on unchecked bytes) */
        }
        if (rc == 0) {
            vals[j] = v;
        }
    }
    if (rc != 0) {
        for (size_t j = 0; j < n_keys; j++) {
            vals[j] = (struct ov_bytes){ NULL, 0 };
        }
    }
    return rc;
}

/* A string of major type mt and min_len..max_len bytes (text: valid UTF-8). */
static int
view_string(struct ov_bytes item, unsigned mt, size_t min_len, size_t max_len,
            struct ov_bytes *v)
{
    struct ov_bytes str, after;
    uint64_t len;
    *v = (struct ov_bytes){ NULL, 0 };
    int rc = view_typed(item, mt, &len, &str, &after);
    if (rc == 0 && (len < min_len || (mt == MT_TEXT && !utf8_valid(str.ptr, str.len)))) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0 && len > max_len) {
        rc = -OV_E_TOO_BIG;
    }
    if (rc == 0) {
        *v = str;
    }
    return rc;
}

int
ov_cbor_view_bytes(struct ov_bytes item, size_t min_len, size_t max_len, struct ov_bytes *v)
{
    return view_string(item, MT_BYTES, min_len, max_len, v);
}

int
ov_cbor_view_fixed(struct ov_bytes item, void *dst, size_t n)
{
    struct ov_bytes v;
    return copy_fixed(ov_cbor_view_bytes(item, n, n, &v), v, dst, n);
}

int
ov_cbor_view_text(struct ov_bytes item, size_t max_len, struct ov_bytes *v)
{
    return view_string(item, MT_TEXT, 0, max_len, v);
}

int
ov_cbor_view_array(struct ov_bytes item, size_t max_n, size_t *n, struct ov_bytes *elems)
{
    struct ov_bytes str;
    uint64_t k;
    *n = 0;
    *elems = (struct ov_bytes){ NULL, 0 };
    int rc = view_typed(item, MT_ARRAY, &k, &str, elems);
    if (rc == 0 && k > max_n) {
        rc = -OV_E_TOO_BIG;
    }
    if (rc != 0) {
        *elems = (struct ov_bytes){ NULL, 0 };
        return rc;
    }
    *n = (size_t)k;
    return 0;
}
