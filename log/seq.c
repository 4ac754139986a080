#include "seq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/codec.h"
#include "infra/db.h"
#include "infra/metrics.h"
#include "store.h"
#include "primitives/tiles.h"
#include "witnesses.h"

#define TLOG_MAX_TICKET_BYTES (64u << 20)

struct tlog_seq {
    struct tlog_seq_cfg cfg;
    struct ov_db *db;     /* the sequencer thread's connection */
    struct ov_db *pub_db; /* the publisher thread's connection */
    struct ov_rowmap *hashes; /* every leaf hash's index (tlog_store_find) */

    /* sequencer state, owned by the sequencer thread */
    struct ov_tiler *tiler;
    struct ov_buf bundle; /* the partial entry bundle of the current size */
    unsigned bundle_width;
    uint64_t size;
    bool dirty; /* a failed transaction left the in-memory state ahead of the database */
    uint64_t next_expiry_ms; /* when expired nonces are next deleted */
    struct ov_gc *gc; /* the sequencer: one transaction for the tickets queued meanwhile */

    pthread_mutex_t mu;
    pthread_cond_t grown;   /* publisher: the committed tree grew, or stopping */
    bool stopping;
    uint64_t committed_size;
    uint8_t committed_root[OV_HASH_LEN];
    struct ov_buf published; /* the served checkpoint */
    uint64_t published_size;
    bool have_published;

    pthread_t pub_thread;
    bool pub_started;

    /* tlog_tree_size, tlog_checkpoint_size, tlog_checkpoint_timestamp_seconds: the tree
     * committed and the tree in the served checkpoint, apart for as long as the witnesses
     * do not cosign (docs/OPERATIONS.md, Monitoring) */
    struct ov_gauge *tree_g, *cp_size_g, *cp_time_g;
};

/* ---- tickets ---------------------------------------------------------------------- */

int
tlog_ticket_new(const struct ov_bytes *entries, size_t n, const uint8_t nonce[16],
                uint64_t expires_ms, struct tlog_ticket **out)
{
    *out = NULL;
    struct tlog_ticket *t = calloc(1, sizeof *t);
    if (t == NULL) {
        return -OV_E_NOMEM;
    }
    atomic_init(&t->refs, 1);
    atomic_init(&t->done, false);
    t->n = n;
    memcpy(t->nonce, nonce, sizeof t->nonce);
    t->expires_ms = expires_ms;
    ov_buf_init(&t->data, TLOG_MAX_TICKET_BYTES);
    t->entries = calloc(n, sizeof *t->entries);
    t->hashes = calloc(n, sizeof *t->hashes);
    t->indices = calloc(n, sizeof *t->indices);
    int rc = (t->entries && t->hashes && t->indices) ? 0 : -OV_E_NOMEM;
    size_t total = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        total += entries[i].len;
        rc = total > TLOG_MAX_TICKET_BYTES ? -OV_E_TOO_BIG : 0;
    }
    if (rc == 0) {
        rc = ov_buf_reserve(&t->data, total);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t off = t->data.len;
        rc = ov_buf_append(&t->data, entries[i].ptr, entries[i].len);
        if (rc == 0) {
            t->entries[i] = OV_BYTES(t->data.ptr + off, entries[i].len);
            rc = ov_merkle_leaf_hash(entries[i].ptr, entries[i].len, t->hashes[i]);
        }
    }
    if (rc != 0) {
        tlog_ticket_release(t);
        return rc;
    }
    *out = t;
    return 0;
}

void
tlog_ticket_release(struct tlog_ticket *t)
{
    if (t == NULL || atomic_fetch_sub(&t->refs, 1) != 1) {
        return;
    }
    ov_buf_clear(&t->data);
    free(t->entries);
    free(t->hashes);
    free(t->indices);
    free(t);
}

/* ---- the in-memory tree state, rebuilt from the database ------------------------- */

static int
tile_sink(void *ctx, const struct ov_tile *t, const uint8_t *hashes, size_t len)
{
    struct tlog_seq *s = ctx;
    if (t->level == 0 && t->width < OV_TILE_WIDTH) {
        return 0; /* the partial level-0 tile is read from the leaves themselves */
    }
    sqlite3_stmt *st = ov_db_stmt(s->db, "tile_put");
    int rc = ov_db_bind_int64(st, 1, t->level);
    if (rc == 0) {
        rc = ov_db_bind_uint64(st, 2, t->n);
    }
    if (rc == 0) {
        rc = ov_db_bind_uint64(st, 3, t->width);
    }
    if (rc == 0) {
        rc = ov_db_bind_blob(st, 4, OV_BYTES(hashes, len));
    }
    if (rc == 0) {
        rc = ov_db_step(st);
    }
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

/* Loads the tiler and the partial bundle for the committed head of s->db. */
static int
load_state(struct tlog_seq *s)
{
    uint8_t root[OV_HASH_LEN];
    struct ov_buf partial[OV_TILE_LEVELS];
    struct ov_bytes views[OV_TILE_LEVELS];
    for (int l = 0; l < OV_TILE_LEVELS; l++) {
        ov_buf_init(&partial[l], OV_TILE_MAX_LEN);
    }
    ov_tiler_free(s->tiler);
    s->tiler = NULL;
    ov_buf_clear(&s->bundle);
    s->bundle_width = 0;

    int rc = tlog_store_head(s->db, &s->size, root);
    for (int l = 0; l < OV_TILE_LEVELS && rc == 0; l++) {
        struct ov_tile t = { .level = l };
        uint64_t n_full;
        ov_tile_level_shape(s->size, l, &n_full, &t.width);
        t.n = n_full;
        if (t.width > 0) {
            rc = tlog_store_read_tile(s->db, &t, &partial[l]);
        }
        views[l] = ov_buf_view(&partial[l]);
    }
    if (rc == 0) {
        rc = ov_tiler_new(&s->tiler, s->size, views, tile_sink, s);
    }
    if (rc == 0 && s->size % OV_TILE_WIDTH != 0) {
        struct ov_tile b = { OV_TILE_ENTRIES, s->size / OV_TILE_WIDTH,
                             (unsigned)(s->size % OV_TILE_WIDTH) };
        rc = tlog_store_read_tile(s->db, &b, &s->bundle);
        s->bundle_width = b.width;
    }
    if (rc == 0) {
        uint8_t check[OV_HASH_LEN];
        rc = ov_tiler_root(s->tiler, check);
        if (rc == 0 && sodium_memcmp(check, root, OV_HASH_LEN) != 0) {
            rc = -OV_E_STATE; /* the tiles do not add up to the committed head */
        }
    }
    for (int l = 0; l < OV_TILE_LEVELS; l++) {
        ov_buf_clear(&partial[l]);
    }
    s->dirty = rc != 0;
    return rc;
}

/* ---- one batch, one transaction --------------------------------------------------- */

static int
put_bundle(struct tlog_seq *s, uint64_t n, unsigned width, struct ov_bytes data)
{
    sqlite3_stmt *st = ov_db_stmt(s->db, "bundle_put");
    int rc = ov_db_bind_uint64(st, 1, n);
    if (rc == 0) {
        rc = ov_db_bind_uint64(st, 2, width);
    }
    if (rc == 0) {
        rc = ov_db_bind_blob(st, 3, data);
    }
    if (rc == 0) {
        rc = ov_db_step(st);
    }
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

static int
append_one(struct tlog_seq *s, struct ov_bytes entry, const uint8_t hash[OV_HASH_LEN],
           uint64_t *idx)
{
    int rc = tlog_store_find(s->db, s->hashes, hash, idx);
    if (rc != -OV_E_NOT_FOUND) {
        return rc; /* already in the log (0), or an error */
    }
    sqlite3_stmt *st = ov_db_stmt(s->db, "leaf_insert");
    rc = ov_db_bind_uint64(st, 1, s->size);
    rc = rc ? rc : ov_db_bind_blob_ref(st, 2, OV_BYTES(hash, OV_HASH_LEN));
    rc = rc ? rc : ov_db_bind_blob_ref(st, 3, entry);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc < 0) {
        return rc;
    }
    rc = tlog_store_add_hash(s->hashes, hash, s->size);
    if (rc != 0) {
        return rc;
    }
    *idx = s->size;
    rc = ov_tiler_append(s->tiler, hash);
    if (rc == 0) {
        rc = ov_bundle_append(&s->bundle, entry.ptr, entry.len);
    }
    if (rc != 0) {
        return rc;
    }
    s->size++;
    if (++s->bundle_width == OV_TILE_WIDTH) {
        rc = put_bundle(s, *idx / OV_TILE_WIDTH, OV_TILE_WIDTH, ov_buf_view(&s->bundle));
        s->bundle.len = 0;
        s->bundle_width = 0;
    }
    return rc;
}

/* A producer added n new entries, the last at s->size - 1. */
static int
count_new(struct tlog_seq *s, const char *producer, uint64_t n)
{
    sqlite3_stmt *st = ov_db_stmt(s->db, "producer_add");
    int rc = ov_db_bind_text(st, 1, producer, strlen(producer));
    rc = rc ? rc : ov_db_bind_uint64(st, 2, n);
    rc = rc ? rc : ov_db_bind_uint64(st, 3, s->size - 1);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

/* The sequencer's transaction: every ticket of the batch, then the tiles and the head. */
static int
commit_batch(void *ctx, struct ov_db *db, struct ov_gc_job *jobs)
{
    struct tlog_seq *s = ctx;
    (void)db;
    int rc = 0;
    if (s->dirty) {
        rc = load_state(s); /* a retry starts again from what the database holds */
        if (rc != 0) {
            return rc;
        }
    }
    s->dirty = true;
    uint64_t now = ov_now_ms();
    for (struct ov_gc_job *j = jobs; j != NULL && rc == 0; j = j->next) {
        struct tlog_ticket *t = ov_gc_job_of(j, struct tlog_ticket, job);
        uint64_t before = s->size;
        for (size_t i = 0; i < t->n && rc == 0; i++) {
            rc = append_one(s, t->entries[i], t->hashes[i], &t->indices[i]);
        }
        if (rc == 0 && s->size > before && t->producer[0] != 0) {
            rc = count_new(s, t->producer, s->size - before);
        }
        sqlite3_stmt *st = ov_db_stmt(s->db, "nonce_put");
        if (rc == 0) {
            rc = ov_db_bind_blob(st, 1, OV_BYTES(t->nonce, sizeof t->nonce));
        }
        if (rc == 0) {
            rc = ov_db_bind_uint64(st, 2, t->expires_ms);
        }
        if (rc == 0) {
            rc = ov_db_step(st);
        }
        ov_db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0) {
        rc = ov_tiler_flush(s->tiler);
    }
    uint8_t root[OV_HASH_LEN];
    if (rc == 0) {
        rc = ov_tiler_root(s->tiler, root);
    }
    sqlite3_stmt *st = ov_db_stmt(s->db, "head_put");
    if (rc == 0) {
        rc = ov_db_bind_uint64(st, 1, s->size);
    }
    if (rc == 0) {
        rc = ov_db_bind_blob(st, 2, OV_BYTES(root, OV_HASH_LEN));
    }
    if (rc == 0) {
        rc = ov_db_step(st);
    }
    ov_db_reset(st);
    if (rc >= 0 && sqlite3_changes(ov_db_handle(s->db)) != 1) {
        rc = -OV_E_STATE; /* the stored head is larger: another writer on this database */
    }
    if (rc >= 0 && now >= s->next_expiry_ms) {
        st = ov_db_stmt(s->db, "nonce_expire"); /* at most once a second */
        rc = ov_db_bind_uint64(st, 1, now);
        if (rc == 0) {
            rc = ov_db_step(st);
        }
        ov_db_reset(st);
        s->next_expiry_ms = now + 1000;
    }
    return rc < 0 ? rc : 0;
}

/* After the batch's transaction: the committed tree for the publisher, each ticket's answer. */
static void
batch_done(void *ctx, struct ov_gc_job *jobs, int rc)
{
    struct tlog_seq *s = ctx;
    if (rc == 0) {
        s->dirty = false;
        uint8_t root[OV_HASH_LEN];
        if (ov_tiler_root(s->tiler, root) == 0) {
            pthread_mutex_lock(&s->mu);
            s->committed_size = s->size;
            memcpy(s->committed_root, root, OV_HASH_LEN);
            ov_gauge_set(s->tree_g, (int64_t)s->size);
            pthread_cond_signal(&s->grown);
            pthread_mutex_unlock(&s->mu);
        }
    } else {
        s->dirty = true;
    }
    for (struct ov_gc_job *j = jobs, *next; j != NULL; j = next) {
        next = j->next;
        struct tlog_ticket *t = ov_gc_job_of(j, struct tlog_ticket, job);
        t->err = rc;
        t->size = s->size;
        atomic_store(&t->done, true);
        tlog_ticket_release(t);
    }
    if (s->cfg.notify != NULL) {
        s->cfg.notify(s->cfg.notify_ctx, TLOG_EVENT_COMMIT);
    }
}

int
tlog_seq_submit(struct tlog_seq *s, struct tlog_ticket *t)
{
    atomic_fetch_add(&t->refs, 1);
    int rc = ov_gc_submit(s->gc, &t->job, NULL);
    if (rc != 0) {
        tlog_ticket_release(t);
    }
    return rc;
}

/* ---- the publisher ---------------------------------------------------------------- */

/* Signs, cosigns and stores the checkpoint for (size, root). 0, or an error to retry. */
static int
publish(struct tlog_seq *s, uint64_t size, const uint8_t root[OV_HASH_LEN])
{
    struct ov_checkpoint cp = { .size = size };
    struct ov_buf text, note, cosigs;
    const struct ov_note_signer *signers[1] = { s->cfg.key };
    cp.origin = OV_BYTES(s->cfg.origin, strlen(s->cfg.origin));
    memcpy(cp.root, root, OV_HASH_LEN);
    ov_buf_init(&cosigs, OV_NOTE_MAX_LEN);
    ov_buf_init(&note, OV_NOTE_MAX_LEN);
    int rc = ov_checkpoint_format(&cp, &text);
    if (rc == 0) {
        rc = ov_note_sign(ov_buf_view(&text), signers, 1, &note);
    }
    if (rc == 0 && s->cfg.witnesses != NULL) {
        rc = tlog_witnesses_cosign(s->cfg.witnesses, s->pub_db, ov_buf_view(&text),
                                   ov_buf_view(&note), size, &cosigs);
    }
    if (rc == 0) {
        rc = ov_buf_append(&note, cosigs.ptr, cosigs.len);
    }
    sqlite3_stmt *st = ov_db_stmt(s->pub_db, "published_put");
    if (rc == 0) {
        rc = ov_db_bind_uint64(st, 1, size);
    }
    if (rc == 0) {
        rc = ov_db_bind_blob(st, 2, OV_BYTES(root, OV_HASH_LEN));
    }
    if (rc == 0) {
        rc = ov_db_bind_text(st, 3, (const char *)note.ptr, note.len);
    }
    if (rc == 0) {
        rc = ov_db_step(st);
        rc = rc < 0 ? rc : 0;
    }
    ov_db_reset(st);
    if (rc == 0) {
        pthread_mutex_lock(&s->mu);
        struct ov_buf old = s->published;
        s->published = note;
        s->published_size = size;
        s->have_published = true;
        pthread_mutex_unlock(&s->mu);
        ov_gauge_set(s->cp_size_g, (int64_t)size);
        ov_gauge_set(s->cp_time_g, (int64_t)(ov_now_ms() / 1000));
        ov_buf_init(&note, 0);
        ov_buf_clear(&old);
    }
    ov_buf_clear(&text);
    ov_buf_clear(&note);
    ov_buf_clear(&cosigs);
    return rc;
}

/* Waits ms (the checkpoint interval), waking early only to stop: commits signal `grown`
 * much more often than a checkpoint may be signed. */
static void
sleep_ms(struct tlog_seq *s, uint32_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)ms * 1000000u;
    until.tv_sec += (time_t)(ns / 1000000000u);
    until.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&s->mu);
    while (!s->stopping && pthread_cond_timedwait(&s->grown, &s->mu, &until) == 0) {
    }
    pthread_mutex_unlock(&s->mu);
}

static void *
pub_main(void *arg)
{
    pthread_setname_np(pthread_self(), "log-publish"); /* for top -H and perf */
    struct tlog_seq *s = arg;
    /* The first round asks the witnesses even when the stored checkpoint covers the tree: a
     * log restored from an older backup learns at start, not at its next append, that a
     * witness cosigned more than it holds (the ALARM in witnesses.c, which stops appends). */
    bool recheck = s->cfg.witnesses != NULL;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->stopping && !recheck && s->have_published &&
               s->committed_size == s->published_size) {
            pthread_cond_wait(&s->grown, &s->mu);
        }
        bool stop = s->stopping && s->have_published && s->committed_size == s->published_size;
        uint64_t size = s->committed_size;
        uint8_t root[OV_HASH_LEN];
        memcpy(root, s->committed_root, OV_HASH_LEN);
        pthread_mutex_unlock(&s->mu);
        if (stop) {
            break;
        }
        int rc = publish(s, size, root);
        recheck = recheck && rc != 0;
        if (rc == 0 && s->cfg.notify != NULL) {
            s->cfg.notify(s->cfg.notify_ctx, TLOG_EVENT_CHECKPOINT);
        }
        if (rc != 0 && rc != -OV_E_STATE) { /* a quorum short: witnesses.c says which, and why */
            fprintf(stderr, "%s:%d: checkpoint %llu not published: %s\n", __FILE__, __LINE__,
                    (unsigned long long)size, ov_strerror(rc));
        }
        if (rc != 0) {
            pthread_mutex_lock(&s->mu);
            bool stopping = s->stopping;
            pthread_mutex_unlock(&s->mu);
            if (stopping) {
                break; /* a witness that cannot be reached must not block shutdown */
            }
        }
        sleep_ms(s, s->cfg.checkpoint_ms);
    }
    return NULL;
}

/* ---- start and stop --------------------------------------------------------------- */

/* The published checkpoint must describe a prefix of the committed tree. */
static int
check_published(struct tlog_seq *s)
{
    struct ov_buf note;
    uint64_t size = 0;
    uint8_t root[OV_HASH_LEN], want[OV_HASH_LEN];
    int rc = tlog_store_published(s->db, &note, &size, root);
    if (rc == -OV_E_NOT_FOUND) {
        return 0;
    }
    if (rc == 0 && size > s->size) {
        rc = -OV_E_STATE;
    }
    if (rc == 0) {
        struct ov_tile_src *src = malloc(sizeof *src);
        rc = src ? 0 : -OV_E_NOMEM;
        if (rc == 0) {
            ov_tile_src_init(src, size, tlog_store_tile_reader, s->db);
            struct ov_merkle_src m = ov_tile_src_merkle(src);
            rc = ov_merkle_root_from(&m, size, want);
            free(src);
        }
        if (rc == 0 && sodium_memcmp(want, root, OV_HASH_LEN) != 0) {
            rc = -OV_E_STATE;
        }
    }
    if (rc == 0) {
        s->published = note;
        s->published_size = size;
        s->have_published = true;
    } else {
        ov_buf_clear(&note);
        fprintf(stderr, "%s:%d: the database does not match the published checkpoint: %s\n",
                __FILE__, __LINE__, ov_strerror(rc));
    }
    return rc;
}

int
tlog_seq_start(const struct tlog_seq_cfg *cfg, struct tlog_seq **out)
{
    *out = NULL;
    struct tlog_seq *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return -OV_E_NOMEM;
    }
    s->cfg = *cfg;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->grown, NULL);
    ov_buf_init(&s->bundle, OV_MAX_BUNDLE_LEN);
    ov_buf_init(&s->published, 0);
    int rc = tlog_store_open(cfg->dir, &s->db);
    if (rc == 0) {
        /* The sequencer only appends: it needs the right edge of each B-tree, not the 64 MB
         * that tlog_store_open gives readers, which would fill with pages written once and
         * never read again (log_rss_1M read 46-108 MB with it, 34 MB with this). */
        rc = ov_db_exec(s->db, "PRAGMA cache_size = -2048");
    }
    if (rc == 0) {
        rc = tlog_store_open(cfg->dir, &s->pub_db);
    }
    if (rc == 0) {
        rc = load_state(s);
    }
    if (rc == 0) {
        rc = tlog_store_load_hashes(s->db, &s->hashes);
    }
    if (rc == 0) {
        rc = check_published(s);
    }
    if (rc == 0) {
        s->committed_size = s->size;
        rc = ov_tiler_root(s->tiler, s->committed_root);
    }
    if (rc == 0 && cfg->metrics != NULL &&
        (ov_metrics_gauge(cfg->metrics, "tlog_tree_size", "Entries committed", NULL,
                          &s->tree_g) != 0 ||
         ov_metrics_gauge(cfg->metrics, "tlog_checkpoint_size", "Entries in the served "
                          "checkpoint (signed, and cosigned by the witnesses' quorum)", NULL,
                          &s->cp_size_g) != 0 ||
         ov_metrics_gauge(cfg->metrics, "tlog_checkpoint_timestamp_seconds", "When the served "
                          "checkpoint was signed and cosigned (POSIX seconds; 0: before the "
                          "first since the start)", NULL, &s->cp_time_g) != 0)) {
        fprintf(stderr, "onevoice-log: checkpoint metrics unavailable\n");
    }
    ov_gauge_set(s->tree_g, (int64_t)s->committed_size);
    ov_gauge_set(s->cp_size_g, s->have_published ? (int64_t)s->published_size : 0);
    if (rc == 0) {
        /* the hashes a batch adds are undone with it, also between attempts */
        struct ov_gc_cfg gcfg = {
            .name = "log-seq",
            .db = s->db,
            .undo = s->hashes,
            .gather_us = cfg->batch_ms * 1000u,
            .gather_always = cfg->batch_ms > 0,
            .ctx = s,
            .run = commit_batch,
            .finish = batch_done,
            .metrics = cfg->metrics,
        };
        rc = ov_gc_start(&gcfg, &s->gc);
    }
    if (rc == 0) {
        rc = pthread_create(&s->pub_thread, NULL, pub_main, s) == 0 ? 0 : -OV_E_NOMEM;
        s->pub_started = rc == 0;
    }
    if (rc != 0) {
        tlog_seq_stop(s);
        return rc;
    }
    *out = s;
    return 0;
}

void
tlog_seq_stop(struct tlog_seq *s)
{
    if (s == NULL) {
        return;
    }
    ov_gc_stop(s->gc); /* finishes the queued batches first */
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->grown);
    pthread_mutex_unlock(&s->mu);
    if (s->pub_started) {
        pthread_join(s->pub_thread, NULL);
    }
    ov_tiler_free(s->tiler);
    ov_buf_clear(&s->bundle);
    ov_buf_clear(&s->published);
    ov_db_close(s->db);
    ov_db_close(s->pub_db);
    ov_rowmap_free(s->hashes);
    pthread_cond_destroy(&s->grown);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int
tlog_seq_published(struct tlog_seq *s, struct ov_buf *out, uint64_t *size)
{
    ov_buf_init(out, OV_NOTE_MAX_LEN);
    pthread_mutex_lock(&s->mu);
    int rc = s->have_published ? ov_buf_append(out, s->published.ptr, s->published.len)
                               : -OV_E_NOT_FOUND;
    *size = s->published_size;
    pthread_mutex_unlock(&s->mu);
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

int
tlog_seq_find(struct tlog_seq *s, struct ov_db *db, const uint8_t hash[OV_HASH_LEN],
              uint64_t *idx)
{
    return tlog_store_find(db, s->hashes, hash, idx);
}

uint64_t
tlog_seq_published_size(struct tlog_seq *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->published_size;
    pthread_mutex_unlock(&s->mu);
    return n;
}
