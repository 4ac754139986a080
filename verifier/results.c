#include "results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "protocol/logfiles.h"

#define RESULTS_BACKOFF_MIN_MS 50
#define RESULTS_BACKOFF_MAX_MS 2000

/* The follower's thread alone. */
static struct {
    uint64_t retry_at;  /* ov_now_ms() before which no upload is tried */
    uint32_t backoff;   /* ms, 0 after a success */
    char said[400];     /* the last failure said, so that a retry does not repeat it */
} g_up;

bool
vf_results_due(void)
{
    return g_up.backoff == 0 || ov_now_ms() >= g_up.retry_at;
}

/* Why an upload failed, in words. */
static void
explain(int rc, const struct ov_logfile_ack *ack, size_t len, char *buf, size_t max)
{
    if (rc == -OV_E_MALFORMED) {
        snprintf(buf, max, "the log's answer names another file");
    } else if (rc != -OV_E_HTTP) {
        snprintf(buf, max, "%s", ov_strerror(rc));
    } else if (ack->status == 0) {
        snprintf(buf, max, "no answer from the log");
    } else if (strcmp(ack->reason, "body_too_large") == 0) {
        snprintf(buf, max, "body_too_large (HTTP %u): the file is %zu bytes, over the log's "
                 "--max-file-bytes: raise it", ack->status, len);
    } else if (strcmp(ack->reason, "stale_request") == 0) {
        snprintf(buf, max, "stale_request (HTTP %u): this machine's clock is more than 60 s "
                 "off the log's: fix the clock that is wrong (NTP)", ack->status);
    } else {
        snprintf(buf, max, "%s (HTTP %u)", ack->reason, ack->status);
    }
}

/* One file: 1 on the log, 0 refused or unreachable (said), < 0 memory. */
static int
upload(struct vf_app *app, const char *what, uint8_t *bytes, size_t len)
{
    struct ov_logfile_ack ack;
    char why[200], line[sizeof g_up.said];
    int rc = ov_logfile_upload(app->log.url, VF_PRODUCER, app->producer_key,
                               OV_BYTES(bytes, len), &ack);
    free(bytes);
    if (rc == 0) {
        return 1;
    }
    if (rc == -OV_E_NOMEM) {
        return rc;
    }
    explain(rc, &ack, len, why, sizeof why);
    snprintf(line, sizeof line, "uploading a statement round's %s result to the log: %s; its "
             "tally waits for it (retried)", what, why);
    if (strcmp(line, g_up.said) != 0) {
        fprintf(stderr, "onevoice-verifier: %s\n", line);
        memcpy(g_up.said, line, sizeof line);
    }
    ov_counter_add(app->m_log_errors, 1);
    return 0;
}

int
vf_results_upload(struct vf_app *app, const struct ov_roundresult *r)
{
    uint8_t *b = NULL;
    size_t n = 0;
    int rc = ov_bridge_encode(&r->bridging, &b, &n);
    rc = rc ? rc : upload(app, "bridging", b, n);
    if (rc == 1 && r->groups_run) { /* groups not run: empty bytes, no file (§11.3) */
        b = NULL;
        rc = ov_groups_encode(&r->groups, &b, &n);
        rc = rc ? rc : upload(app, "groups", b, n);
    }
    if (rc == 1) {
        g_up.backoff = 0;
        g_up.said[0] = 0;
    } else if (rc == 0) {
        g_up.backoff = g_up.backoff == 0 ? RESULTS_BACKOFF_MIN_MS
                       : (g_up.backoff * 2 > RESULTS_BACKOFF_MAX_MS ? RESULTS_BACKOFF_MAX_MS
                                                                    : g_up.backoff * 2);
        g_up.retry_at = ov_now_ms() + g_up.backoff;
    }
    return rc;
}
