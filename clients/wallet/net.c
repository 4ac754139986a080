/* The wallet and the log: the head checkpoint (every new one must extend the last one seen)
 * and key transparency for contexts (an issuer's context is used only once its exact log
 * entry, token key included, is proven under a witnessed checkpoint; then it is pinned). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/codec.h"
#include "infra/httpc.h"
#include "protocol/issuerclient.h"
#include "wallet.h"

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

void
w_clock_hint(struct wallet *w, const char *url, const char *server)
{
    static bool said;
    char u[W_MAX_URL + 16];
    struct ov_httpc *h = NULL;
    struct ov_httpc_resp resp;
    uint64_t then = 0;
    if (said) {
        return;
    }
    said = true;
    memset(&resp, 0, sizeof resp);
    snprintf(u, sizeof u, "%.*s/healthz", (int)ov_httpc_base_len(url), url);
    int rc = ov_httpc_new(&h);
    rc = rc ? rc : ov_httpc_get(h, u, 64, &resp);
    rc = rc ? rc : ov_httpc_resp_date_ms(&resp, &then);
    uint64_t now = ov_now_ms();
    ov_httpc_resp_clear(&resp);
    ov_httpc_free(h);
    uint64_t off = rc == 0 ? (now > then ? now - then : then - now) : 0;
    if (rc == 0 && off >= 2000) { /* the Date header is to the second */
        w_say(w, "this computer's clock is about %llu s %s the %s's (it takes requests at most "
              "60 s off): fix this computer's clock (set the time automatically, NTP), then run "
              "the same command again", (unsigned long long)(off / 1000),
              now > then ? "ahead of" : "behind", server);
    } else {
        w_say(w, "the %s found this computer's clock more than 60 s off: fix this computer's "
              "clock (set the time automatically, NTP), then run the same command again",
              server);
    }
}

/* Keeps what a server showed that the log contradicts. */
static void
evidence(struct wallet *w, const char *kind, const char *context, const char *detail,
         const struct ov_buf *note)
{
    char *cp = strndup(note && note->ptr ? (const char *)note->ptr : "", note ? note->len : 0);
    int rc = cp ? w_stmt(w, "evidence_add", NULL, "ttttu", kind, context, detail, cp, w_now())
                : -OV_E_NOMEM;
    if (rc < 0) {
        w_say(w, "could not record the evidence in the wallet (%s)", ov_strerror(rc));
    }
    free(cp);
}

int
w_checkpoint(struct wallet *w, struct ov_logproof *lp, struct ov_logreader_cp *cp)
{
    struct ov_logproof_head head = { 0, { 0 } };
    sqlite3_stmt *st = NULL;
    int rc = w_stmt(w, "head_get", &st, "");
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_uint64(st, 0, &head.size);
        rc = rc ? rc : ov_db_col_fixed(st, 1, head.root, sizeof head.root);
    }
    ov_db_reset(st);
    if (rc < 0) {
        w_fail(w, "bad_wallet", "cannot read the wallet's last checkpoint (%s)", ov_strerror(rc));
        return rc;
    }
    rc = ov_logproof_checkpoint(lp, NULL, cp);
    if (rc == -OV_E_STATE) {
        w_fail(w, "no_quorum", "the log's checkpoint does not carry %u witness cosignature%s: "
               "refused", w->quorum, w->quorum == 1 ? "" : "s");
        return rc;
    } else if (rc == -OV_E_BAD_SIG) {
        w_fail(w, "bad_checkpoint", "the log's checkpoint is not signed by %s (or a witness "
               "cosignature is bad): refused", w->log_key.name);
        return rc;
    } else if (rc != 0) {
        w_fail(w, "log_unavailable", "cannot get a checkpoint from the log at %s (%s)", w->log,
               w_strerror(rc));
        return rc;
    }
    if (head.size > 0) {
        rc = ov_logproof_consistency(lp, head.size, head.root, cp);
        if (rc == -OV_E_BAD_PROOF) {
            char d[128];
            snprintf(d, sizeof d, "last seen size %llu; now size %llu",
                     (unsigned long long)head.size, (unsigned long long)cp->size);
            evidence(w, "log_inconsistent", "", d, &cp->note);
            w_fail(w, "log_forked", "ALARM: the log's checkpoint (size %llu) does not extend "
                   "the one this wallet saw before (size %llu): the log forked or rolled "
                   "back. Both are kept in the wallet file as evidence.",
                   (unsigned long long)cp->size, (unsigned long long)head.size);
        } else if (rc != 0) {
            w_fail(w, "log_unavailable", "the log did not prove its new checkpoint extends "
                   "the last one seen (%s)", w_strerror(rc));
        }
        if (rc != 0) {
            ov_logreader_cp_clear(cp);
            return rc;
        }
    }
    char *note = strndup((const char *)cp->note.ptr, cp->note.len);
    rc = note ? w_stmt(w, "head_set", NULL, "ubtu", cp->size, cp->root, (size_t)OV_HASH_LEN,
                       note, w_now())
              : -OV_E_NOMEM;
    free(note);
    if (rc < 0) {
        w_fail(w, "bad_wallet", "cannot store the checkpoint (%s)", ov_strerror(rc));
        ov_logreader_cp_clear(cp);
        return rc;
    }
    return 0;
}

/* What was decided for one listed context. */
enum verdict { V_NEW = 0, V_VERIFIED, V_WAITING, V_REFUSED };

struct listed {
    struct ov_issuer_context *c;
    enum verdict v;
    const char *reason;
};

/* The context's entry as the issuer describes it. */
static int
encode_context(const struct ov_issuer_context *c, struct ov_buf *out)
{
    struct ov_entry *e = calloc(1, sizeof *e);
    if (e == NULL) {
        ov_buf_init(out, 0);
        return -OV_E_NOMEM;
    }
    e->kind = OV_ENTRY_CONTEXT;
    e->u.context = c->def;
    int rc = ov_entry_encode(e, out);
    free(e);
    return rc;
}

/* Compares the listing with the pinned entry, if any: V_VERIFIED (same), V_REFUSED
 * (changed), V_NEW (never seen). */
static enum verdict
pinned(struct wallet *w, struct listed *l)
{
    sqlite3_stmt *st = NULL;
    struct ov_bytes e = { NULL, 0 };
    struct ov_buf enc;
    uint64_t idx = 0;
    enum verdict v = V_NEW;
    int rc = encode_context(l->c, &enc);
    if (rc != 0) {
        l->reason = "malformed";
        return V_REFUSED;
    }
    rc = w_stmt(w, "ctx_get", &st, "t", l->c->def.id);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_blob(st, 0, OV_MAX_ENTRY_LEN, &e);
        rc = rc ? rc : ov_db_col_uint64(st, 1, &idx);
        v = rc == 0 && e.len == enc.len && memcmp(e.ptr, enc.ptr, e.len) == 0 &&
                    idx == l->c->log_index
                ? V_VERIFIED
                : V_REFUSED;
        l->reason = v == V_REFUSED ? "changed" : NULL;
    }
    ov_db_reset(st);
    ov_buf_clear(&enc);
    return v;
}

/* Proves one context in the log and pins it. */
static enum verdict
prove(struct wallet *w, struct ov_logproof *lp, const struct ov_logreader_cp *cp,
      struct listed *l)
{
    struct ov_buf entry;
    int rc = ov_logproof_context(lp, cp, l->c, &entry);
    if (rc == -OV_E_RANGE) {
        return V_WAITING;
    }
    if (rc == 0) {
        rc = w_stmt(w, "ctx_put", NULL, "tbuuu", l->c->def.id, entry.ptr, entry.len,
                    l->c->log_index, cp->size, w_now());
        ov_buf_clear(&entry);
        if (rc < 0) {
            l->reason = "wallet_error";
            return V_REFUSED;
        }
        /* another run on this wallet may have pinned it meanwhile: the pin decides */
        return pinned(w, l);
    }
    l->reason = rc == -OV_E_BAD_PROOF  ? "not_in_log"
                : rc == -OV_E_MALFORMED ? "malformed"
                                        : "log_unavailable";
    return V_REFUSED;
}

static void
report_refusal(struct wallet *w, const struct listed *l, const struct ov_logreader_cp *cp)
{
    char kid[2 * OV_PP_NID + 1];
    if (ov_hex_encode(kid, sizeof kid, l->c->def.token_key_id, OV_PP_NID) != 0) {
        kid[0] = 0;
    }
    kid[16] = 0;
    if (strcmp(l->reason, "not_in_log") == 0 || strcmp(l->reason, "changed") == 0) {
        struct ov_buf j;
        ov_buf_init(&j, OV_MAX_ISSUER_LIST_LEN);
        if (ov_issuer_context_json(l->c, &j) != 0 || ov_buf_terminate(&j) != 0) {
            ov_buf_clear(&j);
        }
        evidence(w, strcmp(l->reason, "changed") == 0 ? "context_changed" : "key_not_in_log",
                 l->c->def.id, j.ptr ? (const char *)j.ptr : "", &cp->note);
        ov_buf_clear(&j);
    }
    if (strcmp(l->reason, "not_in_log") == 0) {
        w_say(w, "REFUSED context %s: the issuer shows token key %s..., but the log does not "
              "hold that context entry at index %llu under its witnessed checkpoint (size "
              "%llu). The wallet will not use this key (kept as evidence).",
              l->c->def.id, kid, (unsigned long long)l->c->log_index,
              (unsigned long long)cp->size);
    } else if (strcmp(l->reason, "changed") == 0) {
        w_say(w, "REFUSED context %s: the issuer now shows it with another entry or key "
              "(%s...) than the one this wallet verified in the log before (kept as evidence).",
              l->c->def.id, kid);
    } else if (strcmp(l->reason, "not_yet_logged") == 0) {
        w_say(w, "REFUSED context %s for now: no witnessed checkpoint covers its log entry "
              "(index %llu, checkpoint size %llu) yet; try again shortly.",
              l->c->def.id, (unsigned long long)l->c->log_index, (unsigned long long)cp->size);
    } else {
        w_say(w, "REFUSED context %s: it could not be checked against the log (%s).",
              l->c->def.id, l->reason);
    }
}

static json_t *
context_json(struct wallet *w, const struct listed *l)
{
    const struct ov_context *d = &l->c->def;
    json_t *o = json_object();
    json_t *sel = json_array();
    if (d->type == OV_CONTEXT_ASSEMBLY) {
        for (size_t i = 0; i < d->n_choices; i++) {
            json_array_append_new(sel, json_string(d->choices[i]));
        }
    } else {
        json_array_append_new(sel, json_integer(d->scale_min));
        json_array_append_new(sel, json_integer(d->scale_max));
    }
    json_object_set_new(o, "id", json_string(d->id));
    json_object_set_new(o, "title", json_string(d->title));
    json_object_set_new(o, "type", json_string(d->type == OV_CONTEXT_ASSEMBLY ? "assembly" : "rating"));
    json_object_set_new(o, d->type == OV_CONTEXT_ASSEMBLY ? "choices" : "scale", sel);
    if (w_is_statement_round(d)) { /* §11.3 */
        json_object_set_new(o, "rating_kind", json_string(w_kind_name(d->rating_kind)));
        json_object_set_new(o, "statements", json_integer((json_int_t)d->statements));
    }
    json_object_set_new(o, "opens", json_integer((json_int_t)d->opens));
    json_object_set_new(o, "closes", json_integer((json_int_t)d->closes));
    json_object_set_new(o, "quota", json_integer((json_int_t)d->quota));
    json_object_set_new(o, "log_index", json_integer((json_int_t)l->c->log_index));
    json_object_set_new(o, "verified", json_boolean(l->v == V_VERIFIED));
    if (l->v != V_VERIFIED) {
        json_object_set_new(o, "refused", json_string(l->reason ? l->reason : "unknown"));
    }
    sqlite3_stmt *st = NULL;
    int64_t ready = 0, pending = 0, spent = 0;
    if (w_stmt(w, "tok_count", &st, "t", d->id) == OV_DB_ROW) {
        if (ov_db_col_int64(st, 0, &ready) != 0 || ov_db_col_int64(st, 1, &pending) != 0 ||
            ov_db_col_int64(st, 2, &spent) != 0) {
            ready = pending = spent = 0;
        }
    }
    ov_db_reset(st);
    json_t *t = json_object();
    json_object_set_new(t, "ready", json_integer(ready));
    json_object_set_new(t, "pending", json_integer(pending));
    json_object_set_new(t, "spent", json_integer(spent));
    json_object_set_new(o, "tokens", t);
    return o;
}

int
w_sync_contexts(struct wallet *w, const char *only, struct w_context **out, size_t *n,
                size_t *n_refused, json_t *report)
{
    struct ov_issuerclient *ic = NULL;
    struct ov_issuer_context *list = NULL;
    struct ov_issuer_status ist = { 0, "", "" };
    struct ov_logproof *lp = NULL;
    struct ov_logreader_cfg cfg;
    struct ov_logreader_cp cp;
    struct listed *ls = NULL;
    size_t n_list = 0, n_found = 0;
    memset(&cp, 0, sizeof cp);
    *out = NULL;
    *n = 0;
    *n_refused = 0;
    w_log_cfg(w, &cfg);
    int rc = ov_issuerclient_new(w->issuer, &ic);
    rc = rc ? rc : ov_issuerclient_contexts(ic, &list, &n_list, &ist);
    if (rc != 0) {
        if (rc == -OV_E_HTTP && ist.status != 0) {
            w_fail(w, "issuer_refused", "the issuer at %s refused to list contexts (HTTP %u %s)",
                   w->issuer, ist.status, ist.reason);
        } else if (rc == -OV_E_HTTP) {
            w_fail(w, "issuer_unavailable", "the issuer at %s did not answer", w->issuer);
        } else {
            w_fail(w, "issuer_malformed", "the issuer's list of contexts is not valid (%s): "
                   "nothing was changed", w_strerror(rc));
        }
        goto out;
    }
    rc = ov_logproof_new(&cfg, &lp);
    rc = rc ? rc : w_checkpoint(w, lp, &cp);
    if (rc != 0) {
        goto out;
    }
    ls = calloc(n_list + 1, sizeof *ls);
    *out = calloc(n_list + 1, sizeof **out);
    if (ls == NULL || *out == NULL) {
        rc = -OV_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_list; i++) {
        ls[i].c = &list[i];
        if (!list[i].open || (only != NULL && strcmp(only, list[i].def.id) != 0)) {
            ls[i].v = V_REFUSED; /* not asked about: never reported */
            ls[i].c = NULL;
            continue;
        }
        n_found++;
        ls[i].v = pinned(w, &ls[i]);
        if (ls[i].v == V_NEW) {
            ls[i].v = prove(w, lp, &cp, &ls[i]);
        }
    }
    /* The issuer logs a context before it opens; a checkpoint covering it comes within the
     * log's publication interval. Wait a little for one rather than refuse. */
    for (int tries = 0; tries < 40; tries++) {
        bool waiting = false;
        for (size_t i = 0; i < n_list; i++) {
            waiting |= ls[i].c != NULL && ls[i].v == V_WAITING;
        }
        if (!waiting) {
            break;
        }
        sleep_ms(200);
        ov_logreader_cp_clear(&cp);
        rc = w_checkpoint(w, lp, &cp);
        if (rc != 0) {
            goto out;
        }
        for (size_t i = 0; i < n_list; i++) {
            if (ls[i].c != NULL && ls[i].v == V_WAITING) {
                ls[i].v = prove(w, lp, &cp, &ls[i]);
            }
        }
    }
    for (size_t i = 0; i < n_list; i++) {
        if (ls[i].c == NULL) {
            continue;
        }
        if (ls[i].v == V_WAITING) {
            ls[i].v = V_REFUSED;
            ls[i].reason = "not_yet_logged";
        }
        if (ls[i].v == V_REFUSED) {
            (*n_refused)++;
            report_refusal(w, &ls[i], &cp);
        } else {
            struct w_context *c = &(*out)[(*n)++];
            c->def = ls[i].c->def;
            c->log_index = ls[i].c->log_index;
            c->open = ls[i].c->open;
        }
        if (report != NULL) {
            json_array_append_new(report, context_json(w, &ls[i]));
        }
    }
    if (only != NULL && n_found == 0) {
        w_fail(w, "unknown_context", "the issuer lists no open context %s", only);
        rc = -OV_E_NOT_FOUND;
    }
out:
    if (rc != 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    free(ls);
    free(list);
    ov_logreader_cp_clear(&cp);
    ov_logproof_free(lp);
    ov_issuerclient_free(ic);
    return rc;
}
