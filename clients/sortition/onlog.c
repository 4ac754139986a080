/* onlog: the draw pinned in the log, in the order docs/PROTOCOL.md §10 sets: each party
 * commits to a secret (commit), the operator logs the pool naming those parties (publish),
 * each party reveals (reveal), the operator draws with the seed of the logged reveals and
 * logs the draw (draw --log); anyone checks it (verify --log, status). Every party appends
 * its own entries as a producer of the log, so no one can hold a party's commitment or
 * reveal back, nor see a reveal before the log has it. Every decision reads the log from a
 * verified checkpoint (sortlog). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/codec.h"
#include "infra/cli.h"
#include "infra/keyfile.h"
#include "protocol/logfiles.h"
#include "cmds.h"

static uint64_t
now_s(void)
{
    return ov_now_ms() / 1000;
}

static int
parse(int argc, char **argv, const char *summary, const struct ov_cli_opt *opts, size_t n)
{
    int rc = ov_cli_parse(argc, argv, summary, opts, n);
    return rc == 0 ? -1 : (rc > 0 ? 0 : 2); /* -1: go on; else the exit status */
}

static struct ov_sign_key *
load_key(const char *path)
{
    struct ov_sign_key *k = NULL;
    int rc = ov_keyfile_load_sign_key(path, &k);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s: %s%s\n", path, ov_strerror(rc),
                rc == -OV_E_NOT_FOUND ? " (" PROG " key --key FILE makes one)" : "");
    }
    return k;
}

/* Reads the log for a's id and what its entries say. 0, 1 or 2 (an exit status). */
static int
open_view(const struct log_args *a, struct sl_log *L, struct sl_view *v)
{
    if (a->id == NULL) {
        memset(L, 0, sizeof *L);
        return usage_error("--id is needed");
    }
    int rc = sl_open(L, &a->o, a->id);
    if (rc == 0 && sl_sync(L) != 0) {
        rc = 1;
    }
    if (rc == 0) {
        sl_view(L, v);
    }
    return rc;
}

/* ---- key ------------------------------------------------------------------------------------ */

int
cmd_key(int argc, char **argv)
{
    const char *path = NULL, *name = NULL;
    const struct ov_cli_opt opts[] = {
        { "--key", "FILE", "the key file: created (mode 0600) when missing, never overwritten", &path, NULL, NULL },
        { "--name", "NAME", "the producer's name in the log's --producers file (1-64 of [a-z0-9-])", &name, NULL, NULL },
    };
    int rc = parse(argc, argv, "key: a party's or the operator's Ed25519 key; prints the line "
                               "for the log's --producers file", opts, 2);
    if (rc >= 0) {
        return rc;
    }
    if (path == NULL || name == NULL || ov_context_id_check(name) != 0) {
        return usage_error("key needs --key FILE and --name NAME (1-64 of [a-z0-9-])");
    }
    struct ov_sign_key *k = NULL;
    rc = ov_keyfile_load_sign_key(path, &k);
    if (rc == -OV_E_NOT_FOUND) {
        rc = ov_keyfile_create_sign_key(path, &k);
    }
    if (rc != 0) {
        fprintf(stderr, PROG ": %s: %s\n", path, ov_strerror(rc));
        return 1;
    }
    char b64[48];
    printf("%s %s\n", name, sl_key_b64(ov_sign_key_pk(k), b64));
    ov_sign_key_free(k);
    return 0;
}

/* ---- commit --------------------------------------------------------------------------------- */

/* The secret file's label names the draw, so one draw's secret, public once revealed, is
 * never taken for another's: "sortition-" and 22 hex digits of SHA-256(id). */
static void
secret_label(const char *id, char label[OV_KEYFILE_MAX_LABEL_LEN + 1])
{
    uint8_t h[32];
    char hex[65];
    crypto_hash_sha256(h, (const unsigned char *)id, strlen(id));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(label, OV_KEYFILE_MAX_LABEL_LEN + 1, "sortition-%.22s", hex);
}

/* The party's secret for draw id: loaded, or with create made (0600, never overwritten). */
static struct ov_secret *
get_secret(const char *path, const char *id, bool create)
{
    char label[OV_KEYFILE_MAX_LABEL_LEN + 1];
    struct ov_secret *s = NULL;
    secret_label(id, label);
    int rc = ov_keyfile_load_secret(path, label, OV_SORT_SECRET_LEN, &s);
    if (rc == -OV_E_NOT_FOUND && create) {
        rc = ov_keyfile_create_secret(path, label, OV_SORT_SECRET_LEN, &s);
    }
    if (rc != 0) {
        fprintf(stderr, PROG ": %s: %s%s\n", path, ov_strerror(rc),
                rc == -OV_E_MALFORMED ? " (not this draw's secret file)" : "");
    }
    return s;
}

static int
commit_checked(const struct log_args *a, const char *party, const struct ov_sign_key *k,
               const struct ov_secret *secret, struct sl_log *L, struct sl_view *v)
{
    struct ov_sortentry e = { .kind = OV_SORTENTRY_COMMIT };
    struct ov_sort_commit *c = &e.u.commit;
    uint64_t index = 0;
    snprintf(c->draw, sizeof c->draw, "%s", a->id);
    snprintf(c->party, sizeof c->party, "%s", party);
    c->time = now_s();
    if (ov_sort_commitment(a->id, ov_secret_ptr(secret), c->commitment) != 0) {
        return 1;
    }
    const struct sl_party *p = sl_find(v, ov_sign_key_pk(k));
    if (p != NULL) {
        bool same = sodium_memcmp(p->commitment, c->commitment, 32) == 0;
        fprintf(same ? stdout : stderr,
                same ? "%s: already committed to %s (log index %llu)\n"
                     : PROG ": %s: this key committed to %s with another secret (log index %llu): "
                       "a party's first commitment is the one that counts\n",
                party, a->id, (unsigned long long)p->commit_index);
        return same ? 0 : 1;
    }
    if (ov_sort_commit_sign(c, k) != 0 || sl_append(L, a->producer, k, &e, &index) != 0) {
        return 1;
    }
    printf("%s committed to %s: log index %llu (keep the secret until the pool is logged, then "
           "reveal)\n", party, a->id, (unsigned long long)index);
    return 0;
}

int
cmd_commit(int argc, char **argv)
{
    struct log_args a = { 0 };
    const char *party = NULL, *secret_path = NULL;
    const struct ov_cli_opt opts[] = {
        LOG_OPTS(a),
        PRODUCER_OPTS(a, "the party"),
        { "--party", "LABEL", "the party's name as the log shows it (a witness operator, an observer)", &party, NULL, NULL },
        { "--secret", "FILE", "the party's secret for this draw: created (mode 0600) when missing; keep it until the reveal", &secret_path, NULL, NULL },
    };
    int rc = parse(argc, argv, "commit: a party's signed commitment to a fresh secret, appended "
                               "to the log before the pool", opts, sizeof opts / sizeof opts[0]);
    if (rc >= 0) {
        return rc;
    }
    if (!a.key || !a.producer || !party || !secret_path || ov_label_check(party) != 0) {
        return usage_error("commit needs --id, --party LABEL, --key, --producer, --secret and "
                           "the log (--log, --log-vkey)");
    }
    struct sl_log L = { 0 };
    struct sl_view *v = calloc(1, sizeof *v);
    rc = v ? open_view(&a, &L, v) : 1;
    struct ov_sign_key *k = rc ? NULL : load_key(a.key);
    /* a fresh secret only for a commitment still to make: none is left behind otherwise */
    bool fresh = k != NULL && sl_find(v, ov_sign_key_pk(k)) == NULL;
    if (fresh && v->pool != NULL) {
        fprintf(stderr, PROG ": the pool of %s is logged (index %llu): a commitment now would "
                        "come after it and not count\n", a.id, (unsigned long long)v->pool_index);
        ov_sign_key_free(k);
        k = NULL;
        rc = 1;
    }
    struct ov_secret *s = k ? get_secret(secret_path, a.id, fresh) : NULL;
    rc = rc ? rc : (s ? commit_checked(&a, party, k, s, &L, v) : 1);
    ov_secret_free(s);
    ov_sign_key_free(k);
    sl_close(&L);
    free(v);
    return rc;
}

/* ---- publish ---------------------------------------------------------------------------------- */

/* Uploads file to the log, which then serves it at /files/<its SHA-256>. 0 (said on stdout
 * unless quiet) or 1 with the log's reason on stderr. */
static int
upload_bytes(const char *log, const char *producer, const struct ov_sign_key *k,
             struct ov_bytes file, bool quiet)
{
    struct ov_logfile_ack ack;
    char hex[OV_LOGFILE_HEX_LEN + 1];
    int rc = ov_logfile_upload(log, producer, k, file, &ack);
    if (rc != 0 && ack.status != 0) {
        fprintf(stderr, PROG ": the log refused the file: %s (HTTP %u)\n", ack.reason,
                ack.status);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, PROG ": uploading the file to the log: %s\n",
                rc == -OV_E_HTTP ? "no answer" : ov_strerror(rc));
        return 1;
    }
    ov_logfile_name(ack.sha256, hex);
    if (quiet) {
        return 0;
    }
    printf("the log serves the file at /files/%s (%llu bytes, %s)\n", hex,
           (unsigned long long)ack.size, ack.status == 201 ? "uploaded" : "already there");
    return 0;
}

/* Uploads the pool file at path (the bytes p was parsed from): before the pool entry, so the
 * entry never names a file the log cannot serve. 0 or 1 with the reason on stderr. */
static int
upload_pool(const struct log_args *a, const char *path, const struct ov_pool_file *p,
            const struct ov_sign_key *k)
{
    struct ov_buf b;
    uint8_t h[32];
    int rc = ov_file_read(path, OV_POOL_MAX_FILE, &b);
    if (rc == 0) {
        crypto_hash_sha256(h, b.ptr, b.len);
        rc = memcmp(h, p->sha256, 32) == 0 ? 0 : -OV_E_STATE;
    }
    if (rc != 0) {
        fprintf(stderr, PROG ": %s: %s\n", path,
                rc == -OV_E_STATE ? "changed while it was read" : ov_strerror(rc));
    }
    rc = rc ? 1 : upload_bytes(a->o.log, a->producer, k, ov_buf_view(&b), true);
    ov_buf_clear(&b);
    return rc;
}

static int
publish_checked(const struct log_args *a, const char *title, const char *path,
                const struct ov_pool_file *p, uint64_t parties, uint64_t within,
                const struct ov_sign_key *k, struct sl_log *L, const struct sl_view *v)
{
    char b64[48];
    if (v->pool != NULL) {
        bool same = sl_pool_differs(v->pool, p) == NULL;
        fprintf(same ? stdout : stderr,
                same ? "the pool of %s is already logged (index %llu)\n"
                     : PROG ": %s: another pool is logged under this id (index %llu)\n",
                a->id, (unsigned long long)v->pool_index);
        /* the same pool again: (re)upload its file, in case an earlier run stopped before */
        return same ? upload_pool(a, path, p, k) : 1;
    }
    if (v->n_committed != parties) {
        fprintf(stderr, PROG ": %zu part%s committed to %s, --parties %llu: %s\n",
                v->n_committed, v->n_committed == 1 ? "y has" : "ies have", a->id,
                (unsigned long long)parties,
                v->n_committed < parties ? "wait for the others" : "more than expected");
        for (size_t i = 0; i < v->n_committed; i++) {
            fprintf(stderr, "  %s (%s) at log index %llu\n", v->committed[i].label,
                    sl_key_b64(v->committed[i].key, b64),
                    (unsigned long long)v->committed[i].commit_index);
        }
        return 1;
    }
    struct ov_sortentry e = { .kind = OV_SORTENTRY_POOL };
    struct ov_sort_poolentry *pe = &e.u.pool;
    for (size_t i = 0; i < v->n_committed; i++) {
        if (v->committed[i].early) { /* its secret is public: the seed would be someone's pick */
            fprintf(stderr, PROG ": party %s revealed its secret (log index %llu) before the "
                            "pool: this draw needs a new id and new commitments\n",
                    v->committed[i].label, (unsigned long long)v->committed[i].early_index);
            return 1;
        }
        memcpy(pe->parties[i], v->committed[i].key, OV_SIGN_PK_LEN);
    }
    snprintf(pe->id, sizeof pe->id, "%s", a->id);
    snprintf(pe->title, sizeof pe->title, "%s", title);
    memcpy(pe->pool, p->sha256, 32);
    pe->members = p->pool.n_members;
    pe->panel = p->panel;
    pe->reserves = p->reserves;
    pe->max_attempts = p->max_attempts;
    pe->n_parties = v->n_committed;
    pe->time = now_s();
    pe->reveal_by = pe->time + within;
    uint64_t index = 0;
    if (upload_pool(a, path, p, k) != 0 || sl_append(L, a->producer, k, &e, &index) != 0) {
        return 1;
    }
    printf("the pool of %s is logged: index %llu, %zu parties, reveals by %llu (in %llu s); its "
           "file is served by the log\n", a->id, (unsigned long long)index, pe->n_parties,
           (unsigned long long)pe->reveal_by, (unsigned long long)within);
    return 0;
}

int
cmd_publish(int argc, char **argv)
{
    struct log_args a = { 0 };
    const char *pool = NULL, *title = NULL, *parties = NULL, *within = "3600";
    const struct ov_cli_opt opts[] = {
        LOG_OPTS(a),
        PRODUCER_OPTS(a, "the operator"),
        { "--pool", "FILE", "the public pool file (import wrote it): uploaded to the log, which serves it beside its tiles", &pool, NULL, NULL },
        { "--title", "TEXT", "what the draw is for, as the log shows it", &title, NULL, NULL },
        { "--parties", "N", "the parties expected (1-16): every commitment logged for the id, and exactly N", &parties, NULL, NULL },
        { "--reveal-within", "S", "seconds the parties have to reveal (default 3600)", &within, NULL, NULL },
    };
    int rc = parse(argc, argv, "publish: the pool entry (the pool file's SHA-256, the draw's "
                               "parameters, the committed parties, reveal_by), once every party "
                               "committed", opts, sizeof opts / sizeof opts[0]);
    if (rc >= 0) {
        return rc;
    }
    uint64_t n = 0, w = 0;
    if (!a.key || !a.producer || !pool || !title || !parties ||
        ov_parse_u64(parties, strlen(parties), &n) != 0 || n == 0 || n > OV_SORT_MAX_PARTIES ||
        ov_parse_u64(within, strlen(within), &w) != 0 || w == 0 || w > 366 * 86400 ||
        ov_text_check(title, OV_MAX_TITLE_LEN) != 0) {
        return usage_error("publish needs --id, --pool, --title (1-256 bytes), --parties 1..16, "
                           "--key, --producer, the log; --reveal-within 1..31622400");
    }
    struct ov_pool_file p;
    if (load_pool(pool, &p) != 0) {
        return 1;
    }
    struct sl_log L = { 0 };
    struct sl_view *v = calloc(1, sizeof *v);
    rc = check_pool(&p); /* a pool whose quotas cannot be met would void the draw */
    if (rc == 0 && (uint64_t)p.panel + p.reserves > OV_SORT_MAX_DRAWN) {
        fprintf(stderr, PROG ": %s: panel and reserves together over %d, more than a draw "
                        "entry holds\n", pool, OV_SORT_MAX_DRAWN);
        rc = 1;
    }
    rc = rc ? rc : (v ? open_view(&a, &L, v) : 1);
    struct ov_sign_key *k = rc ? NULL : load_key(a.key);
    rc = rc ? rc : (k ? publish_checked(&a, title, pool, &p, n, w, k, &L, v) : 1);
    ov_sign_key_free(k);
    sl_close(&L);
    free(v);
    ov_pool_free(&p);
    return rc;
}

/* ---- upload ---------------------------------------------------------------------------------- */

int
cmd_upload(int argc, char **argv)
{
    struct log_args a = { 0 };
    const char *file = NULL;
    const struct ov_cli_opt opts[] = {
        { "--log", "URL", "the log's URL", &a.o.log, NULL, NULL },
        PRODUCER_OPTS(a, "the operator"),
        { "--file", "FILE", "the file to serve (a pool file)", &file, NULL, NULL },
    };
    int rc = parse(argc, argv, "upload: a file (a pool file) to the log, which serves it at "
                               "/files/<its SHA-256>; publish does this already: this puts it "
                               "back, e.g. into a log restored without its files",
                   opts, sizeof opts / sizeof opts[0]);
    if (rc >= 0) {
        return rc;
    }
    if (!a.o.log || !a.key || !a.producer || !file) {
        return usage_error("upload needs --log, --key, --producer and --file");
    }
    struct ov_buf b;
    rc = ov_file_read(file, OV_LOGFILE_HARD_MAX, &b);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s: %s\n", file, ov_strerror(rc));
        ov_buf_clear(&b);
        return 1;
    }
    struct ov_sign_key *k = load_key(a.key);
    rc = k ? upload_bytes(a.o.log, a.producer, k, ov_buf_view(&b), false) : 1;
    ov_sign_key_free(k);
    ov_buf_clear(&b);
    return rc;
}

/* ---- reveal ----------------------------------------------------------------------------------- */

static int
reveal_checked(const struct log_args *a, const struct ov_sign_key *k,
               const struct ov_secret *secret, struct sl_log *L, struct sl_view *v)
{
    uint8_t c[32];
    const uint8_t *pk = ov_sign_key_pk(k);
    struct sl_party *p = sl_find(v, pk);
    bool named = false;
    for (size_t i = 0; v->pool != NULL && i < v->pool->n_parties; i++) {
        named = named || memcmp(v->pool->parties[i], pk, OV_SIGN_PK_LEN) == 0;
    }
    if (v->pool == NULL || !named || p == NULL) {
        fprintf(stderr, PROG ": %s: %s: keep the secret\n", a->id,
                v->pool == NULL ? "the pool is not logged yet (a reveal before it would let the "
                                  "operator choose the pool after seeing it)"
                                : "the logged pool does not name this key's commitment");
        return 1;
    }
    if (ov_sort_commitment(a->id, ov_secret_ptr(secret), c) != 0 ||
        sodium_memcmp(c, p->commitment, 32) != 0) {
        fprintf(stderr, PROG ": the secret file does not open this key's commitment (log index "
                        "%llu)\n", (unsigned long long)p->commit_index);
        return 1;
    }
    if (p->revealed) {
        printf("%s: already revealed (log index %llu)\n", p->label,
               (unsigned long long)p->reveal_index);
        return 0;
    }
    if (now_s() >= v->pool->reveal_by || v->latest >= v->pool->reveal_by || v->draw != NULL) {
        fprintf(stderr, PROG ": %s: %s: a reveal now does not count\n", a->id,
                v->draw ? "the draw is logged" : "reveal_by has passed, the draw is void");
        return 1;
    }
    struct ov_sortentry e = { .kind = OV_SORTENTRY_REVEAL };
    uint64_t index = 0;
    snprintf(e.u.reveal.draw, sizeof e.u.reveal.draw, "%s", a->id);
    memcpy(e.u.reveal.party_key, pk, OV_SIGN_PK_LEN);
    memcpy(e.u.reveal.reveal, ov_secret_ptr(secret), OV_SORT_SECRET_LEN);
    e.u.reveal.time = now_s();
    int rc = sl_append(L, a->producer, k, &e, &index);
    sodium_memzero(&e, sizeof e);
    if (rc != 0) {
        return 1;
    }
    printf("%s revealed its secret for %s: log index %llu\n", p->label, a->id,
           (unsigned long long)index);
    return 0;
}

int
cmd_reveal(int argc, char **argv)
{
    struct log_args a = { 0 };
    const char *secret_path = NULL;
    const struct ov_cli_opt opts[] = {
        LOG_OPTS(a),
        PRODUCER_OPTS(a, "the party"),
        { "--secret", "FILE", "the secret file commit made", &secret_path, NULL, NULL },
    };
    int rc = parse(argc, argv, "reveal: a party's secret, appended once the pool naming its "
                               "commitment is logged and before its reveal_by",
                   opts, sizeof opts / sizeof opts[0]);
    if (rc >= 0) {
        return rc;
    }
    if (!a.key || !a.producer || !secret_path) {
        return usage_error("reveal needs --id, --key, --producer, --secret and the log");
    }
    struct sl_log L = { 0 };
    struct sl_view *v = calloc(1, sizeof *v);
    rc = v ? open_view(&a, &L, v) : 1;
    struct ov_sign_key *k = rc ? NULL : load_key(a.key);
    struct ov_secret *s = k ? get_secret(secret_path, a.id, false) : NULL;
    rc = rc ? rc : (s ? reveal_checked(&a, k, s, &L, v) : 1);
    ov_secret_free(s);
    ov_sign_key_free(k);
    sl_close(&L);
    if (v != NULL) {
        sodium_memzero(v, sizeof *v);
    }
    free(v);
    return rc;
}

/* ---- draw --log, verify --log ------------------------------------------------------------------ */

/* The draw entry d as a draw file's contents (member indices from 0), borrowing nothing. */
static int
draw_of_entry(const struct ov_sort_drawentry *d, const uint8_t pool[32], struct ov_draw *out)
{
    memset(out, 0, sizeof *out);
    out->panel = calloc(d->n_panel ? d->n_panel : 1, sizeof *out->panel);
    out->reserves = calloc(d->n_reserves ? d->n_reserves : 1, sizeof *out->reserves);
    if (out->panel == NULL || out->reserves == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(out->pool_sha256, pool, 32);
    memcpy(out->seed, d->seed, OV_SORT_SEED_LEN);
    out->attempt = (uint32_t)d->attempt;
    out->n_panel = (uint32_t)d->n_panel;
    out->n_reserves = (uint32_t)d->n_reserves;
    for (size_t i = 0; i < d->n_panel; i++) {
        out->panel[i] = d->panel[i] - 1;
    }
    for (size_t i = 0; i < d->n_reserves; i++) {
        out->reserves[i] = d->reserves[i] - 1;
    }
    return 0;
}

/* The draw entry of d (member IDs from 1), for draw id; its arrays are the entry's own. */
static int
entry_of_draw(const struct ov_draw *d, const char *id, struct ov_sort_drawentry *de)
{
    snprintf(de->id, sizeof de->id, "%s", id);
    memcpy(de->seed, d->seed, OV_SORT_SEED_LEN);
    de->attempt = d->attempt;
    de->n_panel = d->n_panel;
    de->n_reserves = d->n_reserves;
    de->time = now_s();
    de->panel = calloc(d->n_panel ? d->n_panel : 1, sizeof *de->panel);
    de->reserves = calloc(d->n_reserves ? d->n_reserves : 1, sizeof *de->reserves);
    if (de->panel == NULL || de->reserves == NULL) {
        return -OV_E_NOMEM;
    }
    for (size_t i = 0; i < d->n_panel; i++) {
        de->panel[i] = d->panel[i] + 1;
    }
    for (size_t i = 0; i < d->n_reserves; i++) {
        de->reserves[i] = d->reserves[i] + 1;
    }
    return 0;
}

/* Whether the logged draw is p's under the seed of the logged reveals: NULL, or why not. */
static const char *
logged_draw_differs(const struct sl_view *v, const struct ov_pool_file *p,
                    const uint8_t seed[OV_SORT_SEED_LEN])
{
    struct ov_draw claimed, again;
    if (sodium_memcmp(v->draw->seed, seed, OV_SORT_SEED_LEN) != 0) {
        return "its seed is not the one the logged reveals give";
    }
    if (draw_of_entry(v->draw, p->sha256, &claimed) != 0) {
        ov_draw_free(&claimed);
        return "out of memory";
    }
    const char *why = draw_differs(p, &claimed, &again);
    ov_draw_free(&again);
    ov_draw_free(&claimed);
    return why;
}

/* The pool file is the logged pool, the seed is known: 0 and seed, else 1 with a message. */
static int
seed_of_log(const struct sl_view *v, const struct ov_pool_file *p, const char *id,
            uint8_t seed[OV_SORT_SEED_LEN])
{
    char why[4096];
    const char *differs = v->pool ? sl_pool_differs(v->pool, p) : NULL;
    if (differs != NULL) {
        fprintf(stderr, PROG ": %s: %s\n", id, differs);
        return 1;
    }
    if (sl_seed(v, now_s(), seed, why, sizeof why) != 0) {
        fprintf(stderr, PROG ": %s: no draw:\n%s", id, why);
        return 1;
    }
    return 0;
}

static int
draw_checked(const struct log_args *a, const struct ov_pool_file *p, const char *out,
             const struct ov_sign_key *k, struct sl_log *L, const struct sl_view *v)
{
    uint8_t seed[OV_SORT_SEED_LEN];
    struct ov_draw d;
    uint64_t index = v->draw_index;
    int rc = seed_of_log(v, p, a->id, seed);
    if (rc == 0 && v->draw != NULL) {
        const char *why = logged_draw_differs(v, p, seed);
        if (why != NULL) {
            fprintf(stderr, PROG ": %s: the logged draw (index %llu) is wrong: %s\n", a->id,
                    (unsigned long long)v->draw_index, why);
            return 1;
        }
        printf("the draw of %s is already logged (index %llu)\n", a->id,
               (unsigned long long)v->draw_index);
    }
    memset(&d, 0, sizeof d);
    rc = rc ? rc : run_draw(p, seed, &d);
    if (rc == -OV_E_STATE) {
        fprintf(stderr, PROG ": no attempt of %u met every quota together under the logged "
                        "seed: this draw cannot be made (anyone re-running it from the logged "
                        "pool and reveals finds the same)\n", p->max_attempts);
    }
    struct ov_sortentry e = { .kind = OV_SORTENTRY_DRAW };
    if (rc == 0 && v->draw == NULL) {
        rc = entry_of_draw(&d, a->id, &e.u.draw);
        rc = rc ? rc : sl_append(L, a->producer, k, &e, &index);
        if (rc == 0) {
            printf("the draw of %s is logged: index %llu, seed from %zu reveals, %u members and "
                   "%u reserves (attempt %u)\n", a->id, (unsigned long long)index,
                   v->pool->n_parties, d.n_panel, d.n_reserves, d.attempt);
        }
    }
    if (rc == 0 && ov_draw_write(out, &d) != 0) {
        fprintf(stderr, PROG ": cannot create %s: %s (the draw is in the log: draw again "
                        "with a free --out writes its file)\n", out, strerror(errno));
        rc = -OV_E_IO;
    }
    ov_sortentry_clear(&e);
    ov_draw_free(&d);
    return rc == 0 ? 0 : 1;
}

int
draw_from_log(const struct log_args *a, const char *pool, const char *out)
{
    if (!a->key || !a->producer || !out) {
        return usage_error("draw --log needs --id, --pool, --key, --producer and --out");
    }
    struct ov_pool_file p;
    if (load_pool(pool, &p) != 0) {
        return 1;
    }
    struct sl_log L = { 0 };
    struct sl_view *v = calloc(1, sizeof *v);
    int rc = check_pool(&p);
    rc = rc ? rc : (v ? open_view(a, &L, v) : 1);
    struct ov_sign_key *k = rc ? NULL : load_key(a->key);
    rc = rc ? rc : (k ? draw_checked(a, &p, out, k, &L, v) : 1);
    ov_sign_key_free(k);
    sl_close(&L);
    free(v);
    ov_pool_free(&p);
    return rc;
}

int
verify_from_log(const struct log_args *a, const char *pool)
{
    struct ov_pool_file p;
    uint8_t seed[OV_SORT_SEED_LEN];
    char hex[65];
    if (load_pool(pool, &p) != 0) {
        return 1;
    }
    struct sl_log L = { 0 };
    struct sl_view *v = calloc(1, sizeof *v);
    int rc = v ? open_view(a, &L, v) : 1;
    if (rc == 0 && (v->pool == NULL || v->draw == NULL)) {
        fprintf(stderr, PROG ": %s: no %s entry in the log\n", a->id, v->pool ? "draw" : "pool");
        rc = 1;
    }
    rc = rc ? rc : seed_of_log(v, &p, a->id, seed);
    const char *why = rc ? NULL : logged_draw_differs(v, &p, seed);
    if (rc == 0 && why != NULL) {
        fprintf(stderr, PROG ": %s: the logged draw (index %llu) is wrong: %s\n", a->id,
                (unsigned long long)v->draw_index, why);
        rc = 1;
    }
    if (rc == 0) {
        printf("the logged draw of %s (index %llu) is the pool's under the seed %s of %zu logged "
               "reveals: %zu members, %zu reserves, attempt %llu\n", a->id,
               (unsigned long long)v->draw_index, sodium_bin2hex(hex, sizeof hex, seed, 32),
               v->pool->n_parties, v->draw->n_panel, v->draw->n_reserves,
               (unsigned long long)v->draw->attempt);
    }
    sl_close(&L);
    free(v);
    ov_pool_free(&p);
    return rc;
}

/* ---- status ------------------------------------------------------------------------------------ */

static void
print_status(const struct log_args *a, const struct sl_log *L, const struct sl_view *v)
{
    char b64[48], hex[65], why[4096] = "";
    uint8_t seed[OV_SORT_SEED_LEN];
    printf("draw %s in the log (%llu entries read, verified)\n", a->id,
           (unsigned long long)L->size);
    for (size_t i = 0; i < v->n_committed; i++) {
        const struct sl_party *p = &v->committed[i];
        printf("  party %s (%s): commitment at %llu, %s", p->label, sl_key_b64(p->key, b64),
               (unsigned long long)p->commit_index, p->revealed ? "revealed at " : "not revealed");
        if (p->revealed) {
            printf("%llu", (unsigned long long)p->reveal_index);
        }
        printf("%s\n", p->bad ? " (a reveal that does not match was logged)" : "");
    }
    if (v->pool != NULL) {
        printf("  pool at %llu: %s, %llu members, panel %llu, reserves %llu, %zu parties, "
               "reveal_by %llu\n", (unsigned long long)v->pool_index,
               sodium_bin2hex(hex, sizeof hex, v->pool->pool, 32),
               (unsigned long long)v->pool->members, (unsigned long long)v->pool->panel,
               (unsigned long long)v->pool->reserves, v->pool->n_parties,
               (unsigned long long)v->pool->reveal_by);
    }
    if (v->pool != NULL && sl_seed(v, now_s(), seed, why, sizeof why) == 0) {
        printf("  seed %s\n", sodium_bin2hex(hex, sizeof hex, seed, 32));
    } else {
        printf("  no seed: %s", why[0] ? why : "no pool entry yet\n");
    }
    if (v->draw != NULL) {
        printf("  draw at %llu: %zu members, %zu reserves\n", (unsigned long long)v->draw_index,
               v->draw->n_panel, v->draw->n_reserves);
    }
    if (v->n_bad_sig + v->n_repeated + L->n_malformed > 0) {
        printf("  ignored: %zu commitments with a bad signature, %zu repeated, %zu entries that "
               "do not decode\n", v->n_bad_sig, v->n_repeated, L->n_malformed);
    }
}

int
cmd_status(int argc, char **argv)
{
    struct log_args a = { 0 };
    const struct ov_cli_opt opts[] = { LOG_OPTS(a) };
    int rc = parse(argc, argv, "status: what the log shows of a draw: commitments, pool, "
                               "reveals, seed, draw", opts, sizeof opts / sizeof opts[0]);
    if (rc >= 0) {
        return rc;
    }
    struct sl_log L = { 0 };
    struct sl_view *v = calloc(1, sizeof *v);
    rc = v ? open_view(&a, &L, v) : 1;
    if (rc == 0) {
        print_status(&a, &L, v);
    }
    sl_close(&L);
    free(v);
    return rc;
}
