/* onevoice statements: a statement round's statements as the verifier counted them (GET
 * /contexts/<id>/statements, each id checked to be its text's), marked with what this
 * wallet did: the ones it wrote, and its rating of the others. A statement this wallet
 * wrote and had counted that the verifier does not list is reported (exit status 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wallet.h"

/* This wallet's actions in the round, as JSON: {"<id>": {"yours": true, "state"} or
 * {"rating": N, "state"}}. */
static int
our_actions(struct wallet *w, const char *context, json_t *mine)
{
    sqlite3_stmt *st = ov_db_stmt(w->db, "act_round");
    size_t plen = strlen(W_STATEMENT_TARGET);
    int rc = ov_db_bind_text(st, 1, context, strlen(context));
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        struct ov_bytes target = { NULL, 0 }, state = { NULL, 0 };
        char id[OV_MAX_LABEL_LEN + 1];
        int64_t rating = 0;
        bool yours = !ov_db_col_is_null(st, 1);
        rc = ov_db_col_text(st, 0, OV_MAX_LABEL_LEN, &target);
        rc = rc ? rc : ov_db_col_text(st, 3, 16, &state);
        if (rc == 0 && !yours && !ov_db_col_is_null(st, 2)) {
            rc = ov_db_col_int64(st, 2, &rating);
        } else if (rc == 0 && !yours) {
            continue; /* not a rating round's row */
        }
        if (rc != 0) {
            break;
        }
        size_t skip = yours && target.len > plen ? plen : 0;
        snprintf(id, sizeof id, "%.*s", (int)(target.len - skip), (const char *)target.ptr + skip);
        json_t *o = yours ? json_pack("{sb}", "yours", 1) : json_pack("{sI}", "rating", rating);
        json_object_set_new(o, "state", json_stringn((const char *)state.ptr, state.len));
        json_object_set_new(mine, id, o);
    }
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

static void
print_human(const json_t *list, enum ov_rating_kind kind)
{
    size_t i, n_yours = 0, n_rated = 0;
    json_t *s;
    json_array_foreach(list, i, s) {
        json_t *r = json_object_get(s, "rating");
        time_t t = (time_t)json_integer_value(json_object_get(s, "time"));
        struct tm tm;
        char when[32] = "";
        if (gmtime_r(&t, &tm) != NULL) {
            strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
        }
        printf("%s  %s", json_string_value(json_object_get(s, "id")), when);
        if (json_is_true(json_object_get(s, "yours"))) {
            printf("  yours");
            n_yours++;
        } else if (r != NULL) {
            const char *word = w_rating_word(kind, json_integer_value(r));
            printf("  you rated: %s%s%lld%s", word ? word : "", word ? " (" : "",
                   (long long)json_integer_value(r), word ? ")" : "");
            n_rated++;
        }
        printf("\n    %s\n", json_string_value(json_object_get(s, "text")));
    }
    printf("%zu statement%s; %zu yours, %zu rated by you\n", json_array_size(list),
           json_array_size(list) == 1 ? "" : "s", n_yours, n_rated);
}

static int
statements(struct wallet *w, void *ctx)
{
    const char *context = ctx;
    struct ov_context *c = calloc(1, sizeof *c);
    json_t *list = NULL, *mine = json_object(), *missing = json_array();
    const char *id;
    json_t *m;
    size_t i;
    json_t *s;
    int rc = c && mine && missing ? 0 : -OV_E_NOMEM;
    /* the kind names the ratings; a context this wallet never pinned shows numbers */
    if (rc == 0 && w_context_get(w, context, c) != 0) {
        memset(c, 0, sizeof *c);
    }
    rc = rc ? rc : our_actions(w, context, mine);
    if (rc != 0) {
        w_fail(w, "bad_wallet", "cannot read this wallet's actions (%s)", ov_strerror(rc));
    }
    rc = rc ? rc : w_statements_fetch(w, context, &list);
    json_array_foreach(rc == 0 ? list : NULL, i, s) {
        json_t *o = json_object_get(mine, json_string_value(json_object_get(s, "id")));
        if (json_is_true(json_object_get(o, "yours"))) {
            json_object_set_new(s, "yours", json_true());
        } else if (o != NULL) {
            json_object_set(s, "rating", json_object_get(o, "rating"));
        }
        json_object_set_new(mine, json_string_value(json_object_get(s, "id")), json_null());
    }
    json_object_foreach(rc == 0 ? mine : NULL, id, m) {
        if (json_is_true(json_object_get(m, "yours")) &&
            strcmp(json_string_value(json_object_get(m, "state")), "counted") == 0) {
            json_array_append_new(missing, json_string(id));
        }
    }
    if (rc == 0 && w->json) {
        w->out = json_pack("{ss sO sO}", "context", context, "statements", list, "missing",
                           missing);
    } else if (rc == 0) {
        print_human(list, c->rating_kind);
    }
    if (rc == 0 && json_array_size(missing) > 0) {
        w_fail(w, "not_listed", "%zu statement%s this wallet wrote and had counted %s not "
               "listed by the verifier (first: %s)", json_array_size(missing),
               json_array_size(missing) == 1 ? "" : "s",
               json_array_size(missing) == 1 ? "is" : "are",
               json_string_value(json_array_get(missing, 0)));
        rc = -OV_E_STATE;
    }
    json_decref(list);
    json_decref(mine);
    json_decref(missing);
    free(c);
    return rc == 0 ? W_EXIT_OK : W_EXIT_REFUSED;
}

int
cmd_statements(struct wallet *w, int argc, char **argv)
{
    static const struct w_cmd cmd = {
        "statements", "CONTEXT",
        "Lists the statements of the statement round CONTEXT that the verifier counted, each\n"
        "with its id (what `onevoice rate` takes), its time and its text, and marks the ones\n"
        "this wallet wrote (yours) and the ones it rated (with its rating). Each id is checked\n"
        "to be its text's. A statement this wallet had counted that the verifier does not\n"
        "list is reported, and the exit status is then 1.",
        1,
    };
    return w_context_command(w, argc, argv, &cmd, statements);
}
