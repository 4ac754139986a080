/* lib_int: what the platform library's files share (not installed), and what its unit test
 * (tests/unit/test_libonevoice.c) builds offline. */
#ifndef ONEVOICE_LIB_INT_H
#define ONEVOICE_LIB_INT_H

#include "protocol/entry.h"
#include "protocol/logreader.h"
#include "primitives/note.h"
#include "onevoice.h"

struct onevoice_log {
    char url[2048];
    struct ov_note_verifier key;
    struct ov_note_verifier witnesses[OV_LOGREADER_MAX_WITNESSES];
    size_t n_witnesses;
    unsigned quorum;
};

struct onevoice_action {
    struct ov_action a;
};

struct onevoice_context {
    struct ov_context def;
    uint64_t log_index;
    struct ov_pp_key key;                    /* the logged token key */
    uint8_t challenge[OV_ENTRY_MAX_CHALLENGE_LEN];
    size_t challenge_len;
    uint8_t digest[OV_PP_DIGEST_LEN];        /* SHA-256 of the TokenChallenge */
};

/* The logreader configuration for log (borrows from it). */
void lib_log_cfg(const struct onevoice_log *log, struct ov_logreader_cfg *cfg);

#endif
