/* rowmap: an in-memory index from keys to the rows that hold them, in place of a UNIQUE
 * index on random keys (token nonces, leaf hashes). Such an index costs a write of one whole
 * B-tree page per insert (4 KiB of WAL, then 4 KiB again at the checkpoint, for a 32-byte
 * key): at thousands of rows a second that was most of what a server wrote. The rows stay
 * in an append-only table; their keys live here, rebuilt from the table at start-up.
 *
 * A key is stored as a 32-bit digest (SipHash under a random per-process secret: nobody can
 * aim collisions at it) beside a 32-bit row number, 8 bytes a slot. So a lookup yields
 * CANDIDATE rows: the caller confirms each one against the row itself, which is the truth;
 * with a million keys about one lookup in 4,000 meets a stranger's digest. The map is 64
 * tables, each doubling at 3/4 load: 11 to 22 bytes of memory per key, and while one table
 * doubles, its old copy, a 64th of the map.
 *
 * One writer and any number of readers at once (a reader-writer lock inside). The writer
 * may undo what it put since its last ov_rowmap_commit (ov_rowmap_rollback), so a failed
 * transaction leaves nothing behind. */
#ifndef OV_ROWMAP_H
#define OV_ROWMAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "infra/db.h"
#include "base/err.h"

#define OV_ROWMAP_KEY_MAX 1024 /* bytes of one key's parts, with their length prefixes */

struct ov_rowmap;

/* -OV_E_NOMEM. The caller owns *out. */
OV_MUST_CHECK int ov_rowmap_new(struct ov_rowmap **out);
/* Accepts NULL. */
void ov_rowmap_free(struct ov_rowmap *m);

/* The digest of a key: a tag naming its kind, then n parts, each length-prefixed (so no two
 * different keys share an encoding). -OV_E_TOO_BIG past OV_ROWMAP_KEY_MAX. */
OV_MUST_CHECK int ov_rowmap_key(const struct ov_rowmap *m, uint8_t tag,
                                const struct ov_bytes *parts, size_t n, uint32_t *key);

/* Records that `row` holds the key (a key may have several rows). -OV_E_NOMEM;
 * -OV_E_TOO_BIG for a row of 2^32 - 1 or more. */
OV_MUST_CHECK int ov_rowmap_put(struct ov_rowmap *m, uint32_t key, uint64_t row);
/* The candidate rows of a key, in no set order: up to max of them in rows[];
 * returns how many there are in all (more than max: call again with room for them). */
size_t ov_rowmap_find(struct ov_rowmap *m, uint32_t key, uint64_t *rows, size_t max);

/* What was put so far stays; a later rollback stops here. */
void ov_rowmap_commit(struct ov_rowmap *m);
/* Removes what was put since the last commit. */
void ov_rowmap_rollback(struct ov_rowmap *m);

/* Keys held (committed or not). */
size_t ov_rowmap_count(struct ov_rowmap *m);

/* ---- With the table the map indexes. */

/* The first candidate row of key that the statement st confirms: st is bound with the row
 * as parameter 1, then by bind (from 2 on), and confirms by yielding a row. 1 (and *row),
 * 0 when none does, or an error (-OV_E_STATE past 8 candidates: not by chance). */
OV_MUST_CHECK int ov_rowmap_confirm(struct ov_rowmap *m, uint32_t key, sqlite3_stmt *st,
                                    int (*bind)(sqlite3_stmt *st, const void *arg),
                                    const void *arg, uint64_t *row);
/* ov_db_tx(db, fn, ctx), what fn put in m kept when the transaction commits and undone when
 * it does not, also between ov_db_tx's own attempts. */
OV_MUST_CHECK int ov_rowmap_tx(struct ov_rowmap *m, struct ov_db *db, ov_db_tx_fn fn,
                               void *ctx);

#endif
