#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/clock.h"
#include "outbox.h"
#include "store.h"

#define WRITER_MAX_BATCH 1024
/* WAL frames (pages) after which the writer checkpoints (16 MiB of 4 KiB pages): one
 * checkpoint then copies each page the batches rewrote once, not once per batch */
#define WRITER_CHECKPOINT_FRAMES 4000
/* and, while idle, every this many seconds (a passive checkpoint with nothing to copy
 * costs a read of the WAL index) */
#define WRITER_IDLE_CHECKPOINT_US 1000000u

struct issuer_writer {
    struct issuer_app *app;
    struct ov_db *db;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work;
    struct issuer_job *head, *tail;
    uint64_t next_seq; /* the number of the next job queued */
    size_t queued;     /* jobs between head and tail */
    unsigned pace_ms;
    bool idle; /* waiting for a first job */
    bool busy; /* the last batch had company: the next one waits for more */
    int wal_frames; /* in the WAL after the last commit (the WAL hook's count) */
    bool stopping;
};

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
    e.u.issuance.time = j->now_s;
    int rc = ov_entry_encode(&e, &entry);
    rc = rc ? rc : issuer_store_outbox_add(w->db, ov_buf_view(&entry), j->now_s, &outbox_id);
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
    rc = rc ? rc : ov_db_bind_uint64(st, 6, j->now_s);
    rc = rc ? rc : ov_db_bind_int64(st, 7, outbox_id);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
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
    int rc = issuer_store_state(w->db, j->pk, j->ctx->def.id, j->blinded, &s);
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
    j->result = rc == 0 ? res : JOB_FAILED;
    j->err = rc;
    sodium_memzero(&s, sizeof s);
    return rc;
}

static int
batch(struct issuer_writer *w, struct issuer_job *jobs, size_t *n_issued)
{
    int rc = -OV_E_DB_BUSY;
    *n_issued = 0;
    for (int attempt = 0; attempt < OV_DB_TX_TRIES && rc == -OV_E_DB_BUSY; attempt++) {
        rc = ov_db_exec(w->db, "BEGIN IMMEDIATE");
    }
    if (rc != 0) {
        return rc;
    }
    for (struct issuer_job *j = jobs; j != NULL && rc == 0; j = j->next) {
        rc = issuer_store_run(w->db, "sp_begin");
        if (rc == 0 && j->fn != NULL) {
            j->err = j->fn(w->db, j->fn_ctx);
            j->result = j->err == 0 ? JOB_ISSUED : JOB_FAILED;
        }
        if (rc == 0 && j->fn != NULL && j->err == 0) {
            rc = issuer_store_run(w->db, "sp_release");
        } else if (rc == 0 && j->fn == NULL && run_job(w, j) == 0 &&
                   (j->result == JOB_ISSUED || j->result == JOB_RETRY)) {
            *n_issued += j->result == JOB_ISSUED;
            rc = issuer_store_run(w->db, "sp_release");
        } else if (rc == 0) {
            /* refused, or a statement failed: this job leaves nothing; the batch goes on
             * unless the rollback itself fails */
            rc = issuer_store_run(w->db, "sp_rollback");
            rc = rc ? rc : issuer_store_run(w->db, "sp_release");
        }
    }
    rc = rc ? rc : ov_db_exec(w->db, "COMMIT");
    if (rc != 0) {
        if (ov_db_exec(w->db, "ROLLBACK") != 0) {
            fprintf(stderr, "%s:%d: issuance batch: rollback failed\n", __FILE__, __LINE__);
        }
        *n_issued = 0;
    }
    return rc;
}

/* Paces commits: at most one batch begins per w->pace_ms. A commit costs about the same
 * (its fsync, the index pages it rewrites, every reader's cache) however many jobs it
 * holds, and under load the pool threads bring a job every few tens of microseconds: the
 * wait turns many one-job commits into one. Only a writer under load waits (its last batch
 * held more than one job), so a lone client's requests wait for no one. Caller holds
 * w->mu. */
static void
linger(struct issuer_writer *w, struct timespec *last)
{
    struct timespec until = ov_timespec_add_us(*last, (uint64_t)w->pace_ms * 1000u);
    while (w->busy && !w->stopping && w->queued < WRITER_MAX_BATCH &&
           pthread_cond_timedwait(&w->work, &w->mu, &until) == 0) {
    }
    w->busy = w->queued > 1;
    clock_gettime(CLOCK_MONOTONIC, last);
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
 * contexts), so the next batch rewinds it. */
static void
checkpoint(struct issuer_writer *w)
{
    if (issuer_store_checkpoint(w->db) != 0) {
        fprintf(stderr, "%s:%d: WAL checkpoint failed\n", __FILE__, __LINE__);
    }
    w->wal_frames = 0;
}

static void *
writer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "iss-writer"); /* for top -H and perf */
    struct issuer_writer *w = arg;
    /* The pool threads are busy with RSA; a commit they all wait for must not wait for a
     * time slice behind them. Raising priority needs privilege; without it, the pool
     * threads lower theirs (h_token.c). */
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), -10) != 0) {
        atomic_store(&w->app->nice_pool, true);
    }
    struct timespec began = { 0, 0 }; /* when the last batch began */
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (w->head == NULL && !w->stopping) {
            w->idle = true;
            struct timespec wake = ov_deadline_us(CLOCK_MONOTONIC, WRITER_IDLE_CHECKPOINT_US);
            int waited = pthread_cond_timedwait(&w->work, &w->mu, &wake);
            w->idle = false;
            if (waited == ETIMEDOUT && w->head == NULL && !w->stopping) {
                /* enrollments, contexts and pruning commit on other connections: while no
                 * issuance runs, their WAL frames are copied back here */
                pthread_mutex_unlock(&w->mu);
                checkpoint(w);
                pthread_mutex_lock(&w->mu);
            }
        }
        if (w->head == NULL) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        linger(w, &began);
        struct issuer_job *jobs = w->head, *last = w->head;
        size_t taken = 1;
        for (; taken < WRITER_MAX_BATCH && last->next != NULL; taken++) {
            last = last->next;
        }
        w->head = last->next;
        if (w->head == NULL) {
            w->tail = NULL;
        }
        w->queued -= taken;
        last->next = NULL;
        pthread_mutex_unlock(&w->mu);

        size_t n_issued = 0;
        int rc = batch(w, jobs, &n_issued);
        if (rc != 0) {
            fprintf(stderr, "%s:%d: issuance batch failed: %s\n", __FILE__, __LINE__,
                    ov_strerror(rc));
        }
        uint64_t level = 0;
        struct ov_http *srv = NULL;
        pthread_mutex_lock(&w->mu);
        for (struct issuer_job *j = jobs, *next; j != NULL; j = next) {
            next = j->next;
            if (rc != 0) {
                j->result = JOB_FAILED;
                j->err = rc;
                memset(j->response, 0, sizeof j->response);
            }
            j->done = true;
            if (!j->async) {
                pthread_cond_signal(&j->cv);
            } else if (j->abandoned) {
                sodium_memzero(j, sizeof *j);
                free(j);
            } else {
                level = j->seq; /* jobs are taken in queue order */
                srv = j->srv;
            }
        }
        /* under w->mu: a request that ends (and with it, at shutdown, the server) must
         * first release its job, which waits for this lock */
        if (srv != NULL) {
            ov_http_notify_upto(srv, ISSUER_CH_ISSUED, level);
        }
        pthread_mutex_unlock(&w->mu);
        if (n_issued > 0) {
            ov_gauge_add(w->app->backlog, (int64_t)n_issued);
            issuer_outbox_kick(w->app->outbox);
        }
        if (w->wal_frames >= WRITER_CHECKPOINT_FRAMES) {
            checkpoint(w);
        }
    }
    return NULL;
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
    w->pace_ms = pace_ms;
    int rc = issuer_store_open(app->dir, &w->db);
    /* the indexes each issuance touches, held in memory: reads of them from the WAL cost a
     * system call per page */
    rc = rc ? rc : ov_db_exec(w->db, "PRAGMA cache_size = -65536");
    if (rc == 0) {
        sqlite3_wal_hook(ov_db_handle(w->db), note_wal, w);
    }
    if (rc == 0) {
        pthread_mutex_init(&w->mu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&w->work, &ca);
        pthread_condattr_destroy(&ca);
        if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
            rc = -OV_E_NOMEM;
        }
    }
    if (rc != 0) {
        ov_db_close(w->db);
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
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    ov_db_close(w->db);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* Caller holds w->mu. */
static void
enqueue(struct issuer_writer *w, struct issuer_job *job)
{
    job->done = false;
    job->next = NULL;
    job->seq = ++w->next_seq;
    if (w->tail != NULL) {
        w->tail->next = job;
    } else {
        w->head = job;
    }
    w->tail = job;
    w->queued++;
    if (w->idle || w->queued == WRITER_MAX_BATCH) { /* a lingering writer sleeps on */
        pthread_cond_signal(&w->work);
    }
}

uint64_t
issuer_writer_submit(struct issuer_writer *w, struct issuer_job *job, struct ov_http *srv)
{
    job->async = true;
    job->abandoned = false;
    job->srv = srv;
    pthread_mutex_lock(&w->mu);
    enqueue(w, job);
    uint64_t seq = job->seq;
    pthread_mutex_unlock(&w->mu);
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
    bool queued = job->async && !job->done;
    job->abandoned = queued;
    pthread_mutex_unlock(&w->mu);
    if (!queued) {
        sodium_memzero(job, sizeof *job);
        free(job);
    }
}

void
issuer_writer_run(struct issuer_writer *w, struct issuer_job *job)
{
    job->async = false;
    pthread_cond_init(&job->cv, NULL);
    pthread_mutex_lock(&w->mu);
    enqueue(w, job);
    while (!job->done) {
        pthread_cond_wait(&job->cv, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    pthread_cond_destroy(&job->cv);
}

int
issuer_writer_call(struct issuer_writer *w, ov_db_tx_fn fn, void *ctx)
{
    struct issuer_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        return -OV_E_NOMEM;
    }
    j->fn = fn;
    j->fn_ctx = ctx;
    issuer_writer_run(w, j);
    int rc = j->result == JOB_ISSUED ? 0 : (j->err ? j->err : -OV_E_DB);
    free(j);
    return rc;
}
