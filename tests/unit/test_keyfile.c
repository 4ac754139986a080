/* Unit tests: core/infra/keyfile (secret files, Ed25519 seeds, x/mod note keys). Works in a fresh
 * temporary directory, removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/bytes.h"
#include "infra/keyfile.h"
#include "primitives/note.h"
#include "primitives/sign.h"
#include "../test.h"
#include "../vec.h"

static char dir[] = "/tmp/ov_keyfile_XXXXXX";

static const char *
P(const char *name)
{
    static char path[2][256];
    static int which;
    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s/%s", dir, name);
    return path[which];
}

/* Writes exactly p[0..n) to path with the given mode (replacing any old file). */
static void
put(const char *path, const void *p, size_t n, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, p, n) != (ssize_t)n || fchmod(fd, mode) != 0 || close(fd) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static mode_t
mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (st.st_mode & 07777) : (mode_t)-1;
}

static void
test_secret(void)
{
    struct ov_secret *s = NULL, *back = NULL;
    struct ov_buf before, after;
    char path[256];
    snprintf(path, sizeof path, "%s", P("pepper.key"));

    /* created 0600 whatever the umask, and loads back identical */
    mode_t old = umask(0);
    CHECK_EQ_INT(ov_keyfile_create_secret(path, "pepper", 32, &s), 0);
    umask(old);
    CHECK(s != NULL && ov_secret_len(s) == 32);
    CHECK_EQ_INT(mode_of(path), 0600);
    CHECK_EQ_INT(ov_keyfile_load_secret(path, "pepper", 32, &back), 0);
    CHECK(back != NULL && ov_secret_len(back) == 32);
    CHECK(sodium_memcmp(ov_secret_ptr(s), ov_secret_ptr(back), 32) == 0);
    ov_secret_free(back);
    back = NULL;
    CHECK_EQ_INT(ov_file_read(path, 1024, &before), 0);
    CHECK(before.len == 19 + 7 + 44 + 1 && memcmp(before.ptr, "onevoice-secret/v1 pepper ", 26) == 0);
    CHECK(before.ptr[before.len - 1] == '\n');

    /* never overwritten */
    struct ov_secret *again = (struct ov_secret *)1;
    CHECK_EQ_INT(ov_keyfile_create_secret(path, "pepper", 32, &again), -OV_E_EXISTS);
    CHECK(again == NULL);
    CHECK_EQ_INT(ov_file_read(path, 1024, &after), 0);
    CHECK(after.len == before.len && memcmp(after.ptr, before.ptr, after.len) == 0);
    ov_buf_clear(&after);

    /* wrong label, wrong length */
    CHECK_EQ_INT(ov_keyfile_load_secret(path, "admin", 32, &back), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_keyfile_load_secret(path, "peppe", 32, &back), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_keyfile_load_secret(path, "pepper", 31, &back), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_keyfile_load_secret(path, "pepper", 33, &back), -OV_E_MALFORMED);
    CHECK(back == NULL);
    CHECK_EQ_INT(ov_keyfile_load_secret(path, "Pepper", 32, &back), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_keyfile_load_secret(path, "", 32, &back), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_keyfile_load_secret(path, "pepper", 0, &back), -OV_E_RANGE);
    CHECK_EQ_INT(ov_keyfile_create_secret(P("x"), "a b", 32, NULL), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_keyfile_create_secret(P("x"), "a", 0, NULL), -OV_E_RANGE);
    CHECK_EQ_INT(ov_keyfile_create_secret(P("x"), "a", OV_KEYFILE_MAX_SECRET_LEN + 1, NULL),
                 -OV_E_RANGE);
    CHECK_EQ_INT(access(P("x"), F_OK), -1);
    CHECK_EQ_INT(ov_keyfile_create_secret(P("big"), "a", OV_KEYFILE_MAX_SECRET_LEN, NULL), 0);
    CHECK_EQ_INT(ov_keyfile_load_secret(P("big"), "a", OV_KEYFILE_MAX_SECRET_LEN, &back), 0);
    ov_secret_free(back);
    back = NULL;

    /* permissions: anything for group or others is refused, owner-only modes are fine */
    static const mode_t refused[] = { 0644, 0640, 0604, 0601, 0610, 0620, 0602, 0660, 0666 };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK_EQ_INT(chmod(path, refused[i]), 0);
        CHECK_EQ_INT(ov_keyfile_load_secret(path, "pepper", 32, &back), -OV_E_STATE);
        CHECK(back == NULL);
    }
    CHECK_EQ_INT(chmod(path, 0400), 0);
    CHECK_EQ_INT(ov_keyfile_load_secret(path, "pepper", 32, &back), 0);
    ov_secret_free(back);
    back = NULL;

    /* truncation at every offset, trailing bytes, CRLF, no newline */
    char *text = (char *)before.ptr;
    size_t len = before.len;
    for (size_t cut = 0; cut < len; cut++) {
        put(P("t"), text, cut, 0600);
        CHECK_EQ_INT(ov_keyfile_load_secret(P("t"), "pepper", 32, &back), -OV_E_MALFORMED);
    }
    static const char *const tails[] = { "\n", "x", "x\n", " " };
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        char buf[256];
        memcpy(buf, text, len);
        memcpy(buf + len, tails[i], strlen(tails[i]));
        put(P("t"), buf, len + strlen(tails[i]), 0600);
        CHECK_EQ_INT(ov_keyfile_load_secret(P("t"), "pepper", 32, &back), -OV_E_MALFORMED);
    }
    char crlf[256];
    memcpy(crlf, text, len - 1);
    memcpy(crlf + len - 1, "\r\n", 2);
    put(P("t"), crlf, len + 1, 0600);
    CHECK_EQ_INT(ov_keyfile_load_secret(P("t"), "pepper", 32, &back), -OV_E_MALFORMED);
    /* non-canonical base64 (the last character's unused bits set) */
    memcpy(crlf, text, len);
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t idx = (size_t)(strchr(alphabet, crlf[len - 3]) - alphabet);
    CHECK(idx % 4 == 0); /* 32 bytes: the last character carries 2 unused (zero) bits */
    crlf[len - 3] = alphabet[idx + 1];
    put(P("t"), crlf, len, 0600);
    CHECK_EQ_INT(ov_keyfile_load_secret(P("t"), "pepper", 32, &back), -OV_E_MALFORMED);

    /* oversized, missing, not a regular file */
    char *huge = malloc(OV_KEYFILE_MAX_LEN + 1);
    CHECK(huge != NULL);
    memset(huge, 'a', OV_KEYFILE_MAX_LEN + 1);
    put(P("t"), huge, OV_KEYFILE_MAX_LEN + 1, 0600);
    CHECK_EQ_INT(ov_keyfile_load_secret(P("t"), "pepper", 32, &back), -OV_E_TOO_BIG);
    put(P("t"), huge, OV_KEYFILE_MAX_LEN, 0600);
    CHECK_EQ_INT(ov_keyfile_load_secret(P("t"), "pepper", 32, &back), -OV_E_MALFORMED);
    free(huge);
    CHECK_EQ_INT(ov_keyfile_load_secret(P("missing"), "pepper", 32, &back), -OV_E_NOT_FOUND);
    CHECK_EQ_INT(mkdir(P("d"), 0700), 0);
    CHECK_EQ_INT(ov_keyfile_load_secret(P("d"), "pepper", 32, &back), -OV_E_STATE);
    CHECK_EQ_INT(mkfifo(P("fifo"), 0600), 0);
    CHECK_EQ_INT(ov_keyfile_load_secret(P("fifo"), "pepper", 32, &back), -OV_E_STATE);
    CHECK(back == NULL);

    /* creation refuses an existing directory, fifo, or symlink (even a dangling one) */
    CHECK_EQ_INT(ov_keyfile_create_secret(P("d"), "a", 32, NULL), -OV_E_EXISTS);
    CHECK_EQ_INT(ov_keyfile_create_secret(P("fifo"), "a", 32, NULL), -OV_E_EXISTS);
    CHECK_EQ_INT(symlink(P("nowhere"), P("link")), 0);
    CHECK_EQ_INT(ov_keyfile_create_secret(P("link"), "a", 32, NULL), -OV_E_EXISTS);
    CHECK_EQ_INT(access(P("nowhere"), F_OK), -1);
    CHECK_EQ_INT(ov_keyfile_create_secret(P("no/such/dir"), "a", 32, NULL), -OV_E_IO);

    ov_buf_clear(&before);
    ov_secret_free(s);
    ov_secret_free(NULL);
}

static void
test_sign_key(void)
{
    struct ov_sign_key *k = NULL, *back = NULL;
    uint8_t sig[64];
    CHECK_EQ_INT(ov_keyfile_create_sign_key(P("ed.key"), &k), 0);
    CHECK_EQ_INT(mode_of(P("ed.key")), 0600);
    CHECK_EQ_INT(ov_keyfile_load_sign_key(P("ed.key"), &back), 0);
    CHECK(k != NULL && back != NULL);
    CHECK_EQ_MEM(ov_sign_key_pk(k), ov_sign_key_pk(back), 32);
    CHECK_EQ_INT(ov_sign(back, OV_SIGN_ADMIN, (const uint8_t *)"x", 1, sig), 0);
    CHECK_EQ_INT(ov_sign_verify(ov_sign_key_pk(k), OV_SIGN_ADMIN, (const uint8_t *)"x", 1, sig),
                 0);
    ov_sign_key_free(back);
    back = NULL;
    CHECK_EQ_INT(ov_keyfile_create_sign_key(P("ed.key"), &back), -OV_E_EXISTS);
    CHECK(back == NULL);
    /* a generic secret is not an Ed25519 seed, even of the right length */
    CHECK_EQ_INT(ov_keyfile_create_secret(P("s32"), "pepper", 32, NULL), 0);
    CHECK_EQ_INT(ov_keyfile_load_sign_key(P("s32"), &back), -OV_E_MALFORMED);
    CHECK_EQ_INT(chmod(P("ed.key"), 0640), 0);
    CHECK_EQ_INT(ov_keyfile_load_sign_key(P("ed.key"), &back), -OV_E_STATE);
    CHECK(back == NULL);
    ov_sign_key_free(k);
}

static void
test_note_key(void)
{
    json_t *j = vec_load("signed-note.json");
    const json_t *g = json_object_get(j, "x_mod_peterneumann");
    const char *skey = vec_str(g, "skey");
    struct ov_note_signer *s = NULL, *back = NULL;
    struct ov_buf b;

    /* the x/mod vector as a key file: loads, and signs the vector note byte for byte */
    char line[256];
    int n = snprintf(line, sizeof line, "%s\n", skey);
    put(P("pn.key"), line, (size_t)n, 0600);
    CHECK_EQ_INT(ov_keyfile_load_note_key(P("pn.key"), &s), 0);
    CHECK(s != NULL);
    const struct ov_note_signer *one[] = { s };
    CHECK_EQ_INT(ov_note_sign(OV_BYTES(vec_str(g, "text"), strlen(vec_str(g, "text"))), one, 1,
                              &b),
                 0);
    CHECK(b.len == strlen(vec_str(g, "signed")) && memcmp(b.ptr, vec_str(g, "signed"), b.len) == 0);
    ov_buf_clear(&b);
    ov_note_signer_free(s);
    s = NULL;
    put(P("pn.key"), line, (size_t)n, 0644);
    CHECK_EQ_INT(ov_keyfile_load_note_key(P("pn.key"), &s), -OV_E_STATE);
    put(P("pn.key"), line, (size_t)n - 1, 0600);
    CHECK_EQ_INT(ov_keyfile_load_note_key(P("pn.key"), &s), -OV_E_MALFORMED);

    /* skey strictness: truncations, wrong ID, uppercase hex, wrong prefix, wrong type */
    size_t len = strlen(skey);
    for (size_t cut = 0; cut < len; cut++) {
        CHECK_EQ_INT(ov_keyfile_skey_parse(OV_BYTES(skey, cut), &s), -OV_E_MALFORMED);
        CHECK(s == NULL);
    }
    static const char *const bad[] = {
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+C74F20A3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumanN+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFy",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+BIEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFzAA==",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n",
        "private+key+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY++c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+Peter Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ov_keyfile_skey_parse(OV_BYTES(bad[i], strlen(bad[i])), &s);
        if (rc == 0) {
            fprintf(stderr, "accepted bad skey %zu\n", i);
        }
        CHECK_EQ_INT(rc, -OV_E_MALFORMED);
        CHECK(s == NULL);
    }

    /* a new log key: file 0600, vkey printable, loads back to the same key */
    static const char name[] = "votes.example.org/log";
    CHECK_EQ_INT(ov_keyfile_create_note_key(P("log.key"), OV_BYTES(name, sizeof name - 1),
                                            OV_NOTE_TYPE_ED25519, &s),
                 0);
    CHECK_EQ_INT(mode_of(P("log.key")), 0600);
    CHECK_EQ_INT(ov_keyfile_load_note_key(P("log.key"), &back), 0);
    const struct ov_note_verifier *v1 = ov_note_signer_verifier(s), *v2 = ov_note_signer_verifier(back);
    CHECK(v1->key_id == v2->key_id && memcmp(v1->pk, v2->pk, 32) == 0);
    CHECK(strcmp(v2->name, name) == 0 && v2->type == OV_NOTE_TYPE_ED25519);
    ov_buf_init(&b, OV_NOTE_MAX_VKEY_LEN);
    CHECK_EQ_INT(ov_note_vkey_format(v2, &b), 0);
    struct ov_note_verifier parsed;
    CHECK_EQ_INT(ov_note_vkey_parse(ov_buf_view(&b), &parsed), 0);
    CHECK(parsed.key_id == v1->key_id && memcmp(parsed.pk, v1->pk, 32) == 0);
    ov_buf_clear(&b);
    struct ov_buf file;
    CHECK_EQ_INT(ov_file_read(P("log.key"), 1024, &file), 0);
    CHECK(file.len > 12 && memcmp(file.ptr, "PRIVATE+KEY+votes.example.org/log+", 34) == 0);
    ov_buf_clear(&file);
    ov_note_signer_free(back);
    back = NULL;
    CHECK_EQ_INT(ov_keyfile_create_note_key(P("log.key"), OV_BYTES(name, sizeof name - 1),
                                            OV_NOTE_TYPE_ED25519, &back),
                 -OV_E_EXISTS);
    CHECK(back == NULL);
    ov_note_signer_free(s);

    /* a witness key (type 0x04) */
    CHECK_EQ_INT(ov_keyfile_create_note_key(P("w.key"), OV_BYTES("w.example/1", 11),
                                            OV_NOTE_TYPE_COSIG_V1, NULL),
                 0);
    CHECK_EQ_INT(ov_keyfile_load_note_key(P("w.key"), &back), 0);
    CHECK_EQ_INT(ov_note_signer_verifier(back)->type, OV_NOTE_TYPE_COSIG_V1);
    ov_note_signer_free(back);
    /* bad name or type: nothing is created */
    CHECK_EQ_INT(ov_keyfile_create_note_key(P("bad.key"), OV_BYTES("a b", 3),
                                            OV_NOTE_TYPE_ED25519, NULL),
                 -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_keyfile_create_note_key(P("bad.key"), OV_BYTES("ab", 2), 0x02, NULL),
                 -OV_E_MALFORMED);
    CHECK_EQ_INT(access(P("bad.key"), F_OK), -1);
    json_decref(j);
}

static void
cleanup(void)
{
    static const char *const names[] = { "pepper.key", "big", "t", "d", "fifo", "link",
                                         "ed.key", "s32", "pn.key", "log.key", "w.key" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (unlink(P(names[i])) != 0 && errno == EISDIR) {
            rmdir(P(names[i]));
        }
    }
    rmdir(P("d"));
    CHECK_EQ_INT(rmdir(dir), 0);
}

int
main(void)
{
    if (sodium_init() < 0 || mkdtemp(dir) == NULL) {
        return 1;
    }
    test_secret();
    test_sign_key();
    test_note_key();
    cleanup();
    TEST_DONE("keyfile");
}
