/* h_contexts: GET /tallies, GET /tallies/<context> and GET /contexts. */
#include "handlers.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/codec.h"
#include "contexts.h"
#include "tally.h"

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
        pthread_mutex_lock(&app->tally_mu);
        json_t *o = vf_tally_json(c, app->tally_size);
        pthread_mutex_unlock(&app->tally_mu);
        return ov_http_reply_json(rq, 200, o);
    }
    vf_context_each(app, collect, &l);
    qsort(l.v, l.n, sizeof *l.v, by_id);
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
    return o;
}

int
vf_h_contexts(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct list l = { NULL, 0, 0 };
    uint64_t now = vf_now();
    vf_context_each(app, collect, &l);
    qsort(l.v, l.n, sizeof *l.v, by_id);
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
