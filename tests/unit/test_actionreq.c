/* Unit tests: core/protocol/actionreq, the verifier's action request: the JSON body (round trips,
 * every field's rules, truncation at every offset, hostile shapes) and the RFC 9577
 * Authorization: PrivateToken header (the forms RFC 9110 allows, and what it does not). */
#include <stdint.h>
#include <string.h>

#include "../test.h"
#include "protocol/actionreq.h"
#include "base/codec.h"
#include "protocol/entry.h"
#include "primitives/json.h"

static struct ov_action
sample(bool rating, bool token)
{
    struct ov_action a;
    memset(&a, 0, sizeof a);
    strcpy(a.context, "assembly-2024");
    for (int i = 0; i < (int)OV_PSEUDONYM_LEN; i++) {
        a.pseudonym[i] = (uint8_t)(i * 7 + 1);
    }
    for (int i = 0; i < (int)OV_SIGN_SIG_LEN; i++) {
        a.sig[i] = (uint8_t)(255 - i);
    }
    a.has_token = token;
    if (token) {
        a.token[0] = 0;
        a.token[1] = 2;
        for (int i = 2; i < OV_PP_TOKEN_LEN; i++) {
            a.token[i] = (uint8_t)(i * 13);
        }
    }
    a.is_rating = rating;
    if (rating) {
        strcpy(a.target, "note \xc3\xa9 #42");
        a.rating = -3;
    } else {
        strcpy(a.choice, "yes, \"quoted\" \\ back");
    }
    strcpy(a.platform, "decidim.example");
    return a;
}

static int
parse_str(const char *s, struct ov_action *a)
{
    return ov_actionreq_parse(OV_BYTES(s, strlen(s)), a);
}

static int
is_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i]) {
            return 0;
        }
    }
    return 1;
}

/* Replaces the first `from` in s by `to` (into one of 64 rotating static buffers). */
static const char *
subst(const char *s, const char *from, const char *to)
{
    static char pool[64][8192];
    static unsigned next;
    char *out = pool[next++ % 64];
    const char *p = strstr(s, from);
    if (p == NULL) {
        fprintf(stderr, "subst: %s not found\n", from);
        exit(1);
    }
    size_t a = (size_t)(p - s);
    snprintf(out, sizeof pool[0], "%.*s%s%s", (int)a, s, to, p + strlen(from));
    return out;
}

static void
test_json(void)
{
    struct ov_buf b;
    struct ov_action got;
    for (int r = 0; r < 2; r++) {
        for (int t = 0; t < 2; t++) {
            struct ov_action a = sample(r, t);
            CHECK(ov_actionreq_build(&a, true, &b) == 0);
            CHECK(ov_actionreq_parse(ov_buf_view(&b), &got) == 0);
            CHECK(memcmp(&a, &got, sizeof a) == 0);
            /* truncated at every offset: never accepted */
            int bad = 0;
            for (size_t n = 0; n < b.len; n++) {
                bad += ov_actionreq_parse(OV_BYTES(b.ptr, n), &got) == 0;
            }
            CHECK_EQ_INT(bad, 0);
            CHECK(is_zero(&got, sizeof got));
            ov_buf_clear(&b);
        }
    }
    /* a statement: round trip at its longest, in Chinese too; never with a choice or target */
    for (int t = 0; t < 2; t++) {
        struct ov_action st = sample(false, t);
        memset(st.choice, 0, sizeof st.choice);
        st.is_statement = true;
        if (t) {
            memset(st.text, 'w', OV_MAX_STATEMENT_LEN);
        } else {
            strcpy(st.text, "\xe5\x85\xac\xe5\x9c\x92 needs \"shade\"");
        }
        CHECK(ov_actionreq_build(&st, true, &b) == 0);
        CHECK(ov_actionreq_parse(ov_buf_view(&b), &got) == 0);
        CHECK(memcmp(&st, &got, sizeof st) == 0);
        CHECK(ov_actionreq_parse_tree(ov_buf_view(&b), &got) == 0);
        CHECK(memcmp(&st, &got, sizeof st) == 0);
        CHECK(ov_buf_terminate(&b) == 0);
        const char *with_choice = subst((const char *)b.ptr, "\"text\":", "\"choice\":\"a\",\"text\":");
        CHECK(parse_str(with_choice, &got) == -OV_E_MALFORMED);
        const char *with_target = subst((const char *)b.ptr, "\"text\":",
                                        "\"rating\":1,\"target\":\"a\",\"text\":");
        CHECK(parse_str(with_target, &got) == -OV_E_MALFORMED);
        ov_buf_clear(&b);
    }
    { /* one byte too long */
        struct ov_action st = sample(false, false);
        memset(st.choice, 0, sizeof st.choice);
        st.is_statement = true;
        memset(st.text, 'w', OV_MAX_STATEMENT_LEN);
        CHECK(ov_actionreq_build(&st, true, &b) == 0 && ov_buf_terminate(&b) == 0);
        CHECK(parse_str(subst((const char *)b.ptr, "\"text\":\"", "\"text\":\"w"), &got) ==
              -OV_E_MALFORMED);
        ov_buf_clear(&b);
    }

    /* the token can be left out of the body (it then travels in the header) */
    struct ov_action a = sample(false, true);
    CHECK(ov_actionreq_build(&a, false, &b) == 0);
    CHECK(memmem(b.ptr, b.len, "token", 5) == NULL);
    CHECK(ov_actionreq_parse(ov_buf_view(&b), &got) == 0 && !got.has_token);
    ov_buf_clear(&b);

    /* a canonical body to break in every way */
    a = sample(false, true);
    CHECK(ov_actionreq_build(&a, true, &b) == 0);
    CHECK(ov_buf_terminate(&b) == 0);
    char base[OV_MAX_ACTION_REQ_LEN + 1];
    memcpy(base, b.ptr, b.len + 1);
    ov_buf_clear(&b);
    CHECK(parse_str(base, &got) == 0);
    char ps[64], sg[128];
    CHECK(ov_b64_encode(ps, sizeof ps, a.pseudonym, 32, OV_B64_URL_NOPAD) == 0);
    CHECK(ov_b64_encode(sg, sizeof sg, a.sig, 64, OV_B64_URL_NOPAD) == 0);
    const char *const hostile[] = {
        "", "null", "[]", "\"x\"", "{}", "{\"context\":1}",
        subst(base, "\"context\":\"assembly-2024\"", "\"context\":\"Assembly\""),
        subst(base, "\"context\":\"assembly-2024\"", "\"context\":\"-x\""),
        subst(base, "\"context\":\"assembly-2024\"", "\"context\":\"\""),
        subst(base, "\"context\":\"assembly-2024\"",
              "\"context\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""),
        subst(base, "\"context\":\"assembly-2024\"", "\"context\":[\"a\"]"),
        subst(base, "\"context\":\"assembly-2024\",", ""),
        subst(base, "\"platform\":\"decidim.example\",", ""),
        subst(base, "\"platform\":\"decidim.example\"", "\"platform\":\"a\\nb\""),
        subst(base, "\"platform\":\"decidim.example\"", "\"platform\":\"a\\u0000b\""),
        subst(base, "\"platform\":\"decidim.example\"", "\"platform\":\"\""),
        subst(base, "\"platform\":\"decidim.example\"", "\"platform\":\"\\u0085\""),
        subst(base, "\"pseudonym\":\"", "\"pseudonym\":\"A"),
        subst(base, ps, "AAAA"),
        subst(base, ps, "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="),   /* padded */
        subst(base, ps, "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA+"),   /* 33 bytes-ish */
        subst(base, sg, "AAAA"),
        subst(base, "\"sig\":", "\"sig\":1,\"x\":"),
        subst(base, "\"token\":\"", "\"token\":\"AAAA"),
        subst(base, "\"choice\":\"", "\"rating\":1,\"choice\":\""),
        subst(base, "\"choice\":\"", "\"target\":\"t\",\"choice\":\""),
        subst(base, "\"choice\":", "\"extra\":1,\"choice\":"),
        subst(base, "\"choice\":", "\"choice\":\"a\",\"choice\":"),
        subst(base, "\"choice\":\"yes, \\\"quoted\\\" \\\\ back\"", "\"choice\":7"),
        subst(base, "\"choice\":\"yes, \\\"quoted\\\" \\\\ back\",", ""),
        subst(base, "}", "} "),   /* trailing space is JSON whitespace: see below */
        subst(base, "}", "}x"),
        subst(base, "}", "}{}"),
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        int rc = parse_str(hostile[i], &got);
        if (i == sizeof hostile / sizeof hostile[0] - 3) {
            CHECK(rc == 0); /* whitespace after the object is allowed by RFC 8259 */
        } else {
            if (rc == 0) {
                fprintf(stderr, "accepted hostile #%zu: %s\n", i, hostile[i]);
            }
            CHECK(rc == -OV_E_MALFORMED);
            CHECK(is_zero(&got, sizeof got));
        }
    }
    /* a rating: target and integer rating, nothing else */
    struct ov_action r = sample(true, false);
    CHECK(ov_actionreq_build(&r, true, &b) == 0);
    CHECK(ov_buf_terminate(&b) == 0);
    memcpy(base, b.ptr, b.len + 1);
    ov_buf_clear(&b);
    CHECK(parse_str(base, &got) == 0 && got.is_rating && got.rating == -3);
    CHECK(parse_str(subst(base, "\"rating\":-3", "\"rating\":-3.0"), &got) == -OV_E_MALFORMED);
    CHECK(parse_str(subst(base, "\"rating\":-3", "\"rating\":\"-3\""), &got) == -OV_E_MALFORMED);
    CHECK(parse_str(subst(base, "\"rating\":-3", "\"rating\":99999999999999999999"), &got) ==
          -OV_E_MALFORMED);
    CHECK(parse_str(subst(base, "\"rating\":-3", "\"rating\":9223372036854775807"), &got) == 0 &&
          got.rating == INT64_MAX);
    CHECK(parse_str(subst(base, "\"rating\":-3,", ""), &got) == -OV_E_MALFORMED);
    CHECK(parse_str(subst(base, "\"target\":", "\"choice\":\"c\",\"target\":"), &got) ==
          -OV_E_MALFORMED);
    /* labels at the limit */
    r = sample(true, false);
    memset(r.target, 'x', OV_MAX_LABEL_LEN);
    r.target[OV_MAX_LABEL_LEN] = 0;
    CHECK(ov_actionreq_build(&r, true, &b) == 0);
    CHECK(ov_actionreq_parse(ov_buf_view(&b), &got) == 0 && strlen(got.target) == 128);
    ov_buf_clear(&b);
    /* the builder refuses what the parser would */
    r.target[0] = '\n';
    CHECK(ov_actionreq_build(&r, true, &b) == -OV_E_MALFORMED && b.ptr == NULL);
    /* size cap */
    char *big = malloc(OV_MAX_ACTION_REQ_LEN + 2);
    memset(big, ' ', OV_MAX_ACTION_REQ_LEN + 1);
    big[OV_MAX_ACTION_REQ_LEN + 1] = 0;
    memcpy(big, base, strlen(base));
    CHECK(parse_str(big, &got) == -OV_E_TOO_BIG);
    big[OV_MAX_ACTION_REQ_LEN] = 0;
    CHECK(parse_str(big, &got) == 0);
    free(big);
    /* worst-case escaping of two maximal labels still fits the cap */
    r = sample(true, true);
    for (int i = 0; i < OV_MAX_LABEL_LEN; i++) {
        r.target[i] = '"';
        r.platform[i] = '\\';
    }
    r.target[OV_MAX_LABEL_LEN] = r.platform[OV_MAX_LABEL_LEN] = 0;
    strcpy(r.context, "c123456789012345678901234567890123456789012345678901234567890123");
    CHECK(ov_actionreq_build(&r, true, &b) == 0);
    CHECK(ov_actionreq_parse(ov_buf_view(&b), &got) == 0 && memcmp(&got, &r, sizeof r) == 0);
    ov_buf_clear(&b);
}

/* Writes template t into out with every "@" replaced by s. */
static void
fill(char *out, size_t out_max, const char *t, const char *s)
{
    size_t k = 0, sl = strlen(s);
    for (; *t && k + sl + 1 < out_max; t++) {
        if (*t == '@') {
            memcpy(out + k, s, sl);
            k += sl;
        } else {
            out[k++] = *t;
        }
    }
    out[k] = 0;
}

static void
test_header(void)
{
    uint8_t tok[OV_PP_TOKEN_LEN], got[OV_PP_TOKEN_LEN];
    for (int i = 0; i < OV_PP_TOKEN_LEN; i++) {
        tok[i] = (uint8_t)(i * 31 + 5);
    }
    char h[OV_PRIVATETOKEN_HEADER_LEN], b64[600], v[4096];
    CHECK(ov_privatetoken_format(tok, h, sizeof h) == 0);
    CHECK(strlen(h) == OV_PRIVATETOKEN_HEADER_LEN - 1);
    CHECK(strncmp(h, "PrivateToken token=\"", 20) == 0);
    CHECK(ov_privatetoken_parse(h, strlen(h), got) == 0 && memcmp(got, tok, sizeof tok) == 0);
    CHECK(ov_privatetoken_format(tok, h, sizeof h - 1) == -OV_E_TOO_BIG && h[0] == 0);
    CHECK(ov_b64_encode(b64, sizeof b64, tok, sizeof tok, OV_B64_URL_NOPAD) == 0);
    const char *const good[] = {
        "PrivateToken token=@",
        "privatetoken TOKEN=\"@\"",
        "PRIVATETOKEN   token = @  ",
        "PrivateToken challenge=\"abc def\", token=@, token-key=x",
        "PrivateToken ,, token=@ ,",
        "PrivateToken token=\"@\",other=\"a\\\"b\"",
        " PrivateToken\ttoken=@",  /* leading OWS trimmed; but tab after scheme: see bad */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        fill(v, sizeof v, good[i], b64);
        int rc = ov_privatetoken_parse(v, strlen(v), got);
        if (i == 6) {
            CHECK(rc == -OV_E_MALFORMED); /* the scheme is followed by 1*SP, not HTAB */
            continue;
        }
        if (rc != 0) {
            fprintf(stderr, "refused good header #%zu: %s\n", i, v);
        }
        CHECK(rc == 0 && memcmp(got, tok, sizeof tok) == 0);
    }
    /* quoted-pair escapes decode (any VCHAR may be escaped) */
    char esc[1200];
    size_t k = 0;
    k += (size_t)snprintf(esc, sizeof esc, "PrivateToken token=\"");
    for (size_t i = 0; b64[i]; i++) {
        if (i % 50 == 0) {
            esc[k++] = '\\';
        }
        esc[k++] = b64[i];
    }
    esc[k++] = '"';
    esc[k] = 0;
    CHECK(ov_privatetoken_parse(esc, k, got) == 0 && memcmp(got, tok, sizeof tok) == 0);

    char b64short[600];
    CHECK(ov_b64_encode(b64short, sizeof b64short, tok, sizeof tok - 1, OV_B64_URL_NOPAD) == 0);
    const char *const bad[] = {
        "Bearer token=@",
        "PrivateTokentoken=@",
        "PrivateToken",
        "PrivateToken ",
        "PrivateToken @",                       /* token68 */
        "PrivateToken token=@, token=@",
        "PrivateToken token=@, Token=@",
        "PrivateToken a=1, A=2, token=@",
        "PrivateToken challenge=x",
        "PrivateToken token=",
        "PrivateToken token=\"@",               /* unterminated */
        "PrivateToken token=@ x",
        "PrivateToken token=@;",
        "PrivateToken token=\"@\"x",
        "PrivateToken =@",
        "PrivateToken token=@=",                /* "=" outside quotes */
        "PrivateToken token=\"\x01@\"",
        "PrivateToken token=\"@\\\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fill(v, sizeof v, bad[i], b64);
        int rc = ov_privatetoken_parse(v, strlen(v), got);
        if (rc == 0) {
            fprintf(stderr, "accepted bad header #%zu: %s\n", i, v);
        }
        CHECK(rc == -OV_E_MALFORMED && is_zero(got, sizeof got));
    }
    fill(v, sizeof v, "PrivateToken token=@", b64short);
    CHECK(ov_privatetoken_parse(v, strlen(v), got) == -OV_E_MALFORMED);
    fill(v, sizeof v, "PrivateToken token=\"@==\"", b64short);
    CHECK(ov_privatetoken_parse(v, strlen(v), got) == -OV_E_MALFORMED);
    /* a padded value of the right length decodes (353 bytes would need one "=") */
    uint8_t t2[OV_PP_TOKEN_LEN];
    /* too many parameters, too long */
    k = (size_t)snprintf(v, sizeof v, "PrivateToken ");
    for (int i = 0; i < OV_MAX_AUTH_PARAMS; i++) {
        k += (size_t)snprintf(v + k, sizeof v - k, "p%d=1, ", i);
    }
    fill(v + k, sizeof v - k, "token=@", b64);
    CHECK(ov_privatetoken_parse(v, strlen(v), t2) == -OV_E_TOO_BIG);
    memset(v, ' ', sizeof v);
    fill(v + OV_MAX_PRIVATETOKEN_HEADER_LEN - 400, 600, "PrivateToken token=@", b64);
    CHECK(ov_privatetoken_parse(v, strlen(v), t2) == -OV_E_TOO_BIG);
    /* truncations of a good header never pass */
    CHECK(ov_privatetoken_format(tok, h, sizeof h) == 0);
    int bad_n = 0;
    for (size_t n = 0; n < strlen(h); n++) {
        bad_n += ov_privatetoken_parse(h, n, got) == 0;
    }
    CHECK_EQ_INT(bad_n, 0);
}

/* With ov_json_wipe_freed, jansson's blocks go through our free (which zeroes them), and
 * parsing and freeing a request still works. */
static void
test_wipe_freed(void)
{
    json_malloc_t m = NULL;
    json_free_t f = NULL;
    ov_json_wipe_freed();
    json_get_alloc_funcs(&m, &f);
    CHECK(m == malloc);
    CHECK(f != NULL && f != free);
    struct ov_buf b;
    struct ov_action a = sample(false, true), got;
    CHECK(ov_actionreq_build(&a, true, &b) == 0);
    CHECK(ov_actionreq_parse(ov_buf_view(&b), &got) == 0);
    CHECK(memcmp(&a, &got, sizeof a) == 0);
    ov_buf_clear(&b);
}

int
main(void)
{
    test_json();
    test_header();
    test_wipe_freed();
    TEST_DONE("test_actionreq");
}
