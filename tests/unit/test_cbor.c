/* Unit tests: the deterministic CBOR profile (core/primitives/cbor). RFC 8949 Appendix A examples,
 * every class of non-canonical or out-of-profile encoding as raw bytes, limits, readers,
 * and encode -> decode -> encode round trips. */
#include <stdint.h>
#include <string.h>

#include "base/bytes.h"
#include "primitives/cbor.h"
#include "base/codec.h"
#include "../test.h"

#define HEX_MAX 4096

/* hex -> bytes; the test's own data, so failure is a test bug */
static size_t
unhex(const char *hex, uint8_t *out, size_t out_max)
{
    size_t n = 0;
    if (ov_hex_decode(out, out_max, &n, hex, strlen(hex)) != 0) {
        fprintf(stderr, "bad test hex %s\n", hex);
        exit(2);
    }
    return n;
}

/* Decodes raw bytes; checks that ov_cbor_check agrees and that a failure leaves NULL. */
static int
decode_raw(const uint8_t *p, size_t n)
{
    cbor_item_t *it = (cbor_item_t *)&it; /* poison: must come back NULL on failure */
    int rc = ov_cbor_decode(OV_BYTES(p, n), &it);
    int rc_check = ov_cbor_check(OV_BYTES(p, n));
    CHECK_EQ_INT(rc_check, rc);
    if (rc != 0) {
        CHECK(it == NULL);
    }
    ov_cbor_free(rc == 0 ? it : NULL);
    return rc;
}

static int
decode_hex(const char *hex)
{
    uint8_t b[HEX_MAX];
    size_t n = unhex(hex, b, sizeof b);
    return decode_raw(b, n);
}

/* Encodes item (consuming it), compares with hex, then decodes that hex and re-encodes. */
static void
expect_encoding(cbor_item_t *item, const char *hex)
{
    uint8_t want[HEX_MAX];
    size_t n = unhex(hex, want, sizeof want);
    struct ov_buf b, b2;
    ov_buf_init(&b, OV_MAX_CBOR_LEN);
    ov_buf_init(&b2, OV_MAX_CBOR_LEN);
    CHECK(item != NULL);
    CHECK_EQ_INT(ov_cbor_encode(item, &b), 0);
    CHECK_EQ_INT(b.len, n);
    if (b.len == n) {
        CHECK_EQ_MEM(b.ptr, want, n);
    } else {
        fprintf(stderr, "  (encoding of %s)\n", hex);
    }
    cbor_item_t *back = NULL;
    CHECK_EQ_INT(ov_cbor_decode(OV_BYTES(want, n), &back), 0);
    CHECK_EQ_INT(ov_cbor_encode(back, &b2), 0);
    CHECK(b2.len == n && memcmp(b2.ptr, want, n) == 0);
    ov_cbor_free(back);
    ov_cbor_free(item);
    ov_buf_clear(&b);
    ov_buf_clear(&b2);
}

/* RFC 8949 Appendix A: the examples that are deterministically encoded. */
static void
test_appendix_a_ints(void)
{
    static const struct {
        uint64_t v;
        const char *hex;
    } u[] = {
        { 0, "00" },
        { 1, "01" },
        { 10, "0a" },
        { 23, "17" },
        { 24, "1818" },
        { 25, "1819" },
        { 100, "1864" },
        { 1000, "1903e8" },
        { 1000000, "1a000f4240" },
        { 1000000000000, "1b000000e8d4a51000" },
        { 18446744073709551615u, "1bffffffffffffffff" },
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        expect_encoding(ov_cbor_uint(u[i].v), u[i].hex);
    }
    static const struct {
        int64_t v;
        const char *hex;
    } s[] = {
        { -1, "20" },
        { -10, "29" },
        { -100, "3863" },
        { -1000, "3903e7" },
        /* not in Appendix A: the edges of int64_t */
        { INT64_MIN, "3b7fffffffffffffff" },
        { INT64_MAX, "1b7fffffffffffffff" },
        { -24, "37" },
        { -25, "3818" },
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        expect_encoding(ov_cbor_int(s[i].v), s[i].hex);
    }
    /* -18446744073709551616 is outside int64_t, but libcbor can hold it */
    expect_encoding(cbor_build_negint64(UINT64_MAX), "3bffffffffffffffff");
    /* head boundaries of every width */
    expect_encoding(ov_cbor_uint(0xff), "18ff");
    expect_encoding(ov_cbor_uint(0x100), "190100");
    expect_encoding(ov_cbor_uint(0xffff), "19ffff");
    expect_encoding(ov_cbor_uint(0x10000), "1a00010000");
    expect_encoding(ov_cbor_uint(0xffffffff), "1affffffff");
    expect_encoding(ov_cbor_uint(0x100000000), "1b0000000100000000");
    /* a libcbor item of a needlessly wide width still encodes in the shortest form */
    expect_encoding(cbor_build_uint64(5), "05");
}

static void
test_appendix_a_strings(void)
{
    expect_encoding(ov_cbor_bytes(NULL, 0), "40");
    expect_encoding(ov_cbor_bytes("\x01\x02\x03\x04", 4), "4401020304");
    expect_encoding(ov_cbor_text("", 0), "60");
    expect_encoding(ov_cbor_text("a", 1), "6161");
    expect_encoding(ov_cbor_text("IETF", 4), "6449455446");
    expect_encoding(ov_cbor_text("\"\\", 2), "62225c");
    expect_encoding(ov_cbor_text("\xc3\xbc", 2), "62c3bc");
    expect_encoding(ov_cbor_text("\xe6\xb0\xb4", 3), "63e6b0b4");
    expect_encoding(ov_cbor_text("\xf0\x90\x85\x91", 4), "64f0908591");
    expect_encoding(ov_cbor_bool(false), "f4");
    expect_encoding(ov_cbor_bool(true), "f5");
    expect_encoding(ov_cbor_null(), "f6");
    /* length heads: 23, 24 and 256 bytes */
    static const uint8_t zeros[256];
    char hex[2 * 300 + 1];
    size_t heads[] = { 23, 24, 256 };
    for (size_t i = 0; i < 3; i++) {
        size_t n = heads[i];
        size_t off = (size_t)snprintf(hex, sizeof hex, "%s",
                                      n == 23 ? "57" : n == 24 ? "5818" : "590100");
        memset(hex + off, '0', 2 * n);
        hex[off + 2 * n] = 0;
        expect_encoding(ov_cbor_bytes(zeros, n), hex);
    }
}

static void
test_appendix_a_containers(void)
{
    cbor_item_t *a = ov_cbor_array_new();
    expect_encoding(a, "80");

    a = ov_cbor_array_new();
    for (uint64_t i = 1; i <= 3; i++) {
        CHECK_EQ_INT(ov_cbor_push(a, ov_cbor_uint(i)), 0);
    }
    expect_encoding(a, "83010203");

    /* [1, [2, 3], [4, 5]] */
    a = ov_cbor_array_new();
    cbor_item_t *b = ov_cbor_array_new(), *c = ov_cbor_array_new();
    CHECK_EQ_INT(ov_cbor_push(b, ov_cbor_uint(2)), 0);
    CHECK_EQ_INT(ov_cbor_push(b, ov_cbor_uint(3)), 0);
    CHECK_EQ_INT(ov_cbor_push(c, ov_cbor_uint(4)), 0);
    CHECK_EQ_INT(ov_cbor_push(c, ov_cbor_uint(5)), 0);
    CHECK_EQ_INT(ov_cbor_push(a, ov_cbor_uint(1)), 0);
    CHECK_EQ_INT(ov_cbor_push(a, b), 0);
    CHECK_EQ_INT(ov_cbor_push(a, c), 0);
    expect_encoding(a, "8301820203820405");

    /* [1, 2, ..., 25]: a count needing a one-byte argument */
    a = ov_cbor_array_new();
    for (uint64_t i = 1; i <= 25; i++) {
        CHECK_EQ_INT(ov_cbor_push(a, ov_cbor_uint(i)), 0);
    }
    expect_encoding(a, "98190102030405060708090a0b0c0d0e0f101112131415161718181819");

    expect_encoding(ov_cbor_map_new(), "a0");

    /* {"a": 1, "b": [2, 3]}, keys put in reverse order */
    cbor_item_t *m = ov_cbor_map_new();
    b = ov_cbor_array_new();
    CHECK_EQ_INT(ov_cbor_push(b, ov_cbor_uint(2)), 0);
    CHECK_EQ_INT(ov_cbor_push(b, ov_cbor_uint(3)), 0);
    CHECK_EQ_INT(ov_cbor_put(m, "b", b), 0);
    CHECK_EQ_INT(ov_cbor_put_uint(m, "a", 1), 0);
    expect_encoding(m, "a26161016162820203");

    /* ["a", {"b": "c"}] */
    a = ov_cbor_array_new();
    m = ov_cbor_map_new();
    CHECK_EQ_INT(ov_cbor_put_text(m, "b", "c"), 0);
    CHECK_EQ_INT(ov_cbor_push(a, ov_cbor_text("a", 1)), 0);
    CHECK_EQ_INT(ov_cbor_push(a, m), 0);
    expect_encoding(a, "826161a161626163");

    /* {"a": "A", ..., "e": "E"}, put in a scrambled order */
    m = ov_cbor_map_new();
    static const char *const order[] = { "d", "a", "e", "c", "b" };
    for (size_t i = 0; i < 5; i++) {
        char up[2] = { (char)(order[i][0] - 'a' + 'A'), 0 };
        CHECK_EQ_INT(ov_cbor_put_text(m, order[i], up), 0);
    }
    expect_encoding(m, "a56161614161626142616361436164614461656145");

    /* §4.2.1 orders by encoded key: "b" (0x6162) before "aa" (0x626161), and a
     * 24-byte key (0x7818...) after a 23-byte one (0x77...) */
    m = ov_cbor_map_new();
    CHECK_EQ_INT(ov_cbor_put_uint(m, "aa", 1), 0);
    CHECK_EQ_INT(ov_cbor_put_uint(m, "b", 2), 0);
    CHECK_EQ_INT(ov_cbor_put_uint(m, "", 3), 0);
    expect_encoding(m, "a3600361620262616101");
    m = ov_cbor_map_new();
    CHECK_EQ_INT(ov_cbor_put_uint(m, "xxxxxxxxxxxxxxxxxxxxxxxx", 1), 0); /* 24 */
    CHECK_EQ_INT(ov_cbor_put_uint(m, "yyyyyyyyyyyyyyyyyyyyyyy", 2), 0);  /* 23 */
    expect_encoding(m, "a2"
                       "777979797979797979797979797979797979797979797979" "02"
                       "7818787878787878787878787878787878787878787878787878" "01");
}

/* Valid CBOR from Appendix A that the profile refuses, and why. */
static void
test_appendix_a_refused(void)
{
    /* non-text map keys */
    CHECK_EQ_INT(decode_hex("a201020304"), -OV_E_MALFORMED);
    /* tags (including bignums and dates) */
    CHECK_EQ_INT(decode_hex("c074323031332d30332d32315432303a30343a30305a"), -OV_E_MALFORMED);
    CHECK_EQ_INT(decode_hex("c11a514b67b0"), -OV_E_MALFORMED);
    CHECK_EQ_INT(decode_hex("c249010000000000000000"), -OV_E_MALFORMED);
    CHECK_EQ_INT(decode_hex("d74401020304"), -OV_E_MALFORMED);
    CHECK_EQ_INT(decode_hex("d818456449455446"), -OV_E_MALFORMED);
    /* floats, undefined and other simple values */
    static const char *const simple[] = {
        "f90000", "f98000", "f93c00", "fb3ff199999999999a", "f93e00", "f97bff",
        "fa47c35000", "fa7f7fffff", "fb7e37e43c8800759c", "f90001", "f90400",
        "f9c400", "fbc010666666666666", "f97c00", "f97e00", "f9fc00", "fa7f800000",
        "fb7ff8000000000000", "f7", "f0", "f8ff", "f818", "e0", "f3", "ff",
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        CHECK_EQ_INT(decode_hex(simple[i]), -OV_E_MALFORMED);
    }
    /* indefinite lengths */
    static const char *const indef[] = {
        "5f42010243030405ff", "7f657374726561646d696e67ff", "9fff", "9f018202039f0405ffff",
        "9f01820203820405ff", "83018202039f0405ff", "83019f0203ff820405",
        "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff",
        "bf61610161629f0203ffff", "826161bf61626163ff", "bf6346756ef563416d7421ff",
    };
    for (size_t i = 0; i < sizeof indef / sizeof indef[0]; i++) {
        CHECK_EQ_INT(decode_hex(indef[i]), -OV_E_NONCANONICAL);
    }
}

static void
test_noncanonical(void)
{
    static const char *const longer[] = {
        "1817", "1800", "190001", "1900ff", "1a00000001", "1a0000ffff",
        "1b0000000000000001", "1b00000000ffffffff", "3817", "39000a", "3a000003e7",
        "3b0000000000000000", "580100", "59000100", "5a00000000", "5b0000000000000000",
        "780161", "79000161", "980101", "99000101",
        "b801616101", "b90001616101", "a178016101",
    };
    for (size_t i = 0; i < sizeof longer / sizeof longer[0]; i++) {
        CHECK_EQ_INT(decode_hex(longer[i]), -OV_E_NONCANONICAL);
    }
    /* unsorted keys: {"b":1,"a":2}, "aa" before "b", "" last, nested */
    CHECK_EQ_INT(decode_hex("a2616201616102"), -OV_E_NONCANONICAL);
    CHECK_EQ_INT(decode_hex("a262616101616202"), -OV_E_NONCANONICAL);
    CHECK_EQ_INT(decode_hex("a2616101600102"), -OV_E_NONCANONICAL);
    CHECK_EQ_INT(decode_hex("81a2616201616102"), -OV_E_NONCANONICAL);
    /* sorted by the wrong rule (RFC 7049's length-first order agrees here, value order
     * does not): "b" then "aa" is right, "aa" then "b" is not */
    CHECK_EQ_INT(decode_hex("a261620262616101"), 0);
    /* duplicate keys, adjacent and after a nesting */
    CHECK_EQ_INT(decode_hex("a2616101616102"), -OV_E_MALFORMED);
    CHECK_EQ_INT(decode_hex("a3616101616102616102"), -OV_E_MALFORMED);
    CHECK_EQ_INT(decode_hex("a26161a0616180"), -OV_E_MALFORMED);
    /* reserved additional information, and ai 31 where it is not even well-formed */
    static const char *const bad[] = {
        "1c", "1d", "1e", "1f", "3c", "3f", "5c", "7d", "9e", "bc", "dc", "df", "fc",
        "fd", "fe", "c0", "c000", "d9010000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(decode_hex(bad[i]), -OV_E_MALFORMED);
    }
    /* non-text keys of every kind */
    static const char *const keys[] = {
        "a10000", "a12000", "a14000", "a18000", "a1a000", "a1f400", "a1f600", "a1c06100",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        CHECK_EQ_INT(decode_hex(keys[i]), -OV_E_MALFORMED);
    }
}

static void
test_utf8(void)
{
    static const char *const good[] = {
        "6100", "617f", "62c280", "62dfbf", "63e0a080", "63ed9fbf", "63ee8080", "63efbfbf",
        "64f0908080", "64f48fbfbf", "64f3bfbfbf",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_EQ_INT(decode_hex(good[i]), 0);
    }
    static const char *const bad[] = {
        "6180",       /* lone continuation */
        "61c2",       /* truncated sequence */
        "62c0af",     /* overlong '/' */
        "62c1bf",     /* overlong */
        "63e09fbf",   /* overlong 3-byte */
        "63eda080",   /* surrogate U+D800 */
        "63edbfbf",   /* surrogate U+DFFF */
        "64f08fbfbf", /* overlong 4-byte */
        "64f4908080", /* U+110000 */
        "64f5808080", /* lead byte past F4 */
        "61ff", "61fe",
        "62c241",     /* bad continuation */
        "63e2a841",
        "64f0908041",
        "a161ff00",   /* in a key */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(decode_hex(bad[i]), -OV_E_MALFORMED);
    }
    /* the encoder refuses invalid text too */
    struct ov_buf b;
    ov_buf_init(&b, 100);
    cbor_item_t *t = ov_cbor_text("\xed\xa0\x80", 3);
    CHECK_EQ_INT(ov_cbor_encode(t, &b), -OV_E_MALFORMED);
    ov_cbor_free(t);
    cbor_item_t *m = ov_cbor_map_new();
    CHECK_EQ_INT(ov_cbor_put_uint(m, "\xff", 1), 0);
    CHECK_EQ_INT(ov_cbor_encode(m, &b), -OV_E_MALFORMED);
    CHECK_EQ_INT(b.len, 0);
    ov_cbor_free(m);
    ov_buf_clear(&b);
}

/* A typical log entry: the decode target of the tests below. */
static cbor_item_t *
make_entry(void)
{
    uint8_t token[354], sig[64], ctx[32];
    for (size_t i = 0; i < sizeof token; i++) {
        token[i] = (uint8_t)(i * 7);
    }
    memset(sig, 0x5a, sizeof sig);
    memset(ctx, 0xc3, sizeof ctx);
    cbor_item_t *m = ov_cbor_map_new();
    cbor_item_t *arr = ov_cbor_array_new();
    cbor_item_t *sub = ov_cbor_map_new();
    int rc = 0;
    rc |= ov_cbor_put_text(m, "kind", "action");
    rc |= ov_cbor_put_bytes(m, "token", token, sizeof token);
    rc |= ov_cbor_put_bytes(m, "sig", sig, sizeof sig);
    rc |= ov_cbor_put_bytes(m, "ctx", ctx, sizeof ctx);
    rc |= ov_cbor_put_uint(m, "time", 1700000000);
    rc |= ov_cbor_put(m, "delta", ov_cbor_int(-3));
    rc |= ov_cbor_put_bool(m, "final", true);
    rc |= ov_cbor_push(arr, ov_cbor_uint(1));
    rc |= ov_cbor_push(arr, ov_cbor_text("two", 3));
    rc |= ov_cbor_push(arr, ov_cbor_null());
    rc |= ov_cbor_put(m, "list", arr);
    rc |= ov_cbor_put_text(sub, "note", "n-17");
    rc |= ov_cbor_put(m, "sub", sub);
    CHECK_EQ_INT(rc, 0);
    return m;
}

static void
encode_entry(struct ov_buf *b)
{
    cbor_item_t *m = make_entry();
    ov_buf_init(b, OV_MAX_CBOR_LEN);
    CHECK_EQ_INT(ov_cbor_encode(m, b), 0);
    ov_cbor_free(m);
}

static void
test_truncation_and_trailing(void)
{
    struct ov_buf b;
    encode_entry(&b);
    CHECK_EQ_INT(decode_raw(b.ptr, b.len), 0);
    /* every proper prefix of one data item is an incomplete item */
    for (size_t cut = 0; cut < b.len; cut++) {
        CHECK_EQ_INT(decode_raw(b.ptr, cut), -OV_E_TRUNCATED);
    }
    /* trailing bytes, whatever they are */
    static const uint8_t tails[] = { 0x00, 0xff, 0xa0, 0x60 };
    for (size_t i = 0; i < sizeof tails; i++) {
        struct ov_buf t;
        ov_buf_init(&t, OV_MAX_CBOR_LEN);
        CHECK_EQ_INT(ov_buf_append(&t, b.ptr, b.len), 0);
        CHECK_EQ_INT(ov_buf_append(&t, &tails[i], 1), 0);
        CHECK_EQ_INT(decode_raw(t.ptr, t.len), -OV_E_TRAILING);
        ov_buf_clear(&t);
    }
    CHECK_EQ_INT(decode_hex("0000"), -OV_E_TRAILING);
    CHECK_EQ_INT(decode_hex("a0a0"), -OV_E_TRAILING);
    /* declared lengths far beyond the input (libcbor would allocate them up front) */
    static const char *const huge[] = {
        "9affffffff", "9bffffffffffffffff", "bbffffffffffffffff", "baffffffff",
        "5bffffffffffffffff", "7affffffff", "9a00010000", "b9ffff", "8201", "a16161",
        "a2616101",
    };
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        CHECK_EQ_INT(decode_hex(huge[i]), -OV_E_TRUNCATED);
    }
    ov_buf_clear(&b);
}

static void
test_limits(void)
{
    uint8_t nest[OV_MAX_CBOR_DEPTH + 2];
    /* OV_MAX_CBOR_DEPTH nested arrays are fine, one more is not */
    memset(nest, 0x81, sizeof nest);
    nest[OV_MAX_CBOR_DEPTH - 1] = 0x80;
    CHECK_EQ_INT(decode_raw(nest, OV_MAX_CBOR_DEPTH), 0);
    nest[OV_MAX_CBOR_DEPTH - 1] = 0x81;
    nest[OV_MAX_CBOR_DEPTH] = 0x80;
    CHECK_EQ_INT(decode_raw(nest, OV_MAX_CBOR_DEPTH + 1), -OV_E_TOO_BIG);
    /* the same through maps: {"":{"":...{}}} */
    uint8_t mnest[2 * (OV_MAX_CBOR_DEPTH + 1) + 1];
    for (size_t d = OV_MAX_CBOR_DEPTH; d <= OV_MAX_CBOR_DEPTH + 1; d++) {
        size_t n = 0;
        for (size_t i = 0; i + 1 < d; i++) {
            mnest[n++] = 0xa1;
            mnest[n++] = 0x60;
        }
        mnest[n++] = 0xa0;
        CHECK_EQ_INT(decode_raw(mnest, n), d == OV_MAX_CBOR_DEPTH ? 0 : -OV_E_TOO_BIG);
    }
    /* the encoder refuses what the decoder would */
    cbor_item_t *deep = ov_cbor_array_new();
    for (size_t d = 1; d <= OV_MAX_CBOR_DEPTH; d++) {
        struct ov_buf b;
        ov_buf_init(&b, 100);
        CHECK_EQ_INT(ov_cbor_encode(deep, &b), 0);
        CHECK_EQ_INT(b.len, d);
        ov_buf_clear(&b);
        cbor_item_t *outer = ov_cbor_array_new();
        CHECK_EQ_INT(ov_cbor_push(outer, deep), 0);
        deep = outer;
    }
    struct ov_buf b;
    ov_buf_init(&b, 100);
    CHECK_EQ_INT(ov_cbor_encode(deep, &b), -OV_E_TOO_BIG);
    CHECK_EQ_INT(b.len, 0);
    ov_cbor_free(deep);

    /* OV_MAX_CBOR_LEN exactly: a byte string with a 3-byte head */
    static uint8_t big[OV_MAX_CBOR_LEN + 1];
    size_t body = OV_MAX_CBOR_LEN - 3;
    big[0] = 0x59;
    big[1] = (uint8_t)(body >> 8);
    big[2] = (uint8_t)body;
    CHECK_EQ_INT(decode_raw(big, OV_MAX_CBOR_LEN), 0);
    CHECK_EQ_INT(decode_raw(big, OV_MAX_CBOR_LEN + 1), -OV_E_TOO_BIG);
    cbor_item_t *bs = ov_cbor_bytes(big + 3, body);
    ov_buf_clear(&b);
    ov_buf_init(&b, SIZE_MAX);
    CHECK_EQ_INT(ov_cbor_encode(bs, &b), 0);
    CHECK_EQ_INT(b.len, OV_MAX_CBOR_LEN);
    ov_buf_clear(&b);
    ov_cbor_free(bs);
    bs = ov_cbor_bytes(big, body + 1);
    ov_buf_init(&b, SIZE_MAX);
    CHECK_EQ_INT(ov_cbor_encode(bs, &b), -OV_E_TOO_BIG);
    CHECK_EQ_INT(b.len, 0);
    ov_buf_clear(&b);
    ov_cbor_free(bs);

    /* OV_MAX_CBOR_ITEMS: an array of n zeros holds n + 1 items */
    memset(big, 0, sizeof big);
    big[0] = 0x99;
    for (size_t n = OV_MAX_CBOR_ITEMS - 1; n <= OV_MAX_CBOR_ITEMS; n++) {
        big[1] = (uint8_t)(n >> 8);
        big[2] = (uint8_t)n;
        CHECK_EQ_INT(decode_raw(big, 3 + n), n < OV_MAX_CBOR_ITEMS ? 0 : -OV_E_TOO_BIG);
    }
    /* an output buffer too small: nothing written */
    ov_buf_init(&b, 10);
    CHECK_EQ_INT(ov_buf_append(&b, "xy", 2), 0);
    cbor_item_t *e = make_entry();
    CHECK_EQ_INT(ov_cbor_encode(e, &b), -OV_E_TOO_BIG);
    CHECK_EQ_INT(b.len, 2);
    ov_cbor_free(e);
    ov_buf_clear(&b);
}

static void
test_encoder_refuses(void)
{
    struct ov_buf b;
    ov_buf_init(&b, 1000);
    cbor_item_t *bad[] = {
        cbor_build_float2(0.0f), cbor_build_float4(1.5f), cbor_build_float8(-4.1),
        cbor_new_undef(), cbor_build_ctrl(16), cbor_build_ctrl(255), NULL, NULL, NULL,
    };
    bad[6] = cbor_new_tag(1);
    cbor_item_t *inner = ov_cbor_uint(1);
    cbor_tag_set_item(bad[6], inner);
    ov_cbor_free(inner);
    bad[7] = cbor_new_indefinite_bytestring();
    bad[8] = ov_cbor_map_new(); /* a non-text key */
    cbor_item_t *k = ov_cbor_uint(1), *v = ov_cbor_uint(2);
    CHECK(cbor_map_add(bad[8], (struct cbor_pair){ .key = k, .value = v }));
    ov_cbor_free(k);
    ov_cbor_free(v);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(bad[i] != NULL);
        CHECK_EQ_INT(ov_cbor_encode(bad[i], &b), -OV_E_MALFORMED);
        /* nested inside a map too */
        cbor_item_t *m = ov_cbor_map_new();
        CHECK_EQ_INT(ov_cbor_put_uint(m, "a", 1), 0);
        CHECK_EQ_INT(ov_cbor_put(m, "x", cbor_incref(bad[i])), 0);
        CHECK_EQ_INT(ov_cbor_encode(m, &b), -OV_E_MALFORMED);
        ov_cbor_free(m);
        ov_cbor_free(bad[i]);
    }
    CHECK_EQ_INT(b.len, 0);
    /* duplicate keys from the builder */
    cbor_item_t *m = ov_cbor_map_new();
    CHECK_EQ_INT(ov_cbor_put_uint(m, "a", 1), 0);
    CHECK_EQ_INT(ov_cbor_put_uint(m, "b", 1), 0);
    CHECK_EQ_INT(ov_cbor_put_uint(m, "a", 2), 0);
    CHECK_EQ_INT(ov_cbor_encode(m, &b), -OV_E_MALFORMED);
    ov_cbor_free(m);
    /* a NULL value (failed constructor) is reported, not stored */
    m = ov_cbor_map_new();
    CHECK_EQ_INT(ov_cbor_put(m, "a", NULL), -OV_E_NOMEM);
    CHECK_EQ_INT(cbor_map_size(m), 0);
    cbor_item_t *a = ov_cbor_array_new();
    CHECK_EQ_INT(ov_cbor_push(a, NULL), -OV_E_NOMEM);
    /* a full definite libcbor container */
    cbor_item_t *fixed = cbor_new_definite_array(0);
    CHECK_EQ_INT(ov_cbor_push(fixed, ov_cbor_uint(1)), -OV_E_TOO_BIG);
    ov_cbor_free(fixed);
    ov_cbor_free(a);
    ov_cbor_free(m);
    CHECK_EQ_INT(ov_cbor_encode(NULL, &b), -OV_E_MALFORMED);
    ov_buf_clear(&b);
}

/* What libcbor 0.8 accepts on its own, so the wrappers' checks are not redundant. */
static void
test_libcbor_quirks(void)
{
    static const char *const lax[] = {
        "1817",           /* non-shortest int: read as a uint8 item of value 23 */
        "a2616101616102", /* duplicate keys: both pairs kept */
        "a2616201616102", /* unsorted keys */
        "5f42010243030405ff", /* indefinite string */
        "f93c00", "c11a514b67b0", "f7",
        /* (libcbor 0.8 does refuse invalid UTF-8 in definite text: "62c0af") */
    };
    for (size_t i = 0; i < sizeof lax / sizeof lax[0]; i++) {
        uint8_t buf[64];
        size_t n = unhex(lax[i], buf, sizeof buf);
        struct cbor_load_result res;
        cbor_item_t *it = cbor_load(buf, n, &res);
        CHECK(it != NULL && res.error.code == CBOR_ERR_NONE && res.read == n);
        ov_cbor_free(it);
        CHECK(decode_raw(buf, n) != 0);
    }
    /* trailing bytes: cbor_load stops after one item and reports success */
    struct cbor_load_result res;
    cbor_item_t *it = cbor_load((const uint8_t *)"\x01\x02", 2, &res);
    CHECK(it != NULL && res.error.code == CBOR_ERR_NONE && res.read == 1);
    ov_cbor_free(it);
}

static void
test_readers(void)
{
    struct ov_buf b;
    encode_entry(&b);
    cbor_item_t *m = NULL;
    CHECK_EQ_INT(ov_cbor_decode_map(ov_buf_view(&b), &m), 0);

    struct ov_bytes v;
    uint64_t u;
    int64_t s;
    bool flag;
    uint8_t sig[64], ctx[32];
    CHECK_EQ_INT(ov_cbor_get_text(m, "kind", 16, &v), 0);
    CHECK(ov_cbor_text_eq(v, "action"));
    CHECK(!ov_cbor_text_eq(v, "actio"));
    CHECK(!ov_cbor_text_eq(v, "actions"));
    CHECK_EQ_INT(ov_cbor_get_text(m, "kind", 5, &v), -OV_E_TOO_BIG);
    CHECK(v.ptr == NULL && v.len == 0);
    CHECK_EQ_INT(ov_cbor_get_bytes(m, "token", 354, 354, &v), 0);
    CHECK(v.len == 354 && v.ptr[1] == 7);
    CHECK_EQ_INT(ov_cbor_get_bytes(m, "token", 0, 353, &v), -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_cbor_get_bytes(m, "token", 355, 1000, &v), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_cbor_get_fixed(m, "sig", sig, sizeof sig), 0);
    CHECK(sig[0] == 0x5a && sig[63] == 0x5a);
    CHECK_EQ_INT(ov_cbor_get_fixed(m, "sig", ctx, sizeof ctx), -OV_E_MALFORMED);
    CHECK(ctx[0] == 0 && ctx[31] == 0);
    CHECK_EQ_INT(ov_cbor_get_fixed(m, "ctx", ctx, sizeof ctx), 0);
    CHECK_EQ_INT(ov_cbor_get_fixed(m, "ctx", sig, sizeof sig), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_cbor_get_fixed(m, "nope", sig, sizeof sig), -OV_E_NOT_FOUND);
    CHECK_EQ_INT(ov_cbor_get_uint(m, "time", UINT64_MAX, &u), 0);
    CHECK_EQ_INT(u, 1700000000);
    CHECK_EQ_INT(ov_cbor_get_uint(m, "time", 1699999999, &u), -OV_E_RANGE);
    CHECK_EQ_INT(u, 0);
    CHECK_EQ_INT(ov_cbor_get_uint(m, "delta", UINT64_MAX, &u), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_cbor_get_int(m, "delta", &s), 0);
    CHECK_EQ_INT(s, -3);
    CHECK_EQ_INT(ov_cbor_get_int(m, "time", &s), 0);
    CHECK_EQ_INT(s, 1700000000);
    CHECK_EQ_INT(ov_cbor_get_bool(m, "final", &flag), 0);
    CHECK(flag);
    CHECK_EQ_INT(ov_cbor_get_bool(m, "time", &flag), -OV_E_MALFORMED);
    /* wrong types everywhere */
    CHECK_EQ_INT(ov_cbor_get_text(m, "token", 1000, &v), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_cbor_get_bytes(m, "kind", 0, 1000, &v), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_cbor_get_uint(m, "kind", UINT64_MAX, &u), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_cbor_get_uint(m, "missing", UINT64_MAX, &u), -OV_E_NOT_FOUND);

    const cbor_item_t *arr, *sub;
    size_t n;
    CHECK_EQ_INT(ov_cbor_get_array(m, "list", 3, &arr, &n), 0);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(ov_cbor_as_uint(ov_cbor_at(arr, 0), 10, &u), 0);
    CHECK_EQ_INT(u, 1);
    CHECK_EQ_INT(ov_cbor_as_text(ov_cbor_at(arr, 1), 10, &v), 0);
    CHECK(ov_cbor_text_eq(v, "two"));
    CHECK(cbor_is_null(ov_cbor_at(arr, 2)));
    CHECK(ov_cbor_at(arr, 3) == NULL);
    CHECK(ov_cbor_at(m, 0) == NULL);
    CHECK_EQ_INT(ov_cbor_as_uint(ov_cbor_at(arr, 3), 10, &u), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_cbor_get_array(m, "list", 2, &arr, &n), -OV_E_TOO_BIG);
    CHECK(arr == NULL && n == 0);
    CHECK_EQ_INT(ov_cbor_get_array(m, "sub", 9, &arr, &n), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_cbor_get_map(m, "sub", &sub), 0);
    CHECK_EQ_INT(ov_cbor_get_text(sub, "note", 10, &v), 0);
    CHECK(ov_cbor_text_eq(v, "n-17"));
    CHECK_EQ_INT(ov_cbor_get_map(m, "list", &sub), -OV_E_MALFORMED);
    CHECK(sub == NULL);
    CHECK_EQ_INT(ov_cbor_get_text(arr, "x", 10, &v), -OV_E_MALFORMED);

    static const char *const all[] = { "kind", "token", "sig", "ctx", "time",
                                       "delta", "final", "list", "sub" };
    CHECK_EQ_INT(ov_cbor_only_keys(m, all, 9), 0);
    CHECK_EQ_INT(ov_cbor_only_keys(m, all, 8), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_cbor_only_keys(m, all + 1, 8), -OV_E_MALFORMED);
    ov_cbor_free(m);

    /* the top item must be a map for decode_map */
    CHECK_EQ_INT(ov_cbor_decode_map(OV_BYTES("\x80", 1), &m), -OV_E_MALFORMED);
    CHECK(m == NULL);
    /* integer edges of as_int */
    cbor_item_t *x;
    CHECK_EQ_INT(ov_cbor_decode(OV_BYTES("\x3b\x7f\xff\xff\xff\xff\xff\xff\xff", 9), &x), 0);
    CHECK_EQ_INT(ov_cbor_as_int(x, &s), 0);
    CHECK(s == INT64_MIN);
    ov_cbor_free(x);
    CHECK_EQ_INT(ov_cbor_decode(OV_BYTES("\x3b\x80\x00\x00\x00\x00\x00\x00\x00", 9), &x), 0);
    CHECK_EQ_INT(ov_cbor_as_int(x, &s), -OV_E_RANGE);
    ov_cbor_free(x);
    CHECK_EQ_INT(ov_cbor_decode(OV_BYTES("\x1b\x80\x00\x00\x00\x00\x00\x00\x00", 9), &x), 0);
    CHECK_EQ_INT(ov_cbor_as_int(x, &s), -OV_E_RANGE);
    CHECK_EQ_INT(ov_cbor_as_uint(x, UINT64_MAX, &u), 0);
    CHECK(u == 0x8000000000000000u);
    CHECK_EQ_INT(ov_cbor_as_map(x), -OV_E_MALFORMED);
    ov_cbor_free(x);
    ov_buf_clear(&b);
}

/* A deterministic pseudo-random tree: each node a scalar or a container. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static cbor_item_t *
random_tree(unsigned depth)
{
    static const char *const words[] = { "", "a", "b", "aa", "kind", "\xc3\xbc", "z", "ab" };
    uint8_t raw[40];
    unsigned pick = (unsigned)(rng() % (depth < 4 ? 9 : 6));
    switch (pick) {
    case 0: {
        uint64_t shift = rng() % 64; /* sequenced: operand order is unspecified */
        return ov_cbor_uint(rng() >> shift);
    }
    case 1: {
        uint64_t shift = 1 + rng() % 63;
        return ov_cbor_int(-(int64_t)(rng() >> shift) - 1);
    }
    case 2:
        for (size_t i = 0; i < sizeof raw; i++) {
            raw[i] = (uint8_t)rng();
        }
        return ov_cbor_bytes(raw, (size_t)(rng() % sizeof raw));
    case 3: {
        const char *w = words[rng() % 8];
        return ov_cbor_text(w, strlen(w));
    }
    case 4:
        return ov_cbor_bool(rng() & 1);
    case 5:
        return ov_cbor_null();
    case 6:
    case 7: {
        cbor_item_t *a = ov_cbor_array_new();
        size_t n = (size_t)(rng() % 5);
        for (size_t i = 0; i < n; i++) {
            CHECK_EQ_INT(ov_cbor_push(a, random_tree(depth + 1)), 0);
        }
        return a;
    }
    default: {
        cbor_item_t *m = ov_cbor_map_new();
        unsigned used = 0;
        size_t n = (size_t)(rng() % 6);
        for (size_t i = 0; i < n; i++) {
            unsigned w = (unsigned)(rng() % 8);
            if (used & (1u << w)) {
                continue; /* keep keys distinct */
            }
            used |= 1u << w;
            CHECK_EQ_INT(ov_cbor_put(m, words[w], random_tree(depth + 1)), 0);
        }
        return m;
    }
    }
}

static void
test_round_trips(void)
{
    for (int i = 0; i < 500; i++) {
        cbor_item_t *t = random_tree(0);
        struct ov_buf b, b2;
        ov_buf_init(&b, OV_MAX_CBOR_LEN);
        ov_buf_init(&b2, OV_MAX_CBOR_LEN);
        CHECK_EQ_INT(ov_cbor_encode(t, &b), 0);
        cbor_item_t *back = NULL;
        CHECK_EQ_INT(ov_cbor_decode(ov_buf_view(&b), &back), 0);
        CHECK_EQ_INT(ov_cbor_encode(back, &b2), 0);
        CHECK(b.len == b2.len && memcmp(b.ptr, b2.ptr, b.len) == 0);
        /* flipping any one bit either is refused or gives a different canonical value */
        size_t at = (size_t)(rng() % b.len);
        unsigned bit = (unsigned)(rng() % 8);
        b.ptr[at] ^= (uint8_t)(1u << bit);
        cbor_item_t *flip = NULL;
        if (ov_cbor_decode(ov_buf_view(&b), &flip) == 0) {
            struct ov_buf b3;
            ov_buf_init(&b3, OV_MAX_CBOR_LEN);
            CHECK_EQ_INT(ov_cbor_encode(flip, &b3), 0);
            CHECK(b3.len == b.len && memcmp(b3.ptr, b.ptr, b.len) == 0);
            ov_buf_clear(&b3);
        }
        ov_cbor_free(flip);
        ov_cbor_free(back);
        ov_cbor_free(t);
        ov_buf_clear(&b);
        ov_buf_clear(&b2);
    }
}

/* Views: the fast readers the entry decoder uses for its frequent kinds. */
static void
test_views(void)
{
    cbor_item_t *m = ov_cbor_map_new();
    struct ov_buf b;
    ov_buf_init(&b, OV_MAX_CBOR_LEN);
    CHECK(m != NULL);
    CHECK_EQ_INT(ov_cbor_put_uint(m, "a", 1), 0);
    CHECK_EQ_INT(ov_cbor_put(m, "b", ov_cbor_int(-5)), 0);
    CHECK_EQ_INT(ov_cbor_put_text(m, "cc", "x"), 0);
    CHECK_EQ_INT(ov_cbor_encode(m, &b), 0);
    ov_cbor_free(m);
    struct ov_bytes map = ov_buf_view(&b), vals[4], t;
    int64_t i;
    uint64_t u;
    static const char *const keys[4] = { "cc", "zz", "b", "a" };
    CHECK_EQ_INT(ov_cbor_check(map), 0);
    CHECK_EQ_INT(ov_cbor_view_fields(map, keys, 4, vals), 0);
    CHECK(vals[1].ptr == NULL); /* absent */
    CHECK_EQ_INT(ov_cbor_view_uint(vals[3], UINT64_MAX, &u), 0);
    CHECK(u == 1);
    CHECK_EQ_INT(ov_cbor_view_int(vals[2], &i), 0);
    CHECK(i == -5);
    CHECK_EQ_INT(ov_cbor_view_int(vals[3], &i), 0);
    CHECK(i == 1);
    CHECK_EQ_INT(ov_cbor_view_text(vals[0], 8, &t), 0);
    CHECK(t.len == 1 && t.ptr[0] == 'x');
    CHECK_EQ_INT(ov_cbor_view_int(vals[0], &i), -OV_E_MALFORMED);
    CHECK(i == 0);
    /* a key not listed: refused, every output emptied */
    CHECK_EQ_INT(ov_cbor_view_fields(map, keys, 3, vals), -OV_E_MALFORMED);
    CHECK(vals[0].ptr == NULL && vals[2].ptr == NULL);
    /* not a map */
    static const uint8_t one[] = { 0x01 };
    CHECK_EQ_INT(ov_cbor_view_fields(OV_BYTES(one, 1), keys, 4, vals), -OV_E_MALFORMED);
    /* integers at the edges of int64_t */
    static const uint8_t min64[] = { 0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t below[] = { 0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t max64[] = { 0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t above[] = { 0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0 };
    CHECK_EQ_INT(ov_cbor_view_int(OV_BYTES(min64, 9), &i), 0);
    CHECK(i == INT64_MIN);
    CHECK_EQ_INT(ov_cbor_view_int(OV_BYTES(below, 9), &i), -OV_E_RANGE);
    CHECK_EQ_INT(ov_cbor_view_int(OV_BYTES(max64, 9), &i), 0);
    CHECK(i == INT64_MAX);
    CHECK_EQ_INT(ov_cbor_view_int(OV_BYTES(above, 9), &i), -OV_E_RANGE);
    CHECK_EQ_INT(ov_cbor_view_int(OV_BYTES(min64, 4), &i), -OV_E_TRUNCATED);
    ov_buf_clear(&b);
}

int
main(void)
{
    test_appendix_a_ints();
    test_appendix_a_strings();
    test_appendix_a_containers();
    test_appendix_a_refused();
    test_noncanonical();
    test_utf8();
    test_truncation_and_trailing();
    test_limits();
    test_encoder_refuses();
    test_libcbor_quirks();
    test_readers();
    test_round_trips();
    test_views();
    TEST_DONE("test_cbor");
}
