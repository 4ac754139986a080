#include "protocol/entry.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/codec.h"
#include "primitives/cbor.h"
#include "protocol/bridging.h"
#include "protocol/groups.h"

/* Room for an action entry or its signed bytes with a token (about 600 bytes), so that the
 * writer's many small appends fill one allocation. */
#define OV_ACTION_BUF_HINT 1024

/* entry.h's OV_MAX_ENTRY_LEN: what a bundle's u16 length prefix can say, and what the CBOR
 * profile decodes with its default limits */
_Static_assert(OV_MAX_ENTRY_LEN <= UINT16_MAX, "an entry must fit a bundle's length prefix");
_Static_assert(OV_MAX_ENTRY_LEN <= OV_MAX_CBOR_LEN, "an entry must fit one CBOR message");

static const char *const kind_names[] = {
    [OV_ENTRY_CONTEXT] = "context",   [OV_ENTRY_ENROLLMENT] = "enrollment",
    [OV_ENTRY_ISSUANCE] = "issuance", [OV_ENTRY_ACTION] = "action",
    [OV_ENTRY_TALLY] = "tally",       [OV_ENTRY_INVITATIONS] = "invitations",
    [OV_ENTRY_STATEMENT] = "statement",
};
static const char *const rating_kind_names[] = {
    [OV_RATING_HELPFULNESS] = "helpfulness",
    [OV_RATING_AGREEMENT] = "agreement",
};
/* the scale each statement round's kind fixes (§11.3) */
static const int64_t rating_kind_scale[][2] = {
    [OV_RATING_HELPFULNESS] = { 0, 2 },
    [OV_RATING_AGREEMENT] = { -1, 1 },
};
static const char *const route_names[] = {
    [OV_ROUTE_INVITE] = "invite",
    [OV_ROUTE_REGISTRAR] = "registrar",
    [OV_ROUTE_ATTESTATION] = "attestation",
    [OV_ROUTE_RECOVERY] = "recovery",
};

int
ov_context_id_check(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > OV_MAX_CONTEXT_ID_LEN || s[0] == '-') {
        return -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return -OV_E_MALFORMED;
        }
    }
    return 0;
}

/* UTF-8 (RFC 3629: shortest forms, no surrogates, at most U+10FFFF) without control
 * characters (C0, DEL, C1). */
static int
text_check(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        return -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < n;) {
        unsigned c = p[i], len, cp;
        if (c < 0x80) {
            len = 1;
            cp = c;
        } else if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return -OV_E_MALFORMED;
        }
        if (len > n - i) {
            return -OV_E_MALFORMED;
        }
        for (unsigned k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return -OV_E_MALFORMED;
            }
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
            return -OV_E_MALFORMED;
        }
        i += len;
    }
    return 0;
}

int
ov_label_check(const char *s)
{
    return text_check(s, OV_MAX_LABEL_LEN);
}

int
ov_text_check(const char *s, size_t max)
{
    return text_check(s, max);
}

/* ---- encoding --------------------------------------------------------------------- */

static int
put_header(cbor_item_t *m, enum ov_entry_kind k)
{
    int rc = ov_cbor_put_text(m, "kind", kind_names[k]);
    return rc ? rc : ov_cbor_put_uint(m, "v", OV_ENTRY_VERSION);
}

/* A rating round's kind fixes its scale; only a statement round takes statements. */
static int
rating_kind_check(const struct ov_context *c)
{
    if (c->rating_kind == OV_RATING_SCALE) {
        return c->statements == 0 ? 0 : -OV_E_MALFORMED;
    }
    if (c->rating_kind != OV_RATING_HELPFULNESS && c->rating_kind != OV_RATING_AGREEMENT) {
        return -OV_E_MALFORMED;
    }
    return c->scale_min == rating_kind_scale[c->rating_kind][0] &&
                   c->scale_max == rating_kind_scale[c->rating_kind][1] &&
                   c->statements <= OV_MAX_STATEMENT_QUOTA
               ? 0
               : -OV_E_MALFORMED;
}

static int
encode_context(cbor_item_t *m, const struct ov_context *c)
{
    int rc = ov_context_id_check(c->id);
    rc = rc ? rc : text_check(c->title, OV_MAX_TITLE_LEN);
    rc = rc ? rc : text_check(c->issuer, OV_MAX_ISSUER_NAME);
    if (rc == 0 && (c->opens >= c->closes || c->quota == 0 || c->token_key_len == 0 ||
                    c->token_key_len > sizeof c->token_key)) {
        rc = -OV_E_MALFORMED;
    }
    rc = rc ? rc : ov_cbor_put_text(m, "id", c->id);
    rc = rc ? rc : ov_cbor_put_text(m, "title", c->title);
    rc = rc ? rc : ov_cbor_put_text(m, "issuer", c->issuer);
    rc = rc ? rc : ov_cbor_put_uint(m, "opens", c->opens);
    rc = rc ? rc : ov_cbor_put_uint(m, "closes", c->closes);
    rc = rc ? rc : ov_cbor_put_uint(m, "quota", c->quota);
    rc = rc ? rc : ov_cbor_put_bytes(m, "token_key", c->token_key, c->token_key_len);
    rc = rc ? rc : ov_cbor_put_bytes(m, "token_key_id", c->token_key_id, OV_PP_NID);
    rc = rc ? rc : ov_cbor_put_uint(m, "time", c->time);
    if (rc == 0 && c->type == OV_CONTEXT_ASSEMBLY) {
        cbor_item_t *a = ov_cbor_array_new();
        rc = a ? 0 : -OV_E_NOMEM;
        if (rc == 0 && (c->n_choices < 2 || c->n_choices > OV_MAX_CHOICES)) {
            rc = -OV_E_MALFORMED;
        }
        for (size_t i = 0; i < c->n_choices && rc == 0; i++) {
            rc = ov_label_check(c->choices[i]);
            for (size_t j = 0; j < i && rc == 0; j++) {
                rc = strcmp(c->choices[i], c->choices[j]) == 0 ? -OV_E_MALFORMED : 0;
            }
            rc = rc ? rc : ov_cbor_push(a, ov_cbor_text(c->choices[i], strlen(c->choices[i])));
        }
        rc = rc ? (ov_cbor_free(a), rc) : ov_cbor_put(m, "choices", a);
        rc = rc ? rc : ov_cbor_put_text(m, "type", "assembly");
    } else if (rc == 0 && c->type == OV_CONTEXT_RATING) {
        cbor_item_t *a = ov_cbor_array_new();
        rc = a ? 0 : -OV_E_NOMEM;
        if (rc == 0 && c->scale_min >= c->scale_max) {
            rc = -OV_E_MALFORMED;
        }
        rc = rc ? rc : rating_kind_check(c);
        rc = rc ? rc : ov_cbor_push(a, ov_cbor_int(c->scale_min));
        rc = rc ? rc : ov_cbor_push(a, ov_cbor_int(c->scale_max));
        rc = rc ? (ov_cbor_free(a), rc) : ov_cbor_put(m, "scale", a);
        rc = rc ? rc : ov_cbor_put_text(m, "type", "rating");
        if (rc == 0 && c->rating_kind != OV_RATING_SCALE) {
            rc = ov_cbor_put_text(m, "rating_kind", rating_kind_names[c->rating_kind]);
        }
        if (rc == 0 && c->statements > 0) {
            rc = ov_cbor_put_uint(m, "statements", c->statements);
        }
    } else if (rc == 0) {
        rc = -OV_E_MALFORMED;
    }
    return rc;
}

int
ov_statement_id_check(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return -OV_E_MALFORMED;
        }
    }
    return n == OV_STATEMENT_ID_LEN ? 0 : -OV_E_MALFORMED;
}

/* A list of statement ids: each an id, sorted strictly when `sorted` (a status list), else
 * distinct (the consensus ranking's order is its own). */
/* The i-th of an array of ov_statement_id_str, passed as its first byte (C17 will not
 * convert a pointer to arrays to one to const arrays). */
#define ID_AT(ids, i) ((ids) + (i) * (OV_STATEMENT_ID_LEN + 1))

static int
ids_check(const char *ids, size_t n, bool sorted)
{
    for (size_t i = 0; i < n; i++) {
        if (ov_statement_id_check(ID_AT(ids, i)) != 0 ||
            (sorted && i > 0 && strcmp(ID_AT(ids, i - 1), ID_AT(ids, i)) >= 0)) {
            return -OV_E_MALFORMED;
        }
        for (size_t j = 0; !sorted && j < i; j++) {
            if (strcmp(ID_AT(ids, i), ID_AT(ids, j)) == 0) {
                return -OV_E_MALFORMED;
            }
        }
    }
    return 0;
}

static int
put_ids(cbor_item_t *m, const char *key, const char *ids, size_t n, bool sorted)
{
    cbor_item_t *a = ov_cbor_array_new();
    int rc = a ? ids_check(ids, n, sorted) : -OV_E_NOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = ov_cbor_push(a, ov_cbor_text(ID_AT(ids, i), OV_STATEMENT_ID_LEN));
    }
    return rc ? (ov_cbor_free(a), rc) : ov_cbor_put(m, key, a);
}

/* A statement round's seed, bridging and groups maps (§11.3). */
static int
encode_results(cbor_item_t *m, const struct ov_tally_results *r)
{
    if (r->k > OV_TALLY_MAX_GROUPS || r->n_consensus > OV_TALLY_CONSENSUS_MAX ||
        r->n_helpful + r->n_not_helpful > OV_MAX_ROUND_STATEMENTS) {
        return -OV_E_MALFORMED;
    }
    cbor_item_t *b = ov_cbor_map_new(), *g = ov_cbor_map_new(), *sizes = ov_cbor_array_new();
    int rc = b && g && sizes ? 0 : -OV_E_NOMEM;
    rc = rc ? rc : ov_cbor_put_text(b, "algorithm", OV_BRIDGE_ALGORITHM);
    rc = rc ? rc : ov_cbor_put_uint(b, "min_ratings_per_rater", r->min_ratings_per_rater);
    rc = rc ? rc : ov_cbor_put_uint(b, "min_raters_per_note", r->min_raters_per_note);
    rc = rc ? rc : ov_cbor_put_bytes(b, "result", r->bridging, sizeof r->bridging);
    rc = rc ? rc : put_ids(b, "helpful", (const char *)r->helpful, r->n_helpful, true);
    rc = rc ? rc : put_ids(b, "not_helpful", (const char *)r->not_helpful, r->n_not_helpful, true);
    rc = rc ? rc : ov_cbor_put_text(g, "algorithm", OV_GROUPS_ALGORITHM);
    rc = rc ? rc : ov_cbor_put_bytes(g, "result", r->groups, sizeof r->groups);
    for (size_t i = 0; i < r->k && rc == 0; i++) {
        rc = ov_cbor_push(sizes, ov_cbor_uint(r->sizes[i]));
    }
    if (rc == 0) { /* ov_cbor_put takes the value, also when it fails */
        rc = ov_cbor_put(g, "sizes", sizes);
        sizes = NULL;
    }
    rc = rc ? rc : put_ids(g, "consensus", r->consensus[0], r->n_consensus, false);
    if (rc == 0) {
        rc = ov_cbor_put(m, "bridging", b);
        b = NULL;
    }
    if (rc == 0) {
        rc = ov_cbor_put(m, "groups", g);
        g = NULL;
    }
    rc = rc ? rc : ov_cbor_put_bytes(m, "seed", r->seed, sizeof r->seed);
    ov_cbor_free(sizes);
    ov_cbor_free(b);
    ov_cbor_free(g);
    return rc;
}

static int
encode_tally(cbor_item_t *m, const struct ov_tally *t)
{
    int rc = ov_context_id_check(t->context);
    cbor_item_t *res = ov_cbor_map_new();
    rc = rc ? rc : (res ? 0 : -OV_E_NOMEM);
    if (rc == 0 && t->n > OV_MAX_TALLY_ITEMS) {
        rc = -OV_E_TOO_BIG;
    }
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        const struct ov_tally_item *it = &t->items[i];
        rc = ov_label_check(it->name);
        if (rc == 0 && t->ratings) {
            cbor_item_t *pair = ov_cbor_array_new();
            rc = pair ? 0 : -OV_E_NOMEM;
            rc = rc ? rc : ov_cbor_push(pair, ov_cbor_uint(it->count));
            rc = rc ? rc : ov_cbor_push(pair, ov_cbor_int(it->sum));
            rc = rc ? (ov_cbor_free(pair), rc) : ov_cbor_put(res, it->name, pair);
        } else if (rc == 0) {
            rc = ov_cbor_put_uint(res, it->name, it->count);
        }
    }
    rc = rc ? (ov_cbor_free(res), rc) : ov_cbor_put(m, "result", res);
    rc = rc ? rc : ov_cbor_put_text(m, "context", t->context);
    rc = rc ? rc : ov_cbor_put_uint(m, "size", t->size);
    rc = rc ? rc : ov_cbor_put_text(m, "algorithm", t->ratings ? OV_TALLY_RATINGS : OV_TALLY_PLURALITY);
    rc = rc ? rc : ov_cbor_put_uint(m, "time", t->time);
    if (rc == 0 && t->has_results) {
        rc = t->ratings ? encode_results(m, &t->results) : -OV_E_MALFORMED;
    }
    return rc;
}

/* The fields of an action its signature covers, as the last pairs of a map: in the
 * profile's key order (shorter first, then bytewise), choice or rating and target (or a
 * statement's text, with_text: an entry writes it earlier, after "kind"), then context,
 * platform, pseudonym. */
static int
write_action_core(const struct ov_action *a, bool with_text, struct ov_buf *out)
{
    int rc = ov_context_id_check(a->context);
    rc = rc ? rc : ov_label_check(a->platform);
    if (rc == 0 && a->is_statement) {
        rc = a->is_rating ? -OV_E_MALFORMED : text_check(a->text, OV_MAX_STATEMENT_LEN);
        rc = rc || !with_text ? rc : ov_cbor_write_text(out, "text");
        rc = rc || !with_text ? rc : ov_cbor_write_text(out, a->text);
    } else {
        rc = rc ? rc : ov_label_check(a->is_rating ? a->target : a->choice);
    }
    if (rc == 0 && a->is_statement) {
        /* its text is written */
    } else if (rc == 0 && a->is_rating) {
        rc = ov_cbor_write_text(out, "rating");
        rc = rc ? rc : a->rating >= 0
                           ? ov_cbor_write_head(out, OV_CBOR_UINT, (uint64_t)a->rating)
                           : ov_cbor_write_head(out, OV_CBOR_NEGINT, (uint64_t)(-1 - a->rating));
        rc = rc ? rc : ov_cbor_write_text(out, "target");
        rc = rc ? rc : ov_cbor_write_text(out, a->target);
    } else if (rc == 0) {
        rc = ov_cbor_write_text(out, "choice");
        rc = rc ? rc : ov_cbor_write_text(out, a->choice);
    }
    rc = rc ? rc : ov_cbor_write_text(out, "context");
    rc = rc ? rc : ov_cbor_write_text(out, a->context);
    rc = rc ? rc : ov_cbor_write_text(out, "platform");
    rc = rc ? rc : ov_cbor_write_text(out, a->platform);
    rc = rc ? rc : ov_cbor_write_text(out, "pseudonym");
    return rc ? rc : ov_cbor_write_bytes(out, a->pseudonym, OV_PSEUDONYM_LEN);
}

/* An action (or statement) entry, the verifier's hot path, written without a tree: v, sig,
 * kind, (text,) time, token, then the signed fields (write_action_core), in the profile's
 * key order. */
static int
encode_action(const struct ov_action *a, struct ov_buf *out)
{
    bool rated = a->is_rating && !a->is_statement;
    int rc = ov_cbor_write_head(out, OV_CBOR_MAP, 8u + a->has_token + rated);
    rc = rc ? rc : ov_cbor_write_text(out, "v");
    rc = rc ? rc : ov_cbor_write_head(out, OV_CBOR_UINT, OV_ENTRY_VERSION);
    rc = rc ? rc : ov_cbor_write_text(out, "sig");
    rc = rc ? rc : ov_cbor_write_bytes(out, a->sig, OV_SIGN_SIG_LEN);
    rc = rc ? rc : ov_cbor_write_text(out, "kind");
    rc = rc ? rc : ov_cbor_write_text(out, kind_names[a->is_statement ? OV_ENTRY_STATEMENT
                                                                       : OV_ENTRY_ACTION]);
    if (rc == 0 && a->is_statement) {
        rc = text_check(a->text, OV_MAX_STATEMENT_LEN);
        rc = rc ? rc : ov_cbor_write_text(out, "text");
        rc = rc ? rc : ov_cbor_write_text(out, a->text);
    }
    rc = rc ? rc : ov_cbor_write_text(out, "time");
    rc = rc ? rc : ov_cbor_write_head(out, OV_CBOR_UINT, a->time);
    if (rc == 0 && a->has_token) {
        rc = ov_cbor_write_text(out, "token");
        rc = rc ? rc : ov_cbor_write_bytes(out, a->token, OV_PP_TOKEN_LEN);
    }
    rc = rc ? rc : write_action_core(a, false, out);
    return rc ? rc : ov_cbor_check(ov_buf_view(out)); /* proves the order above */
}

/* The rules of an invitations entry, for both directions. */
static int
invitations_check(const struct ov_invitations *iv)
{
    if (iv->draw[0] != '\0' && ov_context_id_check(iv->draw) != 0) {
        return -OV_E_MALFORMED;
    }
    return iv->count >= 1 && iv->count <= OV_MAX_INVITES_BATCH && iv->total >= iv->count
               ? 0
               : -OV_E_MALFORMED;
}

int
ov_entry_encode(const struct ov_entry *e, struct ov_buf *out)
{
    if (e->kind == OV_ENTRY_ACTION || e->kind == OV_ENTRY_STATEMENT) {
        ov_buf_init(out, OV_MAX_ENTRY_LEN);
        int rc = e->u.action.is_statement == (e->kind == OV_ENTRY_STATEMENT) ? 0 : -OV_E_MALFORMED;
        rc = rc ? rc : ov_buf_reserve(out, OV_ACTION_BUF_HINT);
        rc = rc ? rc : encode_action(&e->u.action, out);
        if (rc != 0) {
            ov_buf_clear(out);
        }
        return rc;
    }
    ov_buf_init(out, OV_MAX_ENTRY_LEN);
    cbor_item_t *m = ov_cbor_map_new();
    if (m == NULL) {
        return -OV_E_NOMEM;
    }
    if (e->kind < OV_ENTRY_CONTEXT || e->kind > OV_ENTRY_INVITATIONS) {
        ov_cbor_free(m);
        return -OV_E_MALFORMED;
    }
    int rc = put_header(m, e->kind);
    switch (e->kind) {
    case OV_ENTRY_CONTEXT:
        rc = rc ? rc : encode_context(m, &e->u.context);
        break;
    case OV_ENTRY_ENROLLMENT:
        if (e->u.enrollment.route < OV_ROUTE_INVITE || e->u.enrollment.route > OV_ROUTE_RECOVERY) {
            rc = -OV_E_MALFORMED;
        }
        if (e->u.enrollment.n == 0) {
            rc = -OV_E_MALFORMED;
        }
        rc = rc ? rc : ov_cbor_put_text(m, "route", route_names[e->u.enrollment.route]);
        rc = rc ? rc : ov_cbor_put_uint(m, "n", e->u.enrollment.n);
        rc = rc ? rc : ov_cbor_put_uint(m, "time", e->u.enrollment.time);
        break;
    case OV_ENTRY_ISSUANCE:
        rc = rc ? rc : ov_context_id_check(e->u.issuance.context);
        rc = rc ? rc : ov_cbor_put_text(m, "context", e->u.issuance.context);
        rc = rc ? rc : (e->u.issuance.n == 0 ? -OV_E_MALFORMED : 0);
        rc = rc ? rc : ov_cbor_put_bytes(m, "tag", e->u.issuance.tag, OV_TAG_LEN);
        rc = rc ? rc : ov_cbor_put_uint(m, "n", e->u.issuance.n);
        rc = rc ? rc : ov_cbor_put_uint(m, "time", e->u.issuance.time);
        break;
    case OV_ENTRY_TALLY:
        rc = rc ? rc : encode_tally(m, &e->u.tally);
        break;
    case OV_ENTRY_INVITATIONS:
        rc = rc ? rc : invitations_check(&e->u.invitations);
        if (rc == 0 && e->u.invitations.draw[0] != '\0') {
            rc = ov_cbor_put_text(m, "draw", e->u.invitations.draw);
        }
        rc = rc ? rc : ov_cbor_put_uint(m, "count", e->u.invitations.count);
        rc = rc ? rc : ov_cbor_put_uint(m, "total", e->u.invitations.total);
        rc = rc ? rc : ov_cbor_put_uint(m, "time", e->u.invitations.time);
        break;
    case OV_ENTRY_ACTION: /* written by hand above */
    case OV_ENTRY_STATEMENT:
    default:
        rc = -OV_E_MALFORMED;
        break;
    }
    rc = rc ? rc : ov_cbor_encode(m, out);
    ov_cbor_free(m);
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

/* ---- decoding --------------------------------------------------------------------- */

/* Copies a text field into a fixed array, NUL-terminated, checking it as text. */
/* A text field read (rc) as v, copied NUL-terminated into dst and checked. */
static int
copy_text(int rc, struct ov_bytes v, char *dst, size_t max)
{
    if (rc != 0) {
        return rc == -OV_E_TOO_BIG ? -OV_E_MALFORMED : rc;
    }
    memcpy(dst, v.ptr, v.len);
    dst[v.len] = 0;
    if (memchr(v.ptr, 0, v.len) != NULL) {
        return -OV_E_MALFORMED;
    }
    return text_check(dst, max);
}

static int
get_text(const cbor_item_t *m, const char *key, char *dst, size_t max)
{
    struct ov_bytes v;
    return copy_text(ov_cbor_get_text(m, key, max, &v), v, dst, max);
}

static int
decode_context(const cbor_item_t *m, struct ov_context *c)
{
    static const char *const k_asm[] = { "choices", "closes", "id",    "issuer", "kind", "opens",
                                         "quota",   "time",   "title", "token_key",
                                         "token_key_id", "type", "v" };
    static const char *const k_rat[] = { "closes", "id", "issuer", "kind", "opens", "quota",
                                         "rating_kind", "scale", "statements", "time", "title",
                                         "token_key", "token_key_id", "type", "v" };
    struct ov_bytes type, key;
    const cbor_item_t *arr;
    size_t n;
    int rc = ov_cbor_get_text(m, "type", 16, &type);
    if (rc == 0) {
        if (ov_cbor_text_eq(type, "assembly")) {
            c->type = OV_CONTEXT_ASSEMBLY;
            rc = ov_cbor_only_keys(m, k_asm, sizeof k_asm / sizeof k_asm[0]);
        } else if (ov_cbor_text_eq(type, "rating")) {
            c->type = OV_CONTEXT_RATING;
            rc = ov_cbor_only_keys(m, k_rat, sizeof k_rat / sizeof k_rat[0]);
        } else {
            rc = -OV_E_MALFORMED;
        }
    }
    rc = rc ? rc : get_text(m, "id", c->id, OV_MAX_CONTEXT_ID_LEN);
    rc = rc ? rc : ov_context_id_check(c->id);
    rc = rc ? rc : get_text(m, "title", c->title, OV_MAX_TITLE_LEN);
    rc = rc ? rc : get_text(m, "issuer", c->issuer, OV_MAX_ISSUER_NAME);
    rc = rc ? rc : ov_cbor_get_uint(m, "opens", UINT64_MAX, &c->opens);
    rc = rc ? rc : ov_cbor_get_uint(m, "closes", UINT64_MAX, &c->closes);
    rc = rc ? rc : ov_cbor_get_uint(m, "quota", UINT64_MAX, &c->quota);
    rc = rc ? rc : ov_cbor_get_uint(m, "time", UINT64_MAX, &c->time);
    rc = rc ? rc : ov_cbor_get_bytes(m, "token_key", 1, sizeof c->token_key, &key);
    if (rc == 0) {
        memcpy(c->token_key, key.ptr, key.len);
        c->token_key_len = key.len;
        rc = ov_cbor_get_fixed(m, "token_key_id", c->token_key_id, OV_PP_NID);
    }
    if (rc == 0 && (c->opens >= c->closes || c->quota == 0)) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0 && c->type == OV_CONTEXT_ASSEMBLY) {
        rc = ov_cbor_get_array(m, "choices", OV_MAX_CHOICES, &arr, &n);
        rc = rc ? rc : (n < 2 ? -OV_E_MALFORMED : 0);
        for (size_t i = 0; i < n && rc == 0; i++) {
            struct ov_bytes v;
            rc = ov_cbor_as_text(ov_cbor_at(arr, i), OV_MAX_LABEL_LEN, &v);
            if (rc == 0) {
                memcpy(c->choices[i], v.ptr, v.len);
                c->choices[i][v.len] = 0;
                rc = memchr(v.ptr, 0, v.len) ? -OV_E_MALFORMED : ov_label_check(c->choices[i]);
            }
            for (size_t j = 0; j < i && rc == 0; j++) {
                rc = strcmp(c->choices[i], c->choices[j]) == 0 ? -OV_E_MALFORMED : 0;
            }
        }
        c->n_choices = rc == 0 ? n : 0;
    } else if (rc == 0) {
        rc = ov_cbor_get_array(m, "scale", 2, &arr, &n);
        rc = rc ? rc : (n != 2 ? -OV_E_MALFORMED : 0);
        rc = rc ? rc : ov_cbor_as_int(ov_cbor_at(arr, 0), &c->scale_min);
        rc = rc ? rc : ov_cbor_as_int(ov_cbor_at(arr, 1), &c->scale_max);
        rc = rc ? rc : (c->scale_min >= c->scale_max ? -OV_E_MALFORMED : 0);
        const cbor_item_t *opt;
        if (rc == 0 && ov_cbor_get(m, "rating_kind", &opt) == 0) {
            struct ov_bytes kind;
            rc = ov_cbor_get_text(m, "rating_kind", 16, &kind);
            c->rating_kind = rc == 0 && ov_cbor_text_eq(kind, "helpfulness") ? OV_RATING_HELPFULNESS
                             : rc == 0 && ov_cbor_text_eq(kind, "agreement") ? OV_RATING_AGREEMENT
                                                                             : OV_RATING_SCALE;
            rc = rc ? rc : (c->rating_kind == OV_RATING_SCALE ? -OV_E_MALFORMED : 0);
        }
        if (rc == 0 && ov_cbor_get(m, "statements", &opt) == 0) {
            rc = ov_cbor_get_uint(m, "statements", OV_MAX_STATEMENT_QUOTA, &c->statements);
            rc = rc ? rc : (c->statements == 0 ? -OV_E_MALFORMED : 0);
        }
        rc = rc ? rc : rating_kind_check(c);
    }
    return rc;
}

static int
decode_action(const cbor_item_t *m, struct ov_action *a)
{
    static const char *const k_vote[] = { "choice", "context", "kind", "platform", "pseudonym",
                                          "sig",    "time",    "token", "v" };
    static const char *const k_rate[] = { "context", "kind",   "platform", "pseudonym", "rating",
                                          "sig",     "target", "time",     "token",     "v" };
    const cbor_item_t *tok = NULL;
    a->is_rating = ov_cbor_get(m, "target", &tok) == 0;
    int rc = a->is_rating ? ov_cbor_only_keys(m, k_rate, sizeof k_rate / sizeof k_rate[0])
                          : ov_cbor_only_keys(m, k_vote, sizeof k_vote / sizeof k_vote[0]);
    rc = rc ? rc : get_text(m, "context", a->context, OV_MAX_CONTEXT_ID_LEN);
    rc = rc ? rc : ov_context_id_check(a->context);
    rc = rc ? rc : ov_cbor_get_fixed(m, "pseudonym", a->pseudonym, OV_PSEUDONYM_LEN);
    rc = rc ? rc : get_text(m, "platform", a->platform, OV_MAX_LABEL_LEN);
    rc = rc ? rc : ov_cbor_get_fixed(m, "sig", a->sig, OV_SIGN_SIG_LEN);
    rc = rc ? rc : ov_cbor_get_uint(m, "time", UINT64_MAX, &a->time);
    if (rc == 0 && a->is_rating) {
        rc = get_text(m, "target", a->target, OV_MAX_LABEL_LEN);
        rc = rc ? rc : ov_cbor_get_int(m, "rating", &a->rating);
    } else if (rc == 0) {
        rc = get_text(m, "choice", a->choice, OV_MAX_LABEL_LEN);
    }
    if (rc == 0 && ov_cbor_get(m, "token", &tok) == 0) {
        a->has_token = true;
        rc = ov_cbor_as_fixed(tok, a->token, OV_PP_TOKEN_LEN);
    }
    return rc;
}

static int
cmp_item(const void *x, const void *y)
{
    return strcmp(((const struct ov_tally_item *)x)->name, ((const struct ov_tally_item *)y)->name);
}

/* An array of at most max statement ids under key: into fixed, or into *owned (malloc'd). */
static int
get_ids(const cbor_item_t *m, const char *key, size_t max, ov_statement_id_str *fixed,
        ov_statement_id_str **owned, size_t *n, bool sorted)
{
    const cbor_item_t *arr;
    int rc = ov_cbor_get_array(m, key, max, &arr, n);
    ov_statement_id_str *ids = fixed;
    if (rc == 0 && owned != NULL && *n > 0) {
        *owned = ids = calloc(*n, sizeof *ids);
        rc = ids ? 0 : -OV_E_NOMEM;
    }
    for (size_t i = 0; i < *n && rc == 0; i++) {
        struct ov_bytes v;
        rc = ov_cbor_as_text(ov_cbor_at(arr, i), OV_STATEMENT_ID_LEN, &v);
        if (rc == 0) {
            memcpy(ids[i], v.ptr, v.len);
            ids[i][v.len] = 0;
        }
    }
    return rc ? rc : ids_check((const char *)ids, *n, sorted);
}

static int
decode_results(const cbor_item_t *m, struct ov_tally_results *r)
{
    static const char *const kb[] = { "algorithm", "helpful", "min_raters_per_note",
                                      "min_ratings_per_rater", "not_helpful", "result" };
    static const char *const kg[] = { "algorithm", "consensus", "result", "sizes" };
    const cbor_item_t *b, *g, *sizes;
    char alg[32];
    uint64_t v = 0;
    int rc = ov_cbor_get_fixed(m, "seed", r->seed, sizeof r->seed);
    rc = rc ? rc : ov_cbor_get_map(m, "bridging", &b);
    rc = rc ? rc : ov_cbor_get_map(m, "groups", &g);
    rc = rc ? rc : ov_cbor_only_keys(b, kb, sizeof kb / sizeof kb[0]);
    rc = rc ? rc : ov_cbor_only_keys(g, kg, sizeof kg / sizeof kg[0]);
    rc = rc ? rc : get_text(b, "algorithm", alg, sizeof alg - 1);
    rc = rc ? rc : (strcmp(alg, OV_BRIDGE_ALGORITHM) == 0 ? 0 : -OV_E_MALFORMED);
    rc = rc ? rc : ov_cbor_get_uint(b, "min_ratings_per_rater", UINT32_MAX, &v);
    r->min_ratings_per_rater = (uint32_t)v;
    rc = rc ? rc : ov_cbor_get_uint(b, "min_raters_per_note", UINT32_MAX, &v);
    r->min_raters_per_note = (uint32_t)v;
    rc = rc ? rc : ov_cbor_get_fixed(b, "result", r->bridging, sizeof r->bridging);
    rc = rc ? rc : get_ids(b, "helpful", OV_MAX_ROUND_STATEMENTS, NULL, &r->helpful, &r->n_helpful, true);
    rc = rc ? rc : get_ids(b, "not_helpful", OV_MAX_ROUND_STATEMENTS, NULL, &r->not_helpful,
                           &r->n_not_helpful, true);
    rc = rc ? rc : (r->n_helpful + r->n_not_helpful > OV_MAX_ROUND_STATEMENTS ? -OV_E_MALFORMED : 0);
    rc = rc ? rc : get_text(g, "algorithm", alg, sizeof alg - 1);
    rc = rc ? rc : (strcmp(alg, OV_GROUPS_ALGORITHM) == 0 ? 0 : -OV_E_MALFORMED);
    rc = rc ? rc : ov_cbor_get_fixed(g, "result", r->groups, sizeof r->groups);
    rc = rc ? rc : ov_cbor_get_array(g, "sizes", OV_TALLY_MAX_GROUPS, &sizes, &r->k);
    for (size_t i = 0; i < r->k && rc == 0; i++) {
        rc = ov_cbor_as_uint(ov_cbor_at(sizes, i), UINT64_MAX, &r->sizes[i]);
    }
    return rc ? rc : get_ids(g, "consensus", OV_TALLY_CONSENSUS_MAX, r->consensus, NULL,
                             &r->n_consensus, false);
}

static int
decode_tally(const cbor_item_t *m, struct ov_tally *t)
{
    static const char *const keys[] = { "algorithm", "bridging", "context", "groups", "kind",
                                        "result",    "seed",     "size",    "time",   "v" };
    char alg[32];
    const cbor_item_t *res;
    int rc = ov_cbor_only_keys(m, keys, sizeof keys / sizeof keys[0]);
    rc = rc ? rc : get_text(m, "context", t->context, OV_MAX_CONTEXT_ID_LEN);
    rc = rc ? rc : ov_context_id_check(t->context);
    rc = rc ? rc : ov_cbor_get_uint(m, "size", UINT64_MAX, &t->size);
    rc = rc ? rc : ov_cbor_get_uint(m, "time", UINT64_MAX, &t->time);
    rc = rc ? rc : get_text(m, "algorithm", alg, sizeof alg - 1);
    if (rc == 0) {
        t->ratings = strcmp(alg, OV_TALLY_RATINGS) == 0;
        rc = t->ratings || strcmp(alg, OV_TALLY_PLURALITY) == 0 ? 0 : -OV_E_MALFORMED;
    }
    rc = rc ? rc : ov_cbor_get_map(m, "result", &res);
    size_t n = rc == 0 ? cbor_map_size(res) : 0;
    if (rc == 0 && n > OV_MAX_TALLY_ITEMS) {
        rc = -OV_E_TOO_BIG;
    }
    if (rc == 0 && n > 0) {
        t->items = calloc(n, sizeof *t->items);
        rc = t->items ? 0 : -OV_E_NOMEM;
    }
    struct cbor_pair *pairs = rc == 0 && n > 0 ? cbor_map_handle(res) : NULL;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct ov_bytes name;
        struct ov_tally_item *it = &t->items[i];
        rc = ov_cbor_as_text(pairs[i].key, OV_MAX_LABEL_LEN, &name);
        if (rc == 0) {
            memcpy(it->name, name.ptr, name.len);
            it->name[name.len] = 0;
            rc = memchr(name.ptr, 0, name.len) ? -OV_E_MALFORMED : ov_label_check(it->name);
        }
        if (rc == 0 && t->ratings) {
            size_t k;
            rc = ov_cbor_as_array(pairs[i].value, 2, &k);
            rc = rc ? rc : (k != 2 ? -OV_E_MALFORMED : 0);
            rc = rc ? rc : ov_cbor_as_uint(ov_cbor_at(pairs[i].value, 0), UINT64_MAX, &it->count);
            rc = rc ? rc : ov_cbor_as_int(ov_cbor_at(pairs[i].value, 1), &it->sum);
        } else if (rc == 0) {
            rc = ov_cbor_as_uint(pairs[i].value, UINT64_MAX, &it->count);
        }
    }
    if (rc == 0) {
        t->n = n;
        if (n > 1) { /* items is NULL for an empty result: qsort must not see it */
            qsort(t->items, n, sizeof *t->items, cmp_item);
        }
    }
    /* a statement round's results: all three keys or none, in a ratings tally */
    const cbor_item_t *opt;
    int present = (ov_cbor_get(m, "seed", &opt) == 0) + (ov_cbor_get(m, "bridging", &opt) == 0) +
                  (ov_cbor_get(m, "groups", &opt) == 0);
    if (rc == 0 && present > 0) {
        t->has_results = true;
        rc = present == 3 && t->ratings ? decode_results(m, &t->results) : -OV_E_MALFORMED;
    }
    return rc;
}

/* ---- the frequent kinds, read from the checked bytes in one pass (no tree: an auditor
 * decodes millions of them). The same rules as the tree readers above. */

static int
view_text(struct ov_bytes item, char *dst, size_t max)
{
    struct ov_bytes v = { NULL, 0 };
    return copy_text(item.ptr == NULL ? -OV_E_MALFORMED : ov_cbor_view_text(item, max, &v), v,
                     dst, max);
}

static int
view_uint(struct ov_bytes item, uint64_t *v)
{
    return item.ptr == NULL ? -OV_E_MALFORMED : ov_cbor_view_uint(item, UINT64_MAX, v);
}

static int
view_fixed(struct ov_bytes item, void *dst, size_t n)
{
    return item.ptr == NULL ? -OV_E_MALFORMED : ov_cbor_view_fixed(item, dst, n);
}

/* Every key of the three kinds, in the order deterministic CBOR puts them (shorter first),
 * read in one pass; each kind then refuses the keys that are not its own. */
enum { F_N, F_V, F_SIG, F_TAG, F_KIND, F_TEXT, F_TIME, F_ROUTE, F_TOKEN, F_CHOICE, F_RATING,
       F_TARGET, F_CONTEXT, F_PLATFORM, F_PSEUDONYM, F_COUNT };
static const char *const view_keys[F_COUNT] = {
    "n", "v", "sig", "tag", "kind", "text", "time", "route", "token", "choice", "rating",
    "target", "context", "platform", "pseudonym",
};
#define F_BIT(f) (1u << (f))
#define F_COMMON (F_BIT(F_V) | F_BIT(F_KIND) | F_BIT(F_TIME))
static const unsigned enrollment_fields = F_COMMON | F_BIT(F_N) | F_BIT(F_ROUTE);
static const unsigned issuance_fields = F_COMMON | F_BIT(F_N) | F_BIT(F_TAG) | F_BIT(F_CONTEXT);
static const unsigned action_fields = F_COMMON | F_BIT(F_SIG) | F_BIT(F_TOKEN) |
                                      F_BIT(F_CHOICE) | F_BIT(F_RATING) | F_BIT(F_TARGET) |
                                      F_BIT(F_CONTEXT) | F_BIT(F_PLATFORM) | F_BIT(F_PSEUDONYM);
static const unsigned statement_fields = F_COMMON | F_BIT(F_SIG) | F_BIT(F_TOKEN) |
                                         F_BIT(F_TEXT) | F_BIT(F_CONTEXT) | F_BIT(F_PLATFORM) |
                                         F_BIT(F_PSEUDONYM);

static int
view_enrollment(const struct ov_bytes *f, struct ov_enrollment *en)
{
    struct ov_bytes route;
    int rc = f[F_ROUTE].ptr ? ov_cbor_view_text(f[F_ROUTE], 16, &route) : -OV_E_MALFORMED;
    rc = rc ? rc : view_uint(f[F_N], &en->n);
    rc = rc ? rc : (en->n == 0 ? -OV_E_MALFORMED : 0);
    rc = rc ? rc : view_uint(f[F_TIME], &en->time);
    for (int r = OV_ROUTE_INVITE; rc == 0 && r <= OV_ROUTE_RECOVERY; r++) {
        if (ov_cbor_text_eq(route, route_names[r])) {
            en->route = (enum ov_enroll_route)r;
        }
    }
    return rc ? rc : (en->route == 0 ? -OV_E_MALFORMED : 0);
}

static int
view_issuance(const struct ov_bytes *f, struct ov_issuance *is)
{
    int rc = view_uint(f[F_N], &is->n);
    rc = rc ? rc : (is->n == 0 ? -OV_E_MALFORMED : 0);
    rc = rc ? rc : view_text(f[F_CONTEXT], is->context, OV_MAX_CONTEXT_ID_LEN);
    rc = rc ? rc : ov_context_id_check(is->context);
    rc = rc ? rc : view_fixed(f[F_TAG], is->tag, OV_TAG_LEN);
    return rc ? rc : view_uint(f[F_TIME], &is->time);
}

static int
view_action(const struct ov_bytes *f, struct ov_action *a)
{
    a->is_rating = f[F_TARGET].ptr != NULL;
    /* a vote has a choice and no rating; a rating has both target and rating, no choice; a
     * statement (its kind's fields allow neither) has its text */
    int rc = a->is_rating ? (f[F_CHOICE].ptr != NULL ? -OV_E_MALFORMED : 0)
                          : (f[F_RATING].ptr != NULL ? -OV_E_MALFORMED : 0);
    if (rc == 0 && a->is_statement) {
        rc = view_text(f[F_TEXT], a->text, OV_MAX_STATEMENT_LEN);
    }
    rc = rc ? rc : view_text(f[F_CONTEXT], a->context, OV_MAX_CONTEXT_ID_LEN);
    rc = rc ? rc : ov_context_id_check(a->context);
    rc = rc ? rc : view_fixed(f[F_PSEUDONYM], a->pseudonym, OV_PSEUDONYM_LEN);
    rc = rc ? rc : view_text(f[F_PLATFORM], a->platform, OV_MAX_LABEL_LEN);
    rc = rc ? rc : view_fixed(f[F_SIG], a->sig, OV_SIGN_SIG_LEN);
    rc = rc ? rc : view_uint(f[F_TIME], &a->time);
    if (rc == 0 && a->is_statement) {
        /* read above */
    } else if (rc == 0 && a->is_rating) {
        rc = view_text(f[F_TARGET], a->target, OV_MAX_LABEL_LEN);
        rc = rc ? rc : (f[F_RATING].ptr ? ov_cbor_view_int(f[F_RATING], &a->rating)
                                        : -OV_E_MALFORMED);
    } else if (rc == 0) {
        rc = view_text(f[F_CHOICE], a->choice, OV_MAX_LABEL_LEN);
    }
    if (rc == 0 && f[F_TOKEN].ptr != NULL) {
        a->has_token = true;
        rc = ov_cbor_view_fixed(f[F_TOKEN], a->token, OV_PP_TOKEN_LEN);
    }
    return rc;
}

/* True when kind names a kind the tree decoder reads (context, tally). */
static bool
tree_kind(struct ov_bytes kind)
{
    return ov_cbor_text_eq(kind, kind_names[OV_ENTRY_CONTEXT]) ||
           ov_cbor_text_eq(kind, kind_names[OV_ENTRY_TALLY]) ||
           ov_cbor_text_eq(kind, kind_names[OV_ENTRY_INVITATIONS]);
}

/* 1 when in is one of the kinds above (then decoded into e, or an error), 0 when it is
 * another kind (for the tree decoder). in has passed ov_cbor_check. */
static int
decode_view(struct ov_bytes in, struct ov_entry *e)
{
    struct ov_bytes f[F_COUNT], kind = { NULL, 0 };
    uint64_t v = 0;
    int rc = ov_cbor_view_fields(in, view_keys, F_COUNT, f);
    if (rc != 0) { /* a key none of these kinds has: a context, a tally, or refused */
        struct ov_bytes k;
        int kr = ov_cbor_view_get(in, "kind", &k);
        kr = kr ? kr : ov_cbor_view_text(k, 16, &kind);
        return kr == 0 && tree_kind(kind) ? 0 : rc;
    }
    rc = f[F_KIND].ptr ? ov_cbor_view_text(f[F_KIND], 16, &kind) : -OV_E_MALFORMED;
    if (rc != 0 || tree_kind(kind)) {
        return rc;
    }
    unsigned present = 0, allowed = 0;
    for (int i = 0; i < F_COUNT; i++) {
        present |= f[i].ptr != NULL ? F_BIT(i) : 0;
    }
    if (ov_cbor_text_eq(kind, kind_names[OV_ENTRY_ACTION])) {
        e->kind = OV_ENTRY_ACTION;
        allowed = action_fields;
    } else if (ov_cbor_text_eq(kind, kind_names[OV_ENTRY_STATEMENT])) {
        e->kind = OV_ENTRY_STATEMENT;
        e->u.action.is_statement = true;
        allowed = statement_fields;
    } else if (ov_cbor_text_eq(kind, kind_names[OV_ENTRY_ISSUANCE])) {
        e->kind = OV_ENTRY_ISSUANCE;
        allowed = issuance_fields;
    } else if (ov_cbor_text_eq(kind, kind_names[OV_ENTRY_ENROLLMENT])) {
        e->kind = OV_ENTRY_ENROLLMENT;
        allowed = enrollment_fields;
    } else {
        return -OV_E_MALFORMED; /* no such kind */
    }
    rc = (present & ~allowed) != 0 ? -OV_E_MALFORMED : view_uint(f[F_V], &v);
    if (rc == 0 && (e->kind == OV_ENTRY_ACTION || e->kind == OV_ENTRY_STATEMENT)) {
        rc = view_action(f, &e->u.action);
    } else if (rc == 0 && e->kind == OV_ENTRY_ISSUANCE) {
        rc = view_issuance(f, &e->u.issuance);
    } else if (rc == 0) {
        rc = view_enrollment(f, &e->u.enrollment);
    }
    if (rc == 0 && v != OV_ENTRY_VERSION) {
        rc = -OV_E_MALFORMED;
    }
    return rc ? rc : 1;
}

static int
decode_invitations(cbor_item_t *m, struct ov_invitations *iv)
{
    static const char *const keys[] = { "count", "draw", "kind", "time", "total", "v" };
    int rc = ov_cbor_only_keys(m, keys, 6);
    rc = rc ? rc : ov_cbor_get_uint(m, "count", UINT64_MAX, &iv->count);
    rc = rc ? rc : ov_cbor_get_uint(m, "total", UINT64_MAX, &iv->total);
    rc = rc ? rc : ov_cbor_get_uint(m, "time", UINT64_MAX, &iv->time);
    const cbor_item_t *draw;
    if (rc == 0 && ov_cbor_get(m, "draw", &draw) == 0) {
        rc = get_text(m, "draw", iv->draw, OV_MAX_CONTEXT_ID_LEN);
        rc = rc ? rc : (iv->draw[0] == '\0' ? -OV_E_MALFORMED : 0);
    }
    return rc ? rc : invitations_check(iv);
}

int
ov_entry_decode(struct ov_bytes in, struct ov_entry *e)
{
    /* a context fills 9 KiB, an action 1 KiB: zero what the kind needs, not always all */
    e->kind = 0;
    memset(&e->u.action, 0, sizeof e->u.action);
    cbor_item_t *m = NULL;
    struct ov_bytes kind;
    uint64_t v = 0;
    if (in.len > OV_MAX_ENTRY_LEN) {
        memset(e, 0, sizeof *e);
        return -OV_E_TOO_BIG; /* no bundle could carry it (docs/PROTOCOL.md §3) */
    }
    int rc = ov_cbor_check(in);
    rc = rc ? rc : decode_view(in, e);
    if (rc != 0) { /* 1: decoded; < 0: refused */
        if (rc < 0) {
            memset(e, 0, sizeof *e);
        }
        return rc < 0 ? (rc == -OV_E_NOT_FOUND || rc == -OV_E_RANGE ? -OV_E_MALFORMED : rc) : 0;
    }
    memset(e, 0, sizeof *e);
    rc = ov_cbor_decode_map(in, &m);
    rc = rc ? rc : ov_cbor_get_text(m, "kind", 16, &kind);
    rc = rc ? rc : ov_cbor_get_uint(m, "v", UINT64_MAX, &v);
    if (rc == 0 && v != OV_ENTRY_VERSION) {
        rc = -OV_E_MALFORMED;
    }
    for (int k = OV_ENTRY_CONTEXT; rc == 0 && e->kind == 0 && k <= OV_ENTRY_INVITATIONS; k++) {
        if (ov_cbor_text_eq(kind, kind_names[k])) {
            e->kind = (enum ov_entry_kind)k;
        }
    }
    if (rc == 0 && e->kind == 0) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0) {
        switch (e->kind) {
        case OV_ENTRY_CONTEXT:
            rc = decode_context(m, &e->u.context);
            break;
        case OV_ENTRY_ENROLLMENT: {
            static const char *const keys[] = { "kind", "n", "route", "time", "v" };
            struct ov_bytes route;
            rc = ov_cbor_only_keys(m, keys, 5);
            rc = rc ? rc : ov_cbor_get_text(m, "route", 16, &route);
            rc = rc ? rc : ov_cbor_get_uint(m, "n", UINT64_MAX, &e->u.enrollment.n);
            rc = rc ? rc : (e->u.enrollment.n == 0 ? -OV_E_MALFORMED : 0);
            rc = rc ? rc : ov_cbor_get_uint(m, "time", UINT64_MAX, &e->u.enrollment.time);
            for (int r = OV_ROUTE_INVITE; rc == 0 && r <= OV_ROUTE_RECOVERY; r++) {
                if (ov_cbor_text_eq(route, route_names[r])) {
                    e->u.enrollment.route = (enum ov_enroll_route)r;
                }
            }
            rc = rc ? rc : (e->u.enrollment.route == 0 ? -OV_E_MALFORMED : 0);
            break;
        }
        case OV_ENTRY_ISSUANCE: {
            static const char *const keys[] = { "context", "kind", "n", "tag", "time", "v" };
            rc = ov_cbor_only_keys(m, keys, 6);
            rc = rc ? rc : ov_cbor_get_uint(m, "n", UINT64_MAX, &e->u.issuance.n);
            rc = rc ? rc : (e->u.issuance.n == 0 ? -OV_E_MALFORMED : 0);
            rc = rc ? rc : get_text(m, "context", e->u.issuance.context, OV_MAX_CONTEXT_ID_LEN);
            rc = rc ? rc : ov_context_id_check(e->u.issuance.context);
            rc = rc ? rc : ov_cbor_get_fixed(m, "tag", e->u.issuance.tag, OV_TAG_LEN);
            rc = rc ? rc : ov_cbor_get_uint(m, "time", UINT64_MAX, &e->u.issuance.time);
            break;
        }
        case OV_ENTRY_ACTION:
            rc = decode_action(m, &e->u.action);
            break;
        case OV_ENTRY_STATEMENT: /* read by decode_view */
        case OV_ENTRY_TALLY:
            rc = decode_tally(m, &e->u.tally);
            break;
        case OV_ENTRY_INVITATIONS:
            rc = decode_invitations(m, &e->u.invitations);
            break;
        default:
            rc = -OV_E_MALFORMED;
            break;
        }
    }
    ov_cbor_free(m);
    if (rc != 0) {
        ov_entry_clear(e);
        memset(e, 0, sizeof *e);
        return rc == -OV_E_NOT_FOUND || rc == -OV_E_RANGE ? -OV_E_MALFORMED : rc;
    }
    return 0;
}

void
ov_entry_clear(struct ov_entry *e)
{
    size_t n = sizeof e->u; /* a context, or an entry whose kind is unknown */
    switch (e->kind) {
    case OV_ENTRY_TALLY:
        free(e->u.tally.items);
        free(e->u.tally.results.helpful);
        free(e->u.tally.results.not_helpful);
        n = sizeof e->u.tally;
        break;
    case OV_ENTRY_ACTION:
    case OV_ENTRY_STATEMENT: n = sizeof e->u.action; break;
    case OV_ENTRY_ISSUANCE: n = sizeof e->u.issuance; break;
    case OV_ENTRY_ENROLLMENT: n = sizeof e->u.enrollment; break;
    case OV_ENTRY_INVITATIONS: n = sizeof e->u.invitations; break;
    case OV_ENTRY_CONTEXT:
    default: break;
    }
    memset(&e->u, 0, n);
    e->kind = 0;
}

/* ---- challenge and action signature ------------------------------------------------ */

static const char statement_tag[] = "onevoice/v1/statement";

int
ov_statement_id(const char *context, const char *text, char out[OV_STATEMENT_ID_LEN + 1])
{
    uint8_t h[32];
    unsigned int hl = 0;
    out[0] = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, statement_tag, sizeof statement_tag) != 1 || /* with its NUL */
        EVP_DigestUpdate(ctx, context, strlen(context) + 1) != 1 ||       /* with its NUL */
        EVP_DigestUpdate(ctx, text, strlen(text)) != 1 || EVP_DigestFinal_ex(ctx, h, &hl) != 1) {
        EVP_MD_CTX_free(ctx);
        return -OV_E_CRYPTO;
    }
    EVP_MD_CTX_free(ctx);
    return ov_hex_encode(out, OV_STATEMENT_ID_LEN + 1, h, OV_STATEMENT_ID_LEN / 2);
}

static const char redemption_tag[] = "onevoice/v1/redemption-context";

int
ov_entry_challenge(const char *issuer, const char *context_id, uint8_t *out, size_t out_max,
                   size_t *out_len)
{
    uint8_t rctx[OV_PP_REDEMPTION_CONTEXT_LEN];
    unsigned int md_len = 0;
    *out_len = 0;
    int rc = ov_context_id_check(context_id);
    rc = rc ? rc : text_check(issuer, OV_MAX_ISSUER_NAME);
    if (rc != 0) {
        return rc;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, redemption_tag, sizeof redemption_tag) != 1 || /* with its NUL */
        EVP_DigestUpdate(ctx, context_id, strlen(context_id)) != 1 ||
        EVP_DigestFinal_ex(ctx, rctx, &md_len) != 1) {
        EVP_MD_CTX_free(ctx);
        return -OV_E_CRYPTO;
    }
    EVP_MD_CTX_free(ctx);
    struct ov_pp_challenge c = {
        .token_type = OV_PP_TOKEN_TYPE,
        .issuer_name = OV_BYTES(issuer, strlen(issuer)),
        .redemption_context = OV_BYTES(rctx, sizeof rctx),
        .origin_info = OV_BYTES("", 0),
    };
    return ov_pp_challenge_encode(&c, out, out_max, out_len);
}

int
ov_action_signed_bytes(const struct ov_action *a, struct ov_buf *out)
{
    ov_buf_init(out, OV_MAX_ENTRY_LEN);
    int rc = ov_buf_reserve(out, OV_ACTION_BUF_HINT); /* one allocation, not a doubling chain */
    rc = rc ? rc : ov_cbor_write_head(out, OV_CBOR_MAP, 4u + (a->is_rating && !a->is_statement));
    rc = rc ? rc : write_action_core(a, true, out);
    rc = rc ? rc : ov_cbor_check(ov_buf_view(out));
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

int
ov_action_sign(struct ov_action *a, const struct ov_sign_key *key)
{
    struct ov_buf msg;
    ov_sign_key_public(key, a->pseudonym);
    int rc = ov_action_signed_bytes(a, &msg);
    rc = rc ? rc : ov_sign(key, OV_SIGN_ACTION, msg.ptr, msg.len, a->sig);
    ov_buf_clear(&msg);
    return rc;
}

int
ov_action_verify(const struct ov_action *a)
{
    struct ov_buf msg;
    int rc = ov_action_signed_bytes(a, &msg);
    rc = rc ? rc : ov_sign_verify(a->pseudonym, OV_SIGN_ACTION, msg.ptr, msg.len, a->sig);
    ov_buf_clear(&msg);
    if (rc == 0 && a->has_token) {
        struct ov_pp_token t;
        uint8_t h[32];
        unsigned int hl = 0;
        rc = ov_pp_token_parse(OV_BYTES(a->token, OV_PP_TOKEN_LEN), &t);
        if (rc == 0 && (EVP_Digest(a->pseudonym, OV_PSEUDONYM_LEN, h, &hl, EVP_sha256(), NULL) != 1 ||
                        CRYPTO_memcmp(h, t.nonce, sizeof h) != 0)) {
            rc = -OV_E_BAD_SIG; /* the token was not issued for this pseudonym */
        }
    }
    return rc;
}

int
ov_entry_check_shape(struct ov_bytes in)
{
    struct ov_bytes kind, text;
    int rc = ov_cbor_check(in);
    rc = rc ? rc : ov_cbor_view_get(in, "kind", &kind);
    return rc ? rc : ov_cbor_view_text(kind, 32, &text);
}
