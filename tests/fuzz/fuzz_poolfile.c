/* Fuzz target: the sortition pool file and draw file (core/protocol/poolfile), as a watchdog
 * reads what an operator published. The first byte chooses the parser. A draw that parses
 * names each member at most once; a pool that parses has every value index within its
 * category, a contact commitment per member, and labels that are labels; when it passes
 * ov_sort_check (and is small), its draw runs and selects distinct members of the pool. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/poolfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_draw(const struct ov_draw *d)
{
    if (d->panel == NULL || d->reserves == NULL) {
        abort();
    }
    for (uint32_t i = 0; i < d->n_panel + d->n_reserves; i++) {
        uint32_t a = i < d->n_panel ? d->panel[i] : d->reserves[i - d->n_panel];
        for (uint32_t j = 0; j < i && i < 4096; j++) {
            if (a == (j < d->n_panel ? d->panel[j] : d->reserves[j - d->n_panel])) {
                abort();
            }
        }
    }
}

static void
check_pool(const struct ov_pool_file *p)
{
    if (p->contact == NULL) {
        abort();
    }
    for (size_t c = 0; c < p->pool.n_categories; c++) {
        if (ov_pool_label_check(p->cat_name[c], strlen(p->cat_name[c])) != 0) {
            abort();
        }
        for (size_t k = 0; k < p->pool.n_values[c]; k++) {
            if (ov_pool_label_check(p->value_name[c][k], strlen(p->value_name[c][k])) != 0) {
                abort();
            }
        }
    }
    for (size_t m = 0; m < p->pool.n_members; m++) {
        for (size_t c = 0; c < p->pool.n_categories; c++) {
            if (p->values[m * p->pool.n_categories + c] >= p->pool.n_values[c]) {
                abort();
            }
        }
    }
    if (p->pool.n_members > 2000 || p->panel > 200 || p->reserves > 50 ||
        ov_sort_check(&p->pool, p->panel, NULL, 0) != 0) {
        return;
    }
    uint32_t panel[200], reserves[50], attempt = 0;
    uint8_t seed[OV_SORT_SEED_LEN] = { 1 };
    uint32_t tries = p->max_attempts < 3 ? p->max_attempts : 3;
    if (ov_sort_draw(&p->pool, p->panel, p->reserves, seed, tries, panel,
                     p->reserves ? reserves : NULL, &attempt) != 0) {
        return;
    }
    for (uint32_t i = 0; i < p->panel + p->reserves; i++) {
        uint32_t a = i < p->panel ? panel[i] : reserves[i - p->panel];
        if (a >= p->pool.n_members) {
            abort();
        }
        for (uint32_t j = 0; j < i; j++) {
            if (a == (j < p->panel ? panel[j] : reserves[j - p->panel])) {
                abort();
            }
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    if (size == 0) {
        return 0;
    }
    struct ov_bytes in = OV_BYTES(data + 1, size - 1);
    if (data[0] & 1) {
        struct ov_draw d;
        if (ov_draw_parse(in, &d, err, sizeof err) == 0) {
            check_draw(&d);
        }
        ov_draw_free(&d);
        return 0;
    }
    struct ov_pool_file p;
    if (ov_pool_parse(in, &p, err, sizeof err) == 0) {
        check_pool(&p);
    }
    ov_pool_free(&p);
    return 0;
}
