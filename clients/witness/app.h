/* app: what the witness's HTTP handlers share (struct witness_app) and its routing table. */
#ifndef WITNESS_APP_H
#define WITNESS_APP_H

#include <pthread.h>

#include "infra/db.h"
#include "infra/http.h"
#include "logs.h"
#include "infra/metrics.h"
#include "primitives/note.h"

/* Why an add-checkpoint request was refused: the reason codes of the error bodies and
 * the reason label of witness_checkpoints_refused_total. */
enum witness_refusal {
    WITNESS_R_MALFORMED,       /* 400 malformed_request */
    WITNESS_R_UNKNOWN,         /* 404 unknown_origin */
    WITNESS_R_FORBIDDEN,       /* 403 bad_signature */
    WITNESS_R_OLD_TOO_BIG,     /* 400 old_size_too_big */
    WITNESS_R_CONFLICT,        /* 409 (text/x.tlog.size) */
    WITNESS_R_EMPTY_ROOT,      /* 422 bad_empty_tree */
    WITNESS_R_PROOF_NOT_EMPTY, /* 422 proof_not_empty (old 0 or old == size) */
    WITNESS_R_ROOT_MISMATCH,   /* 422 root_mismatch */
    WITNESS_R_BAD_PROOF,       /* 422 bad_proof */
    WITNESS_R_COUNT
};

struct witness_app {
    const char *dir;
    const struct ov_note_signer *signer; /* type 0x04: cosignature/v1 */
    const struct witness_logs *logs;
    struct ov_db_per_thread dbs; /* each pool thread's connection */
    struct ov_counter *cosigned;
    struct ov_counter *refused[WITNESS_R_COUNT];
};

extern const struct ov_http_route witness_routes[];
extern const size_t witness_n_routes;

/* Sets up the per-thread connections and registers the metrics in m (a metric that fails
 * to register stays NULL, which the counters ignore). -OV_E_NOMEM. */
OV_MUST_CHECK int witness_app_init(struct witness_app *app, struct ov_metrics *m);
/* The reason code of a refusal (also its metric label). */
const char *witness_refusal_name(enum witness_refusal r);

#endif
