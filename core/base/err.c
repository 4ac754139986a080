#include "base/err.h"

#include <errno.h>

static const char *const names[OV_E_COUNT] = {
    [OV_OK] = "ok",
    [OV_E_TRUNCATED] = "truncated",
    [OV_E_TRAILING] = "trailing_bytes",
    [OV_E_TOO_BIG] = "too_big",
    [OV_E_MALFORMED] = "malformed",
    [OV_E_NONCANONICAL] = "non_canonical",
    [OV_E_BAD_SIG] = "bad_signature",
    [OV_E_BAD_PROOF] = "bad_proof",
    [OV_E_UNKNOWN_KEY] = "unknown_key",
    [OV_E_NOMEM] = "out_of_memory",
    [OV_E_IO] = "io_error",
    [OV_E_DB] = "database_error",
    [OV_E_DB_BUSY] = "database_busy",
    [OV_E_CONFLICT] = "conflict",
    [OV_E_NOT_FOUND] = "not_found",
    [OV_E_EXISTS] = "exists",
    [OV_E_CRYPTO] = "crypto_error",
    [OV_E_RANGE] = "out_of_range",
    [OV_E_STATE] = "bad_state",
    [OV_E_HTTP] = "http_error",
    [OV_E_FULL] = "disk_full",
    [OV_E_READ_ONLY] = "read_only",
    [OV_E_CORRUPT] = "db_corrupt",
};

const char *
ov_strerror(int err)
{
    if (err < 0) {
        err = -err;
    }
    if (err >= OV_E_COUNT) {
        return "unknown_error";
    }
    return names[err];
}

int
ov_err_errno(int errnum, int other)
{
    switch (errnum) {
    case ENOSPC:
    case EDQUOT:
        return -OV_E_FULL;
    case EROFS:
        return -OV_E_READ_ONLY;
    default:
        return other;
    }
}
