#include "protocol/logclient.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/codec.h"
#include "protocol/logreq.h"
#include "infra/httpc.h"

#define OV_LOGCLIENT_MAX_URL 1024
#define OV_LOGCLIENT_RESP_MAX (OV_LOG_MAX_BATCH * 4096u)
#define LOG_WINDOW_S 60u /* docs/PROTOCOL.md 4.1: a request's time within 60 s of the log's */

struct ov_logclient {
    char url[OV_LOGCLIENT_MAX_URL];
    char producer[65];
    const struct ov_sign_key *key;
    struct ov_httpc *http;
    int64_t skew_ms;  /* after a 403 stale_request: this clock minus the log's */
    bool skew_known;
};

int
ov_logclient_new(const char *base_url, const char *producer, const struct ov_sign_key *key,
                 struct ov_logclient **out)
{
    *out = NULL;
    if (strlen(producer) > 64) {
        return -OV_E_TOO_BIG;
    }
    struct ov_logclient *c = calloc(1, sizeof *c);
    int rc = c ? ov_httpc_new_base(base_url, strlen("/add"), c->url, sizeof c->url, &c->http)
               : -OV_E_NOMEM;
    if (rc != 0) {
        free(c);
        return rc;
    }
    strcat(c->url, "/add");
    strcpy(c->producer, producer);
    c->key = key;
    *out = c;
    return 0;
}

void
ov_logclient_free(struct ov_logclient *c)
{
    if (c != NULL) {
        ov_httpc_free(c->http);
        free(c);
    }
}

/* The log's clock from its stale_request answer ("time", ms; else the Date header, to the
 * second) against ours now: the skew the explanation gives. */
static void
note_skew(struct ov_logclient *c, json_t *root, const struct ov_httpc_resp *resp)
{
    json_t *t = json_object_get(root, "time");
    uint64_t log_ms = 0;
    c->skew_known = json_is_integer(t) && json_integer_value(t) > 0;
    if (c->skew_known) {
        log_ms = (uint64_t)json_integer_value(t);
    } else {
        c->skew_known = ov_httpc_resp_date_ms(resp, &log_ms) == 0;
    }
    uint64_t now = ov_now_ms();
    c->skew_ms = now >= log_ms ? (int64_t)(now - log_ms) : -(int64_t)(log_ms - now);
}

void
ov_logclient_explain(const struct ov_logclient *c, int rc, const struct ov_log_ack *ack,
                     char *buf, size_t len)
{
    if (rc != -OV_E_HTTP) {
        snprintf(buf, len, "%s", ov_strerror(rc));
    } else if (ack->status == 0) {
        snprintf(buf, len, "no answer from the log (%s)", c != NULL ? ov_httpc_errmsg(c->http) : "");
    } else if (strcmp(ack->reason, "stale_request") == 0 && c != NULL && c->skew_known) {
        uint64_t off = c->skew_ms < 0 ? (uint64_t)-c->skew_ms : (uint64_t)c->skew_ms;
        snprintf(buf, len, "stale_request (HTTP %u): this machine's clock is %llu.%llu s %s the "
                 "log's, and the log takes requests at most %u s off: fix this machine's clock "
                 "(NTP), or the log's if it is the wrong one", ack->status,
                 (unsigned long long)(off / 1000), (unsigned long long)(off % 1000 / 100),
                 c->skew_ms < 0 ? "behind" : "ahead of", LOG_WINDOW_S);
    } else {
        snprintf(buf, len, "%s (HTTP %u)", ack->reason, ack->status);
    }
}

int
ov_logclient_append_hashed(struct ov_logclient *c, const struct ov_bytes *entries,
                           const uint8_t *hashes, size_t n, bool wait_checkpoint,
                           struct ov_log_ack *ack)
{
    struct ov_buf body;
    char sig[96], header[128];
    struct ov_httpc_resp resp;
    memset(ack, 0, sizeof *ack);
    memset(&resp, 0, sizeof resp);
    int rc = ov_logreq_build(c->key, c->producer, entries, n, wait_checkpoint, &body, sig);
    if (rc != 0) {
        return rc;
    }
    char producer[128];
    snprintf(header, sizeof header, "%s: %s", OV_LOG_SIG_HEADER, sig);
    snprintf(producer, sizeof producer, "%s: %s", OV_LOG_PRODUCER_HEADER, c->producer);
    const char *headers[2] = { header, producer };
    struct ov_httpc_req rq = {
        .method = "POST",
        .url = c->url,
        .content_type = "application/cbor",
        .body = ov_buf_view(&body),
        .headers = headers,
        .n_headers = 2,
        .timeout_ms = 60000,
        .resp_max = OV_LOGCLIENT_RESP_MAX,
    };
    rc = ov_httpc_do(c->http, &rq, &resp);
    ov_buf_clear(&body);
    if (rc != 0) {
        return -OV_E_HTTP;
    }
    if (resp.status == 200) {
        rc = ov_log_ack_parse(ov_buf_view(&resp.body), hashes, n, wait_checkpoint, ack);
    } else {
        json_error_t e;
        json_t *root = json_loadb((const char *)resp.body.ptr, resp.body.len, 0, &e);
        const char *reason = json_string_value(json_object_get(root, "error"));
        snprintf(ack->reason, sizeof ack->reason, "%s", reason ? reason : "unknown");
        if (reason != NULL && strcmp(reason, "stale_request") == 0) {
            note_skew(c, root, &resp);
        }
        json_decref(root);
        rc = -OV_E_HTTP;
    }
    ack->status = resp.status;
    ov_httpc_resp_clear(&resp);
    return rc;
}

int
ov_logclient_append(struct ov_logclient *c, const struct ov_bytes *entries, size_t n,
                    bool wait_checkpoint, struct ov_log_ack *ack)
{
    uint8_t *hashes = calloc(n ? n : 1, OV_HASH_LEN);
    int rc = hashes != NULL ? 0 : -OV_E_NOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = ov_merkle_leaf_hash(entries[i].ptr, entries[i].len, hashes + i * OV_HASH_LEN);
    }
    if (rc == 0) {
        rc = ov_logclient_append_hashed(c, entries, hashes, n, wait_checkpoint, ack);
    } else {
        memset(ack, 0, sizeof *ack);
    }
    free(hashes);
    return rc;
}
