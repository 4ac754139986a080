/* writer: the issuance writer. One thread owns a database connection and commits the
 * issuances the HTTP threads hand it in batches, one transaction (synchronous=FULL) per
 * batch: group commit, so a durable issuance costs a share of one fsync. Each job runs
 * inside its own SAVEPOINT, so a refused job leaves nothing behind while its batch-mates
 * commit. The RSA blind signature is computed by the HTTP thread BEFORE it submits (RSA
 * blind signing is deterministic: m^d mod n), which keeps the CPU-bound work out of the
 * serialised section; a job refused here discards the signature it brought. */
#ifndef ISSUER_WRITER_H
#define ISSUER_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "contexts.h"
#include "pp.h"

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
    /* in: either a function to run in the batch (issuer_writer_call), or an issuance */
    ov_db_tx_fn fn;
    void *fn_ctx;
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
    /* private */
    bool done;
    pthread_cond_t cv; /* its submitter waits on it: a batch wakes only its own jobs */
    struct issuer_job *next;
};

struct issuer_writer;

/* Starts the thread (its own connection to DIR/issuer.db). -OV_E_NOMEM, -OV_E_* of
 * ov_db_open. */
OV_MUST_CHECK int issuer_writer_start(struct issuer_app *app, struct issuer_writer **out);
/* Finishes queued jobs, stops the thread, frees. Accepts NULL. */
void issuer_writer_stop(struct issuer_writer *w);
/* Queues job and waits until its batch committed (or failed). The writer always finishes
 * a job it took, so this returns once job->result is final. */
void issuer_writer_run(struct issuer_writer *w, struct issuer_job *job);
/* Runs fn(db, ctx) in the writer's next batch, in its own savepoint (rolled back unless
 * fn returns 0), and waits for the commit: fn's result, or the batch's failure. The
 * outbox records the log's acknowledgements this way, so they never queue for the write
 * lock behind a stream of issuance batches. */
OV_MUST_CHECK int issuer_writer_call(struct issuer_writer *w, ov_db_tx_fn fn, void *ctx);

#endif
