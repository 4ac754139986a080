/* groups: opinion groups (groups.h and docs/PROTOCOL.md §11.2 say it in full). Every sum
 * runs in one written order from +0.0, every quotient and sqrt is IEEE-754's correctly
 * rounded one, and no other libm function is used, so any conforming implementation
 * agrees bit for bit. Compiled with -ffp-contract=off (the Makefile): a fused
 * multiply-add would round once where the specification rounds twice. */
#include "protocol/groups.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#if FLT_EVAL_METHOD != 0 || defined(__FAST_MATH__)
#error "groups needs every double operation rounded to binary64 as IEEE-754 says"
#endif

#define PCA_ROUNDS 100
#define PCA_TOL 1e-10
#define MIN_VOTES 7u
#define GREEDY_N 15u
#define BASE_K 100u
#define KMEANS_ROUNDS 100
#define Z90 1.2816

/* ---- the vote matrix: rows by participant, each row by statement ascending ---------- */

struct matrix {
    uint32_t P, S;
    uint32_t *off;   /* P + 1 */
    uint32_t *col;   /* statement of each entry */
    int8_t *val;     /* -1, 0, +1 */
    double *mean;    /* S: each statement's mean vote (0 when it has none) */
};

static void
matrix_free(struct matrix *m)
{
    free(m->off);
    free(m->col);
    free(m->val);
    free(m->mean);
    memset(m, 0, sizeof *m);
}

static int
check_votes(uint32_t P, uint32_t S, const struct ov_groups_vote *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].participant >= P || v[i].statement >= S || v[i].value < -1 ||
            v[i].value > 1) {
            return -OV_E_RANGE;
        }
    }
    return 0;
}

/* Each statement's mean (an exact integer sum over an exact count) and perm: the votes'
 * numbers ordered by statement, stably (a counting sort). */
static void
by_statement(struct matrix *m, const struct ov_groups_vote *v, size_t n, uint32_t *cnt,
             int64_t *sum, uint32_t *perm)
{
    for (size_t i = 0; i < n; i++) {
        cnt[v[i].statement + 1]++;
        sum[v[i].statement] += v[i].value;
    }
    for (uint32_t s = 0; s < m->S; s++) {
        m->mean[s] = cnt[s + 1] ? (double)sum[s] / (double)cnt[s + 1] : 0.0;
        cnt[s + 1] += cnt[s];
    }
    for (size_t i = 0; i < n; i++) {
        perm[cnt[v[i].statement]++] = (uint32_t)i;
    }
}

/* The rows: a second stable counting sort, by participant, over perm's order. */
static void
by_participant(struct matrix *m, const struct ov_groups_vote *v, size_t n, const uint32_t *perm)
{
    for (size_t i = 0; i < n; i++) {
        m->off[v[i].participant + 1]++;
    }
    for (uint32_t p = 0; p < m->P; p++) {
        m->off[p + 1] += m->off[p];
    }
    for (size_t j = 0; j < n; j++) { /* off[p] runs as row p's cursor here */
        const struct ov_groups_vote *x = &v[perm[j]];
        uint32_t at = m->off[x->participant]++;
        m->col[at] = x->statement;
        m->val[at] = (int8_t)x->value;
    }
    for (uint32_t p = m->P; p > 0; p--) {
        m->off[p] = m->off[p - 1];
    }
    m->off[0] = 0;
}

/* Rows sorted by statement, so a repeated vote sits next to its twin. */
static int
find_repeat(const struct matrix *m)
{
    for (uint32_t p = 0; p < m->P; p++) {
        for (uint32_t e = m->off[p] + 1; e < m->off[p + 1]; e++) {
            if (m->col[e] == m->col[e - 1]) {
                return -OV_E_CONFLICT;
            }
        }
    }
    return 0;
}

static int
matrix_build(struct matrix *m, uint32_t P, uint32_t S, const struct ov_groups_vote *v,
             size_t n)
{
    m->P = P;
    m->S = S;
    m->off = calloc((size_t)P + 1, sizeof *m->off);
    m->col = malloc((n ? n : 1) * sizeof *m->col);
    m->val = malloc(n ? n : 1);
    m->mean = calloc(S, sizeof *m->mean);
    uint32_t *cnt = calloc((size_t)S + 1, sizeof *cnt);
    uint32_t *perm = malloc((n ? n : 1) * sizeof *perm);
    int64_t *sum = calloc(S, sizeof *sum);
    int rc = (m->off && m->col && m->val && m->mean && cnt && perm && sum) ? 0 : -OV_E_NOMEM;
    if (rc == 0) {
        by_statement(m, v, n, cnt, sum, perm);
        by_participant(m, v, n, perm);
        rc = find_repeat(m);
    }
    free(cnt);
    free(perm);
    free(sum);
    return rc;
}

/* The centred value of entry e: the vote minus its statement's mean. */
static inline double
centred(const struct matrix *m, uint32_t e)
{
    return (double)m->val[e] - m->mean[m->col[e]];
}

/* ---- the start vectors: ChaCha20 keyed by the seed --------------------------------- */

static int
start_vectors(const uint8_t seed[OV_GROUPS_SEED_LEN], uint32_t S, double *v1, double *v2)
{
    static const char tag[] = "onevoice/v1/groups";
    uint8_t in[sizeof tag + OV_GROUPS_SEED_LEN], key[32], nonce[12] = { 0 };
    memcpy(in, tag, sizeof tag); /* with its NUL: tag || 0x00 || seed */
    memcpy(in + sizeof tag, seed, OV_GROUPS_SEED_LEN);
    int rc = crypto_hash_sha256(key, in, sizeof in) == 0 ? 0 : -OV_E_CRYPTO;
    size_t len = (size_t)S * 2 * 8;
    uint8_t *buf = malloc(len);
    if (rc != 0 || buf == NULL) {
        free(buf);
        sodium_memzero(key, sizeof key);
        return rc ? rc : -OV_E_NOMEM;
    }
    crypto_stream_chacha20_ietf(buf, len, nonce, key); /* the key stream from block 0 */
    for (size_t i = 0; i < (size_t)S * 2; i++) {
        uint64_t x = 0;
        for (int b = 7; b >= 0; b--) {
            x = x << 8 | buf[i * 8 + (size_t)b];
        }
        /* 53 bits to [0, 1), then to [-1, 1): every step exact */
        double d = (double)(x >> 11) * 0x1p-53 * 2.0 - 1.0;
        if (i < S) {
            v1[i] = d;
        } else {
            v2[i - S] = d;
        }
    }
    free(buf);
    sodium_memzero(key, sizeof key);
    return 0;
}

/* ---- principal components by power iteration ---------------------------------------- */

static double
dot(const double *a, const double *b, uint32_t n)
{
    double s = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        s += a[i] * b[i];
    }
    return s;
}

/* v -= (v . q) q */
static void
orth(double *v, const double *q, uint32_t n)
{
    double c = dot(v, q, n);
    for (uint32_t i = 0; i < n; i++) {
        v[i] -= c * q[i];
    }
}

/* w = X^T (X v), u scratch of P. Both sums in entry order: u by row, w by row then entry. */
static void
xtx(const struct matrix *m, const double *v, double *u, double *w)
{
    for (uint32_t p = 0; p < m->P; p++) {
        double s = 0.0;
        for (uint32_t e = m->off[p]; e < m->off[p + 1]; e++) {
            s += centred(m, e) * v[m->col[e]];
        }
        u[p] = s;
    }
    for (uint32_t s = 0; s < m->S; s++) {
        w[s] = 0.0;
    }
    for (uint32_t p = 0; p < m->P; p++) {
        for (uint32_t e = m->off[p]; e < m->off[p + 1]; e++) {
            w[m->col[e]] += centred(m, e) * u[p];
        }
    }
}

/* The entry of largest magnitude (the first of equals) made positive: a sign for good. */
static void
fix_sign(double *v, uint32_t n)
{
    uint32_t at = 0;
    for (uint32_t i = 1; i < n; i++) {
        if (fabs(v[i]) > fabs(v[at])) {
            at = i;
        }
    }
    if (v[at] < 0) {
        for (uint32_t i = 0; i < n; i++) {
            v[i] = -v[i];
        }
    }
}

/* Power iteration on X^T X (deflated by q when given) from the start in v; the component
 * is left in v (zero when the matrix has no variance left). Returns the rounds made. */
static uint32_t
power(const struct matrix *m, double *v, const double *q, double *u, double *w)
{
    uint32_t round;
    for (round = 1; round <= PCA_ROUNDS; round++) {
        if (q) {
            orth(v, q, m->S);
        }
        xtx(m, v, u, w);
        if (q) {
            orth(w, q, m->S);
        }
        double norm = sqrt(dot(w, w, m->S));
        if (!(norm > 0.0)) {
            memset(v, 0, (size_t)m->S * sizeof *v);
            return round;
        }
        double delta = 0.0;
        for (uint32_t s = 0; s < m->S; s++) {
            double nv = w[s] / norm, d = fabs(nv - v[s]);
            delta = d > delta ? d : delta;
            v[s] = nv;
        }
        if (delta <= PCA_TOL) {
            break;
        }
    }
    fix_sign(v, m->S);
    return round > PCA_ROUNDS ? PCA_ROUNDS : round;
}

/* Polis' sparsity-aware projection: the voted entries only, pushed out by
 * sqrt(statements / votes) so that a participant with few votes is not drawn to the centre. */
static void
project(const struct matrix *m, const double *pc1, const double *pc2, double *x, double *y)
{
    for (uint32_t p = 0; p < m->P; p++) {
        uint32_t n = m->off[p + 1] - m->off[p];
        double sx = 0.0, sy = 0.0;
        for (uint32_t e = m->off[p]; e < m->off[p + 1]; e++) {
            double c = centred(m, e);
            sx += c * pc1[m->col[e]];
            sy += c * pc2[m->col[e]];
        }
        double scale = n ? sqrt((double)m->S / (double)n) : 0.0;
        x[p] = n ? scale * sx : 0.0;
        y[p] = n ? scale * sy : 0.0;
    }
}

/* ---- who is clustered ---------------------------------------------------------------- */

struct byvotes {
    uint32_t n, p;
};

static int
cmp_byvotes(const void *a, const void *b)
{
    const struct byvotes *x = a, *y = b;
    if (x->n != y->n) {
        return x->n > y->n ? -1 : 1;
    }
    return x->p < y->p ? -1 : (x->p > y->p);
}

/* Polis' in-conv: at least min(7, S) votes; when fewer than 15 qualify, the most active of
 * the others (at least one vote; more votes first, then index) until 15. cl gets the
 * indices ascending, returns their count or -OV_E_NOMEM. */
static int64_t
select_clustered(const struct matrix *m, uint32_t *cl)
{
    uint32_t need = m->S < MIN_VOTES ? m->S : MIN_VOTES, nc = 0, others = 0;
    uint8_t *in = calloc(m->P, 1);
    if (in == NULL) {
        return -OV_E_NOMEM;
    }
    for (uint32_t p = 0; p < m->P; p++) {
        uint32_t n = m->off[p + 1] - m->off[p];
        in[p] = n >= need;
        nc += in[p];
        others += (n >= 1 && !in[p]);
    }
    if (nc < GREEDY_N && others > 0) {
        struct byvotes *o = malloc(others * sizeof *o);
        if (o == NULL) {
            free(in);
            return -OV_E_NOMEM;
        }
        uint32_t j = 0;
        for (uint32_t p = 0; p < m->P; p++) {
            uint32_t n = m->off[p + 1] - m->off[p];
            if (n >= 1 && !in[p]) {
                o[j++] = (struct byvotes){ n, p };
            }
        }
        qsort(o, others, sizeof *o, cmp_byvotes);
        for (j = 0; j < others && nc < GREEDY_N; j++, nc++) {
            in[o[j].p] = 1;
        }
        free(o);
    }
    nc = 0;
    for (uint32_t p = 0; p < m->P; p++) {
        if (in[p]) {
            cl[nc++] = p;
        }
    }
    free(in);
    return nc;
}

/* ---- k-means in the plane ------------------------------------------------------------ */

struct pts {
    uint32_t n;
    const double *x, *y;
    const double *w;   /* weights, NULL: all 1 */
};

static inline double
sqdist(double ax, double ay, double bx, double by)
{
    double dx = ax - bx, dy = ay - by;
    return dx * dx + dy * dy;
}

/* Nearest centre, the first of equals. */
static uint32_t
nearest(double px, double py, const double *cx, const double *cy, uint32_t k)
{
    uint32_t best = 0;
    double bd = sqdist(px, py, cx[0], cy[0]);
    for (uint32_t c = 1; c < k; c++) {
        double d = sqdist(px, py, cx[c], cy[c]);
        if (d < bd) {
            bd = d;
            best = c;
        }
    }
    return best;
}

/* Lloyd's rounds from the k <= BASE_K centres given: assign, recompute each centre as its
 * members' (weighted) mean in point order; an empty centre stays. Stops after a round whose
 * assignment equals the previous one, or after KMEANS_ROUNDS; returns the rounds made.
 * as[n] gets the assignment, cnt[k] the member counts. */
static uint32_t
lloyd(const struct pts *pt, double *cx, double *cy, uint32_t k, uint32_t *as, uint32_t *cnt)
{
    double sx[BASE_K], sy[BASE_K], sw[BASE_K];
    uint32_t round;
    for (round = 1; round <= KMEANS_ROUNDS; round++) {
        bool changed = round == 1;
        for (uint32_t i = 0; i < pt->n; i++) {
            uint32_t c = nearest(pt->x[i], pt->y[i], cx, cy, k);
            changed |= c != as[i];
            as[i] = c;
        }
        if (!changed) {
            break;
        }
        for (uint32_t c = 0; c < k; c++) {
            sx[c] = sy[c] = sw[c] = 0.0;
        }
        for (uint32_t i = 0; i < pt->n; i++) {
            double w = pt->w ? pt->w[i] : 1.0;
            sx[as[i]] += w * pt->x[i];
            sy[as[i]] += w * pt->y[i];
            sw[as[i]] += w;
        }
        for (uint32_t c = 0; c < k; c++) {
            if (sw[c] > 0.0) {
                cx[c] = sx[c] / sw[c];
                cy[c] = sy[c] / sw[c];
            }
        }
    }
    memset(cnt, 0, k * sizeof *cnt);
    for (uint32_t i = 0; i < pt->n; i++) {
        cnt[as[i]]++;
    }
    return round > KMEANS_ROUNDS ? KMEANS_ROUNDS : round;
}

/* Base clusters: up to 100 centres at the first distinct positions in participant order. */
static uint32_t
base_init(const struct pts *pt, double *cx, double *cy)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < pt->n && k < BASE_K; i++) {
        bool seen = false;
        for (uint32_t c = 0; c < k && !seen; c++) {
            seen = pt->x[i] == cx[c] && pt->y[i] == cy[c];
        }
        if (!seen) {
            cx[k] = pt->x[i];
            cy[k] = pt->y[i];
            k++;
        }
    }
    return k;
}

/* Greedy weighted farthest point: the heaviest point, then each time the point maximising
 * weight x squared distance to the nearest centre so far (the first of equals). false
 * when no point is off the centres already chosen. */
static bool
group_init(const struct pts *pt, uint32_t k, double *cx, double *cy)
{
    uint32_t first = 0;
    for (uint32_t i = 1; i < pt->n; i++) {
        if (pt->w[i] > pt->w[first]) {
            first = i;
        }
    }
    cx[0] = pt->x[first];
    cy[0] = pt->y[first];
    for (uint32_t c = 1; c < k; c++) {
        double best = 0.0;
        uint32_t at = 0;
        for (uint32_t i = 0; i < pt->n; i++) {
            uint32_t j = nearest(pt->x[i], pt->y[i], cx, cy, c);
            double score = pt->w[i] * sqdist(pt->x[i], pt->y[i], cx[j], cy[j]);
            if (score > best) {
                best = score;
                at = i;
            }
        }
        if (!(best > 0.0)) {
            return false;
        }
        cx[c] = pt->x[at];
        cy[c] = pt->y[at];
    }
    return true;
}

/* The mean silhouette over the points (unweighted, as Polis over its base clusters): a
 * point alone in its cluster scores 0; else (b - a) / max(a, b) with a the mean distance to
 * the rest of its own cluster, b the least mean distance to another cluster's members. */
static double
silhouette(const struct pts *pt, const uint32_t *as, const uint32_t *cnt, uint32_t k)
{
    double total = 0.0, sum[OV_GROUPS_MAX_K];
    for (uint32_t i = 0; i < pt->n; i++) {
        uint32_t own = as[i];
        if (cnt[own] == 1) {
            total += 0.0;
            continue;
        }
        for (uint32_t c = 0; c < k; c++) {
            sum[c] = 0.0;
        }
        for (uint32_t j = 0; j < pt->n; j++) {
            if (j != i) {
                sum[as[j]] += sqrt(sqdist(pt->x[i], pt->y[i], pt->x[j], pt->y[j]));
            }
        }
        double a = sum[own] / (double)(cnt[own] - 1), b = 0.0;
        bool have_b = false;
        for (uint32_t c = 0; c < k; c++) {
            if (c != own) {
                double mc = sum[c] / (double)cnt[c];
                b = (!have_b || mc < b) ? mc : b;
                have_b = true;
            }
        }
        double mx = a > b ? a : b;
        total += mx > 0.0 ? (b - a) / mx : 0.0;
    }
    return total / (double)pt->n;
}

/* ---- the whole computation ------------------------------------------------------------ */

struct work {
    struct matrix m;
    double *pc1, *pc2, *u, *w;
    uint32_t *cl;       /* clustered participants, ascending */
    uint32_t nc;
    double *px, *py;    /* their positions */
    uint32_t *base_of;  /* each clustered participant's base cluster */
    uint32_t nb;
    double bx[BASE_K], by[BASE_K], bw[BASE_K];
    uint32_t label[BASE_K];          /* each base cluster's group (k-means numbering) */
    uint32_t *agree, *disagree, *votes; /* [k][S] */
};

static void
work_free(struct work *wk)
{
    matrix_free(&wk->m);
    free(wk->pc1);
    free(wk->pc2);
    free(wk->u);
    free(wk->w);
    free(wk->cl);
    free(wk->px);
    free(wk->py);
    free(wk->base_of);
    free(wk->agree);
    free(wk->disagree);
    free(wk->votes);
}

static int
result_alloc(struct ov_groups_result *r, uint32_t P, uint32_t S)
{
    memset(r, 0, sizeof *r);
    r->n_participants = P;
    r->n_statements = S;
    r->group = malloc((size_t)P * sizeof *r->group);
    r->x = malloc((size_t)P * sizeof *r->x);
    r->y = malloc((size_t)P * sizeof *r->y);
    r->consensus = malloc((size_t)S * sizeof *r->consensus);
    r->ranking = malloc((size_t)S * sizeof *r->ranking);
    return (r->group && r->x && r->y && r->consensus && r->ranking) ? 0 : -OV_E_NOMEM;
}

static int
pca_and_project(struct work *wk, const uint8_t *seed, struct ov_groups_result *r)
{
    uint32_t S = wk->m.S;
    wk->pc1 = malloc((size_t)S * sizeof *wk->pc1);
    wk->pc2 = malloc((size_t)S * sizeof *wk->pc2);
    wk->u = malloc((size_t)wk->m.P * sizeof *wk->u);
    wk->w = malloc((size_t)S * sizeof *wk->w);
    if (!wk->pc1 || !wk->pc2 || !wk->u || !wk->w) {
        return -OV_E_NOMEM;
    }
    int rc = start_vectors(seed, S, wk->pc1, wk->pc2);
    if (rc != 0) {
        return rc;
    }
    r->pca_rounds[0] = power(&wk->m, wk->pc1, NULL, wk->u, wk->w);
    if (dot(wk->pc1, wk->pc1, S) > 0.0) {
        r->pca_rounds[1] = power(&wk->m, wk->pc2, wk->pc1, wk->u, wk->w);
    } else {
        memset(wk->pc2, 0, (size_t)S * sizeof *wk->pc2);
    }
    project(&wk->m, wk->pc1, wk->pc2, r->x, r->y);
    return 0;
}

/* Base clusters of the clustered participants; empty ones dropped, the rest in order. */
static int
base_clusters(struct work *wk, const struct ov_groups_result *r)
{
    int64_t nc = select_clustered(&wk->m, wk->cl);
    if (nc < 0) {
        return (int)nc;
    }
    wk->nc = (uint32_t)nc;
    if (wk->nc == 0) {
        return 0;
    }
    for (uint32_t i = 0; i < wk->nc; i++) {
        wk->px[i] = r->x[wk->cl[i]];
        wk->py[i] = r->y[wk->cl[i]];
        wk->base_of[i] = UINT32_MAX;
    }
    struct pts pt = { wk->nc, wk->px, wk->py, NULL };
    double cx[BASE_K], cy[BASE_K];
    uint32_t cnt[BASE_K], k = base_init(&pt, cx, cy), map[BASE_K] = { 0 };
    uint32_t rounds = lloyd(&pt, cx, cy, k, wk->base_of, cnt);
    wk->nb = 0;
    for (uint32_t c = 0; c < k; c++) {
        map[c] = wk->nb;
        if (cnt[c] > 0) {
            wk->bx[wk->nb] = cx[c];
            wk->by[wk->nb] = cy[c];
            wk->bw[wk->nb] = (double)cnt[c];
            wk->nb++;
        }
    }
    for (uint32_t i = 0; i < wk->nc; i++) {
        wk->base_of[i] = map[wk->base_of[i]];
    }
    return (int)rounds;
}

/* One k: greedy start, Lloyd, silhouette. false when it cannot make k non-empty groups. */
static bool
try_k(const struct pts *pt, uint32_t k, uint32_t *as, double *sil)
{
    double cx[OV_GROUPS_MAX_K], cy[OV_GROUPS_MAX_K];
    uint32_t cnt[OV_GROUPS_MAX_K];
    if (!group_init(pt, k, cx, cy)) {
        return false;
    }
    for (uint32_t i = 0; i < pt->n; i++) {
        as[i] = UINT32_MAX;
    }
    (void)lloyd(pt, cx, cy, k, as, cnt);
    for (uint32_t c = 0; c < k; c++) {
        if (cnt[c] == 0) {
            return false;
        }
    }
    *sil = silhouette(pt, as, cnt, k);
    return true;
}

/* k by silhouette over 2..max_k (the first, so the smallest, of equals); 1 when none. */
static void
choose_groups(struct work *wk, struct ov_groups_result *r)
{
    memset(wk->label, 0, sizeof wk->label);
    if (wk->nb < 2) {
        r->k = wk->nb;
        return;
    }
    struct pts pt = { wk->nb, wk->bx, wk->by, wk->bw };
    uint32_t as[BASE_K], best_k = 1;
    r->max_k = 2 + wk->nb / 12;
    r->max_k = r->max_k < OV_GROUPS_MAX_K ? r->max_k : OV_GROUPS_MAX_K;
    r->max_k = r->max_k < wk->nb ? r->max_k : wk->nb;
    for (uint32_t k = 2; k <= r->max_k; k++) {
        double sil = 0.0;
        bool ok = try_k(&pt, k, as, &sil);
        r->k_eligible[k] = ok;
        r->silhouette[k] = ok ? sil : 0.0;
        if (ok && (best_k == 1 || sil > r->silhouette[best_k])) {
            best_k = k;
            memcpy(wk->label, as, wk->nb * sizeof *as);
        }
    }
    r->k = best_k;
}

/* Groups numbered in the order of their first participant; sizes; NONE for the rest. */
static void
number_groups(const struct work *wk, struct ov_groups_result *r)
{
    uint32_t rename[OV_GROUPS_MAX_K], next = 0;
    for (uint32_t g = 0; g < OV_GROUPS_MAX_K; g++) {
        rename[g] = UINT32_MAX;
    }
    for (uint32_t p = 0; p < r->n_participants; p++) {
        r->group[p] = OV_GROUPS_NONE;
    }
    for (uint32_t i = 0; i < wk->nc; i++) {
        uint32_t g = r->k == 0 ? 0 : wk->label[wk->base_of[i]];
        if (rename[g] == UINT32_MAX) {
            rename[g] = next++;
        }
        r->group[wk->cl[i]] = rename[g];
        r->group_size[rename[g]]++;
    }
    r->n_clustered = wk->nc;
}

/* Per group and statement: agrees, disagrees and all votes of its members. */
static int
count_votes(struct work *wk, const struct ov_groups_result *r)
{
    size_t n = (size_t)(r->k ? r->k : 1) * wk->m.S;
    wk->agree = calloc(n, sizeof *wk->agree);
    wk->disagree = calloc(n, sizeof *wk->disagree);
    wk->votes = calloc(n, sizeof *wk->votes);
    if (!wk->agree || !wk->disagree || !wk->votes) {
        return -OV_E_NOMEM;
    }
    for (uint32_t p = 0; p < wk->m.P; p++) {
        uint32_t g = r->group[p];
        if (g == OV_GROUPS_NONE) {
            continue;
        }
        for (uint32_t e = wk->m.off[p]; e < wk->m.off[p + 1]; e++) {
            size_t at = (size_t)g * wk->m.S + wk->m.col[e];
            wk->votes[at]++;
            wk->agree[at] += wk->m.val[e] > 0;
            wk->disagree[at] += wk->m.val[e] < 0;
        }
    }
    return 0;
}

struct ranked {
    double c;
    uint32_t s;
};

static int
cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->c != y->c) {
        return x->c > y->c ? -1 : 1;
    }
    return x->s < y->s ? -1 : (x->s > y->s);
}

/* Group-aware consensus: the product over groups, in group order, of (agree+1)/(votes+2).
 * The ranking sorts (consensus, statement) pairs: a total order, so any sort agrees. */
static int
consensus(const struct work *wk, struct ov_groups_result *r)
{
    uint32_t S = wk->m.S;
    struct ranked *rk = malloc((size_t)S * sizeof *rk);
    if (rk == NULL) {
        return -OV_E_NOMEM;
    }
    for (uint32_t s = 0; s < S; s++) {
        double c = 1.0;
        for (uint32_t g = 0; g < r->k; g++) {
            size_t at = (size_t)g * S + s;
            c = c * (((double)wk->agree[at] + 1.0) / ((double)wk->votes[at] + 2.0));
        }
        r->consensus[s] = c;
        rk[s] = (struct ranked){ c, s };
    }
    qsort(rk, S, sizeof *rk, cmp_ranked);
    for (uint32_t i = 0; i < S; i++) {
        r->ranking[i] = rk[i].s;
    }
    free(rk);
    return 0;
}

/* Polis' one-proportion test: 2 sqrt(n+1) ((succ+1)/(n+1) - 0.5). */
static double
prop_test(uint32_t succ, uint32_t n)
{
    double s = (double)succ + 1.0, t = (double)n + 1.0;
    return 2.0 * sqrt(t) * (s / t - 0.5);
}

/* Polis' two-proportion test, every count plus one; 0 when the pooled share is 1. */
static double
two_prop_test(uint32_t s1, uint32_t s2, uint32_t n1, uint32_t n2)
{
    double a = (double)s1 + 1.0, b = (double)s2 + 1.0, c = (double)n1 + 1.0,
           d = (double)n2 + 1.0;
    double p1 = a / c, p2 = b / d, ph = (a + b) / (c + d);
    if (ph == 1.0) {
        return 0.0;
    }
    return (p1 - p2) / sqrt(ph * (1.0 - ph) * (1.0 / c + 1.0 / d));
}

/* One group's statistics for one statement, in the direction its tests favour. */
static struct ov_groups_rep
rep_stats(const struct work *wk, uint32_t k, uint32_t g, uint32_t s)
{
    uint32_t S = wk->m.S, na = 0, nd = 0, ns = 0;
    size_t at = (size_t)g * S + s;
    for (uint32_t h = 0; h < k; h++) {
        if (h != g) {
            na += wk->agree[(size_t)h * S + s];
            nd += wk->disagree[(size_t)h * S + s];
            ns += wk->votes[(size_t)h * S + s];
        }
    }
    uint32_t a = wk->agree[at], d = wk->disagree[at], n = wk->votes[at];
    double rest_a = ((double)na + 1.0) / ((double)ns + 2.0);
    double rest_d = ((double)nd + 1.0) / ((double)ns + 2.0);
    double pa = ((double)a + 1.0) / ((double)n + 2.0), pd = ((double)d + 1.0) / ((double)n + 2.0);
    double rat = two_prop_test(a, na, n, ns), rdt = two_prop_test(d, nd, n, ns);
    struct ov_groups_rep x = { .statement = s, .trials = n };
    if (rat > rdt) {
        x = (struct ov_groups_rep){ s, OV_GROUPS_AGREE, a, n, pa, prop_test(a, n), pa / rest_a, rat, 0 };
    } else {
        x = (struct ov_groups_rep){ s, OV_GROUPS_DISAGREE, d, n, pd, prop_test(d, n), pd / rest_d, rdt, 0 };
    }
    x.metric = x.r * x.r_test * x.p * x.p_test;
    return x;
}

/* Up to 5 statements whose both tests pass at 90 % (metric descending, then statement);
 * when none does, the one with the largest test against the rest, among the statements the
 * group voted agree or disagree on. */
static void
repness(const struct work *wk, struct ov_groups_result *r, uint32_t g)
{
    uint32_t S = wk->m.S, n = 0;
    struct ov_groups_rep *top = r->rep[g], best = { 0 };
    bool have_best = false;
    for (uint32_t s = 0; s < S; s++) {
        struct ov_groups_rep x = rep_stats(wk, r->k, g, s);
        if (x.r_test > Z90 && x.p_test > Z90) {
            uint32_t i = n < OV_GROUPS_MAX_REP ? n++ : OV_GROUPS_MAX_REP;
            while (i > 0 && x.metric > top[i - 1].metric) { /* later statements after equals */
                if (i < OV_GROUPS_MAX_REP) {
                    top[i] = top[i - 1];
                }
                i--;
            }
            if (i < OV_GROUPS_MAX_REP) {
                top[i] = x;
            }
        }
        size_t at = (size_t)g * S + s;
        if (wk->agree[at] + wk->disagree[at] > 0 && (!have_best || x.r_test > best.r_test)) {
            best = x;
            have_best = true;
        }
    }
    if (n == 0 && have_best) {
        top[n++] = best;
    }
    r->n_rep[g] = n;
}

static int
run(struct work *wk, const uint8_t *seed, struct ov_groups_result *r)
{
    int rc = pca_and_project(wk, seed, r);
    if (rc != 0) {
        return rc;
    }
    wk->cl = malloc((size_t)wk->m.P * sizeof *wk->cl);
    wk->px = malloc((size_t)wk->m.P * sizeof *wk->px);
    wk->py = malloc((size_t)wk->m.P * sizeof *wk->py);
    wk->base_of = malloc((size_t)wk->m.P * sizeof *wk->base_of);
    if (!wk->cl || !wk->px || !wk->py || !wk->base_of) {
        return -OV_E_NOMEM;
    }
    rc = base_clusters(wk, r);
    if (rc < 0) {
        return rc;
    }
    r->base_rounds = (uint32_t)rc;
    r->n_base = wk->nb;
    choose_groups(wk, r);
    number_groups(wk, r);
    rc = count_votes(wk, r);
    if (rc != 0) {
        return rc;
    }
    rc = consensus(wk, r);
    if (rc != 0) {
        return rc;
    }
    for (uint32_t g = 0; g < r->k; g++) {
        repness(wk, r, g);
    }
    return 0;
}

int
ov_groups_run(uint32_t n_participants, uint32_t n_statements, const struct ov_groups_vote *votes,
              size_t n_votes, const uint8_t seed[OV_GROUPS_SEED_LEN],
              struct ov_groups_result *out)
{
    if (out == NULL) {
        return -OV_E_RANGE;
    }
    memset(out, 0, sizeof *out);
    if (seed == NULL || n_participants == 0 || n_participants > OV_GROUPS_MAX_PARTICIPANTS ||
        n_statements == 0 || n_statements > OV_GROUPS_MAX_STATEMENTS ||
        n_votes > OV_GROUPS_MAX_VOTES || (votes == NULL && n_votes > 0) ||
        n_votes > (uint64_t)n_participants * n_statements) {
        return -OV_E_RANGE;
    }
    if (sodium_init() < 0) { /* idempotent and thread-safe: the caller need not have */
        return -OV_E_CRYPTO;
    }
    int rc = check_votes(n_participants, n_statements, votes, n_votes);
    struct work wk;
    memset(&wk, 0, sizeof wk);
    rc = rc ? rc : matrix_build(&wk.m, n_participants, n_statements, votes, n_votes);
    rc = rc ? rc : result_alloc(out, n_participants, n_statements);
    rc = rc ? rc : run(&wk, seed, out);
    work_free(&wk);
    if (rc != 0) {
        ov_groups_free(out);
    }
    return rc;
}

void
ov_groups_free(struct ov_groups_result *r)
{
    if (r == NULL) {
        return;
    }
    free(r->group);
    free(r->x);
    free(r->y);
    free(r->consensus);
    free(r->ranking);
    memset(r, 0, sizeof *r);
}

/* ---- canonical bytes ------------------------------------------------------------------ */

struct out {
    uint8_t *p;
    size_t at;
};

static void
put_u8(struct out *o, uint8_t v)
{
    o->p[o->at++] = v;
}

static void
put_u32(struct out *o, uint32_t v)
{
    for (int i = 3; i >= 0; i--) {
        put_u8(o, (uint8_t)(v >> (8 * i)));
    }
}

static void
put_f64(struct out *o, double d)
{
    uint64_t v;
    d = d == 0.0 ? 0.0 : d; /* -0 written as +0: one byte string per value */
    memcpy(&v, &d, sizeof v);
    for (int i = 7; i >= 0; i--) {
        put_u8(o, (uint8_t)(v >> (8 * i)));
    }
}

static void
put_rep(struct out *o, const struct ov_groups_rep *x)
{
    put_u32(o, x->statement);
    put_u8(o, x->direction == OV_GROUPS_AGREE ? 1 : 2);
    put_u32(o, x->successes);
    put_u32(o, x->trials);
    put_f64(o, x->p);
    put_f64(o, x->p_test);
    put_f64(o, x->r);
    put_f64(o, x->r_test);
    put_f64(o, x->metric);
}

#define REP_BYTES (4 + 1 + 4 + 4 + 5 * 8)

int
ov_groups_encode(const struct ov_groups_result *r, uint8_t **out, size_t *len)
{
    if (out == NULL || len == NULL) {
        return -OV_E_RANGE;
    }
    *out = NULL;
    *len = 0;
    if (r == NULL || r->group == NULL || r->k > OV_GROUPS_MAX_K || r->max_k > OV_GROUPS_MAX_K) {
        return -OV_E_RANGE;
    }
    size_t n = sizeof OV_GROUPS_ALGORITHM + 5 * 4 + 9 * (r->max_k ? r->max_k - 1 : 0) +
               4 * (size_t)r->k + 20 * (size_t)r->n_participants + 12 * (size_t)r->n_statements;
    for (uint32_t g = 0; g < r->k; g++) {
        n += 4 + REP_BYTES * (size_t)r->n_rep[g];
    }
    struct out o = { malloc(n), 0 };
    if (o.p == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(o.p, OV_GROUPS_ALGORITHM, sizeof OV_GROUPS_ALGORITHM); /* with its 0x00 */
    o.at = sizeof OV_GROUPS_ALGORITHM;
    put_u32(&o, r->n_participants);
    put_u32(&o, r->n_statements);
    put_u32(&o, r->n_clustered);
    put_u32(&o, r->k);
    put_u32(&o, r->max_k);
    for (uint32_t k = 2; k <= r->max_k; k++) {
        put_u8(&o, r->k_eligible[k]);
        put_f64(&o, r->silhouette[k]);
    }
    for (uint32_t g = 0; g < r->k; g++) {
        put_u32(&o, r->group_size[g]);
    }
    for (uint32_t p = 0; p < r->n_participants; p++) {
        put_u32(&o, r->group[p]);
        put_f64(&o, r->x[p]);
        put_f64(&o, r->y[p]);
    }
    for (uint32_t i = 0; i < r->n_statements; i++) {
        put_u32(&o, r->ranking[i]);
        put_f64(&o, r->consensus[r->ranking[i]]);
    }
    for (uint32_t g = 0; g < r->k; g++) {
        put_u32(&o, r->n_rep[g]);
        for (uint32_t i = 0; i < r->n_rep[g]; i++) {
            put_rep(&o, &r->rep[g][i]);
        }
    }
    *out = o.p;
    *len = o.at;
    return 0;
}

int
ov_groups_hash(const struct ov_groups_result *r, uint8_t out[32])
{
    uint8_t *buf;
    size_t len;
    int rc = ov_groups_encode(r, &buf, &len);
    if (rc == 0 && crypto_hash_sha256(out, buf, len) != 0) {
        rc = -OV_E_CRYPTO;
    }
    free(buf);
    return rc;
}
