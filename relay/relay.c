/* relay: POST /relay/:name, the gateways it knows, a client per thread.
 *
 * What the relay must not do (RFC 9458 §6.1 and THREAT-MODEL.md): add anything to the request
 * that could tell the gateway who sent it. The forwarded request is built afresh: POST, the
 * gateway's URL (its Host), Content-Type: message/ohttp-req, Content-Length and the body;
 * nothing of the sender's request but its body, and libcurl's own "Accept" and "Expect" lines
 * removed. Nothing is logged per request: no address, no body, no size. */
#include "relay.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "infra/httpc.h"

static pthread_key_t client_key;
static bool key_made;

static void
free_client(void *p)
{
    ov_httpc_free(p);
}

/* The calling thread's client (kept alive: connections to the gateways are reused). */
static struct ov_httpc *
thread_client(void)
{
    struct ov_httpc *c = pthread_getspecific(client_key);
    if (c == NULL && ov_httpc_new(&c) == 0 && pthread_setspecific(client_key, c) != 0) {
        ov_httpc_free(c);
        c = NULL;
    }
    return c;
}

static bool
name_ok(const char *s, size_t n)
{
    if (n == 0 || n > RELAY_MAX_NAME_LEN) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) {
            return false;
        }
    }
    return true;
}

int
relay_gateways_parse(const char *list, struct relay_app *app, char *why, size_t why_len)
{
    app->n_gateways = 0;
    for (const char *p = list; *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t nn = eq ? (size_t)(eq - p) : 0, un = eq ? n - nn - 1 : 0;
        const char *url = eq ? eq + 1 : "";
        if (!name_ok(p, nn)) {
            snprintf(why, why_len, "\"%.*s\": NAME=URL with NAME of 1..%d [a-z0-9-]", (int)n, p,
                     RELAY_MAX_NAME_LEN);
            return -OV_E_MALFORMED;
        }
        if (un > RELAY_MAX_URL_LEN ||
            !((un > 7 && strncmp(url, "http://", 7) == 0) ||
              (un > 8 && strncmp(url, "https://", 8) == 0))) {
            snprintf(why, why_len, "\"%.*s\": the URL must be http(s)://... (at most %d bytes)",
                     (int)n, p, RELAY_MAX_URL_LEN);
            return -OV_E_MALFORMED;
        }
        for (size_t i = 0; i < app->n_gateways; i++) {
            if (strlen(app->gateways[i].name) == nn &&
                memcmp(app->gateways[i].name, p, nn) == 0) {
                snprintf(why, why_len, "the gateway \"%.*s\" is named twice", (int)nn, p);
                return -OV_E_MALFORMED;
            }
        }
        if (app->n_gateways == RELAY_MAX_GATEWAYS) {
            snprintf(why, why_len, "at most %d gateways", RELAY_MAX_GATEWAYS);
            return -OV_E_TOO_BIG;
        }
        struct relay_gateway *g = &app->gateways[app->n_gateways++];
        memcpy(g->name, p, nn);
        g->name[nn] = '\0';
        memcpy(g->url, url, un);
        g->url[un] = '\0';
        p = end ? end + 1 : p + n;
    }
    if (app->n_gateways == 0) {
        snprintf(why, why_len, "no gateway");
        return -OV_E_MALFORMED;
    }
    return 0;
}

int
relay_app_init(struct relay_app *app, struct ov_metrics *m)
{
    if (!key_made && pthread_key_create(&client_key, free_client) != 0) {
        return -OV_E_NOMEM;
    }
    key_made = true;
    int rc = ov_metrics_counter(m, "relay_refused_total", "Requests refused by the relay itself",
                                "reason=\"unknown_gateway\"", &app->unknown);
    rc = rc ? rc
            : ov_metrics_counter(m, "relay_refused_total", "Requests refused by the relay itself",
                                 "reason=\"media_type\"", &app->bad_type);
    for (size_t i = 0; rc == 0 && i < app->n_gateways; i++) {
        char labels[64];
        snprintf(labels, sizeof labels, "gateway=\"%s\"", app->gateways[i].name);
        rc = ov_metrics_counter(m, "relay_forwarded_total",
                                "Requests forwarded that the gateway answered", labels,
                                &app->gateways[i].relayed);
        rc = rc ? rc
                : ov_metrics_counter(m, "relay_gateway_failures_total",
                                     "Requests whose gateway could not be reached (502)", labels,
                                     &app->gateways[i].failed);
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-relay: metrics unavailable\n");
    }
    return 0;
}

void
relay_app_clear(struct relay_app *app)
{
    (void)app; /* clients are freed with their threads (the key's destructor) */
}

static int
h_relay(struct ov_req *rq)
{
    struct relay_app *app = ov_req_user(rq);
    const char *name = ov_req_param(rq, "name");
    struct relay_gateway *gw = NULL;
    for (size_t i = 0; i < app->n_gateways && gw == NULL; i++) {
        gw = strcmp(app->gateways[i].name, name) == 0 ? &app->gateways[i] : NULL;
    }
    if (gw == NULL) {
        ov_counter_add(app->unknown, 1);
        return ov_http_error(rq, 404, "unknown_gateway", "this relay has no such gateway");
    }
    const char *ct = ov_req_header(rq, "Content-Type");
    if (ct == NULL || strcasecmp(ct, "message/ohttp-req") != 0) {
        ov_counter_add(app->bad_type, 1);
        return ov_http_error(rq, 415, "unsupported_media_type", "send message/ohttp-req");
    }
    struct ov_httpc *hc = thread_client();
    if (hc == NULL) {
        return ov_http_error(rq, 503, "unavailable", "retry later");
    }
    static const char *const strip[] = { "Accept:", "Expect:" };
    struct ov_httpc_req hr = {
        .method = "POST", .url = gw->url, .content_type = "message/ohttp-req",
        .body = ov_req_body(rq), .headers = strip, .n_headers = 2,
        .timeout_ms = app->timeout_ms, .resp_max = RELAY_RESP_MAX,
    };
    struct ov_httpc_resp r;
    int rc = ov_httpc_do(hc, &hr, &r);
    ov_req_body_drop(rq);
    if (rc != 0) {
        ov_counter_add(gw->failed, 1);
        return ov_http_error(rq, 502, "gateway_unreachable",
                             rc == -OV_E_TOO_BIG ? "the gateway's answer is too large"
                                                 : "the gateway did not answer");
    }
    if (r.status < 200 || r.status > 599) {
        ov_httpc_resp_clear(&r);
        ov_counter_add(gw->failed, 1);
        return ov_http_error(rq, 502, "gateway_unreachable", "the gateway's answer is not HTTP");
    }
    ov_counter_add(gw->relayed, 1);
    /* the gateway's answer as it came: its status and type, never its other headers */
    rc = ov_http_header(rq, "Cache-Control", "no-store");
    rc = rc ? rc
            : ov_http_reply(rq, r.status, r.content_type[0] ? r.content_type : NULL,
                            ov_buf_view(&r.body));
    ov_httpc_resp_clear(&r);
    return rc;
}

const struct ov_http_route relay_routes[] = {
    { "POST", "/relay/:name", h_relay, RELAY_BODY_MAX },
};
const size_t relay_n_routes = sizeof relay_routes / sizeof relay_routes[0];
