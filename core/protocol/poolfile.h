/* poolfile: the public pool file (docs/PROTOCOL.md §10, `onevoice-pool/v1`) parsed strictly
 * into a core/protocol/sortition pool, and the draw file beside it. Both come from an
 * operator and are checked by watchdogs: untrusted bytes (tests/fuzz/fuzz_poolfile.c). */
#ifndef OV_POOLFILE_H
#define OV_POOLFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "protocol/sortition.h"

#define OV_POOL_MAX_LABEL 128
#define OV_POOL_MAX_LINE 8192
#define OV_POOL_MAX_FILE (1024u << 20)

struct ov_pool_file {
    uint32_t panel, reserves, max_attempts;
    char cat_name[OV_SORT_MAX_CATEGORIES][OV_POOL_MAX_LABEL + 1];
    char value_name[OV_SORT_MAX_CATEGORIES][OV_SORT_MAX_VALUES][OV_POOL_MAX_LABEL + 1];
    struct ov_sort_pool pool; /* its values and household point into the arrays below */
    uint8_t *values;
    uint32_t *household;      /* NULL when no member has one */
    uint8_t (*contact)[32];   /* per member: the salted commitment to its contact */
    uint8_t sha256[32];       /* of the file's bytes: the pool's name */
};

/* Parses in (a whole pool file). 0, or -OV_E_MALFORMED / -OV_E_NOMEM with a message naming
 * the line in err. ov_pool_free it either way. */
OV_MUST_CHECK int ov_pool_parse(struct ov_bytes in, struct ov_pool_file *out, char *err,
                                size_t err_len);
/* Reads and parses path (at most OV_POOL_MAX_FILE bytes); -OV_E_IO with the reason in err. */
OV_MUST_CHECK int ov_pool_read(const char *path, struct ov_pool_file *out, char *err,
                               size_t err_len);
void ov_pool_free(struct ov_pool_file *p);

/* A label: 1..OV_POOL_MAX_LABEL bytes of UTF-8 (ov_text_check: shortest forms, no
 * surrogates, no control character: C0, DEL, C1), no comma or quote. s[len] is its NUL. */
OV_MUST_CHECK int ov_pool_label_check(const char *s, size_t len);

/* The draw file: `onevoice-draw/v1`, `pool,<hex>`, `seed,<hex>`, `attempt,<n>`,
 * `panel,<id>,...`, `reserves,<id>,...` (IDs are member numbers from 1). */
struct ov_draw {
    uint8_t pool_sha256[32];
    uint8_t seed[OV_SORT_SEED_LEN];
    uint32_t attempt;
    uint32_t n_panel, n_reserves;
    uint32_t *panel, *reserves; /* member indices (ID - 1) */
};
/* Creates path (never overwriting) with the draw; on any failure removes what it created.
 * -OV_E_IO. */
OV_MUST_CHECK int ov_draw_write(const char *path, const struct ov_draw *d);
/* Parses a draw file strictly: a member ID at most once in the panel and reserves together.
 * -OV_E_MALFORMED / -OV_E_NOMEM with the line in err; *d is then freed and zeroed. */
OV_MUST_CHECK int ov_draw_parse(struct ov_bytes in, struct ov_draw *d, char *err, size_t err_len);
OV_MUST_CHECK int ov_draw_read(const char *path, struct ov_draw *d, char *err, size_t err_len);
void ov_draw_free(struct ov_draw *d);

#endif
