/* contexts: the contexts the issuer serves, in memory: each logged context's definition
 * (its log entry, decoded), log index and token key. A context enters once the log has
 * acknowledged its entry and never leaves or changes, so a pointer handed out stays valid
 * until issuer_contexts_free and its key may sign on any thread (brsa.h). */
#ifndef ISSUER_CONTEXTS_H
#define ISSUER_CONTEXTS_H

#include <stdbool.h>
#include <stdint.h>

#include "primitives/brsa.h"
#include "base/bytes.h"
#include "infra/db.h"
#include "protocol/entry.h"
#include "base/err.h"

struct issuer_ctx {
    struct ov_context def;
    uint64_t log_index;
    struct ov_brsa_sk *sk;
};

struct issuer_contexts;

OV_MUST_CHECK int issuer_contexts_new(struct issuer_contexts **out);
void issuer_contexts_free(struct issuer_contexts *cs);

/* Adds every logged context of the database not yet held. -OV_E_DB, -OV_E_MALFORMED (a
 * row that does not decode), -OV_E_NOMEM. */
OV_MUST_CHECK int issuer_contexts_load(struct issuer_contexts *cs, struct ov_db *db);

/* The context called id, or NULL. */
const struct issuer_ctx *issuer_contexts_find(struct issuer_contexts *cs, const char *id);
/* The context a TokenRequest names by its truncated key id: the one not yet closed at
 * now_s (at most one, by construction), else a closed one (*closed set), else NULL. */
const struct issuer_ctx *issuer_contexts_by_key(struct issuer_contexts *cs, uint8_t truncated,
                                                uint64_t now_s, bool *closed);

/* GET /contexts: the JSON array of every logged context. */
OV_MUST_CHECK int issuer_contexts_list(struct issuer_contexts *cs, uint64_t now_s,
                                       struct ov_buf *out);
/* The JSON listing element of one context. */
OV_MUST_CHECK int issuer_ctx_json(const struct issuer_ctx *c, uint64_t now_s, struct ov_buf *out);
/* The RFC 9578 directory: the token keys of the contexts open at now_s. */
OV_MUST_CHECK int issuer_contexts_directory(struct issuer_contexts *cs, uint64_t now_s,
                                            struct ov_buf *out);

#endif
