/* note.c: C2SP signed notes, vkeys, checkpoints and cosignature/v1.
 *
 * Sources: c2sp.org/signed-note v1.0.0, c2sp.org/tlog-checkpoint v1.0.0,
 * c2sp.org/tlog-cosignature v1.0.1 (Ed25519 part), golang.org/x/mod/sumdb/note (the
 * reference implementation, whose vkey text form C2SP adopted).
 *
 * Signed note, byte by byte:
 *
 *   | part           | bytes                                                    | rule        |
 *   |----------------|----------------------------------------------------------|-------------|
 *   | whole note     | UTF-8, no byte < 0x20 except 0x0A, <= OV_NOTE_MAX_LEN     | MUST        |
 *   | text           | everything up to and including the 0x0A before the last   |             |
 *   |                | "\n\n"; may itself contain empty lines                    |             |
 *   | separator      | 0x0A (the second byte of that last "\n\n")                |             |
 *   | signature line | E2 80 94 20, name, 20, base64, 0A; one or more; the last  | MUST        |
 *   |                | line ends in 0A too                                       |             |
 *   | name           | non-empty, no Unicode space, no '+' (and, here, no        | MUST        |
 *   |                | control byte, <= OV_NOTE_MAX_NAME_LEN bytes)              |             |
 *   | base64         | RFC 4648 §4, padded, canonical; decodes to key ID[4] ||   | MUST        |
 *   |                | signature (at least 1 byte, <= OV_NOTE_MAX_SIG_LEN total) |             |
 *
 * Deliberate strictness beyond x/mod: two lines with the same (name, key ID) make the note
 * malformed (x/mod silently keeps the first), and every line from a trusted key must verify,
 * not just the first. Both keep a note's meaning unambiguous; honest signers never do either.
 *
 * Checkpoint text (tlog-checkpoint): "<origin>\n<size>\n<base64 root>\n" then optional
 * non-empty extension lines. Size: ASCII decimal, no sign, no leading zero except "0" itself.
 *
 * cosignature/v1 (tlog-cosignature): blob = key ID[4] || u64be timestamp || Ed25519 sig[64],
 * the signature over "cosignature/v1\ntime <timestamp, decimal>\n" || note text. */
#include "primitives/note.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/codec.h"
#include "base/reader.h"

struct ov_note_signer {
    struct ov_note_verifier pub;
    struct ov_sign_key *key;
};

static const uint8_t sig_prefix[] = { 0xE2, 0x80, 0x94, 0x20 }; /* U+2014 EM DASH, space */
#define COSIG_MAX_MSG_LEN (OV_NOTE_MAX_LEN + 64) /* header and time lines, then the text */

/* ---- small helpers ---- */

/* Decodes one UTF-8 code point; returns its length (1..4), or 0 for anything invalid
 * (truncated, overlong, surrogate, above U+10FFFF), as Go's utf8.DecodeRune rejects. */
static size_t
utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t c = p[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
        v = (v << 6) | (p[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        return 0;
    }
    *cp = v;
    return len;
}

/* Go's unicode.IsSpace: the Unicode White_Space property. */
static int
is_unicode_space(uint32_t cp)
{
    switch (cp) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
        return 1;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

/* Valid UTF-8 with no code point below U+0020 other than newline (signed-note §Format). */
static int
note_bytes_ok(struct ov_bytes s)
{
    size_t i = 0;
    while (i < s.len) {
        uint32_t cp = 0;
        size_t k = utf8_decode(s.ptr + i, s.len - i, &cp);
        if (k == 0 || (cp < 0x20 && cp != '\n')) {
            return 0;
        }
        i += k;
    }
    return 1;
}

/* Splits off the next line (without its newline) at *off; 0 when none is left. */
static int
next_line(struct ov_bytes s, size_t *off, struct ov_bytes *line)
{
    if (*off >= s.len) {
        return 0;
    }
    const uint8_t *nl = memchr(s.ptr + *off, '\n', s.len - *off);
    size_t end = nl ? (size_t)(nl - s.ptr) : s.len;
    *line = OV_BYTES(s.ptr + *off, end - *off);
    *off = nl ? end + 1 : end;
    return 1;
}

/* Strict ASCII decimal u64 (tlog-checkpoint tree size, cosignature time). */
static int
dec_u64_parse(struct ov_bytes s, uint64_t *out)
{
    uint64_t v = 0;
    *out = 0;
    if (s.len == 0) {
        return -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return -OV_E_MALFORMED;
        }
    }
    if (s.len > 1 && s.ptr[0] == '0') {
        return -OV_E_NONCANONICAL;
    }
    for (size_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned)(s.ptr[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return -OV_E_RANGE;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int
bytes_eq(struct ov_bytes a, struct ov_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- names, key IDs, verifiers ---- */

int
ov_note_name_check(struct ov_bytes name)
{
    if (name.len == 0) {
        return -OV_E_MALFORMED;
    }
    if (name.len > OV_NOTE_MAX_NAME_LEN) {
        return -OV_E_TOO_BIG;
    }
    size_t i = 0;
    while (i < name.len) {
        uint32_t cp = 0;
        size_t k = utf8_decode(name.ptr + i, name.len - i, &cp);
        if (k == 0 || cp < 0x20 || cp == '+' || is_unicode_space(cp)) {
            return -OV_E_MALFORMED;
        }
        i += k;
    }
    return 0;
}

void
ov_note_key_hash(struct ov_bytes name, uint8_t type, const uint8_t pk[OV_SIGN_PK_LEN],
                 uint8_t out[32])
{
    const uint8_t sep[2] = { '\n', type };
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, name.ptr, name.len);
    crypto_hash_sha256_update(&st, sep, sizeof sep);
    crypto_hash_sha256_update(&st, pk, OV_SIGN_PK_LEN);
    crypto_hash_sha256_final(&st, out);
}

uint32_t
ov_note_key_id(struct ov_bytes name, uint8_t type, const uint8_t pk[OV_SIGN_PK_LEN])
{
    uint8_t h[32];
    ov_note_key_hash(name, type, pk, h);
    return be32(h);
}

int
ov_note_verifier_init(struct ov_note_verifier *v, struct ov_bytes name, uint8_t type,
                      const uint8_t pk[OV_SIGN_PK_LEN])
{
    memset(v, 0, sizeof *v);
    int rc = ov_note_name_check(name);
    if (rc != 0) {
        return rc;
    }
    if (type != OV_NOTE_TYPE_ED25519 && type != OV_NOTE_TYPE_COSIG_V1) {
        return -OV_E_MALFORMED;
    }
    if (sodium_init() < 0) {
        return -OV_E_CRYPTO;
    }
    /* Refuse small-order or non-canonical keys up front: no honest key is one, and
     * crypto_sign_verify_detached would reject every signature anyway. */
    if (crypto_core_ed25519_is_valid_point(pk) != 1) {
        return -OV_E_MALFORMED;
    }
    memcpy(v->name, name.ptr, name.len);
    v->name[name.len] = '\0';
    v->name_len = name.len;
    v->type = type;
    v->key_id = ov_note_key_id(name, type, pk);
    memcpy(v->pk, pk, OV_SIGN_PK_LEN);
    return 0;
}

static struct ov_bytes
verifier_name(const struct ov_note_verifier *v)
{
    return OV_BYTES(v->name, v->name_len);
}

int
ov_note_vkey_split(struct ov_bytes in, struct ov_bytes *name, uint32_t *key_id,
                   struct ov_bytes *b64)
{
    *name = *b64 = OV_BYTES(NULL, 0);
    *key_id = 0;
    /* name "+" hex8 "+" base64: split at the first two '+' (base64 may hold more). */
    const uint8_t *p1 = in.len ? memchr(in.ptr, '+', in.len) : NULL;
    if (p1 == NULL) {
        return -OV_E_MALFORMED;
    }
    struct ov_bytes n = OV_BYTES(in.ptr, (size_t)(p1 - in.ptr));
    struct ov_bytes rest = OV_BYTES(p1 + 1, in.len - n.len - 1);
    if (rest.len < 9 || rest.ptr[8] != '+') {
        return -OV_E_MALFORMED;
    }
    uint8_t id[4];
    size_t id_len = 0;
    for (size_t i = 0; i < 8; i++) {
        uint8_t c = rest.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return -OV_E_MALFORMED; /* we print %08x, so accept only that */
        }
    }
    if (ov_hex_decode(id, sizeof id, &id_len, (const char *)rest.ptr, 8) != 0) {
        return -OV_E_MALFORMED;
    }
    *name = n;
    *key_id = be32(id);
    *b64 = OV_BYTES(rest.ptr + 9, rest.len - 9);
    return 0;
}

int
ov_note_vkey_parse(struct ov_bytes in, struct ov_note_verifier *v)
{
    memset(v, 0, sizeof *v);
    if (in.len > OV_NOTE_MAX_VKEY_LEN) {
        return -OV_E_TOO_BIG;
    }
    struct ov_bytes name, b64;
    uint32_t id;
    uint8_t key[1 + OV_SIGN_PK_LEN];
    size_t key_len = 0;
    if (ov_note_vkey_split(in, &name, &id, &b64) != 0 ||
        ov_b64_decode(key, sizeof key, &key_len, (const char *)b64.ptr, b64.len,
                      OV_B64_STD) != 0 ||
        key_len != sizeof key) {
        return -OV_E_MALFORMED;
    }
    int rc = ov_note_verifier_init(v, name, key[0], key + 1);
    if (rc == 0 && v->key_id != id) {
        memset(v, 0, sizeof *v);
        rc = -OV_E_MALFORMED;
    }
    return rc == -OV_E_TOO_BIG ? -OV_E_MALFORMED : rc;
}

/* Appends the standard padded base64 of p (no NUL). */
static int
append_b64(struct ov_buf *out, const uint8_t *p, size_t n)
{
    return ov_buf_append_b64(out, p, n, OV_B64_STD);
}

int
ov_note_vkey_format(const struct ov_note_verifier *v, struct ov_buf *out)
{
    uint8_t key[1 + OV_SIGN_PK_LEN];
    key[0] = v->type;
    memcpy(key + 1, v->pk, OV_SIGN_PK_LEN);
    size_t mark = out->len;
    int rc = ov_buf_append(out, v->name, v->name_len);
    if (rc == 0) {
        rc = ov_buf_printf(out, "+%08" PRIx32 "+", v->key_id);
    }
    if (rc == 0) {
        rc = append_b64(out, key, sizeof key);
    }
    if (rc != 0) {
        out->len = mark;
    }
    return rc;
}

/* ---- signers ---- */

int
ov_note_signer_new(struct ov_bytes name, uint8_t type, struct ov_sign_key *key,
                   struct ov_note_signer **out)
{
    *out = NULL;
    struct ov_note_signer *s = calloc(1, sizeof *s);
    if (s == NULL) {
        ov_sign_key_free(key);
        return -OV_E_NOMEM;
    }
    int rc = ov_note_verifier_init(&s->pub, name, type, ov_sign_key_pk(key));
    if (rc != 0) {
        ov_sign_key_free(key);
        free(s);
        return rc;
    }
    s->key = key;
    *out = s;
    return 0;
}

void
ov_note_signer_free(struct ov_note_signer *s)
{
    if (s != NULL) {
        ov_sign_key_free(s->key);
        free(s);
    }
}

const struct ov_note_verifier *
ov_note_signer_verifier(const struct ov_note_signer *s)
{
    return &s->pub;
}

/* ---- signed notes ---- */

int
ov_note_text_check(struct ov_bytes text)
{
    if (text.len > OV_NOTE_MAX_LEN) {
        return -OV_E_TOO_BIG;
    }
    if (text.len == 0 || text.ptr[text.len - 1] != '\n' || !note_bytes_ok(text)) {
        return -OV_E_MALFORMED;
    }
    return 0;
}

/* One signature line without its newline: "— " name " " base64. */
static int
parse_sig_line(struct ov_bytes line, struct ov_note_sig *sig)
{
    if (line.len < sizeof sig_prefix || memcmp(line.ptr, sig_prefix, sizeof sig_prefix) != 0) {
        return -OV_E_MALFORMED;
    }
    struct ov_bytes rest = OV_BYTES(line.ptr + sizeof sig_prefix, line.len - sizeof sig_prefix);
    const uint8_t *sp = rest.len ? memchr(rest.ptr, ' ', rest.len) : NULL;
    if (sp == NULL) {
        return -OV_E_MALFORMED;
    }
    sig->name = OV_BYTES(rest.ptr, (size_t)(sp - rest.ptr));
    sig->b64 = OV_BYTES(sp + 1, rest.len - sig->name.len - 1);
    int rc = ov_note_name_check(sig->name);
    if (rc != 0) {
        return rc;
    }
    if (sig->b64.len > ov_b64_encoded_size(OV_NOTE_MAX_SIG_LEN, OV_B64_STD) - 1) {
        return -OV_E_TOO_BIG;
    }
    uint8_t blob[OV_NOTE_MAX_SIG_LEN];
    size_t n = 0;
    if (ov_b64_decode(blob, sizeof blob, &n, (const char *)sig->b64.ptr, sig->b64.len,
                      OV_B64_STD) != 0 ||
        n < 5) {
        return -OV_E_MALFORMED;
    }
    sig->key_id = be32(blob);
    return 0;
}

static int
parse_sig_block(struct ov_bytes sigs, struct ov_note *out)
{
    /* The caller checked sigs is non-empty and ends in '\n', so every line is terminated. */
    size_t off = 0;
    struct ov_bytes line;
    while (next_line(sigs, &off, &line)) {
        if (out->n_sigs == OV_NOTE_MAX_SIGS) {
            return -OV_E_TOO_BIG;
        }
        struct ov_note_sig *sig = &out->sigs[out->n_sigs];
        int rc = parse_sig_line(line, sig);
        if (rc != 0) {
            return rc;
        }
        for (size_t j = 0; j < out->n_sigs; j++) {
            if (out->sigs[j].key_id == sig->key_id && bytes_eq(out->sigs[j].name, sig->name)) {
                return -OV_E_MALFORMED;
            }
        }
        out->n_sigs++;
    }
    return 0;
}

int
ov_note_parse(struct ov_bytes in, struct ov_note *out)
{
    memset(out, 0, sizeof *out);
    if (in.len > OV_NOTE_MAX_LEN) {
        return -OV_E_TOO_BIG;
    }
    if (!note_bytes_ok(in)) {
        return -OV_E_MALFORMED;
    }
    /* The text ends at the last empty line: find the last "\n\n". */
    size_t i = in.len;
    while (i >= 2 && !(in.ptr[i - 2] == '\n' && in.ptr[i - 1] == '\n')) {
        i--;
    }
    if (i < 2) {
        return -OV_E_MALFORMED;
    }
    struct ov_bytes sigs = OV_BYTES(in.ptr + i, in.len - i);
    if (sigs.len == 0 || sigs.ptr[sigs.len - 1] != '\n') {
        return -OV_E_MALFORMED;
    }
    int rc = parse_sig_block(sigs, out);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->text = OV_BYTES(in.ptr, i - 1);
    return 0;
}

/* The verifier for (name, key ID), or -1. */
static long
find_verifier(const struct ov_note_sig *sig, const struct ov_note_verifier *vs, size_t n_vs)
{
    for (size_t k = 0; k < n_vs; k++) {
        if (vs[k].key_id == sig->key_id && bytes_eq(verifier_name(&vs[k]), sig->name)) {
            return (long)k;
        }
    }
    return -1;
}

static int
verify_cosig(struct ov_bytes text, const uint8_t *blob, size_t n,
             const struct ov_note_verifier *v, uint64_t *t)
{
    uint32_t id;
    uint8_t sig[OV_SIGN_SIG_LEN];
    struct ov_buf m;
    if (ov_cosig_blob_parse(blob, n, &id, t, sig) != 0) {
        return -OV_E_BAD_SIG;
    }
    int rc = ov_cosig_message(text, *t, &m);
    if (rc == 0) {
        rc = ov_sign_verify_raw(v->pk, m.ptr, m.len, sig);
    }
    ov_buf_clear(&m);
    if (rc != 0) {
        *t = 0;
    }
    return rc;
}

/* Checks one line from a trusted key; *t gets a cosignature's time. */
static int
verify_one(struct ov_bytes text, const struct ov_note_sig *sig,
           const struct ov_note_verifier *v, uint64_t *t)
{
    uint8_t blob[OV_COSIG_SIG_LEN];
    size_t n = 0;
    *t = 0;
    if (ov_b64_decode(blob, sizeof blob, &n, (const char *)sig->b64.ptr, sig->b64.len,
                      OV_B64_STD) != 0) {
        return -OV_E_BAD_SIG; /* longer than any signature this key type makes */
    }
    switch (v->type) {
    case OV_NOTE_TYPE_ED25519:
        if (n != OV_NOTE_ED25519_SIG_LEN) {
            return -OV_E_BAD_SIG;
        }
        return ov_sign_verify_raw(v->pk, text.ptr, text.len, blob + 4);
    case OV_NOTE_TYPE_COSIG_V1:
        return verify_cosig(text, blob, n, v, t);
    default:
        abort(); /* ov_note_verifier_init admits no other type: a caller forged the struct */
    }
}

int
ov_note_verify(const struct ov_note *n, const struct ov_note_verifier *vs, size_t n_vs,
               struct ov_note_check *checks)
{
    if (checks != NULL && n_vs > 0) {
        memset(checks, 0, n_vs * sizeof *checks);
    }
    for (size_t a = 0; a < n_vs; a++) {
        for (size_t b = a + 1; b < n_vs; b++) {
            if (vs[a].key_id == vs[b].key_id &&
                bytes_eq(verifier_name(&vs[a]), verifier_name(&vs[b]))) {
                return -OV_E_CONFLICT;
            }
        }
    }
    size_t n_ok = 0;
    int rc = 0;
    for (size_t i = 0; i < n->n_sigs && rc == 0; i++) {
        long k = find_verifier(&n->sigs[i], vs, n_vs);
        if (k < 0) {
            continue; /* unknown (name, key ID): MUST be ignored */
        }
        uint64_t t = 0;
        rc = verify_one(n->text, &n->sigs[i], &vs[k], &t);
        if (rc == 0) {
            n_ok++;
            if (checks != NULL) {
                checks[k].verified = 1;
                checks[k].timestamp = t;
            }
        }
    }
    if (rc == 0 && n_ok == 0) {
        rc = -OV_E_UNKNOWN_KEY;
    }
    if (rc != 0 && checks != NULL && n_vs > 0) {
        memset(checks, 0, n_vs * sizeof *checks);
    }
    return rc;
}

int
ov_note_open(struct ov_bytes in, const struct ov_note_verifier *vs, size_t n_vs,
             struct ov_note *out, struct ov_note_check *checks)
{
    int rc = ov_note_parse(in, out);
    if (rc == 0) {
        rc = ov_note_verify(out, vs, n_vs, checks);
    } else if (checks != NULL && n_vs > 0) {
        memset(checks, 0, n_vs * sizeof *checks);
    }
    if (rc != 0) {
        memset(out, 0, sizeof *out);
    }
    return rc;
}

/* "— " name " " b64 "\n" */
static int
append_line_b64(struct ov_buf *out, struct ov_bytes name, struct ov_bytes b64)
{
    int rc = ov_buf_append(out, sig_prefix, sizeof sig_prefix);
    if (rc == 0) {
        rc = ov_buf_append(out, name.ptr, name.len);
    }
    if (rc == 0) {
        rc = ov_buf_append(out, " ", 1);
    }
    if (rc == 0) {
        rc = ov_buf_append(out, b64.ptr, b64.len);
    }
    if (rc == 0) {
        rc = ov_buf_append(out, "\n", 1);
    }
    return rc;
}

int
ov_note_serialize(const struct ov_note *n, struct ov_buf *out)
{
    ov_buf_init(out, OV_NOTE_MAX_LEN);
    int rc = ov_buf_append(out, n->text.ptr, n->text.len);
    if (rc == 0) {
        rc = ov_buf_append(out, "\n", 1);
    }
    for (size_t i = 0; i < n->n_sigs && rc == 0; i++) {
        rc = append_line_b64(out, n->sigs[i].name, n->sigs[i].b64);
    }
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

/* Appends the line of signer v carrying blob; on failure out->len is restored. */
static int
append_sig_line(struct ov_buf *out, const struct ov_note_verifier *v, const uint8_t *blob,
                size_t blob_len)
{
    size_t mark = out->len;
    char b64[((OV_COSIG_SIG_LEN + 2) / 3) * 4 + 1];
    int rc = ov_b64_encode(b64, sizeof b64, blob, blob_len, OV_B64_STD);
    if (rc == 0) {
        rc = append_line_b64(out, verifier_name(v), OV_BYTES(b64, strlen(b64)));
    }
    if (rc != 0) {
        out->len = mark;
    }
    return rc;
}

int
ov_note_sign_line(const struct ov_note_signer *s, struct ov_bytes text, struct ov_buf *out)
{
    if (s->pub.type != OV_NOTE_TYPE_ED25519) {
        return -OV_E_MALFORMED;
    }
    int rc = ov_note_text_check(text);
    if (rc != 0) {
        return rc;
    }
    uint8_t blob[OV_NOTE_ED25519_SIG_LEN];
    struct ov_writer w;
    ov_writer_init(&w, blob, sizeof blob);
    ov_writer_u32be(&w, s->pub.key_id);
    rc = ov_writer_end(&w);
    if (rc == 0) {
        rc = ov_sign_raw(s->key, text.ptr, text.len, blob + 4);
    }
    if (rc == 0) {
        rc = append_sig_line(out, &s->pub, blob, sizeof blob);
    }
    return rc;
}

int
ov_note_sign(struct ov_bytes text, const struct ov_note_signer *const *signers, size_t n_signers,
             struct ov_buf *out)
{
    ov_buf_init(out, OV_NOTE_MAX_LEN);
    if (n_signers == 0) {
        return -OV_E_MALFORMED; /* a note carries one or more signatures */
    }
    if (n_signers > OV_NOTE_MAX_SIGS) {
        return -OV_E_TOO_BIG;
    }
    for (size_t a = 0; a < n_signers; a++) {
        for (size_t b = a + 1; b < n_signers; b++) {
            const struct ov_note_verifier *va = &signers[a]->pub, *vb = &signers[b]->pub;
            if (va->key_id == vb->key_id && bytes_eq(verifier_name(va), verifier_name(vb))) {
                return -OV_E_MALFORMED; /* the parser would refuse the result */
            }
        }
    }
    int rc = ov_note_text_check(text);
    if (rc == 0) {
        rc = ov_buf_append(out, text.ptr, text.len);
    }
    if (rc == 0) {
        rc = ov_buf_append(out, "\n", 1);
    }
    for (size_t i = 0; i < n_signers && rc == 0; i++) {
        rc = ov_note_sign_line(signers[i], text, out);
    }
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

/* ---- checkpoints ---- */

int
ov_checkpoint_parse(struct ov_bytes text, struct ov_checkpoint *out)
{
    memset(out, 0, sizeof *out);
    int rc = ov_note_text_check(text);
    if (rc != 0) {
        return rc;
    }
    size_t off = 0;
    struct ov_bytes origin, size, root;
    if (!next_line(text, &off, &origin) || !next_line(text, &off, &size) ||
        !next_line(text, &off, &root) || origin.len == 0) {
        return -OV_E_MALFORMED;
    }
    rc = dec_u64_parse(size, &out->size);
    size_t n = 0;
    if (rc == 0 && (ov_b64_decode(out->root, sizeof out->root, &n, (const char *)root.ptr,
                                  root.len, OV_B64_STD) != 0 ||
                    n != sizeof out->root)) {
        rc = -OV_E_MALFORMED;
    }
    struct ov_bytes ext = OV_BYTES(text.ptr + off, text.len - off), line;
    size_t ext_off = 0;
    while (rc == 0 && next_line(ext, &ext_off, &line)) {
        if (line.len == 0) {
            rc = -OV_E_MALFORMED; /* extension lines MUST be non-empty */
        }
    }
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->origin = origin;
    out->extensions = ext;
    return 0;
}

int
ov_checkpoint_format(const struct ov_checkpoint *c, struct ov_buf *out)
{
    ov_buf_init(out, OV_NOTE_MAX_LEN);
    int rc = ov_buf_append(out, c->origin.ptr, c->origin.len);
    if (rc == 0) {
        rc = ov_buf_printf(out, "\n%" PRIu64 "\n", c->size);
    }
    if (rc == 0) {
        rc = append_b64(out, c->root, sizeof c->root);
    }
    if (rc == 0) {
        rc = ov_buf_append(out, "\n", 1);
    }
    if (rc == 0) {
        rc = ov_buf_append(out, c->extensions.ptr, c->extensions.len);
    }
    /* Whatever we produce must parse back to the same fields: this rejects an origin with a
     * newline, an empty origin, extensions that are not whole non-empty lines, control bytes. */
    struct ov_checkpoint back;
    if (rc == 0 && ov_checkpoint_parse(ov_buf_view(out), &back) != 0) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0 && (back.origin.len != c->origin.len || back.extensions.len != c->extensions.len)) {
        rc = -OV_E_MALFORMED;
    }
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

/* ---- cosignature/v1 ---- */

int
ov_cosig_message(struct ov_bytes text, uint64_t t, struct ov_buf *out)
{
    ov_buf_init(out, COSIG_MAX_MSG_LEN);
    if (t > OV_COSIG_MAX_TIME) {
        return -OV_E_RANGE;
    }
    int rc = ov_note_text_check(text);
    if (rc == 0) {
        rc = ov_buf_printf(out, "cosignature/v1\ntime %" PRIu64 "\n", t);
    }
    if (rc == 0) {
        rc = ov_buf_append(out, text.ptr, text.len);
    }
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

int
ov_cosig_blob_parse(const uint8_t *blob, size_t len, uint32_t *key_id, uint64_t *t,
                    uint8_t sig[OV_SIGN_SIG_LEN])
{
    struct ov_reader r;
    ov_reader_init(&r, OV_BYTES(blob, len));
    *key_id = ov_reader_u32be(&r);
    *t = ov_reader_u64be(&r);
    ov_reader_copy(&r, sig, OV_SIGN_SIG_LEN);
    int rc = ov_reader_end(&r) == 0 ? 0 : -OV_E_MALFORMED;
    if (rc == 0 && *t > OV_COSIG_MAX_TIME) {
        rc = -OV_E_RANGE;
    }
    if (rc != 0) {
        *key_id = 0;
        *t = 0;
        memset(sig, 0, OV_SIGN_SIG_LEN);
    }
    return rc;
}

int
ov_cosig_sign_line(const struct ov_note_signer *s, struct ov_bytes text, uint64_t t,
                   struct ov_buf *out)
{
    if (s->pub.type != OV_NOTE_TYPE_COSIG_V1) {
        return -OV_E_MALFORMED;
    }
    struct ov_buf m;
    uint8_t blob[OV_COSIG_SIG_LEN];
    int rc = ov_cosig_message(text, t, &m);
    struct ov_writer w;
    ov_writer_init(&w, blob, sizeof blob);
    ov_writer_u32be(&w, s->pub.key_id);
    ov_writer_u64be(&w, t);
    if (rc == 0) {
        rc = ov_writer_end(&w);
    }
    if (rc == 0) {
        rc = ov_sign_raw(s->key, m.ptr, m.len, blob + 12);
    }
    if (rc == 0) {
        rc = append_sig_line(out, &s->pub, blob, sizeof blob);
    }
    ov_buf_clear(&m);
    return rc;
}
