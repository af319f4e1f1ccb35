#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("quantmcu: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

const char *cli_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) return NULL;
    return argv[++*i];
}

int cli_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;
    if (!s || !*s) return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static int has_image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    char ext[8];
    size_t i;
    if (!dot || strlen(dot + 1) >= sizeof ext) return 0;
    for (i = 0; dot[1 + i]; i++) ext[i] = (char)tolower((unsigned char)dot[1 + i]);
    ext[i] = 0;
    return !strcmp(ext, "jpg") || !strcmp(ext, "jpeg") || !strcmp(ext, "png") || !strcmp(ext, "bmp");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int cli_list_images(const char *dir, char ***paths, int *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **list = NULL;
    int n = 0, cap = 0, i;
    if (!d) return 0;
    while ((e = readdir(d)) != NULL) {
        size_t len;
        if (e->d_name[0] == '.' || !has_image_ext(e->d_name)) continue;
        if (n == cap) {
            char **nl;
            cap = cap ? cap * 2 : 64;
            nl = (char **)realloc(list, sizeof(char *) * (size_t)cap);
            if (!nl) break;
            list = nl;
        }
        len = strlen(e->d_name);
        list[n] = (char *)malloc(len + 1);
        if (!list[n]) break;
        memcpy(list[n], e->d_name, len + 1);
        n++;
    }
    closedir(d);
    if (n > 1) qsort(list, (size_t)n, sizeof(char *), cmp_str);
    for (i = 0; i < n; i++) { /* prefix the folder */
        size_t len = strlen(dir) + strlen(list[i]) + 2;
        char *p = (char *)malloc(len);
        if (!p) continue;
        snprintf(p, len, "%s/%s", dir, list[i]);
        free(list[i]);
        list[i] = p;
    }
    *paths = list;
    *count = n;
    return 1;
}

void cli_free_list(char **paths, int count)
{
    int i;
    for (i = 0; i < count; i++) free(paths[i]);
    free(paths);
}

int cli_load_model(const char *path, cli_model *cm)
{
    qmcu_error err;
    cm->g = qmcu_graph_load(path, &err);
    cm->m = NULL;
    cm->plan = NULL;
    if (!cm->g) {
        cli_fail("%s", err.msg);
        return 0;
    }
    if (qmcu_model_prepare(cm->g, &cm->m, &err) != QMCU_OK) {
        qmcu_graph_free(cm->g);
        cm->g = NULL;
        cli_fail("%s", err.msg);
        return 0;
    }
    return 1;
}

void cli_free_model(cli_model *cm)
{
    qmcu_plan_free(cm->plan);
    qmcu_model_free(cm->m);
    qmcu_graph_free(cm->g);
}

int cli_output_count(const qmcu_graph *g) { return (int)qmcu_tensor_elems(&g->tensors[g->outputs[0]]); }

void cli_output_scores(const qmcu_graph *g, const void *out_bytes, float *scores, int n)
{
    const qmcu_tensor *t = &g->tensors[g->outputs[0]];
    int i;
    for (i = 0; i < n; i++) {
        if (t->type == QMCU_F32)
            scores[i] = ((const float *)out_bytes)[i];
        else if (t->from_uint8)
            scores[i] = t->scale * (float)((int)((const uint8_t *)out_bytes)[i] - (t->zero_point + 128));
        else
            scores[i] = t->scale * (float)((int)((const int8_t *)out_bytes)[i] - t->zero_point);
    }
}

void cli_top_k(const float *scores, int n, int k, int *idx)
{
    int i, j;
    for (j = 0; j < k; j++) idx[j] = -1;
    for (i = 0; i < n; i++) {
        for (j = 0; j < k; j++)
            if (idx[j] < 0 || scores[i] > scores[idx[j]]) break;
        if (j < k) {
            memmove(idx + j + 1, idx + j, sizeof(int) * (size_t)(k - j - 1));
            idx[j] = i;
        }
    }
}
