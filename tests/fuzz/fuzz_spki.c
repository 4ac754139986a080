/* Fuzz target: the token key (SubjectPublicKeyInfo with id-RSASSA-PSS, RFC 9578 §6.5) and the
 * DER RSAPublicKey inside it. A key that parses re-encodes to exactly the input, and its id
 * is the SHA-256 of those bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "primitives/brsa.h"
#include "primitives/pp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ov_pp_key key;
    struct ov_brsa_pk *pk = NULL;
    uint8_t out[OV_MAX_TOKEN_KEY_LEN + OV_BRSA_MAX_PK_DER_LEN], id[OV_PP_NID];
    size_t out_len;

    if (ov_pp_key_from_spki(&key, OV_BYTES(data, size)) == 0) {
        crypto_hash_sha256(id, data, size);
        if (ov_pp_spki_encode(key.pk, out, sizeof out, &out_len) != 0 || out_len != size ||
            memcmp(out, data, size) != 0 || memcmp(id, key.token_key_id, sizeof id) != 0 ||
            ov_brsa_pk_modulus_bits(key.pk) != OV_PP_MODULUS_BITS) {
            abort();
        }
        ov_pp_key_clear(&key);
    } else if (key.pk != NULL) {
        abort();
    }
    if (ov_brsa_pk_from_der(OV_BYTES(data, size), &pk) == 0) {
        if (ov_brsa_pk_to_der(pk, out, sizeof out, &out_len) != 0 || out_len != size ||
            memcmp(out, data, size) != 0) {
            abort();
        }
        ov_brsa_pk_free(pk);
    } else if (pk != NULL) {
        abort();
    }
    return 0;
}
