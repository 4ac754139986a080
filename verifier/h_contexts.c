/* h_contexts: GET /tallies, GET /tallies/<context>, GET /contexts and GET
 * /contexts/<id>/statements. */
#include "handlers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/codec.h"
#include "contexts.h"
#include "store.h"
#include "tally.h"

#define VF_ROUND_CACHE_S 10 /* a statement round's provisional results: at most this often */

struct list {
    struct vf_context **v;
    size_t n, cap;
};

static void
collect(void *ctx, struct vf_context *c)
{
    struct list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct vf_context **p = realloc(l->v, cap * sizeof *p);
        if (p == NULL) {
            return;
        }
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = c;
}

static int
by_id(const void *a, const void *b)
{
    return strcmp((*(struct vf_context *const *)a)->c.id, (*(struct vf_context *const *)b)->c.id);
}

/* Every context into l, by id. (No qsort of an empty list: its NULL array is undefined
 * behaviour, which UBSan caught when GET /contexts came before the first context.) */
static void
collect_sorted(struct vf_app *app, struct list *l)
{
    vf_context_each(app, collect, l);
    if (l->n > 1) {
        qsort(l->v, l->n, sizeof *l->v, by_id);
    }
}

/* A statement round's answer to GET /tallies/<id>, serialised once and shared by the
 * requests that send it (each takes a reference under app->round_mu). */
struct vf_round_body {
    atomic_uint refs;
    uint64_t size; /* the tally size it reflects */
    size_t len;
    char text[];
};

void
vf_round_body_release(struct vf_round_body *b)
{
    if (b != NULL && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        free(b);
    }
}

/* A statement round's tally with its results (docs/PROTOCOL.md §11.3), computed over the
 * count at the size it shows, seeded by the root there; the final one from its tally
 * entry's seed once the count reaches its size. Only the input is copied under tally_mu;
 * the algorithms and the serialisation run without a lock. NULL on failure (memory). */
static struct vf_round_body *
round_compute(struct vf_app *app, struct vf_context *c, bool *final)
{
    struct vf_round_copy cp;
    struct ov_round_input in;
    struct ov_roundresult r;
    uint8_t seed[32];
    pthread_mutex_lock(&app->tally_mu);
    *final = c->tally.final && app->tally_size >= c->tally.final_size;
    uint64_t size = app->tally_size;
    json_t *o = vf_tally_json(c, size);
    int rc = c->tally.final && !*final
                 ? -OV_E_STATE /* restarted, counting again: the count, results later */
                 : vf_round_copy(c, &cp);
    memcpy(seed, *final ? c->tally.final_seed : app->tally_root, sizeof seed);
    pthread_mutex_unlock(&app->tally_mu);
    rc = rc ? rc : vf_round_input(&cp, &app->bridge, seed, &in);
    if (rc == 0) {
        rc = ov_roundresult_run(&in, &r);
        vf_round_input_free(&in);
        json_t *res = rc == 0 ? ov_roundresult_json(&r) : NULL;
        if (rc == 0) {
            ov_roundresult_free(&r);
        }
        if (o != NULL && (res == NULL || json_object_update(o, res) != 0)) {
            json_decref(o);
            o = NULL;
        }
        json_decref(res);
    }
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL; /* as ov_http_reply_json */
    json_decref(o);
    size_t n = s != NULL ? strlen(s) : 0;
    struct vf_round_body *b = s != NULL ? malloc(sizeof *b + n) : NULL;
    if (b != NULL) {
        atomic_init(&b->refs, 1);
        b->size = size;
        b->len = n;
        memcpy(b->text, s, n);
    }
    free(s);
    return b;
}

/* GET /tallies/<id> of a statement round: its answer's bytes, computed at most once every
 * VF_ROUND_CACHE_S while open and once after the tally. One thread computes a round at a
 * time, outside app->round_mu; meanwhile the others send the previous answer, or wait
 * (app->round_cv) when there is none yet. A reference to the caller (release it). */
static struct vf_round_body *
round_tally(struct vf_app *app, struct vf_context *c)
{
    uint64_t now = vf_now();
    pthread_mutex_lock(&app->tally_mu);
    bool final = c->tally.final;
    uint64_t counted = app->tally_size;
    pthread_mutex_unlock(&app->tally_mu);
    pthread_mutex_lock(&app->round_mu);
    for (;;) {
        struct vf_round_body *b = c->round_body;
        /* the same count (nothing logged since) gives the same bytes: no need to compute */
        bool fresh = b != NULL &&
                     (c->round_final || (!final && (now < c->round_at + VF_ROUND_CACHE_S ||
                                                    b->size == counted)));
        if (fresh || (b != NULL && c->round_busy)) {
            atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
            pthread_mutex_unlock(&app->round_mu);
            return b;
        }
        if (!c->round_busy) {
            break;
        }
        pthread_cond_wait(&app->round_cv, &app->round_mu);
    }
    c->round_busy = true;
    pthread_mutex_unlock(&app->round_mu);
    bool done = false;
    struct vf_round_body *nb = round_compute(app, c, &done);
    pthread_mutex_lock(&app->round_mu);
    c->round_busy = false;
    if (nb != NULL) {
        vf_round_body_release(c->round_body);
        c->round_body = nb;
        c->round_at = now;
        c->round_final = done;
    }
    struct vf_round_body *out = c->round_body;
    if (out != NULL) {
        atomic_fetch_add_explicit(&out->refs, 1, memory_order_relaxed);
    }
    pthread_cond_broadcast(&app->round_cv);
    pthread_mutex_unlock(&app->round_mu);
    return out;
}

static int
reply_round(struct ov_req *rq, struct vf_app *app, struct vf_context *c)
{
    struct vf_round_body *b = round_tally(app, c);
    if (b == NULL) {
        return ov_http_error(rq, 500, "internal_error", "could not build the reply");
    }
    int rc = ov_http_reply(rq, 200, "application/json", OV_BYTES(b->text, b->len));
    vf_round_body_release(b);
    return rc;
}

int
vf_h_tallies(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct list l = { NULL, 0, 0 };
    const char *id = ov_req_param(rq, "context");
    if (id != NULL) {
        struct vf_context *c = vf_context_find(app, id);
        if (c == NULL) {
            return vf_refuse(rq, &R_UNKNOWN_CONTEXT);
        }
        if (vf_statement_round(c)) {
            return reply_round(rq, app, c);
        }
        pthread_mutex_lock(&app->tally_mu);
        json_t *o = vf_tally_json(c, app->tally_size);
        pthread_mutex_unlock(&app->tally_mu);
        return ov_http_reply_json(rq, 200, o);
    }
    collect_sorted(app, &l);
    json_t *a = json_array();
    pthread_mutex_lock(&app->tally_mu);
    for (size_t i = 0; i < l.n && a != NULL; i++) {
        if (json_array_append_new(a, vf_tally_json(l.v[i], app->tally_size)) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    pthread_mutex_unlock(&app->tally_mu);
    free(l.v);
    return ov_http_reply_json(rq, 200, a);
}

static json_t *
context_json(const struct vf_context *c, uint64_t now)
{
    char kid[64];
    json_t *o = NULL;
    if (ov_b64_encode(kid, sizeof kid, c->c.token_key_id, OV_PP_NID, OV_B64_URL_NOPAD) != 0) {
        return NULL;
    }
    if (c->c.type == OV_CONTEXT_ASSEMBLY) {
        json_t *ch = json_array();
        for (size_t i = 0; ch != NULL && i < c->c.n_choices; i++) {
            if (json_array_append_new(ch, json_string(c->c.choices[i])) != 0) {
                json_decref(ch);
                ch = NULL;
            }
        }
        o = json_pack("{sssssssssoso}", "id", c->c.id, "title", c->c.title, "type", "assembly",
                      "issuer", c->c.issuer, "choices", ch ? ch : json_null(), "token_key_id",
                      json_string(kid));
    } else {
        o = json_pack("{sssssssssss[II]}", "id", c->c.id, "title", c->c.title, "type", "rating",
                      "issuer", c->c.issuer, "token_key_id", kid, "scale",
                      (json_int_t)c->c.scale_min, (json_int_t)c->c.scale_max);
    }
    if (o != NULL &&
        (json_object_set_new(o, "opens", json_integer((json_int_t)c->c.opens)) != 0 ||
         json_object_set_new(o, "closes", json_integer((json_int_t)c->c.closes)) != 0 ||
         json_object_set_new(o, "quota", json_integer((json_int_t)c->c.quota)) != 0 ||
         json_object_set_new(o, "log_index", json_integer((json_int_t)c->log_index)) != 0 ||
         json_object_set_new(o, "open", json_boolean(now >= c->c.opens && now < c->c.closes)))) {
        json_decref(o);
        o = NULL;
    }
    if (o != NULL && vf_statement_round(c) &&
        (json_object_set_new(o, "rating_kind",
                             json_string(c->c.rating_kind == OV_RATING_HELPFULNESS ? "helpfulness"
                                                                                  : "agreement")) != 0 ||
         json_object_set_new(o, "statements", json_integer((json_int_t)c->c.statements)) != 0)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

int
vf_h_contexts(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct list l = { NULL, 0, 0 };
    uint64_t now = vf_now();
    collect_sorted(app, &l);
    json_t *a = json_array();
    for (size_t i = 0; i < l.n && a != NULL; i++) {
        if (json_array_append_new(a, context_json(l.v[i], now)) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    free(l.v);
    return ov_http_reply_json(rq, 200, a);
}

static int
cmp_stmt_id(const void *a, const void *b)
{
    return strcmp(((const struct vf_stmt *)a)->id, ((const struct vf_stmt *)b)->id);
}

/* {"id","text","time"} of a counted statement, from its row's entry. */
static json_t *
statement_json(struct ov_db *db, const struct vf_stmt *s)
{
    sqlite3_stmt *st = ov_db_stmt(db, "entry_bytes");
    struct ov_bytes b;
    struct ov_entry e;
    json_t *o = NULL;
    int rc = ov_db_bind_int64(st, 1, s->row);
    rc = rc ? rc : (ov_db_step(st) == OV_DB_ROW ? 0 : -OV_E_DB);
    rc = rc ? rc : ov_db_col_blob(st, 0, OV_MAX_ENTRY_LEN, &b);
    rc = rc ? rc : ov_entry_decode(b, &e);
    ov_db_reset(st);
    if (rc == 0 && e.kind == OV_ENTRY_STATEMENT) {
        o = json_pack("{sssssI}", "id", s->id, "text", e.u.action.text, "time",
                      (json_int_t)e.u.action.time);
    }
    if (rc == 0) {
        ov_entry_clear(&e);
    }
    return o;
}

/* GET /contexts/<id>/statements: the counted statements, sorted by id. */
int
vf_h_statements(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct vf_context *c = vf_context_find(app, ov_req_param(rq, "context"));
    if (c == NULL) {
        return vf_refuse(rq, &R_UNKNOWN_CONTEXT);
    }
    struct vf_stmt *v = malloc(OV_MAX_ROUND_STATEMENTS * sizeof *v);
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    if (v == NULL || db == NULL) {
        free(v);
        return -OV_E_NOMEM;
    }
    pthread_mutex_lock(&app->tally_mu);
    size_t n = c->tally.stmts ? c->tally.n_stmts : 0;
    if (n > 0) {
        memcpy(v, c->tally.stmts, n * sizeof *v);
    }
    pthread_mutex_unlock(&app->tally_mu);
    qsort(v, n, sizeof *v, cmp_stmt_id);
    json_t *a = json_array();
    for (size_t i = 0; i < n && a != NULL; i++) {
        if (json_array_append_new(a, statement_json(db, &v[i])) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    free(v);
    return ov_http_reply_json(rq, 200, a);
}
