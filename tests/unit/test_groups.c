/* test_groups: opinion groups (docs/PROTOCOL.md §11.2): planted camps recovered exactly and
 * their shared statements ranked first; a tiny case worked by hand; every refusal; the
 * result's bytes pinned by a hash recorded here, so every build that passes (plain, ASan,
 * any -O) computed the same bytes. `test_groups --dump FILE` also writes them, to compare
 * builds directly:
 *   make BUILD=build/o0 CFLAGS="-O0 -g" build/o0/tests/test_groups
 *   build/o0/tests/test_groups --dump o0.bin; build/tests/test_groups --dump o2.bin
 *   cmp o0.bin o2.bin */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/groups.h"
#include "../test.h"

static uint64_t
mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Camps: participant p is in camp p % camps (interleaved, so index order says nothing).
 * Statements below n_cons everyone agrees with; statement s above is camp (s % camps)'s:
 * it agrees, the others disagree. pass_pct of votes are passes, miss_pct missing. */
static struct ov_groups_vote *
camps(uint32_t P, uint32_t S, uint32_t ncamps, uint32_t n_cons, unsigned pass_pct,
      unsigned miss_pct, uint64_t rs, size_t *n)
{
    struct ov_groups_vote *v = malloc((size_t)P * S * sizeof *v);
    *n = 0;
    for (uint32_t p = 0; v && p < P; p++) {
        for (uint32_t s = 0; s < S; s++) {
            uint64_t r = mix(&rs) % 100;
            if (r < miss_pct) {
                continue;
            }
            int32_t val = s < n_cons || s % ncamps == p % ncamps ? 1 : -1;
            val = r < miss_pct + pass_pct ? 0 : val;
            v[(*n)++] = (struct ov_groups_vote){ p, s, val };
        }
    }
    return v;
}

static const uint8_t seed0[OV_GROUPS_SEED_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* Every participant of a camp in one group, one group per camp. */
static int
recovers(const struct ov_groups_result *r, uint32_t ncamps)
{
    uint32_t of_camp[8] = { 0 };
    for (uint32_t c = 0; c < ncamps; c++) {
        of_camp[c] = r->group[c];
        for (uint32_t d = 0; d < c; d++) {
            if (of_camp[d] == of_camp[c]) {
                return 0;
            }
        }
    }
    for (uint32_t p = 0; p < r->n_participants; p++) {
        if (r->group[p] != of_camp[p % ncamps]) {
            return 0;
        }
    }
    return r->k == ncamps;
}

static void
test_planted(uint32_t ncamps, uint32_t P, uint32_t S, uint32_t n_cons)
{
    size_t n;
    struct ov_groups_vote *v = camps(P, S, ncamps, n_cons, 10, 20, 42 + ncamps, &n);
    struct ov_groups_result r;
    CHECK(v != NULL);
    CHECK_EQ_INT(ov_groups_run(P, S, v, n, seed0, &r), 0);
    CHECK_EQ_INT(r.k, ncamps);
    CHECK(recovers(&r, ncamps));
    CHECK_EQ_INT(r.n_clustered, P);
    for (uint32_t g = 0; g < r.k; g++) { /* group g is camp g: both go by first member */
        CHECK_EQ_INT(r.group_size[g], (P - g + ncamps - 1) / ncamps);
    }
    int first = 1;
    for (uint32_t i = 0; i < n_cons; i++) {
        first &= r.ranking[i] < n_cons;
    }
    CHECK(first);
    /* each group's representative statements are its camp's own: agreed, or others' */
    for (uint32_t g = 0; g < r.k; g++) {
        CHECK(r.n_rep[g] >= 1);
        uint32_t camp = 0;
        while (r.group[camp] != g) {
            camp++;
        }
        for (uint32_t i = 0; i < r.n_rep[g]; i++) {
            const struct ov_groups_rep *x = &r.rep[g][i];
            CHECK(x->statement >= n_cons);
            CHECK(x->direction == (x->statement % ncamps == camp ? OV_GROUPS_AGREE
                                                                 : OV_GROUPS_DISAGREE));
            CHECK(i == 0 || x->metric <= r.rep[g][i - 1].metric);
        }
    }
    ov_groups_free(&r);
    free(v);
}

/* One statement, four participants: agree, agree, disagree, pass. Worked by hand:
 * mean 1/4, positions 3/4, 3/4, -5/4, -1/4 on the first axis (0 on the second: one
 * statement leaves no second component); base clusters at the three distinct positions
 * with weights 2, 1, 1; max_k = min(5, 2 + 3/12, 3) = 2; k = 2 starts from 3/4 (heaviest)
 * and -5/4 (weight x squared distance 4 > 1); -1/4 is equally far from both and goes to
 * the first; groups {0, 1, 3} and {2}. */
static void
test_hand(void)
{
    const struct ov_groups_vote v[] = { { 3, 0, 0 }, { 0, 0, 1 }, { 2, 0, -1 }, { 1, 0, 1 } };
    struct ov_groups_result r;
    CHECK_EQ_INT(ov_groups_run(4, 1, v, 4, seed0, &r), 0);
    CHECK(r.x[0] == 0.75 && r.x[1] == 0.75 && r.x[2] == -1.25 && r.x[3] == -0.25);
    CHECK(r.y[0] == 0.0 && r.y[1] == 0.0 && r.y[2] == 0.0 && r.y[3] == 0.0);
    CHECK_EQ_INT(r.n_base, 3);
    CHECK_EQ_INT(r.max_k, 2);
    CHECK_EQ_INT(r.k, 2);
    CHECK(r.group[0] == 0 && r.group[1] == 0 && r.group[2] == 1 && r.group[3] == 0);
    CHECK(r.group_size[0] == 3 && r.group_size[1] == 1);
    /* silhouette: 3/4 has a = 1 (to -1/4), b = 2 (to -5/4): 1/2; -1/4 has a = b = 1: 0;
     * -5/4 is alone: 0; the mean over three base clusters */
    CHECK(r.k_eligible[2] == 1 && r.silhouette[2] == 0.5 / 3.0);
    /* consensus: group 0 agrees 2 of 3, group 1 0 of 1 */
    CHECK(r.consensus[0] == 1.0 * (3.0 / 5.0) * (1.0 / 3.0));
    /* group 1 (the disagreeing one): disagree 1 of 1 against the rest's 0 of 3 passes
     * both tests: p = 2/3, p-test = 2 sqrt(2) (1 - 1/2), r = (2/3) / (1/5),
     * r-test = (1 - 1/4) / sqrt(1/2 * 1/2 * (1/2 + 1/4)) */
    CHECK_EQ_INT(r.n_rep[1], 1);
    const struct ov_groups_rep *d = &r.rep[1][0];
    CHECK(d->statement == 0 && d->direction == OV_GROUPS_DISAGREE && d->successes == 1 &&
          d->trials == 1);
    CHECK(d->p == 2.0 / 3.0 && d->p_test == 2.0 * sqrt(2.0) * (2.0 / 2.0 - 0.5));
    CHECK(d->r == (2.0 / 3.0) / (1.0 / 5.0));
    CHECK(d->r_test == (1.0 - 0.25) / sqrt(0.5 * (1.0 - 0.5) * (1.0 / 2.0 + 1.0 / 4.0)));
    CHECK(d->metric == d->r * d->r_test * d->p * d->p_test);
    /* group 0: agree 2 of 3 passes no test (r-test 0.61): the best by its test stands in */
    CHECK_EQ_INT(r.n_rep[0], 1);
    CHECK(r.rep[0][0].direction == OV_GROUPS_AGREE && r.rep[0][0].p == 3.0 / 5.0 &&
          r.rep[0][0].p_test == 1.0);
    uint8_t *b = NULL;
    size_t len = 0;
    CHECK_EQ_INT(ov_groups_encode(&r, &b, &len), 0);
    CHECK_EQ_INT(len, 39 + 9 + 8 * 2 + 20 * 4 + 12 * 1 + 53 * 2); /* §11.2's length */
    CHECK(len > 19 && memcmp(b, "onevoice/groups/v1", 19) == 0);
    free(b);
    ov_groups_free(&r);
}

static void
test_degenerate(void)
{
    struct ov_groups_result r;
    /* no votes: nobody clustered, no groups, every consensus the empty product */
    CHECK_EQ_INT(ov_groups_run(3, 2, NULL, 0, seed0, &r), 0);
    CHECK(r.k == 0 && r.n_clustered == 0 && r.group[0] == OV_GROUPS_NONE);
    CHECK(r.consensus[0] == 1.0 && r.ranking[0] == 0 && r.ranking[1] == 1 && r.x[2] == 0.0);
    uint8_t h[32];
    CHECK_EQ_INT(ov_groups_hash(&r, h), 0);
    ov_groups_free(&r);
    /* everyone passes on everything: one place, one group */
    struct ov_groups_vote v[6];
    for (uint32_t i = 0; i < 6; i++) {
        v[i] = (struct ov_groups_vote){ i / 2, i % 2, 0 };
    }
    CHECK_EQ_INT(ov_groups_run(3, 2, v, 6, seed0, &r), 0);
    CHECK(r.k == 1 && r.group_size[0] == 3 && r.x[1] == 0.0 && r.y[1] == 0.0);
    ov_groups_free(&r);
    /* one who voted little is still clustered while fewer than 15 are (Polis' greedy rule) */
    struct ov_groups_vote w[9];
    for (uint32_t i = 0; i < 8; i++) {
        w[i] = (struct ov_groups_vote){ 0, i, i % 2 ? 1 : -1 };
    }
    w[8] = (struct ov_groups_vote){ 1, 0, 1 };
    CHECK_EQ_INT(ov_groups_run(3, 8, w, 9, seed0, &r), 0);
    CHECK(r.n_clustered == 2 && r.group[2] == OV_GROUPS_NONE && r.group[1] != OV_GROUPS_NONE);
    ov_groups_free(&r);
}

static void
test_refusals(void)
{
    struct ov_groups_result r;
    struct ov_groups_vote v[2] = { { 0, 0, 1 }, { 1, 1, -1 } };
    CHECK_EQ_INT(ov_groups_run(0, 2, v, 2, seed0, &r), -OV_E_RANGE);
    CHECK(r.group == NULL && r.k == 0);
    CHECK_EQ_INT(ov_groups_run(2, 0, v, 2, seed0, &r), -OV_E_RANGE);
    CHECK_EQ_INT(ov_groups_run(OV_GROUPS_MAX_PARTICIPANTS + 1, 2, v, 2, seed0, &r), -OV_E_RANGE);
    CHECK_EQ_INT(ov_groups_run(2, OV_GROUPS_MAX_STATEMENTS + 1, v, 2, seed0, &r), -OV_E_RANGE);
    CHECK_EQ_INT(ov_groups_run(2, 2, NULL, 2, seed0, &r), -OV_E_RANGE);
    CHECK_EQ_INT(ov_groups_run(2, 2, v, 2, NULL, &r), -OV_E_RANGE);
    CHECK_EQ_INT(ov_groups_run(2, 2, v, 2, seed0, NULL), -OV_E_RANGE);
    CHECK_EQ_INT(ov_groups_run(1, 1, v, 2, seed0, &r), -OV_E_RANGE); /* more votes than cells */
    CHECK_EQ_INT(ov_groups_run(1, 2, v, 2, seed0, &r), -OV_E_RANGE); /* participant 1 of 1 */
    CHECK_EQ_INT(ov_groups_run(2, 1, v, 2, seed0, &r), -OV_E_RANGE); /* statement 1 of 1 */
    v[1].value = 2;
    CHECK_EQ_INT(ov_groups_run(2, 2, v, 2, seed0, &r), -OV_E_RANGE);
    v[1].value = -2;
    CHECK_EQ_INT(ov_groups_run(2, 2, v, 2, seed0, &r), -OV_E_RANGE);
    v[1] = (struct ov_groups_vote){ 0, 0, -1 };
    CHECK_EQ_INT(ov_groups_run(2, 2, v, 2, seed0, &r), -OV_E_CONFLICT);
    CHECK(r.group == NULL && r.x == NULL);
    ov_groups_free(&r);
    ov_groups_free(NULL);
    uint8_t *b = (uint8_t *)1;
    size_t len = 1;
    CHECK_EQ_INT(ov_groups_encode(&r, &b, &len), -OV_E_RANGE);
    CHECK(b == NULL && len == 0);
    CHECK_EQ_INT(ov_groups_encode(NULL, &b, &len), -OV_E_RANGE);
}

/* The recorded result: three camps of 200, 40 statements, sparse, seed 1..8. */
static const char pinned_hex[] =
    "789bea7fc6a253d411e4724ca150f9c39e30624b77375a1750846a7fe1bcd2cf";

static int
pinned_run(struct ov_groups_result *r)
{
    size_t n;
    struct ov_groups_vote *v = camps(200, 40, 3, 6, 15, 40, 7, &n);
    int rc = v ? ov_groups_run(200, 40, v, n, seed0, r) : -OV_E_NOMEM;
    free(v);
    return rc;
}

static void
hex(const uint8_t *h, char *out)
{
    for (int i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", h[i]);
    }
}

static void
test_reproducible(const char *dump)
{
    struct ov_groups_result r, r2;
    uint8_t h[32], h2[32];
    char hx[65];
    CHECK_EQ_INT(pinned_run(&r), 0);
    CHECK_EQ_INT(ov_groups_hash(&r, h), 0);
    hex(h, hx);
    if (strcmp(hx, pinned_hex) != 0) {
        fprintf(stderr, "test_groups: pinned result hash %s\n", hx);
    }
    CHECK(strcmp(hx, pinned_hex) == 0);
    CHECK(recovers(&r, 3));
    if (dump) {
        uint8_t *b = NULL;
        size_t len = 0;
        FILE *f = fopen(dump, "wb");
        CHECK(ov_groups_encode(&r, &b, &len) == 0 && f != NULL);
        CHECK(f != NULL && b != NULL && fwrite(b, 1, len, f) == len);
        if (f) {
            fclose(f);
        }
        free(b);
    }
    /* the votes' order does not matter: the same votes reversed, the same bytes */
    size_t n;
    struct ov_groups_vote *v = camps(200, 40, 3, 6, 15, 40, 7, &n);
    CHECK(v != NULL);
    for (size_t i = 0; v && i < n / 2; i++) {
        struct ov_groups_vote t = v[i];
        v[i] = v[n - 1 - i];
        v[n - 1 - i] = t;
    }
    CHECK_EQ_INT(ov_groups_run(200, 40, v, n, seed0, &r2), 0);
    CHECK_EQ_INT(ov_groups_hash(&r2, h2), 0);
    CHECK_EQ_MEM(h, h2, 32);
    ov_groups_free(&r2);
    /* another seed starts the power iteration elsewhere: the same groups */
    uint8_t seed1[OV_GROUPS_SEED_LEN] = { 9 };
    CHECK_EQ_INT(ov_groups_run(200, 40, v, n, seed1, &r2), 0);
    CHECK(r2.k == r.k && memcmp(r.group, r2.group, 200 * sizeof *r.group) == 0);
    ov_groups_free(&r2);
    free(v);
    ov_groups_free(&r);
}

int
main(int argc, char **argv)
{
    const char *dump = argc == 3 && strcmp(argv[1], "--dump") == 0 ? argv[2] : NULL;
    test_planted(2, 60, 20, 6);
    test_planted(3, 90, 24, 6);
    test_planted(2, 447, 200, 30);
    test_hand();
    test_degenerate();
    test_refusals();
    test_reproducible(dump);
    TEST_DONE("test_groups");
}
