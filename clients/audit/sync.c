/* sync: following the log. One round = fetch the checkpoint (log signature, witness
 * quorum), keep it as evidence, then read every new entry bundle and tile through the log
 * reader while the rules check each entry, all in one state transaction that commits only
 * when the tree read hashes to the signed root. When it does not, the saved checkpoint
 * and the new one are compared through a consistency proof: inconsistent means a fork
 * (both signed checkpoints are kept and reported), consistent means the log serves
 * entries or tiles that do not match what it signed.
 *
 * Every checkpoint signed by the log's key is evidence, with or without its witness quorum,
 * whether served to this auditor or given by others (--checkpoints): each is kept in the
 * `seen` table and compared with the nearest ones seen before (same size, next smaller, next
 * larger) through the log's consistency proofs; two that cannot both be true are a fork. */
#include "audit.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "infra/cli.h"
#include "base/codec.h"
#include "rules_ids.h"
#include "store.h"
#include "primitives/tiles.h"
#include "infra/httpc.h"

#define AUDIT_MAX_READER_STATE (8 + OV_MERKLE_LEVELS * OV_HASH_LEN)

double
audit_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
problem(struct audit *a, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(struct audit *a, const char *rule, const char *fmt, ...)
{
    if (a->n_problems == AUDIT_MAX_PROBLEMS) {
        return;
    }
    struct audit_problem *p = &a->problems[a->n_problems++];
    va_list ap;
    va_start(ap, fmt);
    a->tree_unverified = true;
    p->rule = rule;
    vsnprintf(p->detail, sizeof p->detail, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ opening */

static int
make_temp_dir(struct audit *a)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(a->dir, sizeof a->dir, "%s/onevoice-audit-XXXXXX", tmp ? tmp : "/tmp");
    if (n < 0 || (size_t)n >= sizeof a->dir || mkdtemp(a->dir) == NULL) {
        fprintf(stderr, "onevoice-audit: cannot make a temporary state directory: %s\n",
                strerror(errno));
        return -OV_E_IO;
    }
    a->temp_dir = true;
    return 0;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int seen_seed(struct audit *a);

int
audit_open(struct audit *a)
{
    int rc;
    if (a->cfg.state_dir != NULL) {
        int n = snprintf(a->dir, sizeof a->dir, "%s", a->cfg.state_dir);
        if (n < 0 || (size_t)n >= sizeof a->dir) {
            return -OV_E_TOO_BIG;
        }
        rc = ov_cli_data_dir(a->dir);
    } else {
        rc = make_temp_dir(a);
    }
    if (rc != 0) {
        return rc;
    }
    char cpdir[AUDIT_DIR_MAX + 16];
    snprintf(cpdir, sizeof cpdir, "%s/checkpoints", a->dir);
    if (mkdir(cpdir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "onevoice-audit: %s: %s\n", cpdir, strerror(errno));
        return -OV_E_IO;
    }
    rc = audit_store_open(a->dir, &a->db);
    if (rc != 0) {
        fprintf(stderr, "onevoice-audit: state %s/audit.db: %s\n", a->dir, ov_strerror(rc));
        return rc;
    }
    /* a state belongs to one log: its key, fixed by the first run */
    struct ov_buf vk;
    rc = audit_meta_get(a->db, "vkey", OV_NOTE_MAX_VKEY_LEN, &vk);
    if (rc == -OV_E_NOT_FOUND) {
        rc = audit_meta_put(a->db, "vkey", OV_BYTES(a->cfg.vkey, strlen(a->cfg.vkey)));
    } else if (rc == 0 && (vk.len != strlen(a->cfg.vkey) ||
                           memcmp(vk.ptr, a->cfg.vkey, vk.len) != 0)) {
        fprintf(stderr, "onevoice-audit: the state in %s follows another log (%.*s)\n", a->dir,
                (int)vk.len, (const char *)vk.ptr);
        rc = -OV_E_CONFLICT;
    }
    ov_buf_clear(&vk);
    if (rc != 0) {
        return rc;
    }
    struct ov_logreader_cfg rcfg = {
        .url = a->cfg.url,
        .log_key = a->cfg.log_key,
        .witnesses = a->cfg.witnesses,
        .n_witnesses = a->cfg.n_witnesses,
        .quorum = a->cfg.quorum,
        .verify_tiles = true,
        .keep_unquorate = true, /* a checkpoint short of its quorum is still evidence */
    };
    rc = ov_logreader_new(&rcfg, &a->reader);
    struct ov_buf st;
    if (rc == 0) {
        int g = audit_meta_get(a->db, "reader", AUDIT_MAX_READER_STATE, &st);
        if (g == 0) {
            rc = ov_logreader_resume(a->reader, ov_buf_view(&st));
            ov_buf_clear(&st);
        } else if (g != -OV_E_NOT_FOUND) {
            rc = g;
        }
    }
    a->first_size = rc == 0 ? ov_logreader_size(a->reader) : 0;
    sqlite3_stmt *s = ov_db_stmt(a->db, "run_put");
    rc = rc ? rc : ov_db_bind_int64(s, 1, (int64_t)time(NULL));
    rc = rc ? rc : ov_db_bind_uint64(s, 2, a->first_size);
    rc = rc ? rc : ov_db_bind_uint64(s, 3, a->first_size);
    rc = rc ? rc : ov_db_step(s);
    ov_db_reset(s);
    a->run = sqlite3_last_insert_rowid(ov_db_handle(a->db));
    rc = rc ? rc : ov_httpc_new(&a->http);
    rc = rc ? rc : seen_seed(a);
    rc = rc ? rc : audit_rules_new(a->db, a->cfg.threads, a->run, a->cfg.tally_grace,
                                   &a->rules);
    rc = rc ? rc : audit_rules_pool_sources(a->rules, a->cfg.pool_dir, a->cfg.pool_url,
                                                   a->cfg.url);
    if (rc != 0) {
        fprintf(stderr, "onevoice-audit: cannot resume from %s: %s\n", a->dir, ov_strerror(rc));
    }
    return rc;
}

void
audit_close(struct audit *a)
{
    audit_rules_free(a->rules);
    ov_logreader_free(a->reader);
    ov_httpc_free(a->http);
    ov_db_close(a->db);
    ov_logreader_cp_clear(&a->cp);
    if (a->temp_dir) {
        (void)nftw(a->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    }
}

/* ------------------------------------------------------------------ evidence */

/* DIR/checkpoints/<size>-<hex root>.txt: the signed note exactly as served. */
static void
evidence_path(const struct audit *a, uint64_t size, const uint8_t root[OV_HASH_LEN], char *out,
              size_t out_max)
{
    char hex[2 * OV_HASH_LEN + 1];
    if (ov_hex_encode(hex, sizeof hex, root, OV_HASH_LEN) != 0) {
        hex[0] = 0;
    }
    snprintf(out, out_max, "%s/checkpoints/%llu-%s.txt", a->dir, (unsigned long long)size, hex);
}

static int
keep_evidence(struct audit *a, const struct ov_logreader_cp *cp)
{
    char path[AUDIT_DIR_MAX + 128];
    if (a->temp_dir) {
        return 0;
    }
    evidence_path(a, cp->size, cp->root, path, sizeof path);
    if (access(path, F_OK) == 0) {
        return 0; /* kept already (perhaps with other cosignatures: the first one stays) */
    }
    int rc = ov_file_write_atomic(path, cp->note.ptr, cp->note.len, 0600);
    if (rc != 0) {
        fprintf(stderr, "onevoice-audit: cannot keep %s: %s\n", path, ov_strerror(rc));
    }
    return rc;
}

/* ------------------------------------------------------------------ forks */

/* The root of a checkpoint note kept earlier (verified when it was kept). */
static int
note_root(struct ov_bytes note, uint64_t *size, uint8_t root[OV_HASH_LEN])
{
    struct ov_note *n = malloc(sizeof *n);
    struct ov_checkpoint c;
    int rc = n ? ov_note_parse(note, n) : -OV_E_NOMEM;
    rc = rc ? rc : ov_checkpoint_parse(n->text, &c);
    if (rc == 0) {
        *size = c.size;
        memcpy(root, c.root, OV_HASH_LEN);
    }
    free(n);
    return rc;
}

/* 0 when the log proves (old_size, old_root) is a prefix of (size, root); -OV_E_HTTP when
 * the log could not be asked (unreachable, or a 5xx: no verdict); any other error is the
 * log's failure to prove it. */
static int
check_consistency(struct audit *a, uint64_t old_size, const uint8_t old_root[OV_HASH_LEN],
                  uint64_t size, const uint8_t root[OV_HASH_LEN])
{
    char url[OV_HTTPC_MAX_URL_LEN];
    size_t ul = ov_httpc_base_len(a->cfg.url);
    int n = snprintf(url, sizeof url, "%.*s/proof/consistency?old=%llu&size=%llu", (int)ul,
                     a->cfg.url, (unsigned long long)old_size, (unsigned long long)size);
    if (n < 0 || (size_t)n >= sizeof url) {
        return -OV_E_TOO_BIG;
    }
    struct ov_httpc_resp resp;
    int rc = ov_httpc_get(a->http, url, 64 * 1024, &resp);
    if (rc == 0 && resp.status >= 500) {
        ov_httpc_resp_clear(&resp);
        rc = -OV_E_HTTP; /* unavailable, not a refusal: ask again later */
    }
    if (rc == -OV_E_HTTP || rc == -OV_E_NOMEM) {
        fprintf(stderr, "onevoice-audit: cannot ask the log for a consistency proof: %s\n",
                ov_strerror(rc));
    }
    if (rc != 0) {
        return rc;
    }
    json_error_t err;
    json_t *j = resp.status == 200 ? json_loadb((const char *)resp.body.ptr, resp.body.len, 0,
                                                &err)
                                   : NULL;
    json_t *proof = json_object_get(j, "proof");
    size_t np = json_array_size(proof);
    uint8_t *hashes = calloc(np ? np : 1, OV_HASH_LEN);
    rc = j && json_is_array(proof) && np <= OV_MERKLE_MAX_PROOF && hashes ? 0 : -OV_E_MALFORMED;
    for (size_t i = 0; i < np && rc == 0; i++) {
        const char *s = json_string_value(json_array_get(proof, i));
        size_t got = 0;
        rc = s ? ov_b64_decode(hashes + i * OV_HASH_LEN, OV_HASH_LEN, &got, s, strlen(s),
                               OV_B64_STD)
               : -OV_E_MALFORMED;
        rc = rc ? rc : (got == OV_HASH_LEN ? 0 : -OV_E_MALFORMED);
    }
    rc = rc ? rc : ov_merkle_verify_consistency(old_size, size, old_root, root, hashes, np);
    free(hashes);
    json_decref(j);
    ov_httpc_resp_clear(&resp);
    return rc;
}

static int
record_fork(struct audit *a, const struct ov_buf *old_note, uint64_t old_size,
            const uint8_t old_root[OV_HASH_LEN], const struct ov_logreader_cp *cp,
            const char *detail)
{
    sqlite3_stmt *st = ov_db_stmt(a->db, "fork_put");
    int rc = ov_db_bind_uint64(st, 1, old_size);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(old_root, OV_HASH_LEN));
    rc = rc ? rc : ov_db_bind_text(st, 3, (const char *)old_note->ptr, old_note->len);
    rc = rc ? rc : ov_db_bind_uint64(st, 4, cp->size);
    rc = rc ? rc : ov_db_bind_blob(st, 5, OV_BYTES(cp->root, OV_HASH_LEN));
    rc = rc ? rc : ov_db_bind_text(st, 6, (const char *)cp->note.ptr, cp->note.len);
    rc = rc ? rc : ov_db_bind_text(st, 7, detail, strlen(detail));
    rc = rc ? rc : ov_db_bind_int64(st, 8, a->run);
    rc = rc ? rc : ov_db_step(st);
    if (rc == 0 && sqlite3_changes(ov_db_handle(a->db)) > 0) {
        a->new_forks++;
    }
    ov_db_reset(st);
    return rc;
}

/* record_fork in its own transaction. */
static int
fork_tx(struct audit *a, const struct ov_buf *old_note, uint64_t old_size,
        const uint8_t old_root[OV_HASH_LEN], const struct ov_logreader_cp *cp, const char *detail)
{
    a->tree_unverified = true;
    int rc = ov_db_exec(a->db, "BEGIN IMMEDIATE");
    rc = rc ? rc : record_fork(a, old_note, old_size, old_root, cp, detail);
    int end = ov_db_exec(a->db, rc == 0 ? "COMMIT" : "ROLLBACK");
    return rc ? rc : end;
}

/* ------------------------------------------------------------------ checkpoints seen */

struct seen_cp {
    bool found;
    uint64_t size;
    uint8_t root[OV_HASH_LEN];
    struct ov_buf note;
};

/* One row of seen_same (bound: size, root; the row: root, note), seen_below or seen_above
 * (bound: size; the row: size, root, note). out->note is initialised here. */
static int
seen_get(struct audit *a, const char *which, uint64_t size, const uint8_t root[OV_HASH_LEN],
         struct seen_cp *out)
{
    bool same = root != NULL;
    sqlite3_stmt *st = ov_db_stmt(a->db, which);
    memset(out, 0, sizeof *out);
    ov_buf_init(&out->note, OV_NOTE_MAX_LEN);
    out->size = size;
    int rc = ov_db_bind_uint64(st, 1, size);
    rc = rc ? rc : (same ? ov_db_bind_blob(st, 2, OV_BYTES(root, OV_HASH_LEN)) : 0);
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_ROW) {
        int c = 0;
        struct ov_bytes r, n;
        rc = same ? 0 : ov_db_col_uint64(st, c++, &out->size);
        rc = rc ? rc : ov_db_col_blob(st, c++, OV_HASH_LEN, &r);
        rc = rc ? rc : (r.len == OV_HASH_LEN ? 0 : -OV_E_DB);
        rc = rc ? rc : ov_db_col_text(st, c, OV_NOTE_MAX_LEN, &n);
        if (rc == 0) {
            memcpy(out->root, r.ptr, OV_HASH_LEN);
            rc = ov_buf_append(&out->note, n.ptr, n.len);
        }
        out->found = rc == 0;
    }
    ov_db_reset(st);
    if (rc != 0) {
        ov_buf_clear(&out->note);
    }
    return rc;
}

static int
seen_put(struct audit *a, const struct ov_logreader_cp *cp, const char *source)
{
    sqlite3_stmt *st = ov_db_stmt(a->db, "seen_put");
    int rc = ov_db_bind_uint64(st, 1, cp->size);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(cp->root, OV_HASH_LEN));
    rc = rc ? rc : ov_db_bind_text(st, 3, (const char *)cp->note.ptr, cp->note.len);
    rc = rc ? rc : ov_db_bind_int64(st, 4, 0);
    rc = rc ? rc : ov_db_bind_text(st, 5, source, strlen(source));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

static int
seen_verified(struct audit *a, const struct ov_logreader_cp *cp)
{
    sqlite3_stmt *st = ov_db_stmt(a->db, "seen_verified");
    int rc = ov_db_bind_uint64(st, 1, cp->size);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(cp->root, OV_HASH_LEN));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

/* Compares cp, signed by the log's key, with the checkpoints seen before: the one of the
 * same size and the nearest smaller and larger ones. They form one history unless a fork
 * was found already, so a checkpoint consistent with both neighbours is consistent with
 * all. will_sync: the reader is about to prove that cp extends the tree it read, so that
 * neighbour needs no proof. A fork is recorded with both notes; then cp is kept. */
static int
compare_seen(struct audit *a, const struct ov_logreader_cp *cp, bool will_sync,
             const char *source)
{
    static const char *const which[2] = { "seen_below", "seen_above" };
    struct seen_cp s;
    char detail[AUDIT_DETAIL_MAX];
    int rc = seen_get(a, "seen_same", cp->size, cp->root, &s);
    if (rc == 0 && s.found) {
        snprintf(detail, sizeof detail, "two signed checkpoints of size %llu with different "
                 "roots (one %s): the log signed two histories", (unsigned long long)cp->size,
                 source);
        rc = fork_tx(a, &s.note, s.size, s.root, cp, detail);
        ov_buf_clear(&s.note);
        return rc ? rc : seen_put(a, cp, source);
    }
    uint8_t read_root[OV_HASH_LEN];
    uint64_t read_size = ov_logreader_size(a->reader);
    rc = rc ? rc : ov_logreader_root(a->reader, read_root);
    for (int i = 0; i < 2 && rc == 0; i++) {
        rc = seen_get(a, which[i], cp->size, NULL, &s);
        bool below = i == 0;
        if (rc != 0 || !s.found ||
            (below && will_sync && s.size == read_size &&
             memcmp(s.root, read_root, OV_HASH_LEN) == 0)) {
            ov_buf_clear(&s.note);
            continue;
        }
        int c = below ? check_consistency(a, s.size, s.root, cp->size, cp->root)
                      : check_consistency(a, cp->size, cp->root, s.size, s.root);
        if (c == -OV_E_HTTP || c == -OV_E_NOMEM) {
            rc = c;
        } else if (c != 0) {
            snprintf(detail, sizeof detail, "the signed checkpoint of size %llu (%s) and the "
                     "one of size %llu seen before are not one history (consistency proof: %s)",
                     (unsigned long long)cp->size, source, (unsigned long long)s.size,
                     ov_strerror(c));
            rc = fork_tx(a, &s.note, s.size, s.root, cp, detail);
            i = 2; /* one fork is enough */
        }
        ov_buf_clear(&s.note);
    }
    return rc ? rc : seen_put(a, cp, source);
}

/* The checkpoint kept before this version of the state had a `seen` table. */
static int
seen_seed(struct audit *a)
{
    struct ov_buf note;
    struct ov_logreader_cp cp;
    int64_t n = 0;
    sqlite3_stmt *st = ov_db_stmt(a->db, "seen_count");
    int rc = ov_db_step(st);
    rc = rc == OV_DB_ROW ? ov_db_col_int64(st, 0, &n) : (rc ? rc : -OV_E_DB);
    ov_db_reset(st);
    if (rc != 0 || n > 0) {
        return rc;
    }
    rc = audit_meta_get(a->db, "cp_note", OV_NOTE_MAX_LEN, &note);
    if (rc == -OV_E_NOT_FOUND) {
        return 0;
    }
    memset(&cp, 0, sizeof cp);
    rc = rc ? rc : note_root(ov_buf_view(&note), &cp.size, cp.root);
    if (rc == 0) {
        cp.note = note;
        rc = seen_put(a, &cp, "served");
        rc = rc ? rc : seen_verified(a, &cp);
    }
    ov_buf_clear(&note);
    return rc;
}

/* ------------------------------------------------------------------ checkpoints given */

/* One checkpoint note from where (a file, a URL): checked against the log if signed by it
 * (whatever its cosignatures, though a trusted witness's that fails rejects it). */
static int
gossip_note(struct audit *a, const char *where, struct ov_bytes note)
{
    struct ov_logreader_cfg cfg = {
        .url = a->cfg.url,
        .log_key = a->cfg.log_key,
        .witnesses = a->cfg.witnesses,
        .n_witnesses = a->cfg.n_witnesses,
        .quorum = 0,
    };
    struct ov_logreader_cp cp;
    int rc = ov_logreader_verify_note(&cfg, note, &cp);
    if (rc != 0) {
        fprintf(stderr, "onevoice-audit: %s: not a checkpoint signed by %s (%s): ignored\n",
                where, a->cfg.log_key.name, ov_strerror(rc));
        a->gossip_ignored++;
        return 0;
    }
    a->gossip_read++;
    rc = keep_evidence(a, &cp);
    rc = rc ? rc : compare_seen(a, &cp, false, "given");
    ov_logreader_cp_clear(&cp);
    return rc;
}

static int
gossip_file(struct audit *a, const char *path)
{
    struct ov_buf note;
    int rc = ov_file_read(path, OV_NOTE_MAX_LEN, &note);
    if (rc != 0) {
        fprintf(stderr, "onevoice-audit: %s: %s: ignored\n", path, ov_strerror(rc));
        a->gossip_ignored++;
        return 0;
    }
    rc = gossip_note(a, path, ov_buf_view(&note));
    ov_buf_clear(&note);
    return rc;
}

/* A witness's latest cosigned checkpoint (GET /<hex SHA-256(origin)>/checkpoint), or any
 * URL serving a note. */
static int
gossip_url(struct audit *a, const char *url)
{
    struct ov_httpc_resp resp;
    int rc = ov_httpc_get(a->http, url, OV_NOTE_MAX_LEN, &resp);
    if (rc != 0 || resp.status != 200) {
        fprintf(stderr, "onevoice-audit: %s: %s: ignored\n", url,
                rc ? ov_strerror(rc) : "not HTTP 200");
        a->gossip_ignored++;
        ov_httpc_resp_clear(&resp);
        return 0;
    }
    rc = gossip_note(a, url, ov_buf_view(&resp.body));
    ov_httpc_resp_clear(&resp);
    return rc;
}

static int
by_name(const struct dirent **x, const struct dirent **y)
{
    return strcmp((*x)->d_name, (*y)->d_name);
}

int
audit_gossip(struct audit *a, const char *path)
{
    struct stat st;
    if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0) {
        return gossip_url(a, path);
    }
    if (stat(path, &st) != 0) {
        fprintf(stderr, "onevoice-audit: %s: %s\n", path, strerror(errno));
        return -OV_E_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        return gossip_file(a, path);
    }
    struct dirent **list = NULL;
    int n = scandir(path, &list, NULL, by_name);
    if (n < 0) {
        fprintf(stderr, "onevoice-audit: %s: %s\n", path, strerror(errno));
        return -OV_E_IO;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char file[PATH_MAX];
        int l = snprintf(file, sizeof file, "%s/%s", path, list[i]->d_name);
        if (rc == 0 && list[i]->d_name[0] != '.' && l > 0 && (size_t)l < sizeof file &&
            stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = gossip_file(a, file);
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

int
audit_publish(struct audit *a, const char *path)
{
    if (!a->have_cp) {
        return 0;
    }
    int rc = ov_file_write_atomic(path, a->cp.note.ptr, a->cp.note.len, 0644);
    if (rc != 0) {
        fprintf(stderr, "onevoice-audit: cannot publish the checkpoint to %s: %s\n", path,
                ov_strerror(rc));
    }
    return rc;
}

/* The sync failed to extend the tree read so far to cp: fork or bad data? */
static int
explain_mismatch(struct audit *a, const struct ov_logreader_cp *cp, int sync_rc)
{
    struct ov_buf old;
    uint64_t old_size = 0;
    uint8_t old_root[OV_HASH_LEN];
    int rc = audit_meta_get(a->db, "cp_note", OV_NOTE_MAX_LEN, &old);
    if (rc == -OV_E_NOT_FOUND) {
        problem(a, R_TREE_MISMATCH,
                "the entries served do not hash to the root of the signed checkpoint of size "
                "%llu (entries or tiles were altered after signing)",
                (unsigned long long)cp->size);
        return 0;
    }
    rc = rc ? rc : note_root(ov_buf_view(&old), &old_size, old_root);
    if (rc != 0) {
        ov_buf_clear(&old);
        return rc;
    }
    char detail[AUDIT_DETAIL_MAX];
    bool fork = true;
    if (sync_rc == -OV_E_STATE) {
        snprintf(detail, sizeof detail,
                 "the log went back from its signed checkpoint of size %llu to one of size %llu",
                 (unsigned long long)old_size, (unsigned long long)cp->size);
    } else if (old_size == cp->size) {
        fork = memcmp(old_root, cp->root, OV_HASH_LEN) != 0;
        snprintf(detail, sizeof detail,
                 "two signed checkpoints of size %llu with different roots: the log rewrote "
                 "its history", (unsigned long long)cp->size);
    } else {
        int c = check_consistency(a, old_size, old_root, cp->size, cp->root);
        if (c == -OV_E_HTTP || c == -OV_E_NOMEM) {
            ov_buf_clear(&old);
            return c;
        }
        fork = c != 0;
        snprintf(detail, sizeof detail,
                 "the signed checkpoint of size %llu does not extend the one of size %llu kept "
                 "before (consistency proof: %s): the log rewrote or forked its history",
                 (unsigned long long)cp->size, (unsigned long long)old_size,
                 c == 0 ? "ok" : ov_strerror(c));
    }
    if (fork) {
        rc = fork_tx(a, &old, old_size, old_root, cp, detail);
    } else {
        problem(a, R_TREE_MISMATCH,
                "the log's checkpoints are consistent, but the entries or tiles it serves do not "
                "hash to the signed root of size %llu", (unsigned long long)cp->size);
    }
    ov_buf_clear(&old);
    return rc;
}

/* ------------------------------------------------------------------ the round */

static void
draw_progress(struct audit *a, uint64_t index, bool last)
{
    double now = audit_now();
    if (!last && now - a->last_draw < 0.1) {
        return;
    }
    a->last_draw = now;
    uint64_t total = a->sync_to - a->sync_from, done = index - a->sync_from;
    double frac = total ? (double)done / (double)total : 1.0;
    double rate = now > a->sync_start ? (double)done / (now - a->sync_start) : 0;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++) {
        bar[i] = i < fill ? '#' : '.';
    }
    bar[30] = 0;
    fprintf(stderr, "\r[%s] %5.1f%%  %llu/%llu entries  %.0f entries/s%s", bar, 100 * frac,
            (unsigned long long)done, (unsigned long long)total, rate, last ? "\n" : "");
}

static int
on_entry(void *ctx, uint64_t index, struct ov_bytes entry)
{
    struct audit *a = ctx;
    int rc = audit_rules_entry(a->rules, index, entry);
    a->entry_rc = rc;
    if (rc == 0 && (index & 1023) == 1023) {
        if (a->cfg.progress) {
            draw_progress(a, index + 1, false);
        }
        if (a->cfg.follow && (index & 4095) == 4095 && ov_cli_wait_ms(1)) {
            a->stopping = true;
            rc = -OV_E_STATE;
        }
    }
    return rc;
}

/* The checkpoint, or a problem recorded (return 1) or an error. */
static int
fetch_checkpoint(struct audit *a, struct ov_logreader_cp *cp)
{
    int rc = ov_logreader_checkpoint(a->reader, cp);
    switch (rc) {
    case 0:
        return 0;
    case -OV_E_BAD_SIG:
    case -OV_E_UNKNOWN_KEY:
        problem(a, R_CHECKPOINT_SIGNATURE,
                "the checkpoint served is not validly signed by the log's key %s (or a trusted "
                "witness's cosignature on it is invalid)", a->cfg.log_key.name);
        return 1;
    case -OV_E_STATE:
        problem(a, R_WITNESS_QUORUM,
                "the checkpoint served (size %llu) carries %u valid cosignatures of the %zu "
                "witnesses trusted, fewer than the quorum %u", (unsigned long long)cp->size,
                cp->n_cosigned, a->cfg.n_witnesses, a->cfg.quorum);
        /* signed by the log all the same: evidence, compared with every one seen */
        rc = keep_evidence(a, cp);
        rc = rc ? rc : compare_seen(a, cp, false, "served without its witness quorum");
        ov_logreader_cp_clear(cp);
        return rc ? rc : 1;
    case -OV_E_MALFORMED:
    case -OV_E_NONCANONICAL:
    case -OV_E_RANGE:
    case -OV_E_TOO_BIG:
        problem(a, R_CHECKPOINT_INVALID, "the checkpoint served is not a valid signed "
                "checkpoint note (%s)", ov_strerror(rc));
        return 1;
    default:
        fprintf(stderr, "onevoice-audit: cannot fetch the checkpoint from %s: %s\n", a->cfg.url,
                ov_strerror(rc));
        return rc;
    }
}

static int
commit_state(struct audit *a, const struct ov_logreader_cp *cp)
{
    struct ov_buf st;
    int rc = audit_rules_finish(a->rules);
    rc = rc ? rc : ov_logreader_state(a->reader, &st);
    if (rc == 0) {
        rc = audit_meta_put(a->db, "reader", ov_buf_view(&st));
        ov_buf_clear(&st);
    }
    rc = rc ? rc : audit_meta_put(a->db, "cp_note", ov_buf_view(&cp->note));
    rc = rc ? rc : audit_meta_put_u64(a->db, "cp_size", cp->size);
    sqlite3_stmt *s = ov_db_stmt(a->db, "run_update");
    rc = rc ? rc : ov_db_bind_uint64(s, 1, cp->size);
    rc = rc ? rc : ov_db_bind_int64(s, 2, a->run);
    rc = rc ? rc : ov_db_step(s);
    ov_db_reset(s);
    return rc ? rc : ov_db_exec(a->db, "COMMIT");
}

/* Undoes a sync: the state's transaction and what the rules changed in memory. */
static int
rollback(struct audit *a)
{
    int rc = ov_db_exec(a->db, "ROLLBACK");
    int rr = audit_rules_reset(a->rules);
    return rc ? rc : rr;
}

int
audit_round(struct audit *a, bool *grew)
{
    struct ov_logreader_cp cp;
    *grew = false;
    int rc = fetch_checkpoint(a, &cp);
    if (rc != 0) {
        return rc > 0 ? 0 : rc;
    }
    uint8_t root[OV_HASH_LEN];
    uint64_t from = ov_logreader_size(a->reader);
    rc = keep_evidence(a, &cp);
    rc = rc ? rc : audit_rules_witness_time(a->rules, cp.witness_time);
    rc = rc ? rc : ov_logreader_root(a->reader, root);
    bool same_tree = rc == 0 && from == cp.size && memcmp(root, cp.root, OV_HASH_LEN) == 0;
    if (rc == 0 && !same_tree) { /* the tree read is in the seen table already */
        rc = compare_seen(a, &cp, true, "served");
    }
    if (same_tree) {
        rc = seen_verified(a, &cp);
        ov_logreader_cp_clear(&a->cp);
        a->cp = cp; /* the same tree, perhaps with fresher cosignatures */
        a->have_cp = true;
        return rc;
    }
    rc = rc ? rc : ov_db_exec(a->db, "BEGIN IMMEDIATE");
    if (rc != 0) {
        ov_logreader_cp_clear(&cp);
        return rc;
    }
    a->sync_from = from;
    a->sync_to = cp.size;
    a->sync_start = a->last_draw = audit_now();
    a->entry_rc = 0;
    int srs = ov_logreader_sync(a->reader, &cp, on_entry, a);
    double dt = audit_now() - a->sync_start;
    if (srs == 0) {
        if (a->cfg.progress && cp.size > from) {
            draw_progress(a, cp.size, true);
        }
        /* the tree the rules rebuilt (the statement rounds' seeds) is the one verified */
        rc = audit_rules_tree_check(a->rules, cp.size, cp.root);
        rc = rc ? rc : commit_state(a, &cp);
        if (rc != 0) {
            if (rollback(a) != 0) {
                fprintf(stderr, "onevoice-audit: the state could not be rolled back\n");
            }
            fprintf(stderr, "onevoice-audit: cannot save the state: %s\n", ov_strerror(rc));
            ov_logreader_cp_clear(&cp);
            return rc;
        }
        audit_rules_committed(a->rules);
        rc = seen_verified(a, &cp);
        a->read_entries += cp.size - from;
        a->read_seconds += dt;
        *grew = true;
        ov_logreader_cp_clear(&a->cp);
        a->cp = cp;
        a->have_cp = true;
        return rc;
    }
    if (a->cfg.progress) {
        fputc('\n', stderr);
    }
    rc = rollback(a);
    if (rc != 0 || a->stopping) {
        /* nothing to explain */
    } else if (a->entry_rc != 0) {
        fprintf(stderr, "onevoice-audit: checking the entries failed: %s\n",
                ov_strerror(a->entry_rc));
        rc = a->entry_rc;
    } else if (srs == -OV_E_BAD_PROOF || srs == -OV_E_STATE) {
        rc = explain_mismatch(a, &cp, srs);
    } else if (srs == -OV_E_MALFORMED || srs == -OV_E_TRUNCATED || srs == -OV_E_TOO_BIG) {
        problem(a, R_TREE_MISMATCH, "the log serves an entry bundle or tile that does not parse "
                "(%s)", ov_strerror(srs));
    } else {
        fprintf(stderr, "onevoice-audit: reading the log failed: %s\n", ov_strerror(srs));
        rc = srs;
    }
    if (rc == 0 && a->stopping) {
        rc = -OV_E_STATE;
    }
    ov_logreader_cp_clear(&cp);
    return rc;
}
