/* cache: full tiles and full entry bundles in memory, for the read path. They never change
 * once full (C2SP tlog-tiles), so a cached copy is never stale. Direct-mapped, a fixed
 * number of slots, one lock: a hit costs one copy of at most a few KiB. */
#ifndef TLOG_CACHE_H
#define TLOG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/tiles.h"

#define TLOG_CACHE_SLOTS 4096         /* about 32 MiB of level-0 tiles at most */
#define TLOG_CACHE_MAX_ITEM (64u << 10) /* bundles larger than this are not cached */

struct tlog_cache;

OV_MUST_CHECK int tlog_cache_new(struct tlog_cache **out);
void tlog_cache_free(struct tlog_cache *c);
/* Appends the cached bytes of full tile t to out: true on a hit. */
bool tlog_cache_get(struct tlog_cache *c, const struct ov_tile *t, struct ov_buf *out);
/* Remembers the bytes of full tile t (a partial tile or a large bundle is ignored). */
void tlog_cache_put(struct tlog_cache *c, const struct ov_tile *t, struct ov_bytes data);

#endif
