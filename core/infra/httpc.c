#include "infra/httpc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

struct ov_httpc {
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
};

/* What the write callback fills; over_cap tells a refused body from other write errors. */
struct sink {
    struct ov_buf *body;
    struct ov_buf *headers;
    bool over_cap;
    bool nomem;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void
global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
ov_httpc_new(struct ov_httpc **out)
{
    *out = NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        return -OV_E_HTTP;
    }
    struct ov_httpc *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return -OV_E_NOMEM;
    }
    c->easy = curl_easy_init();
    if (c->easy == NULL) {
        free(c);
        return -OV_E_HTTP;
    }
    *out = c;
    return 0;
}

void
ov_httpc_free(struct ov_httpc *c)
{
    if (c == NULL) {
        return;
    }
    curl_easy_cleanup(c->easy);
    free(c);
}

const char *
ov_httpc_errmsg(const struct ov_httpc *c)
{
    return c->errbuf;
}

void
ov_httpc_resp_clear(struct ov_httpc_resp *resp)
{
    if (resp == NULL) {
        return;
    }
    ov_buf_clear(&resp->body);
    ov_buf_clear(&resp->headers);
    resp->status = 0;
    resp->content_type[0] = '\0';
}

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct sink *s = arg;
    size_t n = size * nmemb; /* size is always 1 (libcurl documents it) */
    int rc = ov_buf_append(s->body, p, n);
    if (rc == 0) {
        return n;
    }
    s->over_cap = rc == -OV_E_TOO_BIG;
    s->nomem = rc == -OV_E_NOMEM;
    return 0; /* anything but n aborts the transfer */
}

/* libcurl hands every header line of every response it reads, the interim ones (100
 * Continue) included; keep only the last response's. */
static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct sink *s = arg;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        s->headers->len = 0;
    }
    int rc = ov_buf_append(s->headers, p, n);
    if (rc == 0) {
        return n;
    }
    s->over_cap = rc == -OV_E_TOO_BIG;
    s->nomem = rc == -OV_E_NOMEM;
    return 0;
}

int
ov_httpc_resp_header(const struct ov_httpc_resp *resp, const char *name, char *out, size_t out_max)
{
    size_t name_len = strlen(name);
    const char *p = (const char *)resp->headers.ptr;
    const char *end = p + resp->headers.len;
    if (out_max > 0) {
        out[0] = '\0';
    }
    while (p != NULL && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol != NULL ? eol : end;
        if ((size_t)(line_end - p) > name_len && p[name_len] == ':' &&
            strncasecmp(p, name, name_len) == 0) {
            const char *v = p + name_len + 1;
            const char *ve = line_end;
            while (v < ve && (*v == ' ' || *v == '\t')) {
                v++;
            }
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) {
                ve--;
            }
            size_t n = (size_t)(ve - v);
            if (n >= out_max) {
                return -OV_E_TOO_BIG;
            }
            memcpy(out, v, n);
            out[n] = '\0';
            return 0;
        }
        p = eol != NULL ? eol + 1 : NULL;
    }
    return -OV_E_NOT_FOUND;
}

int
ov_httpc_resp_date_ms(const struct ov_httpc_resp *resp, uint64_t *ms)
{
    char v[64];
    struct tm tm;
    *ms = 0;
    int rc = ov_httpc_resp_header(resp, "Date", v, sizeof v);
    if (rc != 0) {
        return rc;
    }
    /* IMF-fixdate (RFC 9110 5.6.7), what every server sends: the names are English */
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    time_t t = end != NULL && *end == '\0' ? timegm(&tm) : (time_t)-1;
    if (t < 0) {
        return -OV_E_MALFORMED;
    }
    *ms = (uint64_t)t * 1000u;
    return 0;
}

static bool
header_ok(const char *h)
{
    size_t n = strnlen(h, OV_HTTPC_MAX_HEADER_LEN + 1);
    if (n == 0 || n > OV_HTTPC_MAX_HEADER_LEN || strchr(h, ':') == NULL) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (h[i] == '\r' || h[i] == '\n') {
            return false;
        }
    }
    return true;
}

static int
build_headers(const struct ov_httpc_req *rq, struct curl_slist **out)
{
    struct curl_slist *list = NULL, *next;
    *out = NULL;
    if (rq->n_headers > OV_HTTPC_MAX_HEADERS) {
        return -OV_E_TOO_BIG;
    }
    for (size_t i = 0; i < rq->n_headers; i++) {
        if (!header_ok(rq->headers[i])) {
            curl_slist_free_all(list);
            return -OV_E_MALFORMED;
        }
        if ((next = curl_slist_append(list, rq->headers[i])) == NULL) {
            curl_slist_free_all(list);
            return -OV_E_NOMEM;
        }
        list = next;
    }
    if (rq->content_type != NULL) {
        char h[OV_HTTPC_MAX_HEADER_LEN + 1];
        int n = snprintf(h, sizeof h, "Content-Type: %s", rq->content_type);
        if (n < 0 || (size_t)n >= sizeof h || !header_ok(h)) {
            curl_slist_free_all(list);
            return -OV_E_MALFORMED;
        }
        if ((next = curl_slist_append(list, h)) == NULL) {
            curl_slist_free_all(list);
            return -OV_E_NOMEM;
        }
        list = next;
    }
    *out = list;
    return 0;
}

/* Sets every option for one exchange. The handle was reset, which keeps its connection
 * cache, so a connection to the same host is reused. */
static bool
set_options(CURL *e, const struct ov_httpc_req *rq, struct curl_slist *hdrs, struct sink *s,
            char *errbuf, size_t resp_max)
{
    const char *method = rq->method != NULL         ? rq->method
                         : rq->content_type != NULL ? "POST"
                                                    : "GET";
    bool ok = true;
    ok = ok && curl_easy_setopt(e, CURLOPT_URL, rq->url) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                                (long)(rq->timeout_ms ? rq->timeout_ms
                                                      : OV_HTTPC_DEFAULT_TIMEOUT_MS)) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)resp_max) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_WRITEDATA, s) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_HEADERDATA, s) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs) == CURLE_OK;
    if (rq->content_type != NULL) {
        ok = ok &&
             curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body.len) == CURLE_OK;
        ok = ok && curl_easy_setopt(e, CURLOPT_POSTFIELDS,
                                    rq->body.len ? (const void *)rq->body.ptr : "") == CURLE_OK;
    }
    if (rq->content_type != NULL) {
        if (strcmp(method, "POST") != 0) {
            ok = ok && curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK;
        }
    } else if (strcmp(method, "GET") == 0) {
        ok = ok && curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK;
    } else if (strcmp(method, "HEAD") == 0) {
        ok = ok && curl_easy_setopt(e, CURLOPT_NOBODY, 1L) == CURLE_OK;
    } else {
        ok = ok && curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK;
    }
    return ok;
}

static int
read_result(CURL *e, struct ov_httpc_resp *resp)
{
    long status = 0;
    char *ctype = NULL;
    if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
        curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ctype) != CURLE_OK || status < 100 ||
        status > 999) {
        return -OV_E_HTTP;
    }
    resp->status = (unsigned)status;
    if (ctype != NULL) {
        size_t n = strnlen(ctype, OV_HTTPC_MAX_CTYPE_LEN + 1);
        if (n > OV_HTTPC_MAX_CTYPE_LEN) {
            return -OV_E_TOO_BIG;
        }
        memcpy(resp->content_type, ctype, n + 1);
    }
    return 0;
}

int
ov_httpc_do(struct ov_httpc *c, const struct ov_httpc_req *rq, struct ov_httpc_resp *resp)
{
    size_t resp_max = rq->resp_max ? rq->resp_max : OV_HTTPC_DEFAULT_RESP_MAX;
    struct curl_slist *hdrs = NULL;
    struct sink s = {.body = &resp->body, .headers = &resp->headers};
    memset(resp, 0, sizeof *resp);
    ov_buf_init(&resp->body, resp_max);
    ov_buf_init(&resp->headers, OV_HTTPC_MAX_RESP_HEADERS_LEN);
    c->errbuf[0] = '\0';
    curl_easy_reset(c->easy);
    int rc = 0;
    if (rq->url == NULL || strnlen(rq->url, OV_HTTPC_MAX_URL_LEN + 1) > OV_HTTPC_MAX_URL_LEN) {
        rc = -OV_E_MALFORMED;
        goto out;
    }
    rc = build_headers(rq, &hdrs);
    if (rc != 0) {
        goto out;
    }
    if (!set_options(c->easy, rq, hdrs, &s, c->errbuf, resp_max)) {
        rc = -OV_E_HTTP;
        goto out;
    }
    CURLcode cc = curl_easy_perform(c->easy);
    if (cc == CURLE_FILESIZE_EXCEEDED || (cc == CURLE_WRITE_ERROR && s.over_cap)) {
        rc = -OV_E_TOO_BIG;
    } else if (cc == CURLE_WRITE_ERROR && s.nomem) {
        rc = -OV_E_NOMEM;
    } else if (cc != CURLE_OK) {
        rc = -OV_E_HTTP;
    } else {
        rc = read_result(c->easy, resp);
    }
out:
    /* the handle keeps pointers to hdrs and s: drop them before they go */
    curl_easy_reset(c->easy);
    curl_slist_free_all(hdrs);
    if (rc != 0) {
        ov_httpc_resp_clear(resp);
    }
    return rc;
}

int
ov_httpc_get(struct ov_httpc *c, const char *url, size_t resp_max, struct ov_httpc_resp *resp)
{
    struct ov_httpc_req rq = {.url = url, .resp_max = resp_max};
    return ov_httpc_do(c, &rq, resp);
}

int
ov_httpc_post(struct ov_httpc *c, const char *url, const char *content_type, struct ov_bytes body,
              size_t resp_max, struct ov_httpc_resp *resp)
{
    struct ov_httpc_req rq = {
        .url = url, .content_type = content_type, .body = body, .resp_max = resp_max};
    return ov_httpc_do(c, &rq, resp);
}

size_t
ov_httpc_base_len(const char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/') {
        n--;
    }
    return n;
}

int
ov_httpc_new_base(const char *url, size_t room, char *base, size_t base_max,
                  struct ov_httpc **out)
{
    *out = NULL;
    size_t n = ov_httpc_base_len(url);
    if (n >= base_max || room >= base_max - n) {
        return -OV_E_TOO_BIG;
    }
    memcpy(base, url, n);
    base[n] = '\0';
    return ov_httpc_new(out);
}
