/* Unit tests: core/protocol/receipt. A receipt built over a small signed log round-trips through
 * its JSON and checks offline; every way of lying (another entry, hash, index, proof, log
 * key, origin, too few cosignatures, a receipt not yet proven) is caught; the parser
 * refuses malformed receipts and truncations at every offset. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "../test.h"
#include "base/codec.h"
#include "protocol/entry.h"
#include "primitives/merkle.h"
#include "primitives/note.h"
#include "protocol/receipt.h"

#define N 13

static uint8_t leaves[N][OV_HASH_LEN];
static struct ov_buf entries[N];

static void
die(const char *what)
{
    fprintf(stderr, "setup failed: %s\n", what);
    exit(1);
}

static struct ov_note_signer *
signer(const char *name, uint8_t type)
{
    struct ov_sign_key *k = NULL;
    struct ov_note_signer *s = NULL;
    if (ov_sign_key_generate(&k) != 0 ||
        ov_note_signer_new(OV_BYTES(name, strlen(name)), type, k, &s) != 0) {
        die("signer");
    }
    return s;
}

/* Entry i: an action entry (a vote for "c<i>"). */
static void
make_entries(void)
{
    for (int i = 0; i < N; i++) {
        struct ov_entry e;
        memset(&e, 0, sizeof e);
        e.kind = OV_ENTRY_ACTION;
        strcpy(e.u.action.context, "ctx");
        e.u.action.pseudonym[0] = (uint8_t)i;
        snprintf(e.u.action.choice, sizeof e.u.action.choice, "c%d", i);
        strcpy(e.u.action.platform, "p");
        e.u.action.time = 1700000000u + (unsigned)i;
        if (ov_entry_encode(&e, &entries[i]) != 0 ||
            ov_merkle_leaf_hash(entries[i].ptr, entries[i].len, leaves[i]) != 0) {
            die("entry");
        }
    }
}

/* A signed checkpoint of the first `size` leaves, by log, cosigned by the witnesses. */
static void
checkpoint(const struct ov_note_signer *log, const char *origin,
           struct ov_note_signer *const *wits, size_t n_wits, uint64_t size, struct ov_buf *out)
{
    struct ov_checkpoint c = { OV_BYTES(origin, strlen(origin)), size, { 0 }, OV_BYTES("", 0) };
    struct ov_buf text;
    if (ov_merkle_root(leaves[0], size, c.root) != 0 || ov_checkpoint_format(&c, &text) != 0 ||
        ov_note_sign(ov_buf_view(&text), &log, 1, out) != 0) {
        die("checkpoint");
    }
    for (size_t i = 0; i < n_wits; i++) {
        if (ov_cosig_sign_line(wits[i], ov_buf_view(&text), 1700000000u, out) != 0) {
            die("cosig");
        }
    }
    ov_buf_clear(&text);
}

static int
full_get(void *ctx, unsigned level, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    (void)ctx;
    return ov_merkle_root(leaves[index << level], (uint64_t)1 << level, out);
}

static void
make_receipt(uint64_t index, uint64_t size, const struct ov_buf *note, struct ov_receipt *r)
{
    struct ov_merkle_src src = { full_get, NULL };
    ov_receipt_init(r);
    r->status = OV_RECEIPT_PROVEN;
    memcpy(r->hash, leaves[index], OV_HASH_LEN);
    r->index = index;
    if (ov_buf_append(&r->entry, entries[index].ptr, entries[index].len) != 0 ||
        ov_buf_append(&r->checkpoint, note->ptr, note->len) != 0 ||
        ov_merkle_inclusion_proof(&src, index, size, r->proof, OV_MERKLE_MAX_PROOF,
                                  &r->n_proof) != 0) {
        die("receipt");
    }
}

static int
roundtrip(const struct ov_receipt *r, struct ov_receipt *out)
{
    struct ov_buf j;
    int rc = ov_receipt_format(r, &j);
    rc = rc ? rc : ov_receipt_parse(ov_buf_view(&j), out);
    ov_buf_clear(&j);
    return rc;
}

static int
same(const struct ov_receipt *a, const struct ov_receipt *b)
{
    return a->status == b->status && memcmp(a->hash, b->hash, 32) == 0 && a->index == b->index &&
           a->entry.len == b->entry.len && memcmp(a->entry.ptr, b->entry.ptr, a->entry.len) == 0 &&
           a->checkpoint.len == b->checkpoint.len &&
           (a->checkpoint.len == 0 ||
            memcmp(a->checkpoint.ptr, b->checkpoint.ptr, a->checkpoint.len) == 0) &&
           a->n_proof == b->n_proof && memcmp(a->proof, b->proof, a->n_proof * 32) == 0;
}

int
main(void)
{
    make_entries();
    struct ov_note_signer *log = signer("log.example/votes", OV_NOTE_TYPE_ED25519);
    struct ov_note_signer *other = signer("log.example/votes", OV_NOTE_TYPE_ED25519);
    struct ov_note_signer *w[2] = { signer("w1", OV_NOTE_TYPE_COSIG_V1),
                                    signer("w2", OV_NOTE_TYPE_COSIG_V1) };
    struct ov_note_verifier wv[2] = { *ov_note_signer_verifier(w[0]),
                                      *ov_note_signer_verifier(w[1]) };
    struct ov_logreader_cfg cfg = { .url = "", .log_key = *ov_note_signer_verifier(log),
                                    .witnesses = wv, .n_witnesses = 2, .quorum = 2 };
    struct ov_buf note;
    struct ov_receipt r, p;
    struct ov_entry e;

    /* every index at several sizes: round trip and check */
    int bad = 0;
    for (uint64_t size = 1; size <= N; size += 3) {
        checkpoint(log, "log.example/votes", w, 2, size, &note);
        for (uint64_t i = 0; i < size; i++) {
            make_receipt(i, size, &note, &r);
            if (roundtrip(&r, &p) != 0 || !same(&r, &p) || ov_receipt_check(&p, &cfg, &e) != 0 ||
                e.kind != OV_ENTRY_ACTION || e.u.action.pseudonym[0] != i) {
                bad++;
            }
            ov_entry_clear(&e);
            ov_receipt_clear(&r);
            ov_receipt_clear(&p);
        }
        ov_buf_clear(&note);
    }
    CHECK_EQ_INT(bad, 0);

    checkpoint(log, "log.example/votes", w, 2, N, &note);
    make_receipt(5, N, &note, &r);
    CHECK(ov_receipt_check(&r, &cfg, NULL) == 0);
    /* the hash of another entry; another entry under the hash */
    r.hash[0] ^= 1;
    CHECK(ov_receipt_check(&r, &cfg, &e) == -OV_E_BAD_PROOF && e.kind == 0);
    r.hash[0] ^= 1;
    r.entry.ptr[r.entry.len - 1] ^= 1;
    CHECK(ov_receipt_check(&r, &cfg, NULL) == -OV_E_BAD_PROOF);
    r.entry.ptr[r.entry.len - 1] ^= 1;
    /* another index, a bad proof, a short proof, an index past the size */
    r.index = 4;
    CHECK(ov_receipt_check(&r, &cfg, NULL) == -OV_E_BAD_PROOF);
    r.index = N;
    CHECK(ov_receipt_check(&r, &cfg, NULL) == -OV_E_MALFORMED);
    r.index = 5;
    r.proof[7] ^= 1;
    CHECK(ov_receipt_check(&r, &cfg, NULL) == -OV_E_BAD_PROOF);
    r.proof[7] ^= 1;
    r.n_proof--;
    CHECK(ov_receipt_check(&r, &cfg, NULL) == -OV_E_BAD_PROOF);
    r.n_proof++;
    CHECK(ov_receipt_check(&r, &cfg, NULL) == 0);
    /* not proven */
    r.status = OV_RECEIPT_LOGGED;
    CHECK(ov_receipt_check(&r, &cfg, NULL) == -OV_E_STATE);
    CHECK(roundtrip(&r, &p) == 0 && p.checkpoint.len == 0 && p.n_proof == 0); /* dropped */
    ov_receipt_clear(&p);
    r.status = OV_RECEIPT_PROVEN;
    /* a quorum of one is met by one cosignature; two are needed here */
    ov_receipt_clear(&r);
    ov_buf_clear(&note);
    checkpoint(log, "log.example/votes", w, 1, N, &note);
    make_receipt(5, N, &note, &r);
    CHECK(ov_receipt_check(&r, &cfg, NULL) == -OV_E_STATE);
    cfg.quorum = 1;
    CHECK(ov_receipt_check(&r, &cfg, NULL) == 0);
    ov_receipt_clear(&r);
    ov_buf_clear(&note);
    /* another log's key under the same name; another origin */
    checkpoint(other, "log.example/votes", w, 2, N, &note);
    make_receipt(5, N, &note, &r);
    CHECK(ov_receipt_check(&r, &cfg, NULL) == -OV_E_UNKNOWN_KEY ||
          ov_receipt_check(&r, &cfg, NULL) == -OV_E_BAD_SIG);
    ov_receipt_clear(&r);
    ov_buf_clear(&note);
    checkpoint(log, "log.example/other", w, 2, N, &note);
    make_receipt(5, N, &note, &r);
    CHECK(ov_receipt_check(&r, &cfg, NULL) == -OV_E_BAD_SIG);
    ov_receipt_clear(&r);
    ov_buf_clear(&note);

    /* JSON: pending and logged receipts, and malformed ones */
    checkpoint(log, "log.example/votes", w, 2, N, &note);
    make_receipt(3, N, &note, &r);
    struct ov_buf j;
    CHECK(ov_receipt_format(&r, &j) == 0);
    int acc = 0;
    for (size_t n = 0; n < j.len; n++) {
        acc += ov_receipt_parse(OV_BYTES(j.ptr, n), &p) == 0;
    }
    CHECK_EQ_INT(acc, 0);
    CHECK(ov_buf_terminate(&j) == 0);
    char *s = strdup((const char *)j.ptr);
    ov_buf_clear(&j);
    r.status = OV_RECEIPT_LOGGED;
    ov_buf_clear(&r.checkpoint);
    r.n_proof = 0;
    CHECK(roundtrip(&r, &p) == 0 && same(&r, &p));
    ov_receipt_clear(&p);
    r.status = OV_RECEIPT_PENDING;
    r.index = 0;
    CHECK(roundtrip(&r, &p) == 0 && same(&r, &p));
    ov_receipt_clear(&p);
    r.status = 0;
    CHECK(ov_receipt_format(&r, &j) == -OV_E_MALFORMED && j.ptr == NULL);
    ov_receipt_clear(&r);

    struct { const char *from, *to; } edits[] = {
        { "\"status\":\"proven\"", "\"status\":\"logged\"" },   /* checkpoint with logged */
        { "\"status\":\"proven\"", "\"status\":\"pending\"" },
        { "\"status\":\"proven\"", "\"status\":\"done\"" },
        { "\"index\":3", "\"index\":-3" },
        { "\"index\":3", "\"index\":3.0" },
        { "\"index\":3", "\"index\":\"3\"" },
        { "\"receipt\":\"/receipts/", "\"receipt\":\"/receipt/" },
        { "\"hash\":\"", "\"hash\":\"AAAA" },
        { "\"entry\":\"", "\"entry\":\"A" },
        { "\"proof\":[", "\"proof\":[1," },
        { "\"proof\":[", "\"extra\":1,\"proof\":[" },
        { "\"status\"", "\"status\":\"proven\",\"status\"" },
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char buf[8192];
        const char *at = strstr(s, edits[i].from);
        if (at == NULL) {
            die(edits[i].from);
        }
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - s), s, edits[i].to,
                 at + strlen(edits[i].from));
        int rc = ov_receipt_parse(OV_BYTES(buf, strlen(buf)), &p);
        if (rc == 0) {
            fprintf(stderr, "accepted edit %zu\n", i);
        }
        CHECK(rc == -OV_E_MALFORMED && p.entry.ptr == NULL);
    }
    CHECK(ov_receipt_parse(OV_BYTES(s, strlen(s)), &p) == 0 && ov_receipt_check(&p, &cfg, NULL) == 0);
    ov_receipt_clear(&p);
    free(s);
    ov_buf_clear(&note);
    for (int i = 0; i < N; i++) {
        ov_buf_clear(&entries[i]);
    }
    ov_note_signer_free(log);
    ov_note_signer_free(other);
    ov_note_signer_free(w[0]);
    ov_note_signer_free(w[1]);
    TEST_DONE("test_receipt");
}
