/* groupcommit: one writer thread that turns the jobs many threads queue into few
 * transactions. A durable commit (synchronous=FULL) costs about one fsync however many jobs
 * it holds, so under load the writer lets a batch gather company before it begins; a lone
 * job waits for no one. The issuer's issuances, the verifier's actions and the log's appends
 * each go through one of these.
 *
 *   submitter threads                      the writer thread
 *   ov_gc_submit(job)  ──queue──►  gather ─► BEGIN; in-batch calls; run(jobs); COMMIT
 *   (then long-poll or wait)                 finish(jobs, rc): results, wake-ups, kicks
 *
 * Gathering: when the last batch held more than one job (or always, with gather_always), a
 * batch waits until max(previous batch's start + pace_us, now + gather_us), or until
 * gather_max jobs are queued, a call arrives, or the engine stops. run must be repeatable
 * (ov_db_tx may run it again after a busy database); what it puts in `undo` is undone with
 * a failed transaction. The engine never frees a job: finish hands the list back.
 *
 * Other threads' writes go through the same connection (ov_gc_call), so one writer keeps its
 * page cache and one fsync serves both. Metrics (writer="NAME"): groupcommit_batches_total,
 * groupcommit_jobs_total, groupcommit_failed_batches_total, groupcommit_batch_jobs and
 * groupcommit_transaction_seconds. */
#ifndef OV_GROUPCOMMIT_H
#define OV_GROUPCOMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infra/db.h"
#include "infra/metrics.h"
#include "infra/rowmap.h"

/* Embedded in the caller's job; ov_gc_job_of gets the job back. */
struct ov_gc_job {
    struct ov_gc_job *next; /* the engine's while queued; the batch's list in run and finish */
    uint64_t seq;           /* its place in the queue, from 1 (set by ov_gc_submit) */
};

#define ov_gc_job_of(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

struct ov_gc_cfg {
    const char *name;         /* the thread's name (top -H, perf) and the metrics' label */
    struct ov_db *db;         /* the writer's connection, the caller's to open and close */
    struct ov_rowmap *undo;   /* NULL, or the in-memory index the transactions write */
    size_t gather_max;        /* a gathering batch begins at this many jobs (0: no limit) */
    size_t max_batch;         /* jobs in one transaction at most (0: every queued job) */
    uint32_t gather_us;       /* under load, wait this long from now for company */
    uint32_t pace_us;         /* under load, batches begin at most this often */
    bool gather_always;       /* gather also after a lone job */
    void *ctx;                /* handed to every callback */
    /* Inside the transaction: every job of the batch, in queue order. 0 commits; an error
     * rolls the whole batch back. Never called with an empty list. */
    int (*run)(void *ctx, struct ov_db *db, struct ov_gc_job *jobs);
    /* After the transaction (rc its result), outside the engine's lock, on the writer's
     * thread: set each job's outcome, wake its submitter, kick whoever follows. */
    void (*finish)(void *ctx, struct ov_gc_job *jobs, int rc);
    /* Optional: on the writer's thread once, before the first batch. */
    void (*thread_start)(void *ctx);
    /* Optional: every idle_us while no job comes (e.g. a WAL checkpoint). */
    void (*idle)(void *ctx, struct ov_db *db);
    uint32_t idle_us;
    struct ov_metrics *metrics; /* NULL: none */
};

struct ov_gc;

/* Starts the writer thread. -OV_E_NOMEM. */
OV_MUST_CHECK int ov_gc_start(const struct ov_gc_cfg *cfg, struct ov_gc **out);
/* Refuses new jobs and calls, finishes every queued one, joins the thread, frees. The
 * connection stays the caller's. Accepts NULL. */
void ov_gc_stop(struct ov_gc *gc);
/* Queues a job; *seq (may be NULL) gets its place. -OV_E_STATE once stopping. */
OV_MUST_CHECK int ov_gc_submit(struct ov_gc *gc, struct ov_gc_job *job, uint64_t *seq);

enum ov_gc_call_how {
    OV_GC_OWN_TX,   /* in a transaction of its own, between batches */
    OV_GC_IN_BATCH  /* inside the next batch's transaction, before its jobs: its failure
                     * fails the batch, so fn must fail only when the database does */
};
/* Runs fn(db, ctx) on the writer's thread and connection and waits for it: fn's result, or
 * the batch's when IN_BATCH. fn must be repeatable (ov_db_tx). -OV_E_STATE once stopping. */
OV_MUST_CHECK int ov_gc_call(struct ov_gc *gc, ov_db_tx_fn fn, void *ctx,
                             enum ov_gc_call_how how);

#endif
