/* onevoice, the citizen's wallet: what the commands share. One .c per command (cmd_*.c),
 * the wallet file (store.c), arguments and output (args.c), the servers (net.c).
 *
 * The wallet trusts no server: a context is used only once its entry — token key
 * included — is proven to be in the log under a checkpoint with the log's signature and a
 * quorum of witness cosignatures, and every checkpoint must extend the last one this wallet
 * saw. Whatever must survive a lost answer (the enrollee key, a token request's blinding
 * secret, a signed action) is stored before it is sent, so running the same command again
 * resends the same bytes and never spends anything twice. */
#ifndef WALLET_H
#define WALLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/bytes.h"
#include "primitives/cbor.h"
#include "base/codec.h"
#include "infra/db.h"
#include "protocol/entry.h"
#include "protocol/issuerapi.h"
#include "protocol/logproof.h"
#include "protocol/logreader.h"
#include "primitives/note.h"
#include "primitives/sign.h"

/* Exit statuses */
#define W_EXIT_OK 0
#define W_EXIT_REFUSED 1 /* refused, failed, or a check that did not pass */
#define W_EXIT_USAGE 2

#define W_MAX_URL 1024
#define W_MAX_WITNESSES OV_LOGREADER_MAX_WITNESSES
#define W_MAX_ARGS 8
#define W_DEFAULT_PLATFORM "direct"

/* ---- arguments (args.c) ---- */

struct w_opt {
    const char *name;    /* "--json" */
    const char *metavar; /* NULL for a flag */
    const char *help;
    const char **value;  /* the last value given (borrowed from argv) */
    bool *flag;
    const char **list;   /* repeatable: every value, in order (room for W_MAX_ARGS) */
    size_t *n_list;
};

struct w_cmd {
    const char *name;
    const char *args;    /* "CONTEXT CHOICE" */
    const char *summary; /* one paragraph */
    size_t n_pos;        /* positional arguments required */
};

/* Parses argv[1..] (argv[0] is the command name) into opts and pos[0..cmd->n_pos).
 * Returns 0, 1 when --help was asked and printed (exit 0), or -1 after printing the usage
 * error to stderr (exit W_EXIT_USAGE). */
int w_args(int argc, char **argv, const struct w_cmd *cmd, const struct w_opt *opts,
           size_t n_opts, const char **pos);
/* w_args taking up to n_opt more positional arguments after the required ones (pos must
 * have room for cmd->n_pos + n_opt; those not given are left as they were). */
int w_args_opt(int argc, char **argv, const struct w_cmd *cmd, const struct w_opt *opts,
               size_t n_opts, const char **pos, size_t n_opt);
void w_usage(FILE *f, const struct w_cmd *cmd, const struct w_opt *opts, size_t n_opts);

/* ---- the wallet ---- */

struct wallet {
    const char *path;
    struct ov_db *db;
    bool json;
    char issuer[W_MAX_URL];
    char verifier[W_MAX_URL];
    char log[W_MAX_URL];
    struct ov_note_verifier log_key;
    struct ov_note_verifier witnesses[W_MAX_WITNESSES];
    size_t n_witnesses;
    unsigned quorum;
    json_t *out; /* --json: the command's answer object, printed at the end */
};

/* Messages for people, on stderr: "onevoice: ..." */
void w_say(const struct wallet *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records a failure: on stderr, and with --json as "error"/"message" in the answer. */
void w_fail(struct wallet *w, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints the answer (JSON) when --json; frees it. */
void w_finish(struct wallet *w);
/* A short description of an error code for messages. */
const char *w_strerror(int rc);

/* Creates the wallet file (mode 0600, refusing an existing one) with its schema. */
int w_create(struct wallet *w, const char *path);
/* Opens an existing wallet and loads its configuration. Prints why it cannot. */
int w_open(struct wallet *w, const char *path);
void w_close(struct wallet *w);
/* A command's work on its wallet: opens it, runs fn, closes it and prints the answer. Returns
 * fn's exit status (W_EXIT_*), or the one for a wallet that cannot be opened. */
int w_run(struct wallet *w, int (*fn)(struct wallet *w, void *ctx), void *ctx);
/* A whole command: w_args (pos as there), then w_run. Returns the exit status. */
int w_command(struct wallet *w, int argc, char **argv, const struct w_cmd *cmd,
              const struct w_opt *opts, size_t n_opts, const char **pos,
              int (*fn)(struct wallet *w, void *ctx), void *ctx);

/* Binds the arguments per fmt (t: const char * or NULL, b: const void *, size_t, i: int64_t,
 * u: uint64_t) to the prepared statement `name` and steps it once: OV_DB_ROW (with st not
 * NULL, *st is left on the row for the caller to read and ov_db_reset), OV_DB_DONE, or
 * -OV_E_*. */
int w_stmt(struct wallet *w, const char *name, sqlite3_stmt **st, const char *fmt, ...);
/* Runs fn in one IMMEDIATE transaction (ov_db_tx: repeatable, no effect outside the DB). */
int w_tx(struct wallet *w, int (*fn)(struct wallet *w, void *ctx), void *ctx);
/* A key from a 32-byte seed column (the copy is wiped). */
int w_col_key(sqlite3_stmt *st, int col, struct ov_sign_key **out);

/* Configuration (store.c) */
int w_config_set(struct wallet *w, const char *key, const char *value);
/* The value into out (NUL-terminated); -OV_E_NOT_FOUND. */
int w_config_get(struct wallet *w, const char *key, char *out, size_t out_max);

/* relay.c: when the configuration names a relay, the requests of this process to the
 * verifier and the log go through it (Oblivious HTTP); fetch_keys fetches the gateways' key
 * configurations again (init), else the kept ones are used. 0 when none is configured. */
int w_relay_start(struct wallet *w, bool fetch_keys);

/* The log as the configuration names it. */
void w_log_cfg(const struct wallet *w, struct ov_logreader_cfg *cfg);

uint64_t w_now(void);

/* The enrollee key (NULL when not enrolled; prints why). The caller frees it. */
struct ov_sign_key *w_enrollee_key(struct wallet *w);

/* A one-time key from its stored seed (the seed is wiped here). */
int w_key_from_seed(uint8_t seed[OV_SIGN_SEED_LEN], struct ov_sign_key **out);

/* ---- the log (net.c) ---- */

/* Fetches the latest checkpoint, proves it extends the one this wallet saw last and stores
 * it as the new head. On a fork or rollback it records the evidence and says so. */
int w_checkpoint(struct wallet *w, struct ov_logproof *lp, struct ov_logreader_cp *cp);
/* After a stale_request from the server at url: says how far this computer's clock is from
 * the server's (its Date header) and to fix the clock (NTP). Once per run. */
void w_clock_hint(struct wallet *w, const char *url, const char *server);

/* A context the wallet trusts: its entry was proven in the log. */
struct w_context {
    struct ov_context def;
    uint64_t log_index;
    bool open;
};

/* Lists the issuer's contexts and checks each open one (or only `only`) against the log:
 * verified ones are stored (pinned: a later listing with another entry for the same id is
 * refused) and returned in *out (calloc'd; the caller frees it), refused ones are reported,
 * recorded as evidence, and counted in *n_refused. With all, closed contexts are listed
 * too (unchecked, unless pinned). -OV_E_* when the issuer or the log cannot be used at all. */
int w_sync_contexts(struct wallet *w, const char *only, struct w_context **out, size_t *n,
                    size_t *n_refused, json_t *report);

/* A pinned context from the wallet file. -OV_E_NOT_FOUND. */
int w_context_get(struct wallet *w, const char *id, struct ov_context *c);

/* ---- statement rounds (round.c, docs/PROTOCOL.md §11.3) ---- */

/* A statement's target column in the actions table: this prefix and the statement's id. */
#define W_STATEMENT_TARGET "statement:"

/* Whether c is a statement round: a rating kind, and statements to write. */
bool w_is_statement_round(const struct ov_context *c);
/* The kind's name ("helpfulness", "agreement"), or "" for a free scale. */
const char *w_kind_name(enum ov_rating_kind kind);
/* A rating as a word of its kind ("helpful", "disagree"...), or NULL (a free scale). */
const char *w_rating_word(enum ov_rating_kind kind, int64_t value);
/* The word's kind and value: 0, or -OV_E_NOT_FOUND for a word of no kind. */
int w_rating_parse(const char *word, enum ov_rating_kind *kind, int64_t *value);
/* The words of a kind, for messages: "helpful, somewhat or not-helpful (2, 1, 0)". */
const char *w_rating_words(enum ov_rating_kind kind);

/* GET path (e.g. "/tallies/ctx") from the verifier, its JSON body into *out (the caller
 * decrefs it) when the status is 200. Says why it failed (w_fail) and returns -OV_E_*:
 * -OV_E_HTTP for a refusal (its code then in reason) or no answer, -OV_E_MALFORMED. */
int w_verifier_get(struct wallet *w, const char *path, size_t max, json_t **out,
                   char reason[64]);
/* The round's statements, GET /contexts/<id>/statements: an array of {"id","text","time"},
 * each id checked to be its text's (a server cannot put another text behind an id). */
int w_statements_fetch(struct wallet *w, const char *context, json_t **out);

/* A command whose one argument is a context id (cmd->n_pos is 1) and whose one option is
 * --json: parses, checks the id, then w_run(fn) with the id as ctx. The exit status. */
int w_context_command(struct wallet *w, int argc, char **argv, const struct w_cmd *cmd,
                      int (*fn)(struct wallet *w, void *ctx));

/* ---- pacing (pace.c, core/protocol/pacing.h): each thing at its own random moment ---- */

#define W_TIME_WORDS_LEN 32
/* t as "2026-12-07 14:32:05 UTC". */
void w_time_words(uint64_t t, char out[W_TIME_WORDS_LEN]);
/* Schedules the next check of the receipt of the counted action in row n, in context c,
 * from now (a random moment: one receipt a time). */
void w_schedule_check(struct wallet *w, int64_t n, const struct ov_context *c);

/* Fetches the token of the context id now (its moment has come, or an action needs it):
 * "issued", "held", "quota_used", "refused", "closed" or "pending" (why says more). Marks the
 * context's fetch plan done unless "pending". (cmd_fetch.c) */
const char *w_fetch_now(struct wallet *w, const char *id, char *why, size_t why_max);
/* Whether the context's token is scheduled and not fetched yet. (cmd_fetch.c) */
bool w_fetch_planned(struct wallet *w, const char *id);
/* Sends the held action of row n (its moment has come) and stores the outcome, reporting
 * it as vote, rate and statement do: 0 counted, -OV_E_HTTP refused or no answer (the
 * action then stays held unless refused), other -OV_E_*. (cmd_vote.c) */
int w_send_held(struct wallet *w, int64_t n);
struct ov_vclient_answer;
/* Sends the counted action of row n again, the same signed bytes by the same route, after
 * the verifier answered that it does not know it (GET /receipts: 404 not_found; its
 * database restored from an older backup, or lost before the action's epoch was logged).
 * A verifier that has it answers the same receipt; one that lost it counts it now. 0: the
 * receipt is stored in the row; -OV_E_STATE: refused for good (ans says why; the row is
 * then 'refused'); -OV_E_HTTP: no answer, or a refusal that may pass later (503, a 4xx
 * without reason code, or unknown_pseudonym, which its admitting action's own resend
 * cures): kept for the next check; other -OV_E_*. (cmd_vote.c) */
int w_resend_lost(struct wallet *w, int64_t n, struct ov_vclient_answer *ans);
/* Whether the verifier's answer to GET /receipts/<hash> says it never counted that hash
 * (404 not_found): it lost the action, which w_resend_lost sends again. (cmd_vote.c) */
bool w_verifier_lost(const struct ov_vclient_answer *ans);
/* Checks the receipt of the counted action in row n against the log, as `receipts` checks
 * each: its verdict ("ok", "not_proven", "log_unavailable", "resent" (the verifier had lost
 * it: sent again and counted, not yet proven), "lost" (sent again and refused: the reason
 * into reason), or why it is not in the log) into *verdict, what it was into what (what_max
 * bytes). -OV_E_* when the wallet or log cannot be read at all. (cmd_receipts.c) */
int w_receipt_check(struct wallet *w, int64_t n, const char **verdict, char *what,
                    size_t what_max, uint64_t *index, char reason[64]);

/* ---- commands ---- */

int cmd_init(struct wallet *w, int argc, char **argv);
int cmd_enroll(struct wallet *w, int argc, char **argv);
int cmd_contexts(struct wallet *w, int argc, char **argv);
int cmd_fetch(struct wallet *w, int argc, char **argv);
int cmd_vote(struct wallet *w, int argc, char **argv);
int cmd_rate(struct wallet *w, int argc, char **argv);
int cmd_statement(struct wallet *w, int argc, char **argv);
int cmd_statements(struct wallet *w, int argc, char **argv);
int cmd_results(struct wallet *w, int argc, char **argv);
int cmd_receipts(struct wallet *w, int argc, char **argv);
int cmd_receipt(struct wallet *w, int argc, char **argv);
int cmd_run(struct wallet *w, int argc, char **argv);
int cmd_export(struct wallet *w, int argc, char **argv);
int cmd_import(struct wallet *w, int argc, char **argv);

#endif
