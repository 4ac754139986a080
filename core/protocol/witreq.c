/* witreq: add-checkpoint bodies and text/x.tlog.size bodies; the formats are tabled in
 * witreq.h. */
#include "protocol/witreq.h"

#include <stdio.h>
#include <string.h>

#include "base/codec.h"

/* The line starting at in[*off], without its LF, at most max bytes long. Advances *off past
 * the LF. -OV_E_MALFORMED when no LF comes within max + 1 bytes. */
static int
next_line(struct ov_bytes in, size_t *off, size_t max, struct ov_bytes *line)
{
    size_t left = in.len - *off;
    size_t scan = left < max + 1 ? left : max + 1;
    const uint8_t *p = in.ptr + *off;
    const uint8_t *lf = scan ? memchr(p, '\n', scan) : NULL;
    if (lf == NULL) {
        return -OV_E_MALFORMED;
    }
    *line = OV_BYTES(p, (size_t)(lf - p));
    *off += line->len + 1;
    return 0;
}

static int
parse_old(struct ov_bytes line, uint64_t *old)
{
    static const char prefix[] = "old ";
    const size_t n = sizeof prefix - 1;
    if (line.len <= n || memcmp(line.ptr, prefix, n) != 0) {
        return -OV_E_MALFORMED;
    }
    return ov_parse_u64((const char *)line.ptr + n, line.len - n, old);
}

static int
parse_hash(struct ov_bytes line, uint8_t out[OV_HASH_LEN])
{
    size_t n = 0;
    if (line.len != OV_WITREQ_HASH_B64_LEN) {
        return -OV_E_MALFORMED;
    }
    /* strict: padded, canonical (unused bits zero), nothing but the alphabet */
    int rc = ov_b64_decode(out, OV_HASH_LEN, &n, (const char *)line.ptr, line.len, OV_B64_STD);
    return rc != 0 || n != OV_HASH_LEN ? -OV_E_MALFORMED : 0;
}

static int
parse_body(struct ov_bytes body, struct ov_witreq *out)
{
    struct ov_bytes line;
    size_t off = 0;
    int rc = next_line(body, &off, 4 + 20, &line);
    if (rc == 0) {
        rc = parse_old(line, &out->old);
    }
    while (rc == 0) {
        rc = next_line(body, &off, OV_WITREQ_HASH_B64_LEN, &line);
        if (rc != 0 || line.len == 0) {
            break; /* the empty line ends the proof */
        }
        if (out->n_proof == OV_WITREQ_MAX_PROOF) {
            return -OV_E_TOO_BIG;
        }
        rc = parse_hash(line, out->proof + out->n_proof * OV_HASH_LEN);
        out->n_proof++;
    }
    if (rc != 0) {
        return rc;
    }
    out->note_bytes = OV_BYTES(body.ptr + off, body.len - off);
    rc = ov_note_parse(out->note_bytes, &out->note);
    if (rc == 0) {
        rc = ov_checkpoint_parse(out->note.text, &out->cp);
    }
    return rc;
}

int
ov_witreq_parse(struct ov_bytes body, struct ov_witreq *out)
{
    memset(out, 0, sizeof *out);
    if (body.len > OV_WITREQ_MAX_LEN) {
        return -OV_E_TOO_BIG;
    }
    int rc = parse_body(body, out);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
    }
    return rc;
}

int
ov_witreq_format(uint64_t old, const uint8_t *proof, size_t n_proof, struct ov_bytes note,
                 struct ov_buf *out)
{
    ov_buf_init(out, OV_WITREQ_MAX_LEN);
    if (n_proof > OV_WITREQ_MAX_PROOF) {
        return -OV_E_TOO_BIG;
    }
    int rc = ov_buf_printf(out, "old %llu\n", (unsigned long long)old);
    for (size_t i = 0; i < n_proof && rc == 0; i++) {
        rc = ov_buf_append_b64(out, proof + i * OV_HASH_LEN, OV_HASH_LEN, OV_B64_STD);
        if (rc == 0) {
            rc = ov_buf_append(out, "\n", 1);
        }
    }
    if (rc == 0) {
        rc = ov_buf_append(out, "\n", 1);
    }
    if (rc == 0) {
        rc = ov_buf_append(out, note.ptr, note.len);
    }
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

int
ov_witreq_size_parse(struct ov_bytes body, uint64_t *size)
{
    *size = 0;
    if (body.len > OV_WITREQ_MAX_SIZE_LEN) {
        return -OV_E_TOO_BIG;
    }
    if (body.len < 2 || body.ptr[body.len - 1] != '\n') {
        return -OV_E_MALFORMED;
    }
    int rc = ov_parse_u64((const char *)body.ptr, body.len - 1, size);
    if (rc != 0) {
        *size = 0;
    }
    return rc;
}

size_t
ov_witreq_size_format(uint64_t size, char out[OV_WITREQ_MAX_SIZE_LEN + 1])
{
    int n = snprintf(out, OV_WITREQ_MAX_SIZE_LEN + 1, "%llu\n", (unsigned long long)size);
    /* 20 digits and LF always fit */
    return (size_t)n;
}
