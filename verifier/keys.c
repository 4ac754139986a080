/* keys: the entries table's unique keys in a core/infra/rowmap (see app.h). The tags keep the
 * three kinds of keys apart; the confirming queries are store.c's *_check statements. */
#include <string.h>

#include "app.h"
#include "contexts.h"
#include "keys.h"

enum { KEY_SPENT = 1, KEY_RATED, KEY_HASH };

static int
spent_key(struct vf_app *app, const char *context, const uint8_t *nonce, uint32_t *key)
{
    struct ov_bytes p[] = { OV_BYTES(context, strlen(context)), OV_BYTES(nonce, 32) };
    return ov_rowmap_key(app->keys, KEY_SPENT, p, 2, key);
}

static int
rated_key(struct vf_app *app, const char *context, const uint8_t *pseudonym, const char *label,
          uint32_t *key)
{
    struct ov_bytes p[] = { OV_BYTES(context, strlen(context)),
                            OV_BYTES(pseudonym, OV_PSEUDONYM_LEN),
                            OV_BYTES(label, strlen(label)) };
    return ov_rowmap_key(app->keys, KEY_RATED, p, 3, key);
}

static int
hash_key(struct vf_app *app, const uint8_t *hash, uint32_t *key)
{
    struct ov_bytes p[] = { OV_BYTES(hash, 32) };
    return ov_rowmap_key(app->keys, KEY_HASH, p, 1, key);
}

int
vf_keys_add(struct vf_app *app, int64_t row, const char *context, const uint8_t hash[32],
            const uint8_t *nonce, const uint8_t *pseudonym, const char *label)
{
    uint32_t k = 0;
    int rc = hash_key(app, hash, &k);
    rc = rc ? rc : ov_rowmap_put(app->keys, k, (uint64_t)row);
    if (rc == 0 && nonce != NULL) {
        rc = spent_key(app, context, nonce, &k);
        rc = rc ? rc : ov_rowmap_put(app->keys, k, (uint64_t)row);
    }
    if (rc == 0 && pseudonym != NULL && label != NULL) {
        rc = rated_key(app, context, pseudonym, label, &k);
        rc = rc ? rc : ov_rowmap_put(app->keys, k, (uint64_t)row);
    }
    return rc;
}

/* The row the statement `check` confirms among key's candidates (ov_rowmap_confirm). */
static int
confirm(struct vf_app *app, struct ov_db *db, uint32_t key, const char *check,
        int (*bind)(sqlite3_stmt *st, const void *arg), const void *arg, int64_t *row)
{
    uint64_t r = 0;
    int rc = ov_rowmap_confirm(app->keys, key, ov_db_stmt(db, check), bind, arg, &r);
    *row = (int64_t)r;
    return rc;
}

struct spent_arg {
    const char *context;
    const uint8_t *nonce;
};

static int
bind_spent(sqlite3_stmt *st, const void *arg)
{
    const struct spent_arg *a = arg;
    int rc = ov_db_bind_text(st, 2, a->context, strlen(a->context));
    return rc ? rc : ov_db_bind_blob(st, 3, OV_BYTES(a->nonce, 32));
}

int
vf_keys_spent(struct vf_app *app, struct ov_db *db, const char *context, const uint8_t nonce[32],
              int64_t *row)
{
    struct spent_arg a = { context, nonce };
    uint32_t k = 0;
    int rc = spent_key(app, context, nonce, &k);
    return rc ? rc : confirm(app, db, k, "spent_check", bind_spent, &a, row);
}

struct rated_arg {
    const char *context;
    const uint8_t *pseudonym;
    const char *label;
};

static int
bind_rated(sqlite3_stmt *st, const void *arg)
{
    const struct rated_arg *a = arg;
    int rc = ov_db_bind_text(st, 2, a->context, strlen(a->context));
    rc = rc ? rc : ov_db_bind_blob(st, 3, OV_BYTES(a->pseudonym, OV_PSEUDONYM_LEN));
    return rc ? rc : ov_db_bind_text(st, 4, a->label, strlen(a->label));
}

int
vf_keys_rated(struct vf_app *app, struct ov_db *db, const char *context, const uint8_t *pseudonym,
              const char *label, int64_t *row)
{
    struct rated_arg a = { context, pseudonym, label };
    uint32_t k = 0;
    int rc = rated_key(app, context, pseudonym, label, &k);
    return rc ? rc : confirm(app, db, k, "rated_check", bind_rated, &a, row);
}

static int
bind_hash(sqlite3_stmt *st, const void *arg)
{
    return ov_db_bind_blob(st, 2, OV_BYTES(arg, 32));
}

int
vf_keys_hash(struct vf_app *app, struct ov_db *db, const uint8_t hash[32], int64_t *row)
{
    uint32_t k = 0;
    int rc = hash_key(app, hash, &k);
    return rc ? rc : confirm(app, db, k, "hash_check", bind_hash, hash, row);
}

/* A statement row (keys_all: a pseudonym without a rating): kept in its round's list. */
static void
load_statement(struct vf_app *app, const char *context, const char *id, const uint8_t *author,
               int64_t row)
{
    struct vf_context *c = vf_context_find(app, context);
    if (c == NULL || c->stmts == NULL || c->n_stmts >= OV_MAX_ROUND_STATEMENTS ||
        ov_statement_id_check(id) != 0) {
        return; /* (a context the log no longer names: nothing decides in it) */
    }
    struct vf_stmt *s = &c->stmts[c->n_stmts++];
    memcpy(s->id, id, sizeof s->id);
    memcpy(s->author, author, OV_PSEUDONYM_LEN);
    s->row = row;
}

/* Reads one row of "keys_all" and adds its keys. */
static int
load_row(struct vf_app *app, sqlite3_stmt *st)
{
    int64_t row = 0;
    struct ov_bytes ctx, label;
    uint8_t hash[32], nonce[32], pseudonym[OV_PSEUDONYM_LEN];
    char context[OV_MAX_CONTEXT_ID_LEN + 1], lab[OV_MAX_LABEL_LEN + 1];
    bool has_nonce = !ov_db_col_is_null(st, 3), has_pseudonym = !ov_db_col_is_null(st, 4);
    bool statement = has_pseudonym && ov_db_col_is_null(st, 6);
    int rc = ov_db_col_int64(st, 0, &row);
    rc = rc ? rc : ov_db_col_text(st, 1, OV_MAX_CONTEXT_ID_LEN, &ctx);
    rc = rc ? rc : ov_db_col_fixed(st, 2, hash, sizeof hash);
    rc = rc || !has_nonce ? rc : ov_db_col_fixed(st, 3, nonce, sizeof nonce);
    rc = rc || !has_pseudonym ? rc : ov_db_col_fixed(st, 4, pseudonym, sizeof pseudonym);
    rc = rc || !has_pseudonym ? rc : ov_db_col_text(st, 5, OV_MAX_LABEL_LEN, &label);
    if (rc != 0) {
        return rc;
    }
    memcpy(context, ctx.ptr, ctx.len);
    context[ctx.len] = 0;
    if (has_pseudonym) {
        memcpy(lab, label.ptr, label.len);
        lab[label.len] = 0;
    }
    if (statement) {
        load_statement(app, context, lab, pseudonym, row);
    }
    bool rated = has_pseudonym && !statement;
    return vf_keys_add(app, row, context, hash, has_nonce ? nonce : NULL,
                       rated ? pseudonym : NULL, rated ? lab : NULL);
}

int
vf_keys_load(struct vf_app *app, struct ov_db *db)
{
    int rc = ov_rowmap_new(&app->keys);
    if (rc != 0) {
        return rc;
    }
    sqlite3_stmt *st = ov_db_stmt(db, "keys_all");
    while ((rc = ov_db_step(st)) == OV_DB_ROW) {
        rc = load_row(app, st);
        if (rc != 0) {
            break;
        }
    }
    ov_db_reset(st);
    ov_rowmap_commit(app->keys);
    return rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_MALFORMED);
}

void
vf_keys_free(struct vf_app *app)
{
    ov_rowmap_free(app->keys);
    app->keys = NULL;
}
