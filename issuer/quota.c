#include "quota.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define QUOTA_SLOTS (1u << 16)
#define QUOTA_LOCKS 64u /* striped: slot i is guarded by lock i % QUOTA_LOCKS */

struct slot {
    const struct issuer_ctx *ctx; /* NULL: empty */
    uint8_t pk[32];
    uint64_t issued;
    bool revoked;
};

struct issuer_quota {
    uint8_t key[crypto_shorthash_KEYBYTES];
    pthread_mutex_t locks[QUOTA_LOCKS];
    struct slot slots[QUOTA_SLOTS];
};

int
issuer_quota_new(struct issuer_quota **out)
{
    struct issuer_quota *q = calloc(1, sizeof *q);
    *out = NULL;
    if (q == NULL) {
        return -OV_E_NOMEM;
    }
    crypto_shorthash_keygen(q->key);
    for (unsigned i = 0; i < QUOTA_LOCKS; i++) {
        pthread_mutex_init(&q->locks[i], NULL);
    }
    *out = q;
    return 0;
}

void
issuer_quota_free(struct issuer_quota *q)
{
    if (q == NULL) {
        return;
    }
    for (unsigned i = 0; i < QUOTA_LOCKS; i++) {
        pthread_mutex_destroy(&q->locks[i]);
    }
    free(q);
}

static uint32_t
slot_of(const struct issuer_quota *q, const uint8_t pk[32], const struct issuer_ctx *ctx)
{
    uint8_t in[32 + sizeof ctx], h[crypto_shorthash_BYTES];
    memcpy(in, pk, 32);
    memcpy(in + 32, &ctx, sizeof ctx);
    crypto_shorthash(h, in, sizeof in, q->key);
    return ((uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16) % QUOTA_SLOTS;
}

void
issuer_quota_note(struct issuer_quota *q, const uint8_t pk[32], const struct issuer_ctx *ctx,
                  uint64_t issued, bool revoked)
{
    uint32_t i = slot_of(q, pk, ctx);
    struct slot *s = &q->slots[i];
    pthread_mutex_lock(&q->locks[i % QUOTA_LOCKS]);
    if (s->ctx != ctx || memcmp(s->pk, pk, 32) != 0) {
        s->ctx = ctx;
        memcpy(s->pk, pk, 32);
        s->issued = 0;
        s->revoked = false;
    }
    s->issued = issued > s->issued ? issued : s->issued;
    s->revoked = s->revoked || revoked;
    pthread_mutex_unlock(&q->locks[i % QUOTA_LOCKS]);
}

bool
issuer_quota_get(struct issuer_quota *q, const uint8_t pk[32], const struct issuer_ctx *ctx,
                 uint64_t *issued, bool *revoked)
{
    uint32_t i = slot_of(q, pk, ctx);
    const struct slot *s = &q->slots[i];
    pthread_mutex_lock(&q->locks[i % QUOTA_LOCKS]);
    bool held = s->ctx == ctx && ctx != NULL && memcmp(s->pk, pk, 32) == 0;
    *issued = held ? s->issued : 0;
    *revoked = held && s->revoked;
    pthread_mutex_unlock(&q->locks[i % QUOTA_LOCKS]);
    return held;
}
