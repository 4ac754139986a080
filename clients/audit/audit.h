/* audit: one auditor run (main.c drives it): the configuration, the state directory, the
 * log reader and the rules, and what this run found. sync.c follows the log checkpoint by
 * checkpoint; report.c writes the JSON report and the human summary. */
#ifndef AUDIT_AUDIT_H
#define AUDIT_AUDIT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "infra/db.h"
#include "infra/httpc.h"
#include "protocol/logreader.h"
#include "primitives/note.h"
#include "rules.h"

#define AUDIT_MAX_PROBLEMS 8
#define AUDIT_DIR_MAX 3072

struct audit_cfg {
    const char *url;
    const char *vkey; /* as given: the state is bound to it */
    struct ov_note_verifier log_key;
    struct ov_note_verifier witnesses[OV_LOGREADER_MAX_WITNESSES];
    size_t n_witnesses;
    unsigned quorum;
    const char *state_dir; /* NULL: a temporary one, removed at exit */
    bool follow, quiet, progress;
    unsigned threads;
    uint64_t tally_grace;    /* seconds after a context closes before its tally is missing */
    const char *checkpoints; /* checkpoints seen by others: a note file or a folder of them */
    const char *publish;     /* where to write the latest checkpoint verified, for others */
    const char *pool_dir;    /* pool files of draws: DIR/<id>.csv */
    const char *pool_url;    /* or fetched from URL/<id>.csv */
};

/* A problem with the checkpoint served in this run: not an entry's, not stored (there is
 * no signed evidence of it), reported and counted as a violation. */
struct audit_problem {
    const char *rule;
    char detail[AUDIT_DETAIL_MAX];
};

struct audit {
    struct audit_cfg cfg;
    char dir[AUDIT_DIR_MAX];
    bool temp_dir;
    struct ov_db *db;
    struct ov_logreader *reader;
    struct audit_rules *rules;
    struct ov_httpc *http; /* consistency proofs, for fork reports */
    int64_t run;
    /* this run */
    uint64_t first_size;   /* tree size read before this run */
    uint64_t read_entries; /* entries read and checked by this run */
    double read_seconds;
    struct ov_logreader_cp cp; /* the latest checkpoint verified (cp.size 0: none yet) */
    bool have_cp;
    uint64_t new_forks;
    bool tree_unverified;  /* a problem or fork this run: the tree served was not verified */
    uint64_t gossip_read, gossip_ignored; /* --checkpoints files */
    struct audit_problem problems[AUDIT_MAX_PROBLEMS];
    size_t n_problems;
    bool stopping; /* a stop signal arrived during a sync (--follow) */
    int entry_rc;  /* the rules' own failure (database, memory) that stopped a sync */
    /* progress bar */
    uint64_t sync_from, sync_to;
    double sync_start, last_draw;
};

/* Opens the state (creating DIR, or a temporary one), binds it to the log's key, resumes
 * the reader and loads the rules. -OV_E_* with a message on stderr; -OV_E_CONFLICT when
 * the state belongs to another log. */
OV_MUST_CHECK int audit_open(struct audit *a);
void audit_close(struct audit *a);

/* Fetches and verifies the latest checkpoint, then reads and checks every new entry in one
 * transaction; a fork is recorded with both checkpoints. *grew tells whether the log moved.
 * 0 when the round completed (violations included); -OV_E_HTTP / -OV_E_IO / -OV_E_DB... when
 * it could not (a message on stderr); -OV_E_STATE when a stop signal interrupted it. */
OV_MUST_CHECK int audit_round(struct audit *a, bool *grew);

/* Checks the signed checkpoints in path (a note file, a folder of them, as another
 * auditor's DIR/checkpoints, or an http(s) URL serving one, as a witness does) against the log and every checkpoint seen: an inconsistent
 * one is a fork. Files not signed by the log's key are ignored (counted, named on stderr).
 * -OV_E_IO when path cannot be read; -OV_E_HTTP when the log cannot be asked. */
OV_MUST_CHECK int audit_gossip(struct audit *a, const char *path);
/* Writes the latest checkpoint verified (as served, cosignatures included) to path. */
OV_MUST_CHECK int audit_publish(struct audit *a, const char *path);

/* Whether anything is wrong: stored violations, standing ones, forks, problems. */
bool audit_failed(struct audit *a);
/* Draws that could not be verified (no pool file): not passed, not a violation. */
size_t audit_unverified(struct audit *a);

/* The report: JSON written atomically to path; the summary to f. */
OV_MUST_CHECK int audit_report_json(struct audit *a, const char *path);
void audit_report_text(struct audit *a, FILE *f);

double audit_now(void);

#endif
