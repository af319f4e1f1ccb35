/* The emulated microcontroller: generate the module, build the firmware with arm-none-eabi-gcc
 * from the qmcu_runtime sources (the list comes from the build system, QMCU_RUNTIME_SOURCES) and
 * src/firmware, cache it by content, run it under QEMU with input/output through semihosting
 * files, and read back output bytes and emulated instruction counts. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "quantmcu/quantmcu.h"

#ifndef QUANTMCU_SOURCE_DIR
#define QUANTMCU_SOURCE_DIR "."
#endif
#ifndef QMCU_RUNTIME_SOURCES /* set by CMake from the qmcu_runtime target's sources */
#define QMCU_RUNTIME_SOURCES ""
#endif
#define QMCU_FIRMWARE_SOURCES "src/firmware/startup.c,src/firmware/semihost.c,src/firmware/main.c"

struct quantmcu_firmware {
    char dir[1024], elf[1024], target[32], model_path[512];
    int n_ops;
    size_t in_bytes, out_bytes;
    size_t flash_bytes, arena_bytes;
};

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

/* FNV-1a over a file's bytes (h unchanged if unreadable). */
static uint64_t hash_file(const char *path, uint64_t h)
{
    FILE *f = fopen(path, "rb");
    int c;
    if (!f) return h;
    while ((c = fgetc(f)) != EOF) h = (h ^ (uint64_t)(unsigned char)c) * 0x100000001b3ull;
    fclose(f);
    return h;
}

static uint64_t hash_str(const char *s, uint64_t h)
{
    for (; *s; s++) h = (h ^ (uint64_t)(unsigned char)*s) * 0x100000001b3ull;
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

/* Calls fn(relative source path, ctx) for every firmware source: runtime, then firmware. */
static void for_each_source(void (*fn)(const char *, void *), void *ctx)
{
    const char *lists[2] = {QMCU_RUNTIME_SOURCES, QMCU_FIRMWARE_SOURCES};
    char item[256];
    int l;
    for (l = 0; l < 2; l++) {
        const char *s = lists[l];
        while (*s) {
            const size_t len = strcspn(s, ",");
            if (len > 0 && len < sizeof item) {
                memcpy(item, s, len);
                item[len] = 0;
                fn(item, ctx);
            }
            s += len + (s[len] == ',');
        }
    }
}

static void hash_source(const char *rel, void *ctx)
{
    char path[1024];
    fmt(path, sizeof path, "%s/%s", QUANTMCU_SOURCE_DIR, rel);
    *(uint64_t *)ctx = hash_file(path, *(uint64_t *)ctx);
}

typedef struct {
    char *cmd;
    size_t len, cap;
} cmd_buf;

static void add_source(const char *rel, void *ctx)
{
    cmd_buf *b = (cmd_buf *)ctx;
    if (b->len < b->cap)
        b->len += (size_t)snprintf(b->cmd + b->len, b->cap - b->len, " '%s/%s'", QUANTMCU_SOURCE_DIR, rel);
}

/* Section sizes of the ELF (arm-none-eabi-size -A): flash = everything loaded from flash. */
static int elf_sizes(quantmcu_firmware *fw)
{
    char cmd[2048], log[1100], line[512];
    FILE *f;
    fmt(cmd, sizeof cmd, "arm-none-eabi-size -A '%s'", fw->elf);
    fmt(log, sizeof log, "%s/size.txt", fw->dir);
    if (run_cmd(cmd, log) != 0 || !(f = fopen(log, "r"))) return 0;
    fw->flash_bytes = fw->arena_bytes = 0;
    while (fgets(line, sizeof line, f)) {
        char name[128];
        unsigned long size, addr;
        if (sscanf(line, "%127s %lu %lu", name, &size, &addr) != 3) continue;
        if (!strcmp(name, ".text") || !strcmp(name, ".ARM.exidx") || !strcmp(name, ".data")) fw->flash_bytes += size;
        if (!strcmp(name, ".arena")) fw->arena_bytes = size;
    }
    fclose(f);
    return 1;
}

/* The first line of a build log that says what went wrong. */
static void first_error(const char *log, char *line, size_t cap)
{
    FILE *lf = fopen(log, "r");
    line[0] = 0;
    if (lf) {
        while (fgets(line, (int)cap, lf))
            if (strstr(line, "overflowed") || strstr(line, "error")) break;
        fclose(lf);
    }
    line[strcspn(line, "\n")] = 0;
}

static qmcu_status compile(const quantmcu_mcu_options *o, quantmcu_firmware *fw, qmcu_error *err)
{
    static char cmd[32768];
    char log[1100], line[512];
    cmd_buf b;
    FILE *f;
    b.cmd = cmd;
    b.cap = sizeof cmd;
    b.len = (size_t)snprintf(
        cmd, sizeof cmd,
        "arm-none-eabi-gcc %s%s -std=c99 -O2 -ffunction-sections -fdata-sections -Wall -Wextra -Werror "
        "-I'%s/include' -I'%s/src' -I'%s/src/firmware' -I'%s' -nostartfiles -T '%s/board.ld' "
        "-Wl,--gc-sections -Wl,-Map='%s/fw.map' --specs=nano.specs --specs=nosys.specs -o '%s' "
        "'%s/qmcu_model_data.c'",
        cpu_flags(o->target), o->profile ? " -DQMCU_PROFILE" : "", QUANTMCU_SOURCE_DIR, QUANTMCU_SOURCE_DIR,
        QUANTMCU_SOURCE_DIR, fw->dir, fw->dir, fw->dir, fw->elf, fw->dir);
    for_each_source(add_source, &b);
    if (b.len + 8 >= b.cap) {
        qmcu_error_set(err, "%s: firmware build command too long", fw->dir);
        return QMCU_ERR_ARG;
    }
    strcat(cmd, " -lm");
    fmt(log, sizeof log, "%s/build.log", fw->dir);
    if (run_cmd(cmd, log) != 0) {
        first_error(log, line, sizeof line);
        qmcu_error_set(err, "%s: firmware build failed for board %s (%s; full log: %s)", fw->model_path, o->board,
                       line[0] ? line : "see log", log);
        return QMCU_ERR_IO;
    }
    fmt(line, sizeof line, "%s/built", fw->dir);
    if ((f = fopen(line, "w")) != NULL) fclose(f);
    return QMCU_OK;
}

qmcu_status quantmcu_mcu_build(const quantmcu_model *m, const quantmcu_plan *p, const quantmcu_mcu_options *o,
                               quantmcu_firmware **out, qmcu_error *err)
{
    const char *cache = o->cache_dir ? o->cache_dir : getenv("QUANTMCU_CACHE");
    char tmpdir[1024], gen[1100], path[1200], cmd[4096];
    uint64_t key = 0xcbf29ce484222325ull;
    quantmcu_firmware *fw;
    qmcu_status st;
    *out = NULL;
    if (strcmp(o->target, "cortex-m4") && strcmp(o->target, "cortex-m7")) {
        qmcu_error_set(err, "%s: unknown MCU target (cortex-m4, cortex-m7)", o->target);
        return QMCU_ERR_ARG;
    }
    if (!(fw = (quantmcu_firmware *)calloc(1, sizeof *fw))) {
        qmcu_error_set(err, "out of memory");
        return QMCU_ERR_NOMEM;
    }
    fmt(fw->target, sizeof fw->target, "%s", o->target);
    fmt(fw->model_path, sizeof fw->model_path, "%s", quantmcu_graph(m)->path);
    fw->n_ops = quantmcu_graph(m)->n_ops;
    fw->in_bytes = quantmcu_input_bytes(m);
    fw->out_bytes = quantmcu_outputs_bytes(m); /* every output, one after the other */
    fmt(tmpdir, sizeof tmpdir, "%s/quantmcu-cache", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!cache || !*cache) cache = tmpdir;
    /* generate into a staging folder, then key the build by content */
    fmt(gen, sizeof gen, "%s/gen-%ld", cache, (long)getpid());
    if (!mkdirs(gen)) {
        qmcu_error_set(err, "%s: cannot create the build cache folder (set QUANTMCU_CACHE)", gen);
        free(fw);
        return QMCU_ERR_IO;
    }
    if ((st = quantmcu_codegen(m, p, gen, o->board, err)) != QMCU_OK) {
        free(fw);
        return st;
    }
    fmt(path, sizeof path, "%s/qmcu_model_data.c", gen);
    key = hash_file(path, key);
    fmt(path, sizeof path, "%s/board.ld", gen);
    key = hash_file(path, key);
    for_each_source(hash_source, &key);
    key = hash_str(o->target, key);
    key = (key ^ (uint64_t)o->profile) * 0x100000001b3ull;
    fmt(fw->dir, sizeof fw->dir, "%s/%016llx", cache, (unsigned long long)key);
    fmt(fw->elf, sizeof fw->elf, "%s/fw.elf", fw->dir);
    fmt(path, sizeof path, "%s/built", fw->dir);
    if (access(path, F_OK) == 0) { /* cached */
        fmt(cmd, sizeof cmd, "rm -rf '%s'", gen);
        (void)!system(cmd);
    } else {
        fmt(cmd, sizeof cmd, "rm -rf '%s' && mv '%s' '%s'", fw->dir, gen, fw->dir);
        if (system(cmd) != 0) {
            qmcu_error_set(err, "%s: cannot prepare the build folder", fw->dir);
            free(fw);
            return QMCU_ERR_IO;
        }
        if ((st = compile(o, fw, err)) != QMCU_OK) {
            free(fw);
            return st;
        }
    }
    if (!elf_sizes(fw)) {
        qmcu_error_set(err, "%s: cannot read section sizes (arm-none-eabi-size)", fw->elf);
        free(fw);
        return QMCU_ERR_IO;
    }
    *out = fw;
    return QMCU_OK;
}

void quantmcu_mcu_sizes(const quantmcu_firmware *fw, size_t *flash_bytes, size_t *arena_bytes)
{
    *flash_bytes = fw->flash_bytes;
    *arena_bytes = fw->arena_bytes;
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        if (f) fclose(f);
        return 0;
    }
    return fclose(f) == 0;
}

/* "instructions N" and, with profiling, "op I N" lines of the firmware's semihosting output. */
static void read_counts(const char *log, const quantmcu_firmware *fw, unsigned long long *insns,
                        unsigned long long *op_insns)
{
    char line[512];
    FILE *f = fopen(log, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        int op;
        unsigned long long v;
        if (sscanf(line, "op %d %llu", &op, &v) == 2 && op_insns && op >= 0 && op < fw->n_ops)
            op_insns[op] = v;
        else
            (void)sscanf(line, "instructions %llu", insns);
    }
    fclose(f);
}

qmcu_status quantmcu_mcu_run(const quantmcu_firmware *fw, const void *input, void *output, unsigned long long *insns,
                             unsigned long long *op_insns, qmcu_error *err)
{
    char run_dir[1100], path[1200], cmd[4096], log[1200], line[512];
    struct stat sb;
    FILE *f;
    int rc;
    *insns = 0;
    fmt(run_dir, sizeof run_dir, "%s/run-%ld", fw->dir, (long)getpid());
    fmt(path, sizeof path, "%s/input.bin", run_dir);
    if (!mkdirs(run_dir) || !write_file(path, input, fw->in_bytes)) {
        qmcu_error_set(err, "%s: cannot write the firmware's input", run_dir);
        return QMCU_ERR_IO;
    }
    fmt(path, sizeof path, "%s/output.bin", run_dir);
    remove(path);
    fmt(cmd, sizeof cmd,
        "cd '%s' && timeout 600 qemu-system-arm -M %s -display none -monitor none -serial none "
        "-semihosting-config enable=on,target=native -icount shift=0 -kernel '%s'",
        run_dir, strcmp(fw->target, "cortex-m7") ? "mps2-an386" : "mps2-an500", fw->elf);
    fmt(log, sizeof log, "%s/qemu.log", run_dir);
    rc = run_cmd(cmd, log);
    read_counts(log, fw, insns, op_insns);
    if (rc != 0 || !*insns) {
        line[0] = 0;
        if ((f = fopen(log, "r")) != NULL) {
            if (!fgets(line, sizeof line, f)) line[0] = 0;
            fclose(f);
        }
        line[strcspn(line, "\n")] = 0;
        qmcu_error_set(err, "%s: firmware run under QEMU failed (status %d%s%s)", fw->model_path, rc,
                       line[0] ? ": " : "", line);
        return QMCU_ERR_IO;
    }
    f = fopen(path, "rb");
    if (!f || stat(path, &sb) != 0 || (size_t)sb.st_size != fw->out_bytes ||
        fread(output, 1, fw->out_bytes, f) != fw->out_bytes) {
        if (f) fclose(f);
        qmcu_error_set(err, "%s: firmware wrote no complete output.bin", fw->model_path);
        return QMCU_ERR_IO;
    }
    fclose(f);
    fmt(cmd, sizeof cmd, "rm -rf '%s'", run_dir);
    (void)!system(cmd);
    return QMCU_OK;
}

void quantmcu_mcu_free(quantmcu_firmware *fw) { free(fw); }
