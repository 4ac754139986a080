/* Statement rounds (docs/PROTOCOL.md §11.3), what `statement`, `statements`, `rate` and
 * `results` share: the words of each rating kind, and reading the verifier's public JSON
 * (its statements, its tallies). What the verifier shows is checked where it can be: every
 * statement's id must be its text's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/httpc.h"
#include "wallet.h"

static const struct {
    const char *word;
    enum ov_rating_kind kind;
    int64_t value;
} words[] = {
    { "helpful", OV_RATING_HELPFULNESS, 2 }, { "somewhat", OV_RATING_HELPFULNESS, 1 },
    { "not-helpful", OV_RATING_HELPFULNESS, 0 }, { "agree", OV_RATING_AGREEMENT, 1 },
    { "disagree", OV_RATING_AGREEMENT, -1 }, { "pass", OV_RATING_AGREEMENT, 0 },
};
#define N_WORDS (sizeof words / sizeof words[0])

bool
w_is_statement_round(const struct ov_context *c)
{
    return c->type == OV_CONTEXT_RATING && c->rating_kind != OV_RATING_SCALE;
}

const char *
w_kind_name(enum ov_rating_kind kind)
{
    return kind == OV_RATING_HELPFULNESS ? "helpfulness"
           : kind == OV_RATING_AGREEMENT ? "agreement"
                                         : "";
}

const char *
w_rating_word(enum ov_rating_kind kind, int64_t value)
{
    for (size_t i = 0; i < N_WORDS; i++) {
        if (words[i].kind == kind && words[i].value == value) {
            return words[i].word;
        }
    }
    return NULL;
}

int
w_rating_parse(const char *word, enum ov_rating_kind *kind, int64_t *value)
{
    for (size_t i = 0; i < N_WORDS; i++) {
        if (strcmp(words[i].word, word) == 0) {
            *kind = words[i].kind;
            *value = words[i].value;
            return 0;
        }
    }
    return -OV_E_NOT_FOUND;
}

const char *
w_rating_words(enum ov_rating_kind kind)
{
    return kind == OV_RATING_HELPFULNESS ? "helpful, somewhat or not-helpful (2, 1, 0)"
           : kind == OV_RATING_AGREEMENT ? "agree, disagree or pass (1, -1, 0)"
                                         : "a number on the round's scale";
}

/* The "error" member of a refusal's JSON body, if any, into reason. */
static void
refusal_reason(const struct ov_httpc_resp *resp, char reason[64])
{
    json_t *o = json_loadb((const char *)resp->body.ptr, resp->body.len, 0, NULL);
    const char *e = json_string_value(json_object_get(o, "error"));
    snprintf(reason, 64, "%s", e ? e : "");
    json_decref(o);
}

int
w_verifier_get(struct wallet *w, const char *path, size_t max, json_t **out, char reason[64])
{
    struct ov_httpc *h = NULL;
    struct ov_httpc_resp resp;
    char url[W_MAX_URL + 256];
    *out = NULL;
    reason[0] = 0;
    memset(&resp, 0, sizeof resp);
    int n = snprintf(url, sizeof url, "%.*s%s", (int)ov_httpc_base_len(w->verifier), w->verifier,
                     path);
    int rc = n > 0 && (size_t)n < sizeof url ? ov_httpc_new(&h) : -OV_E_TOO_BIG;
    rc = rc ? rc : ov_httpc_get(h, url, max, &resp);
    if (rc == 0 && resp.status != 200) {
        refusal_reason(&resp, reason);
        w_fail(w, reason[0] ? reason : "verifier_refused", "the verifier answered HTTP %u%s%s "
               "for %s", resp.status, reason[0] ? " " : "", reason, path);
        rc = -OV_E_HTTP;
    } else if (rc == -OV_E_HTTP) {
        w_fail(w, "verifier_unavailable", "no answer from the verifier at %s", w->verifier);
    } else if (rc == 0) {
        *out = json_loadb((const char *)resp.body.ptr, resp.body.len, JSON_REJECT_DUPLICATES, NULL);
        rc = *out ? 0 : -OV_E_MALFORMED;
        if (rc != 0) {
            w_fail(w, "verifier_malformed", "the verifier's answer for %s is not JSON", path);
        }
    } else {
        w_fail(w, "verifier_malformed", "the verifier's answer for %s could not be read (%s)",
               path, w_strerror(rc));
    }
    ov_httpc_resp_clear(&resp);
    ov_httpc_free(h);
    return rc;
}

/* 0 when s is one statement as the verifier lists it, its id its text's. */
static int
check_statement(const char *context, json_t *s)
{
    const char *id = json_string_value(json_object_get(s, "id"));
    const char *text = json_string_value(json_object_get(s, "text"));
    char want[OV_STATEMENT_ID_LEN + 1];
    if (!json_is_object(s) || id == NULL || text == NULL ||
        !json_is_integer(json_object_get(s, "time")) ||
        ov_text_check(text, OV_MAX_STATEMENT_LEN) != 0 ||
        ov_statement_id(context, text, want) != 0) {
        return -OV_E_MALFORMED;
    }
    return strcmp(id, want) == 0 ? 0 : -OV_E_BAD_PROOF;
}

int
w_statements_fetch(struct wallet *w, const char *context, json_t **out)
{
    char path[OV_MAX_CONTEXT_ID_LEN + 32], reason[64];
    size_t i;
    json_t *s;
    snprintf(path, sizeof path, "/contexts/%s/statements", context);
    /* 512 statements of 1,000 bytes, each byte escaped at worst as \uXXXX */
    int rc = w_verifier_get(w, path, OV_MAX_ROUND_STATEMENTS * (6 * OV_MAX_STATEMENT_LEN + 128),
                            out, reason);
    if (rc == 0 && (!json_is_array(*out) || json_array_size(*out) > OV_MAX_ROUND_STATEMENTS)) {
        w_fail(w, "verifier_malformed", "the verifier's statements of %s are not a list of at "
               "most %d", context, OV_MAX_ROUND_STATEMENTS);
        rc = -OV_E_MALFORMED;
    }
    json_array_foreach(rc == 0 ? *out : NULL, i, s) {
        rc = check_statement(context, s);
        if (rc != 0) {
            w_fail(w, "verifier_malformed", "the verifier lists a statement of %s %s", context,
                   rc == -OV_E_BAD_PROOF ? "under an id that is not its text's: refused"
                                         : "that is not one");
            break;
        }
    }
    if (rc != 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int
w_context_command(struct wallet *w, int argc, char **argv, const struct w_cmd *cmd,
                  int (*fn)(struct wallet *w, void *ctx))
{
    const char *pos[1];
    struct w_opt opts[] = {
        { "--json", NULL, "answer as JSON", NULL, &w->json, NULL, NULL },
    };
    int a = w_args(argc, argv, cmd, opts, 1, pos);
    if (a != 0) {
        return a > 0 ? W_EXIT_OK : W_EXIT_USAGE;
    }
    if (ov_context_id_check(pos[0]) != 0) {
        fprintf(stderr, "onevoice %s: %s is not a context id\n", cmd->name, pos[0]);
        return W_EXIT_USAGE;
    }
    return w_run(w, fn, (void *)(uintptr_t)pos[0]);
}
