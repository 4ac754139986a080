#include "writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/epoch.h"
#include "outbox.h"
#include "quota.h"
#include "store.h"

#define WRITER_MAX_BATCH 1024
/* WAL frames (pages) after which the writer checkpoints (16 MiB of 4 KiB pages): one
 * checkpoint then copies each page the batches rewrote once, not once per batch */
#define WRITER_CHECKPOINT_FRAMES 4000
/* and, while idle, every this many microseconds (a passive checkpoint with nothing to copy
 * costs a read of the WAL index) */
#define WRITER_IDLE_CHECKPOINT_US 1000000u

struct issuer_writer {
    struct issuer_app *app;
    struct ov_db *db;
    struct ov_gc *gc;
    pthread_mutex_t mu; /* each job's done and abandoned */
    pthread_cond_t called; /* a call's batch is done */
    int wal_frames;     /* in the WAL after the last commit (the WAL hook's count) */
};

static struct issuer_job *
job_of(struct ov_gc_job *g)
{
    return ov_gc_job_of(g, struct issuer_job, job);
}

static int
remember_sig(struct ov_db *db, const struct issuer_job *j, enum issuer_job_result *res)
{
    sqlite3_stmt *st = ov_db_stmt(db, "seen_insert");
    int rc = ov_db_bind_blob(st, 1, OV_BYTES(j->sig, OV_SIGN_SIG_LEN));
    rc = rc ? rc : ov_db_bind_uint64(st, 2, j->time_ms + 2 * OV_ISSUER_WINDOW_MS);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc == -OV_E_CONFLICT) {
        *res = JOB_REPLAYED;
        return 0;
    }
    return rc < 0 ? rc : 0;
}

/* Records the issuance and its log entry. */
static int
record(struct issuer_writer *w, struct issuer_job *j, const uint8_t pseudonym[32], uint64_t n)
{
    struct ov_entry e;
    struct ov_buf entry;
    int64_t outbox_id = 0;
    memset(&e, 0, sizeof e);
    e.kind = OV_ENTRY_ISSUANCE;
    memcpy(e.u.issuance.context, j->ctx->def.id, sizeof e.u.issuance.context);
    issuer_issuance_tag(w->app->tag, pseudonym, j->ctx->def.id, e.u.issuance.tag);
    e.u.issuance.n = n;
    /* with epochs, the entry and the row keep the epoch's start only, and the entry waits
     * for the epoch's end (docs/PROTOCOL.md §3.1): issuer.db is pooled by operators too */
    uint32_t ep = w->app->epoch_s;
    uint64_t t = ov_epoch_start(j->now_s, ep);
    e.u.issuance.time = t;
    int rc = ov_entry_encode(&e, &entry);
    rc = rc ? rc : issuer_store_outbox_hold(w->db, ov_buf_view(&entry), t,
                                            ov_epoch_end(j->now_s, ep),
                                            issuer_epoch_place(w->app, ISSUER_HELD_ISSUANCE),
                                            &outbox_id);
    ov_buf_clear(&entry);
    if (rc != 0) {
        return rc;
    }
    sqlite3_stmt *st = ov_db_stmt(w->db, "iss_insert");
    rc = ov_db_bind_text(st, 1, j->ctx->def.id, strlen(j->ctx->def.id));
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(pseudonym, 32));
    rc = rc ? rc : ov_db_bind_uint64(st, 3, n);
    rc = rc ? rc : ov_db_bind_blob(st, 4, OV_BYTES(j->blinded, OV_PP_NK));
    rc = rc ? rc : ov_db_bind_blob(st, 5, OV_BYTES(j->response, OV_PP_TOKEN_RESPONSE_LEN));
    rc = rc ? rc : ov_db_bind_uint64(st, 6, t);
    rc = rc ? rc : ov_db_bind_int64(st, 7, outbox_id);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    /* last: a job refused before this point put nothing to undo with its savepoint (the
     * batch's transaction undoes the map when it fails: the engine's undo) */
    rc = rc < 0 ? rc : issuer_store_add_blinded(w->app->blinded, j->ctx->def.id, j->blinded,
                                                outbox_id);
    return rc < 0 ? rc : 0;
}

/* One job inside the batch's transaction: checks in the order of docs/PROTOCOL.md §7,
 * then the record. A refusal returns 0 with j->result set; the caller rolls the job's
 * savepoint back unless it is JOB_ISSUED or JOB_RETRY. */
static int
run_job(struct issuer_writer *w, struct issuer_job *j)
{
    struct issuer_state s;
    enum issuer_job_result res = JOB_ISSUED;
    int rc = issuer_store_state(w->db, w->app->blinded, j->pk, j->ctx->def.id, j->blinded, &s);
    if (rc == 0 && (!s.known || s.revoked)) {
        res = s.known ? JOB_REVOKED : JOB_UNKNOWN;
    }
    if (rc == 0 && res == JOB_ISSUED) {
        rc = remember_sig(w->db, j, &res);
    }
    if (rc == 0 && res == JOB_ISSUED && s.answered) {
        res = s.answered_other ? JOB_REPLAYED : JOB_RETRY;
        if (res == JOB_RETRY) {
            memcpy(j->response, s.response, sizeof j->response);
        }
    }
    if (rc == 0 && res == JOB_ISSUED && !j->have_sig) {
        res = JOB_NEED_SIG;
    }
    if (rc == 0 && res == JOB_ISSUED && s.issued >= j->ctx->def.quota) {
        res = JOB_QUOTA;
    }
    if (rc == 0 && res == JOB_ISSUED) {
        rc = record(w, j, s.pseudonym, s.issued + 1);
    }
    j->known = rc == 0 && s.known;
    j->revoked = s.revoked;
    j->issued = s.issued + (res == JOB_ISSUED);
    j->result = rc == 0 ? res : JOB_FAILED;
    j->err = rc;
    sodium_memzero(&s, sizeof s);
    return rc;
}

/* The batch's transaction: each job in its own savepoint, so a refused one leaves nothing
 * while its batch-mates commit. Repeatable: every job's result is set afresh. */
static int
run_batch(void *ctx, struct ov_db *db, struct ov_gc_job *jobs)
{
    struct issuer_writer *w = ctx;
    int rc = 0;
    for (struct ov_gc_job *g = jobs; g != NULL && rc == 0; g = g->next) {
        struct issuer_job *j = job_of(g);
        if (j->fn != NULL) { /* a call: its failure is the database's, and fails the batch */
            rc = j->fn(db, j->fn_ctx);
            continue;
        }
        rc = issuer_store_run(db, "sp_begin");
        if (rc == 0 && run_job(w, j) == 0 &&
            (j->result == JOB_ISSUED || j->result == JOB_RETRY)) {
            rc = issuer_store_run(db, "sp_release");
        } else if (rc == 0) {
            /* refused, or a statement failed: this job leaves nothing; the batch goes on
             * unless the rollback itself fails */
            rc = issuer_store_run(db, "sp_rollback");
            rc = rc ? rc : issuer_store_run(db, "sp_release");
        }
    }
    return rc;
}

static int
note_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct issuer_writer *w = arg;
    (void)db;
    (void)name;
    w->wal_frames = frames;
    return SQLITE_OK;
}

/* Checkpoints from the writer's own thread, between its batches. Run anywhere else, a
 * checkpoint races the commits: it never finds the WAL fully copied when the next batch
 * begins, so SQLite never rewinds the WAL, which then grows without end (measured: 555 MB
 * in 8 s of issuance), every frame landing in fresh blocks the file system must allocate
 * and zero. Here no issuance commits meanwhile (other writers are rare: enrollments,
 * contexts), so the next batch rewinds it. Also the engine's idle work: enrollments,
 * contexts and pruning commit on other connections, and while no issuance runs their WAL
 * frames are copied back here. */
static void
checkpoint(void *ctx, struct ov_db *db)
{
    struct issuer_writer *w = ctx;
    if (issuer_store_checkpoint(db) != 0) {
        fprintf(stderr, "%s:%d: WAL checkpoint failed\n", __FILE__, __LINE__);
    }
    w->wal_frames = 0;
}

/* Each job done (freed if its request is gone), the waiting requests woken, the outbox
 * kicked. */
static void
batch_done(void *ctx, struct ov_gc_job *jobs, int rc)
{
    struct issuer_writer *w = ctx;
    size_t n_issued = 0;
    uint64_t level = 0;
    struct ov_http *srv = NULL;
    bool calls = false;
    pthread_mutex_lock(&w->mu);
    for (struct ov_gc_job *g = jobs, *next; g != NULL; g = next) {
        next = g->next;
        struct issuer_job *j = job_of(g);
        if (j->fn != NULL) { /* a call, on its caller's stack: not touched after done */
            j->err = rc;
            j->done = true;
            calls = true;
            continue;
        }
        if (rc != 0) {
            j->result = JOB_FAILED;
            j->err = rc;
            memset(j->response, 0, sizeof j->response);
        }
        n_issued += j->result == JOB_ISSUED;
        if (rc == 0 && j->known) { /* committed: what the checks before the RSA may know */
            issuer_quota_note(w->app->quota, j->pk, j->ctx, j->issued, j->revoked);
        }
        j->done = true;
        level = j->seq; /* jobs are taken in queue order */
        srv = j->srv != NULL ? j->srv : srv;
        if (j->abandoned) {
            sodium_memzero(j, sizeof *j);
            free(j);
        }
    }
    /* under w->mu: a request that ends (and with it, at shutdown, the server) must first
     * release its job, which waits for this lock */
    if (srv != NULL) {
        ov_http_notify_upto(srv, ISSUER_CH_ISSUED, level);
    }
    if (calls) {
        pthread_cond_broadcast(&w->called);
    }
    pthread_mutex_unlock(&w->mu);
    if (n_issued > 0) {
        ov_gauge_add(w->app->backlog, (int64_t)n_issued);
        issuer_outbox_kick(w->app->outbox);
    }
    if (w->wal_frames >= WRITER_CHECKPOINT_FRAMES) {
        checkpoint(w, w->db);
    }
}

/* The pool threads are busy with RSA; a commit they all wait for must not wait for a time
 * slice behind them. Raising priority needs privilege; without it, the pool threads lower
 * theirs (h_token.c). */
static void
raise_priority(void *ctx)
{
    struct issuer_writer *w = ctx;
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), -10) != 0) {
        atomic_store(&w->app->nice_pool, true);
    }
}

int
issuer_writer_start(struct issuer_app *app, unsigned pace_ms, struct issuer_writer **out)
{
    struct issuer_writer *w = calloc(1, sizeof *w);
    *out = NULL;
    if (w == NULL) {
        return -OV_E_NOMEM;
    }
    w->app = app;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->called, NULL);
    int rc = issuer_store_open(app->dir, &w->db);
    /* the indexes each issuance touches, held in memory: reads of them from the WAL cost a
     * system call per page */
    rc = rc ? rc : ov_db_exec(w->db, "PRAGMA cache_size = -65536");
    if (rc == 0) {
        sqlite3_wal_hook(ov_db_handle(w->db), note_wal, w);
        /* under load (the last batch had company) a batch begins at most every pace_ms: a
         * commit costs about the same however many jobs it holds, and the pool threads
         * bring one every few tens of microseconds; a lone client waits for no one */
        struct ov_gc_cfg gcfg = {
            .name = "iss-writer",
            .db = w->db,
            .undo = app->blinded,
            .gather_max = WRITER_MAX_BATCH,
            .max_batch = WRITER_MAX_BATCH,
            .pace_us = pace_ms * 1000u,
            .ctx = w,
            .run = run_batch,
            .finish = batch_done,
            .thread_start = raise_priority,
            .idle = checkpoint,
            .idle_us = WRITER_IDLE_CHECKPOINT_US,
            .metrics = app->metrics,
        };
        rc = ov_gc_start(&gcfg, &w->gc);
    }
    if (rc != 0) {
        ov_db_close(w->db);
        pthread_cond_destroy(&w->called);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void
issuer_writer_stop(struct issuer_writer *w)
{
    if (w == NULL) {
        return;
    }
    ov_gc_stop(w->gc); /* finishes the queued jobs */
    ov_db_close(w->db);
    pthread_cond_destroy(&w->called);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

uint64_t
issuer_writer_submit(struct issuer_writer *w, struct issuer_job *job, struct ov_http *srv)
{
    job->abandoned = false;
    job->done = false;
    job->srv = srv;
    uint64_t seq = 0;
    /* job->seq is written under the engine's lock, before the writer can take the job */
    if (ov_gc_submit(w->gc, &job->job, &job->seq) != 0) {
        job->result = JOB_FAILED;
        job->err = -OV_E_STATE;
        job->done = true;
        return 0;
    }
    seq = job->seq;
    return seq;
}

bool
issuer_writer_done(struct issuer_writer *w, struct issuer_job *job)
{
    pthread_mutex_lock(&w->mu);
    bool done = job->done;
    pthread_mutex_unlock(&w->mu);
    return done;
}

void
issuer_writer_release(struct issuer_writer *w, struct issuer_job *job)
{
    if (job == NULL) {
        return;
    }
    pthread_mutex_lock(&w->mu);
    bool queued = job->seq != 0 && !job->done;
    job->abandoned = queued;
    pthread_mutex_unlock(&w->mu);
    if (!queued) {
        sodium_memzero(job, sizeof *job);
        free(job);
    }
}

int
issuer_writer_call(struct issuer_writer *w, ov_db_tx_fn fn, void *ctx)
{
    struct issuer_job j;
    memset(&j, 0, sizeof j);
    j.fn = fn;
    j.fn_ctx = ctx;
    /* a job, not ov_gc_call: a call would end the gathering batch at once */
    if (ov_gc_submit(w->gc, &j.job, &j.seq) != 0) {
        return -OV_E_STATE;
    }
    pthread_mutex_lock(&w->mu);
    while (!j.done) {
        pthread_cond_wait(&w->called, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return j.err;
}
