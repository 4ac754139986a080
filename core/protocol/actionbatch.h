/* actionbatch: POST /actions/batch (docs/PROTOCOL.md §8), both sides. A platform that
 * gathers many citizens' actions sends them in one request: a line per action, each line
 * one action request exactly as POST /actions takes it (core/protocol/actionreq, token in the body).
 * The answer has a line per action, in the same order: the action's receipt (core/protocol/receipt)
 * or its refusal, the object
 *
 *   {"error":"<reason code>","message":"<text>","http_status":<the status POST /actions
 *    would have answered, 400..599>}
 *
 * Lines end with "\n" (the last one may omit it); an empty line is a line. */
#ifndef OV_ACTIONBATCH_H
#define OV_ACTIONBATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/bytes.h"
#include "base/err.h"
#include "protocol/receipt.h"

#define OV_MAX_BATCH_ACTIONS 256
/* bytes of a batch request: 256 compact lines (ov_actionreq_build: ~1,030 bytes at most)
 * always fit; lines written with many escapes may not */
#define OV_MAX_BATCH_LEN (512u * 1024u)
#define OV_BATCH_CONTENT_TYPE "application/x-ndjson"
#define OV_MAX_REASON_LEN 63

/* The number of lines in body (0 for an empty body). */
size_t ov_actionbatch_count(struct ov_bytes body);
/* Takes the next line off *rest into *line (without its "\n"): true, or false at the end. */
bool ov_actionbatch_next(struct ov_bytes *rest, struct ov_bytes *line);

/* Appends a refusal line (with its "\n") to out. reason is a code of [a-z_], at most
 * OV_MAX_REASON_LEN bytes; message plain text; status 400..599. -OV_E_MALFORMED otherwise,
 * -OV_E_TOO_BIG, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_actionbatch_refusal(unsigned status, const char *reason, const char *message,
                                         struct ov_buf *out);
/* Reads an answer line that is a refusal: 1 with *status and reason (NUL-terminated), 0
 * for a JSON object without an "error" key (a receipt, then: core/protocol/receipt), -OV_E_MALFORMED
 * for anything else (not a JSON object, a key twice, a refusal that breaks the form above). */
OV_MUST_CHECK int ov_actionbatch_refusal_parse(struct ov_bytes line, unsigned *status,
                                               char reason[OV_MAX_REASON_LEN + 1]);

/* One action's answer in a batch, as a client reads it. */
struct ov_batch_answer {
    unsigned status;                     /* 200 or 202 (a receipt: logged or proven, or
                                            pending), or the refusal's http_status */
    char reason[OV_MAX_REASON_LEN + 1];  /* the refusal's code, else "" */
    struct ov_receipt receipt;           /* a receipt's (ov_receipt_init'ed otherwise) */
};

/* Reads a batch's answer, which must have exactly n lines, into out[0..n) (each
 * initialised here: ov_actionbatch_answers_clear them, also on failure). -OV_E_MALFORMED for
 * another number of lines or a line that is neither a refusal nor a receipt, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_actionbatch_answers_parse(struct ov_bytes body, size_t n,
                                               struct ov_batch_answer *out);
void ov_actionbatch_answers_clear(struct ov_batch_answer *a, size_t n);

#endif
