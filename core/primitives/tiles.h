/* tiles: the C2SP tlog-tiles layout of a Merkle tree (c2sp.org/tlog-tiles): tile and
 * entry-bundle paths, which tiles exist for a tree size, tile contents, entry bundles, a
 * proof hash source that reads tiles, and a tiler that turns appended leaves into tiles.
 *
 * Owns the following formats (all paths relative to the log's URL prefix):
 *
 *   path            tile/<L>/<N>[.p/<W>]   or   tile/entries/<N>[.p/<W>]
 *     <L>           decimal 0..63, no leading zeros (only 0..7 can exist below 2^64 leaves)
 *     <N>           the index in 3-digit zero-padded groups, every group but the last
 *                   prefixed "x": 0 -> 000, 1000 -> x001/000, 1234067 -> x001/x234/067;
 *                   the first group is never x000 (one spelling per number)
 *     .p/<W>        only on a partial tile: W decimal 1..255, no leading zeros
 *
 *   hash tile       W (256 when full) hashes of 32 bytes, concatenated, nothing else.
 *                   Hash i of tile (L, N) = MTH(D[(256N+i)·256^L : (256N+i+1)·256^L]), i.e.
 *                   the perfect subtree at binary level 8L, index 256N+i (merkle.h).
 *
 *   entry bundle    W times:  offset 0  u16 big-endian  entry length n (0..65535)
 *                             offset 2  n bytes         the entry
 *                   no header, no trailer; entry j hashes (ov_merkle_leaf_hash) to hash j
 *                   of tile (0, N).
 *
 * For a tree of size s, level L has floor(s / 256^(L+1)) full tiles and one partial tile of
 * width floor(s / 256^L) mod 256 when that is not 0; empty tiles do not exist. Entry
 * bundles follow level 0. Partial tiles are never hashed into the level above. */
#ifndef OV_TILES_H
#define OV_TILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/merkle.h"

#define OV_TILE_HEIGHT 8
#define OV_TILE_WIDTH 256
#define OV_TILE_MAX_LEN (OV_TILE_WIDTH * OV_HASH_LEN) /* a full tile: 8192 bytes */
#define OV_TILE_ENTRIES (-1)                          /* the "level" of an entry bundle */
#define OV_TILE_LEVELS 8            /* hash-tile levels a 64-bit tree can have: 0..7 */
#define OV_TILE_MAX_SYNTAX_LEVEL 63 /* what the path grammar allows */
#define OV_MAX_TILE_PATH_LEN 64     /* longest path we parse (the longest real one is 47) */
/* a bundle: each entry after its u16 length (so at most UINT16_MAX bytes: the protocol's
 * entries, core/protocol/entry.h's OV_MAX_ENTRY_LEN, are no longer) */
#define OV_MAX_BUNDLE_LEN (OV_TILE_WIDTH * (2 + UINT16_MAX))

struct ov_tile {
    int level;      /* 0..7 for a hash tile, OV_TILE_ENTRIES for an entry bundle */
    uint64_t n;     /* index within the level */
    unsigned width; /* 1..255 for a partial tile, OV_TILE_WIDTH for a full one */
};

/* 0 if t is a tile that can exist in some tree of fewer than 2^64 leaves; -OV_E_MALFORMED
 * if level or width break the grammar, -OV_E_RANGE if it lies beyond 2^64 - 1 leaves. */
OV_MUST_CHECK int ov_tile_check(const struct ov_tile *t);
/* Writes t's path, NUL-terminated, into out; *out_len excludes the NUL. ov_tile_check's
 * errors, or -OV_E_TOO_BIG if out_max is too small (out is then ""). */
OV_MUST_CHECK int ov_tile_path(const struct ov_tile *t, char *out, size_t out_max, size_t *out_len);
/* Parses path[0:len] (no NUL needed) strictly: only the canonical spelling of a tile that
 * passes ov_tile_check is accepted. -OV_E_TOO_BIG past OV_MAX_TILE_PATH_LEN,
 * -OV_E_MALFORMED, -OV_E_NONCANONICAL (leading zeros, a leading x000 group, ".p/256"),
 * -OV_E_RANGE. On failure *t is zeroed. */
OV_MUST_CHECK int ov_tile_parse_path(const char *path, size_t len, struct ov_tile *t);

/* The shape of one level (OV_TILE_ENTRIES counts as level 0) for tree size `size`. */
void ov_tile_level_shape(uint64_t size, int level, uint64_t *n_full, unsigned *partial_width);

/* Walks the tiles and bundles that exist at new_size but not at old_size (old_size 0: all
 * of them; old_size > new_size: none): bundles first, then levels upwards; within a level
 * by index, full before partial. That is also the order to write them in before
 * publishing new_size. */
struct ov_tile_iter {
    uint64_t old_size, new_size;
    int level;       /* private */
    uint64_t next_n; /* private */
    int stage;       /* private */
};
void ov_tile_iter_init(struct ov_tile_iter *it, uint64_t old_size, uint64_t new_size);
/* true and *t set while tiles remain, then false. */
bool ov_tile_iter_next(struct ov_tile_iter *it, struct ov_tile *t);

/* Reads tile t (t->width is the width it has at the source's tree size) into out, setting
 * *out_len; returns 0 or a negative ov_err, which is passed on. */
typedef int (*ov_tile_read_fn)(void *ctx, const struct ov_tile *t, uint8_t *out, size_t out_max,
                               size_t *out_len);

/* A Merkle hash source (merkle.h) over the tiles of a tree of a fixed size, so proofs can
 * be generated or checked from stored or fetched tiles. Each lookup reads at most one
 * tile (the last one is cached) and hashes at most 255 of its hashes. The fields are
 * private to tiles.c; about 8 KiB. */
struct ov_tile_src {
    uint64_t size;
    ov_tile_read_fn read;
    void *ctx;
    struct ov_tile cached;
    bool have;
    uint8_t tile[OV_TILE_MAX_LEN];
};
void ov_tile_src_init(struct ov_tile_src *s, uint64_t size, ov_tile_read_fn read, void *ctx);
/* An ov_merkle_hash_fn with ctx = struct ov_tile_src *. -OV_E_RANGE for a subtree outside
 * the size, -OV_E_MALFORMED for a tile of the wrong length, or the read function's error. */
OV_MUST_CHECK int ov_tile_src_hash(void *src, unsigned level, uint64_t index,
                                   uint8_t out[OV_HASH_LEN]);
static inline struct ov_merkle_src
ov_tile_src_merkle(struct ov_tile_src *s)
{
    return (struct ov_merkle_src){ov_tile_src_hash, s};
}

/* Receives a finished tile: len = 32 · t->width bytes of hashes, valid during the call. */
typedef int (*ov_tile_sink_fn)(void *ctx, const struct ov_tile *t, const uint8_t *hashes,
                               size_t len);

/* Appends leaf hashes and hands out hash tiles (not bundles: entries are the caller's). */
struct ov_tiler;
/* A tiler at tree size `size`, resumed from the partial tiles of that size alone:
 * partial[L] (L = 0..7) holds exactly 32 · (floor(size / 256^L) mod 256) bytes. partial
 * may be NULL when size is 0. -OV_E_MALFORMED for a wrong length, -OV_E_NOMEM,
 * -OV_E_CRYPTO. The caller owns *out and frees it with ov_tiler_free. */
OV_MUST_CHECK int ov_tiler_new(struct ov_tiler **out, uint64_t size, const struct ov_bytes *partial,
                               ov_tile_sink_fn sink, void *ctx);
void ov_tiler_free(struct ov_tiler *t);
/* Appends one leaf hash; every tile it completes goes to the sink at once, lowest level
 * first. Errors as ov_merkle_builder_append (the sink's error included). */
OV_MUST_CHECK int ov_tiler_append(struct ov_tiler *t, const uint8_t leaf[OV_HASH_LEN]);
/* Hands every partial tile of the current size not yet handed out to the sink: call it
 * before publishing a checkpoint. The sink's error is passed on (call again to retry). */
OV_MUST_CHECK int ov_tiler_flush(struct ov_tiler *t);
OV_MUST_CHECK int ov_tiler_root(const struct ov_tiler *t, uint8_t out[OV_HASH_LEN]);
uint64_t ov_tiler_size(const struct ov_tiler *t);

/* Splits bundle `in` into views of its entries (borrowing in). want = the expected number
 * of entries (the tile width), or 0 for any of 1..256. -OV_E_TOO_BIG (input over
 * OV_MAX_BUNDLE_LEN, more than 256 entries), -OV_E_TRUNCATED, -OV_E_MALFORMED (no entries,
 * or not `want` of them). On failure *n_entries = 0. */
OV_MUST_CHECK int ov_bundle_parse(struct ov_bytes in, unsigned want,
                                  struct ov_bytes entries[OV_TILE_WIDTH], size_t *n_entries);
/* Appends one entry's u16 length and bytes to b. -OV_E_TOO_BIG if len > 65535 or b is full;
 * b is unchanged on failure. */
OV_MUST_CHECK int ov_bundle_append(struct ov_buf *b, const uint8_t *entry, size_t len);
/* 0 iff bundle and level-0 tile both have `width` entries and entry j hashes to hash j.
 * ov_bundle_parse's errors, -OV_E_MALFORMED for a tile of the wrong length,
 * -OV_E_BAD_PROOF for a mismatch, -OV_E_CRYPTO. */
OV_MUST_CHECK int ov_bundle_check_tile(struct ov_bytes bundle, struct ov_bytes tile,
                                       unsigned width);

#endif
