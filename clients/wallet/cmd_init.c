/* onevoice init: creates the wallet file and records which servers and keys it trusts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "infra/httpc.h"
#include "protocol/joinnote.h"
#include "protocol/witlist.h"
#include "wallet.h"

static bool
url_ok(const char *u)
{
    size_t n = strlen(u);
    return n < W_MAX_URL && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
           strpbrk(u, " \t\r\n?#") == NULL;
}

/* The join bundle's bytes: GET of an http(s) URL, else a file. */
static int
read_join(const char *from, struct ov_buf *out)
{
    if (strncmp(from, "http://", 7) != 0 && strncmp(from, "https://", 8) != 0) {
        int rc = ov_file_read(from, OV_NOTE_MAX_LEN, out);
        if (rc != 0) {
            fprintf(stderr, "onevoice init: --join %s: %s\n", from, ov_strerror(rc));
        }
        return rc;
    }
    struct ov_httpc *h = NULL;
    struct ov_httpc_resp resp;
    int rc = ov_httpc_new(&h);
    rc = rc ? rc : ov_httpc_get(h, from, OV_NOTE_MAX_LEN, &resp);
    if (rc != 0) {
        fprintf(stderr, "onevoice init: --join %s: %s\n", from,
                h != NULL && ov_httpc_errmsg(h)[0] ? ov_httpc_errmsg(h) : ov_strerror(rc));
    } else if (resp.status != 200) {
        fprintf(stderr, "onevoice init: --join %s answered HTTP %u\n", from, resp.status);
        ov_httpc_resp_clear(&resp);
        rc = -OV_E_HTTP;
    } else {
        *out = resp.body; /* handed over */
        resp.body.ptr = NULL;
        ov_httpc_resp_clear(&resp);
    }
    ov_httpc_free(h);
    return rc;
}

/* Sets the servers, witnesses and quorum from the join bundle at `from`, signed by the log
 * key vkey; each of the n_pins witness keys the citizen gave must be in it. */
static int
from_join(const char *from, const char *vkey, struct ov_join *j, const char *const *pins,
          size_t n_pins)
{
    struct ov_note_verifier log;
    struct ov_buf note;
    const char *why = NULL;
    if (ov_note_vkey_parse(OV_BYTES(vkey, strlen(vkey)), &log) != 0 ||
        log.type != OV_NOTE_TYPE_ED25519) {
        fprintf(stderr, "onevoice init: --log-vkey is not an Ed25519 note verifier key\n");
        return W_EXIT_USAGE;
    }
    if (read_join(from, &note) != 0) {
        return W_EXIT_REFUSED;
    }
    int rc = ov_join_open(ov_buf_view(&note), &log, j, &why);
    ov_buf_clear(&note);
    if (rc != 0) {
        fprintf(stderr, "onevoice init: --join %s is not this log's join bundle: %s\n", from,
                why);
        return W_EXIT_REFUSED;
    }
    for (size_t i = 0; i < n_pins; i++) {
        size_t k = 0;
        while (k < j->n_witnesses && strcmp(j->witnesses[k], pins[i]) != 0) {
            k++;
        }
        if (k == j->n_witnesses) {
            fprintf(stderr, "onevoice init: the join bundle does not list the witness %s\n",
                    pins[i]);
            return W_EXIT_REFUSED;
        }
    }
    return W_EXIT_OK;
}

int
cmd_init(struct wallet *w, int argc, char **argv)
{
    static const struct w_cmd cmd = {
        "init", "",
        "Creates the wallet file (mode 0600; an existing file is never overwritten) and records\n"
        "the servers it talks to and the keys it trusts: the log's verifier key and the\n"
        "witnesses' keys, of which --quorum must have cosigned every checkpoint the wallet\n"
        "accepts (default: all of them). With --join, all of these come from the assembly's\n"
        "join bundle (a note signed by the log's key, which --log-vkey pins; GET /join on the\n"
        "log), and --witness pins a witness the bundle must list.",
        0,
    };
    const char *issuer = NULL, *verifier = NULL, *log = NULL, *vkey = NULL, *quorum = NULL;
    const char *witfile = NULL, *join = NULL, *relay = NULL;
    const char *wit[W_MAX_ARGS + W_MAX_WITNESSES];
    static struct ov_join j;
    size_t n_wit = 0;
    struct w_opt opts[] = {
        { "--issuer", "URL", "the issuer", &issuer, NULL, NULL, NULL },
        { "--verifier", "URL", "the verifier (votes and ratings go there)", &verifier, NULL,
          NULL, NULL },
        { "--log", "URL", "the transparency log", &log, NULL, NULL, NULL },
        { "--log-vkey", "VKEY", "the log's C2SP verifier key", &vkey, NULL, NULL, NULL },
        { "--witness", "VKEY", "a witness's cosignature/v1 verifier key (repeatable)", NULL,
          NULL, wit, &n_wit },
        { "--witnesses", "FILE", "the witnesses' keys, one a line (\"[URL ]VKEY\", the file the "
          "verifier and the auditor take)", &witfile, NULL, NULL, NULL },
        { "--quorum", "K", "witness cosignatures required (default: every witness)", &quorum,
          NULL, NULL, NULL },
        { "--relay", "URL", "an Oblivious HTTP relay (onevoice-relay, gateways named verifier "
          "and log) that everything sent to the verifier and read from the log goes through",
          &relay, NULL, NULL, NULL },
        { "--join", "URL|FILE", "the assembly's join bundle: sets the servers, witnesses and "
          "quorum (needs --log-vkey)", &join, NULL, NULL, NULL },
        { "--json", NULL, "answer as JSON", NULL, &w->json, NULL, NULL },
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    int a = w_args(argc, argv, &cmd, opts, n_opts, NULL);
    if (a != 0) {
        return a > 0 ? W_EXIT_OK : W_EXIT_USAGE;
    }
    if (join != NULL) {
        if (issuer != NULL || verifier != NULL || log != NULL || witfile != NULL ||
            quorum != NULL || vkey == NULL) {
            fprintf(stderr, "onevoice init: --join takes --log-vkey, and the servers, witnesses "
                            "and quorum from the bundle (--witness pins one it must list)\n");
            return W_EXIT_USAGE;
        }
        if (n_wit > W_MAX_WITNESSES) {
            fprintf(stderr, "onevoice init: at most %d witnesses\n", W_MAX_WITNESSES);
            return W_EXIT_USAGE;
        }
        int jrc = from_join(join, vkey, &j, wit, n_wit);
        if (jrc != W_EXIT_OK) {
            return jrc;
        }
        issuer = j.issuer;
        verifier = j.verifier;
        log = j.log;
        relay = relay != NULL ? relay : j.relay[0] ? j.relay : NULL;
        n_wit = 0;
        for (size_t i = 0; i < j.n_witnesses && i < W_MAX_WITNESSES; i++) {
            wit[n_wit++] = j.witnesses[i];
        }
    }
    if (issuer == NULL || verifier == NULL || log == NULL || vkey == NULL) {
        fprintf(stderr, "onevoice init: --issuer, --verifier, --log and --log-vkey are needed "
                        "(or --join and --log-vkey)\n");
        return W_EXIT_USAGE;
    }
    if (!url_ok(issuer) || !url_ok(verifier) || !url_ok(log) || (relay && !url_ok(relay))) {
        fprintf(stderr, "onevoice init: URLs are http:// or https://, without query\n");
        return W_EXIT_USAGE;
    }
    struct ov_note_verifier v;
    if (ov_note_vkey_parse(OV_BYTES(vkey, strlen(vkey)), &v) != 0 ||
        v.type != OV_NOTE_TYPE_ED25519) {
        fprintf(stderr, "onevoice init: --log-vkey is not an Ed25519 note verifier key\n");
        return W_EXIT_USAGE;
    }
    static struct ov_witness_line lines[W_MAX_WITNESSES];
    if (witfile != NULL) {
        size_t n_lines = 0;
        if (ov_witlist_load("onevoice init", witfile, lines, W_MAX_WITNESSES, &n_lines) != 0) {
            return W_EXIT_USAGE;
        }
        for (size_t i = 0; i < n_lines; i++) {
            wit[n_wit++] = lines[i].vkey;
        }
    }
    if (n_wit > W_MAX_WITNESSES) {
        fprintf(stderr, "onevoice init: at most %d witnesses\n", W_MAX_WITNESSES);
        return W_EXIT_USAGE;
    }
    char wits[W_MAX_WITNESSES * (OV_NOTE_MAX_VKEY_LEN + 1)] = "";
    size_t off = 0;
    for (size_t i = 0; i < n_wit; i++) {
        if (ov_note_vkey_parse(OV_BYTES(wit[i], strlen(wit[i])), &v) != 0 ||
            v.type != OV_NOTE_TYPE_COSIG_V1) {
            fprintf(stderr, "onevoice init: --witness %s is not a cosignature/v1 key\n", wit[i]);
            return W_EXIT_USAGE;
        }
        off += (size_t)snprintf(wits + off, sizeof wits - off, "%s%s", i ? "\n" : "", wit[i]);
    }
    uint64_t q = join != NULL ? j.quorum : n_wit;
    if (quorum != NULL && (ov_parse_u64(quorum, strlen(quorum), &q) != 0 || q > n_wit)) {
        fprintf(stderr, "onevoice init: --quorum must be a number from 0 to the witnesses given "
                        "(%zu)\n", n_wit);
        return W_EXIT_USAGE;
    }
    char qs[24];
    snprintf(qs, sizeof qs, "%llu", (unsigned long long)q);
    if (w->path == NULL) {
        fprintf(stderr, "onevoice init: which wallet? give --wallet FILE or set ONEVOICE_WALLET\n");
        return W_EXIT_USAGE;
    }
    if (w_create(w, w->path) != 0) {
        w_finish(w);
        return W_EXIT_REFUSED;
    }
    int rc = w_config_set(w, "issuer", issuer);
    rc = rc ? rc : w_config_set(w, "verifier", verifier);
    rc = rc ? rc : w_config_set(w, "log", log);
    rc = rc ? rc : w_config_set(w, "log_vkey", vkey);
    rc = rc ? rc : w_config_set(w, "witnesses", wits);
    rc = rc ? rc : w_config_set(w, "quorum", qs);
    /* kept for what comes next (the relay) and for people (the name, the page) */
    rc = rc ? rc : relay != NULL ? w_config_set(w, "relay", relay) : 0;
    if (rc == 0 && join != NULL) {
        rc = j.web[0] ? w_config_set(w, "web", j.web) : 0;
        rc = rc ? rc : j.name[0] ? w_config_set(w, "name", j.name) : 0;
    }
    if (rc == 0 && relay != NULL) {
        /* the gateways' keys now, directly, rather than at the moment of a vote */
        snprintf(w->verifier, sizeof w->verifier, "%s", verifier);
        snprintf(w->log, sizeof w->log, "%s", log);
        if (w_relay_start(w, true) != 0) {
            fprintf(stderr, "onevoice init: the relay's gateways did not give their keys: the "
                            "wallet fetches them at its first use of the relay\n");
        }
    }
    if (rc != 0) {
        w_fail(w, "io", "cannot write the wallet's configuration (%s)", ov_strerror(rc));
    } else if (w->json) {
        w->out = json_pack("{ss ss ss ss sI sI}", "wallet", w->path, "issuer", issuer,
                           "verifier", verifier, "log", log, "witnesses", (json_int_t)n_wit,
                           "quorum", (json_int_t)q);
    } else {
        if (join != NULL) {
            printf("joined %s%s%s (the bundle is signed by the log's key %s)\n",
                   j.name[0] ? "\"" : "", j.name[0] ? j.name : "the assembly",
                   j.name[0] ? "\"" : "", vkey);
        }
        printf("wallet %s created: issuer %s, verifier %s, log %s (%zu witness%s, quorum %llu)\n",
               w->path, issuer, verifier, log, n_wit, n_wit == 1 ? "" : "es",
               (unsigned long long)q);
    }
    w_close(w);
    w_finish(w);
    return rc == 0 ? W_EXIT_OK : W_EXIT_REFUSED;
}
