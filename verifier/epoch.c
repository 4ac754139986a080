#include "epoch.h"

#include <sodium.h>

#define NO_EPOCH UINT64_MAX
/* 28 random bits below the epoch number: epochs up to 2^34 keep places below 2^62, so
 * 1-second epochs last until the year 2514 (with 32 bits the cap was 2^30, which 1-second
 * epochs passed in 2004: every row was held for ever). store.c's migration 4 moved rows
 * placed with 32 bits. Ties (1 in 2^28 per pair) are sent by id. */
#define EPOCH_SHIFT 28
#define EPOCH_MAX (UINT64_C(1) << (62 - EPOCH_SHIFT))

static uint64_t
epoch_of(const struct vf_app *app, uint64_t now_s)
{
    uint64_t e = now_s / app->epoch_s;
    return e < EPOCH_MAX ? e : EPOCH_MAX - 1;
}

/* The epoch a row written at now_s goes in, and the last one chosen from now on. Caller
 * holds epoch_mu. */
static uint64_t
next_epoch(struct vf_app *app, uint64_t now_s)
{
    uint64_t e = epoch_of(app, now_s);
    e = e < app->epoch_floor ? app->epoch_floor : e; /* a clock set back */
    e = e < app->epoch_last ? app->epoch_last : e;   /* places rise with the row ids */
    app->epoch_last = e;
    return e;
}

uint64_t
vf_epoch_open(struct vf_app *app, uint64_t now_s)
{
    if (app->epoch_s == 0) {
        return 0;
    }
    pthread_mutex_lock(&app->epoch_mu);
    uint64_t e = next_epoch(app, now_s);
    app->epoch_writing = e;
    pthread_mutex_unlock(&app->epoch_mu);
    return e;
}

uint64_t
vf_epoch_now(struct vf_app *app)
{
    if (app->epoch_s == 0) {
        return 0;
    }
    pthread_mutex_lock(&app->epoch_mu);
    uint64_t e = next_epoch(app, vf_now());
    pthread_mutex_unlock(&app->epoch_mu);
    return e;
}

void
vf_epoch_close(struct vf_app *app)
{
    if (app->epoch_s == 0) {
        return;
    }
    pthread_mutex_lock(&app->epoch_mu);
    app->epoch_writing = NO_EPOCH;
    pthread_mutex_unlock(&app->epoch_mu);
}

int64_t
vf_epoch_place(const struct vf_app *app, uint64_t e)
{
    return app->epoch_s == 0 ? 0 : (int64_t)((e << EPOCH_SHIFT) |
                                        randombytes_uniform(UINT32_C(1) << EPOCH_SHIFT));
}

int64_t
vf_epoch_limit(struct vf_app *app)
{
    if (app->epoch_s == 0) {
        return INT64_MAX;
    }
    pthread_mutex_lock(&app->epoch_mu);
    uint64_t e = epoch_of(app, vf_now()); /* read under the lock: ordered with open's */
    e = app->epoch_writing < e ? app->epoch_writing : e;
    app->epoch_floor = e > app->epoch_floor ? e : app->epoch_floor;
    e = app->epoch_floor;
    pthread_mutex_unlock(&app->epoch_mu);
    return (int64_t)(e << EPOCH_SHIFT);
}
