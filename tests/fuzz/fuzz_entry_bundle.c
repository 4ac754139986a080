/* Fuzz target: entry-bundle parsing (c2sp.org/tlog-tiles). If the input parses, encoding its
 * entries again gives the input byte for byte, it parses with want = its entry count and
 * fails with any other count, and it matches the level-0 tile computed from its entries. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "primitives/merkle.h"
#include "primitives/tiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t tile[OV_TILE_MAX_LEN];
    struct ov_bytes ent[OV_TILE_WIDTH];
    size_t n = 0, n2 = 0;
    struct ov_buf again;
    if (ov_bundle_parse(OV_BYTES(data, size), 0, ent, &n) != 0) {
        if (n != 0) {
            abort();
        }
        return 0;
    }
    if (n < 1 || n > OV_TILE_WIDTH) {
        abort();
    }
    ov_buf_init(&again, OV_MAX_BUNDLE_LEN);
    for (size_t i = 0; i < n; i++) {
        if (ov_bundle_append(&again, ent[i].ptr, ent[i].len) != 0 ||
            ov_merkle_leaf_hash(ent[i].ptr, ent[i].len, tile + i * OV_HASH_LEN) != 0) {
            abort();
        }
    }
    if (again.len != size || memcmp(again.ptr, data, size) != 0) {
        abort();
    }
    ov_buf_clear(&again);
    if (ov_bundle_parse(OV_BYTES(data, size), (unsigned)n, ent, &n2) != 0 || n2 != n ||
        ov_bundle_parse(OV_BYTES(data, size), (unsigned)n + 1, ent, &n2) == 0 ||
        (n > 1 && ov_bundle_parse(OV_BYTES(data, size), (unsigned)n - 1, ent, &n2) == 0) ||
        ov_bundle_check_tile(OV_BYTES(data, size), OV_BYTES(tile, n * OV_HASH_LEN), (unsigned)n) !=
            0) {
        abort();
    }
    return 0;
}
