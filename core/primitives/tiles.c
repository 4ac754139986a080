/* tiles: C2SP tlog-tiles paths, tile sets, tile-backed hash source, tiler and entry
 * bundles. The formats are tabled in tiles.h. */
#include "primitives/tiles.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/reader.h"

_Static_assert(OV_TILE_WIDTH == 1 << OV_TILE_HEIGHT, "tile width");
_Static_assert(OV_TILE_LEVELS *OV_TILE_HEIGHT == 64, "levels of a 64-bit tree");

#define MAX_INDEX_GROUPS 7 /* UINT64_MAX has 20 digits */

/* x >> s, with shifts of 64 or more giving 0 instead of undefined behaviour. */
static uint64_t
shr(uint64_t x, unsigned s)
{
    return s < 64 ? x >> s : 0;
}

static unsigned
level_of(int level)
{
    return level == OV_TILE_ENTRIES ? 0 : (unsigned)level;
}

int
ov_tile_check(const struct ov_tile *t)
{
    if (t->width < 1 || t->width > OV_TILE_WIDTH || t->level < OV_TILE_ENTRIES ||
        t->level > OV_TILE_MAX_SYNTAX_LEVEL) {
        return -OV_E_MALFORMED;
    }
    unsigned l = level_of(t->level);
    if (l >= OV_TILE_LEVELS) {
        return -OV_E_RANGE; /* even one hash there spans 2^64 leaves */
    }
    /* The tile ends at leaf (256N + W)·256^l, which must not pass 2^64 - 1. */
    if (t->n > (UINT64_MAX - t->width) / OV_TILE_WIDTH) {
        return -OV_E_RANGE;
    }
    uint64_t end_hashes = t->n * OV_TILE_WIDTH + t->width;
    if (end_hashes > UINT64_MAX >> (OV_TILE_HEIGHT * l)) {
        return -OV_E_RANGE;
    }
    return 0;
}

/* Appends formatted text at *pos, failing instead of truncating. */
static int put(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int
put(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, cap - *pos, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - *pos) {
        return -OV_E_TOO_BIG;
    }
    *pos += (size_t)n;
    return 0;
}

int
ov_tile_path(const struct ov_tile *t, char *out, size_t out_max, size_t *out_len)
{
    char buf[OV_MAX_TILE_PATH_LEN + 1];
    unsigned groups[MAX_INDEX_GROUPS], n_groups = 0;
    size_t pos = 0;
    *out_len = 0;
    if (out_max > 0) {
        out[0] = '\0';
    }
    int rc = ov_tile_check(t);
    if (rc != 0) {
        return rc;
    }
    uint64_t n = t->n;
    do {
        groups[n_groups++] = (unsigned)(n % 1000);
        n /= 1000;
    } while (n != 0);
    if (t->level == OV_TILE_ENTRIES) {
        rc = put(buf, sizeof buf, &pos, "tile/entries/");
    } else {
        rc = put(buf, sizeof buf, &pos, "tile/%d/", t->level);
    }
    for (unsigned i = n_groups; i-- > 1 && rc == 0;) {
        rc = put(buf, sizeof buf, &pos, "x%03u/", groups[i]);
    }
    if (rc == 0) {
        rc = put(buf, sizeof buf, &pos, "%03u", groups[0]);
    }
    if (rc == 0 && t->width != OV_TILE_WIDTH) {
        rc = put(buf, sizeof buf, &pos, ".p/%u", t->width);
    }
    if (rc == 0 && pos + 1 > out_max) {
        rc = -OV_E_TOO_BIG;
    }
    if (rc != 0) {
        return rc;
    }
    memcpy(out, buf, pos + 1);
    *out_len = pos;
    return 0;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A decimal number without leading zeros, at most 3 digits (levels and widths). */
static int
parse_small(const char *s, size_t len, size_t *pos, unsigned *v)
{
    size_t start = *pos;
    *v = 0;
    while (*pos < len && is_digit(s[*pos]) && *pos - start < 3) {
        *v = *v * 10 + (unsigned)(s[*pos] - '0');
        (*pos)++;
    }
    if (*pos == start || (*pos < len && is_digit(s[*pos]))) {
        return -OV_E_MALFORMED;
    }
    if (s[start] == '0' && *pos - start > 1) {
        return -OV_E_NONCANONICAL;
    }
    return 0;
}

/* <N>: ("x" ddd "/")* ddd, at most MAX_INDEX_GROUPS groups, the first not x000. */
static int
parse_index(const char *s, size_t len, size_t *pos, uint64_t *v)
{
    unsigned n_groups = 0, first = 0;
    *v = 0;
    for (;;) {
        bool more = *pos < len && s[*pos] == 'x';
        unsigned g = 0;
        *pos += more;
        for (int i = 0; i < 3; i++, (*pos)++) {
            if (*pos >= len || !is_digit(s[*pos])) {
                return -OV_E_MALFORMED;
            }
            g = g * 10 + (unsigned)(s[*pos] - '0');
        }
        if (n_groups++ == 0) {
            first = g;
        }
        if (n_groups > MAX_INDEX_GROUPS || *v > (UINT64_MAX - g) / 1000) {
            return -OV_E_RANGE;
        }
        *v = *v * 1000 + g;
        if (!more) {
            break;
        }
        if (*pos >= len || s[(*pos)++] != '/') {
            return -OV_E_MALFORMED;
        }
    }
    return n_groups > 1 && first == 0 ? -OV_E_NONCANONICAL : 0;
}

static bool
take(const char *s, size_t len, size_t *pos, const char *lit)
{
    size_t n = strlen(lit);
    if (n > len - *pos || memcmp(s + *pos, lit, n) != 0) {
        return false;
    }
    *pos += n;
    return true;
}

static int
parse_path(const char *s, size_t len, struct ov_tile *t)
{
    size_t pos = 0;
    unsigned v = 0;
    int rc = 0;
    if (!take(s, len, &pos, "tile/")) {
        return -OV_E_MALFORMED;
    }
    if (take(s, len, &pos, "entries/")) {
        t->level = OV_TILE_ENTRIES;
    } else {
        rc = parse_small(s, len, &pos, &v);
        if (rc != 0) {
            return rc;
        }
        if (v > OV_TILE_MAX_SYNTAX_LEVEL || !take(s, len, &pos, "/")) {
            return -OV_E_MALFORMED;
        }
        t->level = (int)v;
    }
    rc = parse_index(s, len, &pos, &t->n);
    if (rc != 0) {
        return rc;
    }
    t->width = OV_TILE_WIDTH;
    if (pos == len) {
        return 0;
    }
    if (!take(s, len, &pos, ".p/")) {
        return -OV_E_MALFORMED;
    }
    rc = parse_small(s, len, &pos, &v);
    if (rc != 0) {
        return rc;
    }
    if (pos != len || v == 0 || v > OV_TILE_WIDTH) {
        return -OV_E_MALFORMED;
    }
    t->width = v;
    /* a full tile is never spelled as a partial one */
    return v == OV_TILE_WIDTH ? -OV_E_NONCANONICAL : 0;
}

int
ov_tile_parse_path(const char *path, size_t len, struct ov_tile *t)
{
    char again[OV_MAX_TILE_PATH_LEN + 1];
    size_t again_len = 0;
    memset(t, 0, sizeof *t);
    if (len > OV_MAX_TILE_PATH_LEN) {
        return -OV_E_TOO_BIG;
    }
    int rc = parse_path(path, len, t);
    if (rc == 0) {
        rc = ov_tile_check(t);
    }
    /* The grammar above admits one spelling per tile; re-encoding proves it. */
    if (rc == 0 && (ov_tile_path(t, again, sizeof again, &again_len) != 0 || again_len != len ||
                    memcmp(again, path, len) != 0)) {
        rc = -OV_E_NONCANONICAL;
    }
    if (rc != 0) {
        memset(t, 0, sizeof *t);
    }
    return rc;
}

void
ov_tile_level_shape(uint64_t size, int level, uint64_t *n_full, unsigned *partial_width)
{
    uint64_t hashes = shr(size, OV_TILE_HEIGHT * level_of(level));
    *n_full = hashes >> OV_TILE_HEIGHT;
    *partial_width = (unsigned)(hashes & (OV_TILE_WIDTH - 1));
}

void
ov_tile_iter_init(struct ov_tile_iter *it, uint64_t old_size, uint64_t new_size)
{
    it->old_size = old_size < new_size ? old_size : new_size;
    it->new_size = new_size;
    it->level = OV_TILE_ENTRIES;
    it->next_n = 0;
    it->stage = 0;
}

bool
ov_tile_iter_next(struct ov_tile_iter *it, struct ov_tile *t)
{
    while (it->level < OV_TILE_LEVELS) {
        uint64_t full_new, full_old;
        unsigned w_new, w_old;
        ov_tile_level_shape(it->new_size, it->level, &full_new, &w_new);
        ov_tile_level_shape(it->old_size, it->level, &full_old, &w_old);
        if (full_new == 0 && w_new == 0) {
            break; /* this level and all above are empty */
        }
        if (it->stage == 0) {
            it->next_n = full_old;
            it->stage = 1;
        }
        if (it->stage == 1 && it->next_n < full_new) {
            *t = (struct ov_tile){it->level, it->next_n++, OV_TILE_WIDTH};
            return true;
        }
        if (it->stage == 1) {
            it->stage = 2;
            /* the same partial tile existed at old_size: same path, nothing new */
            if (w_new != 0 && (full_old != full_new || w_old != w_new)) {
                *t = (struct ov_tile){it->level, full_new, w_new};
                return true;
            }
        }
        it->level++;
        it->stage = 0;
    }
    it->level = OV_TILE_LEVELS;
    return false;
}

void
ov_tile_src_init(struct ov_tile_src *s, uint64_t size, ov_tile_read_fn read, void *ctx)
{
    s->size = size;
    s->read = read;
    s->ctx = ctx;
    s->have = false;
    memset(&s->cached, 0, sizeof s->cached);
}

static bool
same_tile(const struct ov_tile *a, const struct ov_tile *b)
{
    return a->level == b->level && a->n == b->n && a->width == b->width;
}

/* Loads tile t into the cache unless it is there already. */
static int
src_load(struct ov_tile_src *s, const struct ov_tile *t)
{
    size_t got = 0;
    if (s->have && same_tile(&s->cached, t)) {
        return 0;
    }
    s->have = false;
    int rc = s->read(s->ctx, t, s->tile, sizeof s->tile, &got);
    if (rc == 0 && got != (size_t)t->width * OV_HASH_LEN) {
        rc = -OV_E_MALFORMED;
    }
    if (rc != 0) {
        return rc;
    }
    s->cached = *t;
    s->have = true;
    return 0;
}

/* The perfect subtree at binary level 8L + h is the root of 2^h consecutive hashes of one
 * level-L tile, since 2^h divides 256. */
int
ov_tile_src_hash(void *src, unsigned level, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    struct ov_tile_src *s = src;
    memset(out, 0, OV_HASH_LEN);
    if (level >= OV_MERKLE_LEVELS || index >= (s->size >> level)) {
        return -OV_E_RANGE;
    }
    unsigned l = level / OV_TILE_HEIGHT, h = level % OV_TILE_HEIGHT;
    uint64_t first = index << h;                       /* at binary level 8l */
    uint64_t hashes = s->size >> (OV_TILE_HEIGHT * l); /* how many exist there */
    struct ov_tile t = {(int)l, first >> OV_TILE_HEIGHT, OV_TILE_WIDTH};
    uint64_t left = hashes - (t.n << OV_TILE_HEIGHT);
    if (left < OV_TILE_WIDTH) {
        t.width = (unsigned)left;
    }
    int rc = src_load(s, &t);
    if (rc != 0) {
        return rc;
    }
    size_t off = (size_t)(first & (OV_TILE_WIDTH - 1)) * OV_HASH_LEN;
    return ov_merkle_root(s->tile + off, UINT64_C(1) << h, out);
}

struct ov_tiler {
    struct ov_merkle_builder mb;
    ov_tile_sink_fn sink;
    void *ctx;
    uint64_t load_size;               /* the size being resumed, during ov_tiler_new */
    unsigned flushed[OV_TILE_LEVELS]; /* width of each level's partial last handed out */
    uint8_t cur[OV_TILE_LEVELS][OV_TILE_WIDTH][OV_HASH_LEN]; /* each level's rightmost tile */
};

/* Builder callback: hashes at binary levels 0, 8, 16... are tile entries. */
static int
tiler_on_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[OV_HASH_LEN])
{
    struct ov_tiler *t = ctx;
    if (level % OV_TILE_HEIGHT != 0) {
        return 0;
    }
    unsigned l = level / OV_TILE_HEIGHT;
    size_t pos = (size_t)(index & (OV_TILE_WIDTH - 1));
    memcpy(t->cur[l][pos], hash, OV_HASH_LEN);
    if (pos != OV_TILE_WIDTH - 1) {
        return 0;
    }
    struct ov_tile full = {(int)l, index >> OV_TILE_HEIGHT, OV_TILE_WIDTH};
    int rc = t->sink(t->ctx, &full, t->cur[l][0], OV_TILE_MAX_LEN);
    if (rc == 0) {
        t->flushed[l] = 0;
    }
    return rc;
}

/* Hash source for resuming: every frontier subtree of a size lies inside the partial
 * tile of its level (bit j of the size is bit j mod 8 of that tile's width). */
static int
tiler_partial_hash(void *ctx, unsigned level, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    struct ov_tiler *t = ctx;
    unsigned l = level / OV_TILE_HEIGHT, h = level % OV_TILE_HEIGHT;
    /* ov_merkle_builder_load asks only for the frontier; anything else is our bug */
    if (l >= OV_TILE_LEVELS) {
        abort();
    }
    uint64_t hashes = t->load_size >> (OV_TILE_HEIGHT * l);
    uint64_t base = hashes & ~(uint64_t)(OV_TILE_WIDTH - 1);
    uint64_t first = index << h;
    if (first < base || first - base + (UINT64_C(1) << h) > hashes - base) {
        abort();
    }
    return ov_merkle_root(t->cur[l][first - base], UINT64_C(1) << h, out);
}

int
ov_tiler_new(struct ov_tiler **out, uint64_t size, const struct ov_bytes *partial,
             ov_tile_sink_fn sink, void *ctx)
{
    struct ov_tiler *t = NULL;
    int rc = 0;
    *out = NULL;
    t = calloc(1, sizeof *t);
    if (t == NULL) {
        return -OV_E_NOMEM;
    }
    t->sink = sink;
    t->ctx = ctx;
    for (unsigned l = 0; l < OV_TILE_LEVELS && rc == 0; l++) {
        uint64_t n_full;
        unsigned w;
        ov_tile_level_shape(size, (int)l, &n_full, &w);
        size_t want = (size_t)w * OV_HASH_LEN, have = partial != NULL ? partial[l].len : 0;
        if (have != want) {
            rc = -OV_E_MALFORMED;
        } else if (want != 0) {
            memcpy(t->cur[l], partial[l].ptr, want);
        }
        t->flushed[l] = w;
    }
    ov_merkle_builder_init(&t->mb, tiler_on_node, t);
    t->load_size = size;
    struct ov_merkle_src src = {tiler_partial_hash, t};
    if (rc == 0) {
        rc = ov_merkle_builder_load(&t->mb, size, &src);
    }
    if (rc != 0) {
        ov_tiler_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void
ov_tiler_free(struct ov_tiler *t)
{
    free(t);
}

int
ov_tiler_append(struct ov_tiler *t, const uint8_t leaf[OV_HASH_LEN])
{
    return ov_merkle_builder_append(&t->mb, leaf);
}

int
ov_tiler_flush(struct ov_tiler *t)
{
    uint64_t size = ov_merkle_builder_size(&t->mb);
    for (unsigned l = 0; l < OV_TILE_LEVELS; l++) {
        uint64_t n_full;
        unsigned w;
        ov_tile_level_shape(size, (int)l, &n_full, &w);
        if (w == 0 || w == t->flushed[l]) {
            continue;
        }
        struct ov_tile part = {(int)l, n_full, w};
        int rc = t->sink(t->ctx, &part, t->cur[l][0], (size_t)w * OV_HASH_LEN);
        if (rc != 0) {
            return rc;
        }
        t->flushed[l] = w;
    }
    return 0;
}

int
ov_tiler_root(const struct ov_tiler *t, uint8_t out[OV_HASH_LEN])
{
    return ov_merkle_builder_root(&t->mb, out);
}

uint64_t
ov_tiler_size(const struct ov_tiler *t)
{
    return ov_merkle_builder_size(&t->mb);
}

int
ov_bundle_parse(struct ov_bytes in, unsigned want, struct ov_bytes entries[OV_TILE_WIDTH],
                size_t *n_entries)
{
    struct ov_reader r;
    size_t n = 0;
    *n_entries = 0;
    if (want > OV_TILE_WIDTH) {
        return -OV_E_MALFORMED;
    }
    if (in.len > OV_MAX_BUNDLE_LEN) {
        return -OV_E_TOO_BIG;
    }
    ov_reader_init(&r, in);
    while (ov_reader_left(&r) > 0) {
        if (n == OV_TILE_WIDTH) {
            return -OV_E_TOO_BIG;
        }
        uint16_t len = ov_reader_u16be(&r);
        ov_reader_bytes(&r, len, &entries[n++]);
        if (r.err != 0) {
            return r.err;
        }
    }
    if (n == 0 || (want != 0 && n != want)) {
        return -OV_E_MALFORMED;
    }
    *n_entries = n;
    return 0;
}

int
ov_bundle_append(struct ov_buf *b, const uint8_t *entry, size_t len)
{
    uint8_t prefix[2];
    if (len > UINT16_MAX) { /* its length prefix is a u16 */
        return -OV_E_TOO_BIG;
    }
    int rc = ov_buf_reserve(b, 2 + len);
    if (rc != 0) {
        return rc;
    }
    prefix[0] = (uint8_t)(len >> 8);
    prefix[1] = (uint8_t)len;
    rc = ov_buf_append(b, prefix, 2);
    if (rc == 0 && len > 0) {
        rc = ov_buf_append(b, entry, len);
    }
    return rc;
}

int
ov_bundle_check_tile(struct ov_bytes bundle, struct ov_bytes tile, unsigned width)
{
    struct ov_bytes entries[OV_TILE_WIDTH];
    size_t n = 0;
    if (width == 0) {
        return -OV_E_MALFORMED;
    }
    int rc = ov_bundle_parse(bundle, width, entries, &n);
    if (rc != 0) {
        return rc;
    }
    if (tile.len != n * OV_HASH_LEN) {
        return -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t h[OV_HASH_LEN];
        rc = ov_merkle_leaf_hash(entries[i].ptr, entries[i].len, h);
        if (rc != 0) {
            return rc;
        }
        if (memcmp(h, tile.ptr + i * OV_HASH_LEN, OV_HASH_LEN) != 0) {
            return -OV_E_BAD_PROOF;
        }
    }
    return 0;
}
