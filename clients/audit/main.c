/* onevoice-audit: the watchdog's tool. From the log's public URL, its verifier key and the
 * witnesses' keys alone, it checks that the log is one consistent, cosigned tree and that
 * every counted action follows the protocol's rules, recounts every tally, and says whether
 * the count can be trusted. README.md in this folder documents the checks and rule ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "audit.h"
#include "infra/cli.h"
#include "infra/httpc.h"
#include "protocol/witlist.h"
#include "base/codec.h"


static const char summary[] =
    "Audits a onevoice log from public data alone: the log's checkpoint signature and witness\n"
    "quorum, every entry bundle and tile against the signed tree (and, with --state, that the\n"
    "log only grew since the last run, keeping every signed checkpoint as evidence and\n"
    "reporting forks with both checkpoints), then every protocol rule: contexts announced\n"
    "before use with sound keys, issuance serials once each within quota and no more\n"
    "enrollees than enrollments, every token verified under its context's logged key and\n"
    "challenge, nonces bound to pseudonyms and counted once, one rating per pseudonym and\n"
    "target, action signatures, actions inside the window and before their tally, tokens\n"
    "not exceeding issuances, a tally for every closed context, and every tally equal to a\n"
    "recount of the valid actions. Checkpoints from others (--checkpoints) are checked too.\n"
    "A draw pinned in the log (docs/PROTOCOL.md §10): signed commitments before the pool,\n"
    "reveals opening them in time, the seed, and the draw recomputed from the public pool\n"
    "file (--pool-dir, --pool-url, else the log's GET /files/<its SHA-256>).\n"
    "Exit status: 0 no violation, 1 a violation (listed, with entry index and rule id, in\n"
    "--json), 2 usage or I/O error, 3 no violation but a draw could not be verified (its\n"
    "pool file not available). Rule ids: clients/audit/README.md.";

static int
check_u32(const char *v)
{
    uint64_t x;
    return ov_parse_u64(v, strlen(v), &x) == 0 && x <= UINT32_MAX ? 0 : -OV_E_MALFORMED;
}

static uint32_t
u32_of(const char *v, uint32_t def)
{
    uint64_t x;
    return v != NULL && ov_parse_u64(v, strlen(v), &x) == 0 ? (uint32_t)x : def;
}

/* The witnesses file (core/protocol/witlist.h: a cosignature/v1 vkey a line, or "URL VKEY"
 * lines, as the log's --witnesses file has them). */
static int
load_witnesses(const char *path, struct audit_cfg *cfg)
{
    struct ov_witness_line lines[OV_LOGREADER_MAX_WITNESSES];
    size_t n = 0;
    int rc = ov_witlist_load("onevoice-audit", path, lines, OV_LOGREADER_MAX_WITNESSES, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        cfg->witnesses[cfg->n_witnesses++] = lines[i].key;
    }
    return rc;
}

static void
print_checkpoint_line(struct audit *a, uint64_t before)
{
    char root[64];
    if (ov_b64_encode(root, sizeof root, a->cp.root, OV_HASH_LEN, OV_B64_STD) != 0) {
        root[0] = 0;
    }
    printf("checkpoint %llu %s: %llu new entries checked, %s\n", (unsigned long long)a->cp.size,
           root, (unsigned long long)(a->cp.size - before),
           audit_failed(a) ? "violations found" : "no violation");
    fflush(stdout);
}

static int
follow(struct audit *a, uint32_t interval_ms, const char *json)
{
    int rc = 0;
    while (!ov_cli_wait_ms(interval_ms)) {
        uint64_t before = a->have_cp ? a->cp.size : 0, forks = a->new_forks;
        size_t problems = a->n_problems;
        bool grew = false;
        rc = audit_round(a, &grew);
        if (rc == -OV_E_STATE && a->stopping) {
            return 0;
        }
        if (rc == 0 && grew && a->cfg.publish != NULL) {
            rc = audit_publish(a, a->cfg.publish);
        }
        if (rc != 0) {
            fprintf(stderr, "onevoice-audit: will try again in %u ms\n", interval_ms);
            continue; /* the log may be restarting: a watchdog keeps watching */
        }
        if (grew) {
            print_checkpoint_line(a, before);
        }
        if (a->n_problems > problems) {
            printf("problem: %s: %s\n", a->problems[a->n_problems - 1].rule,
                   a->problems[a->n_problems - 1].detail);
            fflush(stdout);
        }
        if ((grew || a->new_forks > forks || a->n_problems > problems) && json != NULL &&
            audit_report_json(a, json) != 0) {
            return -OV_E_IO;
        }
        if (a->new_forks > forks) {
            printf("fork: the log is no longer consistent with what it signed before; stopping\n");
            return 0; /* the state cannot move past a fork */
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *log = NULL, *vkey = NULL, *witnesses = NULL, *quorum = NULL, *state = NULL;
    const char *json = NULL, *interval = NULL, *threads = NULL, *grace = NULL;
    const char *checkpoints = NULL, *publish = NULL, *pool_dir = NULL, *pool_url = NULL;
    const char *ca = NULL;
    bool follow_flag = false, quiet = false, version = false;
    const struct ov_cli_opt opts[] = {
        { "--log", "URL", "the log's URL prefix (required)", &log, NULL, NULL },
        { "--log-vkey", "VKEY", "the log's C2SP verifier key (required)", &vkey, NULL, NULL },
        { "--witnesses", "FILE", "witnesses' cosignature/v1 verifier keys, one per line",
          &witnesses, NULL, NULL },
        { "--quorum", "K", "cosignatures a checkpoint needs (default: every witness listed)",
          &quorum, NULL, check_u32 },
        { "--state", "DIR", "resumable state: later runs read only new entries, check the log "
          "only grew, keep every signed checkpoint in DIR/checkpoints", &state, NULL, NULL },
        { "--json", "FILE", "write the JSON report (every violation, tallies per context)",
          &json, NULL, NULL },
        { "--follow", NULL, "keep watching: check and report each new checkpoint until "
          "SIGINT/SIGTERM", NULL, &follow_flag, NULL },
        { "--interval-ms", "MS", "with --follow, poll the checkpoint every MS (default 2000)",
          &interval, NULL, check_u32 },
        { "--threads", "N", "signature-verification threads (default: cores; 0: inline)",
          &threads, NULL, check_u32 },
        { "--tally-grace", "SECONDS", "a context's tally is missing once the clock (the latest "
          "entry time, or the witnesses' cosignature time) passes its close by this much "
          "(default 3600)", &grace, NULL, check_u32 },
        { "--checkpoints", "PATH", "checkpoints seen by others, checked against the log: a signed "
          "note file, a folder of them (another auditor's DIR/checkpoints) or a URL (a witness's "
          "/<hex SHA-256(origin)>/checkpoint)", &checkpoints, NULL, NULL },
        { "--publish", "FILE", "after each round, write the latest verified checkpoint there for "
          "others to compare", &publish, NULL, NULL },
        { "--pool-dir", "DIR", "the public pool files of draws pinned in the log, as "
          "DIR/<draw id>.csv: each draw is recomputed from its file", &pool_dir, NULL, NULL },
        { "--pool-url", "URL", "where the pool files are published, as URL/<draw id>.csv "
          "(after --pool-dir; last, the log serves it by the SHA-256 its pool entry holds)",
          &pool_url, NULL, NULL },
        { "--ca", "FILE", "trust the CA certificates in this PEM file for https:// instead of the "
          "system's store (default: the system's store, or the file in ONEVOICE_CA_FILE)", &ca,
          NULL, NULL },
        { "--quiet", NULL, "no summary and no progress bar: the exit status and --json only",
          NULL, &quiet, NULL },
        { "--version", NULL, OV_CLI_VERSION_HELP, NULL, &version, NULL },
    };
    int rc = ov_cli_parse(argc, argv, summary, opts, sizeof opts / sizeof opts[0]);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    if (version) {
        ov_cli_print_version(stdout, "onevoice-audit");
        return 0;
    }
    if (log == NULL || vkey == NULL) {
        fprintf(stderr, "onevoice-audit: --log URL and --log-vkey VKEY are required (see --help)\n");
        return 2;
    }
    if (ca != NULL && ov_httpc_set_ca_file(ca) != 0) {
        fprintf(stderr, "onevoice-audit: --ca: the path is too long\n");
        return 2;
    }
    if (sodium_init() < 0) {
        return 2;
    }
    /* SQLite's memory statistics take a global mutex on every allocation and free; the
     * rules run three statements per ballot (its issuance, its nonce, the ballot) and
     * nothing here reads the statistics. Set before SQLite initializes (the first open). */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    struct audit *a = calloc(1, sizeof *a);
    if (a == NULL) {
        return 2;
    }
    struct audit_cfg *cfg = &a->cfg;
    cfg->url = log;
    cfg->vkey = vkey;
    cfg->state_dir = state;
    cfg->follow = follow_flag;
    cfg->tally_grace = u32_of(grace, 3600);
    cfg->checkpoints = checkpoints;
    cfg->publish = publish;
    cfg->pool_dir = pool_dir;
    cfg->pool_url = pool_url;
    cfg->quiet = quiet;
    cfg->progress = !quiet && isatty(STDERR_FILENO);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = u32_of(threads, cores > 0 ? (unsigned)cores : 1);
    if (ov_note_vkey_parse(OV_BYTES(vkey, strlen(vkey)), &cfg->log_key) != 0 ||
        cfg->log_key.type != OV_NOTE_TYPE_ED25519) {
        fprintf(stderr, "onevoice-audit: --log-vkey is not a C2SP Ed25519 verifier key\n");
        free(a);
        return 2;
    }
    if (witnesses != NULL && load_witnesses(witnesses, cfg) != 0) {
        free(a);
        return 2;
    }
    cfg->quorum = u32_of(quorum, (uint32_t)cfg->n_witnesses);
    if (cfg->quorum > cfg->n_witnesses || cfg->threads > AUDIT_VERIFY_MAX_THREADS) {
        fprintf(stderr, "onevoice-audit: --quorum %u with %zu witnesses, or --threads over %d\n",
                cfg->quorum, cfg->n_witnesses, AUDIT_VERIFY_MAX_THREADS);
        free(a);
        return 2;
    }
    /* --follow takes stop signals synchronously; blocked before any thread starts */
    if (follow_flag && ov_cli_signals_init() != 0) {
        free(a);
        return 2;
    }
    int status = 2;
    rc = audit_open(a);
    bool grew = false;
    rc = rc ? rc : audit_round(a, &grew);
    rc = rc || checkpoints == NULL ? rc : audit_gossip(a, checkpoints);
    rc = rc || publish == NULL ? rc : audit_publish(a, publish);
    if (rc == 0 && follow_flag) {
        if (a->have_cp) {
            print_checkpoint_line(a, a->first_size);
        }
        if (json != NULL) {
            rc = audit_report_json(a, json);
        }
        rc = rc ? rc : follow(a, u32_of(interval, 2000), json);
    }
    if (a->db != NULL && a->rules != NULL && (rc == 0 || a->stopping)) {
        if (json != NULL && audit_report_json(a, json) != 0) {
            rc = -OV_E_IO;
        }
        if (!quiet) {
            audit_report_text(a, stdout);
        }
        if (rc == 0 || a->stopping) {
            status = audit_failed(a) ? 1 : audit_unverified(a) > 0 ? 3 : 0;
        }
    }
    audit_close(a);
    free(a);
    return status;
}
