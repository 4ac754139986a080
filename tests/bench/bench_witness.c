/* Benchmark: onevoice-witness add-checkpoint requests per second, end to end. It starts the
 * real server ($BUILD/onevoice-witness) on 127.0.0.1:0 with a temp data dir, then submits a
 * chain of checkpoints of a growing tree over one keep-alive connection: each request is a new
 * checkpoint (size s, old s - 1, its consistency proof, a fresh log signature), so each one
 * costs HTTP, parsing, the log signature's verification, the proof, the cosignature and one
 * durable SQLite commit. Requests are sequential by nature: each needs the size the one before
 * stored. Limits measured in the same run:
 *   - fsync'd SQLite commits per second (WAL, synchronous=FULL, one INSERT of a checkpoint-sized
 *     row per BEGIN IMMEDIATE transaction) in the same directory: no sequential witness can
 *     answer faster than it can commit;
 *   - Ed25519 verify + sign pairs per second (the crypto each request needs).
 * Prints "bench NAME VALUE UNIT limit LIMIT ratio R" lines. Under 15 seconds. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "base/codec.h"
#include "infra/db.h"
#include "infra/httpc.h"
#include "primitives/merkle.h"
#include "primitives/note.h"
#include "protocol/witreq.h"
#include "bench.h"

#define N_CHECKPOINTS 20000 /* the most requests sent */
#define POST_SECONDS 6.0    /* the most time spent sending them */
#define LIMIT_SECONDS 2.0
#define ORIGIN "bench.example/log"

static char dir[] = "/tmp/ov-bench-witness-XXXXXX";

/* every perfect subtree of the tree built so far: level L, index i at nodes[L][32·i] */
static uint8_t *nodes[OV_MERKLE_LEVELS];

static int
keep_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[OV_HASH_LEN])
{
    (void)ctx;
    if (nodes[level] == NULL) {
        nodes[level] = calloc((N_CHECKPOINTS >> level) + 1, OV_HASH_LEN);
        if (nodes[level] == NULL) {
            return -OV_E_NOMEM;
        }
    }
    memcpy(nodes[level] + index * OV_HASH_LEN, hash, OV_HASH_LEN);
    return 0;
}

static int
get_node(void *ctx, unsigned level, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    (void)ctx;
    memcpy(out, nodes[level] + index * OV_HASH_LEN, OV_HASH_LEN);
    return 0;
}

/* The body for size s (the builder holds s leaves): old s - 1, PROOF(s - 1, s), the note. */
static int
make_body(const struct ov_merkle_builder *b, const struct ov_note_signer *log, struct ov_buf *out)
{
    uint64_t s = ov_merkle_builder_size(b);
    uint8_t root[OV_HASH_LEN], proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
    char root_b64[64], text[256];
    size_t n_proof = 0;
    struct ov_buf note;
    const struct ov_merkle_src src = {get_node, NULL};
    const struct ov_note_signer *signers[] = {log};
    int rc = ov_merkle_builder_root(b, root);
    rc = rc ? rc : ov_b64_encode(root_b64, sizeof root_b64, root, OV_HASH_LEN, OV_B64_STD);
    if (rc == 0 && s > 1) {
        rc = ov_merkle_consistency_proof(&src, s - 1, s, proof, OV_MERKLE_MAX_PROOF, &n_proof);
    }
    int n = snprintf(text, sizeof text, "%s\n%llu\n%s\n", ORIGIN, (unsigned long long)s, root_b64);
    rc = rc ? rc : ov_note_sign(OV_BYTES(text, (size_t)n), signers, 1, &note);
    rc = rc ? rc : ov_witreq_format(s - 1, proof, n_proof, ov_buf_view(&note), out);
    ov_buf_clear(&note);
    return rc;
}

/* bodies[i] submits size i + 1. */
static int
make_bodies(struct ov_buf *bodies, const struct ov_note_signer *log)
{
    struct ov_merkle_builder b;
    ov_merkle_builder_init(&b, keep_node, NULL);
    int rc = 0;
    for (unsigned i = 0; i < N_CHECKPOINTS && rc == 0; i++) {
        char entry[32];
        uint8_t leaf[OV_HASH_LEN];
        int n = snprintf(entry, sizeof entry, "bench entry %u", i);
        rc = ov_merkle_leaf_hash((const uint8_t *)entry, (size_t)n, leaf);
        rc = rc ? rc : ov_merkle_builder_append(&b, leaf);
        rc = rc ? rc : make_body(&b, log, &bodies[i]);
    }
    return rc;
}

static int
write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL && fputs(s, f) >= 0;
    return (f != NULL && fclose(f) == 0 && ok) ? 0 : -OV_E_IO;
}

/* Starts the witness; *port once it is serving. */
static int
start_witness(pid_t *pid, unsigned *port)
{
    char bin[1024], data[256], logs[256], pf[256];
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    snprintf(bin, sizeof bin, "%s/onevoice-witness", build);
    snprintf(data, sizeof data, "%s/w", dir);
    snprintf(logs, sizeof logs, "%s/logs", dir);
    snprintf(pf, sizeof pf, "%s/port", dir);
    *pid = fork();
    if (*pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 2);
        }
        execl(bin, bin, "--data", data, "--name", "bench.example/w", "--logs", logs, "--port-file",
              pf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400 && *pid > 0; i++) {
        FILE *f = fopen(pf, "r");
        if (f != NULL) {
            int got = fscanf(f, "%u", port);
            fclose(f);
            if (got == 1) {
                return 0;
            }
        }
        usleep(25000);
    }
    return -OV_E_IO;
}

/* Sends bodies in order until all are sent or POST_SECONDS pass: requests per second. */
static double
post_all(unsigned port, const struct ov_buf *bodies, int *fail)
{
    struct ov_httpc *c = NULL;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/add-checkpoint", port);
    if (ov_httpc_new(&c) != 0) {
        *fail = 1;
        return 0;
    }
    double t0 = bench_now(), t = 0;
    unsigned n = 0;
    while (n < N_CHECKPOINTS && (t = bench_now() - t0) < POST_SECONDS) {
        struct ov_httpc_resp resp;
        int rc = ov_httpc_post(c, url, "text/plain", ov_buf_view(&bodies[n]), 4096, &resp);
        if (rc != 0 || resp.status != 200) {
            fprintf(stderr, "bench_witness: request %u: %s, HTTP %u\n", n, ov_strerror(rc),
                    rc ? 0 : resp.status);
            *fail = 1;
            if (rc == 0) {
                ov_httpc_resp_clear(&resp);
            }
            break;
        }
        ov_httpc_resp_clear(&resp);
        n++;
    }
    t = bench_now() - t0;
    ov_httpc_free(c);
    return (double)n / t;
}

static const char *const limit_migrations[] = {
    "CREATE TABLE t (id INTEGER PRIMARY KEY, origin TEXT NOT NULL, note TEXT NOT NULL) STRICT;",
};
static const struct ov_db_stmt_def limit_stmts[] = {
    /* commit_one: one row the size of a witness's checkpoint row */
    {"put", "INSERT INTO t (origin, note) VALUES (?, ?)"},
};

static int
commit_one(struct ov_db *db, void *ctx)
{
    const struct ov_buf *row = ctx;
    sqlite3_stmt *st = ov_db_stmt(db, "put");
    int rc = ov_db_bind_text(st, 1, ORIGIN, strlen(ORIGIN));
    rc = rc ? rc : ov_db_bind_text(st, 2, (const char *)row->ptr, row->len);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

/* Durable single-row commits per second, in the same directory as the witness's database. */
static double
commit_rate(struct ov_buf *row, int *fail)
{
    char path[256];
    struct ov_db *db = NULL;
    const struct ov_db_schema schema = {limit_migrations, 1, limit_stmts, 1};
    snprintf(path, sizeof path, "%s/limit.db", dir);
    if (ov_db_open(path, 0, &schema, &db) != 0) {
        *fail = 1;
        return 1;
    }
    double t0 = bench_now(), t = 0;
    long n = 0;
    while ((t = bench_now() - t0) < LIMIT_SECONDS) {
        if (ov_db_tx(db, commit_one, row) != 0) {
            *fail = 1;
            break;
        }
        n++;
    }
    ov_db_close(db);
    return (double)n / t;
}

/* Ed25519 verify + sign pairs per second: the crypto of one request. */
static double
crypto_rate(void)
{
    uint8_t pk[32], sk[64], sig[64];
    static const uint8_t msg[120] = {1};
    crypto_sign_keypair(pk, sk);
    double t0 = bench_now(), t = 0;
    long n = 0;
    int bad = 0;
    while ((t = bench_now() - t0) < 0.5) {
        for (int i = 0; i < 16; i++) {
            bad |= crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
            bad |= crypto_sign_verify_detached(sig, msg, sizeof msg, pk);
        }
        n += 16;
    }
    sodium_memzero(sk, sizeof sk);
    return bad ? 1 : (double)n / t;
}

int
main(void)
{
    struct ov_sign_key *key = NULL;
    struct ov_note_signer *log = NULL;
    struct ov_buf vkey, *bodies = calloc(N_CHECKPOINTS, sizeof *bodies);
    char logs[256], line[1024];
    pid_t pid = -1;
    unsigned port = 0;
    int fail = 0;
    ov_buf_init(&vkey, OV_NOTE_MAX_VKEY_LEN);
    if (bodies == NULL || sodium_init() < 0 || mkdtemp(dir) == NULL ||
        ov_sign_key_generate(&key) != 0 ||
        ov_note_signer_new(OV_BYTES_STR(ORIGIN), OV_NOTE_TYPE_ED25519, key, &log) != 0 ||
        ov_note_vkey_format(ov_note_signer_verifier(log), &vkey) != 0 ||
        make_bodies(bodies, log) != 0) {
        fprintf(stderr, "bench_witness: setup failed\n");
        return 1;
    }
    snprintf(logs, sizeof logs, "%s/logs", dir);
    snprintf(line, sizeof line, "%s %.*s\n", ORIGIN, (int)vkey.len, (const char *)vkey.ptr);
    if (write_file(logs, line) != 0 || start_witness(&pid, &port) != 0) {
        fprintf(stderr, "bench_witness: cannot start the witness\n");
        fail = 1;
    }
    double rps = fail ? 0 : post_all(port, bodies, &fail);
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    double commits = commit_rate(&bodies[N_CHECKPOINTS - 1], &fail);
    double crypto = crypto_rate();
    if (!fail) {
        /* limits: fsync'd SQLite commits/s; Ed25519 verify+sign pairs/s */
        printf("bench witness_add_checkpoint %.0f req/s limit %.0f ratio %.3f\n", rps, commits,
               rps / commits);
        printf("bench witness_add_checkpoint_crypto %.0f req/s limit %.0f ratio %.3f\n", rps,
               crypto, rps / crypto);
    }
    for (unsigned i = 0; i < N_CHECKPOINTS; i++) {
        ov_buf_clear(&bodies[i]);
    }
    for (unsigned l = 0; l < OV_MERKLE_LEVELS; l++) {
        free(nodes[l]);
    }
    free(bodies);
    ov_buf_clear(&vkey);
    ov_note_signer_free(log);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_witness: could not remove %s\n", dir);
    }
    return fail;
}
