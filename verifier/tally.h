/* tally: the live count of each context and its tally entry */
#ifndef VF_TALLY_H
#define VF_TALLY_H

#include "app.h"

/* Adds one logged action to its context's live count (tally_mu held by the caller).
 * -OV_E_NOMEM, -OV_E_MALFORMED (not one of the context's choices). */
OV_MUST_CHECK int vf_tally_add(struct vf_context *c, const char *label, int64_t rating);
/* The JSON {"context","size","algorithm","result","final"[,"receipt"]} of c (tally_mu held). */
json_t *vf_tally_json(const struct vf_context *c, uint64_t size);
/* The tally entry of c counted at size (tally_mu held), encoded into out (initialised here). */
OV_MUST_CHECK int vf_tally_entry(const struct vf_context *c, uint64_t size, uint64_t time,
                                 struct ov_buf *out);

#endif
