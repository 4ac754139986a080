/* quota: what the pool threads know, without reading the database, of an enrollee key's
 * standing in a context: how many tokens it holds there (at least) and whether it was
 * revoked. The writer notes both after each commit (writer.c); h_token.c asks before
 * the RSA and reads the database (store.h, issuer_store_state) only on a miss.
 *
 * Only ever a lower bound of the truth, so a refusal it leads to is never wrong: counts
 * only grow and a revocation is for good, and the writer notes them only once committed.
 * A stale entry costs at most one RSA the writer then refuses (and notes). It holds no
 * secret: public keys, context pointers (contexts.h: they stay valid) and numbers.
 *
 * A fixed table of 2^16 entries (about 3.7 MB), each slot one (key, context): a newer
 * pair takes an older one's slot, which then misses. Slots are chosen by SipHash under a
 * per-process random key, so nobody aims evictions at a slot. Any thread. */
#ifndef ISSUER_QUOTA_H
#define ISSUER_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "contexts.h"

struct issuer_quota;

/* -OV_E_NOMEM. */
OV_MUST_CHECK int issuer_quota_new(struct issuer_quota **out);
/* Accepts NULL. */
void issuer_quota_free(struct issuer_quota *q);

/* After a commit: key pk holds at least `issued` tokens in ctx; `revoked` once it is. */
void issuer_quota_note(struct issuer_quota *q, const uint8_t pk[32], const struct issuer_ctx *ctx,
                       uint64_t issued, bool revoked);
/* True when (pk, ctx) is held: *issued (a lower bound) and *revoked (true only if it is). */
bool issuer_quota_get(struct issuer_quota *q, const uint8_t pk[32], const struct issuer_ctx *ctx,
                      uint64_t *issued, bool *revoked);

#endif
