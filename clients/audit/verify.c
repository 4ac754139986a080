#include "verify.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_ids.h"

#define BATCH_JOBS 64     /* jobs handed over per lock round trip */
#define QUEUE_BATCHES 16  /* batches waiting at most: bounds memory and latency */
#define FINDINGS_PER_JOB 2

struct batch {
    size_t n;
    struct batch *next;
    struct audit_vjob jobs[BATCH_JOBS];
};

struct audit_verify {
    unsigned n_threads;
    pthread_t th[AUDIT_VERIFY_MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t work; /* a batch was queued, or stop */
    pthread_cond_t room; /* a batch went back to the free list */
    pthread_cond_t idle; /* nothing queued or running */
    struct batch *head, *tail, *free_list;
    size_t pending;      /* batches queued or running */
    bool stop;
    struct batch *cur;   /* the batch the main thread fills (no lock needed) */
    struct batch *all;   /* every batch, one allocation */
    /* Findings wait here until the main thread takes them. It takes them at every batch it
     * hands over and after audit_verify_wait, so at most every batch's worth can pile up:
     * the capacity below always suffices. */
    struct audit_finding *findings[2]; /* workers fill [active]; the main thread reads the other */
    size_t n_findings[2], cap_findings;
    int active;
};

static size_t
run_job(struct audit_vjob *j, struct audit_finding *out)
{
    size_t n = 0;
    if (j->key != NULL) {
        int rc = ov_pp_token_verify(j->key, OV_BYTES(j->action.token, OV_PP_TOKEN_LEN));
        if (rc != 0) {
            out[n] = (struct audit_finding){ j->index, R_TOKEN_INVALID, j->context, rc, { 0 } };
            memcpy(out[n++].pseudonym, j->action.pseudonym, OV_PSEUDONYM_LEN);
        }
    }
    j->action.has_token = false; /* the nonce binding is the main thread's check */
    int rc = ov_action_verify(&j->action);
    if (rc != 0) {
        out[n] = (struct audit_finding){ j->index, R_ACTION_SIGNATURE, j->context, rc, { 0 } };
        memcpy(out[n++].pseudonym, j->action.pseudonym, OV_PSEUDONYM_LEN);
    }
    return n;
}

void
audit_finding_detail(const struct audit_finding *f, char *out, size_t max)
{
    if (strcmp(f->rule, R_TOKEN_INVALID) == 0) {
        snprintf(out, max, "the token's RSA-PSS signature does not verify under the context's "
                 "logged key (%s)", ov_strerror(f->err));
    } else {
        snprintf(out, max, "the action's signature by its pseudonym does not verify (%s): the "
                 "action was altered or forged", ov_strerror(f->err));
    }
}

/* Called with mu held. */
static void
add_findings(struct audit_verify *v, const struct audit_finding *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v->n_findings[v->active] == v->cap_findings) {
            abort(); /* the capacity argument above is broken: our bug */
        }
        v->findings[v->active][v->n_findings[v->active]++] = f[i];
    }
}

static void *
worker(void *arg)
{
    struct audit_verify *v = arg;
    struct audit_finding local[BATCH_JOBS * FINDINGS_PER_JOB];
    for (;;) {
        pthread_mutex_lock(&v->mu);
        while (v->head == NULL && !v->stop) {
            pthread_cond_wait(&v->work, &v->mu);
        }
        struct batch *b = v->head;
        if (b == NULL) {
            pthread_mutex_unlock(&v->mu);
            return NULL;
        }
        v->head = b->next;
        if (v->head == NULL) {
            v->tail = NULL;
        }
        pthread_mutex_unlock(&v->mu);
        size_t nf = 0;
        for (size_t i = 0; i < b->n; i++) {
            nf += run_job(&b->jobs[i], local + nf);
        }
        pthread_mutex_lock(&v->mu);
        add_findings(v, local, nf);
        b->n = 0;
        b->next = v->free_list;
        v->free_list = b;
        v->pending--;
        pthread_cond_signal(&v->room);
        if (v->pending == 0) {
            pthread_cond_broadcast(&v->idle);
        }
        pthread_mutex_unlock(&v->mu);
    }
}

int
audit_verify_new(unsigned n_threads, struct audit_verify **out)
{
    *out = NULL;
    if (n_threads > AUDIT_VERIFY_MAX_THREADS) {
        return -OV_E_RANGE;
    }
    struct audit_verify *v = calloc(1, sizeof *v);
    if (v == NULL) {
        return -OV_E_NOMEM;
    }
    size_t n_batches = QUEUE_BATCHES + n_threads + 1;
    v->n_threads = n_threads;
    v->all = calloc(n_batches, sizeof *v->all);
    /* between two takes, each batch completes at most once (refilling one needs
     * AUDIT_VERIFY_TAKE_EVERY submissions, hence a take); inline, a take's worth of jobs */
    _Static_assert(AUDIT_VERIFY_TAKE_EVERY <= BATCH_JOBS, "a take per batch at least");
    v->cap_findings = (n_threads ? n_batches * BATCH_JOBS : AUDIT_VERIFY_TAKE_EVERY) *
                      FINDINGS_PER_JOB;
    /* malloc, not calloc: a finding is written before it is read, and zeroing would make
     * every page resident from the start, findings or not */
    v->findings[0] = malloc(v->cap_findings * sizeof *v->findings[0]);
    v->findings[1] = malloc(v->cap_findings * sizeof *v->findings[1]);
    if (v->all == NULL || v->findings[0] == NULL || v->findings[1] == NULL) {
        free(v->all);
        free(v->findings[0]);
        free(v->findings[1]);
        free(v);
        return -OV_E_NOMEM;
    }
    /* QUEUE_BATCHES may wait, one per worker may run, one is being filled */
    for (size_t i = 1; i < n_batches; i++) {
        v->all[i].next = v->free_list;
        v->free_list = &v->all[i];
    }
    v->cur = &v->all[0];
    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->work, NULL);
    pthread_cond_init(&v->room, NULL);
    pthread_cond_init(&v->idle, NULL);
    for (unsigned i = 0; i < n_threads; i++) {
        if (pthread_create(&v->th[i], NULL, worker, v) != 0) {
            v->n_threads = i;
            audit_verify_free(v);
            return -OV_E_IO;
        }
    }
    *out = v;
    return 0;
}

void
audit_verify_free(struct audit_verify *v)
{
    if (v == NULL) {
        return;
    }
    pthread_mutex_lock(&v->mu);
    v->stop = true;
    pthread_cond_broadcast(&v->work);
    pthread_mutex_unlock(&v->mu);
    for (unsigned i = 0; i < v->n_threads; i++) {
        pthread_join(v->th[i], NULL);
    }
    pthread_mutex_destroy(&v->mu);
    pthread_cond_destroy(&v->work);
    pthread_cond_destroy(&v->room);
    pthread_cond_destroy(&v->idle);
    free(v->all);
    free(v->findings[0]);
    free(v->findings[1]);
    free(v);
}

/* Hands the current batch to the workers and takes a fresh one. */
static void
hand_over(struct audit_verify *v)
{
    if (v->cur->n == 0) {
        return;
    }
    pthread_mutex_lock(&v->mu);
    v->cur->next = NULL;
    if (v->tail != NULL) {
        v->tail->next = v->cur;
    } else {
        v->head = v->cur;
    }
    v->tail = v->cur;
    v->pending++;
    pthread_cond_signal(&v->work);
    while (v->free_list == NULL) {
        pthread_cond_wait(&v->room, &v->mu);
    }
    v->cur = v->free_list;
    v->free_list = v->cur->next;
    v->cur->n = 0;
    pthread_mutex_unlock(&v->mu);
}

void
audit_verify_submit(struct audit_verify *v, const struct audit_vjob *job)
{
    if (v->n_threads == 0) {
        struct audit_vjob j = *job;
        struct audit_finding f[FINDINGS_PER_JOB];
        size_t n = run_job(&j, f);
        add_findings(v, f, n);
        return;
    }
    v->cur->jobs[v->cur->n++] = *job;
    if (v->cur->n == BATCH_JOBS) {
        hand_over(v);
    }
}

void
audit_verify_wait(struct audit_verify *v)
{
    if (v->n_threads == 0) {
        return;
    }
    hand_over(v);
    pthread_mutex_lock(&v->mu);
    while (v->pending > 0) {
        pthread_cond_wait(&v->idle, &v->mu);
    }
    pthread_mutex_unlock(&v->mu);
}

size_t
audit_verify_take(struct audit_verify *v, const struct audit_finding **out)
{
    if (v->n_threads > 0) {
        pthread_mutex_lock(&v->mu);
    }
    int full = v->active;
    v->active = 1 - full;
    v->n_findings[v->active] = 0;
    size_t n = v->n_findings[full];
    if (v->n_threads > 0) {
        pthread_mutex_unlock(&v->mu);
    }
    *out = v->findings[full];
    return n;
}
