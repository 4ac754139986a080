/* der: the few strict DER (ITU-T X.690 §10) pieces that RSA public keys need: one
 * tag-length-value header with a minimal definite length, and non-negative INTEGERs in
 * minimal form. Anything BER allows but DER forbids is refused, so a parsed structure
 * re-encodes to the same bytes (key ids are hashes of those bytes). */
#ifndef OV_DER_H
#define OV_DER_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/reader.h"

#define OV_DER_INTEGER 0x02
#define OV_DER_BIT_STRING 0x03
#define OV_DER_SEQUENCE 0x30
/* The longest contents we ever read or write: lengths take at most two octets. */
#define OV_DER_MAX_LEN 0xffff

/* Reads one TLV whose tag must be `tag`; `contents` views its value inside r's input.
 * Fails (and sets r's sticky error) with -OV_E_TRUNCATED, -OV_E_MALFORMED (other tag,
 * indefinite or reserved length form), -OV_E_NONCANONICAL (a length not in minimal form)
 * or -OV_E_TOO_BIG (over OV_DER_MAX_LEN). Like ov_reader_*, the error sticks on r, so a parser
 * may read on and check ov_reader_end once. */
int ov_der_read(struct ov_reader *r, uint8_t tag, struct ov_bytes *contents);

/* Reads an INTEGER that must be positive and minimally encoded. `magnitude` views its
 * big-endian value without the sign octet (never empty, never a leading zero). Fails as
 * ov_der_read, and with -OV_E_RANGE for zero or a negative value, -OV_E_NONCANONICAL
 * for a redundant leading octet. */
int ov_der_read_uint(struct ov_reader *r, struct ov_bytes *magnitude);

/* The size of a header (tag and length) for contents of `len` bytes (len <= OV_DER_MAX_LEN). */
size_t ov_der_header_len(size_t len);
/* Writes a header; the writer's sticky error reports lack of room. */
void ov_der_write_header(struct ov_writer *w, uint8_t tag, size_t len);
/* The size of the whole INTEGER TLV for a magnitude without leading zeros. */
size_t ov_der_uint_len(struct ov_bytes magnitude);
/* Writes an INTEGER for a non-empty magnitude without leading zeros (a zero octet is put
 * in front when the top bit is set, as DER requires). */
void ov_der_write_uint(struct ov_writer *w, struct ov_bytes magnitude);

#endif
