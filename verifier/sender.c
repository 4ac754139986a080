/* sender: the outbox's sender thread. It takes the oldest rows the log has not
 * acknowledged (in row order, up to VF_SEND_BATCH), appends them in one signed request
 * (core/logclient, wait "durable"), and records every index the log gave, together with
 * the log's committed size, in one transaction. On any failure it sends the same rows again
 * after a backoff: the log keeps an entry's first index, so a row is never logged twice,
 * also when the verifier died between the log's answer and recording it.
 *
 * Invariants the others rely on:
 *   - rows are acknowledged in id order, so every row with id <= indexed_upto has its index;
 *   - every row still unsent will get an index >= the recorded known_size (the log's size
 *     grows, and this thread's requests are sequential). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "logclient.h"
#include "logreq.h"
#include "store.h"

#define VF_SEND_BATCH 4096                /* rows per request (the log's maximum) */
#define VF_SEND_MAX_BYTES (8u << 20)      /* request body budget */
#define VF_SEND_IDLE_MS 500               /* recheck the outbox at least this often */
#define VF_SEND_BACKOFF_MAX_MS 2000

struct outbox {
    size_t n;
    int64_t ids[VF_SEND_BATCH];
    struct ov_bytes entries[VF_SEND_BATCH];
    struct ov_buf data; /* the entries, back to back */
};

/* Reads the next rows to send. */
static int
read_outbox(struct ov_db *db, struct outbox *ob)
{
    sqlite3_stmt *st = ov_db_stmt(db, "outbox_next");
    size_t offs[VF_SEND_BATCH];
    int rc = ov_db_bind_int64(st, 1, VF_SEND_BATCH);
    ob->n = 0;
    ob->data.len = 0;
    while (rc == 0 && ob->n < VF_SEND_BATCH && (rc = ov_db_step(st)) == OV_DB_ROW) {
        struct ov_bytes e;
        rc = ov_db_col_int64(st, 0, &ob->ids[ob->n]);
        rc = rc ? rc : ov_db_col_blob(st, 1, OV_LOG_MAX_ENTRY_LEN, &e);
        if (rc == 0 && (e.len == 0 || ob->data.len + e.len > VF_SEND_MAX_BYTES)) {
            break; /* the rest goes in the next request */
        }
        offs[ob->n] = ob->data.len;
        rc = rc ? rc : ov_buf_append(&ob->data, e.ptr, e.len);
        ob->entries[ob->n].len = e.len;
        ob->n += rc == 0;
    }
    ov_db_reset(st);
    for (size_t i = 0; i < ob->n; i++) {
        ob->entries[i].ptr = ob->data.ptr + offs[i];
    }
    return rc < 0 ? rc : 0;
}

struct record {
    const struct outbox *ob;
    const struct ov_log_ack *ack;
};

static int
record_tx(struct ov_db *db, void *arg)
{
    struct record *r = arg;
    int rc = 0;
    for (size_t i = 0; i < r->ob->n && rc == 0; i++) {
        sqlite3_stmt *st = ov_db_stmt(db, "outbox_done");
        rc = ov_db_bind_uint64(st, 1, r->ack->indices[i]);
        rc = rc ? rc : ov_db_bind_int64(st, 2, r->ob->ids[i]);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
        rc = rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
    }
    if (rc == 0) {
        sqlite3_stmt *st = ov_db_stmt(db, "sent_put");
        rc = ov_db_bind_uint64(st, 1, r->ack->size);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
        rc = rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
    }
    return rc;
}

static int64_t
pending_rows(struct ov_db *db)
{
    sqlite3_stmt *st = ov_db_stmt(db, "outbox_count");
    int64_t n = 0;
    if (ov_db_step(st) != OV_DB_ROW || ov_db_col_int64(st, 0, &n) != 0) {
        n = -1;
    }
    ov_db_reset(st);
    return n;
}

/* Waits for a kick, a stop or ms. */
static void
idle(struct vf_app *app, uint32_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&app->send_mu);
    while (!app->send_kick && !atomic_load(&app->stopping)) {
        if (pthread_cond_timedwait(&app->send_cv, &app->send_mu, &ts) != 0) {
            break;
        }
    }
    app->send_kick = false;
    pthread_mutex_unlock(&app->send_mu);
}

/* Every row up to the highest already acknowledged, at start-up: rows are acknowledged in
 * order, so that is the highest id below the first unsent one. */
static int
init_indexed(struct vf_app *app, struct ov_db *db)
{
    struct outbox *ob = malloc(sizeof *ob);
    int64_t max = 0;
    int rc = ob ? 0 : -OV_E_NOMEM;
    if (rc == 0) {
        ov_buf_init(&ob->data, VF_SEND_MAX_BYTES);
        rc = read_outbox(db, ob);
    }
    sqlite3_stmt *st = ov_db_stmt(db, "entry_max");
    if (rc == 0 && (ov_db_step(st) != OV_DB_ROW || ov_db_col_int64(st, 0, &max) != 0)) {
        rc = -OV_E_DB;
    }
    ov_db_reset(st);
    if (rc == 0) {
        atomic_store(&app->indexed_upto, (uint64_t)(ob->n > 0 ? ob->ids[0] - 1 : max));
    }
    if (ob != NULL) {
        ov_buf_clear(&ob->data);
        free(ob);
    }
    return rc;
}

static void *
sender_main(void *arg)
{
    struct vf_app *app = arg;
    struct ov_db *db = NULL;
    struct ov_logclient *lc = NULL;
    struct outbox *ob = malloc(sizeof *ob);
    uint32_t backoff = 0;
    int rc = ob ? vf_store_open(app->dir, &db) : -OV_E_NOMEM;
    rc = rc ? rc : ov_logclient_new(app->log.url, VF_PRODUCER, app->producer_key, &lc);
    if (rc != 0) {
        fprintf(stderr, "onevoice-verifier: sender cannot start: %s\n", ov_strerror(rc));
        goto out;
    }
    ov_buf_init(&ob->data, VF_SEND_MAX_BYTES);
    while (!atomic_load(&app->stopping)) {
        rc = read_outbox(db, ob);
        ov_gauge_set(app->m_pending, pending_rows(db));
        if (rc != 0 || ob->n == 0) {
            idle(app, VF_SEND_IDLE_MS);
            continue;
        }
        struct ov_log_ack ack;
        rc = ov_logclient_append(lc, ob->entries, ob->n, false, &ack);
        if (rc == 0) {
            struct record r = { ob, &ack };
            rc = ov_db_tx(db, record_tx, &r);
        } else {
            fprintf(stderr, "onevoice-verifier: the log refused %zu entries: %s (HTTP %u %s)\n",
                    ob->n, ov_strerror(rc), ack.status, ack.reason);
            ov_counter_add(app->m_log_errors, 1);
        }
        if (rc == 0) {
            atomic_store(&app->indexed_upto, (uint64_t)ob->ids[ob->n - 1]);
            ov_counter_add(app->m_appended, ob->n);
            vf_notify(app, VF_CH_INDEX);
            backoff = 0;
        }
        ov_log_ack_clear(&ack);
        if (rc != 0) {
            backoff = backoff ? (backoff * 2 > VF_SEND_BACKOFF_MAX_MS ? VF_SEND_BACKOFF_MAX_MS
                                                                      : backoff * 2)
                              : 50;
            idle(app, backoff);
        }
    }
out:
    ov_logclient_free(lc);
    ov_db_close(db);
    if (ob != NULL) {
        ov_buf_clear(&ob->data);
        free(ob);
    }
    return NULL;
}

int
vf_sender_start(struct vf_app *app)
{
    struct ov_db *db = NULL;
    int rc = vf_store_open(app->dir, &db);
    rc = rc ? rc : init_indexed(app, db);
    ov_db_close(db);
    if (rc == 0 && pthread_create(&app->sender_th, NULL, sender_main, app) != 0) {
        rc = -OV_E_NOMEM;
    }
    return rc;
}

void
vf_sender_kick(struct vf_app *app)
{
    pthread_mutex_lock(&app->send_mu);
    app->send_kick = true;
    pthread_cond_signal(&app->send_cv);
    pthread_mutex_unlock(&app->send_mu);
}

void
vf_sender_stop(struct vf_app *app)
{
    vf_sender_kick(app); /* app->stopping is already set */
    pthread_join(app->sender_th, NULL);
}
