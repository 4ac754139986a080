/* bridging: Community Notes' bridging model made deterministic, so that anyone recomputes a
 * rating round's scores bit for bit from the log (docs/PROTOCOL.md §11.1 is the
 * specification). Algorithm "onevoice/bridging-mf/v1":
 *
 *   rating r (helpful 1, somewhat helpful 0.5, not helpful 0) ~ mu + i_u + i_n + f_u * f_n,
 *   one factor dimension, loss
 *     mean over ratings (r - prediction)^2 + 0.15 (mean i_u^2 + mean i_n^2 + mu^2)
 *                                          + 0.03 (mean f_u^2 + mean f_n^2)
 *   (the means over raters and over notes in the model, as Community Notes' code has it);
 *   1. the ratings ordered by (note, rater); notes with fewer than min_raters_per_note
 *      ratings dropped, then raters with fewer than min_ratings_per_rater of the rest, then
 *      notes again (once each, as Community Notes does);
 *   2. intercepts and mu start at 0, factors at uniform [-1, 1) values from ChaCha20 keyed
 *      by SHA-256("onevoice/v1/bridging-mf" || 0x00 || seed);
 *   3. alternating least squares: each sweep sets mu, then every rater's (i_u, f_u), then
 *      every note's (i_n, f_n) to the exact minimiser with the others fixed (a 2x2 solve),
 *      so the loss never rises; it stops when a sweep lowers the loss by at most 1e-12, or
 *      after OV_BRIDGE_MAX_ITERATIONS sweeps;
 *   4. factors negated when fewer raters' factors are negative than positive;
 *   5. a note is helpful when i_n >= 0.40 and |f_n| < 0.5, not helpful when
 *      i_n <= -0.05 - 0.8 |f_n|, otherwise (and when not in the model) needs more ratings.
 *
 * The caller gives raters and notes in their canonical order as indices 0..n-1: a round's
 * pseudonyms and statement ids, each by bytes ascending (the caller sorts), and leaves out
 * an author's ratings of their own statements. The ratings may come in any order. Every
 * number is IEEE-754 binary64 with every sum in a fixed order; bridging.c is compiled with
 * -ffp-contract=off (Makefile) and refuses -ffast-math. One thread. */
#ifndef OV_BRIDGING_H
#define OV_BRIDGING_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define OV_BRIDGE_ALGORITHM "onevoice/bridging-mf/v1"
#define OV_BRIDGE_SEED_LEN 32
#define OV_BRIDGE_MAX_RATERS 10000000u
#define OV_BRIDGE_MAX_NOTES 10000000u
#define OV_BRIDGE_MAX_RATINGS 200000000u
#define OV_BRIDGE_MAX_ITERATIONS 1000u
/* Defaults for an assembly of a few hundred: a note needs 10 raters (about 2 % of 447)
 * before its intercept says anything, a rater 5 ratings before their factor does. */
#define OV_BRIDGE_DEFAULT_MIN_RATINGS_PER_RATER 5u
#define OV_BRIDGE_DEFAULT_MIN_RATERS_PER_NOTE 10u

enum ov_bridge_status {
    OV_BRIDGE_NEEDS_MORE = 0,
    OV_BRIDGE_HELPFUL = 1,
    OV_BRIDGE_NOT_HELPFUL = 2,
};

/* One rating: at most one per (rater, note); value 1, 0.5 or 0. */
struct ov_bridge_rating {
    uint32_t rater;
    uint32_t note;
    double value;
};

/* The minimums (0 and 1 both mean none); written in the tally beside the result. */
struct ov_bridge_params {
    uint32_t min_ratings_per_rater;
    uint32_t min_raters_per_note;
};

struct ov_bridge_note {
    double intercept, factor;  /* 0 when not in the model */
    uint32_t n_ratings;        /* its ratings in the input */
    uint32_t n_used;           /* of them, in the model (0: not in the model) */
    uint8_t status;            /* enum ov_bridge_status */
};

struct ov_bridge_rater {
    double intercept, factor;  /* 0 when not in the model */
    uint32_t n_ratings, n_used;
};

struct ov_bridge_result {
    uint32_t n_raters, n_notes;
    struct ov_bridge_params params;
    uint32_t ratings_used, raters_used, notes_used;
    uint32_t iterations;       /* sweeps made */
    double mu, loss;           /* the loss of the parameters returned */
    struct ov_bridge_note *notes;    /* n_notes, in index order */
    struct ov_bridge_rater *raters;  /* n_raters, in index order */
};

/* The defaults above. */
void ov_bridge_params_default(struct ov_bridge_params *p);

/* Scores the ratings. No rating, or none left by the minimums, is a result too (nothing in
 * the model, every note needs more ratings). -OV_E_RANGE for a NULL argument (ratings may
 * be NULL when there are none), an index out of range, a value other than 1, 0.5 or 0, a
 * count over its OV_BRIDGE_MAX_*; -OV_E_CONFLICT for a (rater,
 * note) rated twice; -OV_E_NOMEM. *out is zeroed on failure; free it with
 * ov_bridge_result_free. */
OV_MUST_CHECK int ov_bridge_run(const struct ov_bridge_rating *ratings, size_t n_ratings,
                                uint32_t n_raters, uint32_t n_notes,
                                const struct ov_bridge_params *params,
                                const uint8_t seed[OV_BRIDGE_SEED_LEN],
                                struct ov_bridge_result *out);

void ov_bridge_result_free(struct ov_bridge_result *r);

/* The canonical bytes of a result (§11.1): big-endian integers, doubles as their IEEE-754
 * bits big-endian (-0 written as +0). *out is malloc'd; -OV_E_NOMEM. */
OV_MUST_CHECK int ov_bridge_encode(const struct ov_bridge_result *r, uint8_t **out,
                                   size_t *len);

/* SHA-256 of the canonical bytes. */
OV_MUST_CHECK int ov_bridge_digest(const struct ov_bridge_result *r, uint8_t digest[32]);

/* "helpful", "not_helpful", "needs_more_ratings"; "unknown" for anything else. */
const char *ov_bridge_status_name(int status);

#endif
