/* onevoice results: a context's tally as the verifier shows it (GET /tallies/<context>),
 * final once the tally entry is written, provisional before. An assembly's counts per
 * choice, a rating round's per target; a statement round's results (docs/PROTOCOL.md
 * §11.3): the statements rated helpful and not helpful, the opinion groups' sizes and the
 * statements of most consensus, each shown with its text (ids checked against their texts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wallet.h"

/* Participants in each group and every statement's numbers make a large answer. */
#define W_MAX_TALLY_JSON (32u << 20)

/* An id the verifier gives, or NULL when it is not one. */
static const char *
statement_id(json_t *o)
{
    const char *id = json_string_value(json_object_get(o, "id"));
    return id != NULL && ov_statement_id_check(id) == 0 ? id : NULL;
}

/* A list of {"id","text"} for the ids in `from` whose "status" is `status` (all when NULL),
 * in their order, their texts from the round's statements. NULL when one is not an id. */
static json_t *
pick(json_t *from, const char *status, json_t *texts)
{
    json_t *out = json_array(), *s;
    size_t i;
    json_array_foreach(from, i, s) {
        const char *id = statement_id(s);
        if (id == NULL) {
            json_decref(out);
            return NULL;
        }
        const char *st = json_string_value(json_object_get(s, "status"));
        if (status != NULL && (st == NULL || strcmp(st, status) != 0)) {
            continue;
        }
        json_t *o = json_pack("{ss}", "id", id);
        json_t *text = json_object_get(texts, id);
        json_object_set(o, "text", text ? text : json_null());
        if (json_is_number(json_object_get(s, "consensus"))) {
            json_object_set(o, "consensus", json_object_get(s, "consensus"));
        }
        json_array_append_new(out, o);
    }
    return out;
}

/* The statement round's part of the answer, from the tally's bridging and groups. */
static int
round_results(struct wallet *w, const char *context, json_t *tally, json_t *out)
{
    json_t *b = json_object_get(tally, "bridging"), *g = json_object_get(tally, "groups");
    json_t *list = NULL, *texts = json_object(), *s, *sizes = json_object_get(g, "sizes");
    size_t i;
    int rc = w_statements_fetch(w, context, &list);
    json_array_foreach(rc == 0 ? list : NULL, i, s) {
        json_object_set(texts, json_string_value(json_object_get(s, "id")),
                        json_object_get(s, "text"));
    }
    json_t *st = json_object_get(b, "statements");
    json_t *helpful = rc == 0 ? pick(st, "helpful", texts) : NULL;
    json_t *not_helpful = rc == 0 ? pick(st, "not_helpful", texts) : NULL;
    json_t *more = rc == 0 ? pick(st, "needs_more_ratings", texts) : NULL;
    json_t *consensus = rc == 0 ? pick(json_object_get(g, "consensus"), NULL, texts) : NULL;
    bool ok = helpful && not_helpful && more && consensus && json_is_array(st) &&
              json_is_array(sizes);
    json_array_foreach(ok ? sizes : NULL, i, s) {
        ok &= json_is_integer(s) && json_integer_value(s) >= 0;
    }
    if (rc == 0 && !ok) {
        w_fail(w, "verifier_malformed", "the verifier's results for %s are not as §11.3 says",
               context);
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0) {
        json_object_set(out, "helpful", helpful);
        json_object_set(out, "not_helpful", not_helpful);
        json_object_set_new(out, "needs_more_ratings", json_integer((json_int_t)json_array_size(more)));
        json_object_set(out, "groups", sizes);
        json_object_set(out, "consensus", consensus);
        json_object_set_new(out, "statements", json_integer((json_int_t)json_array_size(list)));
    }
    json_decref(helpful);
    json_decref(not_helpful);
    json_decref(more);
    json_decref(consensus);
    json_decref(texts);
    json_decref(list);
    return rc;
}

static void
print_statements(const char *title, json_t *list, bool numbered)
{
    size_t i;
    json_t *s;
    printf("%s (%zu):\n", title, json_array_size(list));
    json_array_foreach(list, i, s) {
        const char *text = json_string_value(json_object_get(s, "text"));
        if (numbered) {
            printf("  %2zu. ", i + 1);
        } else {
            printf("  ");
        }
        printf("%s  %s\n", json_string_value(json_object_get(s, "id")),
               text ? text : "(not listed by the verifier)");
    }
}

static void
print_human(const json_t *o)
{
    const char *receipt = json_string_value(json_object_get(o, "receipt"));
    printf("%s: %s, log size %lld%s%s\n", json_string_value(json_object_get(o, "context")),
           json_is_true(json_object_get(o, "final")) ? "final" : "provisional (counted so far)",
           (long long)json_integer_value(json_object_get(o, "size")),
           receipt ? "; tally entry " : "", receipt ? receipt : "");
    json_t *sizes = json_object_get(o, "groups");
    if (sizes != NULL) {
        size_t i;
        json_t *n;
        print_statements("helpful", json_object_get(o, "helpful"), false);
        print_statements("not helpful", json_object_get(o, "not_helpful"), false);
        printf("needing more ratings: %lld of %lld statements\n",
               (long long)json_integer_value(json_object_get(o, "needs_more_ratings")),
               (long long)json_integer_value(json_object_get(o, "statements")));
        printf("groups: %zu%s", json_array_size(sizes), json_array_size(sizes) ? " (sizes" : "");
        json_array_foreach(sizes, i, n) {
            printf("%s %lld", i ? "," : "", (long long)json_integer_value(n));
        }
        printf("%s\n", json_array_size(sizes) ? ")" : "");
        print_statements("consensus", json_object_get(o, "consensus"), true);
        return;
    }
    const char *key;
    json_t *v;
    bool ratings = strcmp(json_string_value(json_object_get(o, "algorithm")), OV_TALLY_RATINGS) == 0;
    json_object_foreach(json_object_get(o, "result"), key, v) {
        if (ratings) {
            json_int_t count = json_integer_value(json_array_get(v, 0));
            json_int_t sum = json_integer_value(json_array_get(v, 1));
            printf("  %-32s %lld rating%s, mean %.2f\n", key, (long long)count,
                   count == 1 ? "" : "s", count ? (double)sum / (double)count : 0.0);
        } else {
            printf("  %-32s %lld\n", key, (long long)json_integer_value(v));
        }
    }
}

/* What print_human shows of the verifier's answer as it came: the result's keys are labels
 * (choices, targets: §3 bars control characters from them), the receipt a path of hex
 * digits. Other bytes (a terminal's escape sequences) are refused. */
static bool
printable(json_t *tally)
{
    const char *key, *rec = json_string_value(json_object_get(tally, "receipt"));
    size_t n = strlen("/receipts/");
    json_t *v;
    json_object_foreach(json_object_get(tally, "result"), key, v) {
        if (ov_label_check(key) != 0) {
            return false;
        }
    }
    if (rec == NULL) {
        return true;
    }
    if (strncmp(rec, "/receipts/", n) != 0) {
        return false;
    }
    return strspn(rec + n, "0123456789abcdef") == strlen(rec + n);
}

static int
results(struct wallet *w, void *ctx)
{
    const char *context = ctx;
    char path[OV_MAX_CONTEXT_ID_LEN + 16], reason[64];
    json_t *tally = NULL, *out = NULL;
    snprintf(path, sizeof path, "/tallies/%s", context);
    int rc = w_verifier_get(w, path, W_MAX_TALLY_JSON, &tally, reason);
    const char *algorithm = json_string_value(json_object_get(tally, "algorithm"));
    if (rc == 0 && (algorithm == NULL || !json_is_integer(json_object_get(tally, "size")) ||
                    !json_is_boolean(json_object_get(tally, "final")) ||
                    !json_is_object(json_object_get(tally, "result")) || !printable(tally))) {
        w_fail(w, "verifier_malformed", "the verifier's tally of %s is not one", context);
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0) {
        out = json_pack("{ss sO sO sO sO}", "context", context, "final",
                        json_object_get(tally, "final"), "size", json_object_get(tally, "size"),
                        "algorithm", json_object_get(tally, "algorithm"), "result",
                        json_object_get(tally, "result"));
        rc = out ? 0 : -OV_E_NOMEM;
    }
    if (rc == 0 && json_is_string(json_object_get(tally, "receipt"))) {
        json_object_set(out, "receipt", json_object_get(tally, "receipt"));
    }
    if (rc == 0 && json_object_get(tally, "bridging") != NULL) {
        rc = round_results(w, context, tally, out);
    }
    if (rc == 0 && w->json) {
        w->out = out;
        out = NULL;
    } else if (rc == 0) {
        print_human(out);
    }
    json_decref(out);
    json_decref(tally);
    return rc == 0 ? W_EXIT_OK : W_EXIT_REFUSED;
}

int
cmd_results(struct wallet *w, int argc, char **argv)
{
    static const struct w_cmd cmd = {
        "results", "CONTEXT",
        "Shows the tally of CONTEXT as the verifier counts it: final once its tally entry is\n"
        "in the log, provisional (what is counted so far) while it is open. An assembly's\n"
        "votes per choice; a rating round's ratings per target (count and mean); a statement\n"
        "round's results: the statements rated helpful and not helpful across viewpoints\n"
        "(bridging), the opinion groups' sizes and the statements of most consensus, each\n"
        "with its id and text.",
        1,
    };
    return w_context_command(w, argc, argv, &cmd, results);
}
