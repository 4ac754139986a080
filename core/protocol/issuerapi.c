#include "protocol/issuerapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "primitives/cbor.h"
#include "base/codec.h"

/* ---- JSON helpers ----------------------------------------------------------------- */

/* Loads one JSON value from exactly body (no trailing bytes, no duplicate keys, no NUL
 * in strings: jansson refuses \u0000 unless asked). NULL when it does not parse. */
static json_t *
json_load_strict(struct ov_bytes body)
{
    return json_loadb((const char *)body.ptr, body.len, JSON_REJECT_DUPLICATES, NULL);
}

static int
only_keys(json_t *o, const char *const *keys, size_t n)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        size_t i = 0;
        while (i < n && strcmp(k, keys[i]) != 0) {
            i++;
        }
        if (i == n) {
            return -OV_E_MALFORMED;
        }
    }
    return 0;
}

/* A string member copied NUL-terminated into dst (max bytes at most). */
static int
get_str(json_t *o, const char *key, char *dst, size_t max)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || json_string_length(v) > max || json_string_length(v) == 0) {
        return -OV_E_MALFORMED;
    }
    size_t n = json_string_length(v);
    memcpy(dst, json_string_value(v), n);
    dst[n] = 0;
    return strlen(dst) == n ? 0 : -OV_E_MALFORMED;
}

static int
get_u64(json_t *o, const char *key, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max) {
        return -OV_E_MALFORMED;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int
ov_b64url_fixed(const char *s, size_t len, uint8_t *out, size_t n)
{
    size_t got = 0;
    if (s == NULL || len != ov_b64_encoded_size(n, OV_B64_URL_NOPAD) - 1 ||
        ov_b64_decode(out, n, &got, s, len, OV_B64_URL_NOPAD) != 0 || got != n) {
        memset(out, 0, n);
        return -OV_E_MALFORMED;
    }
    return 0;
}

static int
get_b64_fixed(json_t *o, const char *key, uint8_t *out, size_t n)
{
    json_t *v = json_object_get(o, key);
    return ov_b64url_fixed(json_string_value(v), json_string_length(v), out, n);
}

/* Appends the compact serialisation of j (taken) to out. */
static int
dump_into(json_t *j, struct ov_buf *out)
{
    if (j == NULL) {
        return -OV_E_NOMEM;
    }
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (s == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = ov_buf_append_str(out, s);
    free(s);
    return rc;
}

static json_t *
b64_json(const uint8_t *p, size_t n, enum ov_b64 v)
{
    size_t cap = ov_b64_encoded_size(n, v);
    char *s = malloc(cap);
    json_t *j = NULL;
    if (s != NULL && ov_b64_encode(s, cap, p, n, v) == 0) {
        j = json_string(s);
    }
    free(s);
    return j;
}

/* ---- contexts --------------------------------------------------------------------- */

/* The definition members shared by the request and the listing. */
static int
parse_definition(json_t *o, struct ov_context *c)
{
    char type[16];
    int rc = get_str(o, "id", c->id, OV_MAX_CONTEXT_ID_LEN);
    rc = rc ? rc : ov_context_id_check(c->id);
    rc = rc ? rc : get_str(o, "title", c->title, OV_MAX_TITLE_LEN);
    rc = rc ? rc : ov_text_check(c->title, OV_MAX_TITLE_LEN);
    rc = rc ? rc : get_str(o, "type", type, sizeof type - 1);
    rc = rc ? rc : get_u64(o, "opens", INT64_MAX, &c->opens);
    rc = rc ? rc : get_u64(o, "closes", INT64_MAX, &c->closes);
    if (rc == 0 && c->opens >= c->closes) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0 && strcmp(type, "assembly") == 0) {
        json_t *a = json_object_get(o, "choices");
        c->type = OV_CONTEXT_ASSEMBLY;
        if (!json_is_array(a) || json_array_size(a) < 2 || json_array_size(a) > OV_MAX_CHOICES ||
            json_object_get(o, "scale") != NULL || json_object_get(o, "rating_kind") != NULL ||
            json_object_get(o, "statements") != NULL) {
            return -OV_E_MALFORMED;
        }
        c->n_choices = json_array_size(a);
        for (size_t i = 0; i < c->n_choices && rc == 0; i++) {
            json_t *v = json_array_get(a, i);
            size_t n = json_string_length(v);
            if (!json_is_string(v) || n == 0 || n > OV_MAX_LABEL_LEN) {
                return -OV_E_MALFORMED;
            }
            memcpy(c->choices[i], json_string_value(v), n);
            c->choices[i][n] = 0;
            rc = strlen(c->choices[i]) == n ? ov_label_check(c->choices[i]) : -OV_E_MALFORMED;
            for (size_t k = 0; k < i && rc == 0; k++) {
                rc = strcmp(c->choices[i], c->choices[k]) == 0 ? -OV_E_MALFORMED : 0;
            }
        }
    } else if (rc == 0 && strcmp(type, "rating") == 0) {
        json_t *s = json_object_get(o, "scale"), *kind = json_object_get(o, "rating_kind");
        c->type = OV_CONTEXT_RATING;
        json_t *lo = json_array_get(s, 0), *hi = json_array_get(s, 1);
        if (json_object_get(o, "choices") != NULL || (kind != NULL && !json_is_string(kind))) {
            return -OV_E_MALFORMED;
        }
        /* a statement round's kind fixes its scale (§11.3): "scale" may then be left out */
        if (kind != NULL && strcmp(json_string_value(kind), "helpfulness") == 0) {
            c->rating_kind = OV_RATING_HELPFULNESS;
            c->scale_min = 0;
            c->scale_max = 2;
        } else if (kind != NULL && strcmp(json_string_value(kind), "agreement") == 0) {
            c->rating_kind = OV_RATING_AGREEMENT;
            c->scale_min = -1;
            c->scale_max = 1;
        } else if (kind != NULL || s == NULL) {
            return -OV_E_MALFORMED;
        }
        if (s != NULL) {
            if (!json_is_array(s) || json_array_size(s) != 2 || !json_is_integer(lo) ||
                !json_is_integer(hi) ||
                (kind != NULL && (json_integer_value(lo) != c->scale_min ||
                                  json_integer_value(hi) != c->scale_max))) {
                return -OV_E_MALFORMED;
            }
            c->scale_min = json_integer_value(lo);
            c->scale_max = json_integer_value(hi);
        }
        rc = c->scale_min < c->scale_max ? 0 : -OV_E_MALFORMED;
        if (rc == 0 && json_object_get(o, "statements") != NULL) {
            rc = get_u64(o, "statements", OV_MAX_STATEMENT_QUOTA, &c->statements);
            rc = rc ? rc : (c->statements == 0 || kind == NULL ? -OV_E_MALFORMED : 0);
        }
    } else if (rc == 0) {
        rc = -OV_E_MALFORMED;
    }
    return rc;
}

int
ov_context_req_parse(struct ov_bytes body, struct ov_context *c)
{
    static const char *const keys[] = { "choices", "closes", "id",    "opens",      "quota",
                                        "rating_kind", "scale", "statements", "title", "type" };
    memset(c, 0, sizeof *c);
    if (body.len > OV_MAX_CONTEXT_REQ_LEN) {
        return -OV_E_TOO_BIG;
    }
    json_t *o = json_load_strict(body);
    int rc = json_is_object(o) ? only_keys(o, keys, sizeof keys / sizeof keys[0])
                               : -OV_E_MALFORMED;
    rc = rc ? rc : parse_definition(o, c);
    c->quota = 1;
    if (rc == 0 && json_object_get(o, "quota") != NULL) {
        rc = get_u64(o, "quota", OV_MAX_QUOTA, &c->quota);
        rc = rc ? rc : (c->quota == 0 ? -OV_E_MALFORMED : 0);
    }
    json_decref(o);
    if (rc != 0) {
        memset(c, 0, sizeof *c);
    }
    return rc == 0 ? 0 : -OV_E_MALFORMED;
}

static int
put_definition(json_t *o, const struct ov_context *c)
{
    int rc = 0;
    rc |= json_object_set_new(o, "id", json_string(c->id));
    rc |= json_object_set_new(o, "title", json_string(c->title));
    rc |= json_object_set_new(o, "opens", json_integer((json_int_t)c->opens));
    rc |= json_object_set_new(o, "closes", json_integer((json_int_t)c->closes));
    rc |= json_object_set_new(o, "quota", json_integer((json_int_t)c->quota));
    if (c->type == OV_CONTEXT_ASSEMBLY) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->n_choices && i < OV_MAX_CHOICES; i++) {
            rc |= json_array_append_new(a, json_string(c->choices[i]));
        }
        rc |= json_object_set_new(o, "type", json_string("assembly"));
        rc |= json_object_set_new(o, "choices", a);
    } else {
        rc |= json_object_set_new(o, "type", json_string("rating"));
        rc |= json_object_set_new(o, "scale", json_pack("[II]", (json_int_t)c->scale_min,
                                                        (json_int_t)c->scale_max));
        if (c->rating_kind != OV_RATING_SCALE) {
            rc |= json_object_set_new(o, "rating_kind",
                                      json_string(c->rating_kind == OV_RATING_HELPFULNESS
                                                      ? "helpfulness"
                                                      : "agreement"));
        }
        if (c->statements > 0) {
            rc |= json_object_set_new(o, "statements", json_integer((json_int_t)c->statements));
        }
    }
    return rc == 0 ? 0 : -OV_E_NOMEM;
}

int
ov_context_req_build(const struct ov_context *c, struct ov_buf *out)
{
    ov_buf_init(out, OV_MAX_CONTEXT_REQ_LEN);
    if (ov_context_id_check(c->id) != 0 || ov_text_check(c->title, OV_MAX_TITLE_LEN) != 0 ||
        c->quota == 0 || c->quota > OV_MAX_QUOTA || c->opens >= c->closes ||
        c->closes > INT64_MAX || (c->type != OV_CONTEXT_ASSEMBLY && c->type != OV_CONTEXT_RATING)) {
        return -OV_E_MALFORMED;
    }
    json_t *o = json_object();
    int rc = o ? put_definition(o, c) : -OV_E_NOMEM;
    if (rc != 0) {
        json_decref(o);
        return rc;
    }
    rc = dump_into(o, out);
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

int
ov_issuer_context_json(const struct ov_issuer_context *c, struct ov_buf *out)
{
    json_t *o = json_object();
    int rc = o ? put_definition(o, &c->def) : -OV_E_NOMEM;
    if (rc == 0) {
        int e = 0;
        e |= json_object_set_new(o, "issuer", json_string(c->def.issuer));
        e |= json_object_set_new(o, "token_key",
                                 b64_json(c->def.token_key, c->def.token_key_len, OV_B64_URL_NOPAD));
        e |= json_object_set_new(o, "token_key_id",
                                 b64_json(c->def.token_key_id, OV_PP_NID, OV_B64_URL_NOPAD));
        e |= json_object_set_new(o, "truncated_key_id",
                                 json_integer(c->def.token_key_id[OV_PP_NID - 1]));
        e |= json_object_set_new(o, "log_index", json_integer((json_int_t)c->log_index));
        e |= json_object_set_new(o, "open", json_boolean(c->open));
        e |= json_object_set_new(o, "time", json_integer((json_int_t)c->def.time));
        rc = e == 0 ? 0 : -OV_E_NOMEM;
    }
    if (rc != 0) {
        json_decref(o);
        return rc;
    }
    return dump_into(o, out);
}

static int
parse_listed(json_t *o, struct ov_issuer_context *c)
{
    static const char *const keys[] = { "choices",      "closes", "id",    "issuer",
                                        "log_index",    "open",   "opens", "quota",
                                        "rating_kind",  "scale",  "statements",
                                        "time",   "title", "token_key",
                                        "token_key_id", "truncated_key_id", "type" };
    uint8_t id[OV_PP_NID];
    uint64_t trunc = 0;
    struct ov_pp_key key;
    struct ov_buf entry;
    memset(&key, 0, sizeof key);
    int rc = json_is_object(o) ? only_keys(o, keys, sizeof keys / sizeof keys[0])
                               : -OV_E_MALFORMED;
    rc = rc ? rc : parse_definition(o, &c->def);
    rc = rc ? rc : get_u64(o, "quota", OV_MAX_QUOTA, &c->def.quota);
    rc = rc ? rc : get_str(o, "issuer", c->def.issuer, OV_MAX_ISSUER_NAME);
    rc = rc ? rc : get_u64(o, "time", INT64_MAX, &c->def.time);
    rc = rc ? rc : get_u64(o, "log_index", INT64_MAX, &c->log_index);
    rc = rc ? rc : get_u64(o, "truncated_key_id", 255, &trunc);
    rc = rc ? rc : get_b64_fixed(o, "token_key_id", id, sizeof id);
    if (rc == 0) {
        json_t *k = json_object_get(o, "token_key"), *op = json_object_get(o, "open");
        size_t n = 0;
        if (!json_is_boolean(op) || !json_is_string(k) ||
            ov_b64_decode(c->def.token_key, sizeof c->def.token_key, &n, json_string_value(k),
                          json_string_length(k), OV_B64_URL_NOPAD) != 0) {
            return -OV_E_MALFORMED;
        }
        c->open = json_is_true(op);
        c->def.token_key_len = n;
        rc = ov_pp_key_from_spki(&key, OV_BYTES(c->def.token_key, n));
    }
    /* the id is the key's own, and the whole is a context entry the log could hold */
    if (rc == 0 && (memcmp(key.token_key_id, id, OV_PP_NID) != 0 || trunc != id[OV_PP_NID - 1])) {
        rc = -OV_E_MALFORMED;
    }
    ov_pp_key_clear(&key);
    if (rc == 0) {
        memcpy(c->def.token_key_id, id, OV_PP_NID);
        struct ov_entry e;
        memset(&e, 0, sizeof e);
        e.kind = OV_ENTRY_CONTEXT;
        e.u.context = c->def;
        rc = ov_entry_encode(&e, &entry);
        ov_buf_clear(&entry);
    }
    return rc == 0 ? 0 : -OV_E_MALFORMED;
}

int
ov_issuer_contexts_parse(struct ov_bytes body, struct ov_issuer_context **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (body.len > OV_MAX_ISSUER_LIST_LEN) {
        return -OV_E_TOO_BIG;
    }
    json_t *a = json_load_strict(body);
    size_t k = json_array_size(a);
    int rc = json_is_array(a) ? 0 : -OV_E_MALFORMED;
    if (rc == 0 && k > OV_ISSUER_MAX_CONTEXTS) {
        rc = -OV_E_TOO_BIG;
    }
    struct ov_issuer_context *v = NULL;
    if (rc == 0 && k > 0) {
        v = calloc(k, sizeof *v);
        rc = v ? 0 : -OV_E_NOMEM;
    }
    for (size_t i = 0; i < k && rc == 0; i++) {
        rc = parse_listed(json_array_get(a, i), &v[i]);
        for (size_t j = 0; j < i && rc == 0; j++) {
            rc = strcmp(v[i].def.id, v[j].def.id) == 0 ? -OV_E_MALFORMED : 0;
        }
    }
    json_decref(a);
    if (rc != 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

int
ov_issuer_created_parse(struct ov_bytes body, struct ov_issuer_context *c)
{
    static const char *const keys[] = { "context", "log_index" };
    uint64_t idx = 0;
    memset(c, 0, sizeof *c);
    if (body.len > OV_MAX_CONTEXT_REQ_LEN * 2) {
        return -OV_E_TOO_BIG;
    }
    json_t *o = json_load_strict(body);
    int rc = json_is_object(o) ? only_keys(o, keys, 2) : -OV_E_MALFORMED;
    rc = rc ? rc : get_u64(o, "log_index", INT64_MAX, &idx);
    rc = rc ? rc : parse_listed(json_object_get(o, "context"), c);
    json_decref(o);
    if (rc == 0 && idx != c->log_index) {
        rc = -OV_E_MALFORMED;
    }
    if (rc != 0) {
        memset(c, 0, sizeof *c);
        return -OV_E_MALFORMED;
    }
    return 0;
}

int
ov_issuer_directory_parse(struct ov_bytes body, struct ov_issuer_directory *out)
{
    memset(out, 0, sizeof *out);
    if (body.len > OV_MAX_DIRECTORY_LEN) {
        return -OV_E_TOO_BIG;
    }
    json_t *o = json_load_strict(body);
    json_t *keys = json_object_get(o, "token-keys");
    int rc = json_is_object(o) && json_is_array(keys) ? 0 : -OV_E_MALFORMED;
    rc = rc ? rc : get_str(o, "issuer-request-uri", out->request_uri, sizeof out->request_uri - 1);
    if (rc == 0 && json_array_size(keys) > OV_ISSUER_MAX_DIRECTORY_KEYS) {
        rc = -OV_E_TOO_BIG;
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(keys); i++) {
        json_t *k = json_array_get(keys, i), *key = json_object_get(k, "token-key");
        uint64_t type = 0, nb = 0;
        rc = json_is_object(k) ? get_u64(k, "token-type", 0xffff, &type) : -OV_E_MALFORMED;
        if (rc == 0 && json_object_get(k, "not-before") != NULL) {
            rc = get_u64(k, "not-before", INT64_MAX, &nb);
        }
        if (rc != 0 || type != OV_PP_TOKEN_TYPE) {
            continue; /* another token type: not ours to read */
        }
        size_t j = out->n_keys, len = 0;
        struct ov_pp_key pk;
        if (!json_is_string(key) ||
            ov_b64_decode(out->keys[j].spki, sizeof out->keys[j].spki, &len,
                          json_string_value(key), json_string_length(key), OV_B64_URL) != 0 ||
            ov_pp_key_from_spki(&pk, OV_BYTES(out->keys[j].spki, len)) != 0) {
            rc = -OV_E_MALFORMED;
            break;
        }
        ov_pp_key_clear(&pk);
        out->keys[j].spki_len = len;
        out->keys[j].not_before = nb;
        out->n_keys++;
    }
    json_decref(o);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        return rc == -OV_E_TOO_BIG ? rc : -OV_E_MALFORMED;
    }
    return 0;
}

/* ---- attestations ----------------------------------------------------------------- */

int
ov_attestation_encode(const struct ov_attestation *a, struct ov_buf *out)
{
    ov_buf_init(out, OV_MAX_ATTESTATION_LEN);
    size_t sl = strnlen(a->subject, sizeof a->subject);
    if (ov_label_check(a->idp) != 0 || strlen(a->idp) > OV_MAX_IDP_NAME_LEN || sl == 0 ||
        sl > OV_MAX_SUBJECT_LEN || ov_text_check(a->subject, OV_MAX_SUBJECT_LEN) != 0) {
        return -OV_E_MALFORMED;
    }
    cbor_item_t *m = ov_cbor_map_new();
    int rc = m ? 0 : -OV_E_NOMEM;
    rc = rc ? rc : ov_cbor_put_uint(m, "expires", a->expires);
    rc = rc ? rc : ov_cbor_put_text(m, "idp", a->idp);
    rc = rc ? rc : ov_cbor_put_bytes(m, "key", a->key, sizeof a->key);
    rc = rc ? rc : ov_cbor_put_text(m, "subject", a->subject);
    rc = rc ? rc : ov_cbor_encode(m, out);
    ov_cbor_free(m);
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

static int
cbor_text_into(const cbor_item_t *m, const char *key, char *dst, size_t max)
{
    struct ov_bytes v;
    int rc = ov_cbor_get_text(m, key, max, &v);
    if (rc != 0 || v.len == 0 || memchr(v.ptr, 0, v.len) != NULL) {
        return -OV_E_MALFORMED;
    }
    memcpy(dst, v.ptr, v.len);
    dst[v.len] = 0;
    return ov_text_check(dst, max);
}

int
ov_attestation_parse(struct ov_bytes in, struct ov_attestation *a)
{
    static const char *const keys[] = { "expires", "idp", "key", "subject" };
    memset(a, 0, sizeof *a);
    if (in.len > OV_MAX_ATTESTATION_LEN) {
        return -OV_E_TOO_BIG;
    }
    cbor_item_t *m = NULL;
    int rc = ov_cbor_decode_map(in, &m);
    rc = rc ? rc : ov_cbor_only_keys(m, keys, 4);
    rc = rc ? rc : ov_cbor_get_uint(m, "expires", INT64_MAX, &a->expires);
    rc = rc ? rc : cbor_text_into(m, "idp", a->idp, OV_MAX_IDP_NAME_LEN);
    rc = rc ? rc : ov_label_check(a->idp);
    rc = rc ? rc : ov_cbor_get_fixed(m, "key", a->key, sizeof a->key);
    rc = rc ? rc : cbor_text_into(m, "subject", a->subject, OV_MAX_SUBJECT_LEN);
    ov_cbor_free(m);
    if (rc != 0) {
        memset(a, 0, sizeof *a);
        return rc == -OV_E_NOT_FOUND || rc == -OV_E_RANGE || rc == -OV_E_TOO_BIG
                   ? -OV_E_MALFORMED : rc;
    }
    return 0;
}

/* ---- enrollment requests ---------------------------------------------------------- */

static const char *const route_names[] = {
    [OV_ROUTE_INVITE] = "invite",
    [OV_ROUTE_REGISTRAR] = "registrar",
    [OV_ROUTE_ATTESTATION] = "attestation",
};

int
ov_enroll_req_parse(struct ov_bytes body, struct ov_enroll_req *r)
{
    static const char *const k_invite[] = { "code", "key", "route", "time" };
    static const char *const k_reg[] = { "key", "route", "time", "token" };
    static const char *const k_att[] = { "attestation", "attestation_sig", "key", "route",
                                         "time" };
    char route[16];
    memset(r, 0, sizeof *r);
    if (body.len > OV_MAX_ENROLL_REQ_LEN) {
        return -OV_E_TOO_BIG;
    }
    json_t *o = json_load_strict(body);
    int rc = json_is_object(o) ? get_str(o, "route", route, sizeof route - 1) : -OV_E_MALFORMED;
    if (rc == 0 && strcmp(route, "invite") == 0) {
        uint8_t code[OV_INVITE_CODE_BYTES];
        r->route = OV_ROUTE_INVITE;
        rc = only_keys(o, k_invite, 4);
        rc = rc ? rc : get_str(o, "code", r->secret, OV_INVITE_CODE_LEN);
        rc = rc ? rc : ov_b64url_fixed(r->secret, strlen(r->secret), code, sizeof code);
        sodium_memzero(code, sizeof code);
    } else if (rc == 0 && strcmp(route, "registrar") == 0) {
        uint8_t tok[OV_ENROLL_TOKEN_BYTES];
        r->route = OV_ROUTE_REGISTRAR;
        rc = only_keys(o, k_reg, 4);
        rc = rc ? rc : get_str(o, "token", r->secret, OV_ENROLL_TOKEN_LEN);
        rc = rc ? rc : ov_b64url_fixed(r->secret, strlen(r->secret), tok, sizeof tok);
        sodium_memzero(tok, sizeof tok);
    } else if (rc == 0 && strcmp(route, "attestation") == 0) {
        json_t *att = json_object_get(o, "attestation");
        r->route = OV_ROUTE_ATTESTATION;
        rc = only_keys(o, k_att, 5);
        if (rc == 0 && (!json_is_string(att) || json_string_length(att) == 0 ||
                        ov_b64_decode(r->attestation, sizeof r->attestation, &r->attestation_len,
                                      json_string_value(att), json_string_length(att),
                                      OV_B64_URL_NOPAD) != 0)) {
            rc = -OV_E_MALFORMED;
        }
        rc = rc ? rc : get_b64_fixed(o, "attestation_sig", r->attestation_sig, OV_SIGN_SIG_LEN);
    } else if (rc == 0) {
        rc = -OV_E_MALFORMED;
    }
    rc = rc ? rc : get_b64_fixed(o, "key", r->key, sizeof r->key);
    rc = rc ? rc : get_u64(o, "time", INT64_MAX, &r->time_ms);
    json_decref(o);
    if (rc != 0) {
        sodium_memzero(r, sizeof *r);
        return -OV_E_MALFORMED;
    }
    return 0;
}

int
ov_enroll_req_build(const struct ov_enroll_req *r, struct ov_buf *out)
{
    ov_buf_init(out, OV_MAX_ENROLL_REQ_LEN);
    if (r->route < OV_ROUTE_INVITE || r->route > OV_ROUTE_ATTESTATION ||
        r->time_ms > INT64_MAX || r->attestation_len > sizeof r->attestation) {
        return -OV_E_MALFORMED;
    }
    json_t *o = json_object();
    int e = o ? 0 : -1;
    e |= json_object_set_new(o, "route", json_string(route_names[r->route]));
    e |= json_object_set_new(o, "key", b64_json(r->key, sizeof r->key, OV_B64_URL_NOPAD));
    e |= json_object_set_new(o, "time", json_integer((json_int_t)r->time_ms));
    if (r->route == OV_ROUTE_INVITE) {
        e |= json_object_set_new(o, "code", json_string(r->secret));
    } else if (r->route == OV_ROUTE_REGISTRAR) {
        e |= json_object_set_new(o, "token", json_string(r->secret));
    } else {
        e |= json_object_set_new(o, "attestation",
                                 b64_json(r->attestation, r->attestation_len, OV_B64_URL_NOPAD));
        e |= json_object_set_new(o, "attestation_sig",
                                 b64_json(r->attestation_sig, OV_SIGN_SIG_LEN, OV_B64_URL_NOPAD));
    }
    if (e != 0) {
        json_decref(o);
        return -OV_E_NOMEM;
    }
    int rc = dump_into(o, out);
    /* what the server will accept, or nothing */
    struct ov_enroll_req back;
    if (rc == 0 && ov_enroll_req_parse(ov_buf_view(out), &back) != 0) {
        rc = -OV_E_MALFORMED;
    }
    sodium_memzero(&back, sizeof back);
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

/* ---- token requests --------------------------------------------------------------- */

void
ov_tokreq_signed_bytes(uint64_t time_ms, const uint8_t req[OV_PP_TOKEN_REQUEST_LEN],
                       uint8_t out[OV_TOKREQ_SIGNED_LEN])
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(time_ms >> (56 - 8 * i));
    }
    memcpy(out + 8, req, OV_PP_TOKEN_REQUEST_LEN);
}

int
ov_tokreq_auth_parse(const char *enrollee, const char *time, const char *sig,
                     uint8_t pk[OV_SIGN_PK_LEN], uint64_t *time_ms,
                     uint8_t sig_out[OV_SIGN_SIG_LEN])
{
    *time_ms = 0;
    int rc = enrollee && time && sig ? 0 : -OV_E_MALFORMED;
    rc = rc ? rc : ov_b64url_fixed(enrollee, strlen(enrollee), pk, OV_SIGN_PK_LEN);
    rc = rc ? rc : ov_b64url_fixed(sig, strlen(sig), sig_out, OV_SIGN_SIG_LEN);
    rc = rc ? rc : ov_parse_u64(time, strnlen(time, 21), time_ms);
    if (rc != 0) {
        memset(pk, 0, OV_SIGN_PK_LEN);
        memset(sig_out, 0, OV_SIGN_SIG_LEN);
        *time_ms = 0;
        return -OV_E_MALFORMED;
    }
    return 0;
}
