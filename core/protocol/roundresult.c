/* roundresult: a statement round's results (roundresult.h; docs/PROTOCOL.md §11.3). No
 * arithmetic of its own beyond h * 0.5 (exact), so no -ffp-contract=off is needed here: the
 * bits are bridging.c's and groups.c's. */
#include "protocol/roundresult.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/codec.h"

#define ID_LEN OV_STATEMENT_ID_LEN
#define PK_LEN OV_PSEUDONYM_LEN

typedef char round_id[ID_LEN + 1];

/* A rating once its statement is found: both kinds become h in {0, 1, 2} (helpfulness as it
 * is, agreement + 1), which bridging reads as h * 0.5 and groups as h - 1 (§11.3). */
struct key {
    const uint8_t *pseudonym;
    uint32_t statement;
    uint8_t h;
};

static int
id_check(const char *s)
{
    for (size_t i = 0; i < ID_LEN; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return -OV_E_MALFORMED;
        }
    }
    return s[ID_LEN] == '\0' ? 0 : -OV_E_MALFORMED;
}

static int
cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, ID_LEN);
}

/* By pseudonym, then statement: the raters' order, and a rating twice lands beside itself. */
static int
cmp_key(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    int c = memcmp(x->pseudonym, y->pseudonym, PK_LEN);
    return c ? c : (x->statement > y->statement) - (x->statement < y->statement);
}

static int
scale_h(enum ov_rating_kind kind, int64_t v, uint8_t *h)
{
    switch (kind) {
    case OV_RATING_HELPFULNESS:
        if (v < 0 || v > 2) {
            return -OV_E_RANGE;
        }
        *h = (uint8_t)v;
        return 0;
    case OV_RATING_AGREEMENT:
        if (v < -1 || v > 1) {
            return -OV_E_RANGE;
        }
        *h = (uint8_t)(v + 1);
        return 0;
    case OV_RATING_SCALE:
    default:
        return -OV_E_RANGE;
    }
}

/* The statements copied, checked and sorted; a duplicate conflicts. */
static int
sort_statements(const struct ov_round_input *in, struct ov_roundresult *out)
{
    out->statements = calloc(in->n_statements ? in->n_statements : 1, sizeof *out->statements);
    if (out->statements == NULL) {
        return -OV_E_NOMEM;
    }
    out->n_statements = in->n_statements;
    int rc = 0;
    for (size_t i = 0; i < in->n_statements && rc == 0; i++) {
        rc = id_check(in->statements[i]);
        memcpy(out->statements[i], in->statements[i], ID_LEN + 1);
    }
    if (rc == 0 && in->n_statements > 1) {
        qsort(out->statements, in->n_statements, sizeof *out->statements, cmp_id);
    }
    for (size_t i = 1; i < in->n_statements && rc == 0; i++) {
        rc = memcmp(out->statements[i - 1], out->statements[i], ID_LEN) == 0 ? -OV_E_CONFLICT : 0;
    }
    return rc;
}

/* Each rating's statement index and h, sorted by (pseudonym, statement). */
static int
make_keys(const struct ov_round_input *in, const struct ov_roundresult *out, struct key *k)
{
    for (size_t i = 0; i < in->n_ratings; i++) {
        const struct ov_round_rating *r = &in->ratings[i];
        int rc = id_check(r->statement);
        rc = rc ? rc : scale_h(in->kind, r->rating, &k[i].h);
        if (rc != 0) {
            return rc;
        }
        const char *s = bsearch(r->statement, out->statements, out->n_statements,
                                sizeof *out->statements, cmp_id);
        if (s == NULL) {
            return -OV_E_NOT_FOUND;
        }
        k[i].pseudonym = r->pseudonym;
        k[i].statement = (uint32_t)((size_t)(s - out->statements[0]) / sizeof *out->statements);
    }
    if (in->n_ratings > 1) {
        qsort(k, in->n_ratings, sizeof *k, cmp_key);
    }
    return 0;
}

/* The distinct pseudonyms in order, and both algorithms' ratings with the raters' indices. */
static int
map_ratings(const struct key *k, size_t n, struct ov_roundresult *out,
            struct ov_bridge_rating *br, struct ov_groups_vote *gv)
{
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        bool same = i > 0 && memcmp(k[i - 1].pseudonym, k[i].pseudonym, PK_LEN) == 0;
        if (same && k[i - 1].statement == k[i].statement) {
            return -OV_E_CONFLICT;
        }
        if (!same) {
            memcpy(out->pseudonyms[u++], k[i].pseudonym, PK_LEN);
        }
        uint32_t rater = (uint32_t)(u - 1);
        br[i] = (struct ov_bridge_rating){ rater, k[i].statement, (double)k[i].h * 0.5 };
        gv[i] = (struct ov_groups_vote){ rater, k[i].statement, (int32_t)k[i].h - 1 };
    }
    out->n_pseudonyms = u;
    return 0;
}

static int
run_algorithms(const struct ov_round_input *in, struct ov_roundresult *out,
               const struct ov_bridge_rating *br, const struct ov_groups_vote *gv)
{
    uint32_t np = (uint32_t)out->n_pseudonyms, ns = (uint32_t)out->n_statements;
    int rc = ov_bridge_run(br, in->n_ratings, np, ns, &in->params, in->seed, &out->bridging);
    rc = rc ? rc : ov_bridge_digest(&out->bridging, out->bridging_hash);
    if (rc == 0 && np > 0 && ns > 0) {
        rc = ov_groups_run(np, ns, gv, in->n_ratings, in->seed, &out->groups);
        out->groups_run = rc == 0;
        rc = rc ? rc : ov_groups_hash(&out->groups, out->groups_hash);
    } else if (rc == 0) {
        static const unsigned char none[1];
        rc = crypto_hash_sha256(out->groups_hash, none, 0) == 0 ? 0 : -OV_E_CRYPTO;
    }
    return rc;
}

int
ov_roundresult_run(const struct ov_round_input *in, struct ov_roundresult *out)
{
    if (out == NULL) {
        return -OV_E_RANGE;
    }
    memset(out, 0, sizeof *out);
    if (in == NULL || (in->statements == NULL && in->n_statements > 0) ||
        (in->ratings == NULL && in->n_ratings > 0) ||
        in->n_statements > OV_GROUPS_MAX_STATEMENTS || in->n_ratings > OV_BRIDGE_MAX_RATINGS ||
        (in->kind != OV_RATING_HELPFULNESS && in->kind != OV_RATING_AGREEMENT)) {
        return -OV_E_RANGE;
    }
    if (sodium_init() < 0) {
        return -OV_E_CRYPTO;
    }
    out->kind = in->kind;
    memcpy(out->seed, in->seed, sizeof out->seed);
    size_t n = in->n_ratings ? in->n_ratings : 1;
    struct key *k = malloc(n * sizeof *k);
    struct ov_bridge_rating *br = malloc(n * sizeof *br);
    struct ov_groups_vote *gv = malloc(n * sizeof *gv);
    out->pseudonyms = malloc(n * sizeof *out->pseudonyms);
    int rc = k && br && gv && out->pseudonyms ? 0 : -OV_E_NOMEM;
    rc = rc ? rc : sort_statements(in, out);
    rc = rc ? rc : make_keys(in, out, k);
    rc = rc ? rc : map_ratings(k, in->n_ratings, out, br, gv);
    rc = rc ? rc : run_algorithms(in, out, br, gv);
    free(k);
    free(br);
    free(gv);
    if (rc != 0) {
        ov_roundresult_free(out);
    }
    return rc;
}

void
ov_roundresult_free(struct ov_roundresult *r)
{
    if (r == NULL) {
        return;
    }
    free(r->statements);
    free(r->pseudonyms);
    ov_bridge_result_free(&r->bridging);
    ov_groups_free(&r->groups);
    memset(r, 0, sizeof *r);
}

/* ---- the tally entry's summary --------------------------------------------------------- */

/* The ids of the statements with bridging status `status`, in index order (so sorted). */
static int
ids_with_status(const struct ov_roundresult *r, uint8_t status, round_id **ids, size_t *n)
{
    size_t c = 0;
    for (size_t i = 0; i < r->n_statements; i++) {
        if (r->bridging.notes[i].status == status) {
            c++;
        }
    }
    *n = 0;
    *ids = NULL;
    if (c == 0) {
        return 0;
    }
    if (c > OV_MAX_ROUND_STATEMENTS) {
        return -OV_E_RANGE;
    }
    *ids = malloc(c * sizeof **ids);
    if (*ids == NULL) {
        return -OV_E_NOMEM;
    }
    for (size_t i = 0; i < r->n_statements; i++) {
        if (r->bridging.notes[i].status == status) {
            memcpy((*ids)[(*n)++], r->statements[i], ID_LEN + 1);
        }
    }
    return 0;
}

int
ov_roundresult_summary(const struct ov_roundresult *r, struct ov_tally_results *out)
{
    memset(out, 0, sizeof *out);
    if (r->groups.k > OV_TALLY_MAX_GROUPS) {
        return -OV_E_RANGE;
    }
    memcpy(out->seed, r->seed, sizeof out->seed);
    out->min_ratings_per_rater = r->bridging.params.min_ratings_per_rater;
    out->min_raters_per_note = r->bridging.params.min_raters_per_note;
    memcpy(out->bridging, r->bridging_hash, sizeof out->bridging);
    memcpy(out->groups, r->groups_hash, sizeof out->groups);
    int rc = ids_with_status(r, OV_BRIDGE_HELPFUL, &out->helpful, &out->n_helpful);
    rc = rc ? rc : ids_with_status(r, OV_BRIDGE_NOT_HELPFUL, &out->not_helpful,
                                   &out->n_not_helpful);
    if (rc != 0) {
        free(out->helpful);
        free(out->not_helpful);
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->k = r->groups.k;
    for (size_t g = 0; g < out->k; g++) {
        out->sizes[g] = r->groups.group_size[g];
    }
    if (r->groups_run) {
        for (size_t i = 0; i < r->n_statements && i < OV_TALLY_CONSENSUS_MAX; i++) {
            memcpy(out->consensus[i], r->statements[r->groups.ranking[i]], ID_LEN + 1);
            out->n_consensus++;
        }
    }
    return 0;
}

/* ---- GET /tallies/<context> ------------------------------------------------------------ */

/* A result's double as JSON: -0 as 0, as the result bytes write it. */
static json_t *
real(double v)
{
    return json_real(v == 0.0 ? 0.0 : v);
}

static json_t *
hex(const uint8_t *b, size_t n)
{
    char s[2 * 32 + 1];
    return n <= 32 && ov_hex_encode(s, sizeof s, b, n) == 0 ? json_string(s) : NULL;
}

static json_t *
b64url(const uint8_t p[PK_LEN])
{
    char s[((PK_LEN + 2) / 3) * 4 + 1];
    return ov_b64_encode(s, sizeof s, p, PK_LEN, OV_B64_URL_NOPAD) == 0 ? json_string(s) : NULL;
}

/* Sets keys[i] to vals[i] in o; a NULL value (a failed allocation) fails it. Every value is
 * taken, also after a failure, so the caller frees nothing. */
static int
set_all(json_t *o, const char *const *keys, json_t *const *vals, size_t n)
{
    int rc = o ? 0 : -1;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            rc = json_object_set_new(o, keys[i], vals[i]);
        } else {
            json_decref(vals[i]);
        }
    }
    return rc;
}

static json_t *
obj(const char *const *keys, json_t *const *vals, size_t n)
{
    json_t *o = json_object();
    if (set_all(o, keys, vals, n) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

#define OBJ(keys, ...)                                                             \
    obj(keys, (json_t *const[]){ __VA_ARGS__ }, sizeof(keys) / sizeof(keys)[0])

static int
push(json_t *a, json_t *v)
{
    return a == NULL || json_array_append_new(a, v) != 0 ? -1 : 0;
}

static json_t *
bridging_json(const struct ov_roundresult *r)
{
    const struct ov_bridge_result *b = &r->bridging;
    json_t *st = json_array(), *ra = json_array();
    int rc = st && ra ? 0 : -1;
    for (size_t i = 0; i < r->n_statements && rc == 0; i++) {
        static const char *const keys[] = { "id", "status", "intercept", "factor", "ratings",
                                            "ratings_in_model" };
        const struct ov_bridge_note *x = &b->notes[i];
        rc = push(st, OBJ(keys, json_string(r->statements[i]),
                          json_string(ov_bridge_status_name(x->status)), real(x->intercept),
                          real(x->factor), json_integer(x->n_ratings), json_integer(x->n_used)));
    }
    for (size_t i = 0; i < r->n_pseudonyms && rc == 0; i++) {
        static const char *const keys[] = { "pseudonym", "intercept", "factor", "ratings" };
        const struct ov_bridge_rater *x = &b->raters[i];
        rc = push(ra, OBJ(keys, b64url(r->pseudonyms[i]), real(x->intercept), real(x->factor),
                          json_integer(x->n_ratings)));
    }
    if (rc != 0) {
        json_decref(st);
        json_decref(ra);
        return NULL;
    }
    static const char *const keys[] = { "algorithm", "min_ratings_per_rater",
                                        "min_raters_per_note", "result", "mu", "loss",
                                        "iterations", "statements", "raters" };
    return OBJ(keys, json_string(OV_BRIDGE_ALGORITHM),
               json_integer(b->params.min_ratings_per_rater),
               json_integer(b->params.min_raters_per_note), hex(r->bridging_hash, 32),
               real(b->mu), real(b->loss), json_integer(b->iterations), st, ra);
}

static json_t *
reps_json(const struct ov_roundresult *r, uint32_t g)
{
    json_t *a = json_array();
    int rc = a ? 0 : -1;
    for (uint32_t j = 0; j < r->groups.n_rep[g] && rc == 0; j++) {
        static const char *const keys[] = { "id", "direction", "successes", "votes", "p", "r",
                                            "metric" };
        const struct ov_groups_rep *x = &r->groups.rep[g][j];
        rc = push(a, OBJ(keys, json_string(r->statements[x->statement]),
                         json_string(x->direction == OV_GROUPS_AGREE ? "agree" : "disagree"),
                         json_integer(x->successes), json_integer(x->trials), real(x->p),
                         real(x->r), real(x->metric)));
    }
    if (rc != 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *
groups_json(const struct ov_roundresult *r)
{
    const struct ov_groups_result *gr = &r->groups;
    json_t *sizes = json_array(), *parts = json_array(), *cons = json_array(),
           *reps = json_array();
    int rc = sizes && parts && cons && reps ? 0 : -1;
    for (uint32_t g = 0; g < gr->k && rc == 0; g++) {
        rc = push(sizes, json_integer(gr->group_size[g]));
        rc = rc ? rc : push(reps, reps_json(r, g));
    }
    for (size_t i = 0; r->groups_run && i < r->n_pseudonyms && rc == 0; i++) {
        static const char *const keys[] = { "pseudonym", "group", "x", "y" };
        json_int_t g = gr->group[i] == OV_GROUPS_NONE ? -1 : (json_int_t)gr->group[i];
        rc = push(parts, OBJ(keys, b64url(r->pseudonyms[i]), json_integer(g), real(gr->x[i]),
                             real(gr->y[i])));
    }
    for (size_t i = 0; r->groups_run && i < r->n_statements && rc == 0; i++) {
        static const char *const keys[] = { "id", "consensus" };
        uint32_t s = gr->ranking[i];
        rc = push(cons, OBJ(keys, json_string(r->statements[s]), real(gr->consensus[s])));
    }
    if (rc != 0) {
        json_decref(sizes);
        json_decref(parts);
        json_decref(cons);
        json_decref(reps);
        return NULL;
    }
    static const char *const keys[] = { "algorithm", "result", "k", "sizes", "participants",
                                        "consensus", "representative" };
    return OBJ(keys, json_string(OV_GROUPS_ALGORITHM), hex(r->groups_hash, 32),
               json_integer(gr->k), sizes, parts, cons, reps);
}

json_t *
ov_roundresult_json(const struct ov_roundresult *r)
{
    static const char *const keys[] = { "seed", "bridging", "groups" };
    return OBJ(keys, hex(r->seed, sizeof r->seed), bridging_json(r), groups_json(r));
}
