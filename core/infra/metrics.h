/* metrics: a registry of counters, gauges and histograms that any thread may update
 * (lock-free atomics) and that renders to the Prometheus text exposition format 0.0.4.
 * The registry owns every series registered in it; handles stay valid until
 * ov_metrics_free. Registration takes a mutex; updates never do.
 *
 * A series is identified by its metric name plus a fixed label string, written as it
 * appears between the braces of the exposition format, e.g. `route="/x",code="200"`
 * (values escaped by ov_metrics_label_escape). Registering the same name and labels again
 * returns the same series, so callers may look series up lazily. All series of one name
 * share its type and help text and are rendered together under one # HELP / # TYPE. */
#ifndef OV_METRICS_H
#define OV_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"

#define OV_METRICS_MAX_NAME_LEN 128   /* metric name */
#define OV_METRICS_MAX_LABELS_LEN 512 /* label string */
#define OV_METRICS_MAX_HELP_LEN 512
#define OV_METRICS_MAX_BUCKETS 32  /* histogram bucket bounds, +Inf not counted */
#define OV_METRICS_MAX_SERIES 4096 /* per registry: bounds memory if labels run away */
#define OV_METRICS_MAX_RENDER_LEN (4u << 20)

struct ov_metrics;
struct ov_counter;
struct ov_gauge;
struct ov_histogram;

/* A new empty registry: -OV_E_NOMEM. The caller owns it (ov_metrics_free). */
OV_MUST_CHECK int ov_metrics_new(struct ov_metrics **out);
/* Frees the registry and every series in it. Accepts NULL. */
void ov_metrics_free(struct ov_metrics *m);

/* Gets or creates a series. `name` must match [a-zA-Z_:][a-zA-Z0-9_:]*, `labels` (NULL or
 * "" for none) must be well formed `k="v",...`; both are our own constants, so a bad one
 * is a bug and aborts. Fails with -OV_E_STATE when the name exists with another type
 * (or other histogram buckets), -OV_E_TOO_BIG past OV_METRICS_MAX_SERIES, -OV_E_NOMEM.
 * *out is owned by the registry. */
OV_MUST_CHECK int ov_metrics_counter(struct ov_metrics *m, const char *name, const char *help,
                                     const char *labels, struct ov_counter **out);
OV_MUST_CHECK int ov_metrics_gauge(struct ov_metrics *m, const char *name, const char *help,
                                   const char *labels, struct ov_gauge **out);
/* `bounds` are the upper bounds of the buckets, strictly increasing and finite; a +Inf
 * bucket is implied. */
OV_MUST_CHECK int ov_metrics_histogram(struct ov_metrics *m, const char *name, const char *help,
                                       const char *labels, const double *bounds, size_t n_bounds,
                                       struct ov_histogram **out);

/* Updates: thread-safe, lock-free, never fail. A NULL handle is ignored, so a failed
 * registration degrades to a missing metric rather than a crash. */
void ov_counter_add(struct ov_counter *c, uint64_t n);
uint64_t ov_counter_get(const struct ov_counter *c);
void ov_gauge_set(struct ov_gauge *g, int64_t v);
void ov_gauge_add(struct ov_gauge *g, int64_t delta);
int64_t ov_gauge_get(const struct ov_gauge *g);
void ov_histogram_observe(struct ov_histogram *h, double v);

/* Appends the exposition of every series (ordered by registration) to out.
 * Fails with -OV_E_TOO_BIG / -OV_E_NOMEM from the buffer; out may then hold a prefix. */
OV_MUST_CHECK int ov_metrics_render(struct ov_metrics *m, struct ov_buf *out);

/* Appends `value` escaped for use inside a label value's quotes (\\, \" and \n). */
OV_MUST_CHECK int ov_metrics_label_escape(struct ov_buf *out, const char *value);

/* The Content-Type of the rendering. */
#define OV_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
