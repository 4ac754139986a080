/* joinnote: the join bundle's text, the log's fields file and the signed note (joinnote.h). */
#include "protocol/joinnote.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/codec.h"

/* The keys of the table in joinnote.h, in their order. */
enum key { K_NONE = 0, K_NAME, K_LOG, K_LOG_VKEY, K_WITNESS, K_QUORUM, K_ISSUER, K_VERIFIER,
           K_RELAY, K_WEB };

static const struct {
    const char *word;
    enum key key;
    bool required;
    bool from_file; /* written by the operator in the log's --join FILE */
} keys[] = {
    { "name", K_NAME, false, true },         { "log", K_LOG, true, true },
    { "log-vkey", K_LOG_VKEY, true, false }, { "witness", K_WITNESS, false, false },
    { "quorum", K_QUORUM, true, false },     { "issuer", K_ISSUER, true, true },
    { "verifier", K_VERIFIER, true, true },  { "relay", K_RELAY, false, true },
    { "web", K_WEB, false, true },
};
#define N_KEYS (sizeof keys / sizeof keys[0])

static enum key
key_of(struct ov_bytes word)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strlen(keys[i].word) == word.len && memcmp(keys[i].word, word.ptr, word.len) == 0) {
            return keys[i].key;
        }
    }
    return K_NONE;
}

static bool
url_ok(struct ov_bytes u)
{
    const char *p = (const char *)u.ptr;
    if (u.len == 0 || u.len > OV_JOIN_MAX_URL ||
        !((u.len > 7 && memcmp(p, "http://", 7) == 0) ||
          (u.len > 8 && memcmp(p, "https://", 8) == 0))) {
        return false;
    }
    for (size_t i = 0; i < u.len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#') {
            return false;
        }
    }
    return true;
}

/* Copies v into dst (room: max + 1), NUL-terminated. */
static void
copy(char *dst, size_t max, struct ov_bytes v)
{
    size_t n = v.len < max ? v.len : max;
    memcpy(dst, v.ptr, n);
    dst[n] = '\0';
}

/* Checks value v for key k and stores it in j; NULL when fine, else why not. */
static const char *
store(struct ov_join *j, enum key k, struct ov_bytes v)
{
    struct ov_note_verifier nv;
    switch (k) {
    case K_NAME: {
        /* a name is note text on one line: valid UTF-8 without control bytes */
        char line[OV_JOIN_MAX_NAME + 2];
        if (v.len == 0 || v.len > OV_JOIN_MAX_NAME) {
            return "name: 1 to 256 bytes";
        }
        memcpy(line, v.ptr, v.len);
        line[v.len] = '\n';
        if (ov_note_text_check(OV_BYTES(line, v.len + 1)) != 0 ||
            memchr(v.ptr, '\n', v.len) != NULL) {
            return "name: UTF-8 text without control characters";
        }
        copy(j->name, OV_JOIN_MAX_NAME, v);
        return NULL;
    }
    case K_LOG_VKEY:
        if (v.len > OV_NOTE_MAX_VKEY_LEN || ov_note_vkey_parse(v, &nv) != 0 ||
            nv.type != OV_NOTE_TYPE_ED25519) {
            return "log-vkey: not an Ed25519 note verifier key";
        }
        copy(j->log_vkey, OV_NOTE_MAX_VKEY_LEN, v);
        return NULL;
    case K_WITNESS:
        if (j->n_witnesses == OV_JOIN_MAX_WITNESSES) {
            return "witness: at most 16";
        }
        if (v.len > OV_NOTE_MAX_VKEY_LEN || ov_note_vkey_parse(v, &nv) != 0 ||
            nv.type != OV_NOTE_TYPE_COSIG_V1) {
            return "witness: not a cosignature/v1 verifier key";
        }
        for (size_t i = 0; i < j->n_witnesses; i++) {
            if (strlen(j->witnesses[i]) == v.len && memcmp(j->witnesses[i], v.ptr, v.len) == 0) {
                return "witness: listed twice";
            }
        }
        copy(j->witnesses[j->n_witnesses++], OV_NOTE_MAX_VKEY_LEN, v);
        return NULL;
    case K_QUORUM: {
        uint64_t q;
        if (ov_parse_u64((const char *)v.ptr, v.len, &q) != 0 || q > j->n_witnesses) {
            return "quorum: a number from 0 to the witnesses listed";
        }
        j->quorum = (uint32_t)q;
        return NULL;
    }
    case K_LOG:
    case K_ISSUER:
    case K_VERIFIER:
    case K_RELAY:
    case K_WEB: {
        char *dst = k == K_LOG ? j->log : k == K_ISSUER ? j->issuer : k == K_VERIFIER ? j->verifier
                  : k == K_RELAY ? j->relay : j->web;
        if (!url_ok(v)) {
            return "a URL: http:// or https://, at most 1,024 bytes, no blank, '?' or '#'";
        }
        copy(dst, OV_JOIN_MAX_URL, v);
        return NULL;
    }
    case K_NONE:
        break;
    }
    return "unknown key";
}

/* The next line of text from *off (without its '\n'); false at the end. A last line
 * without '\n' is a line too. */
static bool
next_line(struct ov_bytes text, size_t *off, struct ov_bytes *line)
{
    if (*off >= text.len) {
        return false;
    }
    const uint8_t *p = text.ptr + *off;
    const uint8_t *nl = memchr(p, '\n', text.len - *off);
    size_t n = nl ? (size_t)(nl - p) : text.len - *off;
    *line = OV_BYTES(p, n);
    *off += n + (nl ? 1 : 0);
    return true;
}

/* Splits "key value" at the first space: false when there is none. */
static bool
split(struct ov_bytes line, struct ov_bytes *word, struct ov_bytes *value)
{
    const uint8_t *sp = memchr(line.ptr, ' ', line.len);
    if (sp == NULL) {
        return false;
    }
    *word = OV_BYTES(line.ptr, (size_t)(sp - line.ptr));
    *value = OV_BYTES(sp + 1, line.len - word->len - 1);
    return true;
}

/* The required keys of `which` (from_file ones or all) that j lacks; NULL if none. */
static const char *
missing(const struct ov_join *j, const bool seen[N_KEYS + 1], bool file_only)
{
    (void)j;
    for (size_t i = 0; i < N_KEYS; i++) {
        if (keys[i].required && (!file_only || keys[i].from_file) && !seen[keys[i].key]) {
            return keys[i].word;
        }
    }
    return NULL;
}

static bool
is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static struct ov_bytes
trim(struct ov_bytes b)
{
    while (b.len > 0 && is_blank(b.ptr[0])) {
        b = OV_BYTES(b.ptr + 1, b.len - 1);
    }
    while (b.len > 0 && is_blank(b.ptr[b.len - 1])) {
        b.len--;
    }
    return b;
}

int
ov_join_fields_parse(struct ov_bytes text, struct ov_join *out, size_t *bad_line,
                     const char **why)
{
    static char msg[96];
    bool seen[N_KEYS + 1] = { false };
    struct ov_bytes line, word, value;
    size_t off = 0, n = 0;
    memset(out, 0, sizeof *out);
    *bad_line = 0;
    *why = NULL;
    if (text.len > OV_JOIN_MAX_FILE) {
        *why = "the file is over 16 KiB";
        return -OV_E_MALFORMED;
    }
    while (next_line(text, &off, &line)) {
        n++;
        line = trim(line);
        if (line.len == 0 || line.ptr[0] == '#') {
            continue;
        }
        /* "key value" or "key = value", as the servers' configuration files */
        size_t k = 0;
        while (k < line.len && !is_blank(line.ptr[k]) && line.ptr[k] != '=') {
            k++;
        }
        word = OV_BYTES(line.ptr, k);
        value = trim(OV_BYTES(line.ptr + k, line.len - k));
        if (value.len > 0 && value.ptr[0] == '=') {
            value = trim(OV_BYTES(value.ptr + 1, value.len - 1));
        }
        enum key key = key_of(word);
        size_t i = 0;
        while (i < N_KEYS && keys[i].key != key) {
            i++;
        }
        const char *bad = NULL;
        if (key == K_NONE || !keys[i].from_file) {
            snprintf(msg, sizeof msg, "%.*s: not a key of this file (name, log, issuer, "
                     "verifier, relay, web)", (int)(word.len > 24 ? 24 : word.len),
                     (const char *)word.ptr);
            bad = msg;
        } else if (seen[key]) {
            bad = "a key given twice";
        } else {
            bad = store(out, key, value);
        }
        if (bad != NULL) {
            memset(out, 0, sizeof *out);
            *bad_line = n;
            *why = bad;
            return -OV_E_MALFORMED;
        }
        seen[key] = true;
    }
    const char *lack = missing(out, seen, true);
    if (lack != NULL) {
        snprintf(msg, sizeof msg, "%s is required", lack);
        memset(out, 0, sizeof *out);
        *why = msg;
        return -OV_E_MALFORMED;
    }
    return 0;
}

/* Whether a and b hold the same fields (bytes past each string's end aside). */
static bool
same(const struct ov_join *a, const struct ov_join *b)
{
    bool eq = strcmp(a->name, b->name) == 0 && strcmp(a->log, b->log) == 0 &&
              strcmp(a->log_vkey, b->log_vkey) == 0 && a->n_witnesses == b->n_witnesses &&
              a->quorum == b->quorum && strcmp(a->issuer, b->issuer) == 0 &&
              strcmp(a->verifier, b->verifier) == 0 && strcmp(a->relay, b->relay) == 0 &&
              strcmp(a->web, b->web) == 0;
    for (size_t i = 0; eq && i < a->n_witnesses; i++) {
        eq = strcmp(a->witnesses[i], b->witnesses[i]) == 0;
    }
    return eq;
}

int
ov_join_text(const struct ov_join *j, struct ov_buf *out)
{
    ov_buf_init(out, OV_NOTE_MAX_LEN);
    if (j->n_witnesses > OV_JOIN_MAX_WITNESSES) {
        return -OV_E_MALFORMED;
    }
    int rc = ov_buf_append_str(out, OV_JOIN_FIRST_LINE "\n");
    if (rc == 0 && j->name[0] != '\0') {
        rc = ov_buf_printf(out, "name %s\n", j->name);
    }
    rc = rc ? rc : ov_buf_printf(out, "log %s\nlog-vkey %s\n", j->log, j->log_vkey);
    for (size_t i = 0; rc == 0 && i < j->n_witnesses; i++) {
        rc = ov_buf_printf(out, "witness %s\n", j->witnesses[i]);
    }
    rc = rc ? rc : ov_buf_printf(out, "quorum %u\nissuer %s\nverifier %s\n", (unsigned)j->quorum,
                                 j->issuer, j->verifier);
    if (rc == 0 && j->relay[0] != '\0') {
        rc = ov_buf_printf(out, "relay %s\n", j->relay);
    }
    if (rc == 0 && j->web[0] != '\0') {
        rc = ov_buf_printf(out, "web %s\n", j->web);
    }
    /* what is written must read back: every field checked by the one parser */
    struct ov_join back;
    const char *why;
    rc = rc ? rc : ov_join_text_parse(ov_buf_view(out), &back, &why);
    rc = rc ? rc : (same(&back, j) ? 0 : -OV_E_MALFORMED);
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

int
ov_join_text_parse(struct ov_bytes text, struct ov_join *out, const char **why)
{
    bool seen[N_KEYS + 1] = { false };
    struct ov_bytes line, word, value;
    size_t off = 0;
    enum key last = K_NONE;
    memset(out, 0, sizeof *out);
    *why = NULL;
    const char *bad = NULL;
    if (ov_note_text_check(text) != 0) {
        bad = "not note text";
    } else if (!next_line(text, &off, &line) || line.len != strlen(OV_JOIN_FIRST_LINE) ||
               memcmp(line.ptr, OV_JOIN_FIRST_LINE, line.len) != 0) {
        bad = "not a join note (its first line is not " OV_JOIN_FIRST_LINE ")";
    }
    while (bad == NULL && next_line(text, &off, &line)) {
        if (!split(line, &word, &value)) {
            bad = "a line that is not \"key value\"";
            break;
        }
        enum key key = key_of(word);
        if (key == K_NONE) {
            continue; /* a later version's key */
        }
        if (key < last || (key == last && key != K_WITNESS)) {
            bad = "a key out of order or twice";
        } else {
            bad = store(out, key, value);
        }
        seen[key] = true;
        last = key;
    }
    if (bad == NULL) {
        bad = missing(out, seen, false) ? "a required key is missing" : NULL;
    }
    if (bad != NULL) {
        memset(out, 0, sizeof *out);
        *why = bad;
        return -OV_E_MALFORMED;
    }
    return 0;
}

int
ov_join_open(struct ov_bytes note, const struct ov_note_verifier *log, struct ov_join *out,
             const char **why)
{
    struct ov_note n;
    struct ov_note_check check;
    memset(out, 0, sizeof *out);
    *why = NULL;
    int rc = ov_note_parse(note, &n);
    if (rc != 0) {
        *why = "not a signed note";
        return -OV_E_MALFORMED;
    }
    rc = ov_join_text_parse(n.text, out, why);
    if (rc != 0) {
        return rc;
    }
    rc = ov_note_verify(&n, log, 1, &check);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        *why = rc == -OV_E_UNKNOWN_KEY ? "not signed by the log's key"
                                       : "the log's signature does not verify";
        return rc;
    }
    struct ov_note_verifier named;
    if (ov_note_vkey_parse(OV_BYTES(out->log_vkey, strlen(out->log_vkey)), &named) != 0 ||
        named.key_id != log->key_id || named.name_len != log->name_len ||
        memcmp(named.name, log->name, log->name_len) != 0 ||
        memcmp(named.pk, log->pk, sizeof named.pk) != 0) {
        memset(out, 0, sizeof *out);
        *why = "its log-vkey is not the key that signed it";
        return -OV_E_MALFORMED;
    }
    return 0;
}
