/* quantmcu codegen MODEL --plan PLAN -o DIR [--target host|cortex-m4|cortex-m7] [--board f746|h743|big]
 * quantmcu mcu MODEL --plan PLAN [--mode layer|patch|quantmcu] [--target cortex-m4|cortex-m7]
 *              [--board f746|h743|big] IMAGE... [--json] [--dump-output FILE] [--profile]
 * mcu generates the module, builds the firmware with arm-none-eabi-gcc (cached by content),
 * runs each image under QEMU (mps2-an386 for M4, mps2-an500 for M7; input/output through
 * semihosting files) and reports predictions, emulated instructions, arena and flash bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>

#include "../codegen/codegen.h"
#include "../image/image.h"
#include "../planning/plan_file.h"
#include "cli.h"

#ifndef QUANTMCU_SOURCE_DIR
#define QUANTMCU_SOURCE_DIR "."
#endif

/* The firmware's sources: the same kernel and runtime files the host runs. */
static const char *const k_fw_sources[] = {
    "kernels/fixedpoint.c",      "kernels/gemm_s8.c",     "kernels/conv_s8.c",     "kernels/depthwise_conv_s8.c",
    "kernels/pool_s8.c",         "kernels/eltwise_s8.c",  "kernels/activation_s8.c", "kernels/mean_s8.c",
    "kernels/data_movement.c",   "kernels/lowbit.c",      "kernels/float_kernels.c", "runtime/executor.c",
    "runtime/lowbit_exec.c",     "planning/plan_geometry.c", "graph/graph.c",      "firmware/startup.c",
    "firmware/semihost.c",       "firmware/main.c"};

/* snprintf for paths and commands: a truncated one is never used (empty string instead). */
static void fmt(char *dst, size_t cap, const char *f, ...)
{
    va_list ap;
    int n;
    va_start(ap, f);
    n = vsnprintf(dst, cap, f, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) dst[0] = 0;
}

static const char *cpu_flags(const char *target)
{
    if (!strcmp(target, "cortex-m7")) return "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16";
    return "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16";
}

static int mkdirs(const char *path)
{
    char tmp[1024];
    size_t i;
    fmt(tmp, sizeof tmp, "%s", path);
    for (i = 1; tmp[i]; i++)
        if (tmp[i] == '/') {
            tmp[i] = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return 0;
            tmp[i] = '/';
        }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST;
}

/* FNV-1a over a file's bytes (0 if unreadable). */
static uint64_t hash_file(const char *path, uint64_t h)
{
    FILE *f = fopen(path, "rb");
    int c;
    if (!f) return h;
    while ((c = fgetc(f)) != EOF) h = (h ^ (uint64_t)(unsigned char)c) * 0x100000001b3ull;
    fclose(f);
    return h;
}

static int run_cmd(const char *cmd, const char *log)
{
    char full[16384];
    int rc;
    fmt(full, sizeof full, "%s > '%s' 2>&1", cmd, log);
    rc = system(full);
    return rc == -1 ? -1 : (WIFEXITED(rc) ? WEXITSTATUS(rc) : 128);
}

static int file_size(const char *path, size_t *n)
{
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    *n = (size_t)st.st_size;
    return 1;
}

/* Section sizes of the ELF (arm-none-eabi-size -A): flash = everything loaded from flash. */
static int elf_sizes(const char *elf, const char *dir, size_t *flash, size_t *arena)
{
    char cmd[2048], log[1024], line[512];
    FILE *f;
    fmt(cmd, sizeof cmd, "arm-none-eabi-size -A '%s'", elf);
    fmt(log, sizeof log, "%s/size.txt", dir);
    if (run_cmd(cmd, log) != 0 || !(f = fopen(log, "r"))) return 0;
    *flash = *arena = 0;
    while (fgets(line, sizeof line, f)) {
        char name[128];
        unsigned long size, addr;
        if (sscanf(line, "%127s %lu %lu", name, &size, &addr) != 3) continue;
        if (!strcmp(name, ".text") || !strcmp(name, ".ARM.exidx") || !strcmp(name, ".data")) *flash += size;
        if (!strcmp(name, ".arena")) *arena = size;
    }
    fclose(f);
    return 1;
}

typedef struct {
    const char *model_path, *target, *board_name, *out_dir, *dump_out;
    int json, profile;
} mcu_opts;

/* Generates + builds (cached); fills the firmware path. */
static int build_firmware(cli_model *cm, const mcu_opts *o, const qmcu_board *board, char *elf, size_t elf_cap, char *dir,
                          size_t dir_cap)
{
    const char *cache = getenv("QUANTMCU_CACHE");
    char gen[1024], path[1024], cmd[16384], log[1024], stamp_path[1024];
    qmcu_error err;
    uint64_t key = 0xcbf29ce484222325ull;
    size_t i, len;
    FILE *f;
    char tmpdir[1024];
    fmt(tmpdir, sizeof tmpdir, "%s/quantmcu-cache", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!cache || !*cache) cache = tmpdir;
    /* generate into a staging folder, then key the build by content */
    fmt(gen, sizeof gen, "%s/gen-%ld", cache, (long)getpid());
    if (!mkdirs(gen)) { cli_fail("%s: cannot create the build cache folder (set QUANTMCU_CACHE)", gen); return 0; }
    if (qmcu_codegen(cm->m, cm->plan, gen, board, &err) != QMCU_OK) { cli_fail("%s", err.msg); return 0; }
    key = hash_file(strcat(strcpy(path, gen), "/qmcu_model_data.c"), key);
    key = hash_file(strcat(strcpy(path, gen), "/board.ld"), key);
    for (i = 0; i < sizeof k_fw_sources / sizeof k_fw_sources[0]; i++) {
        fmt(path, sizeof path, "%s/src/%s", QUANTMCU_SOURCE_DIR, k_fw_sources[i]);
        key = hash_file(path, key);
    }
    for (i = 0; o->target[i]; i++) key = (key ^ (uint64_t)(unsigned char)o->target[i]) * 0x100000001b3ull;
    key = (key ^ (uint64_t)o->profile) * 0x100000001b3ull;
    fmt(dir, dir_cap, "%s/%016llx", cache, (unsigned long long)key);
    fmt(elf, elf_cap, "%s/fw.elf", dir);
    fmt(stamp_path, sizeof stamp_path, "%s/built", dir);
    if (access(stamp_path, F_OK) == 0) { /* cached */
        fmt(cmd, sizeof cmd, "rm -rf '%s'", gen);
        (void)system(cmd);
        return 1;
    }
    fmt(cmd, sizeof cmd, "rm -rf '%s' && mv '%s' '%s'", dir, gen, dir);
    if (system(cmd) != 0) { cli_fail("%s: cannot prepare the build folder", dir); return 0; }
    len = (size_t)snprintf(cmd, sizeof cmd,
                           "arm-none-eabi-gcc %s%s -std=c99 -O2 -ffunction-sections -fdata-sections -Wall -Wextra -Werror "
                           "-I'%s/src' -I'%s/src/firmware' -I'%s' -nostartfiles -T '%s/board.ld' -Wl,--gc-sections "
                           "-Wl,-Map='%s/fw.map' --specs=nano.specs --specs=nosys.specs -o '%s' '%s/qmcu_model_data.c'",
                           cpu_flags(o->target), o->profile ? " -DQMCU_PROFILE" : "", QUANTMCU_SOURCE_DIR, QUANTMCU_SOURCE_DIR,
                           dir, dir, dir, elf, dir);
    for (i = 0; i < sizeof k_fw_sources / sizeof k_fw_sources[0] && len < sizeof cmd; i++)
        len += (size_t)snprintf(cmd + len, sizeof cmd - len, " '%s/src/%s'", QUANTMCU_SOURCE_DIR, k_fw_sources[i]);
    if (len < sizeof cmd) snprintf(cmd + len, sizeof cmd - len, " -lm");
    fmt(log, sizeof log, "%s/build.log", dir);
    if (run_cmd(cmd, log) != 0) {
        char line[512] = "";
        FILE *lf = fopen(log, "r");
        if (lf) {
            while (fgets(line, sizeof line, lf))
                if (strstr(line, "overflowed") || strstr(line, "error")) break;
            fclose(lf);
        }
        line[strcspn(line, "\n")] = 0;
        cli_fail("%s: firmware build failed for board %s (%s; full log: %s)", o->model_path, board->name,
                 line[0] ? line : "see log", log);
        return 0;
    }
    if ((f = fopen(stamp_path, "w")) != NULL) fclose(f);
    return 1;
}

/* Runs one input under QEMU; returns emulated instructions (0 on failure, message printed). */
static unsigned long long run_qemu(const mcu_opts *o, const char *elf, const char *dir, const void *input, size_t in_bytes,
                                   void *output, size_t out_bytes, unsigned long long *op_insns, int n_ops)
{
    char run_dir[1024], path[1024], cmd[4096], log[1024], line[512];
    unsigned long long insns = 0;
    size_t n;
    FILE *f;
    int rc;
    fmt(run_dir, sizeof run_dir, "%s/run-%ld", dir, (long)getpid());
    if (!mkdirs(run_dir)) return cli_fail("%s: cannot create run folder", run_dir), 0;
    fmt(path, sizeof path, "%s/input.bin", run_dir);
    if (!cli_write_file(path, input, in_bytes)) return cli_fail("%s: cannot write", path), 0;
    fmt(path, sizeof path, "%s/output.bin", run_dir);
    remove(path);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && timeout 600 qemu-system-arm -M %s -display none -monitor none -serial none "
             "-semihosting-config enable=on,target=native -icount shift=0 -kernel '%s'",
             run_dir, strcmp(o->target, "cortex-m7") ? "mps2-an386" : "mps2-an500", elf);
    fmt(log, sizeof log, "%s/qemu.log", run_dir);
    rc = run_cmd(cmd, log);
    if ((f = fopen(log, "r")) != NULL) {
        while (fgets(line, sizeof line, f)) {
            int op;
            unsigned long long v;
            if (sscanf(line, "op %d %llu", &op, &v) == 2 && op_insns && op >= 0 && op < n_ops)
                op_insns[op] = v;
            else
                (void)sscanf(line, "instructions %llu", &insns);
        }
        fclose(f);
    }
    if (rc != 0 || !insns) {
        line[0] = 0;
        if ((f = fopen(log, "r")) != NULL) {
            if (!fgets(line, sizeof line, f)) line[0] = 0;
            fclose(f);
        }
        line[strcspn(line, "\n")] = 0;
        cli_fail("%s: firmware run under QEMU failed (status %d%s%s)", o->model_path, rc, line[0] ? ": " : "", line);
        return 0;
    }
    fmt(path, sizeof path, "%s/output.bin", run_dir);
    f = fopen(path, "rb");
    if (!f || !file_size(path, &n) || n != out_bytes || fread(output, 1, out_bytes, f) != out_bytes) {
        if (f) fclose(f);
        cli_fail("%s: firmware wrote no complete output.bin", o->model_path);
        return 0;
    }
    fclose(f);
    fmt(cmd, sizeof cmd, "rm -rf '%s'", run_dir);
    (void)system(cmd);
    return insns;
}

/* Per-op table of a --profile run (first image): executed MACs (tiles and halo included). */
static void print_profile(const cli_model *cm, const unsigned long long *op_insns)
{
    const qmcu_graph *g = cm->g;
    const qmcu_plan *p = cm->plan;
    unsigned long long total = 0;
    int i, t;
    printf("per-op cost, first image (profiling adds ~60 instructions per op execution):\n%3s  %-18s %-6s %12s %14s %9s\n", "#", "op", "stage",
           "MACs", "instructions", "instr/MAC");
    for (i = 0; i < g->n_ops; i++) {
        const qmcu_tensor *y = &g->tensors[g->ops[i].out];
        int64_t macs = qmcu_op_macs(g, &g->ops[i]);
        if (i < p->spec.split && y->ndim == 4) {
            const int64_t per_pixel = macs / ((int64_t)y->dims[1] * y->dims[2]);
            macs = 0;
            for (t = 0; t < p->n_tiles; t++) {
                const qmcu_window r = p->region[(size_t)t * g->n_tensors + g->ops[i].out];
                if (!qmcu_window_empty(r)) macs += per_pixel * (r.h1 - r.h0) * (r.w1 - r.w0);
            }
        }
        char ratio[32] = "";
        total += op_insns[i];
        if (macs > 0) fmt(ratio, sizeof ratio, "%.2f", (double)op_insns[i] / (double)macs);
        printf("%3d  %-18s %-6s %12lld %14llu %9s\n", i, qmcu_op_name(g->ops[i].type), i < p->spec.split ? "patch" : "layer",
               (long long)macs, op_insns[i], ratio);
    }
    printf("sum over ops: %llu instructions", total);
    if (p->spec.split > 0) {
        unsigned long long patch = 0;
        for (i = 0; i < p->spec.split; i++) patch += op_insns[i];
        printf("; patch stage (ops 0..%d): %llu", p->spec.split - 1, patch);
    }
    printf("\n");
}

static int parse_common(const char *cmd, int argc, char **argv, int *i, mcu_opts *o)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--target")) {
        o->target = cli_value(argc, argv, i);
        if (!o->target || (strcmp(o->target, "cortex-m4") && strcmp(o->target, "cortex-m7") && strcmp(o->target, "host") != 0))
            return cli_fail("%s: --target needs host, cortex-m4 or cortex-m7", cmd), -1;
        return 1;
    }
    if (!strcmp(a, "--board")) {
        o->board_name = cli_value(argc, argv, i);
        if (!qmcu_board_find(o->board_name)) return cli_fail("%s: --board needs f746, h743 or big", cmd), -1;
        return 1;
    }
    return 0;
}

static void mcu_opts_init(mcu_opts *o, cli_plan_opts *po)
{
    memset(o, 0, sizeof *o);
    o->target = "cortex-m4";
    o->board_name = "f746";
    cli_plan_opts_init(po);
}

int cmd_codegen(int argc, char **argv)
{
    mcu_opts o;
    cli_plan_opts po;
    cli_model cm = {NULL, NULL, NULL};
    const qmcu_board *board;
    qmcu_error err;
    int i, rc = 1;
    mcu_opts_init(&o, &po);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        int t = parse_common("codegen", argc, argv, &i, &o);
        if (t < 0) return 1;
        if (t) continue;
        if (!strcmp(a, "--plan")) {
            if (!(po.plan_path = cli_value(argc, argv, &i))) { cli_fail("codegen: --plan needs a plan file"); return 1; }
        } else if (!strcmp(a, "-o")) {
            if (!(o.out_dir = cli_value(argc, argv, &i))) { cli_fail("codegen: -o needs a folder"); return 1; }
        } else if (a[0] == '-' && a[1]) {
            { cli_fail("codegen: unknown option '%s'", a); return 1; }
        } else if (!o.model_path) {
            o.model_path = a;
        } else {
            { cli_fail("codegen: unexpected argument '%s'", a); return 1; }
        }
    }
    if (!o.model_path || !po.plan_path || !o.out_dir)
        { cli_fail("codegen: usage: quantmcu codegen MODEL --plan PLAN -o DIR [--target host|cortex-m4|cortex-m7] [--board f746|h743|big]"); return 1; }
    if (!cli_load_model(o.model_path, &cm)) return 1;
    po.mode = "plan";
    if (!cli_make_plan("codegen", &cm, &po)) goto done;
    board = strcmp(o.target, "host") ? qmcu_board_find(o.board_name) : NULL;
    if (!mkdirs(o.out_dir)) {
        cli_fail("%s: cannot create folder", o.out_dir);
        goto done;
    }
    if (qmcu_codegen(cm.m, cm.plan, o.out_dir, board, &err) != QMCU_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    printf("wrote %s/qmcu_model.h, %s/qmcu_model_data.c%s (mode %s, arena %zu bytes, weights %zu bytes)\n", o.out_dir, o.out_dir,
           board ? " and board.ld" : "", cm.plan->lowbit ? "quantmcu" : (cm.plan->spec.split ? "patch" : "layer"),
           cm.plan->arena_bytes, qmcu_codegen_weight_bytes(cm.g));
    rc = 0;
done:
    cli_free_model(&cm);
    return rc;
}

int cmd_mcu(int argc, char **argv)
{
    mcu_opts o;
    cli_plan_opts po;
    cli_model cm = {NULL, NULL, NULL};
    const qmcu_board *board;
    const char **images = (const char **)calloc((size_t)argc + 1, sizeof(char *));
    char elf[1024], dir[1024];
    unsigned long long *insns = NULL, *op_insns = NULL, *patch_insns = NULL;
    int *pred = NULL, n_images = 0, i, rc = 1, n_out;
    size_t flash = 0, arena = 0, in_bytes, out_bytes;
    void *input = NULL, *output = NULL;
    float *scores = NULL;
    if (!images) { cli_fail("out of memory"); return 1; }
    mcu_opts_init(&o, &po);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        int t = parse_common("mcu", argc, argv, &i, &o);
        if (t < 0) goto done;
        if (t) continue;
        t = cli_plan_option("mcu", argc, argv, &i, &po);
        if (t < 0) goto done;
        if (t) continue;
        if (!strcmp(a, "--json")) {
            o.json = 1;
        } else if (!strcmp(a, "--profile")) {
            o.profile = 1;
        } else if (!strcmp(a, "--dump-output")) {
            if (!(o.dump_out = cli_value(argc, argv, &i))) {
                cli_fail("mcu: --dump-output needs a file");
                goto done;
            }
        } else if (a[0] == '-' && a[1]) {
            cli_fail("mcu: unknown option '%s'", a);
            goto done;
        } else if (!o.model_path) {
            o.model_path = a;
        } else {
            images[n_images++] = a;
        }
    }
    if (!o.model_path || !n_images) {
        cli_fail("mcu: usage: quantmcu mcu MODEL [--plan PLAN] [--mode layer|patch|quantmcu] [--target cortex-m4|cortex-m7] "
                 "[--board f746|h743|big] IMAGE... [--json] [--dump-output FILE]");
        goto done;
    }
    if (!strcmp(o.target, "host")) {
        cli_fail("mcu: --target host is for codegen; mcu runs cortex-m4 or cortex-m7 under QEMU");
        goto done;
    }
    board = qmcu_board_find(o.board_name);
    if (!cli_load_model(o.model_path, &cm) || !cli_make_plan("mcu", &cm, &po)) goto done;
    if (!build_firmware(&cm, &o, board, elf, sizeof elf, dir, sizeof dir)) goto done;
    if (!elf_sizes(elf, dir, &flash, &arena)) {
        cli_fail("%s: cannot read section sizes (arm-none-eabi-size)", elf);
        goto done;
    }
    in_bytes = cm.g->tensors[cm.g->inputs[0]].bytes;
    out_bytes = cm.g->tensors[cm.g->outputs[0]].bytes;
    n_out = cli_output_count(cm.g);
    input = malloc(in_bytes);
    output = malloc(out_bytes);
    scores = (float *)malloc(sizeof(float) * (size_t)n_out);
    insns = (unsigned long long *)calloc((size_t)n_images, sizeof *insns);
    pred = (int *)calloc((size_t)n_images, sizeof *pred);
    op_insns = (unsigned long long *)calloc((size_t)cm.g->n_ops * 2, sizeof *op_insns); /* first image | current */
    patch_insns = (unsigned long long *)calloc((size_t)n_images, sizeof *patch_insns);
    if (!input || !output || !scores || !insns || !pred || !op_insns || !patch_insns) {
        cli_fail("out of memory");
        goto done;
    }
    for (i = 0; i < n_images; i++) {
        qmcu_error err;
        if (qmcu_image_to_input(cm.g, images[i], input, &err) != QMCU_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
        {
            unsigned long long *ops = op_insns + (i ? cm.g->n_ops : 0);
            int k;
            if (!(insns[i] = run_qemu(&o, elf, dir, input, in_bytes, output, out_bytes, ops, cm.g->n_ops))) goto done;
            for (k = 0; k < cm.plan->spec.split; k++) patch_insns[i] += ops[k]; /* --profile: the patch stage */
        }
        cli_output_scores(cm.g, output, scores, n_out);
        cli_top_k(scores, n_out, 1, &pred[i]);
        if (!o.json)
            printf("%s: class %d (%.5f), %llu emulated instructions\n", images[i], pred[i], scores[pred[i]], insns[i]);
    }
    if (o.json) {
        printf("{\"model\":\"%s\",\"mode\":\"%s\",\"target\":\"%s\",\"board\":\"%s\",\"instructions\":[", o.model_path, po.mode,
               o.target, board->name);
        for (i = 0; i < n_images; i++) printf(i ? ",%llu" : "%llu", insns[i]);
        if (o.profile) {
            printf("],\"patch_stage_instructions\":[");
            for (i = 0; i < n_images; i++) printf(i ? ",%llu" : "%llu", patch_insns[i]);
        }
        printf("],\"arena_bytes\":%zu,\"planned_arena_bytes\":%zu,\"flash_bytes\":%zu,\"predictions\":[", arena, cm.plan->host_bytes, flash);
        for (i = 0; i < n_images; i++) printf(i ? ",%d" : "%d", pred[i]);
        printf("]}\n");
    } else {
        printf("%s on %s (%s, QEMU %s): arena %zu bytes (planner: %zu), flash %zu bytes; instructions are emulated, not cycles\n",
               po.mode, board->name, o.target, strcmp(o.target, "cortex-m7") ? "mps2-an386" : "mps2-an500", arena,
               cm.plan->host_bytes, flash);
    }
    if (o.profile && !o.json) print_profile(&cm, op_insns);
    if (o.dump_out && !cli_write_file(o.dump_out, output, out_bytes)) {
        cli_fail("%s: cannot write output dump", o.dump_out);
        goto done;
    }
    rc = 0;
done:
    free(images);
    free(input);
    free(output);
    free(scores);
    free(insns);
    free(op_insns);
    free(patch_insns);
    free(pred);
    if (cm.g) cli_free_model(&cm);
    return rc;
}
