/* lpcheck: what a wallet's `receipts` run asks of the log, through core/protocol/logproof
 * alone, for tests/e2e/tileproof.sh and the measurements in its report.
 *
 *   lpcheck URL VKEY [--head FILE] [--old M]... [--witness VKEY]... [--quorum K] ENTRY...
 *
 * Fetches the checkpoint (proven to extend the size and root in --head FILE, "SIZE ROOTHEX",
 * when it exists: ov_logproof_checkpoint); proves it extends the tree of each --old M, the
 * first M entries of logtool fixture (a receipt's checkpoint, as the wallet's `receipts`
 * checks each: ov_logproof_consistency); then proves each ENTRY in it
 * (ov_logproof_inclusion): ENTRY is INDEX:LEAFHEX, or INDEX alone for logtool fixture's entry
 * "fixture entry INDEX". Prints "checkpoint SIZE", "consistency M ok|ERROR" per --old, one
 * "inclusion INDEX ok|ERROR" per entry,
 * and "tiles N bytes B" (what the proofs fetched); saves the new head to FILE once all
 * passed. A failure prints "checkpoint ERROR" or its inclusion line (ERROR: ov_strerror's
 * name). Exit status 0 when every check passed, else 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/codec.h"
#include "primitives/note.h"
#include "protocol/logproof.h"
#include "tool.h"

static void
fail(const char *what)
{
    fprintf(stderr, "lpcheck: %s\n", what);
    exit(1);
}

static void
fixture_leaf(uint64_t index, uint8_t leaf[OV_HASH_LEN])
{
    char text[64];
    int n = snprintf(text, sizeof text, "fixture entry %llu", (unsigned long long)index);
    if (n < 0 || ov_merkle_leaf_hash((const uint8_t *)text, (size_t)n, leaf) != 0) {
        fail("leaf hash");
    }
}

/* The root of logtool fixture's first m entries. */
static void
fixture_root(uint64_t m, uint8_t root[OV_HASH_LEN])
{
    uint8_t(*leaves)[OV_HASH_LEN] = m ? malloc(m * OV_HASH_LEN) : NULL;
    if (m == 0 || leaves == NULL) {
        fail("--old M: M > 0");
    }
    for (uint64_t i = 0; i < m; i++) {
        fixture_leaf(i, leaves[i]);
    }
    if (ov_merkle_root(leaves[0], m, root) != 0) {
        fail("root");
    }
    free(leaves);
}

/* The leaf hash an ENTRY names. */
static void
entry_leaf(const char *arg, uint64_t *index, uint8_t leaf[OV_HASH_LEN])
{
    char *end = NULL;
    *index = strtoull(arg, &end, 10);
    if (end == arg) {
        fail("ENTRY is INDEX or INDEX:LEAFHEX");
    }
    if (*end == ':') {
        size_t len = 0;
        if (ov_hex_decode(leaf, OV_HASH_LEN, &len, end + 1, strlen(end + 1)) != 0 ||
            len != OV_HASH_LEN) {
            fail("LEAFHEX is 64 hex digits");
        }
        return;
    }
    if (*end != '\0') {
        fail("ENTRY is INDEX or INDEX:LEAFHEX");
    }
    fixture_leaf(*index, leaf);
}

static void
load_head(const char *path, struct ov_logproof_head *h)
{
    char hex[2 * OV_HASH_LEN + 1];
    unsigned long long size = 0;
    size_t len = 0;
    memset(h, 0, sizeof *h);
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f == NULL) {
        return;
    }
    if (fscanf(f, "%llu %64s", &size, hex) != 2 ||
        ov_hex_decode(h->root, OV_HASH_LEN, &len, hex, strlen(hex)) != 0 || len != OV_HASH_LEN) {
        fail("head file");
    }
    fclose(f);
    h->size = size;
}

static void
save_head(const char *path, const struct ov_logreader_cp *cp)
{
    char hex[2 * OV_HASH_LEN + 1], tmp[4096];
    FILE *f = NULL;
    if (ov_hex_encode(hex, sizeof hex, cp->root, OV_HASH_LEN) != 0 ||
        snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp ||
        (f = fopen(tmp, "w")) == NULL) {
        fail("save head");
    }
    fprintf(f, "%llu %s\n", (unsigned long long)cp->size, hex);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fail("save head");
    }
}

int
main(int argc, char **argv)
{
    struct ov_note_verifier wit[OV_LOGREADER_MAX_WITNESSES];
    struct ov_logreader_cfg cfg = { .url = argc > 2 ? argv[1] : NULL, .witnesses = wit };
    if (argc < 3 || sodium_init() < 0 ||
        ov_note_vkey_parse(OV_BYTES(argv[2], strlen(argv[2])), &cfg.log_key) != 0) {
        fail("usage: lpcheck URL VKEY [--head FILE] [--witness VKEY]... [--quorum K] ENTRY...");
    }
    for (int i = 3; i + 1 < argc && cfg.n_witnesses < OV_LOGREADER_MAX_WITNESSES; i++) {
        if (strcmp(argv[i], "--witness") == 0 &&
            ov_note_vkey_parse(OV_BYTES(argv[i + 1], strlen(argv[i + 1])),
                               &wit[cfg.n_witnesses++]) != 0) {
            fail("witness vkey");
        }
    }
    cfg.quorum = (unsigned)strtoul(opt(argc, argv, "--quorum", "0"), NULL, 10);
    const char *head_path = opt(argc, argv, "--head", NULL);
    struct ov_logproof_head head;
    struct ov_logproof *lp = NULL;
    struct ov_logreader_cp cp;
    load_head(head_path, &head);
    if (ov_logproof_new(&cfg, &lp) != 0) {
        fail("logproof");
    }
    int rc = ov_logproof_checkpoint(lp, &head, &cp);
    if (rc != 0) {
        printf("checkpoint %s\n", ov_strerror(rc));
        ov_logproof_free(lp);
        return 1;
    }
    printf("checkpoint %llu\n", (unsigned long long)cp.size);
    int failed = 0;
    for (int i = 3; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--old") == 0) {
            uint64_t m = strtoull(argv[i + 1], NULL, 10);
            uint8_t root[OV_HASH_LEN];
            fixture_root(m, root);
            rc = ov_logproof_consistency(lp, m, root, &cp);
            printf("consistency %llu %s\n", (unsigned long long)m, rc ? ov_strerror(rc) : "ok");
            failed |= rc != 0;
        }
    }
    for (int i = 3; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            i++; /* an option and its value */
            continue;
        }
        uint64_t index;
        uint8_t leaf[OV_HASH_LEN];
        entry_leaf(argv[i], &index, leaf);
        rc = ov_logproof_inclusion(lp, &cp, index, leaf);
        printf("inclusion %llu %s\n", (unsigned long long)index, rc ? ov_strerror(rc) : "ok");
        failed |= rc != 0;
    }
    uint64_t n_tiles, n_bytes;
    ov_logproof_stats(lp, &n_tiles, &n_bytes);
    printf("tiles %llu bytes %llu\n", (unsigned long long)n_tiles, (unsigned long long)n_bytes);
    if (!failed && head_path != NULL) {
        save_head(head_path, &cp);
    }
    ov_logreader_cp_clear(&cp);
    ov_logproof_free(lp);
    return failed;
}
