/* Benchmark: deterministic-CBOR encode and strict decode of a typical log entry (a map of
 * 6 keys: a 354-byte token, a 64-byte signature, a 32-byte context id, short texts, an
 * integer). The limit beside each figure is memcpy of the same number of bytes per entry,
 * measured in the same run: the floor of any encoder or decoder that touches each byte. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "primitives/cbor.h"
#include "bench.h"

#define SECONDS 1.5

static cbor_item_t *
make_entry(void)
{
    uint8_t token[354], sig[64], ctx[32];
    for (size_t i = 0; i < sizeof token; i++) {
        token[i] = (uint8_t)(i * 13 + 5);
    }
    memset(sig, 0xa5, sizeof sig);
    memset(ctx, 0x3c, sizeof ctx);
    cbor_item_t *m = ov_cbor_map_new();
    if (m == NULL || ov_cbor_put_text(m, "kind", "action") != 0 ||
        ov_cbor_put_bytes(m, "token", token, sizeof token) != 0 ||
        ov_cbor_put_bytes(m, "sig", sig, sizeof sig) != 0 ||
        ov_cbor_put_bytes(m, "ctx", ctx, sizeof ctx) != 0 ||
        ov_cbor_put_text(m, "vote", "note-0042:helpful") != 0 ||
        ov_cbor_put_uint(m, "time", 1700000000) != 0) {
        fprintf(stderr, "bench_cbor: building the entry failed\n");
        exit(1);
    }
    return m;
}

/* Bytes per second of memcpy of n-byte blocks, as many as fit in SECONDS. */
static double
memcpy_rate(size_t n)
{
    uint8_t *src = malloc(n), *dst = malloc(n);
    if (src == NULL || dst == NULL) {
        exit(1);
    }
    memset(src, 7, n);
    uint64_t iters = 0;
    double t0 = bench_now(), t;
    do {
        for (int k = 0; k < 1000; k++) {
            memcpy(dst, src, n);
            src[k % n] ^= dst[(k * 7) % n]; /* a dependency, so no copy is elided */
            __asm__ __volatile__("" : : "r"(dst), "r"(src) : "memory");
        }
        iters += 1000;
        t = bench_now() - t0;
    } while (t < SECONDS);
    free(src);
    free(dst);
    return (double)iters * (double)n / t;
}

static void
report(const char *name, double entries_s, size_t n, double limit_bytes_s)
{
    double limit_entries = limit_bytes_s / (double)n;
    printf("bench %s %.0f entries/s limit %.0f ratio %.4f\n", name, entries_s, limit_entries,
           entries_s / limit_entries);
    printf("bench %s_mb %.1f MB/s limit %.1f ratio %.4f\n", name, entries_s * (double)n / 1e6,
           limit_bytes_s / 1e6, entries_s / limit_entries);
}

struct job {
    const cbor_item_t *entry;
    struct ov_bytes enc;
    struct ov_buf out;
};

/* encode: the tree exists; serialise it into a reused buffer */
static int
do_encode(struct job *j)
{
    j->out.len = 0;
    return ov_cbor_encode(j->entry, &j->out) == 0 && j->out.len == j->enc.len ? 0 : -1;
}

/* strict decode: scan, cbor_load, re-encode and compare, free */
static int
do_decode(struct job *j)
{
    cbor_item_t *it = NULL;
    int rc = ov_cbor_decode(j->enc, &it);
    ov_cbor_free(it);
    return rc;
}

/* the byte scanner alone, for scale */
static int
do_check(struct job *j)
{
    return ov_cbor_check(j->enc);
}

/* Runs of fn per second, over SECONDS. */
static double
rate(int (*fn)(struct job *), struct job *j)
{
    uint64_t iters = 0;
    double t0 = bench_now(), t;
    do {
        for (int k = 0; k < 1000; k++) {
            if (fn(j) != 0) {
                fprintf(stderr, "bench_cbor: a run failed\n");
                exit(1);
            }
        }
        iters += 1000;
        t = bench_now() - t0;
    } while (t < SECONDS);
    return (double)iters / t;
}

int
main(void)
{
    cbor_item_t *entry = make_entry();
    struct ov_buf enc;
    struct job j;
    ov_buf_init(&enc, OV_MAX_CBOR_LEN);
    if (ov_cbor_encode(entry, &enc) != 0) {
        return 1;
    }
    size_t n = enc.len;
    j.entry = entry;
    j.enc = ov_buf_view(&enc);
    ov_buf_init(&j.out, OV_MAX_CBOR_LEN);
    double enc_rate = rate(do_encode, &j);
    double dec_rate = rate(do_decode, &j);
    double chk_rate = rate(do_check, &j);
    double limit = memcpy_rate(n);
    fprintf(stderr, "bench_cbor: entry of %zu bytes; limit = memcpy of %zu bytes per entry\n",
            n, n);
    report("cbor_encode", enc_rate, n, limit);
    report("cbor_decode", dec_rate, n, limit);
    report("cbor_check", chk_rate, n, limit);
    ov_buf_clear(&j.out);
    ov_buf_clear(&enc);
    ov_cbor_free(entry);
    return 0;
}
