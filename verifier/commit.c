/* commit: the committer thread around the decision table (commit.h says what it does;
 * decide.c decides). The group-commit engine runs the batches; this file adds what the
 * verifier needs around them: an answer waits until the rows its batch needs are logged. */
#include "commit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "epoch.h"
#include "keys.h"
#include "primitives/cbor.h"
#include "sender.h"
#include "contexts.h"
#include "store.h"

/* A committed batch: its last queue position, and the highest row its actions need logged
 * (their new rows, or the earlier rows of duplicates; 0 for none). */
struct ready {
    uint64_t seq;
    uint64_t need_row;
};

#define VF_READY_MAX 4096 /* batches awaiting the log (beyond: woken by their deadline) */

/* Under load, a batch waits up to this long for VF_GATHER_MAX actions: one fsync (and one
 * write of each shared page) then serves more of them. */
#define VF_GATHER_US 1000
#define VF_GATHER_MAX 64

struct vf_committer {
    pthread_mutex_t ready_mu; /* the ring below and the level */
    struct ready ring[VF_READY_MAX];
    size_t ring_head, ring_n;
    uint64_t ready_level;
    struct ov_gc *gc;
    struct ov_db *db;
};

struct vf_item *
vf_item_new(void)
{
    struct vf_item *it = calloc(1, sizeof *it);
    if (it != NULL) {
        atomic_init(&it->refs, 1);
        atomic_init(&it->done, false);
        ov_buf_init(&it->entry[0], OV_MAX_ENTRY_LEN);
        ov_buf_init(&it->entry[1], OV_MAX_ENTRY_LEN);
        ov_buf_init(&it->row_entry, OV_MAX_ENTRY_LEN);
    }
    return it;
}

void
vf_item_release(struct vf_item *it)
{
    if (it == NULL || atomic_fetch_sub(&it->refs, 1) != 1) {
        return;
    }
    ov_buf_clear(&it->entry[0]);
    ov_buf_clear(&it->entry[1]);
    ov_buf_clear(&it->row_entry);
    free(it);
}

struct vf_item *
vf_item_next(const struct vf_item *it)
{
    return it->job.next != NULL ? ov_gc_job_of(it->job.next, struct vf_item, job) : NULL;
}

static struct vf_item *
first_item(struct ov_gc_job *jobs)
{
    return jobs != NULL ? ov_gc_job_of(jobs, struct vf_item, job) : NULL;
}

/* Pops the batches whose rows are logged (up to row) and wakes their actions. */
static void
ready_advance(struct vf_app *app, uint64_t row)
{
    struct vf_committer *cm = app->committer;
    uint64_t level = 0;
    pthread_mutex_lock(&cm->ready_mu);
    while (cm->ring_n > 0 && cm->ring[cm->ring_head].need_row <= row) {
        level = cm->ring[cm->ring_head].seq;
        cm->ring_head = (cm->ring_head + 1) % VF_READY_MAX;
        cm->ring_n--;
    }
    if (level > cm->ready_level) {
        cm->ready_level = level;
    } else {
        level = 0;
    }
    pthread_mutex_unlock(&cm->ready_mu);
    if (level != 0) {
        vf_notify(app, VF_CH_READY, level);
    }
}

void
vf_committer_logged(struct vf_app *app, uint64_t row)
{
    ready_advance(app, row);
}

/* A committed batch waits for its rows to be logged before its actions are answered. */
static void
ready_push(struct vf_app *app, uint64_t seq, uint64_t need_row)
{
    struct vf_committer *cm = app->committer;
    pthread_mutex_lock(&cm->ready_mu);
    if (cm->ring_n == VF_READY_MAX) {
        /* the log is far behind: let the oldest batch go; its actions answer at their
         * deadline with what they have, which is still correct */
        cm->ring_head = (cm->ring_head + 1) % VF_READY_MAX;
        cm->ring_n--;
    }
    cm->ring[(cm->ring_head + cm->ring_n) % VF_READY_MAX] = (struct ready){ seq, need_row };
    cm->ring_n++;
    pthread_mutex_unlock(&cm->ready_mu);
    ready_advance(app, atomic_load(&app->indexed_upto));
}

/* The batch's transaction. The time is read inside it, so a batch and the tally writer
 * (which also reads it inside its transaction) are ordered as their clocks are. */
static int
run_batch(void *ctx, struct ov_db *db, struct ov_gc_job *jobs)
{
    struct vf_app *app = ctx;
    uint64_t now = vf_now();
    if (jobs != NULL) {
        app->batch_epoch = vf_epoch_open(app, now); /* closed by batch_done */
    }
    return vf_decide(app, db, first_item(jobs), now);
}

/* After the transaction: counts, the round budgets, and each item answered once its rows
 * are logged. */
static void
batch_done(void *ctx, struct ov_gc_job *jobs, int rc)
{
    struct vf_app *app = ctx;
    size_t counted = 0, dup = 0, statements = 0;
    vf_epoch_close(app); /* committed or not, the sender may pass this batch's epoch */
    uint64_t last = 0, need_row = 0, new_row = 0;
    for (struct vf_item *it = first_item(jobs), *next; it != NULL; it = next) {
        next = vf_item_next(it);
        if (rc != 0) {
            it->outcome = VF_FAILED;
            it->err = rc;
        } else if (it->outcome == VF_COUNTED) {
            counted++;
            statements += it->a.is_statement;
            new_row = (uint64_t)it->row > new_row ? (uint64_t)it->row : new_row;
        } else if (it->outcome == VF_DUPLICATE) {
            dup++;
        }
        vf_decide_settle(it, rc == 0);
        last = it->seq;
        if (it->outcome == VF_COUNTED || (it->outcome == VF_DUPLICATE && !it->row_indexed)) {
            need_row = (uint64_t)it->row > need_row ? (uint64_t)it->row : need_row;
        }
        atomic_store(&it->done, true);
        vf_item_release(it);
    }
    ov_counter_add(app->m_counted, counted);
    ov_counter_add(app->m_duplicate, dup);
    ov_counter_add(app->m_statements, statements);
    if (counted > 0) {
        atomic_store(&app->committed_upto, new_row);
        vf_sender_kick(app);
    }
    if (last != 0) {
        /* with epochs, an answer cannot wait for the log (its epoch must end first): it is
         * given once committed, "pending" (docs/PROTOCOL.md §3.1) */
        ready_push(app, last, app->epoch_s > 0 ? 0 : need_row);
    }
}

int
vf_committer_run(struct vf_app *app, ov_db_tx_fn fn, void *ctx, bool merge)
{
    return ov_gc_call(app->committer->gc, fn, ctx, merge ? OV_GC_IN_BATCH : OV_GC_OWN_TX);
}

/* The targets each round already has (for the tally-size budget). */
static int
load_targets(struct vf_app *app, struct ov_db *db)
{
    sqlite3_stmt *st = ov_db_stmt(db, "target_sizes");
    int rc;
    while ((rc = ov_db_step(st)) == OV_DB_ROW) {
        struct ov_bytes id;
        int64_t n = 0, bytes = 0;
        char name[OV_MAX_CONTEXT_ID_LEN + 1];
        rc = ov_db_col_text(st, 0, OV_MAX_CONTEXT_ID_LEN, &id);
        rc = rc ? rc : ov_db_col_int64(st, 1, &n);
        rc = rc ? rc : ov_db_col_int64(st, 2, &bytes);
        if (rc != 0 || n < 0 || bytes < 0) {
            break;
        }
        memcpy(name, id.ptr, id.len);
        name[id.len] = 0;
        struct vf_context *c = vf_context_find(app, name);
        if (c != NULL) {
            c->n_targets = (uint64_t)n;
            c->target_bytes = (uint64_t)bytes + 22u * (uint64_t)n;
        }
    }
    ov_db_reset(st);
    return rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_MALFORMED);
}

int
vf_committer_start(struct vf_app *app, struct ov_metrics *m)
{
    struct vf_committer *cm = calloc(1, sizeof *cm);
    if (cm == NULL) {
        return -OV_E_NOMEM;
    }
    pthread_mutex_init(&cm->ready_mu, NULL);
    int rc = vf_store_open(app->dir, &cm->db);
    rc = rc ? rc : load_targets(app, cm->db);
    rc = rc ? rc : vf_keys_load(app, cm->db);
    app->committer = cm;
    struct ov_gc_cfg gcfg = {
        .name = "vf-commit",
        .db = cm->db,
        .undo = app->keys,
        .gather_max = VF_GATHER_MAX,
        .gather_us = VF_GATHER_US,
        .ctx = app,
        .run = run_batch,
        .finish = batch_done,
        .metrics = m,
    };
    rc = rc ? rc : ov_gc_start(&gcfg, &cm->gc);
    if (rc != 0) {
        ov_db_close(cm->db);
        free(cm);
        app->committer = NULL;
        vf_keys_free(app);
    }
    return rc;
}

void
vf_committer_stop(struct vf_app *app)
{
    struct vf_committer *cm = app->committer;
    if (cm == NULL) {
        return;
    }
    ov_gc_stop(cm->gc); /* finishes what is queued */
    ov_db_close(cm->db);
    pthread_mutex_destroy(&cm->ready_mu);
    free(cm);
    app->committer = NULL;
    vf_keys_free(app);
}

int
vf_committer_submit(struct vf_app *app, struct vf_item *it)
{
    atomic_fetch_add(&it->refs, 1);
    /* the engine's lock orders this with the batch that will read it->seq */
    int rc = ov_gc_submit(app->committer->gc, &it->job, &it->seq);
    if (rc != 0) {
        vf_item_release(it);
    }
    return rc;
}
