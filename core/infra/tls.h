/* tls: a server's TLS certificate and key (GnuTLS), loaded from PEM files and replaced
 * while the server runs.
 *
 * libmicrohttpd 0.9.75 cannot swap the certificate of a running daemon, so the HTTP frame
 * (infra/http.h, cfg.tls) hands GnuTLS a retrieve callback instead, which serves each new
 * connection the credentials current at its handshake. ov_tls_reload reads both files
 * again and, only when they parse and the key belongs to the certificate, makes the new
 * pair current; otherwise the old pair stays and `why` says what was wrong. A pair is
 * reference-counted: each connection that used one holds it until it closes, so a reload
 * never frees a key a handshake is using.
 *
 * The key file must be a regular file owned by the process's user with no permission for
 * group or others (mode 0600 or 0400), checked on the open file (no race with a rename);
 * the certificate file holds the server's certificate first, then its chain. Key bytes are
 * wiped once parsed. Encrypted keys are not supported. */
#ifndef OV_TLS_H
#define OV_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "base/err.h"

#define OV_TLS_MAX_CERT_FILE_LEN (256u * 1024u)
#define OV_TLS_MAX_KEY_FILE_LEN (64u * 1024u)
#define OV_TLS_MAX_CHAIN 16 /* certificates in the certificate file */
#define OV_TLS_WHY_LEN 512  /* room for the reason a load was refused */
#define OV_TLS_INFO_LEN 512 /* room for ov_tls_describe */

/* TLS 1.3 and 1.2 only; every cipher an AEAD (AES-GCM, ChaCha20-Poly1305), every TLS 1.2
 * key exchange ephemeral (ECDHE: forward secrecy); no CBC, no RSA key transport, no SHA-1
 * MAC. This is Mozilla's "intermediate" server profile, which every TLS 1.2 client of the
 * last decade meets. Not "SECURE192:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2": with GnuTLS 3.7
 * that string still allows AES-256-CBC, RSA key transport and DHE-RSA, and it drops the
 * X25519 and P-256 groups (what most clients offer first) and the ecdsa_secp256r1_sha256
 * signature, without which a P-256 certificate (the usual ACME one) cannot sign a TLS 1.3
 * handshake. %SERVER_PRECEDENCE: the ciphers in the order listed here, not the client's. */
#define OV_TLS_PRIORITIES                                                                   \
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:" \
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

/* The current certificate and key, as a handshake takes them. Opaque; reference-counted. */
struct ov_tls_creds;
/* The files and the current pair. */
struct ov_tls;

/* Loads the pair from cert_file and key_file (both kept for reloads). On failure `why`
 * (at least OV_TLS_WHY_LEN bytes) says which file and what is wrong: -OV_E_NOT_FOUND,
 * -OV_E_IO (cannot read), -OV_E_STATE (the key file's owner or mode), -OV_E_TOO_BIG,
 * -OV_E_MALFORMED (no certificate, no key, or the key is not the certificate's),
 * -OV_E_NOMEM, -OV_E_CRYPTO. The caller owns *out (ov_tls_free). */
OV_MUST_CHECK int ov_tls_open(const char *cert_file, const char *key_file, struct ov_tls **out,
                              char *why, size_t why_len);
/* Reads both files again; on success the new pair serves every handshake from now on. On
 * failure (the errors of ov_tls_open) the current pair stays and `why` says why. Any
 * thread. */
OV_MUST_CHECK int ov_tls_reload(struct ov_tls *t, char *why, size_t why_len);
/* One line on the current certificate: its subject, serial and expiry. */
void ov_tls_describe(struct ov_tls *t, char *buf, size_t len);
/* The current certificate's notAfter, in POSIX seconds. */
int64_t ov_tls_not_after(struct ov_tls *t);
/* Frees the holder and drops its reference to the current pair (connections still holding
 * it keep it until they release it). Accepts NULL. */
void ov_tls_free(struct ov_tls *t);

/* A reference to the current pair (never NULL), for one connection. */
struct ov_tls_creds *ov_tls_acquire(struct ov_tls *t);
/* What GnuTLS's certificate retrieve callback answers; valid while the reference is held. */
void ov_tls_creds_use(const struct ov_tls_creds *c, gnutls_pcert_st **pcert, unsigned *n,
                      gnutls_privkey_t *key);
/* Drops a reference; the last one frees the pair. Accepts NULL. */
void ov_tls_release(struct ov_tls_creds *c);

#endif
