/* tally: the live counts of a context (plurality per choice, or per target [count, sum]),
 * as JSON and as the context's tally entry (docs/PROTOCOL.md §3, §8). The follower adds
 * each action once the log holds it; the caller holds app->tally_mu. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "contexts.h"
#include "tally.h"
#include "base/codec.h"
#include "protocol/receipt.h"

/* The target's slot in the sorted array (its index, or where it would go). */
static size_t
target_slot(const struct vf_tally *t, const char *name, bool *found)
{
    size_t lo = 0, hi = t->n_targets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->targets[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

/* Room in the array *p of n (capacity *cap) for one more of size bytes: doubled when full. */
static int
room(void **p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap) {
        return 0;
    }
    size_t c = *cap ? 2 * *cap : 16;
    void *q = realloc(*p, c * size);
    if (q == NULL) {
        return -OV_E_NOMEM;
    }
    *p = q;
    *cap = c;
    return 0;
}

int
vf_tally_add(struct vf_context *c, const char *label, int64_t rating)
{
    struct vf_tally *t = &c->tally;
    if (c->c.type == OV_CONTEXT_ASSEMBLY) {
        for (size_t i = 0; i < c->c.n_choices; i++) {
            if (strcmp(c->c.choices[i], label) == 0) {
                t->counts[i]++;
                return 0;
            }
        }
        return -OV_E_MALFORMED; /* not a choice: the handler never counts one */
    }
    bool found;
    size_t i = target_slot(t, label, &found);
    if (!found) {
        if (room((void **)&t->targets, t->n_targets, &t->cap_targets, sizeof *t->targets) != 0) {
            return -OV_E_NOMEM;
        }
        memmove(&t->targets[i + 1], &t->targets[i], (t->n_targets - i) * sizeof *t->targets);
        memset(&t->targets[i], 0, sizeof *t->targets);
        snprintf(t->targets[i].name, sizeof t->targets[i].name, "%s", label);
        t->n_targets++;
    }
    t->targets[i].count++;
    t->targets[i].sum += rating;
    return 0;
}

json_t *
vf_tally_json(const struct vf_context *c, uint64_t size)
{
    const struct vf_tally *t = &c->tally;
    bool ratings = c->c.type == OV_CONTEXT_RATING;
    json_t *res = json_object();
    for (size_t i = 0; res != NULL && !ratings && i < c->c.n_choices; i++) {
        if (json_object_set_new(res, c->c.choices[i], json_integer((json_int_t)t->counts[i]))) {
            json_decref(res);
            res = NULL;
        }
    }
    for (size_t i = 0; res != NULL && ratings && i < t->n_targets; i++) {
        json_t *pair = json_pack("[II]", (json_int_t)t->targets[i].count,
                                 (json_int_t)t->targets[i].sum);
        if (pair == NULL || json_object_set_new(res, t->targets[i].name, pair) != 0) {
            json_decref(res);
            res = NULL;
        }
    }
    if (res == NULL) {
        return NULL;
    }
    json_t *o = json_pack("{sssIsssosb}", "context", c->c.id, "size",
                          (json_int_t)(t->final ? t->final_size : size), "algorithm",
                          ratings ? OV_TALLY_RATINGS : OV_TALLY_PLURALITY, "result", res, "final",
                          t->final);
    if (o != NULL && t->final) {
        char path[OV_RECEIPT_PATH_LEN + 1];
        ov_receipt_path(t->final_hash, path);
        if (json_object_set_new(o, "receipt", json_string(path)) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

void
vf_tally_reset(struct vf_context *c)
{
    struct vf_tally *t = &c->tally, keep = *t;
    free(t->targets);
    free(t->ratings);
    memset(t, 0, sizeof *t);
    t->final = keep.final;
    t->final_size = keep.final_size;
    memcpy(t->final_hash, keep.final_hash, sizeof t->final_hash);
    memcpy(t->final_seed, keep.final_seed, sizeof t->final_seed);
    t->stmts = keep.stmts; /* its room stays */
}

int
vf_tally_statement(struct vf_context *c, const char *id, const uint8_t *author, int64_t row)
{
    struct vf_tally *t = &c->tally;
    if (t->stmts == NULL || t->n_stmts >= OV_MAX_ROUND_STATEMENTS ||
        ov_statement_id_check(id) != 0 || vf_stmt_find(t->stmts, t->n_stmts, id) != NULL) {
        return -OV_E_MALFORMED; /* the committer never counts one */
    }
    struct vf_stmt *s = &t->stmts[t->n_stmts++];
    memcpy(s->id, id, sizeof s->id);
    memcpy(s->author, author, OV_PSEUDONYM_LEN);
    s->row = row;
    return 0;
}

int
vf_tally_rating(struct vf_context *c, const uint8_t *pseudonym, const char *target,
                int64_t rating)
{
    struct vf_tally *t = &c->tally;
    if (t->stmts != NULL && ov_statement_id_check(target) == 0) {
        if (room((void **)&t->ratings, t->n_ratings, &t->cap_ratings, sizeof *t->ratings) != 0) {
            return -OV_E_NOMEM;
        }
        struct ov_round_rating *r = &t->ratings[t->n_ratings];
        memcpy(r->pseudonym, pseudonym, OV_PSEUDONYM_LEN);
        memcpy(r->statement, target, sizeof r->statement);
        r->rating = rating;
        t->n_ratings++;
    }
    return vf_tally_add(c, target, rating);
}

static int
cmp_stmt(const void *a, const void *b)
{
    return strcmp(((const struct vf_stmt *)a)->id, ((const struct vf_stmt *)b)->id);
}

void
vf_round_input_free(struct ov_round_input *in)
{
    free((void *)(uintptr_t)in->statements);
    free((void *)(uintptr_t)in->ratings);
    memset(in, 0, sizeof *in);
}

int
vf_round_copy(const struct vf_context *c, struct vf_round_copy *cp)
{
    const struct vf_tally *t = &c->tally;
    cp->kind = c->c.rating_kind;
    cp->n_stmts = t->n_stmts;
    cp->n_ratings = t->n_ratings;
    cp->stmts = malloc((t->n_stmts ? t->n_stmts : 1) * sizeof *cp->stmts);
    cp->ratings = malloc((t->n_ratings ? t->n_ratings : 1) * sizeof *cp->ratings);
    if (cp->stmts == NULL || cp->ratings == NULL) {
        free(cp->stmts);
        free(cp->ratings);
        memset(cp, 0, sizeof *cp);
        return -OV_E_NOMEM;
    }
    if (t->n_stmts > 0) {
        memcpy(cp->stmts, t->stmts, t->n_stmts * sizeof *cp->stmts);
    }
    if (t->n_ratings > 0) {
        memcpy(cp->ratings, t->ratings, t->n_ratings * sizeof *cp->ratings);
    }
    return 0;
}

int
vf_round_input(struct vf_round_copy *cp, const struct ov_bridge_params *params,
               const uint8_t seed[32], struct ov_round_input *in)
{
    struct vf_stmt *sorted = cp->stmts;
    struct ov_round_rating *r = cp->ratings;
    size_t ns = cp->n_stmts, nr = 0;
    memset(in, 0, sizeof *in);
    char(*ids)[OV_STATEMENT_ID_LEN + 1] = malloc((ns ? ns : 1) * sizeof *ids);
    if (ids == NULL) {
        free(sorted);
        free(r);
        memset(cp, 0, sizeof *cp);
        return -OV_E_NOMEM;
    }
    if (ns > 0) {
        qsort(sorted, ns, sizeof *sorted, cmp_stmt);
    }
    for (size_t i = 0; i < ns; i++) {
        memcpy(ids[i], sorted[i].id, sizeof ids[i]);
    }
    /* a rating counts when its target is a counted statement not the rater's (§11.3) */
    for (size_t i = 0; i < cp->n_ratings; i++) {
        struct vf_stmt key;
        memset(&key, 0, sizeof key);
        memcpy(key.id, r[i].statement, sizeof key.id);
        const struct vf_stmt *s = ns ? bsearch(&key, sorted, ns, sizeof *sorted, cmp_stmt) : NULL;
        if (s != NULL && memcmp(s->author, r[i].pseudonym, OV_PSEUDONYM_LEN) != 0) {
            r[nr++] = r[i];
        }
    }
    free(sorted);
    in->kind = cp->kind;
    in->statements = (const char(*)[OV_STATEMENT_ID_LEN + 1])ids;
    in->n_statements = ns;
    in->ratings = r;
    in->n_ratings = nr;
    memcpy(in->seed, seed, sizeof in->seed);
    in->params = *params;
    memset(cp, 0, sizeof *cp);
    return 0;
}

int
vf_tally_entry(const struct vf_context *c, uint64_t size, uint64_t time,
               const struct ov_tally_results *results, struct ov_buf *out)
{
    const struct vf_tally *t = &c->tally;
    bool ratings = c->c.type == OV_CONTEXT_RATING;
    size_t n = ratings ? t->n_targets : c->c.n_choices;
    struct ov_entry e;
    memset(&e, 0, sizeof e);
    e.kind = OV_ENTRY_TALLY;
    snprintf(e.u.tally.context, sizeof e.u.tally.context, "%s", c->c.id);
    e.u.tally.size = size;
    e.u.tally.ratings = ratings;
    e.u.tally.time = time;
    e.u.tally.n = n;
    e.u.tally.items = calloc(n ? n : 1, sizeof *e.u.tally.items);
    if (e.u.tally.items == NULL) {
        ov_buf_init(out, 0);
        return -OV_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct ov_tally_item *it = &e.u.tally.items[i];
        if (ratings) {
            snprintf(it->name, sizeof it->name, "%s", t->targets[i].name);
            it->count = t->targets[i].count;
            it->sum = t->targets[i].sum;
        } else {
            snprintf(it->name, sizeof it->name, "%s", c->c.choices[i]);
            it->count = t->counts[i];
        }
    }
    if (results != NULL) {
        e.u.tally.has_results = true;
        e.u.tally.results = *results; /* (its lists stay the caller's) */
    }
    int rc = ov_entry_encode(&e, out);
    free(e.u.tally.items);
    return rc;
}
