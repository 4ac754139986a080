/* Unit tests: ov_buf, ov_reader/ov_writer and the hex/base64 codecs. */
#include <stdint.h>
#include <string.h>

#include "base/bytes.h"
#include "base/codec.h"
#include "base/reader.h"
#include "../test.h"

static void
test_reader(void)
{
    static const uint8_t in[] = { 1, 0, 2, 0, 0, 0, 3, 'a', 'b', 'c' };
    struct ov_reader r;
    struct ov_bytes v;
    ov_reader_init(&r, OV_BYTES(in, sizeof in));
    CHECK_EQ_INT(ov_reader_u8(&r), 1);
    CHECK_EQ_INT(ov_reader_u16be(&r), 2);
    CHECK_EQ_INT(ov_reader_u32be(&r), 3);
    ov_reader_bytes(&r, 3, &v);
    CHECK(v.len == 3 && memcmp(v.ptr, "abc", 3) == 0);
    CHECK_EQ_INT(ov_reader_end(&r), 0);

    /* truncation at every offset is sticky and reported once at the end */
    for (size_t cut = 0; cut < sizeof in; cut++) {
        ov_reader_init(&r, OV_BYTES(in, cut));
        (void)ov_reader_u8(&r);
        (void)ov_reader_u16be(&r);
        (void)ov_reader_u32be(&r);
        ov_reader_bytes(&r, 3, &v);
        CHECK_EQ_INT(ov_reader_end(&r), -OV_E_TRUNCATED);
        CHECK(v.ptr == NULL && v.len == 0);
    }
    /* trailing bytes */
    ov_reader_init(&r, OV_BYTES(in, sizeof in));
    (void)ov_reader_u8(&r);
    CHECK_EQ_INT(ov_reader_end(&r), -OV_E_TRAILING);
    /* a huge length never wraps around */
    ov_reader_init(&r, OV_BYTES(in, sizeof in));
    (void)ov_reader_u8(&r);
    ov_reader_bytes(&r, SIZE_MAX, &v);
    CHECK_EQ_INT(ov_reader_end(&r), -OV_E_TRUNCATED);
    CHECK_EQ_INT(ov_reader_u64be(&r), 0);
}

/* ov_reader_fail records a parser's own verdict, and only the first error sticks. */
static void
test_reader_fail(void)
{
    static const uint8_t in[] = { 0, 9 };
    struct ov_reader r;
    ov_reader_init(&r, OV_BYTES(in, sizeof in));
    CHECK_EQ_INT(ov_reader_u16be(&r), 9);
    CHECK_EQ_INT(ov_reader_fail(&r, -OV_E_TOO_BIG), -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_reader_fail(&r, -OV_E_MALFORMED), -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_reader_u8(&r), 0);
    CHECK_EQ_INT(ov_reader_end(&r), -OV_E_TOO_BIG);
    ov_reader_init(&r, OV_BYTES(in, 1));
    (void)ov_reader_u16be(&r);
    CHECK_EQ_INT(ov_reader_fail(&r, -OV_E_MALFORMED), -OV_E_TRUNCATED);
}

static void
test_writer(void)
{
    uint8_t out[8];
    struct ov_writer w;
    ov_writer_init(&w, out, sizeof out);
    ov_writer_u16be(&w, 0x0102);
    ov_writer_u32be(&w, 0x03040506);
    CHECK_EQ_INT(ov_writer_end(&w), 0);
    CHECK_EQ_MEM(out, "\x01\x02\x03\x04\x05\x06", 6);
    ov_writer_u32be(&w, 7); /* does not fit */
    CHECK_EQ_INT(ov_writer_end(&w), -OV_E_TOO_BIG);
    CHECK_EQ_INT(w.len, 6);
}

static void
test_buf(void)
{
    struct ov_buf b;
    ov_buf_init(&b, 10);
    CHECK_EQ_INT(ov_buf_append(&b, "hello", 5), 0);
    CHECK_EQ_INT(ov_buf_printf(&b, "%d", 12345), 0);
    CHECK_EQ_INT(b.len, 10);
    CHECK_EQ_INT(ov_buf_append(&b, "x", 1), -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_buf_printf(&b, "y"), -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_buf_terminate(&b), 0);
    CHECK(strcmp((char *)b.ptr, "hello12345") == 0);
    ov_buf_clear(&b);
    ov_buf_clear(NULL);

    /* an unbounded buffer (max SIZE_MAX): max + 1 and len + n + 1 must not wrap */
    ov_buf_init(&b, SIZE_MAX);
    CHECK_EQ_INT(ov_buf_append(&b, "hello", 5), 0);
    CHECK(b.cap >= 6);
    CHECK_EQ_INT(ov_buf_reserve(&b, SIZE_MAX - 5), -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_buf_terminate(&b), 0);
    CHECK(strcmp((char *)b.ptr, "hello") == 0);
    ov_buf_clear(&b);
}

static void
test_codec(void)
{
    uint8_t out[64];
    size_t n;
    char s[128];
    CHECK_EQ_INT(ov_hex_decode(out, sizeof out, &n, "00ff10", 6), 0);
    CHECK(n == 3 && out[1] == 0xff);
    CHECK_EQ_INT(ov_hex_decode(out, sizeof out, &n, "0", 1), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_hex_decode(out, sizeof out, &n, "0g", 2), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_hex_decode(out, 1, &n, "0011", 4), -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_hex_encode(s, sizeof s, out, 3), 0);
    CHECK(strcmp(s, "00ff10") == 0);

    /* RFC 4648 §10 */
    CHECK_EQ_INT(ov_b64_encode(s, sizeof s, (const uint8_t *)"foob", 4, OV_B64_STD), 0);
    CHECK(strcmp(s, "Zm9vYg==") == 0);
    CHECK_EQ_INT(ov_b64_encode(s, sizeof s, (const uint8_t *)"foob", 4, OV_B64_URL_NOPAD), 0);
    CHECK(strcmp(s, "Zm9vYg") == 0);
    CHECK_EQ_INT(ov_b64_decode(out, sizeof out, &n, "Zm9vYg==", 8, OV_B64_STD), 0);
    CHECK(n == 4 && memcmp(out, "foob", 4) == 0);
    /* strict: missing padding, extra padding, non-zero unused bits, alphabet mix-ups */
    CHECK_EQ_INT(ov_b64_decode(out, sizeof out, &n, "Zm9vYg", 6, OV_B64_STD), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_b64_decode(out, sizeof out, &n, "Zm9vYg==", 8, OV_B64_URL_NOPAD),
                 -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_b64_decode(out, sizeof out, &n, "Zm9vYh==", 8, OV_B64_STD), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_b64_decode(out, sizeof out, &n, "-_8=", 4, OV_B64_STD), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_b64_decode(out, sizeof out, &n, "-_8", 3, OV_B64_URL_NOPAD), 0);
    CHECK_EQ_INT(ov_b64_decode(out, sizeof out, &n, "Zm9v Yg==", 9, OV_B64_STD),
                 -OV_E_MALFORMED);

    /* libsodium 1.0.18 decodes bytes >= 0x80 as '/' or '_': every such byte is refused */
    for (int c = 0; c < 256; c++) {
        char in[4] = { 'Z', 'm', '9', (char)c };
        int valid = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        CHECK_EQ_INT(ov_b64_decode(out, sizeof out, &n, in, 4, OV_B64_STD_NOPAD),
                     valid || c == '+' || c == '/' ? 0 : -OV_E_MALFORMED);
        CHECK_EQ_INT(ov_b64_decode(out, sizeof out, &n, in, 4, OV_B64_URL_NOPAD),
                     valid || c == '-' || c == '_' ? 0 : -OV_E_MALFORMED);
    }

    struct ov_buf b;
    ov_buf_init(&b, 100);
    CHECK_EQ_INT(ov_buf_append_b64(&b, (const uint8_t *)"fo", 2, OV_B64_STD), 0);
    CHECK_EQ_INT(ov_buf_append_hex(&b, (const uint8_t *)"\xab", 1), 0);
    CHECK(b.len == 6 && memcmp(b.ptr, "Zm8=ab", 6) == 0);
    ov_buf_clear(&b);
}

static void
test_parse_u64(void)
{
    uint64_t v = 1;
    CHECK_EQ_INT(ov_parse_u64("0", 1, &v), 0);
    CHECK(v == 0);
    CHECK_EQ_INT(ov_parse_u64("18446744073709551615", 20, &v), 0);
    CHECK(v == UINT64_MAX);
    CHECK_EQ_INT(ov_parse_u64("18446744073709551616", 20, &v), -OV_E_RANGE);
    CHECK_EQ_INT(ov_parse_u64("99999999999999999999", 20, &v), -OV_E_RANGE);
    CHECK_EQ_INT(ov_parse_u64("007", 3, &v), -OV_E_NONCANONICAL);
    CHECK_EQ_INT(ov_parse_u64("", 0, &v), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_parse_u64("+1", 2, &v), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_parse_u64("-1", 2, &v), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_parse_u64(" 1", 2, &v), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_parse_u64("12a", 3, &v), -OV_E_MALFORMED);
    CHECK(v == 0);
}

int
main(void)
{
    test_parse_u64();
    test_reader();
    test_reader_fail();
    test_writer();
    test_buf();
    test_codec();
    TEST_DONE("reader");
}
