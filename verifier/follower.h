/* follower: follows the log: contexts, the proof window, tallies */
#ifndef VF_FOLLOWER_H
#define VF_FOLLOWER_H

#include "app.h"

/* Loads the contexts and the reader's state the database remembers (before the committer
 * starts); then vf_follower_start starts following. */
OV_MUST_CHECK int vf_follower_init(struct vf_app *app);
OV_MUST_CHECK int vf_follower_start(struct vf_app *app);
void vf_follower_stop(struct vf_app *app);
/* The proof of index under the latest verified checkpoint: its note into note (initialised
 * here) and the proof. -OV_E_STATE when no checkpoint covers index yet (or, local_only,
 * when index is below the window: then the log is not asked); -OV_E_HTTP, -OV_E_BAD_PROOF
 * when an index below the window had to be proven by the log and failed. */
OV_MUST_CHECK int vf_follower_prove(struct vf_app *app, uint64_t index,
                                    const uint8_t hash[32], struct ov_buf *note, uint8_t *proof,
                                    size_t *n_proof, bool local_only);

#endif
