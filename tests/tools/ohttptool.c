/* ohttptool: drives the Oblivious HTTP client (core/protocol/ohttpclient) for tests/e2e/ohttp.sh.
 *
 *   ohttptool send RELAY_URL GATEWAY_BASE METHOD TARGET [CONTENT_TYPE BODY_FILE]
 *       one request through the relay; prints "status N", "type T", then the inner body
 *       (to the file $OHTTP_OUT instead, when set) (exit 0), or "error REASON relay-status N"
 *       (exit 1)
 *   ohttptool encap GATEWAY_BASE METHOD TARGET OUT_FILE [KEY_ID]
 *       writes an Encapsulated Request (its key id replaced by KEY_ID if given)
 *   ohttptool bench URL GATEWAY_BASE METHOD TARGET N
 *       N requests, one after another: through URL (a relay's /relay/NAME or a gateway's
 *       /gateway) when GATEWAY_BASE is not "-", else plain requests to URL + TARGET;
 *       prints "requests N seconds S per_second R bytes_out B bytes_in B" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/bytes.h"
#include "protocol/bhttp.h"
#include "protocol/ohttpclient.h"

static void
die(const char *what, int rc)
{
    fprintf(stderr, "ohttptool: %s: %s\n", what, ov_strerror(rc));
    exit(2);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmd_send(struct ov_httpc *hc, int argc, char **argv)
{
    struct ov_ohttp_config cfg;
    int rc = ov_ohttpc_fetch_config(hc, argv[3], &cfg);
    if (rc != 0) {
        die("fetching the key configuration", rc);
    }
    struct ov_buf body;
    ov_buf_init(&body, 1 << 20);
    struct ov_ohttpc_req rq = { .method = argv[4], .target = argv[5], .authority = "" };
    if (argc >= 8) {
        if (ov_file_read(argv[7], 1 << 20, &body) != 0) {
            die("reading the body", -OV_E_IO);
        }
        rq.content_type = argv[6];
        rq.body = ov_buf_view(&body);
    }
    struct ov_ohttpc_resp resp;
    unsigned relay_status = 0;
    rc = ov_ohttpc_send(hc, argv[2], &cfg, &rq, 0, &resp, &relay_status);
    ov_buf_clear(&body);
    if (rc != 0) {
        printf("error %s relay-status %u\n", ov_strerror(rc), relay_status);
        return 1;
    }
    printf("status %u\ntype %s\n", resp.status, resp.content_type);
    const char *out = getenv("OHTTP_OUT"); /* the body, byte for byte, to this file */
    if (out != NULL) {
        rc = ov_file_write_atomic(out, resp.body.ptr, resp.body.len, 0600);
    } else {
        fwrite(resp.body.ptr, 1, resp.body.len, stdout);
        printf("\n");
    }
    ov_ohttpc_resp_clear(&resp);
    return rc == 0 ? 0 : 1;
}

static int
cmd_encap(struct ov_httpc *hc, int argc, char **argv)
{
    struct ov_ohttp_config cfg;
    int rc = ov_ohttpc_fetch_config(hc, argv[2], &cfg);
    if (rc != 0) {
        die("fetching the key configuration", rc);
    }
    static struct ov_bhttp_msg m;
    m.method = OV_BYTES(argv[3], strlen(argv[3]));
    m.scheme = OV_BYTES_STR("https");
    m.path = OV_BYTES(argv[4], strlen(argv[4]));
    struct ov_buf plain, enc;
    ov_buf_init(&plain, 1 << 16);
    ov_buf_init(&enc, 1 << 16);
    struct ov_ohttp_client st;
    rc = ov_bhttp_encode(&m, &plain);
    rc = rc ? rc
            : ov_ohttp_encap_request(&cfg, ov_hpke_chacha20poly1305(), NULL, ov_buf_view(&plain),
                                     &enc, &st);
    if (rc != 0) {
        die("encapsulating", rc);
    }
    if (argc >= 7) {
        enc.ptr[0] = (uint8_t)atoi(argv[6]);
    }
    rc = ov_file_write_atomic(argv[5], enc.ptr, enc.len, 0600);
    if (rc != 0) {
        die("writing", rc);
    }
    ov_ohttp_client_clear(&st);
    ov_buf_clear(&plain);
    ov_buf_clear(&enc);
    return 0;
}

static int
cmd_bench(struct ov_httpc *hc, char **argv)
{
    bool oblivious = strcmp(argv[3], "-") != 0;
    long n = atol(argv[6]);
    struct ov_ohttp_config cfg;
    if (oblivious && ov_ohttpc_fetch_config(hc, argv[3], &cfg) != 0) {
        die("fetching the key configuration", -OV_E_HTTP);
    }
    char url[2048];
    snprintf(url, sizeof url, "%s%s", argv[2], argv[5]);
    struct ov_ohttpc_req rq = { .method = argv[4], .target = argv[5], .authority = "" };
    size_t out = 0, in = 0;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (oblivious) {
            struct ov_ohttpc_resp resp;
            int rc = ov_ohttpc_send(hc, argv[2], &cfg, &rq, 0, &resp, NULL);
            if (rc != 0 || resp.status != 200) {
                die("request", rc ? rc : -OV_E_HTTP);
            }
            in += resp.body.len;
            ov_ohttpc_resp_clear(&resp);
        } else {
            struct ov_httpc_resp resp;
            int rc = ov_httpc_get(hc, url, 0, &resp);
            if (rc != 0 || resp.status != 200) {
                die("request", rc ? rc : -OV_E_HTTP);
            }
            in += resp.body.len;
            ov_httpc_resp_clear(&resp);
        }
        out += strlen(argv[5]);
    }
    double dt = now_s() - t0;
    printf("requests %ld seconds %.3f per_second %.0f\n", n, dt, (double)n / dt);
    (void)out;
    (void)in;
    return 0;
}

int
main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        return 2;
    }
    struct ov_httpc *hc = NULL;
    if (ov_httpc_new(&hc) != 0) {
        return 2;
    }
    int rc = 2;
    if (argc >= 6 && strcmp(argv[1], "send") == 0) {
        rc = cmd_send(hc, argc, argv);
    } else if (argc >= 6 && strcmp(argv[1], "encap") == 0) {
        rc = cmd_encap(hc, argc, argv);
    } else if (argc >= 7 && strcmp(argv[1], "bench") == 0) {
        rc = cmd_bench(hc, argv);
    } else {
        fprintf(stderr, "usage: ohttptool send|encap|bench ... (see tests/tools/ohttptool.c)\n");
    }
    ov_httpc_free(hc);
    return rc;
}
