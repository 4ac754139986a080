/* test.h: the whole unit-test harness. Each test program ends with TEST_DONE(), which
 * prints "<name>: N passed, N failed" and exits non-zero on any failure. */
#ifndef OV_TEST_H
#define OV_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed, test_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            test_passed++;                                                           \
        } else {                                                                     \
            test_failed++;                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                            \
    do {                                                                              \
        long long va_ = (long long)(a), vb_ = (long long)(b);                         \
        if (va_ == vb_) {                                                             \
            test_passed++;                                                            \
        } else {                                                                      \
            test_failed++;                                                            \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,     \
                    __LINE__, #a, va_, #b, vb_);                                      \
        }                                                                             \
    } while (0)

#define CHECK_EQ_MEM(a, b, n)                                                          \
    do {                                                                               \
        if (memcmp((a), (b), (n)) == 0) {                                              \
            test_passed++;                                                             \
        } else {                                                                       \
            test_failed++;                                                             \
            fprintf(stderr, "%s:%d: memory differs: %s vs %s\n", __FILE__, __LINE__,   \
                    #a, #b);                                                           \
        }                                                                              \
    } while (0)

/* Where the vectors are: tests/vectors, carried by the project (OV_VECTORS overrides it). */
static inline const char *
test_vectors_dir(void)
{
    const char *d = getenv("OV_VECTORS");
    return d ? d : "tests/vectors";
}

#define TEST_DONE(name)                                                               \
    do {                                                                              \
        printf("%s: %d passed, %d failed\n", (name), test_passed, test_failed);        \
        return test_failed == 0 ? 0 : 1;                                              \
    } while (0)

#endif
