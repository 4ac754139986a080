/* Unit tests: the witnesses file (protocol/witlist) the verifier, the auditor and the wallet
 * read: bare keys and "URL VKEY" lines, comments, blanks, CRLF, and the refusals with their
 * line: a log key where a cosignature key belongs, a non-key, too many witnesses. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../test.h"
#include "protocol/witlist.h"

/* A vkey of type `type` named name, for a fresh key. */
static void
vkey(const char *name, uint8_t type, char out[OV_NOTE_MAX_VKEY_LEN + 1])
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    struct ov_note_verifier v;
    struct ov_buf b;
    ov_buf_init(&b, OV_NOTE_MAX_VKEY_LEN);
    CHECK_EQ_INT(ov_note_verifier_init(&v, OV_BYTES(name, strlen(name)), type, pk), 0);
    CHECK_EQ_INT(ov_note_vkey_format(&v, &b), 0);
    snprintf(out, OV_NOTE_MAX_VKEY_LEN + 1, "%.*s", (int)b.len, (const char *)b.ptr);
    ov_buf_clear(&b);
}

static int
parse(const char *text, struct ov_witness_line *out, size_t max, size_t *n, size_t *bad)
{
    return ov_witlist_parse(OV_BYTES(text, strlen(text)), out, max, n, bad);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    char w1[OV_NOTE_MAX_VKEY_LEN + 1], w2[OV_NOTE_MAX_VKEY_LEN + 1], lg[OV_NOTE_MAX_VKEY_LEN + 1];
    vkey("w1.example/w", OV_NOTE_TYPE_COSIG_V1, w1);
    vkey("w2.example/w", OV_NOTE_TYPE_COSIG_V1, w2);
    vkey("log.example/log", OV_NOTE_TYPE_ED25519, lg);
    struct ov_witness_line out[4];
    size_t n, bad;
    char text[4096];

    /* the log's own file ("URL VKEY"), a bare key, a comment, blanks, CRLF, tabs */
    snprintf(text, sizeof text, "# witnesses\n\nhttps://w1.example:7380 %s\r\n\t%s  \n", w1, w2);
    CHECK_EQ_INT(parse(text, out, 4, &n, &bad), 0);
    CHECK_EQ_INT(n, 2);
    CHECK(strcmp(out[0].vkey, w1) == 0 && strcmp(out[1].vkey, w2) == 0);
    CHECK(out[0].key.type == OV_NOTE_TYPE_COSIG_V1);
    CHECK_EQ_INT(parse("", out, 4, &n, &bad), 0);
    CHECK_EQ_INT(n, 0);

    /* refusals name their line */
    snprintf(text, sizeof text, "%s\nhttps://log %s\n", w1, lg);
    CHECK_EQ_INT(parse(text, out, 4, &n, &bad), -OV_E_MALFORMED);
    CHECK_EQ_INT(bad, 2); /* a log's key is not a cosignature key */
    CHECK_EQ_INT(parse("#\nnot-a-key\n", out, 4, &n, &bad), -OV_E_MALFORMED);
    CHECK_EQ_INT(bad, 2);
    snprintf(text, sizeof text, "%s\n%s\n%s\n", w1, w2, w1);
    CHECK_EQ_INT(parse(text, out, 2, &n, &bad), -OV_E_TOO_BIG);
    CHECK_EQ_INT(bad, 3);
    static char big[OV_WITLIST_MAX_FILE + 2];
    memset(big, '#', sizeof big - 1);
    CHECK_EQ_INT(parse(big, out, 4, &n, &bad), -OV_E_TOO_BIG);
    TEST_DONE("test_witlist");
}
