/* Fuzz target: POST /actions/batch's lines and answer (core/protocol/actionbatch). The input's first
 * byte (mod 8) is the number of actions a client expects, the rest the answer it reads
 * (also taken as a batch body, whose line count must match its lines). Every line read as a
 * refusal writes back into one that reads the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/actionbatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
refusal_round_trip(struct ov_bytes line)
{
    unsigned status, status2;
    char reason[OV_MAX_REASON_LEN + 1], reason2[OV_MAX_REASON_LEN + 1];
    if (ov_actionbatch_refusal_parse(line, &status, reason) != 1) {
        return;
    }
    struct ov_buf b;
    ov_buf_init(&b, 1 << 20);
    if (ov_actionbatch_refusal(status, reason, "again", &b) != 0 ||
        ov_actionbatch_refusal_parse(OV_BYTES(b.ptr, b.len - 1), &status2, reason2) != 1 ||
        status2 != status || strcmp(reason, reason2) != 0) {
        abort();
    }
    ov_buf_clear(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t n = data[0] % 8;
    struct ov_bytes body = OV_BYTES(data + 1, size - 1), rest = body, line;
    size_t lines = 0, bytes = 0;
    while (ov_actionbatch_next(&rest, &line)) {
        if (line.len > body.len || memchr(line.ptr, '\n', line.len) != NULL) {
            abort();
        }
        bytes += line.len;
        lines++;
        refusal_round_trip(line);
    }
    if (lines != ov_actionbatch_count(body) || bytes + lines < body.len) {
        abort(); /* every byte is in a line or is the "\n" that ends one */
    }
    struct ov_batch_answer a[8];
    int rc = ov_actionbatch_answers_parse(body, n, a);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if ((a[i].reason[0] != 0) != (a[i].status >= 400) ||
            (a[i].reason[0] == 0 && a[i].status != 200 && a[i].status != 202)) {
            abort();
        }
    }
    ov_actionbatch_answers_clear(a, n);
    return 0;
}
