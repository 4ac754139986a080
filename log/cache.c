#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    int level; /* OV_TILE_ENTRIES for a bundle */
    uint64_t n;
    uint8_t *data; /* NULL: empty */
    size_t len;
};

struct tlog_cache {
    pthread_mutex_t mu;
    struct slot slots[TLOG_CACHE_SLOTS];
};

int
tlog_cache_new(struct tlog_cache **out)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL) {
        return -OV_E_NOMEM;
    }
    pthread_mutex_init(&(*out)->mu, NULL);
    return 0;
}

void
tlog_cache_free(struct tlog_cache *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < TLOG_CACHE_SLOTS; i++) {
        free(c->slots[i].data);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static struct slot *
slot_of(struct tlog_cache *c, const struct ov_tile *t)
{
    uint64_t h = t->n * 0x9e3779b97f4a7c15u ^ (uint64_t)(t->level + 1) * 0xc2b2ae3d27d4eb4fu;
    return &c->slots[(h >> 20) % TLOG_CACHE_SLOTS];
}

bool
tlog_cache_get(struct tlog_cache *c, const struct ov_tile *t, struct ov_buf *out)
{
    bool hit = false;
    if (t->width != OV_TILE_WIDTH) {
        return false;
    }
    pthread_mutex_lock(&c->mu);
    struct slot *s = slot_of(c, t);
    if (s->data != NULL && s->level == t->level && s->n == t->n) {
        hit = ov_buf_append(out, s->data, s->len) == 0;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void
tlog_cache_put(struct tlog_cache *c, const struct ov_tile *t, struct ov_bytes data)
{
    if (t->width != OV_TILE_WIDTH || data.len > TLOG_CACHE_MAX_ITEM) {
        return;
    }
    uint8_t *copy = malloc(data.len ? data.len : 1);
    if (copy == NULL) {
        return; /* a cache that cannot grow just misses */
    }
    memcpy(copy, data.ptr, data.len);
    pthread_mutex_lock(&c->mu);
    struct slot *s = slot_of(c, t);
    uint8_t *old = s->data;
    s->level = t->level;
    s->n = t->n;
    s->data = copy;
    s->len = data.len;
    pthread_mutex_unlock(&c->mu);
    free(old);
}
