/* rowmap: see rowmap.h. Open addressing with linear probing over (digest, row) slots; a
 * digest of 0 marks an empty slot (a real digest of 0 is stored as 1). Removal shifts the
 * rest of its cluster back, so lookups never meet tombstones. */
#include "rowmap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

struct slot {
    uint64_t key;
    uint64_t row;
};

struct ov_rowmap {
    pthread_rwlock_t lock;
    uint8_t secret[crypto_shorthash_KEYBYTES];
    struct slot *slots;
    size_t mask; /* capacity - 1; the capacity is a power of two */
    size_t count;
    struct slot *undo; /* put since the last commit */
    size_t n_undo, cap_undo;
};

#define INITIAL_CAPACITY 1024

int
ov_rowmap_new(struct ov_rowmap **out)
{
    struct ov_rowmap *m = calloc(1, sizeof *m);
    *out = NULL;
    if (m == NULL) {
        return -OV_E_NOMEM;
    }
    m->slots = calloc(INITIAL_CAPACITY, sizeof *m->slots);
    if (m->slots == NULL || pthread_rwlock_init(&m->lock, NULL) != 0) {
        free(m->slots);
        free(m);
        return -OV_E_NOMEM;
    }
    m->mask = INITIAL_CAPACITY - 1;
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
    free(m->slots);
    free(m->undo);
    free(m);
}

int
ov_rowmap_key(const struct ov_rowmap *m, uint8_t tag, const struct ov_bytes *parts, size_t n,
              uint64_t *key)
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
    uint64_t k = 0;
    for (size_t i = 0; i < sizeof digest; i++) {
        k = k << 8 | digest[i];
    }
    *key = k;
    return 0;
}

/* Places a slot in a table known to have room (lock held). */
static void
place(struct slot *slots, size_t mask, struct slot s)
{
    size_t i = (size_t)s.key & mask;
    while (slots[i].key != 0) {
        i = (i + 1) & mask;
    }
    slots[i] = s;
}

/* Doubles the table (lock held). */
static int
grow(struct ov_rowmap *m)
{
    size_t cap = (m->mask + 1) * 2;
    struct slot *slots = calloc(cap, sizeof *slots);
    if (slots == NULL) {
        return -OV_E_NOMEM;
    }
    for (size_t i = 0; i <= m->mask; i++) {
        if (m->slots[i].key != 0) {
            place(slots, cap - 1, m->slots[i]);
        }
    }
    free(m->slots);
    m->slots = slots;
    m->mask = cap - 1;
    return 0;
}

int
ov_rowmap_put(struct ov_rowmap *m, uint64_t key, uint64_t row)
{
    int rc = 0;
    struct slot s = { key != 0 ? key : 1, row };
    pthread_rwlock_wrlock(&m->lock);
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
    if (rc == 0 && (m->count + 1) * 4 > (m->mask + 1) * 3) {
        rc = grow(m);
    }
    if (rc == 0) {
        place(m->slots, m->mask, s);
        m->count++;
        m->undo[m->n_undo++] = s;
    }
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

size_t
ov_rowmap_find(struct ov_rowmap *m, uint64_t key, uint64_t *rows, size_t max)
{
    size_t n = 0;
    key = key != 0 ? key : 1;
    pthread_rwlock_rdlock(&m->lock);
    for (size_t i = (size_t)key & m->mask; m->slots[i].key != 0; i = (i + 1) & m->mask) {
        if (m->slots[i].key == key) {
            if (n < max) {
                rows[n] = m->slots[i].row;
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
    size_t i = (size_t)s.key & m->mask;
    while (m->slots[i].key != 0 && (m->slots[i].key != s.key || m->slots[i].row != s.row)) {
        i = (i + 1) & m->mask;
    }
    if (m->slots[i].key == 0) {
        return;
    }
    size_t hole = i;
    for (size_t j = (hole + 1) & m->mask; m->slots[j].key != 0; j = (j + 1) & m->mask) {
        size_t home = (size_t)m->slots[j].key & m->mask;
        if (((j - home) & m->mask) >= ((j - hole) & m->mask)) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole] = (struct slot){ 0, 0 };
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
