#include "protocol/actionbatch.h"

#include <string.h>

#include <jansson.h>

size_t
ov_actionbatch_count(struct ov_bytes body)
{
    struct ov_bytes line;
    size_t n = 0;
    while (ov_actionbatch_next(&body, &line)) {
        n++;
    }
    return n;
}

bool
ov_actionbatch_next(struct ov_bytes *rest, struct ov_bytes *line)
{
    if (rest->len == 0) {
        return false;
    }
    const uint8_t *nl = memchr(rest->ptr, '\n', rest->len);
    size_t n = nl != NULL ? (size_t)(nl - rest->ptr) : rest->len;
    *line = OV_BYTES(rest->ptr, n);
    size_t taken = nl != NULL ? n + 1 : n;
    rest->ptr += taken;
    rest->len -= taken;
    return true;
}

static bool
reason_ok(const char *reason)
{
    size_t n = strlen(reason);
    if (n == 0 || n > OV_MAX_REASON_LEN) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((reason[i] < 'a' || reason[i] > 'z') && reason[i] != '_') {
            return false;
        }
    }
    return true;
}

int
ov_actionbatch_refusal(unsigned status, const char *reason, const char *message,
                       struct ov_buf *out)
{
    if (status < 400 || status > 599 || !reason_ok(reason)) {
        return -OV_E_MALFORMED;
    }
    json_t *o = json_pack("{sssssi}", "error", reason, "message", message, "http_status",
                          (int)status);
    if (o == NULL) {
        return -OV_E_MALFORMED; /* message is not UTF-8 */
    }
    size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT);
    int rc = n == 0 ? -OV_E_NOMEM : ov_buf_reserve(out, n + 1);
    if (rc == 0) {
        json_dumpb(o, (char *)out->ptr + out->len, n, JSON_COMPACT);
        out->len += n;
        out->ptr[out->len++] = '\n';
    }
    json_decref(o);
    return rc;
}

int
ov_actionbatch_refusal_parse(struct ov_bytes line, unsigned *status,
                             char reason[OV_MAX_REASON_LEN + 1])
{
    *status = 0;
    reason[0] = 0;
    json_t *o = json_loadb((const char *)line.ptr, line.len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return -OV_E_MALFORMED; /* neither a refusal nor a receipt */
    }
    if (json_object_get(o, "error") == NULL) {
        json_decref(o);
        return 0;
    }
    const char *r = json_string_value(json_object_get(o, "error"));
    json_t *m = json_object_get(o, "message"), *s = json_object_get(o, "http_status");
    json_int_t v = json_integer_value(s);
    int rc = -OV_E_MALFORMED;
    if (json_object_size(o) == 3 && r != NULL && reason_ok(r) && json_is_string(m) &&
        json_is_integer(s) && v >= 400 && v <= 599) {
        *status = (unsigned)v;
        memcpy(reason, r, strlen(r) + 1);
        rc = 1;
    }
    json_decref(o);
    return rc;
}

void
ov_actionbatch_answers_clear(struct ov_batch_answer *a, size_t n)
{
    for (size_t i = 0; a != NULL && i < n; i++) {
        ov_receipt_clear(&a[i].receipt);
        memset(&a[i], 0, sizeof a[i]);
        ov_receipt_init(&a[i].receipt);
    }
}

int
ov_actionbatch_answers_parse(struct ov_bytes body, size_t n, struct ov_batch_answer *out)
{
    struct ov_bytes line;
    size_t i = 0;
    int rc = 0;
    for (size_t k = 0; k < n; k++) {
        memset(&out[k], 0, sizeof out[k]);
        ov_receipt_init(&out[k].receipt);
    }
    while (rc == 0 && ov_actionbatch_next(&body, &line)) {
        if (i == n) {
            rc = -OV_E_MALFORMED;
            break;
        }
        struct ov_batch_answer *a = &out[i++];
        rc = ov_actionbatch_refusal_parse(line, &a->status, a->reason);
        if (rc == 0) {
            ov_receipt_clear(&a->receipt);
            rc = ov_receipt_parse(line, &a->receipt);
            a->status = a->receipt.status == OV_RECEIPT_PENDING ? 202 : 200;
        }
        rc = rc == 1 ? 0 : rc == -OV_E_TOO_BIG ? -OV_E_MALFORMED : rc;
    }
    rc = rc == 0 && i != n ? -OV_E_MALFORMED : rc;
    if (rc != 0) {
        ov_actionbatch_answers_clear(out, n);
    }
    return rc;
}
