/* commit: the committer thread, the database's one writer. Handlers queue checked actions
 * (struct vf_item); the committer takes every item queued meanwhile and decides them all in
 * ONE SQLite transaction (group commit: one fsync for the batch), in queue order:
 *
 *   assembly:  the token's (context, nonce) already spent?  the same ballot: its row
 *                                                            (duplicate), else token_spent
 *              else: insert the outbox row (the entry with its token), spend the nonce
 *   rating:    the pseudonym admitted before (spent (context, SHA-256(pseudonym)))?
 *              no and no token: unknown_pseudonym
 *              this pseudonym rated this target before? the same ballot: its row, else
 *              already_rated
 *              a target new to the round that would make its tally entry too big: refused
 *              else: insert the row (with the token when it admits the pseudonym), the
 *              rating, the admission
 *
 * Each item is also checked against its context's window at the batch's time, so nothing
 * is counted once the context closed (the tally writer relies on that: follower.c). The
 * transaction either commits every decision or none (each item then fails with 503 and may
 * be retried by its sender: every decision is idempotent).
 *
 * The sender's and the follower's writes run here too (vf_committer_run): the sender's
 * indices ride in the next batch's transaction. One writing connection keeps its page cache
 * (SQLite drops a connection's cache whenever another one wrote) and one fsync serves both. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "app.h"
#include "primitives/cbor.h"
#include "base/clock.h"
#include "store.h"

/* Work other threads hand the writer (vf_committer_run). */
struct vf_job {
    ov_db_tx_fn fn;
    void *ctx;
    bool merge; /* inside the next batch's transaction, else in a transaction of its own */
    bool done;
    int rc;
    struct vf_job *next;
};

/* A committed batch: its last queue position, and the highest row its actions need logged
 * (their new rows, or the earlier rows of duplicates; 0 for none). */
struct ready {
    uint64_t seq;
    uint64_t need_row;
};

#define VF_READY_MAX 4096 /* batches awaiting the log (beyond: woken by their deadline) */

struct vf_committer {
    pthread_mutex_t ready_mu; /* the ring below and the level */
    struct ready ring[VF_READY_MAX];
    size_t ring_head, ring_n;
    uint64_t ready_level;
    pthread_mutex_t mu;
    pthread_cond_t cv, job_cv;
    struct vf_item *head, *tail;
    struct vf_job *jobs;
    size_t n_queued;
    uint64_t next_seq;
    bool stop;
    struct ov_db *db;
};

/* Under load, a batch waits up to this long for VF_GATHER_MAX actions: one fsync (and one
 * write of each shared page) then serves more of them. */
#define VF_GATHER_US 1000
#define VF_GATHER_MAX 64

struct vf_item *
vf_item_new(void)
{
    struct vf_item *it = calloc(1, sizeof *it);
    if (it != NULL) {
        atomic_init(&it->refs, 1);
        atomic_init(&it->done, false);
        ov_buf_init(&it->entry[0], OV_MAX_CBOR_LEN);
        ov_buf_init(&it->entry[1], OV_MAX_CBOR_LEN);
        ov_buf_init(&it->row_entry, OV_MAX_CBOR_LEN);
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

/* ---- one item inside the transaction -------------------------------------------------- */

/* Loads an existing row into the item: the same ballot makes it a duplicate. */
static int
existing(struct ov_db *db, struct vf_item *it, int64_t row, enum vf_outcome other)
{
    sqlite3_stmt *st = ov_db_stmt(db, "entry_get");
    uint8_t ballot[32];
    struct ov_bytes e;
    int rc = ov_db_bind_int64(st, 1, row);
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_DONE) {
        rc = -OV_E_DB; /* a spend without its row: the schema's invariant broke */
    }
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_fixed(st, 2, ballot, sizeof ballot);
        rc = rc ? rc : ov_db_col_fixed(st, 0, it->row_hash, sizeof it->row_hash);
        rc = rc ? rc : ov_db_col_blob(st, 1, OV_MAX_CBOR_LEN, &e);
    }
    if (rc == 0 && memcmp(ballot, it->ballot, sizeof ballot) != 0) {
        it->outcome = other;
    } else if (rc == 0) {
        it->outcome = VF_DUPLICATE;
        it->row = row;
        it->row_indexed = !ov_db_col_is_null(st, 3);
        rc = it->row_indexed ? ov_db_col_uint64(st, 3, &it->row_index) : 0;
        rc = rc ? rc : ov_buf_append(&it->row_entry, e.ptr, e.len);
    }
    ov_db_reset(st);
    return rc;
}

/* Inserts the outbox row for entry variant v (1 carries the token and spends its nonce)
 * and records its keys. The caller checked that none of them is taken. */
static int
insert_row(struct vf_app *app, struct ov_db *db, struct vf_item *it, int v)
{
    sqlite3_stmt *st = ov_db_stmt(db, "action_put");
    const struct ov_action *a = &it->a;
    const char *label = a->is_rating ? a->target : a->choice;
    /* the item holds every bound byte until the reset below */
    int rc = ov_db_bind_blob_ref(st, 1, OV_BYTES(it->hash[v], 32));
    rc = rc ? rc : ov_db_bind_blob_ref(st, 2, ov_buf_view(&it->entry[v]));
    rc = rc ? rc : ov_db_bind_text_ref(st, 3, a->context, strlen(a->context));
    rc = rc ? rc : ov_db_bind_blob_ref(st, 4, OV_BYTES(it->ballot, 32));
    rc = rc ? rc : ov_db_bind_text_ref(st, 5, label, strlen(label));
    rc = rc ? rc : (a->is_rating ? ov_db_bind_int64(st, 6, a->rating) : ov_db_bind_null(st, 6));
    rc = rc ? rc
            : (v == 1 ? ov_db_bind_blob_ref(st, 7, OV_BYTES(it->nonce, 32)) : ov_db_bind_null(st, 7));
    rc = rc ? rc
            : (a->is_rating ? ov_db_bind_blob_ref(st, 8, OV_BYTES(a->pseudonym, OV_PSEUDONYM_LEN))
                            : ov_db_bind_null(st, 8));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc != OV_DB_DONE) {
        return rc < 0 ? rc : -OV_E_DB;
    }
    it->row = sqlite3_last_insert_rowid(ov_db_handle(db));
    memcpy(it->row_hash, it->hash[v], 32);
    it->outcome = VF_COUNTED;
    rc = vf_keys_add(app, it->row, a->context, it->hash[v], v == 1 ? it->nonce : NULL,
                     a->is_rating ? a->pseudonym : NULL, a->is_rating ? a->target : NULL);
    return rc ? rc : ov_buf_append(&it->row_entry, it->entry[v].ptr, it->entry[v].len);
}

/* The token spent before: by the same ballot (a duplicate) or another; else a new row. */
static int
commit_assembly(struct vf_app *app, struct ov_db *db, struct vf_item *it)
{
    int64_t row = 0;
    int rc = vf_keys_spent(app, db, it->a.context, it->nonce, &row);
    if (rc != 0) {
        return rc < 0 ? rc : existing(db, it, row, VF_SPENT);
    }
    return insert_row(app, db, it, 1);
}

/* A target the round has not seen: within the tally entry's budget? (1 yes, 0 no) */
static int
target_room(struct ov_db *db, struct vf_item *it)
{
    struct vf_context *c = it->ctx;
    sqlite3_stmt *st = ov_db_stmt(db, "target_get");
    size_t len = strlen(it->a.target);
    int rc = ov_db_bind_text(st, 1, it->a.context, strlen(it->a.context));
    rc = rc ? rc : ov_db_bind_text(st, 2, it->a.target, len);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc != OV_DB_DONE) {
        return rc < 0 ? rc : 1; /* known target */
    }
    /* per target: its text (head included) and [count, sum] (at most 19 bytes) */
    uint64_t cost = len + 3 + 19;
    if (c->n_targets + c->batch_targets + 1 > OV_MAX_TALLY_ITEMS ||
        c->target_bytes + c->batch_bytes + cost > VF_MAX_TALLY_BYTES) {
        return 0;
    }
    st = ov_db_stmt(db, "target_put");
    rc = ov_db_bind_text(st, 1, it->a.context, strlen(it->a.context));
    rc = rc ? rc : ov_db_bind_text(st, 2, it->a.target, len);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc != OV_DB_DONE) {
        return rc < 0 ? rc : -OV_E_DB;
    }
    c->batch_targets++;
    c->batch_bytes += cost;
    return 1;
}

static int
commit_rating(struct vf_app *app, struct ov_db *db, struct vf_item *it)
{
    int64_t row = 0;
    /* the pseudonym admitted before (its token spent)? Without a token it must have been */
    int rc = vf_keys_spent(app, db, it->a.context, it->nonce, &row);
    if (rc < 0 || (rc == 0 && !it->a.has_token)) {
        it->outcome = rc == 0 ? VF_UNKNOWN_PSEUDONYM : it->outcome;
        return rc < 0 ? rc : 0;
    }
    bool admitted = rc == 1;
    rc = vf_keys_rated(app, db, it->a.context, it->a.pseudonym, it->a.target, &row);
    if (rc != 0) {
        return rc < 0 ? rc : existing(db, it, row, VF_RATED);
    }
    rc = target_room(db, it);
    if (rc <= 0) {
        it->outcome = rc == 0 ? VF_TOO_MANY_TARGETS : it->outcome;
        return rc;
    }
    /* with its token, this rating admits the pseudonym, unless an earlier one did */
    return insert_row(app, db, it, admitted ? 0 : 1);
}

struct batch {
    struct vf_app *app;
    struct vf_item *items;
    struct vf_job *merged; /* jobs that ride in the batch's transaction */
    uint64_t now;
};

/* The transaction: the merged jobs, then every item of the batch, in order. Repeatable
 * (ov_db_tx may retry). */
static int
commit_batch(struct ov_db *db, void *arg)
{
    struct batch *b = arg;
    int rc = 0;
    for (struct vf_job *j = b->merged; j != NULL && rc == 0; j = j->next) {
        rc = j->fn(db, j->ctx);
    }
    /* the time is read inside the transaction, so a batch and the tally writer (which also
     * reads it inside its transaction) are ordered as their clocks are */
    b->now = vf_now();
    for (struct vf_item *it = b->items; it != NULL; it = it->next) {
        it->ctx->batch_targets = it->ctx->batch_bytes = 0;
    }
    for (struct vf_item *it = b->items; it != NULL && rc == 0; it = it->next) {
        const struct ov_context *c = &it->ctx->c;
        it->outcome = 0;
        it->row = 0;
        it->row_indexed = false;
        it->row_entry.len = 0;
        if (b->now < c->opens || b->now >= c->closes) {
            it->outcome = VF_CLOSED;
            continue;
        }
        rc = c->type == OV_CONTEXT_ASSEMBLY ? commit_assembly(b->app, db, it)
                                            : commit_rating(b->app, db, it);
    }
    return rc;
}

/* ---- the thread ------------------------------------------------------------------------ */

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

/* Runs the jobs that want a transaction of their own; returns the ones to merge. */
static struct vf_job *
run_jobs(struct vf_app *app, struct vf_committer *cm, struct vf_job *jobs)
{
    struct vf_job *merged = NULL, **tail = &merged;
    for (struct vf_job *j = jobs, *next; j != NULL; j = next) {
        next = j->next;
        if (j->merge) {
            j->next = NULL;
            *tail = j;
            tail = &j->next;
            continue;
        }
        int rc = ov_rowmap_tx(app->keys, cm->db, j->fn, j->ctx);
        pthread_mutex_lock(&cm->mu);
        j->rc = rc;
        j->done = true;
        pthread_cond_broadcast(&cm->job_cv);
        pthread_mutex_unlock(&cm->mu);
    }
    return merged;
}

/* Waits (mu held) until the queue has VF_GATHER_MAX actions or VF_GATHER_US passed. */
static void
gather(struct vf_committer *cm)
{
    struct timespec ts = ov_deadline_us(CLOCK_REALTIME, VF_GATHER_US);
    while (cm->n_queued < VF_GATHER_MAX && !cm->stop && cm->jobs == NULL) {
        if (pthread_cond_timedwait(&cm->cv, &cm->mu, &ts) != 0) {
            break;
        }
    }
}

static void *
committer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "vf-commit"); /* for top -H and perf */
    struct vf_app *app = arg;
    struct vf_committer *cm = app->committer;
    size_t last_batch = 0;
    for (;;) {
        pthread_mutex_lock(&cm->mu);
        while (cm->head == NULL && cm->jobs == NULL && !cm->stop) {
            pthread_cond_wait(&cm->cv, &cm->mu);
        }
        if (last_batch > 1 && cm->n_queued < VF_GATHER_MAX) {
            gather(cm); /* the last batch was not alone: more are on their way */
        }
        struct batch b = { app, cm->head, NULL, 0 };
        struct vf_job *jobs = cm->jobs;
        last_batch = cm->n_queued;
        cm->n_queued = 0;
        cm->head = cm->tail = NULL;
        cm->jobs = NULL;
        bool stop = cm->stop;
        pthread_mutex_unlock(&cm->mu);
        if (b.items == NULL && jobs == NULL && stop) {
            break;
        }
        b.merged = run_jobs(app, cm, jobs);
        int rc = b.items != NULL || b.merged != NULL
                     ? ov_rowmap_tx(app->keys, cm->db, commit_batch, &b)
                     : 0;
        pthread_mutex_lock(&cm->mu);
        for (struct vf_job *j = b.merged; j != NULL; j = j->next) {
            j->rc = rc;
            j->done = true;
        }
        pthread_cond_broadcast(&cm->job_cv);
        pthread_mutex_unlock(&cm->mu);
        size_t counted = 0, dup = 0;
        uint64_t last = 0, need_row = 0;
        for (struct vf_item *it = b.items, *next; it != NULL; it = next) {
            next = it->next;
            if (rc != 0) {
                it->outcome = VF_FAILED;
                it->err = rc;
            } else if (it->outcome == VF_COUNTED) {
                counted++;
            } else if (it->outcome == VF_DUPLICATE) {
                dup++;
            }
            if (rc == 0) {
                it->ctx->n_targets += it->ctx->batch_targets;
                it->ctx->target_bytes += it->ctx->batch_bytes;
                it->ctx->batch_targets = it->ctx->batch_bytes = 0;
            }
            last = it->seq;
            if (it->outcome == VF_COUNTED || (it->outcome == VF_DUPLICATE && !it->row_indexed)) {
                need_row = (uint64_t)it->row > need_row ? (uint64_t)it->row : need_row;
            }
            atomic_store(&it->done, true);
            vf_item_release(it);
        }
        if (rc != 0) {
            fprintf(stderr, "onevoice-verifier: commit failed: %s\n", ov_strerror(rc));
        }
        ov_counter_add(app->m_counted, counted);
        ov_counter_add(app->m_duplicate, dup);
        if (counted > 0) {
            vf_sender_kick(app);
        }
        if (last != 0) {
            ready_push(app, last, need_row);
        }
    }
    return NULL;
}

int
vf_committer_run(struct vf_app *app, ov_db_tx_fn fn, void *ctx, bool merge)
{
    struct vf_committer *cm = app->committer;
    struct vf_job j = { fn, ctx, merge, false, 0, NULL };
    pthread_mutex_lock(&cm->mu);
    if (cm->stop) {
        pthread_mutex_unlock(&cm->mu);
        return -OV_E_STATE;
    }
    struct vf_job **tail = &cm->jobs;
    while (*tail != NULL) {
        tail = &(*tail)->next;
    }
    *tail = &j;
    pthread_cond_signal(&cm->cv);
    while (!j.done) {
        pthread_cond_wait(&cm->job_cv, &cm->mu);
    }
    pthread_mutex_unlock(&cm->mu);
    return j.rc;
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
vf_committer_start(struct vf_app *app)
{
    struct vf_committer *cm = calloc(1, sizeof *cm);
    if (cm == NULL) {
        return -OV_E_NOMEM;
    }
    pthread_mutex_init(&cm->ready_mu, NULL);
    pthread_mutex_init(&cm->mu, NULL);
    pthread_cond_init(&cm->cv, NULL);
    pthread_cond_init(&cm->job_cv, NULL);
    int rc = vf_store_open(app->dir, &cm->db);
    rc = rc ? rc : load_targets(app, cm->db);
    rc = rc ? rc : vf_keys_load(app, cm->db);
    app->committer = cm;
    if (rc == 0 && pthread_create(&app->committer_th, NULL, committer_main, app) != 0) {
        rc = -OV_E_NOMEM;
    }
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
    pthread_mutex_lock(&cm->mu);
    cm->stop = true;
    pthread_cond_signal(&cm->cv);
    pthread_mutex_unlock(&cm->mu);
    pthread_join(app->committer_th, NULL);
    ov_db_close(cm->db);
    free(cm);
    app->committer = NULL;
    vf_keys_free(app);
}

int
vf_committer_submit(struct vf_app *app, struct vf_item *it)
{
    struct vf_committer *cm = app->committer;
    pthread_mutex_lock(&cm->mu);
    if (cm->stop) {
        pthread_mutex_unlock(&cm->mu);
        return -OV_E_STATE;
    }
    atomic_fetch_add(&it->refs, 1);
    it->next = NULL;
    it->seq = ++cm->next_seq;
    cm->n_queued++;
    if (cm->tail != NULL) {
        cm->tail->next = it;
    } else {
        cm->head = it;
    }
    cm->tail = it;
    if (cm->n_queued == 1 || cm->n_queued >= VF_GATHER_MAX) {
        pthread_cond_signal(&cm->cv); /* the first wakes it, a full batch ends its gathering */
    }
    pthread_mutex_unlock(&cm->mu);
    return 0;
}
