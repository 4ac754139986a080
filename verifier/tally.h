/* tally: the live count of each context and its tally entry */
#ifndef VF_TALLY_H
#define VF_TALLY_H

#include "app.h"

/* Adds one logged action to its context's live count (tally_mu held by the caller).
 * -OV_E_NOMEM, -OV_E_MALFORMED (not one of the context's choices). */
OV_MUST_CHECK int vf_tally_add(struct vf_context *c, const char *label, int64_t rating);
/* A statement round's counted statement (its first count: -OV_E_MALFORMED for an id counted
 * already, a round full, a context that is no statement round), and a counted rating: in a
 * statement round kept for its results, and added to the count as vf_tally_add does. */
OV_MUST_CHECK int vf_tally_statement(struct vf_context *c, const char *id, const uint8_t *author,
                                     int64_t row);
OV_MUST_CHECK int vf_tally_rating(struct vf_context *c, const uint8_t *pseudonym,
                                  const char *target, int64_t rating);
/* Forgets the live count (a partial count must not stand), keeping what the tally entry
 * written says (final, its size, hash and seed). */
void vf_tally_reset(struct vf_context *c);
/* A statement round's counted statements and ratings, copied (tally_mu held) so that its
 * algorithms' input is built, and they run, without the lock. */
struct vf_round_copy {
    enum ov_rating_kind kind;
    struct vf_stmt *stmts;
    size_t n_stmts;
    struct ov_round_rating *ratings;
    size_t n_ratings;
};
OV_MUST_CHECK int vf_round_copy(const struct vf_context *c, struct vf_round_copy *cp);
/* The algorithms' input from a copy (no lock): the counted statements, and the counted
 * ratings of a counted statement by another pseudonym (§11.3); it consumes cp (on failure
 * too) and is freed by vf_round_input_free. */
OV_MUST_CHECK int vf_round_input(struct vf_round_copy *cp, const struct ov_bridge_params *params,
                                 const uint8_t seed[32], struct ov_round_input *in);
void vf_round_input_free(struct ov_round_input *in);
/* The JSON {"context","size","algorithm","result","final"[,"receipt"]} of c (tally_mu held). */
json_t *vf_tally_json(const struct vf_context *c, uint64_t size);
/* The tally entry of c counted at size (tally_mu held), with a statement round's results
 * (else NULL), encoded into out (initialised here). */
OV_MUST_CHECK int vf_tally_entry(const struct vf_context *c, uint64_t size, uint64_t time,
                                 const struct ov_tally_results *results, struct ov_buf *out);

#endif
