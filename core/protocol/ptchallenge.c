/* ptchallenge: see ptchallenge.h for the grammar and the parameters. */
#include "protocol/ptchallenge.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/codec.h"

#define MAX_VALUE 8192 /* one unescaped parameter value: a base64url challenge or key */

struct scan {
    const char *s;
    size_t len, i;
};

static bool
is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
is_token68_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("-._~+/", c) != NULL);
}

static void
skip_ws(struct scan *sc)
{
    while (sc->i < sc->len && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t')) {
        sc->i++;
    }
}

static size_t
token_len(const struct scan *sc, size_t at)
{
    size_t n = 0;
    while (at + n < sc->len && is_tchar((unsigned char)sc->s[at + n])) {
        n++;
    }
    return n;
}

/* A parameter value: token or quoted-string, unescaped into v (MAX_VALUE + 1). */
static int
param_value(struct scan *sc, char *v, size_t *vlen)
{
    size_t n = 0;
    if (sc->i < sc->len && sc->s[sc->i] == '"') {
        sc->i++;
        for (;;) {
            if (sc->i >= sc->len) {
                return -OV_E_MALFORMED;
            }
            unsigned char c = (unsigned char)sc->s[sc->i++];
            if (c == '"') {
                break;
            }
            if (c == '\\') {
                if (sc->i >= sc->len) {
                    return -OV_E_MALFORMED;
                }
                c = (unsigned char)sc->s[sc->i++];
                if (c != '\t' && (c < 0x20 || c == 0x7f)) {
                    return -OV_E_MALFORMED;
                }
            } else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
                return -OV_E_MALFORMED; /* qdtext: HTAB, SP, VCHAR, obs-text */
            }
            if (n == MAX_VALUE) {
                return -OV_E_TOO_BIG;
            }
            v[n++] = (char)c;
        }
    } else {
        n = token_len(sc, sc->i);
        if (n == 0) {
            return -OV_E_MALFORMED;
        }
        if (n > MAX_VALUE) {
            return -OV_E_TOO_BIG;
        }
        memcpy(v, sc->s + sc->i, n);
        sc->i += n;
    }
    v[n] = 0;
    *vlen = n;
    return 0;
}

/* The end of a list element: OWS, then ',' or the end. */
static int
element_end(struct scan *sc)
{
    skip_ws(sc);
    return sc->i == sc->len || sc->s[sc->i] == ',' ? 0 : -OV_E_MALFORMED;
}

/* What one PrivateToken challenge collects before it is checked. */
struct pending {
    bool active;    /* the current challenge is a PrivateToken one */
    unsigned seen;  /* 1: challenge, 2: token-key, 4: max-age */
    struct ov_ptchallenge c;
};

static int
b64url_padded(const char *v, size_t vlen, uint8_t *out, size_t max, size_t *n)
{
    int rc = ov_b64_decode(out, max, n, v, vlen, OV_B64_URL);
    return rc == -OV_E_TOO_BIG || rc == -OV_E_RANGE ? -OV_E_TOO_BIG : rc ? -OV_E_MALFORMED : 0;
}

static int
take_param(struct pending *p, const char *name, size_t name_len, const char *v, size_t vlen)
{
    unsigned bit = 0;
    int rc = 0;
    if (name_len == 9 && strncasecmp(name, "challenge", 9) == 0) {
        bit = 1;
        rc = b64url_padded(v, vlen, p->c.challenge, sizeof p->c.challenge, &p->c.challenge_len);
    } else if (name_len == 9 && strncasecmp(name, "token-key", 9) == 0) {
        bit = 2;
        rc = b64url_padded(v, vlen, p->c.token_key, sizeof p->c.token_key, &p->c.token_key_len);
        rc = rc == 0 && p->c.token_key_len == 0 ? -OV_E_MALFORMED : rc;
    } else if (name_len == 7 && strncasecmp(name, "max-age", 7) == 0) {
        bit = 4;
        rc = ov_parse_u64(v, vlen, &p->c.max_age);
        rc = rc ? -OV_E_MALFORMED : 0;
        p->c.has_max_age = rc == 0;
    }
    if (bit != 0 && (p->seen & bit) != 0) {
        return -OV_E_MALFORMED;
    }
    p->seen |= bit;
    return rc;
}

/* Ends the current challenge: a PrivateToken one of type 2 goes into out. */
static int
finish(struct pending *p, struct ov_ptchallenge *out, size_t max, size_t *n)
{
    struct ov_pp_challenge parsed;
    if (!p->active) {
        return 0;
    }
    p->active = false;
    if ((p->seen & 1) == 0) {
        return -OV_E_MALFORMED;
    }
    if (p->c.challenge_len < 2 ||
        ((unsigned)p->c.challenge[0] << 8 | p->c.challenge[1]) != OV_PP_TOKEN_TYPE) {
        return 0; /* another token type: not ours to answer */
    }
    if (ov_pp_challenge_parse(OV_BYTES(p->c.challenge, p->c.challenge_len), &parsed) != 0) {
        return -OV_E_MALFORMED;
    }
    if (*n == max) {
        return -OV_E_TOO_BIG;
    }
    out[(*n)++] = p->c;
    return 0;
}

/* After a scheme and its space: token68, or the first auth-param, or nothing. Sets *param
 * when an auth-param (name at sc->i) follows. */
static int
after_scheme(struct scan *sc, struct pending *p, bool *param)
{
    size_t t = token_len(sc, sc->i), j = sc->i + t;
    *param = false;
    while (j < sc->len && (sc->s[j] == ' ' || sc->s[j] == '\t')) {
        j++;
    }
    if (t > 0 && j < sc->len && sc->s[j] == '=') {
        size_t k = j + 1;
        while (k < sc->len && (sc->s[k] == ' ' || sc->s[k] == '\t')) {
            k++;
        }
        if (k < sc->len && sc->s[k] != ',' && sc->s[k] != '=') {
            *param = true; /* name = value */
            return 0;
        }
    }
    /* token68: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
    size_t k = sc->i;
    while (k < sc->len && is_token68_char((unsigned char)sc->s[k])) {
        k++;
    }
    if (k == sc->i) {
        return 0; /* nothing: a scheme alone */
    }
    while (k < sc->len && sc->s[k] == '=') {
        k++;
    }
    if (p->active) {
        return -OV_E_MALFORMED; /* PrivateToken has no token68 form */
    }
    sc->i = k;
    return element_end(sc);
}

int
ov_ptchallenge_parse(const char *value, size_t len, struct ov_ptchallenge *out, size_t max,
                     size_t *n)
{
    char v[MAX_VALUE + 1];
    struct pending p;
    struct scan sc = { value, len, 0 };
    size_t n_params = 0;
    bool have_scheme = false;
    int rc = 0;
    *n = 0;
    memset(&p, 0, sizeof p);
    if (len > OV_MAX_WWW_AUTHENTICATE_LEN) {
        rc = -OV_E_TOO_BIG;
    }
    while (rc == 0) {
        while (sc.i < len && (value[sc.i] == ' ' || value[sc.i] == '\t' || value[sc.i] == ',')) {
            sc.i++;
        }
        if (sc.i == len) {
            break;
        }
        size_t t = token_len(&sc, sc.i), j = sc.i + t;
        while (j < len && (value[j] == ' ' || value[j] == '\t')) {
            j++;
        }
        bool param = t > 0 && have_scheme && j < len && value[j] == '=';
        if (t == 0) {
            rc = -OV_E_MALFORMED;
            break;
        }
        if (!param) {
            /* a new challenge: its scheme, then token68, params, or nothing */
            rc = finish(&p, out, max, n);
            if (rc != 0) {
                break;
            }
            memset(&p, 0, sizeof p);
            p.active = t == 12 && strncasecmp(value + sc.i, "PrivateToken", 12) == 0;
            have_scheme = true;
            sc.i += t;
            if (sc.i == len || value[sc.i] == ',') {
                continue;
            }
            if (value[sc.i] != ' ') {
                rc = -OV_E_MALFORMED; /* 1*SP after the scheme */
                break;
            }
            skip_ws(&sc);
            rc = after_scheme(&sc, &p, &param);
            if (rc != 0 || !param) {
                continue;
            }
            t = token_len(&sc, sc.i);
        }
        /* auth-param = token BWS "=" BWS ( token / quoted-string ) */
        if (++n_params > OV_PTCHALLENGE_MAX_PARAMS) {
            rc = -OV_E_TOO_BIG;
            break;
        }
        const char *name = value + sc.i;
        sc.i += t;
        skip_ws(&sc);
        sc.i++; /* the '=' seen above */
        skip_ws(&sc);
        size_t vlen = 0;
        rc = param_value(&sc, v, &vlen);
        rc = rc ? rc : element_end(&sc);
        if (rc == 0 && p.active) {
            rc = take_param(&p, name, t, v, vlen);
        }
    }
    rc = rc ? rc : finish(&p, out, max, n);
    if (rc != 0) {
        memset(out, 0, max * sizeof *out);
        *n = 0;
    }
    memset(&p, 0, sizeof p);
    return rc;
}

int
ov_ptchallenge_format(const struct ov_ptchallenge *c, struct ov_buf *out)
{
    struct ov_pp_challenge parsed;
    if (c->challenge_len > sizeof c->challenge || c->token_key_len > sizeof c->token_key ||
        ov_pp_challenge_parse(OV_BYTES(c->challenge, c->challenge_len), &parsed) != 0) {
        return -OV_E_MALFORMED;
    }
    int rc = ov_buf_append_str(out, "PrivateToken challenge=\"");
    rc = rc ? rc : ov_buf_append_b64(out, c->challenge, c->challenge_len, OV_B64_URL);
    rc = rc ? rc : ov_buf_append_str(out, "\"");
    if (rc == 0 && c->token_key_len > 0) {
        rc = ov_buf_append_str(out, ", token-key=\"");
        rc = rc ? rc : ov_buf_append_b64(out, c->token_key, c->token_key_len, OV_B64_URL);
        rc = rc ? rc : ov_buf_append_str(out, "\"");
    }
    if (rc == 0 && c->has_max_age) {
        rc = ov_buf_printf(out, ", max-age=%llu", (unsigned long long)c->max_age);
    }
    return rc;
}
