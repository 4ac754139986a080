#include "protocol/actionreq.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "base/codec.h"
#include "primitives/json.h"

_Static_assert(OV_PRIVATETOKEN_HEADER_LEN == sizeof OV_PRIVATETOKEN_SCHEME + 8 +
                   (OV_PP_TOKEN_LEN / 3) * 4 + 1, "the header's length");

/* ---- the JSON body ------------------------------------------------------------------ */

/* The members of a request, as either parser found them: each string's bytes (not yet
 * checked), whether "rating" was an integer. Views point into the body or jansson's tree. */
enum { F_CHOICE, F_CONTEXT, F_PLATFORM, F_PSEUDONYM, F_RATING, F_SIG, F_TARGET, F_TEXT,
       F_TOKEN, F_N };

static const char *const known_keys[F_N] = { "choice", "context", "platform", "pseudonym", "rating",
                                             "sig",    "target",  "text",     "token" };

struct fields {
    bool present[F_N];
    struct ov_bytes str[F_N]; /* string members */
    bool rating_is_int;
    int64_t rating;
};

/* A string member copied NUL-terminated into dst (room for max bytes plus the NUL):
 * -OV_E_MALFORMED when absent, not a string, empty or longer than max. */
static int
get_str(const struct fields *f, int k, char *dst, size_t max)
{
    const struct ov_bytes v = f->str[k];
    if (!f->present[k] || v.ptr == NULL || v.len == 0 || v.len > max ||
        memchr(v.ptr, 0, v.len) != NULL) {
        return -OV_E_MALFORMED;
    }
    memcpy(dst, v.ptr, v.len);
    dst[v.len] = 0;
    return 0;
}

/* A base64url (unpadded) string member decoding to exactly n bytes. Every such member is
 * public (it is logged), so the fast decoder serves. */
static int
get_b64(const struct fields *f, int k, uint8_t *dst, size_t n)
{
    size_t got = 0;
    if (!f->present[k] || f->str[k].ptr == NULL ||
        ov_b64url_decode_public(dst, n, &got, (const char *)f->str[k].ptr, f->str[k].len) != 0 ||
        got != n) {
        return -OV_E_MALFORMED;
    }
    return 0;
}

/* The rules of the table in actionreq.h, whichever parser found the members. *a is zeroed
 * first, and again on failure. */
static int
fields_to_action(const struct fields *f, struct ov_action *a)
{
    memset(a, 0, sizeof *a);
    int rc = get_str(f, F_CONTEXT, a->context, OV_MAX_CONTEXT_ID_LEN);
    rc = rc ? rc : ov_context_id_check(a->context);
    rc = rc ? rc : get_b64(f, F_PSEUDONYM, a->pseudonym, OV_PSEUDONYM_LEN);
    rc = rc ? rc : get_str(f, F_PLATFORM, a->platform, OV_MAX_LABEL_LEN);
    rc = rc ? rc : ov_label_check(a->platform);
    rc = rc ? rc : get_b64(f, F_SIG, a->sig, OV_SIGN_SIG_LEN);
    if (rc == 0 && f->present[F_TOKEN]) {
        a->has_token = true;
        rc = get_b64(f, F_TOKEN, a->token, OV_PP_TOKEN_LEN);
    }
    bool choice = f->present[F_CHOICE], target = f->present[F_TARGET], text = f->present[F_TEXT];
    if (rc == 0 && text && !choice && !target && !f->present[F_RATING]) {
        a->is_statement = true;
        rc = get_str(f, F_TEXT, a->text, OV_MAX_STATEMENT_LEN);
        rc = rc ? rc : ov_text_check(a->text, OV_MAX_STATEMENT_LEN);
    } else if (rc == 0 && text) {
        rc = -OV_E_MALFORMED;
    } else if (rc == 0 && choice && !target && !f->present[F_RATING]) {
        rc = get_str(f, F_CHOICE, a->choice, OV_MAX_LABEL_LEN);
        rc = rc ? rc : ov_label_check(a->choice);
    } else if (rc == 0 && !choice && target && f->rating_is_int) {
        a->is_rating = true;
        a->rating = f->rating;
        rc = get_str(f, F_TARGET, a->target, OV_MAX_LABEL_LEN);
        rc = rc ? rc : ov_label_check(a->target);
    } else if (rc == 0) {
        rc = -OV_E_MALFORMED;
    }
    if (rc != 0) {
        memset(a, 0, sizeof *a);
    }
    return rc;
}

/* The members from jansson's tree: any JSON, every escape and UTF-8 (the reference). */
static int
tree_fields(json_t *o, struct fields *f)
{
    int rc = ov_json_only_keys(o, known_keys, F_N);
    for (int k = 0; k < F_N && rc == 0; k++) {
        json_t *v = json_object_get(o, known_keys[k]);
        f->present[k] = v != NULL;
        if (json_is_string(v)) {
            f->str[k] = OV_BYTES(json_string_value(v), json_string_length(v));
        }
        if (k == F_RATING && json_is_integer(v)) {
            f->rating_is_int = true;
            f->rating = (int64_t)json_integer_value(v);
        }
    }
    return rc;
}

int
ov_actionreq_parse_tree(struct ov_bytes body, struct ov_action *a)
{
    json_t *o = NULL;
    struct fields f;
    memset(&f, 0, sizeof f);
    int rc = ov_json_parse(body, OV_MAX_ACTION_REQ_LEN, &o);
    rc = rc ? rc : tree_fields(o, &f);
    if (rc != 0) {
        memset(a, 0, sizeof *a);
    } else {
        rc = fields_to_action(&f, a); /* before the tree goes: f points into it */
    }
    json_decref(o);
    return rc;
}

/* ---- the fast path: a request as clients write it, scanned in place ----
 * Only a subset of JSON whose meaning is plain: an object of known keys, each once, whose
 * values are strings of printable ASCII without escapes, or integers of at most 18 digits
 * (no fraction, no exponent). Whatever else it meets, it gives up (returns false) and the
 * tree parser decides: so both always agree (fuzz_actionreq checks that they do). */

static const char *
skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

static bool
scan_fields(struct ov_bytes body, struct fields *f)
{
    const char *p = (const char *)body.ptr, *end = p + body.len;
    p = skip_ws(p, end);
    if (p >= end || *p++ != '{') {
        return false;
    }
    p = skip_ws(p, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            struct ov_bytes key;
            int k = 0;
            p = ov_json_scan_plain_string(p, end, &key);
            while (p != NULL && k < F_N &&
                   (strlen(known_keys[k]) != key.len || memcmp(known_keys[k], key.ptr, key.len))) {
                k++;
            }
            if (p == NULL || k == F_N || f->present[k]) {
                return false; /* an unknown or repeated key: the tree parser refuses it */
            }
            p = skip_ws(p, end);
            if (p >= end || *p++ != ':') {
                return false;
            }
            p = skip_ws(p, end);
            f->present[k] = true;
            if (p < end && *p == '"') {
                p = ov_json_scan_plain_string(p, end, &f->str[k]);
            } else if (k == F_RATING) {
                p = ov_json_scan_plain_int(p, end, &f->rating);
                f->rating_is_int = true;
            } else {
                return false;
            }
            if (p == NULL) {
                return false;
            }
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p = skip_ws(p + 1, end);
                continue;
            }
            if (p < end && *p == '}') {
                p++;
                break;
            }
            return false;
        }
    }
    return skip_ws(p, end) == end;
}

int
ov_actionreq_parse(struct ov_bytes body, struct ov_action *a)
{
    struct fields f;
    memset(&f, 0, sizeof f);
    if (body.len > OV_MAX_ACTION_REQ_LEN || !scan_fields(body, &f)) {
        return ov_actionreq_parse_tree(body, a);
    }
    return fields_to_action(&f, a);
}

static int
set_b64(json_t *o, const char *key, const uint8_t *p, size_t n)
{
    char s[OV_PP_TOKEN_LEN * 2];
    if (ov_b64_encode(s, sizeof s, p, n, OV_B64_URL_NOPAD) != 0) {
        return -OV_E_TOO_BIG;
    }
    return json_object_set_new(o, key, json_string(s)) == 0 ? 0 : -OV_E_NOMEM;
}

static int
set_str(json_t *o, const char *key, const char *s)
{
    return json_object_set_new(o, key, json_string(s)) == 0 ? 0 : -OV_E_NOMEM;
}

int
ov_actionreq_build(const struct ov_action *a, bool with_token, struct ov_buf *out)
{
    ov_buf_init(out, OV_MAX_ACTION_REQ_LEN);
    json_t *o = json_object();
    int rc = o ? ov_context_id_check(a->context) : -OV_E_NOMEM;
    rc = rc ? rc : ov_label_check(a->platform);
    rc = rc ? rc
            : a->is_statement ? ov_text_check(a->text, OV_MAX_STATEMENT_LEN)
                              : ov_label_check(a->is_rating ? a->target : a->choice);
    rc = rc ? rc : set_str(o, "context", a->context);
    rc = rc ? rc : set_b64(o, "pseudonym", a->pseudonym, OV_PSEUDONYM_LEN);
    rc = rc ? rc : set_str(o, "platform", a->platform);
    rc = rc ? rc : set_b64(o, "sig", a->sig, OV_SIGN_SIG_LEN);
    if (rc == 0 && with_token && a->has_token) {
        rc = set_b64(o, "token", a->token, OV_PP_TOKEN_LEN);
    }
    if (rc == 0 && a->is_statement) {
        rc = set_str(o, "text", a->text);
    } else if (rc == 0 && a->is_rating) {
        rc = set_str(o, "target", a->target);
        rc = rc ? rc
                : (json_object_set_new(o, "rating", json_integer((json_int_t)a->rating)) == 0
                       ? 0
                       : -OV_E_NOMEM);
    } else if (rc == 0) {
        rc = set_str(o, "choice", a->choice);
    }
    rc = rc ? rc : ov_json_dump(o, OV_MAX_ACTION_REQ_LEN, out);
    json_decref(o);
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

/* ---- the Authorization header ------------------------------------------------------- */

/* RFC 9110 §5.6.2 tchar */
static bool
is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* qdtext and the escaped byte of a quoted-pair (RFC 9110 §5.6.4): HTAB, SP, VCHAR,
 * obs-text. */
static bool
is_qchar(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

struct hdr {
    const unsigned char *p;
    size_t len, off;
};

static void
skip_ows(struct hdr *h)
{
    while (h->off < h->len && is_ows(h->p[h->off])) {
        h->off++;
    }
}

/* A token at the cursor: its view (empty when none). */
static struct ov_bytes
take_token(struct hdr *h)
{
    size_t start = h->off;
    while (h->off < h->len && is_tchar(h->p[h->off])) {
        h->off++;
    }
    return OV_BYTES(h->p + start, h->off - start);
}

/* A token or quoted-string value, unescaped into val (room for max bytes). */
static int
take_value(struct hdr *h, char *val, size_t max, size_t *n)
{
    *n = 0;
    if (h->off < h->len && h->p[h->off] != '"') {
        struct ov_bytes t = take_token(h);
        if (t.len == 0 || t.len > max) {
            return t.len == 0 ? -OV_E_MALFORMED : -OV_E_TOO_BIG;
        }
        memcpy(val, t.ptr, t.len);
        *n = t.len;
        return 0;
    }
    if (h->off >= h->len) {
        return -OV_E_MALFORMED;
    }
    h->off++; /* the opening quote */
    while (h->off < h->len && h->p[h->off] != '"') {
        unsigned char c = h->p[h->off++];
        if (c == '\\') {
            if (h->off >= h->len) {
                return -OV_E_MALFORMED;
            }
            c = h->p[h->off++];
        }
        if (!is_qchar(c)) {
            return -OV_E_MALFORMED;
        }
        if (*n >= max) {
            return -OV_E_TOO_BIG;
        }
        val[(*n)++] = (char)c;
    }
    if (h->off >= h->len) {
        return -OV_E_MALFORMED; /* unterminated */
    }
    h->off++; /* the closing quote */
    return 0;
}

static bool
name_is(struct ov_bytes name, const char *s)
{
    return name.len == strlen(s) && strncasecmp((const char *)name.ptr, s, name.len) == 0;
}

/* Reads the auth-params after the scheme; the "token" one's value into val. */
static int
parse_params(struct hdr *h, char *val, size_t max, size_t *val_len)
{
    struct ov_bytes names[OV_MAX_AUTH_PARAMS];
    size_t n_names = 0;
    char scratch[OV_MAX_PRIVATETOKEN_HEADER_LEN];
    bool have_token = false;
    for (;;) {
        skip_ows(h);
        if (h->off < h->len && h->p[h->off] == ',') {
            h->off++; /* an empty list element */
            continue;
        }
        if (h->off == h->len) {
            break;
        }
        struct ov_bytes name = take_token(h);
        if (name.len == 0) {
            return -OV_E_MALFORMED;
        }
        for (size_t i = 0; i < n_names; i++) {
            if (names[i].len == name.len &&
                strncasecmp((const char *)names[i].ptr, (const char *)name.ptr, name.len) == 0) {
                return -OV_E_MALFORMED; /* RFC 9110 §11.2: each name once */
            }
        }
        if (n_names == OV_MAX_AUTH_PARAMS) {
            return -OV_E_TOO_BIG;
        }
        names[n_names++] = name;
        skip_ows(h);
        if (h->off >= h->len || h->p[h->off] != '=') {
            return -OV_E_MALFORMED; /* token68 or a bare name */
        }
        h->off++;
        skip_ows(h);
        size_t n = 0;
        bool is_token = name_is(name, "token");
        int rc = take_value(h, is_token ? val : scratch, is_token ? max : sizeof scratch, &n);
        if (rc != 0) {
            return rc;
        }
        if (is_token) {
            have_token = true;
            *val_len = n;
        }
        skip_ows(h);
        if (h->off < h->len && h->p[h->off] != ',') {
            return -OV_E_MALFORMED;
        }
    }
    return have_token ? 0 : -OV_E_MALFORMED;
}

int
ov_privatetoken_parse(const char *value, size_t len, uint8_t token[OV_PP_TOKEN_LEN])
{
    memset(token, 0, OV_PP_TOKEN_LEN);
    if (len > OV_MAX_PRIVATETOKEN_HEADER_LEN) {
        return -OV_E_TOO_BIG;
    }
    struct hdr h = { (const unsigned char *)value, len, 0 };
    char val[OV_PP_TOKEN_LEN * 2];
    size_t val_len = 0, got = 0;
    skip_ows(&h);
    struct ov_bytes scheme = take_token(&h);
    if (!name_is(scheme, OV_PRIVATETOKEN_SCHEME) || h.off >= h.len || h.p[h.off] != ' ') {
        return -OV_E_MALFORMED;
    }
    int rc = parse_params(&h, val, sizeof val, &val_len);
    if (rc == 0) {
        /* padded or not; 354 bytes need no padding, so both spell it the same way, but a
         * value with "=" must still decode canonically under the padded variant */
        enum ov_b64 v = memchr(val, '=', val_len) ? OV_B64_URL : OV_B64_URL_NOPAD;
        rc = ov_b64_decode(token, OV_PP_TOKEN_LEN, &got, val, val_len, v);
        if (rc != 0 || got != OV_PP_TOKEN_LEN) {
            rc = -OV_E_MALFORMED;
        }
    }
    if (rc != 0) {
        memset(token, 0, OV_PP_TOKEN_LEN);
    }
    return rc;
}

int
ov_privatetoken_format(const uint8_t token[OV_PP_TOKEN_LEN], char *out, size_t out_max)
{
    static const char head[] = OV_PRIVATETOKEN_SCHEME " token=\"";
    size_t b = ov_b64_encoded_size(OV_PP_TOKEN_LEN, OV_B64_URL_NOPAD); /* with its NUL */
    if (out_max < sizeof head - 1 + b + 1) {
        if (out_max > 0) {
            out[0] = 0;
        }
        return -OV_E_TOO_BIG;
    }
    memcpy(out, head, sizeof head - 1);
    if (ov_b64_encode(out + sizeof head - 1, b, token, OV_PP_TOKEN_LEN, OV_B64_URL_NOPAD) != 0) {
        out[0] = 0;
        return -OV_E_TOO_BIG;
    }
    memcpy(out + sizeof head - 1 + b - 1, "\"", 2);
    return 0;
}
