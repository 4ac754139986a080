/* report: the JSON report (streamed: a log with millions of violations or rated targets
 * needs no memory for it) and the human summary.
 *
 * JSON report (every key always present):
 *   ok               false when anything is wrong (the exit status is then 1) or a draw
 *                    could not be verified (exit status 3 if nothing is wrong)
 *   unverified       the number of draws whose pool file was not available
 *   log              {url, origin, vkey, witnesses, quorum}
 *   checkpoint       the latest checkpoint verified and read: {size, root (base64), note,
 *                    cosignatures}, or null
 *   read             this run: {from, to, entries, seconds, entries_per_second, verified
 *                    (false when a problem or fork this run left the tree served unverified)}
 *   clock            what decides a missing tally: {entries (the latest entry time),
 *                    witnesses (the time a quorum of trusted witnesses cosigned), tally_grace}
 *   given            checkpoints from --checkpoints: {read, ignored (not signed by the log)}
 *   entries          entries by kind ({context, enrollment, ..., malformed}) and enrollments
 *                    by route, over the whole log read
 *   contexts         [{id, title, type, index, opens, closes, quota, token_key_id (base64url),
 *                    issuances, tags, tokens, actions, recount: {size, algorithm, result},
 *                    tallies: [{index, size, ok}]}]; result as in a tally entry; a statement
 *                    round (§11.3) also has rating_kind, statements, and in each tally
 *                    `results`: what the auditor recomputed {seed (hex; seed_verified: false
 *                    when the state does not know the tree), statements, ratings (counted),
 *                    min_ratings_per_rater, min_raters_per_note, bridging, groups (hex result
 *                    hashes), helpful, not_helpful, sizes, consensus, ok}
 *   draws            [{id, title, pool_index, draw_index (null: none yet), pool (hex SHA-256
 *                    of the pool file), members, panel, reserves, reveal_by, parties,
 *                    revealed, seed (hex, of the reveals; null until every party revealed),
 *                    verdict ("pending", "verified", "failed", "unverifiable", "void"),
 *                    pool_file (the file read, or null), detail}] (sortition.h)
 *   violations       [{rule, index (null for the log's own), context, detail, new}], log-level
 *                    ones first, then by entry index
 *   forks            [{detail, new, saved: {size, root, note, file}, new_checkpoint: {...}}]
 *   state            the state directory, or null (a temporary one)
 *   peak_rss_bytes   the auditor's peak resident memory */
#include "audit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>

#include "base/codec.h"
#include "rules_ids.h"
#include "sortition.h"
#include "store.h"

static uint64_t
peak_rss(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t)ru.ru_maxrss * 1024u : 0;
}

static uint64_t
count_rows(struct audit *a, const char *stmt)
{
    sqlite3_stmt *st = ov_db_stmt(a->db, stmt);
    uint64_t n = 0;
    if (ov_db_step(st) == OV_DB_ROW && ov_db_col_uint64(st, 0, &n) != 0) {
        n = 0;
    }
    ov_db_reset(st);
    return n;
}

size_t
audit_unverified(struct audit *a)
{
    const struct audit_draw *d;
    size_t n = audit_sort_draws(audit_rules_sort(a->rules), &d), k = 0;
    for (size_t i = 0; i < n; i++) {
        k += d[i].verdict == AUDIT_DRAW_UNVERIFIABLE;
    }
    return k;
}

bool
audit_failed(struct audit *a)
{
    const struct audit_standing *s;
    return a->n_problems > 0 || audit_rules_standing(a->rules, &s) > 0 ||
           count_rows(a, "violation_count") > 0 || count_rows(a, "fork_count") > 0;
}

/* Writes v compactly and frees it. */
static void
put(FILE *f, json_t *v)
{
    if (v != NULL) {
        json_dumpf(v, f, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(v);
    } else {
        fputs("null", f);
    }
}

/* A root hash in base64, as the checkpoint's note has it; a key id in base64url without
 * padding, as every other onevoice tool and the verifier's /contexts print it. */
static json_t *
b64(const uint8_t *p, size_t n, enum ov_b64 v)
{
    char s[128];
    return ov_b64_encode(s, sizeof s, p, n, v) == 0 ? json_string(s) : json_null();
}

static json_t *
checkpoint_json(struct audit *a, uint64_t size, const uint8_t *root, const char *note,
                size_t note_len, bool with_file)
{
    json_t *o = json_object();
    json_object_set_new(o, "size", json_integer((json_int_t)size));
    json_object_set_new(o, "root", b64(root, OV_HASH_LEN, OV_B64_STD));
    json_object_set_new(o, "note", json_stringn(note, note_len));
    if (with_file && !a->temp_dir) {
        char hex[2 * OV_HASH_LEN + 1], path[AUDIT_DIR_MAX + 128];
        if (ov_hex_encode(hex, sizeof hex, root, OV_HASH_LEN) == 0) {
            snprintf(path, sizeof path, "%s/checkpoints/%llu-%s.txt", a->dir,
                     (unsigned long long)size, hex);
            json_object_set_new(o, "file", json_string(path));
        }
    }
    return o;
}

struct stream {
    FILE *f;
    bool ratings, first;
};

static int
put_count(void *arg, const char *name, uint64_t count, int64_t sum)
{
    struct stream *s = arg;
    fputs(s->first ? "" : ",", s->f);
    s->first = false;
    put(s->f, json_string(name));
    if (s->ratings) {
        fprintf(s->f, ":[%llu,%lld]", (unsigned long long)count, (long long)sum);
    } else {
        fprintf(s->f, ":%llu", (unsigned long long)count);
    }
    return 0;
}

static uint64_t
read_size(const struct audit *a)
{
    return ov_logreader_size(a->reader);
}

static int
put_context(struct audit *a, FILE *f, const struct audit_ctx *x)
{
    const struct ov_context *c = &x->c;
    bool ratings = c->type == OV_CONTEXT_RATING;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "title", json_string(c->title));
    json_object_set_new(o, "type", json_string(ratings ? "rating" : "assembly"));
    json_object_set_new(o, "index", json_integer((json_int_t)x->index));
    json_object_set_new(o, "opens", json_integer((json_int_t)c->opens));
    json_object_set_new(o, "closes", json_integer((json_int_t)c->closes));
    json_object_set_new(o, "quota", json_integer((json_int_t)c->quota));
    json_object_set_new(o, "token_key_id", b64(c->token_key_id, OV_PP_NID, OV_B64_URL_NOPAD));
    json_object_set_new(o, "issuances", json_integer((json_int_t)x->issuances));
    json_object_set_new(o, "tokens", json_integer((json_int_t)x->tokens));
    json_object_set_new(o, "actions", json_integer((json_int_t)x->actions));
    json_object_set_new(o, "tags", json_integer((json_int_t)x->tags));
    if (ratings && c->rating_kind != OV_RATING_SCALE) {
        json_object_set_new(o, "rating_kind", json_string(c->rating_kind == OV_RATING_HELPFULNESS
                                                              ? "helpfulness"
                                                              : "agreement"));
        json_object_set_new(o, "statements", json_integer((json_int_t)c->statements));
    }
    json_t *tallies = json_array();
    sqlite3_stmt *st = ov_db_stmt(a->db, "tally_list");
    int rc = ov_db_bind_int64(st, 1, x->n);
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        uint64_t idx, size;
        int64_t ok;
        rc = ov_db_col_uint64(st, 0, &idx);
        rc = rc ? rc : ov_db_col_uint64(st, 1, &size);
        rc = rc ? rc : ov_db_col_int64(st, 2, &ok);
        if (rc == 0) {
            json_t *t = json_pack("{s:I,s:I,s:b}", "index", (json_int_t)idx, "size",
                                  (json_int_t)size, "ok", ok != 0);
            struct ov_bytes res;
            if (t != NULL && !ov_db_col_is_null(st, 3) &&
                ov_db_col_text(st, 3, OV_MAX_ENTRY_LEN * 2, &res) == 0) {
                json_t *v = json_loadb((const char *)res.ptr, res.len, 0, NULL);
                if (v != NULL) {
                    json_object_set_new(t, "results", v);
                }
            }
            json_array_append_new(tallies, t);
        }
    }
    ov_db_reset(st);
    json_object_set_new(o, "tallies", tallies);
    /* everything but the recount, whose result is streamed */
    char *head = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (head == NULL || rc != 0) {
        free(head);
        return rc ? rc : -OV_E_NOMEM;
    }
    fwrite(head, 1, strlen(head) - 1, f); /* without its closing brace */
    free(head);
    fprintf(f, ",\"recount\":{\"size\":%llu,\"algorithm\":\"%s\",\"result\":{",
            (unsigned long long)read_size(a), ratings ? OV_TALLY_RATINGS : OV_TALLY_PLURALITY);
    struct stream s = { f, ratings, true };
    rc = audit_rules_recount(a->rules, x, read_size(a), put_count, &s);
    fputs("}}}", f);
    return rc;
}

static json_t *
hex_json(const uint8_t *p, size_t n)
{
    char s[2 * 32 + 1];
    return n <= 32 && ov_hex_encode(s, sizeof s, p, n) == 0 ? json_string(s) : json_null();
}

/* Text that may not be valid UTF-8 (a path given by the user): null then. */
static json_t *
text_json(const char *s)
{
    json_t *t = s[0] ? json_string(s) : NULL;
    return t ? t : json_null();
}

static json_t *
draw_json(const struct audit_draw *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(d->id));
    json_object_set_new(o, "title", json_string(d->title));
    json_object_set_new(o, "pool_index", json_integer((json_int_t)d->pool_index));
    json_object_set_new(o, "draw_index", d->draw_index == AUDIT_NO_INDEX
                                             ? json_null()
                                             : json_integer((json_int_t)d->draw_index));
    json_object_set_new(o, "pool", hex_json(d->pool, 32));
    json_object_set_new(o, "members", json_integer((json_int_t)d->members));
    json_object_set_new(o, "panel", json_integer((json_int_t)d->panel));
    json_object_set_new(o, "reserves", json_integer((json_int_t)d->reserves));
    json_object_set_new(o, "reveal_by", json_integer((json_int_t)d->reveal_by));
    json_object_set_new(o, "parties", json_integer((json_int_t)d->parties));
    json_object_set_new(o, "revealed", json_integer((json_int_t)d->revealed));
    json_object_set_new(o, "seed", d->seed_known ? hex_json(d->seed, 32) : json_null());
    json_object_set_new(o, "verdict", json_string(audit_draw_verdicts[d->verdict]));
    json_object_set_new(o, "pool_file", text_json(d->source));
    json_object_set_new(o, "detail", text_json(d->detail));
    return o;
}

static void
put_violation(FILE *f, bool *first, const char *rule, bool has_index, uint64_t index,
              const char *ctx, const char *detail, bool fresh)
{
    json_t *o = json_object();
    json_object_set_new(o, "rule", json_string(rule));
    json_object_set_new(o, "index", has_index ? json_integer((json_int_t)index) : json_null());
    json_object_set_new(o, "context", ctx ? json_string(ctx) : json_null());
    json_t *d = json_string(detail);
    json_object_set_new(o, "detail", d ? d : json_string("(detail not valid UTF-8)"));
    json_object_set_new(o, "new", json_boolean(fresh));
    fputs(*first ? "\n  " : ",\n  ", f);
    *first = false;
    put(f, o);
}

/* Calls fn for every stored fork. */
typedef void (*fork_fn)(struct audit *a, void *arg, uint64_t old_size, const uint8_t *old_root,
                        struct ov_bytes old_note, uint64_t new_size, const uint8_t *new_root,
                        struct ov_bytes new_note, const char *detail, bool fresh);

static int
each_fork(struct audit *a, fork_fn fn, void *arg)
{
    sqlite3_stmt *st = ov_db_stmt(a->db, "fork_all");
    int rc;
    while ((rc = ov_db_step(st)) == OV_DB_ROW) {
        uint64_t os, ns;
        uint8_t orr[OV_HASH_LEN], nr[OV_HASH_LEN];
        struct ov_bytes on, nn, d;
        int64_t run;
        rc = ov_db_col_uint64(st, 0, &os);
        rc = rc ? rc : ov_db_col_fixed(st, 1, orr, OV_HASH_LEN);
        rc = rc ? rc : ov_db_col_text(st, 2, OV_NOTE_MAX_LEN, &on);
        rc = rc ? rc : ov_db_col_uint64(st, 3, &ns);
        rc = rc ? rc : ov_db_col_fixed(st, 4, nr, OV_HASH_LEN);
        rc = rc ? rc : ov_db_col_text(st, 5, OV_NOTE_MAX_LEN, &nn);
        rc = rc ? rc : ov_db_col_text(st, 6, 1024, &d);
        rc = rc ? rc : ov_db_col_int64(st, 7, &run);
        if (rc != 0) {
            break;
        }
        char detail[1025];
        memcpy(detail, d.ptr, d.len);
        detail[d.len] = 0;
        fn(a, arg, os, orr, on, ns, nr, nn, detail, run == a->run);
    }
    ov_db_reset(st);
    return rc;
}

struct fork_out {
    FILE *f;
    bool first;
};

static void
fork_violation_out(struct audit *a, void *arg, uint64_t os, const uint8_t *orr,
                   struct ov_bytes on, uint64_t ns, const uint8_t *nr, struct ov_bytes nn,
                   const char *detail, bool fresh)
{
    struct fork_out *o = arg;
    (void)a, (void)os, (void)orr, (void)on, (void)ns, (void)nr, (void)nn;
    put_violation(o->f, &o->first, R_FORK, false, 0, NULL, detail, fresh);
}

static void
fork_object(struct audit *a, void *arg, uint64_t os, const uint8_t *orr, struct ov_bytes on,
            uint64_t ns, const uint8_t *nr, struct ov_bytes nn, const char *detail, bool fresh)
{
    struct fork_out *o = arg;
    json_t *j = json_object();
    json_object_set_new(j, "detail", json_string(detail));
    json_object_set_new(j, "new", json_boolean(fresh));
    json_object_set_new(j, "saved",
                        checkpoint_json(a, os, orr, (const char *)on.ptr, on.len, true));
    json_object_set_new(j, "new_checkpoint",
                        checkpoint_json(a, ns, nr, (const char *)nn.ptr, nn.len, true));
    fputs(o->first ? "\n  " : ",\n  ", o->f);
    o->first = false;
    put(o->f, j);
}

static int
put_violations(struct audit *a, FILE *f)
{
    bool first = true;
    for (size_t i = 0; i < a->n_problems; i++) {
        put_violation(f, &first, a->problems[i].rule, false, 0, NULL, a->problems[i].detail,
                      true);
    }
    struct fork_out fo = { f, first };
    int rc = each_fork(a, fork_violation_out, &fo);
    first = fo.first;
    sqlite3_stmt *st = ov_db_stmt(a->db, "violation_all");
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        uint64_t idx = 0;
        struct ov_bytes rule, ctx = { NULL, 0 }, detail;
        int64_t run;
        bool has_idx = !ov_db_col_is_null(st, 0), has_ctx = !ov_db_col_is_null(st, 2);
        rc = has_idx ? ov_db_col_uint64(st, 0, &idx) : 0;
        rc = rc ? rc : ov_db_col_text(st, 1, 64, &rule);
        rc = rc ? rc : (has_ctx ? ov_db_col_text(st, 2, OV_MAX_CONTEXT_ID_LEN, &ctx) : 0);
        rc = rc ? rc : ov_db_col_text(st, 3, AUDIT_DETAIL_MAX, &detail);
        rc = rc ? rc : ov_db_col_int64(st, 4, &run);
        if (rc != 0) {
            break;
        }
        char r[65], c[OV_MAX_CONTEXT_ID_LEN + 1], d[AUDIT_DETAIL_MAX + 1];
        memcpy(r, rule.ptr, rule.len);
        r[rule.len] = 0;
        if (has_ctx) {
            memcpy(c, ctx.ptr, ctx.len);
        }
        c[ctx.len] = 0;
        memcpy(d, detail.ptr, detail.len);
        d[detail.len] = 0;
        put_violation(f, &first, r, has_idx, idx, has_ctx ? c : NULL, d, run == a->run);
    }
    ov_db_reset(st);
    const struct audit_standing *s;
    size_t ns = audit_rules_standing(a->rules, &s);
    for (size_t i = 0; i < ns; i++) {
        put_violation(f, &first, s[i].rule, s[i].index != AUDIT_NO_INDEX, s[i].index,
                      s[i].ctx ? s[i].ctx->c.id : s[i].id, s[i].detail, true);
    }
    fputs(first ? "]" : "\n]", f);
    return rc;
}

static int
write_report(struct audit *a, FILE *f)
{
    json_t *head = json_object();
    json_object_set_new(head, "ok", json_boolean(!audit_failed(a) && audit_unverified(a) == 0));
    json_object_set_new(head, "unverified", json_integer((json_int_t)audit_unverified(a)));
    json_object_set_new(head, "log",
                        json_pack("{s:s,s:s,s:s,s:I,s:I}", "url", a->cfg.url, "origin",
                                  a->cfg.log_key.name, "vkey", a->cfg.vkey, "witnesses",
                                  (json_int_t)a->cfg.n_witnesses, "quorum",
                                  (json_int_t)a->cfg.quorum));
    if (a->have_cp) {
        json_t *cp = checkpoint_json(a, a->cp.size, a->cp.root, (const char *)a->cp.note.ptr,
                                     a->cp.note.len, false);
        json_object_set_new(cp, "cosignatures", json_integer(a->cp.n_cosigned));
        json_object_set_new(head, "checkpoint", cp);
    } else {
        json_object_set_new(head, "checkpoint", json_null());
    }
    double rate = a->read_seconds > 0 ? (double)a->read_entries / a->read_seconds : 0;
    json_object_set_new(head, "read",
                        json_pack("{s:I,s:I,s:I,s:f,s:f,s:b}", "from", (json_int_t)a->first_size,
                                  "to", (json_int_t)read_size(a), "entries",
                                  (json_int_t)a->read_entries, "seconds", a->read_seconds,
                                  "entries_per_second", rate, "verified", !a->tree_unverified));
    uint64_t ce, cw, grace;
    audit_rules_clock(a->rules, &ce, &cw, &grace);
    json_object_set_new(head, "clock", json_pack("{s:I,s:I,s:I}", "entries", (json_int_t)ce,
                                                 "witnesses", (json_int_t)cw, "tally_grace",
                                                 (json_int_t)grace));
    json_object_set_new(head, "given", json_pack("{s:I,s:I}", "read",
                                                 (json_int_t)a->gossip_read, "ignored",
                                                 (json_int_t)a->gossip_ignored));
    json_t *counts = json_object();
    const uint64_t *n = audit_rules_counts(a->rules);
    for (int i = 0; i < AUDIT_N_COUNTS; i++) {
        json_object_set_new(counts, audit_count_names[i], json_integer((json_int_t)n[i]));
    }
    json_object_set_new(head, "entries", counts);
    json_object_set_new(head, "state", a->temp_dir ? json_null() : json_string(a->dir));
    json_object_set_new(head, "peak_rss_bytes", json_integer((json_int_t)peak_rss()));
    char *h = json_dumps(head, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(head);
    if (h == NULL) {
        return -OV_E_NOMEM;
    }
    size_t hl = strlen(h);
    while (hl > 0 && h[hl - 1] != '}') {
        hl--;
    }
    hl = hl > 0 ? hl - 1 : 0;
    while (hl > 0 && (h[hl - 1] == '\n' || h[hl - 1] == ' ')) {
        hl--;
    }
    fwrite(h, 1, hl, f); /* the object left open */
    free(h);
    fputs(",\n \"contexts\": [", f);
    int rc = 0;
    for (size_t i = 0; i < audit_rules_n_contexts(a->rules) && rc == 0; i++) {
        fputs(i ? ",\n  " : "\n  ", f);
        rc = put_context(a, f, audit_rules_context(a->rules, i));
    }
    fputs(audit_rules_n_contexts(a->rules) ? "\n ]" : "]", f);
    fputs(",\n \"draws\": [", f);
    const struct audit_draw *d;
    size_t nd = audit_sort_draws(audit_rules_sort(a->rules), &d);
    for (size_t i = 0; i < nd; i++) {
        fputs(i ? ",\n  " : "\n  ", f);
        put(f, draw_json(&d[i]));
    }
    fputs(nd ? "\n ],\n \"violations\": [" : "],\n \"violations\": [", f);
    rc = rc ? rc : put_violations(a, f);
    fputs(",\n \"forks\": [", f);
    struct fork_out fo = { f, true };
    rc = rc ? rc : each_fork(a, fork_object, &fo);
    fputs(fo.first ? "]\n}\n" : "\n ]\n}\n", f);
    return rc;
}

int
audit_report_json(struct audit *a, const char *path)
{
    char tmp[4200];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        return -OV_E_TOO_BIG;
    }
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        fprintf(stderr, "onevoice-audit: cannot write %s\n", tmp);
        return -OV_E_IO;
    }
    int rc = write_report(a, f);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        rc = rc ? rc : -OV_E_IO;
    }
    if (fclose(f) != 0) {
        rc = rc ? rc : -OV_E_IO;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -OV_E_IO;
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-audit: cannot write the report %s: %s\n", path, ov_strerror(rc));
        (void)remove(tmp);
    }
    return rc;
}

/* ------------------------------------------------------------------ the summary */

#define SUMMARY_MAX 20

struct text_count {
    FILE *f;
    size_t n;
    bool ratings;
};

static int
text_count(void *arg, const char *name, uint64_t count, int64_t sum)
{
    struct text_count *t = arg;
    if (t->n < 12) {
        if (t->ratings) {
            fprintf(t->f, "%s%s [%llu, %lld]", t->n ? ", " : "", name, (unsigned long long)count,
                    (long long)sum);
        } else {
            fprintf(t->f, "%s%s %llu", t->n ? ", " : "", name, (unsigned long long)count);
        }
    } else if (t->n == 12) {
        fputs(", ...", t->f);
    }
    t->n++;
    return 0;
}

static void
fork_text(struct audit *a, void *arg, uint64_t os, const uint8_t *orr, struct ov_bytes on,
          uint64_t ns, const uint8_t *nr, struct ov_bytes nn, const char *detail, bool fresh)
{
    FILE *f = arg;
    (void)a, (void)orr, (void)on, (void)nr, (void)nn;
    fprintf(f, "  FORK%s: %s (checkpoints of size %llu and %llu, both kept as evidence)\n",
            fresh ? "" : " (seen before)", detail, (unsigned long long)os, (unsigned long long)ns);
}

void
audit_report_text(struct audit *a, FILE *f)
{
    fprintf(f, "log %s at %s\n", a->cfg.log_key.name, a->cfg.url);
    if (a->have_cp) {
        char root[64];
        if (ov_b64_encode(root, sizeof root, a->cp.root, OV_HASH_LEN, OV_B64_STD) != 0) {
            root[0] = 0;
        }
        fprintf(f, "checkpoint: size %llu, root %s; log signature ok; %u of %zu witness "
                "cosignatures (quorum %u)\n", (unsigned long long)a->cp.size, root,
                a->cp.n_cosigned, a->cfg.n_witnesses, a->cfg.quorum);
    }
    fprintf(f, "read: entries [%llu, %llu), %llu new, in %.2f s; %s\n",
            (unsigned long long)a->first_size, (unsigned long long)read_size(a),
            (unsigned long long)a->read_entries, a->read_seconds,
            a->tree_unverified ? "the log served could NOT be verified in this run (below)"
                               : "every bundle and tile matches the signed tree");
    if (a->gossip_read + a->gossip_ignored > 0) {
        fprintf(f, "checkpoints given: %llu checked against the log, %llu ignored (not signed "
                "by the log)\n", (unsigned long long)a->gossip_read,
                (unsigned long long)a->gossip_ignored);
    }
    const uint64_t *n = audit_rules_counts(a->rules);
    fprintf(f, "entries: %llu contexts, %llu enrollments, %llu issuances, %llu actions, "
            "%llu statements, %llu tallies, %llu malformed\n",
            (unsigned long long)n[AUDIT_N_CONTEXT], (unsigned long long)n[AUDIT_N_ENROLLMENT],
            (unsigned long long)n[AUDIT_N_ISSUANCE], (unsigned long long)n[AUDIT_N_ACTION],
            (unsigned long long)n[AUDIT_N_STATEMENT], (unsigned long long)n[AUDIT_N_TALLY],
            (unsigned long long)n[AUDIT_N_MALFORMED]);
    if (n[AUDIT_N_SORT_COMMIT] + n[AUDIT_N_SORT_POOL] + n[AUDIT_N_SORT_REVEAL] +
        n[AUDIT_N_SORT_DRAW] > 0) {
        fprintf(f, "draws: %llu commitments, %llu pools, %llu reveals, %llu draws\n",
                (unsigned long long)n[AUDIT_N_SORT_COMMIT],
                (unsigned long long)n[AUDIT_N_SORT_POOL],
                (unsigned long long)n[AUDIT_N_SORT_REVEAL],
                (unsigned long long)n[AUDIT_N_SORT_DRAW]);
    }
    size_t nc = audit_rules_n_contexts(a->rules);
    for (size_t i = 0; i < nc && i < SUMMARY_MAX; i++) {
        const struct audit_ctx *x = audit_rules_context(a->rules, i);
        bool ratings = x->c.type == OV_CONTEXT_RATING;
        fprintf(f, "  %s (%s, entry %llu): %llu issuances, %llu tokens, %llu actions; recount: ",
                x->c.id, ratings ? "rating round" : "assembly", (unsigned long long)x->index,
                (unsigned long long)x->issuances, (unsigned long long)x->tokens,
                (unsigned long long)x->actions);
        struct text_count t = { f, 0, ratings };
        if (audit_rules_recount(a->rules, x, read_size(a), text_count, &t) != 0 || t.n == 0) {
            fputs("nothing", f);
        }
        fputc('\n', f);
    }
    if (nc > SUMMARY_MAX) {
        fprintf(f, "  ... and %zu more contexts (see --json)\n", nc - SUMMARY_MAX);
    }
    const struct audit_draw *d;
    size_t nd = audit_sort_draws(audit_rules_sort(a->rules), &d);
    for (size_t i = 0; i < nd && i < SUMMARY_MAX; i++) {
        fprintf(f, "  draw %s (pool entry %llu): %s: %s\n", d[i].id,
                (unsigned long long)d[i].pool_index,
                d[i].verdict == AUDIT_DRAW_UNVERIFIABLE ? "NOT VERIFIABLE"
                                                         : audit_draw_verdicts[d[i].verdict],
                d[i].detail);
    }
    if (nd > SUMMARY_MAX) {
        fprintf(f, "  ... and %zu more draws (see --json)\n", nd - SUMMARY_MAX);
    }
    uint64_t nv = count_rows(a, "violation_count");
    const struct audit_standing *s;
    size_t ns = audit_rules_standing(a->rules, &s);
    uint64_t total = nv + ns + a->n_problems + count_rows(a, "fork_count");
    fprintf(f, "violations: %llu (%llu new in this run)\n", (unsigned long long)total,
            (unsigned long long)(audit_rules_new_violations(a->rules) + ns + a->n_problems +
                                 a->new_forks));
    for (size_t i = 0; i < a->n_problems; i++) {
        fprintf(f, "  %s: %s\n", a->problems[i].rule, a->problems[i].detail);
    }
    (void)each_fork(a, fork_text, f);
    sqlite3_stmt *st = ov_db_stmt(a->db, "violation_all");
    size_t shown = 0;
    int rc;
    while (shown < SUMMARY_MAX && (rc = ov_db_step(st)) == OV_DB_ROW) {
        uint64_t idx = 0;
        struct ov_bytes rule, detail;
        bool has_idx = !ov_db_col_is_null(st, 0);
        if ((has_idx && ov_db_col_uint64(st, 0, &idx) != 0) ||
            ov_db_col_text(st, 1, 64, &rule) != 0 ||
            ov_db_col_text(st, 3, AUDIT_DETAIL_MAX, &detail) != 0) {
            break;
        }
        if (has_idx) {
            fprintf(f, "  entry %llu %.*s: %.*s\n", (unsigned long long)idx, (int)rule.len,
                    (const char *)rule.ptr, (int)detail.len, (const char *)detail.ptr);
        } else {
            fprintf(f, "  %.*s: %.*s\n", (int)rule.len, (const char *)rule.ptr, (int)detail.len,
                    (const char *)detail.ptr);
        }
        shown++;
    }
    ov_db_reset(st);
    if (nv > shown) {
        fprintf(f, "  ... and %llu more (see --json)\n", (unsigned long long)(nv - shown));
    }
    for (size_t i = 0; i < ns; i++) {
        fprintf(f, "  entry %llu %s: %s\n", (unsigned long long)s[i].index, s[i].rule,
                s[i].detail);
    }
    size_t nu = audit_unverified(a);
    if (total == 0 && nu > 0) {
        fprintf(f, "result: NOT VERIFIED: no violation found, but %zu draw%s could not be "
                "checked without its pool file\n", nu, nu == 1 ? "" : "s");
        return;
    }
    fprintf(f, "result: %s\n", total ? "VIOLATIONS FOUND" : "no violation: the count can be "
                                                           "trusted as far as the log shows");
}
