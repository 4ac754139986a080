/* citizens: N simulated citizens for the demo and its end-to-end test. Each one is a
 * wallet in miniature built on the same client modules as the `onevoice` wallet, acting the
 * wallet's default way (core/protocol/pacing.h, issue 18): it enrolls with its invitation
 * code, keeps only the open contexts whose key the log shows (the context entries, read
 * through core/protocol/logreader under a witnessed checkpoint), fetches a token for every
 * one of them (cover issuance), each at its own random moment, with a fresh one-time key per
 * token, and votes in the assembly at a random moment between the token's minimum age and a
 * margin before the close; the first few write a statement in the statement round (an
 * agreement round, docs/PROTOCOL.md §11.3) within the first half of what is left of the
 * window (the others must read it); once every statement is in, everyone rates every
 * statement but their own, each citizen at a moment of their own, and at the end checks
 * every receipt offline. The moments come from the contexts' own times, so a demo context
 * open for seconds paces in seconds. The steps of all citizens are one queue ordered by
 * moment, worked by the threads. Even-numbered
 * citizens lean one way (camp A), odd ones the other (camp B): the camps agree on some
 * statements and disagree on others, as in an alignment assembly. Nothing of this leaves
 * the tool but the actions: the groups and the statements that bridge them are for the
 * verifier's logged results (and the auditor's recomputation) to find.
 *
 *   citizens --issuer URL --verifier URL --log URL --log-vkey VKEY [--witness VKEY]...
 *            [--quorum K] --codes FILE --assembly ID --round ID [--threads T]
 *            [--first-statement K] [--truth FILE] [--now]
 *
 * The codes file is the issuer's invitation CSV. Preferences are the fixed tables below.
 * Statements 0..K-1 of the table are written by someone else (the demo's wallet users)
 * before this runs; the tool's citizens write the others (citizen j writes statement K+j),
 * and everyone rates all of them. Prints one line of counts; exit 0 when every step of
 * every citizen succeeded.
 *
 * --now acts as the wallet's --now does: every step at once, back to back (the tests that use
 * the citizens as load, not as people, on contexts open for an hour).
 *
 * --truth FILE (for the linkage measurement, tests/privacy/linkage.py, only) writes, after
 * the run, who is who: a line per citizen `citizen code enrollee_key assembly_pseudonym
 * round_pseudonym` (keys in hex, `-` for none). It goes to that file alone: nothing of it
 * reaches a server, and the citizens act exactly as without it. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include <jansson.h>

#include "base/codec.h"
#include "infra/httpc.h"
#include "protocol/entry.h"
#include "protocol/issuerclient.h"
#include "protocol/logreader.h"
#include "protocol/pacing.h"
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

/* What a citizen keeps between its steps: its enrollee key, the contexts it saw, the
 * one-time keys and tokens of the assembly [0] and the round [1]. */
struct person {
    struct ov_sign_key *me;
    struct ov_issuer_context *ctxs;
    size_t n_ctxs;
    struct ov_sign_key *otks[2];
    uint8_t tokens[2][OV_PP_TOKEN_LEN];
    uint64_t fetched[2]; /* when each token came (Unix seconds) */
    bool haves[2];
    struct ov_sign_key *otk; /* the round's, once rating */
    uint8_t token[OV_PP_TOKEN_LEN];
    bool have;     /* a token of the round */
    bool round_planned;      /* its round token's fetch planned (set while enrolling) */
    atomic_bool round_done;  /* that fetch done, with or without a token */
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
    /* the paced steps: a min-heap by moment, worked by the threads */
    struct step *heap;
    size_t n_heap, cap_heap;
    unsigned busy;              /* steps being worked (they may add steps) */
    pthread_cond_t cv;
    atomic_int writers_left;    /* statements not yet written (or given up): then rating */
    atomic_size_t enrolling_left; /* citizens not yet through citizen(): rating waits for them */
    uint64_t round_opens, round_closes;
    bool now; /* --now: no pacing, every step at once */
};

enum step_kind { STEP_FETCH, STEP_VOTE, STEP_STATEMENT, STEP_READY, STEP_RATE };

struct step {
    uint64_t at_ms;
    enum step_kind kind;
    size_t i; /* the citizen */
    size_t k; /* STEP_FETCH: the context, in the citizen's list */
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

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool act_now; /* --now */

/* A paced moment (whole seconds, pacing.h) at a random millisecond within its second; with
 * --now, now. */
static uint64_t
moment_ms(uint64_t at_s)
{
    if (act_now) {
        return now_ms();
    }
    uint64_t ms = at_s * 1000u + randombytes_uniform(1000);
    uint64_t now = now_ms();
    return ms > now ? ms : now;
}

static void
push(struct sim *S, enum step_kind kind, size_t i, size_t k, uint64_t at_ms)
{
    pthread_mutex_lock(&S->mu);
    if (S->n_heap == S->cap_heap) {
        size_t cap = S->cap_heap ? 2 * S->cap_heap : 1024;
        struct step *h = realloc(S->heap, cap * sizeof *h);
        if (h == NULL) {
            pthread_mutex_unlock(&S->mu);
            atomic_fetch_add(&S->failures, 1);
            return;
        }
        S->heap = h;
        S->cap_heap = cap;
    }
    size_t j = S->n_heap++;
    struct step st = { at_ms, kind, i, k };
    while (j > 0 && S->heap[(j - 1) / 2].at_ms > at_ms) {
        S->heap[j] = S->heap[(j - 1) / 2];
        j = (j - 1) / 2;
    }
    S->heap[j] = st;
    pthread_cond_broadcast(&S->cv);
    pthread_mutex_unlock(&S->mu);
}

/* The earliest step (S->mu held, the heap not empty). */
static struct step
pop(struct sim *S)
{
    struct step top = S->heap[0], last = S->heap[--S->n_heap];
    size_t j = 0;
    for (;;) {
        size_t c = 2 * j + 1;
        if (c >= S->n_heap) {
            break;
        }
        if (c + 1 < S->n_heap && S->heap[c + 1].at_ms < S->heap[c].at_ms) {
            c++;
        }
        if (S->heap[c].at_ms >= last.at_ms) {
            break;
        }
        S->heap[j] = S->heap[c];
        j = c;
    }
    if (S->n_heap > 0) {
        S->heap[j] = last;
    }
    return top;
}

static bool
is_writer(const struct sim *S, size_t i)
{
    return S->first_statement + (int)i < N_STATEMENTS;
}

static void
writer_done(struct sim *S, size_t i)
{
    if (is_writer(S, i) && atomic_fetch_sub(&S->writers_left, 1) == 1) {
        push(S, STEP_READY, 0, 0, now_ms()); /* every writer done: rating may begin */
    }
}

/* Enroll, see the contexts the log shows, and plan each one's fetch at its own moment. */
static void
citizen(struct sim *S, size_t i, struct ov_issuerclient *ic)
{
    struct person *P = &S->people[i];
    struct ov_issuer_status st;
    struct ov_enroll_req req;
    bool recovered = false, planned_round = false;
    memset(&req, 0, sizeof req);
    memset(&st, 0, sizeof st);
    P->wrote = -1;
    req.route = OV_ROUTE_INVITE;
    snprintf(req.secret, sizeof req.secret, "%s", S->codes[i]);
    int rc = ov_sign_key_generate(&P->me);
    rc = rc ? rc : ov_issuerclient_enroll(ic, &req, P->me, &recovered, &st);
    sodium_memzero(&req, sizeof req);
    if (rc != 0) {
        fail(S, i, "enroll", rc, st.reason);
        writer_done(S, i);
        return;
    }
    atomic_fetch_add(&S->enrolled, 1);
    memcpy(P->me_pk, ov_sign_key_pk(P->me), OV_SIGN_PK_LEN);
    P->enrolled = true;
    rc = ov_issuerclient_contexts(ic, &P->ctxs, &P->n_ctxs, &st);
    if (rc != 0) {
        fail(S, i, "contexts", rc, st.reason);
        writer_done(S, i);
        return;
    }
    for (size_t k = 0; k < P->n_ctxs; k++) { /* cover issuance: every open context the log shows */
        const struct ov_context *c = &P->ctxs[k].def;
        uint64_t at = 0;
        if (!P->ctxs[k].open) {
            continue;
        }
        if (!in_log(S, c)) {
            fail(S, i, "a context key the log does not show", -OV_E_UNKNOWN_KEY, c->id);
            continue;
        }
        if (ov_pacing_fetch_at(c->opens, c->closes, now_ms() / 1000u, randombytes_uniform, &at) != 0) {
            continue; /* closed meanwhile */
        }
        planned_round |= strcmp(c->id, S->round) == 0;
        P->round_planned |= strcmp(c->id, S->round) == 0;
        push(S, STEP_FETCH, i, k, moment_ms(at));
    }
    if (!planned_round) {
        writer_done(S, i);
    }
}

static void
enrolled_one(struct sim *S, size_t i, struct ov_issuerclient *ic)
{
    citizen(S, i, ic);
    atomic_fetch_sub(&S->enrolling_left, 1);
}

/* A context's token, at its moment; then the action it is for, planned at its own. */
static void
do_fetch(struct sim *S, size_t i, size_t k, struct ov_issuerclient *ic)
{
    struct person *P = &S->people[i];
    const struct ov_context *c = &P->ctxs[k].def;
    int which = strcmp(c->id, S->assembly) == 0 ? 0 : strcmp(c->id, S->round) == 0 ? 1 : -1;
    struct ov_sign_key *k1 = NULL;
    struct ov_issuer_status st;
    uint8_t t[OV_PP_TOKEN_LEN];
    uint64_t now = now_ms() / 1000u, at = 0;
    memset(&st, 0, sizeof st);
    int rc = fetch_token(ic, P->me, &P->ctxs[k], &k1, t, &st);
    if (rc != 0) {
        fail(S, i, "fetch", rc, st.reason);
        ov_sign_key_free(k1);
        if (which == 1) {
            atomic_store(&P->round_done, true);
            writer_done(S, i);
        }
        return;
    }
    atomic_fetch_add(&S->tokens, 1);
    if (which < 0) {
        ov_sign_key_free(k1);
        return;
    }
    P->otks[which] = k1;
    memcpy(P->tokens[which], t, sizeof t);
    P->fetched[which] = now;
    P->haves[which] = true;
    memcpy(P->pseudonym[which], ov_sign_key_pk(k1), OV_SIGN_PK_LEN);
    P->has_pseudonym[which] = true;
    if (which == 0) {
        if (ov_pacing_send_at(c->opens, c->closes, now, now, randombytes_uniform, &at) != 0) {
            at = now;
        }
        push(S, STEP_VOTE, i, 0, moment_ms(at));
        return;
    }
    P->otk = P->otks[1];
    P->otks[1] = NULL;
    memcpy(P->token, P->tokens[1], OV_PP_TOKEN_LEN);
    P->have = true;
    atomic_store(&P->round_done, true);
    if (is_writer(S, i)) {
        /* a statement is for the others to read and weigh: within the first half of what is
         * left, as the wallet does */
        uint64_t half = now + (c->closes > now ? (c->closes - now) / 2 : 0);
        if (ov_pacing_send_at(c->opens, half > now ? half : now + 1, now, now,
                              randombytes_uniform, &at) != 0) {
            at = now;
        }
        push(S, STEP_STATEMENT, i, 0, moment_ms(at));
    }
}

static void
do_vote(struct sim *S, size_t i, struct ov_vclient *vc)
{
    struct person *P = &S->people[i];
    struct ov_vclient_answer ans;
    struct ov_action a;
    memset(&a, 0, sizeof a);
    snprintf(a.context, sizeof a.context, "%s", S->assembly);
    snprintf(a.platform, sizeof a.platform, "demo-platform");
    snprintf(a.choice, sizeof a.choice, "%s", (i % 2 ? vote_b : vote_a)[i / 2 % 3]);
    a.has_token = true;
    memcpy(a.token, P->tokens[0], OV_PP_TOKEN_LEN);
    int rc = submit(S, vc, &a, P->otks[0], &ans);
    if (rc != 0) {
        fail(S, i, "vote", rc, ans.reason);
    } else {
        atomic_fetch_add(&S->votes, 1);
    }
    ov_sign_key_free(P->otks[0]);
    P->otks[0] = NULL;
}

/* A writer's statement: it admits its pseudonym. */
static void
do_statement(struct sim *S, size_t i, struct ov_vclient *vc)
{
    struct person *P = &S->people[i];
    struct ov_vclient_answer ans;
    struct ov_action a;
    int s = S->first_statement + (int)i;
    memset(&a, 0, sizeof a);
    snprintf(a.context, sizeof a.context, "%s", S->round);
    snprintf(a.platform, sizeof a.platform, "demo-platform");
    snprintf(a.text, sizeof a.text, "%s", statements[s].text);
    a.is_statement = true;
    a.has_token = true;
    memcpy(a.token, P->token, OV_PP_TOKEN_LEN);
    int rc = submit(S, vc, &a, P->otk, &ans);
    if (rc != 0) {
        fail(S, i, "statement", rc, ans.reason);
    } else {
        P->wrote = s;
        P->admitted = true;
        atomic_fetch_add(&S->written, 1);
    }
    writer_done(S, i);
}

/* Every writer is done: once the verifier lists every statement (the demo's wallet users
 * write the first ones, at their own moments), each citizen's ratings are planned, at a
 * moment of their own. Polls while statements are missing, up to the round's margin. */
static void
do_ready(struct sim *S, struct ov_httpc *hc)
{
    char url[1024];
    struct ov_httpc_resp resp;
    size_t n = 0;
    uint64_t now = now_ms() / 1000u;
    if (atomic_load(&S->enrolling_left) > 0) { /* everyone's round token is planned first */
        push(S, STEP_READY, 0, 0, now_ms() + 250);
        return;
    }
    memset(&resp, 0, sizeof resp);
    snprintf(url, sizeof url, "%s/contexts/%s/statements", S->verifier, S->round);
    if (hc != NULL && ov_httpc_get(hc, url, 1u << 20, &resp) == 0 && resp.status == 200) {
        json_t *j = json_loadb((const char *)resp.body.ptr, resp.body.len, 0, NULL);
        n = json_is_array(j) ? json_array_size(j) : 0;
        json_decref(j);
    }
    ov_buf_clear(&resp.body);
    ov_buf_clear(&resp.headers);
    uint64_t margin = (S->round_closes - S->round_opens) / OV_PACING_MARGIN_DIV;
    if (!S->now && n < N_STATEMENTS && now + margin + 1 < S->round_closes) {
        push(S, STEP_READY, 0, 0, now_ms() + 250);
        return;
    }
    for (size_t i = 0; i < S->n; i++) {
        uint64_t at = now;
        const struct person *P = &S->people[i];
        if (!P->round_planned) {
            continue;
        }
        uint64_t fetched = atomic_load(&P->round_done) && P->have ? P->fetched[1] : now;
        if (ov_pacing_send_at(S->round_opens, S->round_closes, now, fetched,
                              randombytes_uniform, &at) != 0) {
            at = now;
        }
        push(S, STEP_RATE, i, 0, moment_ms(at));
    }
}

/* Phase 2, once every statement is in: rate each but one's own, by the statement's id. */
static void
rater(struct sim *S, size_t i, struct ov_vclient *vc)
{
    struct person *P = &S->people[i];
    struct ov_vclient_answer ans;
    if (!atomic_load(&P->round_done)) { /* its token is still to come: rate just after */
        push(S, STEP_RATE, i, 0, now_ms() + 200);
        return;
    }
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
enroll_worker(void *arg)
{
    struct sim *S = arg;
    struct ov_issuerclient *ic = NULL;
    if (ov_issuerclient_new(S->issuer, &ic) == 0) {
        for (size_t i; (i = atomic_fetch_add(&S->next, 1)) < S->n;) {
            enrolled_one(S, i, ic);
        }
    } else {
        atomic_fetch_add(&S->failures, 1);
        atomic_store(&S->enrolling_left, 0); /* no rating waits for what will not come */
    }
    ov_issuerclient_free(ic);
    return NULL;
}

/* Works the steps in the order of their moments, each once its moment has come, until none
 * is left and none is being worked. */
static void *
step_worker(void *arg)
{
    struct sim *S = arg;
    struct ov_issuerclient *ic = NULL;
    struct ov_vclient *vc = NULL;
    struct ov_httpc *hc = NULL;
    if (ov_issuerclient_new(S->issuer, &ic) != 0 || ov_vclient_new(S->verifier, &vc) != 0 ||
        ov_httpc_new(&hc) != 0) {
        atomic_fetch_add(&S->failures, 1);
        ov_issuerclient_free(ic);
        ov_vclient_free(vc);
        return NULL;
    }
    pthread_mutex_lock(&S->mu);
    for (;;) {
        if (S->n_heap == 0) {
            if (S->busy == 0) {
                break;
            }
            pthread_cond_wait(&S->cv, &S->mu);
            continue;
        }
        uint64_t now = now_ms();
        if (S->heap[0].at_ms > now) {
            struct timespec until = { (time_t)(S->heap[0].at_ms / 1000u),
                                      (long)(S->heap[0].at_ms % 1000u) * 1000000L };
            int w = pthread_cond_timedwait(&S->cv, &S->mu, &until);
            (void)w;
            continue;
        }
        struct step st = pop(S);
        S->busy++;
        pthread_mutex_unlock(&S->mu);
        switch (st.kind) {
        case STEP_FETCH:
            do_fetch(S, st.i, st.k, ic);
            break;
        case STEP_VOTE:
            do_vote(S, st.i, vc);
            break;
        case STEP_STATEMENT:
            do_statement(S, st.i, vc);
            break;
        case STEP_READY:
            do_ready(S, hc);
            break;
        case STEP_RATE:
            rater(S, st.i, vc);
            break;
        default:
            abort();
        }
        pthread_mutex_lock(&S->mu);
        S->busy--;
        pthread_cond_broadcast(&S->cv);
    }
    pthread_cond_broadcast(&S->cv);
    pthread_mutex_unlock(&S->mu);
    ov_issuerclient_free(ic);
    ov_vclient_free(vc);
    ov_httpc_free(hc);
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
    S.now = flag(argc, argv, "--now") != 0;
    act_now = S.now;
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
    atomic_store(&S.enrolling_left, S.n);
    pthread_cond_init(&S.cv, NULL);
    for (size_t k = 0; k < S.n_logged; k++) {
        if (strcmp(S.logged[k].id, S.round) == 0) {
            S.round_opens = S.logged[k].opens;
            S.round_closes = S.logged[k].closes;
        }
    }
    int writers = N_STATEMENTS - S.first_statement;
    atomic_store(&S.writers_left, writers < (int)S.n ? writers : (int)S.n);
    if (atomic_load(&S.writers_left) == 0) {
        push(&S, STEP_READY, 0, 0, now_ms());
    }
    /* the enrolling threads count as busy: the steps they plan keep the step threads on */
    {
        pthread_t th[2 * MAX_THREADS];
        atomic_store(&S.next, 0);
        S.busy = threads;
        for (unsigned t = 0; t < threads; t++) {
            pthread_create(&th[t], NULL, enroll_worker, &S);
            pthread_create(&th[threads + t], NULL, step_worker, &S);
        }
        for (unsigned t = 0; t < threads; t++) {
            pthread_join(th[t], NULL);
            pthread_mutex_lock(&S.mu);
            S.busy--;
            pthread_cond_broadcast(&S.cv);
            pthread_mutex_unlock(&S.mu);
        }
        for (unsigned t = 0; t < threads; t++) {
            pthread_join(th[threads + t], NULL);
        }
    }
    run(&S, threads, check_receipts);
    printf("citizens %zu enrolled %zu tokens %zu votes %zu statements %zu ratings %zu "
           "receipts_verified %zu failures %zu\n",
           S.n, (size_t)S.enrolled, (size_t)S.tokens, (size_t)S.votes, (size_t)S.written,
           (size_t)S.ratings, (size_t)S.proven, (size_t)S.failures);
    if (truth != NULL && write_truth(&S, truth) != 0) {
        fprintf(stderr, "citizens: cannot write %s\n", truth);
        S.failures++;
    }
    for (size_t i = 0; i < S.n; i++) {
        ov_sign_key_free(S.people[i].me);
        ov_sign_key_free(S.people[i].otks[0]);
        ov_sign_key_free(S.people[i].otks[1]);
        ov_sign_key_free(S.people[i].otk);
        free(S.people[i].ctxs);
    }
    free(S.people);
    free(S.heap);
    for (size_t i = 0; i < S.n; i++) {
        free(S.codes[i]);
    }
    free(S.codes);
    free(S.hashes);
    free(S.logged);
    return S.failures == 0 && S.proven == S.n_hashes ? 0 : 1;
}
