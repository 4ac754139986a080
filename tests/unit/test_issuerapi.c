/* test_issuerapi: the issuer's API messages (core/protocol/issuerapi) and the enrollment and issuance
 * log entries (core/protocol/entry): round trips, every rule of each table refused, truncation at every
 * offset, trailing bytes, non-canonical encodings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../test.h"
#include "primitives/brsa.h"
#include "primitives/cbor.h"
#include "base/codec.h"
#include "protocol/entry.h"
#include "protocol/issuerapi.h"

static struct ov_bytes
str(const char *s)
{
    return OV_BYTES(s, strlen(s));
}

static int
ctx_parse(const char *json)
{
    struct ov_context c;
    return ov_context_req_parse(str(json), &c);
}

static void
test_context_req(void)
{
    struct ov_context c, d;
    struct ov_buf b;
    const char *ok = "{\"id\":\"a-1\",\"title\":\"Budget 2027\",\"type\":\"assembly\","
                     "\"choices\":[\"yes\",\"no\"],\"opens\":10,\"closes\":20,\"quota\":2}";
    CHECK_EQ_INT(ov_context_req_parse(str(ok), &c), 0);
    CHECK(strcmp(c.id, "a-1") == 0 && c.type == OV_CONTEXT_ASSEMBLY && c.n_choices == 2);
    CHECK(c.quota == 2 && c.opens == 10 && c.closes == 20);
    CHECK_EQ_INT(ov_context_req_build(&c, &b), 0);
    CHECK_EQ_INT(ov_context_req_parse(ov_buf_view(&b), &d), 0);
    CHECK_EQ_MEM(&c, &d, sizeof c);
    ov_buf_clear(&b);
    CHECK_EQ_INT(ctx_parse("{\"id\":\"r\",\"title\":\"t\",\"type\":\"rating\",\"scale\":[-5,5],"
                           "\"opens\":1,\"closes\":2}"), 0);
    CHECK_EQ_INT(ov_context_req_parse(str("{\"id\":\"r\",\"title\":\"t\",\"type\":\"rating\","
                                          "\"scale\":[-5,5],\"opens\":1,\"closes\":2}"), &c), 0);
    CHECK(c.quota == 1 && c.scale_min == -5 && c.scale_max == 5); /* quota defaults to 1 */
    /* every rule refused */
    static const char *const bad[] = {
        "", "[]", "{}", "null", "{\"id\":\"r\"}",
        "{\"id\":\"R\",\"title\":\"t\",\"type\":\"rating\",\"scale\":[1,2],\"opens\":1,\"closes\":2}",
        "{\"id\":\"-r\",\"title\":\"t\",\"type\":\"rating\",\"scale\":[1,2],\"opens\":1,\"closes\":2}",
        "{\"id\":\"r\",\"title\":\"\",\"type\":\"rating\",\"scale\":[1,2],\"opens\":1,\"closes\":2}",
        "{\"id\":\"r\",\"title\":\"a\\nb\",\"type\":\"rating\",\"scale\":[1,2],\"opens\":1,\"closes\":2}",
        "{\"id\":\"r\",\"title\":\"t\",\"type\":\"rating\",\"scale\":[2,1],\"opens\":1,\"closes\":2}",
        "{\"id\":\"r\",\"title\":\"t\",\"type\":\"rating\",\"scale\":[1,2,3],\"opens\":1,\"closes\":2}",
        "{\"id\":\"r\",\"title\":\"t\",\"type\":\"rating\",\"scale\":[1.5,2],\"opens\":1,\"closes\":2}",
        "{\"id\":\"r\",\"title\":\"t\",\"type\":\"rating\",\"scale\":[1,2],\"opens\":2,\"closes\":2}",
        "{\"id\":\"r\",\"title\":\"t\",\"type\":\"rating\",\"scale\":[1,2],\"opens\":-1,\"closes\":2}",
        "{\"id\":\"r\",\"title\":\"t\",\"type\":\"rating\",\"scale\":[1,2],\"opens\":1,\"closes\":2,\"quota\":0}",
        "{\"id\":\"r\",\"title\":\"t\",\"type\":\"rating\",\"scale\":[1,2],\"opens\":1,\"closes\":2,\"quota\":1000001}",
        "{\"id\":\"r\",\"title\":\"t\",\"type\":\"rating\",\"scale\":[1,2],\"choices\":[\"a\",\"b\"],\"opens\":1,\"closes\":2}",
        "{\"id\":\"r\",\"title\":\"t\",\"type\":\"vote\",\"scale\":[1,2],\"opens\":1,\"closes\":2}",
        "{\"id\":\"a\",\"title\":\"t\",\"type\":\"assembly\",\"choices\":[\"x\"],\"opens\":1,\"closes\":2}",
        "{\"id\":\"a\",\"title\":\"t\",\"type\":\"assembly\",\"choices\":[\"x\",\"x\"],\"opens\":1,\"closes\":2}",
        "{\"id\":\"a\",\"title\":\"t\",\"type\":\"assembly\",\"choices\":[\"x\",\"\"],\"opens\":1,\"closes\":2}",
        "{\"id\":\"a\",\"title\":\"t\",\"type\":\"assembly\",\"choices\":[\"x\",1],\"opens\":1,\"closes\":2}",
        "{\"id\":\"a\",\"title\":\"t\",\"type\":\"assembly\",\"choices\":[\"x\",\"y\"],\"opens\":1,\"closes\":2,\"zz\":1}",
        "{\"id\":\"a\",\"id\":\"b\",\"title\":\"t\",\"type\":\"assembly\",\"choices\":[\"x\",\"y\"],\"opens\":1,\"closes\":2}",
        "{\"id\":\"a\\u0000\",\"title\":\"t\",\"type\":\"assembly\",\"choices\":[\"x\",\"y\"],\"opens\":1,\"closes\":2}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ctx_parse(bad[i]);
        CHECK_EQ_INT(rc, -OV_E_MALFORMED);
        if (rc != -OV_E_MALFORMED) {
            fprintf(stderr, "  accepted: %s\n", bad[i]);
        }
    }
    for (size_t n = 0; n < strlen(ok); n++) {
        CHECK(ov_context_req_parse(OV_BYTES(ok, n), &c) != 0);
    }
    char big[OV_MAX_CONTEXT_REQ_LEN + 2];
    memset(big, ' ', sizeof big);
    CHECK_EQ_INT(ov_context_req_parse(OV_BYTES(big, sizeof big), &c), -OV_E_TOO_BIG);
}

static void
test_attestation(void)
{
    struct ov_attestation a, b;
    struct ov_buf out, re;
    memset(&a, 0, sizeof a);
    a.expires = 1900000000;
    strcpy(a.idp, "idp-one");
    strcpy(a.subject, "subject 42");
    memset(a.key, 7, sizeof a.key);
    CHECK_EQ_INT(ov_attestation_encode(&a, &out), 0);
    CHECK_EQ_INT(ov_attestation_parse(ov_buf_view(&out), &b), 0);
    CHECK_EQ_MEM(&a, &b, sizeof a);
    CHECK_EQ_INT(ov_attestation_encode(&b, &re), 0);
    CHECK(re.len == out.len && memcmp(re.ptr, out.ptr, out.len) == 0);
    ov_buf_clear(&re);
    for (size_t n = 0; n < out.len; n++) {
        CHECK(ov_attestation_parse(OV_BYTES(out.ptr, n), &b) != 0);
    }
    uint8_t trailing[OV_MAX_ATTESTATION_LEN + 1];
    memcpy(trailing, out.ptr, out.len);
    trailing[out.len] = 0;
    CHECK_EQ_INT(ov_attestation_parse(OV_BYTES(trailing, out.len + 1), &b), -OV_E_TRAILING);
    ov_buf_clear(&out);
    /* wrong shapes, made with the encoder: an extra key, a short key, a bad idp */
    cbor_item_t *m = ov_cbor_map_new();
    struct ov_buf x;
    CHECK_EQ_INT(ov_cbor_put_uint(m, "expires", 1), 0);
    CHECK_EQ_INT(ov_cbor_put_text(m, "idp", "i"), 0);
    CHECK_EQ_INT(ov_cbor_put_bytes(m, "key", a.key, 31), 0);
    CHECK_EQ_INT(ov_cbor_put_text(m, "subject", "s"), 0);
    ov_buf_init(&x, 4096);
    CHECK_EQ_INT(ov_cbor_encode(m, &x), 0);
    CHECK_EQ_INT(ov_attestation_parse(ov_buf_view(&x), &b), -OV_E_MALFORMED);
    ov_buf_clear(&x);
    ov_cbor_free(m);
    strcpy(a.idp, "Bad\x01");
    CHECK_EQ_INT(ov_attestation_encode(&a, &out), -OV_E_MALFORMED);
    strcpy(a.idp, "idp");
    a.subject[0] = 0;
    CHECK_EQ_INT(ov_attestation_encode(&a, &out), -OV_E_MALFORMED);
    /* non-canonical: a longer head for expires */
    static const uint8_t noncanon[] = { 0xa4, 0x67, 'e', 'x', 'p', 'i', 'r', 'e', 's', 0x18, 0x01 };
    CHECK(ov_attestation_parse(OV_BYTES(noncanon, sizeof noncanon), &b) != 0);
}

static void
test_enroll_req(void)
{
    struct ov_enroll_req r, s;
    struct ov_buf body;
    memset(&r, 0, sizeof r);
    r.route = OV_ROUTE_INVITE;
    strcpy(r.secret, "BIjM3kDV_RGLmZ0-LpDTdg");
    memset(r.key, 3, sizeof r.key);
    r.time_ms = 1700000000123;
    CHECK_EQ_INT(ov_enroll_req_build(&r, &body), 0);
    CHECK_EQ_INT(ov_enroll_req_parse(ov_buf_view(&body), &s), 0);
    CHECK_EQ_MEM(&r, &s, sizeof r);
    for (size_t n = 0; n < body.len; n++) {
        CHECK(ov_enroll_req_parse(OV_BYTES(body.ptr, n), &s) != 0);
    }
    ov_buf_clear(&body);
    r.route = OV_ROUTE_REGISTRAR;
    CHECK_EQ_INT(ov_enroll_req_build(&r, &body), -OV_E_MALFORMED); /* a code is not a token */
    strcpy(r.secret, "qVX3Zzq92rHXSEFR6aNM1BC74-2iB0X43llIXmAf3bY");
    CHECK_EQ_INT(ov_enroll_req_build(&r, &body), 0);
    CHECK_EQ_INT(ov_enroll_req_parse(ov_buf_view(&body), &s), 0);
    CHECK_EQ_MEM(&r, &s, sizeof r);
    ov_buf_clear(&body);
    memset(r.secret, 0, sizeof r.secret);
    r.route = OV_ROUTE_ATTESTATION;
    r.attestation_len = 40;
    memset(r.attestation, 0xa5, 40);
    memset(r.attestation_sig, 9, sizeof r.attestation_sig);
    CHECK_EQ_INT(ov_enroll_req_build(&r, &body), 0);
    CHECK_EQ_INT(ov_enroll_req_parse(ov_buf_view(&body), &s), 0);
    CHECK_EQ_MEM(&r, &s, sizeof r);
    ov_buf_clear(&body);
    r.route = OV_ROUTE_RECOVERY;
    CHECK_EQ_INT(ov_enroll_req_build(&r, &body), -OV_E_MALFORMED);
    static const char *const bad[] = {
        "{\"route\":\"invite\",\"code\":\"BIjM3kDV_RGLmZ0-LpDTdg\",\"key\":\"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM\"}",
        "{\"route\":\"invite\",\"code\":\"BIjM3kDV_RGLmZ0-LpDTdA==\",\"key\":\"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM\",\"time\":1}",
        "{\"route\":\"invite\",\"code\":\"BIjM3kDV_RGLmZ0-LpDTdh\",\"key\":\"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM\",\"time\":1}",
        "{\"route\":\"invite\",\"code\":\"BIjM3kDV_RGLmZ0-LpDTdg\",\"key\":\"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw\",\"time\":1}",
        "{\"route\":\"invite\",\"code\":\"BIjM3kDV_RGLmZ0-LpDTdg\",\"key\":\"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM\",\"time\":-1}",
        "{\"route\":\"invite\",\"code\":\"BIjM3kDV_RGLmZ0-LpDTdg\",\"key\":\"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM\",\"time\":1,\"token\":\"x\"}",
        "{\"route\":\"recovery\",\"key\":\"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM\",\"time\":1}",
        "{\"route\":\"attestation\",\"attestation\":\"\",\"attestation_sig\":\"\",\"key\":\"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM\",\"time\":1}",
        "[\"route\"]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(ov_enroll_req_parse(str(bad[i]), &s), -OV_E_MALFORMED);
        CHECK(s.route == 0);
    }
}

static void
test_tokreq(void)
{
    uint8_t req[OV_PP_TOKEN_REQUEST_LEN], out[OV_TOKREQ_SIGNED_LEN], pk[32], sig[64];
    uint64_t t = 0;
    memset(req, 0x42, sizeof req);
    ov_tokreq_signed_bytes(0x0102030405060708ull, req, out);
    static const uint8_t head[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    CHECK_EQ_MEM(out, head, 8);
    CHECK_EQ_MEM(out + 8, req, sizeof req);
    const char *k = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM";
    char s[100];
    memset(s, 'A', 86);
    s[86] = 0;
    CHECK_EQ_INT(ov_tokreq_auth_parse(k, "1700000000000", s, pk, &t, sig), 0);
    CHECK(t == 1700000000000ull && pk[0] == 3);
    CHECK_EQ_INT(ov_tokreq_auth_parse(NULL, "1", s, pk, &t, sig), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_tokreq_auth_parse(k, "01", s, pk, &t, sig), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_tokreq_auth_parse(k, "1 ", s, pk, &t, sig), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_tokreq_auth_parse(k, "123456789012345678901", s, pk, &t, sig),
                 -OV_E_MALFORMED);
    s[85] = 0;
    CHECK_EQ_INT(ov_tokreq_auth_parse(k, "1", s, pk, &t, sig), -OV_E_MALFORMED);
    CHECK(t == 0);
}

static void
test_listing(void)
{
    struct ov_brsa_sk *sk = NULL;
    struct ov_issuer_context c, *v = NULL;
    struct ov_buf b;
    size_t n = 0;
    memset(&c, 0, sizeof c);
    strcpy(c.def.id, "a1");
    strcpy(c.def.title, "T");
    strcpy(c.def.issuer, "issuer.example");
    c.def.type = OV_CONTEXT_ASSEMBLY;
    c.def.n_choices = 2;
    strcpy(c.def.choices[0], "yes");
    strcpy(c.def.choices[1], "no");
    c.def.opens = 1;
    c.def.closes = 2;
    c.def.quota = 1;
    c.def.time = 1;
    c.log_index = 7;
    CHECK_EQ_INT(ov_brsa_keygen(2048, &sk), 0);
    CHECK_EQ_INT(ov_pp_spki_encode(ov_brsa_sk_pk(sk), c.def.token_key, sizeof c.def.token_key,
                                   &c.def.token_key_len), 0);
    CHECK_EQ_INT(ov_pp_token_key_id(ov_brsa_sk_pk(sk), c.def.token_key_id), 0);
    ov_buf_init(&b, 1 << 20);
    CHECK_EQ_INT(ov_buf_append_str(&b, "["), 0);
    CHECK_EQ_INT(ov_issuer_context_json(&c, &b), 0);
    CHECK_EQ_INT(ov_buf_append_str(&b, "]"), 0);
    CHECK_EQ_INT(ov_issuer_contexts_parse(ov_buf_view(&b), &v, &n), 0);
    CHECK(n == 1 && v != NULL && memcmp(v, &c, sizeof c) == 0);
    free(v);
    /* a key id that is not the key's */
    char *kid = strstr((char *)b.ptr, "\"token_key_id\":\"");
    CHECK(kid != NULL);
    if (kid != NULL) {
        char *p = kid + strlen("\"token_key_id\":\"");
        *p = *p == 'A' ? 'B' : 'A';
        CHECK(ov_issuer_contexts_parse(ov_buf_view(&b), &v, &n) != 0 && v == NULL && n == 0);
    }
    for (size_t k = 0; k + 1 < b.len; k += 7) {
        CHECK(ov_issuer_contexts_parse(OV_BYTES(b.ptr, k), &v, &n) != 0);
    }
    ov_buf_clear(&b);
    ov_brsa_sk_free(sk);
}

static void
test_entries(void)
{
    struct ov_entry e, d;
    struct ov_buf b;
    memset(&e, 0, sizeof e);
    e.kind = OV_ENTRY_ENROLLMENT;
    e.u.enrollment.route = OV_ROUTE_RECOVERY;
    e.u.enrollment.time = 1700000000;
    CHECK_EQ_INT(ov_entry_encode(&e, &b), -OV_E_MALFORMED); /* n starts at 1 */
    e.u.enrollment.n = 5;
    CHECK_EQ_INT(ov_entry_encode(&e, &b), 0);
    CHECK_EQ_INT(ov_entry_decode(ov_buf_view(&b), &d), 0);
    CHECK(d.kind == OV_ENTRY_ENROLLMENT && d.u.enrollment.n == 5 &&
          d.u.enrollment.route == OV_ROUTE_RECOVERY);
    ov_buf_clear(&b);
    memset(&e, 0, sizeof e);
    e.kind = OV_ENTRY_ISSUANCE;
    strcpy(e.u.issuance.context, "a1");
    memset(e.u.issuance.tag, 0xee, OV_TAG_LEN);
    e.u.issuance.time = 3;
    CHECK_EQ_INT(ov_entry_encode(&e, &b), -OV_E_MALFORMED);
    e.u.issuance.n = 2;
    CHECK_EQ_INT(ov_entry_encode(&e, &b), 0);
    CHECK_EQ_INT(ov_entry_decode(ov_buf_view(&b), &d), 0);
    CHECK(d.kind == e.kind); /* the union holds the decoded kind's member only */
    CHECK_EQ_MEM(&e.u.issuance, &d.u.issuance, sizeof e.u.issuance);
    for (size_t n = 0; n < b.len; n++) {
        CHECK(ov_entry_decode(OV_BYTES(b.ptr, n), &d) != 0);
    }
    ov_buf_clear(&b);
    /* without n, or with n = 0: refused */
    cbor_item_t *m = ov_cbor_map_new();
    CHECK_EQ_INT(ov_cbor_put_text(m, "kind", "issuance"), 0);
    CHECK_EQ_INT(ov_cbor_put_uint(m, "v", 1), 0);
    CHECK_EQ_INT(ov_cbor_put_text(m, "context", "a1"), 0);
    CHECK_EQ_INT(ov_cbor_put_bytes(m, "tag", e.u.issuance.tag, OV_TAG_LEN), 0);
    CHECK_EQ_INT(ov_cbor_put_uint(m, "time", 3), 0);
    ov_buf_init(&b, 4096);
    CHECK_EQ_INT(ov_cbor_encode(m, &b), 0);
    CHECK_EQ_INT(ov_entry_decode(ov_buf_view(&b), &d), -OV_E_MALFORMED);
    ov_buf_clear(&b);
    CHECK_EQ_INT(ov_cbor_put_uint(m, "n", 0), 0);
    ov_buf_init(&b, 4096);
    CHECK_EQ_INT(ov_cbor_encode(m, &b), 0);
    CHECK_EQ_INT(ov_entry_decode(ov_buf_view(&b), &d), -OV_E_MALFORMED);
    ov_buf_clear(&b);
    ov_cbor_free(m);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    test_context_req();
    test_attestation();
    test_enroll_req();
    test_tokreq();
    test_listing();
    test_entries();
    TEST_DONE("test_issuerapi");
}
