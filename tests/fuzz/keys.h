/* keys.h: the trusted verifiers the note fuzz targets check signatures against: the x/mod
 * PeterNeumann and EnochRoot keys, the C2SP example key, the fixture log key (type 0x01) and
 * the fixture witness key (type 0x04), all from tests/vectors/signed-note.json. */
#ifndef OV_FUZZ_KEYS_H
#define OV_FUZZ_KEYS_H

#include <stdlib.h>
#include <string.h>

#include "primitives/note.h"

#define FUZZ_N_KEYS 5

static inline const struct ov_note_verifier *
fuzz_keys(void)
{
    static const char *const vkeys[FUZZ_N_KEYS] = {
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "fixture.example/tlogcheck/votes+0756a8b1+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPl",
        "witness.example/w1+b4b4c9e4+BBJntvxRQ7ly321g9v3JEo+dd3oPNV2cq6v47W/IDpsr",
    };
    static struct ov_note_verifier vs[FUZZ_N_KEYS];
    static int ready;
    if (!ready) {
        for (size_t i = 0; i < FUZZ_N_KEYS; i++) {
            if (ov_note_vkey_parse(OV_BYTES(vkeys[i], strlen(vkeys[i])), &vs[i]) != 0) {
                abort();
            }
        }
        ready = 1;
    }
    return vs;
}

/* A view of a buffer equals the given bytes. */
static inline int
fuzz_same(const struct ov_buf *b, const uint8_t *p, size_t n)
{
    return b->len == n && (n == 0 || memcmp(b->ptr, p, n) == 0);
}

#endif
