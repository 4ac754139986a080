/* commit: the committer thread. Handlers queue checked actions (struct vf_item); the
 * committer takes every item queued meanwhile and decides them all in ONE SQLite
 * transaction (group commit: one fsync for the batch), in queue order:
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
 * be retried by its sender: every decision is idempotent). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "app.h"
#include "cbor.h"
#include "store.h"

struct vf_committer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct vf_item *head, *tail;
    bool stop;
    struct ov_db *db;
};

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

static int
bind_ctx_key(sqlite3_stmt *st, const char *context, const uint8_t *key, size_t key_len)
{
    int rc = ov_db_bind_text(st, 1, context, strlen(context));
    return rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(key, key_len));
}

/* A single-row lookup returning a row id: 1 found, 0 not, < 0 error. */
static int
lookup_row(sqlite3_stmt *st, int64_t *row)
{
    int rc = ov_db_step(st);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_int64(st, 0, row);
        rc = rc ? rc : 1;
    }
    ov_db_reset(st);
    return rc;
}

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

/* Inserts the outbox row for entry variant v. */
static int
insert_row(struct ov_db *db, struct vf_item *it, int v)
{
    sqlite3_stmt *st = ov_db_stmt(db, "entry_put");
    const struct ov_action *a = &it->a;
    const char *label = a->is_rating ? a->target : a->choice;
    int rc = ov_db_bind_blob(st, 1, OV_BYTES(it->hash[v], 32));
    rc = rc ? rc : ov_db_bind_blob(st, 2, ov_buf_view(&it->entry[v]));
    rc = rc ? rc : ov_db_bind_text(st, 3, a->context, strlen(a->context));
    rc = rc ? rc : ov_db_bind_blob(st, 4, OV_BYTES(it->ballot, 32));
    rc = rc ? rc : ov_db_bind_text(st, 5, label, strlen(label));
    rc = rc ? rc : (a->is_rating ? ov_db_bind_int64(st, 6, a->rating) : ov_db_bind_null(st, 6));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc != OV_DB_DONE) {
        return rc < 0 ? rc : -OV_E_DB;
    }
    it->row = sqlite3_last_insert_rowid(ov_db_handle(db));
    memcpy(it->row_hash, it->hash[v], 32);
    it->outcome = VF_COUNTED;
    return ov_buf_append(&it->row_entry, it->entry[v].ptr, it->entry[v].len);
}

static int
spend(struct ov_db *db, const struct vf_item *it)
{
    sqlite3_stmt *st = ov_db_stmt(db, "spent_put");
    int rc = bind_ctx_key(st, it->a.context, it->nonce, sizeof it->nonce);
    rc = rc ? rc : ov_db_bind_int64(st, 3, it->row);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
}

static int
commit_assembly(struct ov_db *db, struct vf_item *it)
{
    sqlite3_stmt *st = ov_db_stmt(db, "spent_get");
    int64_t row = 0;
    int rc = bind_ctx_key(st, it->a.context, it->nonce, sizeof it->nonce);
    rc = rc ? rc : lookup_row(st, &row);
    if (rc == 1) {
        return existing(db, it, row, VF_SPENT);
    }
    rc = rc ? rc : insert_row(db, it, 1);
    return rc ? rc : spend(db, it);
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
commit_rating(struct ov_db *db, struct vf_item *it)
{
    const struct ov_action *a = &it->a;
    sqlite3_stmt *st = ov_db_stmt(db, "spent_get");
    int64_t row = 0;
    int rc = bind_ctx_key(st, a->context, it->nonce, sizeof it->nonce);
    rc = rc ? rc : lookup_row(st, &row);
    if (rc < 0) {
        return rc;
    }
    bool admitted = rc == 1;
    if (!admitted && !a->has_token) {
        it->outcome = VF_UNKNOWN_PSEUDONYM;
        return 0;
    }
    st = ov_db_stmt(db, "rating_get");
    rc = bind_ctx_key(st, a->context, a->pseudonym, OV_PSEUDONYM_LEN);
    rc = rc ? rc : ov_db_bind_text(st, 3, a->target, strlen(a->target));
    rc = rc ? rc : lookup_row(st, &row);
    if (rc == 1) {
        return existing(db, it, row, VF_RATED);
    }
    rc = rc ? rc : target_room(db, it);
    if (rc == 0) {
        it->outcome = VF_TOO_MANY_TARGETS;
        return 0;
    }
    rc = rc < 0 ? rc : insert_row(db, it, admitted ? 0 : 1);
    if (rc == 0) {
        st = ov_db_stmt(db, "rating_put");
        rc = bind_ctx_key(st, a->context, a->pseudonym, OV_PSEUDONYM_LEN);
        rc = rc ? rc : ov_db_bind_text(st, 3, a->target, strlen(a->target));
        rc = rc ? rc : ov_db_bind_int64(st, 4, it->row);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
        rc = rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
    }
    return rc == 0 && !admitted ? spend(db, it) : rc;
}

struct batch {
    struct vf_item *items;
    uint64_t now;
};

/* The transaction: every item of the batch, in order. Repeatable (ov_db_tx may retry). */
static int
commit_batch(struct ov_db *db, void *arg)
{
    struct batch *b = arg;
    int rc = 0;
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
        rc = c->type == OV_CONTEXT_ASSEMBLY ? commit_assembly(db, it) : commit_rating(db, it);
    }
    return rc;
}

/* ---- the thread ------------------------------------------------------------------------ */

static void *
committer_main(void *arg)
{
    struct vf_app *app = arg;
    struct vf_committer *cm = app->committer;
    for (;;) {
        pthread_mutex_lock(&cm->mu);
        while (cm->head == NULL && !cm->stop) {
            pthread_cond_wait(&cm->cv, &cm->mu);
        }
        struct batch b = { cm->head, 0 };
        cm->head = cm->tail = NULL;
        bool stop = cm->stop;
        pthread_mutex_unlock(&cm->mu);
        if (b.items == NULL && stop) {
            break;
        }
        int rc = ov_db_tx(cm->db, commit_batch, &b);
        size_t counted = 0, dup = 0;
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
        vf_notify(app, VF_CH_COMMIT);
    }
    return NULL;
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
    pthread_mutex_init(&cm->mu, NULL);
    pthread_cond_init(&cm->cv, NULL);
    int rc = vf_store_open(app->dir, &cm->db);
    rc = rc ? rc : load_targets(app, cm->db);
    app->committer = cm;
    if (rc == 0 && pthread_create(&app->committer_th, NULL, committer_main, app) != 0) {
        rc = -OV_E_NOMEM;
    }
    if (rc != 0) {
        ov_db_close(cm->db);
        free(cm);
        app->committer = NULL;
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
    if (cm->tail != NULL) {
        cm->tail->next = it;
    } else {
        cm->head = it;
    }
    cm->tail = it;
    pthread_cond_signal(&cm->cv);
    pthread_mutex_unlock(&cm->mu);
    return 0;
}
