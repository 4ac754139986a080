#include "protocol/logreader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/httpc.h"
#include "primitives/tiles.h"

#define OV_LOGREADER_MAX_URL 1024

struct ov_logreader {
    char url[OV_LOGREADER_MAX_URL];
    struct ov_note_verifier keys[1 + OV_LOGREADER_MAX_WITNESSES]; /* the log's, then witnesses */
    size_t n_keys;
    unsigned quorum;
    bool keep_unquorate;
    bool verify_tiles;
    struct ov_httpc *http;
    struct ov_merkle_builder tree; /* every entry read so far */
    size_t n_bad_tiles;            /* set by the tile sink during a sync */
    uint64_t sync_size;            /* the size of the checkpoint a sync reads to */
};

int
ov_logreader_new(const struct ov_logreader_cfg *cfg, struct ov_logreader **out)
{
    *out = NULL;
    size_t ul = ov_httpc_base_len(cfg->url);
    if (ul >= OV_LOGREADER_MAX_URL || cfg->n_witnesses > OV_LOGREADER_MAX_WITNESSES ||
        cfg->quorum > cfg->n_witnesses || cfg->log_key.type != OV_NOTE_TYPE_ED25519) {
        return -OV_E_MALFORMED;
    }
    struct ov_logreader *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(r->url, cfg->url, ul);
    r->keys[0] = cfg->log_key;
    for (size_t i = 0; i < cfg->n_witnesses; i++) {
        r->keys[1 + i] = cfg->witnesses[i];
    }
    r->n_keys = 1 + cfg->n_witnesses;
    r->quorum = cfg->quorum;
    r->keep_unquorate = cfg->keep_unquorate;
    r->verify_tiles = cfg->verify_tiles;
    ov_merkle_builder_init(&r->tree, NULL, NULL);
    int rc = ov_httpc_new(&r->http);
    if (rc != 0) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void
ov_logreader_free(struct ov_logreader *r)
{
    if (r != NULL) {
        ov_httpc_free(r->http);
        free(r);
    }
}

uint64_t
ov_logreader_size(const struct ov_logreader *r)
{
    return ov_merkle_builder_size(&r->tree);
}

int
ov_logreader_root(const struct ov_logreader *r, uint8_t out[OV_HASH_LEN])
{
    return ov_merkle_builder_root(&r->tree, out);
}

/* State: u64be size, then the frontier hashes of the set bits of size, lowest bit first. */
int
ov_logreader_state(const struct ov_logreader *r, struct ov_buf *out)
{
    uint64_t size = r->tree.size;
    uint8_t be[8];
    ov_buf_init(out, 8 + OV_MERKLE_LEVELS * OV_HASH_LEN);
    for (int i = 0; i < 8; i++) {
        be[i] = (uint8_t)(size >> (56 - 8 * i));
    }
    int rc = ov_buf_append(out, be, sizeof be);
    for (unsigned j = 0; j < OV_MERKLE_LEVELS && rc == 0; j++) {
        if (size >> j & 1) {
            rc = ov_buf_append(out, r->tree.frontier[j], OV_HASH_LEN);
        }
    }
    return rc;
}

struct frontier_src {
    struct ov_bytes hashes;
    uint64_t size;
};

/* Serves the builder the frontier hashes from a saved state. */
static int
frontier_get(void *ctx, unsigned level, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    struct frontier_src *f = ctx;
    /* the frontier subtree at `level` is the one whose bit is set in size */
    size_t k = 0;
    for (unsigned j = 0; j < level; j++) {
        k += (size_t)(f->size >> j & 1);
    }
    (void)index;
    if (!(f->size >> level & 1) || (k + 1) * OV_HASH_LEN > f->hashes.len) {
        return -OV_E_MALFORMED;
    }
    memcpy(out, f->hashes.ptr + k * OV_HASH_LEN, OV_HASH_LEN);
    return 0;
}

int
ov_logreader_resume(struct ov_logreader *r, struct ov_bytes state)
{
    if (state.len < 8) {
        return -OV_E_MALFORMED;
    }
    uint64_t size = 0;
    for (int i = 0; i < 8; i++) {
        size = size << 8 | state.ptr[i];
    }
    struct frontier_src f = { OV_BYTES(state.ptr + 8, state.len - 8), size };
    if (f.hashes.len != (size_t)__builtin_popcountll(size) * OV_HASH_LEN) {
        return -OV_E_MALFORMED;
    }
    struct ov_merkle_src src = { frontier_get, &f };
    return ov_merkle_builder_load(&r->tree, size, &src);
}

/* GET path: 0 with the body, -OV_E_NOT_FOUND for a 404, -OV_E_HTTP for another status. */
static int
fetch_status(struct ov_logreader *r, const char *path, size_t max, struct ov_httpc_resp *resp)
{
    char url[OV_LOGREADER_MAX_URL + 96];
    int n = snprintf(url, sizeof url, "%s/%s", r->url, path);
    if (n < 0 || (size_t)n >= sizeof url) {
        return -OV_E_TOO_BIG;
    }
    int rc = ov_httpc_get(r->http, url, max, resp);
    if (rc == 0 && resp->status != 200) {
        rc = resp->status == 404 ? -OV_E_NOT_FOUND : -OV_E_HTTP;
        ov_httpc_resp_clear(resp);
    }
    return rc;
}

static int
fetch(struct ov_logreader *r, const char *path, size_t max, struct ov_httpc_resp *resp)
{
    int rc = fetch_status(r, path, max, resp);
    return rc == -OV_E_NOT_FOUND ? -OV_E_HTTP : rc;
}

/* Tile or bundle t of the tree of size `size`, of which the caller uses the first t->width
 * hashes or entries; *width is the width fetched (t->width or OV_TILE_WIDTH). C2SP
 * tlog-tiles lets a log delete a partial tile once its full tile exists (onevoice-log then
 * answers 404), so a partial tile that `size` has filled (a width remembered from an
 * earlier, smaller tree) is asked for in full, and so is one the log answers 404 for (it
 * grew past `size` since its checkpoint). The caller checks the answer as for t. */
static int
fetch_tile(struct ov_logreader *r, const struct ov_tile *t, uint64_t size, size_t max,
           struct ov_httpc_resp *resp, unsigned *width)
{
    struct ov_tile want = *t;
    char path[OV_MAX_TILE_PATH_LEN + 1];
    size_t pl;
    uint64_t n_full;
    unsigned partial;
    ov_tile_level_shape(size, t->level, &n_full, &partial);
    if (t->n < n_full) {
        want.width = OV_TILE_WIDTH;
    }
    int rc = ov_tile_path(&want, path, sizeof path, &pl);
    rc = rc ? rc : fetch_status(r, path, max, resp);
    if (rc == -OV_E_NOT_FOUND && want.width != OV_TILE_WIDTH) {
        want.width = OV_TILE_WIDTH;
        rc = ov_tile_path(&want, path, sizeof path, &pl);
        rc = rc ? rc : fetch_status(r, path, max, resp);
    }
    *width = rc == 0 ? want.width : 0;
    return rc == -OV_E_NOT_FOUND ? -OV_E_HTTP : rc;
}

int
ov_logreader_tile(struct ov_logreader *r, const struct ov_tile *t, uint64_t size, uint8_t *out,
                  size_t *out_len)
{
    struct ov_httpc_resp resp;
    unsigned width;
    *out_len = 0;
    if (t->level < 0 || ov_tile_check(t) != 0) {
        return -OV_E_RANGE;
    }
    int rc = fetch_tile(r, t, size, OV_TILE_MAX_LEN, &resp, &width);
    if (rc == 0) {
        memcpy(out, resp.body.ptr, resp.body.len);
        *out_len = resp.body.len;
        ov_httpc_resp_clear(&resp);
    }
    return rc == -OV_E_TOO_BIG ? -OV_E_MALFORMED : rc;
}

void
ov_logreader_cp_clear(struct ov_logreader_cp *cp)
{
    ov_buf_clear(&cp->note);
    memset(cp, 0, sizeof *cp);
}

/* Verifies a checkpoint note against keys[0] (the log's) and keys[1..] (witnesses). */
/* The quorum-th latest of the verified witness timestamps (checks[1..n_keys)). */
static uint64_t
quorum_time(const struct ov_note_check *checks, size_t n_keys, unsigned quorum)
{
    uint64_t t[OV_LOGREADER_MAX_WITNESSES];
    size_t n = 0;
    for (size_t i = 1; i < n_keys; i++) {
        if (checks[i].verified) {
            t[n++] = checks[i].timestamp;
        }
    }
    if (quorum == 0 || n < quorum) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) { /* insertion sort, latest first: n <= 16 */
        for (size_t j = i; j > 0 && t[j - 1] < t[j]; j--) {
            uint64_t x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    }
    return t[quorum - 1];
}

static int
verify_note(const struct ov_note_verifier *keys, size_t n_keys, unsigned quorum, bool keep,
            struct ov_bytes body, struct ov_logreader_cp *cp)
{
    struct ov_note *note = malloc(sizeof *note);
    struct ov_note_check checks[1 + OV_LOGREADER_MAX_WITNESSES];
    struct ov_checkpoint c;
    memset(cp, 0, sizeof *cp);
    int rc = note ? ov_note_open(body, keys, n_keys, note, checks) : -OV_E_NOMEM;
    if (rc == 0 && !checks[0].verified) {
        rc = -OV_E_BAD_SIG; /* only witnesses signed it */
    }
    if (rc == 0) {
        rc = ov_checkpoint_parse(note->text, &c);
    }
    if (rc == 0 && (c.origin.len != keys[0].name_len ||
                    memcmp(c.origin.ptr, keys[0].name, c.origin.len) != 0)) {
        rc = -OV_E_BAD_SIG; /* a checkpoint of another log */
    }
    if (rc == 0) {
        for (size_t i = 1; i < n_keys; i++) {
            cp->n_cosigned += checks[i].verified ? 1u : 0u;
        }
        cp->witness_time = quorum_time(checks, n_keys, quorum);
        cp->size = c.size;
        memcpy(cp->root, c.root, OV_HASH_LEN);
        ov_buf_init(&cp->note, OV_NOTE_MAX_LEN);
        rc = ov_buf_append(&cp->note, body.ptr, body.len);
        if (rc == 0 && cp->n_cosigned < quorum) {
            rc = -OV_E_STATE;
        }
    }
    free(note);
    if (rc != 0 && !(rc == -OV_E_STATE && keep)) {
        ov_logreader_cp_clear(cp);
    }
    return rc;
}

int
ov_logreader_checkpoint(struct ov_logreader *r, struct ov_logreader_cp *cp)
{
    struct ov_httpc_resp resp;
    memset(cp, 0, sizeof *cp);
    memset(&resp, 0, sizeof resp);
    int rc = fetch(r, "checkpoint", OV_NOTE_MAX_LEN, &resp);
    if (rc == 0) {
        rc = verify_note(r->keys, r->n_keys, r->quorum, r->keep_unquorate, ov_buf_view(&resp.body),
                         cp);
    }
    ov_httpc_resp_clear(&resp);
    return rc;
}

int
ov_logreader_verify_note(const struct ov_logreader_cfg *cfg, struct ov_bytes note,
                         struct ov_logreader_cp *cp)
{
    struct ov_note_verifier keys[1 + OV_LOGREADER_MAX_WITNESSES];
    memset(cp, 0, sizeof *cp);
    if (cfg->n_witnesses > OV_LOGREADER_MAX_WITNESSES || cfg->quorum > cfg->n_witnesses ||
        cfg->log_key.type != OV_NOTE_TYPE_ED25519) {
        return -OV_E_MALFORMED;
    }
    keys[0] = cfg->log_key;
    for (size_t i = 0; i < cfg->n_witnesses; i++) {
        keys[1 + i] = cfg->witnesses[i];
    }
    return verify_note(keys, 1 + cfg->n_witnesses, cfg->quorum, cfg->keep_unquorate, note, cp);
}

/* With verify_tiles: each tile rebuilt from the entries must equal the one served. */
static int
compare_tile(void *ctx, const struct ov_tile *t, const uint8_t *hashes, size_t len)
{
    struct ov_logreader *r = ctx;
    struct ov_httpc_resp resp;
    unsigned width;
    int rc = fetch_tile(r, t, r->sync_size, OV_TILE_MAX_LEN, &resp, &width);
    if (rc == 0) {
        if (resp.body.len != (size_t)width * OV_HASH_LEN || len > resp.body.len ||
            memcmp(resp.body.ptr, hashes, len) != 0) {
            r->n_bad_tiles++;
        }
        ov_httpc_resp_clear(&resp);
    }
    return rc;
}

/* The partial tiles of the tree read so far (in full where r->sync_size filled them),
 * fetched to resume a tiler there. The hashes used must be the tree's: the tiler's root must
 * be the one read (a bad tile otherwise), as the full tiles it completes start with them. */
static int
load_tiler(struct ov_logreader *r, struct ov_tiler **out)
{
    uint64_t size = r->tree.size;
    struct ov_httpc_resp resp[OV_TILE_LEVELS];
    struct ov_bytes partial[OV_TILE_LEVELS];
    memset(resp, 0, sizeof resp);
    int rc = 0;
    for (int l = 0; l < OV_TILE_LEVELS && rc == 0; l++) {
        struct ov_tile t = { .level = l };
        uint64_t n_full;
        unsigned width;
        ov_tile_level_shape(size, l, &n_full, &t.width);
        t.n = n_full;
        partial[l] = OV_BYTES(NULL, 0);
        if (t.width > 0) {
            rc = fetch_tile(r, &t, r->sync_size, OV_TILE_MAX_LEN, &resp[l], &width);
            if (rc == 0 && resp[l].body.len != (size_t)width * OV_HASH_LEN) {
                rc = -OV_E_MALFORMED;
            }
            partial[l] = OV_BYTES(resp[l].body.ptr, (size_t)t.width * OV_HASH_LEN);
        }
    }
    if (rc == 0) {
        rc = ov_tiler_new(out, size, partial, compare_tile, r);
    }
    uint8_t got[OV_HASH_LEN], want[OV_HASH_LEN];
    rc = rc ? rc : ov_tiler_root(*out, got);
    rc = rc ? rc : ov_merkle_builder_root(&r->tree, want);
    if (rc == 0 && memcmp(got, want, OV_HASH_LEN) != 0) {
        r->n_bad_tiles++;
    }
    for (int l = 0; l < OV_TILE_LEVELS; l++) {
        ov_httpc_resp_clear(&resp[l]);
    }
    return rc;
}

/* One leaf into the new tree, the tile check and the caller's hook. */
static int
add_leaf(struct ov_merkle_builder *next, struct ov_tiler *tiler, const struct ov_logreader_hooks *h,
         uint64_t index, const uint8_t hash[OV_HASH_LEN])
{
    int rc = ov_merkle_builder_append(next, hash);
    if (rc == 0 && tiler != NULL) {
        rc = ov_tiler_append(tiler, hash);
    }
    if (rc == 0 && h->leaf != NULL) {
        rc = h->leaf(h->ctx, index, hash);
    }
    return rc;
}

/* Entries [from, b's end) of bundle b, fetched, hashed and passed on. */
static int
read_bundle(struct ov_logreader *r, const struct ov_tile *b, uint64_t from,
            struct ov_merkle_builder *next, struct ov_tiler *tiler,
            const struct ov_logreader_hooks *h)
{
    size_t ne = 0;
    unsigned width;
    struct ov_httpc_resp resp;
    struct ov_bytes *entries = malloc(OV_TILE_WIDTH * sizeof *entries);
    int rc = entries ? fetch_tile(r, b, r->sync_size, OV_MAX_BUNDLE_LEN, &resp, &width)
                     : -OV_E_NOMEM;
    if (rc == 0) {
        rc = ov_bundle_parse(ov_buf_view(&resp.body), width, entries, &ne);
        for (size_t i = 0; i < ne && i < b->width && rc == 0; i++) {
            uint64_t idx = b->n * OV_TILE_WIDTH + i;
            uint8_t leaf[OV_HASH_LEN];
            if (idx < from) {
                continue;
            }
            rc = ov_merkle_leaf_hash(entries[i].ptr, entries[i].len, leaf);
            rc = rc ? rc : add_leaf(next, tiler, h, idx, leaf);
            if (rc == 0 && h->entry != NULL) {
                rc = h->entry(h->ctx, idx, entries[i]);
            }
        }
        ov_httpc_resp_clear(&resp);
    }
    free(entries);
    return rc;
}

/* Entries [from, b's end) of bundle b from the caller's known hashes: 1 used, 0 not known. */
static int
known_bundle(const struct ov_tile *b, uint64_t from, struct ov_merkle_builder *next,
             struct ov_tiler *tiler, const struct ov_logreader_hooks *h)
{
    uint64_t start = b->n * OV_TILE_WIDTH, end = start + b->width;
    uint8_t hashes[OV_TILE_WIDTH * OV_HASH_LEN];
    if (start < from) {
        start = from;
    }
    int rc = h->known(h->ctx, start, end, hashes);
    for (uint64_t i = start; rc == 1 && i < end; i++) {
        int e = add_leaf(next, tiler, h, i, hashes + (i - start) * OV_HASH_LEN);
        rc = e ? e : 1;
    }
    return rc;
}

int
ov_logreader_sync(struct ov_logreader *r, const struct ov_logreader_cp *cp,
                  ov_logreader_entry_fn fn, void *ctx)
{
    const struct ov_logreader_hooks h = { fn, NULL, NULL, ctx };
    return ov_logreader_sync_hooks(r, cp, &h);
}

int
ov_logreader_sync_hooks(struct ov_logreader *r, const struct ov_logreader_cp *cp,
                        const struct ov_logreader_hooks *h)
{
    uint64_t from = r->tree.size;
    if (cp->size < from) {
        return -OV_E_STATE;
    }
    struct ov_merkle_builder next = r->tree;
    struct ov_tiler *tiler = NULL;
    int rc = 0;
    r->n_bad_tiles = 0;
    r->sync_size = cp->size;
    if (r->verify_tiles) {
        rc = load_tiler(r, &tiler);
    }
    for (uint64_t n = from / OV_TILE_WIDTH; rc == 0 && n * OV_TILE_WIDTH < cp->size; n++) {
        uint64_t left = cp->size - n * OV_TILE_WIDTH;
        struct ov_tile b = { OV_TILE_ENTRIES, n,
                             (unsigned)(left >= OV_TILE_WIDTH ? OV_TILE_WIDTH : left) };
        rc = h->known != NULL ? known_bundle(&b, from, &next, tiler, h) : 0;
        if (rc == 0) {
            rc = read_bundle(r, &b, from, &next, tiler, h);
        } else if (rc == 1) {
            rc = 0;
        }
    }
    if (rc == 0 && tiler != NULL) {
        rc = ov_tiler_flush(tiler);
    }
    uint8_t root[OV_HASH_LEN];
    if (rc == 0) {
        rc = ov_merkle_builder_root(&next, root);
    }
    if (rc == 0 && (memcmp(root, cp->root, OV_HASH_LEN) != 0 || r->n_bad_tiles > 0)) {
        rc = -OV_E_BAD_PROOF;
    }
    if (rc == 0) {
        r->tree = next;
    }
    ov_tiler_free(tiler);
    return rc;
}
