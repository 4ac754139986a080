#include "infra/peers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/codec.h"

/* Buckets: a flood from many addresses makes long chains only past this many addresses,
 * and the total connection limit (12,288 by default) bounds them. */
#define N_BUCKETS 4096u

struct node {
    struct node *next;
    unsigned char a[16];
    unsigned n;
};

struct prefix {
    unsigned char a[16];
    unsigned bits;
};

struct ov_peers {
    pthread_mutex_t mu;
    unsigned limit;
    unsigned char key[crypto_shorthash_KEYBYTES];
    size_t n_exempt;
    struct prefix exempt[OV_PEERS_MAX_EXEMPT];
    struct node *bucket[N_BUCKETS];
};

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

struct ov_peer
ov_peer_of(const struct sockaddr *sa, socklen_t len)
{
    struct ov_peer p = {.ok = false};
    if (sa == NULL) {
        return p;
    }
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        memcpy(p.a, v4_mapped, sizeof v4_mapped);
        memcpy(p.a + 12, &s4->sin_addr, 4);
        p.ok = true;
    } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(p.a, &s6->sin6_addr, 16);
        p.ok = true;
    }
    return p;
}

/* "ADDR" or "ADDR/BITS", len bytes (no NUL needed). */
static int
prefix_parse(const char *s, size_t len, struct prefix *out)
{
    char text[INET6_ADDRSTRLEN + 5];
    if (len == 0 || len >= sizeof text) {
        return -OV_E_MALFORMED;
    }
    memcpy(text, s, len);
    text[len] = '\0';
    char *slash = strchr(text, '/');
    uint64_t bits = UINT64_MAX;
    if (slash != NULL) {
        *slash = '\0';
        const char *b = slash + 1;
        /* decimal without sign or leading zeros */
        if (*b == '\0' || (b[0] == '0' && b[1] != '\0') ||
            ov_parse_u64(b, strlen(b), &bits) != 0) {
            return -OV_E_MALFORMED;
        }
    }
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, text, &v4) == 1) {
        if (bits != UINT64_MAX && bits > 32) {
            return -OV_E_MALFORMED;
        }
        memcpy(out->a, v4_mapped, sizeof v4_mapped);
        memcpy(out->a + 12, &v4, 4);
        out->bits = bits == UINT64_MAX ? 128 : 96 + (unsigned)bits;
    } else if (inet_pton(AF_INET6, text, &v6) == 1) {
        if (bits != UINT64_MAX && bits > 128) {
            return -OV_E_MALFORMED;
        }
        memcpy(out->a, &v6, 16);
        out->bits = bits == UINT64_MAX ? 128 : (unsigned)bits;
    } else {
        return -OV_E_MALFORMED;
    }
    return 0;
}

static int
list_parse(const char *list, struct prefix *out, size_t *n_out)
{
    *n_out = 0;
    if (list == NULL || *list == '\0') {
        return 0;
    }
    size_t len = strlen(list);
    if (len > OV_PEERS_MAX_LIST) {
        return -OV_E_TOO_BIG;
    }
    const char *p = list, *end = list + len;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma != NULL ? comma : end;
        if (*n_out == OV_PEERS_MAX_EXEMPT) {
            return -OV_E_TOO_BIG;
        }
        int rc = prefix_parse(p, (size_t)(stop - p), &out[*n_out]);
        if (rc != 0) {
            return rc;
        }
        (*n_out)++;
        if (comma == NULL) {
            return 0;
        }
        p = comma + 1;
    }
}

int
ov_peers_check(const char *list)
{
    struct prefix scratch[OV_PEERS_MAX_EXEMPT];
    size_t n;
    return list_parse(list, scratch, &n);
}

int
ov_peers_new(unsigned limit, const char *exempt, struct ov_peers **out)
{
    *out = NULL;
    if (limit == 0) {
        return -OV_E_MALFORMED;
    }
    struct ov_peers *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = list_parse(exempt, p->exempt, &p->n_exempt);
    if (rc == 0 && pthread_mutex_init(&p->mu, NULL) != 0) {
        rc = -OV_E_NOMEM;
    }
    if (rc != 0) {
        free(p);
        return rc;
    }
    p->limit = limit;
    crypto_shorthash_keygen(p->key);
    *out = p;
    return 0;
}

void
ov_peers_free(struct ov_peers *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < N_BUCKETS; i++) {
        for (struct node *n = p->bucket[i], *next; n != NULL; n = next) {
            next = n->next;
            free(n);
        }
    }
    pthread_mutex_destroy(&p->mu);
    sodium_memzero(p->key, sizeof p->key);
    free(p);
}

static bool
exempt(const struct ov_peers *p, const unsigned char a[16])
{
    for (size_t i = 0; i < p->n_exempt; i++) {
        const struct prefix *x = &p->exempt[i];
        unsigned whole = x->bits / 8, rest = x->bits % 8;
        if (memcmp(a, x->a, whole) != 0) {
            continue;
        }
        unsigned char mask = (unsigned char)(0xffu << (8 - rest));
        if (rest == 0 || ((a[whole] ^ x->a[whole]) & mask) == 0) {
            return true;
        }
    }
    return false;
}

static struct node **
slot(struct ov_peers *p, const unsigned char a[16])
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, a, 16, p->key);
    uint32_t i = ((uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16) % N_BUCKETS;
    struct node **at = &p->bucket[i];
    while (*at != NULL && memcmp((*at)->a, a, 16) != 0) {
        at = &(*at)->next;
    }
    return at; /* the node, or the NULL link where it would go */
}

bool
ov_peers_admit(struct ov_peers *p, const struct ov_peer *who)
{
    if (!who->ok || exempt(p, who->a)) {
        return true;
    }
    pthread_mutex_lock(&p->mu);
    struct node *n = *slot(p, who->a);
    bool ok = n == NULL || n->n < p->limit;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

bool
ov_peers_take(struct ov_peers *p, const struct ov_peer *who)
{
    if (!who->ok) {
        return true;
    }
    bool free_pass = exempt(p, who->a), ok = false;
    pthread_mutex_lock(&p->mu);
    struct node **at = slot(p, who->a);
    if (*at == NULL) {
        *at = calloc(1, sizeof **at);
        if (*at != NULL) {
            memcpy((*at)->a, who->a, 16);
        }
    }
    if (*at != NULL && (free_pass || (*at)->n < p->limit)) {
        (*at)->n++;
        ok = true;
    } else if (*at == NULL) {
        ok = free_pass; /* no memory to count it: only an exempt address goes uncounted */
    }
    pthread_mutex_unlock(&p->mu);
    return ok;
}

int
ov_peers_open(struct ov_peers *p, const struct ov_peer *who)
{
    if (!who->ok) {
        return 0;
    }
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    struct node **at = slot(p, who->a);
    if (*at == NULL) {
        *at = calloc(1, sizeof **at);
        if (*at != NULL) {
            memcpy((*at)->a, who->a, 16);
        } else {
            rc = -OV_E_NOMEM;
        }
    }
    if (*at != NULL) {
        (*at)->n++;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void
ov_peers_close(struct ov_peers *p, const struct ov_peer *who)
{
    if (!who->ok) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    struct node **at = slot(p, who->a);
    struct node *n = *at;
    if (n != NULL && --n->n == 0) {
        *at = n->next;
        free(n);
    }
    pthread_mutex_unlock(&p->mu);
}

unsigned
ov_peers_count(struct ov_peers *p, const struct ov_peer *who)
{
    if (!who->ok) {
        return 0;
    }
    pthread_mutex_lock(&p->mu);
    struct node *n = *slot(p, who->a);
    unsigned c = n != NULL ? n->n : 0;
    pthread_mutex_unlock(&p->mu);
    return c;
}
