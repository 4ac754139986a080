/* store: the log's SQLite database (log.db in the data directory): its schema, its
 * prepared statements, and reading tiles, bundles and the published checkpoint back.
 *
 * Tables (schema.sql style, migration 1 in store.c):
 *   leaves(idx, hash, data)        one row per entry: hash = RFC 9162 leaf hash, UNIQUE,
 *                                  so an entry appended twice keeps its first index; the
 *                                  partial level-0 tile and the partial bundle are read
 *                                  from here, so a batch writes each entry once
 *   tiles(level, n, width, data)   full hash tiles, and the partial tiles of levels >= 1
 *                                  (overwritten as they grow: their prefixes, the older
 *                                  partial tiles, never change)
 *   bundles(n, width, data)        full entry bundles
 *   head(size, root)               the tree as of the last committed batch
 *   published(size, root, note)    the checkpoint served at /checkpoint (cosignatures
 *                                  included)
 *   nonces(nonce, expires_ms)      append-request nonces, to refuse replays across restarts
 *   witnesses(vkey, size)          the last size each witness cosigned
 * The batch that adds entries writes their leaves, tiles, bundles and the new head in one
 * transaction (synchronous=FULL), so a checkpoint is only ever signed for durable data. */
#ifndef TLOG_STORE_H
#define TLOG_STORE_H

#include <stdint.h>

#include "base/bytes.h"
#include "infra/db.h"
#include "base/err.h"
#include "primitives/merkle.h"
#include "infra/rowmap.h"
#include "primitives/tiles.h"

extern const struct ov_db_schema tlog_store_schema;

/* Opens <dir>/log.db (creating it) with the log's schema. */
OV_MUST_CHECK int tlog_store_open(const char *dir, struct ov_db **out);

/* Reads tile t as it is at a tree of size `size` (which must contain t): the first
 * 32·t->width bytes of its row (or t->width entries of a bundle). -OV_E_NOT_FOUND when
 * the log has no such tile (yet), -OV_E_MALFORMED for a corrupt row. out: caller's. */
OV_MUST_CHECK int tlog_store_read_tile(struct ov_db *db, const struct ov_tile *t, struct ov_buf *out);

/* An ov_tile_read_fn over db (ctx = struct ov_db *), for ov_tile_src. */
int tlog_store_tile_reader(void *ctx, const struct ov_tile *t, uint8_t *out, size_t out_max,
                           size_t *out_len);

/* The committed head; size 0 and the empty root on a new log. */
OV_MUST_CHECK int tlog_store_head(struct ov_db *db, uint64_t *size, uint8_t root[OV_HASH_LEN]);

/* The published checkpoint note into out (initialised here): -OV_E_NOT_FOUND before the
 * first one. *size and root (either may be NULL) receive its tree. */
OV_MUST_CHECK int tlog_store_published(struct ov_db *db, struct ov_buf *out, uint64_t *size,
                                       uint8_t root[OV_HASH_LEN]);

/* The leaf hashes are indexed in memory (core/infra/rowmap), not by SQLite: an index of random
 * keys wrote a page per entry. The sequencer owns the map (built at start-up from every
 * leaf, added to as it appends, undone with a failed batch); any thread may look up. */
OV_MUST_CHECK int tlog_store_load_hashes(struct ov_db *db, struct ov_rowmap **out);
OV_MUST_CHECK int tlog_store_add_hash(struct ov_rowmap *hashes, const uint8_t hash[OV_HASH_LEN],
                                      uint64_t idx);
/* The index of the entry whose leaf hash is `hash` (confirmed on db): -OV_E_NOT_FOUND. */
OV_MUST_CHECK int tlog_store_find(struct ov_db *db, struct ov_rowmap *hashes,
                                  const uint8_t hash[OV_HASH_LEN], uint64_t *idx);

#endif
