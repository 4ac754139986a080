/* rules: the protocol's rules (docs/PROTOCOL.md §3, §7, §8), checked entry by entry in log
 * order from public data alone. Owns the in-memory contexts (each with its parsed token key
 * and TokenChallenge digest) and drives the state tables of store.h and the signature
 * workers of verify.h. Every violation found is written to the state's violations table
 * inside the caller's transaction, with its entry index and its stable rule id
 * (rules_ids.h); the caller commits once the log reader has checked the tree.
 *
 * What is checked, per entry:
 *   any        decodes strictly (core/protocol/entry)                         entry_malformed
 *   context    token_key is an RSA-2048 token key, token_key_id is   context_invalid
 *              its SHA-256; the id is announced once                  context_duplicate
 *   issuance   its context was announced before; its number n lies    context_missing
 *              in 1..quota; each (tag, n) once per context; no more   quota_exceeded
 *              distinct tags in a context than enrollments before     issuance_repeated
 *                                                                     tags_exceed_enrollments
 *   action     context announced before; a ballot or rating of the   context_missing
 *              context's type, a choice offered or a rating within    invalid_action
 *              the scale; time in [opens, closes)                     outside_window
 *              token: parses; token_key_id is the context's logged    token_invalid
 *              one (else another context's: key_swapped; none:        key_swapped
 *              key_missing); challenge_digest = SHA-256 of the        key_missing
 *              context's TokenChallenge; nonce = SHA-256(pseudonym);  token_challenge
 *              RSA-PSS verifies (worker); its nonce counts once per   nonce_binding
 *              context                                                nonce_reused
 *              no token: an assembly ballot always carries one; a     token_missing
 *              rating's (statement's) pseudonym is admitted by a      unknown_pseudonym
 *              token anywhere in [0, size) of the tally (§3: waits in
 *              the state until then; standing at the end of a read)
 *              rating: one per pseudonym and target                   double_rating
 *              signature by the pseudonym (worker)                    action_signature
 *              not at or beyond the size of a tally of its context    action_after_tally
 *   tally      context announced; algorithm fits its type; size <=    tally_invalid
 *              its own index; no action of the context in [size,      action_after_tally
 *              index); result = the recount of the context's valid    tally_mismatch
 *              actions among entries [0, size)
 *   statement  an action's rules (above), then in log order: the      statement_unexpected
 *              context takes statements; its author has fewer than    statement_quota
 *              `statements` counted; its id is no counted one's; the  statement_duplicate
 *              round has fewer than 512 (§11.3)                       statement_cap
 *   tally of   ratings otherwise valid in [0, size) of no statement   rating_unknown_statement
 *   a statement counted there, or of the rater's own: not counted     rating_own_statement
 *   round      the results recomputed (core/protocol/roundresult,     statement_results
 *              the root at size from tree.h) equal the logged ones;
 *              a statement round's tally has results, no other has;
 *              the log serves both result files (GET /files/<hash>,   statement_results_file
 *              once per tally) and they hash to the tally's values
 *   standing   per context, admitted tokens (those that verify) <=   tokens_exceed_issuances
 *              issuances, checked over the whole log read (issuer and
 *              verifier outboxes may log in either order, so only the
 *              totals count);
 *              a context closed for longer than the grace period by   tally_missing
 *              the clock (below) has a tally
 *   sortition  the entries of a draw pinned in the log: sortition.h
 * The recount counts the valid actions only: an action entry with no violation of its own
 * (its signature and token checked by the workers included), and no rating by a pseudonym
 * whose admitting token failed. Assembly: every choice listed, 0 included; ratings: per
 * target [count, sum]; a published tally may omit zero counts. The clock is the latest of
 * the entries' own times and the time a quorum of trusted witnesses signed (their
 * cosignature timestamps): public data anyone can re-check. */
#ifndef AUDIT_RULES_H
#define AUDIT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infra/db.h"
#include "protocol/entry.h"
#include "base/err.h"
#include "primitives/pp.h"
#include "verify.h"

#define AUDIT_NO_INDEX UINT64_MAX
/* Contexts are kept in memory (about 10 KiB each, their choices included): a log announcing
 * more cannot be audited in bounded memory, and the run stops with an error. */
#define AUDIT_MAX_CONTEXTS 100000

/* A context as the log announced it. */
struct audit_ctx {
    int64_t n;        /* its row in the state */
    uint64_t index;   /* its entry */
    struct ov_context c;
    bool key_ok;      /* token_key parsed and token_key_id is its SHA-256 */
    struct ov_pp_key key;
    uint8_t digest[OV_PP_DIGEST_LEN]; /* SHA-256 of its TokenChallenge */
    uint64_t issuances, tokens, actions;
    uint64_t tags;      /* distinct enrollee tags issued to */
    uint64_t tally_min; /* the smallest size a tally of it counted (AUDIT_NO_INDEX: none) */
};

/* Entries by kind, and enrollments by route. */
enum audit_count {
    AUDIT_N_CONTEXT,
    AUDIT_N_ENROLLMENT,
    AUDIT_N_ISSUANCE,
    AUDIT_N_ACTION,
    AUDIT_N_TALLY,
    AUDIT_N_MALFORMED,
    AUDIT_N_INVITE,
    AUDIT_N_REGISTRAR,
    AUDIT_N_ATTESTATION,
    AUDIT_N_RECOVERY,
    AUDIT_N_SORT_COMMIT, /* a draw pinned in the log (sortition.h) */
    AUDIT_N_SORT_POOL,
    AUDIT_N_SORT_REVEAL,
    AUDIT_N_SORT_DRAW,
    AUDIT_N_INVITATIONS,      /* invitations entries */
    AUDIT_N_INVITATION_CODES, /* the codes they announce, summed */
    AUDIT_N_STATEMENT,        /* statement entries (a statement round's, §11.3) */
    AUDIT_N_COUNTS
};
extern const char *const audit_count_names[AUDIT_N_COUNTS];

/* A violation that holds for the log as read so far, recomputed by every run (not stored). */
struct audit_standing {
    uint64_t index;
    const char *rule;
    const struct audit_ctx *ctx; /* NULL: not a context's; id names the draw */
    char id[OV_MAX_CONTEXT_ID_LEN + 1];
    char detail[AUDIT_DETAIL_MAX];
};

struct audit_rules;
struct audit_sort;

/* Records a violation of the entry at index (AUDIT_NO_INDEX: none) under rule, naming ctx
 * (a context or a draw id, or NULL); for the entry kinds checked outside rules.c. */
OV_MUST_CHECK int audit_violation(struct audit_rules *r, uint64_t index, const char *rule,
                                  const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Rules over the state db (borrowed), with n_threads signature workers, recording
 * violations under run number `run`; a context's tally is missing once the clock passes its
 * closing time by tally_grace seconds. Loads the contexts and counts already in the state.
 * -OV_E_NOMEM, -OV_E_DB, -OV_E_MALFORMED (a stored context that no longer decodes). */
OV_MUST_CHECK int audit_rules_new(struct ov_db *db, unsigned n_threads, int64_t run,
                                  uint64_t tally_grace, struct audit_rules **out);
void audit_rules_free(struct audit_rules *r);
/* Where the pool files of draws are found (sortition.h); the strings are borrowed. The
 * draws are checked again with them (-OV_E_NOMEM, -OV_E_DB). log also serves the statement
 * rounds' result files (NULL: not checked); a log that cannot be reached for one fails the
 * entry (-OV_E_HTTP), as a tile would. */
OV_MUST_CHECK int audit_rules_pool_sources(struct audit_rules *r, const char *dir,
                                           const char *url, const char *log);

/* Checks one entry (call in index order, inside the caller's transaction). Violations are
 * not errors: only a failing database or memory is (-OV_E_DB, -OV_E_NOMEM...). */
OV_MUST_CHECK int audit_rules_entry(struct audit_rules *r, uint64_t index, struct ov_bytes entry);
/* After the last entry of a sync: waits for the workers, records their findings, writes the
 * counters and recomputes the standing violations. Still inside the transaction. */
OV_MUST_CHECK int audit_rules_finish(struct audit_rules *r);
/* Whether the tree the rules rebuilt from the entries (tree.h: the statement rounds' seeds)
 * has the root the reader verified at size: 0, or -OV_E_STATE (our bug: nothing may be
 * saved). A tree unknown to the state (tree.h) is not checked. */
OV_MUST_CHECK int audit_rules_tree_check(struct audit_rules *r, uint64_t size,
                                         const uint8_t root[32]);
/* After the caller committed: what this run found so far is for good. */
void audit_rules_committed(struct audit_rules *r);
/* After the caller rolled back: forgets what the aborted sync changed in memory and reloads
 * from the state. */
OV_MUST_CHECK int audit_rules_reset(struct audit_rules *r);
/* The time a quorum of trusted witnesses vouched for (a checkpoint's witness_time): moves
 * the clock forward (stored) and recomputes the standing violations. */
OV_MUST_CHECK int audit_rules_witness_time(struct audit_rules *r, uint64_t t);
/* The clock's two sources and the grace period, for the report. */
void audit_rules_clock(const struct audit_rules *r, uint64_t *entries, uint64_t *witnesses,
                       uint64_t *grace);

/* Reading, for the report. */
size_t audit_rules_n_contexts(const struct audit_rules *r);
const struct audit_ctx *audit_rules_context(const struct audit_rules *r, size_t i);
const uint64_t *audit_rules_counts(const struct audit_rules *r);
size_t audit_rules_standing(const struct audit_rules *r, const struct audit_standing **out);
/* The draws pinned in the log, with their verdicts (sortition.h). */
const struct audit_sort *audit_rules_sort(const struct audit_rules *r);
/* Violations recorded by this run so far. */
uint64_t audit_rules_new_violations(const struct audit_rules *r);

/* The recount of ctx over entries [0, size), streamed in name order (bytewise) to fn
 * (plurality: every choice, 0 included; ratings: every rated target, [count, sum]), so a
 * round with millions of targets needs no memory. fn's non-zero result stops and is
 * returned; else -OV_E_DB or 0. */
typedef int (*audit_recount_fn)(void *arg, const char *name, uint64_t count, int64_t sum);
OV_MUST_CHECK int audit_rules_recount(struct audit_rules *r, const struct audit_ctx *ctx,
                                      uint64_t size, audit_recount_fn fn, void *arg);

#endif
