/* Unit tests: core/protocol/witreq (C2SP tlog-witness add-checkpoint bodies and text/x.tlog.size),
 * against tests/vectors/tlog-witness-and-proofs.json and hand-made hostile bodies. */
#include <stdint.h>
#include <string.h>

#include "../test.h"
#include "../vec.h"
#include "base/bytes.h"
#include "base/codec.h"
#include "primitives/merkle.h"
#include "primitives/note.h"
#include "protocol/witreq.h"

static json_t *vectors;
static struct ov_witreq req; /* 2 KiB of proof and a parsed note: keep it off the stack */

static struct ov_bytes
S(const char *s) {
    return OV_BYTES(s, strlen(s));
}

static int
is_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            return 0;
        }
    }
    return 1;
}

static char *
concat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    if (s == NULL) {
        exit(1);
    }
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

static struct ov_note_verifier
vkey(const char *s)
{
    struct ov_note_verifier v;
    if (ov_note_vkey_parse(S(s), &v) != 0) {
        exit(1);
    }
    return v;
}

/* Parses a vector body; checks what every well-formed step shares. */
static void
check_step(const char *body, uint64_t old, uint64_t size, const char *note, const json_t *proof)
{
    CHECK_EQ_INT(ov_witreq_parse(S(body), &req), 0);
    CHECK(req.old == old);
    CHECK(req.cp.size == size);
    CHECK(req.cp.origin.len == strlen("fixture.example/tlogcheck/votes") &&
          memcmp(req.cp.origin.ptr, "fixture.example/tlogcheck/votes", req.cp.origin.len) == 0);
    CHECK(req.note_bytes.len == strlen(note) &&
          memcmp(req.note_bytes.ptr, note, strlen(note)) == 0);
    CHECK_EQ_INT(req.note.n_sigs, 1);
    size_t n = proof ? json_array_size(proof) : 0;
    CHECK_EQ_INT(req.n_proof, n);
    for (size_t i = 0; i < n && i < req.n_proof; i++) {
        uint8_t h[OV_HASH_LEN];
        size_t hl = 0;
        const char *s = json_string_value(json_array_get(proof, i));
        CHECK(ov_b64_decode(h, sizeof h, &hl, s, strlen(s), OV_B64_STD) == 0 && hl == 32);
        CHECK_EQ_MEM(req.proof + i * OV_HASH_LEN, h, OV_HASH_LEN);
    }
    struct ov_note_verifier log = vkey(vec_str(vectors, "log_vkey"));
    CHECK_EQ_INT(ov_note_verify(&req.note, &log, 1, NULL), 0);
    /* format(parse(x)) == x */
    struct ov_buf b;
    uint64_t o = req.old;
    size_t np = req.n_proof;
    CHECK_EQ_INT(ov_witreq_format(o, req.proof, np, req.note_bytes, &b), 0);
    CHECK(b.len == strlen(body) && memcmp(b.ptr, body, b.len) == 0);
    ov_buf_clear(&b);
    /* every strict prefix is refused (one signature line: no prefix is a whole note) */
    int all = 1;
    for (size_t i = 0; i < strlen(body); i++) {
        if (ov_witreq_parse(OV_BYTES(body, i), &req) == 0 || !is_zero(&req, sizeof req)) {
            all = 0;
            fprintf(stderr, "prefix of %zu bytes accepted\n", i);
        }
    }
    CHECK(all);
    /* trailing bytes */
    char *t = concat(body, "x");
    CHECK(ov_witreq_parse(S(t), &req) != 0);
    free(t);
    t = concat(body, "\n");
    CHECK(ov_witreq_parse(S(t), &req) != 0);
    free(t);
}

static void
test_vectors(void)
{
    const json_t *cp = json_object_get(vectors, "consistency_proof");
    const char *s1 = vec_str(vectors, "step1_request_body");
    const char *s2 = vec_str(vectors, "step2_request_body");
    check_step(s1, 0, 1000, vec_str(vectors, "old_checkpoint"), NULL);
    check_step(s2, 1000, 70000, vec_str(vectors, "new_checkpoint"), json_object_get(cp, "proof"));
    /* the step 2 proof proves the step 1 root into the step 2 root */
    CHECK_EQ_INT(ov_witreq_parse(S(s1), &req), 0);
    struct ov_checkpoint c1 = req.cp;
    uint8_t root1[OV_HASH_LEN];
    memcpy(root1, c1.root, OV_HASH_LEN);
    CHECK_EQ_INT(ov_witreq_parse(S(s2), &req), 0);
    CHECK_EQ_INT(ov_merkle_verify_consistency(req.old, req.cp.size, root1, req.cp.root, req.proof,
                                              req.n_proof),
                 0);
    /* the expected 200 body is a cosignature/v1 line by the fixture witness on step 2 */
    struct ov_note_verifier w = vkey(vec_str(vectors, "witness_vkey"));
    struct ov_note_check chk;
    struct ov_note n;
    char *full =
        concat(vec_str(vectors, "new_checkpoint"), vec_str(vectors, "step2_expected_response"));
    CHECK_EQ_INT(ov_note_open(S(full), &w, 1, &n, &chk), 0);
    CHECK(chk.verified && chk.timestamp == 1767225600u);
    free(full);
    /* the 409 of the replay */
    const json_t *r = json_object_get(vectors, "replay_step1_after_step2");
    char sz[OV_WITREQ_MAX_SIZE_LEN + 1];
    size_t len = ov_witreq_size_format(70000, sz);
    CHECK(len == strlen(vec_str(r, "expected_body")) &&
          strcmp(sz, vec_str(r, "expected_body")) == 0);
    CHECK(strcmp(vec_str(r, "expected_content_type"), OV_WITREQ_SIZE_CONTENT_TYPE) == 0);
}

/* "old <old>\n" + proof + "\n" + the fixture's old checkpoint */
static char *
body_with(const char *head)
{
    return concat(head, vec_str(vectors, "old_checkpoint"));
}

static void
expect_bad(const char *head, int want)
{
    char *b = body_with(head);
    int rc = ov_witreq_parse(S(b), &req);
    if (want != 0) {
        CHECK_EQ_INT(rc, want);
    } else {
        CHECK(rc != 0);
    }
    CHECK(is_zero(&req, sizeof req));
    free(b);
}

static void
test_hostile(void)
{
    const char *H = "R1GMZRoivv17x6ADSwl8an03DS0HfC6hfTPpKIeYJ3E=\n";
    char *ok = body_with("old 0\n\n");
    CHECK_EQ_INT(ov_witreq_parse(S(ok), &req), 0);
    free(ok);
    /* the old line */
    expect_bad("old 00\n\n", -OV_E_NONCANONICAL);
    expect_bad("old 01\n\n", -OV_E_NONCANONICAL);
    expect_bad("old -1\n\n", -OV_E_MALFORMED);
    expect_bad("old +1\n\n", -OV_E_MALFORMED);
    expect_bad("old  1\n\n", -OV_E_MALFORMED);
    expect_bad("old 1 \n\n", -OV_E_MALFORMED);
    expect_bad("old \n\n", -OV_E_MALFORMED);
    expect_bad("old\n\n", -OV_E_MALFORMED);
    expect_bad("OLD 0\n\n", -OV_E_MALFORMED);
    expect_bad("old 0\r\n\n", -OV_E_MALFORMED);
    expect_bad("old 18446744073709551616\n\n", -OV_E_RANGE);
    expect_bad("old 123456789012345678901\n\n", -OV_E_MALFORMED);
    expect_bad("new 0\n\n", -OV_E_MALFORMED);
    expect_bad("\n", -OV_E_MALFORMED);
    expect_bad("", -OV_E_MALFORMED);
    char *max = body_with("old 18446744073709551615\n\n");
    CHECK_EQ_INT(ov_witreq_parse(S(max), &req), 0);
    CHECK(req.old == UINT64_MAX);
    free(max);
    /* proof lines */
    expect_bad("old 1\nR1GMZRoivv17x6ADSwl8an03DS0HfC6hfTPpKIeYJ3E\n\n", -OV_E_MALFORMED);
    expect_bad("old 1\nR1GMZRoivv17x6ADSwl8an03DS0HfC6hfTPpKIeYJ3E==\n\n", -OV_E_MALFORMED);
    expect_bad("old 1\nR1GMZRoivv17x6ADSwl8an03DS0HfC6hfTPpKIeYJ3F=\n\n", -OV_E_MALFORMED);
    expect_bad("old 1\nR1GMZRoivv17x6ADSwl8an03DS0HfC6hfTPpKIeYJ3E=\r\n\n", -OV_E_MALFORMED);
    expect_bad("old 1\nR1GMZRoivv17x6ADSwl8an03DS0HfC6hfTPpKIeYJ3E=\n \n", -OV_E_MALFORMED);
    expect_bad("old 1\nR1GMZRoivv17x6ADSwl8an03DS0HfC6hfTPpKIeYJ3E=\n", -OV_E_MALFORMED);
    expect_bad("old 1\nR1GMZRoivv17x6ADSwl8an03DS0HfC6hfTPpKIeYJ3E=\nAAAA\n\n", -OV_E_MALFORMED);
    expect_bad("old 1\nR1GMZRoivv17x6ADSwl8an03DS0HfC6hfTPpKIeYJ3E-\n\n", -OV_E_MALFORMED);
    expect_bad("old 1\nR1GMZRoivv17x6ADSwl8an03DS0HfC6hfTPpKIeYJ3E_\n\n", -OV_E_MALFORMED);
    expect_bad("old 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\n", -OV_E_MALFORMED);
    /* 63 lines are the most; 64 are refused */
    struct ov_buf head;
    ov_buf_init(&head, 1 << 16);
    CHECK_EQ_INT(ov_buf_append_str(&head, "old 7\n"), 0);
    for (int i = 0; i < OV_WITREQ_MAX_PROOF; i++) {
        CHECK_EQ_INT(ov_buf_append_str(&head, H), 0);
    }
    CHECK_EQ_INT(ov_buf_append_str(&head, "\n"), 0);
    CHECK_EQ_INT(ov_buf_terminate(&head), 0);
    char *b63 = body_with((const char *)head.ptr);
    CHECK_EQ_INT(ov_witreq_parse(S(b63), &req), 0);
    CHECK_EQ_INT(req.n_proof, OV_WITREQ_MAX_PROOF);
    free(b63);
    head.len -= 1;
    CHECK_EQ_INT(ov_buf_append_str(&head, H), 0);
    CHECK_EQ_INT(ov_buf_append_str(&head, "\n"), 0);
    CHECK_EQ_INT(ov_buf_terminate(&head), 0);
    expect_bad((const char *)head.ptr, -OV_E_TOO_BIG);
    /* the formatter refuses 64 hashes too */
    struct ov_buf f;
    static uint8_t many[64 * OV_HASH_LEN];
    CHECK_EQ_INT(ov_witreq_format(0, many, 64, S("x"), &f), -OV_E_TOO_BIG);
    CHECK(f.ptr == NULL && f.len == 0);
    ov_buf_clear(&head);
    /* the note part */
    CHECK(ov_witreq_parse(S("old 0\n\n"), &req) != 0);
    CHECK(ov_witreq_parse(S("old 0\n\nnot a note\n"), &req) != 0);
    /* a well-formed note whose text is not a checkpoint */
    struct ov_note n;
    const char *note = "hello\n\n\xe2\x80\x94 k AAAAAAAA\n";
    CHECK_EQ_INT(ov_note_parse(S(note), &n), 0);
    char *not_cp = concat("old 0\n\n", note);
    CHECK_EQ_INT(ov_witreq_parse(S(not_cp), &req), -OV_E_MALFORMED);
    free(not_cp);
    /* a body over the maximum is refused before anything else */
    size_t big = OV_WITREQ_MAX_LEN + 1;
    char *huge = malloc(big);
    CHECK(huge != NULL);
    memset(huge, 'a', big);
    CHECK_EQ_INT(ov_witreq_parse(OV_BYTES(huge, big), &req), -OV_E_TOO_BIG);
    free(huge);
    /* NUL bytes */
    CHECK(ov_witreq_parse(OV_BYTES("old 0\0\n\n", 8), &req) != 0);
}

static void
test_size(void)
{
    uint64_t v = 7;
    CHECK_EQ_INT(ov_witreq_size_parse(S("70000\n"), &v), 0);
    CHECK(v == 70000);
    CHECK_EQ_INT(ov_witreq_size_parse(S("0\n"), &v), 0);
    CHECK(v == 0);
    CHECK_EQ_INT(ov_witreq_size_parse(S("18446744073709551615\n"), &v), 0);
    CHECK(v == UINT64_MAX);
    static const char *const bad[] = {"",
                                      "\n",
                                      "70000",
                                      "070000\n",
                                      "00\n",
                                      "-1\n",
                                      "+1\n",
                                      " 1\n",
                                      "1 \n",
                                      "1\n\n",
                                      "1\r\n",
                                      "0x10\n",
                                      "18446744073709551616\n",
                                      "123456789012345678901\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        CHECK(ov_witreq_size_parse(S(bad[i]), &v) != 0);
        CHECK(v == 0);
    }
    char out[OV_WITREQ_MAX_SIZE_LEN + 1];
    static const uint64_t sizes[] = {0, 1, 10, 70000, UINT64_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = ov_witreq_size_format(sizes[i], out);
        CHECK(n == strlen(out) && out[n - 1] == '\n');
        CHECK(ov_witreq_size_parse(OV_BYTES(out, n), &v) == 0 && v == sizes[i]);
    }
}

int
main(void)
{
    vectors = vec_load("tlog-witness-and-proofs.json");
    test_vectors();
    test_hostile();
    test_size();
    json_decref(vectors);
    TEST_DONE("witreq");
}
