/* Unit tests: libonevoice's statement rounds, offline. The statement id (against Python's
 * hashlib), statements and ratings built and signed by the library, whether an action fits
 * its context (a statement only in a statement round that takes statements, a rating on
 * the kind's scale and of a statement id), the round trip through the wallet's JSON, and
 * a round's results parsed from GET /tallies/<context>'s JSON (and refused when they are
 * not results). Linked with libonevoice.a; the context is built as onevoice_context_fetch
 * would leave it, without a log. */
#include <stdint.h>
#include <string.h>

#include "../test.h"
#include "../../lib/lib_int.h"
#include "protocol/actionreq.h"

static const uint8_t seed_a[ONEVOICE_SEED_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

/* A context as onevoice_context_fetch leaves it (no token key: none is checked here). */
static void
make_context(struct onevoice_context *c, const char *id, enum ov_context_type type,
             enum ov_rating_kind kind, uint64_t statements)
{
    memset(c, 0, sizeof *c);
    strcpy(c->def.id, id);
    c->def.type = type;
    c->def.rating_kind = kind;
    c->def.statements = statements;
    c->def.scale_min = kind == OV_RATING_AGREEMENT ? -1 : kind == OV_RATING_HELPFULNESS ? 0 : 1;
    c->def.scale_max = kind == OV_RATING_AGREEMENT ? 1 : kind == OV_RATING_HELPFULNESS ? 2 : 5;
    if (type == OV_CONTEXT_ASSEMBLY) {
        c->def.n_choices = 2;
        strcpy(c->def.choices[0], "yes");
        strcpy(c->def.choices[1], "no");
    }
}

static void
test_statement_id(void)
{
    char id[ONEVOICE_STATEMENT_ID_LEN + 1];
    /* python3 -c "import hashlib; print(hashlib.sha256(b'onevoice/v1/statement\0round-1\0'
     *   b'Parks should stay open at night.').digest()[:16].hex())" */
    CHECK_EQ_INT(onevoice_statement_id("round-1", "Parks should stay open at night.", id), 0);
    CHECK(strcmp(id, "7dfb051a7f7423c713393e167961dde4") == 0);
    CHECK_EQ_INT(onevoice_statement_id("Round-1", "text", id), -OV_E_MALFORMED);
    CHECK(id[0] == 0);
    CHECK_EQ_INT(onevoice_statement_id("round-1", "", id), -OV_E_MALFORMED);
    CHECK_EQ_INT(onevoice_statement_id("round-1", "a\nb", id), -OV_E_MALFORMED);
    CHECK_EQ_INT(onevoice_statement_id(NULL, "a", id), -OV_E_MALFORMED);
}

static void
test_build_and_fit(void)
{
    struct onevoice_context help, agree, none, scale, assembly;
    struct onevoice_action *s = NULL, *r = NULL, *x = NULL;
    char id[ONEVOICE_STATEMENT_ID_LEN + 1];
    make_context(&help, "round-1", OV_CONTEXT_RATING, OV_RATING_HELPFULNESS, 2);
    make_context(&agree, "round-1", OV_CONTEXT_RATING, OV_RATING_AGREEMENT, 1);
    make_context(&none, "round-1", OV_CONTEXT_RATING, OV_RATING_HELPFULNESS, 0);
    make_context(&scale, "round-1", OV_CONTEXT_RATING, OV_RATING_SCALE, 0);
    make_context(&assembly, "round-1", OV_CONTEXT_ASSEMBLY, OV_RATING_SCALE, 0);
    CHECK_EQ_INT(onevoice_context_rating_kind(&help), ONEVOICE_RATING_HELPFULNESS);
    CHECK_EQ_INT(onevoice_context_rating_kind(&agree), ONEVOICE_RATING_AGREEMENT);
    CHECK_EQ_INT(onevoice_context_rating_kind(&scale), ONEVOICE_RATING_SCALE);
    CHECK_EQ_INT(onevoice_context_statement_quota(&help), 2);
    CHECK_EQ_INT(onevoice_context_statement_quota(&scale), 0);

    /* a statement: signed by the seed's key, fits a statement round that takes statements */
    CHECK_EQ_INT(onevoice_statement_new("round-1", "Parks should stay open at night.",
                                        "forum.example", seed_a, NULL, &s), 0);
    CHECK(s != NULL && onevoice_action_is_statement(s) == 1);
    CHECK(strcmp(onevoice_action_text(s), "Parks should stay open at night.") == 0);
    CHECK(strcmp(onevoice_action_platform(s), "forum.example") == 0);
    CHECK_EQ_INT(onevoice_action_has_token(s), 0);
    CHECK_EQ_INT(onevoice_action_fits(&help, s), 0);
    CHECK_EQ_INT(onevoice_action_verify(&help, s), 0);
    CHECK_EQ_INT(onevoice_action_verify(&agree, s), 0);
    CHECK_EQ_INT(onevoice_action_fits(&none, s), -OV_E_MALFORMED);     /* takes none */
    CHECK_EQ_INT(onevoice_action_fits(&scale, s), -OV_E_MALFORMED);    /* not a statement round */
    CHECK_EQ_INT(onevoice_action_fits(&assembly, s), -OV_E_MALFORMED); /* an assembly */
    s->a.text[0] = 'p';                                                /* not the signed text */
    CHECK_EQ_INT(onevoice_action_fits(&help, s), 0);
    CHECK_EQ_INT(onevoice_action_verify(&help, s), -OV_E_BAD_SIG);
    s->a.text[0] = 'P';

    /* the wallet's JSON and back: the same statement, still signed */
    struct ov_buf body;
    struct onevoice_action *back = NULL;
    CHECK_EQ_INT(ov_actionreq_build(&s->a, true, &body), 0);
    CHECK_EQ_INT(onevoice_action_parse((const char *)body.ptr, body.len, &back), 0);
    CHECK(back != NULL && onevoice_action_is_statement(back) == 1);
    CHECK(back != NULL && onevoice_action_verify(&help, back) == 0);
    onevoice_action_free(back);
    ov_buf_clear(&body);

    /* a rating of that statement, on each kind's scale */
    CHECK_EQ_INT(onevoice_statement_id("round-1", onevoice_action_text(s), id), 0);
    CHECK_EQ_INT(onevoice_rating_new("round-1", id, 2, "forum.example", seed_a, NULL, &r), 0);
    CHECK(r != NULL && onevoice_action_is_statement(r) == 0 && onevoice_action_text(r) == NULL);
    CHECK_EQ_INT(onevoice_action_verify(&help, r), 0);
    CHECK_EQ_INT(onevoice_action_fits(&agree, r), -OV_E_RANGE);     /* 2 is off -1..1 */
    CHECK_EQ_INT(onevoice_action_fits(&assembly, r), -OV_E_MALFORMED);
    r->a.rating = -1;
    CHECK_EQ_INT(onevoice_action_fits(&agree, r), 0);
    CHECK_EQ_INT(onevoice_action_fits(&help, r), -OV_E_RANGE);      /* -1 is off 0..2 */
    CHECK_EQ_INT(onevoice_action_verify(&agree, r), -OV_E_BAD_SIG); /* signed as 2 */
    onevoice_action_free(r);
    /* a free label is a target in a free rating round only */
    CHECK_EQ_INT(onevoice_rating_new("round-1", "note-1", 2, "forum.example", seed_a, NULL, &r), 0);
    CHECK_EQ_INT(onevoice_action_fits(&help, r), -OV_E_MALFORMED);
    CHECK_EQ_INT(onevoice_action_fits(&scale, r), 0);
    CHECK_EQ_INT(onevoice_action_verify(&scale, r), 0);
    onevoice_action_free(r);
    /* another context */
    struct onevoice_context other;
    make_context(&other, "round-2", OV_CONTEXT_RATING, OV_RATING_HELPFULNESS, 2);
    CHECK_EQ_INT(onevoice_action_fits(&other, s), -OV_E_MALFORMED);

    /* a token goes with the action; its nonce must be SHA-256 of the pseudonym */
    uint8_t token[ONEVOICE_TOKEN_LEN];
    memset(token, 7, sizeof token);
    CHECK_EQ_INT(onevoice_statement_new("round-1", "With a token.", "forum.example", seed_a, token,
                                        &x), 0);
    CHECK(x != NULL && onevoice_action_has_token(x) == 1);
    CHECK(x != NULL && onevoice_action_verify(&help, x) == -OV_E_MALFORMED);
    onevoice_action_free(x);

    /* what breaks a field's rule is refused, and nothing is returned */
    char big[ONEVOICE_STATEMENT_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    x = (struct onevoice_action *)1;
    CHECK_EQ_INT(onevoice_statement_new("round-1", big, "p", seed_a, NULL, &x), -OV_E_MALFORMED);
    CHECK(x == NULL);
    big[ONEVOICE_STATEMENT_MAX] = 0; /* exactly the maximum */
    CHECK_EQ_INT(onevoice_statement_new("round-1", big, "p", seed_a, NULL, &x), 0);
    onevoice_action_free(x);
    CHECK_EQ_INT(onevoice_statement_new("round-1", "", "p", seed_a, NULL, &x), -OV_E_MALFORMED);
    CHECK_EQ_INT(onevoice_statement_new("round-1", "tab\there", "p", seed_a, NULL, &x),
                 -OV_E_MALFORMED);
    CHECK_EQ_INT(onevoice_statement_new("round-1", "bad \xff utf-8", "p", seed_a, NULL, &x),
                 -OV_E_MALFORMED);
    CHECK_EQ_INT(onevoice_statement_new("-round", "text", "p", seed_a, NULL, &x), -OV_E_MALFORMED);
    CHECK_EQ_INT(onevoice_statement_new("round-1", "text", "", seed_a, NULL, &x), -OV_E_MALFORMED);
    CHECK_EQ_INT(onevoice_statement_new("round-1", "text", "p", NULL, NULL, &x), -OV_E_MALFORMED);
    CHECK_EQ_INT(onevoice_statement_new("round-1", NULL, "p", seed_a, NULL, &x), -OV_E_MALFORMED);
    CHECK_EQ_INT(onevoice_rating_new("round-1", NULL, 1, "p", seed_a, NULL, &x), -OV_E_MALFORMED);
    CHECK(x == NULL);
    onevoice_action_free(s);
}

#define ID_A "0123456789abcdef0123456789abcdef"
#define ID_B "11111111111111111111111111111111"
#define ID_C "22222222222222222222222222222222"

static int
parse(const char *json, struct onevoice_results **r)
{
    return onevoice_results_parse(json, strlen(json), r);
}

static void
test_results(void)
{
    struct onevoice_results *r = NULL;
    const char *good =
        "{\"context\":\"round-1\",\"size\":42,\"algorithm\":\"onevoice/ratings/v1\","
        "\"result\":{},\"final\":true,\"receipt\":\"/receipts/00\",\"seed\":\"00\","
        "\"bridging\":{\"algorithm\":\"onevoice/bridging-mf/v1\",\"statements\":["
        "{\"id\":\"" ID_A "\",\"status\":\"helpful\",\"intercept\":0.5},"
        "{\"id\":\"" ID_B "\",\"status\":\"needs_more_ratings\"},"
        "{\"id\":\"" ID_C "\",\"status\":\"not_helpful\"}],\"raters\":[]},"
        "\"groups\":{\"algorithm\":\"onevoice/groups/v1\",\"k\":2,\"sizes\":[30,28],"
        "\"participants\":[],\"consensus\":[{\"id\":\"" ID_C "\",\"consensus\":0.9},"
        "{\"id\":\"" ID_A "\",\"consensus\":0.4}],\"representative\":[]}}";
    CHECK_EQ_INT(parse(good, &r), 0);
    if (r == NULL) {
        return;
    }
    CHECK_EQ_INT(onevoice_results_final(r), 1);
    CHECK_EQ_INT(onevoice_results_size(r), 42);
    CHECK_EQ_INT(onevoice_results_count(r, ONEVOICE_RESULTS_HELPFUL), 1);
    CHECK(strcmp(onevoice_results_id(r, ONEVOICE_RESULTS_HELPFUL, 0), ID_A) == 0);
    CHECK(onevoice_results_id(r, ONEVOICE_RESULTS_HELPFUL, 1) == NULL);
    CHECK_EQ_INT(onevoice_results_count(r, ONEVOICE_RESULTS_NOT_HELPFUL), 1);
    CHECK(strcmp(onevoice_results_id(r, ONEVOICE_RESULTS_NOT_HELPFUL, 0), ID_C) == 0);
    CHECK_EQ_INT(onevoice_results_count(r, ONEVOICE_RESULTS_CONSENSUS), 2);
    CHECK(strcmp(onevoice_results_id(r, ONEVOICE_RESULTS_CONSENSUS, 0), ID_C) == 0); /* ranked */
    CHECK(strcmp(onevoice_results_id(r, ONEVOICE_RESULTS_CONSENSUS, 1), ID_A) == 0);
    CHECK_EQ_INT(onevoice_results_groups(r), 2);
    CHECK_EQ_INT(onevoice_results_group_size(r, 0), 30);
    CHECK_EQ_INT(onevoice_results_group_size(r, 1), 28);
    CHECK_EQ_INT(onevoice_results_group_size(r, 2), 0);
    CHECK_EQ_INT(onevoice_results_count(r, (enum onevoice_results_list)7), 0);
    CHECK(onevoice_results_id(r, (enum onevoice_results_list)7, 0) == NULL);
    onevoice_results_free(r);

    /* provisional, nothing yet: empty lists, no groups */
    CHECK_EQ_INT(parse("{\"size\":3,\"final\":false,\"result\":{},\"bridging\":{\"statements\":[]},"
                       "\"groups\":{\"sizes\":[],\"consensus\":[]}}", &r), 0);
    CHECK(r != NULL && onevoice_results_final(r) == 0 && onevoice_results_size(r) == 3 &&
          onevoice_results_groups(r) == 0 &&
          onevoice_results_count(r, ONEVOICE_RESULTS_HELPFUL) == 0);
    onevoice_results_free(r);

    /* an assembly's tally has no round results */
    CHECK_EQ_INT(parse("{\"context\":\"a1\",\"size\":9,\"algorithm\":\"onevoice/plurality/v1\","
                       "\"result\":{\"yes\":2},\"final\":false}", &r), -OV_E_NOT_FOUND);
    CHECK(r == NULL);
    /* what is not results */
    static const char *const bad[] = {
        "", "[]", "not json", "{\"size\":1}",
        "{\"size\":-1,\"final\":true,\"bridging\":{\"statements\":[]},\"groups\":{\"sizes\":[],"
        "\"consensus\":[]}}",
        "{\"size\":1,\"final\":1,\"bridging\":{\"statements\":[]},\"groups\":{\"sizes\":[],"
        "\"consensus\":[]}}",
        "{\"size\":1,\"final\":true,\"bridging\":{\"statements\":[{\"id\":\"ABC\",\"status\":"
        "\"helpful\"}]},\"groups\":{\"sizes\":[],\"consensus\":[]}}",
        "{\"size\":1,\"final\":true,\"bridging\":{\"statements\":[{\"id\":\"" ID_A "\"}]},"
        "\"groups\":{\"sizes\":[],\"consensus\":[]}}",
        "{\"size\":1,\"final\":true,\"bridging\":{\"statements\":[]},\"groups\":{\"sizes\":[1,2,3,"
        "4,5,6],\"consensus\":[]}}",
        "{\"size\":1,\"final\":true,\"bridging\":{\"statements\":[]},\"groups\":{\"sizes\":[-1],"
        "\"consensus\":[]}}",
        "{\"size\":1,\"final\":true,\"bridging\":{\"statements\":[]},\"groups\":{\"sizes\":[],"
        "\"consensus\":[{\"id\":7}]}}",
        "{\"size\":1,\"final\":true,\"bridging\":{\"statements\":[]},\"groups\":{}}",
        "{\"size\":1,\"size\":2,\"final\":true,\"bridging\":{\"statements\":[]},\"groups\":{"
        "\"sizes\":[],\"consensus\":[]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = (struct onevoice_results *)1;
        int rc = parse(bad[i], &r);
        CHECK(rc == -OV_E_MALFORMED && r == NULL);
        if (rc != -OV_E_MALFORMED) {
            fprintf(stderr, "  bad[%zu]: %d\n", i, rc);
        }
    }
}

int
main(void)
{
    test_statement_id();
    test_build_and_fit();
    test_results();
    TEST_DONE("test_libonevoice");
}
