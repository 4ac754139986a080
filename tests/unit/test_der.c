/* Unit tests: strict DER headers and INTEGERs, at every length-form boundary. */
#include <stdint.h>
#include <string.h>

#include "primitives/der.h"
#include "base/reader.h"
#include "../test.h"

static uint8_t buf[OV_DER_MAX_LEN + 8];

/* A header written for len reads back as the same tag and length, in minimal form. */
static void
test_header_round_trip(void)
{
    static const size_t lens[] = { 0, 1, 0x7f, 0x80, 0xff, 0x100, 0x1234, OV_DER_MAX_LEN };
    static const size_t hdr[] = { 2, 2, 2, 3, 3, 4, 4, 4 };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        struct ov_writer w;
        struct ov_reader r;
        struct ov_bytes v;
        CHECK_EQ_INT(ov_der_header_len(lens[i]), hdr[i]);
        ov_writer_init(&w, buf, sizeof buf);
        ov_der_write_header(&w, OV_DER_SEQUENCE, lens[i]);
        memset(buf + w.len, 0xab, lens[i]);
        CHECK_EQ_INT(ov_writer_end(&w), 0);
        CHECK_EQ_INT(w.len, hdr[i]);
        ov_reader_init(&r, OV_BYTES(buf, hdr[i] + lens[i]));
        CHECK_EQ_INT(ov_der_read(&r, OV_DER_SEQUENCE, &v), 0);
        CHECK(v.len == lens[i] && v.ptr == buf + hdr[i]);
        CHECK_EQ_INT(ov_reader_end(&r), 0);
        /* truncated contents; a wrong tag */
        ov_reader_init(&r, OV_BYTES(buf, hdr[i] + lens[i] - (lens[i] > 0)));
        CHECK_EQ_INT(ov_der_read(&r, OV_DER_SEQUENCE, &v), lens[i] > 0 ? -OV_E_TRUNCATED : 0);
        ov_reader_init(&r, OV_BYTES(buf, hdr[i] + lens[i]));
        CHECK_EQ_INT(ov_der_read(&r, OV_DER_INTEGER, &v), -OV_E_MALFORMED);
        CHECK(v.ptr == NULL && v.len == 0);
    }
    /* too small a writer */
    struct ov_writer w;
    ov_writer_init(&w, buf, 3);
    ov_der_write_header(&w, OV_DER_SEQUENCE, 0x100);
    CHECK_EQ_INT(ov_writer_end(&w), -OV_E_TOO_BIG);
}

static int
read_one(const uint8_t *p, size_t n)
{
    struct ov_reader r;
    struct ov_bytes v;
    ov_reader_init(&r, OV_BYTES(p, n));
    (void)ov_der_read(&r, OV_DER_SEQUENCE, &v);
    return ov_reader_end(&r);
}

static void
test_header_rejects(void)
{
    static const uint8_t indefinite[] = { 0x30, 0x80, 0x00, 0x00 };
    static const uint8_t reserved[] = { 0x30, 0xff };
    static const uint8_t three[] = { 0x30, 0x83, 0x00, 0x00, 0x01, 0x00 };
    static const uint8_t long_small[] = { 0x30, 0x81, 0x7f };
    static const uint8_t long_zero[] = { 0x30, 0x82, 0x00, 0xff };
    static const uint8_t cut_len[] = { 0x30, 0x82, 0x01 };
    CHECK_EQ_INT(read_one(indefinite, sizeof indefinite), -OV_E_MALFORMED);
    CHECK_EQ_INT(read_one(reserved, sizeof reserved), -OV_E_MALFORMED);
    CHECK_EQ_INT(read_one(three, sizeof three), -OV_E_TOO_BIG);
    CHECK_EQ_INT(read_one(long_small, sizeof long_small), -OV_E_NONCANONICAL);
    CHECK_EQ_INT(read_one(long_zero, sizeof long_zero), -OV_E_NONCANONICAL);
    CHECK_EQ_INT(read_one(cut_len, sizeof cut_len), -OV_E_TRUNCATED);
    CHECK_EQ_INT(read_one(buf, 0), -OV_E_TRUNCATED);
    CHECK_EQ_INT(read_one(buf, 1), -OV_E_TRUNCATED);
}

static int
read_uint(const uint8_t *p, size_t n, struct ov_bytes *m)
{
    struct ov_reader r;
    ov_reader_init(&r, OV_BYTES(p, n));
    (void)ov_der_read_uint(&r, m);
    return ov_reader_end(&r);
}

static void
test_uint(void)
{
    struct ov_bytes m;
    struct ov_writer w;
    static const uint8_t one[] = { 0x02, 0x01, 0x01 };
    static const uint8_t high[] = { 0x02, 0x02, 0x00, 0x80 };
    static const uint8_t zero[] = { 0x02, 0x01, 0x00 };
    static const uint8_t neg[] = { 0x02, 0x01, 0x80 };
    static const uint8_t pad[] = { 0x02, 0x02, 0x00, 0x7f };
    static const uint8_t empty[] = { 0x02, 0x00 };
    CHECK_EQ_INT(read_uint(one, sizeof one, &m), 0);
    CHECK(m.len == 1 && m.ptr[0] == 1);
    CHECK_EQ_INT(read_uint(high, sizeof high, &m), 0);
    CHECK(m.len == 1 && m.ptr[0] == 0x80);
    CHECK_EQ_INT(read_uint(zero, sizeof zero, &m), -OV_E_RANGE);
    CHECK_EQ_INT(read_uint(neg, sizeof neg, &m), -OV_E_RANGE);
    CHECK_EQ_INT(read_uint(pad, sizeof pad, &m), -OV_E_NONCANONICAL);
    CHECK_EQ_INT(read_uint(empty, sizeof empty, &m), -OV_E_MALFORMED);
    CHECK(m.ptr == NULL && m.len == 0);
    /* writing puts the sign octet back exactly when the top bit is set */
    static const uint8_t v80[] = { 0x80 }, v7f[] = { 0x7f };
    CHECK_EQ_INT(ov_der_uint_len(OV_BYTES(v80, 1)), 4);
    CHECK_EQ_INT(ov_der_uint_len(OV_BYTES(v7f, 1)), 3);
    ov_writer_init(&w, buf, sizeof buf);
    ov_der_write_uint(&w, OV_BYTES(v80, 1));
    ov_der_write_uint(&w, OV_BYTES(v7f, 1));
    CHECK_EQ_INT(ov_writer_end(&w), 0);
    CHECK(w.len == 7 && memcmp(buf, "\x02\x02\x00\x80\x02\x01\x7f", 7) == 0);
}

int
main(void)
{
    test_header_round_trip();
    test_header_rejects();
    test_uint();
    TEST_DONE("der");
}
