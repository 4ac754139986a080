/* rowmap: see rowmap.h. Open addressing with linear probing over 8-byte (digest, row + 1)
 * slots; a stored row of 0 marks an empty slot. The digest is a keyed PRF output, so its
 * bits serve directly: the top ones pick a segment, the low ones the home slot in it.
 * Removal shifts the rest of its cluster back, so lookups never meet tombstones. */
#include "infra/rowmap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

struct slot {
    uint32_t key;
    uint32_t row1; /* the row + 1; 0: empty */
};

/* One open-addressing table. The map is split into SEGMENTS of them by the key's top bits,
 * each doubling on its own: while one doubles, its old copy is 1/SEGMENTS of the map. */
struct segment {
    struct slot *slots;
    size_t mask; /* capacity - 1; the capacity is a power of two */
    size_t count;
};

#define SEGMENT_BITS 6
#define SEGMENTS (1u << SEGMENT_BITS)
#define INITIAL_CAPACITY 64 /* per segment */

struct ov_rowmap {
    pthread_rwlock_t lock;
    uint8_t secret[crypto_shorthash_KEYBYTES];
    struct segment seg[SEGMENTS];
    size_t count;
    struct slot *undo; /* put since the last commit */
    size_t n_undo, cap_undo;
};

static struct segment *
segment_of(struct ov_rowmap *m, uint32_t key)
{
    return &m->seg[key >> (32 - SEGMENT_BITS)];
}

int
ov_rowmap_new(struct ov_rowmap **out)
{
    struct ov_rowmap *m = calloc(1, sizeof *m);
    *out = NULL;
    if (m == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = pthread_rwlock_init(&m->lock, NULL) == 0 ? 0 : -OV_E_NOMEM;
    for (size_t i = 0; i < SEGMENTS && rc == 0; i++) {
        m->seg[i].slots = calloc(INITIAL_CAPACITY, sizeof *m->seg[i].slots);
        m->seg[i].mask = INITIAL_CAPACITY - 1;
        rc = m->seg[i].slots != NULL ? 0 : -OV_E_NOMEM;
    }
    if (rc != 0) {
        ov_rowmap_free(m);
        return rc;
    }
    crypto_shorthash_keygen(m->secret);
    *out = m;
    return 0;
}

void
ov_rowmap_free(struct ov_rowmap *m)
{
    if (m == NULL) {
        return;
    }
    pthread_rwlock_destroy(&m->lock);
    sodium_memzero(m->secret, sizeof m->secret);
    for (size_t i = 0; i < SEGMENTS; i++) {
        free(m->seg[i].slots);
    }
    free(m->undo);
    free(m);
}

int
ov_rowmap_key(const struct ov_rowmap *m, uint8_t tag, const struct ov_bytes *parts, size_t n,
              uint32_t *key)
{
    uint8_t buf[OV_ROWMAP_KEY_MAX], digest[crypto_shorthash_BYTES];
    size_t len = 0;
    *key = 0;
    buf[len++] = tag;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len > 0xffff || parts[i].len + 2 > sizeof buf - len) {
            return -OV_E_TOO_BIG;
        }
        buf[len++] = (uint8_t)(parts[i].len >> 8);
        buf[len++] = (uint8_t)parts[i].len;
        if (parts[i].len > 0) {
            memcpy(buf + len, parts[i].ptr, parts[i].len);
            len += parts[i].len;
        }
    }
    crypto_shorthash(digest, buf, len, m->secret);
    *key = (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 | (uint32_t)digest[2] << 8 |
           digest[3];
    return 0;
}

/* Places a slot in a segment known to have room (lock held). */
static void
place(struct segment *g, struct slot s)
{
    size_t i = (size_t)s.key & g->mask;
    while (g->slots[i].row1 != 0) {
        i = (i + 1) & g->mask;
    }
    g->slots[i] = s;
}

/* Doubles a segment (lock held). */
static int
grow(struct segment *g)
{
    struct segment bigger = { calloc((g->mask + 1) * 2, sizeof *g->slots), g->mask * 2 + 1, 0 };
    if (bigger.slots == NULL) {
        return -OV_E_NOMEM;
    }
    for (size_t i = 0; i <= g->mask; i++) {
        if (g->slots[i].row1 != 0) {
            place(&bigger, g->slots[i]);
        }
    }
    free(g->slots);
    g->slots = bigger.slots;
    g->mask = bigger.mask;
    return 0;
}

int
ov_rowmap_put(struct ov_rowmap *m, uint32_t key, uint64_t row)
{
    if (row >= UINT32_MAX) {
        return -OV_E_TOO_BIG;
    }
    int rc = 0;
    struct slot s = { key, (uint32_t)row + 1 };
    pthread_rwlock_wrlock(&m->lock);
    struct segment *g = segment_of(m, key);
    if (m->n_undo == m->cap_undo) {
        size_t cap = m->cap_undo ? 2 * m->cap_undo : 64;
        struct slot *u = realloc(m->undo, cap * sizeof *u);
        if (u == NULL) {
            rc = -OV_E_NOMEM;
        } else {
            m->undo = u;
            m->cap_undo = cap;
        }
    }
    if (rc == 0 && (g->count + 1) * 4 > (g->mask + 1) * 3) {
        rc = grow(g);
    }
    if (rc == 0) {
        place(g, s);
        g->count++;
        m->count++;
        m->undo[m->n_undo++] = s;
    }
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

size_t
ov_rowmap_find(struct ov_rowmap *m, uint32_t key, uint64_t *rows, size_t max)
{
    size_t n = 0;
    pthread_rwlock_rdlock(&m->lock);
    const struct segment *g = segment_of(m, key);
    for (size_t i = (size_t)key & g->mask; g->slots[i].row1 != 0; i = (i + 1) & g->mask) {
        if (g->slots[i].key == key) {
            if (n < max) {
                rows[n] = g->slots[i].row1 - 1;
            }
            n++;
        }
    }
    pthread_rwlock_unlock(&m->lock);
    return n;
}

void
ov_rowmap_commit(struct ov_rowmap *m)
{
    pthread_rwlock_wrlock(&m->lock);
    m->n_undo = 0;
    pthread_rwlock_unlock(&m->lock);
}

/* Removes one slot equal to s, shifting the rest of its cluster back (lock held): each
 * later slot moves into the hole unless its home lies cyclically in (hole, itself]. */
static void
remove_slot(struct ov_rowmap *m, struct slot s)
{
    struct segment *g = segment_of(m, s.key);
    size_t i = (size_t)s.key & g->mask;
    while (g->slots[i].row1 != 0 && (g->slots[i].key != s.key || g->slots[i].row1 != s.row1)) {
        i = (i + 1) & g->mask;
    }
    if (g->slots[i].row1 == 0) {
        return;
    }
    size_t hole = i;
    for (size_t j = (hole + 1) & g->mask; g->slots[j].row1 != 0; j = (j + 1) & g->mask) {
        size_t home = (size_t)g->slots[j].key & g->mask;
        if (((j - home) & g->mask) >= ((j - hole) & g->mask)) {
            g->slots[hole] = g->slots[j];
            hole = j;
        }
    }
    g->slots[hole] = (struct slot){ 0, 0 };
    g->count--;
    m->count--;
}

void
ov_rowmap_rollback(struct ov_rowmap *m)
{
    pthread_rwlock_wrlock(&m->lock);
    for (size_t i = 0; i < m->n_undo; i++) {
        remove_slot(m, m->undo[i]);
    }
    m->n_undo = 0;
    pthread_rwlock_unlock(&m->lock);
}

size_t
ov_rowmap_count(struct ov_rowmap *m)
{
    pthread_rwlock_rdlock(&m->lock);
    size_t n = m->count;
    pthread_rwlock_unlock(&m->lock);
    return n;
}

int
ov_rowmap_confirm(struct ov_rowmap *m, uint32_t key, sqlite3_stmt *st,
                  int (*bind)(sqlite3_stmt *st, const void *arg), const void *arg, uint64_t *row)
{
    uint64_t cand[8];
    size_t n = ov_rowmap_find(m, key, cand, 8);
    *row = 0;
    if (n > 8) {
        return -OV_E_STATE; /* nine rows under one secret 32-bit digest: not by chance */
    }
    for (size_t i = 0; i < n; i++) {
        int rc = ov_db_bind_uint64(st, 1, cand[i]);
        rc = rc ? rc : bind(st, arg);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
        if (rc == OV_DB_ROW) {
            *row = cand[i];
            return 1;
        }
        if (rc != OV_DB_DONE) {
            return rc < 0 ? rc : -OV_E_DB;
        }
    }
    return 0;
}

struct rowmap_tx {
    struct ov_rowmap *m;
    ov_db_tx_fn fn;
    void *ctx;
};

/* One attempt: what an earlier, rolled-back attempt put goes first. */
static int
rowmap_attempt(struct ov_db *db, void *arg)
{
    struct rowmap_tx *t = arg;
    ov_rowmap_rollback(t->m);
    return t->fn(db, t->ctx);
}

int
ov_rowmap_tx(struct ov_rowmap *m, struct ov_db *db, ov_db_tx_fn fn, void *ctx)
{
    struct rowmap_tx t = { m, fn, ctx };
    int rc = ov_db_tx(db, rowmap_attempt, &t);
    if (rc == 0) {
        ov_rowmap_commit(m);
    } else {
        ov_rowmap_rollback(m);
    }
    return rc;
}
