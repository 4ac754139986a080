/* Unit tests: the metrics registry and its Prometheus text exposition (format 0.0.4). */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "../test.h"
#include "base/bytes.h"
#include "infra/metrics.h"

static void
test_render_exact(void)
{
    struct ov_metrics *m;
    struct ov_counter *c1, *c2, *c1again;
    struct ov_gauge *g;
    struct ov_histogram *h;
    static const double bounds[] = {0.005, 0.1, 1, 2.5};
    CHECK_EQ_INT(ov_metrics_new(&m), 0);
    CHECK_EQ_INT(ov_metrics_counter(m, "req_total", "Requests.\nTwo lines \\ here.",
                                    "route=\"/a\",code=\"200\"", &c1),
                 0);
    CHECK_EQ_INT(
        ov_metrics_counter(m, "req_total", "ignored", "route=\"/b\\\"q\\\\\",code=\"404\"", &c2),
        0);
    CHECK_EQ_INT(ov_metrics_counter(m, "req_total", "x", "route=\"/a\",code=\"200\"", &c1again), 0);
    CHECK(c1 == c1again);
    CHECK_EQ_INT(ov_metrics_gauge(m, "queue_len", "Queue length.", NULL, &g), 0);
    CHECK_EQ_INT(ov_metrics_histogram(m, "lat_seconds", "Latency.", "op=\"x\"", bounds, 4, &h), 0);
    ov_counter_add(c1, 3);
    ov_counter_add(c2, 1);
    ov_gauge_set(g, 10);
    ov_gauge_add(g, -13);
    ov_histogram_observe(h, 0.005); /* on a bound: that bucket (le is inclusive) */
    ov_histogram_observe(h, 0.05);
    ov_histogram_observe(h, 2);
    ov_histogram_observe(h, 7);
    ov_histogram_observe(h, NAN); /* ignored */
    ov_counter_add(NULL, 1);      /* a missing metric is a no-op */
    ov_histogram_observe(NULL, 1);
    CHECK_EQ_INT(ov_counter_get(c1), 3);
    CHECK_EQ_INT(ov_gauge_get(g), -3);

    static const char want[] = "# HELP req_total Requests.\\nTwo lines \\\\ here.\n"
                               "# TYPE req_total counter\n"
                               "req_total{route=\"/a\",code=\"200\"} 3\n"
                               "req_total{route=\"/b\\\"q\\\\\",code=\"404\"} 1\n"
                               "# HELP queue_len Queue length.\n"
                               "# TYPE queue_len gauge\n"
                               "queue_len -3\n"
                               "# HELP lat_seconds Latency.\n"
                               "# TYPE lat_seconds histogram\n"
                               "lat_seconds_bucket{op=\"x\",le=\"0.005\"} 1\n"
                               "lat_seconds_bucket{op=\"x\",le=\"0.1\"} 2\n"
                               "lat_seconds_bucket{op=\"x\",le=\"1\"} 2\n"
                               "lat_seconds_bucket{op=\"x\",le=\"2.5\"} 3\n"
                               "lat_seconds_bucket{op=\"x\",le=\"+Inf\"} 4\n"
                               "lat_seconds_sum{op=\"x\"} 9.055\n"
                               "lat_seconds_count{op=\"x\"} 4\n";
    struct ov_buf out;
    ov_buf_init(&out, 1 << 16);
    CHECK_EQ_INT(ov_metrics_render(m, &out), 0);
    CHECK(out.len == sizeof want - 1 && memcmp(out.ptr, want, out.len) == 0);
    if (out.len != sizeof want - 1 || memcmp(out.ptr, want, out.len) != 0) {
        fprintf(stderr, "got:\n%.*s", (int)out.len, (const char *)out.ptr);
    }
    /* a rendering that does not fit fails instead of truncating silently */
    struct ov_buf small;
    ov_buf_init(&small, 100);
    CHECK_EQ_INT(ov_metrics_render(m, &small), -OV_E_TOO_BIG);
    ov_buf_clear(&small);
    ov_buf_clear(&out);

    /* a name keeps its type, and a histogram its buckets */
    struct ov_gauge *g2;
    struct ov_histogram *h2;
    static const double other[] = {1, 2};
    CHECK_EQ_INT(ov_metrics_gauge(m, "req_total", "", NULL, &g2), -OV_E_STATE);
    CHECK(g2 == NULL);
    CHECK_EQ_INT(ov_metrics_histogram(m, "lat_seconds", "", "op=\"y\"", other, 2, &h2),
                 -OV_E_STATE);
    CHECK_EQ_INT(ov_metrics_histogram(m, "lat_seconds", "", "op=\"y\"", bounds, 4, &h2), 0);
    CHECK(h2 != NULL && h2 != h);
    ov_metrics_free(m);
    ov_metrics_free(NULL);
}

static void
test_escape_and_no_labels_histogram(void)
{
    struct ov_buf b;
    ov_buf_init(&b, 64);
    CHECK_EQ_INT(ov_metrics_label_escape(&b, "a\"b\\c\nd"), 0);
    CHECK(b.len == 10 && memcmp(b.ptr, "a\\\"b\\\\c\\nd", 10) == 0);
    ov_buf_clear(&b);

    struct ov_metrics *m;
    struct ov_histogram *h;
    static const double bounds[] = {0.25};
    CHECK_EQ_INT(ov_metrics_new(&m), 0);
    CHECK_EQ_INT(ov_metrics_histogram(m, "h", "H.", "", bounds, 1, &h), 0);
    ov_histogram_observe(h, 0.1);
    ov_buf_init(&b, 4096);
    CHECK_EQ_INT(ov_metrics_render(m, &b), 0);
    static const char want[] = "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"0.25\"} 1\n"
                               "h_bucket{le=\"+Inf\"} 1\nh_sum 0.1\nh_count 1\n";
    CHECK(b.len == sizeof want - 1 && memcmp(b.ptr, want, b.len) == 0);
    ov_buf_clear(&b);
    ov_metrics_free(m);
}

struct hammer {
    struct ov_counter *c;
    struct ov_histogram *h;
    struct ov_gauge *g;
};

static void *
hammer_main(void *arg)
{
    struct hammer *hm = arg;
    for (int i = 0; i < 100000; i++) {
        ov_counter_add(hm->c, 1);
        ov_histogram_observe(hm->h, 0.5);
        ov_gauge_add(hm->g, (i & 1) ? 1 : -1);
    }
    return NULL;
}

static void
test_concurrent_updates(void)
{
    struct ov_metrics *m;
    struct hammer hm;
    static const double bounds[] = {1};
    CHECK_EQ_INT(ov_metrics_new(&m), 0);
    CHECK_EQ_INT(ov_metrics_counter(m, "c_total", "C.", NULL, &hm.c), 0);
    CHECK_EQ_INT(ov_metrics_histogram(m, "h", "H.", NULL, bounds, 1, &hm.h), 0);
    CHECK_EQ_INT(ov_metrics_gauge(m, "g", "G.", NULL, &hm.g), 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(pthread_create(&t[i], NULL, hammer_main, &hm), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    CHECK_EQ_INT(ov_counter_get(hm.c), 400000);
    CHECK_EQ_INT(ov_gauge_get(hm.g), 0);
    struct ov_buf b;
    ov_buf_init(&b, 4096);
    CHECK_EQ_INT(ov_metrics_render(m, &b), 0);
    CHECK_EQ_INT(ov_buf_terminate(&b), 0);
    /* 0.5 is exact in binary, so 400000 additions are too: a lost CAS would show */
    CHECK(strstr((const char *)b.ptr, "h_sum 200000\n") != NULL);
    CHECK(strstr((const char *)b.ptr, "h_count 400000\n") != NULL);
    ov_buf_clear(&b);
    ov_metrics_free(m);
}

int
main(void)
{
    test_render_exact();
    test_escape_and_no_labels_histogram();
    test_concurrent_updates();
    TEST_DONE("test_metrics");
}
