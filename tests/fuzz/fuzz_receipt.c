/* Fuzz target: the receipt JSON parser (core/protocol/receipt), which wallets and platforms run on
 * the verifier's answers. A receipt that parses formats back and parses to the same
 * receipt (parse . format . parse = parse); the offline check never crashes on it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ov_receipt r, again;
    struct ov_buf j;
    if (ov_receipt_parse(OV_BYTES(data, size), &r) != 0) {
        return 0;
    }
    if (ov_receipt_format(&r, &j) != 0 || ov_receipt_parse(ov_buf_view(&j), &again) != 0 ||
        again.status != r.status || again.index != r.index || again.n_proof != r.n_proof ||
        memcmp(again.hash, r.hash, sizeof r.hash) != 0 || again.entry.len != r.entry.len ||
        memcmp(again.entry.ptr, r.entry.ptr, r.entry.len) != 0 ||
        again.checkpoint.len != r.checkpoint.len ||
        (r.checkpoint.len && memcmp(again.checkpoint.ptr, r.checkpoint.ptr, r.checkpoint.len)) ||
        memcmp(again.proof, r.proof, r.n_proof * OV_HASH_LEN) != 0) {
        abort();
    }
    /* a fixed log key: the check must fail cleanly, never crash */
    static const uint8_t pk[32] = { 0x3b, 0x6a, 0x27, 0xbc, 0xce, 0xb6, 0xa4, 0x2d, 0x62, 0xa3, 0xa8,
                                    0xd0, 0x2a, 0x6f, 0x0d, 0x73, 0x65, 0x32, 0x15, 0x77, 0x1d, 0xe2,
                                    0x43, 0xa6, 0x3a, 0xc0, 0x48, 0xa1, 0x8b, 0x59, 0xda, 0x29 };
    struct ov_logreader_cfg cfg = { .url = "" };
    if (ov_note_verifier_init(&cfg.log_key, OV_BYTES("fuzz.example/log", 16), OV_NOTE_TYPE_ED25519,
                              pk) == 0) {
        struct ov_entry e;
        if (ov_receipt_check(&r, &cfg, &e) == 0) {
            ov_entry_clear(&e);
        }
    }
    ov_buf_clear(&j);
    ov_receipt_clear(&again);
    ov_receipt_clear(&r);
    return 0;
}
