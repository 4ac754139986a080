/* test_bhttp: RFC 9292's known-length examples (§5.1 request, §5.2 response with a trailer),
 * RFC 9458 Appendix A's truncated request and response, decoded and re-encoded byte for
 * byte; truncation at every offset (only before a section's length is allowed), padding,
 * every refusal (indeterminate framing, informational status, bad names and values,
 * pseudo-headers, limits), and the encoder's own checks. */
#include <string.h>

#include "../test.h"
#include "base/codec.h"
#include "protocol/bhttp.h"

/* RFC 9292 §5.1, "Known-Length Binary Encoding of Request" */
static const char REQ_HEX[] =
    "000347455405687474707300 0a2f68656c6c6f2e747874406c0a757365722d6167656e74"
    "346375726c2f372e31362e33206c69626375726c2f372e31362e33204f70656e53534c2f"
    "302e392e376c207a6c69622f312e322e3304686f73740f7777772e6578616d706c652e63"
    "6f6d0f6163636570742d6c616e677561676506656e2c206d690000";
/* RFC 9292 §5.2, "Known-Length Encoding of Response" (content and a trailer) */
static const char RES_HEX[] =
    "0140c8001d5468697320636f6e74656e7420636f6e7461696e732043524c462e0d0a0d07"
    "747261696c65720474657874";
/* RFC 9458 Appendix A: the request and the response, both truncated after control data */
static const char OHTTP_REQ_HEX[] = "00034745540568747470730b6578616d706c652e636f6d012f";
static const char OHTTP_RES_HEX[] = "0140c8";

static size_t
unhex(const char *hex, uint8_t *out, size_t max)
{
    char clean[1024];
    size_t n = 0, len = 0;
    for (const char *p = hex; *p && n + 1 < sizeof clean; p++) {
        if (*p != ' ') {
            clean[n++] = *p;
        }
    }
    if (ov_hex_decode(out, max, &len, clean, n) != 0) {
        fprintf(stderr, "bad hex\n");
        exit(1);
    }
    return len;
}

static bool
eq(struct ov_bytes b, const char *s)
{
    return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0;
}

static void
reencodes(const uint8_t *in, size_t len, const struct ov_bhttp_msg *m)
{
    struct ov_buf b;
    ov_buf_init(&b, 4096);
    CHECK(ov_bhttp_encode(m, &b) == 0);
    CHECK(b.len == len);
    CHECK(b.len == len && memcmp(b.ptr, in, len) == 0);
    ov_buf_clear(&b);
}

static void
check_request(void)
{
    uint8_t in[512];
    size_t len = unhex(REQ_HEX, in, sizeof in);
    struct ov_bhttp_msg m;
    CHECK(ov_bhttp_decode(OV_BYTES(in, len), &m) == 0);
    CHECK(!m.response);
    CHECK(eq(m.method, "GET") && eq(m.scheme, "https") && eq(m.authority, ""));
    CHECK(eq(m.path, "/hello.txt"));
    CHECK(m.headers.n == 3 && m.trailers.n == 0 && m.content.len == 0);
    const struct ov_bhttp_field *h = ov_bhttp_find(&m.headers, "host");
    CHECK(h != NULL && eq(h->value, "www.example.com"));
    CHECK(eq(m.headers.f[2].value, "en, mi"));
    reencodes(in, len, &m);

    /* §3.8: cut before the header section's, content's or trailers' length, or padded:
     * the same message; cut anywhere else: refused */
    size_t ends[] = { 23, len - 2, len - 1, len };
    for (size_t cut = 0; cut <= len; cut++) {
        bool allowed = false;
        for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
            allowed = allowed || cut == ends[i];
        }
        struct ov_bhttp_msg t;
        int rc = ov_bhttp_decode(OV_BYTES(in, cut), &t);
        if ((rc == 0) != allowed) {
            fprintf(stderr, "cut at %zu: rc %d\n", cut, rc);
        }
        CHECK((rc == 0) == allowed);
        CHECK(rc == 0 || t.method.ptr == NULL); /* zeroed on failure */
    }
    uint8_t padded[600];
    memcpy(padded, in, len);
    memset(padded + len, 0, 10);
    CHECK(ov_bhttp_decode(OV_BYTES(padded, len + 10), &m) == 0 && m.headers.n == 3);
    padded[len + 9] = 1;
    CHECK(ov_bhttp_decode(OV_BYTES(padded, len + 10), &m) == -OV_E_MALFORMED);
    /* a non-minimal varint is allowed: the method's length 3 as 0x4003 */
    uint8_t wide[600] = { 0x00, 0x40 };
    memcpy(wide + 2, in + 1, len - 1);
    CHECK(ov_bhttp_decode(OV_BYTES(wide, len + 1), &m) == 0 && eq(m.method, "GET"));
}

static void
check_response(void)
{
    uint8_t in[256];
    size_t len = unhex(RES_HEX, in, sizeof in);
    struct ov_bhttp_msg m;
    CHECK(ov_bhttp_decode(OV_BYTES(in, len), &m) == 0);
    CHECK(m.response && m.status == 200 && m.headers.n == 0);
    CHECK(eq(m.content, "This content contains CRLF.\r\n"));
    CHECK(m.trailers.n == 1 && eq(m.trailers.f[0].name, "trailer"));
    CHECK(eq(m.trailers.f[0].value, "text"));
    reencodes(in, len, &m);
}

static void
check_ohttp_examples(void)
{
    uint8_t in[64];
    size_t len = unhex(OHTTP_REQ_HEX, in, sizeof in);
    struct ov_bhttp_msg m;
    CHECK(ov_bhttp_decode(OV_BYTES(in, len), &m) == 0);
    CHECK(eq(m.method, "GET") && eq(m.authority, "example.com") && eq(m.path, "/"));
    len = unhex(OHTTP_RES_HEX, in, sizeof in);
    CHECK(ov_bhttp_decode(OV_BYTES(in, len), &m) == 0);
    CHECK(m.response && m.status == 200 && m.content.len == 0);
    /* our encoder writes every section: 0140c8 then three zero lengths */
    struct ov_buf b;
    ov_buf_init(&b, 64);
    CHECK(ov_bhttp_encode(&m, &b) == 0);
    CHECK(b.len == 6 && memcmp(b.ptr, "\x01\x40\xc8\x00\x00\x00", 6) == 0);
    ov_buf_clear(&b);
}

static int
decode_hex(const char *hex)
{
    uint8_t in[256];
    size_t len = unhex(hex, in, sizeof in);
    struct ov_bhttp_msg m;
    return ov_bhttp_decode(OV_BYTES(in, len), &m);
}

static void
check_refusals(void)
{
    CHECK(decode_hex("") == -OV_E_TRUNCATED);
    CHECK(decode_hex("02") == -OV_E_RANGE);           /* indeterminate request */
    CHECK(decode_hex("03") == -OV_E_RANGE);           /* indeterminate response */
    CHECK(decode_hex("04") == -OV_E_MALFORMED);       /* no such framing */
    CHECK(decode_hex("014066") == -OV_E_RANGE);       /* 102: informational */
    CHECK(decode_hex("01402a") == -OV_E_MALFORMED);   /* 42 */
    CHECK(decode_hex("014258") == -OV_E_MALFORMED);   /* 600 */
    CHECK(decode_hex("0140") == -OV_E_TRUNCATED);     /* cut inside the status */
    CHECK(decode_hex("0003474554") == -OV_E_TRUNCATED); /* cut inside control data */
    /* control data: empty method, bad scheme, path not starting with '/', space in path */
    CHECK(decode_hex("00000568747470730001 2f") == -OV_E_MALFORMED);
    CHECK(decode_hex("000347455404682f74700001 2f") == -OV_E_MALFORMED);
    CHECK(decode_hex("00034745540568747470730001 61") == -OV_E_MALFORMED);
    CHECK(decode_hex("00034745540568747470730002 2f20") == -OV_E_MALFORMED);
    /* fields (status 200 then a header section): uppercase name, pseudo-header, empty
     * name, CR in a value, a trailing space, a field cut by its section's end */
    CHECK(decode_hex("0140c8 04 01 41 01 62") == -OV_E_MALFORMED);
    CHECK(decode_hex("0140c8 09 07 3a737461747573 00") == -OV_E_MALFORMED);
    CHECK(decode_hex("0140c8 02 00 00") == -OV_E_MALFORMED);
    CHECK(decode_hex("0140c8 05 01 61 02 620d") == -OV_E_MALFORMED);
    CHECK(decode_hex("0140c8 05 01 61 02 6220") == -OV_E_MALFORMED);
    CHECK(decode_hex("0140c8 03 01 61 05") == -OV_E_MALFORMED);
    CHECK(decode_hex("0140c8 05 01 61 02 6262") == 0);
    /* limits: a name over OV_BHTTP_MAX_NAME_LEN, a section length past the input */
    CHECK(decode_hex("0140c8 04 4081 6161") == -OV_E_TOO_BIG);
    CHECK(decode_hex("0140c8 00 8000ffff") == -OV_E_TRUNCATED);
    CHECK(decode_hex("0140c8 00 c0000000ffffffff") == -OV_E_TOO_BIG);
    /* OV_BHTTP_MAX_FIELDS field lines fit, one more does not */
    uint8_t many[3 + 2 + 4 * (OV_BHTTP_MAX_FIELDS + 1)] = { 0x01, 0x40, 0xc8 };
    for (size_t n = OV_BHTTP_MAX_FIELDS; n <= OV_BHTTP_MAX_FIELDS + 1; n++) {
        size_t off = 3;
        many[off++] = (uint8_t)(0x40 | (4 * n) >> 8);
        many[off++] = (uint8_t)(4 * n);
        for (size_t i = 0; i < n; i++) {
            many[off++] = 1;
            many[off++] = 'x';
            many[off++] = 1;
            many[off++] = 'y';
        }
        struct ov_bhttp_msg m;
        CHECK(ov_bhttp_decode(OV_BYTES(many, off), &m) ==
              (n == OV_BHTTP_MAX_FIELDS ? 0 : -OV_E_TOO_BIG));
    }
}

static void
check_encoder(void)
{
    struct ov_bhttp_msg m;
    memset(&m, 0, sizeof m);
    m.method = OV_BYTES_STR("POST");
    m.scheme = OV_BYTES_STR("https");
    m.authority = OV_BYTES_STR("verifier.example");
    m.path = OV_BYTES_STR("/actions");
    CHECK(ov_bhttp_add(&m.headers, OV_BYTES_STR("content-type"),
                       OV_BYTES_STR("application/json")) == 0);
    m.content = OV_BYTES_STR("{\"a\":1}");
    struct ov_buf b;
    ov_buf_init(&b, 4096);
    CHECK(ov_bhttp_encode(&m, &b) == 0);
    struct ov_bhttp_msg d;
    CHECK(ov_bhttp_decode(ov_buf_view(&b), &d) == 0);
    CHECK(eq(d.path, "/actions") && eq(d.content, "{\"a\":1}") && d.headers.n == 1);
    size_t good = b.len;
    /* refused, nothing appended */
    m.headers.f[0].name = OV_BYTES_STR("Content-Type");
    CHECK(ov_bhttp_encode(&m, &b) == -OV_E_MALFORMED && b.len == good);
    m.headers.f[0].name = OV_BYTES_STR("content-type");
    m.path = OV_BYTES_STR("actions");
    CHECK(ov_bhttp_encode(&m, &b) == -OV_E_MALFORMED && b.len == good);
    m.response = true;
    m.status = 103;
    CHECK(ov_bhttp_encode(&m, &b) == -OV_E_RANGE && b.len == good);
    m.status = 404;
    CHECK(ov_bhttp_encode(&m, &b) == 0);
    for (size_t i = 1; i < OV_BHTTP_MAX_FIELDS; i++) {
        CHECK(ov_bhttp_add(&m.headers, OV_BYTES_STR("x"), OV_BYTES_STR("y")) == 0);
    }
    CHECK(ov_bhttp_add(&m.headers, OV_BYTES_STR("x"), OV_BYTES_STR("y")) == -OV_E_TOO_BIG);
    ov_buf_clear(&b);
}

int
main(void)
{
    check_request();
    check_response();
    check_ohttp_examples();
    check_refusals();
    check_encoder();
    TEST_DONE("test_bhttp");
}
