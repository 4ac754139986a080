/* app: what the verifier's threads share (struct vf_app); each module's interface is in its
 * own header (contexts.h, commit.h, decide.h, keys.h, sender.h, follower.h, tally.h, routes.h).
 *
 * Threads and who owns what:
 *   HTTP pool (h_*.c)      parse and check an action, do the CPU work (RSA-PSS and Ed25519
 *                          verification, encoding the entry), hand it to the committer, then
 *                          long-poll until it is committed, acknowledged by the log, proven
 *   committer (commit.c)   group commit (core/infra/groupcommit): one transaction for every
 *                          action queued meanwhile, each decided by decide.c: spend (or rate)
 *                          and write the outbox row, or find the earlier row of the same
 *                          ballot, or refuse
 *   sender (sender.c)      appends outbox rows to the log in batches, records their indices
 *   follower (follower.c)  follows the log (core/protocol/logreader): learns contexts, keeps a window
 *                          of the tree for inclusion proofs, counts the tallies, writes the
 *                          tally entry of each context that closed
 * Long-poll levels (ov_http_wait_until, so each request is woken once, when what it waits
 * for is there): VF_CH_CAUGHT_UP, 1 once the follower read the log since start-up (no
 * action is decided before: adopt.h); VF_CH_READY, the queue position up to which every action is decided and,
 * when it got a row, that row logged (so a POST waits once); VF_CH_INDEX, the highest row
 * with its index (indexed_upto); VF_CH_PROOF, the size of the verified checkpoint. */
#ifndef VF_APP_H
#define VF_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "infra/db.h"
#include "protocol/entry.h"
#include "infra/http.h"
#include "protocol/logreader.h"
#include "protocol/roundresult.h"
#include "infra/metrics.h"
#include "primitives/pp.h"
#include "infra/rowmap.h"
#include "primitives/sign.h"
#include "primitives/treewin.h"

#define VF_CH_CAUGHT_UP 0 /* level 1 once the follower's first round since start-up ended */
#define VF_CH_READY 1
#define VF_CH_INDEX 2
#define VF_CH_PROOF 3
#define VF_WAIT_MS 10000            /* the longest a request waits for the log */
#define VF_MAX_TALLY_BYTES 60000    /* a rating round's targets, encoded, in its tally entry */
#define VF_PRODUCER "verifier"      /* our name in the log's --producers file */

/* A rating round's running count for one target. */
struct vf_target {
    char name[OV_MAX_LABEL_LEN + 1];
    uint64_t count;
    int64_t sum;
};

/* A statement of a round (docs/PROTOCOL.md §11.3): its id, its author, its row. */
struct vf_stmt {
    char id[OV_STATEMENT_ID_LEN + 1];
    uint8_t author[OV_PSEUDONYM_LEN];
    int64_t row;
};

/* The live count of one context at app->tally_size (guarded by app->tally_mu). */
struct vf_tally {
    uint64_t counts[OV_MAX_CHOICES]; /* assembly: per choice, in the context's order */
    struct vf_target *targets;       /* rating round: sorted by name (bytewise) */
    size_t n_targets, cap_targets;
    bool final;                      /* its tally entry is in the outbox */
    uint64_t final_size;
    uint8_t final_hash[32];
    uint8_t final_seed[32];          /* a statement round's: its tally entry's seed */
    /* a statement round: the statements and ratings counted (in log order) */
    struct vf_stmt *stmts;           /* OV_MAX_ROUND_STATEMENTS of room */
    size_t n_stmts;
    struct ov_round_rating *ratings;
    size_t n_ratings, cap_ratings;
};

/* A context as the log published it. Never freed before the app. */
struct vf_context {
    struct ov_context c;
    struct ov_pp_key key;                   /* the token key, parsed */
    uint8_t digest[OV_PP_DIGEST_LEN];       /* SHA-256 of its TokenChallenge */
    uint64_t log_index;
    /* committer only: the round's targets (count, label bytes), and this batch's */
    uint64_t n_targets, target_bytes, batch_targets, batch_bytes;
    /* committer only, a statement round's: its statements, [0, n_stmts) committed, then
     * batch_stmts of the batch being decided (OV_MAX_ROUND_STATEMENTS of room) */
    struct vf_stmt *stmts;
    size_t n_stmts, batch_stmts;
    /* follower only */
    bool tallied;
    /* app->tally_mu */
    struct vf_tally tally;
    /* app->round_mu: GET /tallies/<id> of a statement round, its answer's bytes cached
     * (h_contexts.c); one computation at a time (round_busy), outside every lock */
    struct vf_round_body *round_body;
    uint64_t round_at; /* vf_now() when computed */
    bool round_final;  /* computed after its tally */
    bool round_busy;   /* a thread is computing it (waiters: app->round_cv) */
};

struct vf_committer;
struct vf_round_body; /* h_contexts.c */

#define VF_IDX_RING (1u << 18) /* recent rows whose log index handlers can read in memory */

/* One row's log index; `row` is written last (release) and read first and again (acquire),
 * so a reader never takes the index of a slot being rewritten for a later row. */
struct vf_idx_slot {
    atomic_uint_least64_t row;
    atomic_uint_least64_t index;
};

struct vf_app {
    const char *dir;
    _Atomic(struct ov_http *) http;
    struct ov_sign_key *producer_key;
    struct ov_logreader_cfg log; /* the log we follow and append to */
    uint32_t poll_ms;
    uint64_t window_max;         /* leaves kept for local proofs */
    struct ov_db_per_thread dbs; /* each pool thread's own connection */
    atomic_bool stopping;
    atomic_bool caught_up; /* follower.c: read the log once since start-up (adopt.h) */

    /* contexts: an open-addressing table of pointers, appended by the follower */
    pthread_rwlock_t ctx_lock;
    struct vf_context **ctx_tab;
    size_t ctx_cap, n_ctx;

    struct vf_committer *committer;
    struct ov_rowmap *keys; /* keys.c: the entries table's unique keys */

    /* sender: every entries row with id <= indexed_upto has its log index; the recent ones
     * are also in idx_ring (slot row % VF_IDX_RING), so handlers need not ask the database */
    atomic_uint_least64_t indexed_upto;
    atomic_uint_least64_t committed_upto; /* the committer's last new row (a hint) */
    struct vf_idx_slot *idx_ring;
    pthread_mutex_t send_mu;
    pthread_cond_t send_cv;
    bool send_kick;

    /* follower: the verified tree (tree_lock) */
    pthread_rwlock_t tree_lock;
    struct ov_treewin *win;
    uint64_t cp_size;
    uint8_t cp_root[32];
    struct ov_buf cp_note;
    atomic_uint_least64_t verified_size;

    /* tallies (tally_mu): every action in log entries [0, tally_size) is counted;
     * tally_root is the verified root at tally_size (a statement round's seed) */
    pthread_mutex_t tally_mu;
    uint64_t tally_size;
    uint8_t tally_root[32];
    pthread_mutex_t round_mu;            /* the statement rounds' cached answers (short) */
    pthread_cond_t round_cv;             /* a round's first computation is done */
    struct ov_bridge_params bridge;      /* --min-ratings-per-rater, --min-raters-per-note */

    pthread_t sender_th, follower_th;

    /* epochs (epoch.h): --epoch-seconds (0: none); under epoch_mu, the epoch a committer
     * batch is writing (UINT64_MAX: none) and the oldest it may choose */
    uint32_t epoch_s;
    pthread_mutex_t epoch_mu;
    uint64_t epoch_writing, epoch_floor, epoch_last;
    uint64_t batch_epoch; /* the committer's: its batch's epoch */

    struct ov_counter *m_counted, *m_duplicate, *m_log_errors, *m_appended, *m_adopted,
        *m_statements;
    struct ov_gauge *m_pending, *m_log_size, *m_tally_size, *m_contexts;
    struct ov_gauge *m_held;      /* outbox rows held for an epoch not yet ended */
    struct ov_counter *m_flushes; /* epochs whose held rows the sender began to send */
};

/* ---- app.c ---- */
OV_MUST_CHECK int vf_app_init(struct vf_app *app);
void vf_app_clear(struct vf_app *app);
/* Wakes the requests waiting on channel for a level up to `level` (core/infra/http). */
void vf_notify(struct vf_app *app, unsigned channel, uint64_t level);
uint64_t vf_now(void);

/* ---- h_contexts.c ---- */
/* Drops a reference to a statement round's cached answer (NULL: nothing). */
void vf_round_body_release(struct vf_round_body *b);

/* ---- app.c: the index ring ---- */
void vf_idx_put(struct vf_app *app, uint64_t row, uint64_t index);
/* true and *index when the ring still holds row. */
bool vf_idx_get(struct vf_app *app, uint64_t row, uint64_t *index);

#endif
