/* contexts: the contexts the log published, as the verifier knows them (an open-addressing table the follower appends to) */
#ifndef VF_CONTEXTS_H
#define VF_CONTEXTS_H

#include "app.h"

/* The context with this id, or NULL. The pointer stays valid for the app's life. */
struct vf_context *vf_context_find(struct vf_app *app, const char *id);
/* Registers a context entry read from the log at index. -OV_E_EXISTS when the id is known
 * (the first entry wins), -OV_E_MALFORMED when the entry is not a usable context (its
 * token key does not parse or does not hash to its key id), -OV_E_NOMEM. */
OV_MUST_CHECK int vf_context_add(struct vf_app *app, struct ov_bytes entry, uint64_t index,
                                 struct vf_context **out);
/* invalid_action: the action is one the context offers (a choice of an assembly, a rating
 * within the scale of a rating round). */
bool vf_action_valid(const struct vf_context *c, const struct ov_action *a);
/* bad_token: a type-2 Token under the context's logged key, for its challenge (RSA). */
bool vf_token_valid(const struct vf_context *c, const struct ov_action *a);
/* Calls fn for every context (under the read lock; fn must not add contexts). */
void vf_context_each(struct vf_app *app, void (*fn)(void *ctx, struct vf_context *c), void *ctx);

#endif
