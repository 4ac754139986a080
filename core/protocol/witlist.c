#include "protocol/witlist.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool
blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

int
ov_witlist_parse(struct ov_bytes text, struct ov_witness_line *out, size_t max, size_t *n,
                 size_t *bad_line)
{
    *n = 0;
    *bad_line = 0;
    if (text.len > OV_WITLIST_MAX_FILE) {
        return -OV_E_TOO_BIG;
    }
    size_t off = 0, line = 0;
    while (off < text.len) {
        const char *s = (const char *)text.ptr + off;
        const char *nl = memchr(s, '\n', text.len - off);
        size_t len = nl != NULL ? (size_t)(nl - s) : text.len - off;
        off += len + (nl != NULL);
        line++;
        while (len > 0 && blank(s[len - 1])) {
            len--;
        }
        while (len > 0 && blank(*s)) {
            s++, len--;
        }
        if (len == 0 || *s == '#') {
            continue;
        }
        const char *k = s + len; /* the last field */
        while (k > s && !blank(k[-1])) {
            k--;
        }
        size_t klen = (size_t)(s + len - k);
        if (*n == max) {
            *bad_line = line;
            return -OV_E_TOO_BIG;
        }
        struct ov_witness_line *w = &out[*n];
        if (klen > OV_NOTE_MAX_VKEY_LEN || ov_note_vkey_parse(OV_BYTES(k, klen), &w->key) != 0 ||
            w->key.type != OV_NOTE_TYPE_COSIG_V1) {
            *bad_line = line;
            return -OV_E_MALFORMED;
        }
        memcpy(w->vkey, k, klen);
        w->vkey[klen] = '\0';
        (*n)++;
    }
    return 0;
}

int
ov_witlist_load(const char *prog, const char *path, struct ov_witness_line *out, size_t max,
                size_t *n)
{
    struct ov_buf f;
    size_t bad = 0;
    *n = 0;
    int rc = ov_file_read(path, OV_WITLIST_MAX_FILE, &f);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot read the witnesses file %s: %s\n", prog, path,
                ov_strerror(rc));
        return rc;
    }
    rc = ov_witlist_parse(ov_buf_view(&f), out, max, n, &bad);
    ov_buf_clear(&f);
    if (rc == -OV_E_TOO_BIG && bad == 0) {
        fprintf(stderr, "%s: %s: over %u bytes\n", prog, path, OV_WITLIST_MAX_FILE);
    } else if (rc != 0) {
        fprintf(stderr, "%s: %s line %zu: want \"[URL ]VKEY\", a cosignature/v1 key (at most "
                        "%zu witnesses)\n", prog, path, bad, max);
    }
    return rc;
}
