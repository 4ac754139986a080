/* sender: the outbox's sender. Its main thread reads the oldest rows the log has not
 * acknowledged, in row order, into append requests (core/protocol/logclient, wait "durable"), and
 * keeps up to VF_SEND_DEPTH of them in flight on as many worker threads (each with its own
 * connection), so the log can commit several in one group commit. It records the answers in
 * the order the requests were made, every answer that has arrived in one transaction: each
 * row's index, and a log size below which every row of ours is recorded. On a failure it
 * waits for the requests in flight, drops their answers and sends the same rows again after
 * a backoff: the log keeps an entry's first index, so a row is never logged twice, also
 * when the verifier died between the log's answer and recording it.
 *
 * Under load a request gathers company, as the committer's batches do: when the previous
 * request carried VF_SEND_BUSY_ROWS rows or more, the next one leaves once VF_SEND_GATHER_ROWS
 * rows are committed or VF_SEND_GATHER_US after the previous one left. Much of what a request
 * costs is paid per request (at the log its transaction and fsync, the HTTP exchange and the
 * signature check; here the HTTP exchange and the recording transaction), and without the
 * wait a request carried only what one log round trip let pile up (~30-45 rows in
 * bench_verifier). With it, back to back: at 5,000 actions/s offered, CPU per action -9 %
 * here and -36 % at the log (~6 ms more to a receipt); at saturation -1 % and -9 %. A lone
 * action never waits. A request carries at most 512 KiB of entries, about 800 action
 * entries. Every row fits one alone, so none can hold up the rows after it
 * (VF_SEND_MAX_BYTES).
 *
 * A pseudonym's admission is not overtaken: a row without token by a pseudonym (a later
 * rating or statement) is not put in a request while a request in flight holds the row that
 * admits that pseudonym (its token); it waits for that request's answer. The log commits a
 * request's entries in their order and a request sent after an answer after that answer's
 * batch, so every admitting row is logged before the rows it admits (docs/PROTOCOL.md §3
 * allows either order; an auditor and this verifier's adoption of a lost database are simpler
 * with this one). Assembly ballots carry no pseudonym and are never held back.
 *
 * With epochs (epoch.h) it sends only the rows of the epochs that ended (their places below
 * vf_epoch_limit: the ids up to the last of them, after those recorded), in place order:
 * each epoch's random order, drawn when its rows were written. Rows are then recorded out
 * of id order: sent.upto and indexed_upto move to the end of such a range once every row
 * of it is recorded (range_done). After a failure or a restart the range is loaded again
 * without the rows recorded, and the rest goes in the same order.
 *
 * Invariants the others rely on:
 *   - rows are recorded in id order: every row with id <= indexed_upto has its index, and
 *     the rows after it are those still to send (sent.upto keeps it across restarts);
 *   - every row not recorded gets an index >= the recorded known_size. A request sent after
 *     an answer arrived is committed after that answer's batch, so its entries get indices
 *     >= that answer's size (its `base`); known_size is the smallest base of the requests
 *     still in flight (or the largest size answered, when none is). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "app.h"
#include "commit.h"
#include "epoch.h"
#include "sender.h"
#include "primitives/cbor.h"
#include "base/clock.h"
#include "protocol/logclient.h"
#include "protocol/logreq.h"
#include "store.h"

#define VF_SEND_DEPTH 4            /* requests in flight */
#define VF_SEND_MAX_ROWS 1024      /* rows per request */
/* Entry bytes per request: each entry costs its length and a CBOR head of at most 3 bytes
 * (a byte string shorter than 65536), and the rest of the request (keys, nonce, producer,
 * time, wait) stays under 128 bytes. Every row must fit a request alone, or the outbox would
 * stop behind it, and the rows committed after it (receipts given) would never be logged.
 * It does: every outbox row is an entry ov_entry_encode wrote (an action in h_actions.c, a
 * tally in tally.c), and ov_entry_encode refuses to write more than OV_MAX_ENTRY_LEN =
 * 65535 bytes, what the log takes (core/protocol/logreq) and what its bundles can carry.
 * (In practice they are much smaller: an action entry is about 600 bytes, and decide.c
 * keeps a rating round's targets within VF_MAX_TALLY_BYTES = 60000 bytes of its tally
 * entry.) read_rows always takes a first row, whatever its length, and stops before the
 * row that would pass VF_SEND_MAX_BYTES: a request of at most 512 KiB + 128 bytes and
 * VF_SEND_MAX_ROWS entries, under the log's OV_LOG_MAX_REQUEST_LEN (4 MiB) and
 * OV_LOG_MAX_BATCH (4096). */
#define VF_SEND_MAX_BYTES (512u * 1024u)
_Static_assert(OV_MAX_ENTRY_LEN + 3 <= VF_SEND_MAX_BYTES, "the longest entry fits a request");
_Static_assert(VF_SEND_MAX_BYTES + 128 <= OV_LOG_MAX_REQUEST_LEN, "which the log takes");
_Static_assert(VF_SEND_MAX_ROWS <= OV_LOG_MAX_BATCH, "as many entries as the log takes");
#define VF_SEND_IDLE_MS 500        /* recheck the outbox at least this often */
#define VF_SEND_BUSY_ROWS 16       /* a request this large means load: the next one gathers */
#define VF_SEND_GATHER_ROWS 256    /* it leaves with this many rows... */
#define VF_SEND_GATHER_US 5000     /* ...or this long after the previous one left */
#define VF_SEND_BACKOFF_MAX_MS 2000

enum job_state { JOB_FREE, JOB_QUEUED, JOB_SENDING, JOB_DONE };

struct job {
    size_t n;
    size_t n_admits;                                   /* rows that admit a pseudonym: */
    uint8_t admits[VF_SEND_MAX_ROWS][OV_PSEUDONYM_LEN]; /* their pseudonyms */
    int64_t ids[VF_SEND_MAX_ROWS];
    struct ov_bytes entries[VF_SEND_MAX_ROWS];
    uint8_t hashes[VF_SEND_MAX_ROWS][OV_HASH_LEN]; /* their leaf hashes (the answer's check) */
    struct ov_buf data;      /* the entries, back to back */
    uint64_t base;           /* every index it gets is >= base */
    enum job_state state;
    int rc;
    struct ov_log_ack ack;
    char why[512]; /* a failure in words (ov_logclient_explain) */
};

/* The pseudonyms the requests in flight admit (open addressing, SipHash under a random key:
 * clients choose their pseudonyms). */
#define VF_ADMIT_SLOTS 8192
_Static_assert(VF_ADMIT_SLOTS >= 2 * VF_SEND_DEPTH * VF_SEND_MAX_ROWS, "half full at most");
struct admitset {
    size_t n;
    uint8_t key[crypto_shorthash_KEYBYTES];
    bool used[VF_ADMIT_SLOTS];
    uint8_t who[VF_ADMIT_SLOTS][OV_PSEUDONYM_LEN];
};

struct sender {
    struct vf_app *app;
    struct admitset admitted; /* of the requests in flight (the main thread's) */
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    struct job jobs[VF_SEND_DEPTH]; /* a ring: head is the oldest in flight */
    size_t head, count;
    pthread_t workers[VF_SEND_DEPTH];
    size_t n_workers;
    bool stop;
};

static struct sender g_sender;

/* ---- the workers: one append each ------------------------------------------------------- */

static void *
worker_main(void *arg)
{
    pthread_setname_np(pthread_self(), "vf-logclient"); /* for top -H and perf */
    struct sender *s = arg;
    struct ov_logclient *lc = NULL;
    int rc = ov_logclient_new(s->app->log.url, VF_PRODUCER, s->app->producer_key, &lc);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct job *j = NULL;
        for (size_t i = 0; i < s->count && j == NULL; i++) {
            struct job *c = &s->jobs[(s->head + i) % VF_SEND_DEPTH];
            j = c->state == JOB_QUEUED ? c : NULL;
        }
        if (j == NULL) {
            if (s->stop) {
                break;
            }
            pthread_cond_wait(&s->work_cv, &s->mu);
            continue;
        }
        j->state = JOB_SENDING;
        pthread_mutex_unlock(&s->mu);
        int jrc = rc ? rc : ov_logclient_append_hashed(lc, j->entries,
                                                               j->hashes[0],
                                                               j->n, false, &j->ack);
        if (jrc != 0) {
            ov_logclient_explain(lc, jrc, &j->ack, j->why, sizeof j->why);
        }
        pthread_mutex_lock(&s->mu);
        j->rc = jrc;
        j->state = JOB_DONE;
        pthread_cond_broadcast(&s->done_cv);
    }
    pthread_mutex_unlock(&s->mu);
    ov_logclient_free(lc);
    return NULL;
}

/* ---- the main thread -------------------------------------------------------------------- */

static size_t
admit_slot(const struct admitset *a, const uint8_t who[OV_PSEUDONYM_LEN])
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v = 0;
    crypto_shorthash(h, who, OV_PSEUDONYM_LEN, a->key);
    memcpy(&v, h, sizeof v);
    size_t i = (size_t)v & (VF_ADMIT_SLOTS - 1);
    while (a->used[i] && memcmp(a->who[i], who, OV_PSEUDONYM_LEN) != 0) {
        i = (i + 1) & (VF_ADMIT_SLOTS - 1);
    }
    return i;
}

/* The set afresh from the requests in flight (at most VF_SEND_DEPTH - 1 when a request is
 * being filled). */
static void
admit_rebuild(struct sender *s)
{
    struct admitset *a = &s->admitted;
    if (a->n > 0) {
        memset(a->used, 0, sizeof a->used);
        a->n = 0;
    }
    for (size_t k = 0; k < s->count; k++) {
        const struct job *j = &s->jobs[(s->head + k) % VF_SEND_DEPTH];
        for (size_t i = 0; i < j->n_admits; i++) {
            size_t at = admit_slot(a, j->admits[i]);
            a->n += !a->used[at];
            a->used[at] = true;
            memcpy(a->who[at], j->admits[i], OV_PSEUDONYM_LEN);
        }
    }
}

/* Takes the row st stands on into j, unless it would pass the request's bytes or its
 * admission is in flight (inflight): 1 taken, 0 it waits for the next request, < 0. */
static int
take_row(sqlite3_stmt *st, struct job *j, const struct admitset *inflight, size_t *bytes,
         size_t *offs)
{
    struct ov_bytes e;
    int64_t id = 0;
    int rc = ov_db_col_int64(st, 0, &id);
    rc = rc ? rc : ov_db_col_blob(st, 1, OV_MAX_ENTRY_LEN, &e);
    rc = rc ? rc : ov_db_col_fixed(st, 2, j->hashes[j->n], OV_HASH_LEN);
    if (rc != 0 || e.len == 0) {
        rc = rc ? rc : -OV_E_MALFORMED;
        fprintf(stderr, "onevoice-verifier: outbox row %lld is no entry the log takes (%s): "
                        "it and the rows after it stay unsent\n", (long long)id,
                ov_strerror(rc));
        return rc;
    }
    if (j->n > 0 && *bytes + e.len + 3 > VF_SEND_MAX_BYTES) {
        return 0; /* the rest goes in the next request (a first row always fits) */
    }
    if (!ov_db_col_is_null(st, 4)) { /* a rating's or statement's pseudonym */
        int64_t admits = 0;
        uint8_t *who = j->admits[j->n_admits];
        rc = ov_db_col_int64(st, 3, &admits);
        rc = rc ? rc : ov_db_col_fixed(st, 4, who, OV_PSEUDONYM_LEN);
        if (rc != 0) {
            return rc;
        }
        if (admits) {
            j->n_admits++;
        } else if (inflight->n > 0 && inflight->used[admit_slot(inflight, who)]) {
            return 0; /* its admission is in flight: this row waits for the answer */
        }
    }
    *bytes += e.len + 3;
    offs[j->n] = j->data.len;
    rc = ov_buf_append(&j->data, e.ptr, e.len);
    j->ids[j->n] = id;
    j->entries[j->n].len = e.len;
    j->n += rc == 0;
    return rc ? rc : 1;
}

/* After take_row: the entries' pointers into the request's bytes, or nothing on failure. */
static int
job_ready(struct job *j, const size_t *offs, int rc)
{
    for (size_t i = 0; i < j->n; i++) {
        j->entries[i].ptr = j->data.ptr + offs[i];
    }
    if (rc < 0) {
        j->n = 0;
        return rc;
    }
    return 0;
}

static void
job_empty(struct job *j)
{
    j->n = 0;
    j->n_admits = 0;
    j->data.len = 0;
}

/* Reads the rows after `after` that fit one request into j, up to the first row without
 * token whose pseudonym a request in flight admits (inflight). */
static int
read_rows(struct ov_db *db, int64_t after, struct job *j, const struct admitset *inflight)
{
    sqlite3_stmt *st = ov_db_stmt(db, "outbox_next");
    size_t offs[VF_SEND_MAX_ROWS], bytes = 0;
    int rc = ov_db_bind_int64(st, 1, after);
    rc = rc ? rc : ov_db_bind_int64(st, 2, VF_SEND_MAX_ROWS);
    job_empty(j);
    while (rc == 0 && j->n < VF_SEND_MAX_ROWS && (rc = ov_db_step(st)) == OV_DB_ROW) {
        rc = take_row(st, j, inflight, &bytes, offs);
        rc = rc == 1 ? 0 : (rc == 0 ? 1 : rc); /* 0 on: go on; 1: this request is full */
    }
    ov_db_reset(st);
    return job_ready(j, offs, rc);
}

/* With epochs (epoch.h): the rows of the epochs that ended, in their places' order. */
struct order {
    int64_t lo, hi;   /* the rows (lo, hi]: every row up to lo is recorded */
    int64_t *ids;     /* those of them not logged yet, by place */
    size_t n, next;   /* how many; the next to put in a request */
    bool loaded;
};

struct placed {
    int64_t place, id;
};

static int
cmp_placed(const void *a, const void *b)
{
    const struct placed *x = a, *y = b;
    return x->place != y->place ? (x->place < y->place ? -1 : 1)
                                : (x->id < y->id ? -1 : x->id > y->id);
}

/* Loads the rows after o->lo of the epochs that ended (places below `below`) that the log
 * has not acknowledged, in their order (an epoch partly sent before a crash: the rest, in
 * the order it had). */
static int
order_load(struct ov_db *db, struct order *o, int64_t below)
{
    sqlite3_stmt *st = ov_db_stmt(db, "epoch_hi");
    int rc = ov_db_bind_int64(st, 1, o->lo);
    rc = rc ? rc : ov_db_bind_int64(st, 2, below);
    rc = rc ? rc : ov_db_step(st);
    o->hi = o->lo;
    o->n = o->next = 0;
    if (rc == OV_DB_ROW && !ov_db_col_is_null(st, 0)) {
        rc = ov_db_col_int64(st, 0, &o->hi);
    }
    ov_db_reset(st);
    if (rc < 0 || o->hi <= o->lo) {
        return rc < 0 ? rc : 0;
    }
    size_t cap = 0;
    struct placed *v = NULL;
    st = ov_db_stmt(db, "epoch_rows");
    rc = ov_db_bind_int64(st, 1, o->lo);
    rc = rc ? rc : ov_db_bind_int64(st, 2, o->hi);
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        if (o->n == cap) {
            cap = cap ? 2 * cap : 1024;
            struct placed *w = realloc(v, cap * sizeof *v);
            if (w == NULL) {
                rc = -OV_E_NOMEM;
                break;
            }
            v = w;
        }
        rc = ov_db_col_int64(st, 0, &v[o->n].id);
        rc = rc ? rc : ov_db_col_int64(st, 1, &v[o->n].place);
        o->n += rc == 0;
    }
    ov_db_reset(st);
    rc = rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
    int64_t *ids = rc == 0 && o->n > 0 ? malloc(o->n * sizeof *ids) : NULL;
    if (rc == 0 && o->n > 0 && ids == NULL) {
        rc = -OV_E_NOMEM;
    }
    if (rc == 0 && o->n > 0) {
        qsort(v, o->n, sizeof *v, cmp_placed);
        for (size_t i = 0; i < o->n; i++) {
            ids[i] = v[i].id;
        }
    }
    free(v);
    free(o->ids);
    o->ids = rc == 0 ? ids : NULL;
    o->n = rc == 0 ? o->n : 0;
    return rc;
}

/* Reads the next rows of the order that fit one request into j (as read_rows). */
static int
read_epoch_rows(struct ov_db *db, struct order *o, struct job *j,
                const struct admitset *inflight)
{
    sqlite3_stmt *st = ov_db_stmt(db, "outbox_row");
    size_t offs[VF_SEND_MAX_ROWS], bytes = 0;
    int rc = 0;
    job_empty(j);
    while (rc == 0 && j->n < VF_SEND_MAX_ROWS && o->next < o->n) {
        rc = ov_db_bind_int64(st, 1, o->ids[o->next]);
        rc = rc ? rc : ov_db_step(st);
        rc = rc == OV_DB_ROW ? take_row(st, j, inflight, &bytes, offs) : (rc < 0 ? rc : -OV_E_DB);
        ov_db_reset(st);
        o->next += rc == 1;
        rc = rc == 1 ? 0 : (rc == 0 ? 1 : rc);
    }
    return job_ready(j, offs, rc);
}

struct record {
    struct job *jobs[VF_SEND_DEPTH];
    size_t n;
    uint64_t known_size;
    int64_t upto; /* every row up to it is recorded */
};

static int
sent_put(struct ov_db *db, uint64_t known_size, int64_t upto)
{
    sqlite3_stmt *st = ov_db_stmt(db, "sent_put");
    int rc = ov_db_bind_uint64(st, 1, known_size);
    rc = rc ? rc : ov_db_bind_int64(st, 2, upto);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
}

static int
record_tx(struct ov_db *db, void *arg)
{
    struct record *r = arg;
    int rc = 0;
    for (size_t k = 0; k < r->n && rc == 0; k++) {
        const struct job *j = r->jobs[k];
        for (size_t i = 0; i < j->n && rc == 0; i++) {
            sqlite3_stmt *st = ov_db_stmt(db, "outbox_done");
            rc = ov_db_bind_int64(st, 1, j->ids[i]);
            rc = rc ? rc : ov_db_bind_uint64(st, 2, j->ack.indices[i]);
            rc = rc ? rc : ov_db_step(st);
            ov_db_reset(st);
            rc = rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
        }
    }
    return rc ? rc : sent_put(db, r->known_size, r->upto);
}

/* Rows held for the epochs not yet sendable (epoch.h), for the metric. */
static int64_t
held_rows(struct ov_db *db, int64_t below)
{
    sqlite3_stmt *st = ov_db_stmt(db, "outbox_held");
    int64_t n = 0;
    if (ov_db_bind_int64(st, 1, below) != 0 || ov_db_step(st) != OV_DB_ROW ||
        ov_db_col_int64(st, 0, &n) != 0) {
        n = -1;
    }
    ov_db_reset(st);
    return n;
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

/* Waits for a kick, a stop or us microseconds. */
static void
idle_us(struct vf_app *app, uint64_t us)
{
    struct timespec ts = ov_deadline_us(CLOCK_REALTIME, us); /* send_cv's clock */
    pthread_mutex_lock(&app->send_mu);
    while (!app->send_kick && !atomic_load(&app->stopping)) {
        if (pthread_cond_timedwait(&app->send_cv, &app->send_mu, &ts) != 0) {
            break;
        }
    }
    app->send_kick = false;
    pthread_mutex_unlock(&app->send_mu);
}

/* Waits for a kick, a stop or ms. */
static void
idle(struct vf_app *app, uint32_t ms)
{
    idle_us(app, (uint64_t)ms * 1000u);
}

struct pipeline {
    int64_t dispatched; /* the last row id put in a request */
    size_t last_rows;   /* the rows the last request carried */
    uint64_t last_sent_us; /* when it left (CLOCK_MONOTONIC) */
    int64_t recorded;   /* the last row id recorded */
    uint64_t answered;  /* the largest log size an observed answer gave */
    uint32_t backoff;
    const char *why;    /* the last failure in words, when a request failed */
    struct order ord;   /* with epochs: the rows of the epochs that ended, by place */
};

static uint64_t
mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static void
queue(struct sender *s, struct pipeline *p, struct job *j)
{
    p->last_rows = j->n;
        p->last_sent_us = mono_us();
    j->base = p->answered;
    pthread_mutex_lock(&s->mu);
    j->state = JOB_QUEUED;
    s->count++;
    pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
}

/* Fills the ring with requests for the rows after those dispatched. */
static int
dispatch(struct sender *s, struct ov_db *db, struct pipeline *p)
{
    int rc = 0;
    while (rc == 0 && s->count < VF_SEND_DEPTH) {
        struct job *j = &s->jobs[(s->head + s->count) % VF_SEND_DEPTH];
        admit_rebuild(s);
        rc = read_rows(db, p->dispatched, j, &s->admitted);
        if (rc != 0 || j->n == 0) {
            break;
        }
        p->dispatched = j->ids[j->n - 1];
        queue(s, p, j);
    }
    return rc;
}

struct range_done {
    uint64_t known_size;
    int64_t upto;
};

static int
range_done_tx(struct ov_db *db, void *arg)
{
    const struct range_done *d = arg;
    return sent_put(db, d->known_size, d->upto);
}

/* With epochs: every row of the range is recorded (nothing in flight): so is every row up
 * to its end, the sender's invariant in id order again. */
static int
range_done(struct sender *s, struct pipeline *p, int64_t hi)
{
    struct range_done d = { p->answered, hi };
    int rc = vf_committer_run(s->app, range_done_tx, &d, true);
    if (rc == 0) {
        p->recorded = p->dispatched = hi;
        atomic_store(&s->app->indexed_upto, (uint64_t)hi);
        vf_notify(s->app, VF_CH_INDEX, (uint64_t)hi);
        vf_committer_logged(s->app, (uint64_t)hi);
    }
    return rc;
}

/* With epochs (epoch.h): the rows of the epochs that ended, in their places' order; once
 * all of them are recorded, the range is done and the next is loaded. */
static int
dispatch_epochs(struct sender *s, struct ov_db *db, struct pipeline *p)
{
    struct order *o = &p->ord;
    int rc = 0;
    if (o->loaded && o->next == o->n && s->count == 0) {
        rc = o->hi > p->recorded ? range_done(s, p, o->hi) : 0;
        o->loaded = rc != 0;
    }
    if (rc == 0 && !o->loaded) {
        o->lo = p->recorded;
        rc = order_load(db, o, vf_epoch_limit(s->app));
        o->loaded = rc == 0;
        if (rc == 0 && o->n > 0) {
            ov_counter_add(s->app->m_flushes, 1); /* an epoch's flush begins */
        }
    }
    while (rc == 0 && s->count < VF_SEND_DEPTH && o->next < o->n) {
        struct job *j = &s->jobs[(s->head + s->count) % VF_SEND_DEPTH];
        admit_rebuild(s);
        rc = read_epoch_rows(db, o, j, &s->admitted);
        if (rc != 0 || j->n == 0) {
            break;
        }
        queue(s, p, j);
    }
    return rc;
}

/* Waits for the oldest request, then records every answered one from the oldest on. */
static int
collect(struct sender *s, struct pipeline *p)
{
    struct record r = { .n = 0 };
    int failed = 0;
    const char *failed_why = NULL;
    pthread_mutex_lock(&s->mu);
    while (s->jobs[s->head].state != JOB_DONE) {
        pthread_cond_wait(&s->done_cv, &s->mu);
    }
    for (size_t i = 0; i < s->count; i++) {
        struct job *j = &s->jobs[(s->head + i) % VF_SEND_DEPTH];
        if (j->state != JOB_DONE) {
            break;
        }
        if (j->rc != 0) {
            failed = j->rc;
            failed_why = j->why;
            break;
        }
        r.jobs[r.n++] = j;
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t k = 0; k < r.n; k++) {
        p->answered = r.jobs[k]->ack.size > p->answered ? r.jobs[k]->ack.size : p->answered;
    }
    /* below the smallest base of what is still in flight, every row is recorded */
    r.known_size = p->answered;
    bool epochs = s->app->epoch_s > 0;
    /* with epochs the rows go by place, not id: the range's end is recorded when all of it
     * is (range_done) */
    r.upto = epochs || r.n == 0 ? p->recorded : r.jobs[r.n - 1]->ids[r.jobs[r.n - 1]->n - 1];
    for (size_t i = r.n; i < s->count; i++) {
        const struct job *j = &s->jobs[(s->head + i) % VF_SEND_DEPTH];
        r.known_size = j->base < r.known_size ? j->base : r.known_size;
    }
    int rc = r.n > 0 ? vf_committer_run(s->app, record_tx, &r, true) : 0;
    if (rc == 0 && r.n > 0) {
        size_t rows = 0;
        for (size_t k = 0; k < r.n; k++) {
            rows += r.jobs[k]->n;
            for (size_t i = 0; i < r.jobs[k]->n; i++) {
                vf_idx_put(s->app, (uint64_t)r.jobs[k]->ids[i], r.jobs[k]->ack.indices[i]);
            }
            ov_log_ack_clear(&r.jobs[k]->ack);
            r.jobs[k]->state = JOB_FREE;
        }
        ov_counter_add(s->app->m_appended, rows);
        if (!epochs) {
            p->recorded = r.upto;
            atomic_store(&s->app->indexed_upto, (uint64_t)p->recorded);
            vf_notify(s->app, VF_CH_INDEX, (uint64_t)p->recorded);
            vf_committer_logged(s->app, (uint64_t)p->recorded);
        }
        pthread_mutex_lock(&s->mu);
        s->head = (s->head + r.n) % VF_SEND_DEPTH;
        s->count -= r.n;
        pthread_mutex_unlock(&s->mu);
        p->backoff = 0;
    }
    p->why = rc == 0 && failed != 0 ? failed_why : NULL; /* lives until the job is sent again */
    return rc ? rc : failed;
}

/* After a failure: waits for every request in flight, drops their answers, and starts
 * again after the last row recorded. */
static void
drain(struct sender *s, struct pipeline *p)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->count; i++) {
        struct job *j = &s->jobs[(s->head + i) % VF_SEND_DEPTH];
        while (j->state != JOB_DONE) {
            pthread_cond_wait(&s->done_cv, &s->mu);
        }
        ov_log_ack_clear(&j->ack);
        j->state = JOB_FREE;
    }
    s->count = 0;
    pthread_mutex_unlock(&s->mu);
    p->dispatched = p->recorded;
    p->ord.loaded = false; /* with epochs: loaded again, without the rows recorded since */
}

/* Under load, lets the next request gather rows (see the top of the file). The committed
 * rows come from the committer's hint (app->committed_upto); read_rows reads them anyway. */
static void
gather(struct vf_app *app, const struct pipeline *p)
{
    if (p->last_rows < VF_SEND_BUSY_ROWS) {
        return;
    }
    uint64_t until = p->last_sent_us + VF_SEND_GATHER_US;
    for (;;) {
        int64_t pending = (int64_t)atomic_load(&app->committed_upto) - p->dispatched;
        uint64_t now = mono_us();
        if (pending >= VF_SEND_GATHER_ROWS || now >= until || atomic_load(&app->stopping)) {
            return;
        }
        idle_us(app, until - now); /* the committer kicks after each batch */
    }
}

static void *
sender_main(void *arg)
{
    pthread_setname_np(pthread_self(), "vf-send"); /* for top -H and perf */
    struct sender *s = arg;
    struct vf_app *app = s->app;
    struct ov_db *db = NULL;
    struct pipeline p;
    memset(&p, 0, sizeof p);
    p.recorded = p.dispatched = (int64_t)atomic_load(&app->indexed_upto);
    int rc = vf_store_open(app->dir, &db);
    if (rc != 0) {
        fprintf(stderr, "onevoice-verifier: sender cannot start: %s\n", ov_strerror(rc));
        return NULL;
    }
    while (!atomic_load(&app->stopping)) {
        if (s->count == 0 && app->epoch_s == 0) {
            gather(app, &p);
        }
        rc = app->epoch_s > 0 ? dispatch_epochs(s, db, &p) : dispatch(s, db, &p);
        if (rc == 0 && s->count == 0) {
            ov_gauge_set(app->m_pending, pending_rows(db));
            if (app->epoch_s > 0) {
                ov_gauge_set(app->m_held, held_rows(db, vf_epoch_limit(app)));
            }
            idle(app, VF_SEND_IDLE_MS);
            continue;
        }
        rc = rc ? rc : collect(s, &p);
        if (rc != 0) {
            fprintf(stderr, "onevoice-verifier: appending to the log: %s\n",
                    p.why != NULL ? p.why : ov_strerror(rc));
            p.why = NULL;
            ov_counter_add(app->m_log_errors, 1);
            drain(s, &p);
            p.backoff = p.backoff ? (p.backoff * 2 > VF_SEND_BACKOFF_MAX_MS ? VF_SEND_BACKOFF_MAX_MS
                                                                            : p.backoff * 2)
                                  : 50;
            idle(app, p.backoff);
        }
    }
    drain(s, &p);
    free(p.ord.ids);
    ov_db_close(db);
    return NULL;
}

/* Every row up to the one recorded last, at start-up. */
static int
init_indexed(struct vf_app *app, struct ov_db *db)
{
    sqlite3_stmt *st = ov_db_stmt(db, "sent_upto");
    int64_t upto = 0;
    int rc = ov_db_step(st) == OV_DB_ROW ? ov_db_col_int64(st, 0, &upto) : -OV_E_DB;
    ov_db_reset(st);
    if (rc == 0 && upto < 0) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0) {
        atomic_store(&app->indexed_upto, (uint64_t)upto);
    }
    return rc;
}

int
vf_sender_start(struct vf_app *app)
{
    struct sender *s = &g_sender;
    struct ov_db *db = NULL;
    memset(s, 0, sizeof *s);
    s->app = app;
    crypto_shorthash_keygen(s->admitted.key);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->done_cv, NULL);
    for (size_t i = 0; i < VF_SEND_DEPTH; i++) {
        ov_buf_init(&s->jobs[i].data, VF_SEND_MAX_BYTES);
    }
    int rc = vf_store_open(app->dir, &db);
    rc = rc ? rc : init_indexed(app, db);
    ov_db_close(db);
    for (size_t i = 0; rc == 0 && i < VF_SEND_DEPTH; i++) {
        rc = pthread_create(&s->workers[i], NULL, worker_main, s) == 0 ? 0 : -OV_E_NOMEM;
        s->n_workers += rc == 0;
    }
    if (rc == 0 && pthread_create(&app->sender_th, NULL, sender_main, s) != 0) {
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
    struct sender *s = &g_sender;
    vf_sender_kick(app); /* app->stopping is already set */
    pthread_join(app->sender_th, NULL);
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < s->n_workers; i++) {
        pthread_join(s->workers[i], NULL);
    }
    for (size_t i = 0; i < VF_SEND_DEPTH; i++) {
        ov_buf_clear(&s->jobs[i].data);
    }
}
