/* Unit tests: route patterns and matching, query percent-decoding, listen addresses. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../test.h"
#include "infra/addr.h"
#include "infra/route.h"

static bool
view_is(struct ov_bytes v, const char *s)
{
    return v.len == strlen(s) && (v.len == 0 || memcmp(v.ptr, s, v.len) == 0);
}

static bool
match(const char *pattern, const char *path, struct ov_route_match *m)
{
    struct ov_route_pattern p;
    if (ov_route_compile(pattern, &p) != 0) {
        return false;
    }
    return ov_route_match(&p, path, strlen(path), m);
}

static void
test_compile(void)
{
    static const char *const good[] = {"/",       "/a", "/a/b",        "/a/:id",     "/:x/:y",
                                       "/tile/*", "/*", "/checkpoint", "/a-b.c_d~e", "/r/:id_2/x", "/a/"};
    static const char *const bad[] = {"",     "a",    "//",    "/*/",    "/a//b",
                                      "/:",   "/:ID", "/:a-b", "/a/*/b", "/a*",
                                      "/%41", "/a b", "/a?x",  "/*/*",   "/:x:y"};
    struct ov_route_pattern p;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_EQ_INT(ov_route_compile(good[i], &p), 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(ov_route_compile(bad[i], &p), -OV_E_MALFORMED);
        CHECK(p.n_segs == 0 && p.text == NULL);
    }
    /* the maxima: segments, parameters, length */
    char many[128] = "";
    for (int i = 0; i < OV_ROUTE_MAX_SEGMENTS; i++) {
        strcat(many, "/a");
    }
    CHECK_EQ_INT(ov_route_compile(many, &p), 0);
    strcat(many, "/a");
    CHECK_EQ_INT(ov_route_compile(many, &p), -OV_E_TOO_BIG);
    char params[128] = "";
    for (int i = 0; i <= OV_ROUTE_MAX_PARAMS; i++) {
        strcat(params, "/:p");
    }
    CHECK_EQ_INT(ov_route_compile(params, &p), -OV_E_TOO_BIG);
    char longp[OV_ROUTE_MAX_PATTERN_LEN + 2];
    longp[0] = '/';
    memset(longp + 1, 'a', OV_ROUTE_MAX_PATTERN_LEN);
    longp[OV_ROUTE_MAX_PATTERN_LEN + 1] = '\0';
    CHECK_EQ_INT(ov_route_compile(longp, &p), -OV_E_TOO_BIG);
    longp[OV_ROUTE_MAX_PATTERN_LEN] = '\0';
    CHECK_EQ_INT(ov_route_compile(longp, &p), 0);
}

static void
test_match(void)
{
    struct ov_route_match m;
    CHECK(match("/", "/", &m));
    CHECK(!match("/", "/a", &m));
    CHECK(!match("/", "", &m));
    CHECK(match("/a", "/a", &m));
    static const char *const not_a[] = {"/a/", "/ab", "/A", "a", "//a", "/a//", "/"};
    for (size_t i = 0; i < sizeof not_a / sizeof not_a[0]; i++) {
        CHECK(!match("/a", not_a[i], &m));
    }
    CHECK(match("/receipt/:id", "/receipt/x%2F1", &m));
    CHECK(m.n_params == 1 && view_is(m.params[0].name, "id") &&
          view_is(m.params[0].value, "x%2F1"));
    CHECK(!match("/receipt/:id", "/receipt/", &m));
    CHECK(m.n_params == 0);
    CHECK(!match("/receipt/:id", "/receipt", &m));
    CHECK(!match("/receipt/:id", "/receipt/a/b", &m));
    CHECK(match("/:a/x/:b", "/1/x/2", &m));
    CHECK(m.n_params == 2 && view_is(m.params[0].value, "1") && view_is(m.params[1].value, "2"));
    CHECK(!match("/:a/x/:b", "/1/y/2", &m));
    CHECK(match("/tile/*", "/tile/0/x001/234.p/5", &m));
    CHECK(view_is(m.rest, "0/x001/234.p/5"));
    CHECK(match("/tile/*", "/tile//", &m)); /* the rest is the handler's to validate */
    CHECK(view_is(m.rest, "/"));
    CHECK(!match("/tile/*", "/tile/", &m));
    CHECK(!match("/tile/*", "/tile", &m));
    CHECK(!match("/tile/*", "/tiles/a", &m));
    CHECK(match("/*", "/x", &m) && view_is(m.rest, "x"));
    CHECK(!match("/*", "/", &m));
    CHECK(match("/t/:n/*", "/t/7/a/b", &m));
    CHECK(view_is(m.params[0].value, "7") && view_is(m.rest, "a/b"));
    /* a path is matched by length, not up to a NUL */
    struct ov_route_pattern p;
    CHECK_EQ_INT(ov_route_compile("/a", &p), 0);
    CHECK(!ov_route_match(&p, "/a\0b", 4, &m));
    CHECK(ov_route_match(&p, "/ab", 2, &m));
}

static void
test_url_decode(void)
{
    char out[64];
    size_t n;
    CHECK_EQ_INT(ov_url_decode("a%20b+c%2f%2F", 13, true, out, sizeof out, &n), 0);
    CHECK(n == 7 && strcmp(out, "a b c//") == 0);
    CHECK_EQ_INT(ov_url_decode("a+b", 3, false, out, sizeof out, &n), 0);
    CHECK(strcmp(out, "a+b") == 0);
    CHECK_EQ_INT(ov_url_decode("", 0, true, out, sizeof out, &n), 0);
    CHECK(n == 0 && out[0] == '\0');
    CHECK_EQ_INT(ov_url_decode("%ff", 3, true, out, sizeof out, &n), 0);
    CHECK(n == 1 && (uint8_t)out[0] == 0xff);
    static const char *const bad[] = {"%", "%4", "%g0", "%0g", "a%00b", "%%41", "x%"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(ov_url_decode(bad[i], strlen(bad[i]), true, out, sizeof out, &n),
                     -OV_E_MALFORMED);
        CHECK(n == 0 && out[0] == '\0');
    }
    CHECK_EQ_INT(ov_url_decode("a\0b", 3, true, out, sizeof out, &n), -OV_E_MALFORMED);
    /* capacity: in_len + 1 always suffices, one less never does for plain input */
    CHECK_EQ_INT(ov_url_decode("abcd", 4, true, out, 5, &n), 0);
    CHECK_EQ_INT(ov_url_decode("abcd", 4, true, out, 4, &n), -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_url_decode("%41", 3, true, out, 2, &n), 0);
    CHECK_EQ_INT(ov_url_decode("", 0, true, out, 0, &n), -OV_E_TOO_BIG);
}

static void
test_addr(void)
{
    static const struct {
        const char *in, *canon;
    } good[] = {
        {"127.0.0.1:0", "127.0.0.1:0"},
        {"0.0.0.0:8080", "0.0.0.0:8080"},
        {"255.255.255.255:65535", "255.255.255.255:65535"},
        {"[::1]:0", "[::1]:0"},
        {"[::]:443", "[::]:443"},
        {"[0:0:0:0:0:0:0:1]:80", "[::1]:80"},
        {"[2001:DB8::A]:1", "[2001:db8::a]:1"},
        {"[::ffff:1.2.3.4]:9", "[::ffff:1.2.3.4]:9"},
    };
    static const char *const bad[] = {
        "",
        ":80",
        "127.0.0.1",
        "127.0.0.1:",
        "127.0.0.1:65536",
        "127.0.0.1:080",
        "127.0.0.1:-1",
        "127.0.0.1:+1",
        "127.0.0.1:8a",
        "127.1:80",
        "01.2.3.4:80",
        "1.2.3.4.5:80",
        "localhost:80",
        "::1:80",
        "[::1]",
        "[::1]80",
        "[::1:80",
        "::1]:80",
        "[fe80::1%lo]:80",
        "[1.2.3.4]:80",
        "1.2.3.4:99999",
        "[]:80",
        " 1.2.3.4:80",
        "1.2.3.4:80 ",
        "1.2.3.4:1:2",
    };
    struct ov_addr a, b;
    char text[OV_MAX_LISTEN_LEN + 1];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_EQ_INT(ov_addr_parse(good[i].in, &a), 0);
        CHECK_EQ_INT(ov_addr_format(&a, text, sizeof text), 0);
        CHECK(strcmp(text, good[i].canon) == 0);
        CHECK_EQ_INT(ov_addr_parse(text, &b), 0);
        CHECK(a.len == b.len && memcmp(&a.ss, &b.ss, a.len) == 0);
        CHECK_EQ_INT(ov_addr_check(good[i].in), 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ov_addr_parse(bad[i], &a);
        CHECK(rc == -OV_E_MALFORMED || rc == -OV_E_RANGE);
        if (rc == 0) {
            fprintf(stderr, "accepted: %s\n", bad[i]);
        }
        CHECK(a.len == 0 && a.ss.ss_family == 0);
    }
    char longer[OV_MAX_LISTEN_LEN + 2];
    memset(longer, '1', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    CHECK_EQ_INT(ov_addr_parse(longer, &a), -OV_E_TOO_BIG);

    CHECK_EQ_INT(ov_addr_parse("[::1]:5", &a), 0);
    CHECK(ov_addr_is_ipv6(&a) && ov_addr_port(&a) == 5);
    ov_addr_set_port(&a, 65535);
    CHECK_EQ_INT(ov_addr_format(&a, text, sizeof text), 0);
    CHECK(strcmp(text, "[::1]:65535") == 0);
    CHECK_EQ_INT(ov_addr_format(&a, text, 5), -OV_E_TOO_BIG);
    CHECK(text[0] == '\0');
    CHECK_EQ_INT(ov_addr_parse("1.2.3.4:7", &a), 0);
    CHECK(!ov_addr_is_ipv6(&a) && ov_addr_port(&a) == 7);
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(ov_addr_format(&a, text, sizeof text), -OV_E_MALFORMED);
}

int
main(void)
{
    test_compile();
    test_match();
    test_url_decode();
    test_addr();
    TEST_DONE("test_route");
}
