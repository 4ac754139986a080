/* verify: the auditor's signature checks, on worker threads. The RSA-2048 verification of a
 * token and the Ed25519 verification of an action are the cost of an audit; everything
 * else (decoding, the rules, SQLite) runs on the main thread in log order. Jobs travel in
 * batches through a bounded queue, so memory stays constant however long the log; what a
 * worker finds comes back as findings the main thread records.
 *
 * Keys are borrowed: a job's key must stay valid until audit_verify_wait returns. */
#ifndef AUDIT_VERIFY_H
#define AUDIT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/entry.h"
#include "base/err.h"
#include "primitives/pp.h"

#define AUDIT_VERIFY_MAX_THREADS 64
#define AUDIT_DETAIL_MAX 240

struct audit_vjob {
    uint64_t index;
    const struct ov_pp_key *key; /* verify the action's token under it; NULL: no token check */
    const char *context;         /* borrowed, for findings */
    struct ov_action action;     /* its signature is checked (the token's nonce binding is
                                  * the main thread's) */
};

/* Kept small (no text): a log of forged actions queues one per job, and the text is
 * written only when the main thread records it (audit_finding_detail). */
struct audit_finding {
    uint64_t index;
    const char *rule;    /* a static rule id (rules.h) */
    const char *context; /* borrowed from the job */
    int err;             /* what the verification returned */
    uint8_t pseudonym[OV_PSEUDONYM_LEN]; /* the action's: a failed admission rejects it */
};

/* The finding's text for people, in out (at most max bytes, NUL included). */
void audit_finding_detail(const struct audit_finding *f, char *out, size_t max);

struct audit_verify;

/* n_threads workers (0: every job runs inline in audit_verify_submit). -OV_E_NOMEM,
 * -OV_E_RANGE (over AUDIT_VERIFY_MAX_THREADS), -OV_E_IO (thread creation). */
OV_MUST_CHECK int audit_verify_new(unsigned n_threads, struct audit_verify **out);
/* Waits for the workers and frees everything. Accepts NULL. */
void audit_verify_free(struct audit_verify *v);
/* Queues a copy of job; blocks while the queue is full. */
void audit_verify_submit(struct audit_verify *v, const struct audit_vjob *job);
/* Returns once every queued job is done. */
void audit_verify_wait(struct audit_verify *v);
/* The findings since the last call: *out points to that many, valid until the next call.
 * Call it at least once per AUDIT_VERIFY_TAKE_EVERY submissions (and after
 * audit_verify_wait): the findings buffer is sized for that rhythm. */
#define AUDIT_VERIFY_TAKE_EVERY 64
size_t audit_verify_take(struct audit_verify *v, const struct audit_finding **out);

#endif
