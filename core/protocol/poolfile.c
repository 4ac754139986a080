/* poolfile: the pool file parsed strictly, and the draw file (poolfile.h). */
#include "protocol/poolfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/codec.h"
#include "protocol/entry.h"

int
ov_pool_label_check(const char *s, size_t len)
{
    if (len == 0 || len > OV_POOL_MAX_LABEL || memchr(s, 0, len) != NULL || s[len] != 0 ||
        memchr(s, ',', len) != NULL || memchr(s, '"', len) != NULL) {
        return -OV_E_MALFORMED;
    }
    return ov_text_check(s, OV_POOL_MAX_LABEL) == 0 ? 0 : -OV_E_MALFORMED;
}

__attribute__((format(printf, 4, 5))) static int
fail(char *err, size_t len, unsigned long line, const char *fmt, ...)
{
    int n = snprintf(err, len, "line %lu: ", line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < len) {
        vsnprintf(err + n, len - (size_t)n, fmt, ap);
    }
    va_end(ap);
    return -OV_E_MALFORMED;
}

/* Splits line (no newline) at commas into at most max fields, in place. */
static size_t
split(char *line, char **f, size_t max)
{
    size_t n = 0;
    for (char *p = line;; p++) {
        if (n == max) {
            return max + 1; /* too many */
        }
        f[n++] = p;
        p = strchr(p, ',');
        if (p == NULL) {
            return n;
        }
        *p = 0;
    }
}

static int
parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *v)
{
    uint64_t x = 0;
    if (ov_parse_u64(s, strlen(s), &x) != 0 || x < lo || x > hi) {
        return -OV_E_RANGE;
    }
    *v = (uint32_t)x;
    return 0;
}

static int
hex_fixed(const char *s, uint8_t *out, size_t n)
{
    size_t got = 0;
    if (strlen(s) != 2 * n) {
        return -OV_E_MALFORMED;
    }
    for (size_t i = 0; s[i]; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return -OV_E_MALFORMED; /* lowercase only: one spelling per pool */
        }
    }
    return sodium_hex2bin(out, n, s, 2 * n, NULL, &got, NULL) == 0 && got == n ? 0
                                                                              : -OV_E_MALFORMED;
}

/* The input, a line at a time. */
struct cursor {
    const uint8_t *p;
    size_t left;
};

/* One line into buf (max bytes with its NUL) without its newline: 1 read, 0 end of input,
 * -OV_E_MALFORMED for a last line without its newline, a line too long, or a NUL inside. */
static int
read_line(struct cursor *c, char *buf, size_t max)
{
    if (c->left == 0) {
        return 0;
    }
    const uint8_t *nl = memchr(c->p, '\n', c->left);
    if (nl == NULL) {
        return -OV_E_MALFORMED;
    }
    size_t n = (size_t)(nl - c->p);
    if (n >= max || memchr(c->p, 0, n) != NULL) {
        return -OV_E_MALFORMED;
    }
    memcpy(buf, c->p, n);
    buf[n] = 0;
    c->p += n + 1;
    c->left -= n + 1;
    return 1;
}

struct hh_pair {
    uint8_t key[16];
    uint32_t member;
};

static int
by_key(const void *a, const void *b)
{
    const struct hh_pair *x = a, *y = b;
    int c = memcmp(x->key, y->key, sizeof x->key);
    return c ? c : (x->member < y->member ? -1 : x->member > y->member);
}

/* Households: members sharing a key get one number. */
static int
number_households(struct ov_pool_file *p, struct hh_pair *pairs, size_t n)
{
    if (n == 0) {
        return 0;
    }
    p->household = malloc(p->pool.n_members * sizeof *p->household);
    if (p->household == NULL) {
        return -OV_E_NOMEM;
    }
    for (size_t m = 0; m < p->pool.n_members; m++) {
        p->household[m] = OV_SORT_NO_HOUSEHOLD;
    }
    qsort(pairs, n, sizeof *pairs, by_key);
    uint32_t id = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && memcmp(pairs[i].key, pairs[i - 1].key, 16) != 0) {
            id++;
        }
        p->household[pairs[i].member] = id;
    }
    p->pool.household = p->household;
    return 0;
}

static int
category_of(const struct ov_pool_file *p, const char *name)
{
    for (size_t c = 0; c < p->pool.n_categories; c++) {
        if (strcmp(p->cat_name[c], name) == 0) {
            return (int)c;
        }
    }
    return -1;
}

static int
read_header(struct cursor *f, struct ov_pool_file *p, char *line, unsigned long *ln, char *err,
            size_t err_len)
{
    char *fl[OV_SORT_MAX_CATEGORIES + 4];
    int r = read_line(f, line, OV_POOL_MAX_LINE);
    ++*ln;
    if (r != 1 || strcmp(line, "onevoice-pool/v1") != 0) {
        return fail(err, err_len, *ln, "not an onevoice-pool/v1 file");
    }
    r = read_line(f, line, OV_POOL_MAX_LINE);
    ++*ln;
    size_t n = r == 1 ? split(line, fl, 8) : 0;
    if (n != 8 || strcmp(fl[0], "panel") || strcmp(fl[2], "reserves") ||
        strcmp(fl[4], "max_attempts") || strcmp(fl[6], "algorithm") ||
        parse_u32(fl[1], 1, OV_SORT_MAX_MEMBERS, &p->panel) ||
        parse_u32(fl[3], 0, OV_SORT_MAX_MEMBERS, &p->reserves) ||
        parse_u32(fl[5], 1, OV_SORT_MAX_ATTEMPTS, &p->max_attempts)) {
        return fail(err, err_len, *ln, "expected panel,P,reserves,R,max_attempts,A,algorithm,%s",
                    OV_SORT_ALGORITHM);
    }
    if (strcmp(fl[7], OV_SORT_ALGORITHM) != 0) {
        return fail(err, err_len, *ln, "unknown algorithm '%s'", fl[7]);
    }
    /* quota lines, grouped by category, until the members line */
    for (;;) {
        r = read_line(f, line, OV_POOL_MAX_LINE);
        ++*ln;
        if (r != 1) {
            return fail(err, err_len, *ln, "expected quota lines, then the members line");
        }
        if (strncmp(line, "members,", 8) == 0) {
            break;
        }
        uint32_t min = 0, max = 0;
        n = split(line, fl, 5);
        if (n != 5 || strcmp(fl[0], "quota") != 0 || ov_pool_label_check(fl[1], strlen(fl[1])) ||
            ov_pool_label_check(fl[2], strlen(fl[2])) || parse_u32(fl[3], 0, UINT32_MAX, &min) ||
            parse_u32(fl[4], 0, UINT32_MAX, &max)) {
            return fail(err, err_len, *ln, "expected quota,CATEGORY,VALUE,MIN,MAX");
        }
        int c = category_of(p, fl[1]);
        size_t C = p->pool.n_categories;
        if (c >= 0 && (size_t)c != C - 1) {
            return fail(err, err_len, *ln, "category '%s' again after another one", fl[1]);
        }
        if (c < 0) {
            if (C == OV_SORT_MAX_CATEGORIES) {
                return fail(err, err_len, *ln, "more than %d categories", OV_SORT_MAX_CATEGORIES);
            }
            c = (int)C;
            snprintf(p->cat_name[c], sizeof p->cat_name[c], "%s", fl[1]);
            p->pool.n_categories++;
        }
        size_t k = p->pool.n_values[c];
        for (size_t j = 0; j < k; j++) {
            if (strcmp(p->value_name[c][j], fl[2]) == 0) {
                return fail(err, err_len, *ln, "value '%s' of '%s' twice", fl[2], fl[1]);
            }
        }
        if (k == OV_SORT_MAX_VALUES) {
            return fail(err, err_len, *ln, "more than %d values in '%s'", OV_SORT_MAX_VALUES, fl[1]);
        }
        snprintf(p->value_name[c][k], sizeof p->value_name[c][k], "%s", fl[2]);
        p->pool.quota[c][k] = (struct ov_sort_quota){ min, max };
        p->pool.n_values[c]++;
    }
    size_t C = p->pool.n_categories;
    n = split(line, fl, C + 4);
    int ok = C > 0 && n == C + 4 && strcmp(fl[1], "pool_id") == 0 &&
             strcmp(fl[C + 2], "household") == 0 && strcmp(fl[C + 3], "contact") == 0;
    for (size_t c = 0; ok && c < C; c++) {
        ok = strcmp(fl[c + 2], p->cat_name[c]) == 0;
    }
    return ok ? 0
              : fail(err, err_len, *ln, "expected members,pool_id,<the categories in order>,"
                                        "household,contact");
}

int
ov_pool_parse(struct ov_bytes in, struct ov_pool_file *p, char *err, size_t err_len)
{
    memset(p, 0, sizeof *p);
    struct cursor cur = { in.ptr, in.len }, *f = &cur;
    crypto_hash_sha256(p->sha256, in.ptr, in.len);
    char *line = malloc(OV_POOL_MAX_LINE);
    size_t cap = 0, n_hh = 0;
    struct hh_pair *pairs = NULL;
    unsigned long ln = 0;
    int rc = line ? read_header(f, p, line, &ln, err, err_len) : -OV_E_NOMEM;
    const size_t C = p->pool.n_categories;
    char *fl[OV_SORT_MAX_CATEGORIES + 4];
    while (rc == 0) {
        int r = read_line(f, line, OV_POOL_MAX_LINE);
        ++ln;
        if (r == 0) {
            break;
        }
        if (r < 0) {
            rc = fail(err, err_len, ln, "a line without its newline, too long, or unreadable");
            break;
        }
        size_t m = p->pool.n_members;
        uint32_t id = 0;
        if (split(line, fl, C + 3) != C + 3 || parse_u32(fl[0], 1, OV_SORT_MAX_MEMBERS, &id) ||
            id != m + 1) {
            rc = fail(err, err_len, ln, "expected member %zu: ID,<values>,HOUSEHOLD,CONTACT", m + 1);
            break;
        }
        if (m == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *v = realloc(p->values, cap * C);
            struct hh_pair *hp = realloc(pairs, cap * sizeof *pairs);
            uint8_t(*ct)[32] = realloc(p->contact, cap * sizeof *p->contact);
            p->values = v ? v : p->values;
            pairs = hp ? hp : pairs;
            p->contact = ct ? ct : p->contact;
            if (v == NULL || hp == NULL || ct == NULL) {
                rc = -OV_E_NOMEM;
                break;
            }
        }
        for (size_t c = 0; c < C && rc == 0; c++) {
            size_t k = 0;
            while (k < p->pool.n_values[c] && strcmp(p->value_name[c][k], fl[c + 1]) != 0) {
                k++;
            }
            if (k == p->pool.n_values[c]) {
                rc = fail(err, err_len, ln, "'%s' is not a value of '%s'", fl[c + 1], p->cat_name[c]);
            }
            p->values[m * C + c] = (uint8_t)k;
        }
        if (rc == 0 && hex_fixed(fl[C + 2], p->contact[m], sizeof p->contact[m]) != 0) {
            rc = fail(err, err_len, ln, "the contact commitment is not 64 lowercase hex digits");
        }
        if (rc == 0 && fl[C + 1][0] != 0) {
            if (hex_fixed(fl[C + 1], pairs[n_hh].key, 16) != 0) {
                rc = fail(err, err_len, ln, "the household is not empty or 32 lowercase hex digits");
            }
            pairs[n_hh++].member = (uint32_t)m;
        }
        p->pool.n_members += rc == 0;
    }
    free(line);
    if (rc == 0 && p->pool.n_members == 0) {
        rc = fail(err, err_len, ln, "no member");
    }
    p->pool.values = p->values;
    rc = rc ? rc : number_households(p, pairs, n_hh);
    free(pairs);
    return rc;
}

/* The whole of path, at most max bytes, into a new buffer. */
static int
slurp(const char *path, size_t max, struct ov_buf *out, char *err, size_t err_len)
{
    ov_buf_init(out, max);
    FILE *f = fopen(path, "rb");
    int rc = f ? 0 : -OV_E_IO;
    uint8_t chunk[65536];
    while (rc == 0) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        rc = n > 0 ? ov_buf_append(out, chunk, n) : 0;
        if (n < sizeof chunk) {
            rc = rc ? rc : (ferror(f) ? -OV_E_IO : 0);
            break;
        }
    }
    if (rc != 0) {
        snprintf(err, err_len, "cannot read %s: %s", path,
                 rc == -OV_E_IO ? strerror(errno) : "larger than a pool or draw file may be");
        ov_buf_clear(out);
    }
    if (f != NULL) {
        fclose(f);
    }
    return rc == -OV_E_TOO_BIG ? -OV_E_IO : rc;
}

int
ov_pool_read(const char *path, struct ov_pool_file *p, char *err, size_t err_len)
{
    struct ov_buf b;
    memset(p, 0, sizeof *p);
    int rc = slurp(path, OV_POOL_MAX_FILE, &b, err, err_len);
    rc = rc ? rc : ov_pool_parse(ov_buf_view(&b), p, err, err_len);
    ov_buf_clear(&b);
    return rc;
}

void
ov_pool_free(struct ov_pool_file *p)
{
    free(p->values);
    free(p->household);
    free(p->contact);
    memset(p, 0, sizeof *p);
}

/* ---- the draw file -------------------------------------------------------------------- */

static void
put_ids(FILE *f, const char *name, const uint32_t *ids, uint32_t n)
{
    fputs(name, f);
    for (uint32_t i = 0; i < n; i++) {
        fprintf(f, ",%u", ids[i] + 1);
    }
    fputc('\n', f);
}

int
ov_draw_write(const char *path, const struct ov_draw *d)
{
    char hex[65];
    FILE *f = fopen(path, "wx");
    if (f == NULL) {
        return -OV_E_IO;
    }
    fputs("onevoice-draw/v1\n", f);
    fprintf(f, "pool,%s\n", sodium_bin2hex(hex, sizeof hex, d->pool_sha256, 32));
    fprintf(f, "seed,%s\n", sodium_bin2hex(hex, sizeof hex, d->seed, 32));
    fprintf(f, "attempt,%u\n", d->attempt);
    put_ids(f, "panel", d->panel, d->n_panel);
    put_ids(f, "reserves", d->reserves, d->n_reserves);
    /* a write that failed sets the error flag; fclose flushes the rest: either way no
     * partial draw file stays behind to be taken for the draw */
    int bad = ferror(f);
    int saved = errno;
    if (fclose(f) != 0 || bad) {
        saved = bad ? saved : errno;
        unlink(path);
        errno = saved;
        return -OV_E_IO;
    }
    return 0;
}

static int
by_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether an ID is in the panel and reserves together more than once. */
static int
has_repeat(const struct ov_draw *d)
{
    size_t n = (size_t)d->n_panel + d->n_reserves;
    uint32_t *all = malloc((n ? n : 1) * sizeof *all);
    if (all == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(all, d->panel, d->n_panel * sizeof *all);
    memcpy(all + d->n_panel, d->reserves, d->n_reserves * sizeof *all);
    qsort(all, n, sizeof *all, by_u32);
    int rep = 0;
    for (size_t i = 1; i < n && !rep; i++) {
        rep = all[i] == all[i - 1];
    }
    free(all);
    return rep;
}

/* "name,id,id,..." into a new array of indices. */
static int
get_ids(char *line, const char *name, uint32_t **out, uint32_t *n)
{
    size_t len = strlen(name);
    if (strncmp(line, name, len) != 0 || (line[len] != ',' && line[len] != 0)) {
        return -OV_E_MALFORMED;
    }
    uint32_t cap = 1;
    for (char *p = line; *p; p++) {
        cap += *p == ',';
    }
    *out = calloc(cap, sizeof **out);
    *n = 0;
    if (*out == NULL) {
        return -OV_E_NOMEM;
    }
    for (char *p = line[len] ? line + len + 1 : NULL; p != NULL;) {
        char *next = strchr(p, ',');
        if (next) {
            *next++ = 0;
        }
        uint32_t id = 0;
        if (parse_u32(p, 1, OV_SORT_MAX_MEMBERS, &id) != 0) {
            return -OV_E_MALFORMED;
        }
        (*out)[(*n)++] = id - 1;
        p = next;
    }
    return 0;
}

int
ov_draw_parse(struct ov_bytes in, struct ov_draw *d, char *err, size_t err_len)
{
    memset(d, 0, sizeof *d);
    struct cursor cur = { in.ptr, in.len }, *f = &cur;
    size_t cap = in.len + 1;
    char *line = malloc(cap);
    char *fl[3];
    int rc = line ? 0 : -OV_E_NOMEM;
    unsigned long ln = 0;
    const char *want[] = { "onevoice-draw/v1", "pool", "seed", "attempt", "panel", "reserves" };
    for (size_t i = 0; i < 6 && rc == 0; i++) {
        ln++;
        if (read_line(f, line, cap) != 1) {
            rc = fail(err, err_len, ln, "expected %s", want[i]);
        } else if (i == 0) {
            rc = strcmp(line, want[0]) ? fail(err, err_len, ln, "not an onevoice-draw/v1 file") : 0;
        } else if (i == 1 || i == 2) {
            rc = split(line, fl, 2) == 2 && strcmp(fl[0], want[i]) == 0 &&
                         hex_fixed(fl[1], i == 1 ? d->pool_sha256 : d->seed, 32) == 0
                     ? 0
                     : fail(err, err_len, ln, "expected %s,<64 lowercase hex digits>", want[i]);
        } else if (i == 3) {
            rc = split(line, fl, 2) == 2 && strcmp(fl[0], "attempt") == 0 &&
                         parse_u32(fl[1], 0, OV_SORT_MAX_ATTEMPTS, &d->attempt) == 0
                     ? 0
                     : fail(err, err_len, ln, "expected attempt,<number>");
        } else {
            rc = get_ids(line, want[i], i == 4 ? &d->panel : &d->reserves,
                         i == 4 ? &d->n_panel : &d->n_reserves);
            rc = rc ? fail(err, err_len, ln, "expected %s,<member IDs>", want[i]) : 0;
        }
    }
    if (rc == 0 && read_line(f, line, cap) != 0) {
        rc = fail(err, err_len, ln + 1, "nothing may follow the reserves line");
    }
    int rep = rc == 0 ? has_repeat(d) : 0;
    if (rep < 0) {
        rc = rep;
    } else if (rep) {
        rc = fail(err, err_len, ln, "a member ID twice in the panel and reserves");
    }
    free(line);
    if (rc != 0) {
        ov_draw_free(d);
    }
    return rc;
}

int
ov_draw_read(const char *path, struct ov_draw *d, char *err, size_t err_len)
{
    struct ov_buf b;
    memset(d, 0, sizeof *d);
    int rc = slurp(path, 16u << 20, &b, err, err_len);
    rc = rc ? rc : ov_draw_parse(ov_buf_view(&b), d, err, err_len);
    ov_buf_clear(&b);
    return rc;
}

void
ov_draw_free(struct ov_draw *d)
{
    free(d->panel);
    free(d->reserves);
    memset(d, 0, sizeof *d);
}
