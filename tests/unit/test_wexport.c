/* core/wexport: the wallet export file (docs/PROTOCOL.md §9). */
#include <sodium.h>

#include "../test.h"
#include "protocol/wexport.h"

#define OPS 1u
#define MEM 8u /* the smallest Argon2id cost: these tests are about the format */

static const char pass[] = "correct horse battery staple";

static int
seal(const uint8_t *p, size_t n, struct ov_buf *out)
{
    return ov_wexport_seal(OV_BYTES(p, n), pass, sizeof pass - 1, OPS, MEM, out);
}

static int
open_(struct ov_bytes in, const char *pw, uint8_t **plain, size_t *len)
{
    return ov_wexport_open(in, pw, strlen(pw), plain, len);
}

static void
test_round_trip(void)
{
    uint8_t msg[1000];
    for (size_t i = 0; i < sizeof msg; i++) {
        msg[i] = (uint8_t)(i * 7);
    }
    size_t sizes[] = { 0, 1, 15, 16, 17, 1000 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct ov_buf out;
        uint8_t *plain = NULL;
        size_t len = 99;
        CHECK_EQ_INT(seal(msg, sizes[k], &out), 0);
        CHECK_EQ_INT(out.len, OV_WEXPORT_HEADER_LEN + sizes[k] + OV_WEXPORT_TAG_LEN);
        CHECK_EQ_MEM(out.ptr, OV_WEXPORT_MAGIC, OV_WEXPORT_MAGIC_LEN);
        CHECK_EQ_INT(open_(ov_buf_view(&out), pass, &plain, &len), 0);
        CHECK_EQ_INT(len, sizes[k]);
        CHECK(plain != NULL && (sizes[k] == 0 || memcmp(plain, msg, sizes[k]) == 0));
        sodium_free(plain);
        struct ov_wexport_hdr h;
        CHECK_EQ_INT(ov_wexport_parse(ov_buf_view(&out), &h), 0);
        CHECK_EQ_INT(h.opslimit, OPS);
        CHECK_EQ_INT(h.mem_kib, MEM);
        CHECK_EQ_INT(h.ciphertext.len, sizes[k] + OV_WEXPORT_TAG_LEN);
        CHECK(h.header.ptr == out.ptr && h.header.len == OV_WEXPORT_HEADER_LEN);
        ov_buf_clear(&out);
    }
    /* two exports of the same bytes differ (fresh salt and nonce) */
    struct ov_buf a, b;
    CHECK_EQ_INT(seal(msg, 10, &a), 0);
    CHECK_EQ_INT(seal(msg, 10, &b), 0);
    CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) != 0);
    ov_buf_clear(&a);
    ov_buf_clear(&b);
}

static void
test_default_params(void)
{
    struct ov_buf out;
    uint8_t *plain = NULL;
    size_t len = 0;
    CHECK_EQ_INT(ov_wexport_seal(OV_BYTES("wallet", 6), pass, sizeof pass - 1, 0, 0, &out), 0);
    struct ov_wexport_hdr h;
    CHECK_EQ_INT(ov_wexport_parse(ov_buf_view(&out), &h), 0);
    CHECK_EQ_INT(h.opslimit, OV_WEXPORT_DEFAULT_OPS);
    CHECK_EQ_INT(h.mem_kib, OV_WEXPORT_DEFAULT_MEM_KIB);
    CHECK_EQ_INT((size_t)h.mem_kib * 1024u, crypto_pwhash_argon2id_MEMLIMIT_MODERATE);
    CHECK_EQ_INT(open_(ov_buf_view(&out), pass, &plain, &len), 0);
    CHECK(len == 6 && memcmp(plain, "wallet", 6) == 0);
    sodium_free(plain);
    ov_buf_clear(&out);
}

static void
test_refusals(void)
{
    struct ov_buf out;
    uint8_t *plain = (uint8_t *)1;
    size_t len = 1;
    uint8_t msg[40] = { 1, 2, 3 };
    CHECK_EQ_INT(seal(msg, sizeof msg, &out), 0);
    /* a wrong passphrase: refused, outputs emptied */
    CHECK_EQ_INT(open_(ov_buf_view(&out), "correct horse battery stapler", &plain, &len),
                 -OV_E_BAD_SIG);
    CHECK(plain == NULL && len == 0);
    CHECK_EQ_INT(open_(ov_buf_view(&out), "", &plain, &len), -OV_E_RANGE);
    /* every single bit flipped anywhere is refused (header = AD, ciphertext, tag) */
    int all = 1;
    for (size_t i = 0; i < out.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            out.ptr[i] ^= (uint8_t)(1u << bit);
            int rc = open_(ov_buf_view(&out), pass, &plain, &len);
            all &= rc != 0 && plain == NULL;
            out.ptr[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK(all);
    /* truncation at every offset, and a byte more */
    struct ov_wexport_hdr h;
    all = 1;
    for (size_t n = 0; n < out.len; n++) {
        all &= ov_wexport_parse(OV_BYTES(out.ptr, n), &h) == -OV_E_TRUNCATED;
    }
    CHECK(all);
    CHECK_EQ_INT(ov_buf_append(&out, "x", 1), 0);
    CHECK_EQ_INT(ov_wexport_parse(ov_buf_view(&out), &h), -OV_E_TRAILING);
    out.len--;
    CHECK_EQ_INT(ov_wexport_parse(ov_buf_view(&out), &h), 0);
    ov_buf_clear(&out);
}

/* A header with the given fields and n ciphertext bytes of zeros. */
static size_t
forge(uint8_t *buf, uint8_t version, uint8_t kdf, uint32_t ops, uint32_t mem, uint64_t n_field,
      size_t n)
{
    memcpy(buf, OV_WEXPORT_MAGIC, 16);
    buf[16] = version;
    buf[17] = kdf;
    for (int i = 0; i < 4; i++) {
        buf[18 + i] = (uint8_t)(ops >> (24 - 8 * i));
        buf[22 + i] = (uint8_t)(mem >> (24 - 8 * i));
    }
    memset(buf + 26, 0xab, 40);
    for (int i = 0; i < 8; i++) {
        buf[66 + i] = (uint8_t)(n_field >> (56 - 8 * i));
    }
    memset(buf + 74, 0, n);
    return 74 + n;
}

static void
test_header_rules(void)
{
    uint8_t buf[200];
    struct ov_wexport_hdr h;
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 1, 3, 65536, 20, 20)), &h), 0);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 2, 1, 3, 65536, 20, 20)), &h), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 2, 3, 65536, 20, 20)), &h), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 1, 0, 65536, 20, 20)), &h), -OV_E_RANGE);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 1, 33, 65536, 20, 20)), &h), -OV_E_RANGE);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 1, 32, 7, 20, 20)), &h), -OV_E_RANGE);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 1, 1, 1048577, 20, 20)), &h), -OV_E_RANGE);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 1, 1, 1048576, 20, 20)), &h), 0);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 1, 3, 64, 15, 15)), &h), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 1, 3, 64, 16, 16)), &h), 0);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 1, 3, 64, 21, 20)), &h), -OV_E_TRUNCATED);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 1, 3, 64, 19, 20)), &h), -OV_E_TRAILING);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 1, 3, 64, UINT64_MAX, 20)), &h), -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, forge(buf, 1, 1, 3, 64,
                                                      OV_WEXPORT_MAX_PLAIN_LEN + 17ull, 20)), &h),
                 -OV_E_TOO_BIG);
    forge(buf, 1, 1, 3, 64, 20, 20);
    buf[0] = 'O';
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, 94), &h), -OV_E_MALFORMED);
    /* the parser refuses before it could make anyone allocate */
    CHECK_EQ_INT(ov_wexport_parse(OV_BYTES(buf, OV_WEXPORT_MAX_LEN + 1), &h), -OV_E_TOO_BIG);
    /* sealing checks its own parameters and passphrase */
    struct ov_buf out;
    CHECK_EQ_INT(ov_wexport_seal(OV_BYTES("x", 1), pass, sizeof pass - 1, 0, 8, &out), -OV_E_RANGE);
    CHECK_EQ_INT(ov_wexport_seal(OV_BYTES("x", 1), "", 0, 1, 8, &out), -OV_E_RANGE);
    char big[OV_WEXPORT_MAX_PASS_LEN + 1];
    memset(big, 'a', sizeof big);
    CHECK_EQ_INT(ov_wexport_seal(OV_BYTES("x", 1), big, sizeof big, 1, 8, &out), -OV_E_RANGE);
    CHECK_EQ_INT(ov_wexport_seal(OV_BYTES("x", 1), big, sizeof big - 1, 1, 8, &out), 0);
    ov_buf_clear(&out);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    test_round_trip();
    test_default_params();
    test_refusals();
    test_header_rules();
    TEST_DONE("test_wexport");
}
