/* test_roundresult: a statement round's results (core/protocol/roundresult, docs/PROTOCOL.md
 * §11.3), the glue the verifier and the auditor share. The statement id against Python's
 * hashlib; the canonical order (shuffled input, the same bytes); each refusal; the kinds'
 * mapping (an agreement round equals its helpfulness twin, and a small round equals the
 * algorithms run by hand on the indices §11.3 prescribes); a planted two-camp round
 * (bridging statements helpful, two groups of 30); the empty rounds; the JSON's shape. */
#include <sodium.h>

#include "base/codec.h"
#include "primitives/json.h"
#include "protocol/roundresult.h"
#include "../test.h"

#define CAMP 30u
#define RATERS (2 * CAMP)
#define STATEMENTS 12u /* 0..3 camp A's, 4..7 camp B's, 8..11 bridging */

typedef char sid[OV_STATEMENT_ID_LEN + 1];

static const uint8_t seed[OV_ROUND_SEED_LEN] = { 0x5e, 0xed, 7 };

/* A pseudonym whose byte order has nothing to do with u. */
static void
pseudonym_of(uint32_t u, uint8_t pk[OV_PSEUDONYM_LEN])
{
    uint8_t in[4] = { (uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u };
    crypto_hash_sha256(pk, in, sizeof in);
}

static void
statement_of(uint32_t s, sid out)
{
    char text[32];
    snprintf(text, sizeof text, "statement %u", s);
    if (ov_statement_id("test-round", text, out) != 0) {
        out[0] = 0;
    }
}

/* Helpfulness h of rater u on statement s: partisan statements 2 from their camp and 0 from
 * the other, bridging ones 2 from both; one rating in seven is "somewhat" (1). */
static int64_t
planted_h(uint32_t u, uint32_t s)
{
    uint32_t camp = u % 2;
    if ((u * 13 + s * 5) % 7 == 0) {
        return 1;
    }
    if (s >= 8) {
        return 2;
    }
    return (s / 4 == camp) ? 2 : 0;
}

struct round {
    sid st[STATEMENTS];
    struct ov_round_rating r[RATERS * STATEMENTS];
    struct ov_round_input in;
};

static void
planted(struct round *x, enum ov_rating_kind kind)
{
    memset(x, 0, sizeof *x);
    for (uint32_t s = 0; s < STATEMENTS; s++) {
        statement_of(s, x->st[s]);
    }
    size_t n = 0;
    for (uint32_t u = 0; u < RATERS; u++) {
        for (uint32_t s = 0; s < STATEMENTS; s++) {
            pseudonym_of(u, x->r[n].pseudonym);
            memcpy(x->r[n].statement, x->st[s], sizeof x->st[s]);
            int64_t h = planted_h(u, s);
            x->r[n++].rating = kind == OV_RATING_AGREEMENT ? h - 1 : h;
        }
    }
    x->in.kind = kind;
    x->in.statements = (const char(*)[OV_STATEMENT_ID_LEN + 1])x->st;
    x->in.n_statements = STATEMENTS;
    x->in.ratings = x->r;
    x->in.n_ratings = n;
    memcpy(x->in.seed, seed, sizeof seed);
    ov_bridge_params_default(&x->in.params);
}

static uint64_t rng = 88172645463325252ull;

static uint64_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void
shuffle(void *base, size_t n, size_t size)
{
    uint8_t tmp[sizeof(struct ov_round_rating)];
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next() % i);
        uint8_t *a = (uint8_t *)base + (i - 1) * size, *b = (uint8_t *)base + j * size;
        memcpy(tmp, a, size);
        memcpy(a, b, size);
        memcpy(b, tmp, size);
    }
}

static bool
dump(const struct ov_roundresult *r, struct ov_buf *out)
{
    json_t *j = ov_roundresult_json(r);
    bool ok = j != NULL && ov_json_dump(j, 1u << 24, out) == 0;
    json_decref(j);
    return ok;
}

/* Lowercase hex of the first 16 bytes of SHA-256("onevoice/v1/statement" 0x00 context 0x00
 * text), computed independently:
 *   python3 -c 'import hashlib;print(hashlib.sha256(b"onevoice/v1/statement\0town-budget-2027\0The library should open on Sundays.").hexdigest()[:32])' */
static void
test_statement_id(void)
{
    sid id;
    CHECK_EQ_INT(ov_statement_id("town-budget-2027", "The library should open on Sundays.", id), 0);
    CHECK(strcmp(id, "8854e09624f3785c406cf7387211b64a") == 0);
    sid other;
    CHECK_EQ_INT(ov_statement_id("town-budget-2028", "The library should open on Sundays.", other),
                 0);
    CHECK(strcmp(id, other) != 0);
}

static void
test_planted(void)
{
    static struct round x;
    planted(&x, OV_RATING_HELPFULNESS);
    struct ov_roundresult r;
    CHECK_EQ_INT(ov_roundresult_run(&x.in, &r), 0);
    CHECK_EQ_INT(r.n_statements, STATEMENTS);
    CHECK_EQ_INT(r.n_pseudonyms, RATERS);
    for (size_t i = 1; i < r.n_statements; i++) {
        CHECK(memcmp(r.statements[i - 1], r.statements[i], OV_STATEMENT_ID_LEN) < 0);
    }
    for (size_t i = 1; i < r.n_pseudonyms; i++) {
        CHECK(memcmp(r.pseudonyms[i - 1], r.pseudonyms[i], OV_PSEUDONYM_LEN) < 0);
    }
    struct ov_tally_results t;
    CHECK_EQ_INT(ov_roundresult_summary(&r, &t), 0);
    CHECK_EQ_INT(t.n_helpful, 4);
    for (uint32_t s = 0; s < STATEMENTS; s++) {
        bool helpful = false;
        for (size_t i = 0; i < t.n_helpful; i++) {
            helpful = helpful || strcmp(t.helpful[i], x.st[s]) == 0;
        }
        CHECK(helpful == (s >= 8));
        for (size_t i = 0; i < t.n_not_helpful; i++) {
            CHECK(s < 8 || strcmp(t.not_helpful[i], x.st[s]) != 0);
        }
    }
    for (size_t i = 1; i < t.n_helpful; i++) {
        CHECK(strcmp(t.helpful[i - 1], t.helpful[i]) < 0);
    }
    CHECK(r.groups_run);
    CHECK_EQ_INT(t.k, 2);
    CHECK_EQ_INT(t.sizes[0], CAMP);
    CHECK_EQ_INT(t.sizes[1], CAMP);
    CHECK_EQ_INT(t.n_consensus, 10);
    for (size_t i = 0; i < 4; i++) { /* everybody agrees most on the bridging statements */
        bool bridging = false;
        for (uint32_t s = 8; s < STATEMENTS; s++) {
            bridging = bridging || strcmp(t.consensus[i], x.st[s]) == 0;
        }
        CHECK(bridging);
    }
    CHECK_EQ_MEM(t.seed, seed, sizeof seed);
    CHECK_EQ_MEM(t.bridging, r.bridging_hash, 32);
    CHECK_EQ_MEM(t.groups, r.groups_hash, 32);
    CHECK_EQ_INT(t.min_ratings_per_rater, OV_BRIDGE_DEFAULT_MIN_RATINGS_PER_RATER);
    CHECK_EQ_INT(t.min_raters_per_note, OV_BRIDGE_DEFAULT_MIN_RATERS_PER_NOTE);
    free(t.helpful);
    free(t.not_helpful);

    /* The same round shuffled: the same bytes, the same JSON. */
    static struct round y;
    planted(&y, OV_RATING_HELPFULNESS);
    shuffle(y.st, STATEMENTS, sizeof y.st[0]);
    shuffle(y.r, y.in.n_ratings, sizeof y.r[0]);
    struct ov_roundresult r2;
    CHECK_EQ_INT(ov_roundresult_run(&y.in, &r2), 0);
    CHECK_EQ_MEM(r2.bridging_hash, r.bridging_hash, 32);
    CHECK_EQ_MEM(r2.groups_hash, r.groups_hash, 32);
    struct ov_buf j1, j2;
    CHECK(dump(&r, &j1) && dump(&r2, &j2));
    CHECK(j1.len == j2.len && memcmp(j1.ptr, j2.ptr, j1.len) == 0);
    ov_buf_clear(&j1);
    ov_buf_clear(&j2);
    ov_roundresult_free(&r2);

    /* The agreement twin (rating = h - 1): both algorithms see the same round. */
    static struct round z;
    planted(&z, OV_RATING_AGREEMENT);
    CHECK_EQ_INT(ov_roundresult_run(&z.in, &r2), 0);
    CHECK_EQ_MEM(r2.bridging_hash, r.bridging_hash, 32);
    CHECK_EQ_MEM(r2.groups_hash, r.groups_hash, 32);
    ov_roundresult_free(&r2);
    ov_roundresult_free(&r);
}

/* A small round against the algorithms run by hand on §11.3's indices and values. */
static void
test_mapping(void)
{
    uint8_t pk[3][OV_PSEUDONYM_LEN] = { { 3 }, { 1 }, { 2 } }; /* sorted: 1, 2, 0 */
    sid st[3] = { "cccccccccccccccccccccccccccccccc", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" }; /* sorted: 1, 2, 0 */
    static const uint32_t idx[3] = { 2, 0, 1 };          /* input index -> sorted index */
    struct ov_round_rating in_r[7];
    struct ov_bridge_rating br[7];
    struct ov_groups_vote gv[7];
    static const struct { uint32_t u, s; int64_t a; } plan[7] = {
        { 0, 0, 1 },  { 0, 1, -1 }, { 1, 0, 0 }, { 1, 2, 1 },
        { 2, 0, -1 }, { 2, 1, 1 },  { 2, 2, 0 },
    };
    for (size_t i = 0; i < 7; i++) {
        memcpy(in_r[i].pseudonym, pk[plan[i].u], OV_PSEUDONYM_LEN);
        memcpy(in_r[i].statement, st[plan[i].s], sizeof st[0]);
        in_r[i].rating = plan[i].a;
        double v = plan[i].a == 1 ? 1.0 : plan[i].a == 0 ? 0.5 : 0.0; /* agree 1, pass 0.5 */
        br[i] = (struct ov_bridge_rating){ idx[plan[i].u], idx[plan[i].s], v };
        gv[i] = (struct ov_groups_vote){ idx[plan[i].u], idx[plan[i].s], (int32_t)plan[i].a };
    }
    struct ov_round_input in = { .kind = OV_RATING_AGREEMENT,
                                 .statements = (const char(*)[OV_STATEMENT_ID_LEN + 1])st,
                                 .n_statements = 3, .ratings = in_r, .n_ratings = 7 };
    memcpy(in.seed, seed, sizeof seed);
    in.params = (struct ov_bridge_params){ 0, 0 };
    struct ov_roundresult r;
    CHECK_EQ_INT(ov_roundresult_run(&in, &r), 0);
    CHECK(strcmp(r.statements[0], st[1]) == 0 && strcmp(r.statements[2], st[0]) == 0);
    CHECK_EQ_INT(r.pseudonyms[0][0], 1);
    CHECK_EQ_INT(r.pseudonyms[2][0], 3);

    struct ov_bridge_result b;
    struct ov_groups_result g;
    uint8_t hb[32], hg[32];
    CHECK_EQ_INT(ov_bridge_run(br, 7, 3, 3, &in.params, seed, &b), 0);
    CHECK_EQ_INT(ov_bridge_digest(&b, hb), 0);
    CHECK_EQ_INT(ov_groups_run(3, 3, gv, 7, seed, &g), 0);
    CHECK_EQ_INT(ov_groups_hash(&g, hg), 0);
    CHECK_EQ_MEM(r.bridging_hash, hb, 32);
    CHECK_EQ_MEM(r.groups_hash, hg, 32);
    CHECK_EQ_INT(r.bridging.notes[2].n_ratings, 3); /* "ccc..": rated by all three */
    ov_bridge_result_free(&b);
    ov_groups_free(&g);

    /* Helpfulness spot check: h 2, 1, 0 are 1, 0.5, 0 for bridging, +1, 0, -1 for groups:
     * the helpfulness twin is the same round. */
    for (size_t i = 0; i < 7; i++) {
        in_r[i].rating = plan[i].a + 1;
    }
    in.kind = OV_RATING_HELPFULNESS;
    struct ov_roundresult r2;
    CHECK_EQ_INT(ov_roundresult_run(&in, &r2), 0);
    CHECK_EQ_MEM(r2.bridging_hash, hb, 32);
    CHECK_EQ_MEM(r2.groups_hash, hg, 32);
    ov_roundresult_free(&r2);
    ov_roundresult_free(&r);
}

static int
run_refused(const struct ov_round_input *in)
{
    struct ov_roundresult r;
    memset(&r, 0xa5, sizeof r);
    int rc = ov_roundresult_run(in, &r);
    CHECK(r.statements == NULL && r.pseudonyms == NULL && r.n_statements == 0 && !r.groups_run);
    ov_roundresult_free(&r);
    return rc;
}

static void
test_refused(void)
{
    static struct round x;
    planted(&x, OV_RATING_HELPFULNESS);
    struct ov_round_input in = x.in;
    in.kind = OV_RATING_SCALE;
    CHECK_EQ_INT(run_refused(&in), -OV_E_RANGE);
    in.kind = (enum ov_rating_kind)7;
    CHECK_EQ_INT(run_refused(&in), -OV_E_RANGE);
    in = x.in;
    in.statements = NULL;
    CHECK_EQ_INT(run_refused(&in), -OV_E_RANGE);
    CHECK_EQ_INT(ov_roundresult_run(&x.in, NULL), -OV_E_RANGE);

    /* a statement id twice; an id that is not 32 lowercase hex digits */
    memcpy(x.st[3], x.st[9], sizeof x.st[3]);
    CHECK_EQ_INT(run_refused(&x.in), -OV_E_CONFLICT);
    planted(&x, OV_RATING_HELPFULNESS);
    x.st[5][0] = 'A';
    CHECK_EQ_INT(run_refused(&x.in), -OV_E_MALFORMED);
    planted(&x, OV_RATING_HELPFULNESS);
    x.st[5][OV_STATEMENT_ID_LEN] = 'a';
    CHECK_EQ_INT(run_refused(&x.in), -OV_E_MALFORMED);

    /* a rating of a statement not in the list */
    planted(&x, OV_RATING_HELPFULNESS);
    x.in.n_statements = STATEMENTS - 1;
    CHECK_EQ_INT(run_refused(&x.in), -OV_E_NOT_FOUND);
    planted(&x, OV_RATING_HELPFULNESS);
    x.r[17].statement[4] = 'G';
    CHECK_EQ_INT(run_refused(&x.in), -OV_E_MALFORMED);

    /* off the kind's scale */
    planted(&x, OV_RATING_HELPFULNESS);
    x.r[100].rating = 3;
    CHECK_EQ_INT(run_refused(&x.in), -OV_E_RANGE);
    x.r[100].rating = -1;
    CHECK_EQ_INT(run_refused(&x.in), -OV_E_RANGE);
    planted(&x, OV_RATING_AGREEMENT);
    x.r[100].rating = 2;
    CHECK_EQ_INT(run_refused(&x.in), -OV_E_RANGE);
    x.r[100].rating = -2;
    CHECK_EQ_INT(run_refused(&x.in), -OV_E_RANGE);
    x.r[100].rating = INT64_MIN;
    CHECK_EQ_INT(run_refused(&x.in), -OV_E_RANGE);

    /* a pseudonym rating a statement twice, also with the same value, also far apart */
    planted(&x, OV_RATING_HELPFULNESS);
    x.r[500] = x.r[3];
    CHECK_EQ_INT(run_refused(&x.in), -OV_E_CONFLICT);
    planted(&x, OV_RATING_HELPFULNESS);
    x.r[4] = x.r[3];
    x.r[4].rating = (x.r[3].rating + 1) % 3;
    CHECK_EQ_INT(run_refused(&x.in), -OV_E_CONFLICT);
}

static void
test_empty(void)
{
    static const uint8_t sha_empty[32] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
        0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
        0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    };
    struct ov_bridge_params p;
    ov_bridge_params_default(&p);
    for (int with_statements = 0; with_statements < 2; with_statements++) {
        sid st[3];
        for (uint32_t s = 0; s < 3; s++) {
            statement_of(s, st[s]);
        }
        uint32_t ns = with_statements ? 3 : 0;
        struct ov_round_input in = { .kind = OV_RATING_AGREEMENT,
                                     .statements = with_statements ? (const char(*)[33])st : NULL,
                                     .n_statements = ns, .params = p };
        memcpy(in.seed, seed, sizeof seed);
        struct ov_roundresult r;
        CHECK_EQ_INT(ov_roundresult_run(&in, &r), 0);
        CHECK_EQ_INT(r.n_statements, ns);
        CHECK_EQ_INT(r.n_pseudonyms, 0);
        CHECK(!r.groups_run);
        CHECK_EQ_INT(r.groups.k, 0);
        CHECK_EQ_MEM(r.groups_hash, sha_empty, 32);
        struct ov_bridge_result b;
        uint8_t hb[32];
        CHECK_EQ_INT(ov_bridge_run(NULL, 0, 0, ns, &p, seed, &b), 0);
        CHECK_EQ_INT(ov_bridge_digest(&b, hb), 0);
        CHECK_EQ_MEM(r.bridging_hash, hb, 32);
        ov_bridge_result_free(&b);
        for (uint32_t s = 0; s < ns; s++) {
            CHECK_EQ_INT(r.bridging.notes[s].status, OV_BRIDGE_NEEDS_MORE);
        }
        struct ov_tally_results t;
        CHECK_EQ_INT(ov_roundresult_summary(&r, &t), 0);
        CHECK(t.n_helpful == 0 && t.n_not_helpful == 0 && t.k == 0 && t.n_consensus == 0);
        CHECK(t.helpful == NULL && t.not_helpful == NULL);
        json_t *j = ov_roundresult_json(&r);
        json_t *g = json_object_get(j, "groups");
        CHECK(json_array_size(json_object_get(g, "participants")) == 0);
        CHECK(json_array_size(json_object_get(g, "sizes")) == 0);
        CHECK(json_integer_value(json_object_get(g, "k")) == 0);
        CHECK(strcmp(json_string_value(json_object_get(g, "result")),
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
        json_t *bs = json_object_get(json_object_get(j, "bridging"), "statements");
        CHECK(json_array_size(bs) == ns);
        json_t *bi = json_object_get(json_object_get(j, "bridging"), "iterations");
        CHECK(json_integer_value(bi) == 0);
        json_decref(j);
        ov_roundresult_free(&r);
    }
}

static bool
has_keys(const json_t *o, const char *const *keys, size_t n)
{
    if (!json_is_object(o) || json_object_size(o) != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (json_object_get(o, keys[i]) == NULL) {
            return false;
        }
    }
    return true;
}

#define HAS_KEYS(o, ...)                                                                  \
    has_keys((o), (const char *const[]){ __VA_ARGS__ },                                   \
             sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

static void
test_json(void)
{
    static struct round x;
    planted(&x, OV_RATING_HELPFULNESS);
    struct ov_roundresult r;
    CHECK_EQ_INT(ov_roundresult_run(&x.in, &r), 0);
    json_t *j = ov_roundresult_json(&r);
    CHECK(HAS_KEYS(j, "seed", "bridging", "groups"));
    CHECK(strlen(json_string_value(json_object_get(j, "seed"))) == 64);
    json_t *b = json_object_get(j, "bridging"), *g = json_object_get(j, "groups");
    CHECK(HAS_KEYS(b, "algorithm", "min_ratings_per_rater", "min_raters_per_note", "result",
                   "mu", "loss", "iterations", "statements", "raters"));
    CHECK(strcmp(json_string_value(json_object_get(b, "algorithm")), OV_BRIDGE_ALGORITHM) == 0);
    CHECK(json_is_real(json_object_get(b, "mu")) && json_is_real(json_object_get(b, "loss")));
    CHECK(strlen(json_string_value(json_object_get(b, "result"))) == 64);
    json_t *st = json_object_get(b, "statements"), *ra = json_object_get(b, "raters");
    CHECK_EQ_INT(json_array_size(st), STATEMENTS);
    CHECK_EQ_INT(json_array_size(ra), RATERS);
    CHECK(HAS_KEYS(json_array_get(st, 0), "id", "status", "intercept", "factor", "ratings",
                   "ratings_in_model"));
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(st, 0), "id")),
                 r.statements[0]) == 0);
    size_t helpful = 0;
    for (size_t i = 0; i < json_array_size(st); i++) {
        helpful += strcmp(json_string_value(json_object_get(json_array_get(st, i), "status")),
                          "helpful") == 0;
    }
    CHECK_EQ_INT(helpful, 4);
    CHECK(HAS_KEYS(json_array_get(ra, 0), "pseudonym", "intercept", "factor", "ratings"));
    uint8_t pk[OV_PSEUDONYM_LEN];
    size_t pk_len = 0;
    const char *p = json_string_value(json_object_get(json_array_get(ra, 0), "pseudonym"));
    CHECK(strlen(p) == 43);
    CHECK(ov_b64_decode(pk, sizeof pk, &pk_len, p, strlen(p), OV_B64_URL_NOPAD) == 0 &&
          pk_len == 32 && memcmp(pk, r.pseudonyms[0], 32) == 0);

    CHECK(HAS_KEYS(g, "algorithm", "result", "k", "sizes", "participants", "consensus",
                   "representative"));
    CHECK(strcmp(json_string_value(json_object_get(g, "algorithm")), OV_GROUPS_ALGORITHM) == 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(g, "k")), 2);
    CHECK_EQ_INT(json_array_size(json_object_get(g, "sizes")), 2);
    CHECK_EQ_INT(json_integer_value(json_array_get(json_object_get(g, "sizes"), 1)), CAMP);
    json_t *pa = json_object_get(g, "participants"), *co = json_object_get(g, "consensus");
    json_t *rep = json_object_get(g, "representative");
    CHECK_EQ_INT(json_array_size(pa), RATERS);
    CHECK(HAS_KEYS(json_array_get(pa, 0), "pseudonym", "group", "x", "y"));
    CHECK_EQ_INT(json_array_size(co), STATEMENTS);
    CHECK(HAS_KEYS(json_array_get(co, 0), "id", "consensus"));
    CHECK_EQ_INT(json_array_size(rep), 2);
    for (size_t k = 0; k < json_array_size(rep); k++) {
        json_t *a = json_array_get(rep, k);
        CHECK_EQ_INT(json_array_size(a), r.groups.n_rep[k]);
        CHECK(json_array_size(a) == 0 ||
              HAS_KEYS(json_array_get(a, 0), "id", "direction", "successes", "votes", "p", "r",
                       "metric"));
    }
    json_decref(j);
    ov_roundresult_free(&r);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    test_statement_id();
    test_planted();
    test_mapping();
    test_refused();
    test_empty();
    test_json();
    TEST_DONE("test_roundresult");
}
