#include "outbox.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "primitives/cbor.h"
#include "base/clock.h"
#include "base/epoch.h"
#include "contexts.h"
#include "logcheck.h"
#include "infra/httpc.h"
#include "protocol/logclient.h"
#include "protocol/logreq.h"
#include "primitives/note.h"
#include "store.h"
#include "writer.h"

#define PRUNE_EVERY_MS 10000u
#define ISSUER_OUTBOX_SLACK 256u /* the request map around the entries */
#define BACKOFF_MIN_MS 50u
#define BACKOFF_MAX_MS 2000u

struct issuer_outbox {
    struct issuer_app *app;
    char url[1024];
    char vkey[OV_NOTE_MAX_VKEY_LEN + 1];
    char name[65];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool kicked, stopping;
    bool check_failed; /* said once that the log could not be asked */
    uint64_t flushed;  /* the latest epoch end whose rows were sent (the metric) */
};

struct row {
    int64_t id;
    uint64_t release; /* its epoch's end (0: sent at once) */
    struct ov_buf entry;
};

uint64_t
issuer_epoch_place(const struct issuer_app *app, enum issuer_held cls)
{
    return app->epoch_s == 0 ? 0 : ((uint64_t)cls << 62) | ov_epoch_shuffle_key();
}

/* Sleeps up to ms or until kicked (or stopping). */
static void
nap(struct issuer_outbox *o, uint32_t ms, bool wake_on_kick)
{
    struct timespec ts = ov_deadline_us(CLOCK_REALTIME, (uint64_t)ms * 1000u);
    pthread_mutex_lock(&o->mu);
    while (!o->stopping && !(wake_on_kick && o->kicked)) {
        if (pthread_cond_timedwait(&o->cv, &o->mu, &ts) == ETIMEDOUT) {
            break;
        }
    }
    o->kicked = false;
    pthread_mutex_unlock(&o->mu);
}

static bool
stopping(struct issuer_outbox *o)
{
    pthread_mutex_lock(&o->mu);
    bool s = o->stopping;
    pthread_mutex_unlock(&o->mu);
    return s;
}

/* Whether the log at o->url serves the verifier key we were given. */
static bool
log_is_ours(struct issuer_outbox *o, struct ov_httpc *http)
{
    char url[1100];
    struct ov_httpc_resp resp;
    snprintf(url, sizeof url, "%s/vkey", o->url);
    if (ov_httpc_get(http, url, OV_NOTE_MAX_VKEY_LEN + 2, &resp) != 0) {
        return false;
    }
    size_t n = resp.body.len;
    while (n > 0 && resp.body.ptr[n - 1] == '\n') {
        n--;
    }
    bool ok = resp.status == 200 && n == strlen(o->vkey) && memcmp(resp.body.ptr, o->vkey, n) == 0;
    if (resp.status == 200 && !ok) {
        fprintf(stderr, "onevoice-issuer: the log at %s has another key than --log-vkey: it "
                        "serves \"%.*s\", not \"%s\" (check --log and --log-vkey); nothing "
                        "is sent\n", o->url, (int)(n < 200 ? n : 200), (const char *)resp.body.ptr,
                o->vkey);
    }
    ov_httpc_resp_clear(&resp);
    return ok;
}

static int
load_pending(struct ov_db *db, struct row *rows, size_t *n)
{
    sqlite3_stmt *st = ov_db_stmt(db, "outbox_pending");
    int rc = ov_db_bind_uint64(st, 1, ov_now_ms() / 1000);
    rc = rc ? rc : ov_db_bind_int64(st, 2, ISSUER_OUTBOX_BATCH);
    size_t bytes = 0;
    *n = 0;
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        struct ov_bytes e;
        struct row *r = &rows[*n];
        rc = ov_db_col_int64(st, 0, &r->id);
        rc = rc ? rc : ov_db_col_blob(st, 1, OV_MAX_ENTRY_LEN, &e);
        rc = rc ? rc : ov_db_col_uint64(st, 2, &r->release);
        /* a request's size, its map and each byte string's head included: OV_MAX_CBOR_LEN
         * as a batch size only (the log takes OV_LOG_MAX_REQUEST_LEN); a first row always
         * goes, alone if need be (an entry is at most OV_MAX_ENTRY_LEN) */
        if (rc == 0 && *n > 0 && bytes + e.len + 8 > OV_MAX_CBOR_LEN - ISSUER_OUTBOX_SLACK) {
            break;
        }
        bytes += e.len + 8;
        ov_buf_init(&r->entry, OV_MAX_ENTRY_LEN);
        rc = rc ? rc : ov_buf_append(&r->entry, e.ptr, e.len);
        if (rc == 0) {
            (*n)++;
        } else {
            ov_buf_clear(&r->entry);
        }
    }
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

struct ack_ctx {
    const struct row *rows;
    size_t n;
    const struct ov_log_ack *ack;
    size_t n_contexts; /* contexts that opened */
};

static int
ack_tx(struct ov_db *db, void *arg)
{
    struct ack_ctx *a = arg;
    int rc = 0;
    a->n_contexts = 0;
    for (size_t i = 0; i < a->n && rc == 0; i++) {
        sqlite3_stmt *st = ov_db_stmt(db, "outbox_ack");
        rc = ov_db_bind_uint64(st, 1, a->ack->indices[i]);
        rc = rc ? rc : ov_db_bind_int64(st, 2, a->rows[i].id);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
        if (rc < 0) {
            break;
        }
        st = ov_db_stmt(db, "ctx_ack");
        rc = ov_db_bind_uint64(st, 1, a->ack->indices[i]);
        rc = rc ? rc : ov_db_bind_int64(st, 2, a->rows[i].id);
        rc = rc ? rc : ov_db_step(st);
        a->n_contexts += rc == OV_DB_DONE && sqlite3_changes(ov_db_handle(db)) > 0;
        ov_db_reset(st);
    }
    return rc < 0 ? rc : 0;
}

static void
prune(struct ov_db *db)
{
    sqlite3_stmt *st = ov_db_stmt(db, "seen_expire");
    int rc = ov_db_bind_uint64(st, 1, ov_now_ms());
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc < 0) {
        fprintf(stderr, "%s:%d: pruning seen requests: %s\n", __FILE__, __LINE__,
                ov_strerror(rc));
    }
}

/* The held rows' gauge: those whose epoch has not ended. */
static void
count_held(struct issuer_outbox *o, struct ov_db *db)
{
    sqlite3_stmt *st = ov_db_stmt(db, "outbox_held");
    int64_t n = 0;
    int rc = ov_db_bind_uint64(st, 1, ov_now_ms() / 1000);
    rc = rc ? rc : ov_db_step(st);
    rc = rc == OV_DB_ROW ? ov_db_col_int64(st, 0, &n) : -OV_E_DB;
    ov_db_reset(st);
    if (rc == 0) {
        ov_gauge_set(o->app->held, n);
    }
}

/* One round: send what is due. 1 when something was sent, 0 when nothing was due,
 * negative on failure. */
static int
round_once(struct issuer_outbox *o, struct ov_db *db, struct ov_logclient *lc, struct row *rows,
           struct ov_bytes *views)
{
    size_t n = 0;
    struct ov_log_ack ack;
    int rc = load_pending(db, rows, &n);
    if (o->app->epoch_s > 0) {
        count_held(o, db);
    }
    if (rc != 0 || n == 0) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) { /* an epoch's first rows sent: its flush begins */
        if (rows[i].release > o->flushed) {
            o->flushed = rows[i].release;
            ov_counter_add(o->app->flushes, 1);
        }
    }
    for (size_t i = 0; i < n; i++) {
        views[i] = ov_buf_view(&rows[i].entry);
    }
    rc = ov_logclient_append(lc, views, n, false, &ack);
    if (rc != 0) {
        char why[512];
        ov_logclient_explain(lc, rc, &ack, why, sizeof why);
        fprintf(stderr, "onevoice-issuer: log append failed: %s; will retry\n", why);
    }
    struct ack_ctx a = { rows, n, &ack, 0 };
    if (rc == 0) {
        rc = issuer_writer_call(o->app->writer, ack_tx, &a);
    }
    ov_log_ack_clear(&ack);
    for (size_t i = 0; i < n; i++) {
        ov_buf_clear(&rows[i].entry);
    }
    if (rc != 0) {
        return rc;
    }
    ov_gauge_add(o->app->backlog, -(int64_t)n);
    if (a.n_contexts > 0) {
        rc = issuer_contexts_load(o->app->contexts, db);
        if (rc != 0) {
            fprintf(stderr, "%s:%d: loading contexts: %s\n", __FILE__, __LINE__,
                    ov_strerror(rc));
        }
        struct ov_http *h = atomic_load(&o->app->http);
        if (h != NULL) {
            ov_http_notify(h);
        }
    }
    return 1;
}

/* After a start, once every row is sent: is this database behind the log (logcheck.h)?
 * 0 checked (either way), < 0 to retry. */
static int
check_log(struct issuer_outbox *o, struct ov_db *db, struct ov_httpc *http)
{
    char why[512];
    int rc = issuer_logcheck(o->app, db, http, o->url, o->name, why, sizeof why);
    if (rc < 0) {
        if (!o->check_failed) {
            fprintf(stderr, "onevoice-issuer: cannot check this database against the log "
                            "(%s); enrollments and tokens wait until it can be done\n",
                    ov_strerror(rc));
        }
        o->check_failed = true;
        return rc;
    }
    if (rc == 1) {
        fprintf(stderr, "onevoice-issuer: %s. Serving enrollments or tokens now could enroll a "
                        "used invitation again or spend a quota twice: they are refused (503 "
                        "behind_log). Stop the issuer and restore the newest backup of "
                        "issuer.db (onevoice-issuer --restore).\n", why);
    }
    atomic_store(&o->app->log_state, rc == 1 ? ISSUER_LOG_BEHIND : ISSUER_LOG_OK);
    struct ov_http *h = atomic_load(&o->app->http);
    if (h != NULL) {
        ov_http_notify_upto(h, ISSUER_CH_LOGCHECK, 1);
    }
    return 0;
}

static void *
sender_main(void *arg)
{
    pthread_setname_np(pthread_self(), "iss-outbox"); /* for top -H and perf */
    struct issuer_outbox *o = arg;
    struct ov_db *db = NULL;
    struct ov_logclient *lc = NULL;
    struct ov_httpc *http = NULL;
    struct row *rows = calloc(ISSUER_OUTBOX_BATCH, sizeof *rows);
    struct ov_bytes *views = calloc(ISSUER_OUTBOX_BATCH, sizeof *views);
    int rc = rows && views ? 0 : -OV_E_NOMEM;
    rc = rc ? rc : issuer_store_open(o->app->dir, &db);
    rc = rc ? rc : ov_logclient_new(o->url, o->name, o->app->producer, &lc);
    rc = rc ? rc : ov_httpc_new(&http);
    if (rc != 0) {
        fprintf(stderr, "onevoice-issuer: the outbox sender cannot start: %s\n", ov_strerror(rc));
    }
    bool verified = false;
    uint32_t backoff = BACKOFF_MIN_MS;
    uint64_t last_prune = 0;
    while (rc == 0 && !stopping(o)) {
        uint64_t now = ov_now_ms();
        if (now - last_prune >= PRUNE_EVERY_MS) {
            prune(db);
            last_prune = now;
        }
        if (!verified && !(verified = log_is_ours(o, http))) {
            nap(o, 1000, false);
            continue;
        }
        int r = round_once(o, db, lc, rows, views);
        if (r == 0 && atomic_load(&o->app->log_state) == ISSUER_LOG_CHECKING) {
            r = check_log(o, db, http);
        }
        if (r > 0) {
            backoff = BACKOFF_MIN_MS;
        } else if (r == 0) {
            nap(o, 1000, true);
        } else {
            nap(o, backoff, false);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        }
    }
    ov_httpc_free(http);
    ov_logclient_free(lc);
    ov_db_close(db);
    free(views);
    free(rows);
    return NULL;
}

int
issuer_outbox_start(struct issuer_app *app, const char *url, const char *vkey, const char *name,
                    struct issuer_outbox **out)
{
    struct issuer_outbox *o = calloc(1, sizeof *o);
    *out = NULL;
    if (o == NULL) {
        return -OV_E_NOMEM;
    }
    size_t ul = strlen(url);
    while (ul > 0 && url[ul - 1] == '/') {
        ul--;
    }
    if (ul >= sizeof o->url || strlen(vkey) >= sizeof o->vkey || strlen(name) >= sizeof o->name) {
        free(o);
        return -OV_E_TOO_BIG;
    }
    memcpy(o->url, url, ul);
    memcpy(o->vkey, vkey, strlen(vkey));
    memcpy(o->name, name, strlen(name));
    o->app = app;
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    if (pthread_create(&o->thread, NULL, sender_main, o) != 0) {
        free(o);
        return -OV_E_NOMEM;
    }
    *out = o;
    return 0;
}

void
issuer_outbox_kick(struct issuer_outbox *o)
{
    if (o == NULL) {
        return;
    }
    pthread_mutex_lock(&o->mu);
    o->kicked = true;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

void
issuer_outbox_stop(struct issuer_outbox *o)
{
    if (o == NULL) {
        return;
    }
    pthread_mutex_lock(&o->mu);
    o->stopping = true;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->thread, NULL);
}

void
issuer_outbox_free(struct issuer_outbox *o)
{
    if (o == NULL) {
        return;
    }
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->mu);
    free(o);
}
