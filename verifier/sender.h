/* sender: appends the outbox rows to the log in batches and records their indices */
#ifndef VF_SENDER_H
#define VF_SENDER_H

#include "app.h"

OV_MUST_CHECK int vf_sender_start(struct vf_app *app);
void vf_sender_stop(struct vf_app *app);
/* Wakes the sender: there are new outbox rows. */
void vf_sender_kick(struct vf_app *app);

#endif
