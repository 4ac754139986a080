/* Fuzz target: the strict deterministic-CBOR decoder (core/primitives/cbor).
 * Properties, each checked with abort():
 *   - ov_cbor_check and ov_cbor_decode agree (the byte scanner and libcbor's tree);
 *   - an accepted input re-encodes to exactly the same bytes;
 *   - every map key of an accepted input is found again by ov_cbor_get and passes
 *     ov_cbor_only_keys; every reader copes with every node;
 *   - the in-place readers (ov_cbor_view_*) give every node's tree reader's result, and
 *     ov_cbor_view_next never reads past unchecked input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "primitives/cbor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk(const cbor_item_t *it)
{
    uint64_t u;
    int64_t s;
    bool b;
    struct ov_bytes v;
    size_t n;
    uint8_t fixed[32];
    /* each reader accepts exactly its own type */
    if ((ov_cbor_as_uint(it, UINT64_MAX, &u) == 0) != cbor_isa_uint(it) ||
        (ov_cbor_as_int(it, &s) != -OV_E_MALFORMED) != cbor_is_int(it) ||
        (ov_cbor_as_bool(it, &b) == 0) != cbor_is_bool(it) ||
        (ov_cbor_as_bytes(it, 0, SIZE_MAX, &v) == 0) != cbor_isa_bytestring(it) ||
        (ov_cbor_as_text(it, SIZE_MAX, &v) == 0) != cbor_isa_string(it) ||
        (ov_cbor_as_map(it) == 0) != cbor_isa_map(it)) {
        abort();
    }
    if (ov_cbor_as_fixed(it, fixed, sizeof fixed) == 0 &&
        !(cbor_isa_bytestring(it) && cbor_bytestring_length(it) == sizeof fixed)) {
        abort();
    }
    if (ov_cbor_as_array(it, SIZE_MAX, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            walk(ov_cbor_at(it, i));
        }
        if (ov_cbor_at(it, n) != NULL) {
            abort();
        }
    }
    if (ov_cbor_as_map(it) != 0) {
        return;
    }
    size_t n_pairs = cbor_map_size(it);
    const struct cbor_pair *pairs = cbor_map_handle(it);
    const char **keys = calloc(n_pairs + 1, sizeof *keys);
    char *names = calloc(1, 2 * OV_MAX_CBOR_LEN + 1);
    size_t off = 0, n_keys = 0;
    if (keys == NULL || names == NULL) {
        abort();
    }
    for (size_t i = 0; i < n_pairs; i++) {
        struct ov_bytes k;
        if (ov_cbor_as_text(pairs[i].key, SIZE_MAX, &k) != 0) {
            abort(); /* the profile has text keys only */
        }
        walk(pairs[i].value);
        if (memchr(k.ptr, 0, k.len) != NULL) {
            continue; /* not expressible as a C-string key */
        }
        if (k.len > 0) {
            memcpy(names + off, k.ptr, k.len);
        }
        names[off + k.len] = 0;
        const cbor_item_t *found;
        if (ov_cbor_get(it, names + off, &found) != 0 || found != pairs[i].value) {
            abort();
        }
        keys[n_keys++] = names + off;
        off += k.len + 1;
    }
    if (n_keys == n_pairs && ov_cbor_only_keys(it, keys, n_keys) != 0) {
        abort();
    }
    if (n_keys > 0 && n_keys == n_pairs && ov_cbor_only_keys(it, keys + 1, n_keys - 1) == 0) {
        abort(); /* one key fewer must be refused */
    }
    free(names);
    free(keys);
}

static bool
same_view(struct ov_bytes a, struct ov_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* item: the encoded bytes of the tree node it. */
static void
vwalk(struct ov_bytes item, const cbor_item_t *it)
{
    uint64_t u, vu;
    struct ov_bytes t, vt, elems;
    uint8_t fixed[16], vfixed[16];
    size_t n, vn;
    static const uint64_t maxes[] = { 0, 23, 255, UINT64_MAX };
    static const size_t lens[] = { 0, 1, 16, 64, SIZE_MAX };
    for (size_t i = 0; i < 4; i++) {
        if (ov_cbor_view_uint(item, maxes[i], &vu) != ov_cbor_as_uint(it, maxes[i], &u) ||
            vu != u) {
            abort();
        }
    }
    for (size_t i = 0; i < 5; i++) {
        if (ov_cbor_view_bytes(item, lens[i] == SIZE_MAX ? 0 : lens[i], lens[i], &vt) !=
                ov_cbor_as_bytes(it, lens[i] == SIZE_MAX ? 0 : lens[i], lens[i], &t) ||
            !same_view(vt, t) ||
            ov_cbor_view_text(item, lens[i], &vt) != ov_cbor_as_text(it, lens[i], &t) ||
            !same_view(vt, t) || ov_cbor_view_array(item, lens[i], &vn, &elems) !=
                                     ov_cbor_as_array(it, lens[i], &n) || vn != n) {
            abort();
        }
    }
    if (ov_cbor_view_fixed(item, vfixed, sizeof vfixed) !=
            ov_cbor_as_fixed(it, fixed, sizeof fixed) ||
        memcmp(vfixed, fixed, sizeof fixed) != 0) {
        abort();
    }
    if (ov_cbor_view_array(item, SIZE_MAX, &n, &elems) == 0) {
        for (size_t i = 0; i < n; i++) {
            struct ov_bytes e;
            if (ov_cbor_view_next(&elems, &e) != 0) {
                abort();
            }
            vwalk(e, ov_cbor_at(it, i));
        }
        if (elems.len != 0) {
            abort();
        }
    }
    if (cbor_isa_map(it)) {
        /* every pair: the value found by its key is the node's value, as bytes */
        size_t n_pairs = cbor_map_size(it);
        const struct cbor_pair *tp = cbor_map_handle(it);
        struct ov_bytes v, found;
        if (ov_cbor_view_only_keys(item, NULL, 0) != (n_pairs ? -OV_E_MALFORMED : 0)) {
            abort(); /* no key is known */
        }
        for (size_t i = 0; i < n_pairs; i++) {
            if (ov_cbor_as_text(tp[i].key, SIZE_MAX, &t) != 0) {
                abort();
            }
            char name[64];
            if (t.len >= sizeof name || memchr(t.ptr, 0, t.len) != NULL) {
                continue;
            }
            memcpy(name, t.ptr, t.len);
            name[t.len] = 0;
            if (ov_cbor_view_get(item, name, &found) != 0) {
                abort();
            }
            vwalk(found, tp[i].value);
        }
        if (ov_cbor_view_get(item, "\x01no such key", &v) != -OV_E_NOT_FOUND) {
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ov_bytes in = { data, size };
    cbor_item_t *it = NULL;
    struct ov_bytes rest = in, first;
    int rc_next = ov_cbor_view_next(&rest, &first);
    if (rc_next == 0 && (first.ptr != data || first.len + rest.len != size ||
                         rest.ptr != data + first.len)) {
        abort();
    }
    int rc_check = ov_cbor_check(in);
    if (rc_check == 0 && (rc_next != 0 || rest.len != 0)) {
        abort(); /* a checked item is one whole item */
    }
    int rc = ov_cbor_decode(in, &it);
    if (rc == -OV_E_NOMEM) {
        return 0;
    }
    if (rc != rc_check || (rc != 0) != (it == NULL)) {
        abort(); /* the scanner and libcbor's tree disagree */
    }
    if (rc != 0) {
        return 0;
    }
    struct ov_buf again;
    ov_buf_init(&again, OV_MAX_CBOR_LEN);
    if (ov_cbor_encode(it, &again) != 0 || again.len != size ||
        (size > 0 && memcmp(again.ptr, data, size) != 0)) {
        abort();
    }
    walk(it);
    vwalk(in, it);
    ov_buf_clear(&again);
    ov_cbor_free(it);
    return 0;
}
