/* onevoice receipt: exports one action's receipt, for the transparency page (or anyone) to
 * check against the log: the verifier's receipt JSON of docs/PROTOCOL.md §8, proven (with
 * its checkpoint and inclusion proof).
 *
 *   onevoice receipt CONTEXT              the vote in an assembly
 *   onevoice receipt CONTEXT TARGET       the rating of TARGET (a statement round: its id)
 *   onevoice receipt CONTEXT ID --statement   the statement ID that this wallet wrote
 *
 * A receipt stored without its proof yet is completed first from the verifier
 * (GET /receipts/<hex>?wait=proof, as `onevoice receipts` does) and stored; when the
 * verifier answers that it never counted the action (it lost it), the same signed action is
 * sent again first, as `receipts` and `run` do. The receipt is
 * checked offline before it is printed (the log's signature, the quorum of witness
 * cosignatures, the proof): a receipt this wallet would not trust is never exported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/receipt.h"
#include "protocol/verifierclient.h"
#include "wallet.h"

struct receipt_args {
    const char *context, *target, *out;
    bool statement;
};

struct action {
    int64_t n;
    char state[16];
    char reason[64];
    bool has_hash;
    uint8_t hash[OV_HASH_LEN];
    char *receipt; /* JSON, malloc'd */
};

/* The action asked for: the latest counted one for (context, target), else the latest. */
static int
find_action(struct wallet *w, const char *context, const char *target, struct action *a)
{
    sqlite3_stmt *st;
    struct ov_bytes v = { NULL, 0 };
    memset(a, 0, sizeof *a);
    int rc = w_stmt(w, "act_receipt_of", &st, "tt", context, target);
    if (rc != OV_DB_ROW) {
        return rc < 0 ? rc : -OV_E_NOT_FOUND;
    }
    rc = ov_db_col_int64(st, 0, &a->n);
    if (rc == 0 && ov_db_col_text(st, 1, sizeof a->state - 1, &v) == 0) {
        memcpy(a->state, v.ptr, v.len);
    }
    if (rc == 0 && !ov_db_col_is_null(st, 2) &&
        ov_db_col_text(st, 2, sizeof a->reason - 1, &v) == 0) {
        memcpy(a->reason, v.ptr, v.len);
    }
    if (rc == 0 && !ov_db_col_is_null(st, 3)) {
        rc = ov_db_col_fixed(st, 3, a->hash, OV_HASH_LEN);
        a->has_hash = rc == 0;
    }
    if (rc == 0 && !ov_db_col_is_null(st, 4)) {
        rc = ov_db_col_text(st, 4, OV_MAX_RECEIPT_LEN, &v);
        a->receipt = rc == 0 ? strndup((const char *)v.ptr, v.len) : NULL;
        rc = rc ? rc : a->receipt ? 0 : -OV_E_NOMEM;
    }
    ov_db_reset(st);
    return rc;
}

/* Completes a receipt without its proof from the verifier (waiting for the proof), and
 * stores what it gets. 0 with *rec proven, else -OV_E_STATE (no proof yet), -OV_E_NOT_FOUND
 * (the verifier answers 404 not_found: it lost the action) or the error. */
static int
complete(struct wallet *w, struct action *a, struct ov_receipt *rec)
{
    struct ov_vclient *vc = NULL;
    struct ov_receipt fresh;
    struct ov_vclient_answer ans;
    struct ov_buf json;
    ov_receipt_init(&fresh);
    memset(&ans, 0, sizeof ans);
    int rc = ov_vclient_new(w->verifier, &vc);
    rc = rc ? rc : ov_vclient_receipt(vc, a->hash, true, &fresh, &ans);
    ov_vclient_free(vc);
    if (rc != 0) {
        return w_verifier_lost(&ans) ? -OV_E_NOT_FOUND : rc;
    }
    if (fresh.status != OV_RECEIPT_PROVEN) {
        ov_receipt_clear(&fresh);
        return -OV_E_STATE;
    }
    rc = ov_receipt_format(&fresh, &json);
    char *s = rc == 0 ? strndup((const char *)json.ptr, json.len) : NULL;
    rc = rc ? rc : s ? 0 : -OV_E_NOMEM;
    if (rc == 0 && w_stmt(w, "act_receipt", NULL, "tuti", s, w_now(), "completed", a->n) >= 0) {
        free(a->receipt);
        a->receipt = s;
        s = NULL;
    }
    free(s);
    ov_buf_clear(&json);
    if (rc == 0) {
        ov_receipt_clear(rec);
        *rec = fresh;
    } else {
        ov_receipt_clear(&fresh);
    }
    return rc;
}

/* Writes the receipt: to stdout, or to path (atomically). */
static int
emit(struct wallet *w, const char *path, const char *receipt)
{
    size_t n = strlen(receipt);
    if (path == NULL) {
        if (w->json) {
            json_error_t err;
            json_decref(w->out);
            w->out = json_loads(receipt, 0, &err); /* printed by w_finish */
            return w->out ? 0 : -OV_E_NOMEM;
        }
        return printf("%s\n", receipt) < 0 || fflush(stdout) != 0 ? -OV_E_IO : 0;
    }
    char *line = malloc(n + 1);
    if (line == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(line, receipt, n);
    line[n] = '\n';
    int rc = ov_file_write_atomic(path, line, n + 1, 0600);
    free(line);
    if (rc == 0 && !w->json) {
        w_say(w, "receipt written to %s", path);
    }
    return rc;
}

/* The verifier lost this counted action (its database restored from an older backup, or
 * lost before the action's epoch reached the log): sends the same signed bytes again by the
 * first send's route (w_resend_lost, as `receipts` and `run` do), then completes the new
 * receipt. 0 with *rec proven; else the failure is said and the exit status returned. */
static int
resend(struct wallet *w, const struct receipt_args *args, const char *target,
       struct action *a, struct ov_receipt *rec)
{
    struct ov_vclient_answer ans;
    const char *kind = args->statement ? "statement" : args->target ? "rating" : "vote";
    int rc = w_resend_lost(w, a->n, &ans);
    if (rc == -OV_E_STATE) {
        w_fail(w, "lost", "the verifier had lost this %s and refused it when it was sent again "
               "(HTTP %u %s): it is not counted", kind, ans.status,
               ans.reason[0] ? ans.reason : "refused");
        return W_EXIT_REFUSED;
    }
    if (rc != 0) {
        w_fail(w, "not_proven", "the verifier had lost this %s, and it could not be sent again "
               "now (%s): try again later", kind,
               ans.status != 0 ? ans.reason : w_strerror(rc));
        return W_EXIT_REFUSED;
    }
    w_say(w, "the verifier had lost this %s: sent again, the same signed %s, and counted", kind,
          kind);
    free(a->receipt);
    ov_receipt_clear(rec);
    rc = find_action(w, args->context, target, a); /* its new hash and receipt */
    rc = rc ? rc : a->receipt == NULL ? -OV_E_STATE : 0;
    rc = rc ? rc : ov_receipt_parse(OV_BYTES(a->receipt, strlen(a->receipt)), rec);
    rc = rc ? rc : rec->status == OV_RECEIPT_PROVEN ? 0 : complete(w, a, rec);
    if (rc != 0) {
        w_fail(w, "not_proven", "sent again, but the receipt has no inclusion proof yet (%s): "
               "try again in a few seconds",
               rc == -OV_E_STATE ? "no checkpoint covers it yet" : w_strerror(rc));
        return W_EXIT_REFUSED;
    }
    return W_EXIT_OK;
}

static int
receipt(struct wallet *w, void *ctx)
{
    const struct receipt_args *args = ctx;
    char target[OV_MAX_LABEL_LEN + sizeof W_STATEMENT_TARGET];
    struct action a;
    struct ov_receipt rec;
    struct ov_logreader_cfg cfg;
    ov_receipt_init(&rec);
    snprintf(target, sizeof target, "%s%s", args->statement ? W_STATEMENT_TARGET : "",
             args->target ? args->target : "");
    int rc = find_action(w, args->context, target, &a);
    int status = W_EXIT_REFUSED;
    if (rc == -OV_E_NOT_FOUND) {
        w_fail(w, "no_action", "this wallet holds no %s in %s%s%s",
               args->statement ? "statement" : args->target ? "rating" : "vote", args->context,
               args->target ? " for " : "", args->target ? args->target : "");
        goto out;
    }
    if (rc != 0) {
        w_fail(w, "bad_wallet", "cannot read the stored actions (%s)", ov_strerror(rc));
        goto out;
    }
    if (strcmp(a.state, "refused") == 0) {
        w_fail(w, "refused", "that action was refused by the verifier (%s): it has no receipt",
               a.reason[0] ? a.reason : "no reason kept");
        goto out;
    }
    if (strcmp(a.state, "counted") != 0 || a.receipt == NULL || !a.has_hash) {
        w_fail(w, "not_counted", "that action is not confirmed yet: send it again (the same "
               "command) to get its receipt");
        goto out;
    }
    if (ov_receipt_parse(OV_BYTES(a.receipt, strlen(a.receipt)), &rec) != 0 ||
        memcmp(rec.hash, a.hash, OV_HASH_LEN) != 0) {
        w_fail(w, "bad_receipt", "the stored receipt is malformed");
        goto out;
    }
    rc = rec.status == OV_RECEIPT_PROVEN ? 0 : complete(w, &a, &rec);
    if (rc == -OV_E_NOT_FOUND) {
        if (resend(w, args, target, &a, &rec) != W_EXIT_OK) {
            goto out;
        }
        rc = 0;
    }
    if (rc != 0) {
        w_fail(w, "not_proven", "the receipt has no inclusion proof yet (%s): try again in a "
               "few seconds", rc == -OV_E_STATE ? "no checkpoint covers it yet" : w_strerror(rc));
        goto out;
    }
    w_log_cfg(w, &cfg);
    rc = ov_receipt_check(&rec, &cfg, NULL);
    if (rc != 0) {
        w_fail(w, "receipt_invalid", "the receipt does not verify against the log's key and "
               "witnesses (%s): not exported; `onevoice receipts` checks it against the log",
               ov_strerror(rc));
        goto out;
    }
    rc = emit(w, args->out, a.receipt);
    if (rc != 0) {
        w_fail(w, "io_error", "cannot write the receipt%s%s (%s)", args->out ? " to " : "",
               args->out ? args->out : "", ov_strerror(rc));
        goto out;
    }
    status = W_EXIT_OK;
out:
    ov_receipt_clear(&rec);
    free(a.receipt);
    return status;
}

int
cmd_receipt(struct wallet *w, int argc, char **argv)
{
    static const struct w_cmd cmd = {
        "receipt", "CONTEXT [TARGET]",
        "Prints the receipt of one action kept in this wallet, as the verifier gave it\n"
        "(docs/PROTOCOL.md §8: status, hash, entry, receipt, index, checkpoint, proof): the\n"
        "vote in CONTEXT, or the rating of TARGET; with --statement, TARGET is the id of a\n"
        "statement this wallet wrote. A receipt without its inclusion proof yet is completed\n"
        "from the verifier first (an action the verifier has lost is sent again, the same\n"
        "signed bytes), and every receipt is checked against the log's key and\n"
        "witnesses before it is printed. The transparency page (/web/ on the log) checks it\n"
        "in a browser. Exit status 1 when the wallet holds no such counted action, its proof\n"
        "is not there yet, or the verifier lost it and refused it when it was sent again.",
        1,
    };
    struct receipt_args args = { NULL, NULL, NULL, false };
    const char *pos[2] = { NULL, NULL };
    struct w_opt opts[] = {
        { "--statement", NULL, "TARGET is a statement this wallet wrote", NULL, &args.statement,
          NULL, NULL },
        { "--out", "FILE", "write the receipt to FILE (mode 0600) instead of stdout", &args.out,
          NULL, NULL, NULL },
        { "--json", NULL, "answer as JSON (the receipt itself, or the error)", NULL, &w->json,
          NULL, NULL },
    };
    int a = w_args_opt(argc, argv, &cmd, opts, sizeof opts / sizeof opts[0], pos, 1);
    if (a != 0) {
        return a > 0 ? W_EXIT_OK : W_EXIT_USAGE;
    }
    args.context = pos[0];
    args.target = pos[1];
    if (ov_context_id_check(args.context) != 0) {
        fprintf(stderr, "onevoice receipt: %s is not a context id\n", args.context);
        return W_EXIT_USAGE;
    }
    if (args.target != NULL && strlen(args.target) > OV_MAX_LABEL_LEN) {
        fprintf(stderr, "onevoice receipt: the target is longer than %u bytes\n",
                (unsigned)OV_MAX_LABEL_LEN);
        return W_EXIT_USAGE;
    }
    if (args.statement && args.target == NULL) {
        fprintf(stderr, "onevoice receipt: --statement needs the statement's id as TARGET\n");
        return W_EXIT_USAGE;
    }
    return w_run(w, receipt, &args);
}
