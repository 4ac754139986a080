/* Fuzz target: the verifier's JSON action request (core/protocol/actionreq). The fast path and the
 * tree parser agree on every input (result and action); whatever parses must obey every
 * rule of the format, build back into a body, and that body must parse to the very same
 * action (parse . build . parse = parse). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/actionreq.h"
#include "protocol/entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ov_action a, b;
    int rc = ov_actionreq_parse(OV_BYTES(data, size), &a);
    if (ov_actionreq_parse_tree(OV_BYTES(data, size), &b) != rc || memcmp(&a, &b, sizeof a) != 0) {
        abort();
    }
    if (rc != 0) {
        return 0;
    }
    if (size > OV_MAX_ACTION_REQ_LEN || ov_context_id_check(a.context) != 0 ||
        ov_label_check(a.platform) != 0 ||
        (a.is_statement ? ov_text_check(a.text, OV_MAX_STATEMENT_LEN) != 0 || a.is_rating ||
                              a.choice[0] != 0 || a.target[0] != 0 || a.rating != 0
                        : ov_label_check(a.is_rating ? a.target : a.choice) != 0 ||
                              (a.is_rating ? a.choice[0] != 0
                                           : a.target[0] != 0 || a.rating != 0)) ||
        a.time != 0) {
        abort();
    }
    struct ov_buf body;
    if (ov_actionreq_build(&a, true, &body) != 0 ||
        ov_actionreq_parse(ov_buf_view(&body), &b) != 0 || memcmp(&a, &b, sizeof a) != 0) {
        abort();
    }
    ov_buf_clear(&body);
    return 0;
}
