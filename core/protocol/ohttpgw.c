/* ohttpgw: the Oblivious HTTP gateway of a server: its keys, POST /gateway, GET /ohttp-keys.
 * The request's journey: decapsulate (ohttp), decode (bhttp), run as an inner request
 * through the server's routes (infra/http, long polls included: the handler runs again on
 * each wake-up until the inner request has its answer), encode, encapsulate. */
#include "protocol/ohttpgw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "infra/keyfile.h"
#include "protocol/bhttp.h"

#define MAX_KEYS 2
#define SECRET_LEN (1 + OV_HPKE_NSK) /* key_id || X25519 secret key */
#define KEY_PROBLEM                                                             \
    "{\"type\":\"https://iana.org/assignments/http-problem-types#ohttp-key\"," \
    "\"title\":\"key identifier unknown\"}"

static struct {
    struct ov_ohttp_key *keys; /* sodium_malloc: MAX_KEYS of them, the current one first */
    size_t n_keys;
    uint8_t config[OV_OHTTP_MAX_KEYS_LEN];
    size_t config_len;
    struct ov_counter *requests, *f_media, *f_key, *f_decap, *f_bhttp, *f_internal;
} G;

/* Loads one key file into *k; -OV_E_NOT_FOUND when it does not exist. */
static int
load_key(const char *path, struct ov_ohttp_key *k)
{
    struct ov_secret *s = NULL;
    int rc = ov_keyfile_load_secret(path, OV_OHTTPGW_KEY_LABEL, SECRET_LEN, &s);
    if (rc == 0) {
        k->key_id = ov_secret_ptr(s)[0];
        memcpy(k->sk, ov_secret_ptr(s) + 1, OV_HPKE_NSK);
        k->aeads[0] = ov_hpke_chacha20poly1305();
        k->n_aeads = 1;
        rc = ov_hpke_public_key(k->sk, k->pk);
    }
    ov_secret_free(s);
    return rc;
}

/* Creates DIR/ohttp-key with a key id other than `avoid` (the old key's, or -1). */
static int
create_key(const char *path, int avoid, struct ov_ohttp_key *k)
{
    for (int tries = 0; tries < 64; tries++) {
        int rc = ov_keyfile_create_secret(path, OV_OHTTPGW_KEY_LABEL, SECRET_LEN, NULL);
        rc = rc ? rc : load_key(path, k);
        if (rc != 0 || k->key_id != avoid) {
            return rc;
        }
        /* the old key's id came up: two configs must differ by their id */
        if (remove(path) != 0) {
            return -OV_E_IO;
        }
    }
    return -OV_E_CRYPTO;
}

static int
key_path(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= len ? -OV_E_TOO_BIG : 0;
}

static int
make_config(void)
{
    struct ov_ohttp_config c[MAX_KEYS];
    for (size_t i = 0; i < G.n_keys; i++) {
        ov_ohttp_key_config(&G.keys[i], &c[i]);
    }
    struct ov_buf b;
    ov_buf_init(&b, sizeof G.config);
    int rc = ov_ohttp_keys_encode(c, G.n_keys, &b);
    if (rc == 0) {
        memcpy(G.config, b.ptr, b.len);
        G.config_len = b.len;
    }
    ov_buf_clear(&b);
    return rc;
}

int
ov_ohttpgw_open(const char *dir)
{
    char cur[4096], old[4096];
    int rc = key_path(cur, sizeof cur, dir, OV_OHTTPGW_KEY_FILE);
    rc = rc ? rc : key_path(old, sizeof old, dir, OV_OHTTPGW_OLD_KEY_FILE);
    if (rc == 0 && (G.keys = sodium_malloc(MAX_KEYS * sizeof *G.keys)) == NULL) {
        rc = -OV_E_NOMEM;
    }
    if (rc != 0) {
        fprintf(stderr, "ohttp gateway: %s\n", ov_strerror(rc));
        return rc;
    }
    memset(G.keys, 0, MAX_KEYS * sizeof *G.keys);
    G.n_keys = 0;
    struct ov_ohttp_key prev;
    int prev_rc = load_key(old, &prev);
    rc = load_key(cur, &G.keys[0]);
    if (rc == -OV_E_NOT_FOUND) {
        rc = create_key(cur, prev_rc == 0 ? prev.key_id : -1, &G.keys[0]);
    }
    const char *bad = rc != 0 ? cur : NULL;
    if (rc == 0 && prev_rc == 0) {
        G.keys[1] = prev; /* served and accepted while the rotation lasts */
        G.n_keys = G.keys[1].key_id != G.keys[0].key_id ? 2 : 1;
    } else if (rc == 0 && prev_rc != -OV_E_NOT_FOUND) {
        rc = prev_rc;
        bad = old;
    }
    sodium_memzero(&prev, sizeof prev);
    G.n_keys = rc == 0 && G.n_keys == 0 ? 1 : G.n_keys;
    rc = rc ? rc : make_config();
    if (rc != 0) {
        fprintf(stderr, "ohttp gateway: %s: %s\n", bad ? bad : "key configuration",
                ov_strerror(rc));
        ov_ohttpgw_close();
        return rc;
    }
    sodium_mprotect_readonly(G.keys);
    return 0;
}

void
ov_ohttpgw_close(void)
{
    sodium_free(G.keys); /* wipes */
    G.keys = NULL;
    G.n_keys = 0;
    G.config_len = 0;
}

int
ov_ohttpgw_metrics(struct ov_metrics *m)
{
    static const char name[] = "ohttp_gateway_failures_total";
    static const char help[] = "Oblivious HTTP gateway requests refused, by reason";
    int rc = ov_metrics_counter(m, "ohttp_gateway_requests_total",
                                "Encapsulated requests received (POST /gateway)", NULL,
                                &G.requests);
    rc = rc ? rc : ov_metrics_counter(m, name, help, "reason=\"media_type\"", &G.f_media);
    rc = rc ? rc : ov_metrics_counter(m, name, help, "reason=\"key\"", &G.f_key);
    rc = rc ? rc : ov_metrics_counter(m, name, help, "reason=\"decapsulation\"", &G.f_decap);
    rc = rc ? rc : ov_metrics_counter(m, name, help, "reason=\"bhttp\"", &G.f_bhttp);
    rc = rc ? rc : ov_metrics_counter(m, name, help, "reason=\"internal\"", &G.f_internal);
    return rc;
}

int
ov_ohttpgw_keys(struct ov_buf *out)
{
    return G.config_len ? ov_buf_append(out, G.config, G.config_len) : -OV_E_STATE;
}

int
ov_ohttpgw_h_keys(struct ov_req *rq)
{
    if (G.config_len == 0) {
        return ov_http_error(rq, 503, "no_gateway", "the gateway has no key");
    }
    int rc = ov_http_header(rq, "Cache-Control", "public, max-age=300");
    return rc ? rc
              : ov_http_reply(rq, 200, "application/ohttp-keys",
                              OV_BYTES(G.config, G.config_len));
}

/* ---- POST /gateway ---- */

struct gw_state {
    struct ov_ohttp_server ctx;
};

static void
state_free(void *p)
{
    ov_ohttp_server_clear(p);
    free(p);
}

/* Encodes a Binary HTTP response, encapsulates it and replies 200 message/ohttp-res. */
static int
reply_encapsulated(struct ov_req *rq, const struct gw_state *st, const struct ov_bhttp_msg *m)
{
    struct ov_buf plain, enc;
    ov_buf_init(&plain, OV_BHTTP_MAX_LEN);
    ov_buf_init(&enc, OV_BHTTP_MAX_LEN + OV_OHTTP_RES_OVERHEAD);
    int rc = ov_bhttp_encode(m, &plain);
    rc = rc ? rc : ov_ohttp_encap_response(&st->ctx, NULL, ov_buf_view(&plain), &enc);
    rc = rc ? rc : ov_http_header(rq, "Cache-Control", "no-store");
    rc = rc ? rc : ov_http_reply(rq, 200, "message/ohttp-res", ov_buf_view(&enc));
    ov_buf_clear(&plain);
    ov_buf_clear(&enc);
    return rc;
}

/* An error after decapsulation: encapsulated, in the project's {"error","message"} form. */
static int
reply_inner_error(struct ov_req *rq, const struct gw_state *st, unsigned status,
                  const char *reason, const char *message)
{
    char body[256];
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\",\"message\":\"%s\"}", reason, message);
    struct ov_bhttp_msg m;
    memset(&m, 0, sizeof m);
    m.response = true;
    m.status = status;
    m.content = OV_BYTES(body, n > 0 && (size_t)n < sizeof body ? (size_t)n : 0);
    int rc = ov_bhttp_add(&m.headers, OV_BYTES_STR("content-type"),
                          OV_BYTES_STR("application/json"));
    rc = rc ? rc : reply_encapsulated(rq, st, &m);
    return rc;
}

/* The inner request's answer, as Binary HTTP (field names lowercased, RFC 9113 §8.2.1). */
static int
reply_inner(struct ov_req *rq, const struct gw_state *st)
{
    struct ov_http_inner_reply r;
    ov_req_inner_reply(rq, &r);
    char names[OV_HTTP_MAX_REPLY_HEADERS][64];
    struct ov_bhttp_msg m;
    memset(&m, 0, sizeof m);
    m.response = true;
    m.status = r.status;
    m.content = r.body;
    int rc = 0;
    if (r.content_type != NULL) {
        rc = ov_bhttp_add(&m.headers, OV_BYTES_STR("content-type"),
                          OV_BYTES(r.content_type, strlen(r.content_type)));
    }
    for (size_t i = 0; rc == 0 && i < r.n_headers && i < OV_HTTP_MAX_REPLY_HEADERS; i++) {
        size_t n = strlen(r.headers[i]);
        if (n >= sizeof names[i]) {
            continue; /* none of ours is that long */
        }
        for (size_t j = 0; j <= n; j++) {
            names[i][j] = (char)(r.headers[i][j] >= 'A' && r.headers[i][j] <= 'Z'
                                     ? r.headers[i][j] + 32
                                     : r.headers[i][j]);
        }
        const char *v = r.headers[i] + n + 1;
        rc = ov_bhttp_add(&m.headers, OV_BYTES(names[i], n), OV_BYTES(v, strlen(v)));
    }
    rc = rc ? rc : reply_encapsulated(rq, st, &m);
    if (rc != 0 && rc != -OV_E_HTTP) {
        ov_counter_add(G.f_internal, 1);
        return reply_inner_error(rq, st, 500, "internal_error", "the answer could not be sent");
    }
    return rc;
}

/* Decodes the Binary HTTP request and starts it as an inner request. 1: refused as Binary
 * HTTP (the caller answers it, encapsulated). */
static int
start_inner(struct ov_req *rq, struct ov_buf *plain, bool *done)
{
    static struct ov_bhttp_msg m_zero;
    struct ov_bhttp_msg *m = malloc(sizeof *m);
    if (m == NULL) {
        return -OV_E_NOMEM;
    }
    *m = m_zero;
    int rc = ov_bhttp_decode(ov_buf_view(plain), m);
    const struct ov_bhttp_field *expect = rc == 0 ? ov_bhttp_find(&m->headers, "expect") : NULL;
    char method[OV_HTTP_MAX_METHOD_LEN + 1];
    if (rc != 0 || m->response || m->method.len > OV_HTTP_MAX_METHOD_LEN ||
        m->headers.n > OV_HTTP_MAX_INNER_HEADERS || m->trailers.n > 0 ||
        (expect != NULL && expect->value.len == 12 &&
         strncasecmp((const char *)expect->value.ptr, "100-continue", 12) == 0)) {
        free(m);
        return 1;
    }
    memcpy(method, m->method.ptr, m->method.len);
    method[m->method.len] = '\0';
    struct ov_http_kv kv[OV_HTTP_MAX_INNER_HEADERS];
    for (size_t i = 0; i < m->headers.n; i++) {
        kv[i].name = m->headers.f[i].name;
        kv[i].value = m->headers.f[i].value;
    }
    struct ov_http_inner_req spec = {
        .method = method, .target = m->path, .headers = kv, .n_headers = m->headers.n,
        .body = m->content,
    };
    rc = ov_req_inner(rq, &spec, done);
    free(m);
    return rc == -OV_E_MALFORMED ? 1 : rc;
}

/* The first round: check, decapsulate, start the inner request. */
static int
first_round(struct ov_req *rq, struct gw_state **out, bool *done)
{
    ov_counter_add(G.requests, 1);
    const char *ct = ov_req_header(rq, "Content-Type");
    if (ct == NULL || strcasecmp(ct, "message/ohttp-req") != 0) {
        ov_counter_add(G.f_media, 1);
        return ov_http_error(rq, 415, "unsupported_media_type", "send message/ohttp-req");
    }
    struct gw_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        return -OV_E_NOMEM;
    }
    ov_req_set_state(rq, st, state_free);
    struct ov_buf plain;
    ov_buf_init(&plain, OV_BHTTP_MAX_LEN);
    int rc = ov_ohttp_decap_request(G.keys, G.n_keys, ov_req_body(rq), &plain, &st->ctx);
    if (rc == -OV_E_UNKNOWN_KEY) {
        ov_counter_add(G.f_key, 1);
        rc = ov_http_header(rq, "Cache-Control", "no-store");
        rc = rc ? rc : ov_http_reply(rq, 400, "application/problem+json",
                                     OV_BYTES_STR(KEY_PROBLEM));
    } else if (rc != 0) {
        ov_counter_add(G.f_decap, 1);
        rc = ov_http_error(rq, 400, "ohttp_decapsulation",
                           "the encapsulated request does not open with this gateway's key");
    } else {
        rc = start_inner(rq, &plain, done);
        if (rc == 0) {
            *out = st; /* started: answered now or in a later round */
        } else if (rc == 1) {
            ov_counter_add(G.f_bhttp, 1);
            rc = reply_inner_error(rq, st, 400, "bad_bhttp",
                                   "not a known-length Binary HTTP request onevoice takes");
        } else {
            ov_counter_add(G.f_internal, 1);
            rc = reply_inner_error(rq, st, 503, "unavailable", "retry later");
        }
    }
    ov_buf_clear(&plain);
    return rc;
}

int
ov_ohttpgw_h_gateway(struct ov_req *rq)
{
    if (G.n_keys == 0) {
        return ov_http_error(rq, 503, "no_gateway", "the gateway has no key");
    }
    if (ov_req_is_inner(rq)) {
        return ov_http_error(rq, 400, "nested_gateway", "a gateway request inside another");
    }
    struct gw_state *st = ov_req_state(rq);
    bool done = false;
    int rc = 0;
    if (st == NULL) {
        rc = first_round(rq, &st, &done);
        if (st == NULL) {
            return rc; /* answered already, or failed before the inner request started */
        }
    } else {
        rc = ov_req_inner(rq, NULL, &done);
    }
    if (rc != 0) {
        ov_counter_add(G.f_internal, 1);
        return reply_inner_error(rq, st, 503, "unavailable", "retry later");
    }
    return done ? reply_inner(rq, st) : 0;
}
