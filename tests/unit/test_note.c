/* Unit tests: core/primitives/note (C2SP signed notes, vkeys, checkpoints, cosignature/v1), against every
 * case of tests/vectors/signed-note.json and the fixture log's checkpoint file. */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/codec.h"
#include "infra/keyfile.h"
#include "primitives/note.h"
#include "primitives/sign.h"
#include "../test.h"
#include "../vec.h"

static json_t *vectors;

static struct ov_bytes
S(const char *s)
{
    return OV_BYTES(s, strlen(s));
}

static int
buf_is(const struct ov_buf *b, const char *s)
{
    return b->len == strlen(s) && memcmp(b->ptr, s, b->len) == 0;
}

static int
bytes_is(struct ov_bytes b, const char *s)
{
    return b.len == strlen(s) && (b.len == 0 || memcmp(b.ptr, s, b.len) == 0);
}

static const json_t *
group(const char *name)
{
    const json_t *g = json_object_get(vectors, name);
    if (g == NULL) {
        fprintf(stderr, "missing vector group %s\n", name);
        exit(1);
    }
    return g;
}

/* a + b as a fresh NUL-terminated heap string */
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

/* A verifier from a vkey string, or the test exits. */
static struct ov_note_verifier
vkey(const char *s)
{
    struct ov_note_verifier v;
    if (ov_note_vkey_parse(S(s), &v) != 0) {
        fprintf(stderr, "cannot parse vkey %s\n", s);
        exit(1);
    }
    return v;
}

/* parse -> serialize must give back the input byte for byte */
static void
check_round_trip(const char *note)
{
    struct ov_note n;
    struct ov_buf b;
    CHECK_EQ_INT(ov_note_parse(S(note), &n), 0);
    CHECK_EQ_INT(ov_note_serialize(&n, &b), 0);
    CHECK(buf_is(&b, note));
    ov_buf_clear(&b);
}

static void
test_peterneumann(void)
{
    const json_t *g = group("x_mod_peterneumann");
    const char *text = vec_str(g, "text"), *signed_note = vec_str(g, "signed");
    struct ov_note_signer *s = NULL;
    struct ov_buf b;

    /* x/mod's private key format -> signer -> its vkey */
    CHECK_EQ_INT(ov_keyfile_skey_parse(S(vec_str(g, "skey")), &s), 0);
    CHECK(s != NULL);
    const struct ov_note_verifier *sv = ov_note_signer_verifier(s);
    CHECK_EQ_INT(sv->key_id, 0xc74f20a3);
    CHECK_EQ_INT(sv->type, OV_NOTE_TYPE_ED25519);
    CHECK(strcmp(sv->name, "PeterNeumann") == 0);
    ov_buf_init(&b, 1024);
    CHECK_EQ_INT(ov_note_vkey_format(sv, &b), 0);
    CHECK(buf_is(&b, vec_str(g, "vkey")));
    ov_buf_clear(&b);

    /* Ed25519 is deterministic: the signed note is reproduced byte for byte */
    const struct ov_note_signer *signers[] = { s };
    CHECK_EQ_INT(ov_note_sign(S(text), signers, 1, &b), 0);
    CHECK(buf_is(&b, signed_note));
    ov_buf_clear(&b);

    /* the vkey parses to the same key and opens the note */
    struct ov_note_verifier v = vkey(vec_str(g, "vkey"));
    CHECK_EQ_INT(v.key_id, 0xc74f20a3);
    CHECK_EQ_MEM(v.pk, sv->pk, 32);
    struct ov_note n;
    struct ov_note_check chk[3];
    CHECK_EQ_INT(ov_note_open(S(signed_note), &v, 1, &n, chk), 0);
    CHECK(bytes_is(n.text, text));
    CHECK_EQ_INT(n.n_sigs, 1);
    CHECK(bytes_is(n.sigs[0].name, "PeterNeumann"));
    CHECK_EQ_INT(n.sigs[0].key_id, 0xc74f20a3);
    CHECK_EQ_INT(chk[0].verified, 1);
    check_round_trip(signed_note);

    /* the second key (EnochRoot) and its signature line appended to the note */
    struct ov_note_verifier vs[2] = { v, vkey(vec_str(g, "second_key_vkey")) };
    CHECK_EQ_INT(vs[1].key_id, 0xaf0cfe78);
    char *both = concat(signed_note, vec_str(g, "second_key_sig_line"));
    CHECK_EQ_INT(ov_note_open(S(both), vs, 2, &n, chk), 0);
    CHECK(chk[0].verified == 1 && chk[1].verified == 1);
    CHECK_EQ_INT(n.n_sigs, 2);
    CHECK(bytes_is(n.sigs[1].name, "EnochRoot"));
    CHECK_EQ_INT(ov_note_open(S(both), &vs[1], 1, &n, chk), 0);
    CHECK_EQ_INT(chk[0].verified, 1);
    check_round_trip(both);
    /* appending a signature line the way x/mod does: text, blank, old lines, new line */
    ov_buf_init(&b, OV_NOTE_MAX_LEN);
    CHECK_EQ_INT(ov_buf_append(&b, signed_note, strlen(signed_note)), 0);
    CHECK_EQ_INT(ov_note_sign_line(s, S(text), &b), 0);
    CHECK(b.len > strlen(signed_note));
    CHECK_EQ_INT(ov_note_parse(ov_buf_view(&b), &n), -OV_E_MALFORMED); /* same key twice */
    ov_buf_clear(&b);

    /* only EnochRoot trusted, note signed by PeterNeumann alone: no known signature */
    CHECK_EQ_INT(ov_note_open(S(signed_note), &vs[1], 1, &n, chk), -OV_E_UNKNOWN_KEY);
    CHECK_EQ_INT(chk[0].verified, 0);
    CHECK_EQ_INT(ov_note_open(S(signed_note), NULL, 0, &n, NULL), -OV_E_UNKNOWN_KEY);

    /* a key that shares only the name, or only the ID, is not "known": its line is ignored */
    struct ov_sign_key *other = NULL;
    struct ov_note_verifier same_name, same_id = v;
    CHECK_EQ_INT(ov_sign_key_generate(&other), 0);
    CHECK_EQ_INT(ov_note_verifier_init(&same_name, S("PeterNeumann"), OV_NOTE_TYPE_ED25519,
                                       ov_sign_key_pk(other)),
                 0);
    CHECK(same_name.key_id != v.key_id);
    memcpy(same_id.name, "PeterNeumanm", 12);
    CHECK_EQ_INT(ov_note_open(S(signed_note), &same_name, 1, &n, NULL), -OV_E_UNKNOWN_KEY);
    CHECK_EQ_INT(ov_note_open(S(signed_note), &same_id, 1, &n, NULL), -OV_E_UNKNOWN_KEY);
    struct ov_note_verifier mixed[3] = { same_name, same_id, v };
    CHECK_EQ_INT(ov_note_open(S(signed_note), mixed, 3, &n, chk), 0);
    CHECK(chk[0].verified == 0 && chk[1].verified == 0 && chk[2].verified == 1);
    /* the same (name, ID) twice in the trusted set is a configuration error */
    struct ov_note_verifier dup[2] = { v, v };
    CHECK_EQ_INT(ov_note_open(S(signed_note), dup, 2, &n, NULL), -OV_E_CONFLICT);
    /* a trusted key of the cosignature type with the same name: different ID, ignored */
    struct ov_note_verifier as_cosig;
    CHECK_EQ_INT(ov_note_verifier_init(&as_cosig, S("PeterNeumann"), OV_NOTE_TYPE_COSIG_V1,
                                       v.pk),
                 0);
    CHECK(as_cosig.key_id != v.key_id);
    CHECK_EQ_INT(ov_note_open(S(signed_note), &as_cosig, 1, &n, NULL), -OV_E_UNKNOWN_KEY);

    ov_sign_key_free(other);
    free(both);
    ov_note_signer_free(s);
}

static void
test_c2sp_example(void)
{
    const json_t *g = group("c2sp_signed_note_example");
    struct ov_note_verifier v = vkey(vec_str(g, "vkey"));
    struct ov_note n;
    CHECK_EQ_INT(v.key_id, 0x530d903a);
    CHECK_EQ_INT(ov_note_open(S(vec_str(g, "signed")), &v, 1, &n, NULL), 0);
    CHECK(bytes_is(n.text, vec_str(g, "text")));
    check_round_trip(vec_str(g, "signed"));
}

static void
test_malformed(void)
{
    struct ov_note_verifier v = vkey(vec_str(group("x_mod_peterneumann"), "vkey"));
    const json_t *list = group("malformed_notes_vs_PeterNeumann");
    size_t i;
    const json_t *c;
    CHECK(json_array_size(list) == 7);
    json_array_foreach(list, i, c)
    {
        const char *desc = vec_str(c, "desc"), *note = vec_str(c, "note");
        struct ov_note n;
        struct ov_note_check chk;
        int rc = ov_note_open(S(note), &v, 1, &n, &chk);
        if (rc == 0) {
            fprintf(stderr, "accepted malformed note: %s\n", desc);
        }
        CHECK(rc != 0);
        CHECK_EQ_INT(chk.verified, 0);
        CHECK(n.text.len == 0 && n.n_sigs == 0);
        if (strstr(desc, "corrupted signature") != NULL) {
            CHECK_EQ_INT(rc, -OV_E_BAD_SIG);
            CHECK_EQ_INT(ov_note_parse(S(note), &n), 0); /* well-formed, just a bad signature */
        } else {
            CHECK_EQ_INT(rc, -OV_E_MALFORMED);
        }
    }
}

/* Hostile syntax around the PeterNeumann note. */
static void
test_syntax(void)
{
    const json_t *g = group("x_mod_peterneumann");
    const char *good = vec_str(g, "signed");
    const char *line = strstr(good, "\xe2\x80\x94");
    struct ov_note_verifier v = vkey(vec_str(g, "vkey"));
    struct ov_note n;
    size_t len = strlen(good);
    char buf[1024];
    CHECK(line != NULL && len < sizeof buf - 16);

    /* truncation at every offset */
    for (size_t cut = 0; cut < len; cut++) {
        CHECK(ov_note_parse(OV_BYTES(good, cut), &n) != 0);
    }
    /* trailing bytes */
    static const char *const tails[] = { "x", "\n", " ", "\xe2\x80\x94 \n", "\xe2\x80\x94" };
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        char *t = concat(good, tails[i]);
        CHECK_EQ_INT(ov_note_parse(S(t), &n), -OV_E_MALFORMED);
        free(t);
    }
    /* byte-level mutations of the note: each one either fails to parse, or fails to verify */
    memcpy(buf, good, len + 1);
    for (size_t i = 0; i < len; i++) {
        char saved = buf[i];
        buf[i] = (char)(buf[i] ^ 0x01);
        CHECK(ov_note_open(OV_BYTES(buf, len), &v, 1, &n, NULL) != 0);
        buf[i] = saved;
    }

    /* control characters, CR, NUL, invalid UTF-8 anywhere */
    static const char *const bad_bytes[] = { "\r", "\t", "\x7f\x01", "\0", "\xff", "\xc0\x80",
                                             "\xed\xa0\x80", "\xf5\x80\x80\x80", "\xe2\x80",
                                             "\xf4\x90\x80\x80" };
    for (size_t i = 0; i < sizeof bad_bytes / sizeof bad_bytes[0]; i++) {
        size_t k = i == 3 ? 1 : strlen(bad_bytes[i]);
        memcpy(buf, bad_bytes[i], k);
        memcpy(buf + k, good, len);
        /* (in "\x7f\x01", DEL is allowed and 0x01 is not) */
        CHECK_EQ_INT(ov_note_parse(OV_BYTES(buf, len + k), &n), -OV_E_MALFORMED);
    }
    /* valid non-ASCII UTF-8 and DEL are fine in the text (they just break the signature) */
    char *t = concat("\x7f\xc3\xa8\xe2\x80\x94\xf0\x9f\x97\xb3", good);
    CHECK_EQ_INT(ov_note_parse(S(t), &n), 0);
    CHECK_EQ_INT(ov_note_verify(&n, &v, 1, NULL), -OV_E_BAD_SIG);
    free(t);

    /* signature line shapes */
    static const char *const text = "a\n\n";
    static const char *const bad_lines[] = {
        "-- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "\xe2\x80\x93 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "\xe2\x80\x94PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "\xe2\x80\x94  PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "\xe2\x80\x94 PeterNeumann  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM= \n",
        "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAN=\n",
        "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n",
        "\xe2\x80\x94 PeterNeumann x08go_ZJkuBS9UG_SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "\xe2\x80\x94 Peter+Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "\xe2\x80\x94 Peter\xc2\xa0Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "\xe2\x80\x94 PeterNeumann\n",
        "\xe2\x80\x94 PeterNeumann \n",
        "\xe2\x80\x94  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "\xe2\x80\x94 k AAAAAA==\n", /* 4 bytes: a key ID and no signature */
        "\xe2\x80\x94 k AAAAAA\xc3\xa8\n", /* libsodium 1.0.18 would read bytes >= 0x80 as '/' */
        "\xe2\x80\x94 \n",
        "\xe2\x80\x94\n",
    };
    for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
        char *note = concat(text, bad_lines[i]);
        int rc = ov_note_parse(S(note), &n);
        if (rc == 0) {
            fprintf(stderr, "accepted bad line %zu\n", i);
        }
        CHECK_EQ_INT(rc, -OV_E_MALFORMED);
        free(note);
    }
    /* the smallest acceptable blob: key ID and one byte */
    CHECK_EQ_INT(ov_note_parse(S("a\n\n\xe2\x80\x94 k AAAAAAA=\n"), &n), 0);
    CHECK_EQ_INT(n.sigs[0].key_id, 0);
    /* text with empty lines: the split is at the last blank line */
    CHECK_EQ_INT(ov_note_parse(S("\n\na\n\n\n\xe2\x80\x94 k AAAAAAA=\n"), &n), 0);
    CHECK(bytes_is(n.text, "\n\na\n\n"));
    CHECK_EQ_INT(ov_note_parse(S("\n\n\xe2\x80\x94 k AAAAAAA=\n"), &n), 0);
    CHECK(bytes_is(n.text, "\n"));
    CHECK_EQ_INT(ov_note_parse(S("\n\xe2\x80\x94 k AAAAAAA=\n"), &n), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_note_parse(S(""), &n), -OV_E_MALFORMED);
    /* a blank line after a signature-looking line moves the split: that line becomes text */
    CHECK_EQ_INT(ov_note_parse(S("a\n\n\xe2\x80\x94 k AAAAAAA=\n\n\xe2\x80\x94 j AAAAAAA=\n"),
                               &n),
                 0);
    CHECK(bytes_is(n.text, "a\n\n\xe2\x80\x94 k AAAAAAA=\n"));
    CHECK(n.n_sigs == 1 && bytes_is(n.sigs[0].name, "j"));
    /* the same (name, ID) twice, even with different signatures; same ID other name is fine */
    CHECK_EQ_INT(ov_note_parse(S("a\n\n\xe2\x80\x94 k AAAAAAA=\n\xe2\x80\x94 k AAAAAAE=\n"), &n),
                 -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_note_parse(S("a\n\n\xe2\x80\x94 k AAAAAAA=\n\xe2\x80\x94 j AAAAAAA=\n"), &n),
                 0);
    CHECK_EQ_INT(ov_note_parse(S("a\n\n\xe2\x80\x94 k AAAAAAA=\n\xe2\x80\x94 k AAAAAQA=\n"), &n),
                 0);
    CHECK_EQ_INT(n.sigs[1].key_id, 1);
}

/* OV_NOTE_MAX_SIGS lines are fine, one more is not; oversized notes and blobs. */
static void
test_limits(void)
{
    struct ov_buf b;
    struct ov_note n;
    ov_buf_init(&b, 2 * OV_NOTE_MAX_LEN);
    CHECK_EQ_INT(ov_buf_append_str(&b, "text\n\n"), 0);
    for (int i = 0; i < OV_NOTE_MAX_SIGS; i++) {
        CHECK_EQ_INT(ov_buf_printf(&b, "\xe2\x80\x94 k%d AAAAAAA=\n", i), 0);
    }
    CHECK_EQ_INT(ov_note_parse(ov_buf_view(&b), &n), 0);
    CHECK_EQ_INT(n.n_sigs, OV_NOTE_MAX_SIGS);
    CHECK_EQ_INT(ov_buf_printf(&b, "\xe2\x80\x94 k%d AAAAAAA=\n", OV_NOTE_MAX_SIGS), 0);
    CHECK_EQ_INT(ov_note_parse(ov_buf_view(&b), &n), -OV_E_TOO_BIG);
    ov_buf_clear(&b);

    /* a note of exactly OV_NOTE_MAX_LEN bytes parses; one byte more does not */
    static const char tail[] = "\n\n\xe2\x80\x94 k AAAAAAA=\n";
    ov_buf_init(&b, 2 * OV_NOTE_MAX_LEN);
    CHECK_EQ_INT(ov_buf_reserve(&b, OV_NOTE_MAX_LEN), 0);
    memset(b.ptr, 'x', OV_NOTE_MAX_LEN - (sizeof tail - 1));
    b.len = OV_NOTE_MAX_LEN - (sizeof tail - 1);
    CHECK_EQ_INT(ov_buf_append(&b, tail, sizeof tail - 1), 0);
    CHECK_EQ_INT(b.len, OV_NOTE_MAX_LEN);
    CHECK_EQ_INT(ov_note_parse(ov_buf_view(&b), &n), 0);
    CHECK_EQ_INT(ov_buf_append(&b, "\n", 1), 0);
    CHECK_EQ_INT(ov_note_parse(ov_buf_view(&b), &n), -OV_E_TOO_BIG);
    ov_buf_clear(&b);

    /* a signature blob of OV_NOTE_MAX_SIG_LEN bytes parses (unknown keys may be post-quantum);
     * one more base64 quantum does not */
    uint8_t *blob = calloc(1, OV_NOTE_MAX_SIG_LEN + 3);
    CHECK(blob != NULL);
    ov_buf_init(&b, 2 * OV_NOTE_MAX_LEN);
    CHECK_EQ_INT(ov_buf_append_str(&b, "t\n\n\xe2\x80\x94 pq "), 0);
    CHECK_EQ_INT(ov_buf_append_b64(&b, blob, OV_NOTE_MAX_SIG_LEN, OV_B64_STD), 0);
    CHECK_EQ_INT(ov_buf_append_str(&b, "\n"), 0);
    CHECK_EQ_INT(ov_note_parse(ov_buf_view(&b), &n), 0);
    ov_buf_clear(&b);
    ov_buf_init(&b, 2 * OV_NOTE_MAX_LEN);
    CHECK_EQ_INT(ov_buf_append_str(&b, "t\n\n\xe2\x80\x94 pq "), 0);
    CHECK_EQ_INT(ov_buf_append_b64(&b, blob, OV_NOTE_MAX_SIG_LEN + 3, OV_B64_STD), 0);
    CHECK_EQ_INT(ov_buf_append_str(&b, "\n"), 0);
    CHECK_EQ_INT(ov_note_parse(ov_buf_view(&b), &n), -OV_E_TOO_BIG);
    ov_buf_clear(&b);
    free(blob);

    /* a long but verifying-key-sized blob from a known key is a bad signature, not a crash */
    const json_t *g = group("x_mod_peterneumann");
    struct ov_note_verifier v = vkey(vec_str(g, "vkey"));
    ov_buf_init(&b, 2 * OV_NOTE_MAX_LEN);
    uint8_t big[200] = { 0xc7, 0x4f, 0x20, 0xa3 };
    CHECK_EQ_INT(ov_buf_append_str(&b, vec_str(g, "text")), 0);
    CHECK_EQ_INT(ov_buf_append_str(&b, "\n\xe2\x80\x94 PeterNeumann "), 0);
    CHECK_EQ_INT(ov_buf_append_b64(&b, big, sizeof big, OV_B64_STD), 0);
    CHECK_EQ_INT(ov_buf_append_str(&b, "\n"), 0);
    CHECK_EQ_INT(ov_note_open(ov_buf_view(&b), &v, 1, &n, NULL), -OV_E_BAD_SIG);
    ov_buf_clear(&b);
}

static void
test_names(void)
{
    static const char *const good[] = { "a", "example.com/foo", "oid/1.3.6.1", "\xc3\xa8",
                                        "PeterNeumann", "\xe2\x80\x94", "a=b" };
    static const char *const bad[] = { "", "a b", "a+b", "a\tb", "a\nb", "a\x01", "\xc2\x85",
                                       "\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x8a",
                                       "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf",
                                       "\xe2\x81\x9f", "\xe3\x80\x80", "\xff", "\xc0\xaf",
                                       "\xed\xbf\xbf" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_EQ_INT(ov_note_name_check(S(good[i])), 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(ov_note_name_check(S(bad[i])), -OV_E_MALFORMED);
    }
    char longname[OV_NOTE_MAX_NAME_LEN + 2];
    memset(longname, 'n', sizeof longname);
    CHECK_EQ_INT(ov_note_name_check(OV_BYTES(longname, OV_NOTE_MAX_NAME_LEN)), 0);
    CHECK_EQ_INT(ov_note_name_check(OV_BYTES(longname, OV_NOTE_MAX_NAME_LEN + 1)),
                 -OV_E_TOO_BIG);
}

static void
test_vkeys(void)
{
    const char *good = vec_str(group("fixture_log_key"), "vkey");
    struct ov_note_verifier v;
    struct ov_buf b;
    size_t len = strlen(good);
    CHECK_EQ_INT(ov_note_vkey_parse(S(good), &v), 0);
    ov_buf_init(&b, OV_NOTE_MAX_VKEY_LEN);
    CHECK_EQ_INT(ov_note_vkey_format(&v, &b), 0);
    CHECK(buf_is(&b, good));
    ov_buf_clear(&b);
    for (size_t cut = 0; cut < len; cut++) {
        CHECK_EQ_INT(ov_note_vkey_parse(OV_BYTES(good, cut), &v), -OV_E_MALFORMED);
        CHECK_EQ_INT(v.key_id, 0);
    }
    static const char *const bad[] = {
        "fixture.example/tlogcheck/votes+0756a8b1+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPl\n",
        " fixture.example/tlogcheck/votes+0756a8b1+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPl",
        "fixture.example/tlogcheck/votes+0756A8B1+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPl",
        "fixture.example/tlogcheck/votes+0756a8b2+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPl",
        "fixture.example/tlogcheck/votez+0756a8b1+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPl",
        "fixture.example/tlogcheck/votes+756a8b1+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPl",
        "fixture.example/tlogcheck/votes+00756a8b1+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPl",
        "fixture.example/tlogcheck/votes+0756a8b1+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPm",
        "fixture.example/tlogcheck/votes+0756a8b1+AZ4ryAj0pg3fcHNf-aIxTOCdzGtwkRfCI7isBQWrvgPl",
        "fixture.example/tlogcheck/votes+0756a8b1+Ap4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPl",
        "fixture.example/tlogcheck/votes+0756a8b1+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvg==",
        "fixture.example/tlogcheck/votes+0756a8b1+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPlAA==",
        "fixture.example/tlogcheck/votes+0756a8b1",
        "fixture.example/tlogcheck/votes",
        "+0756a8b1+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPl",
        "fixture.example/tlogcheck/votes++AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPl",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ov_note_vkey_parse(S(bad[i]), &v);
        if (rc == 0) {
            fprintf(stderr, "accepted bad vkey %zu\n", i);
        }
        CHECK_EQ_INT(rc, -OV_E_MALFORMED);
    }
    /* well-formed vkeys with a matching key ID that are still refused: type 0x02 (ECDSA,
     * unsupported), type 0xff, and the identity point (small order) as an Ed25519 key */
    struct ov_note_verifier fixture = vkey(good);
    uint8_t ident[32] = { 1 };
    struct {
        uint8_t type;
        const uint8_t *pk;
    } refused[] = { { 0x02, fixture.pk }, { 0xff, fixture.pk }, { 0x01, ident }, { 0x04, ident } };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        uint8_t raw[33];
        raw[0] = refused[i].type;
        memcpy(raw + 1, refused[i].pk, 32);
        ov_buf_init(&b, OV_NOTE_MAX_VKEY_LEN);
        CHECK_EQ_INT(ov_buf_printf(&b, "x+%08" PRIx32 "+",
                                   ov_note_key_id(S("x"), refused[i].type, refused[i].pk)),
                     0);
        CHECK_EQ_INT(ov_buf_append_b64(&b, raw, sizeof raw, OV_B64_STD), 0);
        CHECK_EQ_INT(ov_note_vkey_parse(ov_buf_view(&b), &v), -OV_E_MALFORMED);
        ov_buf_clear(&b);
    }
    ov_buf_init(&b, OV_NOTE_MAX_VKEY_LEN);
    uint8_t raw[33] = { OV_NOTE_TYPE_COSIG_V1 };
    memcpy(raw + 1, fixture.pk, 32);
    CHECK_EQ_INT(ov_buf_printf(&b, "x+%08" PRIx32 "+",
                               ov_note_key_id(S("x"), OV_NOTE_TYPE_COSIG_V1, fixture.pk)),
                 0);
    CHECK_EQ_INT(ov_buf_append_b64(&b, raw, sizeof raw, OV_B64_STD), 0);
    CHECK_EQ_INT(ov_note_vkey_parse(ov_buf_view(&b), &v), 0);
    CHECK_EQ_INT(v.type, OV_NOTE_TYPE_COSIG_V1);
    ov_buf_clear(&b);
    char oversize[OV_NOTE_MAX_VKEY_LEN + 2];
    memset(oversize, 'a', sizeof oversize);
    CHECK_EQ_INT(ov_note_vkey_parse(OV_BYTES(oversize, sizeof oversize), &v), -OV_E_TOO_BIG);
}

/* The deterministic fixture log key: seed rule, every key-ID intermediate, the vkey, and the
 * signed checkpoint of the fixture log at 70000, which must equal fixture-log/checkpoint. */
static void
test_fixture_log(void)
{
    const json_t *g = group("fixture_log_key");
    const char *name = vec_str(g, "name");
    uint8_t seed[32], pk[32], h[32];
    struct ov_buf want_seed = vec_hex(g, "ed25519_seed_hex"), want_pk = vec_hex(g, "ed25519_pub_hex");
    struct ov_buf want_input = vec_hex(g, "key_id_input_hex");
    struct ov_buf want_hash = vec_hex(g, "key_id_sha256_hex"), want_id = vec_hex(g, "key_id_hex");
    struct ov_buf want_root = vec_hex(g, "checkpoint_root_hex");
    CHECK(strcmp(vec_str(g, "ed25519_seed_rule"),
                 "SHA-256(ASCII \"tlogcheck fixture log key\")") == 0);
    crypto_hash_sha256(seed, (const uint8_t *)"tlogcheck fixture log key", 25);
    CHECK(want_seed.len == 32);
    CHECK_EQ_MEM(seed, want_seed.ptr, 32);

    struct ov_sign_key *k = NULL;
    CHECK_EQ_INT(ov_sign_key_from_seed(seed, &k), 0);
    ov_sign_key_public(k, pk);
    CHECK(want_pk.len == 32);
    CHECK_EQ_MEM(pk, want_pk.ptr, 32);

    /* key ID input = name || 0x0A || 0x01 || pub */
    struct ov_buf input;
    ov_buf_init(&input, 512);
    CHECK_EQ_INT(ov_buf_append_str(&input, name), 0);
    CHECK_EQ_INT(ov_buf_append(&input, "\n\x01", 2), 0);
    CHECK_EQ_INT(ov_buf_append(&input, pk, 32), 0);
    CHECK(input.len == want_input.len);
    CHECK_EQ_MEM(input.ptr, want_input.ptr, want_input.len);
    crypto_hash_sha256(h, input.ptr, input.len);
    CHECK_EQ_MEM(h, want_hash.ptr, 32);
    uint8_t lib_h[32];
    ov_note_key_hash(S(name), OV_NOTE_TYPE_ED25519, pk, lib_h);
    CHECK_EQ_MEM(lib_h, want_hash.ptr, 32);
    CHECK_EQ_INT(ov_note_key_id(S(name), OV_NOTE_TYPE_ED25519, pk), 0x0756a8b1);
    CHECK(want_id.len == 4);
    CHECK_EQ_MEM(want_id.ptr, "\x07\x56\xa8\xb1", 4);

    struct ov_note_signer *s = NULL;
    CHECK_EQ_INT(ov_note_signer_new(S(name), OV_NOTE_TYPE_ED25519, k, &s), 0);
    struct ov_buf b;
    ov_buf_init(&b, 1024);
    CHECK_EQ_INT(ov_note_vkey_format(ov_note_signer_verifier(s), &b), 0);
    CHECK(buf_is(&b, vec_str(g, "vkey")));
    ov_buf_clear(&b);

    /* produce the checkpoint text, then sign it */
    struct ov_checkpoint c = { .origin = S(name), .size = 70000 };
    CHECK(want_root.len == 32);
    memcpy(c.root, want_root.ptr, 32);
    CHECK_EQ_INT(ov_checkpoint_format(&c, &b), 0);
    CHECK(buf_is(&b, vec_str(g, "checkpoint_text")));
    struct ov_buf signed_cp;
    const struct ov_note_signer *signers[] = { s };
    CHECK_EQ_INT(ov_note_sign(ov_buf_view(&b), signers, 1, &signed_cp), 0);
    CHECK(buf_is(&signed_cp, vec_str(g, "checkpoint_signed")));
    ov_buf_clear(&b);

    /* ... and it is the published checkpoint file of the fixture log */
    char path[1024];
    snprintf(path, sizeof path, "%s/fixture-log/checkpoint", test_vectors_dir());
    struct ov_buf file;
    CHECK_EQ_INT(ov_file_read(path, OV_NOTE_MAX_LEN, &file), 0);
    CHECK(file.len == signed_cp.len && memcmp(file.ptr, signed_cp.ptr, file.len) == 0);

    /* open it with the vkey and read the checkpoint back */
    struct ov_note_verifier v = vkey(vec_str(g, "vkey"));
    struct ov_note n;
    struct ov_checkpoint back;
    CHECK_EQ_INT(ov_note_open(ov_buf_view(&file), &v, 1, &n, NULL), 0);
    CHECK_EQ_INT(ov_checkpoint_parse(n.text, &back), 0);
    CHECK(bytes_is(back.origin, name));
    CHECK_EQ_INT(back.size, 70000);
    CHECK_EQ_INT(strtoull(vec_str(g, "checkpoint_tree_size"), NULL, 10), 70000);
    CHECK_EQ_MEM(back.root, want_root.ptr, 32);
    CHECK_EQ_INT(back.extensions.len, 0);
    check_round_trip((const char *)file.ptr);

    ov_buf_clear(&file);
    ov_buf_clear(&signed_cp);
    ov_note_signer_free(s);
    ov_buf_clear(&want_seed);
    ov_buf_clear(&want_pk);
    ov_buf_clear(&want_input);
    ov_buf_clear(&input);
    ov_buf_clear(&want_hash);
    ov_buf_clear(&want_id);
    ov_buf_clear(&want_root);
}

static void
test_checkpoint_syntax(void)
{
    struct ov_checkpoint c;
    struct ov_buf b;
    static const char root[] = "kG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A=";
    char text[512];

    snprintf(text, sizeof text, "o\n0\n%s\n", root);
    CHECK_EQ_INT(ov_checkpoint_parse(S(text), &c), 0);
    CHECK_EQ_INT(c.size, 0);
    snprintf(text, sizeof text, "o\n18446744073709551615\n%s\next one\n\xc3\xa8\n", root);
    CHECK_EQ_INT(ov_checkpoint_parse(S(text), &c), 0);
    CHECK(c.size == UINT64_MAX);
    CHECK(bytes_is(c.extensions, "ext one\n\xc3\xa8\n"));
    CHECK_EQ_INT(ov_checkpoint_format(&c, &b), 0);
    CHECK(buf_is(&b, text));
    ov_buf_clear(&b);
    /* the origin is opaque (only a SHOULD on its shape) */
    snprintf(text, sizeof text, "a b+c \xe2\x80\x94\n7\n%s\n", root);
    CHECK_EQ_INT(ov_checkpoint_parse(S(text), &c), 0);
    CHECK(bytes_is(c.origin, "a b+c \xe2\x80\x94"));

    static const struct {
        const char *size;
        int rc;
    } sizes[] = {
        { "070000", -OV_E_NONCANONICAL }, { "00", -OV_E_NONCANONICAL },
        { "+1", -OV_E_MALFORMED },        { "-1", -OV_E_MALFORMED },
        { " 1", -OV_E_MALFORMED },        { "1 ", -OV_E_MALFORMED },
        { "", -OV_E_MALFORMED },          { "0x10", -OV_E_MALFORMED },
        { "1e3", -OV_E_MALFORMED },       { "18446744073709551616", -OV_E_RANGE },
        { "99999999999999999999999", -OV_E_RANGE },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        snprintf(text, sizeof text, "o\n%s\n%s\n", sizes[i].size, root);
        CHECK_EQ_INT(ov_checkpoint_parse(S(text), &c), sizes[i].rc);
        CHECK(c.origin.len == 0 && c.size == 0);
    }
    static const char *const bad[] = {
        "o\n1\nkG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A=",        /* no final newline */
        "\n1\nkG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A=\n",       /* empty origin */
        "o\n1\n",                                                    /* two lines */
        "o\n1\n\n",                                                  /* empty root */
        "o\n1\nkG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A=\n\n",    /* empty extension */
        "o\n1\n\xc3\xbf" "2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A=\n", /* read as "//" */
        "o\n1\nkG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A=\ne\n\n", /* empty extension */
        "o\n1\nkG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+B=\n",      /* non-canonical */
        "o\n1\nkG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A\n",       /* unpadded */
        "o\n1\nkG2TZtLFQMkQ4FHxvb3TH-PRqaFIlqFJaINutFl2M-A=\n",      /* base64url */
        "o\n1\nkG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A=AAAA\n",  /* 35 bytes */
        "o\n1\nkG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2Mw==\n",      /* 31 bytes */
        "o\n1\n kG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A=\n",     /* space */
        "o\r\n1\nkG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A=\n",    /* CR */
        "o\n1\nkG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A=\n\xff\n", /* bad UTF-8 */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ov_checkpoint_parse(S(bad[i]), &c);
        if (rc == 0) {
            fprintf(stderr, "accepted bad checkpoint %zu\n", i);
        }
        CHECK_EQ_INT(rc, -OV_E_MALFORMED);
    }
    /* truncation at every offset of a good one */
    const char *good = vec_str(group("fixture_log_key"), "checkpoint_text");
    for (size_t cut = 0; cut < strlen(good); cut++) {
        CHECK(ov_checkpoint_parse(OV_BYTES(good, cut), &c) != 0);
    }
    /* format refuses what parse would refuse */
    struct ov_checkpoint f = { .origin = S("a\nb"), .size = 1 };
    CHECK_EQ_INT(ov_checkpoint_format(&f, &b), -OV_E_MALFORMED);
    CHECK(b.ptr == NULL && b.len == 0);
    f.origin = S("");
    CHECK_EQ_INT(ov_checkpoint_format(&f, &b), -OV_E_MALFORMED);
    f.origin = S("o");
    f.extensions = S("no newline");
    CHECK_EQ_INT(ov_checkpoint_format(&f, &b), -OV_E_MALFORMED);
    f.extensions = S("x\n\n");
    CHECK_EQ_INT(ov_checkpoint_format(&f, &b), -OV_E_MALFORMED);
    f.extensions = S("\x01\n");
    CHECK_EQ_INT(ov_checkpoint_format(&f, &b), -OV_E_MALFORMED);
    f.extensions = S("");
    f.origin = S("o\x7f");
    CHECK_EQ_INT(ov_checkpoint_format(&f, &b), 0);
    ov_buf_clear(&b);
}

static void
test_cosignature(void)
{
    const json_t *g = group("fixture_cosignature_v1");
    const json_t *log = group("fixture_log_key");
    const char *name = vec_str(g, "witness_name"), *cp_text = vec_str(log, "checkpoint_text");
    const char *cp_signed = vec_str(log, "checkpoint_signed");
    uint8_t seed[32], pk[32];
    struct ov_buf want_seed = vec_hex(g, "ed25519_seed_hex"), want_pk = vec_hex(g, "ed25519_pub_hex");
    struct ov_buf want_msg = vec_hex(g, "signed_message_hex");
    uint64_t t = strtoull(vec_str(g, "timestamp"), NULL, 10);
    CHECK(t == 1767225600u);
    CHECK(strcmp(vec_str(g, "ed25519_seed_rule"),
                 "SHA-256(ASCII \"tlogcheck fixture witness key\")") == 0);
    crypto_hash_sha256(seed, (const uint8_t *)"tlogcheck fixture witness key", 29);
    CHECK_EQ_MEM(seed, want_seed.ptr, 32);

    struct ov_sign_key *k = NULL;
    struct ov_note_signer *w = NULL;
    CHECK_EQ_INT(ov_sign_key_from_seed(seed, &k), 0);
    ov_sign_key_public(k, pk);
    CHECK_EQ_MEM(pk, want_pk.ptr, 32);
    CHECK_EQ_INT(ov_note_key_id(S(name), OV_NOTE_TYPE_COSIG_V1, pk), 0xb4b4c9e4);
    CHECK(strcmp(vec_str(g, "key_id_hex"), "b4b4c9e4") == 0);
    CHECK_EQ_INT(ov_note_signer_new(S(name), OV_NOTE_TYPE_COSIG_V1, k, &w), 0);

    struct ov_buf b;
    ov_buf_init(&b, 1024);
    CHECK_EQ_INT(ov_note_vkey_format(ov_note_signer_verifier(w), &b), 0);
    CHECK(buf_is(&b, vec_str(g, "vkey")));
    ov_buf_clear(&b);
    struct ov_note_verifier wv = vkey(vec_str(g, "vkey"));
    CHECK_EQ_INT(wv.type, OV_NOTE_TYPE_COSIG_V1);

    /* the exact signed message, as text and as hex */
    CHECK_EQ_INT(ov_cosig_message(S(cp_text), t, &b), 0);
    CHECK(buf_is(&b, vec_str(g, "signed_message")));
    CHECK(b.len == want_msg.len && memcmp(b.ptr, want_msg.ptr, b.len) == 0);
    ov_buf_clear(&b);

    /* the exact line */
    ov_buf_init(&b, OV_NOTE_MAX_LEN);
    CHECK_EQ_INT(ov_cosig_sign_line(w, S(cp_text), t, &b), 0);
    CHECK(buf_is(&b, vec_str(g, "signature_line")));
    ov_buf_clear(&b);

    /* the checkpoint with the cosignature appended; verify with both keys and each alone */
    const char *with = vec_str(g, "checkpoint_with_cosig");
    char *joined = concat(cp_signed, vec_str(g, "signature_line"));
    CHECK(strcmp(joined, with) == 0);
    struct ov_note_verifier vs[2] = { vkey(vec_str(log, "vkey")), wv };
    struct ov_note_check chk[2];
    struct ov_note n;
    CHECK_EQ_INT(ov_note_open(S(with), vs, 2, &n, chk), 0);
    CHECK(chk[0].verified == 1 && chk[0].timestamp == 0);
    CHECK(chk[1].verified == 1 && chk[1].timestamp == t);
    CHECK_EQ_INT(ov_note_open(S(with), &wv, 1, &n, chk), 0);
    CHECK(chk[0].verified == 1 && chk[0].timestamp == t);
    check_round_trip(with);

    /* the timestamp bumped by one MUST fail, and fails the whole note */
    char *tampered = concat(cp_signed, vec_str(g, "tampered_timestamp_sig"));
    CHECK_EQ_INT(ov_note_open(S(tampered), vs, 2, &n, chk), -OV_E_BAD_SIG);
    CHECK(chk[0].verified == 0 && chk[1].verified == 0);
    CHECK_EQ_INT(ov_note_open(S(tampered), &wv, 1, &n, NULL), -OV_E_BAD_SIG);
    CHECK_EQ_INT(ov_note_open(S(tampered), vs, 1, &n, NULL), 0); /* unknown to the log key */
    /* a type-0x01 key of the same name and public key has another ID: the line is ignored */
    struct ov_note_verifier wrong_type;
    CHECK_EQ_INT(ov_note_verifier_init(&wrong_type, S(name), OV_NOTE_TYPE_ED25519, pk), 0);
    CHECK_EQ_INT(ov_note_open(S(with), &wrong_type, 1, &n, NULL), -OV_E_UNKNOWN_KEY);

    /* blob layout */
    uint8_t blob[OV_COSIG_SIG_LEN + 1], sig[64];
    size_t blob_len = 0;
    uint32_t id;
    uint64_t bt;
    const char *b64 = strchr(vec_str(g, "signature_line"), ' ');
    b64 = strchr(b64 + 1, ' ') + 1;
    CHECK_EQ_INT(ov_b64_decode(blob, sizeof blob, &blob_len, b64, strlen(b64) - 1, OV_B64_STD),
                 0);
    CHECK_EQ_INT(blob_len, OV_COSIG_SIG_LEN);
    CHECK_EQ_INT(ov_cosig_blob_parse(blob, blob_len, &id, &bt, sig), 0);
    CHECK(id == 0xb4b4c9e4 && bt == t);
    CHECK_EQ_INT(ov_cosig_blob_parse(blob, blob_len - 1, &id, &bt, sig), -OV_E_MALFORMED);
    CHECK(id == 0 && bt == 0 && sig[0] == 0 && sig[63] == 0);
    CHECK_EQ_INT(ov_cosig_blob_parse(blob, blob_len + 1, &id, &bt, sig), -OV_E_MALFORMED);
    blob[4] = 0x80; /* time >= 2^63 */
    CHECK_EQ_INT(ov_cosig_blob_parse(blob, blob_len, &id, &bt, sig), -OV_E_RANGE);

    /* time limits and signer types */
    CHECK_EQ_INT(ov_cosig_message(S(cp_text), OV_COSIG_MAX_TIME, &b), 0);
    CHECK(memcmp(b.ptr, "cosignature/v1\ntime 9223372036854775807\n", 40) == 0);
    ov_buf_clear(&b);
    CHECK_EQ_INT(ov_cosig_message(S(cp_text), OV_COSIG_MAX_TIME + 1, &b), -OV_E_RANGE);
    CHECK_EQ_INT(ov_cosig_message(S("no newline"), 0, &b), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_cosig_message(S(cp_text), 0, &b), 0);
    CHECK(memcmp(b.ptr, "cosignature/v1\ntime 0\n", 22) == 0);
    ov_buf_clear(&b);
    ov_buf_init(&b, OV_NOTE_MAX_LEN);
    CHECK_EQ_INT(ov_cosig_sign_line(w, S(cp_text), OV_COSIG_MAX_TIME + 1, &b), -OV_E_RANGE);
    CHECK_EQ_INT(ov_note_sign_line(w, S(cp_text), &b), -OV_E_MALFORMED);
    CHECK_EQ_INT(b.len, 0);
    const struct ov_note_signer *ws[] = { w };
    struct ov_buf nb;
    CHECK_EQ_INT(ov_note_sign(S(cp_text), ws, 1, &nb), -OV_E_MALFORMED);
    CHECK(nb.ptr == NULL);
    /* a fresh cosignature at another time verifies and reports that time */
    CHECK_EQ_INT(ov_buf_append_str(&b, cp_signed), 0);
    CHECK_EQ_INT(ov_cosig_sign_line(w, S(cp_text), 42, &b), 0);
    CHECK_EQ_INT(ov_note_open(ov_buf_view(&b), &wv, 1, &n, chk), 0);
    CHECK(chk[0].verified == 1 && chk[0].timestamp == 42);
    ov_buf_clear(&b);

    free(joined);
    free(tampered);
    ov_note_signer_free(w);
    ov_buf_clear(&want_seed);
    ov_buf_clear(&want_pk);
    ov_buf_clear(&want_msg);
}

static void
test_signing_errors(void)
{
    struct ov_sign_key *k = NULL;
    struct ov_note_signer *s = NULL, *s2 = NULL;
    struct ov_buf b;
    CHECK_EQ_INT(ov_sign_key_generate(&k), 0);
    CHECK_EQ_INT(ov_note_signer_new(S("bad name"), OV_NOTE_TYPE_ED25519, k, &s),
                 -OV_E_MALFORMED); /* k was adopted and freed */
    CHECK(s == NULL);
    CHECK_EQ_INT(ov_sign_key_generate(&k), 0);
    CHECK_EQ_INT(ov_note_signer_new(S("n"), 0x02, k, &s), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_sign_key_generate(&k), 0);
    CHECK_EQ_INT(ov_note_signer_new(S("example.org/log"), OV_NOTE_TYPE_ED25519, k, &s), 0);
    CHECK_EQ_INT(ov_sign_key_generate(&k), 0);
    CHECK_EQ_INT(ov_note_signer_new(S("example.org/other"), OV_NOTE_TYPE_ED25519, k, &s2), 0);

    const struct ov_note_signer *one[] = { s }, *two[] = { s, s2 }, *same[] = { s, s };
    static const char *const bad_texts[] = { "", "no newline", "a\r\n", "\x01\n", "\xff\n" };
    for (size_t i = 0; i < sizeof bad_texts / sizeof bad_texts[0]; i++) {
        CHECK_EQ_INT(ov_note_sign(S(bad_texts[i]), one, 1, &b), -OV_E_MALFORMED);
        CHECK(b.ptr == NULL && b.len == 0);
    }
    CHECK_EQ_INT(ov_note_sign(S("a\n"), one, 0, &b), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_note_sign(S("a\n"), same, 2, &b), -OV_E_MALFORMED);

    /* two signers, text with blank lines: signing then opening gives the text back */
    static const char text[] = "line one\n\nline three \xe2\x80\x94 \xc3\xa8\n\n";
    struct ov_note_verifier vs[2] = { *ov_note_signer_verifier(s), *ov_note_signer_verifier(s2) };
    struct ov_note_check chk[2];
    struct ov_note n;
    CHECK_EQ_INT(ov_note_sign(S(text), two, 2, &b), 0);
    CHECK_EQ_INT(ov_note_open(ov_buf_view(&b), vs, 2, &n, chk), 0);
    CHECK(bytes_is(n.text, text));
    CHECK(chk[0].verified == 1 && chk[1].verified == 1);
    ov_buf_clear(&b);
    /* a text of OV_NOTE_MAX_LEN bytes cannot be signed (no room for a signature) */
    char *big = malloc(OV_NOTE_MAX_LEN + 1);
    CHECK(big != NULL);
    memset(big, 'x', OV_NOTE_MAX_LEN);
    big[OV_NOTE_MAX_LEN - 1] = '\n';
    CHECK_EQ_INT(ov_note_sign(OV_BYTES(big, OV_NOTE_MAX_LEN), one, 1, &b), -OV_E_TOO_BIG);
    big[OV_NOTE_MAX_LEN] = '\n';
    CHECK_EQ_INT(ov_note_text_check(OV_BYTES(big, OV_NOTE_MAX_LEN + 1)), -OV_E_TOO_BIG);
    free(big);
    ov_note_signer_free(s);
    ov_note_signer_free(s2);
    ov_note_signer_free(NULL);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    vectors = vec_load("signed-note.json");
    test_peterneumann();
    test_c2sp_example();
    test_malformed();
    test_syntax();
    test_limits();
    test_names();
    test_vkeys();
    test_fixture_log();
    test_checkpoint_syntax();
    test_cosignature();
    test_signing_errors();
    json_decref(vectors);
    TEST_DONE("note");
}
