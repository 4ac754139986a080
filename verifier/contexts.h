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
/* Registers c (its id new: else -OV_E_EXISTS; -OV_E_NOMEM), the app's from now on. */
OV_MUST_CHECK int vf_context_register(struct vf_app *app, struct vf_context *c);
/* Frees a context (the app's, at its end). */
void vf_context_free(struct vf_context *c);
/* Whether c is a statement round (a rating round with a rating_kind, §11.3). */
bool vf_statement_round(const struct vf_context *c);
/* The statement with this id among v[0, n), or NULL. */
const struct vf_stmt *vf_stmt_find(const struct vf_stmt *v, size_t n, const char *id);
/* How many of v[0, n) author wrote. */
size_t vf_stmt_count_by(const struct vf_stmt *v, size_t n, const uint8_t *author);
/* invalid_action: the action is one the context offers (a choice of an assembly, a rating
 * within the scale of a rating round, a statement in a statement round that takes them). */
bool vf_action_valid(const struct vf_context *c, const struct ov_action *a);
/* bad_token: a type-2 Token under the context's logged key, for its challenge (RSA). */
bool vf_token_valid(const struct vf_context *c, const struct ov_action *a);
/* Calls fn for every context (under the read lock; fn must not add contexts). */
void vf_context_each(struct vf_app *app, void (*fn)(void *ctx, struct vf_context *c), void *ctx);

#endif
