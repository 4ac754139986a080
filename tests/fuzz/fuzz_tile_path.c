/* Fuzz target: tile path parsing (c2sp.org/tlog-tiles). If the input parses, the tile is
 * valid and its path is exactly the input (one spelling per tile); on failure the output
 * is zeroed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "primitives/tiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ov_tile t;
    char path[OV_MAX_TILE_PATH_LEN + 1];
    size_t n = 0;
    if (ov_tile_parse_path((const char *)data, size, &t) != 0) {
        if (t.level != 0 || t.n != 0 || t.width != 0) {
            abort();
        }
        return 0;
    }
    if (ov_tile_check(&t) != 0 || ov_tile_path(&t, path, sizeof path, &n) != 0 || n != size ||
        memcmp(path, data, size) != 0) {
        abort();
    }
    return 0;
}
