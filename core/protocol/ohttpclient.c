/* ohttpclient: one Oblivious HTTP exchange through a relay, client side. */
#include "protocol/ohttpclient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/bhttp.h"

#define MAX_EXTRA_HEADERS 8

int
ov_ohttpc_fetch_config(struct ov_httpc *hc, const char *gateway_base,
                       struct ov_ohttp_config *out)
{
    char url[OV_HTTPC_MAX_URL_LEN];
    struct ov_ohttp_config all[OV_OHTTP_MAX_CONFIGS];
    size_t n = 0;
    memset(out, 0, sizeof *out);
    int len = snprintf(url, sizeof url, "%.*s/ohttp-keys", (int)ov_httpc_base_len(gateway_base),
                       gateway_base);
    if (len < 0 || (size_t)len >= sizeof url) {
        return -OV_E_TOO_BIG;
    }
    struct ov_httpc_resp r;
    int rc = ov_httpc_get(hc, url, OV_OHTTP_MAX_KEYS_LEN, &r);
    if (rc == 0 && r.status != 200) {
        rc = -OV_E_HTTP;
    }
    rc = rc ? rc : ov_ohttp_keys_parse(ov_buf_view(&r.body), all, OV_OHTTP_MAX_CONFIGS, &n);
    ov_httpc_resp_clear(&r);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        for (size_t j = 0; j < all[i].n_algs; j++) {
            if (all[i].algs[j].kdf_id == OV_HPKE_KDF_HKDF_SHA256 &&
                all[i].algs[j].aead_id == OV_HPKE_AEAD_CHACHA20POLY1305) {
                *out = all[i];
                return 0;
            }
        }
    }
    return rc ? rc : -OV_E_NOT_FOUND;
}

static int
encode_request(const struct ov_ohttpc_req *rq, struct ov_buf *out)
{
    static struct ov_bhttp_msg zero;
    struct ov_bhttp_msg m = zero;
    m.method = OV_BYTES(rq->method, strlen(rq->method));
    m.scheme = OV_BYTES_STR("https");
    m.authority = OV_BYTES(rq->authority ? rq->authority : "",
                           rq->authority ? strlen(rq->authority) : 0);
    m.path = OV_BYTES(rq->target, strlen(rq->target));
    m.content = rq->body;
    int rc = rq->n_headers > MAX_EXTRA_HEADERS ? -OV_E_TOO_BIG : 0;
    if (rc == 0 && rq->content_type != NULL) {
        rc = ov_bhttp_add(&m.headers, OV_BYTES_STR("content-type"),
                          OV_BYTES(rq->content_type, strlen(rq->content_type)));
    }
    for (size_t i = 0; rc == 0 && i < rq->n_headers; i++) {
        const char *h = rq->headers[i], *colon = strchr(h, ':');
        if (colon == NULL) {
            return -OV_E_MALFORMED;
        }
        const char *v = colon + 1;
        while (*v == ' ') {
            v++;
        }
        rc = ov_bhttp_add(&m.headers, OV_BYTES(h, (size_t)(colon - h)), OV_BYTES(v, strlen(v)));
    }
    return rc ? rc : ov_bhttp_encode(&m, out);
}

/* The inner answer from the opened Binary HTTP response. */
static int
read_response(struct ov_bytes plain, size_t resp_max, struct ov_ohttpc_resp *resp)
{
    struct ov_bhttp_msg *m = malloc(sizeof *m);
    if (m == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = ov_bhttp_decode(plain, m);
    if (rc == 0 && !m->response) {
        rc = -OV_E_MALFORMED;
    }
    const struct ov_bhttp_field *ct = rc == 0 ? ov_bhttp_find(&m->headers, "content-type") : NULL;
    if (ct != NULL && ct->value.len < sizeof resp->content_type) {
        memcpy(resp->content_type, ct->value.ptr, ct->value.len);
        resp->content_type[ct->value.len] = '\0';
    }
    if (rc == 0) {
        resp->status = m->status;
        ov_buf_init(&resp->body, resp_max);
        rc = ov_buf_append(&resp->body, m->content.ptr, m->content.len);
    }
    free(m);
    return rc == -OV_E_TRUNCATED || rc == -OV_E_RANGE ? -OV_E_MALFORMED : rc;
}

int
ov_ohttpc_send(struct ov_httpc *hc, const char *relay_url, const struct ov_ohttp_config *cfg,
               const struct ov_ohttpc_req *rq, size_t resp_max, struct ov_ohttpc_resp *resp,
               unsigned *relay_status)
{
    memset(resp, 0, sizeof *resp);
    if (relay_status != NULL) {
        *relay_status = 0;
    }
    resp_max = resp_max ? resp_max : OV_HTTPC_DEFAULT_RESP_MAX;
    struct ov_buf plain, enc, opened;
    ov_buf_init(&plain, OV_BHTTP_MAX_LEN);
    ov_buf_init(&enc, OV_BHTTP_MAX_LEN + OV_OHTTP_REQ_OVERHEAD);
    ov_buf_init(&opened, resp_max + 4096); /* the body and its Binary HTTP framing */
    struct ov_ohttp_client st;
    struct ov_httpc_resp r;
    memset(&st, 0, sizeof st);
    memset(&r, 0, sizeof r);
    int rc = encode_request(rq, &plain);
    rc = rc ? rc
            : ov_ohttp_encap_request(cfg, ov_hpke_chacha20poly1305(), NULL, ov_buf_view(&plain),
                                     &enc, &st);
    if (rc == 0) {
        struct ov_httpc_req hr = {
            .method = "POST", .url = relay_url, .content_type = "message/ohttp-req",
            .body = ov_buf_view(&enc), .resp_max = resp_max + 4096 + OV_OHTTP_RES_OVERHEAD,
            .timeout_ms = rq->timeout_ms,
        };
        rc = ov_httpc_do(hc, &hr, &r);
    }
    if (rc == 0 && relay_status != NULL) {
        *relay_status = r.status;
    }
    if (rc == 0 && (r.status != 200 || strcmp(r.content_type, "message/ohttp-res") != 0)) {
        /* not encapsulated: the relay's or the gateway's own refusal (RFC 9458 §5.2) */
        rc = r.status == 400 && strcmp(r.content_type, "application/problem+json") == 0
                 ? -OV_E_UNKNOWN_KEY
                 : -OV_E_HTTP;
    }
    rc = rc ? rc : ov_ohttp_decap_response(&st, ov_buf_view(&r.body), &opened);
    rc = rc ? rc : read_response(ov_buf_view(&opened), resp_max, resp);
    if (rc != 0) {
        ov_ohttpc_resp_clear(resp);
    }
    ov_ohttp_client_clear(&st);
    ov_httpc_resp_clear(&r);
    ov_buf_clear(&plain);
    ov_buf_clear(&enc);
    ov_buf_clear(&opened);
    return rc;
}

void
ov_ohttpc_resp_clear(struct ov_ohttpc_resp *resp)
{
    if (resp != NULL) {
        ov_buf_clear(&resp->body);
        memset(resp, 0, sizeof *resp);
    }
}
