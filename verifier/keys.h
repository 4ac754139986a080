/* keys: the entries table's unique keys, in memory */
#ifndef VF_KEYS_H
#define VF_KEYS_H

#include "app.h"

/* Each token spends once per context (context, nonce), each pseudonym rates each target
 * once (context, pseudonym, label), each leaf hash names one row: kept in a core/rowmap
 * instead of UNIQUE indexes (whose random pages were most of the verifier's writes), built
 * from the table at start-up, written only by the committer's thread, which also decides
 * every spend: so one decision sees every earlier one. A lookup confirms its candidates
 * against the row. Every lookup returns 1 found (*row), 0 none, < 0 error. */

/* Builds app->keys from the table (before the committer and the HTTP threads start). */
OV_MUST_CHECK int vf_keys_load(struct vf_app *app, struct ov_db *db);
/* The keys of a new row (inside the transaction that inserts it, run by ov_rowmap_tx on
 * app->keys, so that a failed one leaves no key behind). nonce,
 * pseudonym and label may be NULL (a row that spends no token, rates nothing). */
OV_MUST_CHECK int vf_keys_add(struct vf_app *app, int64_t row, const char *context,
                              const uint8_t hash[32], const uint8_t *nonce,
                              const uint8_t *pseudonym, const char *label);
OV_MUST_CHECK int vf_keys_spent(struct vf_app *app, struct ov_db *db, const char *context,
                                const uint8_t nonce[32], int64_t *row);
OV_MUST_CHECK int vf_keys_rated(struct vf_app *app, struct ov_db *db, const char *context,
                                const uint8_t *pseudonym, const char *label, int64_t *row);
OV_MUST_CHECK int vf_keys_hash(struct vf_app *app, struct ov_db *db, const uint8_t hash[32],
                               int64_t *row);
void vf_keys_free(struct vf_app *app);

#endif
