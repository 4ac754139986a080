/* sortition: the legacy greedy draw with specified randomness (sortition.h says it in full).
 * Integer arithmetic throughout, so every platform draws the same panel. */
#include "protocol/sortition.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "primitives/merkle.h"

/* ---- the random stream ------------------------------------------------------------- */

struct stream {
    uint8_t key[32];
    uint8_t nonce[12];
    uint8_t block[64];
    size_t pos;     /* bytes of block used */
    uint32_t block_no;
};

static void
stream_init(struct stream *s, const uint8_t seed[OV_SORT_SEED_LEN], uint64_t attempt)
{
    static const char tag[] = "onevoice/v1/sortition";
    uint8_t in[sizeof tag + OV_SORT_SEED_LEN]; /* the tag, 0x00 (its NUL), the seed */
    memcpy(in, tag, sizeof tag);
    memcpy(in + sizeof tag, seed, OV_SORT_SEED_LEN);
    (void)!ov_sha256(in, sizeof in, s->key);
    memset(s->nonce, 0, sizeof s->nonce);
    for (int i = 0; i < 8; i++) {
        s->nonce[4 + i] = (uint8_t)(attempt >> (8 * i));
    }
    s->pos = sizeof s->block;
    s->block_no = 0;
}

static uint64_t
stream_u64(struct stream *s)
{
    if (s->pos == sizeof s->block) {
        static const uint8_t zero[64];
        crypto_stream_chacha20_ietf_xor_ic(s->block, zero, sizeof s->block, s->nonce,
                                           s->block_no++, s->key);
        s->pos = 0;
    }
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) {
        x = x << 8 | s->block[s->pos + (size_t)i];
    }
    s->pos += 8;
    return x;
}

/* Uniform in [0, n), n >= 1: x is redrawn while it falls in the last, partial span. */
static uint64_t
below(struct stream *s, uint64_t n)
{
    uint64_t r = (UINT64_MAX % n + 1) % n; /* 2^64 mod n */
    for (;;) {
        uint64_t x = stream_u64(s);
        if (r == 0 || x < 0 - r) {
            return x % n;
        }
    }
}

/* ---- checks ------------------------------------------------------------------------ */

struct problems {
    char *why;
    size_t len, at;
    int n;
};

/* One problem, on its own line of why. */
__attribute__((format(printf, 2, 3))) static void
say(struct problems *pr, const char *fmt, ...)
{
    pr->n++;
    if (pr->why == NULL || pr->at + 1 >= pr->len) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(pr->why + pr->at, pr->len - pr->at, fmt, ap);
    va_end(ap);
    if (w > 0 && pr->at + (size_t)w + 1 < pr->len) {
        pr->at += (size_t)w;
        pr->why[pr->at++] = '\n';
        pr->why[pr->at] = 0;
    } else {
        pr->at = pr->len; /* full: the count still grows */
    }
}

int
ov_sort_check(const struct ov_sort_pool *p, uint32_t panel, char *why, size_t why_len)
{
    struct problems pr = { why, why_len, 0, 0 };
    const size_t C = p->n_categories;
    if (why != NULL && why_len > 0) {
        why[0] = 0;
    }
    if (C == 0 || C > OV_SORT_MAX_CATEGORIES || p->n_members == 0 ||
        p->n_members > OV_SORT_MAX_MEMBERS || panel == 0 || p->values == NULL) {
        say(&pr, "the pool has %zu categories (1..%d) and %zu members (1..%u), the panel %u (> 0)",
            C, OV_SORT_MAX_CATEGORIES, p->n_members, OV_SORT_MAX_MEMBERS, panel);
        return -OV_E_RANGE;
    }
    for (size_t c = 0; c < C; c++) {
        if (p->n_values[c] == 0 || p->n_values[c] > OV_SORT_MAX_VALUES) {
            say(&pr, "category %zu has %zu values (1..%d)", c, p->n_values[c], OV_SORT_MAX_VALUES);
            return -OV_E_RANGE;
        }
    }
    uint64_t count[OV_SORT_MAX_CATEGORIES][OV_SORT_MAX_VALUES];
    memset(count, 0, sizeof count);
    for (size_t m = 0; m < p->n_members; m++) {
        for (size_t c = 0; c < C; c++) {
            uint8_t v = p->values[m * C + c];
            if (v >= p->n_values[c]) {
                say(&pr, "member %zu: category %zu has no value %u", m, c, v);
                return -OV_E_RANGE;
            }
            count[c][v]++;
        }
    }
    if (panel > p->n_members) {
        say(&pr, "the pool has %zu members, fewer than the panel of %u", p->n_members, panel);
    }
    for (size_t c = 0; c < C; c++) {
        uint64_t sum_min = 0, sum_max = 0;
        for (size_t k = 0; k < p->n_values[c]; k++) {
            const struct ov_sort_quota *q = &p->quota[c][k];
            if (q->min > q->max) {
                say(&pr, "category %zu value %zu: min %u is above max %u", c, k, q->min, q->max);
            }
            if (q->min > count[c][k]) {
                say(&pr, "category %zu value %zu: min %u, but only %llu members have it", c, k,
                    q->min, (unsigned long long)count[c][k]);
            }
            sum_min += q->min;
            sum_max += q->max < count[c][k] ? q->max : count[c][k];
        }
        if (sum_min > panel) {
            say(&pr, "category %zu: its minimums add up to %llu, more than the panel of %u", c,
                (unsigned long long)sum_min, panel);
        }
        if (sum_max < panel) {
            say(&pr, "category %zu: at most %llu can be selected (its maximums, its members), "
                "fewer than the panel of %u", c, (unsigned long long)sum_max, panel);
        }
    }
    return pr.n ? -OV_E_RANGE : 0;
}

/* ---- the draw ---------------------------------------------------------------------- */

struct draw {
    const struct ov_sort_pool *p;
    size_t C;
    uint32_t *lists;   /* per category, the members grouped by value, each group in pool order */
    uint32_t *pos;     /* [c * N + m]: where member m is in category c's list */
    int32_t *tree;     /* [c * (N + 1) + i]: a Fenwick tree of the alive flags of c's list */
    size_t *off;       /* [c * (OV_SORT_MAX_VALUES + 1) + k]: group k of category c */
    uint32_t *hh;      /* members sorted by household (those with one) */
    uint32_t *hh_at;   /* per member: where its household's group starts in hh */
    uint32_t *hh_len;  /* per member: its household's size (0: none) */
    uint8_t *alive;
    size_t n_alive;
    int64_t remaining[OV_SORT_MAX_CATEGORIES][OV_SORT_MAX_VALUES];
    int64_t selected[OV_SORT_MAX_CATEGORIES][OV_SORT_MAX_VALUES];
};

#define OFF(d, c, k) ((d)->off[(c) * (OV_SORT_MAX_VALUES + 1) + (k)])

/* qsort_r's comparison: by household number (key, the pool's), then by member; the key
 * travels as an argument so that concurrent draws do not share it */
struct hh_sort {
    const uint32_t *key;
};

static int
by_household(const void *a, const void *b, void *arg)
{
    const uint32_t *hh_key = ((const struct hh_sort *)arg)->key;
    uint32_t x = hh_key[*(const uint32_t *)a], y = hh_key[*(const uint32_t *)b];
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    return x != y ? (x < y ? -1 : 1) : (i < j ? -1 : i > j);
}

static void
draw_free(struct draw *d)
{
    free(d->lists);
    free(d->pos);
    free(d->tree);
    free(d->off);
    free(d->hh);
    free(d->hh_at);
    free(d->hh_len);
    free(d->alive);
}

static int
draw_init(struct draw *d, const struct ov_sort_pool *p)
{
    memset(d, 0, sizeof *d);
    d->p = p;
    d->C = p->n_categories;
    const size_t N = p->n_members, C = d->C;
    d->lists = malloc(N * C * sizeof *d->lists);
    d->pos = malloc(N * C * sizeof *d->pos);
    d->tree = malloc((N + 1) * C * sizeof *d->tree);
    d->off = calloc(C * (OV_SORT_MAX_VALUES + 1), sizeof *d->off);
    d->alive = malloc(N);
    if (d->lists == NULL || d->pos == NULL || d->tree == NULL || d->off == NULL ||
        d->alive == NULL) {
        return -OV_E_NOMEM;
    }
    for (size_t c = 0; c < C; c++) {
        size_t *o = &OFF(d, c, 0);
        for (size_t m = 0; m < N; m++) {
            o[p->values[m * C + c] + 1]++;
        }
        for (size_t k = 0; k < OV_SORT_MAX_VALUES; k++) {
            o[k + 1] += o[k];
        }
        size_t fill[OV_SORT_MAX_VALUES];
        memcpy(fill, o, sizeof fill);
        for (size_t m = 0; m < N; m++) {
            size_t at = fill[p->values[m * C + c]]++;
            d->lists[c * N + at] = (uint32_t)m;
            d->pos[c * N + m] = (uint32_t)at;
        }
    }
    if (p->household == NULL) {
        return 0;
    }
    d->hh = malloc(N * sizeof *d->hh);
    d->hh_at = calloc(N, sizeof *d->hh_at);
    d->hh_len = calloc(N, sizeof *d->hh_len);
    if (d->hh == NULL || d->hh_at == NULL || d->hh_len == NULL) {
        return -OV_E_NOMEM;
    }
    size_t n = 0;
    for (size_t m = 0; m < N; m++) {
        if (p->household[m] != OV_SORT_NO_HOUSEHOLD) {
            d->hh[n++] = (uint32_t)m;
        }
    }
    struct hh_sort key = { p->household };
    qsort_r(d->hh, n, sizeof *d->hh, by_household, &key);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && p->household[d->hh[j]] == p->household[d->hh[i]]) {
            j++;
        }
        for (size_t g = i; g < j; g++) {
            d->hh_at[d->hh[g]] = (uint32_t)i;
            d->hh_len[d->hh[g]] = (uint32_t)(j - i);
        }
        i = j;
    }
    return 0;
}

/* ---- the alive flags of each category's list, as Fenwick trees: the i-th alive member of
 * a value in O(log N), where a scan of a large value's members would be O(N) per step */

static void
trees_fill(struct draw *d)
{
    const size_t N = d->p->n_members;
    for (size_t c = 0; c < d->C; c++) {
        int32_t *t = d->tree + c * (N + 1);
        t[0] = 0;
        for (size_t i = 1; i <= N; i++) {
            t[i] = 1;
        }
        for (size_t i = 1; i <= N; i++) { /* linear build: each node passes its sum up */
            size_t up = i + (i & (0 - i));
            if (up <= N) {
                t[up] += t[i];
            }
        }
    }
}

static void
tree_remove(struct draw *d, size_t c, size_t at)
{
    const size_t N = d->p->n_members;
    int32_t *t = d->tree + c * (N + 1);
    for (size_t i = at + 1; i <= N; i += i & (0 - i)) {
        t[i]--;
    }
}

/* Alive members at list positions [0, at). */
static int64_t
tree_prefix(const struct draw *d, size_t c, size_t at)
{
    const int32_t *t = d->tree + c * (d->p->n_members + 1);
    int64_t sum = 0;
    for (size_t i = at; i > 0; i -= i & (0 - i)) {
        sum += t[i];
    }
    return sum;
}

/* The list position of the (rank + 1)-th alive member. */
static size_t
tree_select(const struct draw *d, size_t c, int64_t rank)
{
    const size_t N = d->p->n_members;
    const int32_t *t = d->tree + c * (N + 1);
    size_t at = 0, step = 1;
    while (step * 2 <= N) {
        step *= 2;
    }
    for (; step > 0; step /= 2) {
        if (at + step <= N && t[at + step] <= rank) {
            at += step;
            rank -= t[at];
        }
    }
    return at; /* 0-based position: the tree's index at + 1 */
}

/* Takes member m out of the pool (not selected). */
static void
leave(struct draw *d, uint32_t m)
{
    const size_t N = d->p->n_members;
    d->alive[m] = 0;
    d->n_alive--;
    for (size_t c = 0; c < d->C; c++) {
        d->remaining[c][d->p->values[(size_t)m * d->C + c]]--;
        tree_remove(d, c, d->pos[c * N + m]);
    }
}

/* Every member still in the pool with value k of category c leaves it. */
static void
empty_value(struct draw *d, size_t c, size_t k)
{
    const uint32_t *l = d->lists + c * d->p->n_members;
    for (size_t i = OFF(d, c, k); i < OFF(d, c, k + 1); i++) {
        if (d->alive[l[i]]) {
            leave(d, l[i]);
        }
    }
}

static void
select_member(struct draw *d, uint32_t m)
{
    const size_t C = d->C;
    leave(d, m);
    for (size_t c = 0; c < C; c++) {
        d->selected[c][d->p->values[(size_t)m * C + c]]++;
    }
    for (uint32_t g = 0; d->hh_len != NULL && g < d->hh_len[m]; g++) {
        uint32_t o = d->hh[d->hh_at[m] + g];
        if (d->alive[o]) {
            leave(d, o);
        }
    }
    for (size_t c = 0; c < C; c++) {
        size_t k = d->p->values[(size_t)m * C + c];
        if (d->selected[c][k] == (int64_t)d->p->quota[c][k].max) {
            empty_value(d, c, k);
        }
    }
}

/* The most urgent value: 1 and (c, k), 0 none, -1 a value that can no longer meet its min. */
static int
most_urgent(const struct draw *d, size_t *bc, size_t *bk)
{
    int64_t best_need = 0, best_rem = 0;
    int found = 0;
    for (size_t c = 0; c < d->C; c++) {
        for (size_t k = 0; k < d->p->n_values[c]; k++) {
            int64_t need = (int64_t)d->p->quota[c][k].min - d->selected[c][k];
            int64_t rem = d->remaining[c][k];
            if (need > rem) {
                return -1;
            }
            if (rem == 0 || d->p->quota[c][k].max == 0) {
                continue;
            }
            /* need/rem > best_need/best_rem, both denominators positive */
            if (!found || need * best_rem > best_need * rem) {
                best_need = need;
                best_rem = rem;
                *bc = c;
                *bk = k;
                found = 1;
            }
        }
    }
    return found;
}

/* The i-th member (from 0) still in the pool with value k of category c, in pool order. */
static uint32_t
nth_alive(const struct draw *d, size_t c, size_t k, uint64_t i)
{
    int64_t before = tree_prefix(d, c, OFF(d, c, k));
    return d->lists[c * d->p->n_members + tree_select(d, c, before + (int64_t)i)];
}

/* One attempt: 0 with panel_out filled, -OV_E_STATE when it fails. */
static int
attempt_once(struct draw *d, struct stream *s, uint32_t panel, uint32_t *panel_out)
{
    const struct ov_sort_pool *p = d->p;
    memset(d->alive, 1, p->n_members);
    d->n_alive = p->n_members;
    trees_fill(d);
    memset(d->remaining, 0, sizeof d->remaining);
    memset(d->selected, 0, sizeof d->selected);
    for (size_t c = 0; c < d->C; c++) {
        for (size_t k = 0; k < p->n_values[c]; k++) {
            d->remaining[c][k] = (int64_t)(OFF(d, c, k + 1) - OFF(d, c, k));
        }
    }
    for (size_t c = 0; c < d->C; c++) {
        for (size_t k = 0; k < p->n_values[c]; k++) {
            if (p->quota[c][k].max == 0) {
                empty_value(d, c, k);
            }
        }
    }
    for (uint32_t step = 0; step < panel; step++) {
        size_t c = 0, k = 0;
        if (most_urgent(d, &c, &k) != 1) {
            return -OV_E_STATE;
        }
        uint32_t m = nth_alive(d, c, k, below(s, (uint64_t)d->remaining[c][k]));
        panel_out[step] = m;
        select_member(d, m);
        if (step + 1 < panel && d->n_alive == 0) {
            return -OV_E_STATE;
        }
    }
    for (size_t c = 0; c < d->C; c++) {
        for (size_t k = 0; k < p->n_values[c]; k++) {
            if (d->selected[c][k] < (int64_t)p->quota[c][k].min ||
                d->selected[c][k] > (int64_t)p->quota[c][k].max) {
                return -OV_E_STATE;
            }
        }
    }
    return 0;
}

/* Member m and its household are no longer eligible; returns how many were. */
static size_t
exclude_household(struct draw *d, uint32_t m)
{
    size_t n = d->alive[m];
    d->alive[m] = 0;
    for (uint32_t g = 0; d->hh_len != NULL && g < d->hh_len[m]; g++) {
        uint32_t o = d->hh[d->hh_at[m] + g];
        n += d->alive[o];
        d->alive[o] = 0;
    }
    return n;
}

/* Reserves: uniform picks, in pool order, among the members eligible: not selected, not in
 * the household of a selected member or of an earlier reserve, no value whose maximum is 0
 * (the members emptied by a full value are eligible again: a reserve replaces someone, and
 * the operator keeps the quotas when choosing whom). */
static int
draw_reserves(struct draw *d, struct stream *s, const uint32_t *panel_out, uint32_t panel,
              uint32_t reserves, uint32_t *reserves_out)
{
    const struct ov_sort_pool *p = d->p;
    const size_t N = p->n_members;
    size_t eligible = 0;
    for (size_t m = 0; m < N; m++) {
        d->alive[m] = 1;
        for (size_t c = 0; c < d->C; c++) {
            d->alive[m] &= p->quota[c][p->values[m * d->C + c]].max > 0;
        }
        eligible += d->alive[m];
    }
    for (uint32_t i = 0; i < panel; i++) {
        eligible -= exclude_household(d, panel_out[i]);
    }
    for (uint32_t r = 0; r < reserves; r++) {
        if (eligible == 0) {
            return -OV_E_STATE; /* the pool cannot give R reserves */
        }
        uint64_t i = below(s, eligible);
        for (size_t m = 0; m < N; m++) {
            if (d->alive[m] && i-- == 0) {
                reserves_out[r] = (uint32_t)m;
                eligible -= exclude_household(d, (uint32_t)m);
                break;
            }
        }
    }
    return 0;
}

int
ov_sort_draw(const struct ov_sort_pool *p, uint32_t panel, uint32_t reserves,
             const uint8_t seed[OV_SORT_SEED_LEN], uint32_t max_attempts, uint32_t *panel_out,
             uint32_t *reserves_out, uint32_t *attempt)
{
    struct draw d;
    *attempt = 0;
    if (ov_sort_check(p, panel, NULL, 0) != 0 || max_attempts == 0 ||
        max_attempts > OV_SORT_MAX_ATTEMPTS || (reserves > 0 && reserves_out == NULL)) {
        return -OV_E_RANGE;
    }
    int rc = draw_init(&d, p);
    struct stream s;
    uint32_t a = 0;
    for (; rc == 0 && a < max_attempts; a++) {
        stream_init(&s, seed, a);
        if (attempt_once(&d, &s, panel, panel_out) == 0) {
            break;
        }
    }
    if (rc == 0 && a == max_attempts) {
        rc = -OV_E_STATE;
    }
    if (rc == 0) {
        *attempt = a;
        rc = draw_reserves(&d, &s, panel_out, panel, reserves, reserves_out);
    }
    sodium_memzero(&s, sizeof s);
    draw_free(&d);
    return rc;
}

int
ov_sort_stats(const struct ov_sort_pool *p, uint32_t panel, const uint8_t base[OV_SORT_SEED_LEN],
              uint32_t max_attempts, uint64_t n_runs, uint64_t *counts, uint64_t *failed)
{
    static const char tag[] = "onevoice/v1/sortition-stats";
    uint8_t in[sizeof tag + OV_SORT_SEED_LEN + 8], seed[OV_SORT_SEED_LEN];
    uint32_t *out = malloc((size_t)panel * sizeof *out);
    uint32_t attempt = 0;
    *failed = 0;
    if (out == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(in, tag, sizeof tag);
    memcpy(in + sizeof tag, base, OV_SORT_SEED_LEN);
    int rc = 0;
    for (uint64_t i = 0; i < n_runs && rc == 0; i++) {
        for (int b = 0; b < 8; b++) {
            in[sizeof tag + OV_SORT_SEED_LEN + (size_t)b] = (uint8_t)(i >> (56 - 8 * b));
        }
        rc = ov_sha256(in, sizeof in, seed);
        int r = rc ? rc : ov_sort_draw(p, panel, 0, seed, max_attempts, out, NULL, &attempt);
        if (r == -OV_E_STATE) {
            (*failed)++;
        } else if (r != 0) {
            rc = r;
        } else {
            for (uint32_t j = 0; j < panel; j++) {
                counts[out[j]]++;
            }
        }
    }
    free(out);
    return rc;
}
