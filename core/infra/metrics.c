#include "infra/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum family_type { FAMILY_COUNTER, FAMILY_GAUGE, FAMILY_HISTOGRAM };

struct ov_counter {
    _Atomic uint64_t v;
};

struct ov_gauge {
    _Atomic int64_t v;
};

/* Buckets are stored per bucket (not cumulative) and summed when rendering, so one
 * observation is one atomic increment; _count is the sum of all buckets, which keeps
 * _count and the +Inf bucket equal in every scrape. The sum is a double kept as its
 * bit pattern, updated by compare-and-swap (C17 has no atomic add for floating types). */
struct ov_histogram {
    const double *bounds; /* the family's */
    size_t n_bounds;
    _Atomic uint64_t sum_bits;
    _Atomic uint64_t bucket[OV_METRICS_MAX_BUCKETS + 1];
};

struct series {
    struct series *next;
    char *labels; /* "" for none */
    union {
        struct ov_counter c;
        struct ov_gauge g;
        struct ov_histogram h;
    } u;
};

struct family {
    struct family *next;
    enum family_type type;
    char *name;
    char *help;
    double bounds[OV_METRICS_MAX_BUCKETS];
    size_t n_bounds;
    struct series *head, **tail;
};

struct ov_metrics {
    pthread_mutex_t mu; /* guards the lists, never the values */
    struct family *head, **tail;
    size_t n_series;
};

int
ov_metrics_new(struct ov_metrics **out)
{
    struct ov_metrics *m = calloc(1, sizeof *m);
    *out = NULL;
    if (m == NULL) {
        return -OV_E_NOMEM;
    }
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return -OV_E_NOMEM;
    }
    m->tail = &m->head;
    *out = m;
    return 0;
}

void
ov_metrics_free(struct ov_metrics *m)
{
    if (m == NULL) {
        return;
    }
    struct family *f = m->head;
    while (f != NULL) {
        struct family *fn = f->next;
        struct series *s = f->head;
        while (s != NULL) {
            struct series *sn = s->next;
            free(s->labels);
            free(s);
            s = sn;
        }
        free(f->name);
        free(f->help);
        free(f);
        f = fn;
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static bool
name_ok(const char *s)
{
    size_t n = strnlen(s, OV_METRICS_MAX_NAME_LEN + 1);
    if (n == 0 || n > OV_METRICS_MAX_NAME_LEN) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) {
            return false;
        }
    }
    return true;
}

/* `k="v"(,k="v")*` with label names [a-zA-Z_][a-zA-Z0-9_]* and values using only the
 * three escapes the format defines. */
static bool
labels_ok(const char *s)
{
    size_t n = strnlen(s, OV_METRICS_MAX_LABELS_LEN + 1);
    if (n > OV_METRICS_MAX_LABELS_LEN) {
        return false;
    }
    size_t i = 0;
    while (i < n) {
        size_t k0 = i;
        while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                         s[i] == '_' || (i > k0 && s[i] >= '0' && s[i] <= '9'))) {
            i++;
        }
        if (i == k0 || i + 1 >= n || s[i] != '=' || s[i + 1] != '"') {
            return false;
        }
        for (i += 2; i < n && s[i] != '"'; i++) {
            if (s[i] == '\n') {
                return false;
            }
            if (s[i] == '\\') {
                i++;
                if (i >= n || (s[i] != '\\' && s[i] != '"' && s[i] != 'n')) {
                    return false;
                }
            }
        }
        if (i >= n) {
            return false;
        }
        i++; /* the closing quote */
        if (i < n && (s[i] != ',' || i + 1 == n)) {
            return false;
        }
        if (i < n) {
            i++;
        }
    }
    return true;
}

static char *
dup_str(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n + 1);
    }
    return p;
}

static struct family *
family_find(struct ov_metrics *m, const char *name)
{
    for (struct family *f = m->head; f != NULL; f = f->next) {
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }
    return NULL;
}

static int
family_get(struct ov_metrics *m, enum family_type type, const char *name, const char *help,
           const double *bounds, size_t n_bounds, struct family **out)
{
    struct family *f = family_find(m, name);
    if (f != NULL) {
        if (f->type != type || f->n_bounds != n_bounds ||
            (n_bounds > 0 && memcmp(f->bounds, bounds, n_bounds * sizeof *bounds) != 0)) {
            return -OV_E_STATE;
        }
        *out = f;
        return 0;
    }
    f = calloc(1, sizeof *f);
    if (f == NULL) {
        return -OV_E_NOMEM;
    }
    f->name = dup_str(name);
    f->help = dup_str(help);
    if (f->name == NULL || f->help == NULL) {
        free(f->name);
        free(f->help);
        free(f);
        return -OV_E_NOMEM;
    }
    f->type = type;
    if (n_bounds > 0) {
        memcpy(f->bounds, bounds, n_bounds * sizeof *bounds);
    }
    f->n_bounds = n_bounds;
    f->tail = &f->head;
    *m->tail = f;
    m->tail = &f->next;
    *out = f;
    return 0;
}

static int
series_get(struct ov_metrics *m, enum family_type type, const char *name, const char *help,
           const char *labels, const double *bounds, size_t n_bounds, struct series **out)
{
    if (labels == NULL) {
        labels = "";
    }
    if (!name_ok(name) || !labels_ok(labels) || help == NULL ||
        strnlen(help, OV_METRICS_MAX_HELP_LEN + 1) > OV_METRICS_MAX_HELP_LEN) {
        abort(); /* names, labels and help are our constants: a bad one is a bug */
    }
    *out = NULL;
    pthread_mutex_lock(&m->mu);
    struct family *f = NULL;
    struct series *s = NULL;
    int rc = family_get(m, type, name, help, bounds, n_bounds, &f);
    if (rc != 0) {
        goto out;
    }
    for (s = f->head; s != NULL; s = s->next) {
        if (strcmp(s->labels, labels) == 0) {
            goto out;
        }
    }
    if (m->n_series >= OV_METRICS_MAX_SERIES) {
        rc = -OV_E_TOO_BIG;
        goto out;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL || (s->labels = dup_str(labels)) == NULL) {
        free(s);
        s = NULL;
        rc = -OV_E_NOMEM;
        goto out;
    }
    if (type == FAMILY_HISTOGRAM) {
        s->u.h.bounds = f->bounds;
        s->u.h.n_bounds = f->n_bounds;
    }
    *f->tail = s;
    f->tail = &s->next;
    m->n_series++;
out:
    pthread_mutex_unlock(&m->mu);
    *out = s;
    return rc;
}

int
ov_metrics_counter(struct ov_metrics *m, const char *name, const char *help, const char *labels,
                   struct ov_counter **out)
{
    struct series *s;
    int rc = series_get(m, FAMILY_COUNTER, name, help, labels, NULL, 0, &s);
    *out = rc == 0 ? &s->u.c : NULL;
    return rc;
}

int
ov_metrics_gauge(struct ov_metrics *m, const char *name, const char *help, const char *labels,
                 struct ov_gauge **out)
{
    struct series *s;
    int rc = series_get(m, FAMILY_GAUGE, name, help, labels, NULL, 0, &s);
    *out = rc == 0 ? &s->u.g : NULL;
    return rc;
}

int
ov_metrics_histogram(struct ov_metrics *m, const char *name, const char *help, const char *labels,
                     const double *bounds, size_t n_bounds, struct ov_histogram **out)
{
    if (n_bounds > OV_METRICS_MAX_BUCKETS) {
        abort();
    }
    for (size_t i = 0; i < n_bounds; i++) {
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
            abort();
        }
    }
    struct series *s;
    int rc = series_get(m, FAMILY_HISTOGRAM, name, help, labels, bounds, n_bounds, &s);
    *out = rc == 0 ? &s->u.h : NULL;
    return rc;
}

void
ov_counter_add(struct ov_counter *c, uint64_t n)
{
    if (c != NULL) {
        atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
    }
}

uint64_t
ov_counter_get(const struct ov_counter *c)
{
    return c == NULL ? 0 : atomic_load_explicit(&c->v, memory_order_relaxed);
}

void
ov_gauge_set(struct ov_gauge *g, int64_t v)
{
    if (g != NULL) {
        atomic_store_explicit(&g->v, v, memory_order_relaxed);
    }
}

void
ov_gauge_add(struct ov_gauge *g, int64_t delta)
{
    if (g != NULL) {
        atomic_fetch_add_explicit(&g->v, delta, memory_order_relaxed);
    }
}

int64_t
ov_gauge_get(const struct ov_gauge *g)
{
    return g == NULL ? 0 : atomic_load_explicit(&g->v, memory_order_relaxed);
}

void
ov_histogram_observe(struct ov_histogram *h, double v)
{
    if (h == NULL || isnan(v)) {
        return;
    }
    size_t i = 0;
    while (i < h->n_bounds && v > h->bounds[i]) {
        i++;
    }
    uint64_t old = atomic_load_explicit(&h->sum_bits, memory_order_relaxed), next;
    do {
        double sum;
        memcpy(&sum, &old, sizeof sum);
        sum += v;
        memcpy(&next, &sum, sizeof next);
    } while (!atomic_compare_exchange_weak_explicit(&h->sum_bits, &old, next, memory_order_relaxed,
                                                    memory_order_relaxed));
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
}

/* Integers as integers, anything else in the shortest %g form that reads back as the same
 * double, so bucket bounds print as "0.005" rather than "0.0050000000000000001"; Prometheus parses
 * values with Go's ParseFloat, which accepts these, and "+Inf", "-Inf", "NaN". */
static int
append_double(struct ov_buf *out, double v)
{
    if (isnan(v)) {
        return ov_buf_append_str(out, "NaN");
    }
    if (isinf(v)) {
        return ov_buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
    }
    char tmp[40];
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(tmp, sizeof tmp, "%.0f", v); /* 200000, not 2e+05 */
        return ov_buf_append_str(out, tmp);
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) {
            break;
        }
    }
    return ov_buf_append_str(out, tmp);
}

static int
append_escaped(struct ov_buf *out, const char *s, bool quote)
{
    int rc = 0;
    for (; *s != '\0' && rc == 0; s++) {
        if (*s == '\\') {
            rc = ov_buf_append_str(out, "\\\\");
        } else if (*s == '\n') {
            rc = ov_buf_append_str(out, "\\n");
        } else if (quote && *s == '"') {
            rc = ov_buf_append_str(out, "\\\"");
        } else {
            rc = ov_buf_append(out, s, 1);
        }
    }
    return rc;
}

int
ov_metrics_label_escape(struct ov_buf *out, const char *value)
{
    return append_escaped(out, value, true);
}

/* name{labels} or name{labels,le="x"}, or no braces when there are no labels at all. */
static int
append_sample_name(struct ov_buf *out, const char *name, const char *suffix, const char *labels,
                   const double *le)
{
    int rc = ov_buf_printf(out, "%s%s", name, suffix);
    if (rc != 0 || (labels[0] == '\0' && le == NULL)) {
        return rc;
    }
    rc = ov_buf_printf(out, "{%s%s", labels, labels[0] != '\0' && le != NULL ? "," : "");
    if (rc == 0 && le != NULL) {
        rc = ov_buf_append_str(out, "le=\"");
        rc = rc ? rc : append_double(out, *le);
        rc = rc ? rc : ov_buf_append_str(out, "\"");
    }
    return rc ? rc : ov_buf_append_str(out, "}");
}

static int
render_histogram(struct ov_buf *out, const struct family *f, const struct series *s)
{
    const struct ov_histogram *h = &s->u.h;
    uint64_t cum = 0;
    int rc = 0;
    for (size_t i = 0; i <= h->n_bounds && rc == 0; i++) {
        static const double inf = INFINITY;
        cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        rc = append_sample_name(out, f->name, "_bucket", s->labels,
                                i < h->n_bounds ? &h->bounds[i] : &inf);
        rc = rc ? rc : ov_buf_printf(out, " %llu\n", (unsigned long long)cum);
    }
    uint64_t bits = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
    double sum;
    memcpy(&sum, &bits, sizeof sum);
    rc = rc ? rc : append_sample_name(out, f->name, "_sum", s->labels, NULL);
    rc = rc ? rc : ov_buf_append_str(out, " ");
    rc = rc ? rc : append_double(out, sum);
    rc = rc ? rc : ov_buf_append_str(out, "\n");
    rc = rc ? rc : append_sample_name(out, f->name, "_count", s->labels, NULL);
    return rc ? rc : ov_buf_printf(out, " %llu\n", (unsigned long long)cum);
}

static int
render_series(struct ov_buf *out, const struct family *f, const struct series *s)
{
    switch (f->type) {
    case FAMILY_COUNTER: {
        int rc = append_sample_name(out, f->name, "", s->labels, NULL);
        return rc ? rc : ov_buf_printf(out, " %llu\n", (unsigned long long)ov_counter_get(&s->u.c));
    }
    case FAMILY_GAUGE: {
        int rc = append_sample_name(out, f->name, "", s->labels, NULL);
        return rc ? rc : ov_buf_printf(out, " %lld\n", (long long)ov_gauge_get(&s->u.g));
    }
    case FAMILY_HISTOGRAM:
        return render_histogram(out, f, s);
    default:
        abort();
    }
}

int
ov_metrics_render(struct ov_metrics *m, struct ov_buf *out)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    int rc = 0;
    pthread_mutex_lock(&m->mu);
    for (const struct family *f = m->head; f != NULL && rc == 0; f = f->next) {
        rc = ov_buf_printf(out, "# HELP %s ", f->name);
        rc = rc ? rc : append_escaped(out, f->help, false);
        rc = rc ? rc : ov_buf_printf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
        for (const struct series *s = f->head; s != NULL && rc == 0; s = s->next) {
            rc = render_series(out, f, s);
        }
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}
