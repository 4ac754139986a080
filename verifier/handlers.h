/* handlers: the verifier's endpoints (routes.c lists them) and what they share with routes.c. */
#ifndef VF_HANDLERS_H
#define VF_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "infra/http.h"

struct vf_app;
struct vf_item;

/* A refusal: its HTTP status, reason code and message (docs/PROTOCOL.md §8). */
struct refusal {
    unsigned status;
    const char *reason;
    const char *message;
};

/* routes.c: the refusal table */
extern const struct refusal R_MALFORMED, R_UNKNOWN_CONTEXT, R_NOT_OPEN, R_NOT_A_RATING,
    R_NOT_A_CHOICE, R_BAD_TOKEN, R_BAD_SIGNATURE, R_STOPPING, R_SPENT, R_RATED,
    R_UNKNOWN_PSEUDONYM, R_CLOSED, R_TOO_MANY_TARGETS, R_COMMIT_FAILED, R_COMMIT_PENDING,
    R_DISK_FULL, R_READ_ONLY, R_DB_CORRUPT, R_NO_STATEMENTS, R_STATEMENT_QUOTA, R_DUP_STATEMENT,
    R_ROUND_FULL, R_UNKNOWN_STATEMENT, R_OWN_STATEMENT;

/* One action of a request (a POST carries one, a batch up to OV_MAX_BATCH_ACTIONS, a GET
 * names one row): its item while the committer decides, then its refusal or its row. */
struct vf_slot {
    struct vf_item *item;
    const struct refusal *refused;
    bool have_row;
    int64_t row;
    uint8_t hash[32];
    struct ov_buf entry;
    bool indexed;
    uint64_t index;
};

/* A request's state between its long-poll rounds. */
struct vf_req {
    bool wait_proof;
    bool batch; /* answers with a line per action (POST /actions/batch) */
    size_t n;
    struct vf_slot s[];
};

/* routes.c: what the handlers share */
int vf_refuse(struct ov_req *rq, const struct refusal *r);
/* A request's state with n slots, set as rq's (freed with it); NULL without memory. */
struct vf_req *vf_req_new(struct ov_req *rq, size_t n);
int vf_refuse_slot(struct vf_slot *s, const struct refusal *r);
/* ?wait=proof (1), no wait (0), anything else (-1). */
int vf_wait_arg(struct ov_req *rq);
/* Answers with what the request waits for (each slot's receipt or refusal), or waits more. */
int vf_answer(struct ov_req *rq, struct vf_app *app, struct vf_req *st, bool is_get);

/* h_actions.c */
int vf_h_action(struct ov_req *rq);
int vf_h_batch(struct ov_req *rq);
/* h_receipts.c */
int vf_h_receipt(struct ov_req *rq);
/* h_contexts.c */
int vf_h_tallies(struct ov_req *rq);
int vf_h_contexts(struct ov_req *rq);
int vf_h_statements(struct ov_req *rq);

#endif
