/* Unit tests: core/infra/rowmap. Random puts, commits and rollbacks checked against a plain list
 * of what must be there, with keys crowded onto few home slots (long clusters that wrap
 * around the table's end) so that removal's backward shift and growth are exercised; and
 * the map beside a real SQLite table (ov_rowmap_tx, ov_rowmap_confirm). */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../test.h"
#include "infra/rowmap.h"

#define N_OPS 20000

struct pair {
    uint32_t key;
    uint64_t row;
};

static struct pair committed[N_OPS], pending[N_OPS];
static size_t n_committed, n_pending;

/* How many (key, row) pairs the reference holds for key, and whether row is one of them. */
static size_t
ref_count(uint32_t key, uint64_t row, size_t *has_row)
{
    size_t n = 0;
    *has_row = 0;
    for (size_t i = 0; i < n_committed; i++) {
        n += committed[i].key == key;
        *has_row += committed[i].key == key && committed[i].row == row;
    }
    for (size_t i = 0; i < n_pending; i++) {
        n += pending[i].key == key;
        *has_row += pending[i].key == key && pending[i].row == row;
    }
    return n;
}

static int mismatches;

static void
check_key(struct ov_rowmap *m, uint32_t key)
{
    uint64_t rows[64];
    size_t n = ov_rowmap_find(m, key, rows, 64), has = 0;
    if (n != ref_count(key, 0, &has)) {
        mismatches++;
        return;
    }
    for (size_t i = 0; i < n && i < 64; i++) {
        if (ref_count(key, rows[i], &has) == 0 || has == 0) {
            mismatches++;
        }
    }
}

/* Keys on few home slots of one segment: the top 6 bits pick the segment, the low bits one
 * of 8 homes (some at the end of the segment's first table). */
static uint32_t
crowded_key(void)
{
    static const uint32_t homes[] = { 0, 1, 2, 1021, 1022, 1023, 511, 512 };
    uint32_t hi = randombytes_uniform(1u << 10);
    return 0x2au << 26 | hi << 16 | homes[randombytes_uniform(8)];
}

static const char *const table_migrations[] = {
    "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL) STRICT;",
};
static const struct ov_db_stmt_def table_stmts[] = {
    { "t_put", "INSERT INTO t (id, k) VALUES (?, ?)" },
    { "t_check", "SELECT 1 FROM t WHERE id = ? AND k = ?" },
};
static const struct ov_db_schema table_schema = { table_migrations, 1, table_stmts, 2 };

struct put_arg {
    struct ov_rowmap *m;
    int64_t id;
    const char *k;
    int fail; /* returned after the row and its key went in */
};

static int
key_of(struct ov_rowmap *m, const char *k, uint32_t *key)
{
    struct ov_bytes part = OV_BYTES(k, strlen(k));
    return ov_rowmap_key(m, 1, &part, 1, key);
}

/* A transaction: the row (id, k) and its key, then a->fail. */
static int
put_row(struct ov_db *db, void *arg)
{
    const struct put_arg *a = arg;
    sqlite3_stmt *st = ov_db_stmt(db, "t_put");
    uint32_t key = 0;
    int rc = ov_db_bind_int64(st, 1, a->id);
    rc = rc ? rc : ov_db_bind_text(st, 2, a->k, strlen(a->k));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    rc = rc < 0 ? rc : 0;
    rc = rc ? rc : key_of(a->m, a->k, &key);
    rc = rc ? rc : ov_rowmap_put(a->m, key, (uint64_t)a->id);
    return rc ? rc : a->fail;
}

static int
bind_k(sqlite3_stmt *st, const void *k)
{
    return ov_db_bind_text(st, 2, k, strlen(k));
}

static int
confirm_k(struct ov_rowmap *m, struct ov_db *db, const char *k, uint64_t *row)
{
    uint32_t key = 0;
    int rc = key_of(m, k, &key);
    return rc ? rc : ov_rowmap_confirm(m, key, ov_db_stmt(db, "t_check"), bind_k, k, row);
}

static void
test_with_table(void)
{
    char dir[256], path[300];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/ov_test_rowmap.XXXXXX", tmp != NULL ? tmp : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/t.db", dir);
    struct ov_db *db = NULL;
    struct ov_rowmap *m = NULL;
    uint64_t row = 0;
    CHECK(ov_db_open(path, 0, &table_schema, &db) == 0 && ov_rowmap_new(&m) == 0);
    if (db == NULL || m == NULL) {
        return;
    }
    /* a committed transaction keeps its key; a failed one leaves neither row nor key */
    struct put_arg a = { m, 1, "alpha", 0 }, b = { m, 2, "beta", -OV_E_CONFLICT };
    CHECK_EQ_INT(ov_rowmap_tx(m, db, put_row, &a), 0);
    CHECK_EQ_INT(ov_rowmap_tx(m, db, put_row, &b), -OV_E_CONFLICT);
    CHECK_EQ_INT(ov_rowmap_count(m), 1);
    CHECK(confirm_k(m, db, "alpha", &row) == 1 && row == 1);
    CHECK(confirm_k(m, db, "beta", &row) == 0 && row == 0);
    ov_rowmap_rollback(m); /* nothing pending: the committed key stays */
    CHECK(confirm_k(m, db, "alpha", &row) == 1 && row == 1);
    /* candidates the table does not confirm are passed over */
    uint32_t key = 0;
    CHECK(key_of(m, "alpha", &key) == 0);
    CHECK(ov_rowmap_put(m, key, 7) == 0 && ov_rowmap_put(m, key, 8) == 0);
    CHECK(confirm_k(m, db, "alpha", &row) == 1 && row == 1);
    /* nine rows under one digest are not chance */
    for (uint64_t r = 9; r < 15; r++) {
        CHECK(ov_rowmap_put(m, key, r) == 0);
    }
    CHECK(confirm_k(m, db, "alpha", &row) == -OV_E_STATE && row == 0);
    ov_rowmap_free(m);
    ov_db_close(db);
    static const char *const suffix[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < 3; i++) {
        char p[320];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    test_with_table();
    struct ov_rowmap *m = NULL;
    CHECK(ov_rowmap_new(&m) == 0);
    /* a rollback removes the oldest first: the first key sits on its home slot, and the
     * second one, of the same home, must shift back into it before it is removed too */
    uint64_t two[2];
    CHECK(ov_rowmap_put(m, 5, 1) == 0 && ov_rowmap_put(m, 5 + 1024, 2) == 0);
    ov_rowmap_rollback(m);
    CHECK_EQ_INT(ov_rowmap_count(m), 0);
    CHECK(ov_rowmap_put(m, 5 + 1024, 3) == 0);
    CHECK(ov_rowmap_find(m, 5 + 1024, two, 2) == 1 && two[0] == 3);
    ov_rowmap_rollback(m);
    uint64_t row = 1;
    for (int op = 0; op < N_OPS; op++) {
        uint32_t r = randombytes_uniform(100);
        if (r < 70) {
            /* a new row, sometimes under a key already there */
            uint32_t key = (r < 10 && n_committed > 0)
                               ? committed[randombytes_uniform((uint32_t)n_committed)].key
                               : crowded_key();
            if (ov_rowmap_put(m, key, row) != 0) {
                mismatches++;
            }
            pending[n_pending++] = (struct pair){ key, row++ };
        } else if (r < 85) {
            ov_rowmap_commit(m);
            memcpy(committed + n_committed, pending, n_pending * sizeof *pending);
            n_committed += n_pending;
            n_pending = 0;
        } else {
            ov_rowmap_rollback(m);
            n_pending = 0;
        }
        if (op % 97 == 0) {
            for (size_t i = 0; i < n_committed; i += 7) {
                check_key(m, committed[i].key);
            }
            check_key(m, crowded_key()); /* mostly absent */
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK_EQ_INT(ov_rowmap_count(m), n_committed + n_pending);
    CHECK(n_committed > 1024); /* the table grew past its first size */

    /* every committed pair is found, and none after a full rollback of new ones */
    ov_rowmap_commit(m);
    n_committed += n_pending;
    memcpy(committed + n_committed - n_pending, pending, n_pending * sizeof *pending);
    n_pending = 0;
    for (size_t i = 0; i < n_committed; i++) {
        check_key(m, committed[i].key);
    }
    CHECK_EQ_INT(mismatches, 0);
    size_t before = ov_rowmap_count(m);
    for (uint32_t k = 1; k <= 5000; k++) {
        CHECK(ov_rowmap_put(m, k << 16 | 1023, k) == 0);
    }
    ov_rowmap_rollback(m);
    CHECK_EQ_INT(ov_rowmap_count(m), before);
    for (size_t i = 0; i < n_committed; i++) {
        check_key(m, committed[i].key);
    }
    CHECK_EQ_INT(mismatches, 0);

    /* keys spread over every segment, each growing on its own: all found, then undone */
    static uint32_t spread[50000];
    before = ov_rowmap_count(m);
    for (uint32_t i = 0; i < 50000; i++) {
        spread[i] = randombytes_random();
        CHECK(ov_rowmap_put(m, spread[i], 1000000 + i) == 0);
    }
    size_t lost = 0;
    for (uint32_t i = 0; i < 50000; i++) {
        uint64_t found[8];
        size_t n = ov_rowmap_find(m, spread[i], found, 8), has = 0;
        for (size_t j = 0; j < n && j < 8; j++) {
            has += found[j] == 1000000 + i;
        }
        lost += has != 1;
    }
    CHECK_EQ_INT(lost, 0);
    ov_rowmap_rollback(m);
    CHECK_EQ_INT(ov_rowmap_count(m), before);

    /* find reports the total even when rows[] is too small */
    uint64_t rows[2];
    CHECK(ov_rowmap_put(m, 42, 7) == 0 && ov_rowmap_put(m, 42, 8) == 0);
    CHECK(ov_rowmap_put(m, 42, 9) == 0);
    CHECK_EQ_INT(ov_rowmap_find(m, 42, rows, 2), 3);
    CHECK_EQ_INT(ov_rowmap_find(m, 43, rows, 2), 0);
    /* a digest of 0 is a key like any other */
    CHECK(ov_rowmap_put(m, 0, 5) == 0);
    CHECK_EQ_INT(ov_rowmap_find(m, 0, rows, 2), 1);
    CHECK_EQ_INT(rows[0], 5);
    /* rows are 32-bit: the largest fits, the next is refused and leaves nothing behind */
    CHECK(ov_rowmap_put(m, 44, UINT32_MAX - 1) == 0);
    CHECK(ov_rowmap_find(m, 44, rows, 2) == 1 && rows[0] == UINT32_MAX - 1);
    size_t n_before = ov_rowmap_count(m);
    CHECK(ov_rowmap_put(m, 45, UINT32_MAX) == -OV_E_TOO_BIG);
    CHECK(ov_rowmap_count(m) == n_before && ov_rowmap_find(m, 45, rows, 2) == 0);

    /* key digests: parts are length-prefixed, tags separate kinds */
    uint32_t k1, k2, k3, k4;
    struct ov_bytes ab_c[] = { OV_BYTES_STR("ab"), OV_BYTES_STR("c") };
    struct ov_bytes a_bc[] = { OV_BYTES_STR("a"), OV_BYTES_STR("bc") };
    CHECK(ov_rowmap_key(m, 1, ab_c, 2, &k1) == 0);
    CHECK(ov_rowmap_key(m, 1, a_bc, 2, &k2) == 0);
    CHECK(ov_rowmap_key(m, 2, ab_c, 2, &k3) == 0);
    CHECK(ov_rowmap_key(m, 1, ab_c, 2, &k4) == 0);
    CHECK(k1 != k2 && k1 != k3 && k1 == k4);
    static uint8_t big[OV_ROWMAP_KEY_MAX];
    struct ov_bytes too_big[] = { OV_BYTES(big, sizeof big) };
    CHECK(ov_rowmap_key(m, 1, too_big, 1, &k1) == -OV_E_TOO_BIG && k1 == 0);
    /* a second map has another secret: its digests differ */
    struct ov_rowmap *m2 = NULL;
    CHECK(ov_rowmap_new(&m2) == 0);
    CHECK(ov_rowmap_key(m2, 1, ab_c, 2, &k2) == 0 && k2 != k4);
    ov_rowmap_free(m2);
    ov_rowmap_free(m);
    ov_rowmap_free(NULL);
    TEST_DONE("rowmap");
}
