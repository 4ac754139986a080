/* sqlbench: the storage ceiling the log's append benchmark is compared with. Inserts
 * N rows of (index, random 32-byte hash under a UNIQUE index, ENTRY_LEN bytes of data) in
 * transactions of BATCH rows, WAL and synchronous=FULL, as the log's sequencer does for
 * its leaves and bundles, with nothing else: no HTTP, no signatures, no tiles.
 * Prints "sqlbench rows R seconds S rate X". Usage: sqlbench FILE N BATCH ENTRY_LEN */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "tool.h"

int
main(int argc, char **argv)
{
    if (argc != 5 || sodium_init() < 0) {
        fprintf(stderr, "usage: sqlbench FILE N BATCH ENTRY_LEN\n");
        return 2;
    }
    long n = atol(argv[2]), batch = atol(argv[3]), len = atol(argv[4]);
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    if (n <= 0 || batch <= 0 || len <= 0 || len > 65535 || sqlite3_open(argv[1], &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE t (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,"
                     " data BLOB NOT NULL) STRICT;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?, ?)", -1, &ins, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlbench: %s\n", db ? sqlite3_errmsg(db) : "open failed");
        return 1;
    }
    unsigned char *data = calloc(1, (size_t)len), hash[32];
    double t0 = now_s();
    for (long i = 0; i < n;) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (long j = 0; j < batch && i < n; j++, i++) {
            randombytes_buf(hash, sizeof hash);
            sqlite3_bind_int64(ins, 1, i);
            sqlite3_bind_blob(ins, 2, hash, sizeof hash, SQLITE_STATIC);
            sqlite3_bind_blob(ins, 3, data, (int)len, SQLITE_STATIC);
            if (sqlite3_step(ins) != SQLITE_DONE) {
                fprintf(stderr, "sqlbench: %s\n", sqlite3_errmsg(db));
                return 1;
            }
            sqlite3_reset(ins);
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            fprintf(stderr, "sqlbench: %s\n", sqlite3_errmsg(db));
            return 1;
        }
    }
    double el = now_s() - t0;
    printf("sqlbench rows %ld seconds %.3f rate %.0f\n", n, el, (double)n / el);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    free(data);
    return 0;
}
