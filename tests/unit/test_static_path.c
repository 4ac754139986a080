/* Unit tests: the log's page paths (ov_static_path_check), If-None-Match against an ETag
 * (ov_etag_match, RFC 9110 §13.1.2) and route patterns with a trailing slash. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../test.h"
#include "infra/route.h"

static int
path_check(const char *p)
{
    return ov_static_path_check(p, strlen(p));
}

static void
test_static_path(void)
{
    static const char *const good[] = {"index.html", "app.js", "js/lib/m.mjs", "a-b_c.d",
                                       "a.", "x/y.z/w", "A/B/C/D/E/F/G/H", "audit.json", "a..b"};
    static const char *const malformed[] = {"%2e%2e/x", "a%2fb", "a\\b", "a b", "a:b", "a?b",
                                            "a#b", "a~b", "\xc3\xa9", "a\tb", "a+b", "a;b"};
    static const char *const not_found[] = {"", ".", "..", "../x", "x/..", "x/../y", ".hidden",
                                            "a/.git/config", "/a", "a/", "a//b", "//",
                                            "./index.html", "A/B/C/D/E/F/G/H/I"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_EQ_INT(path_check(good[i]), 0);
    }
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        CHECK_EQ_INT(path_check(malformed[i]), -OV_E_MALFORMED);
    }
    for (size_t i = 0; i < sizeof not_found / sizeof not_found[0]; i++) {
        CHECK_EQ_INT(path_check(not_found[i]), -OV_E_NOT_FOUND);
    }
    CHECK_EQ_INT(ov_static_path_check("a\0b", 3), -OV_E_MALFORMED); /* a NUL inside */
    char p[OV_STATIC_MAX_PATH_LEN + 2];
    memset(p, 'a', sizeof p);
    CHECK_EQ_INT(ov_static_path_check(p, OV_STATIC_MAX_PATH_LEN), 0);
    CHECK_EQ_INT(ov_static_path_check(p, OV_STATIC_MAX_PATH_LEN + 1), -OV_E_NOT_FOUND);
    p[0] = '%'; /* the characters are checked first: a long path with an escape is malformed */
    CHECK_EQ_INT(ov_static_path_check(p, OV_STATIC_MAX_PATH_LEN + 1), -OV_E_MALFORMED);
}

static bool
inm(const char *field, const char *etag)
{
    return ov_etag_match(field, strlen(field), etag);
}

static void
test_etag(void)
{
    const char *e = "\"abc\"";
    CHECK(inm("\"abc\"", e));
    CHECK(inm("W/\"abc\"", e));           /* weak comparison: W/ ignored */
    CHECK(inm("\"abc\"", "W/\"abc\""));
    CHECK(inm("\"x\", \"abc\"", e));
    CHECK(inm("\"x\",W/\"abc\" ,\"y\"", e));
    CHECK(inm(" , \"abc\" ,", e));         /* empty list elements */
    CHECK(inm("*", e));
    CHECK(inm(" * ", e));
    CHECK(inm("\"\"", "\"\""));
    CHECK(!inm("\"abd\"", e));
    CHECK(!inm("\"ABC\"", e));           /* opaque tags compare byte for byte */
    CHECK(!inm("abc", e));                /* not quoted */
    CHECK(!inm("\"abc", e));
    CHECK(!inm("\"abc\" junk", e));       /* not a list: nothing matches */
    CHECK(!inm("\"abc\" \"abc\"", e));
    CHECK(!inm("w/\"abc\"", e));          /* W is case-sensitive */
    CHECK(!inm("*, \"abc\"", e));
    CHECK(!inm("**", e));
    CHECK(!inm("", e));
    CHECK(!inm(",", e));
    CHECK(!inm("\"a\"bc\"", e));
    CHECK(!inm("\"ab c\"", "\"ab c\""));  /* a space is not an etagc: our tag is refused too */
    CHECK(!inm("\"abc\"", "abc"));        /* a malformed tag of ours never gives a 304 */
    CHECK(!ov_etag_match("\"abc\"", 4, e)); /* the length is honoured */
}

static void
test_trailing_slash(void)
{
    struct ov_route_pattern p;
    struct ov_route_match m;
    CHECK_EQ_INT(ov_route_compile("/web/", &p), 0);
    CHECK(p.slash && p.n_segs == 1);
    CHECK(ov_route_match(&p, "/web/", 5, &m));
    CHECK(!ov_route_match(&p, "/web", 4, &m));
    CHECK(!ov_route_match(&p, "/web//", 6, &m));
    CHECK(!ov_route_match(&p, "/web/x", 6, &m));
    CHECK(!ov_route_match(&p, "/", 1, &m));
    CHECK_EQ_INT(ov_route_compile("/web", &p), 0);
    CHECK(!p.slash && !ov_route_match(&p, "/web/", 5, &m));
    CHECK_EQ_INT(ov_route_compile("/r/:id/", &p), 0);
    CHECK(ov_route_match(&p, "/r/7/", 5, &m) && m.n_params == 1 && m.params[0].value.len == 1);
    CHECK(!ov_route_match(&p, "/r//", 4, &m));
    CHECK_EQ_INT(ov_route_compile("/x/*/", &p), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_route_compile("//", &p), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_route_compile("/x//", &p), -OV_E_MALFORMED);
}

int
main(void)
{
    test_static_path();
    test_etag();
    test_trailing_slash();
    TEST_DONE("test_static_path");
}
