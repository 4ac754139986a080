/* Fuzz target: the tlog-witness add-checkpoint body parser (ov_witreq_parse) and the
 * text/x.tlog.size body parser (ov_witreq_size_parse). Properties: a parsed body formats back
 * to the exact input; its views lie inside the input; its note serializes back to the note as
 * sent; a checkpoint signed by the fixture log key keeps verifying; a refused input leaves the
 * output zeroed; a parsed size formats back to the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "protocol/witreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ov_witreq req;

static int
inside(struct ov_bytes v, const uint8_t *data, size_t size)
{
    return v.len == 0 ||
           (v.ptr >= data && v.len <= size && v.ptr - data <= (ptrdiff_t)(size - v.len));
}

static void
zeroed(void)
{
    const uint8_t *p = (const uint8_t *)&req;
    for (size_t i = 0; i < sizeof req; i++) {
        if (p[i] != 0) {
            abort();
        }
    }
}

static void
request(const uint8_t *data, size_t size)
{
    if (ov_witreq_parse(OV_BYTES(data, size), &req) != 0) {
        zeroed();
        return;
    }
    if (req.n_proof > OV_WITREQ_MAX_PROOF || req.cp.origin.len == 0 ||
        !inside(req.note_bytes, data, size) || !inside(req.note.text, data, size) ||
        !inside(req.cp.origin, data, size)) {
        abort();
    }
    struct ov_buf b;
    if (ov_witreq_format(req.old, req.proof, req.n_proof, req.note_bytes, &b) != 0 ||
        !fuzz_same(&b, data, size)) {
        abort();
    }
    ov_buf_clear(&b);
    if (ov_note_serialize(&req.note, &b) != 0 ||
        !fuzz_same(&b, req.note_bytes.ptr, req.note_bytes.len)) {
        abort();
    }
    ov_buf_clear(&b);
    /* what the witness does next: check the log's signature (index 3: the fixture log) */
    int rc = ov_note_verify(&req.note, &fuzz_keys()[3], 1, NULL);
    if (rc != 0 && rc != -OV_E_UNKNOWN_KEY && rc != -OV_E_BAD_SIG) {
        abort();
    }
}

static void
size_body(const uint8_t *data, size_t size)
{
    uint64_t v = 1;
    char out[OV_WITREQ_MAX_SIZE_LEN + 1];
    if (ov_witreq_size_parse(OV_BYTES(data, size), &v) != 0) {
        if (v != 0) {
            abort();
        }
        return;
    }
    size_t n = ov_witreq_size_format(v, out);
    if (n != size || memcmp(out, data, n) != 0) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    request(data, size);
    size_body(data, size);
    return 0;
}
