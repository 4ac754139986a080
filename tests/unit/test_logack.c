/* Unit tests: the log's answer to an append (core/protocol/logack). The log now writes its durable
 * answer by hand: it must be the very bytes jansson wrote before, and read back the same by
 * the scan and by jansson; what an answer must not carry is refused by both. */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "base/codec.h"
#include "protocol/logack.h"
#include "../test.h"

#define N 3

static uint8_t want[N * OV_HASH_LEN];
static const uint64_t indices[N] = { 7, 8, 4294967296ull };

/* The answer as the log built it with jansson before (a compact dump, insertion order). */
static char *
jansson_answer(uint64_t size)
{
    json_t *entries = json_array();
    for (size_t i = 0; i < N; i++) {
        char b64[64];
        if (ov_b64_encode(b64, sizeof b64, want + i * OV_HASH_LEN, OV_HASH_LEN, OV_B64_STD) != 0) {
            return NULL;
        }
        json_array_append_new(entries, json_pack("{sIss}", "index", (json_int_t)indices[i],
                                                 "hash", b64));
    }
    json_t *res = json_object();
    json_object_set_new(res, "size", json_integer((json_int_t)size));
    json_object_set_new(res, "entries", entries);
    char *s = json_dumps(res, JSON_COMPACT);
    json_decref(res);
    return s;
}

/* Both readers on body: their result, and on success the same indices and size. */
static int
both(const char *body, uint64_t *size_out)
{
    struct ov_log_ack a, b;
    struct ov_bytes v = OV_BYTES(body, strlen(body));
    int rc = ov_log_ack_parse(v, want, N, false, &a);
    CHECK_EQ_INT(ov_log_ack_parse_tree(v, want, N, false, &b), rc);
    if (rc == 0) {
        CHECK_EQ_MEM(a.indices, indices, sizeof indices);
        CHECK_EQ_MEM(b.indices, indices, sizeof indices);
        CHECK_EQ_MEM(a.hashes, want, sizeof want);
        CHECK(a.size == b.size && a.n == N && b.n == N);
        *size_out = a.size;
    }
    ov_log_ack_clear(&a);
    ov_log_ack_clear(&b);
    return rc;
}

int
main(void)
{
    for (size_t i = 0; i < sizeof want; i++) {
        want[i] = (uint8_t)(i * 7 + 1);
    }
    struct ov_buf out;
    uint64_t size = 0;
    CHECK_EQ_INT(ov_log_ack_write(4294967297ull, indices, want, N, &out), 0);
    CHECK(ov_buf_terminate(&out) == 0);
    char *ref = jansson_answer(4294967297ull);
    CHECK(ref != NULL && strcmp((const char *)out.ptr, ref) == 0);
    CHECK_EQ_INT(both((const char *)out.ptr, &size), 0);
    CHECK(size == 4294967297ull);

    /* the same answer spaced out and reordered: jansson reads it, the same */
    char spaced[1024];
    char h[3][64];
    for (int i = 0; i < N; i++) {
        CHECK(ov_b64_encode(h[i], sizeof h[i], want + i * OV_HASH_LEN, OV_HASH_LEN, OV_B64_STD) == 0);
    }
    snprintf(spaced, sizeof spaced,
             "{ \"entries\": [ {\"hash\": \"%s\", \"index\": 7}, {\"index\": 8, \"hash\": \"%s\"},"
             " {\"index\": 4294967296, \"hash\": \"%s\"} ], \"size\": 12 }\n",
             h[0], h[1], h[2]);
    CHECK_EQ_INT(both(spaced, &size), 0);
    CHECK(size == 12);

    /* refused by both: a negative size, hashes that are not the entries' (two swapped), one
     * entry short, an index past 2^63 - 1, a trailing byte, a repeated key that hides the
     * first (@k stands for entry k's hash) */
    static const char *const bad[] = {
        "{\"size\":-1,\"entries\":[{\"index\":7,\"hash\":\"@0\"},{\"index\":8,\"hash\":\"@1\"},{\"index\":4294967296,\"hash\":\"@2\"}]}",
        "{\"size\":9,\"entries\":[{\"index\":7,\"hash\":\"@0\"},{\"index\":8,\"hash\":\"@2\"},{\"index\":4294967296,\"hash\":\"@1\"}]}",
        "{\"size\":9,\"entries\":[{\"index\":7,\"hash\":\"@0\"},{\"index\":8,\"hash\":\"@1\"}]}",
        "{\"size\":9,\"entries\":[{\"index\":7,\"hash\":\"@0\"},{\"index\":8,\"hash\":\"@1\"},{\"index\":9223372036854775808,\"hash\":\"@2\"}]}",
        "{\"size\":9,\"entries\":[{\"index\":7,\"hash\":\"@0\"},{\"index\":8,\"hash\":\"@1\"},{\"index\":4294967296,\"hash\":\"@2\"}]}x",
        "{\"size\":9,\"entries\":[{\"index\":7,\"hash\":\"@0\"},{\"index\":8,\"hash\":\"@1\"},{\"index\":4294967296,\"hash\":\"@2\"}],\"entries\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[1024];
        size_t o = 0;
        for (const char *t = bad[i]; *t != 0 && o + 64 < sizeof body; t++) {
            if (t[0] == '@' && t[1] >= '0' && t[1] <= '2') {
                size_t l = strlen(h[t[1] - '0']);
                memcpy(body + o, h[t[1] - '0'], l);
                o += l;
                t++;
            } else {
                body[o++] = *t;
            }
        }
        body[o] = 0;
        CHECK_EQ_INT(both(body, &size), -OV_E_MALFORMED);
    }
    free(ref);
    ov_buf_clear(&out);
    TEST_DONE("test_logack");
}
