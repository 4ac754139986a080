/* bench_bridging: the bridging model (core/protocol/bridging) on 1,000,000 ratings, 100,000
 * raters x 10,000 notes (each rater rates 10 notes drawn at random; two planted camps, four
 * kinds of note), issue goal under 10 s on one core and 256 MiB peak. Time: beside the floor
 * measured in the same run, one pass over the ratings array that reads each rating's rater
 * and note parameters and sums a residual (the work of one pass of the optimiser), times the
 * passes the optimiser made (3 per sweep and the final loss pass). Memory: the peak
 * resident size the run added, beside the ratings array's own bytes (the scorer may hold
 * one more copy's worth). Also checks the planted verdicts, so a fast wrong answer fails.
 * Prints: bench NAME VALUE UNIT limit LIMIT ratio LIMIT/VALUE (1 would be the floor). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "protocol/bridging.h"
#include "bench.h"

#define RATERS 100000u
#define NOTES 10000u
#define PER_RATER 10u
#define N_RATINGS ((size_t)RATERS * PER_RATER)
#define FLOOR_REPEATS 5

/* Kind of a note: 0 bridging, 1 and 2 partisan for camp 0 and 1, 3 poor. */
static double
planted_value(uint32_t note, uint32_t rater, uint8_t noise)
{
    static const double v[4][2] = { { 1, 1 }, { 1, 0 }, { 0, 1 }, { 0, 0 } };
    return noise < 40 ? 0.5 : v[note % 4][rater % 2];
}

/* Each rater's PER_RATER distinct notes from a seeded stream, 32 bits each. */
static void
make_ratings(struct ov_bridge_rating *r)
{
    uint8_t seed[randombytes_SEEDBYTES] = { 19 };
    enum { CHUNK = 4096 };
    uint32_t buf[CHUNK];
    size_t used = CHUNK, n = 0;
    uint64_t chunk = 0;
    for (uint32_t u = 0; u < RATERS; u++) {
        for (uint32_t k = 0; k < PER_RATER;) {
            if (used == CHUNK) {
                seed[8] = (uint8_t)chunk;
                seed[9] = (uint8_t)(chunk >> 8);
                seed[10] = (uint8_t)(chunk++ >> 16);
                randombytes_buf_deterministic(buf, sizeof buf, seed);
                used = 0;
            }
            uint32_t x = buf[used++], note = x % NOTES, dup = 0;
            for (uint32_t j = 0; j < k; j++) {
                dup |= r[n - k + j].note == note;
            }
            if (!dup) {
                r[n++] = (struct ov_bridge_rating){ u, note, planted_value(note, u, (uint8_t)(x >> 24)) };
                k++;
            }
        }
    }
}

/* The floor: one pass over the ratings with each rating's rater and note parameters. */
static double
one_pass(const struct ov_bridge_rating *r, const double *pu, const double *pn, double *sink)
{
    double t0 = bench_now(), s = 0.0;
    for (size_t k = 0; k < N_RATINGS; k++) {
        s += (r[k].value - pu[2 * r[k].rater]) - pn[2 * r[k].note] * pu[2 * r[k].rater + 1];
    }
    *sink += s;
    return bench_now() - t0;
}

static int
verdicts_ok(const struct ov_bridge_result *res)
{
    unsigned wrong = 0;
    for (uint32_t m = 0; m < NOTES; m++) {
        int st = res->notes[m].status, kind = (int)(m % 4);
        wrong += (kind == 0) != (st == OV_BRIDGE_HELPFUL);
        wrong += kind == 3 && st != OV_BRIDGE_NOT_HELPFUL;
    }
    if (wrong) {
        fprintf(stderr, "bench_bridging: %u planted verdicts wrong\n", wrong);
    }
    return wrong == 0;
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    struct ov_bridge_rating *r = malloc(N_RATINGS * sizeof *r);
    double *pu = calloc(2 * RATERS, sizeof *pu), *pn = calloc(2 * NOTES, sizeof *pn), sink = 0;
    if (r == NULL || pu == NULL || pn == NULL) {
        return 1;
    }
    make_ratings(r);
    for (uint32_t u = 0; u < 2 * RATERS; u++) {
        pu[u] = (double)(u % 7) * 0.01;
    }
    double floor_s = 1e9;
    for (int i = 0; i < FLOOR_REPEATS; i++) {
        double t = one_pass(r, pu, pn, &sink);
        floor_s = t < floor_s ? t : floor_s;
    }
    free(pu);
    free(pn);
    struct ov_bridge_params p;
    ov_bridge_params_default(&p);
    uint8_t seed[OV_BRIDGE_SEED_LEN] = { 0x19 };
    struct ov_bridge_result res;
    long before = bench_peak_kib();
    double t0 = bench_now();
    if (ov_bridge_run(r, N_RATINGS, RATERS, NOTES, &p, seed, &res) != 0) {
        fprintf(stderr, "bench_bridging: the run failed\n");
        return 1;
    }
    double run_s = bench_now() - t0;
    double added_mib = (double)(bench_peak_kib() - before) / 1024.0, total_mib = bench_peak_kib() / 1024.0;
    double input_mib = (double)(N_RATINGS * sizeof *r) / (1024.0 * 1024.0);
    double passes = 3.0 * res.iterations + 1.0, limit_s = floor_s * passes;
    int ok = verdicts_ok(&res) && isfinite(sink);
    printf("bench bridging_1m_ratings %.6g s limit %.6g ratio %.3f\n", run_s, limit_s,
           limit_s / run_s);
    printf("bench bridging_1m_memory %.6g MiB limit %.6g ratio %.3f\n",
           added_mib > 0 ? added_mib : 0, input_mib, input_mib / (added_mib > 1 ? added_mib : 1));
    fprintf(stderr, "bench_bridging: %u sweeps, floor pass %.3g ms, peak %.1f MiB in all; "
            "goal under 10 s and 256 MiB: %s\n", res.iterations, floor_s * 1e3, total_mib,
            ok && run_s < 10.0 && total_mib < 256.0 ? "met" : "NOT met");
    uint8_t d[32];
    char hex[65];
    if (ov_bridge_digest(&res, d) == 0) {  /* to compare builds: the same in every one */
        sodium_bin2hex(hex, sizeof hex, d, sizeof d);
        fprintf(stderr, "bench_bridging: result digest %s\n", hex);
    }
    ov_bridge_result_free(&res);
    free(r);
    return ok ? 0 : 1;
}
