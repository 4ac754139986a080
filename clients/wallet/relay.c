/* relay: when the wallet's configuration names an Oblivious HTTP relay (init --relay, or
 * the join bundle's relay line), everything it sends to the verifier and reads from the log
 * goes through it (docs/PROTOCOL.md §13): the relay sees the citizen's address but not the
 * request, the verifier and the log see the request but not the address. Every request of
 * the process whose URL starts with the verifier's or the log's URL is tunnelled
 * (core/infra/httpc), whichever module makes it; none falls back to a direct request, which
 * would hand the address over without saying so.
 *
 * The relay's gateways are named "verifier" and "log": the wallet posts to
 * <relay>/relay/verifier and <relay>/relay/log. Each gateway's key configuration is fetched
 * from the gateway itself when the wallet is set up and kept in the wallet (config
 * ohttp_verifier, ohttp_log: base64 of application/ohttp-keys), so that no request at the
 * moment of a vote reaches a server directly; it is fetched again only when the gateway
 * refuses the key (a rotation). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/codec.h"
#include "protocol/ohttpclient.h"
#include "wallet.h"

#define RELAY_MAX_HEADERS 8

struct tunnel {
    struct wallet *w;
    const char *name;                  /* the gateway's name at the relay, and the config key */
    char base[W_MAX_URL];              /* the server's URL: the prefix tunnelled */
    char relay_url[W_MAX_URL + 32];    /* <relay>/relay/<name> */
    char authority[W_MAX_URL];         /* host[:port] of base */
    struct ov_ohttp_config cfg;
};

static struct tunnel tunnels[2];

/* host[:port] of an http(s) URL. */
static void
authority_of(const char *url, char *out, size_t max)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    snprintf(out, max, "%.*s", (int)n, p);
}

static int
config_store(struct wallet *w, const char *name, const struct ov_ohttp_config *cfg)
{
    struct ov_buf b;
    char key[32], text[2 * OV_OHTTP_MAX_KEYS_LEN];
    snprintf(key, sizeof key, "ohttp_%s", name);
    ov_buf_init(&b, OV_OHTTP_MAX_KEYS_LEN);
    int rc = ov_ohttp_keys_encode(cfg, 1, &b);
    rc = rc ? rc : ov_b64_encode(text, sizeof text, b.ptr, b.len, OV_B64_STD);
    ov_buf_clear(&b);
    return rc ? rc : w_config_set(w, key, text);
}

static int
config_load(struct wallet *w, const char *name, struct ov_ohttp_config *cfg)
{
    char key[32], text[2 * OV_OHTTP_MAX_KEYS_LEN];
    uint8_t raw[OV_OHTTP_MAX_KEYS_LEN];
    size_t len = 0, n = 0;
    snprintf(key, sizeof key, "ohttp_%s", name);
    int rc = w_config_get(w, key, text, sizeof text);
    rc = rc ? rc : ov_b64_decode(raw, sizeof raw, &len, text, strlen(text), OV_B64_STD);
    rc = rc ? rc : ov_ohttp_keys_parse(OV_BYTES(raw, len), cfg, 1, &n);
    return rc ? rc : n == 1 ? 0 : -OV_E_MALFORMED;
}

/* Fetches the gateway's key configuration from the gateway itself and keeps it. */
static int
config_fetch(struct tunnel *t)
{
    /* not tunnelled: the key is public and the same for everyone (ohttpclient.h) */
    struct ov_httpc *c = NULL;
    int rc = ov_httpc_new(&c);
    if (rc == 0) {
        ov_httpc_set_direct(c, true);
        rc = ov_ohttpc_fetch_config(c, t->base, &t->cfg);
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice: the %s's Oblivious HTTP key could not be fetched from "
                        "%s/ohttp-keys (%s)\n", t->name, t->base,
                c != NULL && ov_httpc_errmsg(c)[0] ? ov_httpc_errmsg(c) : ov_strerror(rc));
    }
    ov_httpc_free(c);
    return rc ? rc : config_store(t->w, t->name, &t->cfg);
}

/* The tunnel (core/infra/httpc): rq, meant for t->base + rest, sent through the relay. */
static int
through_relay(void *ctx, struct ov_httpc *c, const struct ov_httpc_req *rq, const char *rest,
              struct ov_httpc_resp *resp)
{
    struct tunnel *t = ctx;
    char lower[RELAY_MAX_HEADERS][OV_HTTPC_MAX_HEADER_LEN];
    const char *hdrs[RELAY_MAX_HEADERS];
    if (rq->n_headers > RELAY_MAX_HEADERS) {
        return -OV_E_TOO_BIG;
    }
    for (size_t i = 0; i < rq->n_headers; i++) {
        /* Binary HTTP field names are lowercase (RFC 9292 §3.6) */
        snprintf(lower[i], sizeof lower[i], "%s", rq->headers[i]);
        for (char *p = lower[i]; *p != '\0' && *p != ':'; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
        hdrs[i] = lower[i];
    }
    struct ov_ohttpc_req in = {
        .method = rq->method ? rq->method : rq->content_type ? "POST" : "GET",
        .target = rest[0] == '\0' ? "/" : rest,
        .authority = t->authority,
        .content_type = rq->content_type,
        .body = rq->body,
        .headers = hdrs,
        .n_headers = rq->n_headers,
        .timeout_ms = rq->timeout_ms,
    };
    struct ov_ohttpc_resp out;
    unsigned relay_status = 0;
    int rc = ov_ohttpc_send(c, t->relay_url, &t->cfg, &in, rq->resp_max, &out, &relay_status);
    if (rc == -OV_E_UNKNOWN_KEY && config_fetch(t) == 0) {
        rc = ov_ohttpc_send(c, t->relay_url, &t->cfg, &in, rq->resp_max, &out, &relay_status);
    }
    if (rc != 0) {
        if (relay_status != 0) {
            fprintf(stderr, "onevoice: the relay %s answered HTTP %u%s\n", t->relay_url,
                    relay_status, relay_status == 502 ? " (its gateway did not answer)" : "");
        } else {
            fprintf(stderr, "onevoice: the relay %s: %s\n", t->relay_url,
                    ov_httpc_errmsg(c)[0] ? ov_httpc_errmsg(c) : ov_strerror(rc));
        }
        return rc;
    }
    resp->status = out.status;
    snprintf(resp->content_type, sizeof resp->content_type, "%s", out.content_type);
    resp->body = out.body; /* handed over */
    ov_buf_init(&resp->headers, 0);
    return 0;
}

int
w_relay_start(struct wallet *w, bool fetch_keys)
{
    char relay[W_MAX_URL];
    if (w_config_get(w, "relay", relay, sizeof relay) != 0 || relay[0] == '\0') {
        return 0; /* none configured: direct */
    }
    const char *names[2] = { "verifier", "log" };
    const char *bases[2] = { w->verifier, w->log };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < 2; i++) {
        struct tunnel *t = &tunnels[i];
        memset(t, 0, sizeof *t);
        t->w = w;
        t->name = names[i];
        snprintf(t->base, sizeof t->base, "%.*s", (int)ov_httpc_base_len(bases[i]), bases[i]);
        snprintf(t->relay_url, sizeof t->relay_url, "%.*s/relay/%s",
                 (int)ov_httpc_base_len(relay), relay, t->name);
        authority_of(t->base, t->authority, sizeof t->authority);
        if (fetch_keys || config_load(w, t->name, &t->cfg) != 0) {
            rc = config_fetch(t);
        }
    }
    for (size_t i = 0; rc == 0 && i < 2; i++) {
        rc = ov_httpc_add_tunnel(tunnels[i].base, through_relay, &tunnels[i]);
    }
    return rc;
}
