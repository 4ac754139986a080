/* onevoice: the citizen's wallet. `onevoice [--wallet FILE] COMMAND [options]`; each
 * command has --help. Exit status: 0 ok, 1 refused or a failed check, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <sodium.h>

#include "infra/cli.h"
#include "primitives/json.h"
#include "wallet.h"

static const struct {
    const char *name;
    int (*fn)(struct wallet *w, int argc, char **argv);
    const char *summary;
} commands[] = {
    { "init", cmd_init, "create a wallet file: which issuer, verifier, log and witnesses to use" },
    { "enroll", cmd_enroll, "enroll with an invitation code, a registrar's token or an attestation" },
    { "contexts", cmd_contexts, "list the open contexts, each checked against the log" },
    { "fetch", cmd_fetch, "get a token for every open context, each at its own moment (cover issuance)" },
    { "vote", cmd_vote, "vote in an assembly, sent at a random moment (--now: now); keeps the receipt" },
    { "rate", cmd_rate, "rate a target in a rating round; keeps the receipt" },
    { "statement", cmd_statement, "write a statement in a statement round; prints its id" },
    { "statements", cmd_statements, "list a statement round's statements, yours and your ratings" },
    { "results", cmd_results, "a context's tally: counts, or a statement round's results" },
    { "receipts", cmd_receipts, "re-check every receipt against the log's latest checkpoint" },
    { "run", cmd_run, "do what is due: fetch, send held actions, check a receipt, each at its moment" },
    { "receipt", cmd_receipt, "print one action's proven receipt (for the transparency page)" },
    { "export", cmd_export, "write the whole wallet to one file encrypted under a passphrase" },
    { "import", cmd_import, "restore a wallet from an exported file" },
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void
usage(FILE *f)
{
    fprintf(f, "usage: onevoice [--wallet FILE] COMMAND [options]\n\n"
               "The citizen's onevoice wallet: enrollment, tokens, votes, ratings, statements,\n"
               "receipts. It trusts no server: every context key must be in the witnessed log,\n"
               "and every receipt is re-checked against it.\n\n"
               "  --wallet FILE   the wallet file (default: $ONEVOICE_WALLET)\n"
               "  --json          answers as JSON (also accepted after the command)\n"
               "  --version       " OV_CLI_VERSION_HELP "\n\n"
               "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(f, "\n`onevoice COMMAND --help` describes each. Exit status: 0 ok, 1 refused or a\n"
               "failed check, 2 usage.\n");
}

int
main(int argc, char **argv)
{
    struct wallet w;
    memset(&w, 0, sizeof w);
    umask(077); /* the wallet file, its journal and exports: the owner's only */
    /* keys are in memory: no core dumps, no ptrace by other processes of this user */
    struct rlimit no_core = { 0, 0 };
    (void)setrlimit(RLIMIT_CORE, &no_core);
    if (ov_cli_harden() != 0) {
        fprintf(stderr, "onevoice: cannot protect this process's memory\n");
        return W_EXIT_REFUSED;
    }
    ov_json_wipe_freed(); /* invitation codes and tokens pass through JSON */
    if (sodium_init() < 0) {
        fprintf(stderr, "onevoice: libsodium failed to initialise\n");
        return W_EXIT_REFUSED;
    }
    w.path = getenv("ONEVOICE_WALLET");
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return W_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            ov_cli_print_version(stdout, "onevoice");
            return W_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            w.json = true;
        } else if (strcmp(argv[i], "--wallet") == 0 && i + 1 < argc) {
            w.path = argv[++i];
        } else if (strncmp(argv[i], "--wallet=", 9) == 0) {
            w.path = argv[i] + 9;
        } else {
            fprintf(stderr, "onevoice: unknown option %s\n\n", argv[i]);
            usage(stderr);
            return W_EXIT_USAGE;
        }
    }
    if (i == argc) {
        usage(stderr);
        return W_EXIT_USAGE;
    }
    for (size_t c = 0; c < N_COMMANDS; c++) {
        if (strcmp(argv[i], commands[c].name) == 0) {
            return commands[c].fn(&w, argc - i, argv + i);
        }
    }
    fprintf(stderr, "onevoice: unknown command %s\n\n", argv[i]);
    usage(stderr);
    return W_EXIT_USAGE;
}
