/* onevoice contexts: the issuer's open contexts, each checked against the log (its context
 * entry, token key included, proven under a witnessed checkpoint). A context whose key the
 * log does not show is refused, reported and kept as evidence; exit status 1 then. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wallet.h"

static void
print_human(json_t *list)
{
    size_t i;
    json_t *c;
    if (json_array_size(list) == 0) {
        printf("no open context\n");
    }
    json_array_foreach(list, i, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        json_t *t = json_object_get(c, "tokens");
        time_t closes = (time_t)json_integer_value(json_object_get(c, "closes"));
        struct tm tm;
        char when[32] = "";
        if (gmtime_r(&closes, &tm) != NULL) {
            strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
        }
        printf("%-20s %-8s %s\n", json_string_value(json_object_get(c, "id")), type,
               json_string_value(json_object_get(c, "title")));
        if (strcmp(type, "assembly") == 0) {
            size_t k;
            json_t *ch;
            printf("    choices:");
            json_array_foreach(json_object_get(c, "choices"), k, ch) {
                printf(" %s%s", k ? "| " : "", json_string_value(ch));
            }
            printf("\n");
        } else {
            json_t *sc = json_object_get(c, "scale");
            const char *kind = json_string_value(json_object_get(c, "rating_kind"));
            long long quota = (long long)json_integer_value(json_object_get(c, "statements"));
            printf("    scale: %lld to %lld\n", (long long)json_integer_value(json_array_get(sc, 0)),
                   (long long)json_integer_value(json_array_get(sc, 1)));
            if (kind != NULL && quota > 0) {
                printf("    statement round (%s): up to %lld statement%s each; rate %s\n", kind,
                       quota, quota == 1 ? "" : "s", strcmp(kind, "helpfulness") == 0
                                                         ? w_rating_words(OV_RATING_HELPFULNESS)
                                                         : w_rating_words(OV_RATING_AGREEMENT));
            } else if (kind != NULL) {
                printf("    statement round (%s), no statements to write; rate %s\n", kind,
                       strcmp(kind, "helpfulness") == 0 ? w_rating_words(OV_RATING_HELPFULNESS)
                                                        : w_rating_words(OV_RATING_AGREEMENT));
            }
        }
        printf("    closes %s; quota %lld; log index %lld\n", when,
               (long long)json_integer_value(json_object_get(c, "quota")),
               (long long)json_integer_value(json_object_get(c, "log_index")));
        if (json_is_true(json_object_get(c, "verified"))) {
            printf("    key verified in the witnessed log; tokens: %lld ready, %lld spent%s\n",
                   (long long)json_integer_value(json_object_get(t, "ready")),
                   (long long)json_integer_value(json_object_get(t, "spent")),
                   json_integer_value(json_object_get(t, "pending")) ? ", 1 being fetched" : "");
        } else {
            printf("    REFUSED: %s\n", json_string_value(json_object_get(c, "refused")));
        }
    }
}

/* Lists the contexts, each checked against the log. */
static int
contexts(struct wallet *w, void *ctx)
{
    struct w_context *list = NULL;
    size_t n = 0, n_refused = 0;
    json_t *report = json_array();
    int rc = report ? w_sync_contexts(w, NULL, &list, &n, &n_refused, report) : -OV_E_NOMEM;
    if (rc == 0) {
        if (w->json) {
            w->out = json_pack("{sOsIsI}", "contexts", report, "verified", (json_int_t)n,
                               "refused", (json_int_t)n_refused);
        } else {
            print_human(report);
        }
    }
    json_decref(report);
    free(list);
    (void)ctx;
    return rc == 0 && n_refused == 0 ? W_EXIT_OK : W_EXIT_REFUSED;
}

int
cmd_contexts(struct wallet *w, int argc, char **argv)
{
    static const struct w_cmd cmd = {
        "contexts", "",
        "Lists the issuer's open contexts. Each is checked against the log: its context entry,\n"
        "with the token key the issuer uses, must be included in a checkpoint that carries the\n"
        "log's signature and the configured quorum of witness cosignatures. A key the log does\n"
        "not show is refused and reported (exit status 1): it could tag one person.\n"
        "A statement round shows its kind (helpfulness or agreement) and how many statements\n"
        "each participant may write.",
        0,
    };
    struct w_opt opts[] = {
        { "--json", NULL, "answer as JSON", NULL, &w->json, NULL, NULL },
    };
    return w_command(w, argc, argv, &cmd, opts, 1, NULL, contexts, NULL);
}
