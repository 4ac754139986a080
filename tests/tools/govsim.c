/* govsim: builds onevoice logs for the auditor's tests and benchmark, through a real
 * onevoice-log as producer. It plays the issuer (context keys, context and issuance entries,
 * blind signatures) and the verifier and wallets (RFC 9578 tokens whose nonce is SHA-256 of a
 * one-time Ed25519 key, signed actions, tallies), and can break exactly one rule.
 *
 *   govsim SCENARIO URL PRODUCER_KEY PRODUCER [--keys DIR] [--voters N] [--prefix P]
 *                   [--save FILE] [--no-round]
 *       appends the scenario's log; prints "expect RULE INDEX" for each violation the
 *       auditor must report, "count CONTEXT NAME COUNT SUM" for the recount of the valid
 *       actions (what the published tallies hold may differ: an operator that logs an
 *       invalid action counts it too), "size N"
 *   govsim replay URL PRODUCER_KEY PRODUCER FILE [--alter K] [--upto N]
 *       appends the entries a --save wrote (entry K with its time moved by one second: still
 *       valid by every rule, but another log; only the first N with --upto); prints "size N"
 *   govsim bulk URL PRODUCER_KEY PRODUCER --actions N [--threads T] [--keys DIR]
 *                [--fake-tokens]
 *       one assembly with N enrollments, issuances and votes (tokens minted on T threads);
 *       "size N".
 *       --fake-tokens: tokens right in every field but the RSA signature (random), so a log
 *       of a million actions takes seconds (every token then fails: a memory benchmark)
 *   govsim speed [--threads T] [--ms MS] [--keys DIR]
 *       the per-action signature-verification limit: RSA-2048 PSS token verification plus
 *       Ed25519 action verification on T threads; prints "speed ACTIONS_PER_SECOND"
 *
 * Scenarios (the rule id each one breaks, see clients/audit/README.md): clean, forged-token
 * (token_invalid), double-count (nonce_reused), altered-action (action_signature),
 * over-quota (quota_exceeded), key-swapped (key_swapped), key-missing (key_missing),
 * outside-window (outside_window), wrong-tally (tally_mismatch), context-after-action
 * (context_missing), double-rating (double_rating), tokens-exceed-issuances
 * (tokens_exceed_issuances), nonce-binding (nonce_binding), unknown-pseudonym
 * (unknown_pseudonym), invalid-choice (invalid_action), wrong-challenge (token_challenge),
 * missing-token (token_missing), context-duplicate (context_duplicate), malformed
 * (entry_malformed), repeated-serial (issuance_repeated), invented-enrollee
 * (tags_exceed_enrollments), action-after-tally and tally-short (action_after_tally),
 * missing-tally (tally_missing), forged-admission (token_invalid), uninvited-enrollment
 * (enrollments_exceed_invitations: one invitation code fewer announced than used),
 * late-admission (no violation: ratings and a statement logged before the action whose token
 * admits their pseudonym, as the verifier's sender may log them, docs/PROTOCOL.md §3; prints
 * "split N", the entries up to the first such rating), late-admission-invalid
 * (unknown_pseudonym: the token that follows the rating was issued to another key, so
 * nonce_binding too), held-issuance (no violation: a ballot logged before the issuance of
 * its token, which comes before the tally, as epochs allow, docs/PROTOCOL.md §3.1; prints
 * "split N", the entries up to the last ballot). A scenario whose invalid action the
 * published tally counts expects
 * tally_mismatch at that tally as well.
 *
 * Every log also holds a statement round (docs/PROTOCOL.md §11.3: a helpfulness round of 30
 * participants in two camps, 8 statements, their ratings, the tally's results computed with
 * core/protocol/roundresult from what counts, seeded with the log's root at the tally's
 * size, as the verifier computes them). Its scenarios: statement-over-quota
 * (statement_quota), duplicate-statement (statement_duplicate), own-statement-rating
 * (rating_own_statement), unknown-statement-rating (rating_unknown_statement): both counted in
 * the published result, so tally_mismatch too), tampered-bridging, tampered-helpful,
 * wrong-seed, tally-without-results (statement_results), missing-results-file (the
 * bridging result bytes never uploaded to the log: statement_results_file; tampered-bridging
 * names a file nobody has, so it too). The result bytes of the round are uploaded to the log
 * (POST /files) as the verifier does, and --save keeps them as "file <base64>" lines that
 * replay uploads again. --no-round leaves the round out (a log of about 40 entries instead
 * of 340).
 *
 * Context keys (RSA-2048, slow to make) are kept in --keys DIR as PKCS#8 files k0..k4 and
 * reused. Exit status 0, or 1 with a message. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "primitives/brsa.h"
#include "primitives/cbor.h"
#include "base/codec.h"
#include "primitives/note.h"
#include "protocol/entry.h"
#include "protocol/roundresult.h"
#include "infra/keyfile.h"
#include "protocol/logclient.h"
#include "protocol/logfiles.h"
#include "primitives/pp.h"
#include "primitives/sign.h"
#include "tool.h"

#define N_KEYS 5
#define MAX_PENDING 2000000
#define BATCH 2048
/* entry bytes per append request: a batch size only (the log takes requests of up to
 * OV_LOG_MAX_REQUEST_LEN, core/protocol/logreq) */
#define BATCH_BYTES 60000
#define ISSUER "issuer.onevoice.test"
#define OPENS 1700000000u
#define CLOSES 1800000000u

static void
die(const char *msg, int rc)
{
    fprintf(stderr, "govsim: %s: %s\n", msg, rc ? ov_strerror(rc) : "failed");
    exit(1);
}

static void
must(int rc, const char *what)
{
    if (rc != 0) {
        die(what, rc);
    }
}

static bool
flag_set(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static void
sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    unsigned int l = 0;
    if (EVP_Digest(p, n, out, &l, EVP_sha256(), NULL) != 1) {
        die("sha256", -OV_E_CRYPTO);
    }
}

/* ------------------------------------------------------------------ context keys */

struct ctxkey {
    struct ov_brsa_sk *sk;
    struct ov_pp_key pk;
};

static void
load_keys(const char *dir, struct ctxkey keys[N_KEYS])
{
    if (dir != NULL && mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) {
        die(dir, -OV_E_IO);
    }
    for (int i = 0; i < N_KEYS; i++) {
        char path[4096];
        struct ov_buf der;
        snprintf(path, sizeof path, "%s/k%d.pk8", dir ? dir : ".", i);
        if (dir != NULL && ov_file_read(path, OV_BRSA_MAX_SK_DER_LEN, &der) == 0) {
            must(ov_brsa_sk_load(ov_buf_view(&der), &keys[i].sk), path);
            ov_buf_clear(&der);
        } else {
            must(ov_brsa_keygen(OV_PP_MODULUS_BITS, &keys[i].sk), "keygen");
            if (dir != NULL) {
                uint8_t out[OV_BRSA_MAX_SK_DER_LEN];
                size_t n = 0;
                must(ov_brsa_sk_to_pkcs8(keys[i].sk, out, sizeof out, &n), "pkcs8");
                must(ov_file_write_atomic(path, out, n, 0600), path);
                sodium_memzero(out, sizeof out);
            }
        }
        must(ov_pp_key_from_pk(&keys[i].pk, ov_brsa_sk_pk(keys[i].sk)), "token key");
    }
}

static void
free_keys(struct ctxkey keys[N_KEYS])
{
    for (int i = 0; i < N_KEYS; i++) {
        ov_pp_key_clear(&keys[i].pk);
        ov_brsa_sk_free(keys[i].sk);
    }
}

/* A Privacy Pass token of context ctx_id, issued under key k, whose nonce is
 * SHA-256(pseudonym): the wallet's request, the issuer's blind signature, the wallet's
 * finalisation, exactly as RFC 9578 runs them. */
static void
mint(const struct ctxkey *k, const char *ctx_id, const uint8_t pseudonym[OV_PSEUDONYM_LEN],
     uint8_t token[OV_PP_TOKEN_LEN])
{
    uint8_t ch[OV_ENTRY_MAX_CHALLENGE_LEN], nonce[OV_PP_NONCE_LEN];
    uint8_t req[OV_PP_TOKEN_REQUEST_LEN], resp[OV_PP_TOKEN_RESPONSE_LEN];
    size_t chl = 0;
    struct ov_pp_client_state st;
    must(ov_entry_challenge(ISSUER, ctx_id, ch, sizeof ch, &chl), "challenge");
    sha256(pseudonym, OV_PSEUDONYM_LEN, nonce);
    must(ov_pp_client_request(&k->pk, OV_BYTES(ch, chl), nonce, req, &st), "token request");
    must(ov_pp_issuer_respond(k->sk, OV_BYTES(req, sizeof req), resp), "issuer");
    must(ov_pp_client_finalize(&k->pk, &st, OV_BYTES(resp, sizeof resp), token), "finalize");
    ov_pp_client_state_clear(&st);
}

/* ------------------------------------------------------------------ the log */

struct sim {
    const char *url, *name;       /* the log, and our producer name there */
    struct ov_logclient *lc;
    struct ov_sign_key *producer; /* must outlive lc */
    struct ov_buf *pending; /* encoded entries not yet appended */
    size_t n_pending, n_sent;
    uint64_t *index;        /* log index of every entry pushed, by push order */
    FILE *save;
    uint64_t clock;         /* entry times */
    uint64_t size;          /* the log's size after the last flush */
    uint64_t cp_size;       /* the checkpoint of the last flush that asked for one */
    uint8_t cp_root[32];
};

static size_t
push_bytes(struct sim *s, struct ov_buf b)
{
    if (s->n_pending >= MAX_PENDING) {
        die("too many entries", -OV_E_TOO_BIG);
    }
    s->pending[s->n_pending] = b;
    return s->n_pending++;
}

static size_t
push(struct sim *s, const struct ov_entry *e)
{
    struct ov_buf b;
    must(ov_entry_encode(e, &b), "encode entry");
    return push_bytes(s, b);
}

/* Appends everything pushed and not yet sent, in order; the last batch waits for a
 * checkpoint that covers it. */
static void
flush(struct sim *s, bool checkpoint)
{
    while (s->n_sent < s->n_pending) {
        size_t n = 0, bytes = 0;
        while (s->n_sent + n < s->n_pending && n < BATCH &&
               (n == 0 || bytes + s->pending[s->n_sent + n].len + 5 <= BATCH_BYTES)) {
            bytes += s->pending[s->n_sent + n].len + 5;
            n++;
        }
        struct ov_bytes *v = calloc(n, sizeof *v);
        if (v == NULL) {
            die("memory", -OV_E_NOMEM);
        }
        for (size_t i = 0; i < n; i++) {
            v[i] = ov_buf_view(&s->pending[s->n_sent + i]);
        }
        bool last = s->n_sent + n == s->n_pending;
        struct ov_log_ack ack;
        int rc = ov_logclient_append(s->lc, v, n, checkpoint && last, &ack);
        if (rc != 0) {
            fprintf(stderr, "govsim: append refused: HTTP %u %s\n", ack.status, ack.reason);
            exit(1);
        }
        for (size_t i = 0; i < n; i++) {
            s->index[s->n_sent + i] = ack.indices[i];
            if (s->save != NULL) {
                char b64[OV_MAX_ENTRY_LEN * 2];
                if (ov_b64_encode(b64, sizeof b64, v[i].ptr, v[i].len, OV_B64_STD) != 0) {
                    die("save", 0);
                }
                fprintf(s->save, "%s\n", b64);
            }
            ov_buf_clear(&s->pending[s->n_sent + i]);
        }
        s->size = ack.size;
        if (checkpoint && last) {
            struct ov_note note;
            struct ov_checkpoint cp;
            must(ov_note_parse(ov_buf_view(&ack.checkpoint), &note), "checkpoint note");
            must(ov_checkpoint_parse(note.text, &cp), "checkpoint");
            s->cp_size = cp.size;
            memcpy(s->cp_root, cp.root, sizeof s->cp_root);
        }
        ov_log_ack_clear(&ack);
        free(v);
        s->n_sent += n;
    }
}

/* Uploads a file to the log (POST /files, docs/PROTOCOL.md §4.3) and, with --save, keeps it
 * as a line "file <base64>" for replay. Takes bytes. */
static void
upload_file(struct sim *s, uint8_t *bytes, size_t len)
{
    struct ov_logfile_ack ack;
    if (ov_logfile_upload(s->url, s->name, s->producer, OV_BYTES(bytes, len), &ack) != 0) {
        fprintf(stderr, "govsim: upload refused: HTTP %u %s\n", ack.status, ack.reason);
        exit(1);
    }
    if (s->save != NULL) {
        size_t n = (len + 2) / 3 * 4 + 1;
        char *b64 = malloc(n);
        if (b64 == NULL || ov_b64_encode(b64, n, bytes, len, OV_B64_STD) != 0) {
            die("save", 0);
        }
        fprintf(s->save, "file %s\n", b64);
        free(b64);
    }
    free(bytes);
}

static void
sim_init(struct sim *s, int argc, char **argv)
{
    memset(s, 0, sizeof *s);
    s->url = argv[2];
    s->name = argv[4];
    must(ov_keyfile_load_sign_key(argv[3], &s->producer), argv[3]);
    must(ov_logclient_new(argv[2], argv[4], s->producer, &s->lc), "log client");
    s->pending = calloc(MAX_PENDING, sizeof *s->pending);
    s->index = calloc(MAX_PENDING, sizeof *s->index);
    if (s->pending == NULL || s->index == NULL) {
        die("memory", -OV_E_NOMEM);
    }
    const char *save = opt(argc, argv, "--save", NULL);
    if (save != NULL && (s->save = fopen(save, "w")) == NULL) {
        die(save, -OV_E_IO);
    }
    s->clock = OPENS + 1000;
}

static void
sim_free(struct sim *s)
{
    for (size_t i = s->n_sent; i < s->n_pending; i++) {
        ov_buf_clear(&s->pending[i]);
    }
    free(s->pending);
    free(s->index);
    ov_logclient_free(s->lc);
    ov_sign_key_free(s->producer);
    if (s->save != NULL && fclose(s->save) != 0) {
        die("save", -OV_E_IO);
    }
}

/* Forgets the entries sent (their indices too), so a long run keeps no memory. */
static void
sim_restart(struct sim *s)
{
    if (s->n_sent == s->n_pending) {
        s->n_sent = s->n_pending = 0;
    }
}

/* ------------------------------------------------------------------ entries */

/* A running recount of one context, as the auditor recounts it. */
#define MAX_NAMES 64
struct count {
    char ctx[OV_MAX_CONTEXT_ID_LEN + 1];
    bool ratings;
    size_t n;
    struct ov_tally_item items[MAX_NAMES];
};

static void
count_add(struct count *c, const char *name, int64_t rating)
{
    size_t i = 0;
    while (i < c->n && strcmp(c->items[i].name, name) != 0) {
        i++;
    }
    if (i == c->n) {
        if (c->n == MAX_NAMES) {
            die("too many names", 0);
        }
        snprintf(c->items[c->n++].name, OV_MAX_LABEL_LEN + 1, "%s", name);
    }
    c->items[i].count++;
    c->items[i].sum += rating;
}

static void
context_entry(struct ov_entry *e, const char *id, bool rating, const struct ctxkey *k,
              uint64_t quota, uint64_t t)
{
    memset(e, 0, sizeof *e);
    e->kind = OV_ENTRY_CONTEXT;
    struct ov_context *c = &e->u.context;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->title, sizeof c->title, "Simulated %s %s", rating ? "rating round" : "assembly",
             id);
    c->type = rating ? OV_CONTEXT_RATING : OV_CONTEXT_ASSEMBLY;
    if (rating) {
        c->scale_min = -2;
        c->scale_max = 2;
    } else {
        c->n_choices = 3;
        strcpy(c->choices[0], "yes");
        strcpy(c->choices[1], "no");
        strcpy(c->choices[2], "abstain");
    }
    c->opens = OPENS;
    c->closes = CLOSES;
    c->quota = quota;
    snprintf(c->issuer, sizeof c->issuer, "%s", ISSUER);
    memcpy(c->token_key, k->pk.spki, k->pk.spki_len);
    c->token_key_len = k->pk.spki_len;
    memcpy(c->token_key_id, k->pk.token_key_id, OV_PP_NID);
    c->time = t;
}

/* n: this tag's issuance number in the context, as the issuer writes it (1, 2, ...). */
static void
issuance_entry_n(struct ov_entry *e, const char *ctx, const uint8_t tag[OV_TAG_LEN], uint64_t t,
                 uint64_t n)
{
    memset(e, 0, sizeof *e);
    e->kind = OV_ENTRY_ISSUANCE;
    snprintf(e->u.issuance.context, sizeof e->u.issuance.context, "%s", ctx);
    memcpy(e->u.issuance.tag, tag, OV_TAG_LEN);
    e->u.issuance.n = n;
    e->u.issuance.time = t;
}

static void
issuance_entry(struct ov_entry *e, const char *ctx, const uint8_t tag[OV_TAG_LEN], uint64_t t)
{
    issuance_entry_n(e, ctx, tag, t, 1);
}

/* Signs a (its platform set) by key; with tok, carrying that token; at time t. */
static void
sign_action(struct ov_action *a, const struct ov_sign_key *key, const uint8_t *tok, uint64_t t)
{
    snprintf(a->platform, sizeof a->platform, "govsim");
    must(ov_action_sign(a, key), "action sign");
    if (tok != NULL) {
        a->has_token = true;
        memcpy(a->token, tok, OV_PP_TOKEN_LEN);
    }
    a->time = t;
}

/* A signed action by key; with tok, carrying that token. */
static void
action_entry(struct ov_entry *e, const char *ctx, const struct ov_sign_key *key,
             const uint8_t *tok, const char *choice_or_target, bool rating, int64_t value,
             uint64_t t)
{
    memset(e, 0, sizeof *e);
    e->kind = OV_ENTRY_ACTION;
    struct ov_action *a = &e->u.action;
    snprintf(a->context, sizeof a->context, "%s", ctx);
    a->is_rating = rating;
    if (rating) {
        snprintf(a->target, sizeof a->target, "%s", choice_or_target);
        a->rating = value;
    } else {
        snprintf(a->choice, sizeof a->choice, "%s", choice_or_target);
    }
    sign_action(a, key, tok, t);
}

static void
tally_entry(struct ov_entry *e, const struct count *c, uint64_t size, uint64_t t)
{
    memset(e, 0, sizeof *e);
    e->kind = OV_ENTRY_TALLY;
    struct ov_tally *ty = &e->u.tally;
    snprintf(ty->context, sizeof ty->context, "%s", c->ctx);
    ty->size = size;
    ty->ratings = c->ratings;
    ty->n = c->n;
    ty->items = calloc(c->n ? c->n : 1, sizeof *ty->items);
    if (ty->items == NULL) {
        die("memory", -OV_E_NOMEM);
    }
    memcpy(ty->items, c->items, c->n * sizeof *ty->items);
    ty->time = t;
}

/* A signed statement by key; with tok, carrying that token. */
static void
statement_entry(struct ov_entry *e, const char *ctx, const struct ov_sign_key *key,
                const uint8_t *tok, const char *text, uint64_t t)
{
    memset(e, 0, sizeof *e);
    e->kind = OV_ENTRY_STATEMENT;
    struct ov_action *a = &e->u.action;
    snprintf(a->context, sizeof a->context, "%s", ctx);
    a->is_statement = true;
    snprintf(a->text, sizeof a->text, "%s", text);
    sign_action(a, key, tok, t);
}

static int
cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct ov_tally_item *)a)->name, ((const struct ov_tally_item *)b)->name);
}

/* The issuer's invitations entries for n codes (batches of at most OV_MAX_INVITES_BATCH,
 * for no draw), as it logs them before any enrollment by one of them. */
static void
push_invitations(struct sim *s, uint64_t n, uint64_t time)
{
    struct ov_entry e;
    for (uint64_t done = 0; done < n;) {
        memset(&e, 0, sizeof e);
        e.kind = OV_ENTRY_INVITATIONS;
        e.u.invitations.count = n - done < OV_MAX_INVITES_BATCH ? n - done : OV_MAX_INVITES_BATCH;
        done += e.u.invitations.count;
        e.u.invitations.total = done;
        e.u.invitations.time = time;
        (void)push(s, &e);
    }
}

/* ------------------------------------------------------------------ scenarios */

enum scen {
    S_CLEAN, S_FORGED_TOKEN, S_DOUBLE_COUNT, S_ALTERED_ACTION, S_OVER_QUOTA, S_KEY_SWAPPED,
    S_KEY_MISSING, S_OUTSIDE_WINDOW, S_WRONG_TALLY, S_CONTEXT_AFTER_ACTION, S_DOUBLE_RATING,
    S_TOKENS_EXCEED, S_NONCE_BINDING, S_UNKNOWN_PSEUDONYM, S_INVALID_CHOICE,
    S_WRONG_CHALLENGE, S_MISSING_TOKEN, S_CONTEXT_DUPLICATE, S_MALFORMED, S_REPEATED_SERIAL,
    S_INVENTED_ENROLLEE, S_ACTION_AFTER_TALLY, S_TALLY_SHORT, S_MISSING_TALLY,
    S_FORGED_ADMISSION, S_UNINVITED, S_STATEMENT_QUOTA, S_STATEMENT_DUP, S_OWN_RATING,
    S_UNKNOWN_STATEMENT, S_TAMPERED_BRIDGING, S_TAMPERED_HELPFUL, S_WRONG_SEED, S_NO_RESULTS,
    S_NO_RESULTS_FILE, S_LATE_ADMISSION, S_LATE_ADMISSION_INVALID, S_HELD_ISSUANCE, S_COUNT
};

static const char *const scen_names[S_COUNT] = {
    "clean", "forged-token", "double-count", "altered-action", "over-quota", "key-swapped",
    "key-missing", "outside-window", "wrong-tally", "context-after-action", "double-rating",
    "tokens-exceed-issuances", "nonce-binding", "unknown-pseudonym", "invalid-choice",
    "wrong-challenge", "missing-token", "context-duplicate", "malformed", "repeated-serial",
    "invented-enrollee", "action-after-tally", "tally-short", "missing-tally",
    "forged-admission", "uninvited-enrollment", "statement-over-quota", "duplicate-statement",
    "own-statement-rating", "unknown-statement-rating", "tampered-bridging", "tampered-helpful",
    "wrong-seed", "tally-without-results", "missing-results-file", "late-admission",
    "late-admission-invalid", "held-issuance",
};

/* The rule each scenario breaks, by its stable id (clients/audit/README.md). */
static const char *const scen_rules[S_COUNT] = {
    NULL, "token_invalid", "nonce_reused", "action_signature", "quota_exceeded", "key_swapped",
    "key_missing", "outside_window", "tally_mismatch", "context_missing", "double_rating",
    "tokens_exceed_issuances", "nonce_binding", "unknown_pseudonym", "invalid_action",
    "token_challenge", "token_missing", "context_duplicate", "entry_malformed",
    "issuance_repeated", "tags_exceed_enrollments", "action_after_tally", "action_after_tally",
    "tally_missing", "token_invalid", "enrollments_exceed_invitations", "statement_quota",
    "statement_duplicate", "rating_own_statement", "rating_unknown_statement",
    "statement_results", "statement_results", "statement_results", "statement_results",
    "statement_results_file", NULL, "unknown_pseudonym", NULL,
};

#define MAX_EXPECT 8
struct expect {
    size_t n;
    size_t pos[MAX_EXPECT];       /* push positions of the offending entries */
    const char *rule[MAX_EXPECT]; /* NULL: the scenario's */
};

static void
expect_rule(struct expect *x, const char *rule, size_t pos)
{
    if (x->n < MAX_EXPECT) {
        x->rule[x->n] = rule;
        x->pos[x->n++] = pos;
    }
}

static void
expect_at(struct expect *x, size_t pos)
{
    expect_rule(x, NULL, pos);
}

static void
malformed_entry(struct sim *s)
{
    cbor_item_t *m = ov_cbor_map_new();
    struct ov_buf b;
    ov_buf_init(&b, OV_MAX_ENTRY_LEN);
    must(m ? 0 : -OV_E_NOMEM, "cbor");
    must(ov_cbor_put_text(m, "kind", "action"), "cbor");
    must(ov_cbor_put_uint(m, "v", 1), "cbor");
    must(ov_cbor_put_text(m, "context", "not-quite-an-action"), "cbor");
    must(ov_cbor_encode(m, &b), "cbor");
    ov_cbor_free(m);
    (void)push_bytes(s, b);
}

/* ---- the statement round (§11.3): two camps of 15; camp A writes statements 0..3, camp B
 * 4..7; 0, 1 are A's partisan ones (2 from A, 0 from B), 4, 5 B's, the other four please
 * both camps (2 from everyone): bridging finds those four helpful, groups the two camps */
#define ROUND_PARTICIPANTS 30
#define ROUND_STATEMENTS 8
#define ROUND_RATINGS (ROUND_PARTICIPANTS * ROUND_STATEMENTS)

struct round {
    char ctx[OV_MAX_CONTEXT_ID_LEN + 1];
    struct count pub, valid; /* what the published result counts; the recount */
    bool mismatch;           /* the published result counts a rating that does not count */
    char ids[ROUND_STATEMENTS][OV_STATEMENT_ID_LEN + 1];
    struct ov_round_rating ratings[ROUND_RATINGS]; /* the ratings that count */
    size_t n_ratings;
};

static const int round_authors[ROUND_STATEMENTS] = { 0, 1, 2, 3, 15, 16, 17, 18 };

static int64_t
round_value(int p, int k)
{
    bool camp_a = p < ROUND_PARTICIPANTS / 2;
    if (k == 0 || k == 1) {
        return camp_a ? 2 : 0;
    }
    if (k == 4 || k == 5) {
        return camp_a ? 0 : 2;
    }
    return 2;
}

static void
round_context(struct ov_entry *e, const char *id, const struct ctxkey *k, uint64_t t)
{
    context_entry(e, id, true, k, 1, t);
    e->u.context.rating_kind = OV_RATING_HELPFULNESS;
    e->u.context.scale_min = 0;
    e->u.context.scale_max = 2;
    e->u.context.statements = 1;
}

/* Participant p (key, tok: its token, or NULL) rates statement i, as every valid rating. */
static void
round_rate(struct sim *s, struct round *rd, const struct ov_sign_key *key, const uint8_t *tok,
           int p, int i)
{
    struct ov_entry e;
    int64_t v = round_value(p, i);
    action_entry(&e, rd->ctx, key, tok, rd->ids[i], true, v, s->clock++);
    (void)push(s, &e);
    count_add(&rd->pub, rd->ids[i], v);
    count_add(&rd->valid, rd->ids[i], v);
    struct ov_round_rating *g = &rd->ratings[rd->n_ratings++];
    memcpy(g->pseudonym, ov_sign_key_pk(key), OV_PSEUDONYM_LEN);
    memcpy(g->statement, rd->ids[i], sizeof g->statement);
    g->rating = v;
}

/* The participants' enrollments and issuances, then each participant in turn writes their
 * statement (authors) and rates every statement but their own, including those written
 * later: a rating may precede its statement in the log. late-admission: participant 16's
 * statement carries no token (its first rating, logged after it, does), and participant
 * 17's rating of statement 0 comes before its own statement, which carries the token. */
static void
round_entries(struct sim *s, enum scen sc, const struct ctxkey *k, struct round *rd,
              struct expect *x)
{
    struct ov_entry e;
    char text[ROUND_STATEMENTS][OV_MAX_STATEMENT_LEN + 1];
    for (int i = 0; i < ROUND_STATEMENTS; i++) {
        snprintf(text[i], sizeof text[i], "Statement %d of %s: %s", i, rd->ctx,
                 i == 0 || i == 1 ? "camp A's view" : i == 4 || i == 5 ? "camp B's view"
                                                                        : "common ground");
        must(ov_statement_id(rd->ctx, text[i], rd->ids[i]), "statement id");
    }
    for (int p = 0; p < ROUND_PARTICIPANTS; p++) {
        memset(&e, 0, sizeof e);
        e.kind = OV_ENTRY_ENROLLMENT;
        e.u.enrollment.route = OV_ROUTE_REGISTRAR;
        e.u.enrollment.n = 1001 + (uint64_t)p;
        e.u.enrollment.time = s->clock++;
        (void)push(s, &e);
    }
    for (int p = 0; p < ROUND_PARTICIPANTS; p++) {
        uint8_t tag[OV_TAG_LEN];
        randombytes_buf(tag, sizeof tag);
        issuance_entry(&e, rd->ctx, tag, s->clock++);
        (void)push(s, &e);
    }
    struct ov_sign_key *dup_key = NULL;
    for (int p = 0; p < ROUND_PARTICIPANTS; p++) {
        struct ov_sign_key *key = NULL;
        uint8_t tok[OV_PP_TOKEN_LEN];
        must(ov_sign_key_generate(&key), "one-time key");
        mint(k, rd->ctx, ov_sign_key_pk(key), tok);
        bool first = true; /* the first action of a pseudonym carries its token */
        bool late_stmt = sc == S_LATE_ADMISSION && p == 16;
        int pre = sc == S_LATE_ADMISSION && p == 17 ? 0 : -1; /* rated before its statement */
        if (pre >= 0) {
            round_rate(s, rd, key, NULL, p, pre);
        }
        for (int i = 0; i < ROUND_STATEMENTS; i++) {
            if (round_authors[i] == p) {
                statement_entry(&e, rd->ctx, key, late_stmt ? NULL : tok, text[i], s->clock++);
                (void)push(s, &e);
                first = late_stmt;
            }
        }
        if (sc == S_STATEMENT_QUOTA && p == 0) { /* the context allows one each */
            statement_entry(&e, rd->ctx, key, NULL, "A second statement by one author",
                            s->clock++);
            expect_at(x, push(s, &e));
        }
        for (int i = 0; i < ROUND_STATEMENTS; i++) {
            if (round_authors[i] == p || i == pre) {
                continue;
            }
            round_rate(s, rd, key, first ? tok : NULL, p, i);
            first = false;
        }
        char unknown[OV_STATEMENT_ID_LEN + 1];
        const char *bad = NULL;
        if (sc == S_OWN_RATING && p == 0) {
            bad = rd->ids[0]; /* the author's own statement */
        } else if (sc == S_UNKNOWN_STATEMENT && p == 5) {
            must(ov_statement_id(rd->ctx, "A statement nobody wrote", unknown), "id");
            bad = unknown;
        }
        if (bad != NULL) { /* a verifier that counts it: in the published result too */
            action_entry(&e, rd->ctx, key, NULL, bad, true, 2, s->clock++);
            count_add(&rd->pub, bad, 2);
            rd->mismatch = true;
            expect_at(x, push(s, &e));
        }
        if (p == 20) {
            dup_key = key;
        } else {
            ov_sign_key_free(key);
        }
    }
    if (sc == S_STATEMENT_DUP) { /* statement 0's text again, by another participant */
        statement_entry(&e, rd->ctx, dup_key, NULL, text[0], s->clock++);
        expect_at(x, push(s, &e));
    }
    ov_sign_key_free(dup_key);
}

/* The round's tally: `result` as published, and the results computed with
 * core/protocol/roundresult from the statements and ratings that count, seeded with the
 * log's root at size (seed), as the verifier computes them, their result bytes uploaded to
 * the log as the verifier does (§11.3); then the scenario's tampering. */
static void
round_tally(struct sim *s, struct ov_entry *e, enum scen sc, struct round *rd, uint64_t size,
            const uint8_t seed[32], uint64_t t)
{
    qsort(rd->pub.items, rd->pub.n, sizeof rd->pub.items[0], cmp_item);
    tally_entry(e, &rd->pub, size, t);
    if (sc == S_NO_RESULTS) {
        return;
    }
    struct ov_round_input in = {
        .kind = OV_RATING_HELPFULNESS,
        .statements = (const char(*)[OV_STATEMENT_ID_LEN + 1])rd->ids,
        .n_statements = ROUND_STATEMENTS,
        .ratings = rd->ratings,
        .n_ratings = rd->n_ratings,
    };
    memcpy(in.seed, seed, sizeof in.seed);
    if (sc == S_WRONG_SEED) {
        in.seed[0] ^= 1; /* another tree's root: results consistent with it */
    }
    ov_bridge_params_default(&in.params);
    struct ov_roundresult rr;
    must(ov_roundresult_run(&in, &rr), "round results");
    must(ov_roundresult_summary(&rr, &e->u.tally.results), "round summary");
    uint8_t *b = NULL;
    size_t n = 0;
    if (sc != S_NO_RESULTS_FILE) { /* missing-results-file: the bridging bytes never uploaded */
        must(ov_bridge_encode(&rr.bridging, &b, &n), "bridging bytes");
        upload_file(s, b, n);
    }
    if (rr.groups_run) {
        must(ov_groups_encode(&rr.groups, &b, &n), "groups bytes");
        upload_file(s, b, n);
    }
    ov_roundresult_free(&rr);
    e->u.tally.has_results = true;
    struct ov_tally_results *res = &e->u.tally.results;
    if (res->n_helpful == 0) { /* the four common-ground statements are (§11.1) */
        die("no statement of the round was found helpful", 0);
    }
    if (sc == S_TAMPERED_BRIDGING) {
        res->bridging[5] ^= 0x10;
    } else if (sc == S_TAMPERED_HELPFUL) {
        res->n_helpful--; /* a helpful statement left out */
    }
}

static int
cmd_scenario(enum scen sc, int argc, char **argv)
{
    struct sim s;
    struct ctxkey keys[N_KEYS];
    sim_init(&s, argc, argv);
    load_keys(opt(argc, argv, "--keys", NULL), keys);
    int voters = atoi(opt(argc, argv, "--voters", "6"));
    if (voters < 6 || voters > 1000) {
        die("--voters must be 6..1000", 0);
    }
    const char *prefix = opt(argc, argv, "--prefix", "");
    char asm_id[OV_MAX_CONTEXT_ID_LEN + 1], rnd_id[sizeof asm_id], oth_id[sizeof asm_id];
    char late_id[sizeof asm_id], closed_id[sizeof asm_id];
    static struct round rd; /* large: off the stack */
    memset(&rd, 0, sizeof rd);
    snprintf(rd.ctx, sizeof rd.ctx, "%s%sstatements", prefix, *prefix ? "-" : "");
    snprintf(rd.pub.ctx, sizeof rd.pub.ctx, "%s", rd.ctx);
    rd.pub.ratings = true;
    rd.valid = rd.pub;
    snprintf(asm_id, sizeof asm_id, "%s%sassembly", prefix, *prefix ? "-" : "");
    snprintf(rnd_id, sizeof rnd_id, "%s%sround", prefix, *prefix ? "-" : "");
    snprintf(oth_id, sizeof oth_id, "%s%sother", prefix, *prefix ? "-" : "");
    snprintf(late_id, sizeof late_id, "%s%slate", prefix, *prefix ? "-" : "");
    snprintf(closed_id, sizeof closed_id, "%s%sclosed", prefix, *prefix ? "-" : "");
    static const char *const choices[3] = { "yes", "no", "abstain" };
    struct count c_asm = { .ratings = false }, c_rnd = { .ratings = true }, c_oth = { 0 };
    snprintf(c_asm.ctx, sizeof c_asm.ctx, "%s", asm_id);
    snprintf(c_rnd.ctx, sizeof c_rnd.ctx, "%s", rnd_id);
    snprintf(c_oth.ctx, sizeof c_oth.ctx, "%s", oth_id);
    for (int i = 0; i < 3; i++) {
        count_add(&c_asm, choices[i], 0);
        c_asm.items[i].count = 0;
        count_add(&c_oth, choices[i], 0);
        c_oth.items[i].count = 0;
    }
    /* c_*: what the published tallies count (every action logged, as a dishonest operator
     * would); v_*: the valid actions only, the auditor's recount */
    struct count v_asm = c_asm, v_rnd = c_rnd, v_oth = c_oth;
    bool asm_mismatch = false, rnd_mismatch = false;
    struct expect x = { 0 };
    struct ov_entry e;
    size_t pos;

    /* the contexts, announced first (key transparency) */
    context_entry(&e, asm_id, false, &keys[0], 1, s.clock++);
    (void)push(&s, &e);
    context_entry(&e, rnd_id, true, &keys[1], 1, s.clock++);
    (void)push(&s, &e);
    context_entry(&e, oth_id, false, &keys[2], 1, s.clock++);
    (void)push(&s, &e);
    bool with_round = !flag_set(argc, argv, "--no-round");
    if (with_round) { /* the clock not moved: the entries before the round are the same
                       * with --no-round (the log keeps one leaf of each distinct entry) */
        round_context(&e, rd.ctx, &keys[4], s.clock);
        (void)push(&s, &e);
    }
    if (sc == S_CONTEXT_DUPLICATE) {
        context_entry(&e, asm_id, false, &keys[3], 1, s.clock++); /* a second key for it */
        expect_at(&x, push(&s, &e));
    }
    if (sc == S_MISSING_TALLY) {
        /* closes soon: the entries' own clock passes it by more than the grace period */
        context_entry(&e, closed_id, false, &keys[3], 1, s.clock++);
        e.u.context.closes = OPENS + 2000;
        expect_at(&x, push(&s, &e));
    }
    /* enrollments, then one issuance per voter and context */
    uint8_t (*tag_a)[OV_TAG_LEN] = calloc((size_t)voters, OV_TAG_LEN);
    uint8_t (*tag_r)[OV_TAG_LEN] = calloc((size_t)voters, OV_TAG_LEN);
    if (tag_a == NULL || tag_r == NULL) {
        die("memory", -OV_E_NOMEM);
    }
    /* the issuer's codes, announced before the enrollments by invitation they allow (odd
     * voters, and missing-tally's late one) */
    uint64_t invites = (uint64_t)voters / 2 + (sc == S_MISSING_TALLY), invited = 0;
    push_invitations(&s, sc == S_UNINVITED ? invites - 1 : invites, s.clock++);
    for (int v = 0; v < voters; v++) {
        memset(&e, 0, sizeof e);
        e.kind = OV_ENTRY_ENROLLMENT;
        e.u.enrollment.route = v % 2 ? OV_ROUTE_INVITE : OV_ROUTE_REGISTRAR;
        e.u.enrollment.n = (uint64_t)v + 1;
        e.u.enrollment.time = s.clock++;
        invited += v % 2;
        size_t at = push(&s, &e);
        if (sc == S_UNINVITED && v % 2 && invited == invites) {
            expect_at(&x, at);
        }
    }
    for (int v = 0; v < voters; v++) {
        randombytes_buf(tag_a[v], OV_TAG_LEN);
        randombytes_buf(tag_r[v], OV_TAG_LEN);
        /* held-issuance: the last voter's, logged after the ballots (an issuer's epoch) */
        if (!((sc == S_TOKENS_EXCEED || sc == S_HELD_ISSUANCE) && v == voters - 1)) {
            issuance_entry(&e, asm_id, tag_a[v], s.clock++);
            (void)push(&s, &e);
        }
        issuance_entry(&e, rnd_id, tag_r[v], s.clock++);
        (void)push(&s, &e);
    }
    if (sc == S_OVER_QUOTA) {
        issuance_entry_n(&e, asm_id, tag_a[0], s.clock++, 2); /* a second token for voter 0 */
        expect_at(&x, push(&s, &e));
    }
    if (sc == S_REPEATED_SERIAL) {
        issuance_entry(&e, asm_id, tag_a[0], s.clock++); /* voter 0's first token, again */
        expect_at(&x, push(&s, &e));
    }
    uint8_t invented[OV_TAG_LEN];
    if (sc == S_INVENTED_ENROLLEE) {
        randombytes_buf(invented, sizeof invented); /* a tag no enrollment stands for */
        issuance_entry(&e, asm_id, invented, s.clock++);
        expect_at(&x, push(&s, &e));
    }
    /* the assembly: one token, one ballot per voter */
    struct ov_sign_key **vk = calloc((size_t)voters, sizeof *vk);
    uint8_t (*tok)[OV_PP_TOKEN_LEN] = calloc((size_t)voters, OV_PP_TOKEN_LEN);
    if (vk == NULL || tok == NULL) {
        die("memory", -OV_E_NOMEM);
    }
    size_t last_vote = 0, short_pos = 0, split = 0;
    struct ov_entry held; /* action-after-tally: the last ballot, logged after the tallies */
    memset(&held, 0, sizeof held);
    for (int v = 0; v < voters; v++) {
        must(ov_sign_key_generate(&vk[v]), "one-time key");
        const char *choice = choices[v % 3];
        uint64_t t = s.clock++;
        const struct ctxkey *k = &keys[0];
        const char *ch_ctx = asm_id;
        if (sc == S_KEY_SWAPPED && v == 4) {
            k = &keys[2]; /* the key another logged context announced */
        } else if (sc == S_KEY_MISSING && v == 4) {
            k = &keys[3]; /* a key the log never showed */
        } else if (sc == S_WRONG_CHALLENGE && v == 4) {
            ch_ctx = oth_id; /* a token for another context, under this one's key */
        }
        mint(k, ch_ctx, ov_sign_key_pk(vk[v]), tok[v]);
        const struct ov_sign_key *signer = vk[v];
        struct ov_sign_key *other = NULL;
        if (sc == S_NONCE_BINDING && v == 2) {
            must(ov_sign_key_generate(&other), "key");
            signer = other; /* the token was issued to another one-time key */
        }
        if (sc == S_INVALID_CHOICE && v == 2) {
            choice = "maybe";
        }
        if (sc == S_OUTSIDE_WINDOW && v == 5) {
            t = CLOSES; /* the window is [opens, closes) */
        }
        action_entry(&e, asm_id, signer, sc == S_MISSING_TOKEN && v == 3 ? NULL : tok[v],
                     choice, false, 0, t);
        ov_sign_key_free(other);
        if (sc == S_FORGED_TOKEN && v == 1) {
            e.u.action.token[OV_PP_TOKEN_LEN - 7] ^= 0x40; /* the RSA signature */
        }
        if (sc == S_ALTERED_ACTION && v == 3) {
            snprintf(e.u.action.choice, sizeof e.u.action.choice, "%s", choices[(v + 1) % 3]);
        }
        bool hit = (sc == S_FORGED_TOKEN && v == 1) || (sc == S_ALTERED_ACTION && v == 3) ||
                   ((sc == S_KEY_SWAPPED || sc == S_KEY_MISSING || sc == S_WRONG_CHALLENGE) &&
                    v == 4) ||
                   (sc == S_NONCE_BINDING && v == 2) || (sc == S_INVALID_CHOICE && v == 2) ||
                   (sc == S_OUTSIDE_WINDOW && v == 5) || (sc == S_MISSING_TOKEN && v == 3);
        /* beyond the tally's reach: logged after it, or left out of its size */
        bool late = (sc == S_ACTION_AFTER_TALLY || sc == S_TALLY_SHORT) && v == voters - 1;
        if (strcmp(e.u.action.choice, "maybe") != 0 && !late) {
            count_add(&c_asm, e.u.action.choice, 0);
            asm_mismatch = asm_mismatch || hit; /* the tally counts an invalid ballot */
        }
        if (!hit && !late) {
            count_add(&v_asm, e.u.action.choice, 0);
        }
        if (sc == S_ACTION_AFTER_TALLY && late) {
            held = e;
            continue;
        }
        pos = push(&s, &e);
        last_vote = pos;
        if (hit) {
            expect_at(&x, pos);
        }
        if (late) {
            short_pos = pos;
            expect_at(&x, pos);
        }
    }
    if (sc == S_HELD_ISSUANCE) {
        /* the issuer held it for its epoch: a read that ends before it has every ballot,
         * one token more than the issuances, and no tally yet (docs/PROTOCOL.md §3.1) */
        split = last_vote + 1;
        issuance_entry(&e, asm_id, tag_a[voters - 1], s.clock++);
        (void)push(&s, &e);
    }
    if (sc == S_INVENTED_ENROLLEE) {
        /* the invented enrollee votes with a valid token: nothing else is wrong */
        struct ov_sign_key *p = NULL;
        uint8_t t[OV_PP_TOKEN_LEN];
        must(ov_sign_key_generate(&p), "key");
        mint(&keys[0], asm_id, ov_sign_key_pk(p), t);
        action_entry(&e, asm_id, p, t, "yes", false, 0, s.clock++);
        count_add(&c_asm, "yes", 0);
        count_add(&v_asm, "yes", 0);
        (void)push(&s, &e);
        ov_sign_key_free(p);
    }
    if (sc == S_TOKENS_EXCEED) {
        expect_at(&x, last_vote); /* the first token beyond the issuances */
    }
    if (sc == S_DOUBLE_COUNT) {
        /* voter 2's token again, on a ballot for another choice, properly signed */
        action_entry(&e, asm_id, vk[2], tok[2], choices[0], false, 0, s.clock++);
        count_add(&c_asm, choices[0], 0);
        asm_mismatch = true;
        expect_at(&x, push(&s, &e));
    }
    /* the rating round: a token admits each pseudonym, which then rates two notes */
    for (int v = 0; v < voters; v++) {
        struct ov_sign_key *p = NULL;
        uint8_t rtok[OV_PP_TOKEN_LEN];
        must(ov_sign_key_generate(&p), "one-time key");
        mint(&keys[1], rnd_id, ov_sign_key_pk(p), rtok);
        /* forged-admission: the token admitting pseudonym 0 fails, so neither of its ratings
         * counts (the second carries no token of its own) */
        bool forged = sc == S_FORGED_ADMISSION && v == 0;
        if (forged) {
            rtok[OV_PP_TOKEN_LEN - 7] ^= 0x40; /* the RSA signature */
            rnd_mismatch = true;
        }
        int64_t r1 = v % 5 - 2, r2 = (v + 1) % 5 - 2;
        /* late-admission: pseudonyms 0 and 1 have their token-less rating logged before the
         * rating whose token admits them (two requests of the verifier's sender in flight,
         * committed by the log in the other order); late-admission-invalid: pseudonym 0's,
         * and the token that comes after it was issued to another key, so nothing admits it */
        bool before = (sc == S_LATE_ADMISSION && v < 2) ||
                      (sc == S_LATE_ADMISSION_INVALID && v == 0);
        bool unbound = sc == S_LATE_ADMISSION_INVALID && v == 0;
        if (unbound) {
            struct ov_sign_key *o = NULL;
            must(ov_sign_key_generate(&o), "key");
            mint(&keys[1], rnd_id, ov_sign_key_pk(o), rtok);
            ov_sign_key_free(o);
            rnd_mismatch = true; /* the published tally counts both ratings */
        }
        if (before) {
            action_entry(&e, rnd_id, p, NULL, "note-2", true, r2, s.clock++);
            count_add(&c_rnd, "note-2", r2);
            if (!unbound) {
                count_add(&v_rnd, "note-2", r2);
            }
            pos = push(&s, &e);
            if (unbound) {
                expect_at(&x, pos);
            }
            if (v == 0) {
                split = pos + 1; /* a read that ends here has the rating, not its admission */
            }
        }
        action_entry(&e, rnd_id, p, rtok, "note-1", true, r1, s.clock++);
        count_add(&c_rnd, "note-1", r1);
        if (!forged && !unbound) {
            count_add(&v_rnd, "note-1", r1);
        }
        pos = push(&s, &e);
        if (forged) {
            expect_at(&x, pos);
        }
        if (unbound) {
            expect_rule(&x, "nonce_binding", pos);
        }
        if (!before) {
            action_entry(&e, rnd_id, p, NULL, "note-2", true, r2, s.clock++);
            count_add(&c_rnd, "note-2", r2);
            if (!forged) {
                count_add(&v_rnd, "note-2", r2);
            }
            (void)push(&s, &e);
        }
        if (sc == S_DOUBLE_RATING && v == 0) {
            action_entry(&e, rnd_id, p, NULL, "note-1", true, 2, s.clock++);
            count_add(&c_rnd, "note-1", 2);
            rnd_mismatch = true;
            expect_at(&x, push(&s, &e));
        }
        ov_sign_key_free(p);
    }
    if (sc == S_UNKNOWN_PSEUDONYM) {
        struct ov_sign_key *p = NULL;
        must(ov_sign_key_generate(&p), "key");
        action_entry(&e, rnd_id, p, NULL, "note-3", true, 1, s.clock++);
        count_add(&c_rnd, "note-3", 1);
        rnd_mismatch = true;
        expect_at(&x, push(&s, &e));
        ov_sign_key_free(p);
    }
    if (sc == S_CONTEXT_AFTER_ACTION) {
        /* an issuance and a ballot for a context the log announces only afterwards */
        struct ov_sign_key *p = NULL;
        uint8_t t[OV_PP_TOKEN_LEN], tag[OV_TAG_LEN];
        randombytes_buf(tag, sizeof tag);
        must(ov_sign_key_generate(&p), "key");
        mint(&keys[3], late_id, ov_sign_key_pk(p), t);
        issuance_entry(&e, late_id, tag, s.clock++);
        expect_at(&x, push(&s, &e));
        action_entry(&e, late_id, p, t, "yes", false, 0, s.clock++);
        expect_at(&x, push(&s, &e));
        context_entry(&e, late_id, false, &keys[3], 1, s.clock++);
        (void)push(&s, &e);
        ov_sign_key_free(p);
    }
    if (sc == S_MALFORMED) {
        malformed_entry(&s);
        expect_at(&x, s.n_pending - 1);
    }
    if (with_round) {
        round_entries(&s, sc, &keys[4], &rd, &x);
    }
    /* the tallies, over everything appended so far; the statement round's seed is the root
     * of the checkpoint of that size */
    flush(&s, true);
    uint64_t size = s.size;
    if (s.cp_size != size) {
        die("the checkpoint is not of the log's size (another producer?)", 0);
    }
    struct count *cs[3] = { &c_asm, &c_rnd, &c_oth }, *vs[4] = { &v_asm, &v_rnd, &v_oth, NULL };
    for (int i = 0; i < 3; i++) {
        /* tally-short: the assembly's tally stops before its last ballot */
        tally_entry(&e, cs[i], sc == S_TALLY_SHORT && i == 0 ? s.index[short_pos] : size,
                    s.clock++);
        if (sc == S_WRONG_TALLY && i == 0) {
            e.u.tally.items[0].count++; /* one ballot more than the log holds */
        }
        pos = push(&s, &e);
        if (sc == S_WRONG_TALLY && i == 0) {
            expect_at(&x, pos);
        }
        if ((i == 0 && asm_mismatch) || (i == 1 && rnd_mismatch)) {
            expect_rule(&x, "tally_mismatch", pos);
        }
        ov_entry_clear(&e);
    }
    if (with_round) {
        round_tally(&s, &e, sc, &rd, size, s.cp_root, s.clock++);
        pos = push(&s, &e);
        if (sc == S_TAMPERED_BRIDGING || sc == S_TAMPERED_HELPFUL || sc == S_WRONG_SEED ||
            sc == S_NO_RESULTS || sc == S_NO_RESULTS_FILE) {
            expect_at(&x, pos);
        }
        if (sc == S_TAMPERED_BRIDGING) { /* a hash no file has */
            expect_rule(&x, "statement_results_file", pos);
        }
        if (rd.mismatch) {
            expect_rule(&x, "tally_mismatch", pos);
        }
        ov_entry_clear(&e);
    }
    if (sc == S_ACTION_AFTER_TALLY) {
        expect_at(&x, push(&s, &held));
    }
    if (sc == S_MISSING_TALLY) {
        /* a later entry whose time passes the closed context's close by the grace period */
        memset(&e, 0, sizeof e);
        e.kind = OV_ENTRY_ENROLLMENT;
        e.u.enrollment.route = OV_ROUTE_INVITE;
        e.u.enrollment.n = (uint64_t)voters + 1;
        e.u.enrollment.time = OPENS + 2000 + 3600;
        (void)push(&s, &e);
    }
    flush(&s, true);
    for (size_t i = 0; i < x.n; i++) {
        printf("expect %s %llu\n", x.rule[i] ? x.rule[i] : scen_rules[sc],
               (unsigned long long)s.index[x.pos[i]]);
    }
    vs[3] = &rd.valid;
    for (int i = 0; i < (with_round ? 4 : 3); i++) {
        for (size_t j = 0; j < vs[i]->n; j++) {
            printf("count %s %s %llu %lld\n", vs[i]->ctx, vs[i]->items[j].name,
                   (unsigned long long)vs[i]->items[j].count, (long long)vs[i]->items[j].sum);
        }
    }
    if (split > 0) { /* replay --upto this many entries ends between a rating and its admission */
        printf("split %zu\n", split);
    }
    printf("size %llu\n", (unsigned long long)s.size);
    for (int v = 0; v < voters; v++) {
        ov_sign_key_free(vk[v]);
    }
    free(vk);
    free(tok);
    free(tag_a);
    free(tag_r);
    free_keys(keys);
    sim_free(&s);
    return 0;
}

/* ------------------------------------------------------------------ replay */

static int
cmd_replay(int argc, char **argv)
{
    struct sim s;
    sim_init(&s, argc, argv);
    FILE *f = fopen(argv[5], "r");
    if (f == NULL) {
        die(argv[5], -OV_E_IO);
    }
    long alter = atol(opt(argc, argv, "--alter", "-1"));
    long upto = atol(opt(argc, argv, "--upto", "-1"));
    static char line[OV_MAX_ENTRY_LEN * 2];
    for (long i = 0; i != upto && fgets(line, sizeof line, f) != NULL; i++) {
        size_t ll = strcspn(line, "\n");
        if (strncmp(line, "file ", 5) == 0) { /* a result file: uploaded, not an entry */
            size_t n = 0;
            uint8_t *bytes = malloc(ll);
            if (bytes == NULL) {
                die("memory", -OV_E_NOMEM);
            }
            must(ov_b64_decode(bytes, ll, &n, line + 5, ll - 5, OV_B64_STD), "saved file");
            upload_file(&s, bytes, n);
            i--;
            continue;
        }
        struct ov_buf b;
        ov_buf_init(&b, OV_MAX_ENTRY_LEN);
        must(ov_buf_reserve(&b, OV_MAX_ENTRY_LEN), "memory");
        must(ov_b64_decode(b.ptr, b.cap, &b.len, line, ll, OV_B64_STD), "saved entry");
        if (i == alter) {
            struct ov_entry e;
            must(ov_entry_decode(ov_buf_view(&b), &e), "altered entry");
            switch (e.kind) {
            case OV_ENTRY_CONTEXT: e.u.context.time++; break;
            case OV_ENTRY_ENROLLMENT: e.u.enrollment.time++; break;
            case OV_ENTRY_ISSUANCE: e.u.issuance.time++; break;
            case OV_ENTRY_ACTION:
            case OV_ENTRY_STATEMENT: e.u.action.time++; break;
            case OV_ENTRY_TALLY: e.u.tally.time++; break;
            case OV_ENTRY_INVITATIONS: e.u.invitations.time++; break;
            default: break;
            }
            ov_buf_clear(&b);
            must(ov_entry_encode(&e, &b), "encode");
            ov_entry_clear(&e);
        }
        (void)push_bytes(&s, b);
    }
    fclose(f);
    flush(&s, true);
    printf("size %llu\n", (unsigned long long)s.size);
    sim_free(&s);
    return 0;
}

/* ------------------------------------------------------------------ bulk */

struct bulk {
    const struct ctxkey *key;
    const char *ctx;
    bool fake;
    uint8_t digest[OV_PP_DIGEST_LEN]; /* the context's challenge digest (fake tokens) */
    struct ov_buf *out; /* 3 per voter of the chunk: enrollment, issuance, action */
    atomic_size_t next;
    size_t first, n;    /* the chunk: voters [first, n) */
};

static void *
bulk_thread(void *arg)
{
    struct bulk *b = arg;
    static const char *const choices[3] = { "yes", "no", "abstain" };
    for (;;) {
        size_t v = atomic_fetch_add(&b->next, 1);
        if (v >= b->n) {
            return NULL;
        }
        struct ov_entry e;
        uint8_t tag[OV_TAG_LEN], tok[OV_PP_TOKEN_LEN];
        struct ov_sign_key *k = NULL;
        randombytes_buf(tag, sizeof tag);
        memset(&e, 0, sizeof e);
        e.kind = OV_ENTRY_ENROLLMENT;
        e.u.enrollment.route = OV_ROUTE_INVITE;
        e.u.enrollment.n = v + 1;
        e.u.enrollment.time = OPENS + 5 + v;
        must(ov_entry_encode(&e, &b->out[3 * (v - b->first)]), "encode");
        issuance_entry(&e, b->ctx, tag, OPENS + 10 + v);
        must(ov_entry_encode(&e, &b->out[3 * (v - b->first) + 1]), "encode");
        must(ov_sign_key_generate(&k), "key");
        if (b->fake) {
            struct ov_pp_token t = { .token_type = OV_PP_TOKEN_TYPE };
            sha256(ov_sign_key_pk(k), OV_PSEUDONYM_LEN, t.nonce);
            memcpy(t.challenge_digest, b->digest, OV_PP_DIGEST_LEN);
            memcpy(t.token_key_id, b->key->pk.token_key_id, OV_PP_NID);
            randombytes_buf(t.authenticator, sizeof t.authenticator);
            must(ov_pp_token_encode(&t, tok), "token");
        } else {
            mint(b->key, b->ctx, ov_sign_key_pk(k), tok);
        }
        action_entry(&e, b->ctx, k, tok, choices[v % 3], false, 0, OPENS + 100000 + v);
        must(ov_entry_encode(&e, &b->out[3 * (v - b->first) + 2]), "encode");
        ov_sign_key_free(k);
    }
}

#define BULK_CHUNK 16384 /* voters minted, then appended, at a time: memory stays flat */

static int
cmd_bulk(int argc, char **argv)
{
    struct sim s;
    struct ctxkey keys[N_KEYS];
    sim_init(&s, argc, argv);
    load_keys(opt(argc, argv, "--keys", NULL), keys);
    long n = atol(opt(argc, argv, "--actions", "1000"));
    int nt = atoi(opt(argc, argv, "--threads", "2"));
    if (n < 1 || n > 100000000 || nt < 1 || nt > 64) {
        die("--actions 1..100000000, --threads 1..64", 0);
    }
    const char *ctx = "bulk";
    struct ov_entry e;
    context_entry(&e, ctx, false, &keys[0], 1, OPENS + 1);
    (void)push(&s, &e);
    push_invitations(&s, (uint64_t)n, OPENS + 2);
    struct bulk b = { .key = &keys[0], .ctx = ctx };
    b.fake = flag_set(argc, argv, "--fake-tokens");
    uint8_t ch[OV_ENTRY_MAX_CHALLENGE_LEN];
    size_t chl = 0;
    must(ov_entry_challenge(ISSUER, ctx, ch, sizeof ch, &chl), "challenge");
    ov_pp_challenge_digest(OV_BYTES(ch, chl), b.digest);
    b.out = calloc(3 * BULK_CHUNK, sizeof *b.out);
    if (b.out == NULL) {
        die("memory", -OV_E_NOMEM);
    }
    struct count c = { .ratings = false };
    snprintf(c.ctx, sizeof c.ctx, "%s", ctx);
    static const char *const choices[3] = { "yes", "no", "abstain" };
    for (int i = 0; i < 3; i++) {
        count_add(&c, choices[i], 0);
        c.items[i].count = 0;
    }
    double t_mint = 0, t_append = 0;
    for (long first = 0; first < n; first += BULK_CHUNK) {
        double t0 = now_s();
        b.first = (size_t)first;
        b.n = (size_t)(n - first < BULK_CHUNK ? n : first + BULK_CHUNK);
        atomic_store(&b.next, (size_t)first);
        pthread_t th[64];
        for (int i = 0; i < nt; i++) {
            if (pthread_create(&th[i], NULL, bulk_thread, &b) != 0) {
                die("thread", 0);
            }
        }
        for (int i = 0; i < nt; i++) {
            pthread_join(th[i], NULL);
        }
        double t1 = now_s();
        /* each enrollment and issuance shortly before its ballot, as a day of voting would
         * log them */
        for (size_t v = b.first; v < b.n; v++) {
            (void)push_bytes(&s, b.out[3 * (v - b.first)]);
            (void)push_bytes(&s, b.out[3 * (v - b.first) + 1]);
            (void)push_bytes(&s, b.out[3 * (v - b.first) + 2]);
            c.items[v % 3].count++;
        }
        flush(&s, false);
        sim_restart(&s);
        t_mint += t1 - t0;
        t_append += now_s() - t1;
    }
    tally_entry(&e, &c, s.size, CLOSES + 1);
    (void)push(&s, &e);
    ov_entry_clear(&e);
    flush(&s, true);
    fprintf(stderr, "govsim: %ld %stokens minted in %.1f s, appended in %.1f s\n", n,
            b.fake ? "fake " : "", t_mint, t_append);
    printf("size %llu\n", (unsigned long long)s.size);
    free(b.out);
    free_keys(keys);
    sim_free(&s);
    return 0;
}

/* ------------------------------------------------------------------ speed */

struct speed {
    const struct ov_pp_key *key;
    const uint8_t *token;
    const uint8_t *pk, *sig;
    const uint8_t *msg;
    size_t msg_len;
    double until;
    atomic_ulong done;
};

static void *
speed_thread(void *arg)
{
    struct speed *sp = arg;
    unsigned long n = 0;
    while (now_s() < sp->until) {
        for (int i = 0; i < 16; i++) {
            if (ov_pp_token_verify(sp->key, OV_BYTES(sp->token, OV_PP_TOKEN_LEN)) != 0 ||
                ov_sign_verify(sp->pk, OV_SIGN_ACTION, sp->msg, sp->msg_len, sp->sig) != 0) {
                die("speed: a valid signature did not verify", 0);
            }
        }
        n += 16;
    }
    atomic_fetch_add(&sp->done, n);
    return NULL;
}

static int
cmd_speed(int argc, char **argv)
{
    struct ctxkey keys[N_KEYS];
    load_keys(opt(argc, argv, "--keys", NULL), keys);
    int nt = atoi(opt(argc, argv, "--threads", "2"));
    double ms = atof(opt(argc, argv, "--ms", "2000"));
    if (nt < 1 || nt > 64 || ms <= 0) {
        die("--threads 1..64, --ms > 0", 0);
    }
    struct ov_sign_key *k = NULL;
    uint8_t tok[OV_PP_TOKEN_LEN];
    struct ov_entry e;
    struct ov_buf msg;
    must(ov_sign_key_generate(&k), "key");
    mint(&keys[0], "speed", ov_sign_key_pk(k), tok);
    action_entry(&e, "speed", k, tok, "yes", false, 0, OPENS);
    must(ov_action_signed_bytes(&e.u.action, &msg), "signed bytes");
    struct speed sp = { .key = &keys[0].pk, .token = tok, .pk = e.u.action.pseudonym,
                        .sig = e.u.action.sig, .msg = msg.ptr, .msg_len = msg.len };
    pthread_t th[64];
    double t0 = now_s();
    sp.until = t0 + ms / 1000.0;
    for (int i = 0; i < nt; i++) {
        if (pthread_create(&th[i], NULL, speed_thread, &sp) != 0) {
            die("thread", 0);
        }
    }
    for (int i = 0; i < nt; i++) {
        pthread_join(th[i], NULL);
    }
    double dt = now_s() - t0;
    printf("speed %.0f\n", (double)atomic_load(&sp.done) / dt);
    ov_buf_clear(&msg);
    ov_sign_key_free(k);
    free_keys(keys);
    return 0;
}

int
main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        die("libsodium", 0);
    }
    if (argc >= 2 && strcmp(argv[1], "speed") == 0) {
        return cmd_speed(argc, argv);
    }
    if (argc < 5) {
        fprintf(stderr, "usage: govsim SCENARIO|replay|bulk URL PRODUCER_KEY PRODUCER ... "
                        "(see tests/tools/govsim.c)\n");
        return 1;
    }
    if (strcmp(argv[1], "replay") == 0 && argc >= 6) {
        return cmd_replay(argc, argv);
    }
    if (strcmp(argv[1], "bulk") == 0) {
        return cmd_bulk(argc, argv);
    }
    for (int i = 0; i < S_COUNT; i++) {
        if (strcmp(argv[1], scen_names[i]) == 0) {
            return cmd_scenario((enum scen)i, argc, argv);
        }
    }
    fprintf(stderr, "govsim: unknown scenario %s\n", argv[1]);
    return 1;
}
