/* Hostile models: truncated, bit-flipped and random files must load cleanly or be rejected
 * with a one-line message naming the file -- never crash (this test runs under ASan/UBSan
 * in CI). Models that still load after a mutation are also prepared and run once.
 *
 * Also a helper for the CLI test:  test_import --write-unsupported IN OUT
 *                                   test_import --write-truncated IN OUT BYTES
 *                                   test_import --decode-ppm IMAGE OUT.ppm  (the decoder's RGB as binary PPM) */
#include <string.h>

#include "image/image.h"
#include "quantmcu/graph.h"
#include "import/flatbuf.h"
#include "import/tflite_import.h"
#include "planning/plan.h"
#include "prepare/prepare.h"
#include "test_util.h"

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = (unsigned char *)malloc((size_t)n);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Loads (and when it loads, prepares and runs) a buffer; returns 1 if loaded. */
static int try_model(const unsigned char *buf, size_t len, const char *what)
{
    qmcu_error err;
    qmcu_graph *g;
    qmcu_model *m = NULL;
    err.msg[0] = 0;
    g = qmcu_graph_parse(buf, len, "mutant.tflite", &err);
    if (!g) {
        CHECK(strncmp(err.msg, "mutant.tflite: ", 15) == 0 && strchr(err.msg, '\n') == NULL, "%s: message '%s'", what,
              err.msg);
        return 0;
    }
    if (qmcu_model_prepare(g, &m, &err) == QMCU_OK) {
        const qmcu_plan_spec spec = {.split = 0, .grid_h = 1, .grid_w = 1, .input_in_sram = 1, .quantmcu = 0};
        qmcu_plan *p = NULL;
        if (qmcu_plan_build(m, &spec, &p, &err) == QMCU_OK) {
            uint8_t *arena = (uint8_t *)calloc(p->host_bytes ? p->host_bytes : 1, 1);
            CHECK(arena != NULL, "arena");
            if (arena) qmcu_exec_run(m, &p->exec, arena, NULL);
            free(arena);
            qmcu_plan_free(p);
        }
        qmcu_model_free(m);
    }
    qmcu_graph_free(g);
    return 1;
}

/* Sets the first operator code to LSTM (16, the non-sequence LSTM), which quantmcu does not support. */
static int make_unsupported(unsigned char *buf, size_t len)
{
    fb_reader r;
    fb_table model, code;
    fb_vec codes;
    uint32_t pos;
    fb_init(&r, buf, len);
    model = fb_root(&r);
    codes = fb_vec_field(&r, model, 1, 4);
    code = fb_vec_table(&r, codes, 0);
    if (r.err) return 0;
    if ((pos = fb_field_pos(&r, code, 0)) != 0) buf[pos] = 16;
    if ((pos = fb_field_pos(&r, code, 3)) != 0) {
        int32_t v = 16;
        memcpy(buf + pos, &v, 4);
    }
    return 1;
}

static int write_file(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 1;
    fwrite(b, 1, n, f);
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    const char *data;
    char path[1024];
    size_t len, i;
    unsigned char *orig, *buf;
    int loaded = 0, k;
    qmcu_error err;

    if (argc >= 4 && !strcmp(argv[1], "--write-unsupported")) {
        int rc;
        if (!(orig = read_all(argv[2], &len))) return 1;
        rc = make_unsupported(orig, len) ? write_file(argv[3], orig, len) : 1;
        free(orig);
        return rc;
    }
    if (argc >= 5 && !strcmp(argv[1], "--write-truncated")) {
        int rc;
        if (!(orig = read_all(argv[2], &len))) return 1;
        rc = write_file(argv[3], orig, (size_t)atol(argv[4]) < len ? (size_t)atol(argv[4]) : len);
        free(orig);
        return rc;
    }

    if (argc >= 4 && !strcmp(argv[1], "--decode-ppm")) {
        uint8_t *rgb;
        int w, h, ok;
        FILE *f;
        if (qmcu_image_load_rgb(argv[2], &rgb, &w, &h, &err) != QMCU_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        f = fopen(argv[3], "wb");
        ok = f && fprintf(f, "P6\n%d %d\n255\n", w, h) > 0 &&
             fwrite(rgb, 3, (size_t)w * (size_t)h, f) == (size_t)w * (size_t)h;
        if (f) ok = fclose(f) == 0 && ok;
        free(rgb);
        return ok ? 0 : 1;
    }

    data = test_data_dir();
    snprintf(path, sizeof path, "%s/models/mlperf_vww_96_int8.tflite", data);
    orig = read_all(path, &len);
    CHECK(orig != NULL, "cannot read %s", path);
    if (!orig) return test_summary("test_import");
    buf = (unsigned char *)malloc(len);

    CHECK(try_model(orig, len, "original") == 1, "the unmodified model loads");
    /* truncations */
    for (k = 0; k < 300; k++) {
        size_t cut = k < 16 ? (size_t)k : (k < 32 ? len - (size_t)(k - 15) : rnd() % len);
        memcpy(buf, orig, cut);
        CHECK(try_model(buf, cut, "truncated") == 0, "a model truncated to %zu of %zu bytes must be rejected", cut,
              len);
    }
    /* bit flips in the first 40 kB (structure and tables live there) and anywhere */
    for (k = 0; k < 1500; k++) {
        int flips = 1 + (int)(rnd() % 4), f;
        memcpy(buf, orig, len);
        for (f = 0; f < flips; f++) {
            size_t at = (k & 1) ? rnd() % len : rnd() % (len < 40000 ? len : 40000);
            buf[at] ^= (unsigned char)(1u << (rnd() % 8));
        }
        loaded += try_model(buf, len, "bit-flipped");
    }
    printf("bit-flipped models: %d of 1500 still loaded (and ran), the rest were rejected cleanly\n", loaded);
    /* random files, with and without the TFL3 identifier */
    for (k = 0; k < 300; k++) {
        size_t n = 1 + rnd() % 4096;
        for (i = 0; i < n; i++) buf[i] = (unsigned char)rnd();
        if ((k & 1) && n >= 8) memcpy(buf + 4, "TFL3", 4);
        CHECK(try_model(buf, n, "random") == 0, "random bytes must be rejected");
    }
    /* unsupported operator */
    memcpy(buf, orig, len);
    CHECK(make_unsupported(buf, len), "patch opcode");
    CHECK(qmcu_graph_parse(buf, len, "patched.tflite", &err) == NULL &&
              strstr(err.msg, "unsupported operator LSTM (builtin code 16)") != NULL,
          "unsupported op message: %s", err.msg);
    /* missing file */
    CHECK(qmcu_graph_load("/nonexistent/model.tflite", &err) == NULL &&
              strstr(err.msg, "/nonexistent/model.tflite") != NULL,
          "missing file message: %s", err.msg);
    free(buf);
    free(orig);
    return test_summary("test_import");
}
