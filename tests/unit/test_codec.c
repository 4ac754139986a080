/* Unit tests: core/codec's fast codecs for public bytes. The base64url decoder against RFC
 * 4648 §10's vectors and, on random input, against ov_b64_decode (libsodium): the same
 * result, length and bytes for every input, valid or not, and every output size; the
 * standard encoder against libsodium's for every length up to 300. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "../test.h"
#include "base/codec.h"

#define N_RANDOM 300000

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    /* RFC 4648 §10, unpadded */
    static const char *const vec[][2] = {
        { "", "" },         { "f", "Zg" },         { "fo", "Zm8" },       { "foo", "Zm9v" },
        { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
    };
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        uint8_t out[16];
        size_t n = 99;
        CHECK(ov_b64url_decode_public(out, sizeof out, &n, vec[i][1], strlen(vec[i][1])) == 0);
        CHECK(n == strlen(vec[i][0]) && memcmp(out, vec[i][0], n) == 0);
    }
    /* the URL alphabet's two letters, and what it refuses */
    uint8_t o[8];
    size_t n = 0;
    CHECK(ov_b64url_decode_public(o, sizeof o, &n, "-_8", 3) == 0 && n == 2 && o[0] == 0xfb &&
          o[1] == 0xff);
    CHECK(ov_b64url_decode_public(o, sizeof o, &n, "+/8", 3) == -OV_E_MALFORMED && n == 0);
    CHECK(ov_b64url_decode_public(o, sizeof o, &n, "Zg==", 4) == -OV_E_MALFORMED);
    CHECK(ov_b64url_decode_public(o, sizeof o, &n, "Zh", 2) == -OV_E_MALFORMED); /* bits */
    CHECK(ov_b64url_decode_public(o, sizeof o, &n, "Zm9vY", 5) == -OV_E_MALFORMED); /* lone */
    CHECK(ov_b64url_decode_public(o, sizeof o, &n, "Z\xc3g", 3) == -OV_E_MALFORMED);
    CHECK(ov_b64url_decode_public(o, 1, &n, "Zm8", 3) == -OV_E_MALFORMED); /* no room */
    CHECK(ov_b64url_decode_public(o, 2, &n, "Zm9vYmFyZm9v", 12) == -OV_E_TOO_BIG);

    /* random strings, mostly of the alphabet, against the libsodium-based decoder */
    static const char pool[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                               "AAAAgw=+/ \n\x80\xff";
    int differ = 0;
    /* inputs from xorshift64*, seeded once: libsodium's randombytes makes a system call a
     * draw, and 10 million of them took this test 14 s */
    uint64_t rng = ((uint64_t)randombytes_random() << 32 | randombytes_random()) | 1;
#define DRAW(n) (rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27, \
                 (size_t)((rng * 2685821657736338717ull) >> 33) % (n))
    for (int t = 0; t < N_RANDOM; t++) {
        char in[64];
        uint8_t a[64], b[64];
        size_t len = DRAW(sizeof in), na = 7, nb = 7;
        size_t max = DRAW(50);
        bool clean = DRAW(2) == 0; /* half of them: the alphabet only */
        for (size_t i = 0; i < len; i++) {
            in[i] = pool[DRAW(clean ? 64 : sizeof pool - 1)];
        }
        int ra = ov_b64url_decode_public(a, max, &na, in, len);
        int rb = ov_b64_decode(b, max, &nb, in, len, OV_B64_URL_NOPAD);
        if (ra != rb || na != nb || (ra == 0 && memcmp(a, b, na) != 0)) {
            differ++;
        }
    }
    CHECK_EQ_INT(differ, 0);
#undef DRAW

    /* the public encoder writes what libsodium writes, for every length up to 300 */
    int enc_differ = 0;
    for (size_t len = 0; len <= 300; len++) {
        uint8_t in[300];
        struct ov_buf x, y;
        randombytes_buf(in, len);
        ov_buf_init(&x, 1024);
        ov_buf_init(&y, 1024);
        if (ov_buf_append(&x, "p", 1) != 0 || ov_buf_append(&y, "p", 1) != 0 ||
            ov_buf_append_b64_public(&x, in, len) != 0 ||
            ov_buf_append_b64(&y, in, len, OV_B64_STD) != 0 || x.len != y.len ||
            memcmp(x.ptr, y.ptr, x.len) != 0) {
            enc_differ++;
        }
        ov_buf_clear(&x);
        ov_buf_clear(&y);
    }
    CHECK_EQ_INT(enc_differ, 0);
    struct ov_buf z;
    ov_buf_init(&z, 7); /* the cap holds: no room, nothing written */
    CHECK(ov_buf_append_b64_public(&z, (const uint8_t *)"fooba", 5) == -OV_E_TOO_BIG &&
          z.len == 0);
    ov_buf_clear(&z);
    ov_buf_init(&z, 8);
    CHECK(ov_buf_append_b64_public(&z, (const uint8_t *)"fooba", 5) == 0 && z.len == 8 &&
          memcmp(z.ptr, "Zm9vYmE=", 8) == 0);
    ov_buf_clear(&z);
    TEST_DONE("test_codec");
}
