/* store: the auditor's state database (DIR/audit.db, SQLite, WAL). Everything a later run
 * needs to read only what is new: where the log reader stopped (its frontier) and the last
 * verified checkpoint, and the state of every rule (contexts, issuance counts per tag, spent
 * nonces, rated pairs, every counted action for recounts), plus every violation and fork
 * found. One run writes it in one transaction per checkpoint it follows, so a state never
 * holds entries whose tree was not checked against a signed checkpoint.
 *
 *   table       row                                          rule it serves
 *   meta        k, v: "vkey", "reader", "cp_note", "cp_size",  resume, bind to one log;
 *               "clock_entries", "clock_witnesses"            the clock (tally_missing)
 *   contexts    n, id, idx, entry (bytes), issuances, tokens,  every context rule
 *               actions, tags, tally_min
 *   issued      ctx, tag, n, idx: its first issuance          distinct tags per context
 *   serials     ctx, tag, n, idx: tags issued more than once  each (tag, n) once
 *   spent       ctx, nonce, idx                               each nonce counts once;
 *                                                             rating pseudonyms admitted
 *   rated       ctx, pseudonym, target, idx                   one rating per target
 *   rejected    ctx, pseudonym, idx                           ratings of a pseudonym whose
 *                                                             admitting token failed
 *   acts        ctx, idx, name, rating, tok, counted, stmt,   recounts, tokens vs issuances
 *               who (a statement round's pseudonym)
 *   stmts       ctx, id, pseudonym, idx: counted statements   a statement round (§11.3)
 *   tallies     idx, ctx, size, ok, results (JSON: a          published tallies checked
 *               statement round's recomputed summary)
 *   tree_leaves block, hashes: 256 leaf hashes                the root at a tally's size
 *   tree_nodes  level, idx, hash: subtrees of >= 256 leaves   (a seed, tree.h)
 *   violations  idx, rule, context, detail, run               the report
 *   forks       old/new size, root, note, detail, run         the report, with evidence
 *   counts      kind, n                                       entries by kind and route
 *   runs        run, started, from_size, to_size
 *   seen        size, root, note, verified, source            every signed checkpoint
 *                                                             seen, compared for forks
 *   sort_commits draw, party_key, party, commitment, idx      a draw's seed (sortition.c):
 *   sort_pools  id, idx, entry, ok                             the first valid commitment,
 *   sort_reveals draw, party_key, reveal, idx                  pool, reveal and draw of
 *   sort_draws  id, idx, entry, ok                             each; ok: no violation yet
 * Memory does not grow with the log: rows live in SQLite (page cache capped at 32 MiB, sorts
 * spilled to temporary files), only contexts are kept in memory. */
#ifndef AUDIT_STORE_H
#define AUDIT_STORE_H

#include "infra/db.h"

extern const struct ov_db_schema audit_store_schema;

/* Opens DIR/audit.db (created if missing) with the schema above. -OV_E_* as ov_db_open. */
OV_MUST_CHECK int audit_store_open(const char *dir, struct ov_db **out);

/* meta values. get: -OV_E_NOT_FOUND when unset; out is initialised here (max `max`). */
OV_MUST_CHECK int audit_meta_get(struct ov_db *db, const char *k, size_t max, struct ov_buf *out);
OV_MUST_CHECK int audit_meta_put(struct ov_db *db, const char *k, struct ov_bytes v);
OV_MUST_CHECK int audit_meta_get_u64(struct ov_db *db, const char *k, uint64_t *v);
OV_MUST_CHECK int audit_meta_put_u64(struct ov_db *db, const char *k, uint64_t v);

#endif
