/* citizens: N simulated citizens for the demo and its end-to-end test. Each one is a
 * wallet in miniature built on the same client modules as the `onevoice` wallet: it
 * enrolls with its invitation code, keeps only the open contexts whose key the log shows
 * (the context entries, read through core/protocol/logreader under a witnessed checkpoint), fetches
 * a token for every one of them (cover issuance) with a fresh one-time key per token,
 * votes in the assembly; the first few write a statement in the statement round (an
 * agreement round, docs/PROTOCOL.md §11.3); once every statement is in, everyone rates
 * every statement but their own, and at the end checks every receipt offline. Even-numbered
 * citizens lean one way (camp A), odd ones the other (camp B): the camps agree on some
 * statements and disagree on others, as in an alignment assembly. Nothing of this leaves
 * the tool but the actions: the groups and the statements that bridge them are for the
 * verifier's logged results (and the auditor's recomputation) to find.
 *
 *   citizens --issuer URL --verifier URL --log URL --log-vkey VKEY [--witness VKEY]...
 *            [--quorum K] --codes FILE --assembly ID --round ID [--threads T]
 *            [--first-statement K] [--truth FILE]
 *
 * The codes file is the issuer's invitation CSV. Preferences are the fixed tables below.
 * Statements 0..K-1 of the table are written by someone else (the demo's wallet users)
 * before this runs; the tool's citizens write the others (citizen j writes statement K+j),
 * and everyone rates all of them. Prints one line of counts; exit 0 when every step of
 * every citizen succeeded.
 *
 * --truth FILE (for the linkage measurement, tests/privacy/linkage.py, only) writes, after
 * the run, who is who: a line per citizen `citizen code enrollee_key assembly_pseudonym
 * round_pseudonym` (keys in hex, `-` for none). It goes to that file alone: nothing of it
 * reaches a server, and the citizens act exactly as without it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "base/codec.h"
#include "protocol/entry.h"
#include "protocol/issuerclient.h"
#include "protocol/logreader.h"
#include "protocol/receipt.h"
#include "protocol/verifierclient.h"
#include "tool.h"

#define MAX_CITIZENS 100000
#define N_STATEMENTS 8
#define MAX_THREADS 64

/* The statements, and where each camp stands on them (agree 1, disagree -1); a citizen
 * follows their camp most of the time, passes or goes against it now and then. The demo's
 * wallet users write the first ones with the same text (tools/demo.sh). */
static const struct {
    const char *text;
    int a, b;
} statements[N_STATEMENTS] = {
    { "Buses every ten minutes on every main line, all day", 1, 1 },      /* bridges */
    { "Charge cars a fee to enter the centre at peak hours", 1, -1 },      /* divides */
    { "Build a ring road around the town", -1, 1 },                        /* divides */
    { "Cycle lanes separated from traffic on the school routes", 1, 1 },   /* bridges */
    { "More parking spaces in the town centre", -1, 1 },                   /* divides */
    { "Close the old town to cars on weekends", 1, -1 },                   /* divides */
    { "Cut the transport budget and change nothing", -1, -1 },             /* nobody wants it */
    { "\xe5\x85\xac\xe8\xbb\x8a\xe5\x85\x8d\xe8\xb2\xbb\xe7\xb5\xa6\xe9\x9d\x92\xe5\xb0\x91\xe5\xb9\xb4\xe8\x88\x87\xe9\x95\xb7\xe8\x80\x85 "
      "(free buses for the young and the old)", 1, 1 },                   /* bridges */
};
/* The assembly's proposals each group votes for, in turn. */
static const char *const vote_a[] = { "p1-bus-network", "p2-mixed-plan", "p1-bus-network" };
static const char *const vote_b[] = { "p3-road-upgrade", "p2-mixed-plan", "p2-mixed-plan" };

/* What a citizen keeps between the phases: the round's one-time key and token. */
struct person {
    struct ov_sign_key *otk;
    uint8_t token[OV_PP_TOKEN_LEN];
    bool have;     /* a token of the round */
    bool admitted; /* its pseudonym admitted (by its statement) */
    int wrote;     /* the statement it wrote, or -1 */
    /* --truth: the enrollee key and the one-time keys (pseudonyms) of the assembly and
     * the round, recorded for the measurement alone */
    uint8_t me_pk[OV_SIGN_PK_LEN], pseudonym[2][OV_SIGN_PK_LEN];
    bool enrolled, has_pseudonym[2];
};

struct sim {
    const char *issuer, *verifier, *assembly, *round;
    struct ov_logreader_cfg log;
    char **codes;
    size_t n;
    struct person *people;
    int first_statement; /* statements [0, first) come from elsewhere */
    atomic_size_t next;
    atomic_size_t enrolled, tokens, votes, written, ratings, proven, failures;
    struct ov_context *logged; /* the context entries of the log */
    size_t n_logged;
    pthread_mutex_t mu;
    uint8_t (*hashes)[OV_HASH_LEN]; /* every receipt's entry hash, checked at the end */
    size_t n_hashes, cap_hashes;
};

static void
fail(struct sim *S, size_t i, const char *what, int rc, const char *reason)
{
    atomic_fetch_add(&S->failures, 1);
    fprintf(stderr, "citizen %zu: %s: %s %s\n", i, what, ov_strerror(rc), reason ? reason : "");
}

static void
keep_receipt(struct sim *S, const struct ov_receipt *r)
{
    pthread_mutex_lock(&S->mu);
    if (S->n_hashes == S->cap_hashes) {
        S->cap_hashes = S->cap_hashes ? 2 * S->cap_hashes : 1024;
        S->hashes = realloc(S->hashes, S->cap_hashes * OV_HASH_LEN);
    }
    memcpy(S->hashes[S->n_hashes++], r->hash, OV_HASH_LEN);
    pthread_mutex_unlock(&S->mu);
}

/* True when the log holds this very context definition, its token key included: a key
 * the log does not show could single a person out (docs/THREAT-MODEL.md). */
static bool
in_log(const struct sim *S, const struct ov_context *c)
{
    for (size_t i = 0; i < S->n_logged; i++) {
        const struct ov_context *d = &S->logged[i];
        if (strcmp(d->id, c->id) == 0 && d->token_key_len == c->token_key_len &&
            memcmp(d->token_key, c->token_key, d->token_key_len) == 0 &&
            memcmp(d->token_key_id, c->token_key_id, OV_PP_NID) == 0) {
            return true;
        }
    }
    return false;
}

/* One token for ctx with a fresh one-time key (*otk), retrying the same job (so the same
 * blinded message) when the answer may have been lost. */
static int
fetch_token(struct ov_issuerclient *ic, const struct ov_sign_key *me,
            const struct ov_issuer_context *ctx, struct ov_sign_key **otk,
            uint8_t token[OV_PP_TOKEN_LEN], struct ov_issuer_status *st)
{
    uint8_t nonce[OV_PP_NONCE_LEN];
    unsigned int nl = 0;
    struct ov_token_job job;
    int rc = ov_sign_key_generate(otk);
    if (rc != 0) {
        return rc;
    }
    if (EVP_Digest(ov_sign_key_pk(*otk), OV_SIGN_PK_LEN, nonce, &nl, EVP_sha256(), NULL) != 1) {
        return -OV_E_CRYPTO;
    }
    rc = ov_token_job_init(&job, ctx, nonce);
    if (rc != 0) {
        return rc;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        rc = ov_issuerclient_token(ic, me, &job, token, st);
        if (rc == 0 || (st->status != 0 && st->status < 500)) {
            break;
        }
    }
    ov_token_job_clear(&job);
    return rc;
}

static int
submit(struct sim *S, struct ov_vclient *vc, struct ov_action *a, const struct ov_sign_key *k,
       struct ov_vclient_answer *ans)
{
    struct ov_receipt r;
    ov_receipt_init(&r);
    int rc = ov_action_sign(a, k);
    rc = rc ? rc : ov_vclient_submit(vc, a, 0, &r, ans);
    if (rc == 0) {
        keep_receipt(S, &r);
    }
    ov_receipt_clear(&r);
    return rc;
}

/* A camp's stance on statement s, as citizen i holds it: mostly the camp's, sometimes a
 * pass (1 in 8) or the other way (1 in 16), fixed by (i, s) so runs repeat. */
static int64_t
stance(size_t i, int s)
{
    int camp = (int)(i % 2) ? statements[s].b : statements[s].a;
    unsigned h = (unsigned)(i * 2654435761u + (unsigned)s * 40503u) >> 4;
    return h % 16 == 0 ? -camp : h % 8 == 1 ? 0 : camp;
}

/* Phase 1: enroll, fetch a token for every open context, vote; a writer writes. */
static void
citizen(struct sim *S, size_t i, struct ov_issuerclient *ic, struct ov_vclient *vc)
{
    int group = (int)(i % 2);
    struct person *P = &S->people[i];
    struct ov_sign_key *me = NULL, *otk[2] = { NULL, NULL };
    struct ov_issuer_context *ctxs = NULL;
    struct ov_issuer_status st;
    struct ov_vclient_answer ans;
    struct ov_enroll_req req;
    uint8_t tok[2][OV_PP_TOKEN_LEN];
    bool have[2] = { false, false }, recovered = false;
    size_t n = 0;
    memset(&req, 0, sizeof req);
    memset(&st, 0, sizeof st);
    req.route = OV_ROUTE_INVITE;
    snprintf(req.secret, sizeof req.secret, "%s", S->codes[i]);
    int rc = ov_sign_key_generate(&me);
    rc = rc ? rc : ov_issuerclient_enroll(ic, &req, me, &recovered, &st);
    sodium_memzero(&req, sizeof req);
    if (rc != 0) {
        fail(S, i, "enroll", rc, st.reason);
        goto out;
    }
    atomic_fetch_add(&S->enrolled, 1);
    memcpy(P->me_pk, ov_sign_key_pk(me), OV_SIGN_PK_LEN);
    P->enrolled = true;
    rc = ov_issuerclient_contexts(ic, &ctxs, &n, &st);
    if (rc != 0) {
        fail(S, i, "contexts", rc, st.reason);
        goto out;
    }
    for (size_t k = 0; k < n; k++) { /* cover issuance: every open context the log shows */
        if (!ctxs[k].open) {
            continue;
        }
        if (!in_log(S, &ctxs[k].def)) {
            fail(S, i, "a context key the log does not show", -OV_E_UNKNOWN_KEY, ctxs[k].def.id);
            continue;
        }
        int which = strcmp(ctxs[k].def.id, S->assembly) == 0 ? 0
                    : strcmp(ctxs[k].def.id, S->round) == 0  ? 1
                                                              : -1;
        struct ov_sign_key *k1 = NULL;
        uint8_t t[OV_PP_TOKEN_LEN];
        rc = fetch_token(ic, me, &ctxs[k], &k1, t, &st);
        if (rc != 0) {
            fail(S, i, "fetch", rc, st.reason);
            ov_sign_key_free(k1);
            continue;
        }
        atomic_fetch_add(&S->tokens, 1);
        if (which >= 0) {
            otk[which] = k1;
            memcpy(P->pseudonym[which], ov_sign_key_pk(k1), OV_SIGN_PK_LEN);
            P->has_pseudonym[which] = true;
            memcpy(tok[which], t, sizeof t);
            have[which] = true;
        } else {
            ov_sign_key_free(k1);
        }
    }
    if (have[0]) { /* the vote */
        struct ov_action a;
        memset(&a, 0, sizeof a);
        snprintf(a.context, sizeof a.context, "%s", S->assembly);
        snprintf(a.platform, sizeof a.platform, "demo-platform");
        snprintf(a.choice, sizeof a.choice, "%s", (group ? vote_b : vote_a)[i / 2 % 3]);
        a.has_token = true;
        memcpy(a.token, tok[0], OV_PP_TOKEN_LEN);
        rc = submit(S, vc, &a, otk[0], &ans);
        if (rc != 0) {
            fail(S, i, "vote", rc, ans.reason);
        } else {
            atomic_fetch_add(&S->votes, 1);
        }
    }
    P->wrote = -1;
    if (have[1]) {
        P->otk = otk[1];
        otk[1] = NULL;
        memcpy(P->token, tok[1], OV_PP_TOKEN_LEN);
        P->have = true;
    }
    int s = S->first_statement + (int)i;
    if (P->have && s < N_STATEMENTS) { /* a writer: its statement admits its pseudonym */
        struct ov_action a;
        memset(&a, 0, sizeof a);
        snprintf(a.context, sizeof a.context, "%s", S->round);
        snprintf(a.platform, sizeof a.platform, "demo-platform");
        snprintf(a.text, sizeof a.text, "%s", statements[s].text);
        a.is_statement = true;
        a.has_token = true;
        memcpy(a.token, P->token, OV_PP_TOKEN_LEN);
        rc = submit(S, vc, &a, P->otk, &ans);
        if (rc != 0) {
            fail(S, i, "statement", rc, ans.reason);
        } else {
            P->wrote = s;
            P->admitted = true;
            atomic_fetch_add(&S->written, 1);
        }
    }
out:
    free(ctxs);
    ov_sign_key_free(me);
    ov_sign_key_free(otk[0]);
    ov_sign_key_free(otk[1]);
}

/* Phase 2, once every statement is in: rate each but one's own, by the statement's id. */
static void
rater(struct sim *S, size_t i, struct ov_vclient *vc)
{
    struct person *P = &S->people[i];
    struct ov_vclient_answer ans;
    for (int s = 0; P->have && s < N_STATEMENTS; s++) {
        if (s == P->wrote) {
            continue;
        }
        struct ov_action a;
        memset(&a, 0, sizeof a);
        snprintf(a.context, sizeof a.context, "%s", S->round);
        snprintf(a.platform, sizeof a.platform, "demo-platform");
        int rc = ov_statement_id(S->round, statements[s].text, a.target);
        a.is_rating = true;
        a.rating = stance(i, s);
        a.has_token = !P->admitted; /* the first action admits the pseudonym */
        memcpy(a.token, P->token, OV_PP_TOKEN_LEN);
        rc = rc ? rc : submit(S, vc, &a, P->otk, &ans);
        if (rc != 0) {
            fail(S, i, "rate", rc, ans.reason);
            continue;
        }
        P->admitted = true;
        atomic_fetch_add(&S->ratings, 1);
    }
    ov_sign_key_free(P->otk);
    P->otk = NULL;
}

static void *
worker(void *arg)
{
    struct sim *S = arg;
    struct ov_issuerclient *ic = NULL;
    struct ov_vclient *vc = NULL;
    if (ov_issuerclient_new(S->issuer, &ic) == 0 && ov_vclient_new(S->verifier, &vc) == 0) {
        for (size_t i; (i = atomic_fetch_add(&S->next, 1)) < S->n;) {
            citizen(S, i, ic, vc);
        }
    } else {
        atomic_fetch_add(&S->failures, 1);
    }
    ov_issuerclient_free(ic);
    ov_vclient_free(vc);
    return NULL;
}

static void *
rate_worker(void *arg)
{
    struct sim *S = arg;
    struct ov_vclient *vc = NULL;
    if (ov_vclient_new(S->verifier, &vc) == 0) {
        for (size_t i; (i = atomic_fetch_add(&S->next, 1)) < S->n;) {
            rater(S, i, vc);
        }
    } else {
        atomic_fetch_add(&S->failures, 1);
    }
    ov_vclient_free(vc);
    return NULL;
}

/* Every receipt fetched again once a checkpoint covers it, and checked offline: the
 * checkpoint's signature and cosignatures, the inclusion proof, the entry's hash. */
static void *
check_receipts(void *arg)
{
    struct sim *S = arg;
    struct ov_vclient *vc = NULL;
    if (ov_vclient_new(S->verifier, &vc) != 0) {
        atomic_fetch_add(&S->failures, 1);
        return NULL;
    }
    for (size_t i; (i = atomic_fetch_add(&S->next, 1)) < S->n_hashes;) {
        struct ov_receipt r;
        struct ov_vclient_answer ans;
        int rc = ov_vclient_receipt(vc, S->hashes[i], true, &r, &ans);
        rc = rc ? rc : ov_receipt_check(&r, &S->log, NULL);
        if (rc == 0) {
            atomic_fetch_add(&S->proven, 1);
        } else {
            fail(S, i, "receipt", rc, ans.reason);
        }
        ov_receipt_clear(&r);
    }
    ov_vclient_free(vc);
    return NULL;
}

static int
collect_context(void *ctx, uint64_t index, struct ov_bytes entry)
{
    struct sim *S = ctx;
    struct ov_entry e;
    (void)index;
    if (ov_entry_decode(entry, &e) == 0 && e.kind == OV_ENTRY_CONTEXT) {
        struct ov_context *more = realloc(S->logged, (S->n_logged + 1) * sizeof *more);
        if (more == NULL) {
            ov_entry_clear(&e);
            return -OV_E_NOMEM;
        }
        S->logged = more;
        S->logged[S->n_logged++] = e.u.context;
    }
    ov_entry_clear(&e);
    return 0;
}

/* --truth FILE: who is who, for the linkage measurement alone (written after the run). */
static int
write_truth(const struct sim *S, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "citizen code enrollee_key assembly_pseudonym round_pseudonym\n");
    for (size_t i = 0; i < S->n; i++) {
        const struct person *P = &S->people[i];
        char hex[3][2 * OV_SIGN_PK_LEN + 1];
        const uint8_t *keys[3] = { P->me_pk, P->pseudonym[0], P->pseudonym[1] };
        bool have[3] = { P->enrolled, P->has_pseudonym[0], P->has_pseudonym[1] };
        for (int k = 0; k < 3; k++) {
            if (!have[k] || ov_hex_encode(hex[k], sizeof hex[k], keys[k], OV_SIGN_PK_LEN) != 0) {
                snprintf(hex[k], sizeof hex[k], "-");
            }
        }
        fprintf(f, "%zu %s %s %s %s\n", i, S->codes[i], hex[0], hex[1], hex[2]);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static void
run(struct sim *S, unsigned threads, void *(*fn)(void *))
{
    pthread_t th[MAX_THREADS];
    atomic_store(&S->next, 0);
    for (unsigned t = 0; t < threads; t++) {
        pthread_create(&th[t], NULL, fn, S);
    }
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
    }
}

int
main(int argc, char **argv)
{
    static struct sim S;
    struct ov_note_verifier wit[OV_LOGREADER_MAX_WITNESSES];
    const char *codes = opt(argc, argv, "--codes", NULL), *vkey = opt(argc, argv, "--log-vkey", NULL);
    const char *truth = opt(argc, argv, "--truth", NULL);
    S.issuer = opt(argc, argv, "--issuer", NULL);
    S.verifier = opt(argc, argv, "--verifier", NULL);
    S.assembly = opt(argc, argv, "--assembly", NULL);
    S.round = opt(argc, argv, "--round", NULL);
    S.first_statement = atoi(opt(argc, argv, "--first-statement", "0"));
    S.log.url = opt(argc, argv, "--log", NULL);
    unsigned threads = (unsigned)strtoul(opt(argc, argv, "--threads", "8"), NULL, 10);
    if (sodium_init() < 0 || !codes || !vkey || !S.issuer || !S.verifier || !S.assembly ||
        !S.round || !S.log.url || threads == 0 || threads > MAX_THREADS ||
        S.first_statement < 0 || S.first_statement > N_STATEMENTS ||
        ov_note_vkey_parse(OV_BYTES(vkey, strlen(vkey)), &S.log.log_key) != 0) {
        fprintf(stderr, "usage: see the comment at the top of tests/tools/citizens.c\n");
        return 2;
    }
    for (int i = 1; i + 1 < argc && S.log.n_witnesses < OV_LOGREADER_MAX_WITNESSES; i++) {
        if (strcmp(argv[i], "--witness") == 0 &&
            ov_note_vkey_parse(OV_BYTES(argv[i + 1], strlen(argv[i + 1])),
                               &wit[S.log.n_witnesses++]) != 0) {
            return 2;
        }
    }
    S.log.witnesses = wit;
    S.log.quorum = (unsigned)strtoul(opt(argc, argv, "--quorum", "0"), NULL, 10);
    FILE *f = fopen(codes, "r");
    char line[256];
    S.codes = calloc(MAX_CITIZENS, sizeof *S.codes);
    while (f != NULL && S.codes != NULL && fgets(line, sizeof line, f) != NULL && S.n < MAX_CITIZENS) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] != 0 && strcmp(line, "code") != 0) {
            S.codes[S.n++] = strdup(line);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    struct ov_logreader *lr = NULL;
    struct ov_logreader_cp cp;
    int rc = ov_logreader_new(&S.log, &lr);
    rc = rc ? rc : ov_logreader_checkpoint(lr, &cp);
    rc = rc ? rc : ov_logreader_sync(lr, &cp, collect_context, &S);
    if (rc != 0) {
        fprintf(stderr, "citizens: the log does not verify: %s\n", ov_strerror(rc));
        return 1;
    }
    ov_logreader_cp_clear(&cp);
    ov_logreader_free(lr);
    pthread_mutex_init(&S.mu, NULL);
    S.people = calloc(S.n ? S.n : 1, sizeof *S.people);
    if (S.people == NULL) {
        return 1;
    }
    run(&S, threads, worker);
    run(&S, threads, rate_worker); /* every statement is in: the writers are done */
    run(&S, threads, check_receipts);
    printf("citizens %zu enrolled %zu tokens %zu votes %zu statements %zu ratings %zu "
           "receipts_verified %zu failures %zu\n",
           S.n, (size_t)S.enrolled, (size_t)S.tokens, (size_t)S.votes, (size_t)S.written,
           (size_t)S.ratings, (size_t)S.proven, (size_t)S.failures);
    if (truth != NULL && write_truth(&S, truth) != 0) {
        fprintf(stderr, "citizens: cannot write %s\n", truth);
        S.failures++;
    }
    free(S.people);
    for (size_t i = 0; i < S.n; i++) {
        free(S.codes[i]);
    }
    free(S.codes);
    free(S.hashes);
    free(S.logged);
    return S.failures == 0 && S.proven == S.n_hashes ? 0 : 1;
}
