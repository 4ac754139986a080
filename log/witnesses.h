/* witnesses: the log's side of C2SP tlog-witness. The log pushes each new checkpoint to
 * every configured witness (POST <url>/add-checkpoint with the consistency proof from the
 * size that witness last cosigned), checks the cosignature it gets back against the
 * witness's vkey, and publishes only when a quorum of witnesses cosigned.
 *
 * Configuration file: one witness per line, "<submission URL prefix> <vkey>", where the
 * vkey is a cosignature/v1 (type 0x04) verifier key; '#' starts a comment line. */
#ifndef TLOG_WITNESSES_H
#define TLOG_WITNESSES_H

#include <stdbool.h>
#include <stdint.h>

#include "base/bytes.h"
#include "infra/db.h"
#include "base/err.h"
#include "primitives/merkle.h"

#define TLOG_MAX_WITNESSES 16
#define TLOG_QUORUM_ALL UINT32_MAX /* every configured witness must cosign */

struct tlog_witnesses;

/* Reads the configuration; quorum is how many cosignatures a checkpoint needs (at most the
 * number of witnesses; TLOG_QUORUM_ALL for all of them). -OV_E_MALFORMED (with a message on stderr), -OV_E_IO, -OV_E_NOMEM. */
OV_MUST_CHECK int tlog_witnesses_load(const char *path, unsigned quorum,
                                      struct tlog_witnesses **out);
void tlog_witnesses_free(struct tlog_witnesses *w);
/* True once at least the quorum of witnesses (one at least) answered that they cosigned a
 * larger tree of this log than it holds: its history was lost or rolled back (a database
 * restored from an older backup), and an append would fork what they cosigned. One
 * witness alone, below the quorum, cannot stop the log. Any thread. */
bool tlog_witnesses_behind(struct tlog_witnesses *w);
unsigned tlog_witnesses_count(const struct tlog_witnesses *w);
/* The cosignatures a checkpoint needs (0 for NULL: a log without witnesses). */
unsigned tlog_witnesses_quorum(const struct tlog_witnesses *w);
/* Registers tlog_witness_quorum and, for each witness (labelled by its name),
 * tlog_witness_cosigned and tlog_witness_alarm, which the publisher then keeps up to date.
 * An error from ov_metrics_gauge; the metrics missing then, the log runs as before. */
struct ov_metrics;
OV_MUST_CHECK int tlog_witnesses_metrics(struct tlog_witnesses *w, struct ov_metrics *m);
/* Witness i's cosignature/v1 verifier key as configured, i < tlog_witnesses_count. */
const char *tlog_witnesses_vkey(const struct tlog_witnesses *w, unsigned i);
/* Why the latest checkpoint missed its quorum, in words (each witness that gave no
 * cosignature and what it answered), or "" when the last round reached it: for answers
 * that would otherwise only say "pending". Any thread. */
#define TLOG_WITNESSES_WHY_MAX 2208 /* what tlog_witnesses_why writes at most, its NUL included */
void tlog_witnesses_why(char *buf, size_t len);

/* Asks every witness to cosign the signed checkpoint `note` (whose text is `text`, for a
 * tree of `size` and `root` readable through db's tiles) and appends the verified
 * cosignature lines to cosigs. 0 when at least the quorum cosigned, else -OV_E_STATE
 * (cosigs then holds what was gathered). Only the publisher thread calls it. */
OV_MUST_CHECK int tlog_witnesses_cosign(struct tlog_witnesses *w, struct ov_db *db,
                                        struct ov_bytes text, struct ov_bytes note,
                                        uint64_t size, struct ov_buf *cosigs);

#endif
