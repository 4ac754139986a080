/* test_ohttpgw: the gateway (core/protocol/ohttpgw) mounted on a real HTTP server on
 * loopback, reached with the real client (core/protocol/ohttpclient) straight at /gateway:
 * inner requests get the server's own routing and checks (404, 405 with Allow, 413 past the
 * route's cap, the precheck), queries, request headers, reply headers, a long poll woken by
 * a notify and one that expires (503), through the gateway as directly; the key file (0600,
 * the same configuration when opened again), and the refusals before decapsulation. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../test.h"
#include "infra/http.h"
#include "infra/httpc.h"
#include "protocol/bhttp.h"
#include "protocol/ohttpclient.h"
#include "protocol/ohttpgw.h"

static int
h_hello(struct ov_req *rq)
{
    const char *who = NULL;
    const char *hdr = ov_req_header(rq, "X-Who");
    char out[128];
    if (ov_req_query(rq, "name", &who) != 0) {
        who = "nobody";
    }
    snprintf(out, sizeof out, "hello %s %s", who, hdr ? hdr : "-");
    int rc = ov_http_header(rq, "ETag", "\"v1\"");
    return rc ? rc : ov_http_reply(rq, 200, "text/plain", OV_BYTES(out, strlen(out)));
}

static int
h_echo(struct ov_req *rq)
{
    return ov_http_reply(rq, 201, "application/octet-stream", ov_req_body(rq));
}

/* A long poll: waits on channel 1 until notified, then answers "woken"; expires to 503. */
static int
h_wait(struct ov_req *rq)
{
    if (ov_req_state(rq) == NULL) {
        ov_req_set_state(rq, (void *)1, NULL);
        return ov_http_wait_on(rq, 1, 300);
    }
    if (ov_req_wait_expired(rq)) {
        return ov_http_error(rq, 503, "wait_expired", "nothing came");
    }
    return ov_http_reply(rq, 200, "text/plain", OV_BYTES_STR("woken"));
}

static int
h_secret(struct ov_req *rq)
{
    return ov_http_reply(rq, 200, "text/plain", OV_BYTES_STR("never"));
}

static int
precheck(struct ov_req *rq)
{
    if (strcmp(ov_req_path(rq), "/secret") == 0 && ov_req_header(rq, "X-Key") == NULL) {
        return ov_http_error(rq, 403, "forbidden", "no key");
    }
    return 0;
}

static const struct ov_http_route routes[] = {
    { "GET", "/hello", h_hello, 0 },
    { "POST", "/echo", h_echo, 16 },
    { "GET", "/wait", h_wait, 0 },
    { "GET", "/secret", h_secret, 0 },
    OV_OHTTPGW_ROUTES,
};

static struct ov_http *srv;
static char base[128], gw[160];
static struct ov_ohttp_config cfg;

static unsigned
via_gw(struct ov_httpc *hc, const char *method, const char *target, const char *ctype,
     const char *body, const char *const *hdrs, size_t n_hdrs, char *out, size_t out_max)
{
    struct ov_ohttpc_req rq = {
        .method = method, .target = target, .authority = "", .content_type = ctype,
        .body = body ? OV_BYTES(body, strlen(body)) : OV_BYTES(NULL, 0), .headers = hdrs,
        .n_headers = n_hdrs,
    };
    struct ov_ohttpc_resp r;
    unsigned st = 0;
    int rc = ov_ohttpc_send(hc, gw, &cfg, &rq, 0, &r, &st);
    if (rc != 0) {
        snprintf(out, out_max, "error %s %u", ov_strerror(rc), st);
        return 0;
    }
    snprintf(out, out_max, "%s|%.*s", r.content_type, (int)r.body.len, (const char *)r.body.ptr);
    st = r.status;
    ov_ohttpc_resp_clear(&r);
    return st;
}

static void *
notifier(void *arg)
{
    (void)arg;
    usleep(100 * 1000);
    ov_http_notify_channel(srv, 1);
    return NULL;
}

static void
check_inner(void)
{
    struct ov_httpc *hc = NULL;
    char out[512];
    CHECK(ov_httpc_new(&hc) == 0);
    CHECK(ov_ohttpc_fetch_config(hc, base, &cfg) == 0);
    const char *who[] = { "x-who: relay-free" };
    CHECK_EQ_INT(via_gw(hc, "GET", "/hello?name=ana", NULL, NULL, who, 1, out, sizeof out), 200);
    CHECK(strcmp(out, "text/plain|hello ana relay-free") == 0);
    CHECK_EQ_INT(via_gw(hc, "HEAD", "/hello", NULL, NULL, NULL, 0, out, sizeof out), 200);
    CHECK(strcmp(out, "text/plain|") == 0);
    CHECK_EQ_INT(via_gw(hc, "GET", "/nope", NULL, NULL, NULL, 0, out, sizeof out), 404);
    CHECK(strstr(out, "\"not_found\"") != NULL);
    CHECK_EQ_INT(via_gw(hc, "POST", "/hello", "text/plain", "x", NULL, 0, out, sizeof out), 405);
    CHECK_EQ_INT(via_gw(hc, "POST", "/echo", "text/plain", "0123456789", NULL, 0, out, sizeof out),
                 201);
    CHECK(strcmp(out, "application/octet-stream|0123456789") == 0);
    CHECK_EQ_INT(via_gw(hc, "POST", "/echo", "text/plain", "0123456789abcdefg", NULL, 0, out,
                      sizeof out), 413);
    CHECK_EQ_INT(via_gw(hc, "GET", "/secret", NULL, NULL, NULL, 0, out, sizeof out), 403);
    const char *key[] = { "x-key: 1" };
    CHECK_EQ_INT(via_gw(hc, "GET", "/secret", NULL, NULL, key, 1, out, sizeof out), 200);
    /* a gateway request inside another (a well-made one): refused, never nested */
    struct ov_buf inner;
    ov_buf_init(&inner, 4096);
    {
        static struct ov_bhttp_msg m;
        struct ov_buf plain;
        struct ov_ohttp_client c;
        ov_buf_init(&plain, 4096);
        m.method = OV_BYTES_STR("GET");
        m.scheme = OV_BYTES_STR("https");
        m.path = OV_BYTES_STR("/hello");
        CHECK(ov_bhttp_encode(&m, &plain) == 0);
        CHECK(ov_ohttp_encap_request(&cfg, ov_hpke_chacha20poly1305(), NULL, ov_buf_view(&plain),
                                     &inner, &c) == 0);
        CHECK(ov_buf_terminate(&inner) == 0);
        ov_ohttp_client_clear(&c);
        ov_buf_clear(&plain);
    }
    struct ov_ohttpc_req nested = {
        .method = "POST", .target = "/gateway", .authority = "",
        .content_type = "message/ohttp-req", .body = ov_buf_view(&inner),
    };
    struct ov_ohttpc_resp nr;
    CHECK(ov_ohttpc_send(hc, gw, &cfg, &nested, 0, &nr, NULL) == 0);
    CHECK_EQ_INT(nr.status, 400);
    CHECK(memmem(nr.body.ptr, nr.body.len, "nested_gateway", 14) != NULL);
    ov_ohttpc_resp_clear(&nr);
    ov_buf_clear(&inner);
    /* long polls: expired, then woken by a notify */
    CHECK_EQ_INT(via_gw(hc, "GET", "/wait", NULL, NULL, NULL, 0, out, sizeof out), 503);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, notifier, NULL) == 0);
    CHECK_EQ_INT(via_gw(hc, "GET", "/wait", NULL, NULL, NULL, 0, out, sizeof out), 200);
    CHECK(strcmp(out, "text/plain|woken") == 0);
    pthread_join(t, NULL);
    /* an inner Expect: 100-continue is refused (RFC 9458 §5.1), encapsulated */
    const char *expect[] = { "expect: 100-continue" };
    CHECK_EQ_INT(via_gw(hc, "GET", "/hello", NULL, NULL, expect, 1, out, sizeof out), 400);
    CHECK(strstr(out, "bad_bhttp") != NULL);
    ov_httpc_free(hc);
}

static void
check_refusals(void)
{
    struct ov_httpc *hc = NULL;
    struct ov_httpc_resp r;
    CHECK(ov_httpc_new(&hc) == 0);
    CHECK(ov_httpc_post(hc, gw, "application/json", OV_BYTES_STR("{}"), 0, &r) == 0);
    CHECK_EQ_INT(r.status, 415);
    ov_httpc_resp_clear(&r);
    CHECK(ov_httpc_post(hc, gw, "message/ohttp-req", OV_BYTES_STR("short"), 0, &r) == 0);
    CHECK_EQ_INT(r.status, 400);
    CHECK(memmem(r.body.ptr, r.body.len, "ohttp_decapsulation", 19) != NULL);
    ov_httpc_resp_clear(&r);
    uint8_t wrong_id[7 + 32 + 16] = { (uint8_t)(cfg.key_id + 1), 0, 0x20, 0, 1, 0, 3 };
    CHECK(ov_httpc_post(hc, gw, "message/ohttp-req", OV_BYTES(wrong_id, sizeof wrong_id), 0,
                        &r) == 0);
    CHECK_EQ_INT(r.status, 400);
    CHECK(strcmp(r.content_type, "application/problem+json") == 0);
    ov_httpc_resp_clear(&r);
    /* the client reads that as "fetch the key configuration again" */
    struct ov_ohttp_config stale = cfg;
    stale.key_id++;
    struct ov_ohttpc_req rq = { .method = "GET", .target = "/hello", .authority = "" };
    struct ov_ohttpc_resp resp;
    CHECK(ov_ohttpc_send(hc, gw, &stale, &rq, 0, &resp, NULL) == -OV_E_UNKNOWN_KEY);
    ov_httpc_free(hc);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    char dir[] = "/tmp/test_ohttpgw.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK(ov_ohttpgw_open(dir) == 0);
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, OV_OHTTPGW_KEY_FILE);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    struct ov_buf k1, k2;
    ov_buf_init(&k1, 4096);
    ov_buf_init(&k2, 4096);
    CHECK(ov_ohttpgw_keys(&k1) == 0 && k1.len == 2 + 41);
    ov_ohttpgw_close();
    CHECK(ov_ohttpgw_open(dir) == 0); /* the same key again */
    CHECK(ov_ohttpgw_keys(&k2) == 0 && k1.len == k2.len && memcmp(k1.ptr, k2.ptr, k1.len) == 0);

    struct ov_http_cfg hc = {
        .listen = "127.0.0.1:0", .routes = routes, .n_routes = sizeof routes / sizeof routes[0],
        .quiet = true, .n_threads = 2, .precheck = precheck,
    };
    CHECK(ov_http_start(&hc, &srv) == 0);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", ov_http_port(srv));
    snprintf(gw, sizeof gw, "%s/gateway", base);
    check_inner();
    check_refusals();
    ov_http_stop(srv);
    ov_ohttpgw_close();
    unlink(path);
    rmdir(dir);
    ov_buf_clear(&k1);
    ov_buf_clear(&k2);
    TEST_DONE("test_ohttpgw");
}
