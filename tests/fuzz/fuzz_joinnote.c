/* Fuzz target: the join bundle (protocol/joinnote), all three readers: the log's fields
 * file, the note text and the signed note. Whatever the bytes, no reader overruns; a text
 * that reads writes back (ov_join_text) and reads again to the same text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "protocol/joinnote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ov_join j, again;
    struct ov_bytes in = OV_BYTES(data, size);
    size_t line;
    const char *why;
    if (ov_join_fields_parse(in, &j, &line, &why) == 0 && j.log[0] == '\0') {
        abort(); /* a file that reads names the log */
    }
    /* a fixed log key: a fuzzed note almost never verifies, but every path before runs */
    static struct ov_note_verifier log;
    if (log.name_len == 0) {
        static const uint8_t seed[crypto_sign_SEEDBYTES] = { 1, 2, 3 };
        uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
        crypto_sign_seed_keypair(pk, sk, seed); /* a key whose secret no note was signed with */
        if (ov_note_verifier_init(&log, OV_BYTES("log.example", 11), OV_NOTE_TYPE_ED25519,
                                  pk) != 0) {
            abort();
        }
    }
    if (ov_join_open(in, &log, &j, &why) == 0) {
        abort(); /* no input carries that key's signature */
    }
    if (ov_join_text_parse(in, &j, &why) != 0) {
        return 0;
    }
    struct ov_buf text, text2;
    if (ov_join_text(&j, &text) != 0 || ov_join_text_parse(ov_buf_view(&text), &again, &why) != 0 ||
        ov_join_text(&again, &text2) != 0 || text.len != text2.len ||
        memcmp(text.ptr, text2.ptr, text.len) != 0) {
        abort();
    }
    ov_buf_clear(&text);
    ov_buf_clear(&text2);
    return 0;
}
