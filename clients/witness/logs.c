#include "logs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

struct witness_logs {
    size_t n;
    struct witness_log *v; /* sorted by (origin_len, origin) for bsearch */
};

static int
cmp_origin(const char *a, size_t a_len, const char *b, size_t b_len)
{
    if (a_len != b_len) {
        return a_len < b_len ? -1 : 1;
    }
    return memcmp(a, b, a_len);
}

static int
cmp_logs(const void *a, const void *b)
{
    const struct witness_log *x = a, *y = b;
    return cmp_origin(x->origin, x->origin_len, y->origin, y->origin_len);
}

/* The origin must be a possible first checkpoint line: non-empty, note text. */
static int
origin_ok(struct ov_bytes o)
{
    char line[WITNESS_MAX_ORIGIN_LEN + 1];
    if (o.len == 0 || o.len > WITNESS_MAX_ORIGIN_LEN) {
        return 0;
    }
    memcpy(line, o.ptr, o.len);
    line[o.len] = '\n';
    return ov_note_text_check(OV_BYTES(line, o.len + 1)) == 0;
}

/* The log for origin, appended (unsorted) when new. NULL when the table is full or memory
 * ran out. */
static struct witness_log *
log_for(struct witness_logs *ls, struct ov_bytes o, size_t *cap)
{
    for (size_t i = 0; i < ls->n; i++) {
        if (cmp_origin(ls->v[i].origin, ls->v[i].origin_len, (const char *)o.ptr, o.len) == 0) {
            return &ls->v[i];
        }
    }
    if (ls->n == WITNESS_MAX_LOGS) {
        return NULL;
    }
    if (ls->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct witness_log *nv = realloc(ls->v, ncap * sizeof *nv);
        if (nv == NULL) {
            return NULL;
        }
        ls->v = nv;
        *cap = ncap;
    }
    struct witness_log *l = &ls->v[ls->n++];
    memset(l, 0, sizeof *l);
    memcpy(l->origin, o.ptr, o.len);
    l->origin_len = o.len;
    crypto_hash_sha256(l->origin_hash, o.ptr, o.len);
    return l;
}

static int
parse_line(struct witness_logs *ls, struct ov_bytes line, unsigned lineno, size_t *cap)
{
    size_t sp = line.len;
    while (sp > 0 && line.ptr[sp - 1] != ' ') {
        sp--;
    }
    struct ov_note_verifier v;
    struct ov_bytes origin = OV_BYTES(line.ptr, sp ? sp - 1 : 0);
    struct ov_bytes vkey = OV_BYTES(line.ptr + sp, line.len - sp);
    if (sp == 0 || !origin_ok(origin) || ov_note_vkey_parse(vkey, &v) != 0 ||
        v.type != OV_NOTE_TYPE_ED25519) {
        fprintf(stderr, "logs line %u: want \"ORIGIN VKEY\" with an Ed25519 (type 0x01) vkey\n",
                lineno);
        return -OV_E_MALFORMED;
    }
    struct witness_log *l = log_for(ls, origin, cap);
    if (l == NULL) {
        fprintf(stderr, "logs line %u: more than %d logs, or out of memory\n", lineno,
                WITNESS_MAX_LOGS);
        return -OV_E_TOO_BIG;
    }
    for (size_t k = 0; k < l->n_keys; k++) {
        /* ov_note_verify refuses two verifiers with the same (name, key ID) */
        if (l->keys[k].key_id == v.key_id && strcmp(l->keys[k].name, v.name) == 0) {
            fprintf(stderr, "logs line %u: this key is already listed for the origin\n", lineno);
            return -OV_E_MALFORMED;
        }
    }
    if (l->n_keys == WITNESS_MAX_LOG_KEYS) {
        fprintf(stderr, "logs line %u: more than %d keys for one origin\n", lineno,
                WITNESS_MAX_LOG_KEYS);
        return -OV_E_TOO_BIG;
    }
    l->keys[l->n_keys++] = v;
    return 0;
}

static int
parse_file(struct witness_logs *ls, struct ov_bytes f)
{
    size_t off = 0, cap = 0;
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && off < f.len) {
        const uint8_t *p = f.ptr + off;
        const uint8_t *lf = memchr(p, '\n', f.len - off);
        size_t n = lf ? (size_t)(lf - p) : f.len - off;
        struct ov_bytes line = OV_BYTES(p, n);
        off += n + (lf ? 1 : 0);
        lineno++;
        if (n > 0 && p[0] != '#') {
            rc = parse_line(ls, line, lineno, &cap);
        }
    }
    if (rc == 0 && ls->n == 0) {
        fprintf(stderr, "logs: the file lists no log\n");
        rc = -OV_E_MALFORMED;
    }
    return rc;
}

int
witness_logs_load(const char *path, struct witness_logs **out)
{
    struct ov_buf file;
    *out = NULL;
    int rc = ov_file_read(path, WITNESS_MAX_LOGS_FILE_LEN, &file);
    if (rc != 0) {
        fprintf(stderr, "cannot read %s: %s\n", path, ov_strerror(rc));
        return rc;
    }
    struct witness_logs *ls = calloc(1, sizeof *ls);
    rc = ls ? parse_file(ls, ov_buf_view(&file)) : -OV_E_NOMEM;
    ov_buf_clear(&file);
    if (rc != 0) {
        witness_logs_free(ls);
        return rc;
    }
    qsort(ls->v, ls->n, sizeof *ls->v, cmp_logs);
    *out = ls;
    return 0;
}

void
witness_logs_free(struct witness_logs *ls)
{
    if (ls != NULL) {
        free(ls->v);
        free(ls);
    }
}

size_t
witness_logs_count(const struct witness_logs *ls)
{
    return ls ? ls->n : 0;
}

const struct witness_log *
witness_logs_find(const struct witness_logs *ls, struct ov_bytes origin)
{
    size_t lo = 0, hi = ls->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct witness_log *l = &ls->v[mid];
        int c = cmp_origin(l->origin, l->origin_len, (const char *)origin.ptr, origin.len);
        if (c == 0) {
            return l;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

const struct witness_log *
witness_logs_find_hash(const struct witness_logs *ls, const uint8_t hash[32])
{
    /* a public value compared with public values: memcmp is fine */
    for (size_t i = 0; i < ls->n; i++) {
        if (memcmp(ls->v[i].origin_hash, hash, 32) == 0) {
            return &ls->v[i];
        }
    }
    return NULL;
}
