/* drawtool: the log entries of a draw (docs/PROTOCOL.md §10), encoded with
 * core/protocol/sortentry, for the auditor's end-to-end test (tests/e2e/audit_sortition.sh),
 * which appends them with `logtool append ... --opaque @FILE`. Each party's Ed25519 key is
 * SHA-256("drawtool party " || PARTY) as a seed and its secret SHA-256("drawtool secret " ||
 * DRAW || 0x00 || PARTY): the same names give the same entries, so a scenario is a script.
 *
 *   drawtool commit OUT DRAW PARTY TIME [--bad-sig]     the party's signed commitment
 *   drawtool pool OUT DRAW POOLFILE TIME REVEAL_BY PARTY... [--max-attempts N]
 *                                                        the pool entry naming the parties
 *                                                        (N: another number than the file's)
 *   drawtool reveal OUT DRAW PARTY TIME [--wrong]        the party's reveal (--wrong: another
 *                                                        secret than it committed to)
 *   drawtool seed DRAW POOLFILE PARTY...                 prints the seed of those reveals (hex)
 *   drawtool draw OUT DRAW DRAWFILE TIME [--replace-first ID]
 *                                                        the draw entry of a draw file
 *                                                        (onevoice-sortition draw); the first
 *                                                        panel member replaced by member ID
 * Exit status 0, or 1 with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/codec.h"
#include "primitives/sign.h"
#include "protocol/poolfile.h"
#include "protocol/sortentry.h"
#include "tool.h"

static int
die(const char *what, int rc)
{
    fprintf(stderr, "drawtool: %s%s%s\n", what, rc ? ": " : "", rc ? ov_strerror(rc) : "");
    return 1;
}

static void
hash2(const char *a, const char *b, const char *c, uint8_t out[32])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)a, strlen(a));
    crypto_hash_sha256_update(&st, (const uint8_t *)b, strlen(b) + (c != NULL));
    if (c != NULL) {
        crypto_hash_sha256_update(&st, (const uint8_t *)c, strlen(c));
    }
    crypto_hash_sha256_final(&st, out);
}

static int
party_key(const char *party, struct ov_sign_key **k)
{
    uint8_t seed[32];
    hash2("drawtool party ", party, NULL, seed);
    return ov_sign_key_from_seed(seed, k);
}

static void
party_secret(const char *draw, const char *party, uint8_t out[OV_SORT_SECRET_LEN])
{
    hash2("drawtool secret ", draw, party, out);
}

static uint64_t
num(const char *s)
{
    return strtoull(s, NULL, 10);
}

static int
write_entry(const char *path, const struct ov_sortentry *e)
{
    struct ov_buf b;
    int rc = ov_sortentry_encode(e, &b);
    rc = rc ? rc : ov_file_write_atomic(path, b.ptr, b.len, 0644);
    ov_buf_clear(&b);
    return rc ? die(path, rc) : 0;
}

static int
cmd_commit(int argc, char **argv)
{
    struct ov_sortentry e = { .kind = OV_SORTENTRY_COMMIT };
    struct ov_sort_commit *c = &e.u.commit;
    struct ov_sign_key *k = NULL;
    uint8_t secret[OV_SORT_SECRET_LEN];
    snprintf(c->draw, sizeof c->draw, "%s", argv[3]);
    snprintf(c->party, sizeof c->party, "%s", argv[4]);
    c->time = num(argv[5]);
    party_secret(c->draw, c->party, secret);
    int rc = party_key(c->party, &k);
    rc = rc ? rc : ov_sort_commitment(c->draw, secret, c->commitment);
    rc = rc ? rc : ov_sort_commit_sign(c, k);
    ov_sign_key_free(k);
    if (rc != 0) {
        return die("commit", rc);
    }
    if (flag(argc, argv, "--bad-sig")) {
        c->sig[0] ^= 1;
    }
    return write_entry(argv[2], &e);
}

static int
cmd_pool(int argc, char **argv)
{
    struct ov_sortentry e = { .kind = OV_SORTENTRY_POOL };
    struct ov_sort_poolentry *p = &e.u.pool;
    struct ov_pool_file f;
    char err[256];
    int rc = ov_pool_read(argv[4], &f, err, sizeof err);
    if (rc != 0) {
        ov_pool_free(&f);
        return die(err, rc);
    }
    snprintf(p->id, sizeof p->id, "%s", argv[3]);
    snprintf(p->title, sizeof p->title, "Assembly %s", argv[3]);
    memcpy(p->pool, f.sha256, 32);
    p->members = f.pool.n_members;
    p->panel = f.panel;
    p->reserves = f.reserves;
    p->max_attempts = f.max_attempts;
    const char *attempts = opt(argc, argv, "--max-attempts", NULL);
    if (attempts != NULL) {
        p->max_attempts = num(attempts);
        argc -= 2; /* the option comes last */
    }
    p->time = num(argv[5]);
    p->reveal_by = num(argv[6]);
    ov_pool_free(&f);
    for (int i = 7; i < argc && rc == 0 && p->n_parties < OV_SORT_MAX_PARTIES; i++) {
        struct ov_sign_key *k = NULL;
        rc = party_key(argv[i], &k);
        if (rc == 0) {
            ov_sign_key_public(k, p->parties[p->n_parties++]);
        }
        ov_sign_key_free(k);
    }
    return rc ? die("pool", rc) : write_entry(argv[2], &e);
}

static int
cmd_reveal(int argc, char **argv)
{
    struct ov_sortentry e = { .kind = OV_SORTENTRY_REVEAL };
    struct ov_sort_reveal *v = &e.u.reveal;
    struct ov_sign_key *k = NULL;
    snprintf(v->draw, sizeof v->draw, "%s", argv[3]);
    v->time = num(argv[5]);
    party_secret(v->draw, argv[4], v->reveal);
    if (flag(argc, argv, "--wrong")) {
        v->reveal[31] ^= 1;
    }
    int rc = party_key(argv[4], &k);
    if (rc == 0) {
        ov_sign_key_public(k, v->party_key);
    }
    ov_sign_key_free(k);
    return rc ? die("reveal", rc) : write_entry(argv[2], &e);
}

static int
cmd_seed(int argc, char **argv)
{
    struct ov_pool_file f;
    char err[256] = "", hex[65];
    uint8_t secrets[OV_SORT_MAX_PARTIES][OV_SORT_SECRET_LEN], seed[32];
    size_t n = 0;
    int rc = ov_pool_read(argv[3], &f, err, sizeof err);
    for (int i = 4; i < argc && n < OV_SORT_MAX_PARTIES; i++) {
        party_secret(argv[2], argv[i], secrets[n++]);
    }
    rc = rc ? rc : ov_sort_seed(f.sha256, (const uint8_t(*)[OV_SORT_SECRET_LEN])secrets, n, seed);
    rc = rc ? rc : ov_hex_encode(hex, sizeof hex, seed, 32);
    ov_pool_free(&f);
    if (rc != 0) {
        return die(err[0] ? err : "seed", rc);
    }
    printf("%s\n", hex);
    return 0;
}

static int
cmd_draw(int argc, char **argv)
{
    struct ov_sortentry e = { .kind = OV_SORTENTRY_DRAW };
    struct ov_sort_drawentry *d = &e.u.draw;
    struct ov_draw f;
    char err[256];
    int rc = ov_draw_read(argv[4], &f, err, sizeof err);
    if (rc != 0) {
        return die(err, rc);
    }
    snprintf(d->id, sizeof d->id, "%s", argv[3]);
    memcpy(d->seed, f.seed, OV_SORT_SEED_LEN);
    d->attempt = f.attempt;
    d->time = num(argv[5]);
    d->n_panel = f.n_panel;
    d->n_reserves = f.n_reserves;
    d->panel = calloc(f.n_panel, sizeof *d->panel);
    d->reserves = calloc(f.n_reserves + 1, sizeof *d->reserves);
    rc = d->panel && d->reserves ? 0 : -OV_E_NOMEM;
    for (size_t i = 0; rc == 0 && i < f.n_panel; i++) {
        d->panel[i] = f.panel[i] + 1;
    }
    for (size_t i = 0; rc == 0 && i < f.n_reserves; i++) {
        d->reserves[i] = f.reserves[i] + 1;
    }
    const char *other = opt(argc, argv, "--replace-first", NULL);
    if (rc == 0 && other != NULL) {
        d->panel[0] = (uint32_t)num(other);
    }
    ov_draw_free(&f);
    rc = rc ? die("draw", rc) : write_entry(argv[2], &e);
    ov_sortentry_clear(&e);
    return rc;
}

int
main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, "commit") == 0 && argc >= 6) {
        return cmd_commit(argc, argv);
    }
    if (strcmp(cmd, "pool") == 0 && argc >= 8) {
        return cmd_pool(argc, argv);
    }
    if (strcmp(cmd, "reveal") == 0 && argc >= 6) {
        return cmd_reveal(argc, argv);
    }
    if (strcmp(cmd, "seed") == 0 && argc >= 5) {
        return cmd_seed(argc, argv);
    }
    if (strcmp(cmd, "draw") == 0 && argc >= 6) {
        return cmd_draw(argc, argv);
    }
    fprintf(stderr, "usage: see the comment at the top of tests/tools/drawtool.c\n");
    return 1;
}
