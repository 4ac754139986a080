/* onevoice receipts: re-checks every stored receipt against the log as it is now.
 *
 * For each counted action: its receipt (completed from the verifier while it has no proof
 * yet) must verify offline (its checkpoint signed by the log with the quorum of witness
 * cosignatures, its inclusion proof leading to that root); the log's latest witnessed
 * checkpoint must extend the receipt's (consistency proof) and must still include the entry
 * at its index (inclusion proof). An action for which any of this fails is reported as no
 * longer in the log, and the exit status is 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/receipt.h"
#include "protocol/verifierclient.h"
#include "wallet.h"

struct row {
    int64_t n;
    char context[OV_MAX_CONTEXT_ID_LEN + 1];
    char what[2 * OV_MAX_LABEL_LEN + 32];
    char state[16];
    char reason[64];
    bool has_hash;
    uint8_t hash[OV_HASH_LEN];
    char *receipt; /* JSON, malloc'd */
};

static void
copy_text(sqlite3_stmt *st, int col, char *dst, size_t max)
{
    struct ov_bytes v = { NULL, 0 };
    dst[0] = 0;
    if (!ov_db_col_is_null(st, col) && ov_db_col_text(st, col, max - 1, &v) == 0 && v.len > 0) {
        memcpy(dst, v.ptr, v.len);
        dst[v.len] = 0;
    }
}

/* Every action row, in order. */
static int
load_rows(struct wallet *w, struct row **out, size_t *n)
{
    sqlite3_stmt *st = ov_db_stmt(w->db, "act_all");
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    while ((rc = ov_db_step(st)) == OV_DB_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            struct row *grown = realloc(*out, cap * sizeof **out);
            if (grown == NULL) {
                rc = -OV_E_NOMEM;
                break;
            }
            *out = grown;
        }
        struct row *r = &(*out)[(*n)++];
        char target[OV_MAX_LABEL_LEN + 1], choice[OV_MAX_LABEL_LEN + 1];
        bool statement = !ov_db_col_is_null(st, 10);
        size_t plen = strlen(W_STATEMENT_TARGET);
        int64_t rating = 0;
        struct ov_bytes rec = { NULL, 0 };
        memset(r, 0, sizeof *r);
        rc = ov_db_col_int64(st, 0, &r->n);
        copy_text(st, 1, r->context, sizeof r->context);
        copy_text(st, 2, target, sizeof target);
        copy_text(st, 3, choice, sizeof choice);
        if (!ov_db_col_is_null(st, 4)) {
            rc = rc ? rc : ov_db_col_int64(st, 4, &rating);
        }
        copy_text(st, 6, r->state, sizeof r->state);
        copy_text(st, 7, r->reason, sizeof r->reason);
        if (!ov_db_col_is_null(st, 8)) {
            rc = rc ? rc : ov_db_col_fixed(st, 8, r->hash, OV_HASH_LEN);
            r->has_hash = rc == 0;
        }
        if (!ov_db_col_is_null(st, 9)) {
            rc = rc ? rc : ov_db_col_text(st, 9, OV_MAX_RECEIPT_LEN, &rec);
            r->receipt = rc == 0 ? strndup((const char *)rec.ptr, rec.len) : NULL;
        }
        if (statement) {
            snprintf(r->what, sizeof r->what, "wrote statement %s",
                     strncmp(target, W_STATEMENT_TARGET, plen) == 0 ? target + plen : target);
        } else if (target[0]) {
            snprintf(r->what, sizeof r->what, "rated %s = %lld", target, (long long)rating);
        } else {
            snprintf(r->what, sizeof r->what, "voted %s", choice);
        }
        if (rc != 0) {
            break;
        }
    }
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

/* Completes a receipt that has no proof yet from the verifier; stores what it gets.
 * -OV_E_NOT_FOUND when the verifier answers that it never counted the action (404
 * not_found: it lost it), else 0. */
static int
complete(struct wallet *w, struct ov_vclient *vc, struct row *r, struct ov_receipt *rec)
{
    struct ov_receipt fresh;
    struct ov_vclient_answer ans;
    if (vc == NULL) {
        return 0;
    }
    if (ov_vclient_receipt(vc, r->hash, true, &fresh, &ans) != 0) {
        return w_verifier_lost(&ans) ? -OV_E_NOT_FOUND : 0;
    }
    struct ov_buf json;
    if (fresh.status >= rec->status && ov_receipt_format(&fresh, &json) == 0) {
        char *s = strndup((const char *)json.ptr, json.len);
        if (s != NULL && w_stmt(w, "act_receipt", NULL, "tuti", s, w_now(), "completed", r->n) >= 0) {
            free(r->receipt);
            r->receipt = s;
            s = NULL;
            ov_receipt_clear(rec);
            *rec = fresh;
            ov_receipt_init(&fresh);
        }
        free(s);
        ov_buf_clear(&json);
    }
    ov_receipt_clear(&fresh);
    return 0;
}

/* The row's hash and receipt as stored now, into r and rec (a resend stored new ones: the
 * entry's time is the new count's). */
static int
reload(struct wallet *w, struct row *r, struct ov_receipt *rec)
{
    sqlite3_stmt *st = NULL;
    struct ov_bytes json = { NULL, 0 };
    struct ov_receipt fresh;
    ov_receipt_init(&fresh);
    int rc = w_stmt(w, "act_hash_receipt", &st, "i", r->n);
    rc = rc == OV_DB_ROW ? 0 : rc < 0 ? rc : -OV_E_NOT_FOUND;
    rc = rc ? rc : ov_db_col_fixed(st, 0, r->hash, OV_HASH_LEN);
    rc = rc ? rc : ov_db_col_text(st, 1, OV_MAX_RECEIPT_LEN, &json);
    rc = rc ? rc : ov_receipt_parse(json, &fresh);
    rc = rc ? rc : memcmp(fresh.hash, r->hash, OV_HASH_LEN) == 0 ? 0 : -OV_E_MALFORMED;
    char *s = rc == 0 ? strndup((const char *)json.ptr, json.len) : NULL;
    ov_db_reset(st);
    rc = rc ? rc : s ? 0 : -OV_E_NOMEM;
    if (rc == 0) {
        free(r->receipt);
        r->receipt = s;
        ov_receipt_clear(rec);
        *rec = fresh;
    } else {
        free(s);
        ov_receipt_clear(&fresh);
    }
    return rc;
}

static const char *
kind_word(const struct row *r)
{
    return strncmp(r->what, "voted", 5) == 0   ? "vote"
           : strncmp(r->what, "rated", 5) == 0 ? "rating"
                                               : "statement";
}

/* The verifier answered that it does not know this counted action: it lost it (its database
 * restored from a backup older than the action, or lost before the action's epoch reached
 * the log). Sends the same signed bytes again by the same route (w_resend_lost): the token
 * spends once either way. Returns NULL when it is counted again and proven now (the check
 * goes on with *rec, the new receipt), else the verdict: "resent", "lost" (refused for good,
 * its reason in r->reason) or "not_proven" (no answer: again at the next check). */
static const char *
resend(struct wallet *w, struct row *r, struct ov_receipt *rec)
{
    struct ov_vclient_answer ans;
    int rc = w_resend_lost(w, r->n, &ans);
    rc = rc ? rc : reload(w, r, rec);
    if (rc == 0) {
        w_say(w, "the verifier had lost this %s (%s %s): sent again, the same signed %s, and "
              "counted%s", kind_word(r), r->context, r->what, kind_word(r),
              rec->status == OV_RECEIPT_PROVEN ? "" : "; its receipt is checked again later");
        return rec->status == OV_RECEIPT_PROVEN ? NULL : "resent";
    }
    if (rc == -OV_E_STATE) {
        snprintf(r->reason, sizeof r->reason, "%s", ans.reason[0] ? ans.reason : "refused");
        w_say(w, "the verifier had lost this %s (%s %s) and refused it when it was sent again "
              "(HTTP %u %s): it is not counted", kind_word(r), r->context, r->what, ans.status,
              r->reason);
        return "lost";
    }
    char why[96];
    if (ans.status != 0) {
        snprintf(why, sizeof why, "HTTP %u%s%s", ans.status, ans.reason[0] ? " " : "",
                 ans.reason);
    } else {
        snprintf(why, sizeof why, "%s", w_strerror(rc));
    }
    w_say(w, "the verifier had lost this %s (%s %s); it could not be sent again now (%s): it "
          "will be at the next check", kind_word(r), r->context, r->what, why);
    return "not_proven";
}

/* The verdict on one counted action: "ok", "not_proven", "resent" or "lost" (the verifier
 * had lost it: resend), or why it is not in the log. */
static const char *
check_one(struct wallet *w, struct ov_logproof *lp, struct ov_vclient *vc,
          struct ov_logreader_cp *latest, struct row *r, uint64_t *index)
{
    struct ov_receipt rec;
    struct ov_logreader_cfg cfg;
    struct ov_logreader_cp rcp;
    struct ov_entry e;
    const char *verdict = "ok";
    memset(&rcp, 0, sizeof rcp);
    w_log_cfg(w, &cfg);
    if (r->receipt == NULL || !r->has_hash ||
        ov_receipt_parse(OV_BYTES(r->receipt, strlen(r->receipt)), &rec) != 0) {
        return "bad_receipt";
    }
    if (memcmp(rec.hash, r->hash, OV_HASH_LEN) != 0) {
        ov_receipt_clear(&rec);
        return "bad_receipt";
    }
    if (rec.status != OV_RECEIPT_PROVEN && complete(w, vc, r, &rec) == -OV_E_NOT_FOUND) {
        verdict = resend(w, r, &rec);
        if (verdict != NULL) {
            ov_receipt_clear(&rec);
            (void)w_stmt(w, "act_receipt_checked", NULL, "uti", w_now(), verdict, r->n);
            return verdict;
        }
        verdict = "ok";
    }
    *index = rec.index;
    int rc = rec.status == OV_RECEIPT_PROVEN ? 0 : -OV_E_STATE;
    if (rc == 0) {
        rc = ov_receipt_check(&rec, &cfg, &e);
        if (rc == 0) {
            ov_entry_clear(&e);
            rc = ov_logreader_verify_note(&cfg, ov_buf_view(&rec.checkpoint), &rcp);
        }
        if (rc != 0) {
            verdict = "receipt_invalid";
        }
    } else {
        verdict = "not_proven";
    }
    if (rc == 0 && rcp.size > latest->size) {
        /* completed while this run waited (an epoch ended): a checkpoint newer than the one
         * the run took first, which is no sign of a rollback; take the latest again */
        ov_logreader_cp_clear(latest);
        if (w_checkpoint(w, lp, latest) != 0) {
            rc = -OV_E_HTTP;
            verdict = "log_unavailable";
        }
    }
    if (rc == 0) {
        rc = ov_logproof_consistency(lp, rcp.size, rcp.root, latest);
        if (rc == -OV_E_BAD_PROOF) {
            verdict = "log_inconsistent"; /* the log no longer extends the receipt's tree */
        } else if (rc != 0) {
            verdict = "log_unavailable";
        }
    }
    if (rc == 0) {
        rc = ov_logproof_inclusion(lp, latest, rec.index, rec.hash);
        verdict = rc == 0 ? "ok" : rc == -OV_E_BAD_PROOF || rc == -OV_E_RANGE ? "missing"
                                                                             : "log_unavailable";
    }
    ov_logreader_cp_clear(&rcp);
    ov_receipt_clear(&rec);
    (void)w_stmt(w, "act_receipt_checked", NULL, "uti", w_now(), verdict, r->n);
    return verdict;
}

/* Checks every receipt against the log. */
static int
receipts(struct wallet *w, void *ctx)
{
    struct ov_logreader_cfg cfg;
    struct ov_logproof *lp = NULL;
    struct ov_vclient *vc = NULL;
    struct ov_logreader_cp latest;
    struct row *rows = NULL;
    size_t n = 0, n_bad = 0, n_ok = 0;
    json_t *list = json_array();
    memset(&latest, 0, sizeof latest);
    w_log_cfg(w, &cfg);
    int rc = load_rows(w, &rows, &n);
    if (rc != 0) {
        w_fail(w, "bad_wallet", "cannot read the stored actions (%s)", ov_strerror(rc));
        goto out;
    }
    rc = ov_logproof_new(&cfg, &lp);
    rc = rc ? rc : w_checkpoint(w, lp, &latest);
    if (rc != 0) {
        goto out;
    }
    if (ov_vclient_new(w->verifier, &vc) != 0) {
        vc = NULL;
    }
    if (n > 1) {
        w_say(w, "checking every receipt at once shows the verifier and the log that these "
              "actions are one person's; `onevoice run` checks them one at a time, each at its "
              "own random moment");
    }
    for (size_t i = 0; i < n; i++) {
        struct row *r = &rows[i];
        const char *verdict = r->state;
        uint64_t index = 0;
        if (strcmp(r->state, "counted") == 0) {
            verdict = check_one(w, lp, vc, &latest, r, &index);
        }
        bool ok = strcmp(verdict, "ok") == 0;
        bool pending = strcmp(verdict, "not_proven") == 0 || strcmp(verdict, "sending") == 0 ||
                       strcmp(verdict, "refused") == 0 || strcmp(verdict, "log_unavailable") == 0 ||
                       strcmp(verdict, "resent") == 0;
        n_ok += ok;
        n_bad += !ok && !pending;
        if (!w->json) {
            printf("%-20s %-32s %s", r->context, r->what,
                   ok                                  ? "in the log"
                   : strcmp(verdict, "sending") == 0   ? "not confirmed: send it again"
                   : strcmp(verdict, "refused") == 0   ? "refused by the verifier"
                   : strcmp(verdict, "not_proven") == 0 ? "counted, not yet proven"
                   : strcmp(verdict, "resent") == 0
                       ? "the verifier had lost it: sent again, counted, not yet proven"
                   : strcmp(verdict, "log_unavailable") == 0 ? "could not be checked now"
                   : strcmp(verdict, "lost") == 0 ? "LOST BY THE VERIFIER, refused when sent again"
                                                  : "NO LONGER IN THE LOG");
            if (ok) {
                printf(" (index %llu, checkpoint size %llu)", (unsigned long long)index,
                       (unsigned long long)latest.size);
            } else if ((strcmp(verdict, "refused") == 0 || strcmp(verdict, "lost") == 0) &&
                       r->reason[0]) {
                printf(" (%s)", r->reason);
            } else if (!pending) {
                printf(" (%s)", verdict);
            }
            printf("\n");
        }
        json_t *o = json_pack("{ss ss ss}", "context", r->context, "action", r->what, "result",
                              verdict);
        if (ok) {
            json_object_set_new(o, "index", json_integer((json_int_t)index));
        }
        if (r->reason[0]) {
            json_object_set_new(o, "reason", json_string(r->reason));
        }
        json_array_append_new(list, o);
    }
    if (n_bad > 0) {
        w_fail(w, "not_in_log", "%zu action%s NO LONGER in the log: keep this wallet file, it "
               "holds the receipts that prove it", n_bad, n_bad == 1 ? " is" : "s are");
    } else if (!w->json) {
        printf("%zu receipt%s checked against the log's checkpoint of size %llu\n", n_ok,
               n_ok == 1 ? "" : "s", (unsigned long long)latest.size);
    }
    if (w->json) {
        if (w->out == NULL) {
            w->out = json_object();
        }
        json_object_set(w->out, "receipts", list);
        json_object_set_new(w->out, "checkpoint_size", json_integer((json_int_t)latest.size));
        json_object_set_new(w->out, "in_log", json_integer((json_int_t)n_ok));
        json_object_set_new(w->out, "not_in_log", json_integer((json_int_t)n_bad));
    }
out:
    json_decref(list);
    for (size_t i = 0; i < n; i++) {
        free(rows[i].receipt);
    }
    free(rows);
    ov_logreader_cp_clear(&latest);
    ov_vclient_free(vc);
    ov_logproof_free(lp);
    (void)ctx;
    return rc == 0 && n_bad == 0 ? W_EXIT_OK : W_EXIT_REFUSED;
}

int
w_receipt_check(struct wallet *w, int64_t n, const char **verdict, char *what, size_t what_max,
                uint64_t *index, char reason[64])
{
    struct ov_logreader_cfg cfg;
    struct ov_logproof *lp = NULL;
    struct ov_vclient *vc = NULL;
    struct ov_logreader_cp latest;
    struct row *rows = NULL, *r = NULL;
    size_t n_rows = 0;
    memset(&latest, 0, sizeof latest);
    *verdict = "log_unavailable";
    *index = 0;
    what[0] = 0;
    reason[0] = 0;
    w_log_cfg(w, &cfg);
    int rc = load_rows(w, &rows, &n_rows);
    for (size_t i = 0; rc == 0 && i < n_rows; i++) {
        r = rows[i].n == n ? &rows[i] : r;
    }
    rc = rc ? rc : r == NULL ? -OV_E_NOT_FOUND : 0;
    if (rc == 0) {
        snprintf(what, what_max, "%s %s", r->context, r->what);
        rc = ov_logproof_new(&cfg, &lp);
        rc = rc ? rc : w_checkpoint(w, lp, &latest);
    }
    if (rc == 0) {
        if (ov_vclient_new(w->verifier, &vc) != 0) {
            vc = NULL;
        }
        *verdict = check_one(w, lp, vc, &latest, r, index);
        snprintf(reason, 64, "%s", r->reason);
    }
    for (size_t i = 0; i < n_rows; i++) {
        free(rows[i].receipt);
    }
    free(rows);
    ov_logreader_cp_clear(&latest);
    ov_vclient_free(vc);
    ov_logproof_free(lp);
    return rc;
}

int
cmd_receipts(struct wallet *w, int argc, char **argv)
{
    static const struct w_cmd cmd = {
        "receipts", "",
        "Re-checks every stored receipt against the log's latest witnessed checkpoint: the\n"
        "receipt's own proof, the consistency of the latest checkpoint with the receipt's, and\n"
        "the entry's inclusion in the latest tree. Any action no longer in the log is\n"
        "reported, and the exit status is then 1. All at once, the checks tie your actions\n"
        "together for the verifier's and the log's operators: `onevoice run` checks each\n"
        "receipt on its own, at a random moment after its action was sent.",
        0,
    };
    struct w_opt opts[] = {
        { "--json", NULL, "answer as JSON", NULL, &w->json, NULL, NULL },
    };
    return w_command(w, argc, argv, &cmd, opts, 1, NULL, receipts, NULL);
}
