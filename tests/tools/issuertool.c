/* issuertool: a client of onevoice-issuer for tests and benchmarks (core/protocol/issuerclient).
 *
 *   issuertool keygen FILE                  new Ed25519 key; prints its base64url public key
 *   issuertool context URL ADMIN JSON       creates a context; prints "LOG_INDEX TRUNCATED_ID"
 *   issuertool invites URL ADMIN N FILE     N invitation codes into FILE (CSV)
 *   issuertool regtoken URL REGISTRAR IDENTITY [--recovery]   prints an enrollment token
 *   issuertool attest IDPKEY IDPNAME SUBJECT KEYFILE|pub:KEY EXPIRES OUT
 *                                           an IdP attestation for KEYFILE's public key
 *                                           (or a base64url public key given as pub:KEY):
 *                                           OUT (CBOR) and OUT.sig (64 bytes)
 *   issuertool enroll URL KEYFILE invite CODE | registrar TOKEN | attestation OUT
 *                                           prints "enrolled recovered=0|1"
 *   issuertool token URL KEYFILE CONTEXT OUT [--retry]
 *                                           one token: OUT (354 bytes), OUT.input (its first
 *                                           98 bytes), OUT.auth (the 256-byte signature),
 *                                           OUT.spki (the token key, DER); --retry sends the
 *                                           same blinded message twice and checks the answers
 *   issuertool request URL KEYFILE CONTEXT OUT [--age-ms MS] [--type T]
 *                                           a signed TokenRequest for curl: OUT.body and
 *                                           OUT.hdr (three header lines)
 *   issuertool storm URL KEYFILE CONTEXT N  N concurrent requests (N connections, each a new
 *                                           token): prints "issued I refused R REASON=COUNT..."
 *   issuertool stream URL KEYFILE CONTEXT N FILE
 *                                           N tokens one after another, each retried (same
 *                                           blinded message) until answered, through issuer
 *                                           restarts; appends one line per token to FILE
 *   issuertool logscan LOGURL VKEY [--dump FILE] [--issuer URL]
 *                                           reads the whole log: prints "contexts C
 *                                           enrollments E issuances I", then "context ID
 *                                           issued N tags T" per context; fails if a tag's
 *                                           numbers repeat or pass the quota; --dump writes
 *                                           every entry's bytes to FILE; --issuer: each
 *                                           context the issuer lists must be, re-encoded,
 *                                           the log's entry at its log_index
 *   issuertool bench URL ADMIN CONTEXT --conns C --seconds S --requests N [--blind]
 *                                           enrolls C citizens, precomputes N signed requests
 *                                           (random blinded messages; --blind: real ones),
 *                                           then sends them over C connections; prints
 *                                           "bench issued I seconds S rate R errors E"
 * Exit status 0 on success, 1 on failure (a refusal prints "refused STATUS REASON"). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "primitives/cbor.h"
#include "base/clock.h"
#include "base/codec.h"
#include "protocol/entry.h"
#include "infra/httpc.h"
#include "protocol/issuerclient.h"
#include "infra/keyfile.h"
#include "primitives/note.h"
#include "primitives/tiles.h"
#include "tool.h"

static void
die(const char *msg, int rc)
{
    fprintf(stderr, "issuertool: %s: %s\n", msg, rc ? ov_strerror(rc) : "failed");
    exit(1);
}

static void
refused(const struct ov_issuer_status *st, int rc)
{
    if (st->status != 0) {
        printf("refused %u %s\n", st->status, st->reason);
    } else {
        printf("failed %s\n", ov_strerror(rc));
    }
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

static struct ov_issuerclient *
client(const char *url)
{
    struct ov_issuerclient *c = NULL;
    if (ov_issuerclient_new(url, &c) != 0) {
        die("client", 0);
    }
    return c;
}

static void
write_file(const char *path, const char *suffix, const void *p, size_t n)
{
    char full[4096];
    snprintf(full, sizeof full, "%s%s", path, suffix);
    if (ov_file_write_atomic(full, p, n, 0644) != 0) {
        die(full, -OV_E_IO);
    }
}

/* The context called id, from the issuer's listing. */
static void
find_context(struct ov_issuerclient *c, const char *id, struct ov_issuer_context *out)
{
    struct ov_issuer_context *v = NULL;
    struct ov_issuer_status st;
    size_t n = 0;
    int rc = ov_issuerclient_contexts(c, &v, &n, &st);
    if (rc != 0) {
        refused(&st, rc);
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].def.id, id) == 0) {
            *out = v[i];
            free(v);
            return;
        }
    }
    die("no such context", 0);
}

/* A fresh one-time key's nonce: SHA-256 of its public key (the key itself is not kept). */
static void
fresh_nonce(uint8_t nonce[OV_PP_NONCE_LEN])
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned int n = 0;
    crypto_sign_keypair(pk, sk);
    EVP_Digest(pk, sizeof pk, nonce, &n, EVP_sha256(), NULL);
    sodium_memzero(sk, sizeof sk);
}

/* ---- commands --------------------------------------------------------------------- */

static int
cmd_keygen(const char *path)
{
    struct ov_sign_key *k = NULL;
    char b64[64];
    int rc = ov_keyfile_create_sign_key(path, &k);
    rc = rc ? rc : ov_b64_encode(b64, sizeof b64, ov_sign_key_pk(k), OV_SIGN_PK_LEN,
                                 OV_B64_URL_NOPAD);
    if (rc != 0) {
        die(path, rc);
    }
    printf("%s\n", b64);
    ov_sign_key_free(k);
    return 0;
}

static int
cmd_context(char **argv)
{
    struct ov_context def;
    struct ov_issuer_context out;
    struct ov_issuer_status st;
    int rc = ov_context_req_parse(OV_BYTES(argv[4], strlen(argv[4])), &def);
    if (rc != 0) {
        die("context JSON", rc);
    }
    struct ov_issuerclient *c = client(argv[2]);
    rc = ov_issuerclient_create_context(c, argv[3], &def, &out, &st);
    if (rc != 0) {
        refused(&st, rc);
    }
    printf("%llu %u\n", (unsigned long long)out.log_index,
           out.def.token_key_id[OV_PP_NID - 1]);
    ov_issuerclient_free(c);
    return 0;
}

static int
cmd_invites(char **argv)
{
    struct ov_buf csv;
    struct ov_issuer_status st;
    struct ov_issuerclient *c = client(argv[2]);
    int rc = ov_issuerclient_invites(c, argv[3], strtoul(argv[4], NULL, 10), NULL, &csv, &st);
    if (rc != 0) {
        refused(&st, rc);
    }
    write_file(argv[5], "", csv.ptr, csv.len);
    sodium_memzero(csv.ptr, csv.len);
    ov_buf_clear(&csv);
    ov_issuerclient_free(c);
    return 0;
}

static int
cmd_regtoken(int argc, char **argv)
{
    char token[OV_ENROLL_TOKEN_LEN + 1];
    uint64_t expires = 0;
    struct ov_issuer_status st;
    struct ov_issuerclient *c = client(argv[2]);
    int rc = ov_issuerclient_registrar_token(c, argv[3], argv[4], flag(argc, argv, "--recovery"),
                                             token, &expires, &st);
    if (rc != 0) {
        refused(&st, rc);
    }
    printf("%s\n", token);
    ov_issuerclient_free(c);
    return 0;
}

static int
cmd_attest(char **argv)
{
    /* the citizen: a key file, or "pub:<base64url public key>" (a wallet's --print-key) */
    bool pub = strncmp(argv[5], "pub:", 4) == 0;
    struct ov_sign_key *idp = load_key(argv[2]), *citizen = pub ? NULL : load_key(argv[5]);
    struct ov_attestation a;
    struct ov_buf out;
    uint8_t sig[OV_SIGN_SIG_LEN];
    memset(&a, 0, sizeof a);
    snprintf(a.idp, sizeof a.idp, "%s", argv[3]);
    snprintf(a.subject, sizeof a.subject, "%s", argv[4]);
    if (pub) {
        if (ov_b64url_fixed(argv[5] + 4, strlen(argv[5] + 4), a.key, sizeof a.key) != 0) {
            die("pub:KEY", -OV_E_MALFORMED);
        }
    } else {
        ov_sign_key_public(citizen, a.key);
    }
    a.expires = strtoull(argv[6], NULL, 10);
    int rc = ov_attestation_encode(&a, &out);
    rc = rc ? rc : ov_sign(idp, OV_SIGN_ENROLL, out.ptr, out.len, sig);
    if (rc != 0) {
        die("attestation", rc);
    }
    write_file(argv[7], "", out.ptr, out.len);
    write_file(argv[7], ".sig", sig, sizeof sig);
    ov_buf_clear(&out);
    ov_sign_key_free(idp);
    ov_sign_key_free(citizen);
    return 0;
}

static int
cmd_enroll(char **argv)
{
    struct ov_sign_key *k = load_key(argv[3]);
    struct ov_enroll_req r;
    struct ov_issuer_status st;
    bool recovered = false;
    memset(&r, 0, sizeof r);
    if (strcmp(argv[4], "invite") == 0 || strcmp(argv[4], "registrar") == 0) {
        r.route = argv[4][0] == 'i' ? OV_ROUTE_INVITE : OV_ROUTE_REGISTRAR;
        snprintf(r.secret, sizeof r.secret, "%s", argv[5]);
    } else if (strcmp(argv[4], "attestation") == 0) {
        struct ov_buf a, s;
        char sp[4096];
        snprintf(sp, sizeof sp, "%s.sig", argv[5]);
        if (ov_file_read(argv[5], OV_MAX_ATTESTATION_LEN, &a) != 0 ||
            ov_file_read(sp, OV_SIGN_SIG_LEN, &s) != 0 || s.len != OV_SIGN_SIG_LEN) {
            die("attestation files", -OV_E_IO);
        }
        r.route = OV_ROUTE_ATTESTATION;
        memcpy(r.attestation, a.ptr, a.len);
        r.attestation_len = a.len;
        memcpy(r.attestation_sig, s.ptr, OV_SIGN_SIG_LEN);
        ov_buf_clear(&a);
        ov_buf_clear(&s);
    } else {
        die("route: invite, registrar or attestation", 0);
    }
    struct ov_issuerclient *c = client(argv[2]);
    int rc = ov_issuerclient_enroll(c, &r, k, &recovered, &st);
    if (rc != 0) {
        refused(&st, rc);
    }
    printf("enrolled recovered=%d\n", recovered);
    ov_issuerclient_free(c);
    ov_sign_key_free(k);
    return 0;
}

static int
cmd_token(int argc, char **argv)
{
    struct ov_sign_key *k = load_key(argv[3]);
    struct ov_issuerclient *c = client(argv[2]);
    struct ov_issuer_context ctx;
    struct ov_token_job j;
    struct ov_issuer_status st;
    uint8_t nonce[OV_PP_NONCE_LEN], token[OV_PP_TOKEN_LEN], again[OV_PP_TOKEN_LEN];
    find_context(c, argv[4], &ctx);
    fresh_nonce(nonce);
    int rc = ov_token_job_init(&j, &ctx, nonce);
    if (rc != 0) {
        die("token request", rc);
    }
    rc = ov_issuerclient_token(c, k, &j, token, &st);
    if (rc != 0) {
        refused(&st, rc);
    }
    if (flag(argc, argv, "--retry")) {
        /* the lost-response case: the same blinded message, signed afresh */
        usleep(2000);
        rc = ov_issuerclient_token(c, k, &j, again, &st);
        if (rc != 0) {
            refused(&st, rc);
        }
        if (memcmp(token, again, sizeof token) != 0) {
            die("the retry got another answer", 0);
        }
        printf("retry same\n");
    }
    write_file(argv[5], "", token, sizeof token);
    write_file(argv[5], ".input", token, OV_PP_TOKEN_INPUT_LEN);
    write_file(argv[5], ".auth", token + OV_PP_TOKEN_INPUT_LEN, OV_PP_NK);
    write_file(argv[5], ".spki", ctx.def.token_key, ctx.def.token_key_len);
    printf("token ok\n");
    ov_token_job_clear(&j);
    ov_issuerclient_free(c);
    ov_sign_key_free(k);
    return 0;
}

static int
cmd_request(int argc, char **argv)
{
    struct ov_sign_key *k = load_key(argv[3]);
    struct ov_issuerclient *c = client(argv[2]);
    struct ov_issuer_context ctx;
    struct ov_token_job j;
    uint8_t nonce[OV_PP_NONCE_LEN], msg[OV_TOKREQ_SIGNED_LEN], sig[OV_SIGN_SIG_LEN];
    find_context(c, argv[4], &ctx);
    fresh_nonce(nonce);
    if (ov_token_job_init(&j, &ctx, nonce) != 0) {
        die("token request", 0);
    }
    unsigned type = (unsigned)strtoul(opt(argc, argv, "--type", "2"), NULL, 10);
    j.request[0] = (uint8_t)(type >> 8);
    j.request[1] = (uint8_t)type;
    uint64_t t = ov_now_ms() - strtoull(opt(argc, argv, "--age-ms", "0"), NULL, 10);
    ov_tokreq_signed_bytes(t, j.request, msg);
    char pk64[64], sig64[128], hdr[512];
    if (ov_sign(k, OV_SIGN_TOKEN_REQUEST, msg, sizeof msg, sig) != 0 ||
        ov_b64_encode(pk64, sizeof pk64, ov_sign_key_pk(k), OV_SIGN_PK_LEN, OV_B64_URL_NOPAD) ||
        ov_b64_encode(sig64, sizeof sig64, sig, sizeof sig, OV_B64_URL_NOPAD)) {
        die("sign", 0);
    }
    int n = snprintf(hdr, sizeof hdr, "Onevoice-Enrollee: %s\nOnevoice-Time: %llu\n"
                                      "Onevoice-Signature: %s\n",
                     pk64, (unsigned long long)t, sig64);
    write_file(argv[5], ".body", j.request, sizeof j.request);
    write_file(argv[5], ".hdr", hdr, (size_t)n);
    ov_token_job_clear(&j);
    ov_issuerclient_free(c);
    ov_sign_key_free(k);
    return 0;
}

/* ---- storm: concurrent requests of one person -------------------------------------- */

struct storm {
    const char *url;
    const struct ov_sign_key *key;
    const struct ov_issuer_context *ctx;
    pthread_barrier_t go;
    pthread_mutex_t mu;
    size_t issued, refused;
    char reasons[32][64];
    size_t counts[32];
};

static void *
storm_thread(void *arg)
{
    struct storm *S = arg;
    struct ov_issuerclient *c = client(S->url);
    struct ov_token_job j;
    struct ov_issuer_status st;
    uint8_t nonce[OV_PP_NONCE_LEN], token[OV_PP_TOKEN_LEN];
    fresh_nonce(nonce);
    if (ov_token_job_init(&j, S->ctx, nonce) != 0) {
        die("token request", 0);
    }
    pthread_barrier_wait(&S->go);
    int rc = ov_issuerclient_token(c, S->key, &j, token, &st);
    pthread_mutex_lock(&S->mu);
    if (rc == 0) {
        S->issued++;
    } else {
        S->refused++;
        const char *r = st.status ? st.reason : "unreached";
        size_t i = 0;
        while (i < 32 && S->reasons[i][0] && strcmp(S->reasons[i], r) != 0) {
            i++;
        }
        if (i < 32) {
            snprintf(S->reasons[i], sizeof S->reasons[i], "%s", r);
            S->counts[i]++;
        }
    }
    pthread_mutex_unlock(&S->mu);
    ov_token_job_clear(&j);
    ov_issuerclient_free(c);
    return NULL;
}

static int
cmd_storm(char **argv)
{
    struct storm S;
    struct ov_issuer_context ctx;
    memset(&S, 0, sizeof S);
    size_t n = strtoul(argv[5], NULL, 10);
    struct ov_issuerclient *c = client(argv[2]);
    find_context(c, argv[4], &ctx);
    ov_issuerclient_free(c);
    S.url = argv[2];
    S.key = load_key(argv[3]);
    S.ctx = &ctx;
    pthread_mutex_init(&S.mu, NULL);
    pthread_barrier_init(&S.go, NULL, (unsigned)n);
    pthread_t *th = calloc(n, sizeof *th);
    for (size_t i = 0; i < n; i++) {
        pthread_create(&th[i], NULL, storm_thread, &S);
    }
    for (size_t i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
    }
    printf("issued %zu refused %zu", S.issued, S.refused);
    for (size_t i = 0; i < 32 && S.reasons[i][0]; i++) {
        printf(" %s=%zu", S.reasons[i], S.counts[i]);
    }
    printf("\n");
    free(th);
    return 0;
}

/* ---- stream: tokens one after another, through crashes ----------------------------- */

static int
cmd_stream(char **argv)
{
    struct ov_sign_key *k = load_key(argv[3]);
    struct ov_issuer_context ctx;
    struct ov_issuerclient *c = client(argv[2]);
    size_t n = strtoul(argv[5], NULL, 10), retries = 0;
    FILE *f = fopen(argv[6], "a");
    if (f == NULL) {
        die(argv[6], -OV_E_IO);
    }
    find_context(c, argv[4], &ctx);
    for (size_t i = 0; i < n; i++) {
        struct ov_token_job j;
        struct ov_issuer_status st;
        uint8_t nonce[OV_PP_NONCE_LEN], token[OV_PP_TOKEN_LEN];
        fresh_nonce(nonce);
        if (ov_token_job_init(&j, &ctx, nonce) != 0) {
            die("token request", 0);
        }
        double t0 = now_s();
        int rc;
        while ((rc = ov_issuerclient_token(c, k, &j, token, &st)) != 0) {
            /* unreached or 5xx: the answer may be lost; the same job again spends nothing */
            if ((st.status != 0 && st.status < 500) || now_s() - t0 > 60) {
                refused(&st, rc);
            }
            retries++;
            usleep(20000);
            ov_issuerclient_free(c);
            c = client(argv[2]);
        }
        char hex[2 * 32 + 1];
        if (ov_hex_encode(hex, sizeof hex, token + 2, 32) == 0) {
            fprintf(f, "%s\n", hex); /* the nonce: distinct per token */
            fflush(f);
        }
        ov_token_job_clear(&j);
    }
    fclose(f);
    printf("stream tokens %zu retries %zu\n", n, retries);
    ov_issuerclient_free(c);
    ov_sign_key_free(k);
    return 0;
}

/* ---- logscan: the issuer's entries in the log -------------------------------------- */

struct tagrec {
    char context[OV_MAX_CONTEXT_ID_LEN + 1];
    uint8_t tag[OV_TAG_LEN];
    uint64_t n;
};

static int
cmp_tagrec(const void *a, const void *b)
{
    const struct tagrec *x = a, *y = b;
    int c = strcmp(x->context, y->context);
    c = c ? c : memcmp(x->tag, y->tag, OV_TAG_LEN);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static void
fetch(struct ov_httpc *h, const char *base, const char *path, struct ov_httpc_resp *resp)
{
    char url[2048];
    snprintf(url, sizeof url, "%s/%s", base, path);
    int rc = ov_httpc_get(h, url, OV_MAX_BUNDLE_LEN, resp);
    if (rc != 0 || resp->status != 200) {
        fprintf(stderr, "issuertool: GET %s: %s %u\n", url, ov_strerror(rc), resp->status);
        exit(1);
    }
}

static int
cmd_logscan(int argc, char **argv)
{
    struct ov_httpc *h = NULL;
    struct ov_note_verifier vk;
    struct ov_note note;
    struct ov_checkpoint cp;
    struct ov_httpc_resp resp;
    if (ov_httpc_new(&h) != 0 || ov_note_vkey_parse(OV_BYTES(argv[3], strlen(argv[3])), &vk)) {
        die("vkey", 0);
    }
    fetch(h, argv[2], "checkpoint", &resp);
    if (ov_note_open(ov_buf_view(&resp.body), &vk, 1, &note, NULL) != 0 ||
        ov_checkpoint_parse(note.text, &cp) != 0) {
        die("checkpoint does not verify", 0);
    }
    ov_httpc_resp_clear(&resp);
    const char *dump = opt(argc, argv, "--dump", NULL);
    /* --issuer URL: each listed context's entry, re-encoded, must be the log's at its index */
    const char *issuer = opt(argc, argv, "--issuer", NULL);
    struct ov_issuer_context *listed = NULL;
    size_t n_listed = 0, n_matched = 0;
    if (issuer != NULL) {
        struct ov_issuerclient *ic = client(issuer);
        struct ov_issuer_status st;
        int rc = ov_issuerclient_contexts(ic, &listed, &n_listed, &st);
        if (rc != 0) {
            refused(&st, rc);
        }
        ov_issuerclient_free(ic);
    }
    FILE *df = dump ? fopen(dump, "wb") : NULL;
    size_t n_ctx = 0, n_enr = 0, n_iss = 0, cap = 1024, bad = 0;
    struct tagrec *tags = malloc(cap * sizeof *tags);
    struct { char id[OV_MAX_CONTEXT_ID_LEN + 1]; uint64_t quota; } *ctxs = calloc(4096, sizeof *ctxs);
    for (uint64_t b = 0; b * OV_TILE_WIDTH < cp.size; b++) {
        uint64_t left = cp.size - b * OV_TILE_WIDTH;
        struct ov_tile t = { OV_TILE_ENTRIES, b,
                             (unsigned)(left >= OV_TILE_WIDTH ? OV_TILE_WIDTH : left) };
        char path[OV_MAX_TILE_PATH_LEN + 1];
        size_t pl, ne = 0;
        struct ov_bytes entries[OV_TILE_WIDTH];
        if (ov_tile_path(&t, path, sizeof path, &pl) != 0) {
            die("path", 0);
        }
        fetch(h, argv[2], path, &resp);
        if (ov_bundle_parse(ov_buf_view(&resp.body), t.width, entries, &ne) != 0) {
            die(path, -OV_E_MALFORMED);
        }
        for (size_t i = 0; i < ne; i++) {
            struct ov_entry e;
            for (size_t c = 0; c < n_listed; c++) {
                struct ov_entry le;
                struct ov_buf enc;
                if (listed[c].log_index != b * OV_TILE_WIDTH + i) {
                    continue;
                }
                memset(&le, 0, sizeof le);
                le.kind = OV_ENTRY_CONTEXT;
                le.u.context = listed[c].def;
                if (ov_entry_encode(&le, &enc) == 0 && enc.len == entries[i].len &&
                    memcmp(enc.ptr, entries[i].ptr, enc.len) == 0) {
                    n_matched++;
                }
                ov_buf_clear(&enc);
            }
            if (df != NULL) {
                fwrite(entries[i].ptr, 1, entries[i].len, df);
            }
            if (ov_entry_decode(entries[i], &e) != 0) {
                continue; /* not the issuer's business */
            }
            if (e.kind == OV_ENTRY_CONTEXT && n_ctx < 4096) {
                memcpy(ctxs[n_ctx].id, e.u.context.id, sizeof ctxs[n_ctx].id);
                ctxs[n_ctx++].quota = e.u.context.quota;
            } else if (e.kind == OV_ENTRY_ENROLLMENT) {
                n_enr++;
            } else if (e.kind == OV_ENTRY_ISSUANCE) {
                if (n_iss == cap) {
                    cap *= 2;
                    tags = realloc(tags, cap * sizeof *tags);
                }
                memcpy(tags[n_iss].context, e.u.issuance.context, sizeof tags[n_iss].context);
                memcpy(tags[n_iss].tag, e.u.issuance.tag, OV_TAG_LEN);
                tags[n_iss++].n = e.u.issuance.n;
            }
            ov_entry_clear(&e);
        }
        ov_httpc_resp_clear(&resp);
    }
    if (df != NULL) {
        fclose(df);
    }
    printf("size %llu contexts %zu enrollments %zu issuances %zu\n",
           (unsigned long long)cp.size, n_ctx, n_enr, n_iss);
    if (issuer != NULL) {
        printf("listed %zu logged-as-listed %zu\n", n_listed, n_matched);
        bad += n_matched != n_listed;
        free(listed);
    }
    qsort(tags, n_iss, sizeof *tags, cmp_tagrec);
    for (size_t c = 0; c < n_ctx; c++) {
        size_t issued = 0, n_tags = 0;
        for (size_t i = 0; i < n_iss; i++) {
            if (strcmp(tags[i].context, ctxs[c].id) != 0) {
                continue;
            }
            issued++;
            bool first = i == 0 || strcmp(tags[i - 1].context, tags[i].context) != 0 ||
                         memcmp(tags[i - 1].tag, tags[i].tag, OV_TAG_LEN) != 0;
            if (first) {
                n_tags++;
            } else if (tags[i - 1].n == tags[i].n) {
                fprintf(stderr, "issuertool: %s: a tag's issuance %llu appears twice\n",
                        ctxs[c].id, (unsigned long long)tags[i].n);
                bad++;
            }
            if (tags[i].n > ctxs[c].quota) {
                fprintf(stderr, "issuertool: %s: a tag passed the quota\n", ctxs[c].id);
                bad++;
            }
        }
        printf("context %s issued %zu tags %zu\n", ctxs[c].id, issued, n_tags);
    }
    free(tags);
    free(ctxs);
    ov_httpc_free(h);
    return bad == 0 ? 0 : 1;
}

/* ---- bench ------------------------------------------------------------------------ */

struct prepared {
    uint8_t request[OV_PP_TOKEN_REQUEST_LEN];
    char hdr[3][160];
};

struct bench {
    const char *url;
    struct ov_sign_key **keys;
    const struct ov_issuer_context *ctx;
    struct prepared *reqs;
    size_t n_reqs;
    unsigned conns;
    bool real; /* blind real token inputs (slow) rather than draw random messages */
    double seconds, t0;
    atomic_size_t next, issued, errors, prep_next;
};

static void *
prep_thread(void *arg)
{
    struct bench *B = arg;
    struct ov_pp_key key;
    if (ov_pp_key_from_spki(&key, OV_BYTES(B->ctx->def.token_key, B->ctx->def.token_key_len))) {
        die("key", 0);
    }
    uint8_t chal[OV_ENTRY_MAX_CHALLENGE_LEN];
    size_t cl = 0;
    if (ov_entry_challenge(B->ctx->def.issuer, B->ctx->def.id, chal, sizeof chal, &cl) != 0) {
        die("challenge", 0);
    }
    uint64_t t = ov_now_ms();
    for (size_t i; (i = atomic_fetch_add(&B->prep_next, 1)) < B->n_reqs;) {
        struct prepared *p = &B->reqs[i];
        struct ov_pp_client_state st;
        uint8_t nonce[OV_PP_NONCE_LEN], msg[OV_TOKREQ_SIGNED_LEN], sig[OV_SIGN_SIG_LEN];
        randombytes_buf(nonce, sizeof nonce);
        const struct ov_sign_key *k = B->keys[i % B->conns];
        char b64[128];
        if (B->real) {
            if (ov_pp_client_request(&key, OV_BYTES(chal, cl), nonce, p->request, &st) != 0) {
                die("blind", 0);
            }
            ov_pp_client_state_clear(&st);
        } else {
            /* a blinded message is a uniform number below n: any such number is one */
            p->request[0] = OV_PP_TOKEN_TYPE >> 8;
            p->request[1] = OV_PP_TOKEN_TYPE & 0xff;
            p->request[2] = B->ctx->def.token_key_id[OV_PP_NID - 1];
            randombytes_buf(p->request + 3, OV_PP_NK);
            p->request[3] = 0; /* below n, whose top bit is set */
        }
        ov_tokreq_signed_bytes(t, p->request, msg);
        if (ov_sign(k, OV_SIGN_TOKEN_REQUEST, msg, sizeof msg, sig) != 0) {
            die("sign", 0);
        }
        (void)!ov_b64_encode(b64, sizeof b64, ov_sign_key_pk(k), OV_SIGN_PK_LEN, OV_B64_URL_NOPAD);
        snprintf(p->hdr[0], sizeof p->hdr[0], "Onevoice-Enrollee: %s", b64);
        snprintf(p->hdr[1], sizeof p->hdr[1], "Onevoice-Time: %llu", (unsigned long long)t);
        (void)!ov_b64_encode(b64, sizeof b64, sig, sizeof sig, OV_B64_URL_NOPAD);
        snprintf(p->hdr[2], sizeof p->hdr[2], "Onevoice-Signature: %s", b64);
    }
    ov_pp_key_clear(&key);
    return NULL;
}

struct conn_arg {
    struct bench *B;
    unsigned id;
};

static void *
bench_thread(void *arg)
{
    struct conn_arg *a = arg;
    struct bench *B = a->B;
    struct ov_httpc *h = NULL;
    char url[1100];
    snprintf(url, sizeof url, "%s/token-request", B->url);
    if (ov_httpc_new(&h) != 0) {
        die("httpc", 0);
    }
    /* connection a->id sends the requests of enrollee a->id: i = id, id + C, id + 2C... */
    for (size_t i = a->id; i < B->n_reqs && now_s() - B->t0 < B->seconds; i += B->conns) {
        struct prepared *p = &B->reqs[i];
        const char *hdrs[3] = { p->hdr[0], p->hdr[1], p->hdr[2] };
        struct ov_httpc_req rq = { "POST", url, "application/private-token-request",
                                   OV_BYTES(p->request, sizeof p->request), hdrs, 3, 30000, 4096 };
        struct ov_httpc_resp resp;
        int rc = ov_httpc_do(h, &rq, &resp);
        if (rc == 0 && resp.status == 200 && resp.body.len == OV_PP_TOKEN_RESPONSE_LEN) {
            atomic_fetch_add(&B->issued, 1);
        } else {
            atomic_fetch_add(&B->errors, 1);
        }
        ov_httpc_resp_clear(&resp);
    }
    ov_httpc_free(h);
    return NULL;
}

static int
cmd_bench(int argc, char **argv)
{
    struct bench B;
    struct ov_issuer_context ctx;
    memset(&B, 0, sizeof B);
    B.url = argv[2];
    B.conns = (unsigned)strtoul(opt(argc, argv, "--conns", "16"), NULL, 10);
    B.seconds = strtod(opt(argc, argv, "--seconds", "10"), NULL);
    B.n_reqs = strtoul(opt(argc, argv, "--requests", "50000"), NULL, 10);
    B.real = flag(argc, argv, "--blind");
    struct ov_issuerclient *c = client(argv[2]);
    find_context(c, argv[4], &ctx);
    B.ctx = &ctx;
    /* enroll one citizen per connection */
    struct ov_buf csv;
    struct ov_issuer_status st;
    int rc = ov_issuerclient_invites(c, argv[3], B.conns, NULL, &csv, &st);
    if (rc != 0) {
        refused(&st, rc);
    }
    B.keys = calloc(B.conns, sizeof *B.keys);
    char *line = (char *)csv.ptr + 5; /* after "code\n" */
    for (unsigned i = 0; i < B.conns; i++) {
        struct ov_enroll_req r;
        bool rec = false;
        memset(&r, 0, sizeof r);
        r.route = OV_ROUTE_INVITE;
        memcpy(r.secret, line + (size_t)i * (OV_INVITE_CODE_LEN + 1), OV_INVITE_CODE_LEN);
        if (ov_sign_key_generate(&B.keys[i]) != 0 ||
            (rc = ov_issuerclient_enroll(c, &r, B.keys[i], &rec, &st)) != 0) {
            refused(&st, rc);
        }
    }
    sodium_memzero(csv.ptr, csv.len);
    ov_buf_clear(&csv);
    /* precompute the signed requests, so the clients' CPU goes to HTTP only */
    B.reqs = calloc(B.n_reqs, sizeof *B.reqs);
    pthread_t pt[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&pt[i], NULL, prep_thread, &B);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(pt[i], NULL);
    }
    pthread_t *th = calloc(B.conns, sizeof *th);
    struct conn_arg *args = calloc(B.conns, sizeof *args);
    B.t0 = now_s();
    for (unsigned i = 0; i < B.conns; i++) {
        args[i] = (struct conn_arg){ &B, i };
        pthread_create(&th[i], NULL, bench_thread, &args[i]);
    }
    for (unsigned i = 0; i < B.conns; i++) {
        pthread_join(th[i], NULL);
    }
    double el = now_s() - B.t0;
    printf("bench issued %zu seconds %.3f rate %.0f errors %zu\n", (size_t)atomic_load(&B.issued),
           el, (double)atomic_load(&B.issued) / el, (size_t)atomic_load(&B.errors));
    free(th);
    free(args);
    free(B.reqs);
    for (unsigned i = 0; i < B.conns; i++) {
        ov_sign_key_free(B.keys[i]);
    }
    free(B.keys);
    ov_issuerclient_free(c);
    return 0;
}

int
main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        die("sodium", 0);
    }
    const char *cmd = argc > 1 ? argv[1] : "";
    if (argc >= 3 && strcmp(cmd, "keygen") == 0) {
        return cmd_keygen(argv[2]);
    }
    if (argc >= 5 && strcmp(cmd, "context") == 0) {
        return cmd_context(argv);
    }
    if (argc >= 6 && strcmp(cmd, "invites") == 0) {
        return cmd_invites(argv);
    }
    if (argc >= 5 && strcmp(cmd, "regtoken") == 0) {
        return cmd_regtoken(argc, argv);
    }
    if (argc >= 8 && strcmp(cmd, "attest") == 0) {
        return cmd_attest(argv);
    }
    if (argc >= 6 && strcmp(cmd, "enroll") == 0) {
        return cmd_enroll(argv);
    }
    if (argc >= 6 && strcmp(cmd, "token") == 0) {
        return cmd_token(argc, argv);
    }
    if (argc >= 6 && strcmp(cmd, "request") == 0) {
        return cmd_request(argc, argv);
    }
    if (argc >= 6 && strcmp(cmd, "storm") == 0) {
        return cmd_storm(argv);
    }
    if (argc >= 7 && strcmp(cmd, "stream") == 0) {
        return cmd_stream(argv);
    }
    if (argc >= 4 && strcmp(cmd, "logscan") == 0) {
        return cmd_logscan(argc, argv);
    }
    if (argc >= 5 && strcmp(cmd, "bench") == 0) {
        return cmd_bench(argc, argv);
    }
    fprintf(stderr, "usage: see the comment at the top of tests/tools/issuertool.c\n");
    return 2;
}
