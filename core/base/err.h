/* err: the error codes every onevoice function returns (negated), and their names.
 * A fallible function returns 0 on success or -OV_E_*; outputs are zeroed on failure. */
#ifndef OV_ERR_H
#define OV_ERR_H

#define OV_MUST_CHECK __attribute__((warn_unused_result))

enum ov_err {
    OV_OK = 0,
    OV_E_TRUNCATED,     /* input ended early */
    OV_E_TRAILING,      /* bytes left after a complete structure */
    OV_E_TOO_BIG,       /* a length over its named maximum */
    OV_E_MALFORMED,     /* syntactically wrong input */
    OV_E_NONCANONICAL,  /* a valid but non-canonical encoding */
    OV_E_BAD_SIG,       /* a signature that does not verify */
    OV_E_BAD_PROOF,     /* a Merkle proof that does not verify */
    OV_E_UNKNOWN_KEY,   /* no key with that id */
    OV_E_NOMEM,         /* allocation failed */
    OV_E_IO,            /* file or socket error */
    OV_E_DB,            /* SQLite error */
    OV_E_DB_BUSY,       /* SQLite stayed busy past the retry budget */
    OV_E_CONFLICT,      /* a uniqueness rule refused the write */
    OV_E_NOT_FOUND,     /* no such row, entry or file */
    OV_E_EXISTS,        /* refusing to overwrite */
    OV_E_CRYPTO,        /* the crypto library failed (not the peer's fault) */
    OV_E_RANGE,         /* a number outside its allowed range */
    OV_E_STATE,         /* the operation is not allowed in the current state */
    OV_E_HTTP,          /* an HTTP exchange failed */
    OV_E_FULL,          /* the disk is full (SQLITE_FULL, ENOSPC, EDQUOT): retry once freed */
    OV_E_READ_ONLY,     /* a file or its file system is read-only (SQLITE_READONLY, EROFS) */
    OV_E_CORRUPT,       /* a database file is damaged (SQLITE_CORRUPT, SQLITE_NOTADB) */
    OV_E_COUNT
};

/* A stable, machine-readable name ("truncated", "bad_sig"...). Never NULL. */
const char *ov_strerror(int err);
/* The ov_err (negated) for a failed file operation's errno: -OV_E_FULL for ENOSPC and
 * EDQUOT, -OV_E_READ_ONLY for EROFS, else `other`: what says the cause, not just "io". */
int ov_err_errno(int errnum, int other);

#endif
