/* Benchmark: Ed25519 through the note, checkpoint and domain-separated sign paths, each against
 * the raw libsodium operation on the same bytes measured in the same run (the limit).
 * Prints "bench NAME VALUE UNIT limit LIMIT ratio R" lines. About 6 seconds of CPU. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/bytes.h"
#include "primitives/note.h"
#include "primitives/sign.h"
#include "bench.h"

#define SECONDS 0.25 /* per round */
#define ROUNDS 3     /* best of: other processes on the machine only ever slow a round down */

/* The fixture log (tests/vectors/signed-note.json, fixture_log_key and fixture_cosignature_v1). */
static const char vkey_log[] =
    "fixture.example/tlogcheck/votes+0756a8b1+AZ4ryAj0pg3fcHNf+aIxTOCdzGtwkRfCI7isBQWrvgPl";
static const char vkey_witness[] =
    "witness.example/w1+b4b4c9e4+BBJntvxRQ7ly321g9v3JEo+dd3oPNV2cq6v47W/IDpsr";
static const char checkpoint[] =
    "fixture.example/tlogcheck/votes\n70000\nkG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A=\n\n"
    "\xe2\x80\x94 fixture.example/tlogcheck/votes B1aoscC/sAFOeMdCYNrI9f+zbTxj7LiMTAOi02hDlykaGI"
    "KRUXoYV/rndiTwVXWlOALF0u9+PVGdCMaKIazkfmBFWwQ=\n"
    "\xe2\x80\x94 witness.example/w1 tLTJ5AAAAABpVbkA3ALnom8B/As3OI5yzCZuXa+IXme+/bzKtfPffiE/DJ"
    "306YyYfjaEpU2mDkEqVo61I8io63/M0fen633J56JMDw==\n";

struct ctx {
    struct ov_note_verifier vs[2];
    struct ov_note_signer *signer;
    struct ov_bytes text;
    uint8_t sig[64], framed_sig[64];
    uint8_t sk[64];
    int fail;
};

/* Runs fn in batches for about SECONDS, ROUNDS times; returns the best calls per second. */
static double
rate(void (*fn)(struct ctx *), struct ctx *c)
{
    double best = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double start = bench_cpu_now(), t;
        long n = 0;
        do {
            for (int i = 0; i < 32; i++) {
                fn(c);
            }
            n += 32;
            t = bench_cpu_now() - start;
        } while (t < SECONDS);
        if ((double)n / t > best) {
            best = (double)n / t;
        }
    }
    return best;
}

static void
raw_verify(struct ctx *c)
{
    c->fail |= crypto_sign_verify_detached(c->sig, c->text.ptr, c->text.len, c->vs[0].pk) != 0;
}

static void
raw_verify_two(struct ctx *c)
{
    raw_verify(c);
    raw_verify(c);
}

static void
note_open_log(struct ctx *c)
{
    struct ov_note n;
    c->fail |= ov_note_open(OV_BYTES(checkpoint, sizeof checkpoint - 1), c->vs, 1, &n, NULL) != 0;
}

static void
checkpoint_open(struct ctx *c)
{
    struct ov_note n;
    struct ov_checkpoint cp;
    c->fail |= ov_note_open(OV_BYTES(checkpoint, sizeof checkpoint - 1), c->vs, 1, &n, NULL) != 0;
    c->fail |= ov_checkpoint_parse(n.text, &cp) != 0;
}

static void
note_open_both(struct ctx *c)
{
    struct ov_note n;
    c->fail |= ov_note_open(OV_BYTES(checkpoint, sizeof checkpoint - 1), c->vs, 2, &n, NULL) != 0;
}

static void
raw_sign(struct ctx *c)
{
    uint8_t sig[64];
    c->fail |= crypto_sign_detached(sig, NULL, c->text.ptr, c->text.len, c->sk) != 0;
}

static void
note_sign(struct ctx *c)
{
    struct ov_buf out;
    const struct ov_note_signer *s[] = { c->signer };
    c->fail |= ov_note_sign(c->text, s, 1, &out) != 0;
    ov_buf_clear(&out);
}

static void
framed_verify(struct ctx *c)
{
    c->fail |= ov_sign_verify(c->vs[0].pk, OV_SIGN_ACTION, c->text.ptr, c->text.len,
                              c->framed_sig) != 0;
}

static void
report(const char *name, double value, double limit)
{
    printf("bench %s %.0f ops/s limit %.0f ratio %.3f\n", name, value, limit, value / limit);
}

int
main(void)
{
    struct ctx c;
    struct ov_note n;
    uint8_t seed[32], pk[32];
    memset(&c, 0, sizeof c);
    if (sodium_init() < 0 ||
        ov_note_vkey_parse(OV_BYTES(vkey_log, sizeof vkey_log - 1), &c.vs[0]) != 0 ||
        ov_note_vkey_parse(OV_BYTES(vkey_witness, sizeof vkey_witness - 1), &c.vs[1]) != 0 ||
        ov_note_parse(OV_BYTES(checkpoint, sizeof checkpoint - 1), &n) != 0) {
        fprintf(stderr, "bench_sign: setup failed\n");
        return 1;
    }
    c.text = n.text;
    size_t len = 0;
    /* the log's signature: the second half of its 68-byte blob */
    uint8_t blob[80];
    if (sodium_base642bin(blob, sizeof blob, (const char *)n.sigs[0].b64.ptr, n.sigs[0].b64.len,
                          NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != 68) {
        return 1;
    }
    memcpy(c.sig, blob + 4, 64);
    /* the fixture seed rule, so signing benchmarks sign with the real log key */
    crypto_hash_sha256(seed, (const uint8_t *)"tlogcheck fixture log key", 25);
    if (crypto_sign_seed_keypair(pk, c.sk, seed) != 0) {
        return 1;
    }
    struct ov_sign_key *log_key = NULL;
    if (ov_sign_key_from_seed(seed, &log_key) != 0 ||
        ov_note_signer_new(OV_BYTES("fixture.example/tlogcheck/votes", 31), OV_NOTE_TYPE_ED25519,
                           log_key, &c.signer) != 0 ||
        ov_sign(log_key, OV_SIGN_ACTION, c.text.ptr, c.text.len, c.framed_sig) != 0) {
        return 1;
    }
    sodium_memzero(seed, sizeof seed);

    double limit = rate(raw_verify, &c);
    report("note_verify_checkpoint", rate(note_open_log, &c), limit);
    report("checkpoint_open_and_parse", rate(checkpoint_open, &c), limit);
    report("note_verify_log_and_cosig", rate(note_open_both, &c), rate(raw_verify_two, &c));
    report("sign_verify_framed", rate(framed_verify, &c), limit);
    report("note_sign_checkpoint", rate(note_sign, &c), rate(raw_sign, &c));

    sodium_memzero(c.sk, sizeof c.sk);
    ov_note_signer_free(c.signer);
    if (c.fail) {
        fprintf(stderr, "bench_sign: an operation failed\n");
        return 1;
    }
    return 0;
}
