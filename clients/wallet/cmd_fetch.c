/* onevoice fetch: a token for every open context (cover issuance: the issuer cannot tell in
 * which contexts the person will take part), or for one with --context; each at its own
 * moment (core/protocol/pacing.h; `onevoice run` fetches it then), or all now with --now.
 *
 * Each token has a fresh one-time Ed25519 key; the SHA-256 of its public key is the token's
 * nonce, so only this wallet can later sign actions with it. The TokenRequest and its
 * blinding state are stored before the request is sent: after a lost answer, the same
 * request is sent again (now, or by the next fetch), and the issuer answers it from its
 * records without spending quota again. A new request is made only when none is pending. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "protocol/issuerclient.h"
#include "protocol/pacing.h"
#include "wallet.h"

#define FETCH_TRIES 4 /* sends of one request within one run */

struct fetch_args {
    const char *only; /* --context */
    bool now;         /* --now: every token now, not at its moment */
};

struct job_row {
    int64_t n;                 /* the tokens row */
    bool ready;                /* a token is held already */
    struct ov_token_job job;   /* pending: the request to (re)send */
};

/* Loads the live token of ctx, if any: 1 found (row filled), 0 none. */
static int
load_live(struct wallet *w, const struct w_context *ctx, struct job_row *r)
{
    sqlite3_stmt *st = NULL;
    struct ov_bytes state = { NULL, 0 };
    int rc = w_stmt(w, "tok_live", &st, "t", ctx->def.id);
    if (rc != OV_DB_ROW) {
        ov_db_reset(st);
        return rc < 0 ? rc : 0;
    }
    rc = ov_db_col_int64(st, 0, &r->n);
    rc = rc ? rc : ov_db_col_text(st, 1, 16, &state);
    r->ready = rc == 0 && state.len == 5 && memcmp(state.ptr, "ready", 5) == 0;
    if (rc == 0 && !r->ready) {
        rc = ov_pp_key_from_spki(&r->job.key, OV_BYTES(ctx->def.token_key, ctx->def.token_key_len));
        rc = rc ? rc : ov_db_col_fixed(st, 2, r->job.request, sizeof r->job.request);
        rc = rc ? rc : ov_db_col_fixed(st, 3, r->job.st.token_input, sizeof r->job.st.token_input);
        rc = rc ? rc : ov_db_col_fixed(st, 4, r->job.st.inv, sizeof r->job.st.inv);
        memcpy(r->job.context, ctx->def.id, sizeof r->job.context);
    }
    ov_db_reset(st);
    return rc < 0 ? rc : 1;
}

/* A new request with a fresh one-time key, stored as pending before anything is sent. */
static int
new_job(struct wallet *w, const struct w_context *ctx, struct job_row *r)
{
    uint8_t seed[OV_SIGN_SEED_LEN], nonce[OV_PP_NONCE_LEN];
    struct ov_sign_key *k = NULL;
    struct ov_issuer_context ic;
    memset(&ic, 0, sizeof ic);
    ic.def = ctx->def;
    randombytes_buf(seed, sizeof seed);
    int rc = ov_sign_key_from_seed(seed, &k);
    if (rc == 0) {
        crypto_hash_sha256(nonce, ov_sign_key_pk(k), OV_SIGN_PK_LEN);
        rc = ov_token_job_init(&r->job, &ic, nonce);
    }
    if (rc == 0) {
        uint64_t now = w_now();
        rc = w_stmt(w, "tok_insert", NULL, "tbbbbbuu", ctx->def.id, seed, sizeof seed,
                    ov_sign_key_pk(k), (size_t)OV_SIGN_PK_LEN, r->job.request,
                    sizeof r->job.request, r->job.st.token_input, sizeof r->job.st.token_input,
                    r->job.st.inv, sizeof r->job.st.inv, now, now);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0) {
        r->n = sqlite3_last_insert_rowid(ov_db_handle(w->db));
    } else {
        ov_token_job_clear(&r->job);
    }
    sodium_memzero(seed, sizeof seed);
    ov_sign_key_free(k);
    return rc;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Sends the pending request (again, on a lost answer): "issued", "refused" or "pending". */
static const char *
send_job(struct wallet *w, struct ov_issuerclient *ic, const struct ov_sign_key *enrollee,
         struct job_row *r, char *why, size_t why_max)
{
    uint8_t token[OV_PP_TOKEN_LEN];
    struct ov_issuer_status ist = { 0, "", "" };
    int rc = -OV_E_HTTP;
    for (int t = 0; t < FETCH_TRIES; t++) {
        if (t > 0) {
            sleep_ms(250L * t);
        }
        rc = ov_issuerclient_token(ic, enrollee, &r->job, token, &ist);
        /* 409 replayed_request: the same signed bytes were seen (another run of this wallet
         * sent the same request in the same millisecond); signing it afresh is the cure */
        bool again = rc == -OV_E_HTTP && (ist.status == 0 || ist.status >= 500 ||
                                          strcmp(ist.reason, "replayed_request") == 0);
        if (!again) {
            break; /* an answer: a token, a refusal or garbage */
        }
    }
    if (rc == 0) {
        rc = w_stmt(w, "tok_ready", NULL, "buu", token, sizeof token, w_now(), (uint64_t)r->n);
        sodium_memzero(token, sizeof token);
        if (rc < 0) {
            snprintf(why, why_max, "the token could not be stored (%s); fetch again",
                     ov_strerror(rc));
            return "pending";
        }
        return "issued";
    }
    if (rc == -OV_E_HTTP && (strcmp(ist.reason, "quota_spent") == 0 ||
                             strcmp(ist.reason, "context_closed") == 0 ||
                             strcmp(ist.reason, "unknown_key_id") == 0)) {
        /* definitive: this request will never be answered with a token */
        (void)w_stmt(w, "tok_refused", NULL, "tuu", ist.reason, w_now(), (uint64_t)r->n);
        snprintf(why, why_max, "HTTP %u %s", ist.status, ist.reason);
        return "refused";
    }
    if (rc == -OV_E_HTTP && ist.status != 0 && ist.status < 500) {
        snprintf(why, why_max, "refused by the issuer (HTTP %u %s); the request is kept",
                 ist.status, ist.reason);
        if (strcmp(ist.reason, "stale_request") == 0) {
            w_clock_hint(w, w->issuer, "issuer");
        }
    } else if (rc == -OV_E_HTTP) {
        snprintf(why, why_max, "no answer from the issuer (%s%u); the same request is sent again "
                 "by the next fetch, spending nothing twice", ist.status ? "HTTP " : "",
                 ist.status);
    } else {
        snprintf(why, why_max, "the issuer's answer is not a valid token under the logged key "
                 "(%s); the request is kept and sent again by the next fetch", w_strerror(rc));
    }
    return "pending";
}

/* Tokens still usable or used in ctx: at the quota, asking for another is pointless. */
static bool
quota_used(struct wallet *w, const struct w_context *ctx)
{
    sqlite3_stmt *st = NULL;
    int64_t ready = 0, pending = 0, spent = 0;
    if (w_stmt(w, "tok_count", &st, "t", ctx->def.id) == OV_DB_ROW) {
        if (ov_db_col_int64(st, 0, &ready) != 0 || ov_db_col_int64(st, 1, &pending) != 0 ||
            ov_db_col_int64(st, 2, &spent) != 0) {
            spent = 0;
        }
    }
    ov_db_reset(st);
    return pending == 0 && spent > 0 && (uint64_t)spent >= ctx->def.quota;
}

/* One context's token now: "issued", "held", "quota_used", "refused" or "pending" (why says
 * more for the last two). */
static const char *
fetch_one(struct wallet *w, struct ov_issuerclient *ic, const struct ov_sign_key *enrollee,
          const struct w_context *ctx, char *why, size_t why_max)
{
    struct job_row r;
    const char *result;
    memset(&r, 0, sizeof r);
    int found = load_live(w, ctx, &r);
    if (found == 0 && quota_used(w, ctx)) {
        return "quota_used";
    }
    if (found == 0) {
        found = new_job(w, ctx, &r);
        /* another fetch on this wallet just made one: send that one, never a second */
        found = found == -OV_E_CONFLICT ? load_live(w, ctx, &r) : found == 0 ? 1 : found;
    }
    if (found == 1 && r.ready) {
        result = "held";
    } else if (found == 1) {
        result = send_job(w, ic, enrollee, &r, why, why_max);
    } else {
        result = "pending";
        snprintf(why, why_max, "the wallet file could not be used (%s)", ov_strerror(found));
    }
    ov_token_job_clear(&r.job);
    return result;
}

/* The context's moment to fetch: the one planned before, or a new one (pacing.h). Returns
 * 0 with *at, or -OV_E_STATE for a context no longer open. */
static int
fetch_moment(struct wallet *w, const struct w_context *ctx, uint64_t *at)
{
    sqlite3_stmt *st = NULL;
    int64_t planned = 0;
    bool done = false, have = false;
    if (w_stmt(w, "plan_get", &st, "t", ctx->def.id) == OV_DB_ROW &&
        ov_db_col_int64(st, 0, &planned) == 0) {
        have = true;
        done = !ov_db_col_is_null(st, 1);
    }
    ov_db_reset(st);
    if (have && !done) {
        *at = (uint64_t)planned;
        return 0;
    }
    int rc = ov_pacing_fetch_at(ctx->def.opens, ctx->def.closes, w_now(), randombytes_uniform, at);
    if (rc == 0) {
        /* a plan done before (its token spent or refused): asked again, a new moment */
        rc = have ? w_stmt(w, "plan_reset", NULL, "ut", *at, ctx->def.id)
                  : w_stmt(w, "plan_put", NULL, "tu", ctx->def.id, *at);
        rc = rc < 0 ? rc : 0;
    }
    return rc;
}

/* A token for every open context, or only the one ctx names: each at its own moment
 * (scheduled, for `run`), or all now with --now. */
static int
fetch(struct wallet *w, void *ctx)
{
    const struct fetch_args *args = ctx;
    struct ov_sign_key *enrollee = w_enrollee_key(w);
    struct ov_issuerclient *ic = NULL;
    struct w_context *list = NULL;
    size_t n = 0, n_refused = 0, n_bad = 0, n_planned = 0;
    json_t *results = json_array();
    int rc = enrollee ? 0 : -OV_E_STATE;
    rc = rc ? rc : w_sync_contexts(w, args->only, &list, &n, &n_refused, NULL);
    rc = rc ? rc : ov_issuerclient_new(w->issuer, &ic);
    if (rc != 0) {
        goto out;
    }
    /* a random order: the sequence of requests says nothing either */
    for (size_t i = n; i > 1; i--) {
        size_t j = randombytes_uniform((uint32_t)i);
        struct w_context t = list[i - 1];
        list[i - 1] = list[j];
        list[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
        char why[512] = "", when[W_TIME_WORDS_LEN] = "";
        const char *result = NULL;
        uint64_t at = 0;
        struct job_row r;
        memset(&r, 0, sizeof r);
        if (!args->now && load_live(w, &list[i], &r) == 0 && !quota_used(w, &list[i])) {
            int prc = fetch_moment(w, &list[i], &at);
            if (prc == 0 && at > w_now()) {
                result = "scheduled";
                w_time_words(at, when);
                n_planned++;
            } else if (prc != 0 && prc != -OV_E_STATE) {
                result = "pending";
                snprintf(why, sizeof why, "the wallet file could not be used (%s)",
                         ov_strerror(prc));
            }
        }
        ov_token_job_clear(&r.job);
        if (result == NULL) {
            result = fetch_one(w, ic, enrollee, &list[i], why, sizeof why);
        }
        if (strcmp(result, "pending") != 0 && strcmp(result, "scheduled") != 0) {
            (void)w_stmt(w, "plan_done", NULL, "ut", w_now(), list[i].def.id);
        }
        if (strcmp(result, "refused") == 0 || strcmp(result, "pending") == 0) {
            n_bad++;
            w_say(w, "context %s: %s%s%s", list[i].def.id, result, why[0] ? ": " : "", why);
        } else if (!w->json && strcmp(result, "scheduled") == 0) {
            printf("%-20s token to be fetched at %s\n", list[i].def.id, when);
        } else if (!w->json) {
            printf("%-20s %s\n", list[i].def.id,
                   strcmp(result, "issued") == 0 ? "token issued"
                   : strcmp(result, "held") == 0 ? "token held already"
                                                 : "quota used");
        }
        json_t *o = json_pack("{ss ss}", "context", list[i].def.id, "result", result);
        if (why[0]) {
            json_object_set_new(o, "message", json_string(why));
        }
        if (at > 0 && strcmp(result, "scheduled") == 0) {
            json_object_set_new(o, "fetch_at", json_integer((json_int_t)at));
        }
        json_array_append_new(results, o);
    }
    if (n_planned > 0) {
        w_say(w, "each token is fetched at its own random moment early in its context's window, "
              "so that the issuer's times do not tie your contexts to each other or to your "
              "actions. Keep `onevoice run --wait` running, or run `onevoice run` now and then "
              "(cron, a systemd user timer); `onevoice fetch --now` fetches them now");
    }
    if (w->json) {
        w->out = json_pack("{sO sI}", "tokens", results, "refused_contexts", (json_int_t)n_refused);
    }
out:
    json_decref(results);
    free(list);
    ov_issuerclient_free(ic);
    ov_sign_key_free(enrollee);
    return rc == 0 && n_bad == 0 && n_refused == 0 ? W_EXIT_OK : W_EXIT_REFUSED;
}

bool
w_fetch_planned(struct wallet *w, const char *id)
{
    sqlite3_stmt *st = NULL;
    bool planned = w_stmt(w, "plan_get", &st, "t", id) == OV_DB_ROW && ov_db_col_is_null(st, 1);
    ov_db_reset(st);
    return planned;
}

const char *
w_fetch_now(struct wallet *w, const char *id, char *why, size_t why_max)
{
    struct ov_sign_key *enrollee = w_enrollee_key(w);
    struct ov_issuerclient *ic = NULL;
    struct w_context *list = NULL;
    size_t n = 0, n_refused = 0;
    const char *result = "pending";
    why[0] = 0;
    int rc = enrollee ? 0 : -OV_E_STATE;
    rc = rc ? rc : w_sync_contexts(w, id, &list, &n, &n_refused, NULL);
    rc = rc ? rc : ov_issuerclient_new(w->issuer, &ic);
    if (rc != 0) {
        snprintf(why, why_max, "the issuer or the log could not be used (%s)", w_strerror(rc));
    } else if (n == 0) {
        result = n_refused ? "refused" : "closed";
        snprintf(why, why_max, "%s", n_refused ? "its key is not the one the log shows"
                                               : "it is not open");
    } else {
        result = fetch_one(w, ic, enrollee, &list[0], why, why_max);
    }
    if (strcmp(result, "pending") != 0) {
        (void)w_stmt(w, "plan_done", NULL, "ut", w_now(), id);
    }
    free(list);
    ov_issuerclient_free(ic);
    ov_sign_key_free(enrollee);
    return result;
}

int
cmd_fetch(struct wallet *w, int argc, char **argv)
{
    static const struct w_cmd cmd = {
        "fetch", "",
        "Gets a token for every open context (cover issuance: the issuer cannot tell in which\n"
        "contexts you take part), each bound to a fresh one-time key. By default each token is\n"
        "fetched at its own random moment early in its context's window (printed), so that the\n"
        "issuer's times tie your contexts neither to each other nor to your actions: `onevoice\n"
        "run` fetches it then (keep `onevoice run --wait` running, or run it from cron or a\n"
        "systemd user timer). --now fetches them all now. Only contexts whose key is proven in\n"
        "the witnessed log are used. A request whose answer was lost is sent again, never a new\n"
        "one: a lost answer never spends quota twice.",
        0,
    };
    struct fetch_args args = { NULL, false };
    struct w_opt opts[] = {
        { "--context", "ID", "only this context (no cover)", &args.only, NULL, NULL, NULL },
        { "--now", NULL, "fetch now, not each at its own moment (the times may then tie your "
          "tokens together)", NULL, &args.now, NULL, NULL },
        { "--json", NULL, "answer as JSON", NULL, &w->json, NULL, NULL },
    };
    return w_command(w, argc, argv, &cmd, opts, 3, NULL, fetch, &args);
}
