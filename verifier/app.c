/* app: shared state set-up, per-thread database connections, notifications. */
#include "app.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contexts.h"
#include "store.h"

int
vf_app_init(struct vf_app *app)
{
    if (ov_db_per_thread_init(&app->dbs, app->dir, vf_store_open) != 0 ||
        pthread_rwlock_init(&app->ctx_lock, NULL) != 0 ||
        pthread_rwlock_init(&app->tree_lock, NULL) != 0 ||
        pthread_mutex_init(&app->send_mu, NULL) != 0 ||
        pthread_cond_init(&app->send_cv, NULL) != 0 ||
        pthread_mutex_init(&app->tally_mu, NULL) != 0 ||
        pthread_mutex_init(&app->round_mu, NULL) != 0 ||
        pthread_mutex_init(&app->epoch_mu, NULL) != 0 ||
        pthread_cond_init(&app->round_cv, NULL) != 0) {
        return -OV_E_NOMEM;
    }
    ov_buf_init(&app->cp_note, OV_NOTE_MAX_LEN);
    app->epoch_writing = UINT64_MAX; /* epoch.h: no batch open */
    app->idx_ring = calloc(VF_IDX_RING, sizeof *app->idx_ring);
    return app->idx_ring ? 0 : -OV_E_NOMEM;
}

void
vf_idx_put(struct vf_app *app, uint64_t row, uint64_t index)
{
    struct vf_idx_slot *s = &app->idx_ring[row % VF_IDX_RING];
    atomic_store_explicit(&s->row, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&s->index, index, memory_order_relaxed);
    atomic_store_explicit(&s->row, row, memory_order_release);
}

bool
vf_idx_get(struct vf_app *app, uint64_t row, uint64_t *index)
{
    struct vf_idx_slot *s = &app->idx_ring[row % VF_IDX_RING];
    if (atomic_load_explicit(&s->row, memory_order_acquire) != row) {
        return false;
    }
    *index = atomic_load_explicit(&s->index, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&s->row, memory_order_relaxed) == row;
}

void
vf_app_clear(struct vf_app *app)
{
    for (size_t i = 0; i < app->ctx_cap; i++) {
        struct vf_context *c = app->ctx_tab[i];
        if (c != NULL) {
            vf_context_free(c);
        }
    }
    free(app->ctx_tab);
    free(app->idx_ring);
    ov_treewin_free(app->win);
    ov_buf_clear(&app->cp_note);
}

void
vf_notify(struct vf_app *app, unsigned channel, uint64_t level)
{
    struct ov_http *h = atomic_load(&app->http);
    if (h != NULL) {
        ov_http_notify_upto(h, channel, level);
    }
}

uint64_t
vf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec;
}
