/* sortition: the auditor's half of a draw pinned in the log (docs/PROTOCOL.md §10). The
 * entries (sortition-commit, pool, sortition-reveal, draw) are checked in log order from the
 * log alone and their violations stored like every entry's; what needs the public pool file
 * (the recomputed draw) and what depends on the clock (a withheld seed) is recomputed by
 * every run, as the standing violations are:
 *
 *   sortition-commit  signed by its party_key; before the pool of its    commitment_signature
 *                     draw; one per party and draw (the first binds)      commitment_late
 *                                                                         commitment_repeated
 *   pool              a draw id once; every party it names committed     pool_duplicate
 *                     before it; panel and reserves within its members   commitment_missing
 *                                                                         pool_invalid
 *   sortition-reveal  after the pool; opens the party's commitment; its   reveal_early
 *                     time and the clock before reveal_by                 reveal_mismatch
 *                                                                         reveal_late
 *   draw              after its pool and every reveal, once; panel and    draw_invalid
 *                     reserves of the pool's sizes, each member once;
 *                     seed = SHA-256(tag || pool || reveals in order)     draw_seed
 *   standing          reveal_by passed by the clock, a reveal missing     seed_withheld
 *                     (the draw is void); the pool file (--pool-dir DIR:  pool_file_mismatch
 *                     DIR/<id>.csv, --pool-url URL: URL/<id>.csv) hashes  pool_invalid
 *                     to the pool entry's `pool` and agrees with it; the  draw_quota
 *                     panel keeps every quota; the draw recomputed from   draw_mismatch
 *                     the file and the reveals' seed equals the entry
 *
 * A draw whose pool file is not available is "unverifiable": neither passed nor a violation
 * (the exit status says so, main.c). */
#ifndef AUDIT_SORTITION_H
#define AUDIT_SORTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infra/db.h"
#include "protocol/sortentry.h"
#include "rules.h"

#define AUDIT_SOURCE_MAX 4200

enum audit_draw_verdict {
    AUDIT_DRAW_PENDING,      /* reveals or the draw still to come */
    AUDIT_DRAW_VERIFIED,     /* recomputed from the pool file: equal, no violation */
    AUDIT_DRAW_FAILED,       /* a violation of the draw (stored or standing) */
    AUDIT_DRAW_UNVERIFIABLE, /* its pool file is not available (or not the pool) */
    AUDIT_DRAW_VOID          /* a reveal missing at reveal_by: no seed */
};
extern const char *const audit_draw_verdicts[];

/* A draw as the log and the pool file show it, for the report. */
struct audit_draw {
    char id[OV_MAX_CONTEXT_ID_LEN + 1];
    char title[OV_MAX_TITLE_LEN + 1];
    uint64_t pool_index, draw_index; /* draw_index AUDIT_NO_INDEX: no draw entry */
    uint8_t pool[32];
    uint64_t members, panel, reserves, reveal_by;
    size_t parties, revealed;
    bool seed_known; /* every party revealed: seed is SHA-256 of the pool and the reveals */
    uint8_t seed[OV_SORT_SEED_LEN];
    enum audit_draw_verdict verdict;
    char source[AUDIT_SOURCE_MAX]; /* the pool file read or fetched ("" none) */
    char detail[AUDIT_DETAIL_MAX];
};

struct audit_sort;

OV_MUST_CHECK int audit_sort_new(struct ov_db *db, struct audit_sort **out);
void audit_sort_free(struct audit_sort *s);
/* Where pool files are found: DIR/<id>.csv, else URL/<id>.csv, else the log at LOG serving
 * it by its SHA-256 (/files/<hex>) (any may be NULL). */
void audit_sort_sources(struct audit_sort *s, const char *dir, const char *url,
                        const char *log);

/* Checks one decoded entry at index; clock is the latest entry time before it. Violations
 * go through audit_violation; only the database or memory failing is an error. */
OV_MUST_CHECK int audit_sort_entry(struct audit_sort *s, struct audit_rules *r, uint64_t index,
                                   const struct ov_sortentry *e, struct ov_bytes bytes,
                                   uint64_t clock);
/* Recomputes every draw's verdict and the standing findings at clock (a draw's pool file is
 * read and its draw recomputed once per run, then remembered). */
OV_MUST_CHECK int audit_sort_refresh(struct audit_sort *s, uint64_t clock);
/* After a rollback: forgets what was remembered of entries that may be gone. */
void audit_sort_forget(struct audit_sort *s);

size_t audit_sort_findings(const struct audit_sort *s, const struct audit_standing **out);
size_t audit_sort_draws(const struct audit_sort *s, const struct audit_draw **out);

#endif
