/* bridgedump: a random rating round for the independent check of the bridging model.
 *
 *   bridgedump N
 *
 * Draws round N deterministically (libsodium's seeded generator): up to 300 raters in two
 * camps, up to 40 notes (bridging, partisan either way, poor), a density, noise, the two
 * minimums and a seed. Prints the round on stdout as tests/e2e/lib/bridging_ref.py reads
 * it (line 1 "RATERS NOTES MIN_RATINGS MIN_RATERS SEED_HEX", then "RATER NOTE 2*VALUE"
 * lines, in reverse order: the model must not depend on it), and on stderr the digest of
 * core/protocol/bridging's result and its sweeps. Exit status 0, 1 on failure, 2 on usage. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "protocol/bridging.h"

/* The helpfulness (0, 1, 2 halves) of rater u for note m, before noise. */
static unsigned
planted(uint32_t u, uint32_t m)
{
    unsigned camp = u % 2, kind = m % 4;
    if (kind == 0) {
        return 2; /* bridging: helpful to both camps */
    }
    if (kind == 3) {
        return 0; /* poor: helpful to neither */
    }
    return (kind == 1) == (camp == 0) ? 2 : 0; /* partisan */
}

int
main(int argc, char **argv)
{
    if (argc != 2 || sodium_init() < 0) {
        fprintf(stderr, "usage: bridgedump N\n");
        return 2;
    }
    uint8_t s[randombytes_SEEDBYTES] = { 0 };
    s[0] = (uint8_t)atoi(argv[1]);
    s[1] = 77;
    uint32_t h[4];
    randombytes_buf_deterministic(h, sizeof h, s);
    uint32_t raters = 1 + h[0] % 300, notes = 1 + h[1] % 40;
    struct ov_bridge_params p = { h[2] % 7, h[3] % 12 };
    unsigned density = (unsigned)((0.2 + (h[0] >> 16) % 70 / 100.0) * 256);
    size_t cells = (size_t)raters * notes, n = 0;
    struct ov_bridge_rating *r = malloc(cells * sizeof *r);
    uint8_t *x = malloc(cells * 3), seed[32], d[32];
    if (r == NULL || x == NULL) {
        return 1;
    }
    s[1] = 78;
    randombytes_buf_deterministic(x, cells * 3, s);
    for (uint32_t u = 0; u < raters; u++) {
        for (uint32_t m = 0; m < notes; m++) {
            const uint8_t *b = &x[((size_t)u * notes + m) * 3];
            if (b[0] < density) {
                unsigned v = b[1] < 60 ? b[2] % 3u : planted(u, m); /* 23 % noise */
                r[n++] = (struct ov_bridge_rating){ u, m, v * 0.5 };
            }
        }
    }
    s[1] = 79;
    randombytes_buf_deterministic(seed, sizeof seed, s);
    printf("%u %u %u %u ", raters, notes, p.min_ratings_per_rater, p.min_raters_per_note);
    for (int k = 0; k < 32; k++) {
        printf("%02x", seed[k]);
    }
    printf("\n");
    for (size_t k = n; k-- > 0;) {
        printf("%u %u %u\n", r[k].rater, r[k].note, (unsigned)(r[k].value * 2));
    }
    struct ov_bridge_result res;
    int rc = ov_bridge_run(r, n, raters, notes, &p, seed, &res);
    rc = rc ? rc : ov_bridge_digest(&res, d);
    if (rc == 0) {
        for (int k = 0; k < 32; k++) {
            fprintf(stderr, "%02x", d[k]);
        }
        fprintf(stderr, " %u\n", res.iterations);
        ov_bridge_result_free(&res);
    }
    free(r);
    free(x);
    return rc == 0 ? 0 : 1;
}
