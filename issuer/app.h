/* app: what the issuer's parts share (struct issuer_app): its keys and secrets, the
 * contexts it serves, the issuance writer, the outbox sender, the metrics. */
#ifndef ISSUER_APP_H
#define ISSUER_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"
#include "infra/db.h"
#include "protocol/entry.h"
#include "infra/http.h"
#include "protocol/issuerapi.h"
#include "infra/keyfile.h"
#include "infra/metrics.h"
#include "primitives/sign.h"

#include "hashes.h"

#define ISSUER_MAX_IDPS 64
#define ISSUER_SECRET_LEN 32
#define ISSUER_TOKEN_VALID_S (7u * 24u * 3600u) /* registrar enrollment tokens */

struct issuer_contexts; /* contexts.h */
struct ov_rowmap;       /* infra/rowmap.h */
struct issuer_quota;    /* quota.h */
struct issuer_writer;   /* writer.h */
struct issuer_outbox;   /* outbox.h */

struct issuer_idp {
    char name[OV_MAX_IDP_NAME_LEN + 1];
    uint8_t pk[OV_SIGN_PK_LEN];
};

/* Refusal reasons counted in issuer_refusals_total{reason}. */
enum issuer_reason {
    R_MALFORMED,
    R_WRONG_TOKEN_TYPE,
    R_UNKNOWN_KEY_ID,
    R_BAD_SIGNATURE,
    R_STALE,
    R_REPLAYED,
    R_UNKNOWN_ENROLLEE,
    R_REVOKED,
    R_CONTEXT_CLOSED,
    R_QUOTA_SPENT,
    R_UNAUTHORIZED,
    R_ENROLL, /* every enrollment refusal */
    R_COUNT
};

#define ISSUER_EPOCH_S 300 /* --epoch-seconds' default (docs/PROTOCOL.md §3.1) */

struct issuer_app {
    const char *dir;
    const char *name; /* the TokenChallenge issuer_name */
    struct ov_sign_key *producer;
    struct ov_secret *admin, *registrar, *pepper, *tag;
    size_t n_idps;
    struct issuer_idp idps[ISSUER_MAX_IDPS];
    struct issuer_contexts *contexts;
    struct ov_rowmap *blinded; /* (context, blinded) -> issuance (store.h); the writer adds */
    struct issuer_quota *quota; /* each key's standing, for the checks before the RSA */
    struct issuer_writer *writer;
    struct ov_metrics *metrics; /* the /metrics registry (the writer adds its series) */
    struct issuer_outbox *outbox;
    _Atomic(struct ov_http *) http; /* set once serving */
    struct ov_db_per_thread dbs; /* each pool thread's connection */
    struct ov_counter *issued, *retried, *enrolled, *refused[R_COUNT];
    struct ov_gauge *backlog; /* outbox rows not yet acknowledged by the log */
    uint32_t epoch_s;         /* --epoch-seconds (core/base/epoch.h): 0, no epochs */
    struct ov_gauge *held;    /* outbox rows held for an epoch not yet ended */
    struct ov_counter *flushes; /* epochs whose held rows the outbox began to send */
    atomic_bool nice_pool;    /* the writer could not raise its priority: lower the pool's */
    atomic_int log_state;     /* enum issuer_log_state (logcheck.h): writes wait for the check */
};

extern const struct ov_http_route issuer_routes[];
extern const size_t issuer_n_routes;

/* Sets up the per-thread connection key. -OV_E_NOMEM. */
OV_MUST_CHECK int issuer_app_init(struct issuer_app *app);
/* Registers the issuer's metrics in m (missing ones stay NULL, which updates ignore). */
void issuer_app_metrics(struct issuer_app *app, struct ov_metrics *m);

/* Replies {"error": reason, ...} with status and counts the refusal. */
OV_MUST_CHECK int issuer_refuse(struct ov_req *rq, unsigned status, enum issuer_reason r,
                                const char *reason, const char *message);

/* 0 when the request's "Authorization: Bearer <base64url secret>" equals secret (compared
 * in constant time); otherwise -OV_E_BAD_SIG. */
OV_MUST_CHECK int issuer_check_bearer(struct ov_req *rq, const struct ov_secret *secret);

#endif
