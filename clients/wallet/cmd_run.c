/* onevoice run: does what is due, each thing at its own moment (core/protocol/pacing.h):
 * fetches a context's token when its moment has come, sends a held action at its moment,
 * checks one receipt at its moment. With --wait it sleeps until the next moment and goes
 * on until nothing is scheduled: for a terminal left open, or started by cron or a systemd
 * user timer without --wait.
 *
 * Everything it does is in the wallet file before it is done (the plans, the signed
 * actions), so a run killed at any point loses nothing: the next run resends the same bytes
 * and the verifier answers the same receipt. Overdue receipt checks are not done together:
 * one is checked, the others get new random moments, so that a wallet that was off for a
 * week does not show the verifier all its receipts in one burst. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wallet.h"

#define RUN_RETRY_S 30              /* a fetch or send that got no answer: again after this */
#define RUN_SLEEP_MAX_S 1 /* --wait re-reads the file this often: another command may have held
                          * an action for an earlier moment than the one it sleeps toward */
#define RUN_CHECK_GIVE_UP_S (2 * 86400) /* after the close: a receipt still unproven is left */
#define RUN_MAX_STEPS 10000         /* a bound on one pass, whatever the file holds */

struct run_state {
    bool wait;
    json_t *events;
    size_t n_bad;
};

/* One thing done: a line for people, an object for --json (with the answer of the step, if
 * it gave one). */
static void
event(struct wallet *w, struct run_state *S, const char *did, const char *context,
      const char *result, const char *detail)
{
    char when[W_TIME_WORDS_LEN];
    w_time_words(w_now(), when);
    if (!w->json) {
        printf("%s  %s %s: %s%s%s\n", when, did, context, result, detail && detail[0] ? ": " : "",
               detail ? detail : "");
        fflush(stdout);
    }
    json_t *o = json_pack("{ss ss ss sI}", "did", did, "context", context, "result", result,
                          "at", (json_int_t)w_now());
    if (detail && detail[0]) {
        json_object_set_new(o, "detail", json_string(detail));
    }
    if (w->out != NULL) {
        json_object_set_new(o, "answer", w->out);
        w->out = NULL;
    }
    json_array_append_new(S->events, o);
}

static bool
closed_since(struct wallet *w, const char *context, uint64_t grace)
{
    struct ov_context *c = calloc(1, sizeof *c);
    bool closed = c == NULL || w_context_get(w, context, c) != 0 || w_now() >= c->closes + grace;
    free(c);
    return closed;
}

/* Each context whose moment to fetch has come. */
static void
due_fetches(struct wallet *w, struct run_state *S)
{
    for (int step = 0; step < RUN_MAX_STEPS; step++) {
        sqlite3_stmt *st = NULL;
        struct ov_bytes v = { NULL, 0 };
        char id[OV_MAX_CONTEXT_ID_LEN + 1] = "", why[512];
        int rc = w_stmt(w, "plan_due", &st, "u", w_now());
        if (rc == OV_DB_ROW && ov_db_col_text(st, 0, OV_MAX_CONTEXT_ID_LEN, &v) == 0) {
            memcpy(id, v.ptr, v.len);
            id[v.len] = 0;
        }
        ov_db_reset(st);
        if (id[0] == 0) {
            return;
        }
        const char *got = w_fetch_now(w, id, why, sizeof why);
        if (strcmp(got, "pending") == 0 && !closed_since(w, id, 0)) {
            (void)w_stmt(w, "plan_reset", NULL, "ut", w_now() + RUN_RETRY_S, id);
        } else if (strcmp(got, "pending") == 0) {
            (void)w_stmt(w, "plan_done", NULL, "ut", w_now(), id);
        }
        S->n_bad += strcmp(got, "refused") == 0;
        event(w, S, "fetch", id, got, why);
    }
}

/* Each held action whose moment has come. */
static void
due_sends(struct wallet *w, struct run_state *S)
{
    for (int step = 0; step < RUN_MAX_STEPS; step++) {
        sqlite3_stmt *st = NULL;
        struct ov_bytes v = { NULL, 0 };
        char context[OV_MAX_CONTEXT_ID_LEN + 1] = "";
        int64_t n = 0;
        int rc = w_stmt(w, "act_send_due", &st, "u", w_now());
        if (rc == OV_DB_ROW && ov_db_col_int64(st, 0, &n) != 0) {
            n = 0;
        }
        ov_db_reset(st);
        if (n == 0) {
            return;
        }
        if (w_stmt(w, "act_held_row", &st, "i", n) == OV_DB_ROW &&
            ov_db_col_text(st, 0, OV_MAX_CONTEXT_ID_LEN, &v) == 0) {
            memcpy(context, v.ptr, v.len);
            context[v.len] = 0;
        }
        ov_db_reset(st);
        if (!w->json) {
            printf("sending the held action in %s, at its moment:\n", context);
        }
        rc = w_send_held(w, n);
        /* still unconfirmed (no answer): again soon while the context is open */
        bool sending = w_stmt(w, "act_send_at", &st, "i", n) == OV_DB_ROW;
        ov_db_reset(st);
        if (sending && !closed_since(w, context, 0)) {
            (void)w_stmt(w, "act_hold", NULL, "ui", w_now() + RUN_RETRY_S, n);
        } else if (sending) {
            (void)w_stmt(w, "act_hold", NULL, "ni", (int64_t)0, n);
        }
        S->n_bad += rc != 0 && !sending; /* refused; no answer is tried again */
        event(w, S, "send", context, rc == 0 ? "counted" : sending ? "unconfirmed" : "refused",
              sending && rc != 0 ? "no answer: sent again later (the same bytes)" : "");
    }
}

/* One receipt whose moment has come; the others overdue get new moments. */
static void
due_check(struct wallet *w, struct run_state *S)
{
    sqlite3_stmt *st = NULL;
    int64_t first = 0;
    char context[OV_MAX_CONTEXT_ID_LEN + 1] = "";
    int rc = w_stmt(w, "act_check_due", &st, "u", w_now());
    for (int step = 0; rc == OV_DB_ROW && step < RUN_MAX_STEPS; step++) {
        int64_t n = 0;
        struct ov_bytes v = { NULL, 0 };
        if (ov_db_col_int64(st, 0, &n) != 0 || ov_db_col_text(st, 1, OV_MAX_CONTEXT_ID_LEN, &v) != 0) {
            break;
        }
        if (first == 0) {
            first = n;
            memcpy(context, v.ptr, v.len);
            context[v.len] = 0;
        } else {
            struct ov_context *c = calloc(1, sizeof *c);
            if (c != NULL && w_context_get(w, context, c) == 0) {
                w_schedule_check(w, n, c); /* not with the first: at a moment of its own */
            }
            free(c);
        }
        rc = ov_db_step(st);
    }
    ov_db_reset(st);
    if (first == 0) {
        return;
    }
    const char *verdict = "log_unavailable";
    char what[256], detail[512], reason[64];
    uint64_t index = 0;
    rc = w_receipt_check(w, first, &verdict, what, sizeof what, &index, reason);
    bool ok = rc == 0 && strcmp(verdict, "ok") == 0;
    bool resent = rc == 0 && strcmp(verdict, "resent") == 0;
    bool lost = rc == 0 && strcmp(verdict, "lost") == 0;
    /* the log or verifier not reachable now (or a checkpoint refused: w_checkpoint said why)
     * is not a receipt out of the log: checked again at a later moment; so is an action the
     * verifier had lost, sent again now */
    bool later = (rc != 0 && rc != -OV_E_NOT_FOUND) ||
                 (rc == 0 && (strcmp(verdict, "not_proven") == 0 ||
                              strcmp(verdict, "log_unavailable") == 0 || resent));
    struct ov_context *c = calloc(1, sizeof *c);
    if (later && c != NULL && w_context_get(w, context, c) == 0 &&
        w_now() < c->closes + RUN_CHECK_GIVE_UP_S) {
        w_schedule_check(w, first, c);
    } else {
        (void)w_stmt(w, "act_check_set", NULL, "ni", (int64_t)0, first);
    }
    free(c);
    if (ok) {
        snprintf(detail, sizeof detail, "%s: in the log (index %llu)", what,
                 (unsigned long long)index);
    } else if (resent) {
        snprintf(detail, sizeof detail, "%s: the verifier had lost it; sent again (the same "
                 "signed bytes) and counted, checked again later", what);
    } else if (lost) {
        snprintf(detail, sizeof detail, "%s: the verifier had lost it, and refused it when "
                 "sent again (%s): it is not counted", what, reason);
        S->n_bad++;
    } else if (later) {
        snprintf(detail, sizeof detail, "%s: %s, checked again later", what,
                 rc == 0 && strcmp(verdict, "not_proven") == 0 ? "not yet proven"
                                                                : "the log could not be used now");
    } else if (rc == -OV_E_NOT_FOUND) {
        snprintf(detail, sizeof detail, "action %lld is no longer in this wallet", (long long)first);
    } else {
        snprintf(detail, sizeof detail, "%s: NO LONGER IN THE LOG (%s): keep this wallet file, "
                 "it holds the receipt that proves it", what, verdict);
        S->n_bad++;
    }
    event(w, S, "check", context,
          ok ? "ok" : resent ? "resent" : later ? "later" : lost ? "lost" : rc != 0 ? "gone"
                                                                         : "not_in_log",
          detail);
}

/* The earliest scheduled moment, or 0 when nothing is. */
static uint64_t
next_moment(struct wallet *w)
{
    sqlite3_stmt *st = NULL;
    uint64_t next = 0;
    if (w_stmt(w, "act_next", &st, "") == OV_DB_ROW) {
        for (int col = 0; col < 3; col++) {
            int64_t v = 0;
            if (!ov_db_col_is_null(st, col) && ov_db_col_int64(st, col, &v) == 0 && v > 0 &&
                (next == 0 || (uint64_t)v < next)) {
                next = (uint64_t)v;
            }
        }
    }
    ov_db_reset(st);
    return next;
}

static int
run(struct wallet *w, void *ctx)
{
    struct run_state *S = ctx;
    uint64_t next = 0;
    bool said = false;
    for (;;) {
        due_fetches(w, S);
        due_sends(w, S);
        due_check(w, S);
        next = next_moment(w);
        if (next == 0 || !S->wait) {
            break;
        }
        uint64_t now = w_now();
        if (!said && next > now) {
            char when[W_TIME_WORDS_LEN];
            w_time_words(next, when);
            w_say(w, "waiting for the next scheduled moment (%s); stopping this is safe, "
                  "`onevoice run` goes on where it stopped", when);
            said = true;
        }
        uint64_t s = next > now ? next - now : 0;
        s = s > RUN_SLEEP_MAX_S ? RUN_SLEEP_MAX_S : s;
        struct timespec ts = { (time_t)s, s == 0 ? 200000000L : 0 };
        nanosleep(&ts, NULL);
    }
    if (w->json) {
        w->out = json_pack("{sO}", "done", S->events);
        json_object_set_new(w->out, "next", next ? json_integer((json_int_t)next) : json_null());
    } else if (next != 0) {
        char when[W_TIME_WORDS_LEN];
        w_time_words(next, when);
        printf("next scheduled step at %s: run `onevoice run` then, or keep `onevoice run "
               "--wait` running\n", when);
    } else {
        printf("nothing left to do: every token fetched, every action sent, every receipt "
               "checked\n");
    }
    return S->n_bad == 0 ? W_EXIT_OK : W_EXIT_REFUSED;
}

int
cmd_run(struct wallet *w, int argc, char **argv)
{
    static const struct w_cmd cmd = {
        "run", "",
        "Does what is due, each thing at its own random moment: fetches the token of a context\n"
        "whose moment has come (`fetch`), sends a held vote, rating or statement at its moment\n"
        "(`vote`, `rate`, `statement`), checks one receipt at its moment (a while after its\n"
        "action was sent; overdue ones get new moments, one at a time). Then prints when the\n"
        "next step is due. With --wait it sleeps until then and goes on until nothing is left:\n"
        "keep it running in a terminal, or run `onevoice run` every few minutes from cron\n"
        "(`*/5 * * * * onevoice --wallet ~/me.wallet run`) or a systemd user timer\n"
        "(OnCalendar=*:0/5). Stopping it at any point is safe: what is held is in the wallet\n"
        "file. Exit status 1 when an action was refused or a receipt is no longer in the log.",
        0,
    };
    struct run_state S = { false, json_array(), 0 };
    struct w_opt opts[] = {
        { "--wait", NULL, "sleep until each next moment, until nothing is scheduled", NULL,
          &S.wait, NULL, NULL },
        { "--json", NULL, "answer as JSON: what was done, and the next moment", NULL, &w->json,
          NULL, NULL },
    };
    int rc = w_command(w, argc, argv, &cmd, opts, 2, NULL, run, &S);
    json_decref(S.events);
    return rc;
}
