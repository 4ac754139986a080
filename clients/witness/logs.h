/* logs: the logs a witness cosigns for, read once at start from the --logs file.
 *
 * File format (UTF-8, at most WITNESS_MAX_LOGS_FILE_LEN bytes): one line per log key,
 *
 *     <origin> " " <vkey> 0x0A
 *
 * split at the LAST space (a vkey holds no space; an origin may). The vkey is a C2SP note
 * verifier key of type 0x01 (Ed25519); the origin is the checkpoint's first line. An origin
 * may appear on several lines (key rotation: any of its keys may sign), up to
 * WITNESS_MAX_LOG_KEYS times, never twice with the same (key name, key ID). Empty lines and
 * lines starting with '#' are skipped; anything else that does not parse stops the start-up. */
#ifndef WITNESS_LOGS_H
#define WITNESS_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/note.h"

#define WITNESS_MAX_LOGS 4096
#define WITNESS_MAX_LOG_KEYS 8
#define WITNESS_MAX_ORIGIN_LEN 1024
#define WITNESS_MAX_LOGS_FILE_LEN (1u << 20)

struct witness_log {
    char origin[WITNESS_MAX_ORIGIN_LEN + 1]; /* NUL-terminated */
    size_t origin_len;
    uint8_t origin_hash[32]; /* SHA-256(origin): the monitoring path names a log by it */
    size_t n_keys;
    struct ov_note_verifier keys[WITNESS_MAX_LOG_KEYS];
};

struct witness_logs;

/* Reads and checks the file (messages naming the line go to stderr). -OV_E_NOT_FOUND,
 * -OV_E_IO, -OV_E_TOO_BIG, -OV_E_MALFORMED (including a file with no log), -OV_E_NOMEM.
 * *out is the caller's (witness_logs_free); NULL on failure. */
OV_MUST_CHECK int witness_logs_load(const char *path, struct witness_logs **out);
void witness_logs_free(struct witness_logs *ls);
size_t witness_logs_count(const struct witness_logs *ls);

/* The log with this origin, or NULL. The result lives as long as ls. */
const struct witness_log *witness_logs_find(const struct witness_logs *ls, struct ov_bytes origin);
/* The log whose SHA-256(origin) is hash, or NULL. */
const struct witness_log *witness_logs_find_hash(const struct witness_logs *ls,
                                                 const uint8_t hash[32]);

#endif
