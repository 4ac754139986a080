/* platform: a minimal onevoice platform, gating its votes and ratings with libonevoice.
 *
 * At start it fetches each context it serves from the issuer and has the library prove the
 * context's token key in the witnessed log (a key the log does not show is refused: the
 * platform does not start). Then, on 127.0.0.1:
 *
 *   POST /actions           a citizen's signed action (JSON, as the onevoice wallet sends
 *                           it), the token in `Authorization: PrivateToken token=...` or in
 *                           the body. The platform checks it offline — the token against the
 *                           logged key and the context's challenge, the action's signature by
 *                           the token's one-time key, the choice or rating — forwards it to
 *                           the verifier and answers the verifier's receipt (200), or the
 *                           verifier's refusal with its status (e.g. 409 token_spent).
 *                           A vote without a token is answered 401 with the RFC 9577
 *                           `WWW-Authenticate: PrivateToken challenge=..., token-key=...`.
 *   GET  /challenge/<id>    that 401 challenge, for a client to read.
 *   GET  /healthz           "ok".
 *
 * It uses only <onevoice.h> and libmicrohttpd:
 *   cc platform.c $(pkg-config --cflags --libs onevoice libmicrohttpd)
 *
 * usage: platform --issuer URL --verifier URL --log URL --log-vkey VKEY
 *                 [--witness VKEY]... [--quorum K] --context ID [--context ID]...
 *                 [--name NAME] [--port N] [--port-file FILE] */
#define _POSIX_C_SOURCE 200809L /* strdup, sigwait, pthread_sigmask */

#include <arpa/inet.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <onevoice.h>

#define MAX_CONTEXTS 16
#define MAX_WITNESSES 16
#define MAX_BODY 8192

static struct {
    const char *name;
    struct onevoice_log *log;
    struct onevoice_verifier *verifier; /* one MHD thread: no sharing */
    struct onevoice_context *contexts[MAX_CONTEXTS];
    size_t n_contexts;
} P;

struct request {
    char body[MAX_BODY];
    size_t len;
    int too_big;
};

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *ctype, const char *body,
      const char *www_auth)
{
    char *copy = strdup(body); /* MHD frees it with the response */
    struct MHD_Response *r =
        copy ? MHD_create_response_from_buffer(strlen(copy), copy, MHD_RESPMEM_MUST_FREE) : NULL;
    if (r == NULL) {
        free(copy);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    if (www_auth != NULL) {
        MHD_add_response_header(r, "WWW-Authenticate", www_auth);
    }
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result
error(struct MHD_Connection *conn, unsigned status, const char *code, const char *msg)
{
    char body[512];
    snprintf(body, sizeof body, "{\"error\":\"%s\",\"message\":\"%s\"}", code, msg);
    return reply(conn, status, "application/json", body, NULL);
}

static const struct onevoice_context *
find_context(const char *id)
{
    for (size_t i = 0; i < P.n_contexts; i++) {
        if (strcmp(onevoice_context_id(P.contexts[i]), id) == 0) {
            return P.contexts[i];
        }
    }
    return NULL;
}

static enum MHD_Result
challenge(struct MHD_Connection *conn, const struct onevoice_context *c)
{
    char hdr[ONEVOICE_CHALLENGE_HEADER_MAX];
    if (onevoice_challenge_header(c, hdr, sizeof hdr) != 0) {
        return error(conn, 500, "internal_error", "cannot make the challenge");
    }
    return reply(conn, 401, "application/json",
                 "{\"error\":\"token_required\",\"message\":\"a onevoice token is needed\"}", hdr);
}

/* POST /actions, once the whole body is in. */
static enum MHD_Result
post_action(struct MHD_Connection *conn, struct request *rq)
{
    struct onevoice_action *a = NULL;
    char *receipt = NULL;
    size_t receipt_len = 0;
    struct onevoice_answer ans;
    enum MHD_Result ret;
    if (onevoice_action_parse(rq->body, rq->len, &a) != 0) {
        return error(conn, 400, "malformed_request", "not a onevoice action");
    }
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    uint8_t token[ONEVOICE_TOKEN_LEN];
    const struct onevoice_context *c = find_context(onevoice_action_context(a));
    if (auth != NULL && (onevoice_authorization_parse(auth, strlen(auth), token) != 0 ||
                         onevoice_action_set_token(a, token) != 0)) {
        ret = error(conn, 400, "bad_token", "the Authorization header is not a PrivateToken");
    } else if (strcmp(onevoice_action_platform(a), P.name) != 0) {
        ret = error(conn, 400, "wrong_platform", "the action names another platform");
    } else if (c == NULL) {
        ret = error(conn, 404, "unknown_context", "this platform does not serve that context");
    } else if (!onevoice_context_is_rating(c) && !onevoice_action_has_token(a)) {
        ret = challenge(conn, c);
    } else if (onevoice_action_verify(c, a) != 0) {
        ret = error(conn, 400, "invalid_action",
                    "the token, the signature or the choice does not check out");
    } else if (onevoice_submit(P.verifier, a, 1, &receipt, &receipt_len, &ans) != 0) {
        if (ans.status >= 400 && ans.status < 500) {
            ret = error(conn, ans.status, ans.reason[0] ? ans.reason : "refused",
                        "the verifier refused the action");
        } else {
            ret = error(conn, 502, "verifier_unavailable", "the verifier did not answer");
        }
    } else {
        /* the receipt is the citizen's; the platform may check it too, offline */
        int check = onevoice_receipt_check(P.log, receipt, receipt_len, NULL);
        fprintf(stderr, "platform: %s action counted in %s (receipt %s)\n",
                onevoice_action_has_token(a) ? "a first" : "a later", onevoice_action_context(a),
                check == 0 ? "proven" : onevoice_strerror(check));
        ret = reply(conn, 200, "application/json", receipt, NULL);
    }
    free(receipt);
    onevoice_action_free(a);
    return ret;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
    (void)cls;
    (void)version;
    if (strcmp(method, "POST") == 0 && strcmp(url, "/actions") == 0) {
        struct request *rq = *req_cls;
        if (rq == NULL) {
            rq = calloc(1, sizeof *rq);
            *req_cls = rq;
            return rq ? MHD_YES : MHD_NO;
        }
        if (*upload_size != 0) {
            if (*upload_size > sizeof rq->body - rq->len) {
                rq->too_big = 1;
            } else {
                memcpy(rq->body + rq->len, upload, *upload_size);
                rq->len += *upload_size;
            }
            *upload_size = 0;
            return MHD_YES;
        }
        return rq->too_big ? error(conn, 413, "body_too_large", "at most 8 KiB")
                           : post_action(conn, rq);
    }
    if (strcmp(method, "GET") == 0 && strncmp(url, "/challenge/", 11) == 0) {
        const struct onevoice_context *c = find_context(url + 11);
        return c ? challenge(conn, c) : error(conn, 404, "unknown_context", "no such context");
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/healthz") == 0) {
        return reply(conn, 200, "text/plain", "ok", NULL);
    }
    return error(conn, 404, "not_found", "no such endpoint");
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*req_cls);
    *req_cls = NULL;
}

static void
usage(void)
{
    fprintf(stderr, "usage: platform --issuer URL --verifier URL --log URL --log-vkey VKEY "
                    "[--witness VKEY]... [--quorum K] --context ID [--context ID]... "
                    "[--name NAME] [--port N] [--port-file FILE]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *issuer = NULL, *verifier = NULL, *log = NULL, *vkey = NULL, *port_file = NULL;
    const char *witnesses[MAX_WITNESSES], *ids[MAX_CONTEXTS];
    size_t n_witnesses = 0, n_ids = 0;
    unsigned quorum = 0, port = 0;
    int quorum_set = 0;
    static const struct option opts[] = {
        { "issuer", required_argument, NULL, 'i' },  { "verifier", required_argument, NULL, 'v' },
        { "log", required_argument, NULL, 'l' },     { "log-vkey", required_argument, NULL, 'k' },
        { "witness", required_argument, NULL, 'w' }, { "quorum", required_argument, NULL, 'q' },
        { "context", required_argument, NULL, 'c' }, { "name", required_argument, NULL, 'n' },
        { "port", required_argument, NULL, 'p' },    { "port-file", required_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    P.name = "example-platform";
    for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (o == 'i') {
            issuer = optarg;
        } else if (o == 'v') {
            verifier = optarg;
        } else if (o == 'l') {
            log = optarg;
        } else if (o == 'k') {
            vkey = optarg;
        } else if (o == 'w' && n_witnesses < MAX_WITNESSES) {
            witnesses[n_witnesses++] = optarg;
        } else if (o == 'q') {
            quorum = (unsigned)atoi(optarg);
            quorum_set = 1;
        } else if (o == 'c' && n_ids < MAX_CONTEXTS) {
            ids[n_ids++] = optarg;
        } else if (o == 'n') {
            P.name = optarg;
        } else if (o == 'p') {
            port = (unsigned)atoi(optarg);
        } else if (o == 'f') {
            port_file = optarg;
        } else {
            usage();
        }
    }
    if (!issuer || !verifier || !log || !vkey || n_ids == 0 || optind != argc) {
        usage();
    }
    int rc = onevoice_log_new(log, vkey, witnesses, n_witnesses,
                              quorum_set ? quorum : (unsigned)n_witnesses, &P.log);
    rc = rc ? rc : onevoice_verifier_new(verifier, &P.verifier);
    if (rc != 0) {
        fprintf(stderr, "platform: %s\n", onevoice_strerror(rc));
        return 1;
    }
    for (size_t i = 0; i < n_ids; i++) {
        rc = onevoice_context_fetch(P.log, issuer, ids[i], &P.contexts[P.n_contexts]);
        if (rc != 0) {
            fprintf(stderr, "platform: context %s refused: %s%s\n", ids[i], onevoice_strerror(rc),
                    strcmp(onevoice_strerror(rc), "bad_proof") == 0
                        ? " (the issuer shows a key the log does not)"
                        : "");
            return 1;
        }
        fprintf(stderr, "platform: context %s: key proven in the log at index %llu\n", ids[i],
                (unsigned long long)onevoice_context_log_index(P.contexts[P.n_contexts]));
        P.n_contexts++;
    }
    /* signals are taken by sigwait only: block them before MHD starts its thread */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_access, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "platform: cannot listen\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = info ? info->port : 0;
    fprintf(stderr, "platform %s: serving on 127.0.0.1:%u\n", P.name, bound);
    if (port_file != NULL) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (f == NULL || fprintf(f, "%u\n", bound) < 0 || fclose(f) != 0 ||
            rename(tmp, port_file) != 0) {
            fprintf(stderr, "platform: cannot write %s\n", port_file);
            return 1;
        }
    }
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    for (size_t i = 0; i < P.n_contexts; i++) {
        onevoice_context_free(P.contexts[i]);
    }
    onevoice_verifier_free(P.verifier);
    onevoice_log_free(P.log);
    return 0;
}
