/* test_sortition: the stratified draw (core/protocol/sortition): quotas met in every one of
 * 1,000 seeded draws of 447 from a pool of 10,000 with five categories, the same seed the
 * same panel, infeasible quotas named, households apart, reserves outside the panel. */
#include <pthread.h>
#include <sodium.h>

#include "protocol/sortition.h"
#include "../test.h"

#define N_POOL 10000u
#define PANEL 447u
#define C 5u

/* Shares of each category's values (per mille), realistic for a national sample. */
static const unsigned shares[C][8] = {
    { 120, 170, 170, 160, 170, 210, 0 },  /* age band: 16-24 ... 65+ */
    { 490, 500, 10, 0 },                  /* gender */
    { 140, 130, 110, 120, 100, 90, 80, 230 }, /* region */
    { 300, 350, 350, 0 },                 /* education */
    { 220, 180, 150, 200, 250, 0 },       /* occupation */
};

static size_t
n_values_of(unsigned c)
{
    size_t n = 0;
    while (n < 8 && shares[c][n] != 0) {
        n++;
    }
    return n;
}

/* A pool whose values follow the shares (a seeded stream), quotas around the panel's share. */
static void
make_pool(struct ov_sort_pool *p, uint8_t *values, uint32_t panel)
{
    uint8_t seed[randombytes_SEEDBYTES] = { 7 };
    uint32_t *r = malloc(N_POOL * C * sizeof *r);
    randombytes_buf_deterministic(r, N_POOL * C * sizeof *r, seed);
    memset(p, 0, sizeof *p);
    p->n_categories = C;
    p->n_members = N_POOL;
    p->values = values;
    for (unsigned c = 0; c < C; c++) {
        p->n_values[c] = n_values_of(c);
        for (size_t m = 0; m < N_POOL; m++) {
            unsigned x = r[m * C + c] % 1000, k = 0, acc = shares[c][0];
            while (x >= acc && k + 1 < p->n_values[c]) {
                acc += shares[c][++k];
            }
            values[m * C + c] = (uint8_t)k;
        }
        for (size_t k = 0; k < p->n_values[c]; k++) {
            unsigned e = panel * shares[c][k]; /* per mille of the panel */
            p->quota[c][k].min = e * 9 / 10000;
            p->quota[c][k].max = (e * 11 + 9999) / 10000 + 1;
        }
    }
    free(r);
}

static int
quotas_met(const struct ov_sort_pool *p, const uint32_t *panel, uint32_t n)
{
    unsigned got[C][8];
    memset(got, 0, sizeof got);
    for (uint32_t i = 0; i < n; i++) {
        for (unsigned c = 0; c < C; c++) {
            got[c][p->values[(size_t)panel[i] * C + c]]++;
        }
    }
    for (unsigned c = 0; c < C; c++) {
        for (size_t k = 0; k < p->n_values[c]; k++) {
            if (got[c][k] < p->quota[c][k].min || got[c][k] > p->quota[c][k].max) {
                return 0;
            }
        }
    }
    return 1;
}

static int
distinct(const uint32_t *a, uint32_t n, const uint32_t *b, uint32_t nb)
{
    static uint8_t seen[N_POOL];
    memset(seen, 0, sizeof seen);
    for (uint32_t i = 0; i < n + nb; i++) {
        uint32_t m = i < n ? a[i] : b[i - n];
        if (m >= N_POOL || seen[m]) {
            return 0;
        }
        seen[m] = 1;
    }
    return 1;
}

static void
seed_of(uint64_t i, uint8_t seed[OV_SORT_SEED_LEN])
{
    memset(seed, 0, OV_SORT_SEED_LEN);
    memcpy(seed, &i, sizeof i);
}

static void
test_thousand_draws(void)
{
    static uint8_t values[N_POOL * C];
    static uint32_t panel[PANEL], again[PANEL], reserves[20];
    struct ov_sort_pool p;
    make_pool(&p, values, PANEL);
    char why[1024];
    CHECK_EQ_INT(ov_sort_check(&p, PANEL, why, sizeof why), 0);
    unsigned ok = 0, met = 0, apart = 0, retried = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        uint8_t seed[OV_SORT_SEED_LEN];
        uint32_t attempt = 0;
        seed_of(i, seed);
        int rc = ov_sort_draw(&p, PANEL, i < 50 ? 20 : 0, seed, 100, panel,
                              i < 50 ? reserves : NULL, &attempt);
        ok += rc == 0;
        met += rc == 0 && quotas_met(&p, panel, PANEL);
        apart += rc == 0 && distinct(panel, PANEL, reserves, i < 50 ? 20 : 0);
        retried += attempt > 0;
    }
    CHECK_EQ_INT(ok, 1000);
    CHECK_EQ_INT(met, 1000);
    CHECK_EQ_INT(apart, 1000);
    fprintf(stderr, "test_sortition: 1000 draws of %u from %u, %u needed a retry\n", PANEL, N_POOL,
            retried);

    /* the same seed, the same panel; another seed, another */
    uint8_t seed[OV_SORT_SEED_LEN];
    uint32_t a1 = 0, a2 = 0;
    seed_of(42, seed);
    CHECK_EQ_INT(ov_sort_draw(&p, PANEL, 0, seed, 100, panel, NULL, &a1), 0);
    CHECK_EQ_INT(ov_sort_draw(&p, PANEL, 0, seed, 100, again, NULL, &a2), 0);
    CHECK_EQ_MEM(panel, again, sizeof panel);
    CHECK_EQ_INT(a1, a2);
    seed[31] ^= 1;
    CHECK_EQ_INT(ov_sort_draw(&p, PANEL, 0, seed, 100, again, NULL, &a2), 0);
    CHECK(memcmp(panel, again, sizeof panel) != 0);
}

static void
test_infeasible(void)
{
    static uint8_t values[N_POOL * C];
    struct ov_sort_pool p;
    char why[2048];
    make_pool(&p, values, PANEL);
    p.quota[1][2].min = 200; /* gender "other": 1 % of 10,000 is about 100 members */
    CHECK_EQ_INT(ov_sort_check(&p, PANEL, why, sizeof why), -OV_E_RANGE);
    CHECK(strstr(why, "category 1 value 2: min 200, but only") != NULL);
    make_pool(&p, values, PANEL);
    p.quota[0][0].min = 400; /* with the other ages' minimums, more than the panel */
    p.quota[0][0].max = 400;
    CHECK_EQ_INT(ov_sort_check(&p, PANEL, why, sizeof why), -OV_E_RANGE);
    CHECK(strstr(why, "category 0: its minimums add up to") != NULL);
    make_pool(&p, values, PANEL);
    for (size_t k = 0; k < p.n_values[3]; k++) {
        p.quota[3][k].max = 100; /* education: 300 at most */
    }
    CHECK_EQ_INT(ov_sort_check(&p, PANEL, why, sizeof why), -OV_E_RANGE);
    CHECK(strstr(why, "category 3: at most 300 can be selected") != NULL);
    uint32_t panel[PANEL], attempt = 0;
    uint8_t seed[OV_SORT_SEED_LEN] = { 1 };
    CHECK_EQ_INT(ov_sort_draw(&p, PANEL, 0, seed, 10, panel, NULL, &attempt), -OV_E_RANGE);

    /* each quota feasible alone, jointly not: the two minimums need the same people */
    uint8_t v2[6 * 2] = { 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0 };
    struct ov_sort_pool q;
    memset(&q, 0, sizeof q);
    q.n_categories = 2;
    q.n_members = 6;
    q.values = v2;
    q.n_values[0] = q.n_values[1] = 2;
    q.quota[0][0] = (struct ov_sort_quota){ 3, 3 }; /* three with value 0 of category 0 */
    q.quota[0][1] = (struct ov_sort_quota){ 0, 3 };
    q.quota[1][0] = (struct ov_sort_quota){ 0, 0 }; /* nobody with value 0 of category 1 */
    q.quota[1][1] = (struct ov_sort_quota){ 0, 3 };
    CHECK_EQ_INT(ov_sort_check(&q, 3, why, sizeof why), 0);
    CHECK_EQ_INT(ov_sort_draw(&q, 3, 0, seed, 50, panel, NULL, &attempt), -OV_E_STATE);
}

static void
test_households(void)
{
    enum { M = 400, P = 60 };
    uint8_t values[M];
    uint32_t hh[M], panel[P], reserves[40], attempt = 0;
    struct ov_sort_pool p;
    memset(&p, 0, sizeof p);
    for (unsigned m = 0; m < M; m++) {
        values[m] = (uint8_t)(m % 2);
        hh[m] = m % 5 == 4 ? OV_SORT_NO_HOUSEHOLD : m / 4; /* households of four, some alone */
    }
    p.n_categories = 1;
    p.n_values[0] = 2;
    p.quota[0][0] = (struct ov_sort_quota){ 25, 35 };
    p.quota[0][1] = (struct ov_sort_quota){ 25, 35 };
    p.n_members = M;
    p.values = values;
    p.household = hh;
    unsigned apart = 0;
    for (uint64_t i = 0; i < 200; i++) {
        uint8_t seed[OV_SORT_SEED_LEN];
        seed_of(i, seed);
        if (ov_sort_draw(&p, P, 40, seed, 100, panel, reserves, &attempt) != 0) {
            continue;
        }
        int clash = 0;
        for (unsigned a = 0; a < P + 40; a++) {
            uint32_t x = a < P ? panel[a] : reserves[a - P];
            for (unsigned b = 0; b < P; b++) {
                clash |= a != b && hh[x] != OV_SORT_NO_HOUSEHOLD && hh[x] == hh[panel[b]];
            }
        }
        apart += !clash;
    }
    CHECK_EQ_INT(apart, 200);
}

/* Two draws at once, each over its own pool whose households the other's would misorder:
 * each must give what it gives alone (the households' sort key is per call, not shared). */
enum { RM = 240, RP = 60, RSEEDS = 64, RROUNDS = 40 };

struct reentrant {
    struct ov_sort_pool p;
    uint8_t values[RM];
    uint32_t hh[RM];
    uint32_t want[RSEEDS][RP];
    unsigned same;
};

static void *
reentrant_main(void *arg)
{
    struct reentrant *r = arg;
    uint32_t panel[RP], attempt = 0;
    for (unsigned round = 0; round < RROUNDS; round++) {
        for (uint64_t i = 0; i < RSEEDS; i++) {
            uint8_t seed[OV_SORT_SEED_LEN];
            seed_of(i, seed);
            r->same += ov_sort_draw(&r->p, RP, 0, seed, 10, panel, NULL, &attempt) == 0 &&
                       memcmp(panel, r->want[i], sizeof panel) == 0;
        }
    }
    return NULL;
}

static void
test_reentrant(void)
{
    static struct reentrant r[2];
    for (unsigned t = 0; t < 2; t++) {
        memset(&r[t].p, 0, sizeof r[t].p);
        for (unsigned m = 0; m < RM; m++) {
            r[t].values[m] = 0;
            /* pairs of neighbours, or pairs of mirrored members: one pool's household
             * numbers sort the other's members into broken groups */
            r[t].hh[m] = t == 0 ? m / 2 : (m < RM / 2 ? m : RM - 1 - m);
        }
        r[t].p.n_categories = 1;
        r[t].p.n_values[0] = 1;
        r[t].p.quota[0][0] = (struct ov_sort_quota){ 0, RP };
        r[t].p.n_members = RM;
        r[t].p.values = r[t].values;
        r[t].p.household = r[t].hh;
        for (uint64_t i = 0; i < RSEEDS; i++) {
            uint8_t seed[OV_SORT_SEED_LEN];
            uint32_t attempt = 0;
            seed_of(i, seed);
            CHECK_EQ_INT(ov_sort_draw(&r[t].p, RP, 0, seed, 10, r[t].want[i], NULL, &attempt), 0);
        }
    }
    pthread_t th[2];
    for (unsigned t = 0; t < 2; t++) {
        CHECK_EQ_INT(pthread_create(&th[t], NULL, reentrant_main, &r[t]), 0);
    }
    for (unsigned t = 0; t < 2; t++) {
        CHECK_EQ_INT(pthread_join(th[t], NULL), 0);
        CHECK_EQ_INT(r[t].same, RSEEDS * RROUNDS);
    }
}

static void
test_stats(void)
{
    static uint8_t values[N_POOL * C];
    static uint64_t counts[N_POOL];
    struct ov_sort_pool p;
    uint64_t failed = 0, total = 0, zero = 0;
    uint8_t base[OV_SORT_SEED_LEN] = { 3 };
    make_pool(&p, values, PANEL);
    CHECK_EQ_INT(ov_sort_stats(&p, PANEL, base, 100, 100, counts, &failed), 0);
    CHECK_EQ_INT(failed, 0);
    for (size_t m = 0; m < N_POOL; m++) {
        total += counts[m];
        zero += counts[m] == 0;
    }
    CHECK_EQ_INT(total, 100u * PANEL);
    /* 4.47 % on average: over 100 draws about 1 % of members are never picked by chance */
    CHECK(zero < N_POOL / 20);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    test_thousand_draws();
    test_infeasible();
    test_households();
    test_reentrant();
    test_stats();
    TEST_DONE("test_sortition");
}
