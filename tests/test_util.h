/* Minimal test harness: CHECK records failures; test_summary prints "N passed, N failed". */
#ifndef QMCU_TEST_UTIL_H
#define QMCU_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int g_checks_passed, g_checks_failed;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (cond) {                                                                                                    \
            g_checks_passed++;                                                                                         \
        } else {                                                                                                       \
            g_checks_failed++;                                                                                         \
            fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #cond);                                         \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
        }                                                                                                              \
    } while (0)

static inline int test_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, g_checks_passed, g_checks_failed);
    return g_checks_failed ? 1 : 0;
}

/* Deterministic PRNG (xorshift32) so failures reproduce. */
static uint32_t g_rng = 0x12345678u;
static inline uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}
static inline int32_t rnd_range(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1)); }

/* Directory of the shared data (QUANTMCU_DATA, default set at configure time); exits 77
 * (CTest "skipped") with a loud message when it is missing. */
static inline const char *test_data_dir(void)
{
    const char *d = getenv("QUANTMCU_DATA");
#ifdef QUANTMCU_DEFAULT_DATA
    if (!d || !*d) d = QUANTMCU_DEFAULT_DATA;
#endif
    if (!d || !*d) {
        printf("SKIPPED: QUANTMCU_DATA is not set and no default data folder is known\n");
        exit(77);
    }
    {
        char path[1024];
        FILE *f;
        snprintf(path, sizeof path, "%s/models/mobilenet_v1_0.25_128_quant.tflite", d);
        f = fopen(path, "rb");
        if (!f) {
            printf("SKIPPED: shared data not found at %s (set QUANTMCU_DATA)\n", d);
            exit(77);
        }
        fclose(f);
    }
    return d;
}

#endif
