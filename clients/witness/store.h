/* store: the witness's SQLite database (witness.db in the data directory, WAL,
 * synchronous=FULL): its schema, its statements, and the one transaction that decides
 * whether a checkpoint is cosigned.
 *
 * Tables (migration 1 in store.c):
 *   checkpoints(id, origin, size, root, note, cosigned_at, cosig)
 *       every checkpoint the witness accepted, one row per (origin, size): the signed note
 *       exactly as received (evidence of what the log signed), the time and line of the
 *       witness's latest cosignature on it. An origin's latest state is its row of largest
 *       size: sizes only grow, and a size is only ever cosigned with one root.
 *   refused(id, origin, size, root, old, reason, note, received_at)
 *       checkpoints correctly signed by a log that failed the consistency checks (a proof
 *       that does not verify, or a second root for the size last cosigned): possible
 *       evidence of a forked log (C2SP tlog-witness allows keeping them). One row per
 *       (origin, size, root), so replays cannot grow the table. */
#ifndef WITNESS_STORE_H
#define WITNESS_STORE_H

#include <stdint.h>

#include "base/bytes.h"
#include "infra/db.h"
#include "base/err.h"
#include "primitives/merkle.h"

/* Opens <dir>/witness.db (creating it and migrating). -OV_E_* as ov_db_open. */
OV_MUST_CHECK int witness_store_open(const char *dir, struct ov_db **out);

/* What witness_store_submit decided. */
enum witness_verdict {
    WITNESS_ACCEPTED,      /* stored (or re-cosigned): answer 200 */
    WITNESS_SIZE_MISMATCH, /* old is not the size last cosigned: 409 with stored_size */
    WITNESS_ROOT_MISMATCH, /* old == size == the size last cosigned, another root: 422 */
    WITNESS_BAD_PROOF,     /* the consistency proof does not verify: 422 */
};

/* One add-checkpoint request that passed every check needing no state. Views borrowed. */
struct witness_submission {
    struct ov_bytes origin;
    uint64_t old, size;
    const uint8_t *root; /* 32 bytes */
    const uint8_t *proof;
    size_t n_proof;
    struct ov_bytes note;  /* the signed note as received */
    struct ov_bytes cosig; /* the cosignature line to keep and hand out */
    uint64_t time;         /* the cosignature's timestamp */
    /* results */
    enum witness_verdict verdict;
    uint64_t stored_size; /* the size last cosigned before this request (0 if none) */
};

/* In ONE BEGIN IMMEDIATE transaction (ov_db_tx, committed with synchronous=FULL before this
 * returns): reads the origin's latest state, compares it with s->old, checks the root or the
 * consistency proof, and stores the new checkpoint (or the refusal). Fills s->verdict and
 * s->stored_size. Returns 0 whatever the verdict, or -OV_E_DB / -OV_E_DB_BUSY / -OV_E_NOMEM /
 * -OV_E_MALFORMED (a corrupt row), with nothing stored. */
OV_MUST_CHECK int witness_store_submit(struct ov_db *db, struct witness_submission *s);

/* The latest accepted checkpoint of origin: the note as received into note and the
 * cosignature line into cosig (both initialised here, cleared on failure). -OV_E_NOT_FOUND
 * before the first, -OV_E_MALFORMED for a corrupt row, -OV_E_DB, -OV_E_NOMEM. */
OV_MUST_CHECK int witness_store_latest(struct ov_db *db, struct ov_bytes origin,
                                       struct ov_buf *note, struct ov_buf *cosig);
/* At start: reads what requests will read (each origin's latest checkpoint, the last row of
 * each table), so damage there refuses the start instead of failing every request.
 * -OV_E_CORRUPT (said on stderr with the file), -OV_E_MALFORMED, -OV_E_DB, -OV_E_NOMEM. */
OV_MUST_CHECK int witness_store_check(struct ov_db *db);

#endif
