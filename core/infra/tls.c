#include "infra/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/x509.h>
#include <sodium.h>

struct ov_tls_creds {
    atomic_uint refs;
    unsigned n;
    gnutls_pcert_st pcerts[OV_TLS_MAX_CHAIN];
    gnutls_privkey_t key;
    int64_t not_after;
    char info[OV_TLS_INFO_LEN];
};

struct ov_tls {
    char *cert_file, *key_file;
    pthread_mutex_t mu; /* guards cur: swapped by a reload, read by each handshake */
    struct ov_tls_creds *cur;
};

static void
creds_free(struct ov_tls_creds *c)
{
    for (unsigned i = 0; i < c->n; i++) {
        gnutls_pcert_deinit(&c->pcerts[i]);
    }
    gnutls_privkey_deinit(c->key); /* accepts NULL */
    free(c);
}

/* Reads a whole file of at most max bytes into a NUL-terminated buffer (PEM parsers want
 * the NUL); a key file must be private to this user. -OV_E_* with why filled. */
static int
read_file(const char *path, bool secret, size_t max, uint8_t **out, size_t *len, char *why,
          size_t why_len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        snprintf(why, why_len, "cannot open %s: %s", path, strerror(e));
        return e == ENOENT ? -OV_E_NOT_FOUND : -OV_E_IO;
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0) {
        snprintf(why, why_len, "cannot examine %s: %s", path, strerror(errno));
        rc = -OV_E_IO;
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(why, why_len, "%s is not a regular file", path);
        rc = -OV_E_STATE;
    } else if (secret && st.st_uid != geteuid()) {
        snprintf(why, why_len,
                 "the key file %s belongs to uid %u, not to this server's user (uid %u): "
                 "chown it to the server's user", path, (unsigned)st.st_uid, (unsigned)geteuid());
        rc = -OV_E_STATE;
    } else if (secret && (st.st_mode & 077) != 0) {
        snprintf(why, why_len,
                 "the key file %s is open to other users (mode %04o): chmod 600 %s", path,
                 (unsigned)(st.st_mode & 07777), path);
        rc = -OV_E_STATE;
    } else if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        snprintf(why, why_len, "%s is larger than %zu bytes", path, max);
        rc = -OV_E_TOO_BIG;
    }
    size_t cap = rc == 0 ? (size_t)st.st_size + 1 : 0;
    uint8_t *buf = rc == 0 ? malloc(cap) : NULL;
    if (rc == 0 && buf == NULL) {
        rc = -OV_E_NOMEM;
        snprintf(why, why_len, "out of memory reading %s", path);
    }
    size_t got = 0;
    while (rc == 0 && got < cap - 1) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n < 0) {
                snprintf(why, why_len, "cannot read %s: %s", path, strerror(errno));
                rc = -OV_E_IO;
            }
            break; /* shorter than it was: being rewritten; what we have is parsed */
        }
        got += (size_t)n;
    }
    close(fd);
    if (rc != 0) {
        if (buf != NULL) {
            sodium_memzero(buf, cap);
        }
        free(buf);
        return rc;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return 0;
}

/* 0 when the private key is the one the certificate names. */
static int
key_matches(gnutls_privkey_t key, gnutls_pubkey_t cert_pub)
{
    gnutls_pubkey_t pub = NULL;
    gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
    int rc = gnutls_pubkey_init(&pub);
    rc = rc ? rc : gnutls_pubkey_import_privkey(pub, key, 0, 0);
    rc = rc ? rc : gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a);
    rc = rc ? rc : gnutls_pubkey_export2(cert_pub, GNUTLS_X509_FMT_DER, &b);
    bool same = rc == 0 && a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
    gnutls_free(a.data);
    gnutls_free(b.data);
    gnutls_pubkey_deinit(pub);
    return same ? 0 : -OV_E_MALFORMED;
}

/* The certificate's subject, serial and expiry, for the log line of each (re)load. */
static void
describe(struct ov_tls_creds *c)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t dn = {NULL, 0};
    uint8_t serial[40];
    size_t serial_len = sizeof serial;
    char hex[2 * sizeof serial + 1] = "?", when[32] = "?";
    c->not_after = 0;
    if (gnutls_x509_crt_init(&crt) != 0 ||
        gnutls_x509_crt_import(crt, &c->pcerts[0].cert, GNUTLS_X509_FMT_DER) != 0) {
        snprintf(c->info, sizeof c->info, "a certificate GnuTLS cannot describe");
        gnutls_x509_crt_deinit(crt);
        return;
    }
    if (gnutls_x509_crt_get_serial(crt, serial, &serial_len) == 0) {
        sodium_bin2hex(hex, sizeof hex, serial, serial_len);
    }
    time_t t = gnutls_x509_crt_get_expiration_time(crt);
    struct tm tm;
    if (t != (time_t)-1 && gmtime_r(&t, &tm) != NULL) {
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        c->not_after = (int64_t)t;
    }
    int drc = gnutls_x509_crt_get_dn3(crt, &dn, 0);
    snprintf(c->info, sizeof c->info, "%s, serial %s, %s %s, %u certificate(s)",
             drc == 0 ? (const char *)dn.data : "(no subject)", hex,
             t != (time_t)-1 && t < time(NULL) ? "EXPIRED since" : "valid until", when, c->n);
    gnutls_free(dn.data);
    gnutls_x509_crt_deinit(crt);
}

/* Reads and parses both files into a new pair with one reference. */
static int
load(const char *cert_file, const char *key_file, struct ov_tls_creds **out, char *why,
     size_t why_len)
{
    uint8_t *cert = NULL, *key = NULL;
    size_t cert_len = 0, key_len = 0;
    *out = NULL;
    why[0] = '\0';
    int rc = read_file(key_file, true, OV_TLS_MAX_KEY_FILE_LEN, &key, &key_len, why, why_len);
    rc = rc ? rc
            : read_file(cert_file, false, OV_TLS_MAX_CERT_FILE_LEN, &cert, &cert_len, why,
                        why_len);
    struct ov_tls_creds *c = rc == 0 ? calloc(1, sizeof *c) : NULL;
    if (rc == 0 && c == NULL) {
        rc = -OV_E_NOMEM;
        snprintf(why, why_len, "out of memory");
    }
    if (rc == 0) {
        gnutls_datum_t d = {cert, (unsigned)cert_len};
        unsigned n = OV_TLS_MAX_CHAIN;
        int g = gnutls_pcert_list_import_x509_raw(c->pcerts, &n, &d, GNUTLS_X509_FMT_PEM,
                                                  GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
        c->n = g == 0 ? n : 0;
        if (g != 0 || n == 0) {
            snprintf(why, why_len, "%s holds no usable PEM certificate chain (server first, "
                                   "then its issuers, at most %d): %s", cert_file,
                     OV_TLS_MAX_CHAIN, g != 0 ? gnutls_strerror(g) : "empty");
            rc = -OV_E_MALFORMED;
        }
    }
    if (rc == 0) {
        gnutls_datum_t d = {key, (unsigned)key_len};
        int g = gnutls_privkey_init(&c->key);
        g = g ? g : gnutls_privkey_import_x509_raw(c->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
        if (g != 0) {
            snprintf(why, why_len, "%s holds no usable PEM private key (an unencrypted "
                                   "PKCS#8, RSA or EC key): %s", key_file, gnutls_strerror(g));
            rc = -OV_E_MALFORMED;
        }
    }
    if (rc == 0 && key_matches(c->key, c->pcerts[0].pubkey) != 0) {
        snprintf(why, why_len, "the key in %s is not the key of the first certificate in %s",
                 key_file, cert_file);
        rc = -OV_E_MALFORMED;
    }
    if (key != NULL) {
        sodium_memzero(key, key_len);
    }
    free(key);
    free(cert);
    if (rc != 0) {
        if (c != NULL) {
            creds_free(c);
        }
        return rc;
    }
    describe(c);
    atomic_init(&c->refs, 1);
    *out = c;
    return 0;
}

int
ov_tls_open(const char *cert_file, const char *key_file, struct ov_tls **out, char *why,
            size_t why_len)
{
    *out = NULL;
    struct ov_tls *t = calloc(1, sizeof *t);
    if (t == NULL || pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t);
        snprintf(why, why_len, "out of memory");
        return -OV_E_NOMEM;
    }
    t->cert_file = strdup(cert_file);
    t->key_file = strdup(key_file);
    int rc = t->cert_file != NULL && t->key_file != NULL ? 0 : -OV_E_NOMEM;
    rc = rc ? rc : load(cert_file, key_file, &t->cur, why, why_len);
    if (rc != 0) {
        ov_tls_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int
ov_tls_reload(struct ov_tls *t, char *why, size_t why_len)
{
    struct ov_tls_creds *c = NULL;
    int rc = load(t->cert_file, t->key_file, &c, why, why_len);
    if (rc != 0) {
        return rc;
    }
    pthread_mutex_lock(&t->mu);
    struct ov_tls_creds *old = t->cur;
    t->cur = c;
    pthread_mutex_unlock(&t->mu);
    ov_tls_release(old); /* freed now, or by the last connection that used it */
    return 0;
}

void
ov_tls_describe(struct ov_tls *t, char *buf, size_t len)
{
    struct ov_tls_creds *c = ov_tls_acquire(t);
    snprintf(buf, len, "%s", c->info);
    ov_tls_release(c);
}

int64_t
ov_tls_not_after(struct ov_tls *t)
{
    struct ov_tls_creds *c = ov_tls_acquire(t);
    int64_t v = c->not_after;
    ov_tls_release(c);
    return v;
}

void
ov_tls_free(struct ov_tls *t)
{
    if (t == NULL) {
        return;
    }
    ov_tls_release(t->cur);
    pthread_mutex_destroy(&t->mu);
    free(t->cert_file);
    free(t->key_file);
    free(t);
}

struct ov_tls_creds *
ov_tls_acquire(struct ov_tls *t)
{
    pthread_mutex_lock(&t->mu);
    struct ov_tls_creds *c = t->cur;
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&t->mu);
    return c;
}

void
ov_tls_creds_use(const struct ov_tls_creds *c, gnutls_pcert_st **pcert, unsigned *n,
                 gnutls_privkey_t *key)
{
    *pcert = (gnutls_pcert_st *)(uintptr_t)c->pcerts; /* GnuTLS reads it, never writes */
    *n = c->n;
    *key = c->key;
}

void
ov_tls_release(struct ov_tls_creds *c)
{
    if (c != NULL && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
        creds_free(c);
    }
}
