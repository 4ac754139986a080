/* logreader: a client that follows a onevoice log through its public C2SP interface alone:
 * it fetches the checkpoint, checks the log's signature and the witnesses' cosignatures
 * (a quorum), fetches every new entry bundle (but those whose leaf hashes the caller has:
 * ov_logreader_sync_hooks), recomputes the tree and refuses anything that does not hash to
 * the checkpoint's root or does not extend what it read before. With
 * verify_tiles it also rebuilds every hash tile and compares it with the one served.
 * A partial tile or bundle the log no longer serves (C2SP tlog-tiles lets it delete one once
 * the full tile exists: a state saved at a smaller size, a checkpoint the log has outgrown)
 * is read from the full tile, of which the first W hashes or entries are used; with
 * verify_tiles, the hashes a resumed sync takes from the log must give the root read before.
 * Used by the verifier (to learn contexts), the auditor and the wallet. Not thread-safe. */
#ifndef OV_LOGREADER_H
#define OV_LOGREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/merkle.h"
#include "primitives/note.h"
#include "primitives/tiles.h"

#define OV_LOGREADER_MAX_WITNESSES 16

struct ov_logreader;

struct ov_logreader_cfg {
    const char *url;                          /* the log's URL prefix */
    struct ov_note_verifier log_key;          /* type 0x01 */
    const struct ov_note_verifier *witnesses; /* type 0x04; may be NULL */
    size_t n_witnesses;
    unsigned quorum;                          /* cosignatures required (<= n_witnesses) */
    bool verify_tiles;                        /* also compare every hash tile */
    /* On -OV_E_STATE (quorum short), hand back the checkpoint all the same (its log
     * signature verified): evidence for an auditor, which clears it. */
    bool keep_unquorate;
};

/* A verified checkpoint. */
struct ov_logreader_cp {
    uint64_t size;
    uint8_t root[OV_HASH_LEN];
    struct ov_buf note;  /* the signed note as served (owned; ov_logreader_cp_clear) */
    unsigned n_cosigned; /* witnesses whose cosignature verified */
    /* The time at least `quorum` trusted witnesses vouch for: the quorum-th latest of their
     * verified cosignature timestamps (0 with no witness or quorum 0). */
    uint64_t witness_time;
};

/* Called for each entry in index order; a non-zero return stops the sync and is passed on.
 * It sees entries before the root is checked: a caller that must act only on verified
 * entries collects them and commits once ov_logreader_sync returns 0. */
typedef int (*ov_logreader_entry_fn)(void *ctx, uint64_t index, struct ov_bytes entry);

OV_MUST_CHECK int ov_logreader_new(const struct ov_logreader_cfg *cfg, struct ov_logreader **out);
void ov_logreader_free(struct ov_logreader *r);

/* Resumes from a tree already read: size and the popcount(size) frontier hashes of an
 * earlier ov_logreader_state (the caller's saved state). -OV_E_MALFORMED. */
OV_MUST_CHECK int ov_logreader_resume(struct ov_logreader *r, struct ov_bytes state);
/* The state to save: after a sync, everything a later run needs to read only what is new. */
OV_MUST_CHECK int ov_logreader_state(const struct ov_logreader *r, struct ov_buf *out);
uint64_t ov_logreader_size(const struct ov_logreader *r);

/* Fetches the latest checkpoint and verifies it: -OV_E_BAD_SIG (log signature missing or
 * bad, or a trusted witness's cosignature bad), -OV_E_STATE (fewer than quorum
 * cosignatures; cp then filled only with cfg.keep_unquorate), -OV_E_HTTP, -OV_E_MALFORMED.
 * cp is initialised here. */
OV_MUST_CHECK int ov_logreader_checkpoint(struct ov_logreader *r, struct ov_logreader_cp *cp);
void ov_logreader_cp_clear(struct ov_logreader_cp *cp);
/* Verifies a checkpoint note that came some other way (a receipt, a saved file) exactly as
 * ov_logreader_checkpoint verifies a fetched one, with cfg's keys and quorum (cfg->url is
 * not used). Same errors; cp is initialised here, its note a copy of note. */
OV_MUST_CHECK int ov_logreader_verify_note(const struct ov_logreader_cfg *cfg, struct ov_bytes note,
                                           struct ov_logreader_cp *cp);

/* Reads entries [size read so far, cp->size), calling fn for each, and checks that they
 * extend the tree read before to exactly cp->root: -OV_E_BAD_PROOF otherwise (a rewritten
 * or forked log: the reader's state is then unchanged), -OV_E_STATE if cp->size is smaller
 * than what was read (the log shrank), -OV_E_HTTP, -OV_E_MALFORMED. */
OV_MUST_CHECK int ov_logreader_sync(struct ov_logreader *r, const struct ov_logreader_cp *cp,
                                    ov_logreader_entry_fn fn, void *ctx);

/* Every leaf hash, in index order, whether its entry was read or known (below). */
typedef int (*ov_logreader_leaf_fn)(void *ctx, uint64_t index, const uint8_t hash[OV_HASH_LEN]);
/* The leaf hashes of entries [from, to) (at most one bundle), if the caller has them all:
 * 1 and hashes filled, 0 when it does not (the bundle is then fetched), < 0 an error. */
typedef int (*ov_logreader_known_fn)(void *ctx, uint64_t from, uint64_t to, uint8_t *hashes);

struct ov_logreader_hooks {
    ov_logreader_entry_fn entry; /* each entry fetched; may be NULL */
    ov_logreader_leaf_fn leaf;   /* may be NULL */
    ov_logreader_known_fn known; /* may be NULL: every bundle is fetched */
    void *ctx;
};

/* ov_logreader_sync for a reader that wrote some of the entries itself (the verifier): a
 * bundle whose leaf hashes h->known gives is not fetched, and h->entry does not see its
 * entries. The root check is the same: a known hash that is not the log's leaf fails the
 * sync like a rewritten entry would (-OV_E_BAD_PROOF). */
OV_MUST_CHECK int ov_logreader_sync_hooks(struct ov_logreader *r, const struct ov_logreader_cp *cp,
                                          const struct ov_logreader_hooks *h);

/* Hash tile t (not a bundle) of the tree of size `size`, as a sync fetches it: a partial
 * tile the log no longer serves is fetched in full. out (room for OV_TILE_MAX_LEN bytes)
 * and *out_len receive it unchecked. -OV_E_HTTP (no answer, or a refusal: 404 included),
 * -OV_E_MALFORMED (longer than a full tile), -OV_E_RANGE (t not a tile). */
OV_MUST_CHECK int ov_logreader_tile(struct ov_logreader *r, const struct ov_tile *t, uint64_t size,
                                    uint8_t *out, size_t *out_len);

/* The root of the tree read so far. */
OV_MUST_CHECK int ov_logreader_root(const struct ov_logreader *r, uint8_t out[OV_HASH_LEN]);

#endif
