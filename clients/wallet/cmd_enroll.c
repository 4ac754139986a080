/* onevoice enroll: creates the long-term Ed25519 enrollee key and registers it with the
 * issuer by one route (an invitation code, a registrar's enrollment token, or an identity
 * provider's attestation of this very key). The key is stored before it is sent: if the
 * answer is lost, running the same command again sends the same key and secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "infra/cli.h"
#include "base/codec.h"
#include "protocol/issuerclient.h"
#include "wallet.h"

/* The identity row: creates the key when there is none. *state is "enrolling", "enrolled"
 * or "assumed"; *attempt is the fingerprint of the last secret sent (zero if none). */
static int
identity(struct wallet *w, struct ov_sign_key **key, char state[16], uint8_t attempt[32])
{
    sqlite3_stmt *st = NULL;
    struct ov_bytes s = { NULL, 0 }, at = { NULL, 0 };
    *key = NULL;
    memset(attempt, 0, 32);
    int rc = w_stmt(w, "id_get", &st, "");
    if (rc == OV_DB_ROW) {
        rc = w_col_key(st, 0, key);
        rc = rc ? rc : ov_db_col_text(st, 1, 15, &s);
        rc = rc ? rc : ov_db_col_blob(st, 2, 32, &at);
        if (rc == 0) {
            memcpy(state, s.ptr, s.len);
            state[s.len] = 0;
            if (at.len > 0) {
                memcpy(attempt, at.ptr, at.len);
            }
        }
        ov_db_reset(st);
        return rc;
    }
    ov_db_reset(st);
    if (rc != OV_DB_DONE) {
        return rc;
    }
    uint8_t seed[OV_SIGN_SEED_LEN];
    randombytes_buf(seed, sizeof seed);
    rc = w_stmt(w, "id_insert", NULL, "btbu", seed, sizeof seed, "", attempt, (size_t)0, w_now());
    rc = rc < 0 ? rc : w_key_from_seed(seed, key);
    sodium_memzero(seed, sizeof seed);
    snprintf(state, 16, "enrolling");
    return rc;
}

static int
read_attestation(struct wallet *w, const char *path, const uint8_t pk[OV_SIGN_PK_LEN],
                 struct ov_enroll_req *r)
{
    struct ov_buf a, s;
    struct ov_attestation at;
    char sp[OV_CLI_MAX_ARG_LEN + 8];
    ov_buf_init(&a, 0);
    ov_buf_init(&s, 0);
    int n = snprintf(sp, sizeof sp, "%s.sig", path);
    int rc = n > 0 && (size_t)n < sizeof sp ? 0 : -OV_E_TOO_BIG;
    rc = rc ? rc : ov_file_read(path, OV_MAX_ATTESTATION_LEN, &a);
    rc = rc ? rc : ov_file_read(sp, OV_SIGN_SIG_LEN, &s);
    if (rc != 0 || s.len != OV_SIGN_SIG_LEN) {
        w_fail(w, "bad_attestation", "cannot read the attestation %s and its signature %s",
               path, sp);
        rc = -OV_E_IO;
    } else if ((rc = ov_attestation_parse(ov_buf_view(&a), &at)) != 0) {
        w_fail(w, "bad_attestation", "%s is not an identity provider's attestation (%s)", path,
               ov_strerror(rc));
    } else if (memcmp(at.key, pk, OV_SIGN_PK_LEN) != 0) {
        w_fail(w, "bad_attestation", "the attestation %s is for another key than this "
               "wallet's (see `onevoice enroll --print-key`)", path);
        rc = -OV_E_MALFORMED;
    } else {
        r->route = OV_ROUTE_ATTESTATION;
        memcpy(r->attestation, a.ptr, a.len);
        r->attestation_len = a.len;
        memcpy(r->attestation_sig, s.ptr, OV_SIGN_SIG_LEN);
    }
    ov_buf_clear(&a);
    ov_buf_clear(&s);
    return rc;
}

static int
print_key(struct wallet *w, const struct ov_sign_key *k)
{
    char b64[64];
    if (ov_b64_encode(b64, sizeof b64, ov_sign_key_pk(k), OV_SIGN_PK_LEN, OV_B64_URL_NOPAD) != 0) {
        return W_EXIT_REFUSED;
    }
    if (w->json) {
        w->out = json_pack("{ss}", "key", b64);
    } else {
        printf("%s\n", b64);
    }
    return W_EXIT_OK;
}

int
cmd_enroll(struct wallet *w, int argc, char **argv)
{
    static const struct w_cmd cmd = {
        "enroll", "",
        "Creates this wallet's long-term Ed25519 key (once) and enrolls it with the issuer by\n"
        "exactly one route. An identity provider attests a given key: show it with\n"
        "--print-key first. If the issuer's answer is lost, run the same command again.",
        0,
    };
    const char *code = NULL, *token = NULL, *att = NULL;
    bool show = false;
    struct w_opt opts[] = {
        { "--code", "CODE", "an invitation code", &code, NULL, NULL, NULL },
        { "--token", "TOKEN", "a registrar's one-time enrollment token", &token, NULL, NULL, NULL },
        { "--attestation", "FILE", "an IdP attestation of this wallet's key (FILE and FILE.sig)",
          &att, NULL, NULL, NULL },
        { "--print-key", NULL, "create the key if needed and print it (for an IdP); no enrollment",
          NULL, &show, NULL, NULL },
        { "--json", NULL, "answer as JSON", NULL, &w->json, NULL, NULL },
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    int a = w_args(argc, argv, &cmd, opts, n_opts, NULL);
    if (a != 0) {
        return a > 0 ? W_EXIT_OK : W_EXIT_USAGE;
    }
    if ((code != NULL) + (token != NULL) + (att != NULL) != (show ? 0 : 1)) {
        fprintf(stderr, "onevoice enroll: give exactly one of --code, --token, --attestation "
                        "(or only --print-key)\n");
        return W_EXIT_USAGE;
    }
    if (w_open(w, w->path) != 0) {
        w_finish(w);
        return w->path ? W_EXIT_REFUSED : W_EXIT_USAGE;
    }
    struct ov_sign_key *key = NULL;
    struct ov_issuerclient *ic = NULL;
    struct ov_issuer_status ist = { 0, "", "" };
    struct ov_enroll_req *r = calloc(1, sizeof *r);
    char state[16] = "";
    uint8_t last[32], fp[32];
    bool recovered = false;
    int ret = W_EXIT_REFUSED;
    int rc = r ? identity(w, &key, state, last) : -OV_E_NOMEM;
    if (rc != 0) {
        w_fail(w, "bad_wallet", "cannot create or read the enrollee key (%s)", ov_strerror(rc));
        goto out;
    }
    if (show) {
        ret = print_key(w, key);
        goto out;
    }
    if (strcmp(state, "enrolling") != 0) {
        w_fail(w, "already_enrolled", "this wallet is enrolled already");
        goto out;
    }
    const char *route = code ? "invite" : token ? "registrar" : "attestation";
    if (code != NULL || token != NULL) {
        const char *s = code ? code : token;
        if (strlen(s) != (code ? OV_INVITE_CODE_LEN : OV_ENROLL_TOKEN_LEN)) {
            w_fail(w, "usage", "%s is not %s (%d characters)", code ? "--code" : "--token",
                   code ? "an invitation code" : "an enrollment token",
                   code ? OV_INVITE_CODE_LEN : OV_ENROLL_TOKEN_LEN);
            ret = W_EXIT_USAGE;
            goto out;
        }
        r->route = code ? OV_ROUTE_INVITE : OV_ROUTE_REGISTRAR;
        snprintf(r->secret, sizeof r->secret, "%s", s);
    } else if (read_attestation(w, att, ov_sign_key_pk(key), r) != 0) {
        goto out;
    }
    /* The fingerprint of what is sent (never the secret itself): a second run with the same
     * secret is a retry of ours. */
    crypto_generichash(fp, sizeof fp, (const uint8_t *)r->secret, strlen(r->secret),
                       r->attestation, r->attestation_len);
    bool retry = sodium_memcmp(fp, last, sizeof fp) == 0;
    rc = w_stmt(w, "id_attempt", NULL, "tb", route, fp, sizeof fp);
    rc = rc < 0 ? rc : ov_issuerclient_new(w->issuer, &ic);
    rc = rc ? rc : ov_issuerclient_enroll(ic, r, key, &recovered, &ist);
    if (rc == -OV_E_HTTP && retry && ist.status == 409 &&
        (strcmp(ist.reason, "code_used") == 0 || strcmp(ist.reason, "token_used") == 0 ||
         strcmp(ist.reason, "key_in_use") == 0)) {
        /* Our earlier request, whose answer was lost, went through. */
        if (w_stmt(w, "id_state", NULL, "tiu", "assumed", (int64_t)0, w_now()) < 0) {
            w_fail(w, "bad_wallet", "cannot record the enrollment");
            goto out;
        }
        w_say(w, "the issuer says this %s was used already: by this wallet's earlier attempt, "
              "whose answer was lost. Taken as enrolled; `onevoice fetch` confirms it.",
              code ? "code" : token ? "token" : "attestation");
        rc = 0;
    } else if (rc == 0) {
        if (w_stmt(w, "id_state", NULL, "tiu", "enrolled", (int64_t)recovered, w_now()) < 0) {
            w_fail(w, "bad_wallet", "enrolled, but the wallet file could not record it: run "
                   "the same command again");
            goto out;
        }
    } else if (rc == -OV_E_HTTP && (ist.status == 0 || ist.status >= 500)) {
        w_fail(w, "issuer_unavailable", "the issuer did not answer (%s%u): run the same "
               "command again; the same key and %s are sent", ist.status ? "HTTP " : "",
               ist.status, route);
        goto out;
    } else if (rc == -OV_E_HTTP) {
        /* a definitive refusal: the next attempt with this secret is not a retry of ours */
        (void)w_stmt(w, "id_attempt", NULL, "tb", route, last, (size_t)0);
        w_fail(w, ist.reason[0] ? ist.reason : "refused", "the issuer refused the enrollment "
               "(HTTP %u %s)", ist.status, ist.reason);
        goto out;
    } else {
        w_fail(w, "issuer_malformed", "the issuer's answer is not valid (%s); run the same "
               "command again", w_strerror(rc));
        goto out;
    }
    char b64[64];
    if (ov_b64_encode(b64, sizeof b64, ov_sign_key_pk(key), OV_SIGN_PK_LEN, OV_B64_URL_NOPAD) != 0) {
        b64[0] = 0;
    }
    if (w->json) {
        w->out = json_pack("{sb ss sb ss}", "enrolled", 1, "route", route, "recovered",
                           recovered, "key", b64);
    } else {
        printf("enrolled by %s%s; key %s\n", route, recovered ? " (recovery: new key)" : "", b64);
    }
    ret = W_EXIT_OK;
out:
    if (r != NULL) {
        sodium_memzero(r, sizeof *r);
        free(r);
    }
    ov_issuerclient_free(ic);
    ov_sign_key_free(key);
    w_close(w);
    w_finish(w);
    return ret;
}
