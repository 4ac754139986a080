/* lib_int: what the platform library's files share (not installed). */
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

/* The logreader configuration for log (borrows from it). */
void lib_log_cfg(const struct onevoice_log *log, struct ov_logreader_cfg *cfg);

#endif
