#include "witnesses.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/codec.h"
#include "infra/httpc.h"
#include "infra/metrics.h"
#include "primitives/note.h"
#include "store.h"
#include "primitives/tiles.h"
#include "protocol/witreq.h"

#define TLOG_MAX_WITNESS_URL 1024

struct witness {
    char url[TLOG_MAX_WITNESS_URL];
    char vkey[OV_NOTE_MAX_VKEY_LEN + 1];
    struct ov_note_verifier v;
    uint64_t size;   /* the last size it cosigned */
    bool size_known; /* size was read from the database */
    bool alarm;      /* it saw more of this log than the log has: asked no more */
    char last[320];  /* what it answered this round, when it gave no cosignature */
    char said[320];  /* what stderr last said it answered ("": that it cosigned) */
    struct ov_gauge *cosigned_g, *alarm_g; /* tlog_witness_cosigned, tlog_witness_alarm */
};

struct tlog_witnesses {
    unsigned n, quorum;
    atomic_uint alarms; /* witnesses that cosigned more of this log than it holds */
    struct witness w[TLOG_MAX_WITNESSES];
    struct ov_httpc *http;
    time_t said_at, news_at; /* the last report on stderr, the last with news (CLOCK_MONOTONIC s) */
};

static int
parse_line(struct tlog_witnesses *ws, char *line, unsigned lineno)
{
    char *sp = strchr(line, ' ');
    if (sp == NULL || ws->n == TLOG_MAX_WITNESSES) {
        fprintf(stderr, "witnesses line %u: want \"URL VKEY\" (at most %d lines)\n", lineno,
                TLOG_MAX_WITNESSES);
        return -OV_E_MALFORMED;
    }
    *sp = 0;
    const char *vkey = sp + 1;
    struct witness *w = &ws->w[ws->n];
    size_t ul = strlen(line), vl = strlen(vkey);
    if (ul == 0 || ul >= sizeof w->url || vl >= sizeof w->vkey ||
        ov_note_vkey_parse(OV_BYTES(vkey, vl), &w->v) != 0 || w->v.type != OV_NOTE_TYPE_COSIG_V1) {
        fprintf(stderr, "witnesses line %u: bad URL or not a cosignature/v1 vkey\n", lineno);
        return -OV_E_MALFORMED;
    }
    ul = ov_httpc_base_len(line);
    line[ul] = 0;
    memcpy(w->url, line, ul + 1);
    memcpy(w->vkey, vkey, vl + 1);
    ws->n++;
    return 0;
}

int
tlog_witnesses_load(const char *path, unsigned quorum, struct tlog_witnesses **out)
{
    struct ov_buf file;
    *out = NULL;
    int rc = ov_file_read(path, 64 * 1024, &file);
    if (rc != 0) {
        fprintf(stderr, "cannot read %s: %s\n", path, ov_strerror(rc));
        return rc;
    }
    struct tlog_witnesses *ws = calloc(1, sizeof *ws);
    rc = ws ? ov_httpc_new(&ws->http) : -OV_E_NOMEM;
    char *save = NULL;
    unsigned lineno = 0;
    for (char *line = strtok_r((char *)file.ptr, "\n", &save); line != NULL && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (line[0] != '#' && line[0] != 0) {
            rc = parse_line(ws, line, lineno);
        }
    }
    if (rc == 0 && quorum == TLOG_QUORUM_ALL) {
        quorum = ws->n;
    }
    if (rc == 0 && quorum > ws->n) {
        fprintf(stderr, "quorum %u is more than the %u witnesses configured\n", quorum, ws->n);
        rc = -OV_E_MALFORMED;
    }
    ov_buf_clear(&file);
    if (rc != 0) {
        tlog_witnesses_free(ws);
        return rc;
    }
    ws->quorum = quorum;
    *out = ws;
    return 0;
}

void
tlog_witnesses_free(struct tlog_witnesses *w)
{
    if (w != NULL) {
        ov_httpc_free(w->http);
        free(w);
    }
}

unsigned
tlog_witnesses_count(const struct tlog_witnesses *w)
{
    return w ? w->n : 0;
}

unsigned
tlog_witnesses_quorum(const struct tlog_witnesses *w)
{
    return w ? w->quorum : 0;
}

const char *
tlog_witnesses_vkey(const struct tlog_witnesses *w, unsigned i)
{
    return w->w[i].vkey;
}

int
tlog_witnesses_metrics(struct tlog_witnesses *ws, struct ov_metrics *m)
{
    struct ov_gauge *quorum = NULL;
    int rc = ov_metrics_gauge(m, "tlog_witness_quorum", "Cosignatures a checkpoint needs "
                              "(--quorum)", NULL, &quorum);
    ov_gauge_set(quorum, ws->quorum);
    for (unsigned i = 0; rc == 0 && i < ws->n; i++) {
        struct witness *w = &ws->w[i];
        struct ov_buf labels;
        ov_buf_init(&labels, 2 * OV_NOTE_MAX_NAME_LEN + 16); /* each byte escaped at worst */
        rc = ov_buf_append_str(&labels, "witness=\"");
        rc = rc ? rc : ov_metrics_label_escape(&labels, w->v.name);
        rc = rc ? rc : ov_buf_append(&labels, "\"", 2); /* the quote and a NUL */
        rc = rc ? rc : ov_metrics_gauge(m, "tlog_witness_cosigned", "1 when the witness "
                                        "cosigned the latest checkpoint round, else 0",
                                        (const char *)labels.ptr, &w->cosigned_g);
        rc = rc ? rc : ov_metrics_gauge(m, "tlog_witness_alarm", "1 once the witness answered "
                                        "that it cosigned a larger tree of this log than it "
                                        "holds (a lost or forked history)",
                                        (const char *)labels.ptr, &w->alarm_g);
        ov_buf_clear(&labels);
    }
    return rc;
}

static int
load_size(struct ov_db *db, struct witness *w)
{
    sqlite3_stmt *st = ov_db_stmt(db, "witness_get");
    int rc = ov_db_bind_text(st, 1, w->vkey, strlen(w->vkey));
    if (rc == 0) {
        rc = ov_db_step(st);
        w->size = 0;
        if (rc == OV_DB_ROW) {
            rc = ov_db_col_uint64(st, 0, &w->size);
        }
    }
    ov_db_reset(st);
    w->size_known = rc >= 0;
    return rc < 0 ? rc : 0;
}

static int
save_size(struct ov_db *db, struct witness *w, uint64_t size)
{
    sqlite3_stmt *st = ov_db_stmt(db, "witness_put");
    int rc = ov_db_bind_text(st, 1, w->vkey, strlen(w->vkey));
    if (rc == 0) {
        rc = ov_db_bind_uint64(st, 2, size);
    }
    if (rc == 0) {
        rc = ov_db_step(st);
    }
    ov_db_reset(st);
    if (rc >= 0) {
        w->size = size;
    }
    return rc < 0 ? rc : 0;
}

/* The add-checkpoint body (core/protocol/witreq): "old N", the consistency proof, the checkpoint. */
static int
build_request(struct ov_db *db, uint64_t old, uint64_t size, struct ov_bytes note,
              struct ov_buf *body)
{
    uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
    size_t n_proof = 0;
    int rc = 0;
    ov_buf_init(body, 0);
    if (old > 0 && old < size) {
        struct ov_tile_src *src = malloc(sizeof *src);
        if (src == NULL) {
            return -OV_E_NOMEM;
        }
        ov_tile_src_init(src, size, tlog_store_tile_reader, db);
        struct ov_merkle_src m = ov_tile_src_merkle(src);
        rc = ov_merkle_consistency_proof(&m, old, size, proof, OV_MERKLE_MAX_PROOF, &n_proof);
        free(src);
    }
    return rc ? rc : ov_witreq_format(old, proof, n_proof, note, body);
}

/* From a witness's 200 body, keeps only its own cosignature lines, once they verify over
 * text with a non-zero time, and appends them, rewritten, to out. A witness may not slip
 * anything else (a copy of the log's line, a line in another key's name, padding) into
 * the checkpoint the log publishes. */
static int
take_cosig(const struct witness *w, struct ov_bytes text, struct ov_bytes lines,
           struct ov_buf *out)
{
    struct ov_buf n;
    struct ov_note *parsed = malloc(sizeof *parsed);
    struct ov_note_check check = { 0, 0 };
    size_t len0 = out->len, kept = 0;
    ov_buf_init(&n, OV_NOTE_MAX_LEN);
    int rc = parsed ? 0 : -OV_E_NOMEM;
    rc = rc ? rc : ov_buf_append(&n, text.ptr, text.len);
    rc = rc ? rc : ov_buf_append(&n, "\n", 1);
    rc = rc ? rc : ov_buf_append(&n, lines.ptr, lines.len);
    rc = rc ? rc : ov_note_open(ov_buf_view(&n), &w->v, 1, parsed, &check);
    if (rc == 0 && (!check.verified || check.timestamp == 0)) {
        rc = -OV_E_BAD_SIG;
    }
    for (size_t i = 0; rc == 0 && i < parsed->n_sigs; i++) {
        const struct ov_note_sig *sg = &parsed->sigs[i];
        if (sg->key_id != w->v.key_id || sg->name.len != w->v.name_len ||
            memcmp(sg->name.ptr, w->v.name, sg->name.len) != 0) {
            continue; /* not this witness's: dropped */
        }
        rc = ov_buf_append_str(out, "\xe2\x80\x94 ");
        rc = rc ? rc : ov_buf_append(out, sg->name.ptr, sg->name.len);
        rc = rc ? rc : ov_buf_append(out, " ", 1);
        rc = rc ? rc : ov_buf_append(out, sg->b64.ptr, sg->b64.len);
        rc = rc ? rc : ov_buf_append(out, "\n", 1);
        kept++;
    }
    if (rc == 0 && kept != 1) {
        rc = -OV_E_MALFORMED;
    }
    if (rc != 0) {
        out->len = len0;
    }
    free(parsed);
    ov_buf_clear(&n);
    return rc;
}

/* A refusal in words: the status and the witness's reason ({"error"} of docs/PROTOCOL.md
 * §6, else the first line of its body), printable characters only. */
static void
refusal(struct witness *w, const struct ov_httpc_resp *resp)
{
    char why[160];
    size_t n = 0;
    json_t *j = json_loadb((const char *)resp->body.ptr, resp->body.len, 0, NULL);
    const char *r = json_string_value(json_object_get(j, "error"));
    const char *m = json_string_value(json_object_get(j, "message"));
    if (r != NULL) {
        snprintf(why, sizeof why, "%s%s%s", r, m ? ": " : "", m ? m : "");
        n = strlen(why);
    } else {
        for (; n < resp->body.len && n + 1 < sizeof why && resp->body.ptr[n] != '\n'; n++) {
            why[n] = resp->body.ptr[n];
        }
        why[n] = '\0';
    }
    json_decref(j);
    for (size_t i = 0; i < n; i++) {
        why[i] = why[i] >= 0x20 && why[i] < 0x7f ? why[i] : '?';
    }
    snprintf(w->last, sizeof w->last, "HTTP %u%s%s", resp->status, n ? " " : "", why);
}

static int
cosign_one(struct tlog_witnesses *ws, struct witness *w, struct ov_db *db, struct ov_bytes text,
           struct ov_bytes note, uint64_t size, struct ov_buf *cosigs)
{
    w->last[0] = '\0';
    if (w->alarm) {
        snprintf(w->last, sizeof w->last, "not asked: it cosigned a larger tree of this log "
                                          "(the ALARM above)");
        return -OV_E_STATE;
    }
    int rc = w->size_known ? 0 : load_size(db, w);
    char url[TLOG_MAX_WITNESS_URL + 32];
    snprintf(url, sizeof url, "%s/add-checkpoint", w->url);
    uint64_t old = w->size > size ? 0 : w->size;
    for (int attempt = 0; attempt < 2 && rc == 0; attempt++) {
        struct ov_buf body;
        struct ov_httpc_resp resp;
        memset(&resp, 0, sizeof resp);
        rc = build_request(db, old, size, note, &body);
        if (rc == 0) {
            rc = ov_httpc_post(ws->http, url, "text/plain; charset=utf-8", ov_buf_view(&body),
                               OV_NOTE_MAX_LEN, &resp);
        }
        ov_buf_clear(&body);
        if (rc != 0) {
            snprintf(w->last, sizeof w->last, "no answer (%s: %s)", ov_strerror(rc),
                     ov_httpc_errmsg(ws->http));
            break;
        }
        if (resp.status == 200) {
            rc = take_cosig(w, text, ov_buf_view(&resp.body), cosigs);
            if (rc != 0) {
                snprintf(w->last, sizeof w->last, "HTTP 200 without a valid cosignature of its "
                                                  "key (%s)", ov_strerror(rc));
            }
            if (rc == 0) {
                rc = save_size(db, w, size);
                if (rc != 0) {
                    snprintf(w->last, sizeof w->last, "cosigned, but the log could not record "
                                                      "it (%s)", ov_strerror(rc));
                }
            }
            ov_httpc_resp_clear(&resp);
            return rc;
        }
        if (resp.status == 409 && strcmp(resp.content_type, OV_WITREQ_SIZE_CONTENT_TYPE) == 0 &&
            ov_witreq_size_parse(ov_buf_view(&resp.body), &old) == 0) {
            ov_httpc_resp_clear(&resp);
            if (old <= size) {
                continue; /* the witness told us the size it last cosigned: prove from there */
            }
            /* It cosigned a larger tree of this origin than we have: our history was lost
             * or forked. Never ask it again; an operator must look. */
            fprintf(stderr, "ALARM: witness %s cosigned size %llu of this log, which has only "
                            "%llu entries: a lost or forked history\n",
                    w->url, (unsigned long long)old, (unsigned long long)size);
            w->alarm = true;
            ov_gauge_set(w->alarm_g, 1);
            atomic_fetch_add(&ws->alarms, 1);
            snprintf(w->last, sizeof w->last, "HTTP 409: it cosigned size %llu, more than this "
                     "log has (ALARM: a lost or forked history)", (unsigned long long)old);
            return -OV_E_STATE;
        }
        refusal(w, &resp);
        ov_httpc_resp_clear(&resp);
        rc = -OV_E_HTTP;
    }
    if (w->last[0] == '\0') {
        snprintf(w->last, sizeof w->last, "%s", rc != 0 ? ov_strerror(rc)
                                                        : "HTTP 409 twice: the sizes disagree");
    }
    return rc != 0 ? rc : -OV_E_HTTP;
}

/* Names each witness that did not cosign and what it answered, on stderr: once when that
 * changes (a witness fails, fails otherwise, or cosigns again), and every TLOG_WITNESS_SAY_S
 * while it lasts; the publisher retries every --checkpoint-ms, which is not news. A missed
 * quorum is then never a bare "bad_state". */
#define TLOG_WITNESS_SAY_S 60
static pthread_mutex_t why_mu = PTHREAD_MUTEX_INITIALIZER; /* one log, one set of witnesses */
static char why_now[TLOG_WITNESSES_WHY_MAX]; /* a header and the witnesses not cosigning */

void
tlog_witnesses_why(char *buf, size_t len)
{
    pthread_mutex_lock(&why_mu);
    snprintf(buf, len, "%s", why_now);
    pthread_mutex_unlock(&why_mu);
}

/* Whether two answers are the same but for their numbers: the HTTP client's "after 3001 ms",
 * a size. A witness that stays down the same way stays one piece of news. */
static bool
same_but_numbers(const char *a, const char *b)
{
    for (;; a++, b++) {
        a += strspn(a, "0123456789");
        b += strspn(b, "0123456789");
        if (*a != *b) {
            return false;
        }
        if (*a == '\0') {
            return true;
        }
    }
}

static void
append(char *buf, size_t size, size_t *len, const char *what, const struct witness *w)
{
    if (*len < size) {
        int k = snprintf(buf + *len, size - *len, "; witness %s (%s)%s", w->url, w->v.name, what);
        *len += k > 0 ? (size_t)k : 0;
    }
}

static void
report(struct tlog_witnesses *ws, uint64_t size, unsigned got)
{
    char failing[TLOG_WITNESSES_WHY_MAX - 160], back[TLOG_WITNESSES_WHY_MAX - 160];
    char what[sizeof ws->w[0].last + 2];
    size_t len = 0, back_len = 0;
    bool news = false;
    failing[0] = back[0] = '\0';
    for (unsigned i = 0; i < ws->n; i++) {
        const struct witness *w = &ws->w[i];
        if (w->last[0] != '\0') {
            news = news || !same_but_numbers(w->last, w->said);
            snprintf(what, sizeof what, ": %s", w->last);
            append(failing, sizeof failing, &len, what, w);
        } else if (w->said[0] != '\0') {
            news = true;
            append(back, sizeof back, &back_len, " cosigns again", w);
        }
    }
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    bool quorum = got >= ws->quorum;
    pthread_mutex_lock(&why_mu);
    if (quorum) {
        why_now[0] = '\0';
    } else {
        snprintf(why_now, sizeof why_now, "%u of %u witnesses cosigned checkpoint %llu, --quorum "
                 "%u%s", got, ws->n, (unsigned long long)size, ws->quorum, failing);
    }
    pthread_mutex_unlock(&why_mu);
    if (!news && (failing[0] == '\0' || t.tv_sec - ws->said_at < TLOG_WITNESS_SAY_S)) {
        return;
    }
    if (news) {
        ws->news_at = t.tv_sec;
    }
    if (failing[0] == '\0') {
        fprintf(stderr, "onevoice-log: checkpoint %llu cosigned by all %u witnesses again%s\n",
                (unsigned long long)size, ws->n, back);
    } else {
        char still[48] = "";
        if (!news) {
            snprintf(still, sizeof still, " (unchanged for %lld s)",
                     (long long)(t.tv_sec - ws->news_at));
        }
        fprintf(stderr, "onevoice-log: checkpoint %llu %s: %u of %u witnesses cosigned, "
                        "--quorum %u%s%s%s\n", (unsigned long long)size,
                quorum ? "published" : "NOT published (no quorum; retried)", got, ws->n,
                ws->quorum, failing, back, still);
    }
    for (unsigned i = 0; i < ws->n; i++) {
        memcpy(ws->w[i].said, ws->w[i].last, sizeof ws->w[i].said);
    }
    ws->said_at = t.tv_sec;
}

int
tlog_witnesses_cosign(struct tlog_witnesses *ws, struct ov_db *db, struct ov_bytes text,
                      struct ov_bytes note, uint64_t size, struct ov_buf *cosigs)
{
    unsigned got = 0;
    for (unsigned i = 0; i < ws->n; i++) {
        bool cosigned = cosign_one(ws, &ws->w[i], db, text, note, size, cosigs) == 0;
        ov_gauge_set(ws->w[i].cosigned_g, cosigned);
        got += cosigned;
    }
    report(ws, size, got);
    return got >= ws->quorum ? 0 : -OV_E_STATE;
}

bool
tlog_witnesses_behind(struct tlog_witnesses *ws)
{
    if (ws == NULL) {
        return false;
    }
    unsigned q = ws->quorum < ws->n ? ws->quorum : ws->n;
    return atomic_load(&ws->alarms) >= (q > 0 ? q : 1);
}
