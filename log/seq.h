/* seq: the log's writer. One sequencer thread turns queued append requests into durable
 * batches (group commit: every request that arrived while the previous batch was being
 * written goes into the next one, one SQLite transaction each), and one publisher thread
 * signs a checkpoint for the committed tree, has it cosigned by the witnesses, stores it and
 * serves it.
 *
 * Invariants:
 *   - an index is handed out only after the transaction holding the entry committed
 *     (synchronous=FULL), so an acknowledged entry survives kill -9;
 *   - a checkpoint is signed only for a committed head, and the root of a size is computed
 *     from durable entries only, so two checkpoints for one size always carry one root,
 *     before and after any restart (the start-up check refuses a database that disagrees
 *     with the checkpoint it published);
 *   - the same entry (by leaf hash) appended again keeps its first index;
 *   - each producer's count of the entries it added (not those it sent again) is committed
 *     with them: GET /producers/<name>, how a producer restored from an older backup learns
 *     that the log holds more of its entries than its database. */
#ifndef TLOG_SEQ_H
#define TLOG_SEQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "infra/groupcommit.h"
#include "primitives/merkle.h"
#include "primitives/note.h"
#include "producers.h"

struct tlog_witnesses;

/* What the sequencer tells the HTTP side (also the long-poll channels waiting for it). */
#define TLOG_EVENT_COMMIT 1
#define TLOG_EVENT_CHECKPOINT 2

/* One append request, shared by its HTTP request and the sequencer (reference counted). */
struct tlog_ticket {
    atomic_int refs;
    size_t n;                       /* entries */
    struct ov_bytes *entries;       /* into data */
    uint8_t (*hashes)[OV_HASH_LEN]; /* leaf hashes, computed by the submitter */
    uint64_t *indices;              /* filled by the sequencer */
    uint8_t nonce[16];
    uint64_t expires_ms;
    struct ov_buf data;
    atomic_bool done;
    int err;                        /* valid once done */
    uint64_t size;                  /* the committed tree size after the batch */
    bool wait_checkpoint;           /* the producer asked for a checkpoint and proofs */
    char producer[TLOG_MAX_PRODUCER_NAME + 1]; /* who asked: its count of new entries */
    struct ov_gc_job job;           /* its place in the sequencer's queue */
};

/* A ticket for n entries (copied from entries[]), with their leaf hashes, one reference
 * held by the caller. -OV_E_NOMEM, -OV_E_TOO_BIG, -OV_E_CRYPTO. */
OV_MUST_CHECK int tlog_ticket_new(const struct ov_bytes *entries, size_t n,
                                  const uint8_t nonce[16], uint64_t expires_ms,
                                  struct tlog_ticket **out);
void tlog_ticket_release(struct tlog_ticket *t);

struct tlog_seq_cfg {
    const char *dir;                   /* data directory (log.db) */
    const struct ov_note_signer *key;  /* the log's checkpoint key; its name is the origin */
    const char *origin;
    uint32_t checkpoint_ms;            /* at most one checkpoint per this interval */
    uint32_t batch_ms;                 /* a batch waits at most this for more requests */
    struct tlog_witnesses *witnesses;  /* NULL: none */
    void (*notify)(void *ctx, int event); /* TLOG_EVENT_COMMIT after each batch,
                                              * TLOG_EVENT_CHECKPOINT after each publication */
    void *notify_ctx;
    struct ov_metrics *metrics;        /* the sequencer's groupcommit_* series; NULL: none */
};

struct tlog_seq;
struct ov_db;

/* Opens the store, checks it against the published checkpoint, starts both threads and
 * publishes a first checkpoint when none exists. -OV_E_STATE when the database and the
 * published checkpoint disagree (a fork would follow: refuse to run), -OV_E_DB, ... */
OV_MUST_CHECK int tlog_seq_start(const struct tlog_seq_cfg *cfg, struct tlog_seq **out);
/* Finishes queued batches, stops both threads, frees. Accepts NULL. */
void tlog_seq_stop(struct tlog_seq *s);
/* Queues a ticket (taking one reference). -OV_E_STATE once stopping. */
OV_MUST_CHECK int tlog_seq_submit(struct tlog_seq *s, struct tlog_ticket *t);
/* The published checkpoint note (with cosignatures) into out (initialised here) and its
 * size. -OV_E_NOT_FOUND before the first, -OV_E_NOMEM. */
OV_MUST_CHECK int tlog_seq_published(struct tlog_seq *s, struct ov_buf *out, uint64_t *size);
uint64_t tlog_seq_published_size(struct tlog_seq *s);
/* The index of the committed entry whose leaf hash is `hash`, looked up on the caller's
 * connection db: -OV_E_NOT_FOUND. */
OV_MUST_CHECK int tlog_seq_find(struct tlog_seq *s, struct ov_db *db,
                                const uint8_t hash[OV_HASH_LEN], uint64_t *idx);

#endif
