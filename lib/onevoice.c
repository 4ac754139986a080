/* libonevoice: the platform library's logs, contexts, tokens, headers and actions, on core/.
 * (The verifier and receipts are in verifier.c.) See onevoice.h for the contracts. */
#include "onevoice.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "protocol/actionreq.h"
#include "protocol/entry.h"
#include "base/err.h"
#include "protocol/issuerclient.h"
#include "lib_int.h"
#include "protocol/logproof.h"
#include "protocol/ptchallenge.h"

const char *
onevoice_strerror(int err)
{
    return ov_strerror(err);
}

/* ---- the log ---- */

int
onevoice_log_new(const char *url, const char *vkey, const char *const *witnesses,
                 size_t n_witnesses, unsigned quorum, struct onevoice_log **out)
{
    *out = NULL;
    if (url == NULL || vkey == NULL || strlen(url) >= sizeof((struct onevoice_log *)0)->url ||
        n_witnesses > OV_LOGREADER_MAX_WITNESSES || quorum > n_witnesses) {
        return -OV_E_MALFORMED;
    }
    struct onevoice_log *log = calloc(1, sizeof *log);
    if (log == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(log->url, url, strlen(url) + 1);
    int rc = ov_note_vkey_parse(OV_BYTES(vkey, strlen(vkey)), &log->key);
    rc = rc == 0 && log->key.type != OV_NOTE_TYPE_ED25519 ? -OV_E_MALFORMED : rc;
    for (size_t i = 0; rc == 0 && i < n_witnesses; i++) {
        rc = witnesses[i] ? ov_note_vkey_parse(OV_BYTES(witnesses[i], strlen(witnesses[i])),
                                               &log->witnesses[i])
                          : -OV_E_MALFORMED;
        rc = rc == 0 && log->witnesses[i].type != OV_NOTE_TYPE_COSIG_V1 ? -OV_E_MALFORMED : rc;
    }
    if (rc != 0) {
        free(log);
        return rc;
    }
    log->n_witnesses = n_witnesses;
    log->quorum = quorum;
    *out = log;
    return 0;
}

void
onevoice_log_free(struct onevoice_log *log)
{
    free(log);
}

void
lib_log_cfg(const struct onevoice_log *log, struct ov_logreader_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->url = log->url;
    cfg->log_key = log->key;
    cfg->witnesses = log->witnesses;
    cfg->n_witnesses = log->n_witnesses;
    cfg->quorum = log->quorum;
}

/* ---- contexts ---- */

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Proves c's entry under the latest checkpoint, waiting up to ~5 s for one to cover it. */
static int
prove_context(struct onevoice_log *log, const struct ov_issuer_context *c)
{
    struct ov_logreader_cfg cfg;
    struct ov_logproof *lp = NULL;
    lib_log_cfg(log, &cfg);
    int rc = ov_logproof_new(&cfg, &lp);
    for (int tries = 0; rc == 0; tries++) {
        struct ov_logreader_cp cp;
        rc = ov_logproof_checkpoint(lp, NULL, &cp);
        rc = rc ? rc : ov_logproof_context(lp, &cp, c, NULL);
        ov_logreader_cp_clear(&cp);
        if (rc != -OV_E_RANGE || tries == 24) {
            break;
        }
        rc = 0;
        sleep_ms(200);
    }
    ov_logproof_free(lp);
    return rc;
}

int
onevoice_context_fetch(struct onevoice_log *log, const char *issuer_url, const char *id,
                       struct onevoice_context **out)
{
    struct ov_issuerclient *ic = NULL;
    struct ov_issuer_context *list = NULL;
    struct ov_issuer_status st = { 0, "", "" };
    struct onevoice_context *c = NULL;
    size_t n = 0, i = 0;
    *out = NULL;
    int rc = ov_issuerclient_new(issuer_url, &ic);
    rc = rc ? rc : ov_issuerclient_contexts(ic, &list, &n, &st);
    while (rc == 0 && i < n && strcmp(list[i].def.id, id) != 0) {
        i++;
    }
    rc = rc == 0 && i == n ? -OV_E_NOT_FOUND : rc;
    rc = rc ? rc : prove_context(log, &list[i]);
    if (rc == 0) {
        c = calloc(1, sizeof *c);
        rc = c ? 0 : -OV_E_NOMEM;
    }
    if (rc == 0) {
        c->def = list[i].def;
        c->log_index = list[i].log_index;
        rc = ov_pp_key_from_spki(&c->key, OV_BYTES(c->def.token_key, c->def.token_key_len));
        rc = rc ? rc : ov_entry_challenge(c->def.issuer, c->def.id, c->challenge,
                                          sizeof c->challenge, &c->challenge_len);
    }
    if (rc == 0) {
        ov_pp_challenge_digest(OV_BYTES(c->challenge, c->challenge_len), c->digest);
        *out = c;
        c = NULL;
    }
    onevoice_context_free(c);
    free(list);
    ov_issuerclient_free(ic);
    return rc;
}

void
onevoice_context_free(struct onevoice_context *c)
{
    if (c != NULL) {
        ov_pp_key_clear(&c->key);
        free(c);
    }
}

const char *
onevoice_context_id(const struct onevoice_context *c)
{
    return c->def.id;
}

int
onevoice_context_is_rating(const struct onevoice_context *c)
{
    return c->def.type == OV_CONTEXT_RATING;
}

int
onevoice_context_is_open(const struct onevoice_context *c, uint64_t now)
{
    return c->def.opens <= now && now < c->def.closes;
}

uint64_t
onevoice_context_log_index(const struct onevoice_context *c)
{
    return c->log_index;
}

enum onevoice_rating_kind
onevoice_context_rating_kind(const struct onevoice_context *c)
{
    return c->def.type != OV_CONTEXT_RATING             ? ONEVOICE_RATING_SCALE
           : c->def.rating_kind == OV_RATING_HELPFULNESS ? ONEVOICE_RATING_HELPFULNESS
           : c->def.rating_kind == OV_RATING_AGREEMENT   ? ONEVOICE_RATING_AGREEMENT
                                                         : ONEVOICE_RATING_SCALE;
}

uint64_t
onevoice_context_statement_quota(const struct onevoice_context *c)
{
    return onevoice_context_rating_kind(c) != ONEVOICE_RATING_SCALE ? c->def.statements : 0;
}

int
onevoice_token_verify(const struct onevoice_context *c, const uint8_t *token, size_t len,
                      const uint8_t *pseudonym)
{
    struct ov_pp_token t;
    int rc = ov_pp_token_parse(OV_BYTES(token, len), &t);
    rc = rc ? rc : ov_pp_token_verify(&c->key, OV_BYTES(token, len));
    if (rc == 0 && sodium_memcmp(t.challenge_digest, c->digest, OV_PP_DIGEST_LEN) != 0) {
        rc = -OV_E_BAD_SIG; /* a token for another context or issuer */
    }
    if (rc == 0 && pseudonym != NULL) {
        uint8_t h[32];
        crypto_hash_sha256(h, pseudonym, ONEVOICE_PSEUDONYM_LEN);
        rc = sodium_memcmp(h, t.nonce, sizeof h) == 0 ? 0 : -OV_E_BAD_SIG;
    }
    return rc;
}

int
onevoice_challenge_header(const struct onevoice_context *c, char *out, size_t out_max)
{
    struct ov_ptchallenge pc;
    struct ov_buf b;
    memset(&pc, 0, sizeof pc);
    memcpy(pc.challenge, c->challenge, c->challenge_len);
    pc.challenge_len = c->challenge_len;
    memcpy(pc.token_key, c->def.token_key, c->def.token_key_len);
    pc.token_key_len = c->def.token_key_len;
    ov_buf_init(&b, ONEVOICE_CHALLENGE_HEADER_MAX);
    int rc = ov_ptchallenge_format(&pc, &b);
    if (rc == 0 && b.len >= out_max) {
        rc = -OV_E_TOO_BIG;
    }
    if (rc == 0) {
        memcpy(out, b.ptr, b.len);
        out[b.len] = 0;
    }
    ov_buf_clear(&b);
    return rc;
}

int
onevoice_challenge_check(const struct onevoice_context *c, const char *value, size_t len)
{
    struct ov_ptchallenge *pcs = calloc(OV_PTCHALLENGE_MAX, sizeof *pcs);
    size_t n = 0;
    int rc = pcs ? ov_ptchallenge_parse(value, len, pcs, OV_PTCHALLENGE_MAX, &n) : -OV_E_NOMEM;
    int found = -OV_E_NOT_FOUND;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (pcs[i].challenge_len != c->challenge_len ||
            memcmp(pcs[i].challenge, c->challenge, c->challenge_len) != 0) {
            continue;
        }
        if (pcs[i].token_key_len != 0 &&
            (pcs[i].token_key_len != c->def.token_key_len ||
             memcmp(pcs[i].token_key, c->def.token_key, c->def.token_key_len) != 0)) {
            found = -OV_E_UNKNOWN_KEY; /* the origin names a key the log does not show */
            break;
        }
        found = 0;
    }
    free(pcs);
    return rc ? rc : found;
}

/* ---- headers ---- */

int
onevoice_authorization_parse(const char *value, size_t len, uint8_t token[ONEVOICE_TOKEN_LEN])
{
    return ov_privatetoken_parse(value, len, token);
}

int
onevoice_authorization_format(const uint8_t token[ONEVOICE_TOKEN_LEN], char *out, size_t out_max)
{
    return ov_privatetoken_format(token, out, out_max);
}

/* ---- actions ---- */

int
onevoice_action_parse(const char *json, size_t len, struct onevoice_action **out)
{
    struct onevoice_action *a = calloc(1, sizeof *a);
    *out = NULL;
    if (a == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = ov_actionreq_parse(OV_BYTES(json, len), &a->a);
    if (rc != 0) {
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void
onevoice_action_free(struct onevoice_action *a)
{
    free(a);
}

int
onevoice_action_set_token(struct onevoice_action *a, const uint8_t token[ONEVOICE_TOKEN_LEN])
{
    if (a->a.has_token && sodium_memcmp(a->a.token, token, ONEVOICE_TOKEN_LEN) != 0) {
        return -OV_E_CONFLICT;
    }
    memcpy(a->a.token, token, ONEVOICE_TOKEN_LEN);
    a->a.has_token = true;
    return 0;
}

int
onevoice_action_has_token(const struct onevoice_action *a)
{
    return a->a.has_token;
}

const char *
onevoice_action_context(const struct onevoice_action *a)
{
    return a->a.context;
}

const char *
onevoice_action_platform(const struct onevoice_action *a)
{
    return a->a.platform;
}

int
onevoice_action_fits(const struct onevoice_context *c, const struct onevoice_action *a)
{
    const struct ov_action *x = &a->a;
    bool rating_round = c->def.type == OV_CONTEXT_RATING;
    bool statement_round = onevoice_context_rating_kind(c) != ONEVOICE_RATING_SCALE;
    if (strcmp(x->context, c->def.id) != 0 || (x->is_rating || x->is_statement) != rating_round) {
        return -OV_E_MALFORMED;
    }
    if (x->is_statement) { /* only where the round takes statements */
        return statement_round && c->def.statements > 0 &&
                       ov_text_check(x->text, OV_MAX_STATEMENT_LEN) == 0
                   ? 0
                   : -OV_E_MALFORMED;
    }
    if (x->is_rating) { /* a statement round's targets are statement ids */
        if (statement_round && ov_statement_id_check(x->target) != 0) {
            return -OV_E_MALFORMED;
        }
        return x->rating < c->def.scale_min || x->rating > c->def.scale_max ? -OV_E_RANGE : 0;
    }
    for (size_t i = 0; i < c->def.n_choices; i++) {
        if (strcmp(c->def.choices[i], x->choice) == 0) {
            return 0;
        }
    }
    return -OV_E_RANGE;
}

int
onevoice_action_verify(const struct onevoice_context *c, const struct onevoice_action *a)
{
    const struct ov_action *x = &a->a;
    int rc = onevoice_action_fits(c, a);
    rc = rc ? rc : ov_action_verify(x);
    if (rc == 0 && x->has_token) {
        rc = onevoice_token_verify(c, x->token, OV_PP_TOKEN_LEN, x->pseudonym);
    }
    return rc;
}

int
onevoice_action_is_statement(const struct onevoice_action *a)
{
    return a->a.is_statement;
}

const char *
onevoice_action_text(const struct onevoice_action *a)
{
    return a->a.is_statement ? a->a.text : NULL;
}

/* ---- statement rounds ---- */

int
onevoice_statement_id(const char *context, const char *text,
                      char out[ONEVOICE_STATEMENT_ID_LEN + 1])
{
    _Static_assert(ONEVOICE_STATEMENT_ID_LEN == OV_STATEMENT_ID_LEN, "the id's length");
    out[0] = 0;
    if (context == NULL || text == NULL || ov_context_id_check(context) != 0 ||
        ov_text_check(text, OV_MAX_STATEMENT_LEN) != 0) {
        return -OV_E_MALFORMED;
    }
    return ov_statement_id(context, text, out);
}

/* Copies s (NULL refused) into dst of size max, checked by check. */
static int
copy_checked(char *dst, size_t max, const char *s, int (*check)(const char *))
{
    if (s == NULL || strlen(s) >= max) {
        return -OV_E_MALFORMED;
    }
    memcpy(dst, s, strlen(s) + 1);
    return check(dst) == 0 ? 0 : -OV_E_MALFORMED;
}

static int
statement_text_check(const char *s)
{
    return ov_text_check(s, OV_MAX_STATEMENT_LEN);
}

/* A new action: x's own fields (a choice, a rating, a text: set and checked by the caller)
 * with context and platform, signed with the seed's key, the token attached when given. */
static int
action_new(const struct ov_action *x, const char *context, const char *platform,
           const uint8_t seed[ONEVOICE_SEED_LEN], const uint8_t *token,
           struct onevoice_action **out)
{
    struct onevoice_action *a = calloc(1, sizeof *a);
    struct ov_sign_key *key = NULL;
    int rc = a ? 0 : -OV_E_NOMEM;
    if (rc == 0) {
        a->a = *x;
        rc = copy_checked(a->a.context, sizeof a->a.context, context, ov_context_id_check);
    }
    rc = rc ? rc : copy_checked(a->a.platform, sizeof a->a.platform, platform, ov_label_check);
    rc = rc ? rc : seed ? ov_sign_key_from_seed(seed, &key) : -OV_E_MALFORMED;
    rc = rc ? rc : ov_action_sign(&a->a, key);
    ov_sign_key_free(key);
    if (rc == 0 && token != NULL) {
        memcpy(a->a.token, token, ONEVOICE_TOKEN_LEN);
        a->a.has_token = true;
    }
    if (rc != 0) {
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int
onevoice_statement_new(const char *context, const char *text, const char *platform,
                       const uint8_t seed[ONEVOICE_SEED_LEN], const uint8_t *token,
                       struct onevoice_action **out)
{
    struct ov_action x;
    memset(&x, 0, sizeof x);
    *out = NULL;
    x.is_statement = true;
    int rc = copy_checked(x.text, sizeof x.text, text, statement_text_check);
    return rc ? rc : action_new(&x, context, platform, seed, token, out);
}

int
onevoice_rating_new(const char *context, const char *target, int64_t rating, const char *platform,
                    const uint8_t seed[ONEVOICE_SEED_LEN], const uint8_t *token,
                    struct onevoice_action **out)
{
    struct ov_action x;
    memset(&x, 0, sizeof x);
    *out = NULL;
    x.is_rating = true;
    x.rating = rating;
    int rc = copy_checked(x.target, sizeof x.target, target, ov_label_check);
    return rc ? rc : action_new(&x, context, platform, seed, token, out);
}
