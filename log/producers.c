#include "producers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/codec.h"

#define N_BUCKETS 4096u

struct producer {
    char name[TLOG_MAX_PRODUCER_NAME + 1];
    size_t name_len;
    uint8_t pk[OV_SIGN_PK_LEN];
};

struct nonce {
    struct nonce *next;
    uint8_t v[16];
    uint64_t expires_ms;
};

struct tlog_producers {
    size_t n;
    struct producer p[TLOG_MAX_PRODUCERS];
    pthread_mutex_t mu;
    uint8_t hash_key[crypto_shorthash_KEYBYTES]; /* keyed bucket choice: no flooding one bucket */
    struct nonce *buckets[N_BUCKETS];
    size_t n_nonces;
};

static int
parse_line(struct tlog_producers *ps, char *line, unsigned lineno)
{
    char *sp = strchr(line, ' ');
    struct producer *p = &ps->p[ps->n];
    size_t klen = 0;
    if (sp == NULL || ps->n == TLOG_MAX_PRODUCERS || (size_t)(sp - line) > TLOG_MAX_PRODUCER_NAME ||
        sp == line || ov_b64_decode(p->pk, sizeof p->pk, &klen, sp + 1, strlen(sp + 1),
                                    OV_B64_STD) != 0 || klen != OV_SIGN_PK_LEN) {
        fprintf(stderr, "producers line %u: want \"NAME BASE64-ED25519-PUBLIC-KEY\"\n", lineno);
        return -OV_E_MALFORMED;
    }
    p->name_len = (size_t)(sp - line);
    memcpy(p->name, line, p->name_len);
    ps->n++;
    return 0;
}

int
tlog_producers_load(const char *path, struct tlog_producers **out)
{
    struct ov_buf file;
    *out = NULL;
    int rc = ov_file_read(path, 64 * 1024, &file);
    if (rc != 0) {
        fprintf(stderr, "cannot read %s: %s\n", path, ov_strerror(rc));
        return rc;
    }
    struct tlog_producers *ps = calloc(1, sizeof *ps);
    rc = ps ? 0 : -OV_E_NOMEM;
    char *save = NULL;
    unsigned lineno = 0;
    for (char *line = rc == 0 ? strtok_r((char *)file.ptr, "\n", &save) : NULL;
         line != NULL && rc == 0; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (line[0] != '#' && line[0] != 0) {
            rc = parse_line(ps, line, lineno);
        }
    }
    ov_buf_clear(&file);
    if (rc != 0) {
        free(ps);
        return rc;
    }
    pthread_mutex_init(&ps->mu, NULL);
    randombytes_buf(ps->hash_key, sizeof ps->hash_key);
    *out = ps;
    return 0;
}

void
tlog_producers_free(struct tlog_producers *ps)
{
    if (ps == NULL) {
        return;
    }
    for (size_t b = 0; b < N_BUCKETS; b++) {
        for (struct nonce *n = ps->buckets[b], *next; n != NULL; n = next) {
            next = n->next;
            free(n);
        }
    }
    pthread_mutex_destroy(&ps->mu);
    free(ps);
}

int
tlog_producers_key(const struct tlog_producers *ps, struct ov_bytes name,
                   uint8_t pk[OV_SIGN_PK_LEN])
{
    for (size_t i = 0; i < ps->n; i++) {
        if (ps->p[i].name_len == name.len && memcmp(ps->p[i].name, name.ptr, name.len) == 0) {
            memcpy(pk, ps->p[i].pk, OV_SIGN_PK_LEN);
            return 0;
        }
    }
    return -OV_E_UNKNOWN_KEY;
}

static size_t
bucket_of(const struct tlog_producers *ps, const uint8_t v[16])
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, v, 16, ps->hash_key);
    return ((size_t)h[0] | (size_t)h[1] << 8) % N_BUCKETS;
}

/* Drops expired nonces from one bucket; called with mu held. */
static void
prune(struct tlog_producers *ps, size_t b, uint64_t now_ms)
{
    struct nonce **pp = &ps->buckets[b];
    while (*pp != NULL) {
        if ((*pp)->expires_ms < now_ms) {
            struct nonce *dead = *pp;
            *pp = dead->next;
            free(dead);
            ps->n_nonces--;
        } else {
            pp = &(*pp)->next;
        }
    }
}

int
tlog_producers_use_nonce(struct tlog_producers *ps, const uint8_t v[16], uint64_t expires_ms,
                         uint64_t now_ms)
{
    size_t b = bucket_of(ps, v);
    int rc = 0;
    pthread_mutex_lock(&ps->mu);
    prune(ps, b, now_ms);
    for (struct nonce *n = ps->buckets[b]; n != NULL && rc == 0; n = n->next) {
        if (memcmp(n->v, v, 16) == 0) {
            rc = -OV_E_CONFLICT;
        }
    }
    if (rc == 0) {
        struct nonce *n = malloc(sizeof *n);
        if (n == NULL) {
            rc = -OV_E_NOMEM;
        } else {
            memcpy(n->v, v, 16);
            n->expires_ms = expires_ms;
            n->next = ps->buckets[b];
            ps->buckets[b] = n;
            ps->n_nonces++;
        }
    }
    pthread_mutex_unlock(&ps->mu);
    return rc;
}

int
tlog_producers_load_nonces(struct tlog_producers *ps, struct ov_db *db, uint64_t now_ms)
{
    sqlite3_stmt *st = ov_db_stmt(db, "nonce_live");
    int rc = ov_db_bind_uint64(st, 1, now_ms);
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        uint8_t v[16];
        uint64_t exp = 0;
        rc = ov_db_col_fixed(st, 0, v, sizeof v);
        if (rc == 0) {
            rc = ov_db_col_uint64(st, 1, &exp);
        }
        if (rc == 0) {
            rc = tlog_producers_use_nonce(ps, v, exp, now_ms);
            rc = rc == -OV_E_CONFLICT ? 0 : rc;
        }
    }
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

void
tlog_producers_forget_nonce(struct tlog_producers *ps, const uint8_t v[16])
{
    size_t b = bucket_of(ps, v);
    pthread_mutex_lock(&ps->mu);
    for (struct nonce **pp = &ps->buckets[b]; *pp != NULL; pp = &(*pp)->next) {
        if (memcmp((*pp)->v, v, 16) == 0) {
            struct nonce *dead = *pp;
            *pp = dead->next;
            free(dead);
            ps->n_nonces--;
            break;
        }
    }
    pthread_mutex_unlock(&ps->mu);
}
