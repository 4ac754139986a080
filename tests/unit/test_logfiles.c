/* Unit tests: files the log serves by their SHA-256 (core/protocol/logfiles): the name
 * parser takes exactly 64 lowercase hex digits; an upload's signature binds the producer,
 * the hash, the size and the time; and it never passes as an append's signature, nor an
 * append's as an upload's (the purpose tags differ). */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "base/codec.h"
#include "primitives/cbor.h"
#include "protocol/logfiles.h"
#include "protocol/logreq.h"
#include "../test.h"

static void
names(void)
{
    uint8_t sha[32], back[32];
    char name[OV_LOGFILE_HEX_LEN + 1], bad[OV_LOGFILE_HEX_LEN + 2];
    for (size_t i = 0; i < sizeof sha; i++) {
        sha[i] = (uint8_t)(i * 37 + 11);
    }
    ov_logfile_name(sha, name);
    CHECK(strlen(name) == OV_LOGFILE_HEX_LEN);
    CHECK_EQ_INT(ov_logfile_name_parse(name, back), 0);
    CHECK_EQ_MEM(back, sha, 32);
    CHECK_EQ_INT(ov_logfile_name_parse(NULL, back), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_logfile_name_parse("", back), -OV_E_MALFORMED);
    memcpy(bad, name, sizeof name);
    bad[63] = 0; /* 63 digits */
    CHECK_EQ_INT(ov_logfile_name_parse(bad, back), -OV_E_MALFORMED);
    memcpy(bad, name, OV_LOGFILE_HEX_LEN);
    bad[64] = '0'; /* 65 */
    bad[65] = 0;
    CHECK_EQ_INT(ov_logfile_name_parse(bad, back), -OV_E_MALFORMED);
    const char subst[] = { 'A', 'F', 'g', 'x', ' ', '%', '/', '.', '\x80' };
    for (size_t k = 0; k < sizeof subst; k++) {
        memcpy(bad, name, sizeof name);
        bad[k * 7] = subst[k]; /* uppercase too: one file, one name */
        CHECK_EQ_INT(ov_logfile_name_parse(bad, back), -OV_E_MALFORMED);
    }
}

/* The upload message by hand (logfiles.h), to sign it for another purpose. */
static void
message(const uint8_t sha[32], uint64_t size, uint64_t t, struct ov_buf *m)
{
    ov_buf_init(m, 256);
    int rc = ov_cbor_write_head(m, OV_CBOR_MAP, 4);
    rc = rc ? rc : ov_cbor_write_text(m, "size");
    rc = rc ? rc : ov_cbor_write_head(m, OV_CBOR_UINT, size);
    rc = rc ? rc : ov_cbor_write_text(m, "time");
    rc = rc ? rc : ov_cbor_write_head(m, OV_CBOR_UINT, t);
    rc = rc ? rc : ov_cbor_write_text(m, "sha256");
    rc = rc ? rc : ov_cbor_write_bytes(m, sha, 32);
    rc = rc ? rc : ov_cbor_write_text(m, "producer");
    rc = rc ? rc : ov_cbor_write_text(m, "operator");
    CHECK_EQ_INT(rc, 0);
}

static void
signatures(void)
{
    struct ov_sign_key *k = NULL, *other = NULL;
    uint8_t pk[OV_SIGN_PK_LEN], opk[OV_SIGN_PK_LEN], sha[32], sig[OV_SIGN_SIG_LEN];
    char b64[96], append_b64[96];
    const uint64_t t = 1767000000123ull, size = 4096;
    CHECK_EQ_INT(ov_sign_key_generate(&k), 0);
    CHECK_EQ_INT(ov_sign_key_generate(&other), 0);
    ov_sign_key_public(k, pk);
    ov_sign_key_public(other, opk);
    crypto_hash_sha256(sha, (const uint8_t *)"pool", 4);
    CHECK_EQ_INT(ov_logfile_sign(k, "operator", sha, size, t, b64), 0);
    CHECK_EQ_INT(ov_logfile_verify(pk, "operator", sha, size, t, b64), 0);
    /* every field is bound */
    CHECK_EQ_INT(ov_logfile_verify(opk, "operator", sha, size, t, b64), -OV_E_BAD_SIG);
    CHECK_EQ_INT(ov_logfile_verify(pk, "operatos", sha, size, t, b64), -OV_E_BAD_SIG);
    CHECK_EQ_INT(ov_logfile_verify(pk, "operator", sha, size + 1, t, b64), -OV_E_BAD_SIG);
    CHECK_EQ_INT(ov_logfile_verify(pk, "operator", sha, size, t + 1, b64), -OV_E_BAD_SIG);
    sha[5] ^= 1;
    CHECK_EQ_INT(ov_logfile_verify(pk, "operator", sha, size, t, b64), -OV_E_BAD_SIG);
    sha[5] ^= 1;
    CHECK_EQ_INT(ov_logfile_verify(pk, "operator", sha, size, t, NULL), -OV_E_BAD_SIG);
    CHECK_EQ_INT(ov_logfile_verify(pk, "operator", sha, size, t, "AAAA"), -OV_E_BAD_SIG);
    CHECK_EQ_INT(ov_logfile_verify(pk, "operator", sha, size, t, "not base64!"), -OV_E_BAD_SIG);
    char long_name[80];
    memset(long_name, 'a', 65);
    long_name[65] = 0;
    CHECK_EQ_INT(ov_logfile_sign(k, long_name, sha, size, t, b64) < 0, 1);
    CHECK(b64[0] == 0);
    CHECK_EQ_INT(ov_logfile_sign(k, "operator", sha, size, t, b64), 0);

    /* the same message signed for an append does not pass as an upload... */
    struct ov_buf m;
    message(sha, size, t, &m);
    CHECK_EQ_INT(ov_sign(k, OV_SIGN_LOG_APPEND, m.ptr, m.len, sig), 0);
    CHECK_EQ_INT(ov_b64_encode(append_b64, sizeof append_b64, sig, sizeof sig, OV_B64_STD), 0);
    CHECK_EQ_INT(ov_logfile_verify(pk, "operator", sha, size, t, append_b64), -OV_E_BAD_SIG);
    /* ...and the upload's signature does not pass as an append of those bytes */
    CHECK_EQ_INT(ov_logreq_verify(pk, ov_buf_view(&m), b64), -OV_E_BAD_SIG);
    /* while for its own purpose it is the signature of exactly those bytes */
    CHECK_EQ_INT(ov_logreq_verify(pk, ov_buf_view(&m), append_b64), 0);
    ov_buf_clear(&m);

    /* a real append request's signature, replayed as an upload of its body */
    struct ov_buf body;
    char req_sig[96];
    struct ov_bytes e = OV_BYTES("x", 1);
    CHECK_EQ_INT(ov_logreq_build(k, "operator", &e, 1, false, &body, req_sig), 0);
    crypto_hash_sha256(sha, body.ptr, body.len);
    CHECK_EQ_INT(ov_logfile_verify(pk, "operator", sha, body.len, t, req_sig), -OV_E_BAD_SIG);
    ov_buf_clear(&body);
    ov_sign_key_free(k);
    ov_sign_key_free(other);
}

int
main(void)
{
    CHECK(sodium_init() >= 0);
    names();
    signatures();
    TEST_DONE("test_logfiles");
}
