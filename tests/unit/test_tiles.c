/* Unit tests: tiles.c against tile-paths.json (paths both ways, tile sets per size), the
 * 70,000-entry fixture log rebuilt and compared file by file (nothing missing, nothing
 * extra), its checkpoint root, the proofs of tlog-witness-and-proofs.json generated from
 * both the rebuilt tiles and the fixture's files, and the parsers' negative cases. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../hashvec.h"
#include "../test.h"
#include "../vec.h"
#include "primitives/merkle.h"
#include "primitives/tiles.h"

#define FIXTURE_SIZE 70000

/* ---- a tile store: path -> bytes, write-once like the log's static files --------------- */

struct item {
    char path[OV_MAX_TILE_PATH_LEN + 1];
    struct ov_buf data;
};

struct store {
    size_t n;
    struct item items[2048];
    unsigned rewrites_differing; /* an immutable path written twice with other bytes */
};

static struct item *
store_find(struct store *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->items[i].path, path) == 0) {
            return &s->items[i];
        }
    }
    return NULL;
}

static int
store_put(struct store *s, const char *path, const uint8_t *p, size_t len)
{
    struct item *it = store_find(s, path);
    if (it != NULL) {
        if (it->data.len != len || memcmp(it->data.ptr, p, len) != 0) {
            s->rewrites_differing++;
        }
        return 0;
    }
    if (s->n == sizeof s->items / sizeof s->items[0]) {
        return -OV_E_TOO_BIG;
    }
    it = &s->items[s->n++];
    snprintf(it->path, sizeof it->path, "%s", path);
    ov_buf_init(&it->data, OV_MAX_BUNDLE_LEN);
    return ov_buf_append(&it->data, p, len);
}

static void
store_free(struct store *s)
{
    for (size_t i = 0; i < s->n; i++) {
        ov_buf_clear(&s->items[i].data);
    }
    s->n = 0;
}

static int
store_sink(void *ctx, const struct ov_tile *t, const uint8_t *hashes, size_t len)
{
    char path[OV_MAX_TILE_PATH_LEN + 1];
    size_t n = 0;
    CHECK_EQ_INT(len, (size_t)t->width * OV_HASH_LEN);
    int rc = ov_tile_path(t, path, sizeof path, &n);
    return rc != 0 ? rc : store_put(ctx, path, hashes, len);
}

static int
store_read(void *ctx, const struct ov_tile *t, uint8_t *out, size_t out_max, size_t *out_len)
{
    char path[OV_MAX_TILE_PATH_LEN + 1];
    size_t n = 0;
    int rc = ov_tile_path(t, path, sizeof path, &n);
    if (rc != 0) {
        return rc;
    }
    const struct item *it = store_find(ctx, path);
    if (it == NULL || it->data.len > out_max) {
        return -OV_E_NOT_FOUND;
    }
    memcpy(out, it->data.ptr, it->data.len);
    *out_len = it->data.len;
    return 0;
}

static char fixture_dir[1024];

static int
disk_read(void *ctx, const struct ov_tile *t, uint8_t *out, size_t out_max, size_t *out_len)
{
    char path[OV_MAX_TILE_PATH_LEN + 1], full[2048];
    size_t n = 0;
    struct ov_buf b;
    (void)ctx;
    int rc = ov_tile_path(t, path, sizeof path, &n);
    if (rc != 0) {
        return rc;
    }
    snprintf(full, sizeof full, "%s/%s", fixture_dir, path);
    rc = ov_file_read(full, out_max, &b);
    if (rc == 0) {
        memcpy(out, b.ptr, b.len);
        *out_len = b.len;
    }
    ov_buf_clear(&b);
    return rc;
}

/* ---- tile-paths.json -------------------------------------------------------------------- */

static void
test_path_vectors(void)
{
    json_t *j = vec_load("tile-paths.json"), *c;
    size_t i;
    char path[OV_MAX_TILE_PATH_LEN + 1];
    size_t n = 0;
    json_array_foreach(json_object_get(j, "paths"), i, c)
    {
        struct ov_tile t = {(int)json_integer_value(json_object_get(c, "level")),
                            hashvec_u64(c, "n"),
                            (unsigned)json_integer_value(json_object_get(c, "width"))};
        const char *want = vec_str(c, "c2sp_path"), *old = vec_str(c, "x_mod_path");
        struct ov_tile back;
        CHECK_EQ_INT(ov_tile_path(&t, path, sizeof path, &n), 0);
        CHECK(strcmp(path, want) == 0 && n == strlen(want));
        CHECK_EQ_INT(ov_tile_parse_path(want, strlen(want), &back), 0);
        CHECK(back.level == t.level && back.n == t.n && back.width == t.width);
        /* the older Go sumdb layout is a different API: never accepted */
        CHECK(ov_tile_parse_path(old, strlen(old), &back) != 0);
    }
    CHECK_EQ_INT(i, 12);
    json_decref(j);
}

/* Appends to out the summary lines tile-paths.json uses for one size. */
static void
summarize(uint64_t size, json_t *tiles, json_t *bundles, size_t *n_tiles, size_t *n_bundles)
{
    struct ov_tile_iter it;
    struct ov_tile t;
    int level = -2;
    uint64_t full = 0;
    char line[256], path[OV_MAX_TILE_PATH_LEN + 1];
    size_t n, len = 0;
    *n_tiles = *n_bundles = 0;
    ov_tile_iter_init(&it, 0, size);
    line[0] = '\0';
    for (bool more = ov_tile_iter_next(&it, &t);; more = ov_tile_iter_next(&it, &t)) {
        if (!more || t.level != level) {
            if (level != -2) {
                json_array_append_new(level < 0 ? bundles : tiles, json_string(line));
            }
            if (!more) {
                break;
            }
            CHECK(t.level == level + 1 || level == -2); /* bundles, then levels upward */
            level = t.level;
            full = 0;
        }
        CHECK_EQ_INT(ov_tile_path(&t, path, sizeof path, &n), 0);
        *(t.level < 0 ? n_bundles : n_tiles) += 1;
        if (t.width == OV_TILE_WIDTH) {
            CHECK_EQ_INT(t.n, full);
            full++;
        }
        const char *name = t.level < 0 ? "entries:" : "level";
        if (t.level < 0) {
            len =
                (size_t)snprintf(line, sizeof line, "%s %llu full", name, (unsigned long long)full);
        } else {
            len = (size_t)snprintf(line, sizeof line, "%s %d: %llu full", name, t.level,
                                   (unsigned long long)full);
        }
        if (t.width != OV_TILE_WIDTH) {
            snprintf(line + len, sizeof line - len, ", partial %s", path);
        }
    }
}

static void
test_tree_size_vectors(void)
{
    json_t *j = vec_load("tile-paths.json"), *c;
    size_t i;
    json_array_foreach(json_object_get(j, "tree_sizes"), i, c)
    {
        uint64_t size = hashvec_u64(c, "tree_size");
        json_t *tiles = json_array(), *bundles = json_array();
        size_t nt, nb;
        summarize(size, tiles, bundles, &nt, &nb);
        CHECK_EQ_INT(nt, hashvec_u64(c, "num_tiles"));
        CHECK_EQ_INT(nb, hashvec_u64(c, "num_bundles"));
        json_t *wt = json_object_get(c, "tiles_summary"),
               *wb = json_object_get(c, "bundles_summary");
        /* null in the file = no tiles at all */
        CHECK(json_is_null(wt) ? json_array_size(tiles) == 0 : json_equal(tiles, wt));
        CHECK(json_is_null(wb) ? json_array_size(bundles) == 0 : json_equal(bundles, wb));
        if (!json_is_null(wt) && !json_equal(tiles, wt)) {
            char *got = json_dumps(tiles, 0);
            fprintf(stderr, "size %llu: got %s\n", (unsigned long long)size, got);
            free(got);
        }
        json_decref(tiles);
        json_decref(bundles);
    }
    CHECK_EQ_INT(i, 11);
    json_decref(j);
}

/* ---- path parser negatives --------------------------------------------------------------- */

static void
test_path_negative(void)
{
    static const struct {
        const char *path;
        int err;
    } bad[] = {
        {"", -OV_E_MALFORMED},
        {"tile", -OV_E_MALFORMED},
        {"tile/", -OV_E_MALFORMED},
        {"/tile/0/000", -OV_E_MALFORMED},
        {"tile/0/", -OV_E_MALFORMED},
        {"tile/0/0", -OV_E_MALFORMED},
        {"tile/0/00", -OV_E_MALFORMED},
        {"tile/0/0000", -OV_E_MALFORMED},
        {"tile/0/000/", -OV_E_MALFORMED},
        {"tile/0/000.p/", -OV_E_MALFORMED},
        {"tile/0/000.p/0", -OV_E_MALFORMED},
        {"tile/0/000.p/256", -OV_E_NONCANONICAL},
        {"tile/0/000.p/257", -OV_E_MALFORMED},
        {"tile/0/000.p/1000", -OV_E_MALFORMED},
        {"tile/0/000.p/012", -OV_E_NONCANONICAL},
        {"tile/0/000.p/+12", -OV_E_MALFORMED},
        {"tile/0/000.p/12 ", -OV_E_MALFORMED},
        {"tile/0/000.p/12/", -OV_E_MALFORMED},
        {"tile/0/000.P/12", -OV_E_MALFORMED},
        {"tile/0/000.q/12", -OV_E_MALFORMED},
        {"tile/00/000", -OV_E_NONCANONICAL},
        {"tile/01/000", -OV_E_NONCANONICAL},
        {"tile/-1/000", -OV_E_MALFORMED},
        {"tile/64/000", -OV_E_MALFORMED},
        {"tile/100/000", -OV_E_MALFORMED},
        {"tile/8/000", -OV_E_RANGE}, /* grammatical, but no 64-bit tree has it */
        {"tile/63/000", -OV_E_RANGE},
        {"tile/7/001", -OV_E_RANGE},
        {"tile/x/000", -OV_E_MALFORMED},
        {"tile/0/x000/005", -OV_E_NONCANONICAL},
        {"tile/0/x000/x001/005", -OV_E_NONCANONICAL},
        {"tile/0/x001", -OV_E_MALFORMED},
        {"tile/0/x001/", -OV_E_MALFORMED},
        {"tile/0/x1/000", -OV_E_MALFORMED},
        {"tile/0/001/000", -OV_E_MALFORMED},
        {"tile/0/X001/000", -OV_E_MALFORMED},
        {"tile/0/x001x000", -OV_E_MALFORMED},
        {"tile/0/00a", -OV_E_MALFORMED},
        {"tile/0//000", -OV_E_MALFORMED},
        {"tile//000", -OV_E_MALFORMED},
        {"tile/entries", -OV_E_MALFORMED},
        {"tile/entries/", -OV_E_MALFORMED},
        {"tile/entry/000", -OV_E_MALFORMED},
        {"tile/Entries/000", -OV_E_MALFORMED},
        {"tile/data/000", -OV_E_MALFORMED},
        {"tile/8/data/000", -OV_E_MALFORMED},
        {"tile/entries/000.p/256", -OV_E_NONCANONICAL},
        {"tile/entries/x000/000", -OV_E_NONCANONICAL},
        /* index 2^56 - 1 = 72057594037927935: a full level-0 tile would end at 2^64 */
        {"tile/0/x072/x057/x594/x037/x927/935", -OV_E_RANGE},
        {"tile/0/x999/x999/x999/x999/x999/x999/999", -OV_E_RANGE},
        {"tile/0/x001/x000/x000/x000/x000/x000/x000/000", -OV_E_RANGE},
        {"tile/0/000?", -OV_E_MALFORMED},
        {"tile\\0\\000", -OV_E_MALFORMED},
        {"tile/0/000.p/12345678901234567890123456789012345678901234567890123", -OV_E_TOO_BIG},
    };
    struct ov_tile t;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ov_tile_parse_path(bad[i].path, strlen(bad[i].path), &t);
        if (rc != bad[i].err) {
            fprintf(stderr, "path %s: rc %d, want %d\n", bad[i].path, rc, bad[i].err);
        }
        CHECK_EQ_INT(rc, bad[i].err);
        CHECK(t.level == 0 && t.n == 0 && t.width == 0);
    }
    /* an embedded NUL is a byte like any other */
    CHECK(ov_tile_parse_path("tile/0/000\0", 11, &t) != 0);
    CHECK(ov_tile_parse_path("tile/0\0/000", 11, &t) != 0);

    /* the extremes that do exist */
    static const struct ov_tile edge[] = {
        {7, 0, 255},
        {7, 0, 1},
        {0, (UINT64_C(1) << 56) - 1, 255}, /* ends exactly at leaf 2^64 - 1 */
        {0, (UINT64_C(1) << 56) - 2, 256},
        {OV_TILE_ENTRIES, (UINT64_C(1) << 56) - 1, 255},
        {6, 255, 255},
    };
    char path[OV_MAX_TILE_PATH_LEN + 1];
    size_t n = 0;
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        CHECK_EQ_INT(ov_tile_path(&edge[i], path, sizeof path, &n), 0);
        CHECK_EQ_INT(ov_tile_parse_path(path, n, &t), 0);
        CHECK(t.level == edge[i].level && t.n == edge[i].n && t.width == edge[i].width);
        CHECK(n <= 47);
        /* every proper prefix either fails or is another canonical tile path */
        for (size_t cut = 0; cut < n; cut++) {
            char again[OV_MAX_TILE_PATH_LEN + 1];
            size_t m = 0;
            if (ov_tile_parse_path(path, cut, &t) == 0) {
                CHECK_EQ_INT(ov_tile_path(&t, again, sizeof again, &m), 0);
                CHECK(m == cut && memcmp(again, path, cut) == 0);
            }
        }
    }
    /* encoder refusals */
    static const struct ov_tile wrong[] = {
        {0, 0, 0},
        {0, 0, 257},
        {-2, 0, 1},
        {64, 0, 1},
        {8, 0, 1},
        {0, UINT64_MAX, 1},
        {0, UINT64_C(1) << 56, 1},
        {7, 1, 1},
        {0, (UINT64_C(1) << 56) - 1, 256},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        CHECK(ov_tile_path(&wrong[i], path, sizeof path, &n) != 0);
        CHECK(n == 0 && path[0] == '\0');
    }
    struct ov_tile ok = {1, 1234067, 17};
    CHECK_EQ_INT(ov_tile_path(&ok, path, 25, &n), -OV_E_TOO_BIG); /* needs 26 with the NUL */
    CHECK_EQ_INT(ov_tile_path(&ok, path, 26, &n), 0);
    CHECK_EQ_INT(n, 25);
}

/* ---- tile sets across growth --------------------------------------------------------------- */

static void
paths_of(uint64_t old_size, uint64_t new_size, struct store *s)
{
    struct ov_tile_iter it;
    struct ov_tile t;
    char path[OV_MAX_TILE_PATH_LEN + 1];
    size_t n = 0;
    ov_tile_iter_init(&it, old_size, new_size);
    while (ov_tile_iter_next(&it, &t)) {
        CHECK_EQ_INT(ov_tile_path(&t, path, sizeof path, &n), 0);
        CHECK(store_find(s, path) == NULL); /* each path once */
        CHECK_EQ_INT(store_put(s, path, (const uint8_t *)"", 0), 0);
    }
    CHECK(!ov_tile_iter_next(&it, &t));
}

static void
test_growth(void)
{
    static const uint64_t sizes[][2] = {
        {0, 0},     {0, 1},          {1, 1},         {1, 2},         {255, 256},
        {256, 257}, {1000, 70000},   {69999, 70000}, {65535, 65536}, {65536, 65537},
        {300, 301}, {65792, 131328}, {5, 3},
    };
    static struct store all_new, all_old, grown;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t a = sizes[i][0], b = sizes[i][1];
        paths_of(0, b, &all_new);
        paths_of(0, a, &all_old);
        paths_of(a, b, &grown);
        /* grown = all_new minus all_old, exactly */
        size_t expect = 0;
        for (size_t k = 0; k < all_new.n; k++) {
            bool was = store_find(&all_old, all_new.items[k].path) != NULL;
            bool got = store_find(&grown, all_new.items[k].path) != NULL;
            CHECK(was != got || a > b);
            expect += !was;
        }
        CHECK(grown.n == (a > b ? 0 : expect));
        store_free(&all_new);
        store_free(&all_old);
        store_free(&grown);
    }
}

/* ---- the fixture log ------------------------------------------------------------------------ */

static size_t
entry_text(uint64_t i, char *buf, size_t cap)
{
    return (size_t)snprintf(buf, cap, "fixture entry %llu", (unsigned long long)i);
}

/* Builds the fixture into s: bundles by hand, tiles by two tilers (the second resumed from
 * the partial tiles the first left at size 1000, as a restarted log would be). */
static void
rebuild_fixture(struct store *s, uint8_t root[OV_HASH_LEN])
{
    struct ov_tiler *t = NULL;
    struct ov_buf bundle;
    char e[64], path[OV_MAX_TILE_PATH_LEN + 1];
    size_t n = 0;
    ov_buf_init(&bundle, OV_MAX_BUNDLE_LEN);
    CHECK_EQ_INT(ov_tiler_new(&t, 0, NULL, store_sink, s), 0);
    for (uint64_t i = 0; i < FIXTURE_SIZE; i++) {
        uint8_t h[OV_HASH_LEN];
        size_t len = entry_text(i, e, sizeof e);
        CHECK_EQ_INT(ov_merkle_leaf_hash((const uint8_t *)e, len, h), 0);
        CHECK_EQ_INT(ov_tiler_append(t, h), 0);
        CHECK_EQ_INT(ov_bundle_append(&bundle, (const uint8_t *)e, len), 0);
        uint64_t size = i + 1;
        if (size % OV_TILE_WIDTH == 0 || size == FIXTURE_SIZE) {
            struct ov_tile bt = {OV_TILE_ENTRIES, i / OV_TILE_WIDTH,
                                 (unsigned)((i % OV_TILE_WIDTH) + 1)};
            CHECK_EQ_INT(ov_tile_path(&bt, path, sizeof path, &n), 0);
            CHECK_EQ_INT(store_put(s, path, bundle.ptr, bundle.len), 0);
            bundle.len = 0;
        }
        if (size == 1000) {
            /* publish 1000, then "restart" from its partial tiles alone */
            struct ov_bytes partial[OV_TILE_LEVELS] = {{NULL, 0}};
            CHECK_EQ_INT(ov_tiler_flush(t), 0);
            ov_tiler_free(t);
            const struct item *p0 = store_find(s, "tile/0/003.p/232");
            const struct item *p1 = store_find(s, "tile/1/000.p/3");
            CHECK(p0 != NULL && p1 != NULL);
            partial[0] = ov_buf_view(&p0->data);
            partial[1] = ov_buf_view(&p1->data);
            CHECK_EQ_INT(ov_tiler_new(&t, 1000, partial, store_sink, s), 0);
            CHECK_EQ_INT(ov_tiler_size(t), 1000);
        }
        if (size % 9973 == 0) {
            CHECK_EQ_INT(ov_tiler_flush(t), 0); /* publishing more sizes on the way */
        }
    }
    CHECK_EQ_INT(ov_tiler_flush(t), 0);
    CHECK_EQ_INT(ov_tiler_root(t, root), 0);
    ov_tiler_free(t);
    ov_buf_clear(&bundle);
}

/* Collects every file under dir (paths relative to the fixture root) into s. */
static void
walk(const char *dir, const char *rel, struct store *s)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    CHECK(d != NULL);
    if (d == NULL) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        char full[2048], r[512];
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        snprintf(full, sizeof full, "%s/%s", dir, de->d_name);
        snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        CHECK(stat(full, &st) == 0);
        if (S_ISDIR(st.st_mode)) {
            walk(full, r, s);
        } else {
            struct ov_buf b;
            CHECK_EQ_INT(ov_file_read(full, OV_MAX_BUNDLE_LEN, &b), 0);
            CHECK_EQ_INT(store_put(s, r, b.ptr, b.len), 0);
            ov_buf_clear(&b);
        }
    }
    closedir(d);
}

static void
test_fixture(struct store *built, uint8_t root[OV_HASH_LEN])
{
    static struct store disk;
    struct ov_tile_iter it;
    struct ov_tile t;
    char path[OV_MAX_TILE_PATH_LEN + 1];
    size_t n = 0, expected = 0;

    rebuild_fixture(built, root);
    CHECK_EQ_INT(built->rewrites_differing, 0);
    walk(fixture_dir, "", &disk);

    /* every file the spec expects at 70000 exists, byte for byte */
    ov_tile_iter_init(&it, 0, FIXTURE_SIZE);
    while (ov_tile_iter_next(&it, &t)) {
        CHECK_EQ_INT(ov_tile_path(&t, path, sizeof path, &n), 0);
        const struct item *want = store_find(&disk, path), *got = store_find(built, path);
        if (want == NULL || got == NULL || want->data.len != got->data.len ||
            memcmp(want->data.ptr, got->data.ptr, got->data.len) != 0) {
            fprintf(stderr, "fixture file %s: differs or missing\n", path);
        }
        CHECK(want != NULL && got != NULL);
        if (want != NULL && got != NULL) {
            CHECK(want->data.len == got->data.len &&
                  memcmp(want->data.ptr, got->data.ptr, got->data.len) == 0);
        }
        if (want != NULL && t.level == OV_TILE_ENTRIES) {
            char tp[OV_MAX_TILE_PATH_LEN + 1];
            struct ov_tile lt = {0, t.n, t.width};
            CHECK_EQ_INT(ov_tile_path(&lt, tp, sizeof tp, &n), 0);
            const struct item *tile = store_find(&disk, tp);
            CHECK(tile != NULL);
            if (tile != NULL) {
                CHECK_EQ_INT(ov_bundle_check_tile(ov_buf_view(&want->data),
                                                  ov_buf_view(&tile->data), t.width),
                             0);
            }
        }
        expected++;
    }
    CHECK_EQ_INT(expected, 277 + 274);
    /* and nothing else: the fixture is exactly that set plus the checkpoint */
    size_t others = 0;
    for (size_t i = 0; i < disk.n; i++) {
        struct ov_tile pt;
        const char *p = disk.items[i].path;
        if (strcmp(p, "checkpoint") == 0) {
            continue;
        }
        if (ov_tile_parse_path(p, strlen(p), &pt) != 0) {
            fprintf(stderr, "fixture file %s is no tile path\n", p);
            others++;
        }
    }
    CHECK_EQ_INT(others, 0);
    CHECK_EQ_INT(disk.n, expected + 1);

    /* the checkpoint's root (third line) */
    const struct item *cp = store_find(&disk, "checkpoint");
    CHECK(cp != NULL);
    if (cp != NULL) {
        char text[512];
        snprintf(text, sizeof text, "%.*s", (int)cp->data.len, (const char *)cp->data.ptr);
        char *l2 = strchr(text, '\n'), *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
        char *end = l3 ? strchr(l3 + 1, '\n') : NULL;
        uint8_t want[OV_HASH_LEN];
        CHECK(l2 != NULL && l3 != NULL && end != NULL);
        if (end != NULL) {
            *end = '\0';
            *l3 = '\0';
            CHECK(strcmp(l2 + 1, "70000") == 0);
            CHECK(hashvec_hash_str(l3 + 1, want));
            CHECK_EQ_MEM(root, want, OV_HASH_LEN);
        }
    }
    store_free(&disk);
}

/* ---- proofs of tlog-witness-and-proofs.json from tiles ------------------------------------------
 */

static void
check_proofs_from(struct ov_tile_src *src, const uint8_t root[OV_HASH_LEN])
{
    json_t *j = vec_load("tlog-witness-and-proofs.json"), *c;
    struct ov_merkle_src ms = ov_tile_src_merkle(src);
    uint8_t p[OV_MERKLE_MAX_PROOF][OV_HASH_LEN], want[OV_MERKLE_MAX_PROOF][OV_HASH_LEN];
    uint8_t h[OV_HASH_LEN], r1[OV_HASH_LEN], r2[OV_HASH_LEN];
    size_t i, np = 0, nw = 0;
    char e[64];

    CHECK_EQ_INT(ov_merkle_root_from(&ms, FIXTURE_SIZE, h), 0);
    CHECK_EQ_MEM(h, root, OV_HASH_LEN);
    json_array_foreach(json_object_get(j, "fixture_inclusion_proofs"), i, c)
    {
        uint64_t idx = hashvec_u64(c, "leafIdx"), size = hashvec_u64(c, "treeSize");
        uint8_t leaf[OV_HASH_LEN];
        CHECK(hashvec_hash(c, "leafHash", leaf) && hashvec_hash(c, "root", r2));
        CHECK(hashvec_proof(c, "proof", want, OV_MERKLE_MAX_PROOF, &nw));
        CHECK_EQ_INT(ov_merkle_leaf_hash((const uint8_t *)e, entry_text(idx, e, sizeof e), h), 0);
        CHECK_EQ_MEM(h, leaf, OV_HASH_LEN);
        CHECK_EQ_MEM(r2, root, OV_HASH_LEN);
        CHECK_EQ_INT(ov_merkle_inclusion_proof(&ms, idx, size, p[0], OV_MERKLE_MAX_PROOF, &np), 0);
        CHECK(np == nw && memcmp(p, want, nw * OV_HASH_LEN) == 0);
        CHECK_EQ_INT(ov_merkle_verify_inclusion(idx, size, leaf, (const uint8_t *)want, nw, r2), 0);
    }
    CHECK_EQ_INT(i, 7);
    json_t *cons = json_copy(json_object_get(j, "fixture_consistency_proofs"));
    json_array_append(cons, json_object_get(j, "consistency_proof"));
    json_array_foreach(cons, i, c)
    {
        uint64_t s1 = hashvec_u64(c, "size1"), s2 = hashvec_u64(c, "size2");
        CHECK(hashvec_hash(c, "root1", r1) && hashvec_hash(c, "root2", r2));
        CHECK(hashvec_proof(c, "proof", want, OV_MERKLE_MAX_PROOF, &nw));
        CHECK_EQ_INT(ov_merkle_root_from(&ms, s1, h), 0); /* old roots from tiles too */
        CHECK_EQ_MEM(h, r1, OV_HASH_LEN);
        CHECK_EQ_INT(ov_merkle_consistency_proof(&ms, s1, s2, p[0], OV_MERKLE_MAX_PROOF, &np), 0);
        CHECK(np == nw && memcmp(p, want, nw * OV_HASH_LEN) == 0);
        CHECK_EQ_INT(ov_merkle_verify_consistency(s1, s2, r1, r2, (const uint8_t *)want, nw), 0);
    }
    CHECK_EQ_INT(i, 7);
    json_decref(cons);
    json_decref(j);
}

static void
test_fixture_proofs(struct store *built, const uint8_t root[OV_HASH_LEN])
{
    static struct ov_tile_src mem, disk;
    ov_tile_src_init(&mem, FIXTURE_SIZE, store_read, built);
    check_proofs_from(&mem, root);
    ov_tile_src_init(&disk, FIXTURE_SIZE, disk_read, NULL);
    check_proofs_from(&disk, root);

    /* every leaf's inclusion proof at a few sizes, from tiles, verifies */
    struct ov_merkle_src ms = ov_tile_src_merkle(&mem);
    uint8_t p[OV_MERKLE_MAX_PROOF][OV_HASH_LEN], h[OV_HASH_LEN];
    size_t np = 0;
    char e[64];
    for (uint64_t i = 0; i < FIXTURE_SIZE; i += 1 + i / 7) {
        CHECK_EQ_INT(ov_merkle_leaf_hash((const uint8_t *)e, entry_text(i, e, sizeof e), h), 0);
        CHECK_EQ_INT(
            ov_merkle_inclusion_proof(&ms, i, FIXTURE_SIZE, p[0], OV_MERKLE_MAX_PROOF, &np), 0);
        CHECK_EQ_INT(ov_merkle_verify_inclusion(i, FIXTURE_SIZE, h, (const uint8_t *)p, np, root),
                     0);
    }
    /* a smaller published size (65536) through its own tile set: its root is the hash of
     * the full tile/1/000 (and is what tile/2/000.p/1 holds) */
    uint8_t r[OV_HASH_LEN];
    static struct ov_tile_src small;
    ov_tile_src_init(&small, 65536, store_read, built);
    struct ov_merkle_src ss = ov_tile_src_merkle(&small);
    CHECK_EQ_INT(ov_merkle_root_from(&ss, 65536, r), 0);
    const struct item *l2 = store_find(built, "tile/1/000");
    CHECK(l2 != NULL);
    if (l2 != NULL) {
        CHECK_EQ_INT(ov_merkle_root((const uint8_t *)l2->data.ptr, 256, h), 0);
        CHECK_EQ_MEM(r, h, OV_HASH_LEN);
    }
    /* errors: outside the size, a tile of the wrong length, a missing tile */
    CHECK_EQ_INT(ov_tile_src_hash(&small, 0, 65536, h), -OV_E_RANGE);
    CHECK_EQ_INT(ov_tile_src_hash(&small, 17, 0, h), -OV_E_RANGE);
    CHECK_EQ_INT(ov_tile_src_hash(&small, 64, 0, h), -OV_E_RANGE);
    struct item *t0 = store_find(built, "tile/0/005");
    CHECK(t0 != NULL);
    if (t0 != NULL) {
        t0->data.len--;
        CHECK_EQ_INT(ov_tile_src_hash(&small, 3, 5 * 32, h), -OV_E_MALFORMED);
        t0->data.len++;
        CHECK_EQ_INT(ov_tile_src_hash(&small, 3, 5 * 32, h), 0);
    }
    ov_tile_src_init(&small, FIXTURE_SIZE + 256, store_read, built);
    CHECK_EQ_INT(ov_tile_src_hash(&small, 0, FIXTURE_SIZE + 3, h), -OV_E_NOT_FOUND);
}

/* ---- tiler and bundle errors --------------------------------------------------------------------
 */

static unsigned sink_fail_after;

static int
flaky_sink(void *ctx, const struct ov_tile *t, const uint8_t *hashes, size_t len)
{
    if (sink_fail_after-- == 0) {
        return -OV_E_IO;
    }
    return store_sink(ctx, t, hashes, len);
}

static void
test_tiler_errors(struct store *built, const uint8_t root[OV_HASH_LEN])
{
    static struct store s;
    struct ov_tiler *t = NULL;
    struct ov_bytes partial[OV_TILE_LEVELS] = {{NULL, 0}};
    uint8_t h[OV_HASH_LEN];
    char e[64];

    CHECK_EQ_INT(ov_tiler_new(&t, 5, NULL, store_sink, &s), -OV_E_MALFORMED);
    CHECK(t == NULL);
    partial[0] = OV_BYTES(root, 32);
    CHECK_EQ_INT(ov_tiler_new(&t, 2, partial, store_sink, &s), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_tiler_new(&t, 256, partial, store_sink, &s), -OV_E_MALFORMED);
    ov_tiler_free(NULL);

    /* a sink failing at every point: each failed append/flush is retried and the result
     * is still the fixture */
    sink_fail_after = 3;
    CHECK_EQ_INT(ov_tiler_new(&t, 0, NULL, flaky_sink, &s), 0);
    unsigned failures = 0;
    for (uint64_t i = 0; i < FIXTURE_SIZE; i++) {
        CHECK_EQ_INT(ov_merkle_leaf_hash((const uint8_t *)e, entry_text(i, e, sizeof e), h), 0);
        int rc = ov_tiler_append(t, h);
        if (rc != 0) {
            CHECK_EQ_INT(rc, -OV_E_IO);
            CHECK_EQ_INT(ov_tiler_size(t), i);
            failures++;
            sink_fail_after = 2 + (unsigned)(i % 50); /* one append may finish two tiles */
            rc = ov_tiler_append(t, h);
        }
        CHECK_EQ_INT(rc, 0);
        if ((i + 1) % 1777 == 0) {
            rc = ov_tiler_flush(t);
            if (rc != 0) {
                failures++;
                sink_fail_after = 100;
                rc = ov_tiler_flush(t);
            }
            CHECK_EQ_INT(rc, 0);
        }
    }
    sink_fail_after = 0;
    CHECK_EQ_INT(ov_tiler_flush(t), -OV_E_IO);
    sink_fail_after = 1000;
    CHECK_EQ_INT(ov_tiler_flush(t), 0);
    CHECK_EQ_INT(ov_tiler_flush(t), 0); /* nothing left to hand out */
    CHECK(failures > 5);
    CHECK_EQ_INT(ov_tiler_root(t, h), 0);
    CHECK_EQ_MEM(h, root, OV_HASH_LEN);
    ov_tiler_free(t);
    CHECK_EQ_INT(s.rewrites_differing, 0);
    for (size_t i = 0; i < s.n; i++) {
        const struct item *b = store_find(built, s.items[i].path);
        if (b != NULL) {
            CHECK(b->data.len == s.items[i].data.len &&
                  memcmp(b->data.ptr, s.items[i].data.ptr, b->data.len) == 0);
        }
    }
    store_free(&s);
}

static void
test_bundles(void)
{
    static uint8_t big[UINT16_MAX + 1];
    struct ov_bytes ent[OV_TILE_WIDTH];
    struct ov_buf b;
    size_t n = 99;
    ov_buf_init(&b, OV_MAX_BUNDLE_LEN + 16);

    /* round trip, with an empty entry and a maximal one */
    CHECK_EQ_INT(ov_bundle_append(&b, (const uint8_t *)"abc", 3), 0);
    CHECK_EQ_INT(ov_bundle_append(&b, NULL, 0), 0);
    CHECK_EQ_INT(ov_bundle_append(&b, big, UINT16_MAX), 0);
    CHECK_EQ_INT(ov_bundle_append(&b, big, UINT16_MAX + 1), -OV_E_TOO_BIG);
    CHECK_EQ_INT(b.len, 5 + 2 + 2 + UINT16_MAX);
    CHECK_EQ_MEM(b.ptr,
                 "\x00\x03"
                 "abc"
                 "\x00\x00"
                 "\xff\xff",
                 9);
    CHECK_EQ_INT(ov_bundle_parse(ov_buf_view(&b), 3, ent, &n), 0);
    CHECK(n == 3 && ent[0].len == 3 && ent[1].len == 0 && ent[2].len == UINT16_MAX);
    CHECK_EQ_INT(ov_bundle_parse(ov_buf_view(&b), 0, ent, &n), 0);
    CHECK_EQ_INT(ov_bundle_parse(ov_buf_view(&b), 2, ent, &n), -OV_E_MALFORMED);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(ov_bundle_parse(ov_buf_view(&b), 4, ent, &n), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_bundle_parse(ov_buf_view(&b), 257, ent, &n), -OV_E_MALFORMED);

    /* truncation at every offset of a small bundle; trailing bytes */
    ov_buf_clear(&b);
    ov_buf_init(&b, OV_MAX_BUNDLE_LEN + 16);
    CHECK_EQ_INT(ov_bundle_append(&b, (const uint8_t *)"hello", 5), 0);
    CHECK_EQ_INT(ov_bundle_append(&b, (const uint8_t *)"w", 1), 0);
    for (size_t cut = 0; cut < b.len; cut++) {
        int rc = ov_bundle_parse(OV_BYTES(b.ptr, cut), 2, ent, &n);
        CHECK(rc != 0 && n == 0);
        rc = ov_bundle_parse(OV_BYTES(b.ptr, cut), 0, ent, &n);
        CHECK(cut == 7 ? rc == 0 && n == 1 : rc != 0);
    }
    CHECK_EQ_INT(ov_bundle_parse(OV_BYTES(b.ptr, 1), 0, ent, &n), -OV_E_TRUNCATED);
    CHECK_EQ_INT(ov_bundle_parse(OV_BYTES(b.ptr, 0), 0, ent, &n), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_buf_append(&b, "\x00", 1), 0);
    CHECK_EQ_INT(ov_bundle_parse(ov_buf_view(&b), 0, ent, &n), -OV_E_TRUNCATED);
    CHECK_EQ_INT(ov_buf_append(&b, "\x00", 1), 0); /* now a third, empty entry */
    CHECK_EQ_INT(ov_bundle_parse(ov_buf_view(&b), 2, ent, &n), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_bundle_parse(ov_buf_view(&b), 3, ent, &n), 0);
    /* a length pointing past the end */
    CHECK_EQ_INT(ov_bundle_parse(OV_BYTES("\x00\x05"
                                          "abcd",
                                          6),
                                 0, ent, &n),
                 -OV_E_TRUNCATED);
    CHECK_EQ_INT(ov_bundle_parse(OV_BYTES("\xff\xff"
                                          "abcd",
                                          6),
                                 0, ent, &n),
                 -OV_E_TRUNCATED);

    /* 256 entries parse, 257 do not; over the size cap is refused up front */
    ov_buf_clear(&b);
    ov_buf_init(&b, OV_MAX_BUNDLE_LEN + 16);
    for (int i = 0; i < OV_TILE_WIDTH; i++) {
        CHECK_EQ_INT(ov_bundle_append(&b, big, 1), 0);
    }
    CHECK_EQ_INT(ov_bundle_parse(ov_buf_view(&b), 256, ent, &n), 0);
    CHECK_EQ_INT(ov_bundle_append(&b, big, 0), 0);
    CHECK_EQ_INT(ov_bundle_parse(ov_buf_view(&b), 0, ent, &n), -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_bundle_parse(OV_BYTES(big, OV_MAX_BUNDLE_LEN + 1), 0, ent, &n), -OV_E_TOO_BIG);

    /* a full ov_buf leaves the buffer as it was */
    struct ov_buf small;
    ov_buf_init(&small, 6);
    CHECK_EQ_INT(ov_bundle_append(&small, (const uint8_t *)"abc", 3), 0);
    CHECK_EQ_INT(ov_bundle_append(&small, (const uint8_t *)"d", 1), -OV_E_TOO_BIG);
    CHECK_EQ_INT(small.len, 5);
    ov_buf_clear(&small);

    /* bundle against tile */
    uint8_t tile[2 * OV_HASH_LEN];
    ov_buf_clear(&b);
    ov_buf_init(&b, 64);
    CHECK_EQ_INT(ov_bundle_append(&b, (const uint8_t *)"x", 1), 0);
    CHECK_EQ_INT(ov_bundle_append(&b, (const uint8_t *)"y", 1), 0);
    CHECK_EQ_INT(ov_merkle_leaf_hash((const uint8_t *)"x", 1, tile), 0);
    CHECK_EQ_INT(ov_merkle_leaf_hash((const uint8_t *)"y", 1, tile + OV_HASH_LEN), 0);
    CHECK_EQ_INT(ov_bundle_check_tile(ov_buf_view(&b), OV_BYTES(tile, 64), 2), 0);
    CHECK_EQ_INT(ov_bundle_check_tile(ov_buf_view(&b), OV_BYTES(tile, 63), 2), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_bundle_check_tile(ov_buf_view(&b), OV_BYTES(tile, 64), 1), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_bundle_check_tile(ov_buf_view(&b), OV_BYTES(tile, 64), 0), -OV_E_MALFORMED);
    tile[40] ^= 1;
    CHECK_EQ_INT(ov_bundle_check_tile(ov_buf_view(&b), OV_BYTES(tile, 64), 2), -OV_E_BAD_PROOF);
    ov_buf_clear(&b);
}

int
main(void)
{
    static struct store built;
    uint8_t root[OV_HASH_LEN];
    snprintf(fixture_dir, sizeof fixture_dir, "%s/fixture-log", test_vectors_dir());
    test_path_vectors();
    test_tree_size_vectors();
    test_path_negative();
    test_growth();
    test_bundles();
    test_fixture(&built, root);
    test_fixture_proofs(&built, root);
    test_tiler_errors(&built, root);
    store_free(&built);
    TEST_DONE("test_tiles");
}
