/* writer: the issuance writer. One thread owns a database connection and commits the
 * issuances the HTTP threads hand it in batches, one transaction (synchronous=FULL) per
 * batch: group commit, so a durable issuance costs a share of one fsync. Each job runs
 * inside its own SAVEPOINT, so a refused job leaves nothing behind while its batch-mates
 * commit. The RSA blind signature is computed by the HTTP thread BEFORE it submits (RSA
 * blind signing is deterministic: m^d mod n), which keeps the CPU-bound work out of the
 * serialised section; a job refused here discards the signature it brought.
 *
 * A token request does not hold its pool thread while its batch commits: it submits its
 * job (issuer_writer_submit) and long-polls on ISSUER_CH_ISSUED; after each commit the
 * writer raises that channel's level to the batch's last job number. The pool threads
 * are thus free for the next requests' RSA, and every job that arrived during a commit
 * joins the next batch.
 *
 * The writer alone adds to the in-memory index of answered blinded messages (store.h; a
 * failed batch's additions are undone with it), and after each commit notes every key's
 * standing it read (quota.h) for the pool threads' checks before the RSA. */
#ifndef ISSUER_WRITER_H
#define ISSUER_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "infra/groupcommit.h"
#include "contexts.h"
#include "primitives/pp.h"

enum issuer_job_result {
    JOB_ISSUED = 0,     /* recorded; response is the fresh blind signature */
    JOB_RETRY,          /* the blinded message was already answered: response is that answer */
    JOB_NEED_SIG,       /* not answered before, and the job brought no signature */
    JOB_UNKNOWN,        /* no enrollee holds the key */
    JOB_REVOKED,        /* the key was revoked (recovery) */
    JOB_REPLAYED,       /* this signature was seen, or another enrollee sent the message */
    JOB_QUOTA,          /* the quota is spent */
    JOB_FAILED          /* the database failed; err says how */
};

struct issuer_job {
    /* in: a call (issuer_writer_call) instead of an issuance when fn is set */
    ov_db_tx_fn fn;
    void *fn_ctx;
    /* in: an issuance */
    const struct issuer_ctx *ctx;
    uint8_t pk[OV_SIGN_PK_LEN];
    uint8_t sig[OV_SIGN_SIG_LEN];
    uint64_t time_ms, now_s;
    uint8_t blinded[OV_PP_NK];
    bool have_sig;
    /* in (when have_sig) and out */
    uint8_t response[OV_PP_TOKEN_RESPONSE_LEN];
    /* out */
    enum issuer_job_result result;
    int err;
    /* out, for issuer_quota_note once committed: the key was known, its count after */
    bool known, revoked;
    uint64_t issued;
    /* private */
    bool done;
    bool abandoned; /* issuer_writer_release before done: the writer frees it */
    uint64_t seq;   /* its place in the queue: the level that announces its commit */
    struct ov_http *srv;
    struct issuer_writer *owner; /* for the request's state_free */
    struct ov_gc_job job;
};

/* The long-poll channel whose level is the number of the last committed job. */
#define ISSUER_CH_ISSUED 1u

struct issuer_writer;

/* The default of --commit-pace-ms: under load, batches begin at most this often. */
#define ISSUER_PACE_MS 10u

/* Starts the thread (its own connection to DIR/issuer.db); under load a batch begins at
 * most every pace_ms. -OV_E_NOMEM, -OV_E_* of ov_db_open. */
OV_MUST_CHECK int issuer_writer_start(struct issuer_app *app, unsigned pace_ms,
                                      struct issuer_writer **out);
/* Finishes queued jobs, stops the thread, frees. Accepts NULL. */
void issuer_writer_stop(struct issuer_writer *w);
/* Queues a job (allocated with malloc) without waiting and returns its number: once its
 * batch committed (or failed), job->result is final, issuer_writer_done says so, and the
 * writer raises srv's ISSUER_CH_ISSUED level to at least that number. The caller still
 * owns the job and ends with issuer_writer_release. Once stopping, the job is done at once
 * (JOB_FAILED, -OV_E_STATE) and 0 returned. */
uint64_t issuer_writer_submit(struct issuer_writer *w, struct issuer_job *job,
                              struct ov_http *srv);
/* Whether a submitted job is finished (its result fields may then be read). */
bool issuer_writer_done(struct issuer_writer *w, struct issuer_job *job);
/* Gives a submitted (or never submitted) job up: freed now if finished, else by the writer
 * when it is (a request that ended before its commit). Accepts NULL. */
void issuer_writer_release(struct issuer_writer *w, struct issuer_job *job);
/* Runs fn(db, ctx) inside the writer's next batch and waits for the commit: fn's result, or
 * the batch's failure (fn fails only when the database does, which fails the batch). The
 * outbox records the log's acknowledgements this way, so they never queue for the write
 * lock behind a stream of issuance batches. The call is a job in the queue: under load it
 * rides along with the next paced batch instead of starting one early (an early batch per
 * acknowledgement cut the batches to a few issuances each, and a commit costs about the
 * same however many it holds); an idle writer runs it at once. */
OV_MUST_CHECK int issuer_writer_call(struct issuer_writer *w, ov_db_tx_fn fn, void *ctx);

#endif
