/* bench_groups: opinion groups (docs/PROTOCOL.md §11.2) on an assembly (447 participants x
 * 200 statements, about half voted) and on a large conversation (100,000 x 1,000, each
 * participant voting on 20 to 80 statements: about 5 % of the matrix), three planted camps
 * plus shared statements, 10 % passes. Beside each time, the floor measured in the same run
 * for the passes the algorithm made: one power-iteration round's plain loop over the votes
 * (u = X v, w = X^T u over a CSR copy) times the rounds both components took, plus one plain
 * nearest-of-100-centres pass over the clustered positions times the base k-means rounds.
 * Memory: the peak resident size the run added, beside the votes held once in CSR form
 * (5 bytes a vote, 4 a participant) and the result's arrays. Best of REPEATS runs.
 * Prints: bench NAME VALUE UNIT limit LIMIT ratio LIMIT/VALUE (1 would be the floor). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/groups.h"
#include "bench.h"

#define CAMPS 3u

static uint64_t
mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A vote in the planted structure: the first S/10 statements shared, the rest one camp's. */
static int32_t
planted(uint32_t p, uint32_t s, uint32_t S, uint64_t *rs)
{
    if (mix(rs) % 10 == 0) {
        return 0;
    }
    return s < S / 10 || s % CAMPS == p % CAMPS ? 1 : -1;
}

/* Each participant votes on lo..hi distinct statements drawn at random (partial shuffle). */
static struct ov_groups_vote *
make_votes(uint32_t P, uint32_t S, uint32_t lo, uint32_t hi, size_t *n)
{
    struct ov_groups_vote *v = malloc((size_t)P * hi * sizeof *v);
    uint32_t *idx = malloc(S * sizeof *idx);
    uint64_t rs = 2026;
    *n = 0;
    for (uint32_t s = 0; idx && s < S; s++) {
        idx[s] = s;
    }
    for (uint32_t p = 0; v && idx && p < P; p++) {
        uint32_t m = lo + (uint32_t)(mix(&rs) % (hi - lo + 1));
        for (uint32_t j = 0; j < m; j++) {
            uint32_t t = j + (uint32_t)(mix(&rs) % (S - j)), s = idx[t];
            idx[t] = idx[j];
            idx[j] = s;
            v[(*n)++] = (struct ov_groups_vote){ p, s, planted(p, s, S, &rs) };
        }
    }
    free(idx);
    return v;
}

/* ---- the floor: the same passes as plain loops ------------------------------------------ */

struct csr {
    uint32_t P, S, *off, *col;
    int8_t *val;
    double *mean, *v, *u, *w;
};

static int
csr_build(struct csr *c, uint32_t P, uint32_t S, const struct ov_groups_vote *v, size_t n)
{
    memset(c, 0, sizeof *c);
    c->P = P;
    c->S = S;
    c->off = calloc((size_t)P + 1, sizeof *c->off);
    c->col = malloc(n * sizeof *c->col);
    c->val = malloc(n);
    c->mean = calloc(S, sizeof *c->mean);
    c->v = malloc(S * sizeof *c->v);
    c->w = malloc(S * sizeof *c->w);
    c->u = malloc(P * sizeof *c->u);
    if (!c->off || !c->col || !c->val || !c->mean || !c->v || !c->w || !c->u) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) { /* make_votes writes each row together */
        c->off[v[i].participant + 1]++;
        c->col[i] = v[i].statement;
        c->val[i] = (int8_t)v[i].value;
    }
    for (uint32_t p = 0; p < P; p++) {
        c->off[p + 1] += c->off[p];
    }
    for (uint32_t s = 0; s < S; s++) {
        c->v[s] = 1.0 / (double)(s + 1);
    }
    return 0;
}

static void
csr_free(struct csr *c)
{
    free(c->off);
    free(c->col);
    free(c->val);
    free(c->mean);
    free(c->v);
    free(c->u);
    free(c->w);
}

/* One round: u = X v, w = X^T u. */
static double
xtx_pass(struct csr *c)
{
    double t0 = bench_now();
    for (uint32_t p = 0; p < c->P; p++) {
        double s = 0.0;
        for (uint32_t e = c->off[p]; e < c->off[p + 1]; e++) {
            s += ((double)c->val[e] - c->mean[c->col[e]]) * c->v[c->col[e]];
        }
        c->u[p] = s;
    }
    memset(c->w, 0, c->S * sizeof *c->w);
    for (uint32_t p = 0; p < c->P; p++) {
        for (uint32_t e = c->off[p]; e < c->off[p + 1]; e++) {
            c->w[c->col[e]] += ((double)c->val[e] - c->mean[c->col[e]]) * c->u[p];
        }
    }
    return bench_now() - t0;
}

/* One assignment of n positions to the nearest of 100 centres. */
static double
assign_pass(const double *x, const double *y, uint32_t n, uint32_t *as)
{
    double cx[100], cy[100];
    for (int c = 0; c < 100; c++) {
        cx[c] = x[(uint32_t)c * (n / 100)];
        cy[c] = y[(uint32_t)c * (n / 100)];
    }
    double t0 = bench_now();
    for (uint32_t i = 0; i < n; i++) {
        uint32_t best = 0;
        double bd = 1e300;
        for (uint32_t c = 0; c < 100; c++) {
            double dx = x[i] - cx[c], dy = y[i] - cy[c], d = dx * dx + dy * dy;
            if (d < bd) {
                bd = d;
                best = c;
            }
        }
        as[i] = best;
    }
    return bench_now() - t0;
}

static int
bench(const char *name, uint32_t P, uint32_t S, uint32_t lo, uint32_t hi, int repeats)
{
    size_t n;
    struct ov_groups_vote *v = make_votes(P, S, lo, hi, &n);
    if (v == NULL) {
        return 1;
    }
    uint8_t seed[OV_GROUPS_SEED_LEN] = { 19 };
    struct ov_groups_result r;
    double best = 1e9;
    long before = bench_peak_kib();
    for (int i = 0; i < repeats; i++) {
        double t0 = bench_now();
        if (ov_groups_run(P, S, v, n, seed, &r) != 0) {
            fprintf(stderr, "bench_groups: the run failed\n");
            free(v);
            return 1;
        }
        double t = bench_now() - t0;
        best = t < best ? t : best;
        if (i + 1 < repeats) {
            ov_groups_free(&r);
        }
    }
    double added_mib = (double)(bench_peak_kib() - before) / 1024.0;
    struct csr c;
    uint32_t *as = malloc(P * sizeof *as);
    if (csr_build(&c, P, S, v, n) != 0 || as == NULL) {
        return 1;
    }
    double t_xtx = 1e9, t_as = 1e9;
    for (int i = 0; i < 3; i++) {
        double t = xtx_pass(&c), a = assign_pass(r.x, r.y, P, as);
        t_xtx = t < t_xtx ? t : t_xtx;
        t_as = a < t_as ? a : t_as;
    }
    double floor_s = t_xtx * (r.pca_rounds[0] + r.pca_rounds[1]) + t_as * r.base_rounds;
    double floor_mib = ((double)n * 5 + (double)P * 4 + (double)P * 20 + (double)S * 12) /
                       (1024.0 * 1024.0);
    double mem = added_mib > floor_mib ? added_mib : floor_mib;
    printf("bench groups_%s_time %.6g ms limit %.6g ratio %.3f\n", name, best * 1e3,
           floor_s * 1e3, floor_s / best);
    printf("bench groups_%s_memory %.6g MiB limit %.6g ratio %.3f\n", name, mem, floor_mib,
           floor_mib / mem);
    fprintf(stderr, "bench_groups: %s: %zu votes, k %u (sizes %u %u %u), PCA rounds %u + %u, "
            "base k-means rounds %u\n", name, n, r.k, r.group_size[0], r.group_size[1],
            r.group_size[2], r.pca_rounds[0], r.pca_rounds[1], r.base_rounds);
    ov_groups_free(&r);
    csr_free(&c);
    free(as);
    free(v);
    return 0;
}

int
main(void)
{
    if (bench("447x200", 447, 200, 60, 140, 5) != 0) {
        return 1;
    }
    return bench("100kx1k", 100000, 1000, 20, 80, 2);
}
