#include "infra/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/codec.h"

struct ov_secret {
    uint8_t *ptr; /* sodium_malloc, read-only after fill */
    size_t len;
};

static const char secret_magic[] = "onevoice-secret/v1 ";
static const char skey_magic[] = "PRIVATE+KEY+";
#define TEXT_CAP (OV_KEYFILE_MAX_LEN + 1) /* one more byte to notice an oversized file */
#define SKEY_RAW_LEN (1 + OV_SIGN_SEED_LEN) /* type || seed */

/* ---- ov_secret ---- */

const uint8_t *
ov_secret_ptr(const struct ov_secret *s)
{
    return s->ptr;
}

size_t
ov_secret_len(const struct ov_secret *s)
{
    return s->len;
}

void
ov_secret_free(struct ov_secret *s)
{
    if (s != NULL) {
        sodium_free(s->ptr); /* wipes; accepts NULL */
        free(s);
    }
}

static int
secret_new(size_t len, struct ov_secret **out)
{
    *out = NULL;
    struct ov_secret *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return -OV_E_NOMEM;
    }
    s->ptr = sodium_malloc(len);
    if (s->ptr == NULL) {
        free(s);
        return -OV_E_NOMEM;
    }
    s->len = len;
    *out = s;
    return 0;
}

/* ---- files ---- */

static int
label_ok(const char *label)
{
    size_t n = strlen(label);
    if (n == 0 || n > OV_KEYFILE_MAX_LABEL_LEN) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = label[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return 0;
        }
    }
    return 1;
}

/* Creates path (0600, O_EXCL: never replaces anything, not even a dangling symlink) holding
 * exactly p[0..n), durably. On failure after creation the partial file is removed. */
static int
write_new_file(const char *path, const char *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        /* a full disk or a read-only one is named: the operator's to fix */
        return errno == EEXIST ? -OV_E_EXISTS : ov_err_errno(errno, -OV_E_IO);
    }
    /* The umask can only remove bits; set exactly 0600 so the owner can always read it back. */
    int rc = fchmod(fd, 0600) == 0 ? 0 : -OV_E_IO;
    while (rc == 0 && n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            rc = k < 0 ? ov_err_errno(errno, -OV_E_IO) : -OV_E_IO;
            break;
        }
        p += k;
        n -= (size_t)k;
    }
    if (rc == 0 && fsync(fd) != 0) {
        rc = ov_err_errno(errno, -OV_E_IO);
    }
    if (close(fd) != 0 && rc == 0) {
        rc = -OV_E_IO;
    }
    if (rc == 0) {
        rc = ov_fsync_dir_of(path);
    }
    if (rc != 0) {
        unlink(path); /* ours: we created it above */
    }
    return rc;
}

/* Reads a whole key file (at most OV_KEYFILE_MAX_LEN bytes) into buf[TEXT_CAP]. Refuses
 * anything but a regular file private to its owner. buf is wiped on failure. */
static int
read_key_file(const char *path, char *buf, size_t *len)
{
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not hang; it is refused below as not regular. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? -OV_E_NOT_FOUND : -OV_E_IO;
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0) {
        rc = -OV_E_IO;
    } else if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        rc = -OV_E_STATE; /* a key others can read (or swap) is already compromised */
    } else if (st.st_size > OV_KEYFILE_MAX_LEN) {
        rc = -OV_E_TOO_BIG;
    }
    while (rc == 0 && *len < TEXT_CAP) {
        ssize_t k = read(fd, buf + *len, TEXT_CAP - *len);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0) {
            rc = -OV_E_IO;
        } else if (k == 0) {
            break;
        } else {
            *len += (size_t)k;
        }
    }
    if (rc == 0 && *len > OV_KEYFILE_MAX_LEN) {
        rc = -OV_E_TOO_BIG; /* it grew after fstat */
    }
    close(fd);
    if (rc != 0) {
        sodium_memzero(buf, TEXT_CAP);
        *len = 0;
    }
    return rc;
}

/* The file's single line, without its newline: exactly one '\n', at the end. */
static int
single_line(const char *buf, size_t len, struct ov_bytes *line)
{
    if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\n', len - 1) != NULL) {
        return -OV_E_MALFORMED;
    }
    *line = OV_BYTES(buf, len - 1);
    return 0;
}

/* Guarded scratch memory for text that holds secrets; freed (wiped) with sodium_free. */
static int
scratch_new(size_t n, void **out)
{
    *out = NULL;
    if (sodium_init() < 0) {
        return -OV_E_CRYPTO;
    }
    *out = sodium_malloc(n);
    return *out == NULL ? -OV_E_NOMEM : 0;
}

/* Reads path and yields its one line (in *text, to sodium_free). */
static int
load_line(const char *path, char **text, struct ov_bytes *line)
{
    size_t len = 0;
    int rc = scratch_new(TEXT_CAP, (void **)text);
    if (rc == 0) {
        rc = read_key_file(path, *text, &len);
    }
    if (rc == 0) {
        rc = single_line(*text, len, line);
    }
    return rc;
}

/* ---- generic secrets ---- */

/* "onevoice-secret/v1 <label> <base64>" -> out[0..len). out is wiped on failure. */
static int
secret_line_parse(struct ov_bytes line, const char *label, uint8_t *out, size_t len)
{
    size_t ml = sizeof secret_magic - 1, ll = strlen(label), n = 0;
    if (line.len < ml + ll + 1 || memcmp(line.ptr, secret_magic, ml) != 0 ||
        memcmp(line.ptr + ml, label, ll) != 0 || line.ptr[ml + ll] != ' ') {
        return -OV_E_MALFORMED;
    }
    struct ov_bytes b64 = OV_BYTES(line.ptr + ml + ll + 1, line.len - ml - ll - 1);
    if (ov_b64_decode(out, len, &n, (const char *)b64.ptr, b64.len, OV_B64_STD) != 0 ||
        n != len) {
        sodium_memzero(out, len);
        return -OV_E_MALFORMED;
    }
    return 0;
}

static int
secret_line_format(char *text, size_t cap, const char *label, const uint8_t *p, size_t len,
                   size_t *text_len)
{
    int w = snprintf(text, cap, "%s%s ", secret_magic, label);
    if (w < 0 || (size_t)w >= cap) {
        return -OV_E_TOO_BIG;
    }
    size_t off = (size_t)w;
    int rc = ov_b64_encode(text + off, cap - off, p, len, OV_B64_STD);
    if (rc != 0) {
        return rc;
    }
    off += strlen(text + off);
    if (off + 1 >= cap) {
        return -OV_E_TOO_BIG;
    }
    text[off++] = '\n';
    *text_len = off;
    return 0;
}

int
ov_keyfile_create_secret(const char *path, const char *label, size_t len,
                         struct ov_secret **out)
{
    struct ov_secret *s = NULL;
    char *text = NULL;
    size_t text_len = 0;
    if (out != NULL) {
        *out = NULL;
    }
    if (!label_ok(label)) {
        return -OV_E_MALFORMED;
    }
    if (len == 0 || len > OV_KEYFILE_MAX_SECRET_LEN) {
        return -OV_E_RANGE;
    }
    int rc = scratch_new(TEXT_CAP, (void **)&text);
    if (rc == 0) {
        rc = secret_new(len, &s);
    }
    if (rc == 0) {
        randombytes_buf(s->ptr, len);
        rc = secret_line_format(text, TEXT_CAP, label, s->ptr, len, &text_len);
    }
    if (rc == 0) {
        rc = write_new_file(path, text, text_len);
    }
    if (rc == 0 && sodium_mprotect_readonly(s->ptr) != 0) {
        rc = -OV_E_CRYPTO;
    }
    sodium_free(text);
    if (rc == 0 && out != NULL) {
        *out = s;
        s = NULL;
    }
    ov_secret_free(s);
    return rc;
}

int
ov_keyfile_load_secret(const char *path, const char *label, size_t len, struct ov_secret **out)
{
    struct ov_secret *s = NULL;
    char *text = NULL;
    struct ov_bytes line;
    *out = NULL;
    if (!label_ok(label)) {
        return -OV_E_MALFORMED;
    }
    if (len == 0 || len > OV_KEYFILE_MAX_SECRET_LEN) {
        return -OV_E_RANGE;
    }
    int rc = load_line(path, &text, &line);
    if (rc == 0) {
        rc = secret_new(len, &s);
    }
    if (rc == 0) {
        rc = secret_line_parse(line, label, s->ptr, len);
    }
    if (rc == 0 && sodium_mprotect_readonly(s->ptr) != 0) {
        rc = -OV_E_CRYPTO;
    }
    sodium_free(text);
    if (rc == 0) {
        *out = s;
        s = NULL;
    }
    ov_secret_free(s);
    return rc;
}

/* ---- Ed25519 keys ---- */

/* The seed goes through the generic secret path, then becomes a key; the copy is wiped. */
static int
sign_key_file(const char *path, int create, struct ov_sign_key **out)
{
    struct ov_secret *seed = NULL;
    *out = NULL;
    int rc = create ? ov_keyfile_create_secret(path, OV_KEYFILE_SEED_LABEL, OV_SIGN_SEED_LEN,
                                               &seed)
                    : ov_keyfile_load_secret(path, OV_KEYFILE_SEED_LABEL, OV_SIGN_SEED_LEN,
                                             &seed);
    if (rc == 0) {
        rc = ov_sign_key_from_seed(seed->ptr, out);
    }
    ov_secret_free(seed);
    return rc;
}

int
ov_keyfile_create_sign_key(const char *path, struct ov_sign_key **out)
{
    return sign_key_file(path, 1, out);
}

int
ov_keyfile_load_sign_key(const char *path, struct ov_sign_key **out)
{
    return sign_key_file(path, 0, out);
}

/* ---- note keys (x/mod skey) ---- */

int
ov_keyfile_skey_parse(struct ov_bytes in, struct ov_note_signer **out)
{
    uint8_t *raw = NULL; /* type || seed */
    struct ov_sign_key *key = NULL;
    struct ov_note_signer *s = NULL;
    struct ov_bytes name, b64;
    uint32_t id = 0;
    size_t n = 0, ml = sizeof skey_magic - 1;
    *out = NULL;
    if (in.len > OV_KEYFILE_MAX_LEN) {
        return -OV_E_TOO_BIG;
    }
    if (in.len < ml || memcmp(in.ptr, skey_magic, ml) != 0 ||
        ov_note_vkey_split(OV_BYTES(in.ptr + ml, in.len - ml), &name, &id, &b64) != 0) {
        return -OV_E_MALFORMED;
    }
    int rc = scratch_new(SKEY_RAW_LEN, (void **)&raw);
    if (rc == 0 && (ov_b64_decode(raw, SKEY_RAW_LEN, &n, (const char *)b64.ptr, b64.len,
                                  OV_B64_STD) != 0 ||
                    n != SKEY_RAW_LEN)) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0) {
        rc = ov_sign_key_from_seed(raw + 1, &key);
    }
    if (rc == 0) {
        rc = ov_note_signer_new(name, raw[0], key, &s); /* adopts key, even on failure */
        key = NULL;
    }
    /* The key ID covers the public key, so it catches a corrupted seed or name. */
    if (rc == 0 && ov_note_signer_verifier(s)->key_id != id) {
        rc = -OV_E_MALFORMED;
    }
    sodium_free(raw);
    if (rc != 0) {
        ov_note_signer_free(s);
        return rc == -OV_E_TOO_BIG ? -OV_E_MALFORMED : rc;
    }
    *out = s;
    return 0;
}

/* "PRIVATE+KEY+<name>+<hex8>+<base64(type || seed)>\n" into text[TEXT_CAP]. */
static int
skey_format(char *text, const struct ov_note_verifier *v, const uint8_t *raw, size_t *text_len)
{
    int w = snprintf(text, TEXT_CAP, "%s%s+%08" PRIx32 "+", skey_magic, v->name, v->key_id);
    if (w < 0 || (size_t)w >= TEXT_CAP) {
        return -OV_E_TOO_BIG;
    }
    size_t off = (size_t)w;
    int rc = ov_b64_encode(text + off, TEXT_CAP - off, raw, SKEY_RAW_LEN, OV_B64_STD);
    if (rc != 0) {
        return rc;
    }
    off += strlen(text + off);
    if (off + 1 >= TEXT_CAP) {
        return -OV_E_TOO_BIG;
    }
    text[off++] = '\n';
    *text_len = off;
    return 0;
}

int
ov_keyfile_create_note_key(const char *path, struct ov_bytes name, uint8_t type,
                           struct ov_note_signer **out)
{
    uint8_t *raw = NULL;
    char *text = NULL;
    struct ov_sign_key *key = NULL;
    struct ov_note_signer *s = NULL;
    size_t text_len = 0;
    if (out != NULL) {
        *out = NULL;
    }
    int rc = scratch_new(SKEY_RAW_LEN, (void **)&raw);
    if (rc == 0) {
        rc = scratch_new(TEXT_CAP, (void **)&text);
    }
    if (rc == 0) {
        raw[0] = type;
        randombytes_buf(raw + 1, OV_SIGN_SEED_LEN);
        rc = ov_sign_key_from_seed(raw + 1, &key);
    }
    if (rc == 0) {
        rc = ov_note_signer_new(name, type, key, &s); /* checks name and type; adopts key */
        key = NULL;
    }
    if (rc == 0) {
        rc = skey_format(text, ov_note_signer_verifier(s), raw, &text_len);
    }
    if (rc == 0) {
        rc = write_new_file(path, text, text_len);
    }
    sodium_free(raw);
    sodium_free(text);
    if (rc == 0 && out != NULL) {
        *out = s;
        s = NULL;
    }
    ov_note_signer_free(s);
    return rc;
}

int
ov_keyfile_load_note_key(const char *path, struct ov_note_signer **out)
{
    char *text = NULL;
    struct ov_bytes line;
    *out = NULL;
    int rc = load_line(path, &text, &line);
    if (rc == 0) {
        rc = ov_keyfile_skey_parse(line, out);
    }
    sodium_free(text);
    return rc;
}
