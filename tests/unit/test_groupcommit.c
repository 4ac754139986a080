/* Unit tests: the group-commit engine (core/infra/groupcommit) against a real SQLite file.
 * Every job submitted from many threads commits exactly once; a failing job rolls its whole
 * batch back (rows and in-memory keys) and each of its jobs learns it; calls run in their own
 * transaction or inside a batch; gathering groups jobs, max_batch bounds a batch; stop
 * finishes what is queued; idle work runs while nothing comes. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "infra/groupcommit.h"
#include "infra/rowmap.h"

#include "../test.h"

static const char *const migrations[] = {
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL) STRICT;",
};
static const struct ov_db_stmt_def stmts[] = {
    { "put", "INSERT INTO t (id, v) VALUES (?, ?)" },
    { "count", "SELECT count(*) FROM t" },
    { "has", "SELECT 1 FROM t WHERE id = ?" },
};
static const struct ov_db_schema schema = { migrations, 1, stmts, 3 };

struct job {
    struct ov_gc_job gc;
    int64_t id;
    bool poison; /* its insert fails: the batch rolls back */
    atomic_bool done;
    int rc;
};

struct world {
    struct ov_db *db;
    struct ov_rowmap *keys;
    atomic_int runs, finished, idles, biggest;
};

static int
put(struct ov_db *db, int64_t id)
{
    sqlite3_stmt *st = ov_db_stmt(db, "put");
    int rc = ov_db_bind_int64(st, 1, id);
    rc = rc ? rc : ov_db_bind_int64(st, 2, id * 7);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

static int
run(void *ctx, struct ov_db *db, struct ov_gc_job *jobs)
{
    struct world *w = ctx;
    int n = 0, rc = 0;
    atomic_fetch_add(&w->runs, 1);
    for (struct ov_gc_job *g = jobs; g != NULL && rc == 0; g = g->next, n++) {
        struct job *j = ov_gc_job_of(g, struct job, gc);
        rc = j->poison ? -OV_E_CONFLICT : put(db, j->id);
        rc = rc ? rc : ov_rowmap_put(w->keys, (uint32_t)j->id, (uint64_t)j->id);
    }
    int big = atomic_load(&w->biggest);
    while (n > big && !atomic_compare_exchange_weak(&w->biggest, &big, n)) {
    }
    return rc;
}

static void
finish(void *ctx, struct ov_gc_job *jobs, int rc)
{
    struct world *w = ctx;
    for (struct ov_gc_job *g = jobs, *next; g != NULL; g = next) {
        next = g->next; /* the job may be gone once done */
        struct job *j = ov_gc_job_of(g, struct job, gc);
        j->rc = rc;
        atomic_store(&j->done, true);
        atomic_fetch_add(&w->finished, 1);
    }
}

static void
idle(void *ctx, struct ov_db *db)
{
    (void)db;
    struct world *w = ctx;
    atomic_fetch_add(&w->idles, 1);
}

static int64_t
rows(struct ov_db *db)
{
    sqlite3_stmt *st = ov_db_stmt(db, "count");
    int64_t n = -1;
    if (ov_db_step(st) == OV_DB_ROW && ov_db_col_int64(st, 0, &n) != 0) {
        n = -1;
    }
    ov_db_reset(st);
    return n;
}

static bool
has(struct ov_db *db, int64_t id)
{
    sqlite3_stmt *st = ov_db_stmt(db, "has");
    bool found = ov_db_bind_int64(st, 1, id) == 0 && ov_db_step(st) == OV_DB_ROW;
    ov_db_reset(st);
    return found;
}

static void
wait_done(struct job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        while (!atomic_load(&jobs[i].done)) {
            usleep(100);
        }
    }
}

static struct ov_gc_cfg
config(struct world *w)
{
    struct ov_gc_cfg c = { 0 };
    c.name = "test-writer";
    c.db = w->db;
    c.undo = w->keys;
    c.gather_max = 64;
    c.gather_us = 1000;
    c.ctx = w;
    c.run = run;
    c.finish = finish;
    return c;
}

#define SUBMITTERS 4
#define PER_SUBMITTER 500

struct submitter {
    struct ov_gc *gc;
    struct job *jobs;
};

static void *
submit_all(void *arg)
{
    struct submitter *s = arg;
    for (size_t i = 0; i < PER_SUBMITTER; i++) {
        if (ov_gc_submit(s->gc, &s->jobs[i].gc, NULL) != 0) {
            s->jobs[i].rc = -1;
            atomic_store(&s->jobs[i].done, true);
        }
    }
    return NULL;
}

/* 2,000 jobs from 4 threads: each row once, in fewer transactions than jobs. */
static void
test_many_submitters(struct world *w)
{
    struct ov_metrics *m = NULL;
    CHECK(ov_metrics_new(&m) == 0);
    struct ov_gc_cfg c = config(w);
    c.metrics = m;
    struct ov_gc *gc = NULL;
    CHECK(ov_gc_start(&c, &gc) == 0);
    static struct job jobs[SUBMITTERS * PER_SUBMITTER];
    struct submitter s[SUBMITTERS];
    pthread_t th[SUBMITTERS];
    for (size_t i = 0; i < SUBMITTERS * PER_SUBMITTER; i++) {
        jobs[i].id = (int64_t)i + 1;
    }
    for (int t = 0; t < SUBMITTERS; t++) {
        s[t] = (struct submitter){ gc, jobs + t * PER_SUBMITTER };
        pthread_create(&th[t], NULL, submit_all, &s[t]);
    }
    for (int t = 0; t < SUBMITTERS; t++) {
        pthread_join(th[t], NULL);
    }
    wait_done(jobs, SUBMITTERS * PER_SUBMITTER);
    int bad = 0;
    for (size_t i = 0; i < SUBMITTERS * PER_SUBMITTER; i++) {
        bad += jobs[i].rc != 0;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(rows(w->db), SUBMITTERS * PER_SUBMITTER);
    CHECK(atomic_load(&w->runs) < SUBMITTERS * PER_SUBMITTER); /* grouped */
    CHECK(atomic_load(&w->biggest) > 1);
    ov_gc_stop(gc);
    struct ov_buf text;
    ov_buf_init(&text, OV_METRICS_MAX_RENDER_LEN);
    CHECK(ov_metrics_render(m, &text) == 0);
    CHECK(ov_buf_terminate(&text) == 0);
    CHECK(strstr((const char *)text.ptr,
                 "groupcommit_jobs_total{writer=\"test-writer\"} 2000\n") != NULL);
    ov_buf_clear(&text);
    ov_metrics_free(m);
}

/* A job that fails takes its batch with it: no row, no key, every job told. */
static void
test_failed_batch(struct world *w)
{
    struct ov_gc_cfg c = config(w);
    c.gather_always = true;
    c.gather_us = 200000; /* the four jobs below land in one batch */
    c.gather_max = 4;
    struct ov_gc *gc = NULL;
    CHECK(ov_gc_start(&c, &gc) == 0);
    int64_t before = rows(w->db);
    struct job jobs[4] = { { .id = 10001 }, { .id = 10002 }, { .id = 10003, .poison = true },
                           { .id = 10004 } };
    atomic_store(&w->runs, 0);
    for (int i = 0; i < 4; i++) {
        CHECK(ov_gc_submit(gc, &jobs[i].gc, NULL) == 0);
    }
    wait_done(jobs, 4);
    CHECK_EQ_INT(atomic_load(&w->runs), 1);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(jobs[i].rc, -OV_E_CONFLICT);
        uint64_t cand[4];
        CHECK_EQ_INT(ov_rowmap_find(w->keys, (uint32_t)jobs[i].id, cand, 4), 0);
    }
    CHECK_EQ_INT(rows(w->db), before);
    CHECK(!has(w->db, 10001));
    /* the same jobs again, without the poison: they commit */
    jobs[2].poison = false;
    for (int i = 0; i < 4; i++) {
        atomic_store(&jobs[i].done, false);
        CHECK(ov_gc_submit(gc, &jobs[i].gc, NULL) == 0);
    }
    wait_done(jobs, 4);
    CHECK_EQ_INT(jobs[3].rc, 0);
    CHECK_EQ_INT(rows(w->db), before + 4);
    ov_gc_stop(gc);
}

static int
call_put(struct ov_db *db, void *ctx)
{
    return put(db, *(int64_t *)ctx);
}

/* Calls: their own transaction, or inside a batch; a failing one fails its batch. */
static void
test_calls(struct world *w)
{
    struct ov_gc_cfg c = config(w);
    struct ov_gc *gc = NULL;
    CHECK(ov_gc_start(&c, &gc) == 0);
    int64_t id = 20001;
    CHECK_EQ_INT(ov_gc_call(gc, call_put, &id, OV_GC_OWN_TX), 0);
    CHECK(has(w->db, 20001));
    CHECK_EQ_INT(ov_gc_call(gc, call_put, &id, OV_GC_OWN_TX), -OV_E_CONFLICT);
    id = 20002;
    CHECK_EQ_INT(ov_gc_call(gc, call_put, &id, OV_GC_IN_BATCH), 0);
    CHECK(has(w->db, 20002));
    CHECK_EQ_INT(ov_gc_call(gc, call_put, &id, OV_GC_IN_BATCH), -OV_E_CONFLICT);
    ov_gc_stop(gc);
}

/* max_batch bounds a batch; stop finishes every queued job. */
static void
test_max_batch_and_stop(struct world *w)
{
    struct ov_gc_cfg c = config(w);
    c.gather_always = true;
    c.gather_us = 100000;
    c.gather_max = 0;
    c.max_batch = 3;
    struct ov_gc *gc = NULL;
    CHECK(ov_gc_start(&c, &gc) == 0);
    static struct job jobs[100];
    atomic_store(&w->biggest, 0);
    for (int i = 0; i < 100; i++) {
        jobs[i] = (struct job){ .id = 30000 + i };
        CHECK(ov_gc_submit(gc, &jobs[i].gc, NULL) == 0);
    }
    ov_gc_stop(gc); /* at once: the queue is still full */
    int finished = 0;
    for (int i = 0; i < 100; i++) {
        finished += atomic_load(&jobs[i].done) && jobs[i].rc == 0;
    }
    CHECK_EQ_INT(finished, 100);
    CHECK_EQ_INT(atomic_load(&w->biggest), 3);
    CHECK(has(w->db, 30099));
}

static void
test_idle(struct world *w)
{
    struct ov_gc_cfg c = config(w);
    c.idle = idle;
    c.idle_us = 5000;
    struct ov_gc *gc = NULL;
    CHECK(ov_gc_start(&c, &gc) == 0);
    usleep(60000);
    ov_gc_stop(gc);
    CHECK(atomic_load(&w->idles) >= 3);
}

int
main(void)
{
    CHECK(sodium_init() >= 0);
    char dir[256], path[300];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/ov_test_gc.XXXXXX", tmp != NULL ? tmp : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/gc.db", dir);
    struct world w;
    memset(&w, 0, sizeof w);
    CHECK(ov_db_open(path, 0, &schema, &w.db) == 0 && ov_rowmap_new(&w.keys) == 0);
    if (w.db != NULL && w.keys != NULL) {
        test_many_submitters(&w);
        test_failed_batch(&w);
        test_calls(&w);
        test_max_batch_and_stop(&w);
        test_idle(&w);
    }
    ov_rowmap_free(w.keys);
    ov_db_close(w.db);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    TEST_DONE("test_groupcommit");
}
