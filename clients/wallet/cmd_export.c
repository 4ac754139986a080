/* onevoice export / import: the whole wallet (its SQLite database: keys, tokens, receipts,
 * pinned contexts, evidence) as one file encrypted under a passphrase (core/wexport:
 * Argon2id, XChaCha20-Poly1305). The passphrase comes from --passphrase-file, else
 * $ONEVOICE_PASSPHRASE, else a prompt on the terminal. Import never overwrites a wallet. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "infra/cli.h"
#include "protocol/wexport.h"
#include "wallet.h"

#define PASS_MAX OV_WEXPORT_MAX_PASS_LEN

/* Reads one line from the terminal without echo into pass (PASS_MAX + 2 bytes). */
static int
prompt(const char *what, char *pass, size_t *len)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return -OV_E_NOT_FOUND;
    }
    struct termios old, quiet;
    int rc = tcgetattr(fd, &old) == 0 ? 0 : -OV_E_NOT_FOUND;
    if (rc == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        rc = tcsetattr(fd, TCSAFLUSH, &quiet) == 0 ? 0 : -OV_E_IO;
    }
    if (rc == 0) {
        if (write(fd, what, strlen(what)) < 0) {
            rc = -OV_E_IO;
        }
        size_t n = 0;
        char c;
        while (rc == 0 && read(fd, &c, 1) == 1 && c != '\n') {
            if (n == PASS_MAX + 1) {
                rc = -OV_E_TOO_BIG;
            } else {
                pass[n++] = c;
            }
        }
        c = 0;
        *len = n;
        (void)tcsetattr(fd, TCSAFLUSH, &old);
        if (write(fd, "\n", 1) < 0) {
            rc = rc ? rc : -OV_E_IO;
        }
    }
    close(fd);
    return rc;
}

/* The passphrase, in guarded memory (sodium_free). NULL after saying why. */
static char *
passphrase(struct wallet *w, const char *file, bool confirm, size_t *len)
{
    char *p = sodium_malloc(PASS_MAX + 2);
    const char *env = getenv("ONEVOICE_PASSPHRASE");
    int rc = p ? 0 : -OV_E_NOMEM;
    *len = 0;
    if (rc == 0 && file != NULL) {
        struct ov_buf b;
        rc = ov_file_read(file, PASS_MAX + 2, &b);
        if (rc == 0) {
            size_t n = b.len;
            if (n > 0 && b.ptr[n - 1] == '\n') {
                n--;
            }
            if (n > 0 && b.ptr[n - 1] == '\r') {
                n--;
            }
            memcpy(p, b.ptr, n);
            *len = n;
        }
        ov_buf_clear(&b);
        if (rc != 0) {
            w_fail(w, "passphrase", "cannot read the passphrase file %s", file);
        }
    } else if (rc == 0 && env != NULL) {
        *len = strnlen(env, PASS_MAX + 1);
        memcpy(p, env, *len);
    } else if (rc == 0) {
        rc = prompt("wallet passphrase: ", p, len);
        if (rc == 0 && confirm) {
            char *again = sodium_malloc(PASS_MAX + 2);
            size_t n2 = 0;
            rc = again ? prompt("again: ", again, &n2) : -OV_E_NOMEM;
            if (rc == 0 && (n2 != *len || sodium_memcmp(again, p, n2) != 0)) {
                w_fail(w, "passphrase", "the two passphrases differ");
                rc = -OV_E_MALFORMED;
            }
            sodium_free(again);
        }
        if (rc == -OV_E_NOT_FOUND) {
            w_fail(w, "passphrase", "no passphrase: give --passphrase-file, set "
                   "ONEVOICE_PASSPHRASE, or run on a terminal");
        }
    }
    if (rc == 0 && (*len == 0 || *len > PASS_MAX)) {
        w_fail(w, "passphrase", "the passphrase must be 1 to %d bytes", PASS_MAX);
        rc = -OV_E_RANGE;
    }
    if (rc != 0) {
        sodium_free(p);
        return NULL;
    }
    return p;
}

static int
kdf_params(const char *name, uint32_t *ops, uint32_t *mem_kib)
{
    if (name == NULL || strcmp(name, "moderate") == 0) {
        *ops = crypto_pwhash_argon2id_OPSLIMIT_MODERATE;
        *mem_kib = (uint32_t)(crypto_pwhash_argon2id_MEMLIMIT_MODERATE / 1024);
    } else if (strcmp(name, "interactive") == 0) {
        *ops = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
        *mem_kib = (uint32_t)(crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE / 1024);
    } else if (strcmp(name, "sensitive") == 0) {
        *ops = crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE;
        *mem_kib = (uint32_t)(crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE / 1024);
    } else {
        return -1;
    }
    return 0;
}

int
cmd_export(struct wallet *w, int argc, char **argv)
{
    static const struct w_cmd cmd = {
        "export", "FILE",
        "Writes the whole wallet (keys, tokens, receipts, pinned contexts, evidence) to FILE,\n"
        "encrypted under a passphrase: Argon2id derives the key of XChaCha20-Poly1305\n"
        "(docs/PROTOCOL.md §9). FILE is written atomically with mode 0600.",
        1,
    };
    const char *pfile = NULL, *kdf = NULL, *pos[1];
    struct w_opt opts[] = {
        { "--passphrase-file", "F", "read the passphrase from F (else $ONEVOICE_PASSPHRASE, "
          "else the terminal)", &pfile, NULL, NULL, NULL },
        { "--kdf", "LEVEL", "Argon2id cost: interactive, moderate (default) or sensitive",
          &kdf, NULL, NULL, NULL },
        { "--json", NULL, "answer as JSON", NULL, &w->json, NULL, NULL },
    };
    int a = w_args(argc, argv, &cmd, opts, 3, pos);
    if (a != 0) {
        return a > 0 ? W_EXIT_OK : W_EXIT_USAGE;
    }
    uint32_t ops = 0, mem = 0;
    if (kdf_params(kdf, &ops, &mem) != 0) {
        fprintf(stderr, "onevoice export: --kdf is interactive, moderate or sensitive\n");
        return W_EXIT_USAGE;
    }
    if (w_open(w, w->path) != 0) {
        w_finish(w);
        return w->path ? W_EXIT_REFUSED : W_EXIT_USAGE;
    }
    size_t plen = 0;
    sqlite3_int64 size = 0;
    struct ov_buf out;
    ov_buf_init(&out, 0);
    char *pass = passphrase(w, pfile, true, &plen);
    /* a consistent copy of the database, WAL included */
    unsigned char *image = pass ? sqlite3_serialize(ov_db_handle(w->db), "main", &size, 0) : NULL;
    int rc = pass == NULL ? -OV_E_RANGE : image == NULL ? -OV_E_DB : 0;
    if (rc == -OV_E_DB) {
        w_fail(w, "io", "cannot read the wallet database");
    }
    rc = rc ? rc : ov_wexport_seal(OV_BYTES(image, (size_t)size), pass, plen, ops, mem, &out);
    if (image != NULL) {
        sodium_memzero(image, (size_t)size);
        sqlite3_free(image);
    }
    sodium_free(pass);
    if (rc == 0) {
        rc = ov_file_write_atomic(pos[0], out.ptr, out.len, 0600);
        if (rc != 0) {
            w_fail(w, "io", "cannot write %s (%s)", pos[0], ov_strerror(rc));
        }
    } else if (pass != NULL && rc != -OV_E_DB) {
        w_fail(w, "export", "cannot encrypt the wallet (%s)", ov_strerror(rc));
    }
    if (rc == 0) {
        if (w->json) {
            w->out = json_pack("{ss sI}", "exported", pos[0], "bytes", (json_int_t)out.len);
        } else {
            printf("wallet exported to %s (%zu bytes, encrypted)\n", pos[0], out.len);
        }
    }
    ov_buf_clear(&out);
    w_close(w);
    w_finish(w);
    return rc == 0 ? W_EXIT_OK : W_EXIT_REFUSED;
}

/* Writes the decrypted image to a fresh temporary file beside the wallet. */
static int
write_temp(const char *path, const uint8_t *p, size_t n, char *tmp, size_t tmp_max)
{
    int len = snprintf(tmp, tmp_max, "%s.import-XXXXXX", path);
    if (len < 0 || (size_t)len >= tmp_max) {
        return -OV_E_TOO_BIG;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        tmp[0] = 0;
        return -OV_E_IO;
    }
    int rc = fchmod(fd, 0600) == 0 ? 0 : -OV_E_IO;
    for (size_t off = 0; rc == 0 && off < n;) {
        ssize_t k = write(fd, p + off, n - off);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        rc = k > 0 ? 0 : -OV_E_IO;
        off += k > 0 ? (size_t)k : 0;
    }
    rc = rc ? rc : (fsync(fd) == 0 ? 0 : -OV_E_IO);
    close(fd);
    return rc;
}

static void
remove_temp(const char *tmp)
{
    char side[OV_CLI_MAX_ARG_LEN + 64];
    if (tmp[0] == 0) {
        return;
    }
    unlink(tmp);
    snprintf(side, sizeof side, "%s-wal", tmp);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", tmp);
    unlink(side);
}

static int64_t
count_rows(struct wallet *w, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(ov_db_handle(w->db), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

int
cmd_import(struct wallet *w, int argc, char **argv)
{
    static const struct w_cmd cmd = {
        "import", "FILE",
        "Restores a wallet from FILE (made by `onevoice export`) into the --wallet file, which\n"
        "must not exist: an import never overwrites a wallet. A wrong passphrase and a damaged\n"
        "file are refused alike (the AEAD tag does not verify).",
        1,
    };
    const char *pfile = NULL, *pos[1];
    struct w_opt opts[] = {
        { "--passphrase-file", "F", "read the passphrase from F (else $ONEVOICE_PASSPHRASE, "
          "else the terminal)", &pfile, NULL, NULL, NULL },
        { "--json", NULL, "answer as JSON", NULL, &w->json, NULL, NULL },
    };
    int a = w_args(argc, argv, &cmd, opts, 2, pos);
    if (a != 0) {
        return a > 0 ? W_EXIT_OK : W_EXIT_USAGE;
    }
    if (w->path == NULL) {
        fprintf(stderr, "onevoice import: which wallet? give --wallet FILE or set "
                        "ONEVOICE_WALLET\n");
        return W_EXIT_USAGE;
    }
    struct stat sb;
    if (lstat(w->path, &sb) == 0) {
        w_fail(w, "exists", "%s exists: an import never overwrites a wallet", w->path);
        w_finish(w);
        return W_EXIT_REFUSED;
    }
    struct ov_buf file;
    struct ov_wexport_hdr h;
    uint8_t *plain = NULL;
    size_t plain_len = 0, plen = 0;
    char tmp[OV_CLI_MAX_ARG_LEN + 32] = "";
    char *pass = NULL;
    int rc = ov_file_read(pos[0], OV_WEXPORT_MAX_LEN, &file);
    if (rc != 0) {
        w_fail(w, "io", "cannot read %s (%s)", pos[0], ov_strerror(rc));
        goto out;
    }
    rc = ov_wexport_parse(ov_buf_view(&file), &h);
    if (rc != 0) {
        w_fail(w, "not_an_export", "%s is not a onevoice wallet export (%s)", pos[0],
               ov_strerror(rc));
        goto out;
    }
    pass = passphrase(w, pfile, false, &plen);
    if (pass == NULL) {
        rc = -OV_E_RANGE;
        goto out;
    }
    rc = ov_wexport_open(ov_buf_view(&file), pass, plen, &plain, &plain_len);
    if (rc == -OV_E_BAD_SIG) {
        w_fail(w, "wrong_passphrase", "wrong passphrase (or a damaged file): nothing imported");
        goto out;
    } else if (rc != 0) {
        w_fail(w, "import", "cannot decrypt %s (%s)", pos[0], ov_strerror(rc));
        goto out;
    }
    if (plain_len < 100 || memcmp(plain, "SQLite format 3", 16) != 0) {
        w_fail(w, "not_a_wallet", "the decrypted file is not a wallet database");
        rc = -OV_E_MALFORMED;
        goto out;
    }
    rc = write_temp(w->path, plain, plain_len, tmp, sizeof tmp);
    if (rc != 0) {
        w_fail(w, "io", "cannot write beside %s (%s)", w->path, ov_strerror(rc));
        goto out;
    }
    /* the image must open as a wallet (application id, schema, configuration) and pass
     * SQLite's own integrity check before it takes the wallet's name */
    const char *target = w->path;
    rc = w_open(w, tmp);
    w->path = target;
    if (rc == 0 && count_rows(w, "SELECT count(*) FROM pragma_integrity_check "
                                 "WHERE integrity_check <> 'ok'") != 0) {
        w_fail(w, "not_a_wallet", "the imported database fails its integrity check");
        rc = -OV_E_MALFORMED;
    }
    int64_t tokens = rc == 0 ? count_rows(w, "SELECT count(*) FROM tokens") : 0;
    int64_t actions = rc == 0 ? count_rows(w, "SELECT count(*) FROM actions") : 0;
    w_close(w);
    if (rc == 0 && link(tmp, w->path) != 0) {
        w_fail(w, "io", "cannot create %s: %s", w->path,
               errno == EEXIST ? "it exists now (not overwritten)" : strerror(errno));
        rc = -OV_E_IO;
    }
    if (rc == 0) {
        if (w->json) {
            w->out = json_pack("{ss sI sI}", "imported", w->path, "tokens", (json_int_t)tokens,
                               "actions", (json_int_t)actions);
        } else {
            printf("wallet restored to %s: %lld tokens, %lld actions with their receipts\n",
                   w->path, (long long)tokens, (long long)actions);
        }
    }
out:
    remove_temp(tmp);
    if (plain != NULL) {
        sodium_free(plain);
    }
    sodium_free(pass);
    ov_buf_clear(&file);
    w_finish(w);
    return rc == 0 ? W_EXIT_OK : rc == -OV_E_RANGE && pass == NULL ? W_EXIT_USAGE : W_EXIT_REFUSED;
}
