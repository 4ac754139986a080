/* commit: the committer, the verifier database's one writer (core/infra/groupcommit).
 * Handlers queue checked actions (struct vf_item); the committer decides every action queued
 * meanwhile in ONE transaction (decide.h), then answers each once its row is logged (the
 * sender reports that: vf_committer_logged). The transaction commits every decision or none
 * (each item then fails with 503 and may be retried: every decision is idempotent). The
 * sender's and the follower's writes run here too (vf_committer_run): one writing
 * connection keeps its page cache and one fsync serves both. */
#ifndef VF_COMMIT_H
#define VF_COMMIT_H

#include "app.h"
#include "infra/groupcommit.h"

enum vf_outcome {
    VF_COUNTED = 1,        /* a new row */
    VF_DUPLICATE,          /* the same ballot was counted before: its row */
    VF_SPENT,              /* 409 token_spent */
    VF_RATED,              /* 409 already_rated */
    VF_UNKNOWN_PSEUDONYM,  /* 403 unknown_pseudonym */
    VF_CLOSED,             /* 403 context_closed (at commit time) */
    VF_TOO_MANY_TARGETS,   /* 400 invalid_action: the round's tally would not fit an entry */
    VF_STATEMENT_QUOTA,    /* 409 statement_quota: the author wrote the context's statements */
    VF_DUP_STATEMENT,      /* 409 duplicate_statement: another pseudonym wrote this text */
    VF_ROUND_FULL,         /* 400 invalid_action: the round has OV_MAX_ROUND_STATEMENTS */
    VF_UNKNOWN_STATEMENT,  /* 404 unknown_statement: no statement of the round has the id */
    VF_OWN_STATEMENT,      /* 403 own_statement: a rating of the rater's own statement */
    VF_FAILED              /* 503: the transaction failed */
};

/* One action on its way from a handler through the committer (reference counted). */
struct vf_item {
    atomic_int refs;
    struct vf_context *ctx;
    struct ov_action a;              /* as submitted (time set) */
    uint8_t nonce[OV_PP_NONCE_LEN];  /* SHA-256(pseudonym): the token's nonce */
    uint8_t ballot[32];              /* SHA-256 of the signed bytes */
    char stmt_id[OV_STATEMENT_ID_LEN + 1]; /* a statement's id (§11.3) */
    struct ov_buf entry[2];          /* [0] without the token, [1] with it (has_token) */
    uint8_t hash[2][32];
    /* set by the committer before `done` */
    uint64_t seq;                    /* its place in the committer's queue (VF_CH_READY) */
    struct ov_gc_job job;
    atomic_bool done;
    enum vf_outcome outcome;
    int err;
    int64_t row;
    struct ov_buf row_entry;         /* the row's entry (the new one, or the earlier one's) */
    uint8_t row_hash[32];
    bool row_indexed;
    uint64_t row_index;
};

/* The next item of a batch, or NULL. */
struct vf_item *vf_item_next(const struct vf_item *it);

/* Opens the writer's connection, loads the keys and the rounds' targets, starts the writer
 * (its groupcommit_* series in m, which may be NULL). */
OV_MUST_CHECK int vf_committer_start(struct vf_app *app, struct ov_metrics *m);
void vf_committer_stop(struct vf_app *app);
/* The sender recorded every row up to `row`: wakes the actions now ready (VF_CH_READY). */
void vf_committer_logged(struct vf_app *app, uint64_t row);
/* Runs fn(db, ctx) on the writer's connection and waits for it: merged into the next
 * batch's transaction (then its result is the batch's, and fn must not fail but for the
 * database), or in a transaction of its own. fn must be repeatable (ov_db_tx). Returns its
 * result, or -OV_E_STATE once stopping. */
OV_MUST_CHECK int vf_committer_run(struct vf_app *app, ov_db_tx_fn fn, void *ctx, bool merge);
/* Queues the item (taking a reference). -OV_E_STATE once stopping. */
OV_MUST_CHECK int vf_committer_submit(struct vf_app *app, struct vf_item *it);
struct vf_item *vf_item_new(void);
void vf_item_release(struct vf_item *it);

#endif
