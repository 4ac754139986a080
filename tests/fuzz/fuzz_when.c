/* Fuzz target: operators' dates and durations (base/when). Whatever the text, the parser
 * ends inside its bound and a date it takes formats back without overflow; a date written
 * with a zone parses again, from its UTC form, to the same second. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/when.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[OV_WHEN_MAX_LEN + 2];
    if (size > OV_WHEN_MAX_LEN + 1 || memchr(data, 0, size) != NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    uint64_t t;
    if (ov_when_parse(text, 1800000000, 1800000000, &t) != 0) {
        return 0;
    }
    char utc[OV_WHEN_FORMAT_LEN];
    ov_when_format(t, 1, utc, sizeof utc);
    uint64_t again;
    if (t <= 253402300799ull && /* 9999-12-31 23:59:59: formats as a date */
        (ov_when_parse(utc, 0, 0, &again) != 0 || again != t)) {
        abort();
    }
    return 0;
}
