/* routes: the witness's HTTP API (docs/PROTOCOL.md §5, c2sp.org/tlog-witness) and what its
 * handlers share.
 *   POST /add-checkpoint              cosign a checkpoint consistent with the last one
 *   GET  /<hex SHA-256(origin)>/checkpoint   the latest cosigned checkpoint of a log
 * plus the frame's GET /healthz and GET /metrics. The handlers: h_add_checkpoint.c and
 * h_checkpoint.c. */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>

#include "handlers.h"
#include "protocol/witreq.h"
#include "store.h"

static const char *const refusal_names[WITNESS_R_COUNT] = {
    [WITNESS_R_MALFORMED] = "malformed_request",
    [WITNESS_R_UNKNOWN] = "unknown_origin",
    [WITNESS_R_FORBIDDEN] = "bad_signature",
    [WITNESS_R_OLD_TOO_BIG] = "old_size_too_big",
    [WITNESS_R_CONFLICT] = "old_size_mismatch",
    [WITNESS_R_EMPTY_ROOT] = "bad_empty_tree",
    [WITNESS_R_PROOF_NOT_EMPTY] = "proof_not_empty",
    [WITNESS_R_ROOT_MISMATCH] = "root_mismatch",
    [WITNESS_R_BAD_PROOF] = "bad_proof",
};

const char *
witness_refusal_name(enum witness_refusal r)
{
    if ((unsigned)r >= WITNESS_R_COUNT) {
        abort();
    }
    return refusal_names[r];
}

int
witness_app_init(struct witness_app *app, struct ov_metrics *m)
{
    if (ov_db_per_thread_init(&app->dbs, app->dir, witness_store_open) != 0) {
        return -OV_E_NOMEM;
    }
    int rc = ov_metrics_counter(m, "witness_checkpoints_cosigned_total",
                                "Checkpoints cosigned (answered 200)", NULL, &app->cosigned);
    for (unsigned r = 0; r < WITNESS_R_COUNT && rc == 0; r++) {
        char labels[64];
        snprintf(labels, sizeof labels, "reason=\"%s\"", refusal_names[r]);
        rc = ov_metrics_counter(m, "witness_checkpoints_refused_total",
                                "add-checkpoint requests refused, by reason", labels,
                                &app->refused[r]);
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-witness: metrics unavailable: %s\n", ov_strerror(rc));
    }
    return 0;
}

/* Past parsing, a failure is the witness's own (memory, disk, a corrupt row): 5xx, never the
 * 4xx that ov_http_fail would pick for a code such as -OV_E_MALFORMED. */
int
witness_our_fault(struct ov_req *rq, int err)
{
    return ov_http_error(rq, err == -OV_E_DB_BUSY ? 503 : 500, ov_strerror(err),
                         "the witness could not answer; try again later");
}

const struct ov_http_route witness_routes[] = {
    {"POST", "/add-checkpoint", witness_h_add_checkpoint, OV_WITREQ_MAX_LEN},
    {"GET", "/:hash/checkpoint", witness_h_checkpoint, 0},
};
const size_t witness_n_routes = sizeof witness_routes / sizeof witness_routes[0];
