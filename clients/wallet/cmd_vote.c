/* onevoice vote / rate / statement: builds the action, signs it with the one-time key of the
 * context's token, stores it, sends it to the verifier (directly, or through a platform with
 * the token in an RFC 9577 Authorization header) and stores the receipt.
 *
 * An assembly: one token, one ballot; the first ballot's token is spent, a second vote is
 * refused here (and would be by the verifier: 409 token_spent). A rating round: the first
 * rating carries the token, which admits its one-time key as this person's pseudonym in the
 * context; later ratings carry only the pseudonym, one per target. A statement round
 * (docs/PROTOCOL.md §11.3) is a rating round whose pseudonym also writes statements: the
 * first action of the pseudonym, statement or rating, carries the token.
 *
 * The signed action is stored before it is sent: if the answer is lost, running the same
 * command again sends the same bytes, and the verifier answers the same receipt. Once an
 * assembly ballot is counted its one-time key is wiped: the wallet keeps the receipt, not
 * the means to prove to anyone else how it voted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "protocol/pacing.h"
#include "protocol/receipt.h"
#include "protocol/verifierclient.h"
#include "wallet.h"

enum act_kind { ACT_VOTE, ACT_RATE, ACT_STATEMENT };

struct act_req {
    const char *context;
    enum act_kind kind;
    bool rating;         /* a rating round's action: a rating or a statement */
    const char *choice;
    const char *target;
    int64_t value;
    const char *word;    /* the rating as a word (a statement round's), or NULL */
    const char *text;    /* a statement */
    bool round;          /* the context is a statement round (set once it is read) */
    uint64_t quota;      /* its statements per participant */
    const char *platform;
    const char *via;
    bool now;            /* --now: send at once, not at a random later moment */
    /* the actions row's target: the rated target, W_STATEMENT_TARGET and the statement's
     * id, or "" for a vote */
    char key[OV_MAX_LABEL_LEN + 1];
};

/* What was chosen to send. */
struct act_plan {
    struct ov_action a;
    int64_t token_row;  /* the tokens row of the pseudonym */
    bool token_ready;   /* the token is spent by this action */
    int64_t action_row; /* the actions row (0: to insert) */
    char *via;          /* malloc'd */
    const char *key;    /* the row's target (act_req.key) */
    uint64_t send_at;   /* a new action held until then (0: sent now) */
};

static bool
same_choice(const struct act_req *q, sqlite3_stmt *st, int col_choice, int col_rating)
{
    struct ov_bytes c = { NULL, 0 };
    int64_t v = 0;
    if (q->kind == ACT_STATEMENT) {
        return true; /* the target is the statement's id: derived from its text */
    }
    if (q->rating) {
        return ov_db_col_int64(st, col_rating, &v) == 0 && v == q->value;
    }
    return ov_db_col_text(st, col_choice, OV_MAX_LABEL_LEN, &c) == 0 &&
           c.len == strlen(q->choice) && memcmp(c.ptr, q->choice, c.len) == 0;
}

/* The token row (seed, pseudonym, token) into the plan, and its one-time key: *key is NULL
 * unless it returns 0. */
static int
load_token(struct wallet *w, sqlite3_stmt *st, struct act_plan *p, struct ov_sign_key **key)
{
    struct ov_bytes state = { NULL, 0 };
    int rc = ov_db_col_int64(st, 0, &p->token_row);
    rc = rc ? rc : ov_db_col_text(st, 1, 16, &state);
    rc = rc ? rc : ov_db_col_fixed(st, 3, p->a.pseudonym, OV_PSEUDONYM_LEN);
    rc = rc ? rc : ov_db_col_fixed(st, 4, p->a.token, OV_PP_TOKEN_LEN);
    rc = rc ? rc : w_col_key(st, 2, key);
    if (rc == 0) {
        p->token_ready = state.len == 5 && memcmp(state.ptr, "ready", 5) == 0;
        if (sodium_memcmp(ov_sign_key_pk(*key), p->a.pseudonym, OV_PSEUDONYM_LEN) != 0) {
            rc = -OV_E_MALFORMED; /* a row that does not hold together */
        }
    }
    if (rc != 0) {
        ov_sign_key_free(*key); /* built before the check that failed */
        *key = NULL;
    }
    (void)w;
    return rc;
}

/* What the command names, into the plan: the context, the choice or the target and rating,
 * and the route. */
static void
from_request(struct act_plan *p, const struct act_req *q)
{
    snprintf(p->a.context, sizeof p->a.context, "%s", q->context);
    p->a.is_rating = q->kind == ACT_RATE;
    p->a.is_statement = q->kind == ACT_STATEMENT;
    if (p->a.is_statement) {
        snprintf(p->a.text, sizeof p->a.text, "%s", q->text);
    } else if (p->a.is_rating) {
        snprintf(p->a.target, sizeof p->a.target, "%s", q->target);
        p->a.rating = q->value;
    } else {
        snprintf(p->a.choice, sizeof p->a.choice, "%s", q->choice);
    }
    p->via = q->via ? strdup(q->via) : NULL;
    p->key = q->key;
}

/* A stored action not yet confirmed, loaded for resending (the same signed bytes). */
static int
load_sending(struct wallet *w, const struct act_req *q, int64_t n, struct act_plan *p)
{
    sqlite3_stmt *st = NULL;
    int64_t with_token = 0;
    struct ov_bytes plat = { NULL, 0 };
    int rc = w_stmt(w, "act_row", &st, "i", n);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_fixed(st, 0, p->a.pseudonym, OV_PSEUDONYM_LEN);
        rc = rc ? rc : ov_db_col_text(st, 1, OV_MAX_LABEL_LEN, &plat);
        rc = rc ? rc : ov_db_col_int64(st, 2, &with_token);
        rc = rc ? rc : ov_db_col_fixed(st, 3, p->a.sig, OV_SIGN_SIG_LEN);
        if (rc == 0) {
            memcpy(p->a.platform, plat.ptr, plat.len);
            p->a.platform[plat.len] = 0;
            p->a.has_token = with_token != 0;
            /* resent by the route this command names: the signed bytes are the same */
            from_request(p, q);
        }
    } else if (rc == OV_DB_DONE) {
        rc = -OV_E_NOT_FOUND;
    }
    ov_db_reset(st);
    if (rc == 0 && p->a.has_token) {
        rc = w_stmt(w, "tok_by_pseudonym", &st, "b", p->a.pseudonym, (size_t)OV_PSEUDONYM_LEN);
        if (rc == OV_DB_ROW) {
            rc = ov_db_col_int64(st, 0, &p->token_row);
            rc = rc ? rc : ov_db_col_fixed(st, 3, p->a.token, OV_PP_TOKEN_LEN);
        } else {
            rc = rc < 0 ? rc : -OV_E_NOT_FOUND;
        }
        ov_db_reset(st);
    }
    p->action_row = n;
    return rc;
}

static int64_t
count(struct wallet *w, const char *stmt, const char *fmt, const void *a, size_t alen,
      const char *b)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    int rc = fmt[0] == 'b' ? w_stmt(w, stmt, &st, fmt, a, alen) : w_stmt(w, stmt, &st, fmt, a, b);
    if (rc != OV_DB_ROW || ov_db_col_int64(st, 0, &n) != 0) {
        n = -1;
    }
    ov_db_reset(st);
    return n;
}

/* A statement round's local refusals, before anything is signed: a statement over the
 * round's quota (the context's `statements` per pseudonym), a rating of one's own
 * statement. The verifier refuses both too (409 statement_quota, 403 own_statement). */
static int
statement_checks(struct wallet *w, const struct act_req *q, const uint8_t *pseudonym)
{
    if (q->kind == ACT_STATEMENT) {
        sqlite3_stmt *st = NULL;
        int64_t n = -1;
        if (w_stmt(w, "act_statements", &st, "tb", q->context, pseudonym,
                   (size_t)OV_PSEUDONYM_LEN) != OV_DB_ROW ||
            ov_db_col_int64(st, 0, &n) != 0) {
            n = -1;
        }
        ov_db_reset(st);
        if (n >= 0 && (uint64_t)n >= q->quota) {
            w_fail(w, "statement_quota", "you have written %lld statement%s in %s: the round "
                   "takes %llu per participant", (long long)n, n == 1 ? "" : "s", q->context,
                   (unsigned long long)q->quota);
            return -OV_E_RANGE;
        }
        return n < 0 ? -OV_E_DB : 0;
    }
    if (q->kind == ACT_RATE && q->round) {
        char own[OV_MAX_LABEL_LEN + 1];
        snprintf(own, sizeof own, W_STATEMENT_TARGET "%s", q->target);
        int64_t n = count(w, "act_ours", "tt", q->context, 0, own);
        if (n > 0) {
            w_fail(w, "own_statement", "%s is your own statement: participants rate each "
                   "other's", q->target);
            return -OV_E_RANGE;
        }
        return n < 0 ? -OV_E_DB : 0;
    }
    return 0;
}

static uint64_t held_until(struct wallet *w, int64_t n);

/* Decides what to send: a stored unconfirmed action again, or a new one with the right
 * pseudonym and token. Says why when there is nothing to send. */
static int
plan(struct wallet *w, const struct act_req *q, struct act_plan *p)
{
    sqlite3_stmt *st = NULL;
    struct ov_sign_key *key = NULL;
    const char *tkey = q->key, *what = q->kind == ACT_STATEMENT ? "statement"
                                       : q->rating             ? "rating"
                                                               : "vote";
    int rc;
    /* 1. an action of ours for this context and target not confirmed yet */
    rc = w_stmt(w, "act_sending", &st, "tt", q->context, tkey);
    if (rc == OV_DB_ROW) {
        int64_t n = 0;
        bool same = same_choice(q, st, 1, 2);
        rc = ov_db_col_int64(st, 0, &n);
        ov_db_reset(st);
        uint64_t held = rc == 0 ? held_until(w, n) : 0;
        if (rc == 0 && !same && held != 0 && q->kind == ACT_VOTE) {
            char when[W_TIME_WORDS_LEN];
            w_time_words(held, when);
            w_fail(w, "already_voted", "you have already voted in %s: your vote is held, to be "
                   "sent at %s (`onevoice run`)", q->context, when);
            return -OV_E_STATE;
        }
        if (rc == 0 && !same) {
            w_fail(w, "unconfirmed", "an earlier %s in %s%s%s is held or not confirmed yet: run "
                   "the same command as then to resend it, with --now to send it now (it is "
                   "counted at most once)",
                   what, q->context, q->kind == ACT_RATE ? " of " : "",
                   q->kind == ACT_RATE ? q->target : "");
            return -OV_E_STATE;
        }
        return rc ? rc : load_sending(w, q, n, p);
    }
    ov_db_reset(st);
    /* 2. a pseudonym: a rating round keeps the admitted one; a vote needs a fresh token */
    rc = w_stmt(w, q->rating ? "tok_pick" : "tok_pick_ready", &st, "t", q->context);
    if (rc == OV_DB_ROW) {
        rc = load_token(w, st, p, &key);
    } else if (rc == OV_DB_DONE) {
        rc = -OV_E_NOT_FOUND;
    }
    ov_db_reset(st);
    if (rc == -OV_E_NOT_FOUND) {
        int64_t done = count(w, "act_counted_ctx", "tt", q->context, 0, tkey);
        if (!q->rating && done > 0) {
            w_fail(w, "already_voted", "you have already voted in %s: its token is spent, and "
                   "`onevoice receipts` shows the receipt", q->context);
        } else {
            w_fail(w, "no_token", "no token for %s: run `onevoice fetch` first (best well before "
                   "voting, so the issuer cannot match the times)", q->context);
        }
        return rc;
    }
    if (rc != 0) {
        w_fail(w, "bad_wallet", "cannot read the token for %s (%s)", q->context, ov_strerror(rc));
        return rc;
    }
    /* 3. a rating of a target rated before, a statement written before or over the quota */
    rc = w_stmt(w, "act_find", &st, "tbt", q->context, p->a.pseudonym, (size_t)OV_PSEUDONYM_LEN,
                tkey);
    ov_db_reset(st);
    rc = rc == OV_DB_ROW ? -OV_E_EXISTS : statement_checks(w, q, p->a.pseudonym);
    if (rc == -OV_E_EXISTS && q->kind == ACT_STATEMENT) {
        w_fail(w, "already_written", "you have already written this statement in %s (id %s)",
               q->context, q->key + strlen(W_STATEMENT_TARGET));
    } else if (rc == -OV_E_EXISTS) {
        w_fail(w, q->rating ? "already_rated" : "already_voted", "you have already %s in %s",
               q->rating ? "rated this target" : "voted", q->context);
    }
    if (rc != 0) {
        ov_sign_key_free(key);
        return rc;
    }
    /* 4. the new action: the token goes with the pseudonym's first counted action only */
    int64_t admitted = count(w, "act_admitted", "b", p->a.pseudonym, OV_PSEUDONYM_LEN, NULL);
    from_request(p, q);
    snprintf(p->a.platform, sizeof p->a.platform, "%s", q->platform);
    p->a.has_token = admitted == 0;
    rc = admitted < 0 ? -OV_E_DB : ov_action_sign(&p->a, key);
    ov_sign_key_free(key);
    return rc;
}

/* Stores the new action and spends its token, in one transaction. */
static int
tx_store(struct wallet *w, void *ctx)
{
    struct act_plan *p = ctx;
    const struct ov_action *a = &p->a;
    int rc = w_stmt(w, "act_insert", NULL, a->is_rating ? "tbttittibtu" : "tbttnttibtu",
                    a->context, a->pseudonym, (size_t)OV_PSEUDONYM_LEN, p->key,
                    a->is_rating || a->is_statement ? NULL : a->choice, a->rating,
                    a->is_statement ? a->text : NULL, a->platform, (int64_t)a->has_token,
                    a->sig, (size_t)OV_SIGN_SIG_LEN, p->via, w_now());
    if (rc >= 0) {
        p->action_row = sqlite3_last_insert_rowid(ov_db_handle(w->db));
    }
    if (rc >= 0 && p->token_ready) {
        rc = w_stmt(w, "tok_state", NULL, "tui", "spent", w_now(), p->token_row);
    }
    if (rc >= 0 && p->send_at != 0) {
        rc = w_stmt(w, "act_hold", NULL, "ui", p->send_at, p->action_row);
    }
    return rc < 0 ? rc : 0;
}

/* A refusal of the verifier's in words, or NULL for one without (shown by its code). */
static const char *
refusal_words(const char *reason)
{
    static const char *const words[][2] = {
        { "token_spent", "this token was already spent on another ballot. One person, one "
                         "voice." },
        { "already_rated", "this target was already rated" },
        { "unknown_statement", "no statement of this round has that id (`onevoice statements` "
                               "lists them)" },
        { "own_statement", "it is your own statement: participants rate each other's" },
        { "statement_quota", "you have written as many statements as the round takes" },
        { "duplicate_statement", "another participant wrote this very text already: rate "
                                 "theirs instead" },
        { "context_closed", "the round is not open" },
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strcmp(reason, words[i][0]) == 0) {
            return words[i][1];
        }
    }
    return NULL;
}

/* A counted action's receipt into its row; an assembly ballot's one-time key wiped. */
static int
store_receipt(struct wallet *w, const struct act_plan *p, const struct ov_receipt *r)
{
    struct ov_buf json;
    int rc = ov_receipt_format(r, &json);
    char *s = rc == 0 ? strndup((const char *)json.ptr, json.len) : NULL;
    ov_buf_clear(&json); /* on every path: s is what is stored */
    rc = rc ? rc : s ? 0 : -OV_E_NOMEM;
    rc = rc ? rc : w_stmt(w, "act_counted", NULL, "bti", r->hash, (size_t)OV_HASH_LEN, s,
                          p->action_row);
    free(s);
    if (rc == 0 && !p->a.is_rating && !p->a.is_statement) {
        rc = w_stmt(w, "tok_wipe", NULL, "ui", w_now(), p->token_row);
    }
    return rc < 0 ? rc : 0;
}

/* The outcome of sending: stores the receipt or the refusal. */
static int
record(struct wallet *w, struct act_plan *p, int rc, const struct ov_receipt *r,
       const struct ov_vclient_answer *ans)
{
    const char *what = p->a.is_statement ? "statement" : p->a.is_rating ? "rating" : "vote";
    if (rc == 0) {
        int frc = store_receipt(w, p, r);
        if (frc < 0) {
            w_fail(w, "bad_wallet", "the %s was counted, but its receipt could not be stored "
                   "(%s): run the same command again to fetch it", what, ov_strerror(frc));
            return frc;
        }
        return 0;
    }
    if (rc == -OV_E_HTTP && ans->status >= 400 && ans->status < 500) {
        const char *reason = ans->reason[0] ? ans->reason : "refused";
        (void)w_stmt(w, "act_refused", NULL, "ti", reason, p->action_row);
        if (strcmp(reason, "token_spent") != 0 && p->token_ready) {
            /* not counted, and the token not spent: it may be used for a corrected action */
            (void)w_stmt(w, "tok_state", NULL, "tui", "ready", w_now(), p->token_row);
        }
        const char *why = refusal_words(reason);
        if (why != NULL) {
            w_fail(w, reason, "the verifier refused the %s: %s (%u %s)", what, why, ans->status,
                   reason);
        } else {
            w_fail(w, reason, "the verifier refused the %s (HTTP %u %s)", what, ans->status,
                   reason);
        }
        return rc;
    }
    if (rc == -OV_E_HTTP) {
        w_fail(w, "verifier_unavailable", "no answer from %s (%s%u): run the same command "
               "again; the same signed %s is sent and counted at most once",
               p->via ? "the platform" : "the verifier", ans->status ? "HTTP " : "", ans->status,
               what);
    } else {
        w_fail(w, "verifier_malformed", "the answer is not a valid receipt for this %s (%s): "
               "it is kept and sent again by the same command", what, w_strerror(rc));
    }
    return rc;
}

static void
report(struct wallet *w, const struct act_plan *p, const struct ov_receipt *r, int check)
{
    char hex[2 * OV_HASH_LEN + 1];
    const char *status = r->status == OV_RECEIPT_PROVEN   ? "proven"
                         : r->status == OV_RECEIPT_LOGGED ? "logged"
                                                          : "pending";
    if (ov_hex_encode(hex, sizeof hex, r->hash, OV_HASH_LEN) != 0) {
        hex[0] = 0;
    }
    if (w->json) {
        w->out = json_pack("{sb ss ss ss ss sI sb}", "counted", 1, "context", p->a.context,
                           "status", status, "hash", hex, "platform", p->a.platform, "index",
                           (json_int_t)r->index, "verified", check == 0);
        if (p->a.is_statement) {
            json_object_set_new(w->out, "id", json_string(p->key + strlen(W_STATEMENT_TARGET)));
            json_object_set_new(w->out, "text", json_string(p->a.text));
        } else {
            json_object_set_new(w->out, p->a.is_rating ? "target" : "choice",
                                json_string(p->a.is_rating ? p->a.target : p->a.choice));
        }
        if (p->a.is_rating) {
            json_object_set_new(w->out, "rating", json_integer(p->a.rating));
        }
        if (p->a.is_rating || p->a.is_statement) {
            json_object_set_new(w->out, "with_token", json_boolean(p->a.has_token));
        }
        return;
    }
    if (p->a.is_statement) {
        printf("statement counted: %s, id %s%s\n", p->a.context,
               p->key + strlen(W_STATEMENT_TARGET),
               p->a.has_token ? " (token sent: pseudonym admitted)" : "");
    } else if (p->a.is_rating) {
        printf("rating counted: %s, %s = %lld%s\n", p->a.context, p->a.target,
               (long long)p->a.rating, p->a.has_token ? " (token sent: pseudonym admitted)" : "");
    } else {
        printf("vote counted: %s, %s\n", p->a.context, p->a.choice);
    }
    if (r->status == OV_RECEIPT_PROVEN) {
        printf("receipt: log index %llu, %s in a witnessed checkpoint\n",
               (unsigned long long)r->index, check == 0 ? "proven" : "NOT proven");
    } else {
        printf("receipt: %s (`onevoice receipts` completes and checks it)\n", status);
    }
}

/* What a statement round asks of the request (and what only it allows): statements only
 * where the round takes them, a target that is a statement's id, a rating word of the
 * round's kind. */
static int
check_round(struct wallet *w, const struct act_req *q, const struct ov_context *c)
{
    bool round = w_is_statement_round(c);
    enum ov_rating_kind kind = OV_RATING_SCALE;
    int64_t v = 0;
    if (q->kind == ACT_STATEMENT && (!round || c->statements == 0)) {
        w_fail(w, "invalid_action", "%s takes no statements%s", q->context,
               round ? "" : ": it is not a statement round");
        return -OV_E_MALFORMED;
    }
    if (q->kind == ACT_STATEMENT && ov_text_check(q->text, OV_MAX_STATEMENT_LEN) != 0) {
        w_fail(w, "usage", "a statement is 1 to %d bytes of text (UTF-8, no control characters)",
               OV_MAX_STATEMENT_LEN);
        return -OV_E_MALFORMED;
    }
    if (q->kind != ACT_RATE) {
        return 0;
    }
    if (q->word != NULL && (w_rating_parse(q->word, &kind, &v) != 0 || !round)) {
        w_fail(w, "invalid_action", "%s: a rating in words is for a statement round; %s is "
               "rated from %lld to %lld", q->word, q->context, (long long)c->scale_min,
               (long long)c->scale_max);
        return -OV_E_RANGE;
    }
    if (q->word != NULL && kind != c->rating_kind) {
        w_fail(w, "invalid_action", "'%s' is a word of %s rounds, and %s is a round of %s: "
               "rate %s", q->word, w_kind_name(kind), q->context, w_kind_name(c->rating_kind),
               w_rating_words(c->rating_kind));
        return -OV_E_RANGE;
    }
    if (round && ov_statement_id_check(q->target) != 0) {
        w_fail(w, "invalid_action", "in the statement round %s a target is a statement's id "
               "(%d hex digits): `onevoice statements %s` lists them", q->context,
               OV_STATEMENT_ID_LEN, q->context);
        return -OV_E_MALFORMED;
    }
    return 0;
}

/* Checks the required arguments against the pinned context. */
static int
check_request(struct wallet *w, const struct act_req *q, const struct ov_context *c)
{
    uint64_t now = w_now();
    if (q->rating != (c->type == OV_CONTEXT_RATING)) {
        w_fail(w, "wrong_type", "%s is %s: use `onevoice %s`", q->context,
               c->type == OV_CONTEXT_RATING ? "a rating round" : "an assembly",
               c->type == OV_CONTEXT_RATING ? "rate" : "vote");
        return -OV_E_MALFORMED;
    }
    int rc = check_round(w, q, c);
    if (rc != 0) {
        return rc;
    }
    if (now < c->opens || now >= c->closes) {
        w_fail(w, "context_closed", "%s is not open (it opens at %llu and closes at %llu)",
               q->context, (unsigned long long)c->opens, (unsigned long long)c->closes);
        return -OV_E_STATE;
    }
    if (ov_label_check(q->platform) != 0 || (q->target && ov_label_check(q->target) != 0)) {
        w_fail(w, "usage", "platform and target names are 1 to %d bytes of text",
               OV_MAX_LABEL_LEN);
        return -OV_E_MALFORMED;
    }
    if (q->kind == ACT_RATE && (q->value < c->scale_min || q->value > c->scale_max)) {
        w_fail(w, "invalid_action", "ratings in %s are from %lld to %lld", q->context,
               (long long)c->scale_min, (long long)c->scale_max);
        return -OV_E_RANGE;
    }
    if (!q->rating) {
        for (size_t i = 0; i < c->n_choices; i++) {
            if (strcmp(c->choices[i], q->choice) == 0) {
                return 0;
            }
        }
        w_fail(w, "invalid_action", "%s is not a choice in %s", q->choice, q->context);
        return -OV_E_RANGE;
    }
    return 0;
}

/* What the request's row is keyed by (act_req.key), and the round's facts plan needs. */
static int
request_key(struct wallet *w, struct act_req *q, const struct ov_context *c)
{
    char id[OV_STATEMENT_ID_LEN + 1];
    q->round = w_is_statement_round(c);
    q->quota = c->statements;
    if (q->kind != ACT_STATEMENT) {
        snprintf(q->key, sizeof q->key, "%s", q->kind == ACT_RATE ? q->target : "");
        return 0;
    }
    int rc = ov_statement_id(q->context, q->text, id);
    if (rc != 0) {
        w_fail(w, "usage", "cannot derive the statement's id (%s)", ov_strerror(rc));
        return rc;
    }
    snprintf(q->key, sizeof q->key, W_STATEMENT_TARGET "%s", id);
    return 0;
}

static const char *
what_of(const struct ov_action *a)
{
    return a->is_statement ? "statement" : a->is_rating ? "rating" : "vote";
}

/* A held action, in words: when it goes, why, and how to send it now. */
static void
report_held(struct wallet *w, const struct act_plan *p, const struct act_req *q,
            uint64_t send_at, const struct ov_context *c)
{
    char when[W_TIME_WORDS_LEN], closes[W_TIME_WORDS_LEN];
    w_time_words(send_at, when);
    w_time_words(c->closes, closes);
    if (w->json) {
        w->out = json_pack("{sb ss ss sI ss sI}", "held", 1, "context", p->a.context, "action",
                           what_of(&p->a), "send_at", (json_int_t)send_at, "send_at_utc", when,
                           "closes", (json_int_t)c->closes);
        if (p->a.is_statement) {
            json_object_set_new(w->out, "id", json_string(p->key + strlen(W_STATEMENT_TARGET)));
        }
        return;
    }
    printf("your %s in %s will be sent at %s, a random moment before %s closes (%s), so that "
           "its time does not tie it to your token.\n", what_of(&p->a), p->a.context, when,
           p->a.context, closes);
    if (p->a.is_statement) {
        printf("statement id %s\n", p->key + strlen(W_STATEMENT_TARGET));
    }
    printf("Keep `onevoice run --wait` running, or run `onevoice run` after then; the same "
           "command with --now sends it now and accepts that risk.\n");
    (void)q;
}

/* Submits the plan's signed action by its route: through the platform it names, or to the
 * verifier (through the relay when the wallet has one: relay.c tunnels every request). */
static int
submit(struct wallet *w, struct act_plan *p, struct ov_receipt *r, struct ov_vclient_answer *ans)
{
    struct ov_vclient *vc = NULL;
    const char *url = p->via ? p->via : w->verifier;
    unsigned flags = OV_VCLIENT_WAIT_PROOF | (p->via ? OV_VCLIENT_TOKEN_IN_HEADER : 0);
    int rc = ov_vclient_new(url, &vc);
    rc = rc ? rc : ov_vclient_submit(vc, &p->a, flags, r, ans);
    ov_vclient_free(vc);
    return rc;
}

/* Sends the planned action (stored already), stores the outcome and reports it. */
static int
send_plan(struct wallet *w, const struct ov_context *c, struct act_plan *p)
{
    struct ov_vclient_answer ans;
    struct ov_receipt r;
    struct ov_logreader_cfg cfg;
    memset(&ans, 0, sizeof ans);
    ov_receipt_init(&r);
    int rc = submit(w, p, &r, &ans);
    rc = record(w, p, rc, &r, &ans);
    if (rc == 0) {
        w_schedule_check(w, p->action_row, c); /* later, at its own moment (`run`) */
        int check = r.status == OV_RECEIPT_PROVEN ? (w_log_cfg(w, &cfg), ov_receipt_check(&r, &cfg, NULL))
                                                  : 0;
        if (check != 0) {
            w_say(w, "WARNING: the receipt's proof does not verify against the log's keys (%s)",
                  w_strerror(check));
        }
        report(w, p, &r, check);
        rc = check;
    }
    ov_receipt_clear(&r);
    return rc;
}

/* When a stored action is held until: its send_at, or 0 (not held, or unreadable). */
static uint64_t
held_until(struct wallet *w, int64_t n)
{
    sqlite3_stmt *st = NULL;
    int64_t at = 0;
    if (w_stmt(w, "act_send_at", &st, "i", n) != OV_DB_ROW || ov_db_col_is_null(st, 0) ||
        ov_db_col_int64(st, 0, &at) != 0 || at < 0) {
        at = 0;
    }
    ov_db_reset(st);
    return (uint64_t)at;
}

/* A new action's moment (pacing.h): from its token's fetch to a margin before the close.
 * A statement is for the others to read and weigh: it goes within the first half of what is
 * left of the window. */
static uint64_t
send_moment(struct wallet *w, const struct ov_context *c, int64_t token_row, bool statement)
{
    sqlite3_stmt *st = NULL;
    int64_t fetched = 0;
    uint64_t now = w_now(), at = 0;
    if (w_stmt(w, "tok_created", &st, "i", token_row) != OV_DB_ROW ||
        ov_db_col_int64(st, 0, &fetched) != 0 || fetched < 0) {
        fetched = (int64_t)now;
    }
    ov_db_reset(st);
    uint64_t closes = c->closes;
    if (statement && closes > now + 1) {
        closes = now + (closes - now) / 2 + 1;
    }
    if (ov_pacing_send_at(c->opens, closes, now, (uint64_t)fetched, randombytes_uniform,
                          &at) != 0) {
        at = now;
    }
    return at > now ? at : 0;
}

/* Votes, rates or writes as q says: held to a random moment, or with --now sent now.
 * Returns the exit status. */
static int
act(struct wallet *w, void *ctx)
{
    struct act_req *q = ctx;
    struct ov_context *c = calloc(1, sizeof *c);
    struct act_plan p;
    memset(&p, 0, sizeof p);
    int rc = c ? w_context_get(w, q->context, c) : -OV_E_NOMEM;
    if (rc == -OV_E_NOT_FOUND) {
        w_fail(w, "unknown_context", "this wallet has not verified a context %s: run `onevoice "
               "contexts` or `onevoice fetch`", q->context);
    } else if (rc != 0) {
        w_fail(w, "bad_wallet", "cannot read the context %s (%s)", q->context, ov_strerror(rc));
    }
    rc = rc ? rc : check_request(w, q, c);
    rc = rc ? rc : request_key(w, q, c);
    if (rc == 0 && w_fetch_planned(w, q->context)) {
        /* its token was to come at a random moment: it comes now, and the action waits
         * for its own moment instead (or is sent now with --now) */
        char why[512];
        const char *got = w_fetch_now(w, q->context, why, sizeof why);
        w_say(w, "the token for %s was to be fetched at a random moment: fetched now (%s%s%s)",
              q->context, got, why[0] ? ": " : "", why);
    }
    rc = rc ? rc : plan(w, q, &p);
    uint64_t held = rc == 0 && p.action_row != 0 ? held_until(w, p.action_row) : 0;
    if (rc == 0 && p.action_row == 0 && !q->now) {
        p.send_at = send_moment(w, c, p.token_row, q->kind == ACT_STATEMENT);
    }
    if (rc == 0 && p.action_row == 0) {
        rc = w_tx(w, tx_store, &p);
        if (rc != 0) {
            w_fail(w, "bad_wallet", "cannot store the action before sending it (%s)",
                   ov_strerror(rc));
        }
        held = p.send_at;
    }
    if (rc == 0 && held > w_now() && !q->now) {
        report_held(w, &p, q, held, c); /* stored: `run` sends it at its moment */
    } else if (rc == 0) {
        rc = send_plan(w, c, &p);
    }
    free(p.via);
    sodium_memzero(&p, sizeof p);
    free(c);
    return rc == 0 ? W_EXIT_OK : W_EXIT_REFUSED;
}

/* A stored action as the request that made it (act_held_row's or act_counted_row's
 * columns), for sending its signed bytes again. */
struct stored {
    struct act_req q;
    char context[OV_MAX_CONTEXT_ID_LEN + 1];
    char target[OV_MAX_LABEL_LEN + 1];
    char choice[OV_MAX_LABEL_LEN + 1];
    char *text; /* malloc'd, or NULL */
    char *via;  /* malloc'd, or NULL */
};

static void
stored_clear(struct stored *s, struct act_plan *p)
{
    free(p->via);
    sodium_memzero(p, sizeof *p);
    free(s->text);
    free(s->via);
    memset(s, 0, sizeof *s);
}

/* Row n, read by the statement stmt, into s and the plan p (the same signed bytes, by the
 * same route), its context into c. Says why when it cannot. */
static int
load_stored(struct wallet *w, int64_t n, const char *stmt, struct stored *s,
            struct ov_context *c, struct act_plan *p)
{
    sqlite3_stmt *st = NULL;
    struct ov_bytes col = { NULL, 0 };
    struct act_req *q = &s->q;
    memset(s, 0, sizeof *s);
    memset(p, 0, sizeof *p);
    int rc = w_stmt(w, stmt, &st, "i", n);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_text(st, 0, OV_MAX_CONTEXT_ID_LEN, &col);
        if (rc == 0) {
            memcpy(s->context, col.ptr, col.len);
            s->context[col.len] = 0;
        }
        rc = rc ? rc : ov_db_col_text(st, 1, OV_MAX_LABEL_LEN, &col);
        if (rc == 0) {
            memcpy(s->target, col.ptr, col.len);
            s->target[col.len] = 0;
        }
        if (rc == 0 && !ov_db_col_is_null(st, 2) &&
            (rc = ov_db_col_text(st, 2, OV_MAX_LABEL_LEN, &col)) == 0) {
            memcpy(s->choice, col.ptr, col.len);
            s->choice[col.len] = 0;
        }
        if (rc == 0 && !ov_db_col_is_null(st, 3)) {
            rc = ov_db_col_int64(st, 3, &q->value);
        }
        if (rc == 0 && !ov_db_col_is_null(st, 4) &&
            (rc = ov_db_col_text(st, 4, OV_MAX_STATEMENT_LEN, &col)) == 0) {
            s->text = strndup((const char *)col.ptr, col.len);
            rc = s->text ? 0 : -OV_E_NOMEM;
        }
        if (rc == 0 && !ov_db_col_is_null(st, 5) &&
            (rc = ov_db_col_text(st, 5, W_MAX_URL, &col)) == 0) {
            s->via = strndup((const char *)col.ptr, col.len);
            rc = s->via ? 0 : -OV_E_NOMEM;
        }
    } else if (rc == OV_DB_DONE) {
        rc = -OV_E_NOT_FOUND;
    }
    ov_db_reset(st);
    if (rc == 0) {
        q->context = s->context;
        q->kind = s->text ? ACT_STATEMENT : s->target[0] ? ACT_RATE : ACT_VOTE;
        q->rating = q->kind != ACT_VOTE;
        q->choice = s->choice;
        q->target = s->target;
        q->text = s->text;
        q->via = s->via;
        snprintf(q->key, sizeof q->key, "%s", s->target);
        rc = w_context_get(w, s->context, c);
        rc = rc ? rc : load_sending(w, q, n, p);
    }
    if (rc != 0) {
        w_fail(w, "bad_wallet", "cannot read the stored action %lld (%s)", (long long)n,
               ov_strerror(rc));
    }
    return rc;
}

int
w_send_held(struct wallet *w, int64_t n)
{
    struct ov_context *c = calloc(1, sizeof *c);
    struct stored s;
    struct act_plan p;
    int rc = c ? load_stored(w, n, "act_held_row", &s, c, &p) : -OV_E_NOMEM;
    rc = rc ? rc : send_plan(w, c, &p);
    if (c != NULL) {
        stored_clear(&s, &p);
    }
    free(c);
    return rc;
}

bool
w_verifier_lost(const struct ov_vclient_answer *ans)
{
    return ans->status == 404 && strcmp(ans->reason, "not_found") == 0;
}

int
w_resend_lost(struct wallet *w, int64_t n, struct ov_vclient_answer *ans)
{
    struct ov_context *c = calloc(1, sizeof *c);
    struct ov_receipt r;
    struct stored s;
    struct act_plan p;
    memset(ans, 0, sizeof *ans);
    ov_receipt_init(&r);
    int rc = c ? load_stored(w, n, "act_counted_row", &s, c, &p) : -OV_E_NOMEM;
    if (rc == 0) {
        rc = submit(w, &p, &r, ans); /* the first send's route */
        rc = rc ? rc : store_receipt(w, &p, &r);
        bool final = rc == -OV_E_HTTP && ans->status >= 400 && ans->status < 500 &&
                     ans->reason[0] != 0 && strcmp(ans->reason, "unknown_pseudonym") != 0;
        if (final) {
            /* refused for good by a reason code (closed meanwhile, its token spent by a copy
             * of this wallet); not a bare 4xx (a proxy's), nor a pseudonym not yet admitted:
             * its admitting action may come back at its own check */
            (void)w_stmt(w, "act_refused", NULL, "ti", ans->reason[0] ? ans->reason : "refused",
                         n);
            rc = -OV_E_STATE;
        }
    }
    ov_receipt_clear(&r);
    if (c != NULL) {
        stored_clear(&s, &p);
    }
    free(c);
    return rc;
}

/* vote, rate and statement: the same options. Index: enum act_kind. */
static const struct w_cmd act_cmds[3] = {
    { "vote", "CONTEXT CHOICE",
      "Votes CHOICE in the assembly CONTEXT with this wallet's token for it, signed by the\n"
      "token's one-time key, and keeps the receipt. A second vote in the same context is\n"
      "refused. If the answer is lost, run the same command again: the same ballot is sent.\n"
      "\n"
      "By default the signed vote is stored and held until a random moment before the context\n"
      "closes (printed), so that its time does not tie it to your token; `onevoice run` sends\n"
      "it then (keep `onevoice run --wait` running, or run it before then). --now sends it\n"
      "now and accepts that risk. A held vote survives restarts and counts as made: a second\n"
      "one is refused as if it were sent.",
      2 },
    { "rate", "CONTEXT TARGET RATING",
      "Rates TARGET in the rating round CONTEXT. The first rating sends the token, which\n"
      "admits the token's one-time key as your pseudonym in this round; later ratings send\n"
      "only the pseudonym. Each target is rated once.\n"
      "\n"
      "In a statement round TARGET is a statement's id (`onevoice statements CONTEXT` lists\n"
      "them; your own are not yours to rate) and RATING may be a word of the round's kind:\n"
      "  helpfulness: helpful (2), somewhat (1), not-helpful (0)\n"
      "  agreement:   agree (1), disagree (-1), pass (0)\n"
      "If the answer is lost, run the same command again: the same rating is sent.\n"
      "\n"
      "By default the signed rating is stored and held until a random moment before the\n"
      "context closes (printed), so that its time does not tie it to your token; `onevoice\n"
      "run` sends it then (keep `onevoice run --wait` running, or run it before then). --now\n"
      "sends it now and accepts that risk. A held rating survives restarts and counts as\n"
      "made: a second rating of the same target is refused as if it were sent.",
      3 },
    { "statement", "CONTEXT TEXT",
      "Writes the statement TEXT (1 to 1,000 bytes) in the statement round CONTEXT, for the\n"
      "other participants to rate, signed by the one-time key of your token for the round\n"
      "(your pseudonym there: your first statement or rating sends the token). Prints the\n"
      "statement's id, derived from its text and the round: the same text is one statement.\n"
      "The round says how many statements each participant may write (`onevoice contexts`).\n"
      "If the answer is lost, run the same command again: the same statement is sent.\n"
      "\n"
      "By default the signed statement is stored and held until a random moment before the\n"
      "context closes (printed), so that its time does not tie it to your token; `onevoice\n"
      "run` sends it then (keep `onevoice run --wait` running, or run it before then). --now\n"
      "sends it now and accepts that risk. A held statement survives restarts and counts as\n"
      "made. It goes within the first half of what is left of the window: the others must\n"
      "read it to rate it.",
      2 },
};

/* RATING: an integer, or a word of a statement round's kind (checked against the round
 * once the wallet is open). */
static int
parse_rating(struct act_req *q, const char *arg)
{
    enum ov_rating_kind kind;
    char *end = NULL;
    q->value = (int64_t)strtoll(arg, &end, 10);
    if (end != arg && *end == 0) {
        return 0;
    }
    if (w_rating_parse(arg, &kind, &q->value) == 0) {
        q->word = arg;
        return 0;
    }
    fprintf(stderr, "onevoice rate: RATING is an integer, or in a statement round %s, or %s\n",
            w_rating_words(OV_RATING_HELPFULNESS), w_rating_words(OV_RATING_AGREEMENT));
    return -1;
}

static int
act_command(struct wallet *w, int argc, char **argv, enum act_kind kind)
{
    static const char *const platform_help[3] = {
        "the platform the vote is made on (default " W_DEFAULT_PLATFORM ")",
        "the platform the rating is made on (default " W_DEFAULT_PLATFORM ")",
        "the platform the statement is made on (default " W_DEFAULT_PLATFORM ")",
    };
    const char *platform = NULL, *via = NULL, *pos[3];
    struct act_req q;
    memset(&q, 0, sizeof q);
    struct w_opt opts[] = {
        { "--platform", "NAME", platform_help[kind], &platform, NULL, NULL, NULL },
        { "--via", "URL", "send through this platform (token in an Authorization header)", &via,
          NULL, NULL, NULL },
        { "--now", NULL, "send it now, not at a random later moment (its time may then tie it "
          "to your token)", NULL, &q.now, NULL, NULL },
        { "--json", NULL, "answer as JSON", NULL, &w->json, NULL, NULL },
    };
    int a = w_args(argc, argv, &act_cmds[kind], opts, 4, pos);
    if (a != 0) {
        return a > 0 ? W_EXIT_OK : W_EXIT_USAGE;
    }
    q.context = pos[0];
    q.kind = kind;
    q.rating = kind != ACT_VOTE;
    q.choice = kind == ACT_VOTE ? pos[1] : NULL;
    q.target = kind == ACT_RATE ? pos[1] : NULL;
    q.text = kind == ACT_STATEMENT ? pos[1] : NULL;
    q.platform = platform ? platform : W_DEFAULT_PLATFORM;
    q.via = via;
    if (kind == ACT_RATE && parse_rating(&q, pos[2]) != 0) {
        return W_EXIT_USAGE;
    }
    return w_run(w, act, &q);
}

int
cmd_vote(struct wallet *w, int argc, char **argv)
{
    return act_command(w, argc, argv, ACT_VOTE);
}

int
cmd_rate(struct wallet *w, int argc, char **argv)
{
    return act_command(w, argc, argv, ACT_RATE);
}

int
cmd_statement(struct wallet *w, int argc, char **argv)
{
    return act_command(w, argc, argv, ACT_STATEMENT);
}
