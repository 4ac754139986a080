#include "infra/groupcommit.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

/* A call waiting for the writer (ov_gc_call), on its caller's stack. */
struct gc_call {
    ov_db_tx_fn fn;
    void *ctx;
    enum ov_gc_call_how how;
    bool done;
    int rc;
    struct gc_call *next;
};

struct ov_gc {
    struct ov_gc_cfg cfg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work;   /* the writer: jobs, calls, or stopping */
    pthread_cond_t called; /* callers: a call is done */
    struct ov_gc_job *head, *tail;
    size_t queued;
    uint64_t next_seq;
    struct gc_call *calls;
    bool stopping;
    struct ov_counter *m_batches, *m_jobs, *m_failed;
    struct ov_histogram *m_batch_jobs, *m_seconds;
};

/* The transaction of one batch: its in-batch calls, then its jobs. */
struct gc_batch {
    struct ov_gc *gc;
    struct ov_gc_job *jobs;
    struct gc_call *calls;
};

static int
batch_tx(struct ov_db *db, void *arg)
{
    struct gc_batch *b = arg;
    int rc = 0;
    for (struct gc_call *c = b->calls; c != NULL && rc == 0; c = c->next) {
        rc = c->fn(db, c->ctx);
    }
    if (rc == 0 && b->jobs != NULL) {
        rc = b->gc->cfg.run(b->gc->cfg.ctx, db, b->jobs);
    }
    return rc;
}

static int
transaction(struct ov_gc *gc, ov_db_tx_fn fn, void *ctx)
{
    return gc->cfg.undo != NULL ? ov_rowmap_tx(gc->cfg.undo, gc->cfg.db, fn, ctx)
                                : ov_db_tx(gc->cfg.db, fn, ctx);
}

static void
calls_done(struct ov_gc *gc, struct gc_call *calls, int rc)
{
    if (calls == NULL) {
        return;
    }
    pthread_mutex_lock(&gc->mu);
    for (struct gc_call *c = calls; c != NULL; c = c->next) {
        c->rc = rc;
        c->done = true; /* c lives on its caller's stack: not touched after this */
    }
    pthread_cond_broadcast(&gc->called);
    pthread_mutex_unlock(&gc->mu);
}

/* Runs the calls that want their own transaction; returns the in-batch ones. */
static struct gc_call *
own_calls(struct ov_gc *gc, struct gc_call *calls)
{
    struct gc_call *in_batch = NULL, **tail = &in_batch;
    for (struct gc_call *c = calls, *next; c != NULL; c = next) {
        next = c->next;
        c->next = NULL;
        if (c->how == OV_GC_IN_BATCH) {
            *tail = c;
            tail = &c->next;
        } else {
            calls_done(gc, c, transaction(gc, c->fn, c->ctx));
        }
    }
    return in_batch;
}

static struct timespec
later_of(struct timespec a, struct timespec b)
{
    return (a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec)) ? a : b;
}

/* Under load, lets the batch gather company (mu held). */
static void
gather(struct ov_gc *gc, struct timespec began)
{
    struct timespec until = later_of(ov_timespec_add_us(began, gc->cfg.pace_us),
                                     ov_deadline_us(CLOCK_MONOTONIC, gc->cfg.gather_us));
    while (!gc->stopping && gc->calls == NULL &&
           (gc->cfg.gather_max == 0 || gc->queued < gc->cfg.gather_max) &&
           pthread_cond_timedwait(&gc->work, &gc->mu, &until) == 0) {
    }
}

/* Waits for work (mu held); false once stopping with nothing left. */
static bool
await_work(struct ov_gc *gc)
{
    while (gc->head == NULL && gc->calls == NULL && !gc->stopping) {
        if (gc->cfg.idle == NULL || gc->cfg.idle_us == 0) {
            pthread_cond_wait(&gc->work, &gc->mu);
            continue;
        }
        struct timespec wake = ov_deadline_us(CLOCK_MONOTONIC, gc->cfg.idle_us);
        if (pthread_cond_timedwait(&gc->work, &gc->mu, &wake) == ETIMEDOUT &&
            gc->head == NULL && gc->calls == NULL && !gc->stopping) {
            pthread_mutex_unlock(&gc->mu);
            gc->cfg.idle(gc->cfg.ctx, gc->cfg.db);
            pthread_mutex_lock(&gc->mu);
        }
    }
    return gc->head != NULL || gc->calls != NULL;
}

/* Takes up to max_batch jobs off the queue (mu held). */
static struct ov_gc_job *
take(struct ov_gc *gc, size_t *n)
{
    struct ov_gc_job *jobs = gc->head, *last = gc->head;
    size_t max = gc->cfg.max_batch ? gc->cfg.max_batch : gc->queued;
    *n = 0;
    if (jobs == NULL) {
        return NULL;
    }
    for (*n = 1; *n < max && last->next != NULL; (*n)++) {
        last = last->next;
    }
    gc->head = last->next;
    if (gc->head == NULL) {
        gc->tail = NULL;
    }
    last->next = NULL;
    gc->queued -= *n;
    return jobs;
}

static void *
writer_main(void *arg)
{
    struct ov_gc *gc = arg;
    char name[16];
    snprintf(name, sizeof name, "%s", gc->cfg.name);
    pthread_setname_np(pthread_self(), name); /* for top -H and perf */
    if (gc->cfg.thread_start != NULL) {
        gc->cfg.thread_start(gc->cfg.ctx);
    }
    bool busy = false;
    struct timespec began = { 0, 0 };
    for (;;) {
        pthread_mutex_lock(&gc->mu);
        if (!await_work(gc)) {
            pthread_mutex_unlock(&gc->mu);
            break;
        }
        if ((busy || gc->cfg.gather_always) && gc->head != NULL &&
            (gc->cfg.gather_us > 0 || gc->cfg.pace_us > 0)) {
            gather(gc, began);
        }
        clock_gettime(CLOCK_MONOTONIC, &began);
        size_t n = 0;
        struct gc_batch b = { gc, take(gc, &n), gc->calls };
        gc->calls = NULL;
        busy = n > 1;
        pthread_mutex_unlock(&gc->mu);

        b.calls = own_calls(gc, b.calls);
        if (b.jobs == NULL && b.calls == NULL) {
            continue;
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = transaction(gc, batch_tx, &b);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ov_histogram_observe(gc->m_seconds, (double)(t1.tv_sec - t0.tv_sec) +
                                                (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        calls_done(gc, b.calls, rc);
        ov_counter_add(gc->m_batches, 1);
        ov_counter_add(gc->m_jobs, n);
        ov_histogram_observe(gc->m_batch_jobs, (double)n);
        if (rc != 0) {
            ov_counter_add(gc->m_failed, 1);
            fprintf(stderr, "%s: batch of %zu failed: %s\n", gc->cfg.name, n, ov_strerror(rc));
        }
        if (b.jobs != NULL) {
            gc->cfg.finish(gc->cfg.ctx, b.jobs, rc);
        }
    }
    return NULL;
}

static void
register_metrics(struct ov_gc *gc, struct ov_metrics *m)
{
    static const double sizes[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024 };
    static const double secs[] = { 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1 };
    char labels[128];
    snprintf(labels, sizeof labels, "writer=\"%s\"", gc->cfg.name);
    /* a metric that fails to register stays NULL, which the updates ignore */
    if (ov_metrics_counter(m, "groupcommit_batches_total", "Transactions the writer committed "
                           "or tried", labels, &gc->m_batches) != 0 ||
        ov_metrics_counter(m, "groupcommit_jobs_total", "Jobs in those transactions", labels,
                           &gc->m_jobs) != 0 ||
        ov_metrics_counter(m, "groupcommit_failed_batches_total", "Transactions that failed",
                           labels, &gc->m_failed) != 0 ||
        ov_metrics_histogram(m, "groupcommit_batch_jobs", "Jobs per transaction", labels, sizes,
                             sizeof sizes / sizeof sizes[0], &gc->m_batch_jobs) != 0 ||
        ov_metrics_histogram(m, "groupcommit_transaction_seconds", "Time from BEGIN to COMMIT",
                             labels, secs, sizeof secs / sizeof secs[0], &gc->m_seconds) != 0) {
        fprintf(stderr, "%s: metrics unavailable\n", gc->cfg.name);
    }
}

int
ov_gc_start(const struct ov_gc_cfg *cfg, struct ov_gc **out)
{
    *out = NULL;
    struct ov_gc *gc = calloc(1, sizeof *gc);
    if (gc == NULL) {
        return -OV_E_NOMEM;
    }
    gc->cfg = *cfg;
    pthread_mutex_init(&gc->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&gc->work, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&gc->called, NULL);
    if (cfg->metrics != NULL) {
        register_metrics(gc, cfg->metrics);
    }
    if (pthread_create(&gc->thread, NULL, writer_main, gc) != 0) {
        pthread_cond_destroy(&gc->work);
        pthread_cond_destroy(&gc->called);
        pthread_mutex_destroy(&gc->mu);
        free(gc);
        return -OV_E_NOMEM;
    }
    *out = gc;
    return 0;
}

void
ov_gc_stop(struct ov_gc *gc)
{
    if (gc == NULL) {
        return;
    }
    pthread_mutex_lock(&gc->mu);
    gc->stopping = true;
    pthread_cond_signal(&gc->work);
    pthread_mutex_unlock(&gc->mu);
    pthread_join(gc->thread, NULL);
    pthread_cond_destroy(&gc->work);
    pthread_cond_destroy(&gc->called);
    pthread_mutex_destroy(&gc->mu);
    free(gc);
}

int
ov_gc_submit(struct ov_gc *gc, struct ov_gc_job *job, uint64_t *seq)
{
    pthread_mutex_lock(&gc->mu);
    if (gc->stopping) {
        pthread_mutex_unlock(&gc->mu);
        return -OV_E_STATE;
    }
    job->next = NULL;
    job->seq = ++gc->next_seq;
    if (seq != NULL) {
        *seq = job->seq;
    }
    if (gc->tail != NULL) {
        gc->tail->next = job;
    } else {
        gc->head = job;
    }
    gc->tail = job;
    gc->queued++;
    /* the first wakes an idle writer; a full batch ends a gathering one */
    if (gc->queued == 1 || gc->queued == gc->cfg.gather_max || gc->queued == gc->cfg.max_batch) {
        pthread_cond_signal(&gc->work);
    }
    pthread_mutex_unlock(&gc->mu);
    return 0;
}

int
ov_gc_call(struct ov_gc *gc, ov_db_tx_fn fn, void *ctx, enum ov_gc_call_how how)
{
    struct gc_call c = { fn, ctx, how, false, 0, NULL };
    pthread_mutex_lock(&gc->mu);
    if (gc->stopping) {
        pthread_mutex_unlock(&gc->mu);
        return -OV_E_STATE;
    }
    struct gc_call **tail = &gc->calls;
    while (*tail != NULL) {
        tail = &(*tail)->next;
    }
    *tail = &c;
    pthread_cond_signal(&gc->work);
    while (!c.done) {
        pthread_cond_wait(&gc->called, &gc->mu);
    }
    pthread_mutex_unlock(&gc->mu);
    return c.rc;
}
