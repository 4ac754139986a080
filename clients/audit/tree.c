#include "tree.h"

#include <string.h>

#include "store.h"

#define BLOCK_LEVEL 8 /* log2(AUDIT_TREE_BLOCK) */

static int
block_get(struct audit_tree *t, uint64_t block, uint8_t *out, size_t *n)
{
    sqlite3_stmt *st = ov_db_stmt(t->db, "tl_get");
    struct ov_bytes b;
    *n = 0;
    int rc = ov_db_bind_uint64(st, 1, block);
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_blob(st, 0, sizeof t->blk, &b);
        if (rc == 0 && b.len % OV_HASH_LEN != 0) {
            rc = -OV_E_MALFORMED;
        }
        if (rc == 0) {
            memcpy(out, b.ptr, b.len);
            *n = b.len / OV_HASH_LEN;
        }
    } else if (rc == OV_DB_DONE) {
        rc = -OV_E_NOT_FOUND;
    }
    ov_db_reset(st);
    return rc;
}

static int
block_put(struct audit_tree *t, uint64_t block, size_t n)
{
    sqlite3_stmt *st = ov_db_stmt(t->db, "tl_put");
    int rc = ov_db_bind_uint64(st, 1, block);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(t->blk, n * OV_HASH_LEN));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

/* A perfect subtree inside the tree read: stored from level 8 up, else hashed from its
 * block's leaves. */
static int
subtree(void *ctx, unsigned level, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    struct audit_tree *t = ctx;
    int rc;
    if (level >= BLOCK_LEVEL) {
        sqlite3_stmt *st = ov_db_stmt(t->db, "tn_get");
        struct ov_bytes h;
        rc = ov_db_bind_int64(st, 1, level);
        rc = rc ? rc : ov_db_bind_uint64(st, 2, index);
        rc = rc ? rc : ov_db_step(st);
        if (rc == OV_DB_ROW) {
            rc = ov_db_col_blob(st, 0, OV_HASH_LEN, &h);
            rc = rc ? rc : (h.len == OV_HASH_LEN ? 0 : -OV_E_MALFORMED);
            if (rc == 0) {
                memcpy(out, h.ptr, OV_HASH_LEN);
            }
        } else if (rc == OV_DB_DONE) {
            rc = -OV_E_NOT_FOUND;
        }
        ov_db_reset(st);
        return rc;
    }
    uint64_t first = index << level, block = first >> BLOCK_LEVEL;
    uint64_t off = first & (AUDIT_TREE_BLOCK - 1), n = (uint64_t)1 << level;
    if (block == t->blk_no) {
        return ov_merkle_root(t->blk[off], n, out);
    }
    uint8_t buf[AUDIT_TREE_BLOCK][OV_HASH_LEN];
    size_t have = 0;
    rc = block_get(t, block, buf[0], &have);
    if (rc == 0 && have < off + n) {
        rc = -OV_E_NOT_FOUND;
    }
    return rc ? rc : ov_merkle_root(buf[off], n, out);
}

static int
on_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[OV_HASH_LEN])
{
    struct audit_tree *t = ctx;
    if (level < BLOCK_LEVEL) {
        return 0;
    }
    sqlite3_stmt *st = ov_db_stmt(t->db, "tn_put");
    int rc = ov_db_bind_int64(st, 1, level);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, index);
    rc = rc ? rc : ov_db_bind_blob(st, 3, OV_BYTES(hash, OV_HASH_LEN));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

int
audit_tree_load(struct audit_tree *t, struct ov_db *db)
{
    t->db = db;
    t->known = true;
    t->blk_no = 0;
    ov_merkle_builder_init(&t->b, on_node, t);
    uint64_t unknown = 0, size = 0;
    int rc = audit_meta_get_u64(db, "tree_unknown", &unknown);
    if (rc == 0 && unknown != 0) {
        t->known = false;
        return 0;
    }
    rc = rc == -OV_E_NOT_FOUND ? 0 : rc;
    int g = audit_meta_get_u64(db, "tree_size", &size);
    rc = rc ? rc : (g == -OV_E_NOT_FOUND ? 0 : g);
    if (rc != 0 || size == 0) {
        return rc;
    }
    size_t have = 0;
    if (size % AUDIT_TREE_BLOCK != 0) {
        rc = block_get(t, size >> BLOCK_LEVEL, t->blk[0], &have);
        rc = rc ? rc : (have == size % AUDIT_TREE_BLOCK ? 0 : -OV_E_MALFORMED);
    }
    t->blk_no = size >> BLOCK_LEVEL;
    struct ov_merkle_src src = { subtree, t };
    rc = rc ? rc : ov_merkle_builder_load(&t->b, size, &src);
    return rc;
}

int
audit_tree_append(struct audit_tree *t, uint64_t index, struct ov_bytes entry)
{
    if (!t->known) {
        return 0;
    }
    if (index != t->b.size) {
        t->known = false;
        return 0;
    }
    uint8_t leaf[OV_HASH_LEN];
    int rc = ov_merkle_leaf_hash(entry.ptr, entry.len, leaf);
    rc = rc ? rc : ov_merkle_builder_append(&t->b, leaf);
    if (rc != 0) {
        return rc;
    }
    memcpy(t->blk[index & (AUDIT_TREE_BLOCK - 1)], leaf, OV_HASH_LEN);
    if (t->b.size % AUDIT_TREE_BLOCK == 0) {
        rc = block_put(t, t->blk_no, AUDIT_TREE_BLOCK);
        t->blk_no++;
    }
    return rc;
}

int
audit_tree_save(struct audit_tree *t)
{
    if (!t->known) {
        return audit_meta_put_u64(t->db, "tree_unknown", 1);
    }
    size_t part = (size_t)(t->b.size % AUDIT_TREE_BLOCK);
    int rc = part ? block_put(t, t->b.size >> BLOCK_LEVEL, part) : 0;
    return rc ? rc : audit_meta_put_u64(t->db, "tree_size", t->b.size);
}

int
audit_tree_root(struct audit_tree *t, uint64_t size, uint8_t out[OV_HASH_LEN])
{
    if (!t->known || size > t->b.size) {
        return -OV_E_NOT_FOUND;
    }
    if (size == t->b.size) {
        return ov_merkle_builder_root(&t->b, out);
    }
    struct ov_merkle_src src = { subtree, t };
    return ov_merkle_root_from(&src, size, out);
}
