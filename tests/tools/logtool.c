/* logtool: a producer and checker for onevoice-log, for tests and benchmarks.
 *
 *   logtool keygen FILE                    new Ed25519 producer key; prints its public key
 *   logtool append  URL KEY PRODUCER [--checkpoint] [--opaque] TEXT...
 *                                          appends one entry per TEXT ({"kind":"test",
 *                                          "text":TEXT} unless --opaque; with --opaque, @FILE
 *                                          is the entry's raw bytes); prints "index hash"
 *   logtool fixture URL KEY PRODUCER N BATCH
 *                                          appends "fixture entry <i>" for i < N
 *   logtool load URL KEY PRODUCER --count N --batch B --conns C [--size BYTES]
 *                [--checkpoint] [--acks FILE] [--seconds S] [--rate ENTRIES_PER_S]
 *                                          concurrent producers; prints one "load ..." line
 *   logtool request OUT KEY PRODUCER [--age-ms MS] [--opaque] [--checkpoint] TEXT...
 *                                          writes a signed append request: OUT.body, OUT.sig
 *                                          (for hostile-request tests that replay or alter it)
 *   logtool read URL VKEY [--state FILE] [--tiles] [--witness VKEY]... [--quorum K]
 *                                          follows the log with core/protocol/logreader (resuming
 *                                          from and saving --state); prints "read FROM TO"
 *   logtool verify URL VKEY [--acks FILE] [--previous CHECKPOINT_FILE] [--save FILE]
 *                                          fetches the checkpoint, every bundle and tile,
 *                                          recomputes the tree, checks acks and consistency
 * Exit status 0 on success, 1 on any failure (with a message). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "primitives/cbor.h"
#include "base/clock.h"
#include "base/codec.h"
#include "infra/httpc.h"
#include "infra/keyfile.h"
#include "protocol/logclient.h"
#include "protocol/logreader.h"
#include "primitives/merkle.h"
#include "primitives/note.h"
#include "primitives/tiles.h"
#include "tool.h"

static void
die(const char *msg, int rc)
{
    fprintf(stderr, "logtool: %s: %s\n", msg, rc ? ov_strerror(rc) : "failed");
    exit(1);
}

static struct ov_sign_key *
load_key(const char *path)
{
    struct ov_sign_key *k = NULL;
    int rc = ov_keyfile_load_sign_key(path, &k);
    if (rc != 0) {
        die(path, rc);
    }
    return k;
}

static int
cmd_keygen(const char *path)
{
    struct ov_sign_key *k = NULL;
    int rc = ov_keyfile_create_sign_key(path, &k);
    if (rc != 0) {
        die(path, rc);
    }
    char b64[64];
    if (ov_b64_encode(b64, sizeof b64, ov_sign_key_pk(k), OV_SIGN_PK_LEN, OV_B64_STD) != 0) {
        die("encode", 0);
    }
    printf("%s\n", b64);
    ov_sign_key_free(k);
    return 0;
}

/* {"kind": kind, "text": text} or {"kind": "bench", "n": n, "pad": bytes} */
static void
make_entry(struct ov_buf *out, const char *text, uint64_t n, size_t pad)
{
    cbor_item_t *m = ov_cbor_map_new();
    uint8_t *p = calloc(1, pad + 1);
    int rc = m && p ? 0 : -OV_E_NOMEM;
    if (text != NULL) {
        rc = rc ? rc : ov_cbor_put_text(m, "kind", "test");
        rc = rc ? rc : ov_cbor_put_text(m, "text", text);
    } else {
        rc = rc ? rc : ov_cbor_put_text(m, "kind", "bench");
        rc = rc ? rc : ov_cbor_put_uint(m, "n", n);
        rc = rc ? rc : ov_cbor_put_bytes(m, "pad", p, pad);
    }
    ov_buf_init(out, 1 << 16);
    rc = rc ? rc : ov_cbor_encode(m, out);
    ov_cbor_free(m);
    free(p);
    if (rc != 0) {
        die("entry", rc);
    }
}

static void
print_ack(FILE *f, const struct ov_log_ack *ack, size_t i)
{
    char hex[2 * OV_HASH_LEN + 1];
    if (ov_hex_encode(hex, sizeof hex, ack->hashes[i], OV_HASH_LEN) == 0) {
        fprintf(f, "%llu %s\n", (unsigned long long)ack->indices[i], hex);
    }
}

static int
cmd_append(int argc, char **argv)
{
    struct ov_sign_key *k = load_key(argv[3]);
    struct ov_logclient *c = NULL;
    int cp = flag(argc, argv, "--checkpoint"), opaque = flag(argc, argv, "--opaque");
    if (ov_logclient_new(argv[2], argv[4], k, &c) != 0) {
        die("client", 0);
    }
    size_t n = 0;
    struct ov_bytes *e = calloc((size_t)argc, sizeof *e);
    struct ov_buf *bufs = calloc((size_t)argc, sizeof *bufs);
    for (int i = 5; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] == '-') {
            i += strcmp(argv[i], "--vkey") == 0;
            continue;
        }
        if (opaque && strncmp(argv[i], "@", 1) == 0) { /* @FILE: the entry's raw bytes */
            FILE *f = fopen(argv[i] + 1, "rb");
            uint8_t raw[65536];
            size_t len = f ? fread(raw, 1, sizeof raw, f) : 0;
            if (f) {
                fclose(f);
            }
            ov_buf_init(&bufs[n], sizeof raw);
            if (len == 0 || ov_buf_append(&bufs[n], raw, len) != 0) {
                die("entry file", 0);
            }
            e[n] = ov_buf_view(&bufs[n]);
            n++;
        } else if (opaque) {
            e[n++] = OV_BYTES(argv[i], strlen(argv[i]));
        } else {
            make_entry(&bufs[n], argv[i], 0, 0);
            e[n] = ov_buf_view(&bufs[n]);
            n++;
        }
    }
    struct ov_log_ack ack;
    int rc = ov_logclient_append(c, e, n, cp, &ack);
    if (rc != 0) {
        fprintf(stderr, "logtool: append refused: HTTP %u %s\n", ack.status, ack.reason);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        print_ack(stdout, &ack, i);
    }
    const char *vkey = opt(argc, argv, "--vkey", NULL);
    if (cp && vkey != NULL) {
        /* the receipt: the checkpoint verifies and each proof leads to its root */
        struct ov_note_verifier v;
        struct ov_note note;
        struct ov_checkpoint c2;
        if (ov_note_vkey_parse(OV_BYTES(vkey, strlen(vkey)), &v) != 0 ||
            ov_note_open(ov_buf_view(&ack.checkpoint), &v, 1, &note, NULL) != 0 ||
            ov_checkpoint_parse(note.text, &c2) != 0 || c2.size != ack.checkpoint_size) {
            die("the returned checkpoint does not verify", 0);
        }
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            if (ov_merkle_verify_inclusion(ack.indices[i], c2.size, ack.hashes[i],
                                           ack.proofs + off * OV_HASH_LEN, ack.n_proof[i],
                                           c2.root) != 0) {
                die("an inclusion proof does not verify", 0);
            }
            off += ack.n_proof[i];
        }
        printf("receipts verified at size %llu\n", (unsigned long long)c2.size);
    }
    ov_log_ack_clear(&ack);
    for (size_t i = 0; i < n; i++) {
        ov_buf_clear(&bufs[i]);
    }
    free(bufs);
    free(e);
    ov_logclient_free(c);
    ov_sign_key_free(k);
    return 0;
}

static int
cmd_fixture(int argc, char **argv)
{
    if (argc < 7) {
        die("usage: fixture URL KEY PRODUCER N BATCH", 0);
    }
    struct ov_sign_key *k = load_key(argv[3]);
    struct ov_logclient *c = NULL;
    size_t total = strtoul(argv[5], NULL, 10), batch = strtoul(argv[6], NULL, 10);
    if (ov_logclient_new(argv[2], argv[4], k, &c) != 0 || batch == 0) {
        die("client", 0);
    }
    char *text = malloc(batch * 32);
    struct ov_bytes *e = calloc(batch, sizeof *e);
    for (size_t start = 0; start < total; start += batch) {
        size_t n = total - start < batch ? total - start : batch;
        for (size_t i = 0; i < n; i++) {
            int len = snprintf(text + i * 32, 32, "fixture entry %zu", start + i);
            e[i] = OV_BYTES(text + i * 32, (size_t)len);
        }
        struct ov_log_ack ack;
        if (ov_logclient_append(c, e, n, false, &ack) != 0) {
            fprintf(stderr, "logtool: append refused: HTTP %u %s\n", ack.status, ack.reason);
            return 1;
        }
        for (size_t i = 0; i < n; i++) {
            if (ack.indices[i] != start + i) {
                fprintf(stderr, "logtool: entry %zu got index %llu\n", start + i,
                        (unsigned long long)ack.indices[i]);
                return 1;
            }
        }
        ov_log_ack_clear(&ack);
    }
    free(text);
    free(e);
    ov_logclient_free(c);
    ov_sign_key_free(k);
    return 0;
}

static int
cmd_request(int argc, char **argv)
{
    struct ov_sign_key *k = load_key(argv[3]);
    uint64_t age = strtoull(opt(argc, argv, "--age-ms", "0"), NULL, 10);
    int opaque = flag(argc, argv, "--opaque");
    uint8_t nonce[16], sig[OV_SIGN_SIG_LEN];
    uint64_t now = ov_now_ms();
    randombytes_buf(nonce, sizeof nonce);
    cbor_item_t *m = ov_cbor_map_new(), *arr = ov_cbor_array_new();
    int rc = 0;
    for (int i = 5; i < argc && rc == 0; i++) {
        if (argv[i][0] == '-' && argv[i][1] == '-') {
            i += strcmp(argv[i], "--age-ms") == 0;
            continue;
        }
        struct ov_buf e;
        if (opaque) {
            ov_buf_init(&e, 1 << 16);
            rc = ov_buf_append_str(&e, argv[i]);
        } else {
            make_entry(&e, argv[i], 0, 0);
        }
        rc = rc ? rc : ov_cbor_push(arr, ov_cbor_bytes(e.ptr, e.len));
        ov_buf_clear(&e);
    }
    rc = rc ? rc : ov_cbor_put(m, "entries", arr);
    rc = rc ? rc : ov_cbor_put_bytes(m, "nonce", nonce, sizeof nonce);
    rc = rc ? rc : ov_cbor_put_text(m, "producer", argv[4]);
    rc = rc ? rc : ov_cbor_put_uint(m, "time", now - age);
    rc = rc ? rc : ov_cbor_put_text(m, "wait", flag(argc, argv, "--checkpoint") ? "checkpoint"
                                                                                : "durable");
    struct ov_buf body;
    ov_buf_init(&body, 1 << 24);
    rc = rc ? rc : ov_cbor_encode(m, &body);
    rc = rc ? rc : ov_sign(k, OV_SIGN_LOG_APPEND, body.ptr, body.len, sig);
    char b64[96], path[4096];
    rc = rc ? rc : ov_b64_encode(b64, sizeof b64, sig, sizeof sig, OV_B64_STD);
    if (rc != 0) {
        die("request", rc);
    }
    snprintf(path, sizeof path, "%s.body", argv[2]);
    if (ov_file_write_atomic(path, body.ptr, body.len, 0644) != 0) {
        die(path, -OV_E_IO);
    }
    snprintf(path, sizeof path, "%s.sig", argv[2]);
    if (ov_file_write_atomic(path, b64, strlen(b64), 0644) != 0) {
        die(path, -OV_E_IO);
    }
    ov_cbor_free(m);
    ov_buf_clear(&body);
    ov_sign_key_free(k);
    return 0;
}

/* ---- load ------------------------------------------------------------------------- */

struct load {
    const char *url, *producer;
    const struct ov_sign_key *key;
    size_t count, batch, size;
    int checkpoint;
    double seconds, rate;
    double t0;
    atomic_size_t next;   /* entries claimed */
    atomic_size_t acked;  /* entries acknowledged */
    atomic_size_t errors; /* failed requests */
    pthread_mutex_t mu;
    FILE *acks;
    double *lat; /* per request, seconds */
    size_t n_lat, cap_lat;
};

static void *
load_thread(void *arg)
{
    struct load *L = arg;
    struct ov_logclient *c = NULL;
    if (ov_logclient_new(L->url, L->producer, L->key, &c) != 0) {
        return NULL;
    }
    struct ov_buf *bufs = calloc(L->batch, sizeof *bufs);
    struct ov_bytes *e = calloc(L->batch, sizeof *e);
    uint32_t tag = randombytes_random();
    for (;;) {
        size_t start = atomic_fetch_add(&L->next, L->batch);
        if (start >= L->count || now_s() - L->t0 > L->seconds) {
            break;
        }
        if (L->rate > 0) { /* open-loop pacing: this batch is due at start / rate */
            double due = L->t0 + (double)start / L->rate;
            double wait = due - now_s();
            if (wait > 0) {
                usleep((useconds_t)(wait * 1e6));
            }
        }
        size_t n = L->count - start < L->batch ? L->count - start : L->batch;
        for (size_t i = 0; i < n; i++) {
            make_entry(&bufs[i], NULL, (uint64_t)tag << 32 | (start + i), L->size);
            e[i] = ov_buf_view(&bufs[i]);
        }
        struct ov_log_ack ack;
        double t = now_s();
        int rc = ov_logclient_append(c, e, n, L->checkpoint, &ack);
        double dt = now_s() - t;
        for (size_t i = 0; i < n; i++) {
            ov_buf_clear(&bufs[i]);
        }
        if (rc != 0) {
            atomic_fetch_add(&L->errors, 1);
            usleep(20000);
            continue;
        }
        atomic_fetch_add(&L->acked, n);
        pthread_mutex_lock(&L->mu);
        if (L->acks != NULL) {
            for (size_t i = 0; i < n; i++) {
                print_ack(L->acks, &ack, i);
            }
            fflush(L->acks);
        }
        if (L->n_lat == L->cap_lat) {
            L->cap_lat = L->cap_lat ? 2 * L->cap_lat : 1024;
            L->lat = realloc(L->lat, L->cap_lat * sizeof *L->lat);
        }
        L->lat[L->n_lat++] = dt;
        pthread_mutex_unlock(&L->mu);
        ov_log_ack_clear(&ack);
    }
    free(bufs);
    free(e);
    ov_logclient_free(c);
    return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int
cmd_load(int argc, char **argv)
{
    struct load L;
    memset(&L, 0, sizeof L);
    L.url = argv[2];
    L.key = load_key(argv[3]);
    L.producer = argv[4];
    L.count = strtoul(opt(argc, argv, "--count", "10000"), NULL, 10);
    L.batch = strtoul(opt(argc, argv, "--batch", "100"), NULL, 10);
    L.size = strtoul(opt(argc, argv, "--size", "100"), NULL, 10);
    L.seconds = strtod(opt(argc, argv, "--seconds", "600"), NULL);
    L.rate = strtod(opt(argc, argv, "--rate", "0"), NULL);
    L.checkpoint = flag(argc, argv, "--checkpoint");
    unsigned conns = (unsigned)strtoul(opt(argc, argv, "--conns", "4"), NULL, 10);
    const char *acks = opt(argc, argv, "--acks", NULL);
    if (L.batch == 0 || conns == 0 || conns > 512) {
        die("bad --batch or --conns", 0);
    }
    if (acks != NULL && (L.acks = fopen(acks, "w")) == NULL) {
        die(acks, -OV_E_IO);
    }
    pthread_mutex_init(&L.mu, NULL);
    pthread_t *th = calloc(conns, sizeof *th);
    L.t0 = now_s();
    for (unsigned i = 0; i < conns; i++) {
        pthread_create(&th[i], NULL, load_thread, &L);
    }
    for (unsigned i = 0; i < conns; i++) {
        pthread_join(th[i], NULL);
    }
    double el = now_s() - L.t0;
    qsort(L.lat, L.n_lat, sizeof *L.lat, cmp_double);
    double p50 = L.n_lat ? L.lat[L.n_lat / 2] : 0, p99 = L.n_lat ? L.lat[L.n_lat * 99 / 100] : 0;
    printf("load entries %zu seconds %.3f rate %.0f p50_ms %.1f p99_ms %.1f errors %zu\n",
           (size_t)atomic_load(&L.acked), el, (double)atomic_load(&L.acked) / el, p50 * 1e3,
           p99 * 1e3, (size_t)atomic_load(&L.errors));
    if (L.acks != NULL) {
        fclose(L.acks);
    }
    free(L.lat);
    free(th);
    return 0;
}

/* ---- verify ----------------------------------------------------------------------- */

struct verify {
    struct ov_httpc *http;
    const char *url;
    size_t n_bad;
};

static void
fetch(struct verify *V, const char *path, struct ov_httpc_resp *resp)
{
    char url[2048];
    snprintf(url, sizeof url, "%s/%s", V->url, path);
    int rc = ov_httpc_get(V->http, url, OV_MAX_BUNDLE_LEN, resp);
    if (rc != 0 || resp->status != 200) {
        fprintf(stderr, "logtool: GET %s: %s %u\n", url, ov_strerror(rc), resp->status);
        exit(1);
    }
}

/* Each tile the tree rebuilt from the bundles produces must equal the served one. */
static int
compare_tile(void *ctx, const struct ov_tile *t, const uint8_t *hashes, size_t len)
{
    struct verify *V = ctx;
    char path[OV_MAX_TILE_PATH_LEN + 1];
    size_t pl;
    struct ov_httpc_resp resp;
    if (ov_tile_path(t, path, sizeof path, &pl) != 0) {
        return -OV_E_MALFORMED;
    }
    fetch(V, path, &resp);
    if (resp.body.len != len || memcmp(resp.body.ptr, hashes, len) != 0) {
        fprintf(stderr, "logtool: %s differs from the tree rebuilt from the entries\n", path);
        V->n_bad++;
    }
    ov_httpc_resp_clear(&resp);
    return 0;
}

static int
cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, OV_HASH_LEN);
}

static int
cmd_verify(int argc, char **argv)
{
    struct verify V = {NULL, argv[2], 0};
    struct ov_note_verifier vk;
    struct ov_note note;
    struct ov_checkpoint cp;
    struct ov_httpc_resp resp;
    if (ov_note_vkey_parse(OV_BYTES(argv[3], strlen(argv[3])), &vk) != 0 ||
        ov_httpc_new(&V.http) != 0) {
        die("vkey", 0);
    }
    /* the highest acknowledged index: wait (up to 10 s) for a checkpoint that covers it */
    uint64_t need = 0;
    for (int a = 1; a + 1 < argc; a++) {
        FILE *af = strcmp(argv[a], "--acks") == 0 ? fopen(argv[a + 1], "r") : NULL;
        char l[256];
        while (af != NULL && fgets(l, sizeof l, af) != NULL) {
            unsigned long long idx = strtoull(l, NULL, 10);
            need = idx + 1 > need ? idx + 1 : need;
        }
        if (af != NULL) {
            fclose(af);
        }
    }
    int rc = 0;
    for (double t0 = now_s();;) {
        fetch(&V, "checkpoint", &resp);
        rc = ov_note_open(ov_buf_view(&resp.body), &vk, 1, &note, NULL);
        if (rc == 0) {
            rc = ov_checkpoint_parse(note.text, &cp);
        }
        if (rc != 0 || cp.size >= need || now_s() - t0 > 10) {
            break;
        }
        ov_httpc_resp_clear(&resp);
        usleep(20000);
    }
    if (rc != 0) {
        die("checkpoint does not verify", rc);
    }
    const char *save = opt(argc, argv, "--save", NULL);
    if (save != NULL && ov_file_write_atomic(save, resp.body.ptr, resp.body.len, 0644) != 0) {
        die(save, -OV_E_IO);
    }
    uint64_t size = cp.size;
    uint8_t root[OV_HASH_LEN];
    memcpy(root, cp.root, OV_HASH_LEN);

    /* rebuild the tree from every entry bundle; check every tile against it */
    struct ov_tiler *tiler = NULL;
    if (ov_tiler_new(&tiler, 0, NULL, compare_tile, &V) != 0) {
        die("tiler", 0);
    }
    uint8_t *leaves = malloc((size_t)(size ? size : 1) * OV_HASH_LEN);
    for (uint64_t n = 0; n * OV_TILE_WIDTH < size; n++) {
        uint64_t left = size - n * OV_TILE_WIDTH;
        struct ov_tile b = {OV_TILE_ENTRIES, n,
                            (unsigned)(left >= OV_TILE_WIDTH ? OV_TILE_WIDTH : left)};
        char path[OV_MAX_TILE_PATH_LEN + 1];
        size_t pl;
        struct ov_httpc_resp br;
        struct ov_bytes entries[OV_TILE_WIDTH];
        size_t ne = 0;
        if (ov_tile_path(&b, path, sizeof path, &pl) != 0) {
            die("path", 0);
        }
        fetch(&V, path, &br);
        if (ov_bundle_parse(ov_buf_view(&br.body), b.width, entries, &ne) != 0) {
            die(path, -OV_E_MALFORMED);
        }
        for (size_t i = 0; i < ne; i++) {
            uint8_t *h = leaves + (n * OV_TILE_WIDTH + i) * OV_HASH_LEN;
            if (ov_merkle_leaf_hash(entries[i].ptr, entries[i].len, h) != 0 ||
                ov_tiler_append(tiler, h) != 0) {
                die("append", 0);
            }
        }
        ov_httpc_resp_clear(&br);
    }
    uint8_t got[OV_HASH_LEN];
    if (ov_tiler_flush(tiler) != 0 || ov_tiler_root(tiler, got) != 0) {
        die("flush", 0);
    }
    if (memcmp(got, root, OV_HASH_LEN) != 0) {
        fprintf(stderr, "logtool: the entries do not hash to the checkpoint's root\n");
        V.n_bad++;
    }
    /* every entry once: no leaf hash twice */
    size_t dups = 0;
    uint8_t *sorted = malloc((size_t)(size ? size : 1) * OV_HASH_LEN);
    memcpy(sorted, leaves, (size_t)size * OV_HASH_LEN);
    qsort(sorted, (size_t)size, OV_HASH_LEN, cmp_hash);
    for (uint64_t i = 1; i < size; i++) {
        dups += memcmp(sorted + (i - 1) * OV_HASH_LEN, sorted + i * OV_HASH_LEN, OV_HASH_LEN) == 0;
    }
    if (dups) {
        fprintf(stderr, "logtool: %zu entries appear twice\n", dups);
        V.n_bad++;
    }
    /* every acknowledged entry is where the log said */
    size_t n_acks = 0;
    for (int a = 1; a + 1 < argc; a++) {
        if (strcmp(argv[a], "--acks") != 0) {
            continue;
        }
        FILE *f = fopen(argv[a + 1], "r");
        if (f == NULL) {
            die(argv[a + 1], -OV_E_IO);
        }
        char line[256];
        while (fgets(line, sizeof line, f) != NULL) {
            unsigned long long idx;
            char hex[80];
            uint8_t h[OV_HASH_LEN];
            size_t hl;
            if (sscanf(line, "%llu %70s", &idx, hex) != 2 ||
                ov_hex_decode(h, sizeof h, &hl, hex, strlen(hex)) != 0 || hl != OV_HASH_LEN) {
                die("acks line", -OV_E_MALFORMED);
            }
            n_acks++;
            if (idx >= size || memcmp(leaves + idx * OV_HASH_LEN, h, OV_HASH_LEN) != 0) {
                fprintf(stderr, "logtool: acknowledged entry %llu is missing\n", idx);
                V.n_bad++;
            }
        }
        fclose(f);
    }
    /* consistency with a checkpoint seen before */
    const char *prev = opt(argc, argv, "--previous", NULL);
    if (prev != NULL) {
        struct ov_buf pb;
        struct ov_note pn;
        struct ov_checkpoint pc;
        if (ov_file_read(prev, OV_NOTE_MAX_LEN, &pb) != 0 ||
            ov_note_open(ov_buf_view(&pb), &vk, 1, &pn, NULL) != 0 ||
            ov_checkpoint_parse(pn.text, &pc) != 0) {
            die("previous checkpoint", 0);
        }
        uint8_t old_root[OV_HASH_LEN];
        if (pc.size > size) {
            fprintf(stderr, "logtool: the log shrank from %llu\n", (unsigned long long)pc.size);
            V.n_bad++;
        } else if (pc.size > 0) {
            if (ov_merkle_root(leaves, pc.size, old_root) != 0 ||
                memcmp(old_root, pc.root, OV_HASH_LEN) != 0) {
                fprintf(stderr, "logtool: not consistent with the previous checkpoint\n");
                V.n_bad++;
            }
            char path[128];
            snprintf(path, sizeof path, "proof/consistency?old=%llu&size=%llu",
                     (unsigned long long)pc.size, (unsigned long long)size);
            struct ov_httpc_resp cr;
            fetch(&V, path, &cr);
            json_t *j = json_loadb((const char *)cr.body.ptr, cr.body.len, 0, NULL);
            json_t *p = json_object_get(j, "proof");
            size_t np = json_array_size(p);
            uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
            for (size_t i = 0; i < np && i < OV_MERKLE_MAX_PROOF; i++) {
                const char *s = json_string_value(json_array_get(p, i));
                size_t hl;
                if (s == NULL || ov_b64_decode(proof + i * OV_HASH_LEN, OV_HASH_LEN, &hl, s,
                                               strlen(s), OV_B64_STD) != 0) {
                    die("proof", 0);
                }
            }
            if (pc.size < size &&
                ov_merkle_verify_consistency(pc.size, size, pc.root, root, proof, np) != 0) {
                fprintf(stderr, "logtool: the log's consistency proof fails\n");
                V.n_bad++;
            }
            json_decref(j);
            ov_httpc_resp_clear(&cr);
        }
        ov_buf_clear(&pb);
    }
    printf("verify size %llu acks %zu problems %zu\n", (unsigned long long)size, n_acks, V.n_bad);
    ov_tiler_free(tiler);
    free(leaves);
    free(sorted);
    ov_httpc_resp_clear(&resp);
    ov_httpc_free(V.http);
    return V.n_bad == 0 ? 0 : 1;
}

static int
count_entry(void *ctx, uint64_t index, struct ov_bytes entry)
{
    (void)index;
    (void)entry;
    (*(uint64_t *)ctx)++;
    return 0;
}

static int
cmd_read(int argc, char **argv)
{
    struct ov_logreader_cfg cfg = { .url = argv[2], .verify_tiles = flag(argc, argv, "--tiles") };
    struct ov_logreader *r = NULL;
    struct ov_logreader_cp cp;
    struct ov_buf st;
    const char *state = opt(argc, argv, "--state", NULL);
    uint64_t n = 0;
    struct ov_note_verifier wit[OV_LOGREADER_MAX_WITNESSES];
    for (int i = 1; i + 1 < argc && cfg.n_witnesses < OV_LOGREADER_MAX_WITNESSES; i++) {
        if (strcmp(argv[i], "--witness") == 0 &&
            ov_note_vkey_parse(OV_BYTES(argv[i + 1], strlen(argv[i + 1])),
                               &wit[cfg.n_witnesses++]) != 0) {
            die("witness vkey", 0);
        }
    }
    cfg.witnesses = wit;
    cfg.quorum = (unsigned)strtoul(opt(argc, argv, "--quorum", "0"), NULL, 10);
    if (ov_note_vkey_parse(OV_BYTES(argv[3], strlen(argv[3])), &cfg.log_key) != 0 ||
        ov_logreader_new(&cfg, &r) != 0) {
        die("vkey", 0);
    }
    if (state != NULL && ov_file_read(state, 4096, &st) == 0) {
        int rc = ov_logreader_resume(r, ov_buf_view(&st));
        ov_buf_clear(&st);
        if (rc != 0) {
            die("state", rc);
        }
    }
    uint64_t from = ov_logreader_size(r);
    int rc = ov_logreader_checkpoint(r, &cp);
    rc = rc ? rc : ov_logreader_sync(r, &cp, count_entry, &n);
    if (rc != 0) {
        die("read", rc);
    }
    if (n != cp.size - from) {
        die("entry count", 0);
    }
    if (state != NULL) {
        if (ov_logreader_state(r, &st) != 0 ||
            ov_file_write_atomic(state, st.ptr, st.len, 0600) != 0) {
            die("save state", -OV_E_IO);
        }
        ov_buf_clear(&st);
    }
    if (state != NULL) {
        ov_buf_clear(&st);
    }
    printf("read %llu %llu\n", (unsigned long long)from, (unsigned long long)cp.size);
    ov_logreader_cp_clear(&cp);
    ov_logreader_free(r);
    return 0;
}

int
main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        die("sodium", 0);
    }
    if (argc >= 3 && strcmp(argv[1], "keygen") == 0) {
        return cmd_keygen(argv[2]);
    }
    if (argc >= 5 && strcmp(argv[1], "append") == 0) {
        return cmd_append(argc, argv);
    }
    if (argc >= 5 && strcmp(argv[1], "fixture") == 0) {
        return cmd_fixture(argc, argv);
    }
    if (argc >= 5 && strcmp(argv[1], "request") == 0) {
        return cmd_request(argc, argv);
    }
    if (argc >= 5 && strcmp(argv[1], "load") == 0) {
        return cmd_load(argc, argv);
    }
    if (argc >= 4 && strcmp(argv[1], "read") == 0) {
        return cmd_read(argc, argv);
    }
    if (argc >= 4 && strcmp(argv[1], "verify") == 0) {
        return cmd_verify(argc, argv);
    }
    fprintf(stderr, "usage: see the comment at the top of tests/tools/logtool.c\n");
    return 2;
}
