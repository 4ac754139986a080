#include "infra/httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#define MSG_LEN 2048

struct ov_httpc {
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's own words for the last failure */
    char msg[MSG_LEN];            /* what ov_httpc_errmsg says: the URL and the cause */
    char ca[OV_HTTPC_MAX_CA_PATH_LEN + 1]; /* this exchange's CA file ("": the system's) */
    bool direct;                  /* never through a tunnel (ov_httpc_set_direct) */
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

/* The process's settings (httpc.h, "Transport security"), from the environment at the
 * first use, then from the setters. */
static pthread_mutex_t settings_mu = PTHREAD_MUTEX_INITIALIZER;
static char ca_file[OV_HTTPC_MAX_CA_PATH_LEN + 1];
static bool allow_plain;

static void
global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *ca = getenv("ONEVOICE_CA_FILE");
    const char *plain = getenv("ONEVOICE_ALLOW_PLAIN_HTTP");
    pthread_mutex_lock(&settings_mu);
    if (ca != NULL && strlen(ca) <= OV_HTTPC_MAX_CA_PATH_LEN) {
        memcpy(ca_file, ca, strlen(ca) + 1);
    } else if (ca != NULL) { /* never the system store in its place: it would fail anyway */
        snprintf(ca_file, sizeof ca_file, "(ONEVOICE_CA_FILE is too long)");
    }
    allow_plain = plain != NULL && strcmp(plain, "1") == 0;
    pthread_mutex_unlock(&settings_mu);
}

int
ov_httpc_set_ca_file(const char *path)
{
    pthread_once(&global_once, global_init);
    size_t n = path != NULL ? strlen(path) : 0;
    if (n > OV_HTTPC_MAX_CA_PATH_LEN) {
        return -OV_E_TOO_BIG;
    }
    pthread_mutex_lock(&settings_mu);
    memcpy(ca_file, n > 0 ? path : "", n + 1);
    pthread_mutex_unlock(&settings_mu);
    return 0;
}

static struct {
    char prefix[OV_HTTPC_MAX_URL_LEN + 1];
    size_t len;
    ov_httpc_tunnel_fn fn;
    void *ctx;
} tunnels[OV_HTTPC_MAX_TUNNELS];
static size_t n_tunnels;

int
ov_httpc_add_tunnel(const char *prefix, ov_httpc_tunnel_fn fn, void *ctx)
{
    size_t n = strlen(prefix);
    if (n == 0 || n > OV_HTTPC_MAX_URL_LEN) {
        return -OV_E_TOO_BIG;
    }
    pthread_mutex_lock(&settings_mu);
    int rc = n_tunnels == OV_HTTPC_MAX_TUNNELS ? -OV_E_FULL : 0;
    if (rc == 0) {
        memcpy(tunnels[n_tunnels].prefix, prefix, n + 1);
        tunnels[n_tunnels].len = n;
        tunnels[n_tunnels].fn = fn;
        tunnels[n_tunnels].ctx = ctx;
        n_tunnels++;
    }
    pthread_mutex_unlock(&settings_mu);
    return rc;
}

void
ov_httpc_set_direct(struct ov_httpc *c, bool direct)
{
    c->direct = direct;
}

void
ov_httpc_clear_tunnels(void)
{
    pthread_mutex_lock(&settings_mu);
    n_tunnels = 0;
    pthread_mutex_unlock(&settings_mu);
}

/* The tunnel whose prefix starts url, if any: 1 (its fn and ctx, and the rest of url). */
static int
tunnel_of(const char *url, ov_httpc_tunnel_fn *fn, void **ctx, const char **rest)
{
    int found = 0;
    pthread_mutex_lock(&settings_mu);
    for (size_t i = 0; i < n_tunnels && !found; i++) {
        if (strncmp(url, tunnels[i].prefix, tunnels[i].len) == 0 &&
            (url[tunnels[i].len] == '/' || url[tunnels[i].len] == '?' ||
             url[tunnels[i].len] == '\0')) {
            *fn = tunnels[i].fn;
            *ctx = tunnels[i].ctx;
            *rest = url + tunnels[i].len;
            found = 1;
        }
    }
    pthread_mutex_unlock(&settings_mu);
    return found;
}

void
ov_httpc_set_allow_plain_http(bool allow)
{
    pthread_once(&global_once, global_init);
    pthread_mutex_lock(&settings_mu);
    allow_plain = allow;
    pthread_mutex_unlock(&settings_mu);
}

/* A failure the person running the program must act on (a certificate that does not
 * verify, a CA file that cannot be read, a plain http:// URL refused) is also said on
 * stderr: most callers report only that the service did not answer. The same line at most
 * every 10 s, so that a client retrying does not flood its log. */
#define SAY_EVERY_NS 10000000000u

static void
say(const char *msg)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char last[MSG_LEN];
    static uint64_t last_ns;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    pthread_mutex_lock(&mu);
    bool again = strcmp(last, msg) == 0 && last_ns != 0 && now - last_ns < SAY_EVERY_NS;
    if (!again) {
        snprintf(last, sizeof last, "%s", msg);
        last_ns = now;
        fprintf(stderr, "%s: %s\n", program_invocation_short_name, msg);
    }
    pthread_mutex_unlock(&mu);
}

/* 127.0.0.0/8, ::1 (and ::ffff:127.0.0.0/104), "localhost": what never leaves the machine.
 * host is as the URL parser gives it (an IPv6 address in brackets). */
static bool
host_is_loopback(const char *host)
{
    char h[INET6_ADDRSTRLEN + 1];
    size_t n = strlen(host);
    if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0) {
        return true;
    }
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    const char *zone = memchr(host, '%', n);
    n = zone != NULL ? (size_t)(zone - host) : n;
    if (n >= sizeof h) {
        return false;
    }
    memcpy(h, host, n);
    h[n] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, h, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    return inet_pton(AF_INET6, h, &a6) == 1 &&
           (IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127));
}

/* Parses url once, for the check and for libcurl (CURLOPT_CURLU), so that the host checked
 * is the host connected to. Refuses plain http:// to a host that is not loopback unless it
 * is allowed. Fills c->msg on failure. */
static int
parse_url(struct ov_httpc *c, const char *url, CURLU **out)
{
    char *scheme = NULL, *host = NULL;
    bool plain_ok;
    *out = curl_url();
    if (*out == NULL) {
        return -OV_E_NOMEM;
    }
    /* the flags libcurl itself parses CURLOPT_URL with (a URL without a scheme is http) */
    CURLUcode uc =
        curl_url_set(*out, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME);
    uc = uc ? uc : curl_url_get(*out, CURLUPART_SCHEME, &scheme, 0);
    uc = uc ? uc : curl_url_get(*out, CURLUPART_HOST, &host, 0);
    int rc = 0;
    if (uc != CURLUE_OK) {
        snprintf(c->msg, sizeof c->msg, "%.300s: not a URL (%s)", url, curl_url_strerror(uc));
        rc = -OV_E_HTTP;
    } else if (strcasecmp(scheme, "http") == 0 && !host_is_loopback(host)) {
        pthread_mutex_lock(&settings_mu);
        plain_ok = allow_plain;
        pthread_mutex_unlock(&settings_mu);
        if (!plain_ok) {
            snprintf(c->msg, sizeof c->msg,
                     "%.300s: refusing plain http:// to %.200s, which is not this machine: "
                     "use https:// (or set ONEVOICE_ALLOW_PLAIN_HTTP=1 to allow it)", url, host);
            say(c->msg);
            rc = -OV_E_HTTP;
        }
    }
    curl_free(scheme);
    curl_free(host);
    if (rc != 0) {
        curl_url_cleanup(*out);
        *out = NULL;
    }
    return rc;
}

static bool
is_tls_error(CURLcode cc)
{
    static const CURLcode tls[] = {
        CURLE_SSL_CONNECT_ERROR,  CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
        CURLE_SSL_CIPHER,         CURLE_SSL_CACERT_BADFILE,       CURLE_SSL_CRL_BADFILE,
        CURLE_SSL_ISSUER_ERROR,   CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
        CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,    CURLE_SSL_ENGINE_INITFAILED,
        CURLE_USE_SSL_FAILED,
    };
    for (size_t i = 0; i < sizeof tls / sizeof tls[0]; i++) {
        if (cc == tls[i]) {
            return true;
        }
    }
    return false;
}

/* c->msg for a failed exchange: libcurl's own words, the URL, and for TLS what was trusted. */
static void
explain(struct ov_httpc *c, const char *url, CURLcode cc)
{
    const char *why = c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(cc);
    if (!is_tls_error(cc)) {
        snprintf(c->msg, sizeof c->msg, "%s", why);
        return;
    }
    char trust[OV_HTTPC_MAX_CA_PATH_LEN + 64];
    if (c->ca[0] != '\0') {
        snprintf(trust, sizeof trust, "the CA file %s only", c->ca);
    } else {
        snprintf(trust, sizeof trust, "the system's CA store; set ONEVOICE_CA_FILE to use "
                                      "another CA");
    }
    snprintf(c->msg, sizeof c->msg, "%.300s: TLS failed: %.256s (certificates checked against %.1100s)",
             url, why, trust);
    say(c->msg);
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
    return c->msg;
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
set_options(struct ov_httpc *c, const struct ov_httpc_req *rq, CURLU *url,
            struct curl_slist *hdrs, struct sink *s, size_t resp_max)
{
    CURL *e = c->easy;
    const char *method = rq->method != NULL         ? rq->method
                         : rq->content_type != NULL ? "POST"
                                                    : "GET";
    bool ok = true;
    ok = ok && curl_easy_setopt(e, CURLOPT_CURLU, url) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf) == CURLE_OK;
    /* libcurl's defaults, said: the peer's certificate and name verified, TLS 1.2 or later;
     * a CA file replaces the system's store (its bundle and its directory) */
    ok = ok && curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) == CURLE_OK;
    if (c->ca[0] != '\0') {
        ok = ok && curl_easy_setopt(e, CURLOPT_CAINFO, c->ca) == CURLE_OK;
        ok = ok && curl_easy_setopt(e, CURLOPT_CAPATH, NULL) == CURLE_OK;
    }
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
    ov_httpc_tunnel_fn tfn;
    void *tctx;
    const char *rest;
    if (!c->direct && rq->url != NULL && tunnel_of(rq->url, &tfn, &tctx, &rest)) {
        memset(resp, 0, sizeof *resp);
        c->errbuf[0] = '\0';
        c->msg[0] = '\0';
        return tfn(tctx, c, rq, rest, resp);
    }
    size_t resp_max = rq->resp_max ? rq->resp_max : OV_HTTPC_DEFAULT_RESP_MAX;
    struct curl_slist *hdrs = NULL;
    struct sink s = {.body = &resp->body, .headers = &resp->headers};
    CURLU *url = NULL;
    memset(resp, 0, sizeof *resp);
    ov_buf_init(&resp->body, resp_max);
    ov_buf_init(&resp->headers, OV_HTTPC_MAX_RESP_HEADERS_LEN);
    c->errbuf[0] = '\0';
    c->msg[0] = '\0';
    curl_easy_reset(c->easy);
    pthread_mutex_lock(&settings_mu);
    memcpy(c->ca, ca_file, sizeof c->ca);
    pthread_mutex_unlock(&settings_mu);
    int rc = 0;
    if (rq->url == NULL || strnlen(rq->url, OV_HTTPC_MAX_URL_LEN + 1) > OV_HTTPC_MAX_URL_LEN) {
        snprintf(c->msg, sizeof c->msg, "no URL, or one over %u bytes", OV_HTTPC_MAX_URL_LEN);
        rc = -OV_E_MALFORMED;
        goto out;
    }
    rc = parse_url(c, rq->url, &url);
    rc = rc ? rc : build_headers(rq, &hdrs);
    if (rc != 0) {
        goto out;
    }
    if (!set_options(c, rq, url, hdrs, &s, resp_max)) {
        snprintf(c->msg, sizeof c->msg, "libcurl refused an option");
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
    if (cc != CURLE_OK) {
        explain(c, rq->url, cc);
    }
out:
    /* the handle keeps pointers to url, hdrs and s: drop them before they go */
    curl_easy_reset(c->easy);
    curl_url_cleanup(url);
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
