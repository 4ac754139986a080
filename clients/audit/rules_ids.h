/* rules_ids: the stable, machine-readable ids of everything onevoice-audit reports
 * (clients/audit/README.md explains each). A report consumer branches on these ids, never on
 * the detail text; an id is never renamed or reused. */
#ifndef AUDIT_RULES_IDS_H
#define AUDIT_RULES_IDS_H

/* the log itself (no entry index) */
#define R_CHECKPOINT_SIGNATURE "checkpoint_signature"   /* not signed by the log's key */
#define R_CHECKPOINT_INVALID "checkpoint_invalid"       /* not a checkpoint of this log */
#define R_WITNESS_QUORUM "witness_quorum"               /* too few witness cosignatures */
#define R_TREE_MISMATCH "tree_mismatch"                 /* entries or tiles != signed root */
#define R_FORK "fork"                                   /* two signed, inconsistent trees */
/* entries */
#define R_ENTRY_MALFORMED "entry_malformed"
#define R_CONTEXT_INVALID "context_invalid"             /* token key or its id is wrong */
#define R_CONTEXT_DUPLICATE "context_duplicate"
#define R_CONTEXT_MISSING "context_missing"             /* used before it was announced */
#define R_QUOTA_EXCEEDED "quota_exceeded"               /* issuance number beyond 1..quota */
#define R_ISSUANCE_REPEATED "issuance_repeated"         /* (tag, n) issued twice */
#define R_TAGS_EXCEED "tags_exceed_enrollments"         /* more enrollees than enrollments */
#define R_TOKEN_MISSING "token_missing"
#define R_TOKEN_INVALID "token_invalid"
#define R_KEY_SWAPPED "key_swapped"                     /* under another context's key */
#define R_KEY_MISSING "key_missing"                     /* under a key the log never showed */
#define R_TOKEN_CHALLENGE "token_challenge"             /* issued for another context */
#define R_NONCE_BINDING "nonce_binding"                 /* nonce != SHA-256(pseudonym) */
#define R_ACTION_SIGNATURE "action_signature"
#define R_NONCE_REUSED "nonce_reused"
#define R_UNKNOWN_PSEUDONYM "unknown_pseudonym"
#define R_DOUBLE_RATING "double_rating"
#define R_INVALID_ACTION "invalid_action"
#define R_OUTSIDE_WINDOW "outside_window"
#define R_TOKENS_EXCEED "tokens_exceed_issuances"
#define R_TALLY_INVALID "tally_invalid"
#define R_TALLY_MISMATCH "tally_mismatch"
#define R_ACTION_AFTER_TALLY "action_after_tally"       /* beyond a tally's size */
#define R_TALLY_MISSING "tally_missing"                 /* closed, and no tally by now */
/* statement rounds (docs/PROTOCOL.md §11.3) */
#define R_STATEMENT_UNEXPECTED "statement_unexpected"   /* in a context that takes none */
#define R_STATEMENT_QUOTA "statement_quota"             /* its author wrote `statements` */
#define R_STATEMENT_DUPLICATE "statement_duplicate"     /* the id of a counted statement */
#define R_STATEMENT_CAP "statement_cap"                 /* the round has 512 already */
#define R_RATING_UNKNOWN_STATEMENT "rating_unknown_statement" /* no counted statement has it */
#define R_RATING_OWN_STATEMENT "rating_own_statement"   /* its author's rating, counted */
#define R_STATEMENT_RESULTS "statement_results"         /* != the results recomputed */
#define R_STATEMENT_RESULTS_FILE "statement_results_file" /* the log lacks a result file */
/* sortition: a draw pinned in the log (docs/PROTOCOL.md §10) */
#define R_COMMITMENT_SIGNATURE "commitment_signature"   /* not signed by its party_key */
#define R_COMMITMENT_LATE "commitment_late"             /* after the pool entry of its draw */
#define R_COMMITMENT_REPEATED "commitment_repeated"     /* a party's second commitment */
#define R_COMMITMENT_MISSING "commitment_missing"       /* a pool naming a party without one */
#define R_POOL_DUPLICATE "pool_duplicate"               /* a draw id announced twice */
#define R_POOL_INVALID "pool_invalid"                   /* entry and its own file disagree */
#define R_POOL_FILE_MISMATCH "pool_file_mismatch"       /* the file given is not the pool */
#define R_REVEAL_EARLY "reveal_early"                   /* before the pool entry */
#define R_REVEAL_LATE "reveal_late"                     /* at or after reveal_by */
#define R_REVEAL_MISMATCH "reveal_mismatch"             /* does not open a commitment */
#define R_SEED_WITHHELD "seed_withheld"                 /* reveal_by passed, a reveal missing */
#define R_DRAW_INVALID "draw_invalid"                   /* out of order, wrong shape */
#define R_DRAW_SEED "draw_seed"                         /* seed != the one of the reveals */
#define R_DRAW_MISMATCH "draw_mismatch"                 /* selection != the recomputation */
#define R_DRAW_QUOTA "draw_quota"                       /* the panel breaks a quota */
/* invitation codes (docs/PROTOCOL.md §3) */
#define R_INVITATIONS_TOTAL "invitations_total"         /* total != the earlier total + count */
#define R_INVITATIONS_NO_DRAW "invitations_without_draw" /* for a draw not logged before it */
#define R_INVITATIONS_EXCEED "invitations_exceed_draw"  /* more than the panel and reserves */
#define R_ENROLLMENTS_EXCEED "enrollments_exceed_invitations" /* invite route past the codes */

#endif
