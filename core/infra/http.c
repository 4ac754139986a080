#include "infra/http.h"

#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <sodium.h>
#include <sqlite3.h>

#include "infra/peers.h"
#include "infra/tls.h"

#define N_CODES 500 /* statuses 100..599 */
#define STATS_LABELS_MAX 384

/* Per route: one lazily registered counter per status (looked up once, then cached in an
 * atomic slot, so the hot path takes no lock) and the duration histogram. */
struct route_stats {
    char labels[STATS_LABELS_MAX]; /* method="GET",route="/x" */
    _Atomic(struct ov_counter *) by_code[N_CODES];
    struct ov_histogram *duration;
};

struct route_ent {
    struct ov_http_route r;
    struct ov_route_pattern pat;
    struct route_stats st;
};

/* One per open connection (MHD_OPTION_NOTIFY_CONNECTION), for the request deadline. While
 * the connection reads a request (from its start, or from the end of its previous request
 * until its handler runs) it is on the server's reading list (rhead..rtail), oldest first:
 * every deadline is its since_ns plus the same duration, so the reaper only ever looks at
 * the head. */
struct conn {
    struct conn *prev, *next;
    struct ov_http *srv;
    uint64_t since_ns;
    int fd;
    bool reading; /* on the reading list; guarded by srv->cmu */
    bool counted; /* in srv->peers */
    struct ov_peer peer;
    struct ov_tls_creds *creds; /* HTTPS: the certificate its handshake took, held to CLOSED */
};

struct ov_http {
    struct MHD_Daemon *d;
    struct ov_tls *tls; /* NULL: plain HTTP */
    void *user;
    ov_http_handler precheck;
    uint16_t port;
    size_t n_routes;
    struct route_ent routes[OV_HTTP_MAX_ROUTES + 2]; /* the caller's, then the built-ins */
    struct route_stats unmatched;
    struct ov_metrics *metrics;
    bool own_metrics;
    struct ov_gauge *in_flight;
    struct ov_counter *aborted;
    struct ov_gauge *resident, *sqlite_mem; /* read when /metrics is asked for */
    /* long polls: the list of suspended requests and the thread enforcing deadlines */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* the timer thread sleeps on it (CLOCK_MONOTONIC) */
    pthread_t timer;
    bool timer_started;
    bool stopping;
    uint64_t gen[OV_HTTP_CHANNELS];   /* per channel, bumped by every notify of it */
    uint64_t level[OV_HTTP_CHANNELS]; /* per channel, the highest ov_http_notify_upto value */
    uint64_t timer_next_ns;           /* when the timer thread wakes next (UINT64_MAX: idle) */
    struct ov_req *waiters;
    /* connections and the request deadline: the reaper thread cuts a connection still
     * reading a request past deadline_ns after it began */
    pthread_mutex_t cmu; /* the reading list; CLOSED takes it before the socket is closed */
    pthread_cond_t ccv;  /* the reaper sleeps on it (CLOCK_MONOTONIC) */
    pthread_t reaper;
    bool reaper_started, reaper_stop;
    struct conn *rhead, *rtail;
    unsigned n_open, peak_open; /* connections; the most since the last trim */
    bool trim_due;
    uint64_t deadline_ns;
    unsigned conn_limit, per_ip_limit; /* as given to libmicrohttpd, and to peers */
    struct ov_peers *peers; /* connections per address (libmicrohttpd's has no exemptions) */
    bool quiet;
    struct ov_gauge *conns_open;
    struct ov_counter *cut_deadline, *refused;
    /* libmicrohttpd's messages, at most LOG_PER_WINDOW a window (see mhd_log) */
    _Atomic uint64_t log_window_ns, log_in_window, log_dropped, refused_unlogged;
};

struct qval {
    struct qval *next;
    char s[];
};

struct ov_req {
    struct ov_http *srv;
    struct MHD_Connection *conn;
    const char *method;      /* libmicrohttpd's, valid for the request */
    struct route_ent *route; /* NULL when unrouted */
    struct ov_route_match m;
    const char *param[OV_ROUTE_MAX_PARAMS]; /* into split */
    const char *rest;                       /* into path */
    struct ov_buf body;
    uint64_t t0_ns;
    unsigned status;
    bool replied, queued;
    size_t n_hdrs;
    char *hdr[OV_HTTP_MAX_REPLY_HEADERS]; /* "name\0value\0" */
    struct qval *qvals;
    void *state; /* the handler's, kept across long-poll rounds */
    void (*state_free)(void *);
    /* long poll; guarded by srv->mu while on the waiters list */
    uint64_t deadline_ns;
    unsigned channel; /* what the long poll waits for */
    uint64_t until;   /* ov_http_wait_until: the channel level it waits for (0: any notify) */
    bool wait_requested, expired, waiting;
    struct ov_req *wprev, *wnext;
    /* An inner request (ov_req_inner) has no connection: its outer request waits for it,
     * its headers and query are its own, and its reply is kept for the outer to read. */
    struct ov_req *outer, *inner;
    char **ihdr; /* "name\0value\0" each */
    size_t n_ihdr;
    char *query;        /* raw, after '?'; NULL for none */
    char *reply_ctype;  /* the kept reply's Content-Type, or NULL */
    struct ov_buf reply; /* the kept reply's body */
    char method_buf[OV_HTTP_MAX_METHOD_LEN + 1];
    char path[OV_MAX_URL_LEN + 1];
    char split[OV_MAX_URL_LEN + 1]; /* path with each parameter NUL-terminated */
};

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- metrics ---------------------------------------------------------------------- */

static const double duration_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1,    0.25,  0.5,    1,     2.5,  5,     10};

static int
stats_init(struct ov_http *srv, struct route_stats *st, const char *method, const char *route)
{
    struct ov_buf b;
    ov_buf_init(&b, sizeof st->labels - 1);
    int rc = ov_buf_append_str(&b, "method=\"");
    rc = rc ? rc : ov_metrics_label_escape(&b, method);
    rc = rc ? rc : ov_buf_append_str(&b, "\",route=\"");
    rc = rc ? rc : ov_metrics_label_escape(&b, route);
    rc = rc ? rc : ov_buf_append_str(&b, "\"");
    if (rc == 0) {
        memcpy(st->labels, b.ptr, b.len);
        st->labels[b.len] = '\0';
        rc = ov_metrics_histogram(
            srv->metrics, "http_request_duration_seconds",
            "Time from the first request byte to the last reply byte.", st->labels, duration_bounds,
            sizeof duration_bounds / sizeof duration_bounds[0], &st->duration);
    }
    ov_buf_clear(&b);
    return rc;
}

static void
stats_count(struct ov_http *srv, struct route_stats *st, unsigned status, uint64_t dur_ns)
{
    if (status >= 100 && status < 100 + N_CODES) {
        size_t i = status - 100;
        struct ov_counter *c = atomic_load_explicit(&st->by_code[i], memory_order_acquire);
        if (c == NULL) {
            char labels[STATS_LABELS_MAX + 16];
            snprintf(labels, sizeof labels, "%s,code=\"%u\"", st->labels, status);
            /* a failed registration leaves c NULL: the request goes uncounted */
            if (ov_metrics_counter(srv->metrics, "http_requests_total",
                                   "HTTP requests answered, by route and status.", labels,
                                   &c) == 0) {
                atomic_store_explicit(&st->by_code[i], c, memory_order_release);
            }
        }
        ov_counter_add(c, 1);
    }
    ov_histogram_observe(st->duration, (double)dur_ns / 1e9);
}

/* ---- replies ---------------------------------------------------------------------- */

static bool
is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int
ov_http_header(struct ov_req *rq, const char *name, const char *value)
{
    size_t nn = strnlen(name, OV_HTTP_MAX_HEADER_LEN + 1);
    size_t vn = strnlen(value, OV_HTTP_MAX_HEADER_LEN + 1);
    if (nn + vn > OV_HTTP_MAX_HEADER_LEN || rq->n_hdrs == OV_HTTP_MAX_REPLY_HEADERS) {
        return -OV_E_TOO_BIG;
    }
    if (nn == 0) {
        return -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < nn; i++) {
        if (!is_tchar(name[i])) {
            return -OV_E_MALFORMED;
        }
    }
    for (size_t i = 0; i < vn; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c >= 0x7f) {
            return -OV_E_MALFORMED; /* CR or LF here would inject headers */
        }
    }
    char *h = malloc(nn + vn + 2);
    if (h == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(h, name, nn + 1);
    memcpy(h + nn + 1, value, vn + 1);
    rq->hdr[rq->n_hdrs++] = h;
    return 0;
}

static bool
has_header(const struct ov_req *rq, const char *name)
{
    for (size_t i = 0; i < rq->n_hdrs; i++) {
        if (strcasecmp(rq->hdr[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* An inner request's reply is kept for its outer request (HEAD's body dropped, as
 * libmicrohttpd drops it for a direct one). */
static int
inner_keep_reply(struct ov_req *rq, const char *content_type, struct ov_bytes body)
{
    if (strcmp(rq->method, "HEAD") == 0) {
        body.len = 0;
    }
    ov_buf_init(&rq->reply, body.len);
    int rc = ov_buf_append(&rq->reply, body.ptr, body.len);
    if (rc == 0 && content_type != NULL) {
        rq->reply_ctype = strdup(content_type);
        rc = rq->reply_ctype == NULL ? -OV_E_NOMEM : 0;
    }
    rq->queued = rc == 0;
    return rc;
}

int
ov_http_reply(struct ov_req *rq, unsigned status, const char *content_type, struct ov_bytes body)
{
    if (rq->replied) {
        abort(); /* two replies to one request: a handler bug */
    }
    rq->replied = true;
    rq->status = status;
    if (rq->conn == NULL) {
        return inner_keep_reply(rq, content_type, body);
    }
    /* MUST_COPY: the body may be on the caller's stack. An empty body uses a static
     * constant, which PERSISTENT allows, since a zero-length copy may be a NULL malloc. */
    struct MHD_Response *r =
        body.len == 0
            ? MHD_create_response_from_buffer(0, (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT)
            : MHD_create_response_from_buffer(body.len, (void *)(uintptr_t)body.ptr,
                                              MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return -OV_E_NOMEM;
    }
    bool ok = content_type == NULL ||
              MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) == MHD_YES;
    for (size_t i = 0; ok && i < rq->n_hdrs; i++) {
        const char *name = rq->hdr[i];
        ok = MHD_add_response_header(r, name, name + strlen(name) + 1) == MHD_YES;
    }
    ok = ok && MHD_queue_response(rq->conn, status, r) == MHD_YES;
    MHD_destroy_response(r);
    rq->queued = ok;
    return ok ? 0 : -OV_E_HTTP;
}

int
ov_http_etag(struct ov_req *rq, const char *etag, bool *not_modified)
{
    const char *inm = ov_req_header(rq, "If-None-Match");
    *not_modified = false;
    int rc = ov_http_header(rq, "ETag", etag);
    if (rc == 0 && inm != NULL) {
        *not_modified = ov_etag_match(inm, strlen(inm), etag);
    }
    return rc;
}

bool
ov_req_holds(struct ov_req *rq, const char *etag)
{
    const char *inm = ov_req_header(rq, "If-None-Match");
    return inm != NULL && ov_etag_match(inm, strlen(inm), etag);
}

int
ov_http_reply_validated(struct ov_req *rq, const char *cache, const char *etag, const char *type,
                        struct ov_bytes body)
{
    bool fresh = false;
    int rc = cache != NULL ? ov_http_header(rq, "Cache-Control", cache) : 0;
    rc = rc ? rc : ov_http_etag(rq, etag, &fresh);
    if (rc != 0) {
        return rc;
    }
    return fresh ? ov_http_reply(rq, 304, NULL, OV_BYTES(NULL, 0))
                 : ov_http_reply(rq, 200, type, body);
}

int
ov_http_reply_json(struct ov_req *rq, unsigned status, json_t *j)
{
    if (j == NULL) {
        return ov_http_error(rq, 500, "internal_error", "could not build the reply");
    }
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (s == NULL) {
        return ov_http_error(rq, 500, "internal_error", "could not encode the reply");
    }
    size_t n = strlen(s);
    int rc = ov_http_reply(rq, status, "application/json", OV_BYTES(s, n));
    sodium_memzero(s, n); /* replies carry invitation codes and registrar tokens (this copy;
                           * libmicrohttpd frees its own unwiped) */
    free(s);
    return rc;
}

int
ov_http_error(struct ov_req *rq, unsigned status, const char *reason, const char *message)
{
    /* Errors describe one moment: never let a cache keep them. */
    if (!has_header(rq, "Cache-Control") && ov_http_header(rq, "Cache-Control", "no-store")) {
        /* no room for the header: the error still goes out */
    }
    json_t *j = json_pack("{s:s,s:s}", "error", reason, "message", message);
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    static const char fallback[] = "{\"error\":\"internal_error\",\"message\":\"\"}";
    struct ov_bytes body = s != NULL ? OV_BYTES(s, strlen(s)) : OV_BYTES_STR(fallback);
    int rc = ov_http_reply(rq, status, "application/json", body);
    free(s);
    return rc;
}

unsigned
ov_http_status_for(int err)
{
    static const unsigned map[OV_E_COUNT] = {
        [OV_E_TRUNCATED] = 400,    [OV_E_TRAILING] = 400, [OV_E_MALFORMED] = 400,
        [OV_E_NONCANONICAL] = 400, [OV_E_BAD_SIG] = 400,  [OV_E_BAD_PROOF] = 400,
        [OV_E_UNKNOWN_KEY] = 400,  [OV_E_RANGE] = 400,    [OV_E_TOO_BIG] = 413,
        [OV_E_NOT_FOUND] = 404,    [OV_E_CONFLICT] = 409, [OV_E_EXISTS] = 409,
        [OV_E_STATE] = 409,        [OV_E_DB_BUSY] = 503,  [OV_E_NOMEM] = 503,
        [OV_E_FULL] = 503,         [OV_E_READ_ONLY] = 503, [OV_E_CORRUPT] = 503,
    };
    int e = err < 0 ? -err : err;
    return (e > 0 && e < OV_E_COUNT && map[e] != 0) ? map[e] : 500;
}

int
ov_http_fail(struct ov_req *rq, int err)
{
    unsigned status = ov_http_status_for(err);
    const char *msg = status == 400   ? "the request is invalid"
                      : status == 404 ? "not found"
                      : status == 409 ? "the request conflicts with the current state"
                      : status == 413 ? "the request is too large"
                      : status == 503 ? "temporarily unavailable; retry later"
                                      : "internal error";
    return ov_http_error(rq, status, ov_strerror(err), msg);
}

/* libmicrohttpd wants MHD_NO when nothing could be queued: it then drops the connection. */
static enum MHD_Result
queued(const struct ov_req *rq)
{
    return rq->queued ? MHD_YES : MHD_NO;
}

static enum MHD_Result
frame_error(struct ov_req *rq, unsigned status, const char *reason, const char *message)
{
    return ov_http_error(rq, status, reason, message) == 0 ? MHD_YES : MHD_NO;
}

static enum MHD_Result
frame_fail(struct ov_req *rq, int err)
{
    return ov_http_fail(rq, err) == 0 ? MHD_YES : MHD_NO;
}

/* ---- request accessors -------------------------------------------------------------- */

const char *
ov_req_method(const struct ov_req *rq)
{
    return rq->method;
}

const char *
ov_req_path(const struct ov_req *rq)
{
    return rq->path;
}

const char *
ov_req_param(const struct ov_req *rq, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < rq->m.n_params; i++) {
        if (rq->m.params[i].name.len == n && memcmp(rq->m.params[i].name.ptr, name, n) == 0) {
            return rq->param[i];
        }
    }
    return NULL;
}

const char *
ov_req_rest(const struct ov_req *rq)
{
    return rq->rest;
}

const char *
ov_req_header(const struct ov_req *rq, const char *name)
{
    if (rq->conn == NULL) {
        for (size_t i = 0; i < rq->n_ihdr; i++) {
            if (strcasecmp(rq->ihdr[i], name) == 0) {
                return rq->ihdr[i] + strlen(rq->ihdr[i]) + 1;
            }
        }
        return NULL;
    }
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

struct ov_bytes
ov_req_body(const struct ov_req *rq)
{
    return ov_buf_view(&rq->body);
}

void
ov_req_body_drop(struct ov_req *rq)
{
    ov_buf_clear(&rq->body);
}

void *
ov_req_user(const struct ov_req *rq)
{
    return rq->srv->user;
}

struct ov_http *
ov_req_server(const struct ov_req *rq)
{
    return rq->srv;
}

struct query_find {
    const char *key;
    size_t key_len;
    size_t n_found;
    const char *val;
    size_t val_len;
    int err;
};

static enum MHD_Result
query_find_one(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
               const char *value, size_t value_size)
{
    struct query_find *q = cls;
    char dk[64];
    size_t dk_len;
    (void)kind;
    /* keys compare decoded, so "%6Bey" is "key"; one too long to be ours is skipped */
    if (ov_url_decode(key, key_size, true, dk, sizeof dk, &dk_len) != 0 || dk_len != q->key_len ||
        memcmp(dk, q->key, dk_len) != 0) {
        return MHD_YES;
    }
    q->n_found++;
    q->val = value != NULL ? value : "";
    q->val_len = value != NULL ? value_size : 0;
    return MHD_YES;
}

/* An inner request's query split as libmicrohttpd splits a direct one's: arguments at '&',
 * each "key=value" or a bare "key" (value NULL); values left raw. */
static void
inner_query_each(const char *query, MHD_KeyValueIteratorN fn, void *cls)
{
    for (const char *p = query; p != NULL && *p != '\0';) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (n > 0) {
            size_t kn = eq ? (size_t)(eq - p) : n;
            (void)fn(cls, MHD_GET_ARGUMENT_KIND, p, kn, eq ? eq + 1 : NULL, eq ? n - kn - 1 : 0);
        }
        p = amp ? amp + 1 : p + n;
    }
}

int
ov_req_query(struct ov_req *rq, const char *key, const char **val)
{
    struct query_find q = {.key = key, .key_len = strlen(key)};
    *val = NULL;
    if (q.key_len >= 64) {
        abort(); /* keys are our constants */
    }
    if (rq->conn != NULL) {
        MHD_get_connection_values_n(rq->conn, MHD_GET_ARGUMENT_KIND, query_find_one, &q);
    } else {
        inner_query_each(rq->query, query_find_one, &q);
    }
    if (q.n_found == 0) {
        return -OV_E_NOT_FOUND;
    }
    if (q.n_found > 1) {
        return -OV_E_MALFORMED; /* a repeated key is ambiguous: refuse, don't pick one */
    }
    struct qval *qv = malloc(sizeof *qv + q.val_len + 1);
    if (qv == NULL) {
        return -OV_E_NOMEM;
    }
    size_t n;
    int rc = ov_url_decode(q.val, q.val_len, true, qv->s, q.val_len + 1, &n);
    if (rc != 0) {
        free(qv);
        return rc;
    }
    qv->next = rq->qvals;
    rq->qvals = qv;
    *val = qv->s;
    return 0;
}

/* ---- long polls ------------------------------------------------------------------- */

int
ov_http_wait(struct ov_req *rq, uint32_t max_ms)
{
    return ov_http_wait_on(rq, 0, max_ms);
}

int
ov_http_wait_on(struct ov_req *rq, unsigned channel, uint32_t max_ms)
{
    if (channel >= OV_HTTP_CHANNELS) {
        abort(); /* our own constant */
    }
    rq->channel = channel;
    rq->until = 0;
    if (max_ms > OV_HTTP_MAX_WAIT_MS) {
        max_ms = OV_HTTP_MAX_WAIT_MS;
    }
    if (rq->deadline_ns == 0) {
        rq->deadline_ns = rq->t0_ns + (uint64_t)max_ms * 1000000u;
    }
    rq->wait_requested = true;
    return 0;
}

int
ov_http_wait_until(struct ov_req *rq, unsigned channel, uint64_t until, uint32_t max_ms)
{
    int rc = ov_http_wait_on(rq, channel, max_ms);
    rq->until = until;
    return rc;
}

bool
ov_req_wait_expired(const struct ov_req *rq)
{
    return rq->expired;
}

void
ov_req_set_state(struct ov_req *rq, void *state, void (*state_free)(void *))
{
    if (rq->state_free != NULL && rq->state != state) {
        rq->state_free(rq->state);
    }
    rq->state = state;
    rq->state_free = state_free;
}

void *
ov_req_state(const struct ov_req *rq)
{
    return rq->state;
}

/* Caller holds srv->mu. */
static void
waiter_remove(struct ov_http *srv, struct ov_req *rq)
{
    if (rq->wprev != NULL) {
        rq->wprev->wnext = rq->wnext;
    } else {
        srv->waiters = rq->wnext;
    }
    if (rq->wnext != NULL) {
        rq->wnext->wprev = rq->wprev;
    }
    rq->wprev = rq->wnext = NULL;
    rq->waiting = false;
}

/* Caller holds srv->mu. Once resumed, the request belongs to libmicrohttpd again and may
 * be re-dispatched or freed on another thread at any moment: touch nothing after. */
static void
waiter_wake(struct ov_http *srv, struct ov_req *rq, bool expired)
{
    waiter_remove(srv, rq);
    if (expired) {
        rq->expired = true;
    }
    MHD_resume_connection(rq->conn);
}

void
ov_http_notify(struct ov_http *srv)
{
    pthread_mutex_lock(&srv->mu);
    for (unsigned c = 0; c < OV_HTTP_CHANNELS; c++) {
        srv->gen[c]++;
    }
    while (srv->waiters != NULL) {
        waiter_wake(srv, srv->waiters, false);
    }
    pthread_mutex_unlock(&srv->mu);
}

void
ov_http_notify_channel(struct ov_http *srv, unsigned channel)
{
    if (channel >= OV_HTTP_CHANNELS) {
        abort(); /* our own constant */
    }
    pthread_mutex_lock(&srv->mu);
    srv->gen[channel]++;
    for (struct ov_req *w = srv->waiters, *next; w != NULL; w = next) {
        next = w->wnext;
        if (w->channel == channel) {
            waiter_wake(srv, w, false);
        }
    }
    pthread_mutex_unlock(&srv->mu);
}

void
ov_http_notify_upto(struct ov_http *srv, unsigned channel, uint64_t level)
{
    if (channel >= OV_HTTP_CHANNELS) {
        abort(); /* our own constant */
    }
    pthread_mutex_lock(&srv->mu);
    srv->gen[channel]++;
    if (level > srv->level[channel]) {
        srv->level[channel] = level;
    }
    for (struct ov_req *w = srv->waiters, *next; w != NULL; w = next) {
        next = w->wnext;
        if (w->channel == channel && w->until <= srv->level[channel]) {
            waiter_wake(srv, w, false);
        }
    }
    pthread_mutex_unlock(&srv->mu);
}

static void *
timer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "http-timer"); /* for top -H and perf */
    struct ov_http *srv = arg;
    pthread_mutex_lock(&srv->mu);
    while (!srv->stopping) {
        uint64_t now = now_ns(), next = UINT64_MAX;
        struct ov_req *w = srv->waiters;
        while (w != NULL) {
            struct ov_req *wn = w->wnext;
            if (w->deadline_ns <= now) {
                waiter_wake(srv, w, true);
            } else if (w->deadline_ns < next) {
                next = w->deadline_ns;
            }
            w = wn;
        }
        srv->timer_next_ns = next;
        if (next == UINT64_MAX) {
            pthread_cond_wait(&srv->cv, &srv->mu);
        } else {
            struct timespec ts = {.tv_sec = (time_t)(next / 1000000000u),
                                  .tv_nsec = (long)(next % 1000000000u)};
            pthread_cond_timedwait(&srv->cv, &srv->mu, &ts);
        }
    }
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

/* The handler asked to wait. Returns true when the connection is now suspended; false
 * when the handler must run again at once (a notify raced it, the deadline passed, or
 * the server is stopping, the latter two as expired). */
static bool
wait_begin(struct ov_req *rq, const uint64_t gen_before[OV_HTTP_CHANNELS], bool ignore_gen)
{
    struct ov_http *srv = rq->srv;
    bool suspended = false;
    pthread_mutex_lock(&srv->mu);
    if (srv->stopping || now_ns() >= rq->deadline_ns) {
        rq->expired = true;
    } else if (rq->until != 0 ? srv->level[rq->channel] < rq->until
                              : ignore_gen || srv->gen[rq->channel] == gen_before[rq->channel]) {
        MHD_suspend_connection(rq->conn);
        rq->waiting = true;
        rq->wnext = srv->waiters;
        if (srv->waiters != NULL) {
            srv->waiters->wprev = rq;
        }
        srv->waiters = rq;
        if (rq->deadline_ns < srv->timer_next_ns) {
            /* the timer must wake earlier; otherwise it would only scan in vain */
            srv->timer_next_ns = rq->deadline_ns;
            pthread_cond_signal(&srv->cv);
        }
        suspended = true;
    }
    pthread_mutex_unlock(&srv->mu);
    return suspended;
}

/* ---- connections and the request deadline ------------------------------------------ */

/* libmicrohttpd 0.9.75 has only an idle timeout, which every byte resets: a client sending
 * a header byte every few seconds (slowloris), or its body so, would hold its connection
 * for ever. So the frame gives each request a deadline of its own: from the connection's
 * start, or from the end of its previous request, to the moment its handler runs (headers
 * and body complete). Past it, the reaper shuts the socket down (no reply: none can be
 * queued before the headers are in), and libmicrohttpd closes the connection. A request
 * whose handler runs (a long poll suspended included) is never cut.
 *
 * The socket cannot be closed under the reaper: libmicrohttpd 0.9.75 calls the CLOSED
 * notification before it closes the socket, on every path (daemon.c,
 * MHD_cleanup_connections and new_connection_process_'s cleanup), and on_connection takes
 * cmu to unlist it, the mutex the reaper holds around shutdown(). */

/* After a flood the memory of its connections (libmicrohttpd's pools, 16 KiB ones from
 * malloc) stayed with glibc, scattered between live allocations: the verifier grew
 * 14 -> 36 MB over 5 floods of 10,000 connections, and malloc_trim(0) then gave 15 MB back
 * (MALLOC_ARENA_MAX=1 or 2 did not help). So when the connections open fall to half
 * their peak (of at least TRIM_MIN_PEAK), the reaper returns free memory to the system. */
#define TRIM_MIN_PEAK 1024u

/* Caller holds srv->cmu. */
static void
conn_unlist(struct ov_http *srv, struct conn *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        srv->rhead = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    } else {
        srv->rtail = c->prev;
    }
    c->prev = c->next = NULL;
    c->reading = false;
}

/* Caller holds srv->cmu. The connection begins reading a request now. */
static void
conn_list(struct ov_http *srv, struct conn *c)
{
    c->since_ns = now_ns();
    c->reading = true;
    c->prev = srv->rtail;
    c->next = NULL;
    if (srv->rtail != NULL) {
        srv->rtail->next = c;
    } else {
        srv->rhead = c;
        pthread_cond_signal(&srv->ccv); /* the reaper may be sleeping without a deadline */
    }
    srv->rtail = c;
}

static struct conn *
conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info != NULL ? info->socket_context : NULL;
}

/* The request is complete (its handler runs now) or answered early: no deadline. */
static void
conn_answering(struct ov_http *srv, struct MHD_Connection *conn)
{
    struct conn *c = conn_of(conn);
    if (c != NULL) {
        pthread_mutex_lock(&srv->cmu);
        if (c->reading) {
            conn_unlist(srv, c);
        }
        pthread_mutex_unlock(&srv->cmu);
    }
}

/* A request ended: the next one (keep-alive) has its deadline from now. */
static void
conn_next_request(struct ov_http *srv, struct MHD_Connection *conn)
{
    struct conn *c = conn_of(conn);
    if (c != NULL) {
        pthread_mutex_lock(&srv->cmu);
        if (!c->reading) {
            conn_list(srv, c);
        }
        pthread_mutex_unlock(&srv->cmu);
    }
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    struct ov_http *srv = cls;
    struct conn *c = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        struct ov_peer who = { .ok = false }; /* counted by on_accept */
        if (ci != NULL && ci->client_addr != NULL) {
            const struct sockaddr *sa = ci->client_addr;
            who = ov_peer_of(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                           : sizeof(struct sockaddr_in));
        }
        c = info != NULL ? calloc(1, sizeof *c) : NULL;
        if (c == NULL) {
            ov_peers_close(srv->peers, &who); /* it cannot be uncounted at CLOSED */
            return; /* untracked: only the idle timeout applies to it */
        }
        c->srv = srv;
        c->fd = info->connect_fd;
        c->peer = who;
        c->counted = who.ok;
        pthread_mutex_lock(&srv->cmu);
        conn_list(srv, c);
        srv->n_open++;
        srv->peak_open = srv->n_open > srv->peak_open ? srv->n_open : srv->peak_open;
        pthread_mutex_unlock(&srv->cmu);
        *socket_context = c;
        ov_gauge_add(srv->conns_open, 1);
    } else if (c != NULL) {
        pthread_mutex_lock(&srv->cmu);
        if (c->reading) {
            conn_unlist(srv, c);
        }
        srv->n_open--;
        if (srv->peak_open >= TRIM_MIN_PEAK && srv->n_open <= srv->peak_open / 2) {
            srv->trim_due = true; /* see reaper_main */
            srv->peak_open = srv->n_open;
            pthread_cond_signal(&srv->ccv);
        }
        pthread_mutex_unlock(&srv->cmu);
        if (c->counted) {
            ov_peers_close(srv->peers, &c->peer);
        }
        ov_tls_release(c->creds); /* libmicrohttpd has deinited the TLS session by now */
        *socket_context = NULL;
        free(c);
        ov_gauge_add(srv->conns_open, -1);
    }
}

#define REAP_SLACK_NS 100000000u /* cut what is due within 100 ms at once: fewer wake-ups */
#define REAP_BATCH 64u           /* connections cut under one hold of cmu */

static void *
reaper_main(void *arg)
{
    pthread_setname_np(pthread_self(), "http-reaper");
    struct ov_http *srv = arg;
    pthread_mutex_lock(&srv->cmu);
    while (!srv->reaper_stop) {
        if (srv->trim_due) {
            srv->trim_due = false;
            pthread_mutex_unlock(&srv->cmu);
            malloc_trim(0);
            pthread_mutex_lock(&srv->cmu);
            continue;
        }
        uint64_t now = now_ns();
        unsigned n = 0;
        while (srv->rhead != NULL && srv->rhead->since_ns + srv->deadline_ns <= now &&
               n < REAP_BATCH) {
            struct conn *c = srv->rhead;
            conn_unlist(srv, c);
            /* Open until CLOSED has taken cmu. libmicrohttpd sees end of file and closes. */
            shutdown(c->fd, SHUT_RDWR);
            ov_counter_add(srv->cut_deadline, 1);
            n++;
        }
        if (n == REAP_BATCH) {
            /* a flood's connections come due together: let the pool threads, which take
             * cmu for every connection and request, in between batches */
            pthread_mutex_unlock(&srv->cmu);
            sched_yield();
            pthread_mutex_lock(&srv->cmu);
            continue;
        }
        if (srv->rhead == NULL) {
            pthread_cond_wait(&srv->ccv, &srv->cmu);
        } else {
            uint64_t next = srv->rhead->since_ns + srv->deadline_ns + REAP_SLACK_NS;
            struct timespec ts = {.tv_sec = (time_t)(next / 1000000000u),
                                  .tv_nsec = (long)(next % 1000000000u)};
            pthread_cond_timedwait(&srv->ccv, &srv->cmu, &ts);
        }
    }
    pthread_mutex_unlock(&srv->cmu);
    return NULL;
}

/* libmicrohttpd's messages. A flood makes one per connection (a refusal at a connection
 * limit, a connection closed mid-request), so they are bounded: at most LOG_PER_WINDOW
 * lines every LOG_WINDOW_NS, then a count of those not shown. Refusals, which 0.9.75
 * shows no other way, are counted in http_connections_refused_total and reported as one
 * line a window. */
#define LOG_WINDOW_NS 10000000000u
#define LOG_PER_WINDOW 20u

static void
log_window(struct ov_http *srv)
{
    uint64_t now = now_ns(), start = atomic_load(&srv->log_window_ns);
    if ((start != 0 && now - start < LOG_WINDOW_NS) ||
        !atomic_compare_exchange_strong(&srv->log_window_ns, &start, now)) {
        return;
    }
    uint64_t refused = atomic_exchange(&srv->refused_unlogged, 0);
    uint64_t dropped = atomic_exchange(&srv->log_dropped, 0);
    atomic_store(&srv->log_in_window, 0);
    if (refused > 0) {
        fprintf(stderr,
                "http: refused %llu connection(s) at the connection limits (%u in all, %u "
                "from one address)\n",
                (unsigned long long)refused, srv->conn_limit, srv->per_ip_limit);
    }
    if (dropped > 0) {
        fprintf(stderr, "http: %llu more libmicrohttpd message(s) not shown\n",
                (unsigned long long)dropped);
    }
}

__attribute__((format(printf, 2, 0))) static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct ov_http *srv = cls;
    if (strstr(fmt, "reached connection limit") != NULL) {
        ov_counter_add(srv->refused, 1);
        atomic_fetch_add(&srv->refused_unlogged, 1);
    } else if (srv->quiet) {
        return;
    } else if (atomic_fetch_add(&srv->log_in_window, 1) < LOG_PER_WINDOW) {
        vfprintf(stderr, fmt, ap);
    } else {
        atomic_fetch_add(&srv->log_dropped, 1);
    }
    if (!srv->quiet) {
        log_window(srv);
    }
}

/* The per-address limit, at accept: libmicrohttpd closes the socket when this says no.
 * A connection counts from here (checked and counted under one lock: the pool threads
 * accept concurrently) until its CLOSED notification. libmicrohttpd 0.9.75 gives no
 * notification when it fails to set up a connection this admitted (out of memory): that
 * one stays counted. */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
    struct ov_http *srv = cls;
    struct ov_peer who = ov_peer_of(addr, len);
    if (ov_peers_take(srv->peers, &who)) {
        return MHD_YES;
    }
    ov_counter_add(srv->refused, 1);
    atomic_fetch_add(&srv->refused_unlogged, 1);
    if (!srv->quiet) {
        log_window(srv);
    }
    return MHD_NO;
}

/* ---- the access callback ------------------------------------------------------------ */

static enum MHD_Result
dispatch(struct ov_req *rq)
{
    struct ov_http *srv = rq->srv;
    /* A notify storm could keep re-running a handler; past this many rounds it waits for
     * the next notify or its deadline like any other. */
    for (int round = 0;; round++) {
        uint64_t gen[OV_HTTP_CHANNELS];
        pthread_mutex_lock(&srv->mu);
        memcpy(gen, srv->gen, sizeof gen);
        pthread_mutex_unlock(&srv->mu);
        rq->wait_requested = false;
        int rc = rq->route->r.handler(rq);
        if (rq->replied) {
            return queued(rq);
        }
        if (rc != 0) {
            return frame_fail(rq, rc);
        }
        if (!rq->wait_requested) {
            /* neither replied nor waited: a handler bug, answered rather than hung */
            return frame_error(rq, 500, "internal_error", "the handler gave no reply");
        }
        if (rq->expired) {
            return frame_error(rq, 503, "wait_expired", "no answer within the wait");
        }
        if (wait_begin(rq, gen, round >= 8)) {
            return MHD_YES;
        }
    }
}

/* Sums the query string's length as libmicrohttpd split it (keys and values raw, since
 * unescape_none leaves them so), one '=' and one '&' per argument. */
static enum MHD_Result
query_len_one(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
              const char *value, size_t value_size)
{
    size_t *total = cls;
    (void)kind;
    (void)key;
    (void)value;
    *total += key_size + value_size + 2;
    return MHD_YES;
}

/* Counts header names that are not RFC 9110 tokens (libmicrohttpd keeps "X-A " from
 * "X-A : 1", which RFC 9112 §5.1 requires a server to refuse). */
static enum MHD_Result
bad_header_one(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
               const char *value, size_t value_size)
{
    size_t *n_bad = cls;
    bool ok = key_size > 0;
    (void)kind;
    (void)value;
    (void)value_size;
    for (size_t i = 0; ok && i < key_size; i++) {
        ok = is_tchar(key[i]);
    }
    *n_bad += ok ? 0 : 1;
    return MHD_YES;
}

static enum MHD_Result
reply_allow(struct ov_req *rq, const char *const *methods, size_t n_methods)
{
    struct ov_buf allow;
    ov_buf_init(&allow, OV_HTTP_MAX_HEADER_LEN);
    int rc = 0;
    for (size_t i = 0; i < n_methods && rc == 0; i++) {
        rc = ov_buf_printf(&allow, "%s%s", i ? ", " : "", methods[i]);
    }
    rc = rc ? rc : ov_buf_terminate(&allow);
    rc = rc ? rc : ov_http_header(rq, "Allow", (const char *)allow.ptr);
    ov_buf_clear(&allow);
    if (rc != 0) {
        return MHD_NO;
    }
    return frame_error(rq, 405, "method_not_allowed", "this path does not take that method");
}

/* Finds the route for (method, path), or answers 404 / 405. Returns true when routed. */
static bool
route(struct ov_req *rq, size_t path_len, enum MHD_Result *res)
{
    struct ov_http *srv = rq->srv;
    const char *methods[2 * (OV_HTTP_MAX_ROUTES + 2)];
    size_t n_methods = 0;
    /* HEAD is GET without the body (RFC 9110 §9.3.2): it runs the GET handler, and
     * libmicrohttpd sends the headers, Content-Length included, and drops the body. */
    bool head = strcmp(rq->method, "HEAD") == 0;
    for (size_t i = 0; i < srv->n_routes; i++) {
        struct route_ent *e = &srv->routes[i];
        struct ov_route_match m;
        if (!ov_route_match(&e->pat, rq->path, path_len, &m)) {
            continue;
        }
        if (strcmp(e->r.method, rq->method) == 0 || (head && strcmp(e->r.method, "GET") == 0)) {
            rq->route = e;
            rq->m = m;
            return true;
        }
        bool get = strcmp(e->r.method, "GET") == 0;
        for (int pass = 0; pass < (get ? 2 : 1); pass++) {
            const char *name = pass == 0 ? e->r.method : "HEAD";
            size_t k = 0;
            while (k < n_methods && strcmp(methods[k], name) != 0) {
                k++;
            }
            if (k == n_methods) {
                methods[n_methods++] = name;
            }
        }
    }
    if (n_methods > 0) {
        *res = reply_allow(rq, methods, n_methods);
    } else {
        *res = frame_error(rq, 404, "not_found", "no such resource");
    }
    return false;
}

/* The views of the match point into rq->path; give handlers NUL-terminated strings. */
static void
split_params(struct ov_req *rq, size_t path_len)
{
    memcpy(rq->split, rq->path, path_len + 1);
    for (size_t i = 0; i < rq->m.n_params; i++) {
        size_t off = (size_t)((const char *)rq->m.params[i].value.ptr - rq->path);
        rq->split[off + rq->m.params[i].value.len] = '\0';
        rq->param[i] = rq->split + off;
    }
    if (rq->m.rest.ptr != NULL) {
        rq->rest = (const char *)rq->m.rest.ptr;
    }
}

static enum MHD_Result
begin(struct ov_req *rq, const char *url)
{
    size_t n = strnlen(url, OV_MAX_URL_LEN + 1), q = 0;
    if (n <= OV_MAX_URL_LEN) {
        MHD_get_connection_values_n(rq->conn, MHD_GET_ARGUMENT_KIND, query_len_one, &q);
    }
    if (n > OV_MAX_URL_LEN || q > OV_MAX_URL_LEN - n) {
        return frame_error(rq, 414, "uri_too_long", "the URL is too long");
    }
    memcpy(rq->path, url, n + 1);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f) {
            return frame_error(rq, 400, "bad_path", "the path has a forbidden byte");
        }
    }
    size_t n_bad = 0;
    MHD_get_connection_values_n(rq->conn, MHD_HEADER_KIND, bad_header_one, &n_bad);
    if (n_bad > 0) {
        return frame_error(rq, 400, "bad_header", "a header name is not a token");
    }
    enum MHD_Result res = MHD_NO;
    if (!route(rq, n, &res)) {
        return res;
    }
    split_params(rq, n);
    ov_buf_init(&rq->body, rq->route->r.body_max);
    /* Refuse a declared oversized body before reading a byte of it. A chunked body
     * would only show its size while being read, and libmicrohttpd 0.9.75 cannot queue
     * a reply in mid-upload, so bodies must come with a Content-Length (RFC 9110 §15.5.12
     * allows 411); this also refuses the TE+CL combination used for request smuggling. */
    if (MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) !=
        NULL) {
        return frame_error(rq, 411, "length_required", "send the body with a Content-Length");
    }
    const char *cl =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL) {
        char *end;
        unsigned long long v = strtoull(cl, &end, 10);
        if (end != cl && v > rq->route->r.body_max) {
            return frame_error(rq, 413, "body_too_large", "the request body is too large");
        }
    }
    /* The route may refuse on the headers alone, before a byte of body is buffered. */
    if (rq->srv->precheck != NULL) {
        int rc = rq->srv->precheck(rq);
        if (rq->replied) {
            return queued(rq);
        }
        if (rc != 0) {
            return frame_fail(rq, rc);
        }
    }
    return MHD_YES;
}

/* ---- inner requests ------------------------------------------------------------------ */

/* begin()'s checks, for a request that came inside another (no connection, no
 * Content-Length: the body is whole). A refusal is kept as the inner request's reply. */
static void
inner_begin(struct ov_req *in, struct ov_bytes target, struct ov_bytes body)
{
    const char *url = (const char *)target.ptr;
    if (target.len > OV_MAX_URL_LEN) {
        (void)frame_error(in, 414, "uri_too_long", "the URL is too long");
        return;
    }
    for (size_t i = 0; i < target.len; i++) {
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f) {
            (void)frame_error(in, 400, "bad_path", "the path has a forbidden byte");
            return;
        }
    }
    const char *qm = memchr(url, '?', target.len);
    size_t n = qm != NULL ? (size_t)(qm - url) : target.len;
    memcpy(in->path, url, n);
    in->path[n] = '\0';
    if (qm != NULL && (in->query = strndup(qm + 1, target.len - n - 1)) == NULL) {
        (void)frame_fail(in, -OV_E_NOMEM);
        return;
    }
    enum MHD_Result res = MHD_NO;
    if (!route(in, n, &res)) {
        return;
    }
    split_params(in, n);
    ov_buf_init(&in->body, in->route->r.body_max);
    if (ov_req_header(in, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL) {
        (void)frame_error(in, 411, "length_required", "send the body with a Content-Length");
        return;
    }
    if (body.len > in->route->r.body_max) {
        (void)frame_error(in, 413, "body_too_large", "the request body is too large");
        return;
    }
    if (in->srv->precheck != NULL) {
        int rc = in->srv->precheck(in);
        if (in->replied || rc != 0) {
            if (!in->replied) {
                (void)frame_fail(in, rc);
            }
            return;
        }
    }
    if (ov_buf_append(&in->body, body.ptr, body.len) != 0) {
        (void)frame_fail(in, -OV_E_NOMEM);
    }
}

static int
inner_new(struct ov_req *rq, const struct ov_http_inner_req *spec)
{
    size_t mn = strlen(spec->method);
    if (mn == 0 || mn > OV_HTTP_MAX_METHOD_LEN || spec->n_headers > OV_HTTP_MAX_INNER_HEADERS) {
        return -OV_E_MALFORMED;
    }
    struct ov_req *in = calloc(1, sizeof *in);
    if (in == NULL) {
        return -OV_E_NOMEM;
    }
    in->srv = rq->srv;
    in->outer = rq;
    in->t0_ns = rq->t0_ns; /* one request for the deadlines: the outer's */
    memcpy(in->method_buf, spec->method, mn + 1);
    in->method = in->method_buf;
    ov_buf_init(&in->body, 0);
    rq->inner = in;
    in->ihdr = calloc(spec->n_headers + 1, sizeof *in->ihdr);
    if (in->ihdr == NULL) {
        return -OV_E_NOMEM;
    }
    for (size_t i = 0; i < spec->n_headers; i++) {
        struct ov_bytes nm = spec->headers[i].name, v = spec->headers[i].value;
        char *h = malloc(nm.len + v.len + 2);
        if (h == NULL) {
            return -OV_E_NOMEM;
        }
        memcpy(h, nm.ptr, nm.len);
        h[nm.len] = '\0';
        memcpy(h + nm.len + 1, v.ptr, v.len);
        h[nm.len + 1 + v.len] = '\0';
        if (strlen(h) != nm.len || strlen(h + nm.len + 1) != v.len) {
            free(h);
            return -OV_E_MALFORMED; /* a NUL inside: the decoder refuses it, so never here */
        }
        in->ihdr[in->n_ihdr++] = h;
    }
    inner_begin(in, spec->target, spec->body);
    return 0;
}

int
ov_req_inner(struct ov_req *rq, const struct ov_http_inner_req *spec, bool *done)
{
    *done = false;
    if (rq->inner == NULL) {
        if (spec == NULL) {
            abort(); /* the first call gives the request: our bug */
        }
        if (rq->outer != NULL) {
            return -OV_E_STATE; /* inner requests do not nest */
        }
        int rc = inner_new(rq, spec);
        if (rc != 0) {
            return rc;
        }
    }
    struct ov_req *in = rq->inner;
    if (!in->replied && in->route == NULL) {
        return -OV_E_STATE; /* its making failed, and that was said */
    }
    if (!in->replied) {
        in->expired = rq->expired;
        in->wait_requested = false;
        int rc = in->route->r.handler(in);
        if (!in->replied && rc != 0) {
            (void)frame_fail(in, rc);
        } else if (!in->replied && !in->wait_requested) {
            (void)frame_error(in, 500, "internal_error", "the handler gave no reply");
        } else if (!in->replied && in->expired) {
            (void)frame_error(in, 503, "wait_expired", "no answer within the wait");
        }
    }
    if (in->replied) {
        *done = true;
        return in->queued ? 0 : -OV_E_NOMEM;
    }
    /* the inner handler waits: the outer request waits for the same thing */
    rq->channel = in->channel;
    rq->until = in->until;
    rq->deadline_ns = in->deadline_ns;
    rq->wait_requested = true;
    return 0;
}

void
ov_req_inner_reply(const struct ov_req *rq, struct ov_http_inner_reply *out)
{
    memset(out, 0, sizeof *out);
    const struct ov_req *in = rq->inner;
    if (in == NULL || !in->replied) {
        return;
    }
    out->status = in->status;
    out->content_type = in->reply_ctype;
    out->body = ov_buf_view(&in->reply);
    out->headers = (const char *const *)in->hdr;
    out->n_headers = in->n_hdrs;
}

bool
ov_req_is_inner(const struct ov_req *rq)
{
    return rq->outer != NULL;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    struct ov_http *srv = cls;
    struct ov_req *rq = *req_cls;
    (void)version;
    if (rq == NULL) {
        rq = calloc(1, sizeof *rq);
        if (rq == NULL) {
            return MHD_NO;
        }
        rq->srv = srv;
        rq->conn = conn;
        rq->method = method;
        rq->t0_ns = now_ns();
        ov_buf_init(&rq->body, 0);
        ov_gauge_add(srv->in_flight, 1);
        *req_cls = rq;
        enum MHD_Result res = begin(rq, url);
        if (rq->replied || res == MHD_NO) {
            conn_answering(srv, conn); /* refused on its headers: no deadline for the reply */
        }
        return res;
    }
    if (rq->replied) {
        *upload_data_size = 0; /* answered early: whatever still arrives is dropped */
        return queued(rq);
    }
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        int rc = ov_buf_append(&rq->body, upload_data, n);
        if (rc != 0) {
            /* Content-Length was checked, so this is only reached if libmicrohttpd let
             * more through or memory ran out; no reply can be queued mid-upload. */
            return MHD_NO;
        }
        return MHD_YES;
    }
    conn_answering(srv, conn);
    return dispatch(rq);
}

static void
req_free(struct ov_req *rq)
{
    if (rq->inner != NULL) {
        req_free(rq->inner);
    }
    for (size_t i = 0; i < rq->n_ihdr; i++) {
        free(rq->ihdr[i]);
    }
    free(rq->ihdr);
    free(rq->query);
    free(rq->reply_ctype);
    ov_buf_clear(&rq->reply);
    if (rq->state_free != NULL) {
        rq->state_free(rq->state);
    }
    ov_buf_clear(&rq->body);
    for (size_t i = 0; i < rq->n_hdrs; i++) {
        free(rq->hdr[i]);
    }
    while (rq->qvals != NULL) {
        struct qval *next = rq->qvals->next;
        free(rq->qvals);
        rq->qvals = next;
    }
    free(rq);
}

/* The one owner of a request's end: count it, then free it. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct ov_http *srv = cls;
    struct ov_req *rq = *req_cls;
    (void)toe;
    conn_next_request(srv, conn); /* a closing connection is unlisted by CLOSED right after */
    if (rq == NULL) {
        return;
    }
    *req_cls = NULL;
    if (rq->queued) {
        stats_count(srv, rq->route != NULL ? &rq->route->st : &srv->unmatched, rq->status,
                    now_ns() - rq->t0_ns);
    } else {
        ov_counter_add(srv->aborted, 1);
    }
    ov_gauge_add(srv->in_flight, -1);
    pthread_mutex_lock(&srv->mu);
    if (rq->waiting) {
        waiter_remove(srv, rq); /* only if a suspended connection was closed under it */
    }
    pthread_mutex_unlock(&srv->mu);
    req_free(rq);
}

/* Leave URLs as sent: route.h matches raw paths and ov_req_query decodes strictly. The
 * default unescaper would turn "%00" into a NUL that silently cuts a path short. */
static size_t
unescape_none(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}

/* ---- built-in routes ------------------------------------------------------------- */

static int
h_healthz(struct ov_req *rq)
{
    int rc = ov_http_header(rq, "Cache-Control", "no-store");
    return rc ? rc : ov_http_reply(rq, 200, "text/plain; charset=utf-8", OV_BYTES_STR("ok\n"));
}

/* The process's resident memory (/proc/self/statm), 0 where there is no such file. */
static int64_t
resident_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) {
            resident = 0;
        }
        fclose(f);
    }
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

static int
h_metrics(struct ov_req *rq)
{
    struct ov_buf b;
    ov_gauge_set(rq->srv->resident, resident_bytes());
    ov_gauge_set(rq->srv->sqlite_mem, sqlite3_memory_used()); /* every server keeps SQLite */
    ov_buf_init(&b, OV_METRICS_MAX_RENDER_LEN);
    int rc = ov_metrics_render(rq->srv->metrics, &b);
    rc = rc ? rc : ov_http_header(rq, "Cache-Control", "no-store");
    rc = rc ? rc : ov_http_reply(rq, 200, OV_METRICS_CONTENT_TYPE, ov_buf_view(&b));
    ov_buf_clear(&b);
    return rc;
}

static const struct ov_http_route builtin_routes[] = {
    {"GET", "/healthz", h_healthz, 0},
    {"GET", "/metrics", h_metrics, 0},
};

/* ---- start and stop ------------------------------------------------------------------ */

static int
routes_init(struct ov_http *srv, const struct ov_http_cfg *cfg)
{
    size_t n_builtin = sizeof builtin_routes / sizeof builtin_routes[0];
    if (cfg->n_routes > OV_HTTP_MAX_ROUTES) {
        return -OV_E_TOO_BIG;
    }
    /* The caller's routes first, so a server may override a built-in. */
    for (size_t i = 0; i < cfg->n_routes + n_builtin; i++) {
        struct route_ent *e = &srv->routes[i];
        e->r = i < cfg->n_routes ? cfg->routes[i] : builtin_routes[i - cfg->n_routes];
        if (e->r.method == NULL || e->r.handler == NULL || e->r.pattern == NULL) {
            return -OV_E_MALFORMED;
        }
        int rc = ov_route_compile(e->r.pattern, &e->pat);
        rc = rc ? rc : stats_init(srv, &e->st, e->r.method, e->r.pattern);
        if (rc != 0) {
            return rc;
        }
        srv->n_routes++;
    }
    return stats_init(srv, &srv->unmatched, "", "unmatched");
}

static int
metrics_init(struct ov_http *srv, struct ov_metrics *given)
{
    int rc = 0;
    srv->metrics = given;
    if (given == NULL) {
        rc = ov_metrics_new(&srv->metrics);
        srv->own_metrics = rc == 0;
    }
    rc = rc ? rc
            : ov_metrics_gauge(srv->metrics, "http_requests_in_flight",
                               "Requests received and not yet completed.", NULL, &srv->in_flight);
    rc =
        rc ? rc
           : ov_metrics_counter(srv->metrics, "http_requests_aborted_total",
                                "Requests that ended without a reply queued.", NULL, &srv->aborted);
    rc = rc ? rc
            : ov_metrics_gauge(srv->metrics, "process_resident_memory_bytes",
                               "Resident memory of the process.", NULL, &srv->resident);
    rc = rc ? rc
            : ov_metrics_gauge(srv->metrics, "sqlite_memory_bytes",
                               "Memory SQLite holds (page caches, statements).", NULL,
                               &srv->sqlite_mem);
    rc = rc ? rc
            : ov_metrics_gauge(srv->metrics, "http_connections_open",
                               "Connections open (accepted and not yet closed).", NULL,
                               &srv->conns_open);
    rc = rc ? rc
            : ov_metrics_counter(srv->metrics, "http_connections_cut_total",
                                 "Connections closed by the server before their request was "
                                 "complete.",
                                 "reason=\"deadline\"", &srv->cut_deadline);
    rc = rc ? rc
            : ov_metrics_counter(srv->metrics, "http_connections_refused_total",
                                 "Connections closed at accept: the connection limits were "
                                 "reached (in all, or from one address).",
                                 "reason=\"limit\"", &srv->refused);
    return rc;
}

static int
mutex_cond_init(pthread_mutex_t *mu, pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    if (pthread_mutex_init(mu, NULL) != 0) {
        return -OV_E_NOMEM;
    }
    if (pthread_condattr_init(&ca) != 0) {
        pthread_mutex_destroy(mu);
        return -OV_E_NOMEM;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int err = pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
    if (err != 0) {
        pthread_mutex_destroy(mu);
        return -OV_E_NOMEM;
    }
    return 0;
}

static int
sync_init(struct ov_http *srv)
{
    int rc = mutex_cond_init(&srv->mu, &srv->cv);
    if (rc == 0 && mutex_cond_init(&srv->cmu, &srv->ccv) != 0) {
        pthread_cond_destroy(&srv->cv);
        pthread_mutex_destroy(&srv->mu);
        rc = -OV_E_NOMEM;
    }
    return rc;
}

/* The connection limits, fitted to the open-file limit: its soft limit is raised (up to
 * the hard one) to the total plus OV_HTTP_FD_RESERVE for everything else the process
 * opens. When the hard limit is lower, the total is lowered to fit, and said. */
static int
limits_init(struct ov_http *srv, const struct ov_http_cfg *cfg)
{
    unsigned total = cfg->conn_limit ? cfg->conn_limit : OV_HTTP_DEFAULT_CONN_LIMIT;
    unsigned per_ip = cfg->per_ip_limit ? cfg->per_ip_limit : OV_HTTP_DEFAULT_PER_IP_LIMIT;
    struct rlimit rl;
    rlim_t need = (rlim_t)total + OV_HTTP_FD_RESERVE;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            rl.rlim_cur = was;
        }
        if (rl.rlim_cur < need) {
            unsigned fit = rl.rlim_cur > 2 * OV_HTTP_FD_RESERVE
                               ? (unsigned)(rl.rlim_cur - OV_HTTP_FD_RESERVE)
                               : OV_HTTP_FD_RESERVE;
            fprintf(stderr,
                    "http: the open-file limit (RLIMIT_NOFILE: %llu, hard %llu) does not fit "
                    "%u connections: serving at most %u (raise the hard limit: ulimit -Hn, "
                    "systemd LimitNOFILE=)\n",
                    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, total, fit);
            total = fit;
        }
    }
    srv->conn_limit = total;
    srv->per_ip_limit = per_ip < total ? per_ip : total;
    srv->deadline_ns =
        (uint64_t)(cfg->deadline_s ? cfg->deadline_s : OV_HTTP_DEFAULT_DEADLINE_S) * 1000000000u;
    srv->quiet = cfg->quiet;
    return ov_peers_new(srv->per_ip_limit, cfg->exempt, &srv->peers);
}

/* GnuTLS asks for the certificate at each handshake (gnutls_certificate_retrieve_function2,
 * through MHD_OPTION_HTTPS_CERT_CALLBACK): the pair current now, held by the connection
 * until its CLOSED notification, which libmicrohttpd 0.9.75 sends after gnutls_deinit, so
 * a reload (infra/tls.h) never frees a key under a session. libmicrohttpd sets the
 * session's pointer to its connection (daemon.c, new_connection_prepare_), whose socket
 * context is our struct conn, made by the STARTED notification before any handshake. */
static int
cert_for(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int n_req_ca,
         const gnutls_pk_algorithm_t *pk_algos, int n_pk_algos, gnutls_pcert_st **pcert,
         unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
    (void)req_ca_dn;
    (void)n_req_ca;
    (void)pk_algos;
    (void)n_pk_algos;
    struct MHD_Connection *mc = gnutls_session_get_ptr(session);
    struct conn *c = mc != NULL ? conn_of(mc) : NULL;
    if (c == NULL || c->srv->tls == NULL) {
        return -1; /* an untracked connection (out of memory at STARTED): no handshake */
    }
    if (c->creds == NULL) { /* a renegotiation keeps the connection's first pair */
        c->creds = ov_tls_acquire(c->srv->tls);
    }
    ov_tls_creds_use(c->creds, pcert, pcert_length, privkey);
    return 0;
}

/* STRICT_FOR_CLIENT 1: a Host header is required of HTTP/1.1 and whitespace before a
 * header's colon is refused, as RFC 9112 §3.2 and §5.1 demand of servers; lenient
 * parsing there is what request smuggling feeds on.
 *
 * epoll for every server. poll() walks every connection at each wake-up and accepts one
 * connection per turn: under a flood of 10,000 idle connections from 40 addresses a
 * normal client waited 0.4-2 s for the verifier with poll(), 2-5 ms with epoll. The log's
 * tile reads, cheap requests, ran 115-120k/s with epoll against 105-112k with poll. The
 * verifier, whose requests are suspended, counted ~4 % fewer actions a second with epoll
 * (an epoll_ctl at each suspend and resume). An earlier build saw epoll leave a burst of
 * 128 new connections unread (5 stalls in ~45 runs); the same burst ran 60 times without a
 * stall on this build (vtool load --conns 128 --batch 16, fresh servers each 4 runs). */
static int
daemon_start(struct ov_http *srv, const struct ov_http_cfg *cfg, struct ov_addr *addr)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n_threads = cfg->n_threads ? cfg->n_threads : (cores > 0 ? (unsigned)cores : 1);
    /* the error log always, through mhd_log: it counts refusals, and drops the rest if quiet */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     (ov_addr_is_ipv6(addr) ? (unsigned)MHD_USE_IPv6 : 0u) |
                     (srv->tls != NULL ? (unsigned)MHD_USE_TLS : 0u);
    /* HTTPS: GnuTLS's priorities (infra/tls.h) and the certificate callback; plain HTTP
     * must not name them (libmicrohttpd complains of HTTPS options without TLS) */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(uintptr_t)OV_TLS_PRIORITIES},
        {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)(uintptr_t)cert_for},
        {MHD_OPTION_END, 0, NULL},
    };
    /* the logger first: libmicrohttpd logs through the default one until it meets it */
    srv->d = MHD_start_daemon(
        flags, 0, on_accept, srv, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr->ss,
        MHD_OPTION_THREAD_POOL_SIZE, n_threads, MHD_OPTION_CONNECTION_TIMEOUT,
        cfg->timeout_s ? cfg->timeout_s : OV_HTTP_DEFAULT_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
        srv->conn_limit,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        cfg->memory_limit ? cfg->memory_limit : (size_t)OV_HTTP_DEFAULT_MEMORY_LIMIT,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, srv, MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL, MHD_OPTION_STRICT_FOR_CLIENT, 1,
        MHD_OPTION_ARRAY, srv->tls != NULL ? tls_opts : tls_opts + 2, MHD_OPTION_END);
    if (srv->d == NULL) {
        return -OV_E_IO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        return -OV_E_IO;
    }
    srv->port = info->port;
    return 0;
}

int
ov_http_start(const struct ov_http_cfg *cfg, struct ov_http **out)
{
    struct ov_addr addr;
    *out = NULL;
    int rc = ov_addr_parse(cfg->listen != NULL ? cfg->listen : OV_ADDR_DEFAULT, &addr);
    if (rc != 0) {
        return -OV_E_MALFORMED;
    }
    struct ov_http *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        return -OV_E_NOMEM;
    }
    rc = sync_init(srv);
    if (rc != 0) {
        free(srv);
        return rc;
    }
    srv->user = cfg->user;
    srv->tls = cfg->tls;
    srv->precheck = cfg->precheck;
    rc = limits_init(srv, cfg);
    rc = rc ? rc : metrics_init(srv, cfg->metrics);
    rc = rc ? rc : routes_init(srv, cfg);
    if (rc == 0 && pthread_create(&srv->timer, NULL, timer_main, srv) != 0) {
        rc = -OV_E_NOMEM;
    }
    srv->timer_started = rc == 0;
    if (rc == 0 && pthread_create(&srv->reaper, NULL, reaper_main, srv) != 0) {
        rc = -OV_E_NOMEM;
    }
    srv->reaper_started = rc == 0;
    rc = rc ? rc : daemon_start(srv, cfg, &addr);
    if (rc != 0) {
        ov_http_stop(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

void
ov_http_stop(struct ov_http *srv)
{
    if (srv == NULL) {
        return;
    }
    /* Wake every long poll as expired and refuse new waits, so that no connection is
     * left suspended: libmicrohttpd panics when stopped with one. */
    pthread_mutex_lock(&srv->mu);
    srv->stopping = true;
    while (srv->waiters != NULL) {
        waiter_wake(srv, srv->waiters, true);
    }
    pthread_cond_signal(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    if (srv->timer_started) {
        pthread_join(srv->timer, NULL);
    }
    pthread_mutex_lock(&srv->cmu);
    srv->reaper_stop = true;
    pthread_cond_signal(&srv->ccv);
    pthread_mutex_unlock(&srv->cmu);
    if (srv->reaper_started) {
        pthread_join(srv->reaper, NULL);
    }
    if (srv->d != NULL) {
        MHD_stop_daemon(srv->d); /* CLOSED for each connection frees its struct conn */
    }
    ov_peers_free(srv->peers);
    if (srv->own_metrics) {
        ov_metrics_free(srv->metrics);
    }
    pthread_cond_destroy(&srv->ccv);
    pthread_mutex_destroy(&srv->cmu);
    pthread_cond_destroy(&srv->cv);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
}

uint16_t
ov_http_port(const struct ov_http *srv)
{
    return srv->port;
}

struct ov_metrics *
ov_http_metrics(struct ov_http *srv)
{
    return srv->metrics;
}
