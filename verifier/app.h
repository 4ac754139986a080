/* app: what the verifier's threads share (struct vf_app) and the interfaces between them.
 *
 * Threads and who owns what:
 *   HTTP pool (routes.c)   parse and check an action, do the CPU work (RSA-PSS and Ed25519
 *                          verification, encoding the entry), hand it to the committer, then
 *                          long-poll until it is committed, acknowledged by the log, proven
 *   committer (commit.c)   group commit: one transaction for every action queued meanwhile:
 *                          spend (or rate) and write the outbox row, or find the earlier row
 *                          of the same ballot, or refuse
 *   sender (sender.c)      appends outbox rows to the log in batches, records their indices
 *   follower (follower.c)  follows the log (core/protocol/logreader): learns contexts, keeps a window
 *                          of the tree for inclusion proofs, counts the tallies, writes the
 *                          tally entry of each context that closed
 * Long-poll levels (ov_http_wait_until, so each request is woken once, when what it waits
 * for is there): VF_CH_READY, the queue position up to which every action is decided and,
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
#include "infra/metrics.h"
#include "primitives/pp.h"
#include "infra/rowmap.h"
#include "primitives/sign.h"
#include "primitives/treewin.h"

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

/* The live count of one context at app->tally_size (guarded by app->tally_mu). */
struct vf_tally {
    uint64_t counts[OV_MAX_CHOICES]; /* assembly: per choice, in the context's order */
    struct vf_target *targets;       /* rating round: sorted by name (bytewise) */
    size_t n_targets, cap_targets;
    bool final;                      /* its tally entry is in the outbox */
    uint64_t final_size;
    uint8_t final_hash[32];
};

/* A context as the log published it. Never freed before the app. */
struct vf_context {
    struct ov_context c;
    struct ov_pp_key key;                   /* the token key, parsed */
    uint8_t digest[OV_PP_DIGEST_LEN];       /* SHA-256 of its TokenChallenge */
    uint64_t log_index;
    /* committer only: the round's targets (count, label bytes), and this batch's */
    uint64_t n_targets, target_bytes, batch_targets, batch_bytes;
    /* follower only */
    bool tallied;
    /* app->tally_mu */
    struct vf_tally tally;
};

struct vf_committer;

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

    /* contexts: an open-addressing table of pointers, appended by the follower */
    pthread_rwlock_t ctx_lock;
    struct vf_context **ctx_tab;
    size_t ctx_cap, n_ctx;

    struct vf_committer *committer;
    struct ov_rowmap *keys; /* keys.c: the entries table's unique keys */

    /* sender: every entries row with id <= indexed_upto has its log index; the recent ones
     * are also in idx_ring (slot row % VF_IDX_RING), so handlers need not ask the database */
    atomic_uint_least64_t indexed_upto;
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

    /* tallies (tally_mu): every action in log entries [0, tally_size) is counted */
    pthread_mutex_t tally_mu;
    uint64_t tally_size;

    pthread_t committer_th, sender_th, follower_th;

    struct ov_counter *m_counted, *m_duplicate, *m_log_errors, *m_appended;
    struct ov_gauge *m_pending, *m_log_size, *m_tally_size, *m_contexts;
};

/* ---- app.c ---- */
OV_MUST_CHECK int vf_app_init(struct vf_app *app);
void vf_app_clear(struct vf_app *app);
/* Wakes the requests waiting on channel for a level up to `level` (core/infra/http). */
void vf_notify(struct vf_app *app, unsigned channel, uint64_t level);
uint64_t vf_now(void);

/* ---- contexts.c ---- */
/* The context with this id, or NULL. The pointer stays valid for the app's life. */
struct vf_context *vf_context_find(struct vf_app *app, const char *id);
/* Registers a context entry read from the log at index. -OV_E_EXISTS when the id is known
 * (the first entry wins), -OV_E_MALFORMED when the entry is not a usable context (its
 * token key does not parse or does not hash to its key id), -OV_E_NOMEM. */
OV_MUST_CHECK int vf_context_add(struct vf_app *app, struct ov_bytes entry, uint64_t index,
                                 struct vf_context **out);
/* Calls fn for every context (under the read lock; fn must not add contexts). */
void vf_context_each(struct vf_app *app, void (*fn)(void *ctx, struct vf_context *c), void *ctx);

/* ---- commit.c ---- */

enum vf_outcome {
    VF_COUNTED = 1,        /* a new row */
    VF_DUPLICATE,          /* the same ballot was counted before: its row */
    VF_SPENT,              /* 409 token_spent */
    VF_RATED,              /* 409 already_rated */
    VF_UNKNOWN_PSEUDONYM,  /* 403 unknown_pseudonym */
    VF_CLOSED,             /* 403 context_closed (at commit time) */
    VF_TOO_MANY_TARGETS,   /* 400 invalid_action: the round's tally would not fit an entry */
    VF_FAILED              /* 503: the transaction failed */
};

/* One action on its way from a handler through the committer (reference counted). */
struct vf_item {
    atomic_int refs;
    struct vf_context *ctx;
    struct ov_action a;              /* as submitted (time set) */
    uint8_t nonce[OV_PP_NONCE_LEN];  /* SHA-256(pseudonym): the token's nonce */
    uint8_t ballot[32];              /* SHA-256 of the signed bytes */
    struct ov_buf entry[2];          /* [0] without the token, [1] with it (has_token) */
    uint8_t hash[2][32];
    /* set by the committer before `done` */
    uint64_t seq;                    /* its place in the committer's queue (VF_CH_READY) */
    atomic_bool done;
    enum vf_outcome outcome;
    int err;
    int64_t row;
    struct ov_buf row_entry;         /* the row's entry (the new one, or the earlier one's) */
    uint8_t row_hash[32];
    bool row_indexed;
    uint64_t row_index;
    struct vf_item *next;
};

OV_MUST_CHECK int vf_committer_start(struct vf_app *app);
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

/* ---- keys.c: the entries table's unique keys, in memory ----
 * Each token spends once per context (context, nonce), each pseudonym rates each target
 * once (context, pseudonym, label), each leaf hash names one row: kept in a core/rowmap
 * instead of UNIQUE indexes (whose random pages were most of the verifier's writes), built
 * from the table at start-up, written only by the committer's thread, which also decides
 * every spend: so one decision sees every earlier one. A lookup confirms its candidates
 * against the row. Every lookup returns 1 found (*row), 0 none, < 0 error. */

/* Builds app->keys from the table (before the committer and the HTTP threads start). */
OV_MUST_CHECK int vf_keys_load(struct vf_app *app, struct ov_db *db);
/* The keys of a new row (inside the transaction that inserts it, run by ov_rowmap_tx on
 * app->keys, so that a failed one leaves no key behind). nonce,
 * pseudonym and label may be NULL (a row that spends no token, rates nothing). */
OV_MUST_CHECK int vf_keys_add(struct vf_app *app, int64_t row, const char *context,
                              const uint8_t hash[32], const uint8_t *nonce,
                              const uint8_t *pseudonym, const char *label);
OV_MUST_CHECK int vf_keys_spent(struct vf_app *app, struct ov_db *db, const char *context,
                                const uint8_t nonce[32], int64_t *row);
OV_MUST_CHECK int vf_keys_rated(struct vf_app *app, struct ov_db *db, const char *context,
                                const uint8_t *pseudonym, const char *label, int64_t *row);
OV_MUST_CHECK int vf_keys_hash(struct vf_app *app, struct ov_db *db, const uint8_t hash[32],
                               int64_t *row);
void vf_keys_free(struct vf_app *app);

/* ---- app.c: the index ring ---- */
void vf_idx_put(struct vf_app *app, uint64_t row, uint64_t index);
/* true and *index when the ring still holds row. */
bool vf_idx_get(struct vf_app *app, uint64_t row, uint64_t *index);

/* ---- sender.c ---- */
OV_MUST_CHECK int vf_sender_start(struct vf_app *app);
void vf_sender_stop(struct vf_app *app);
/* Wakes the sender: there are new outbox rows. */
void vf_sender_kick(struct vf_app *app);

/* ---- follower.c ---- */
/* Loads the contexts and the reader's state the database remembers (before the committer
 * starts); then vf_follower_start starts following. */
OV_MUST_CHECK int vf_follower_init(struct vf_app *app);
OV_MUST_CHECK int vf_follower_start(struct vf_app *app);
void vf_follower_stop(struct vf_app *app);
/* The proof of index under the latest verified checkpoint: its note into note (initialised
 * here) and the proof. -OV_E_STATE when no checkpoint covers index yet (or, local_only,
 * when index is below the window: then the log is not asked); -OV_E_HTTP, -OV_E_BAD_PROOF
 * when an index below the window had to be proven by the log and failed. */
OV_MUST_CHECK int vf_follower_prove(struct vf_app *app, uint64_t index,
                                    const uint8_t hash[32], struct ov_buf *note, uint8_t *proof,
                                    size_t *n_proof, bool local_only);

/* ---- tally.c ---- */
/* Adds one logged action to its context's live count (tally_mu held by the caller).
 * -OV_E_NOMEM, -OV_E_MALFORMED (not one of the context's choices). */
OV_MUST_CHECK int vf_tally_add(struct vf_context *c, const char *label, int64_t rating);
/* The JSON {"context","size","algorithm","result","final"[,"receipt"]} of c (tally_mu held). */
json_t *vf_tally_json(const struct vf_context *c, uint64_t size);
/* The tally entry of c counted at size (tally_mu held), encoded into out (initialised here). */
OV_MUST_CHECK int vf_tally_entry(const struct vf_context *c, uint64_t size, uint64_t time,
                                 struct ov_buf *out);

/* ---- routes.c ---- */
extern const struct ov_http_route vf_routes[];
extern const size_t vf_n_routes;

#endif
