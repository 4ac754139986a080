/* sortlog: onevoice-sortition's side of the log (docs/PROTOCOL.md §10). It reads the entries
 * of one draw id from verified checkpoints only (core/protocol/logreader: the log's
 * signature, a quorum of witness cosignatures, every entry rehashed to the root), appends
 * through the log's producer interface (core/protocol/logclient), and says what those
 * entries mean when read in log order: who committed, which pool, who revealed, whether the
 * draw is void, and the seed. */
#ifndef SORTLOG_H
#define SORTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "protocol/logreader.h"
#include "protocol/poolfile.h"
#include "protocol/sortentry.h"

#define SL_MAX_COMMITS 64 /* distinct parties' commitments read for one draw id */

/* The options every log command takes. */
struct sl_opts {
    const char *log, *vkey, *witnesses, *quorum;
};

/* One entry of the draw id, at its log index. */
struct sl_item {
    uint64_t index;
    uint64_t before; /* the latest `time` of the log's entries before it (any kind) */
    struct ov_sortentry e;
};

struct sl_log {
    struct ov_logreader_cfg cfg;
    struct ov_note_verifier witnesses[OV_LOGREADER_MAX_WITNESSES];
    struct ov_logreader *reader;
    char id[OV_MAX_CONTEXT_ID_LEN + 1];
    struct sl_item *items; /* in log order */
    size_t n_items, cap;
    size_t n_malformed;    /* entries of these kinds that do not decode (any id) */
    uint64_t size;         /* entries read, all verified */
    uint64_t latest;       /* the latest `time` of the entries read */
    uint64_t want_index;   /* sl_append: the entry looked for while reading */
    uint8_t want_hash[32];
    bool found;
};

/* Opens the log o names for the entries of draw id; messages on stderr. 2 for a usage
 * error (bad key, witnesses, quorum), 1 otherwise. sl_close either way. */
int sl_open(struct sl_log *L, const struct sl_opts *o, const char *id);
/* Reads up to the latest verified checkpoint. 0, or a message on stderr and < 0. */
int sl_sync(struct sl_log *L);
/* Appends e as producer with key, waits for a published checkpoint, reads the log up to it
 * and finds e there (its index in *index). 0, or a message on stderr and < 0. */
int sl_append(struct sl_log *L, const char *producer, const struct ov_sign_key *key,
              const struct ov_sortentry *e, uint64_t *index);
void sl_close(struct sl_log *L);

/* A party as the log shows it: its first commitment with a valid signature, and its reveal. */
struct sl_party {
    uint8_t key[OV_SIGN_PK_LEN];
    char label[OV_MAX_LABEL_LEN + 1];
    uint8_t commitment[32];
    uint64_t commit_index;
    bool revealed; /* a matching reveal after the pool entry, before reveal_by and the draw */
    uint8_t secret[OV_SORT_SECRET_LEN];
    uint64_t reveal_index;
    bool early, bad, late; /* a matching reveal before the pool; one not matching; one late */
    uint64_t early_index, bad_index, late_index;
};

/* What the entries of one draw id say, read in log order (PROTOCOL §10). */
struct sl_view {
    size_t n_committed;
    struct sl_party committed[SL_MAX_COMMITS];
    size_t n_bad_sig, n_repeated; /* commitments ignored */
    const struct ov_sort_poolentry *pool; /* the first pool entry, or NULL */
    uint64_t pool_index;
    size_t n_pools;
    int at[OV_SORT_MAX_PARTIES];          /* pool party i: its place in committed[] */
    const struct ov_sort_drawentry *draw; /* the first draw entry, or NULL */
    uint64_t draw_index;
    size_t n_draws;
    uint64_t latest;     /* the latest entry time in the log: its clock, as far as it shows */
    char void_why[1024]; /* "" unless the order of the entries voids the draw */
};

void sl_view(const struct sl_log *L, struct sl_view *v);
struct sl_party *sl_find(struct sl_view *v, const uint8_t key[OV_SIGN_PK_LEN]);

/* Whether the logged pool is p's: its hash and parameters. NULL when it is, else why. */
const char *sl_pool_differs(const struct ov_sort_poolentry *e, const struct ov_pool_file *p);

/* The seed, when the pool is logged, the draw not void, and every pool party revealed
 * (reveal_by has passed once now_s or the log's latest entry time reaches it: then a
 * missing reveal voids the draw). 0, else 1 with why (several lines) filled. */
int sl_seed(const struct sl_view *v, uint64_t now_s, uint8_t seed[OV_SORT_SEED_LEN], char *why,
            size_t why_len);

/* A party key, base64 (44 characters and its NUL). */
const char *sl_key_b64(const uint8_t key[OV_SIGN_PK_LEN], char out[48]);

#endif
