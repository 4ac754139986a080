/* groupsdump: a random opinion round for the independent check of the groups algorithm.
 *
 *   groupsdump N [--bytes FILE]
 *
 * Draws round N deterministically (libsodium's seeded generator): 2 to 4 camps of
 * participants, up to 60 statements (shared, or one camp's), a density, passes, noise and a
 * seed. Prints the round on stdout (line 1 "PARTICIPANTS STATEMENTS SEED_HEX", then
 * "PARTICIPANT STATEMENT VALUE" lines, VALUE 1 agree, -1 disagree, 0 pass, in reverse
 * order), and on stderr the SHA-256 of core/protocol/groups' canonical result bytes; with
 * --bytes, those bytes into FILE (to find where two implementations part). Exit status 0,
 * 1 on failure, 2 on usage. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "protocol/groups.h"

/* Participant p's planted vote on statement s (camps of p % camps). */
static int32_t
planted(uint32_t p, uint32_t s, uint32_t camps)
{
    uint32_t camp = p % camps, kind = s % (camps + 1);
    if (kind == camps) {
        return OV_GROUPS_AGREE; /* shared ground */
    }
    return kind == camp ? OV_GROUPS_AGREE : OV_GROUPS_DISAGREE;
}

int
main(int argc, char **argv)
{
    if ((argc != 2 && !(argc == 4 && strcmp(argv[2], "--bytes") == 0)) || sodium_init() < 0) {
        fprintf(stderr, "usage: groupsdump N [--bytes FILE]\n");
        return 2;
    }
    uint8_t s[randombytes_SEEDBYTES] = { 0 };
    s[0] = (uint8_t)atoi(argv[1]);
    s[1] = 91;
    uint32_t h[4];
    randombytes_buf_deterministic(h, sizeof h, s);
    uint32_t camps = 2 + h[0] % 3, people = 1 + h[1] % 240, statements = 1 + h[2] % 60;
    unsigned density = 60 + h[3] % 180; /* of 256 */
    size_t cells = (size_t)people * statements, n = 0;
    struct ov_groups_vote *v = malloc(cells * sizeof *v);
    uint8_t *x = malloc(cells * 3), seed[OV_GROUPS_SEED_LEN], d[32];
    if (v == NULL || x == NULL) {
        return 1;
    }
    s[1] = 92;
    randombytes_buf_deterministic(x, cells * 3, s);
    for (uint32_t p = 0; p < people; p++) {
        for (uint32_t t = 0; t < statements; t++) {
            const uint8_t *b = &x[((size_t)p * statements + t) * 3];
            if (b[0] >= density) {
                continue;
            }
            int32_t val = b[1] < 25 ? OV_GROUPS_PASS /* ~10 % pass */
                          : b[1] < 50 ? (int32_t)(b[2] % 3) - 1 /* ~10 % noise */
                                      : planted(p, t, camps);
            v[n++] = (struct ov_groups_vote){ p, t, val };
        }
    }
    s[1] = 93;
    randombytes_buf_deterministic(seed, sizeof seed, s);
    printf("%u %u ", people, statements);
    for (size_t k = 0; k < sizeof seed; k++) {
        printf("%02x", seed[k]);
    }
    printf("\n");
    for (size_t k = n; k-- > 0;) {
        printf("%u %u %d\n", v[k].participant, v[k].statement, v[k].value);
    }
    struct ov_groups_result r;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = ov_groups_run(people, statements, v, n, seed, &r);
    rc = rc ? rc : ov_groups_hash(&r, d);
    if (rc == 0 && argc == 4) {
        FILE *f = fopen(argv[3], "wb");
        rc = ov_groups_encode(&r, &bytes, &len);
        rc = rc ? rc : (f != NULL && fwrite(bytes, 1, len, f) == len ? 0 : -OV_E_IO);
        if (f != NULL) {
            fclose(f);
        }
        free(bytes);
    }
    if (rc == 0) {
        for (int k = 0; k < 32; k++) {
            fprintf(stderr, "%02x", d[k]);
        }
        fprintf(stderr, "\n");
        ov_groups_free(&r);
    }
    free(v);
    free(x);
    return rc == 0 ? 0 : 1;
}
