/* tally: the live counts of a context (plurality per choice, or per target [count, sum]),
 * as JSON and as the context's tally entry (docs/PROTOCOL.md §3, §8). The follower adds
 * each action once the log holds it; the caller holds app->tally_mu. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
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
        if (t->n_targets == t->cap_targets) {
            size_t cap = t->cap_targets ? 2 * t->cap_targets : 16;
            struct vf_target *p = realloc(t->targets, cap * sizeof *p);
            if (p == NULL) {
                return -OV_E_NOMEM;
            }
            t->targets = p;
            t->cap_targets = cap;
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

int
vf_tally_entry(const struct vf_context *c, uint64_t size, uint64_t time, struct ov_buf *out)
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
    int rc = ov_entry_encode(&e, out);
    free(e.u.tally.items);
    return rc;
}
