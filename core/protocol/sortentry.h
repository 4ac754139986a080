/* sortentry: the log entries that pin a sortition's draw (docs/PROTOCOL.md §10): each party's
 * signed commitment to a secret, the pool (its file's SHA-256 and the draw's parameters), each
 * party's reveal, and the draw with its seed. Encoded as every entry is (deterministic CBOR,
 * text keys, "kind" and "v"), decoded strictly. The seed is SHA-256 of the pool and every
 * reveal, in the pool entry's party order: no one can choose it alone once one party keeps
 * its secret until the pool is logged. Appended by onevoice-sortition's parties and operator
 * (clients/sortition); core/protocol/entry refuses these kinds, so a reader of every entry
 * passes them here. */
#ifndef OV_SORTENTRY_H
#define OV_SORTENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "protocol/entry.h"
#include "protocol/sortition.h"
#include "primitives/sign.h"

#define OV_SORT_MAX_PARTIES 16
#define OV_SORT_SECRET_LEN 32
#define OV_SORT_MAX_DRAWN 8000 /* panel plus reserves in one draw entry (under 64 KiB) */

enum ov_sortentry_kind {
    OV_SORTENTRY_COMMIT = 1, /* "sortition-commit" */
    OV_SORTENTRY_POOL,       /* "pool" */
    OV_SORTENTRY_REVEAL,     /* "sortition-reveal" */
    OV_SORTENTRY_DRAW        /* "draw" */
};

struct ov_sort_commit {
    char draw[OV_MAX_CONTEXT_ID_LEN + 1];
    char party[OV_MAX_LABEL_LEN + 1];
    uint8_t party_key[OV_SIGN_PK_LEN];
    uint8_t commitment[32];
    uint8_t sig[OV_SIGN_SIG_LEN]; /* by party_key over {commitment, draw, party} */
    uint64_t time;
};

struct ov_sort_poolentry {
    char id[OV_MAX_CONTEXT_ID_LEN + 1];
    char title[OV_MAX_TITLE_LEN + 1];
    uint8_t pool[32]; /* SHA-256 of the pool file */
    uint64_t members, panel, reserves, max_attempts;
    size_t n_parties;
    uint8_t parties[OV_SORT_MAX_PARTIES][OV_SIGN_PK_LEN];
    uint64_t reveal_by; /* every party's reveal is logged before this time, or the draw is void */
    uint64_t time;
};

struct ov_sort_reveal {
    char draw[OV_MAX_CONTEXT_ID_LEN + 1];
    uint8_t party_key[OV_SIGN_PK_LEN];
    uint8_t reveal[OV_SORT_SECRET_LEN];
    uint64_t time;
};

struct ov_sort_drawentry {
    char id[OV_MAX_CONTEXT_ID_LEN + 1];
    uint8_t seed[OV_SORT_SEED_LEN];
    uint64_t attempt;
    size_t n_panel, n_reserves;
    uint32_t *panel, *reserves; /* member IDs (from 1), owned */
    uint64_t time;
};

struct ov_sortentry {
    enum ov_sortentry_kind kind;
    union {
        struct ov_sort_commit commit;
        struct ov_sort_poolentry pool;
        struct ov_sort_reveal reveal;
        struct ov_sort_drawentry draw;
    } u;
};

/* The kind an entry's bytes name, if one of these (0 otherwise): for a reader that sees
 * every entry and passes these here. */
enum ov_sortentry_kind ov_sortentry_kind_of(struct ov_bytes entry);

OV_MUST_CHECK int ov_sortentry_encode(const struct ov_sortentry *e, struct ov_buf *out);
/* Strict: exactly the kind's keys, every bound; the commit's signature is NOT checked here
 * (ov_sort_commit_verify). -OV_E_MALFORMED, -OV_E_NOMEM. ov_sortentry_clear either way. */
OV_MUST_CHECK int ov_sortentry_decode(struct ov_bytes in, struct ov_sortentry *e);
void ov_sortentry_clear(struct ov_sortentry *e);

/* commitment = SHA-256("onevoice/v1/sortition-commit" || 0x00 || draw || 0x00 || secret) */
OV_MUST_CHECK int ov_sort_commitment(const char *draw, const uint8_t secret[OV_SORT_SECRET_LEN],
                                     uint8_t out[32]);
/* The party's signature over the deterministic-CBOR map {commitment, draw, party}
 * (purpose OV_SIGN_SORTITION_COMMIT): sign fills c->sig, verify checks it. */
OV_MUST_CHECK int ov_sort_commit_sign(struct ov_sort_commit *c, const struct ov_sign_key *key);
OV_MUST_CHECK int ov_sort_commit_verify(const struct ov_sort_commit *c);
/* seed = SHA-256("onevoice/v1/sortition-seed" || 0x00 || pool || secrets[0] || ... ) with
 * the secrets in the pool entry's party order. */
OV_MUST_CHECK int ov_sort_seed(const uint8_t pool[32], const uint8_t (*secrets)[OV_SORT_SECRET_LEN],
                               size_t n, uint8_t seed[OV_SORT_SEED_LEN]);

#endif
