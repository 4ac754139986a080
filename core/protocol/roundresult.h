/* roundresult: a statement round's results from its counted statements and ratings
 * (docs/PROTOCOL.md §11.3), in one place so that the verifier (a tally at close, provisional
 * results while open) and onevoice-audit (rule statement_results, from the log) compute them
 * the same way: the same canonical order, the same mapping of a kind's ratings, the same
 * refusals. Wraps protocol/bridging (§11.1) and protocol/groups (§11.2).
 *
 * The caller counts (§11.3 "What the tally counts": an author's ratings of their own
 * statements are not counted) and gives the seed (the log's root at the tally's size). */
#ifndef OV_ROUNDRESULT_H
#define OV_ROUNDRESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "protocol/bridging.h"
#include "protocol/entry.h"
#include "protocol/groups.h"

#define OV_ROUND_SEED_LEN 32

/* A counted rating, as the log has it: the rater's pseudonym, a statement id, the value on
 * the round's scale (helpfulness 0..2, agreement -1..1). */
struct ov_round_rating {
    uint8_t pseudonym[OV_PSEUDONYM_LEN];
    char statement[OV_STATEMENT_ID_LEN + 1];
    int64_t rating;
};

/* Statements and ratings in any order; the module sorts. */
struct ov_round_input {
    enum ov_rating_kind kind;       /* OV_RATING_HELPFULNESS or OV_RATING_AGREEMENT */
    const char (*statements)[OV_STATEMENT_ID_LEN + 1];  /* the counted statements' ids */
    size_t n_statements;
    const struct ov_round_rating *ratings;
    size_t n_ratings;
    uint8_t seed[OV_ROUND_SEED_LEN];
    struct ov_bridge_params params; /* the tally's minimums */
};

struct ov_roundresult {
    enum ov_rating_kind kind;
    uint8_t seed[OV_ROUND_SEED_LEN];
    size_t n_statements;
    char (*statements)[OV_STATEMENT_ID_LEN + 1]; /* bytes ascending: the algorithms' indices */
    size_t n_pseudonyms;
    uint8_t (*pseudonyms)[OV_PSEUDONYM_LEN];     /* those with a rating, bytes ascending */
    struct ov_bridge_result bridging;            /* always run, also on nothing */
    uint8_t bridging_hash[32];
    /* Groups run when there is a participant and a statement (a rating implies both):
     * otherwise groups is zeroed (k = 0) and groups_hash is SHA-256 of no bytes (§11.3). */
    bool groups_run;
    struct ov_groups_result groups;
    uint8_t groups_hash[32];
};

/* Computes both results. Refused: a kind that is not a statement round's, a count over the
 * algorithms' maximums (-OV_E_RANGE); an id that is not 32 lowercase hex digits
 * (-OV_E_MALFORMED); a statement id twice (-OV_E_CONFLICT); a rating of a statement not in
 * the list (-OV_E_NOT_FOUND), off the kind's scale (-OV_E_RANGE), or a second one by a
 * pseudonym of a statement (-OV_E_CONFLICT); -OV_E_NOMEM. *out is zeroed on failure; free it
 * with ov_roundresult_free. */
OV_MUST_CHECK int ov_roundresult_run(const struct ov_round_input *in, struct ov_roundresult *out);

void ov_roundresult_free(struct ov_roundresult *r);

/* What the tally entry carries (§11.3 "In the tally entry"): seed, minimums, both hashes,
 * helpful and not_helpful ids (sorted, malloc'd: ov_entry_clear frees them, else free()),
 * the group sizes, the first OV_TALLY_CONSENSUS_MAX ids of the consensus ranking. *out is
 * overwritten (zeroed on failure). -OV_E_RANGE when k or a list exceeds what an entry holds,
 * -OV_E_NOMEM. */
OV_MUST_CHECK int ov_roundresult_summary(const struct ov_roundresult *r,
                                         struct ov_tally_results *out);

/* The object {"seed", "bridging", "groups"} that GET /tallies/<context> shows beside
 * "result" (§11.3), to merge into the tally's object (json_object_update). NULL on failure
 * (memory). Reals are jansson's: 17 significant digits, enough to read back the same
 * double; -0 is shown as 0, as the result bytes write it. */
json_t *ov_roundresult_json(const struct ov_roundresult *r);

#endif
