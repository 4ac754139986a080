/* bridging: the deterministic bridging model (bridging.h says it in full, docs/PROTOCOL.md
 * §11.1 to the bit). Every expression below is written in the order the specification
 * evaluates it: change one and the result bytes change. */
#include "protocol/bridging.h"

#include <float.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#if defined(__FAST_MATH__)
#error "bridging.c is specified bit for bit: build it without -ffast-math"
#endif
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "bridging.c needs binary64 arithmetic without excess precision (FLT_EVAL_METHOD 0)"
#endif

#define LAMBDA_I 0.15      /* intercepts and mu */
#define LAMBDA_F 0.03      /* factors */
#define TOLERANCE 1e-12     /* a sweep lowering the loss by at most this stops the fit */
#define HELPFUL_MIN 0.40
#define HELPFUL_FACTOR_MAX 0.5
#define NOT_HELPFUL_BASE (-0.05)
#define NOT_HELPFUL_SLOPE 0.8
#define NONE UINT32_MAX

struct pf {
    double i, f;  /* intercept, factor */
};

struct acc {
    double s1, s2, t0, t1;  /* sum f, sum f^2, sum e, sum e f over one rater's ratings */
};

/* The ratings in the model, note-major (raters ascending within a note), model indices. */
struct model {
    size_t n;
    uint32_t nu, nm;
    uint32_t *start;   /* nm + 1: note n's ratings are [start[n], start[n+1]) */
    uint32_t *rater;   /* n */
    uint8_t *half;     /* n: the rating times 2 (0, 1, 2) */
    uint32_t *ucount;  /* nu: ratings per rater */
    uint32_t *uid;     /* nu: model rater -> input index */
    uint32_t *mid;     /* nm: model note -> input index */
    struct pf *u, *m;
    struct acc *acc;   /* nu */
    double mu;
};

static double
rating_of(uint8_t half)
{
    return (double)half * 0.5;  /* exact */
}

/* ---- input: validation, canonical order, minimums ------------------------------------ */

static int
check_input(const struct ov_bridge_rating *r, size_t n, uint32_t n_raters, uint32_t n_notes)
{
    if ((r == NULL && n > 0) || n > OV_BRIDGE_MAX_RATINGS || n_raters > OV_BRIDGE_MAX_RATERS ||
        n_notes > OV_BRIDGE_MAX_NOTES) {
        return -OV_E_RANGE;
    }
    for (size_t k = 0; k < n; k++) {
        double v = r[k].value;
        if (r[k].rater >= n_raters || r[k].note >= n_notes ||
            !(v == 0.0 || v == 0.5 || v == 1.0)) {
            return -OV_E_RANGE;
        }
    }
    return 0;
}

/* The ratings by (note, rater): a counting sort by rater, then a stable one by note.
 * start[n_notes + 1], rater[n], half[n] in input indices; a pair rated twice conflicts. */
static int
sort_ratings(const struct ov_bridge_rating *r, size_t n, uint32_t n_raters, uint32_t n_notes,
             uint32_t *start, uint32_t *rater, uint8_t *half)
{
    uint32_t *roff = calloc((size_t)n_raters + 1, sizeof *roff);
    uint32_t *perm = malloc((n ? n : 1) * sizeof *perm);
    uint32_t *pos = malloc(((size_t)n_notes + 1) * sizeof *pos);
    int rc = roff && perm && pos ? 0 : -OV_E_NOMEM;
    if (rc == 0) {
        for (size_t k = 0; k < n; k++) {
            roff[r[k].rater + 1]++;
            start[r[k].note + 1]++;
        }
        for (uint32_t u = 0; u < n_raters; u++) {
            roff[u + 1] += roff[u];
        }
        for (uint32_t m = 0; m < n_notes; m++) {
            start[m + 1] += start[m];
        }
        for (size_t k = 0; k < n; k++) {
            perm[roff[r[k].rater]++] = (uint32_t)k;
        }
        memcpy(pos, start, ((size_t)n_notes + 1) * sizeof *pos);
        for (size_t k = 0; k < n; k++) {
            const struct ov_bridge_rating *x = &r[perm[k]];
            uint32_t at = pos[x->note]++;
            rater[at] = x->rater;
            half[at] = (uint8_t)(x->value * 2.0);
        }
        for (uint32_t m = 0; m < n_notes && rc == 0; m++) {
            for (uint32_t j = start[m] + 1; j < start[m + 1]; j++) {
                if (rater[j] == rater[j - 1]) {
                    rc = -OV_E_CONFLICT;
                    break;
                }
            }
        }
    }
    free(roff);
    free(perm);
    free(pos);
    return rc;
}

/* Community Notes' filter, once each: notes, raters, notes. Leaves n_ratings and n_used in
 * out's notes and raters (n_used 0: not in the model). */
static int
apply_minimums(const uint32_t *start, const uint32_t *rater, size_t n,
               struct ov_bridge_result *out)
{
    uint32_t min_u = out->params.min_ratings_per_rater, min_n = out->params.min_raters_per_note;
    uint8_t *keep_u = calloc((size_t)out->n_raters + 1, 1);
    if (keep_u == NULL) {
        return -OV_E_NOMEM;
    }
    for (size_t j = 0; j < n; j++) {
        out->raters[rater[j]].n_ratings++;
    }
    for (uint32_t m = 0; m < out->n_notes; m++) {
        out->notes[m].n_ratings = start[m + 1] - start[m];
        for (uint32_t j = start[m]; j < start[m + 1] && out->notes[m].n_ratings >= min_n; j++) {
            out->raters[rater[j]].n_used++;  /* ratings of notes kept by the first step */
        }
    }
    for (uint32_t u = 0; u < out->n_raters; u++) {
        keep_u[u] = out->raters[u].n_used >= min_u;
        out->raters[u].n_used = 0;
    }
    for (uint32_t m = 0; m < out->n_notes; m++) {
        uint32_t c = 0;
        for (uint32_t j = start[m]; j < start[m + 1]; j++) {
            c += keep_u[rater[j]];
        }
        bool keep = out->notes[m].n_ratings >= min_n && c >= min_n;
        out->notes[m].n_used = keep ? c : 0;
        for (uint32_t j = start[m]; j < start[m + 1] && keep; j++) {
            out->raters[rater[j]].n_used += keep_u[rater[j]];
        }
        out->ratings_used += out->notes[m].n_used;
        out->notes_used += out->notes[m].n_used > 0;
    }
    for (uint32_t u = 0; u < out->n_raters; u++) {
        out->raters_used += out->raters[u].n_used > 0;
    }
    free(keep_u);
    return 0;
}

static void
model_free(struct model *m)
{
    free(m->start);
    free(m->rater);
    free(m->half);
    free(m->ucount);
    free(m->uid);
    free(m->mid);
    free(m->u);
    free(m->m);
    free(m->acc);
    memset(m, 0, sizeof *m);
}

/* The model's arrays once the counts are known; start, rater and half are the sorted input. */
static int
model_alloc(struct model *m, const struct ov_bridge_result *out)
{
    m->nu = out->raters_used;
    m->nm = out->notes_used;
    m->n = out->ratings_used;
    m->ucount = calloc((size_t)m->nu + 1, sizeof *m->ucount);
    m->uid = calloc((size_t)m->nu + 1, sizeof *m->uid);
    m->mid = calloc((size_t)m->nm + 1, sizeof *m->mid);
    m->u = calloc((size_t)m->nu + 1, sizeof *m->u);
    m->m = calloc((size_t)m->nm + 1, sizeof *m->m);
    m->acc = calloc((size_t)m->nu + 1, sizeof *m->acc);
    return m->ucount && m->uid && m->mid && m->u && m->m && m->acc ? 0 : -OV_E_NOMEM;
}

/* Keeps the ratings used, in place and in order, with raters and notes renumbered in
 * index order among those in the model. */
static int
model_compact(struct model *m, const struct ov_bridge_result *out)
{
    uint32_t *umap = malloc(((size_t)out->n_raters + 1) * sizeof *umap);
    if (umap == NULL) {
        return -OV_E_NOMEM;
    }
    uint32_t nu = 0, nm = 0, w = 0;
    for (uint32_t u = 0; u < out->n_raters; u++) {
        umap[u] = out->raters[u].n_used > 0 ? nu : NONE;
        if (umap[u] != NONE) {
            m->ucount[nu] = out->raters[u].n_used;
            m->uid[nu++] = u;
        }
    }
    for (uint32_t n = 0; n < out->n_notes; n++) {
        uint32_t from = m->start[n], to = m->start[n + 1];
        if (out->notes[n].n_used == 0) {
            continue;
        }
        m->mid[nm] = n;
        m->start[nm++] = w;
        for (uint32_t j = from; j < to; j++) {
            if (umap[m->rater[j]] != NONE) {
                m->rater[w] = umap[m->rater[j]];
                m->half[w++] = m->half[j];
            }
        }
    }
    m->start[nm] = w;
    free(umap);
    return 0;
}

/* ---- the starting factors ------------------------------------------------------------- */

/* Uniform in [-1, 1) from the top 53 bits of x: (x >> 11) - 2^52, times 2^-52 (exact). */
static double
unit_of(uint64_t x)
{
    return (double)((int64_t)(x >> 11) - ((int64_t)1 << 52)) * 0x1p-52;
}

struct stream {
    uint8_t key[crypto_stream_chacha20_ietf_KEYBYTES];
    uint8_t block[64];
    uint64_t block_no;  /* the block in block[], UINT64_MAX for none */
};

static void
stream_init(struct stream *s, const uint8_t seed[OV_BRIDGE_SEED_LEN])
{
    static const char tag[] = "onevoice/v1/bridging-mf";
    uint8_t in[sizeof tag + OV_BRIDGE_SEED_LEN];  /* the tag, 0x00 (its NUL), the seed */
    memcpy(in, tag, sizeof tag);
    memcpy(in + sizeof tag, seed, OV_BRIDGE_SEED_LEN);
    crypto_hash_sha256(s->key, in, sizeof in);
    s->block_no = UINT64_MAX;
}

/* The little-endian u64 at byte 8 * k of the key stream (nonce zero, counter from 0). */
static uint64_t
stream_u64_at(struct stream *s, uint64_t k)
{
    static const uint8_t zero[64], nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
    if (s->block_no != k / 8) {
        s->block_no = k / 8;
        crypto_stream_chacha20_ietf_xor_ic(s->block, zero, sizeof s->block, nonce,
                                           (uint32_t)s->block_no, s->key);
    }
    uint64_t x = 0;
    for (int b = 7; b >= 0; b--) {
        x = x << 8 | s->block[(k % 8) * 8 + (uint64_t)b];
    }
    return x;
}

/* Rater u's factor is word u of the stream, note n's word n_raters + n: what a rater or a
 * note starts with does not depend on who else is in the model. */
static void
model_init(struct model *m, uint32_t n_raters, const uint8_t seed[OV_BRIDGE_SEED_LEN])
{
    struct stream s;
    stream_init(&s, seed);
    for (uint32_t u = 0; u < m->nu; u++) {
        m->u[u] = (struct pf){ 0.0, unit_of(stream_u64_at(&s, m->uid[u])) };
    }
    for (uint32_t n = 0; n < m->nm; n++) {
        m->m[n] = (struct pf){ 0.0, unit_of(stream_u64_at(&s, (uint64_t)n_raters + m->mid[n])) };
    }
    m->mu = 0.0;
    sodium_memzero(&s, sizeof s);
}

/* ---- the fit: alternating least squares -------------------------------------------- */

struct weights {
    double nd, ud, md;   /* ratings, raters, notes, as doubles */
    double iu, fu;       /* LAMBDA_I N / U, LAMBDA_F N / U: a rater's penalties, times N */
    double in, fn;       /* the same over notes */
};

static struct weights
weights_of(const struct model *m)
{
    struct weights w;
    w.nd = (double)m->n;
    w.ud = (double)m->nu;
    w.md = (double)m->nm;
    w.iu = (LAMBDA_I * w.nd) / w.ud;
    w.fu = (LAMBDA_F * w.nd) / w.ud;
    w.in = (LAMBDA_I * w.nd) / w.md;
    w.fn = (LAMBDA_F * w.nd) / w.md;
    return w;
}

static double
sum_sq_i(const struct pf *p, uint32_t n)
{
    double s = 0.0;
    for (uint32_t k = 0; k < n; k++) {
        s = s + p[k].i * p[k].i;
    }
    return s;
}

static double
sum_sq_f(const struct pf *p, uint32_t n)
{
    double s = 0.0;
    for (uint32_t k = 0; k < n; k++) {
        s = s + p[k].f * p[k].f;
    }
    return s;
}

/* The loss of the current parameters, and in *mu_next the mu that minimises it with the
 * rest fixed: (sum d / N) / (1 + LAMBDA_I), d the rating less everything but mu. */
static double
loss_pass(const struct model *m, const struct weights *w, double *mu_next)
{
    double sd = 0.0, se = 0.0;
    for (uint32_t n = 0; n < m->nm; n++) {
        struct pf note = m->m[n];
        for (uint32_t j = m->start[n]; j < m->start[n + 1]; j++) {
            struct pf r = m->u[m->rater[j]];
            double d = ((rating_of(m->half[j]) - r.i) - note.i) - (r.f * note.f);
            double e = d - m->mu;
            sd = sd + d;
            se = se + e * e;
        }
    }
    *mu_next = (sd / w->nd) / (1.0 + LAMBDA_I);
    double loss = se / w->nd;
    loss = loss + LAMBDA_I * (sum_sq_i(m->u, m->nu) / w->ud);
    loss = loss + LAMBDA_F * (sum_sq_f(m->u, m->nu) / w->ud);
    loss = loss + LAMBDA_I * (sum_sq_i(m->m, m->nm) / w->md);
    loss = loss + LAMBDA_F * (sum_sq_f(m->m, m->nm) / w->md);
    return loss + LAMBDA_I * (m->mu * m->mu);
}

/* The exact minimiser of sum (e - i - x g)^2 + pi i^2 + pf x^2 over (i, x), by Cramer's
 * rule; the determinant is at least pi * pf > 0 (Cauchy-Schwarz). */
static struct pf
solve(double k, const struct acc *a, double pi, double pf)
{
    double p = k + pi, b = a->s1, c = a->s2 + pf;
    double det = (p * c) - (b * b);
    return (struct pf){ ((c * a->t0) - (b * a->t1)) / det, ((p * a->t1) - (b * a->t0)) / det };
}

/* Every rater's (i_u, f_u) with mu and the notes fixed; sums in (note, rater) order. */
static void
update_raters(struct model *m, const struct weights *w)
{
    memset(m->acc, 0, (size_t)m->nu * sizeof *m->acc);
    for (uint32_t n = 0; n < m->nm; n++) {
        struct pf note = m->m[n];
        double ff = note.f * note.f;
        for (uint32_t j = m->start[n]; j < m->start[n + 1]; j++) {
            struct acc *a = &m->acc[m->rater[j]];
            double e = (rating_of(m->half[j]) - m->mu) - note.i;
            a->s1 = a->s1 + note.f;
            a->s2 = a->s2 + ff;
            a->t0 = a->t0 + e;
            a->t1 = a->t1 + e * note.f;
        }
    }
    for (uint32_t u = 0; u < m->nu; u++) {
        m->u[u] = solve((double)m->ucount[u], &m->acc[u], w->iu, w->fu);
    }
}

/* Every note's (i_n, f_n) with mu and the raters fixed; sums in rater order. */
static void
update_notes(struct model *m, const struct weights *w)
{
    for (uint32_t n = 0; n < m->nm; n++) {
        struct acc a = { 0.0, 0.0, 0.0, 0.0 };
        for (uint32_t j = m->start[n]; j < m->start[n + 1]; j++) {
            struct pf r = m->u[m->rater[j]];
            double e = (rating_of(m->half[j]) - m->mu) - r.i;
            a.s1 = a.s1 + r.f;
            a.s2 = a.s2 + r.f * r.f;
            a.t0 = a.t0 + e;
            a.t1 = a.t1 + e * r.f;
        }
        m->m[n] = solve((double)(m->start[n + 1] - m->start[n]), &a, w->in, w->fn);
    }
}

/* Sweeps until one lowers the loss by at most TOLERANCE (or the cap); returns the sweeps
 * made, *loss the loss of the parameters left. */
static uint32_t
fit(struct model *m, double *loss)
{
    struct weights w = weights_of(m);
    double prev = 0.0, mu_next = 0.0;
    for (uint32_t it = 0;; it++) {
        double l = loss_pass(m, &w, &mu_next);
        if ((it > 0 && prev - l <= TOLERANCE) || it == OV_BRIDGE_MAX_ITERATIONS) {
            *loss = l;
            return it;
        }
        prev = l;
        m->mu = mu_next;
        update_raters(m, &w);
        update_notes(m, &w);
    }
}

/* Community Notes' identification: the larger side of the raters gets negative factors
 * (a tie keeps the signs). */
static void
orient(struct model *m)
{
    uint32_t neg = 0, pos = 0;
    for (uint32_t u = 0; u < m->nu; u++) {
        neg += m->u[u].f < 0.0;
        pos += m->u[u].f > 0.0;
    }
    if (neg >= pos) {
        return;
    }
    for (uint32_t u = 0; u < m->nu; u++) {
        m->u[u].f = -m->u[u].f;
    }
    for (uint32_t n = 0; n < m->nm; n++) {
        m->m[n].f = -m->m[n].f;
    }
}

static uint8_t
status_of(double i, double f)
{
    double af = f < 0.0 ? -f : f;
    if (i >= HELPFUL_MIN && af < HELPFUL_FACTOR_MAX) {
        return OV_BRIDGE_HELPFUL;
    }
    if (i <= NOT_HELPFUL_BASE - NOT_HELPFUL_SLOPE * af) {
        return OV_BRIDGE_NOT_HELPFUL;
    }
    return OV_BRIDGE_NEEDS_MORE;
}

/* ---- the entry point ------------------------------------------------------------------ */

static int
result_alloc(struct ov_bridge_result *out, uint32_t n_raters, uint32_t n_notes,
             const struct ov_bridge_params *params)
{
    memset(out, 0, sizeof *out);
    out->n_raters = n_raters;
    out->n_notes = n_notes;
    out->params = *params;
    out->notes = calloc((size_t)n_notes + 1, sizeof *out->notes);
    out->raters = calloc((size_t)n_raters + 1, sizeof *out->raters);
    return out->notes && out->raters ? 0 : -OV_E_NOMEM;
}

static void
result_fill(struct ov_bridge_result *out, const struct model *m)
{
    out->mu = m->mu;
    for (uint32_t u = 0; u < m->nu; u++) {
        out->raters[m->uid[u]].intercept = m->u[u].i;
        out->raters[m->uid[u]].factor = m->u[u].f;
    }
    for (uint32_t n = 0; n < m->nm; n++) {
        struct ov_bridge_note *x = &out->notes[m->mid[n]];
        x->intercept = m->m[n].i;
        x->factor = m->m[n].f;
        x->status = status_of(x->intercept, x->factor);
    }
}

int
ov_bridge_run(const struct ov_bridge_rating *ratings, size_t n_ratings, uint32_t n_raters,
              uint32_t n_notes, const struct ov_bridge_params *params,
              const uint8_t seed[OV_BRIDGE_SEED_LEN], struct ov_bridge_result *out)
{
    if (out == NULL) {
        return -OV_E_RANGE;
    }
    memset(out, 0, sizeof *out);
    if (params == NULL || seed == NULL) {
        return -OV_E_RANGE;
    }
    int rc = check_input(ratings, n_ratings, n_raters, n_notes);
    struct model m;
    memset(&m, 0, sizeof m);
    rc = rc ? rc : result_alloc(out, n_raters, n_notes, params);
    if (rc == 0) {
        m.start = calloc((size_t)n_notes + 1, sizeof *m.start);
        m.rater = malloc((n_ratings ? n_ratings : 1) * sizeof *m.rater);
        m.half = malloc(n_ratings ? n_ratings : 1);
        rc = m.start && m.rater && m.half ? 0 : -OV_E_NOMEM;
    }
    rc = rc ? rc : sort_ratings(ratings, n_ratings, n_raters, n_notes, m.start, m.rater, m.half);
    rc = rc ? rc : apply_minimums(m.start, m.rater, n_ratings, out);
    rc = rc ? rc : model_alloc(&m, out);
    rc = rc ? rc : model_compact(&m, out);
    if (rc == 0 && m.n > 0) {
        model_init(&m, n_raters, seed);
        out->iterations = fit(&m, &out->loss);
        orient(&m);
        result_fill(out, &m);
    }
    model_free(&m);
    if (rc != 0) {
        ov_bridge_result_free(out);
    }
    return rc;
}

void
ov_bridge_params_default(struct ov_bridge_params *p)
{
    p->min_ratings_per_rater = OV_BRIDGE_DEFAULT_MIN_RATINGS_PER_RATER;
    p->min_raters_per_note = OV_BRIDGE_DEFAULT_MIN_RATERS_PER_NOTE;
}

void
ov_bridge_result_free(struct ov_bridge_result *r)
{
    if (r == NULL) {
        return;
    }
    free(r->notes);
    free(r->raters);
    memset(r, 0, sizeof *r);
}

const char *
ov_bridge_status_name(int status)
{
    switch (status) {
    case OV_BRIDGE_HELPFUL:
        return "helpful";
    case OV_BRIDGE_NOT_HELPFUL:
        return "not_helpful";
    case OV_BRIDGE_NEEDS_MORE:
        return "needs_more_ratings";
    default:
        return "unknown";
    }
}

/* ---- canonical bytes ------------------------------------------------------------------ */

#define HEAD_LEN (sizeof OV_BRIDGE_ALGORITHM + 8 * 4 + 2 * 8)
#define NOTE_LEN (2 * 8 + 2 * 4 + 1)
#define RATER_LEN (2 * 8 + 2 * 4)

static uint8_t *
put_u32(uint8_t *p, uint32_t x)
{
    for (int k = 3; k >= 0; k--) {
        *p++ = (uint8_t)(x >> (8 * k));
    }
    return p;
}

static uint8_t *
put_f64(uint8_t *p, double x)
{
    uint64_t b = 0;
    if (x != 0.0) {  /* -0 and +0 alike as +0 */
        memcpy(&b, &x, sizeof b);
    }
    for (int k = 7; k >= 0; k--) {
        *p++ = (uint8_t)(b >> (8 * k));
    }
    return p;
}

int
ov_bridge_encode(const struct ov_bridge_result *r, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    size_t n = HEAD_LEN + (size_t)r->n_notes * NOTE_LEN + (size_t)r->n_raters * RATER_LEN;
    uint8_t *b = malloc(n), *p = b;
    if (b == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(p, OV_BRIDGE_ALGORITHM, sizeof OV_BRIDGE_ALGORITHM);  /* with its 0x00 */
    p += sizeof OV_BRIDGE_ALGORITHM;
    p = put_u32(p, r->n_raters);
    p = put_u32(p, r->n_notes);
    p = put_u32(p, r->params.min_ratings_per_rater);
    p = put_u32(p, r->params.min_raters_per_note);
    p = put_u32(p, r->ratings_used);
    p = put_u32(p, r->raters_used);
    p = put_u32(p, r->notes_used);
    p = put_u32(p, r->iterations);
    p = put_f64(p, r->mu);
    p = put_f64(p, r->loss);
    for (uint32_t k = 0; k < r->n_notes; k++) {
        const struct ov_bridge_note *x = &r->notes[k];
        p = put_u32(put_u32(put_f64(put_f64(p, x->intercept), x->factor), x->n_ratings),
                    x->n_used);
        *p++ = x->status;
    }
    for (uint32_t k = 0; k < r->n_raters; k++) {
        const struct ov_bridge_rater *x = &r->raters[k];
        p = put_u32(put_u32(put_f64(put_f64(p, x->intercept), x->factor), x->n_ratings),
                    x->n_used);
    }
    *out = b;
    *len = n;
    return 0;
}

int
ov_bridge_digest(const struct ov_bridge_result *r, uint8_t digest[32])
{
    uint8_t *b;
    size_t n;
    int rc = ov_bridge_encode(r, &b, &n);
    if (rc == 0) {
        crypto_hash_sha256(digest, b, n);
        free(b);
    }
    return rc;
}
