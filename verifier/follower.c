/* follower: the thread that follows the log through its public interface (core/logreader:
 * checkpoint signature, witness quorum, every entry bundle rehashed to the root).
 *
 * Each round (every --log-poll-ms):
 *   1. fetch and verify the checkpoint; read the new entries, chunk by chunk (below: "a
 *      round, chunk by chunk"); for each chunk, only once the reader checked it against a
 *      verified root: append its leaf hashes to the proof window (core/primitives/treewin),
 *      the last chunk also publishes the checkpoint; take its `context` entries, adopt its
 *      lost rows (adopt.h) and save the reader's state in their transaction;
 *   2. count: once every row of ours with an index below the checkpoint's size S is known
 *      (no row is unsent, or the sender's last acknowledgement showed a log of >= S
 *      entries: sender.c's invariant), add the actions logged in [tally_size, S) to the live
 *      tallies; tally_size = S;
 *   3. for each context past its closing time whose rows are all logged below tally_size:
 *      write its tally entry to the outbox, in a write transaction that checks the time
 *      again, so the committer (which checks it inside its own) can add nothing after (a
 *      statement round's once the log holds its result files: results.h).
 * Proofs for receipts come from the window; below it (after a restart, or an old receipt)
 * they are asked of the log and checked against the verified root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adopt.h"
#include "app.h"
#include "commit.h"
#include "contexts.h"
#include "epoch.h"
#include "follower.h"
#include "keys.h"
#include "results.h"
#include "sender.h"
#include "tally.h"
#include "infra/httpc.h"
#include "protocol/logproof.h"
#include "store.h"
#include "primitives/tiles.h"

/* The kinds the follower decodes, as deterministic CBOR writes `kind` and its value:
 * contexts (to learn them), actions, statements and tallies (ours: adopt.h); the rest (enrollments,
 * issuances) are only hashed. */
static const uint8_t context_marker[] = { 0x64, 'k', 'i', 'n', 'd', 0x67,
                                          'c', 'o', 'n', 't', 'e', 'x', 't' };
static const uint8_t action_marker[] = { 0x64, 'k', 'i', 'n', 'd', 0x66,
                                         'a', 'c', 't', 'i', 'o', 'n' };
static const uint8_t tally_marker[] = { 0x64, 'k', 'i', 'n', 'd', 0x65, 't', 'a', 'l', 'l', 'y' };
static const uint8_t statement_marker[] = { 0x64, 'k', 'i', 'n', 'd', 0x69, 's', 't', 'a',
                                            't', 'e', 'm', 'e', 'n', 't' };

struct candidate {
    uint64_t index;
    bool context; /* else an action or a tally */
    struct ov_buf entry;
};

struct round {
    struct ov_db *db; /* our logged rows, for own_leaves */
    uint8_t *leaves;  /* the new leaf hashes */
    size_t n, cap;
    struct candidate *cands;
    size_t n_cands, cap_cands;
};

static void
round_clear(struct round *r)
{
    for (size_t i = 0; i < r->n_cands; i++) {
        ov_buf_clear(&r->cands[i].entry);
    }
    free(r->cands);
    free(r->leaves);
    memset(r, 0, sizeof *r);
}

static int
on_leaf(void *ctx, uint64_t index, const uint8_t hash[OV_HASH_LEN])
{
    struct round *r = ctx;
    (void)index;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 1024;
        uint8_t *p = realloc(r->leaves, cap * OV_HASH_LEN);
        if (p == NULL) {
            return -OV_E_NOMEM;
        }
        r->leaves = p;
        r->cap = cap;
    }
    memcpy(r->leaves + r->n * OV_HASH_LEN, hash, OV_HASH_LEN);
    r->n++;
    return 0;
}

static bool
holds(struct ov_bytes entry, const uint8_t *marker, size_t len)
{
    return memmem(entry.ptr, entry.len, marker, len) != NULL;
}

/* Keeps the entries that may be contexts, actions or tallies (decoded once verified). The
 * reader reads no bundle of our acknowledged rows alone (own_leaves), so the actions seen
 * here are few: those in bundles shared with the issuer's entries, and lost ones. */
static int
on_entry(void *ctx, uint64_t index, struct ov_bytes entry)
{
    struct round *r = ctx;
    bool context = holds(entry, context_marker, sizeof context_marker);
    if (!context && !holds(entry, action_marker, sizeof action_marker) &&
        !holds(entry, tally_marker, sizeof tally_marker) &&
        !holds(entry, statement_marker, sizeof statement_marker)) {
        return 0;
    }
    if (r->n_cands == r->cap_cands) {
        size_t cap = r->cap_cands ? 2 * r->cap_cands : 16;
        struct candidate *p = realloc(r->cands, cap * sizeof *p);
        if (p == NULL) {
            return -OV_E_NOMEM;
        }
        r->cands = p;
        r->cap_cands = cap;
    }
    struct candidate *c = &r->cands[r->n_cands];
    c->index = index;
    c->context = context;
    ov_buf_init(&c->entry, OV_MAX_ENTRY_LEN);
    int rc = ov_buf_append(&c->entry, entry.ptr, entry.len);
    r->n_cands += rc == 0;
    return rc;
}

/* The leaf hashes of [from, to) if every one of those entries is a row of ours the log
 * acknowledged (at that index): the reader then need not fetch their bundle. */
static int
own_leaves(void *ctx, uint64_t from, uint64_t to, uint8_t *hashes)
{
    struct round *r = ctx;
    sqlite3_stmt *st = ov_db_stmt(r->db, "own_leaves");
    uint64_t want = from, index = 0;
    int rc = ov_db_bind_int64(st, 1, (int64_t)from);
    rc = rc ? rc : ov_db_bind_int64(st, 2, (int64_t)to);
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        rc = ov_db_col_uint64(st, 0, &index);
        if (rc == 0 && index != want) {
            break; /* a gap: an entry of someone else's */
        }
        rc = rc ? rc : ov_db_col_fixed(st, 1, hashes + (want - from) * OV_HASH_LEN, OV_HASH_LEN);
        want++;
    }
    ov_db_reset(st);
    if (rc < 0) {
        return rc;
    }
    return want == to;
}

/* ---- the proof window --------------------------------------------------------------- */

/* Parses a reader state (u64be size, frontier hashes) into a new window. */
static int
window_from_state(struct vf_app *app, struct ov_bytes state, struct ov_treewin **out)
{
    uint64_t size = 0;
    if (state.len < 8) {
        return -OV_E_MALFORMED;
    }
    for (int i = 0; i < 8; i++) {
        size = size << 8 | state.ptr[i];
    }
    if ((state.len - 8) % OV_HASH_LEN != 0) {
        return -OV_E_MALFORMED;
    }
    return ov_treewin_new(size, state.ptr + 8, (state.len - 8) / OV_HASH_LEN, app->window_max,
                          out);
}

/* Appends the chunk's leaves to the window and, at the checkpoint's size (cp not NULL),
 * publishes the checkpoint; proofs are given at the published size, which the window may
 * pass. The window must then end where the reader does; if it cannot (out of memory, or it
 * was behind), it starts again, empty, at the reader's size: proofs below it come from the
 * log. */
static int
publish(struct vf_app *app, struct ov_logreader *reader, const struct round *r,
        const struct ov_logreader_cp *cp)
{
    int rc = 0;
    pthread_rwlock_wrlock(&app->tree_lock);
    struct ov_treewin *w = app->win;
    if (ov_treewin_size(w) + r->n != ov_logreader_size(reader)) {
        rc = -OV_E_STATE;
    }
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        if (ov_treewin_size(w) - ov_treewin_base(w) >= app->window_max) {
            rc = ov_treewin_advance(w, ov_treewin_size(w) - app->window_max / 2);
        }
        rc = rc ? rc : ov_treewin_append(w, r->leaves + i * OV_HASH_LEN);
    }
    if (rc != 0) {
        struct ov_buf state;
        struct ov_treewin *fresh = NULL;
        rc = ov_logreader_state(reader, &state);
        rc = rc ? rc : window_from_state(app, ov_buf_view(&state), &fresh);
        ov_buf_clear(&state);
        if (rc == 0) {
            ov_treewin_free(app->win);
            app->win = fresh;
        }
    }
    if (rc == 0 && cp != NULL) {
        app->cp_size = cp->size;
        memcpy(app->cp_root, cp->root, OV_HASH_LEN);
        app->cp_note.len = 0;
        rc = ov_buf_append(&app->cp_note, cp->note.ptr, cp->note.len);
    }
    if (rc != 0) {
        app->cp_size = 0; /* serve no proofs until a round succeeds */
    }
    pthread_rwlock_unlock(&app->tree_lock);
    atomic_store(&app->verified_size, app->cp_size);
    ov_gauge_set(app->m_log_size, (int64_t)app->cp_size);
    return rc;
}

int
vf_follower_prove(struct vf_app *app, uint64_t index, const uint8_t hash[32],
                  struct ov_buf *note, uint8_t *proof, size_t *n_proof, bool local_only)
{
    uint8_t leaf[OV_HASH_LEN], root[OV_HASH_LEN];
    uint64_t size;
    bool in_window;
    ov_buf_init(note, OV_NOTE_MAX_LEN);
    *n_proof = 0;
    pthread_rwlock_rdlock(&app->tree_lock);
    size = app->cp_size;
    memcpy(root, app->cp_root, sizeof root);
    int rc = index < size ? ov_buf_append(note, app->cp_note.ptr, app->cp_note.len) : -OV_E_STATE;
    in_window = rc == 0 && index >= ov_treewin_base(app->win);
    rc = rc == 0 && !in_window && local_only ? -OV_E_STATE : rc;
    if (in_window) {
        rc = ov_treewin_leaf(app->win, index, leaf);
        if (rc == 0 && memcmp(leaf, hash, OV_HASH_LEN) != 0) {
            rc = -OV_E_BAD_PROOF; /* the log holds another entry at the index it gave us */
        }
        rc = rc ? rc : ov_treewin_proof(app->win, index, size, proof, OV_MERKLE_MAX_PROOF, n_proof);
    }
    pthread_rwlock_unlock(&app->tree_lock);
    if (rc == 0 && !in_window) {
        /* below the window: the log proves it (its answer read by the strict parser of
         * core/protocol/logproof), we check it against the verified root */
        char url[1200];
        struct ov_httpc *h = NULL;
        struct ov_httpc_resp resp;
        size_t n = 0;
        memset(&resp, 0, sizeof resp);
        snprintf(url, sizeof url, "%s/proof/inclusion?index=%llu&size=%llu", app->log.url,
                 (unsigned long long)index, (unsigned long long)size);
        rc = ov_httpc_new(&h);
        rc = rc ? rc : ov_httpc_get(h, url, OV_MAX_LOGPROOF_LEN, &resp);
        rc = rc ? rc : (resp.status == 200 ? 0 : -OV_E_HTTP);
        rc = rc ? rc
                : ov_logproof_parse(OV_LOGPROOF_INCLUSION, ov_buf_view(&resp.body), index, size,
                                    proof, &n);
        rc = rc ? rc : ov_merkle_verify_inclusion(index, size, hash, proof, n, root);
        *n_proof = rc == 0 ? n : 0;
        ov_httpc_resp_clear(&resp);
        ov_httpc_free(h);
    }
    if (rc != 0) {
        ov_buf_clear(note);
        *n_proof = 0;
    }
    return rc;
}

/* ---- start-up: what the database remembers ---------------------------------------- */

/* Restores the tally entry written for c (row): final size and hash. */
static int
restore_final(struct ov_db *db, struct vf_context *c, int64_t row)
{
    sqlite3_stmt *st = ov_db_stmt(db, "entry_get");
    struct ov_bytes e;
    struct ov_entry t;
    int rc = ov_db_bind_int64(st, 1, row);
    rc = rc ? rc : (ov_db_step(st) == OV_DB_ROW ? 0 : -OV_E_DB);
    rc = rc ? rc : ov_db_col_fixed(st, 0, c->tally.final_hash, 32);
    rc = rc ? rc : ov_db_col_blob(st, 1, OV_MAX_ENTRY_LEN, &e);
    rc = rc ? rc : ov_entry_decode(e, &t);
    if (rc == 0) {
        rc = t.kind == OV_ENTRY_TALLY ? 0 : -OV_E_MALFORMED;
        c->tally.final_size = t.u.tally.size;
        if (rc == 0 && t.u.tally.has_results) {
            memcpy(c->tally.final_seed, t.u.tally.results.seed, 32);
        }
        ov_entry_clear(&t);
    }
    ov_db_reset(st);
    c->tallied = c->tally.final = rc == 0;
    return rc;
}

static int
load_contexts(struct vf_app *app, struct ov_db *db)
{
    sqlite3_stmt *st = ov_db_stmt(db, "context_all");
    int rc;
    while ((rc = ov_db_step(st)) == OV_DB_ROW) {
        struct ov_bytes e;
        uint64_t index = 0;
        int64_t row = 0;
        struct vf_context *c = NULL;
        rc = ov_db_col_blob(st, 0, OV_MAX_ENTRY_LEN, &e);
        rc = rc ? rc : ov_db_col_uint64(st, 1, &index);
        rc = rc ? rc : vf_context_add(app, e, index, &c);
        if (rc == 0 && !ov_db_col_is_null(st, 2)) {
            rc = ov_db_col_int64(st, 2, &row);
            rc = rc ? rc : restore_final(db, c, row);
        }
        if (rc != 0) {
            break;
        }
    }
    ov_db_reset(st);
    return rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
}

/* The saved reader state and checkpoint; a window and reader resumed from them. */
static int
load_follow(struct vf_app *app, struct ov_db *db, struct ov_logreader *reader)
{
    sqlite3_stmt *st = ov_db_stmt(db, "follow_get");
    struct ov_bytes state = OV_BYTES(NULL, 0), note;
    int rc = ov_db_step(st);
    if (rc == OV_DB_DONE) {
        ov_db_reset(st);
        return ov_treewin_new(0, NULL, 0, app->window_max, &app->win);
    }
    rc = rc == OV_DB_ROW ? 0 : (rc < 0 ? rc : -OV_E_DB);
    rc = rc ? rc : ov_db_col_blob(st, 0, 8 + 64 * OV_HASH_LEN, &state);
    rc = rc ? rc : ov_db_col_blob(st, 1, OV_NOTE_MAX_LEN, &note);
    rc = rc ? rc : ov_logreader_resume(reader, state);
    rc = rc ? rc : window_from_state(app, state, &app->win);
    if (rc == 0) {
        /* the checkpoint must verify again (keys may have changed) before it is served */
        struct ov_logreader_cp cp;
        if (ov_logreader_verify_note(&app->log, note, &cp) == 0 &&
            cp.size == ov_logreader_size(reader)) {
            app->cp_size = cp.size;
            memcpy(app->cp_root, cp.root, OV_HASH_LEN);
            rc = ov_buf_append(&app->cp_note, cp.note.ptr, cp.note.len);
            atomic_store(&app->verified_size, cp.size);
        }
        ov_logreader_cp_clear(&cp);
    }
    ov_db_reset(st);
    return rc;
}

/* ---- one round ------------------------------------------------------------------------- */

struct save {
    struct ov_buf state;
    const struct ov_logreader_cp *cp;
    const struct round *r;
    struct vf_context **added; /* per candidate: registered now, to store */
};

static int
save_tx(struct ov_db *db, void *arg)
{
    struct save *s = arg;
    sqlite3_stmt *st = ov_db_stmt(db, "follow_put");
    int rc = ov_db_bind_blob(st, 1, ov_buf_view(&s->state));
    rc = rc ? rc : ov_db_bind_blob(st, 2, ov_buf_view(&s->cp->note));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    rc = rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
    for (size_t i = 0; i < s->r->n_cands && rc == 0; i++) {
        const struct candidate *c = &s->r->cands[i];
        if (s->added[i] == NULL) {
            continue;
        }
        st = ov_db_stmt(db, "context_put");
        rc = ov_db_bind_text(st, 1, s->added[i]->c.id, strlen(s->added[i]->c.id));
        rc = rc ? rc : ov_db_bind_blob(st, 2, ov_buf_view(&c->entry));
        rc = rc ? rc : ov_db_bind_uint64(st, 3, c->index);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
        rc = rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
    }
    return rc;
}

/* The chunk's actions and tallies that have no row here (lost from this database), adopted
 * in the transaction that saves the reader's position past them (save_tx): a kill -9 leaves
 * both or neither, so no entry is skipped and none is adopted twice. */
static int
adopt_lost(struct vf_app *app, const struct round *r, struct save *s, size_t *adopted)
{
    struct vf_logged *list = calloc(r->n_cands ? r->n_cands : 1, sizeof *list);
    size_t n = 0;
    *adopted = 0;
    if (list == NULL) {
        return -OV_E_NOMEM;
    }
    for (size_t i = 0; i < r->n_cands; i++) {
        if (!r->cands[i].context) {
            list[n++] = (struct vf_logged){ r->cands[i].index, ov_buf_view(&r->cands[i].entry) };
        }
    }
    int rc = vf_adopt(app, list, n, save_tx, s, adopted);
    free(list);
    if (*adopted > 0) {
        ov_counter_add(app->m_adopted, *adopted);
    }
    return rc;
}

/* Registers a context entry the chunk holds; *added is set when it is to be stored. */
static int
take_context(struct vf_app *app, const struct candidate *cand, struct vf_context **added)
{
    struct ov_entry e;
    if (ov_entry_decode(ov_buf_view(&cand->entry), &e) != 0 || e.kind != OV_ENTRY_CONTEXT) {
        ov_entry_clear(&e);
        return 0; /* the marker matched inside another entry */
    }
    int rc = vf_context_add(app, ov_buf_view(&cand->entry), cand->index, added);
    struct vf_context *had = rc == -OV_E_EXISTS ? vf_context_find(app, e.u.context.id) : NULL;
    ov_entry_clear(&e);
    if (had != NULL && had->log_index == cand->index) {
        *added = had; /* registered by a try of this chunk whose save failed: stored now */
        return 0;
    }
    if (rc == -OV_E_EXISTS || rc == -OV_E_MALFORMED) {
        fprintf(stderr, "onevoice-verifier: log entry %llu: context ignored (%s)\n",
                (unsigned long long)cand->index,
                rc == -OV_E_EXISTS ? "its id was taken by an earlier entry"
                                   : "not a usable context");
        return 0;
    }
    return rc;
}

/* Registers the chunk's contexts, adopts the chunk's lost rows (adopt.h) and saves the
 * reader's state with the contexts, in the adoption's transaction: a failure leaves the
 * saved state behind these entries, and the reader is rewound to it (rewind_reader), so
 * none is skipped. */
static int
take_contexts(struct vf_app *app, struct ov_logreader *reader, const struct round *r,
              const struct ov_logreader_cp *cp, size_t *adopted)
{
    struct save s = { .cp = cp, .r = r };
    s.added = calloc(r->n_cands ? r->n_cands : 1, sizeof *s.added);
    int rc = s.added ? ov_logreader_state(reader, &s.state) : -OV_E_NOMEM;
    for (size_t i = 0; i < r->n_cands && rc == 0; i++) {
        rc = r->cands[i].context ? take_context(app, &r->cands[i], &s.added[i]) : 0;
    }
    rc = rc ? rc : adopt_lost(app, r, &s, adopted);
    ov_buf_clear(&s.state);
    free(s.added);
    return rc;
}

static void
reset_tally(void *ctx, struct vf_context *c)
{
    (void)ctx;
    vf_tally_reset(c);
}

static int
scalar(struct ov_db *db, const char *name, const char *text, int64_t *v)
{
    sqlite3_stmt *st = ov_db_stmt(db, name);
    int rc = text ? ov_db_bind_text(st, 1, text, strlen(text)) : 0;
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_DONE) {
        *v = 0; /* no row */
        rc = 0;
    } else if (rc == OV_DB_ROW) {
        rc = ov_db_col_int64(st, 0, v);
    }
    ov_db_reset(st);
    return rc;
}

/* One row of logged_range into its context's count: an assembly ballot (no pseudonym), a
 * rating, or a statement (a pseudonym without a rating). */
static int
count_row(struct vf_app *app, sqlite3_stmt *st)
{
    struct ov_bytes ctx, label;
    int64_t rating = 0, row = 0;
    uint8_t who[OV_PSEUDONYM_LEN];
    char id[OV_MAX_CONTEXT_ID_LEN + 1], lab[OV_MAX_LABEL_LEN + 1];
    bool rated = !ov_db_col_is_null(st, 2), by = !ov_db_col_is_null(st, 3);
    int rc = ov_db_col_text(st, 0, OV_MAX_CONTEXT_ID_LEN, &ctx);
    rc = rc ? rc : ov_db_col_text(st, 1, OV_MAX_LABEL_LEN, &label);
    rc = rc || !rated ? rc : ov_db_col_int64(st, 2, &rating);
    rc = rc || !by ? rc : ov_db_col_fixed(st, 3, who, sizeof who);
    rc = rc ? rc : ov_db_col_int64(st, 4, &row);
    if (rc != 0) {
        return rc;
    }
    memcpy(id, ctx.ptr, ctx.len);
    id[ctx.len] = 0;
    memcpy(lab, label.ptr, label.len);
    lab[label.len] = 0;
    struct vf_context *c = vf_context_find(app, id);
    if (c == NULL) {
        return -OV_E_MALFORMED;
    }
    if (by && !rated) {
        return vf_tally_statement(c, lab, who, row);
    }
    return by ? vf_tally_rating(c, who, lab, rating) : vf_tally_add(c, lab, rating);
}

/* Step 2: counts the actions logged in [tally_size, size), if all of them are known; root
 * is the verified root at size (a statement round's seed). */
static int
count(struct vf_app *app, struct ov_db *db, uint64_t size, const uint8_t root[32])
{
    int64_t known = 0, unsent = 0;
    uint64_t from = app->tally_size; /* written by this thread only */
    if (size <= from) {
        return 0;
    }
    /* rows held for an epoch (ids from `below` on: epoch.h) are sent only after this, so
     * they land at or after size, which was read before: only the others can land below
     * it. `below` is taken before the transaction, so every row under it is committed */
    int64_t below = vf_epoch_limit(app);
    int rc = ov_db_exec(db, "BEGIN");
    rc = rc ? rc : scalar(db, "sent_get", NULL, &known);
    sqlite3_stmt *due = ov_db_stmt(db, "outbox_due_count");
    rc = rc ? rc : ov_db_bind_int64(due, 1, below);
    rc = rc ? rc : (ov_db_step(due) == OV_DB_ROW ? ov_db_col_int64(due, 0, &unsent) : -OV_E_DB);
    ov_db_reset(due);
    if (rc != 0 || (unsent > 0 && (uint64_t)known < size)) {
        (void)!ov_db_exec(db, "COMMIT");
        return rc; /* not yet: an unsent row may still land below size */
    }
    sqlite3_stmt *st = ov_db_stmt(db, "logged_range");
    rc = ov_db_bind_uint64(st, 1, from);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, size);
    pthread_mutex_lock(&app->tally_mu);
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        rc = count_row(app, st);
    }
    rc = rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
    if (rc == 0) {
        app->tally_size = size;
        memcpy(app->tally_root, root, sizeof app->tally_root);
    } else {
        /* a partial count must not stand: count everything again next round */
        vf_context_each(app, reset_tally, NULL);
        app->tally_size = 0;
    }
    pthread_mutex_unlock(&app->tally_mu);
    ov_db_reset(st);
    (void)!ov_db_exec(db, "COMMIT");
    ov_gauge_set(app->m_tally_size, (int64_t)app->tally_size);
    return rc;
}

struct closing {
    struct vf_app *app;
    struct vf_context *c;
    uint64_t size;
    bool written;
    uint8_t hash[32];
    const struct ov_tally_results *results; /* a statement round's, else NULL */
};

/* Whether every row of c is logged below size (so counted): 1 yes, 0 not yet, < 0. */
static int
all_counted(struct ov_db *db, const struct vf_context *c, uint64_t size)
{
    int64_t unsent = 0, later = 0;
    int rc = scalar(db, "context_unsent", c->c.id, &unsent);
    sqlite3_stmt *st = ov_db_stmt(db, "context_logged_after");
    rc = rc ? rc : ov_db_bind_text(st, 1, c->c.id, strlen(c->c.id));
    rc = rc ? rc : ov_db_bind_uint64(st, 2, size);
    rc = rc ? rc : (ov_db_step(st) == OV_DB_ROW ? ov_db_col_int64(st, 0, &later) : -OV_E_DB);
    ov_db_reset(st);
    return rc < 0 ? rc : (unsent == 0 && later == 0);
}

static int
close_tx(struct ov_db *db, void *arg)
{
    struct closing *cl = arg;
    const struct vf_context *c = cl->c;
    struct ov_buf e;
    uint64_t now = vf_now();
    cl->written = false;
    if (now < c->c.closes) {
        return 0;
    }
    int rc = all_counted(db, c, cl->size);
    if (rc <= 0) {
        return rc; /* not all of its actions are counted yet */
    }
    pthread_mutex_lock(&cl->app->tally_mu);
    rc = vf_tally_entry(c, cl->size, now, cl->results, &e);
    pthread_mutex_unlock(&cl->app->tally_mu);
    rc = rc ? rc : ov_merkle_leaf_hash(e.ptr, e.len, cl->hash);
    sqlite3_stmt *st = ov_db_stmt(db, "entry_put");
    rc = rc ? rc : ov_db_bind_blob(st, 1, OV_BYTES(cl->hash, 32));
    rc = rc ? rc : ov_db_bind_blob(st, 2, ov_buf_view(&e));
    rc = rc ? rc : ov_db_bind_text(st, 3, c->c.id, strlen(c->c.id));
    /* held for the epoch being written, as every row written now (epoch.h) */
    rc = rc ? rc : ov_db_bind_int64(st, 4, vf_epoch_place(cl->app, vf_epoch_now(cl->app)));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    ov_buf_clear(&e);
    rc = rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
    int64_t row = sqlite3_last_insert_rowid(ov_db_handle(db));
    rc = rc ? rc : vf_keys_add(cl->app, row, c->c.id, cl->hash, NULL, NULL, NULL);
    if (rc == 0) {
        st = ov_db_stmt(db, "context_tallied");
        rc = ov_db_bind_int64(st, 1, row);
        rc = rc ? rc : ov_db_bind_text(st, 2, c->c.id, strlen(c->c.id));
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
        rc = rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
    }
    cl->written = rc == 0;
    return rc;
}

struct due {
    struct vf_context *list[256];
    size_t n;
    uint64_t now;
    uint64_t epoch_s;
};

static void
collect_due(void *ctx, struct vf_context *c)
{
    struct due *d = ctx;
    /* with epochs, one epoch more than the actions need: the issuer's issuances of the
     * context, held for the same epochs, are in the log before its tally (docs/PROTOCOL.md
     * §3.1) */
    if (!c->tallied && d->now >= c->c.closes + 2u * d->epoch_s && d->n < 256) {
        d->list[d->n++] = c;
    }
}

/* A statement round's results at tally_size, seeded by the root there (§11.3): once every
 * row of the round is counted (checked first on the follower's own connection, so that a
 * round waiting for the log is not computed again every poll), and once the log holds both
 * result files (results.h: the tally pins them). 1 computed, 0 not yet. */
static int
round_results(struct vf_app *app, struct ov_db *db, const struct vf_context *c,
              struct ov_tally_results *out)
{
    struct vf_round_copy cp;
    struct ov_round_input in;
    struct ov_roundresult r;
    uint8_t seed[32];
    if (!vf_results_due()) {
        return 0; /* an upload failed: retried after its backoff */
    }
    int rc = ov_db_exec(db, "BEGIN");
    rc = rc ? rc : all_counted(db, c, app->tally_size);
    (void)!ov_db_exec(db, "COMMIT");
    if (rc <= 0) {
        return rc;
    }
    pthread_mutex_lock(&app->tally_mu);
    rc = vf_round_copy(c, &cp);
    memcpy(seed, app->tally_root, sizeof seed);
    pthread_mutex_unlock(&app->tally_mu);
    rc = rc ? rc : vf_round_input(&cp, &app->bridge, seed, &in);
    rc = rc ? rc : ov_roundresult_run(&in, &r);
    vf_round_input_free(&in);
    if (rc == 0) {
        int up = vf_results_upload(app, &r); /* 0: not yet, the tally waits */
        rc = up == 1 ? ov_roundresult_summary(&r, out) : up;
        ov_roundresult_free(&r);
        return rc < 0 ? rc : up;
    }
    return rc < 0 ? rc : 1;
}

/* Step 3: the tally entries of the contexts that closed. */
static void
close_contexts(struct vf_app *app, struct ov_db *db)
{
    struct due d = { .n = 0, .now = vf_now(), .epoch_s = app->epoch_s };
    vf_context_each(app, collect_due, &d);
    for (size_t i = 0; i < d.n; i++) {
        struct ov_tally_results res;
        struct closing cl = { app, d.list[i], app->tally_size, false, { 0 }, NULL };
        memset(&res, 0, sizeof res);
        bool statements = vf_statement_round(cl.c);
        int rc = statements ? round_results(app, db, cl.c, &res) : 1;
        cl.results = statements ? &res : NULL;
        rc = rc <= 0 ? rc : vf_committer_run(app, close_tx, &cl, false);
        free(res.helpful);
        free(res.not_helpful);
        if (rc != 0) {
            fprintf(stderr, "onevoice-verifier: tally of %s: %s\n", cl.c->c.id, ov_strerror(rc));
        }
        if (rc == 0 && cl.written) {
            pthread_mutex_lock(&app->tally_mu);
            cl.c->tally.final = true;
            cl.c->tally.final_size = cl.size;
            memcpy(cl.c->tally.final_hash, cl.hash, 32);
            memcpy(cl.c->tally.final_seed, app->tally_root, 32);
            pthread_mutex_unlock(&app->tally_mu);
            cl.c->tallied = true;
            vf_sender_kick(app);
        }
    }
}

/* Reads the new entries. Bundles holding only rows of ours the log acknowledged are not
 * fetched: their hashes come from our database. Should those not give the log's root (the
 * log acknowledged an index its tree does not have there), the round reads every bundle
 * again, so that the verdict on the log rests on what it serves. */
static int
sync_round(struct ov_db *db, struct ov_logreader *reader, const struct ov_logreader_cp *cp,
           struct round *r)
{
    struct ov_logreader_hooks h = { on_entry, on_leaf, own_leaves, r };
    r->db = db;
    int rc = ov_logreader_sync_hooks(reader, cp, &h);
    if (rc == -OV_E_BAD_PROOF) {
        round_clear(r);
        h.known = NULL;
        rc = ov_logreader_sync_hooks(reader, cp, &h);
        if (rc == 0) { /* the tree is sound: it was the acknowledgements */
            fprintf(stderr, "onevoice-verifier: the log's tree does not hold our rows at the "
                            "indices it acknowledged; every entry was read instead\n");
        }
    }
    return rc;
}

/* After a failed round: the reader goes back to the state the database saved (it read
 * entries whose rows may not be adopted), and the next round reads them again. */
static void
rewind_reader(struct vf_app *app, struct ov_db *db, struct ov_logreader *reader)
{
    sqlite3_stmt *st = ov_db_stmt(db, "follow_get");
    struct ov_bytes state;
    uint8_t zero[8] = { 0 };
    int rc = ov_db_step(st);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_blob(st, 0, 8 + 64 * OV_HASH_LEN, &state);
    } else if (rc == OV_DB_DONE) {
        state = OV_BYTES(zero, sizeof zero); /* nothing saved yet: from the start */
        rc = 0;
    }
    rc = rc < 0 ? rc : ov_logreader_resume(reader, state);
    ov_db_reset(st);
    if (rc != 0) {
        fprintf(stderr, "onevoice-verifier: cannot rewind the log reader (%s): stopping the "
                        "follower would be safer than skipping entries; restart the verifier\n",
                ov_strerror(rc));
        atomic_store(&app->caught_up, false);
    }
}

/* ---- a round, chunk by chunk ------------------------------------------------------------
 * A round reads the log up to its checkpoint in chunks, each ending at a bundle boundary
 * after at most VF_CHUNK_FETCHED bundles to fetch (a bundle holding only our acknowledged
 * rows is not fetched: own_leaves) and VF_CHUNK_BUNDLES bundles in all. Each chunk is
 * checked against a root before anything of it is used, then adopted and saved in one
 * transaction (take_contexts): after a database begun again (--init) under a log of
 * millions of our entries, memory holds one chunk, and a kill -9 loses at most the chunk
 * being read. A chunk that ends before the checkpoint is checked against the root of its
 * end, which the log proves: a consistency proof from that size to the checkpoint's, read
 * with the checkpoint's verified root (chunk_root). */

#define VF_CHUNK_FETCHED 1  /* bundles fetched per chunk: at most 256 entries held */
#define VF_CHUNK_BUNDLES 64 /* bundles per chunk: 16384 leaf hashes (512 KiB) at most */

static bool
pow2(uint64_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* Where the chunk that starts at from ends (<= size). Never at a power of two short of
 * size: the consistency proof from such a size omits its root (RFC 9162 §2.1.4.2: the
 * verifier prepends it), so chunk_root could not read it. */
static int
chunk_end(struct round *r, uint64_t from, uint64_t size, uint64_t *end)
{
    uint8_t hashes[OV_TILE_WIDTH * OV_HASH_LEN];
    unsigned fetched = 0, bundles = 0;
    uint64_t m = from;
    int rc = 0;
    while (rc == 0 && m < size &&
           (pow2(m) || (fetched < VF_CHUNK_FETCHED && bundles < VF_CHUNK_BUNDLES))) {
        uint64_t e = (m / OV_TILE_WIDTH + 1) * OV_TILE_WIDTH;
        e = e < size ? e : size;
        rc = own_leaves(r, m, e, hashes);
        fetched += rc == 0;
        rc = rc < 0 ? rc : 0;
        bundles++;
        m = e;
    }
    *end = m;
    return rc;
}

/* The old root a consistency proof from m to n leads from (RFC 9162 §2.1.4.2, whose
 * algorithm computes both roots from the proof alone when m is not a power of two): read
 * off here, proven by ov_merkle_verify_consistency in chunk_root. */
static int
proof_old_root(uint64_t m, uint64_t n, const uint8_t *proof, size_t n_proof,
               uint8_t out[OV_HASH_LEN])
{
    if (n_proof == 0 || m == 0 || m >= n || pow2(m)) {
        return -OV_E_BAD_PROOF;
    }
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    memcpy(out, proof, OV_HASH_LEN);
    int rc = 0;
    for (size_t i = 1; i < n_proof && rc == 0; i++) {
        if (sn == 0) {
            return -OV_E_BAD_PROOF;
        }
        if ((fn & 1) || fn == sn) {
            rc = ov_merkle_node_hash(proof + i * OV_HASH_LEN, out, out);
            while (fn != 0 && !(fn & 1)) {
                fn >>= 1;
                sn >>= 1;
            }
        }
        fn >>= 1;
        sn >>= 1;
    }
    return rc;
}

/* The root of the log's first m entries, proven by the log against the verified
 * checkpoint cp: the chunk [.., m) is then checked against it as a whole round would be.
 * -OV_E_NOT_FOUND when the log serves no consistency proofs (404). */
static int
chunk_root(struct vf_app *app, struct ov_httpc *h, uint64_t m, const struct ov_logreader_cp *cp,
           uint8_t root[OV_HASH_LEN])
{
    char url[1200];
    uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
    size_t n = 0;
    struct ov_httpc_resp resp;
    memset(&resp, 0, sizeof resp);
    snprintf(url, sizeof url, "%s/proof/consistency?old=%llu&size=%llu", app->log.url,
             (unsigned long long)m, (unsigned long long)cp->size);
    int rc = ov_httpc_get(h, url, OV_MAX_LOGPROOF_LEN, &resp);
    rc = rc || resp.status == 200 ? rc : (resp.status == 404 ? -OV_E_NOT_FOUND : -OV_E_HTTP);
    rc = rc ? rc
            : ov_logproof_parse(OV_LOGPROOF_CONSISTENCY, ov_buf_view(&resp.body), m, cp->size,
                                proof, &n);
    rc = rc ? rc : proof_old_root(m, cp->size, proof, n, root);
    rc = rc ? rc : ov_merkle_verify_consistency(m, cp->size, root, cp->root, proof, n);
    ov_httpc_resp_clear(&resp);
    return rc;
}

/* One chunk: read, checked, its leaves into the window (and, the last, the checkpoint
 * published), its contexts and lost rows taken with the reader's position. */
static int
chunk_once(struct vf_app *app, struct ov_db *db, struct ov_logreader *reader,
           const struct ov_logreader_cp *cp, struct ov_httpc *h, size_t *adopted)
{
    struct round r;
    struct ov_logreader_cp part; /* the chunk's end, when it is not the checkpoint's */
    uint64_t end = 0;
    memset(&r, 0, sizeof r);
    memset(&part, 0, sizeof part);
    r.db = db;
    *adopted = 0;
    int rc = chunk_end(&r, ov_logreader_size(reader), cp->size, &end);
    bool last = end >= cp->size; /* (beyond it: the log shrank, which the sync says) */
    part.size = end;
    rc = rc || last ? rc : chunk_root(app, h, end, cp, part.root);
    if (rc == -OV_E_NOT_FOUND) { /* a log without the endpoint: the rest in one chunk */
        last = true;
        rc = 0;
    }
    rc = rc ? rc : sync_round(db, reader, last ? cp : &part, &r);
    rc = rc ? rc : publish(app, reader, &r, last ? cp : NULL);
    if (rc == 0 && last) {
        vf_notify(app, VF_CH_PROOF, app->cp_size); /* the proofs are there now */
    }
    rc = rc ? rc : take_contexts(app, reader, &r, cp, adopted);
    if (rc != 0) {
        rewind_reader(app, db, reader);
    }
    round_clear(&r);
    return rc;
}

/* Reads up to cp, chunk by chunk (stopping between two when the verifier stops). */
static int
read_chunks(struct vf_app *app, struct ov_db *db, struct ov_logreader *reader,
            const struct ov_logreader_cp *cp)
{
    struct ov_httpc *h = NULL;
    size_t adopted = 0, total = 0;
    int rc = ov_httpc_new(&h);
    do {
        rc = rc ? rc : chunk_once(app, db, reader, cp, h, &adopted);
        total += adopted;
    } while (rc == 0 && ov_logreader_size(reader) < cp->size && !atomic_load(&app->stopping));
    ov_httpc_free(h);
    if (total > 0) {
        fprintf(stderr, "onevoice-verifier: the log holds %zu entr%s of ours this database did "
                        "not (restored from a backup, or begun again with --init): adopted, "
                        "so no token they spent is counted again\n",
                total, total == 1 ? "y" : "ies");
    }
    return rc;
}

/* One round; returns 0 or the step that failed. */
static int
round_once(struct vf_app *app, struct ov_db *db, struct ov_logreader *reader)
{
    struct ov_logreader_cp cp;
    int rc = ov_logreader_checkpoint(reader, &cp);
    if (rc != 0) {
        return rc;
    }
    if (cp.size > ov_logreader_size(reader) || app->cp_size != cp.size) {
        rc = read_chunks(app, db, reader, &cp);
    }
    ov_logreader_cp_clear(&cp);
    if (rc == 0) {
        uint8_t root[32];
        pthread_rwlock_rdlock(&app->tree_lock); /* (written by this thread alone) */
        uint64_t size = app->cp_size;
        memcpy(root, app->cp_root, sizeof root);
        pthread_rwlock_unlock(&app->tree_lock);
        rc = count(app, db, size, root);
    }
    if (rc == 0) {
        close_contexts(app, db);
    }
    return rc;
}

/* Whether the verified checkpoint covers the last entry the log holds from us (GET
 * /producers/verifier, docs/PROTOCOL.md §4.2): the log keeps appending while witnesses are
 * short of a quorum, and a lost row in that unpublished tail must be adopted before any
 * action is decided. A log without that endpoint (404) cannot say: the checkpoint is taken
 * as all there is. */
static bool
covers_ours(struct vf_app *app)
{
    char url[1200];
    struct ov_httpc *h = NULL;
    struct ov_httpc_resp resp;
    memset(&resp, 0, sizeof resp);
    snprintf(url, sizeof url, "%s/producers/%s", app->log.url, VF_PRODUCER);
    int rc = ov_httpc_new(&h);
    rc = rc ? rc : ov_httpc_get(h, url, 4096, &resp);
    bool covered = false;
    if (rc == 0 && resp.status == 404) {
        covered = true;
    } else if (rc == 0 && resp.status == 200) {
        json_t *j = json_loadb((const char *)resp.body.ptr, resp.body.len, 0, NULL);
        json_t *last = json_object_get(j, "last_index");
        uint64_t size = atomic_load(&app->verified_size);
        covered = json_is_null(last) ||
                  (json_is_integer(last) && json_integer_value(last) >= 0 &&
                   (uint64_t)json_integer_value(last) < size);
        static bool said; /* the follower's thread alone */
        if (!covered && json_is_integer(last) && !said) {
            said = true;
            fprintf(stderr, "onevoice-verifier: the log holds entries of ours up to index %lld, "
                            "beyond its published checkpoint (%llu): actions wait until a "
                            "checkpoint covers them\n",
                    (long long)json_integer_value(last), (unsigned long long)size);
        }
        json_decref(j);
    }
    ov_httpc_resp_clear(&resp);
    ov_httpc_free(h);
    return covered;
}

static void
sleep_ms(struct vf_app *app, uint32_t ms)
{
    for (uint32_t t = 0; t < ms && !atomic_load(&app->stopping); t += 10) {
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

struct follower {
    struct vf_app *app;
    struct ov_logreader *reader;
    struct ov_db *db; /* reads only: writes go through the committer */
    bool started;
};

static struct follower g_follower;

static void *
follower_main(void *arg)
{
    pthread_setname_np(pthread_self(), "vf-follow"); /* for top -H and perf */
    struct follower *f = arg;
    int last = 0;
    while (!atomic_load(&f->app->stopping)) {
        int rc = round_once(f->app, f->db, f->reader);
        if (rc != 0) {
            ov_counter_add(f->app->m_log_errors, 1);
            if (rc != last) {
                fprintf(stderr, "onevoice-verifier: following the log: %s\n", ov_strerror(rc));
            }
        }
        last = rc;
        if (rc == 0 && !atomic_load(&f->app->caught_up) && covers_ours(f->app)) {
            /* the log read up to a checkpoint of now, every lost row adopted: actions may
             * be decided (h_actions.c waits for this) */
            atomic_store(&f->app->caught_up, true);
            vf_notify(f->app, VF_CH_CAUGHT_UP, 1);
        }
        sleep_ms(f->app, f->app->poll_ms);
    }
    return NULL;
}

int
vf_follower_init(struct vf_app *app)
{
    struct follower *f = &g_follower;
    f->app = app;
    int rc = vf_store_open(app->dir, &f->db);
    rc = rc ? rc : ov_logreader_new(&app->log, &f->reader);
    rc = rc ? rc : load_contexts(app, f->db);
    rc = rc ? rc : load_follow(app, f->db, f->reader);
    if (rc != 0) {
        ov_logreader_free(f->reader);
        ov_db_close(f->db);
        memset(f, 0, sizeof *f);
    }
    return rc;
}

int
vf_follower_start(struct vf_app *app)
{
    struct follower *f = &g_follower;
    if (f->app != app || pthread_create(&app->follower_th, NULL, follower_main, f) != 0) {
        return -OV_E_NOMEM;
    }
    f->started = true;
    return 0;
}

void
vf_follower_stop(struct vf_app *app)
{
    struct follower *f = &g_follower;
    if (f->app == NULL) {
        return;
    }
    if (f->started) {
        pthread_join(app->follower_th, NULL);
    }
    ov_logreader_free(f->reader);
    ov_db_close(f->db);
    memset(f, 0, sizeof *f);
}
