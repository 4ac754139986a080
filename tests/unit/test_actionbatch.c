/* Unit tests: POST /actions/batch's lines and its answer (core/protocol/actionbatch). The line rules
 * decide which action a refusal belongs to, so they are pinned here; a refusal line reads
 * back as written; an answer must hold exactly a line per action, each a receipt or a
 * refusal. */
#include <string.h>

#include "protocol/actionbatch.h"
#include "../test.h"

static size_t
lines(const char *s, char out[][16])
{
    struct ov_bytes rest = OV_BYTES(s, strlen(s)), line;
    size_t n = 0;
    while (ov_actionbatch_next(&rest, &line)) {
        memcpy(out[n], line.ptr, line.len);
        out[n++][line.len] = 0;
    }
    CHECK_EQ_INT(ov_actionbatch_count(OV_BYTES(s, strlen(s))), n);
    return n;
}

static void
test_lines(void)
{
    char l[8][16];
    CHECK_EQ_INT(lines("", l), 0);
    CHECK_EQ_INT(lines("a", l), 1);
    CHECK(strcmp(l[0], "a") == 0);
    CHECK_EQ_INT(lines("a\n", l), 1); /* the last "\n" ends a line, it starts none */
    CHECK_EQ_INT(lines("a\nbc", l), 2);
    CHECK(strcmp(l[1], "bc") == 0);
    CHECK_EQ_INT(lines("\n", l), 1); /* one empty line */
    CHECK(l[0][0] == 0);
    CHECK_EQ_INT(lines("a\n\nb\n", l), 3);
    CHECK(l[1][0] == 0 && strcmp(l[2], "b") == 0);
}

static void
test_refusal(void)
{
    struct ov_buf b;
    unsigned status;
    char reason[OV_MAX_REASON_LEN + 1];
    ov_buf_init(&b, 4096);
    CHECK_EQ_INT(ov_actionbatch_refusal(409, "token_spent", "spent \"once\"", &b), 0);
    const char *want = "{\"error\":\"token_spent\",\"message\":\"spent \\\"once\\\"\","
                       "\"http_status\":409}\n";
    CHECK(b.len == strlen(want) && memcmp(b.ptr, want, b.len) == 0);
    CHECK_EQ_INT(ov_actionbatch_refusal_parse(OV_BYTES(b.ptr, b.len - 1), &status, reason), 1);
    CHECK_EQ_INT(status, 409);
    CHECK(strcmp(reason, "token_spent") == 0);
    /* what a refusal may not be */
    CHECK_EQ_INT(ov_actionbatch_refusal(200, "ok", "", &b), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_actionbatch_refusal(400, "Bad-Reason", "", &b), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_actionbatch_refusal(400, "", "", &b), -OV_E_MALFORMED);
    static const char *const bad[] = {
        "{\"error\":\"x\",\"message\":\"m\"}",                                   /* no status */
        "{\"error\":\"x\",\"message\":\"m\",\"http_status\":200}",               /* not a refusal's */
        "{\"error\":\"x\",\"message\":\"m\",\"http_status\":\"409\"}",           /* a string */
        "{\"error\":\"X\",\"message\":\"m\",\"http_status\":409}",               /* not a code */
        "{\"error\":\"x\",\"message\":\"m\",\"http_status\":409,\"more\":1}",     /* another key */
        "{\"error\":\"x\",\"error\":\"y\",\"message\":\"m\",\"http_status\":409}", /* twice */
        "{\"error\":\"a\\u0000b\",\"message\":\"m\",\"http_status\":409}",       /* a NUL */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(ov_actionbatch_refusal_parse(OV_BYTES(bad[i], strlen(bad[i])), &status, reason),
                     -OV_E_MALFORMED);
    }
    CHECK_EQ_INT(ov_actionbatch_refusal_parse(OV_BYTES_STR("{\"status\":\"logged\"}"), &status,
                                              reason),
                 0); /* no "error": not a refusal */
    ov_buf_clear(&b);
}

static void
test_answers(void)
{
    struct ov_receipt r;
    struct ov_buf j, body;
    struct ov_batch_answer a[4];
    ov_receipt_init(&r);
    r.status = OV_RECEIPT_LOGGED;
    r.index = 41;
    memset(r.hash, 7, sizeof r.hash);
    CHECK_EQ_INT(ov_buf_append(&r.entry, "entry", 5), 0);
    CHECK_EQ_INT(ov_receipt_format(&r, &j), 0);
    ov_buf_init(&body, 1 << 16);
    CHECK_EQ_INT(ov_buf_append(&body, j.ptr, j.len), 0);
    CHECK_EQ_INT(ov_buf_append(&body, "\n", 1), 0);
    CHECK_EQ_INT(ov_actionbatch_refusal(403, "context_closed", "closed", &body), 0);
    CHECK_EQ_INT(ov_buf_append(&body, j.ptr, j.len), 0); /* the last line without "\n" */
    CHECK_EQ_INT(ov_actionbatch_answers_parse(ov_buf_view(&body), 3, a), 0);
    CHECK_EQ_INT(a[0].status, 200);
    CHECK_EQ_INT(a[0].receipt.index, 41);
    CHECK(a[0].reason[0] == 0);
    CHECK_EQ_INT(a[1].status, 403);
    CHECK(strcmp(a[1].reason, "context_closed") == 0);
    CHECK_EQ_INT(a[1].receipt.status, 0);
    CHECK_EQ_MEM(a[2].receipt.hash, r.hash, sizeof r.hash);
    ov_actionbatch_answers_clear(a, 3);
    /* a line too many or too few, a line that is neither */
    CHECK_EQ_INT(ov_actionbatch_answers_parse(ov_buf_view(&body), 2, a), -OV_E_MALFORMED);
    CHECK_EQ_INT(a[0].receipt.status, 0); /* cleared on failure */
    CHECK_EQ_INT(ov_actionbatch_answers_parse(ov_buf_view(&body), 4, a), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_buf_append(&body, "\n{}", 3), 0);
    CHECK_EQ_INT(ov_actionbatch_answers_parse(ov_buf_view(&body), 4, a), -OV_E_MALFORMED);
    ov_buf_clear(&body);
    ov_buf_clear(&j);
    ov_receipt_clear(&r);
}

int
main(void)
{
    test_lines();
    test_refusal();
    test_answers();
    TEST_DONE("test_actionbatch");
}
