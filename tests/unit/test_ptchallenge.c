/* core/ptchallenge: RFC 9577 §2.1 WWW-Authenticate PrivateToken challenges. */
#include "../test.h"
#include "base/codec.h"
#include "protocol/entry.h"
#include "protocol/ptchallenge.h"

static struct ov_ptchallenge out[OV_PTCHALLENGE_MAX];
static size_t n;

static int
parse(const char *s)
{
    return ov_ptchallenge_parse(s, strlen(s), out, OV_PTCHALLENGE_MAX, &n);
}

static uint8_t chal[OV_ENTRY_MAX_CHALLENGE_LEN];
static size_t chal_len;
static char chal_b64[512], chal_nopad[512];
static uint8_t key[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
static char key_b64[64];

static void
setup(void)
{
    CHECK_EQ_INT(ov_entry_challenge("issuer.example", "a1", chal, sizeof chal, &chal_len), 0);
    CHECK_EQ_INT(ov_b64_encode(chal_b64, sizeof chal_b64, chal, chal_len, OV_B64_URL), 0);
    CHECK_EQ_INT(ov_b64_encode(chal_nopad, sizeof chal_nopad, chal, chal_len, OV_B64_URL_NOPAD), 0);
    CHECK(strchr(chal_b64, '=') != NULL); /* the tests below rely on padding */
    CHECK_EQ_INT(ov_b64_encode(key_b64, sizeof key_b64, key, sizeof key, OV_B64_URL), 0);
}

static void
test_round_trip(void)
{
    struct ov_ptchallenge c;
    struct ov_buf b;
    memset(&c, 0, sizeof c);
    memcpy(c.challenge, chal, chal_len);
    c.challenge_len = chal_len;
    memcpy(c.token_key, key, sizeof key);
    c.token_key_len = sizeof key;
    c.has_max_age = true;
    c.max_age = 300;
    ov_buf_init(&b, 4096);
    CHECK_EQ_INT(ov_ptchallenge_format(&c, &b), 0);
    CHECK_EQ_INT(ov_buf_terminate(&b), 0);
    char want[1024];
    snprintf(want, sizeof want, "PrivateToken challenge=\"%s\", token-key=\"%s\", max-age=300",
             chal_b64, key_b64);
    CHECK(strcmp((char *)b.ptr, want) == 0);
    CHECK_EQ_INT(parse((char *)b.ptr), 0);
    CHECK_EQ_INT(n, 1);
    CHECK(memcmp(&out[0], &c, sizeof c) == 0);
    ov_buf_clear(&b);
    /* without key and max-age */
    c.token_key_len = 0;
    memset(c.token_key, 0, sizeof c.token_key);
    c.has_max_age = false;
    c.max_age = 0;
    ov_buf_init(&b, 4096);
    CHECK_EQ_INT(ov_ptchallenge_format(&c, &b), 0);
    CHECK_EQ_INT(ov_buf_terminate(&b), 0);
    CHECK_EQ_INT(parse((char *)b.ptr), 0);
    CHECK(n == 1 && memcmp(&out[0], &c, sizeof c) == 0);
    ov_buf_clear(&b);
    /* a challenge that is not a TokenChallenge is never written */
    c.challenge_len = 3;
    ov_buf_init(&b, 4096);
    CHECK_EQ_INT(ov_ptchallenge_format(&c, &b), -OV_E_MALFORMED);
    ov_buf_clear(&b);
}

static void
test_lists(void)
{
    char s[4096];
    /* among other schemes, case-insensitive names, extra spaces, empty list elements */
    snprintf(s, sizeof s, "Basic realm=\"x, y\", , privatetoken   CHALLENGE = \"%s\" ,"
             "Token-Key=\"%s\",foo=bar, Bearer abc.def==, Newauth", chal_b64, key_b64);
    CHECK_EQ_INT(parse(s), 0);
    CHECK_EQ_INT(n, 1);
    CHECK(out[0].challenge_len == chal_len && memcmp(out[0].challenge, chal, chal_len) == 0);
    CHECK(out[0].token_key_len == sizeof key && !out[0].has_max_age);
    /* two challenges */
    snprintf(s, sizeof s, "PrivateToken challenge=\"%s\", PrivateToken challenge=\"%s\", "
             "max-age=0", chal_b64, chal_b64);
    CHECK_EQ_INT(parse(s), 0);
    CHECK_EQ_INT(n, 2);
    CHECK(!out[0].has_max_age && out[1].has_max_age && out[1].max_age == 0);
    /* quoted-pair escapes are unescaped */
    char esc[1024];
    size_t k = 0;
    for (const char *p = chal_b64; *p; p++) {
        esc[k++] = '\\';
        esc[k++] = *p;
    }
    esc[k] = 0;
    snprintf(s, sizeof s, "PrivateToken challenge=\"%s\"", esc);
    CHECK_EQ_INT(parse(s), 0);
    CHECK_EQ_INT(n, 1);
    /* no PrivateToken at all: fine, none found */
    CHECK_EQ_INT(parse("Basic realm=\"r\""), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(parse(""), 0);
    CHECK_EQ_INT(n, 0);
    /* another token type: skipped */
    uint8_t other[64];
    memcpy(other, chal, chal_len);
    other[1] = 1;
    char ob[256];
    CHECK_EQ_INT(ov_b64_encode(ob, sizeof ob, other, chal_len, OV_B64_URL), 0);
    snprintf(s, sizeof s, "PrivateToken challenge=\"%s\"", ob);
    CHECK_EQ_INT(parse(s), 0);
    CHECK_EQ_INT(n, 0);
    /* too many */
    size_t off = 0;
    for (int i = 0; i <= OV_PTCHALLENGE_MAX; i++) {
        off += (size_t)snprintf(s + off, sizeof s - off, "%sPrivateToken challenge=\"%s\"",
                                i ? ", " : "", chal_b64);
    }
    CHECK_EQ_INT(parse(s), -OV_E_TOO_BIG);
    CHECK_EQ_INT(n, 0);
}

static void
test_refusals(void)
{
    char s[4096];
    CHECK_EQ_INT(parse("PrivateToken"), -OV_E_MALFORMED);                  /* no challenge */
    CHECK_EQ_INT(parse("PrivateToken token-key=\"AAAA\""), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse("PrivateToken abcdef=="), -OV_E_MALFORMED);         /* token68 */
    CHECK_EQ_INT(parse("PrivateToken challenge="), -OV_E_MALFORMED);
    snprintf(s, sizeof s, "PrivateToken challenge=\"%s\", challenge=\"%s\"", chal_b64, chal_b64);
    CHECK_EQ_INT(parse(s), -OV_E_MALFORMED);                               /* twice */
    snprintf(s, sizeof s, "PrivateToken challenge=\"%s\"", chal_nopad);
    CHECK_EQ_INT(parse(s), -OV_E_MALFORMED);                               /* no padding */
    snprintf(s, sizeof s, "PrivateToken challenge=%s", chal_b64);
    CHECK_EQ_INT(parse(s), -OV_E_MALFORMED);                               /* '=' unquoted */
    snprintf(s, sizeof s, "PrivateToken challenge=\"%s", chal_b64);
    CHECK_EQ_INT(parse(s), -OV_E_MALFORMED);                               /* unterminated */
    snprintf(s, sizeof s, "PrivateToken challenge=\"%s\" x", chal_b64);
    CHECK_EQ_INT(parse(s), -OV_E_MALFORMED);                               /* junk */
    snprintf(s, sizeof s, "PrivateToken challenge=\"%s\", max-age=01", chal_b64);
    CHECK_EQ_INT(parse(s), -OV_E_MALFORMED);
    snprintf(s, sizeof s, "PrivateToken challenge=\"%s\", max-age=-1", chal_b64);
    CHECK_EQ_INT(parse(s), -OV_E_MALFORMED);
    snprintf(s, sizeof s, "PrivateToken challenge=\"%s\", token-key=\"\"", chal_b64);
    CHECK_EQ_INT(parse(s), -OV_E_MALFORMED);
    snprintf(s, sizeof s, "PrivateToken challenge=\"%s\"", "AAIAAA==");  /* type 2, truncated */
    CHECK_EQ_INT(parse(s), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse("PrivateToken\tchallenge=\"x\""), -OV_E_MALFORMED);  /* SP, not HTAB */
    CHECK_EQ_INT(parse("Basic realm=\"a\x01\""), -OV_E_MALFORMED);       /* control char */
    CHECK_EQ_INT(parse("=x"), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse("Basic realm=\"\\"), -OV_E_MALFORMED);
    /* bounds */
    static char big[OV_MAX_WWW_AUTHENTICATE_LEN + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_EQ_INT(parse(big), -OV_E_TOO_BIG);
    size_t off = (size_t)snprintf(s, sizeof s, "Basic ");
    for (int i = 0; i <= OV_PTCHALLENGE_MAX_PARAMS; i++) {
        off += (size_t)snprintf(s + off, sizeof s - off, "%sp%d=v", i ? "," : "", i);
    }
    CHECK_EQ_INT(parse(s), -OV_E_TOO_BIG);
    /* truncation of a valid value at every offset never crashes, and never yields garbage */
    snprintf(s, sizeof s, "PrivateToken challenge=\"%s\", token-key=\"%s\", max-age=10", chal_b64,
             key_b64);
    size_t len = strlen(s);
    int ok = 1;
    for (size_t cut = 0; cut < len; cut++) {
        int rc = ov_ptchallenge_parse(s, cut, out, OV_PTCHALLENGE_MAX, &n);
        ok &= rc != 0 || cut < 12 ? n == 0 : (n == 1 && out[0].challenge_len == chal_len);
    }
    CHECK(ok);
}

int
main(void)
{
    setup();
    test_round_trip();
    test_lists();
    test_refusals();
    TEST_DONE("test_ptchallenge");
}
