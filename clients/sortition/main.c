/* onevoice-sortition: the operator's, the parties' and the watchdog's tool for an assembly's
 * draw (docs/PROTOCOL.md §10). import turns a CSV of respondents into the public pool file
 * (their contacts stay in a private file); check says which quotas cannot be met; draw
 * selects the panel and reserves from the pool and a seed; verify re-runs a draw; stats
 * estimates each member's chance; invitations pairs the selected members' contacts with
 * invitation codes. The commands that pin the draw in the log (key, commit, publish, reveal,
 * draw and verify with --log, status) are in onlog.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/codec.h"
#include "infra/cli.h"
#include "protocol/poolfile.h"
#include "cmds.h"
/* The private file's first line: this magic, a comma, the SHA-256 (hex) of its pool file. */
#define PRIVATE_MAGIC "onevoice-private/v1"

int
usage_error(const char *msg)
{
    fprintf(stderr, PROG ": %s (see " PROG " --help)\n", msg);
    return 2;
}

static int
seed_arg(const char *hex, uint8_t seed[OV_SORT_SEED_LEN])
{
    size_t got = 0;
    return hex != NULL && strlen(hex) == 2 * OV_SORT_SEED_LEN &&
                   sodium_hex2bin(seed, OV_SORT_SEED_LEN, hex, strlen(hex), NULL, &got, NULL) == 0 &&
                   got == OV_SORT_SEED_LEN
               ? 0
               : -OV_E_MALFORMED;
}

int
load_pool(const char *path, struct ov_pool_file *p)
{
    char err[512];
    int rc = ov_pool_read(path, p, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s: %s\n", path, err);
    }
    return rc;
}

/* ---- import -------------------------------------------------------------------------- */

struct respondent {
    uint8_t commit[32];
    uint8_t salt[16];
    uint8_t household[16];
    bool has_household;
    char *contact;
    uint8_t values[OV_SORT_MAX_CATEGORIES];
};

static int
by_commit(const void *a, const void *b)
{
    return memcmp(((const struct respondent *)a)->commit, ((const struct respondent *)b)->commit,
                  32);
}

static size_t
split_csv(char *line, char **f, size_t max)
{
    size_t n = 0;
    line[strcspn(line, "\r\n")] = 0;
    for (char *p = line; n < max;) {
        f[n++] = p;
        p = strchr(p, ',');
        if (p == NULL) {
            return n;
        }
        *p++ = 0;
    }
    return max + 1;
}

/* quotas.csv: category,value,min,max */
static int
read_quotas(const char *path, struct ov_pool_file *p)
{
    FILE *f = fopen(path, "r");
    char line[1024], *fl[5];
    unsigned long ln = 0;
    if (f == NULL) {
        fprintf(stderr, PROG ": cannot open %s: %s\n", path, strerror(errno));
        return -OV_E_IO;
    }
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        ln++;
        size_t n = split_csv(line, fl, 4);
        if (ln == 1) {
            rc = n == 4 && !strcmp(fl[0], "category") && !strcmp(fl[1], "value") &&
                         !strcmp(fl[2], "min") && !strcmp(fl[3], "max")
                     ? 0
                     : -OV_E_MALFORMED;
            continue;
        }
        uint64_t min = 0, max = 0;
        if (n != 4 || ov_pool_label_check(fl[0], strlen(fl[0])) || ov_pool_label_check(fl[1], strlen(fl[1])) ||
            ov_parse_u64(fl[2], strlen(fl[2]), &min) || ov_parse_u64(fl[3], strlen(fl[3]), &max) ||
            min > UINT32_MAX || max > UINT32_MAX) {
            rc = -OV_E_MALFORMED;
            break;
        }
        size_t c = 0, C = p->pool.n_categories;
        while (c < C && strcmp(p->cat_name[c], fl[0]) != 0) {
            c++;
        }
        if (c == C) {
            if (C == OV_SORT_MAX_CATEGORIES) {
                rc = -OV_E_RANGE;
                break;
            }
            snprintf(p->cat_name[c], sizeof p->cat_name[c], "%s", fl[0]);
            p->pool.n_categories++;
        }
        size_t k = p->pool.n_values[c];
        for (size_t j = 0; j < k && rc == 0; j++) {
            rc = strcmp(p->value_name[c][j], fl[1]) == 0 ? -OV_E_EXISTS : 0;
        }
        if (rc != 0 || k == OV_SORT_MAX_VALUES) {
            rc = rc ? rc : -OV_E_RANGE;
            break;
        }
        snprintf(p->value_name[c][k], sizeof p->value_name[c][k], "%s", fl[1]);
        p->pool.quota[c][k] = (struct ov_sort_quota){ (uint32_t)min, (uint32_t)max };
        p->pool.n_values[c]++;
    }
    fclose(f);
    if (rc != 0 || p->pool.n_categories == 0) {
        fprintf(stderr, PROG ": %s line %lu: expected the header category,value,min,max, then "
                        "one value per line (a label of UTF-8 without comma, quote or control "
                        "character, min <= max < 2^32), each "
                        "value once, at most %d categories of %d values\n",
                path, ln, OV_SORT_MAX_CATEGORIES, OV_SORT_MAX_VALUES);
        return rc ? rc : -OV_E_MALFORMED;
    }
    return 0;
}

/* respondents.csv: a header naming each category, `contact` and optionally `household`
 * (other columns are ignored and never leave this machine). */
static int
read_respondents(const char *path, const struct ov_pool_file *p, struct respondent **out,
                 size_t *n_out)
{
    FILE *f = fopen(path, "r");
    char line[OV_POOL_MAX_LINE], *fl[256];
    int col[OV_SORT_MAX_CATEGORIES], col_contact = -1, col_hh = -1;
    uint8_t hh_key[32];
    size_t n = 0, cap = 0, nf = 0, n_header = 0;
    unsigned long ln = 0;
    struct respondent *rs = NULL;
    if (f == NULL) {
        fprintf(stderr, PROG ": cannot open %s: %s\n", path, strerror(errno));
        return -OV_E_IO;
    }
    randombytes_buf(hh_key, sizeof hh_key); /* households are only compared, never reversed */
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        ln++;
        if (strchr(line, '"') != NULL) {
            fprintf(stderr, PROG ": %s line %lu: quoted CSV fields are not supported\n", path, ln);
            rc = -OV_E_MALFORMED;
            break;
        }
        nf = split_csv(line, fl, 256);
        if (ln == 1) {
            n_header = nf;
            if (nf > 256) {
                fprintf(stderr, PROG ": %s: more than 256 columns\n", path);
                rc = -OV_E_MALFORMED;
                break;
            }
            for (size_t c = 0; c < p->pool.n_categories; c++) {
                col[c] = -1;
            }
            for (size_t i = 0; i < nf && i < 256; i++) {
                for (size_t c = 0; c < p->pool.n_categories; c++) {
                    col[c] = strcmp(fl[i], p->cat_name[c]) == 0 ? (int)i : col[c];
                }
                col_contact = strcmp(fl[i], "contact") == 0 ? (int)i : col_contact;
                col_hh = strcmp(fl[i], "household") == 0 ? (int)i : col_hh;
            }
            for (size_t c = 0; c < p->pool.n_categories && rc == 0; c++) {
                if (col[c] < 0) {
                    fprintf(stderr, PROG ": %s: no column '%s' (a category of the quotas)\n", path,
                            p->cat_name[c]);
                    rc = -OV_E_MALFORMED;
                }
            }
            if (rc == 0 && col_contact < 0) {
                fprintf(stderr, PROG ": %s: no column 'contact'\n", path);
                rc = -OV_E_MALFORMED;
            }
            continue;
        }
        if (nf != n_header) { /* a short row would leave the last row's fields in fl */
            fprintf(stderr, PROG ": %s line %lu: %s%zu fields, the header has %zu\n", path, ln,
                    nf > 256 ? "more than " : "", nf > 256 ? (size_t)256 : nf, n_header);
            rc = -OV_E_MALFORMED;
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            struct respondent *x = realloc(rs, cap * sizeof *rs);
            if (x == NULL) {
                rc = -OV_E_NOMEM;
                break;
            }
            rs = x;
        }
        struct respondent *r = &rs[n];
        memset(r, 0, sizeof *r);
        for (size_t c = 0; c < p->pool.n_categories && rc == 0; c++) {
            const char *v = fl[col[c]];
            size_t k = 0;
            while (k < p->pool.n_values[c] && strcmp(p->value_name[c][k], v) != 0) {
                k++;
            }
            if (k == p->pool.n_values[c]) {
                fprintf(stderr, PROG ": %s line %lu: '%s' is not a value of '%s' in the quotas\n",
                        path, ln, v, p->cat_name[c]);
                rc = -OV_E_MALFORMED;
            }
            r->values[c] = (uint8_t)k;
        }
        const char *contact = fl[col_contact];
        if (rc == 0 && (contact[0] == 0 || strlen(contact) > 256)) {
            fprintf(stderr, PROG ": %s line %lu: a contact of 1..256 bytes is needed\n", path, ln);
            rc = -OV_E_MALFORMED;
        }
        if (rc != 0) {
            break;
        }
        r->contact = strdup(contact);
        randombytes_buf(r->salt, sizeof r->salt);
        crypto_generichash(r->commit, 32, (const unsigned char *)contact, strlen(contact), r->salt,
                           sizeof r->salt);
        if (col_hh >= 0 && fl[col_hh][0] != 0) {
            r->has_household = true;
            crypto_generichash(r->household, 16, (const unsigned char *)fl[col_hh],
                               strlen(fl[col_hh]), hh_key, sizeof hh_key);
        }
        n += r->contact != NULL;
        rc = r->contact != NULL ? 0 : -OV_E_NOMEM;
    }
    fclose(f);
    sodium_memzero(hh_key, sizeof hh_key);
    if (rc == 0 && n == 0) {
        fprintf(stderr, PROG ": %s: no respondent\n", path);
        rc = -OV_E_MALFORMED;
    }
    *out = rs;
    *n_out = n;
    return rc;
}

static FILE *
create_file(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        fprintf(stderr, PROG ": cannot create %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (never overwritten)" : "");
        return NULL;
    }
    return fdopen(fd, "w");
}

static int
write_pool(FILE *f, const struct ov_pool_file *p, const struct respondent *rs, size_t n)
{
    char hex[65];
    fprintf(f, "onevoice-pool/v1\npanel,%u,reserves,%u,max_attempts,%u,algorithm,%s\n", p->panel,
            p->reserves, p->max_attempts, OV_SORT_ALGORITHM);
    for (size_t c = 0; c < p->pool.n_categories; c++) {
        for (size_t k = 0; k < p->pool.n_values[c]; k++) {
            fprintf(f, "quota,%s,%s,%u,%u\n", p->cat_name[c], p->value_name[c][k],
                    p->pool.quota[c][k].min, p->pool.quota[c][k].max);
        }
    }
    fputs("members,pool_id", f);
    for (size_t c = 0; c < p->pool.n_categories; c++) {
        fprintf(f, ",%s", p->cat_name[c]);
    }
    fputs(",household,contact\n", f);
    for (size_t m = 0; m < n; m++) {
        fprintf(f, "%zu", m + 1);
        for (size_t c = 0; c < p->pool.n_categories; c++) {
            fprintf(f, ",%s", p->value_name[c][rs[m].values[c]]);
        }
        fprintf(f, ",%s", rs[m].has_household ? sodium_bin2hex(hex, sizeof hex, rs[m].household, 16) : "");
        fprintf(f, ",%s\n", sodium_bin2hex(hex, sizeof hex, rs[m].commit, 32));
    }
    return ferror(f) ? -OV_E_IO : 0;
}

static int
cmd_import(int argc, char **argv)
{
    const char *resp = NULL, *quotas = NULL, *panel = NULL, *reserves = "0", *attempts = "100",
               *out = NULL, *priv = NULL;
    const struct ov_cli_opt opts[] = {
        { "--respondents", "FILE", "CSV: a header naming each category, contact, optionally household", &resp, NULL, NULL },
        { "--quotas", "FILE", "CSV: category,value,min,max (the order of categories and values is kept)", &quotas, NULL, NULL },
        { "--panel", "N", "the panel's size", &panel, NULL, NULL },
        { "--reserves", "N", "reserves drawn after the panel, in order (default 0)", &reserves, NULL, NULL },
        { "--max-attempts", "N", "attempts before the draw gives up, 1..10000 (default 100)", &attempts, NULL, NULL },
        { "--out", "FILE", "the public pool file to create (never overwritten)", &out, NULL, NULL },
        { "--private", "FILE", "the private file to create, mode 0600: pool_id,contact,salt", &priv, NULL, NULL },
    };
    int rc = ov_cli_parse(argc, argv, "import: respondents and quotas into the public pool file",
                          opts, sizeof opts / sizeof opts[0]);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    if (!resp || !quotas || !panel || !out || !priv) {
        return usage_error("import needs --respondents, --quotas, --panel, --out and --private");
    }
    struct ov_pool_file p;
    memset(&p, 0, sizeof p);
    uint64_t v = 0;
    if (ov_parse_u64(panel, strlen(panel), &v) || v == 0 || v > OV_SORT_MAX_MEMBERS) {
        return usage_error("--panel: a number from 1");
    }
    p.panel = (uint32_t)v;
    if (ov_parse_u64(reserves, strlen(reserves), &v) || v > OV_SORT_MAX_MEMBERS) {
        return usage_error("--reserves: a number");
    }
    p.reserves = (uint32_t)v;
    if (ov_parse_u64(attempts, strlen(attempts), &v) || v == 0 || v > OV_SORT_MAX_ATTEMPTS) {
        return usage_error("--max-attempts: 1..10000");
    }
    p.max_attempts = (uint32_t)v;
    struct respondent *rs = NULL;
    size_t n = 0;
    rc = read_quotas(quotas, &p);
    rc = rc ? rc : read_respondents(resp, &p, &rs, &n);
    /* pool order: by contact commitment, random to everyone: the order of the respondents'
     * file (alphabetical, by time of answer) must not show through the member numbers */
    if (rc == 0) {
        qsort(rs, n, sizeof *rs, by_commit);
    }
    /* the pool file's bytes first: the private file's first line names the pool by them */
    char *pool_buf = NULL, hex[65];
    size_t pool_len = 0;
    uint8_t pool_sha[32];
    if (rc == 0) {
        FILE *m = open_memstream(&pool_buf, &pool_len);
        rc = m ? write_pool(m, &p, rs, n) : -OV_E_NOMEM;
        if (m != NULL && fclose(m) != 0) {
            rc = rc ? rc : -OV_E_NOMEM;
        }
        if (rc == 0) {
            crypto_hash_sha256(pool_sha, (const unsigned char *)pool_buf, pool_len);
        }
    }
    /* whatever fails from here on, neither file stays behind (an empty or partial private
     * file would pass for an import) */
    FILE *fp = rc ? NULL : create_file(priv, 0600);
    FILE *fo = fp ? create_file(out, 0644) : NULL;
    bool made_priv = fp != NULL, made_out = fo != NULL;
    rc = rc ? rc : (fo ? 0 : -OV_E_IO);
    if (rc == 0) {
        char salt[33];
        fprintf(fp, "%s,%s\npool_id,contact,salt\n", PRIVATE_MAGIC,
                sodium_bin2hex(hex, sizeof hex, pool_sha, 32));
        for (size_t m = 0; m < n; m++) {
            fprintf(fp, "%zu,%s,%s\n", m + 1, rs[m].contact,
                    sodium_bin2hex(salt, sizeof salt, rs[m].salt, 16));
        }
        rc = fwrite(pool_buf, 1, pool_len, fo) == pool_len && !ferror(fp) ? 0 : -OV_E_IO;
        if (rc != 0) {
            fprintf(stderr, PROG ": cannot write %s or %s: %s\n", out, priv, strerror(errno));
        }
    }
    if (fp != NULL && fclose(fp) != 0 && rc == 0) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", priv, strerror(errno));
        rc = -OV_E_IO;
    }
    if (fo != NULL && fclose(fo) != 0 && rc == 0) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", out, strerror(errno));
        rc = -OV_E_IO;
    }
    free(pool_buf);
    for (size_t m = 0; m < n; m++) {
        sodium_memzero(rs[m].contact, strlen(rs[m].contact));
        free(rs[m].contact);
    }
    free(rs);
    struct ov_pool_file check;
    memset(&check, 0, sizeof check);
    if (rc == 0 && load_pool(out, &check) != 0) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0 && memcmp(check.sha256, pool_sha, 32) != 0) {
        fprintf(stderr, PROG ": %s changed while it was written\n", out);
        rc = -OV_E_IO;
    }
    if (rc != 0) {
        if (made_out) {
            unlink(out);
        }
        if (made_priv) {
            unlink(priv);
        }
        ov_pool_free(&check);
        return 1;
    }
    printf("pool %s: %zu members, %zu categories, panel %u, reserves %u\n",
           sodium_bin2hex(hex, sizeof hex, check.sha256, 32), check.pool.n_members,
           check.pool.n_categories, check.panel, check.reserves);
    ov_pool_free(&check);
    return 0;
}

/* ---- check, draw, verify, stats --------------------------------------------------------- */

/* The core's messages name categories and values by number: the legend names them. */
static void
legend(const struct ov_pool_file *p)
{
    for (size_t c = 0; c < p->pool.n_categories; c++) {
        fprintf(stderr, "  category %zu = %s:", c, p->cat_name[c]);
        for (size_t k = 0; k < p->pool.n_values[c]; k++) {
            fprintf(stderr, " value %zu = %s%s", k, p->value_name[c][k],
                    k + 1 < p->pool.n_values[c] ? "," : "\n");
        }
    }
}

int
check_pool(const struct ov_pool_file *p)
{
    char why[8192];
    if (ov_sort_check(&p->pool, p->panel, why, sizeof why) == 0) {
        return 0;
    }
    fprintf(stderr, PROG ": these quotas cannot be met:\n%s", why);
    legend(p);
    return 1;
}

static int
cmd_check(int argc, char **argv)
{
    const char *pool = NULL;
    const struct ov_cli_opt opts[] = {
        { "--pool", "FILE", "the pool file", &pool, NULL, NULL },
    };
    int rc = ov_cli_parse(argc, argv, "check: whether the pool's quotas can be met (exit 1 says which not)",
                          opts, 1);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    struct ov_pool_file p;
    if (pool == NULL) {
        return usage_error("check needs --pool");
    }
    if (load_pool(pool, &p) != 0) {
        return 1;
    }
    rc = check_pool(&p);
    if (rc == 0) {
        printf("the quotas can be met by themselves: %zu members, panel %u (a draw still tells "
               "whether they can be met together)\n", p.pool.n_members, p.panel);
    }
    ov_pool_free(&p);
    return rc;
}

/* Draws the pool's panel and reserves with seed into d (allocated). */
int
run_draw(const struct ov_pool_file *p, const uint8_t seed[OV_SORT_SEED_LEN], struct ov_draw *d)
{
    memset(d, 0, sizeof *d);
    d->panel = calloc(p->panel, sizeof *d->panel);
    d->reserves = calloc(p->reserves ? p->reserves : 1, sizeof *d->reserves);
    if (d->panel == NULL || d->reserves == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(d->pool_sha256, p->sha256, 32);
    memcpy(d->seed, seed, OV_SORT_SEED_LEN);
    d->n_panel = p->panel;
    d->n_reserves = p->reserves;
    return ov_sort_draw(&p->pool, p->panel, p->reserves, seed, p->max_attempts, d->panel,
                        p->reserves ? d->reserves : NULL, &d->attempt);
}

static int
cmd_draw(int argc, char **argv)
{
    const char *pool = NULL, *seedhex = NULL, *out = NULL;
    struct log_args a = { 0 };
    const struct ov_cli_opt opts[] = {
        { "--pool", "FILE", "the pool file", &pool, NULL, NULL },
        { "--seed", "HEX", "the 32-byte seed, 64 hex digits (without --log)", &seedhex, NULL, NULL },
        { "--out", "FILE", "the draw file to create (never overwritten)", &out, NULL, NULL },
        LOG_OPTS(a),
        PRODUCER_OPTS(a, "the operator"),
    };
    int rc = ov_cli_parse(argc, argv, "draw: the panel and reserves of the pool under the seed; "
                                      "with --log, under the seed of the reveals logged for --id, "
                                      "refused unless every party's reveal matches its commitment "
                                      "in the order PROTOCOL §10 sets, and the draw entry appended",
                          opts, sizeof opts / sizeof opts[0]);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    if (a.o.log != NULL && pool != NULL && seedhex == NULL) {
        return draw_from_log(&a, pool, out);
    }
    uint8_t seed[OV_SORT_SEED_LEN];
    if (pool == NULL || out == NULL || a.o.log != NULL || seed_arg(seedhex, seed) != 0) {
        return usage_error("draw needs --pool, --out and either --seed (64 hex digits) or "
                           "--log with --id");
    }
    struct ov_pool_file p;
    struct ov_draw d;
    if (load_pool(pool, &p) != 0) {
        return 1;
    }
    rc = check_pool(&p);
    if (rc == 0) {
        rc = run_draw(&p, seed, &d);
        if (rc == -OV_E_STATE) {
            fprintf(stderr, PROG ": no attempt of %u met every quota together: the quotas, "
                            "each possible alone, cannot be met jointly by this pool\n",
                    p.max_attempts);
        } else if (rc == 0 && ov_draw_write(out, &d) != 0) {
            fprintf(stderr, PROG ": cannot create %s: %s\n", out, strerror(errno));
            rc = -OV_E_IO;
        }
        if (rc == 0) {
            printf("drew %u of %zu members and %u reserves (attempt %u) into %s\n", d.n_panel,
                   p.pool.n_members, d.n_reserves, d.attempt, out);
        }
        ov_draw_free(&d);
    }
    ov_pool_free(&p);
    return rc == 0 ? 0 : 1;
}

/* Why claimed is not the pool's draw under its own seed, or NULL when it is: the pool it
 * names, then the draw re-run (into again, which the caller frees either way) and compared
 * member by member. verify and invitations both ask this. */
const char *
draw_differs(const struct ov_pool_file *p, const struct ov_draw *claimed, struct ov_draw *again)
{
    memset(again, 0, sizeof *again);
    if (memcmp(claimed->pool_sha256, p->sha256, 32) != 0) {
        return "it names another pool (SHA-256 of the pool file)";
    }
    int rc = run_draw(p, claimed->seed, again);
    if (rc != 0) {
        return rc == -OV_E_STATE ? "the pool's quotas cannot be met under this seed"
                                 : "the pool cannot be drawn";
    }
    if (again->attempt != claimed->attempt) {
        return "the attempt differs";
    }
    if (claimed->n_panel != again->n_panel ||
        memcmp(claimed->panel, again->panel, again->n_panel * sizeof *again->panel) != 0) {
        return "the panel differs";
    }
    if (claimed->n_reserves != again->n_reserves ||
        memcmp(claimed->reserves, again->reserves, again->n_reserves * sizeof *again->reserves)) {
        return "the reserves differ";
    }
    return NULL;
}

static int
cmd_verify(int argc, char **argv)
{
    const char *pool = NULL, *drawf = NULL;
    struct log_args a = { 0 };
    const struct ov_cli_opt opts[] = {
        { "--pool", "FILE", "the pool file", &pool, NULL, NULL },
        { "--draw", "FILE", "the draw file to check (without --log)", &drawf, NULL, NULL },
        LOG_OPTS(a),
    };
    int rc = ov_cli_parse(argc, argv, "verify: re-runs the draw from the pool and the draw's seed "
                                      "and compares every member (exit 1 on any difference); with "
                                      "--log, the draw entry logged for --id, its seed recomputed "
                                      "from the logged reveals and their order checked",
                          opts, sizeof opts / sizeof opts[0]);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    if (a.o.log != NULL && pool != NULL && drawf == NULL) {
        return verify_from_log(&a, pool);
    }
    if (pool == NULL || drawf == NULL || a.o.log != NULL) {
        return usage_error("verify needs --pool and either --draw or --log with --id");
    }
    char err[512];
    struct ov_pool_file p = { 0 };
    struct ov_draw claimed = { 0 }, again = { 0 };
    if (load_pool(pool, &p) != 0) {
        return 1;
    }
    if (ov_draw_read(drawf, &claimed, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", drawf, err);
        ov_draw_free(&claimed);
        ov_pool_free(&p);
        return 1;
    }
    const char *differs = draw_differs(&p, &claimed, &again);
    if (differs == NULL) {
        printf("the draw is the pool's under its seed: %u members, %u reserves, attempt %u\n",
               again.n_panel, again.n_reserves, again.attempt);
    } else {
        fprintf(stderr, PROG ": %s does not match: %s\n", drawf, differs);
    }
    ov_draw_free(&again);
    ov_draw_free(&claimed);
    ov_pool_free(&p);
    return differs == NULL ? 0 : 1;
}

static int
cmd_stats(int argc, char **argv)
{
    const char *pool = NULL, *runs = "1000", *basehex = NULL;
    const struct ov_cli_opt opts[] = {
        { "--pool", "FILE", "the pool file", &pool, NULL, NULL },
        { "--runs", "N", "draws with derived seeds (default 1000)", &runs, NULL, NULL },
        { "--base", "HEX", "the base of the derived seeds, 64 hex digits (default: zeros)", &basehex, NULL, NULL },
    };
    int rc = ov_cli_parse(argc, argv, "stats: each member's selection probability, estimated "
                                      "over many seeds; the minimum says how fair the method is "
                                      "for this pool", opts, sizeof opts / sizeof opts[0]);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    uint8_t base[OV_SORT_SEED_LEN] = { 0 };
    uint64_t n = 0, failed = 0;
    if (pool == NULL || ov_parse_u64(runs, strlen(runs), &n) || n == 0 || n > 1000000 ||
        (basehex != NULL && seed_arg(basehex, base) != 0)) {
        return usage_error("stats needs --pool, --runs 1..1000000, --base of 64 hex digits");
    }
    struct ov_pool_file p;
    if (load_pool(pool, &p) != 0) {
        return 1;
    }
    uint64_t *counts = calloc(p.pool.n_members, sizeof *counts);
    rc = counts ? check_pool(&p) : 1;
    rc = rc ? rc : ov_sort_stats(&p.pool, p.panel, base, p.max_attempts, n, counts, &failed);
    if (rc == 0 && failed < n) {
        uint64_t ok = n - failed, lo = UINT64_MAX, hi = 0;
        size_t lo_m = 0, never = 0;
        for (size_t m = 0; m < p.pool.n_members; m++) {
            if (counts[m] < lo) {
                lo = counts[m];
                lo_m = m;
            }
            hi = counts[m] > hi ? counts[m] : hi;
            never += counts[m] == 0;
        }
        printf("draws %llu (failed %llu), members %zu, panel %u\n", (unsigned long long)n,
               (unsigned long long)failed, p.pool.n_members, p.panel);
        printf("selection probability: mean %.5f, min %.5f (member %zu), max %.5f\n",
               (double)p.panel / (double)p.pool.n_members, (double)lo / (double)ok, lo_m + 1,
               (double)hi / (double)ok);
        printf("members never selected in these draws: %zu (with few draws, chance alone leaves "
               "some out: a lower bound needs many draws)\n", never);
    } else if (rc == 0) {
        fprintf(stderr, PROG ": every draw failed: the quotas cannot be met jointly\n");
        rc = 1;
    }
    free(counts);
    ov_pool_free(&p);
    return rc == 0 ? 0 : 1;
}

/* ---- invitations ------------------------------------------------------------------------ */

/* 16 bytes from exactly 32 lowercase hex digits. */
static int
salt_of(const char *s, uint8_t salt[16])
{
    size_t got = 0;
    if (strlen(s) != 32 || strspn(s, "0123456789abcdef") != 32) {
        return -OV_E_MALFORMED;
    }
    return sodium_hex2bin(salt, 16, s, 32, NULL, &got, NULL) == 0 && got == 16 ? 0
                                                                            : -OV_E_MALFORMED;
}

/* The private file import wrote for pool p: its first line names p, then the header, then
 * member 1, 2, ... each once. Each member of the draw (slot[m] its place in contact_of, or
 * SIZE_MAX) gets its contact, once its contact and salt give the pool's commitment. */
static int
read_private(const char *path, const struct ov_pool_file *p, const size_t *slot,
             char **contact_of)
{
    char line[1024], hex[65], *fl[4];
    unsigned long ln = 0;
    size_t n = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, PROG ": cannot open %s: %s\n", path, strerror(errno));
        return -OV_E_IO;
    }
    size_t magic_len = strlen(PRIVATE_MAGIC);
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        ln++;
        if (strchr(line, '\n') == NULL) {
            fprintf(stderr, PROG ": %s line %lu: too long, or without its newline\n", path, ln);
            rc = -OV_E_MALFORMED;
            break;
        }
        line[strcspn(line, "\r\n")] = 0;
        if (ln == 1) {
            if (strncmp(line, PRIVATE_MAGIC ",", magic_len + 1) != 0) {
                fprintf(stderr, PROG ": %s: not an " PRIVATE_MAGIC " file (import writes one)\n",
                        path);
                rc = -OV_E_MALFORMED;
            } else if (strcmp(line + magic_len + 1,
                              sodium_bin2hex(hex, sizeof hex, p->sha256, 32)) != 0) {
                fprintf(stderr, PROG ": %s belongs to another pool (not the SHA-256 of the pool "
                                "file)\n", path);
                rc = -OV_E_MALFORMED;
            }
            continue;
        }
        if (ln == 2) {
            if (strcmp(line, "pool_id,contact,salt") != 0) {
                fprintf(stderr, PROG ": %s line 2: expected pool_id,contact,salt\n", path);
                rc = -OV_E_MALFORMED;
            }
            continue;
        }
        uint64_t id = 0;
        uint8_t salt[16], commit[32];
        if (split_csv(line, fl, 3) != 3 || ov_parse_u64(fl[0], strlen(fl[0]), &id) != 0 ||
            id != n + 1 || id > p->pool.n_members || fl[1][0] == 0 || strlen(fl[1]) > 256 ||
            salt_of(fl[2], salt) != 0) {
            fprintf(stderr, PROG ": %s line %lu: expected member %zu of %zu: ID,CONTACT,SALT "
                            "(each member once, in order)\n", path, ln, n + 1, p->pool.n_members);
            rc = -OV_E_MALFORMED;
            break;
        }
        n++;
        size_t i = slot[id - 1];
        if (i == SIZE_MAX) {
            continue;
        }
        crypto_generichash(commit, 32, (const unsigned char *)fl[1], strlen(fl[1]), salt,
                           sizeof salt);
        if (sodium_memcmp(commit, p->contact[id - 1], 32) != 0) {
            fprintf(stderr, PROG ": %s line %lu: member %llu's contact and salt do not give the "
                            "pool's commitment\n", path, ln, (unsigned long long)id);
            rc = -OV_E_MALFORMED;
            break;
        }
        contact_of[i] = strdup(fl[1]);
        rc = contact_of[i] ? 0 : -OV_E_NOMEM;
    }
    sodium_memzero(line, sizeof line);
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, PROG ": cannot read %s: %s\n", path, strerror(errno));
        rc = -OV_E_IO;
    }
    fclose(f);
    if (rc == 0 && (ln < 2 || n != p->pool.n_members)) {
        fprintf(stderr, PROG ": %s holds %zu members, the pool %zu\n", path, n, p->pool.n_members);
        rc = -OV_E_MALFORMED;
    }
    return rc;
}

static int
by_contact(const void *a, const void *b, void *arg)
{
    char **contact_of = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(contact_of[i], contact_of[j]);
    return c ? c : (i < j ? -1 : i > j);
}

/* One person, one code: two members of the draw with one contact are refused. */
static int
contacts_distinct(char **contact_of, size_t want, const struct ov_draw *d)
{
    size_t *order = malloc((want ? want : 1) * sizeof *order);
    if (order == NULL) {
        return -OV_E_NOMEM;
    }
    for (size_t i = 0; i < want; i++) {
        order[i] = i;
    }
    qsort_r(order, want, sizeof *order, by_contact, contact_of);
    int rc = 0;
    for (size_t i = 1; i < want && rc == 0; i++) {
        size_t a = order[i - 1], b = order[i];
        if (strcmp(contact_of[a], contact_of[b]) == 0) {
            fprintf(stderr, PROG ": members %u and %u of the draw share a contact: one person, "
                            "one code (remove the repeated answer and import again)\n",
                    (a < d->n_panel ? d->panel[a] : d->reserves[a - d->n_panel]) + 1,
                    (b < d->n_panel ? d->panel[b] : d->reserves[b - d->n_panel]) + 1);
            rc = -OV_E_EXISTS;
        }
    }
    free(order);
    return rc;
}

static int
cmd_invitations(int argc, char **argv)
{
    const char *pool = NULL, *drawf = NULL, *priv = NULL, *codes = NULL, *out = NULL,
               *nres = "0";
    const struct ov_cli_opt opts[] = {
        { "--pool", "FILE", "the pool file of the draw", &pool, NULL, NULL },
        { "--draw", "FILE", "the draw file (checked as verify does)", &drawf, NULL, NULL },
        { "--private", "FILE", "the private file import wrote for this pool", &priv, NULL, NULL },
        { "--codes", "FILE", "invitation codes, the issuer's POST /admin/invites answer (code, then one a line)", &codes, NULL, NULL },
        { "--reserves", "N", "also invite the first N reserves (default 0)", &nres, NULL, NULL },
        { "--out", "FILE", "the CSV for the SMS gateway to create, mode 0600: contact,code", &out, NULL, NULL },
    };
    int rc = ov_cli_parse(argc, argv, "invitations: one code for each selected member, sent to its "
                                      "contact alone", opts, sizeof opts / sizeof opts[0]);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    uint64_t r = 0;
    if (!pool || !drawf || !priv || !codes || !out || ov_parse_u64(nres, strlen(nres), &r)) {
        return usage_error("invitations needs --pool, --draw, --private, --codes and --out");
    }
    char err[512], line[1024];
    struct ov_pool_file p = { 0 };
    struct ov_draw d = { 0 }, again = { 0 };
    if (load_pool(pool, &p) != 0) {
        return 1;
    }
    if (ov_draw_read(drawf, &d, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", drawf, err);
        ov_draw_free(&d);
        ov_pool_free(&p);
        return 1;
    }
    const char *differs = draw_differs(&p, &d, &again);
    ov_draw_free(&again);
    if (differs != NULL) {
        fprintf(stderr, PROG ": %s is not the draw of %s: %s\n", drawf, pool, differs);
        ov_draw_free(&d);
        ov_pool_free(&p);
        return 1;
    }
    if (r > d.n_reserves) {
        ov_draw_free(&d);
        ov_pool_free(&p);
        return usage_error("--reserves: more than the draw has");
    }
    /* the draw is the pool's: its members are distinct and within the pool */
    size_t want = d.n_panel + (size_t)r, n_codes = 0;
    char **contact_of = calloc(want, sizeof *contact_of), (*code)[64] = calloc(want, 64);
    size_t *slot = malloc(p.pool.n_members * sizeof *slot);
    rc = contact_of && code && slot ? 0 : -OV_E_NOMEM;
    for (size_t m = 0; rc == 0 && m < p.pool.n_members; m++) {
        slot[m] = SIZE_MAX;
    }
    for (size_t i = 0; rc == 0 && i < want; i++) {
        slot[i < d.n_panel ? d.panel[i] : d.reserves[i - d.n_panel]] = i;
    }
    FILE *fc = rc ? NULL : fopen(codes, "r");
    if (rc == 0 && fc == NULL) {
        fprintf(stderr, PROG ": cannot open %s: %s\n", codes, strerror(errno));
        rc = -OV_E_IO;
    }
    while (rc == 0 && fgets(line, sizeof line, fc) != NULL) {
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, "code") == 0 || line[0] == 0) {
            continue;
        }
        size_t len = strlen(line);
        if (len >= 64) {
            fprintf(stderr, PROG ": %s: a line longer than a code\n", codes);
            rc = -OV_E_MALFORMED;
            break;
        }
        if (n_codes < want) {
            memcpy(code[n_codes], line, len + 1);
        }
        n_codes++;
    }
    sodium_memzero(line, sizeof line);
    rc = rc ? rc : read_private(priv, &p, slot, contact_of);
    for (size_t i = 0; rc == 0 && i < want; i++) {
        if (contact_of[i] == NULL) { /* cannot happen: every member is in the private file */
            rc = -OV_E_NOT_FOUND;
        }
    }
    rc = rc ? rc : contacts_distinct(contact_of, want, &d);
    if (rc == 0 && n_codes < want) {
        fprintf(stderr, PROG ": %s holds %zu codes; the draw needs %zu, one per person\n", codes,
                n_codes, want);
        rc = -OV_E_RANGE;
    }
    FILE *fo = rc == 0 ? create_file(out, 0600) : NULL;
    rc = rc ? rc : (fo ? 0 : -OV_E_IO);
    if (rc == 0) {
        fputs("contact,code\n", fo);
        for (size_t i = 0; i < want; i++) {
            fprintf(fo, "%s,%s\n", contact_of[i], code[i]);
        }
        int bad = ferror(fo);
        if (fclose(fo) != 0 || bad) {
            fprintf(stderr, PROG ": cannot write %s\n", out);
            unlink(out); /* a partial list would leave people uninvited */
            rc = -OV_E_IO;
        }
    }
    if (rc == 0) {
        printf("%zu invitations (panel %u, reserves %llu) into %s%s\n", want, d.n_panel,
               (unsigned long long)r, out,
               n_codes > want ? "; the codes left over were not used: do not send them" : "");
    }
    for (size_t i = 0; contact_of != NULL && i < want; i++) {
        if (contact_of[i] != NULL) {
            sodium_memzero(contact_of[i], strlen(contact_of[i]));
        }
        free(contact_of[i]);
    }
    free(contact_of);
    free(slot);
    if (code != NULL) {
        sodium_memzero(code, want * 64);
    }
    free(code);
    if (fc) {
        fclose(fc);
    }
    ov_draw_free(&d);
    ov_pool_free(&p);
    return rc == 0 ? 0 : 1;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    { "import", cmd_import, "respondents and quotas (CSV) into the public pool file and a private file of contacts" },
    { "check", cmd_check, "whether the pool's quotas can be met, and which cannot" },
    { "key", cmd_key, "a party's or the operator's Ed25519 key, and its line for the log's --producers" },
    { "commit", cmd_commit, "a party: log a signed commitment to a fresh secret (before the pool)" },
    { "publish", cmd_publish, "the operator: log the pool entry once every party committed" },
    { "upload", cmd_upload, "the operator: a file (the pool file) to the log, which serves it by its SHA-256 (publish does it)" },
    { "reveal", cmd_reveal, "a party: log its secret once the pool is logged, before reveal_by" },
    { "draw", cmd_draw, "the panel and reserves under a 32-byte seed, into a draw file; with --log, the operator: under the seed of the logged reveals, and the draw entry logged" },
    { "verify", cmd_verify, "re-run a draw from the pool and its seed (with --log: the logged draw); exit 1 on any difference" },
    { "status", cmd_status, "what the log shows of a draw: commitments, pool, reveals, seed, draw" },
    { "stats", cmd_stats, "each member's selection probability over many seeds (the method's fairness)" },
    { "invitations", cmd_invitations, "contact,code for each selected member, for the SMS gateway" },
};

int
main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        return 1;
    }
    size_t n = sizeof commands / sizeof commands[0];
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: " PROG " COMMAND [options]   (" PROG " COMMAND --help for its options)\n"
                   "The draw of an assembly's panel that anyone can re-run: a stratified "
                   "selection (algorithm " OV_SORT_ALGORITHM ", docs/PROTOCOL.md §10) "
                   "deterministic given the public pool file and a 32-byte seed.\n"
                   "In the log, in this order: each party commits, the operator publishes the "
                   "pool, each party reveals, the operator draws with --log (the seed from the "
                   "reveals) and anyone runs verify --log.\n");
        for (size_t i = 0; i < n; i++) {
            fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
        }
        fprintf(f, "  %-12s %s\n", "--version", OV_CLI_VERSION_HELP);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        ov_cli_print_version(stdout, PROG);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    return usage_error("unknown command");
}
