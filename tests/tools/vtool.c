/* vtool: a stand-in issuer, a client and a load generator for onevoice-verifier, for tests
 * and benchmarks ONLY (the real issuer is onevoice-issuer). It uses the real steps of
 * core/primitives/pp (RFC 9578 client and issuer), core/protocol/entry and core/protocol/verifierclient.
 *
 *   vtool context LOG PRODUCER_KEY DIR ID --type assembly|rating [--choices a,b,..]
 *                 [--scale MIN,MAX] [--opens T] [--closes T] [--issuer NAME] [--quota Q]
 *                 [--reuse-key]
 *         makes the context's RSA-2048 token key (DIR/ID.sk, PKCS#8, 0600; with --reuse-key
 *         an existing one is kept, so tokens minted for it before stay valid), appends its
 *         `context` entry to the log as producer "issuer" (DIR/ID.ctx keeps the entry) and
 *         prints the log index. Times: POSIX seconds, or +N / -N seconds from now.
 *         --rating-kind makes a rating round a statement round (its scale the kind's) whose
 *         participants may write --statements N each (docs/PROTOCOL.md §11.3)
 *   vtool mint DIR ID N OUT [--threads T]
 *         issues N tokens through ov_pp_client_request / ov_pp_issuer_respond /
 *         ov_pp_client_finalize, each for a fresh one-time Ed25519 key (nonce = SHA-256 of
 *         its public key); OUT holds records seed[32] || token[354]
 *   vtool act URL DIR ID TOKENS K (--choice C | --target T --rating R | --text S) [--platform P]
 *         [--header] [--no-token] [--wait] [--receipt FILE] [--body FILE]
 *         [--corrupt token|keyid|sig|choice|signer]
 *         signs an action with token K's key and submits it (or, with --body, writes the
 *         JSON body to FILE and the Authorization value to FILE.auth); prints
 *         "STATUS REASON-OR-RECEIPT-STATUS [INDEX]"; --text writes statement S
 *   vtool batch URL DIR ID TOKENS K[:CHOICE]... [--wait]
 *         the ballots of tokens K (choice "yes" unless given; "s=TEXT" a statement,
 *         "r=TARGET=RATING" a rating) in one POST /actions/batch
 *         (ov_vclient_submit_batch, which checks each receipt is its action's); prints a
 *         line per action as act does
 *   vtool receipt URL HASH_HEX [--wait] [--out FILE]       GET /receipts/..., prints as act
 *   vtool check VKEY RECEIPT_FILE [--witnesses FILE --quorum K] [--expect-kind action|tally]
 *         checks a receipt offline (core/protocol/receipt); prints "ok INDEX SIZE"
 *   vtool rate-many URL DIR ID TOKENS K N
 *         token K's pseudonym rates N targets with 128-byte names (the first rating carries
 *         the token); prints "rated ok:A refused:B first:STATUS:REASON"
 *   vtool race URL DIR ID TOKENS K N [--distinct]
 *         submits token K's ballot N times at once (--distinct: N different ballots with the
 *         same token); prints "race 200:a 202:b 409:c other:d receipts:e" (distinct receipts)
 *   vtool load URL DIR ID TOKENS [--from I] [--count N] [--conns C] [--rate R] [--wait-proof]
 *         [--receipts FILE] [--seconds S] [--batch B] [--targets T]
 *         open- or closed-loop load over raw keep-alive connections (one epoll thread);
 *         prints "load ok N refused N errors N seconds S rate R p50_ms X p99_ms Y proven N"
 *         (ok, refused: actions; rate: actions counted per second; latencies per request,
 *         from when it was due, with --rate; proven: receipts with their proof). --batch B
 *         sends B actions a request to POST /actions/batch (--rate then counts requests).
 *         --targets T, for a rating round: action I is token (I mod N)'s rating of target
 *         "tJ", J = I div N, N the tokens in the file, up to T targets; --from and --count
 *         count actions. Every action carries its token (the verifier logs it on the
 *         pseudonym's first): a load of the first N admits every pseudonym
 *   vtool audit LOG VKEY [--receipts FILE]... [--tallies]
 *         reads the whole log (core/protocol/logreader) and checks every action is counted once
 *         (assembly: one entry per token; rating: one per pseudonym and target, the token on
 *         the first), that each receipt line "HASH INDEX" is at its index, and (--tallies)
 *         recounts every tally entry; prints "audit entries N actions N tallies N problems N"
 *   vtool dump LOG VKEY
 *         every entry of the log as a JSON line: "index", "entry" (hex), "kind" and, decoded,
 *         an action's or statement's context, pseudonym (hex), token (bool), choice, target
 *         and rating, text; a tally's context, size, result and a statement round's seed,
 *         bridging and groups (hashes in hex): what tests/e2e/statements.sh recomputes
 *   vtool cryptolimit [--threads T] [--seconds S]
 *         RSA-2048 PSS token verifications (ov_pp_token_verify) and Ed25519 action
 *         verifications (ov_sign_verify) per second on T threads, and the combined limit
 *         1 / (1/rsa + 1/ed25519); prints "cryptolimit rsa R ed25519 E limit L"
 * Exit status 0 on success, 1 on failure (with a message), 2 on usage errors. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "protocol/actionbatch.h"
#include "protocol/actionreq.h"
#include "primitives/brsa.h"
#include "base/codec.h"
#include "protocol/entry.h"
#include "infra/keyfile.h"
#include "protocol/logclient.h"
#include "protocol/logreader.h"
#include "primitives/pp.h"
#include "protocol/receipt.h"
#include "protocol/verifierclient.h"
#include "tool.h"

#define REC_LEN (OV_SIGN_SEED_LEN + OV_PP_TOKEN_LEN)
#define VF_GRACE_S 15 /* a load waits this long for its last answers */

static void
die(const char *msg, int rc)
{
    fprintf(stderr, "vtool: %s%s%s\n", msg, rc ? ": " : "", rc ? ov_strerror(rc) : "");
    exit(1);
}

/* A time: absolute seconds, or +N / -N from now. */
static uint64_t
when(const char *s)
{
    uint64_t now = (uint64_t)time(NULL);
    if (s[0] == '+') {
        return now + strtoull(s + 1, NULL, 10);
    }
    if (s[0] == '-') {
        return now - strtoull(s + 1, NULL, 10);
    }
    return strtoull(s, NULL, 10);
}

static void
path_of(char *out, size_t max, const char *dir, const char *id, const char *ext)
{
    if ((size_t)snprintf(out, max, "%s/%s.%s", dir, id, ext) >= max) {
        die("path too long", 0);
    }
}

/* The context this tool made: its entry (DIR/ID.ctx). */
static void
load_context(const char *dir, const char *id, struct ov_context *c)
{
    char p[4096];
    struct ov_buf b;
    struct ov_entry e;
    path_of(p, sizeof p, dir, id, "ctx");
    if (ov_file_read(p, 1 << 16, &b) != 0 || ov_entry_decode(ov_buf_view(&b), &e) != 0 ||
        e.kind != OV_ENTRY_CONTEXT) {
        die(p, -OV_E_MALFORMED);
    }
    *c = e.u.context;
    ov_buf_clear(&b);
}

static struct ov_brsa_sk *
load_sk(const char *dir, const char *id)
{
    char p[4096];
    struct ov_buf b;
    struct ov_brsa_sk *sk = NULL;
    path_of(p, sizeof p, dir, id, "sk");
    int rc = ov_file_read(p, OV_BRSA_MAX_SK_DER_LEN, &b);
    rc = rc ? rc : ov_brsa_sk_load(ov_buf_view(&b), &sk);
    ov_buf_clear(&b);
    if (rc != 0) {
        die(p, rc);
    }
    return sk;
}

/* ---- context ------------------------------------------------------------------------- */

static int
cmd_context(int argc, char **argv)
{
    if (argc < 6) {
        return 2;
    }
    const char *log = argv[2], *dir = argv[4], *id = argv[5];
    const char *type = opt(argc, argv, "--type", "assembly");
    struct ov_sign_key *pkey = NULL;
    struct ov_brsa_sk *sk = NULL;
    struct ov_entry e;
    memset(&e, 0, sizeof e);
    e.kind = OV_ENTRY_CONTEXT;
    struct ov_context *c = &e.u.context;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->title, sizeof c->title, "%s", opt(argc, argv, "--title", id));
    snprintf(c->issuer, sizeof c->issuer, "%s", opt(argc, argv, "--issuer", "issuer.test"));
    c->opens = when(opt(argc, argv, "--opens", "-60"));
    c->closes = when(opt(argc, argv, "--closes", "+3600"));
    c->quota = strtoull(opt(argc, argv, "--quota", "1"), NULL, 10);
    c->time = (uint64_t)time(NULL);
    if (strcmp(type, "rating") == 0) {
        c->type = OV_CONTEXT_RATING;
        const char *kind = opt(argc, argv, "--rating-kind", NULL);
        const char *sc = opt(argc, argv, "--scale", kind == NULL              ? "-1,1"
                                                    : strcmp(kind, "helpfulness") == 0 ? "0,2"
                                                                                     : "-1,1");
        c->scale_min = strtoll(sc, NULL, 10);
        c->scale_max = strtoll(strchr(sc, ',') ? strchr(sc, ',') + 1 : "1", NULL, 10);
        c->rating_kind = kind == NULL                        ? OV_RATING_SCALE
                         : strcmp(kind, "helpfulness") == 0 ? OV_RATING_HELPFULNESS
                                                              : OV_RATING_AGREEMENT;
        c->statements = strtoull(opt(argc, argv, "--statements", "0"), NULL, 10);
    } else {
        c->type = OV_CONTEXT_ASSEMBLY;
        char list[4096], *save = NULL;
        snprintf(list, sizeof list, "%s", opt(argc, argv, "--choices", "yes,no"));
        for (char *t = strtok_r(list, ",", &save); t && c->n_choices < OV_MAX_CHOICES;
             t = strtok_r(NULL, ",", &save)) {
            snprintf(c->choices[c->n_choices++], OV_MAX_LABEL_LEN + 1, "%s", t);
        }
    }
    int rc = ov_keyfile_load_sign_key(argv[3], &pkey);
    char skp[4096];
    struct stat sb;
    path_of(skp, sizeof skp, dir, id, "sk");
    bool reuse = flag(argc, argv, "--reuse-key") && stat(skp, &sb) == 0;
    if (reuse) {
        sk = load_sk(dir, id); /* tokens minted for this key before stay valid */
    } else {
        rc = rc ? rc : ov_brsa_keygen(OV_PP_MODULUS_BITS, &sk);
    }
    rc = rc ? rc : ov_pp_spki_encode(ov_brsa_sk_pk(sk), c->token_key, sizeof c->token_key,
                                     &c->token_key_len);
    rc = rc ? rc : ov_pp_token_key_id(ov_brsa_sk_pk(sk), c->token_key_id);
    if (rc != 0) {
        die("context key", rc);
    }
    /* the token key, as the issuer would keep it (PKCS#8 DER, 0600) */
    uint8_t *der = sodium_malloc(OV_BRSA_MAX_SK_DER_LEN);
    size_t der_len = 0;
    char p[4096];
    path_of(p, sizeof p, dir, id, "sk");
    rc = rc ? rc : (der ? 0 : -OV_E_NOMEM);
    if (!reuse) {
        rc = rc ? rc : ov_brsa_sk_to_pkcs8(sk, der, OV_BRSA_MAX_SK_DER_LEN, &der_len);
        rc = rc ? rc : ov_file_write_atomic(p, der, der_len, 0600);
    }
    sodium_free(der);
    struct ov_buf entry;
    rc = rc ? rc : ov_entry_encode(&e, &entry);
    path_of(p, sizeof p, dir, id, "ctx");
    rc = rc ? rc : ov_file_write_atomic(p, entry.ptr, entry.len, 0644);
    if (rc != 0) {
        die("context entry", rc);
    }
    struct ov_logclient *lc = NULL;
    struct ov_log_ack ack;
    struct ov_bytes one = ov_buf_view(&entry);
    rc = ov_logclient_new(log, "issuer", pkey, &lc);
    rc = rc ? rc : ov_logclient_append(lc, &one, 1, false, &ack);
    if (rc != 0) {
        fprintf(stderr, "vtool: append refused: HTTP %u %s\n", ack.status, ack.reason);
        return 1;
    }
    printf("%llu\n", (unsigned long long)ack.indices[0]);
    ov_log_ack_clear(&ack);
    ov_logclient_free(lc);
    ov_buf_clear(&entry);
    ov_brsa_sk_free(sk);
    ov_sign_key_free(pkey);
    return 0;
}

/* ---- mint ---------------------------------------------------------------------------- */

struct mint {
    const struct ov_brsa_sk *sk;
    struct ov_pp_key key;
    uint8_t challenge[OV_ENTRY_MAX_CHALLENGE_LEN];
    size_t challenge_len;
    size_t n;
    atomic_size_t next;
    uint8_t *out; /* n records */
};

static void *
mint_thread(void *arg)
{
    struct mint *m = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&m->next, 1);
        if (i >= m->n) {
            break;
        }
        uint8_t *rec = m->out + i * REC_LEN, nonce[32], req[OV_PP_TOKEN_REQUEST_LEN];
        uint8_t resp[OV_PP_TOKEN_RESPONSE_LEN];
        unsigned int hl = 0;
        struct ov_sign_key *k = NULL;
        struct ov_pp_client_state st;
        randombytes_buf(rec, OV_SIGN_SEED_LEN);
        int rc = ov_sign_key_from_seed(rec, &k);
        rc = rc ? rc
                : (EVP_Digest(ov_sign_key_pk(k), OV_SIGN_PK_LEN, nonce, &hl, EVP_sha256(), NULL) == 1
                       ? 0
                       : -OV_E_CRYPTO);
        rc = rc ? rc
                : ov_pp_client_request(&m->key, OV_BYTES(m->challenge, m->challenge_len), nonce,
                                       req, &st);
        rc = rc ? rc : ov_pp_issuer_respond(m->sk, OV_BYTES(req, sizeof req), resp);
        rc = rc ? rc
                : ov_pp_client_finalize(&m->key, &st, OV_BYTES(resp, sizeof resp),
                                        rec + OV_SIGN_SEED_LEN);
        ov_pp_client_state_clear(&st);
        ov_sign_key_free(k);
        if (rc != 0) {
            die("mint", rc);
        }
    }
    return NULL;
}

static int
cmd_mint(int argc, char **argv)
{
    if (argc < 6) {
        return 2;
    }
    struct mint m;
    struct ov_context c;
    memset(&m, 0, sizeof m);
    load_context(argv[2], argv[3], &c);
    m.sk = load_sk(argv[2], argv[3]);
    m.n = strtoul(argv[4], NULL, 10);
    unsigned threads = (unsigned)strtoul(opt(argc, argv, "--threads", "2"), NULL, 10);
    m.out = malloc(m.n * REC_LEN + 1);
    int rc = m.out ? ov_pp_key_from_pk(&m.key, ov_brsa_sk_pk(m.sk)) : -OV_E_NOMEM;
    rc = rc ? rc : ov_entry_challenge(c.issuer, c.id, m.challenge, sizeof m.challenge,
                                      &m.challenge_len);
    if (rc != 0 || threads == 0 || threads > 64) {
        die("mint set-up", rc);
    }
    pthread_t th[64];
    for (unsigned i = 0; i < threads; i++) {
        pthread_create(&th[i], NULL, mint_thread, &m);
    }
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
    }
    if (ov_file_write_atomic(argv[5], m.out, m.n * REC_LEN, 0600) != 0) {
        die(argv[5], -OV_E_IO);
    }
    ov_pp_key_clear(&m.key);
    ov_brsa_sk_free((struct ov_brsa_sk *)(uintptr_t)m.sk);
    free(m.out);
    return 0;
}

/* ---- actions ------------------------------------------------------------------------- */

struct tokens {
    struct ov_buf b;
    size_t n;
};

static void
load_tokens(const char *path, struct tokens *t)
{
    if (ov_file_read(path, (size_t)1 << 30, &t->b) != 0 || t->b.len % REC_LEN != 0) {
        die(path, -OV_E_MALFORMED);
    }
    t->n = t->b.len / REC_LEN;
}

/* Builds and signs the action of token k (ov_action_sign sets pseudonym and sig): a
 * statement with text, a rating with target, else a ballot. */
static void
make_any(const struct tokens *t, size_t k, const char *context, const char *choice,
         const char *target, int64_t rating, const char *text, const char *platform,
         struct ov_action *a)
{
    struct ov_sign_key *key = NULL;
    if (k >= t->n) {
        die("no such token", 0);
    }
    const uint8_t *rec = t->b.ptr + k * REC_LEN;
    memset(a, 0, sizeof *a);
    snprintf(a->context, sizeof a->context, "%s", context);
    snprintf(a->platform, sizeof a->platform, "%s", platform);
    if (text != NULL) {
        a->is_statement = true;
        snprintf(a->text, sizeof a->text, "%s", text);
    } else if (target != NULL) {
        a->is_rating = true;
        snprintf(a->target, sizeof a->target, "%s", target);
        a->rating = rating;
    } else {
        snprintf(a->choice, sizeof a->choice, "%s", choice);
    }
    a->has_token = true;
    memcpy(a->token, rec + OV_SIGN_SEED_LEN, OV_PP_TOKEN_LEN);
    int rc = ov_sign_key_from_seed(rec, &key);
    rc = rc ? rc : ov_action_sign(a, key);
    ov_sign_key_free(key);
    if (rc != 0) {
        die("sign", rc);
    }
}


static void
make_action(const struct tokens *t, size_t k, const char *context, const char *choice,
            const char *target, int64_t rating, const char *platform, struct ov_action *a)
{
    make_any(t, k, context, choice, target, rating, NULL, platform, a);
}

/* Breaks the action in one of the ways a test asks for. */
static void
corrupt(struct ov_action *a, const char *how)
{
    if (how == NULL) {
        return;
    }
    if (strcmp(how, "token") == 0) {
        a->token[OV_PP_TOKEN_LEN - 1] ^= 1; /* the RSA signature */
    } else if (strcmp(how, "keyid") == 0) {
        a->token[2 + 32 + 32] ^= 1; /* token_key_id */
    } else if (strcmp(how, "sig") == 0) {
        a->sig[0] ^= 1;
    } else if (strcmp(how, "choice") == 0) {
        /* the action altered after signing: another of the offered choices */
        snprintf(a->choice, sizeof a->choice, "%s", strcmp(a->choice, "no") ? "no" : "yes");
    } else if (strcmp(how, "signer") == 0) {
        /* signed by a key whose hash is not the token's nonce */
        struct ov_sign_key *k = NULL;
        if (ov_sign_key_generate(&k) != 0 || ov_action_sign(a, k) != 0) {
            die("signer", 0);
        }
        ov_sign_key_free(k);
    } else {
        die("unknown --corrupt", 0);
    }
}

static void
print_answer(int rc, const struct ov_vclient_answer *ans, const struct ov_receipt *r)
{
    static const char *const names[] = { "", "pending", "logged", "proven" };
    if (rc == 0 && r->status != OV_RECEIPT_PENDING) {
        printf("%u %s %llu\n", ans->status, names[r->status], (unsigned long long)r->index);
    } else if (rc == 0) {
        printf("%u %s\n", ans->status, names[r->status]);
    } else {
        printf("%u %s\n", ans->status, ans->reason[0] ? ans->reason : ov_strerror(rc));
    }
}

static void
save_receipt(const char *path, const struct ov_receipt *r)
{
    struct ov_buf j;
    if (path == NULL) {
        return;
    }
    if (ov_receipt_format(r, &j) != 0 || ov_file_write_atomic(path, j.ptr, j.len, 0644) != 0) {
        die(path, -OV_E_IO);
    }
    ov_buf_clear(&j);
}

static int
cmd_act(int argc, char **argv)
{
    if (argc < 7) {
        return 2;
    }
    struct tokens t;
    struct ov_action a;
    load_tokens(argv[5], &t);
    const char *target = opt(argc, argv, "--target", NULL);
    make_any(&t, strtoul(argv[6], NULL, 10), argv[4], opt(argc, argv, "--choice", "yes"), target,
             strtoll(opt(argc, argv, "--rating", "1"), NULL, 10), opt(argc, argv, "--text", NULL),
             opt(argc, argv, "--platform", "test.example"), &a);
    corrupt(&a, opt(argc, argv, "--corrupt", NULL));
    if (flag(argc, argv, "--no-token")) {
        a.has_token = false;
    }
    const char *body = opt(argc, argv, "--body", NULL);
    if (body != NULL) {
        struct ov_buf b;
        char p[4096], h[OV_PRIVATETOKEN_HEADER_LEN];
        snprintf(p, sizeof p, "%s.auth", body);
        if (ov_actionreq_build(&a, !flag(argc, argv, "--header"), &b) != 0 ||
            ov_file_write_atomic(body, b.ptr, b.len, 0644) != 0 ||
            ov_privatetoken_format(a.token, h, sizeof h) != 0 ||
            ov_file_write_atomic(p, h, strlen(h), 0644) != 0) {
            die(body, -OV_E_IO);
        }
        ov_buf_clear(&b);
        ov_buf_clear(&t.b);
        return 0;
    }
    struct ov_vclient *c = NULL;
    struct ov_vclient_answer ans;
    struct ov_receipt r;
    unsigned flags = (flag(argc, argv, "--header") ? OV_VCLIENT_TOKEN_IN_HEADER : 0) |
                     (flag(argc, argv, "--wait") ? OV_VCLIENT_WAIT_PROOF : 0);
    if (ov_vclient_new(argv[2], &c) != 0) {
        die("client", 0);
    }
    int rc = ov_vclient_submit(c, &a, flags, &r, &ans);
    print_answer(rc, &ans, &r);
    if (rc == 0) {
        save_receipt(opt(argc, argv, "--receipt", NULL), &r);
    }
    ov_receipt_clear(&r);
    ov_vclient_free(c);
    ov_buf_clear(&t.b);
    return 0;
}

/* vtool batch: the actions K:CHOICE... in one POST /actions/batch (core/protocol/verifierclient). */
static int
cmd_batch(int argc, char **argv)
{
    if (argc < 7) {
        return 2;
    }
    struct tokens t;
    struct ov_action a[OV_MAX_BATCH_ACTIONS];
    struct ov_batch_answer out[OV_MAX_BATCH_ACTIONS];
    size_t n = 0;
    load_tokens(argv[5], &t);
    for (int i = 6; i < argc && argv[i][0] != '-' && n < OV_MAX_BATCH_ACTIONS; i++) {
        const char *colon = strchr(argv[i], ':');
        const char *what = colon ? colon + 1 : "yes";
        char target[OV_MAX_LABEL_LEN + 1] = "";
        if (strncmp(what, "r=", 2) == 0 && strchr(what + 2, '=') != NULL) {
            snprintf(target, sizeof target, "%.*s", (int)(strchr(what + 2, '=') - (what + 2)),
                     what + 2);
        }
        make_any(&t, strtoul(argv[i], NULL, 10), argv[4], what, target[0] ? target : NULL,
                 target[0] ? strtoll(strchr(what + 2, '=') + 1, NULL, 10) : 0,
                 strncmp(what, "s=", 2) == 0 ? what + 2 : NULL, "test.example", &a[n++]);
    }
    struct ov_vclient *c = NULL;
    struct ov_vclient_answer ans;
    if (ov_vclient_new(argv[2], &c) != 0) {
        die("client", 0);
    }
    int rc = ov_vclient_submit_batch(c, a, n, flag(argc, argv, "--wait") ? OV_VCLIENT_WAIT_PROOF : 0,
                                     out, &ans);
    if (rc != 0) {
        print_answer(rc, &ans, NULL);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct ov_vclient_answer one = { out[i].status, "" };
        memcpy(one.reason, out[i].reason, sizeof out[i].reason);
        print_answer(out[i].reason[0] ? -OV_E_HTTP : 0, &one, &out[i].receipt);
    }
    ov_actionbatch_answers_clear(out, n);
    ov_vclient_free(c);
    ov_buf_clear(&t.b);
    return 0;
}

static int
cmd_receipt(int argc, char **argv)
{
    uint8_t h[32];
    size_t n = 0;
    if (argc < 4 || ov_hex_decode(h, sizeof h, &n, argv[3], strlen(argv[3])) != 0 || n != 32) {
        return 2;
    }
    struct ov_vclient *c = NULL;
    struct ov_vclient_answer ans;
    struct ov_receipt r;
    if (ov_vclient_new(argv[2], &c) != 0) {
        die("client", 0);
    }
    int rc = ov_vclient_receipt(c, h, flag(argc, argv, "--wait"), &r, &ans);
    print_answer(rc, &ans, &r);
    if (rc == 0) {
        save_receipt(opt(argc, argv, "--out", NULL), &r);
    }
    ov_receipt_clear(&r);
    ov_vclient_free(c);
    return 0;
}

/* The witnesses file (as the verifier's) and the quorum into cfg. */
static void
witnesses_cfg(int argc, char **argv, struct ov_logreader_cfg *cfg,
              struct ov_note_verifier *wits)
{
    const char *path = opt(argc, argv, "--witnesses", NULL);
    if (path == NULL) {
        return;
    }
    struct ov_buf f;
    if (ov_file_read(path, 1 << 16, &f) != 0 || ov_buf_terminate(&f) != 0) {
        die(path, -OV_E_IO);
    }
    char *save = NULL;
    for (char *l = strtok_r((char *)f.ptr, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *v = strrchr(l, ' ');
        v = v ? v + 1 : l;
        if (l[0] != '#' && cfg->n_witnesses < OV_LOGREADER_MAX_WITNESSES &&
            ov_note_vkey_parse(OV_BYTES(v, strlen(v)), &wits[cfg->n_witnesses]) == 0) {
            cfg->n_witnesses++;
        }
    }
    cfg->witnesses = wits;
    cfg->quorum = (unsigned)strtoul(opt(argc, argv, "--quorum", "0"), NULL, 10);
    ov_buf_clear(&f);
}

static int
cmd_check(int argc, char **argv)
{
    if (argc < 4) {
        return 2;
    }
    struct ov_logreader_cfg cfg = { .url = "" };
    struct ov_note_verifier wits[OV_LOGREADER_MAX_WITNESSES];
    struct ov_buf j;
    struct ov_receipt r;
    struct ov_entry e;
    struct ov_logreader_cp cp;
    if (ov_note_vkey_parse(OV_BYTES(argv[2], strlen(argv[2])), &cfg.log_key) != 0) {
        die("vkey", -OV_E_MALFORMED);
    }
    witnesses_cfg(argc, argv, &cfg, wits);
    if (ov_file_read(argv[3], OV_MAX_RECEIPT_LEN, &j) != 0) {
        die(argv[3], -OV_E_IO);
    }
    int rc = ov_receipt_parse(ov_buf_view(&j), &r);
    rc = rc ? rc : ov_receipt_check(&r, &cfg, &e);
    if (rc != 0) {
        die("the receipt does not check", rc);
    }
    const char *kind = opt(argc, argv, "--expect-kind", NULL);
    if (kind != NULL && (e.kind == OV_ENTRY_TALLY) != (strcmp(kind, "tally") == 0)) {
        die("the receipt is for another kind of entry", 0);
    }
    if (ov_logreader_verify_note(&cfg, ov_buf_view(&r.checkpoint), &cp) != 0) {
        die("checkpoint", 0);
    }
    printf("ok %llu %llu\n", (unsigned long long)r.index, (unsigned long long)cp.size);
    ov_logreader_cp_clear(&cp);
    ov_entry_clear(&e);
    ov_receipt_clear(&r);
    ov_buf_clear(&j);
    return 0;
}

/* ---- rate-many: one pseudonym rates N targets with 128-byte names ------------------------- */

static int
cmd_rate_many(int argc, char **argv)
{
    if (argc < 8) {
        return 2;
    }
    struct tokens t;
    load_tokens(argv[5], &t);
    size_t k = strtoul(argv[6], NULL, 10), n = strtoul(argv[7], NULL, 10);
    struct ov_vclient *c = NULL;
    size_t ok = 0, refused = 0;
    char first[96] = "";
    if (ov_vclient_new(argv[2], &c) != 0) {
        die("client", 0);
    }
    for (size_t i = 0; i < n; i++) {
        char target[OV_MAX_LABEL_LEN + 1];
        struct ov_action a;
        struct ov_receipt r;
        struct ov_vclient_answer ans;
        memset(target, 'x', OV_MAX_LABEL_LEN);
        snprintf(target, sizeof target, "%06zu", i);
        target[6] = 'x'; /* keep all 128 bytes */
        target[OV_MAX_LABEL_LEN] = 0;
        make_action(&t, k, argv[4], NULL, target, 1, "test.example", &a);
        a.has_token = i == 0; /* the first admits the pseudonym */
        int rc = ov_vclient_submit(c, &a, 0, &r, &ans);
        ok += rc == 0;
        refused += rc != 0;
        if (rc != 0 && first[0] == 0) {
            snprintf(first, sizeof first, "%u:%s", ans.status, ans.reason);
        }
        ov_receipt_clear(&r);
    }
    printf("rated ok:%zu refused:%zu first:%s\n", ok, refused, first[0] ? first : "-");
    ov_vclient_free(c);
    ov_buf_clear(&t.b);
    return 0;
}

/* ---- race: one token, N submissions at once -------------------------------------------- */

struct racer {
    const char *url;
    struct ov_action a;
    pthread_barrier_t *go;
    unsigned status;
    uint8_t hash[32];
    bool receipt;
};

static void *
race_thread(void *arg)
{
    struct racer *r = arg;
    struct ov_vclient *c = NULL;
    struct ov_vclient_answer ans;
    struct ov_receipt rc_;
    if (ov_vclient_new(r->url, &c) != 0) {
        return NULL;
    }
    pthread_barrier_wait(r->go);
    int rc = ov_vclient_submit(c, &r->a, 0, &rc_, &ans);
    r->status = ans.status;
    r->receipt = rc == 0;
    memcpy(r->hash, rc_.hash, 32);
    ov_receipt_clear(&rc_);
    ov_vclient_free(c);
    return NULL;
}

static int
cmd_race(int argc, char **argv)
{
    if (argc < 8) {
        return 2;
    }
    struct tokens t;
    load_tokens(argv[5], &t);
    size_t k = strtoul(argv[6], NULL, 10), n = strtoul(argv[7], NULL, 10);
    bool distinct = flag(argc, argv, "--distinct");
    struct ov_context c;
    load_context(argv[3], argv[4], &c);
    if (n == 0 || n > 1000) {
        return 2;
    }
    struct racer *rs = calloc(n, sizeof *rs);
    pthread_t *th = calloc(n, sizeof *th);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)n);
    for (size_t i = 0; i < n; i++) {
        char platform[32];
        snprintf(platform, sizeof platform, distinct ? "platform-%zu" : "platform", i);
        make_action(&t, k, c.id, c.choices[distinct ? i % c.n_choices : 0], NULL, 0, platform,
                    &rs[i].a);
        rs[i].url = argv[2];
        rs[i].go = &go;
        pthread_create(&th[i], NULL, race_thread, &rs[i]);
    }
    size_t s200 = 0, s202 = 0, s409 = 0, other = 0, receipts = 0;
    for (size_t i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        s200 += rs[i].status == 200;
        s202 += rs[i].status == 202;
        s409 += rs[i].status == 409;
        other += rs[i].status != 200 && rs[i].status != 202 && rs[i].status != 409;
        bool seen = false;
        for (size_t j = 0; j < i && rs[i].receipt; j++) {
            seen = seen || (rs[j].receipt && memcmp(rs[j].hash, rs[i].hash, 32) == 0);
        }
        receipts += rs[i].receipt && !seen;
    }
    printf("race 200:%zu 202:%zu 409:%zu other:%zu receipts:%zu\n", s200, s202, s409, other,
           receipts);
    free(rs);
    free(th);
    ov_buf_clear(&t.b);
    return 0;
}

/* ---- load: raw keep-alive connections, one epoll thread ------------------------------ */

#define LOAD_BUF 65536 /* an answer */
#define LOAD_BUF_PER_ACTION 16384 /* a batch's answer: a receipt with its proof a line */

struct conn {
    int fd;
    bool busy;
    size_t req;        /* the request in flight */
    size_t sent;
    double t0;         /* when it was due (open loop) or sent (closed loop) */
    char *buf; /* cap bytes */
    size_t got, cap;
};

struct load {
    int port;
    size_t batch; /* actions a request: 1 POST /actions, more POST /actions/batch */
    char **reqs;
    size_t *req_len;
    size_t n, next;
    double rate, t_start, seconds;
    double *lat;
    size_t n_lat, ok, refused, errors, proven;
    FILE *receipts;
    int ep;
};

static int
conn_open(struct load *L, struct conn *c)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)L->port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (c->fd < 0 || setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        return -1;
    }
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
    c->busy = false;
    c->got = 0;
    return epoll_ctl(L->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Writes the receipt line "HASH-HEX INDEX|-" of a 200/202 body. */
static void
record_receipt(struct load *L, const char *body, size_t len)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    const char *h = json_string_value(json_object_get(j, "hash"));
    json_t *idx = json_object_get(j, "index");
    uint8_t hash[32];
    size_t n = 0;
    char hex[65];
    if (h != NULL && ov_b64_decode(hash, 32, &n, h, strlen(h), OV_B64_STD) == 0 && n == 32 &&
        ov_hex_encode(hex, sizeof hex, hash, 32) == 0) {
        if (json_is_integer(idx)) {
            fprintf(L->receipts, "%s %lld\n", hex, (long long)json_integer_value(idx));
        } else {
            fprintf(L->receipts, "%s -\n", hex);
        }
    }
    json_decref(j);
}

/* One action's answer, a receipt or (in a batch) a refusal. */
static void
answer_line(struct load *L, const char *p, size_t n)
{
    if (n >= 9 && memcmp(p, "{\"error\":", 9) == 0) {
        L->refused++;
        return;
    }
    L->ok++;
    L->proven += memmem(p, n, "\"status\":\"proven\"", 17) != NULL;
    if (L->receipts != NULL) {
        record_receipt(L, p, n);
    }
}

/* A complete response in c->buf: 1 handled, 0 need more, -1 broken. */
static int
conn_response(struct load *L, struct conn *c)
{
    char *end = memmem(c->buf, c->got, "\r\n\r\n", 4);
    if (end == NULL) {
        return c->got == c->cap ? -1 : 0;
    }
    size_t head = (size_t)(end - c->buf) + 4, clen = 0;
    int status = c->got > 12 ? atoi(c->buf + 9) : 0;
    for (char *p = c->buf; p < end; p++) {
        if ((p == c->buf || p[-1] == '\n') && strncasecmp(p, "Content-Length:", 15) == 0) {
            clen = strtoul(p + 15, NULL, 10);
        }
    }
    if (head + clen > c->cap) {
        return -1;
    }
    if (c->got < head + clen) {
        return 0;
    }
    double dt = now_s() - c->t0;
    L->lat[L->n_lat++] = dt;
    if ((status == 200 || status == 202) && L->batch > 1) {
        struct ov_bytes rest = OV_BYTES(c->buf + head, clen), line;
        while (ov_actionbatch_next(&rest, &line)) {
            answer_line(L, (const char *)line.ptr, line.len);
        }
    } else if (status == 200 || status == 202) {
        answer_line(L, c->buf + head, clen);
    } else if (status >= 400 && status < 500) {
        L->refused++;
    } else {
        L->errors++;
    }
    memmove(c->buf, c->buf + head + clen, c->got - head - clen);
    c->got -= head + clen;
    c->busy = false;
    return 1;
}

static void
conn_send(struct load *L, struct conn *c)
{
    while (c->sent < L->req_len[c->req]) {
        ssize_t w = send(c->fd, L->reqs[c->req] + c->sent, L->req_len[c->req] - c->sent,
                         MSG_NOSIGNAL);
        if (w <= 0) {
            return; /* the kernel buffer is full: the main loop sends the rest */
        }
        c->sent += (size_t)w;
    }
}

/* Starts the next request on an idle connection if one is due. */
static void
conn_start(struct load *L, struct conn *c, double now)
{
    if (c->busy && c->sent < L->req_len[c->req]) {
        conn_send(L, c); /* a batch larger than the socket's buffer */
    }
    if (c->busy || L->next >= L->n || now - L->t_start > L->seconds) {
        return;
    }
    if (c->fd < 0 && conn_open(L, c) != 0) {
        if (c->fd >= 0) {
            close(c->fd);
        }
        c->fd = -1;
        return; /* the server is gone (a test killed it): the request stays unsent */
    }
    double due = L->rate > 0 ? L->t_start + (double)L->next / L->rate : now;
    if (due > now) {
        return;
    }
    c->req = L->next++;
    c->sent = 0;
    c->busy = true;
    c->t0 = L->rate > 0 ? due : now;
    conn_send(L, c);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct prep {
    const struct tokens *t;
    const struct ov_context *c;
    size_t from, n, n_actions; /* n requests of L->batch actions, n_actions in all */
    size_t targets;            /* a rating round: targets each token's pseudonym rates */
    bool wait_proof;
    struct load *L;
    atomic_size_t next;
};

static void *
prep_thread(void *arg)
{
    struct prep *p = arg;
    size_t per = p->L->batch;
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n) {
            break;
        }
        struct ov_buf body;
        ov_buf_init(&body, OV_MAX_BATCH_LEN);
        for (size_t k = i * per; k < (i + 1) * per && k < p->n_actions; k++) {
            struct ov_action a;
            struct ov_buf b;
            size_t j = p->from + k;
            char target[24];
            snprintf(target, sizeof target, "t%zu", j / p->t->n);
            if (p->targets > 0) { /* action j: token j mod N rates target t(j div N) */
                make_action(p->t, j % p->t->n, p->c->id, NULL, target, p->c->scale_max,
                            "load.example", &a);
            } else {
                make_action(p->t, j, p->c->id, p->c->choices[j % p->c->n_choices], NULL, 0,
                            "load.example", &a);
            }
            if (ov_actionreq_build(&a, true, &b) != 0 || ov_buf_append(&body, b.ptr, b.len) != 0 ||
                (per > 1 && ov_buf_append(&body, "\n", 1) != 0)) {
                die("body", 0);
            }
            ov_buf_clear(&b);
        }
        char *r = malloc(body.len + 256);
        int h = snprintf(r, 256,
                         "POST /actions%s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                         per > 1 ? "/batch" : "", p->wait_proof ? "?wait=proof" : "",
                         per > 1 ? OV_BATCH_CONTENT_TYPE : "application/json", body.len);
        memcpy(r + h, body.ptr, body.len);
        p->L->reqs[i] = r;
        p->L->req_len[i] = (size_t)h + body.len;
        ov_buf_clear(&body);
    }
    return NULL;
}

static int
cmd_load(int argc, char **argv)
{
    if (argc < 6) {
        return 2;
    }
    struct tokens t;
    struct ov_context ctx;
    struct load L;
    memset(&L, 0, sizeof L);
    load_tokens(argv[5], &t);
    load_context(argv[3], argv[4], &ctx);
    const char *url = argv[2], *colon = strrchr(url, ':');
    L.port = colon ? atoi(colon + 1) : 80;
    size_t from = strtoul(opt(argc, argv, "--from", "0"), NULL, 10);
    L.n = strtoul(opt(argc, argv, "--count", "0"), NULL, 10);
    size_t targets = strtoul(opt(argc, argv, "--targets", "0"), NULL, 10);
    if ((targets > 0) != (ctx.type == OV_CONTEXT_RATING)) {
        return 2;
    }
    size_t most = t.n * (targets ? targets : 1); /* actions the tokens can make */
    if (L.n == 0 || from + L.n > most) {
        L.n = most > from ? most - from : 0;
    }
    L.batch = strtoul(opt(argc, argv, "--batch", "1"), NULL, 10);
    if (L.batch == 0 || L.batch > OV_MAX_BATCH_ACTIONS) {
        return 2;
    }
    size_t n_actions = L.n;
    L.n = (n_actions + L.batch - 1) / L.batch; /* requests */
    unsigned conns = (unsigned)strtoul(opt(argc, argv, "--conns", "64"), NULL, 10);
    L.rate = strtod(opt(argc, argv, "--rate", "0"), NULL);
    L.seconds = strtod(opt(argc, argv, "--seconds", "600"), NULL);
    const char *rf = opt(argc, argv, "--receipts", NULL);
    if (rf != NULL && (L.receipts = fopen(rf, "w")) == NULL) {
        die(rf, -OV_E_IO);
    }
    /* every request signed and encoded before the clock starts */
    L.reqs = calloc(L.n + 1, sizeof *L.reqs);
    L.req_len = calloc(L.n + 1, sizeof *L.req_len);
    L.lat = calloc(L.n + 1, sizeof *L.lat);
    struct prep p = { &t, &ctx, from, L.n, n_actions, targets, flag(argc, argv, "--wait-proof"),
                      &L, 0 };
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&th[i], NULL, prep_thread, &p);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    if (conns == 0 || conns > 4000) {
        return 2;
    }
    struct conn *cs = calloc(conns, sizeof *cs);
    for (unsigned i = 0; i < conns; i++) {
        cs[i].cap = L.batch > 1 ? LOAD_BUF_PER_ACTION * L.batch : LOAD_BUF;
        if ((cs[i].buf = malloc(cs[i].cap)) == NULL) {
            die("load", -OV_E_NOMEM);
        }
    }
    L.ep = epoll_create1(0);
    for (unsigned i = 0; i < conns; i++) {
        if (conn_open(&L, &cs[i]) != 0) {
            die("connect", -OV_E_IO);
        }
    }
    L.t_start = now_s();
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    size_t done = 0;
    struct epoll_event evs[256];
    while (done < L.n) {
        double now = now_s();
        if (now - L.t_start > L.seconds + VF_GRACE_S) {
            break;
        }
        unsigned alive = 0;
        for (unsigned i = 0; i < conns; i++) {
            conn_start(&L, &cs[i], now);
            alive += cs[i].fd >= 0;
        }
        if (alive == 0) {
            break;
        }
        int timeout = 50;
        if (L.rate > 0 && L.next < L.n) {
            double due = L.t_start + (double)L.next / L.rate - now;
            timeout = due <= 0 ? 0 : (int)(due * 1000) + 1;
            timeout = timeout > 50 ? 50 : timeout;
        }
        int ne = epoll_wait(L.ep, evs, 256, timeout);
        for (int e = 0; e < ne; e++) {
            struct conn *c = evs[e].data.ptr;
            ssize_t r = recv(c->fd, c->buf + c->got, c->cap - c->got, 0);
            if (r > 0) {
                c->got += (size_t)r;
                int st = 0;
                while (c->busy && (st = conn_response(&L, c)) == 1) {
                    done++;
                }
                if (c->busy && st < 0) {
                    r = 0;
                }
            }
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                /* the server closed: count the request in flight as an error, reconnect */
                if (c->busy) {
                    L.errors++;
                    done++;
                }
                epoll_ctl(L.ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                c->fd = -1; /* reopened by conn_start when needed */
                c->busy = false;
                c->got = 0;
            }
        }
        if (L.next >= L.n || now - L.t_start > L.seconds) {
            bool any = false;
            for (unsigned i = 0; i < conns; i++) {
                any = any || cs[i].busy;
            }
            if (!any) {
                break;
            }
        }
    }
    double el = now_s() - L.t_start;
    getrusage(RUSAGE_SELF, &ru1);
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
                          ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
                          ru0.ru_stime.tv_usec) / 1e6;
    qsort(L.lat, L.n_lat, sizeof *L.lat, cmp_double);
    double p50 = L.n_lat ? L.lat[L.n_lat / 2] : 0, p99 = L.n_lat ? L.lat[L.n_lat * 99 / 100] : 0;
    printf("load ok %zu refused %zu errors %zu seconds %.3f rate %.0f p50_ms %.1f p99_ms %.1f "
           "proven %zu cpu_s %.3f\n",
           L.ok, L.refused, L.errors, el, (double)L.ok / el, p50 * 1e3, p99 * 1e3, L.proven, cpu);
    if (L.receipts != NULL) {
        fclose(L.receipts);
    }
    for (unsigned i = 0; i < conns; i++) {
        if (cs[i].fd >= 0) {
            close(cs[i].fd);
        }
        free(cs[i].buf);
    }
    for (size_t i = 0; i < L.n; i++) {
        free(L.reqs[i]);
    }
    free(cs);
    free(L.reqs);
    free(L.req_len);
    free(L.lat);
    ov_buf_clear(&t.b);
    return 0;
}

/* ---- audit ---------------------------------------------------------------------------- */

struct act_key {
    uint8_t key[32];   /* SHA-256(context, pseudonym[, target]): what may be counted once */
    uint8_t who[32];   /* SHA-256(context, pseudonym): whose token */
    uint64_t index;
    bool token;
};

struct audit {
    struct act_key *acts;
    size_t n_acts, cap_acts, n_entries, n_tallies, problems;
    uint8_t *hashes; /* every leaf hash, by index */
    size_t cap_hashes;
    /* pass 2: the tallies being recounted */
    struct ov_tally *tallies;
    struct ov_tally *counts;
    size_t n_t;
    bool recount;
};

static void
key_of(const struct ov_action *a, bool with_target, uint8_t out[32])
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned int n = 0;
    if (m == NULL || EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(m, a->context, strlen(a->context) + 1) != 1 ||
        EVP_DigestUpdate(m, a->pseudonym, 32) != 1 ||
        (with_target && EVP_DigestUpdate(m, a->target, strlen(a->target) + 1) != 1) ||
        EVP_DigestFinal_ex(m, out, &n) != 1) {
        die("sha256", 0);
    }
    EVP_MD_CTX_free(m);
}

static int
audit_entry(void *ctx, uint64_t index, struct ov_bytes entry)
{
    struct audit *A = ctx;
    struct ov_entry e;
    if (!A->recount) {
        if (A->n_entries == A->cap_hashes) {
            A->cap_hashes = A->cap_hashes ? 2 * A->cap_hashes : 4096;
            A->hashes = realloc(A->hashes, A->cap_hashes * 32);
        }
        if (ov_merkle_leaf_hash(entry.ptr, entry.len, A->hashes + index * 32) != 0) {
            die("hash", 0);
        }
        A->n_entries++;
    }
    if (ov_entry_decode(entry, &e) != 0) {
        return 0; /* not ours to judge (another producer's test entries) */
    }
    if (A->recount && e.kind == OV_ENTRY_ACTION) {
        for (size_t t = 0; t < A->n_t; t++) {
            struct ov_tally *c = &A->counts[t];
            if (strcmp(c->context, e.u.action.context) != 0 || index >= A->tallies[t].size) {
                continue;
            }
            const char *label = e.u.action.is_rating ? e.u.action.target : e.u.action.choice;
            for (size_t i = 0; i < c->n; i++) {
                if (strcmp(c->items[i].name, label) == 0) {
                    c->items[i].count++;
                    c->items[i].sum += e.u.action.is_rating ? e.u.action.rating : 0;
                }
            }
        }
    } else if (!A->recount && e.kind == OV_ENTRY_ACTION) {
        if (A->n_acts == A->cap_acts) {
            A->cap_acts = A->cap_acts ? 2 * A->cap_acts : 4096;
            A->acts = realloc(A->acts, A->cap_acts * sizeof *A->acts);
        }
        struct act_key *k = &A->acts[A->n_acts++];
        key_of(&e.u.action, e.u.action.is_rating, k->key);
        key_of(&e.u.action, false, k->who);
        k->index = index;
        k->token = e.u.action.has_token;
        if (!e.u.action.is_rating && !e.u.action.has_token) {
            fprintf(stderr, "vtool audit: entry %llu: a ballot without its token\n",
                    (unsigned long long)index);
            A->problems++;
        }
    } else if (!A->recount && e.kind == OV_ENTRY_TALLY) {
        A->tallies = realloc(A->tallies, (A->n_t + 1) * sizeof *A->tallies);
        A->tallies[A->n_t++] = e.u.tally; /* keeps its items */
        A->n_tallies++;
        return 0;
    }
    ov_entry_clear(&e);
    return 0;
}

static int
cmp_key(const void *a, const void *b)
{
    int c = memcmp(((const struct act_key *)a)->key, ((const struct act_key *)b)->key, 32);
    return c;
}

static int
cmp_who(const void *a, const void *b)
{
    const struct act_key *x = a, *y = b;
    int c = memcmp(x->who, y->who, 32);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

static void
audit_receipts(struct audit *A, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    if (f == NULL) {
        die(path, -OV_E_IO);
    }
    while (fgets(line, sizeof line, f) != NULL) {
        char hex[80], idx[32];
        uint8_t h[32];
        size_t n = 0;
        if (sscanf(line, "%70s %30s", hex, idx) != 2 ||
            ov_hex_decode(h, 32, &n, hex, strlen(hex)) != 0 || n != 32) {
            die("receipt line", -OV_E_MALFORMED);
        }
        size_t found = 0;
        uint64_t at = 0;
        for (size_t i = 0; i < A->n_entries; i++) {
            if (memcmp(A->hashes + i * 32, h, 32) == 0) {
                found++;
                at = i;
            }
        }
        if (found != 1 || (idx[0] != '-' && strtoull(idx, NULL, 10) != at)) {
            fprintf(stderr, "vtool audit: receipt %s: %zu times in the log\n", hex, found);
            A->problems++;
        }
    }
    fclose(f);
}

/* A reader of the log at URL under VKEY, and its checkpoint now. */
static int
open_log(const char *url, const char *vkey, struct ov_logreader_cfg *cfg,
         struct ov_logreader **r, struct ov_logreader_cp *cp)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->url = url;
    if (ov_note_vkey_parse(OV_BYTES(vkey, strlen(vkey)), &cfg->log_key) != 0 ||
        ov_logreader_new(cfg, r) != 0) {
        die("vkey", 0);
    }
    return ov_logreader_checkpoint(*r, cp);
}

static int
cmd_audit(int argc, char **argv)
{
    if (argc < 4) {
        return 2;
    }
    struct ov_logreader_cfg cfg;
    struct ov_logreader *r = NULL;
    struct ov_logreader_cp cp;
    struct audit A;
    memset(&A, 0, sizeof A);
    int rc = open_log(argv[2], argv[3], &cfg, &r, &cp);
    rc = rc ? rc : ov_logreader_sync(r, &cp, audit_entry, &A);
    if (rc != 0) {
        die("read the log", rc);
    }
    /* each ballot, and each pseudonym's rating of a target, once */
    qsort(A.acts, A.n_acts, sizeof *A.acts, cmp_key);
    for (size_t i = 1; i < A.n_acts; i++) {
        if (memcmp(A.acts[i - 1].key, A.acts[i].key, 32) == 0) {
            fprintf(stderr, "vtool audit: entries %llu and %llu count the same action\n",
                    (unsigned long long)A.acts[i - 1].index, (unsigned long long)A.acts[i].index);
            A.problems++;
        }
    }
    /* each pseudonym's token once, on its first action */
    qsort(A.acts, A.n_acts, sizeof *A.acts, cmp_who);
    for (size_t i = 0; i < A.n_acts; i++) {
        bool first = i == 0 || memcmp(A.acts[i - 1].who, A.acts[i].who, 32) != 0;
        if (first != A.acts[i].token) {
            fprintf(stderr, "vtool audit: entry %llu: %s\n", (unsigned long long)A.acts[i].index,
                    first ? "a first action without its token" : "a token spent twice");
            A.problems++;
        }
    }
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--receipts") == 0) {
            audit_receipts(&A, argv[i + 1]);
        }
    }
    if (flag(argc, argv, "--tallies") && A.n_t > 0) {
        /* pass 2: recount each tally from the entries below its size */
        A.counts = calloc(A.n_t, sizeof *A.counts);
        for (size_t t = 0; t < A.n_t; t++) {
            A.counts[t] = A.tallies[t];
            A.counts[t].items = calloc(A.tallies[t].n + 1, sizeof *A.counts[t].items);
            for (size_t i = 0; i < A.tallies[t].n; i++) {
                strcpy(A.counts[t].items[i].name, A.tallies[t].items[i].name);
            }
        }
        struct ov_logreader *r2 = NULL;
        A.recount = true;
        rc = ov_logreader_new(&cfg, &r2);
        rc = rc ? rc : ov_logreader_sync(r2, &cp, audit_entry, &A);
        if (rc != 0) {
            die("read the log again", rc);
        }
        for (size_t t = 0; t < A.n_t; t++) {
            uint64_t total = 0;
            for (size_t i = 0; i < A.tallies[t].n; i++) {
                total += A.counts[t].items[i].count;
                if (A.counts[t].items[i].count != A.tallies[t].items[i].count ||
                    A.counts[t].items[i].sum != A.tallies[t].items[i].sum) {
                    fprintf(stderr, "vtool audit: tally of %s: %s counted %llu, recounted %llu\n",
                            A.tallies[t].context, A.tallies[t].items[i].name,
                            (unsigned long long)A.tallies[t].items[i].count,
                            (unsigned long long)A.counts[t].items[i].count);
                    A.problems++;
                }
            }
            printf("tally %s size %llu total %llu\n", A.tallies[t].context,
                   (unsigned long long)A.tallies[t].size, (unsigned long long)total);
            free(A.counts[t].items);
        }
        ov_logreader_free(r2);
        free(A.counts);
    }
    printf("audit entries %zu actions %zu tallies %zu problems %zu\n", A.n_entries, A.n_acts,
           A.n_tallies, A.problems);
    for (size_t t = 0; t < A.n_t; t++) {
        free(A.tallies[t].items);
    }
    free(A.tallies);
    free(A.acts);
    free(A.hashes);
    ov_logreader_cp_clear(&cp);
    ov_logreader_free(r);
    return A.problems == 0 ? 0 : 1;
}

/* ---- dump: the log's entries as JSON lines -------------------------------------------- */

static json_t *
hexj(const uint8_t *b, size_t n)
{
    static char s[2 * OV_MAX_ENTRY_LEN + 1];
    if (ov_hex_encode(s, sizeof s, b, n) != 0) {
        die("hex", 0);
    }
    return json_string(s);
}

static json_t *
idsj(const char *ids, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(a, json_string(ids + i * sizeof(ov_statement_id_str)));
    }
    return a;
}

/* A statement round's seed, bridging and groups, as the tally entry has them. */
static void
dump_results(json_t *o, const struct ov_tally_results *r)
{
    json_t *sizes = json_array();
    for (size_t g = 0; g < r->k; g++) {
        json_array_append_new(sizes, json_integer((json_int_t)r->sizes[g]));
    }
    json_object_set_new(o, "seed", hexj(r->seed, 32));
    json_object_set_new(o, "bridging",
                        json_pack("{sosIsIsoso}", "result", hexj(r->bridging, 32),
                                  "min_ratings_per_rater", (json_int_t)r->min_ratings_per_rater,
                                  "min_raters_per_note", (json_int_t)r->min_raters_per_note,
                                  "helpful", idsj(r->helpful ? r->helpful[0] : "", r->n_helpful), "not_helpful",
                                  idsj(r->not_helpful ? r->not_helpful[0] : "", r->n_not_helpful)));
    json_object_set_new(o, "groups", json_pack("{sososo}", "result", hexj(r->groups, 32), "sizes",
                                               sizes, "consensus",
                                               idsj(r->consensus[0], r->n_consensus)));
}

/* An action's or a statement's fields. */
static void
dump_action(json_t *o, const struct ov_action *a)
{
    json_object_set_new(o, "context", json_string(a->context));
    json_object_set_new(o, "pseudonym", hexj(a->pseudonym, OV_PSEUDONYM_LEN));
    json_object_set_new(o, "token", json_boolean(a->has_token));
    json_object_set_new(o, "time", json_integer((json_int_t)a->time));
    if (a->is_statement) {
        json_object_set_new(o, "text", json_string(a->text));
    } else if (a->is_rating) {
        json_object_set_new(o, "target", json_string(a->target));
        json_object_set_new(o, "rating", json_integer((json_int_t)a->rating));
    } else {
        json_object_set_new(o, "choice", json_string(a->choice));
    }
}

static void
dump_tally(json_t *o, const struct ov_tally *t)
{
    json_t *res = json_object();
    for (size_t i = 0; i < t->n; i++) {
        json_object_set_new(res, t->items[i].name,
                            json_pack("[II]", (json_int_t)t->items[i].count,
                                      (json_int_t)t->items[i].sum));
    }
    json_object_set_new(o, "context", json_string(t->context));
    json_object_set_new(o, "size", json_integer((json_int_t)t->size));
    json_object_set_new(o, "result", res);
    if (t->has_results) {
        dump_results(o, &t->results);
    }
}

static int
dump_entry(void *ctx, uint64_t index, struct ov_bytes entry)
{
    static const char *const kinds[] = { "", "context", "enrollment", "issuance", "action",
                                         "tally", "invitations", "statement" };
    struct ov_entry e;
    (void)ctx;
    json_t *o = json_pack("{sIso}", "index", (json_int_t)index, "entry", hexj(entry.ptr, entry.len));
    if (ov_entry_decode(entry, &e) == 0) {
        json_object_set_new(o, "kind", json_string(kinds[e.kind]));
        if (e.kind == OV_ENTRY_ACTION || e.kind == OV_ENTRY_STATEMENT) {
            dump_action(o, &e.u.action);
        } else if (e.kind == OV_ENTRY_TALLY) {
            dump_tally(o, &e.u.tally);
        } else if (e.kind == OV_ENTRY_CONTEXT) {
            json_object_set_new(o, "id", json_string(e.u.context.id));
            json_object_set_new(o, "statements", json_integer((json_int_t)e.u.context.statements));
        }
        ov_entry_clear(&e);
    }
    char *line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (line == NULL) {
        die("dump", -OV_E_NOMEM);
    }
    printf("%s\n", line);
    free(line);
    json_decref(o);
    return 0;
}

static int
cmd_dump(int argc, char **argv)
{
    if (argc < 4) {
        return 2;
    }
    struct ov_logreader_cfg cfg;
    struct ov_logreader *r = NULL;
    struct ov_logreader_cp cp;
    int rc = open_log(argv[2], argv[3], &cfg, &r, &cp);
    rc = rc ? rc : ov_logreader_sync(r, &cp, dump_entry, NULL);
    if (rc != 0) {
        die("read the log", rc);
    }
    ov_logreader_cp_clear(&cp);
    ov_logreader_free(r);
    return 0;
}

/* ---- cryptolimit ------------------------------------------------------------------------ */

struct bench {
    const struct ov_pp_key *key;
    const uint8_t *token;
    const uint8_t *pk, *sig, *msg;
    size_t msg_len;
    bool rsa;
    double seconds;
    uint64_t n;
};

static void *
bench_thread(void *arg)
{
    struct bench *b = arg;
    double t0 = now_s();
    while (now_s() - t0 < b->seconds) {
        for (int i = 0; i < 64; i++) {
            int rc = b->rsa ? ov_pp_token_verify(b->key, OV_BYTES(b->token, OV_PP_TOKEN_LEN))
                            : ov_sign_verify(b->pk, OV_SIGN_ACTION, b->msg, b->msg_len, b->sig);
            if (rc != 0) {
                die("verify", rc);
            }
        }
        b->n += 64;
    }
    return NULL;
}

static double
bench_rate(struct bench *proto, unsigned threads)
{
    struct bench b[64];
    pthread_t th[64];
    uint64_t total = 0;
    for (unsigned i = 0; i < threads; i++) {
        b[i] = *proto;
        pthread_create(&th[i], NULL, bench_thread, &b[i]);
    }
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += b[i].n;
    }
    return (double)total / proto->seconds;
}

static int
cmd_cryptolimit(int argc, char **argv)
{
    unsigned threads = (unsigned)strtoul(opt(argc, argv, "--threads", "2"), NULL, 10);
    double seconds = strtod(opt(argc, argv, "--seconds", "1"), NULL);
    struct ov_brsa_sk *sk = NULL;
    struct ov_pp_key key;
    struct ov_sign_key *ek = NULL;
    struct ov_pp_client_state st;
    struct ov_action a;
    struct ov_buf msg;
    uint8_t ch[OV_ENTRY_MAX_CHALLENGE_LEN], nonce[32], req[OV_PP_TOKEN_REQUEST_LEN];
    uint8_t resp[OV_PP_TOKEN_RESPONSE_LEN], token[OV_PP_TOKEN_LEN];
    size_t ch_len = 0;
    unsigned int hl = 0;
    if (threads == 0 || threads > 64) {
        return 2;
    }
    memset(&a, 0, sizeof a);
    strcpy(a.context, "bench");
    strcpy(a.choice, "yes");
    strcpy(a.platform, "load.example");
    int rc = ov_brsa_keygen(OV_PP_MODULUS_BITS, &sk);
    rc = rc ? rc : ov_pp_key_from_pk(&key, ov_brsa_sk_pk(sk));
    rc = rc ? rc : ov_sign_key_generate(&ek);
    rc = rc ? rc : ov_action_sign(&a, ek);
    rc = rc ? rc : ov_entry_challenge("issuer.test", "bench", ch, sizeof ch, &ch_len);
    if (rc == 0) {
        EVP_Digest(a.pseudonym, 32, nonce, &hl, EVP_sha256(), NULL);
    }
    rc = rc ? rc : ov_pp_client_request(&key, OV_BYTES(ch, ch_len), nonce, req, &st);
    rc = rc ? rc : ov_pp_issuer_respond(sk, OV_BYTES(req, sizeof req), resp);
    rc = rc ? rc : ov_pp_client_finalize(&key, &st, OV_BYTES(resp, sizeof resp), token);
    rc = rc ? rc : ov_action_signed_bytes(&a, &msg);
    if (rc != 0) {
        die("set-up", rc);
    }
    struct bench b = { &key, token, a.pseudonym, a.sig, msg.ptr, msg.len, true, seconds, 0 };
    double rsa = bench_rate(&b, threads);
    b.rsa = false;
    double ed = bench_rate(&b, threads);
    printf("cryptolimit rsa %.0f ed25519 %.0f limit %.0f\n", rsa, ed, 1.0 / (1.0 / rsa + 1.0 / ed));
    ov_buf_clear(&msg);
    ov_pp_client_state_clear(&st);
    ov_sign_key_free(ek);
    ov_pp_key_clear(&key);
    ov_brsa_sk_free(sk);
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        { "context", cmd_context }, { "mint", cmd_mint },   { "act", cmd_act },
        { "receipt", cmd_receipt }, { "check", cmd_check }, { "race", cmd_race },
        { "batch", cmd_batch },
        { "load", cmd_load },       { "audit", cmd_audit }, { "cryptolimit", cmd_cryptolimit },
        { "rate-many", cmd_rate_many }, { "dump", cmd_dump },
    };
    if (sodium_init() < 0) {
        die("sodium", 0);
    }
    for (size_t i = 0; argc >= 2 && i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name) == 0) {
            int rc = cmds[i].fn(argc, argv);
            if (rc == 2) {
                fprintf(stderr, "vtool %s: bad arguments (see tests/tools/vtool.c)\n", argv[1]);
            }
            return rc;
        }
    }
    fprintf(stderr, "usage: see the comment at the top of tests/tools/vtool.c\n");
    return 2;
}
