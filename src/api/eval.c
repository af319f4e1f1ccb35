/* Evaluation over a folder of labelled samples (quantmcu_eval): images, or raw / .npy inputs for any
 * model; threads over samples. */
#include <ctype.h>
#include <math.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/parallel.h"
#include "api_internal.h"

static int has_image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    char ext[8];
    size_t i;
    if (!dot || strlen(dot + 1) >= sizeof ext) return 0;
    for (i = 0; dot[1 + i]; i++) ext[i] = (char)tolower((unsigned char)dot[1 + i]);
    ext[i] = 0;
    return !strcmp(ext, "jpg") || !strcmp(ext, "jpeg") || !strcmp(ext, "png") || !strcmp(ext, "bmp") ||
           !strcmp(ext, "npy") || !strcmp(ext, "bin");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

qmcu_status quantmcu_list_images(const char *dir, char ***paths, int *count, qmcu_error *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **list = NULL;
    int n = 0, cap = 0;
    *paths = NULL;
    *count = 0;
    if (!d) {
        qmcu_error_set(err, "%s: cannot read image folder", dir);
        return QMCU_ERR_IO;
    }
    while ((e = readdir(d)) != NULL) {
        const size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (e->d_name[0] == '.' || !has_image_ext(e->d_name)) continue;
        if (n == cap) {
            char **nl = (char **)realloc(list, sizeof(char *) * (size_t)(cap ? cap * 2 : 64));
            if (!nl) break;
            list = nl;
            cap = cap ? cap * 2 : 64;
        }
        if (!(list[n] = (char *)malloc(len))) break;
        snprintf(list[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (e) { /* stopped early: out of memory */
        quantmcu_free_list(list, n);
        qmcu_error_set(err, "%s: out of memory listing images", dir);
        return QMCU_ERR_NOMEM;
    }
    if (n > 1) qsort(list, (size_t)n, sizeof(char *), cmp_str); /* same folder prefix: name order */
    *paths = list;
    *count = n;
    return QMCU_OK;
}

void quantmcu_free_list(char **paths, int count)
{
    int i;
    for (i = 0; i < count; i++) free(paths[i]);
    free(paths);
}

void quantmcu_eval_options_default(quantmcu_eval_options *o)
{
    memset(o, 0, sizeof *o);
    o->threads = 1;
}

static int label_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (base[0] < '0' || base[0] > '9') return -1;
    return atoi(base);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

typedef struct {
    const quantmcu_model *m;
    const quantmcu_plan *p;
    const quantmcu_eval_options *o;
    char **paths;
    const int *labels;
    int n, thread, label_offset;
    char *top1, *top5;     /* per image: 1 = hit */
    char *agree;           /* per image: top-1 equals the reference plan's */
    char *broken;          /* per image: could not be decoded (non-strict runs) */
    double *kl;            /* per image: KL(reference || this) at the logits */
    double *ms;            /* per image */
    pthread_mutex_t *lock; /* progress */
    int *done;
    qmcu_run_stats stats; /* this worker's */
    qmcu_status st;
    qmcu_error err;
} eval_job;

static void *eval_worker(void *arg)
{
    eval_job *j = (eval_job *)arg;
    const int n_out = quantmcu_output_count(j->m), k = n_out < 5 ? n_out : 5;
    uint8_t *mem = (uint8_t *)calloc(quantmcu_plan_memory_bytes(j->p) + 1, 1);
    void *input = malloc(quantmcu_input_bytes(j->m)), *output = malloc(quantmcu_output_bytes(j->m));
    float *scores = (float *)malloc(sizeof(float) * (size_t)n_out);
    qmcu_run_options opt = {j->o->no_vdpc, &j->stats, NULL, NULL, NULL};
    const quantmcu_plan *ref = j->o->reference;
    const int classes = qmcu_logits_count(quantmcu_graph(j->m));
    uint8_t *ref_mem = ref ? (uint8_t *)calloc(quantmcu_plan_memory_bytes(ref) + 1, 1) : NULL;
    void *ref_out = ref ? malloc(quantmcu_output_bytes(j->m)) : NULL;
    double *p1 = (double *)malloc(sizeof(double) * (size_t)classes),
           *p2 = (double *)malloc(sizeof(double) * (size_t)classes);
    int i, idx[5], r;
    j->st = mem && input && output && scores && p1 && p2 && (!ref || (ref_mem && ref_out)) ? QMCU_OK : QMCU_ERR_NOMEM;
    if (j->st != QMCU_OK) qmcu_error_set(&j->err, "eval: out of memory");
    for (i = j->thread; j->st == QMCU_OK && i < j->n; i += j->o->threads) {
        const int label = j->labels[i] + j->label_offset;
        int ref_top = -1;
        double t0;
        if ((j->st = quantmcu_sample_to_input(j->m, j->paths[i], input, &j->err)) != QMCU_OK) {
            if (j->o->strict) break;
            j->broken[i] = 1; /* named through the callback, counted, left out of the figures */
            pthread_mutex_lock(j->lock);
            if (j->o->on_error) j->o->on_error(j->err.msg, j->o->progress_ctx);
            if (j->o->progress) j->o->progress(++*j->done, j->n, j->o->progress_ctx);
            pthread_mutex_unlock(j->lock);
            j->st = QMCU_OK;
            continue;
        }
        t0 = now_ms();
        if ((j->st = quantmcu_run(j->m, j->p, mem, input, output, &opt, &j->err)) != QMCU_OK) break;
        j->ms[i] = now_ms() - t0;
        if (ref) { /* the reference on the same input: agreement of the top-1 and KL at the logits */
            if ((j->st = quantmcu_run(j->m, ref, ref_mem, input, ref_out, NULL, &j->err)) != QMCU_OK) break;
            qmcu_logit_probabilities(quantmcu_graph(j->m), quantmcu_plan_exec(ref), ref_mem, p1);
            qmcu_logit_probabilities(quantmcu_graph(j->m), quantmcu_plan_exec(j->p), mem, p2);
            j->kl[i] = qmcu_kl_accumulate(j->kl[i], p1, p2, classes);
            quantmcu_scores(j->m, ref_out, scores);
            quantmcu_top_k(scores, n_out, 1, &ref_top);
        }
        quantmcu_scores(j->m, output, scores);
        quantmcu_top_k(scores, n_out, k, idx);
        if (ref) j->agree[i] = ref_top == idx[0];
        j->top1[i] = idx[0] == label;
        for (r = 0; r < k; r++)
            if (idx[r] == label) j->top5[i] = 1;
        if (j->o->progress) {
            pthread_mutex_lock(j->lock);
            j->o->progress(++*j->done, j->n, j->o->progress_ctx);
            pthread_mutex_unlock(j->lock);
        }
    }
    free(mem);
    free(input);
    free(output);
    free(scores);
    free(ref_mem);
    free(ref_out);
    free(p1);
    free(p2);
    return NULL;
}

/* ---- labels: file-name prefix, class sub-folders, or a ground-truth file -------------- */

/* The class list (one WordNet id per line, line k = class k). */
typedef struct {
    char (*wnid)[16];
    int n;
} class_list;

static qmcu_status read_classes(const char *path, class_list *cl, qmcu_error *err)
{
    FILE *f;
    char line[256];
    int cap = 0;
    cl->wnid = NULL;
    cl->n = 0;
    if (!path) {
        qmcu_error_set(err, "class folders named by WordNet id need the class list (--classes FILE)");
        return QMCU_ERR_ARG;
    }
    if (!(f = fopen(path, "r"))) {
        qmcu_error_set(err, "%s: cannot open class list", path);
        return QMCU_ERR_IO;
    }
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n \t")] = 0;
        if (cl->n == cap) {
            char(*nw)[16] = (char(*)[16])realloc(cl->wnid, sizeof *cl->wnid * (size_t)(cap = cap ? 2 * cap : 1024));
            if (!nw) break;
            cl->wnid = nw;
        }
        line[15] = 0; /* WordNet ids are 9 characters */
        memcpy(cl->wnid[cl->n++], line, 16);
    }
    fclose(f);
    return QMCU_OK;
}

/* Class index of a name: digits are an index, else a WordNet id looked up in the class list
 * (loaded on first need). -1: unknown, with the reason in err. */
static int class_of(const char *name, const char *classes_path, class_list *cl, qmcu_error *err)
{
    int k;
    char *end;
    const long v = strtol(name, &end, 10);
    if (end != name && *end == 0) return v >= 0 && v < 100000 ? (int)v : -1;
    if (!cl->wnid && read_classes(classes_path, cl, err) != QMCU_OK) return -1;
    for (k = 0; k < cl->n; k++)
        if (!strcmp(cl->wnid[k], name)) return k;
    qmcu_error_set(err, "'%s' is neither a class index nor a WordNet id of %s", name, classes_path);
    return -1;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* Class sub-folders (the ImageFolder layout): every image of DIR/<class>/, class = the folder's
 * name as an index or WordNet id. */
static qmcu_status list_class_folders(const char *dir, const char *classes, class_list *cl, char ***paths, int **labels,
                                      int *total, qmcu_error *err)
{
    char **subs = NULL;
    int n_sub = 0, cap = 0, s, k;
    DIR *d = opendir(dir);
    struct dirent *e;
    qmcu_status st = QMCU_OK;
    *total = 0;
    if (!d) {
        qmcu_error_set(err, "%s: cannot read image folder", dir);
        return QMCU_ERR_IO;
    }
    while ((e = readdir(d)) != NULL) { /* sub-folders, sorted below */
        char full[2048];
        DIR *sd;
        if (e->d_name[0] == '.') continue;
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        if (!(sd = opendir(full))) continue;
        closedir(sd);
        if (n_sub == cap) {
            char **ns = (char **)realloc(subs, sizeof(char *) * (size_t)(cap = cap ? 2 * cap : 64));
            if (!ns) break;
            subs = ns;
        }
        subs[n_sub++] = strdup(e->d_name);
    }
    closedir(d);
    if (n_sub > 1) qsort(subs, (size_t)n_sub, sizeof(char *), cmp_str);
    for (s = 0; s < n_sub && st == QMCU_OK; s++) {
        char sub[2048], **files = NULL;
        int n_files = 0;
        const int label = class_of(subs[s], classes, cl, err);
        snprintf(sub, sizeof sub, "%s/%s", dir, subs[s]);
        if (label < 0) {
            qmcu_error_set(err, "%s: class folder %.200s", sub, err->msg);
            st = QMCU_ERR_ARG;
            break;
        }
        if ((st = quantmcu_list_images(sub, &files, &n_files, err)) != QMCU_OK) break;
        {
            char **np = (char **)realloc(*paths, sizeof(char *) * (size_t)(*total + n_files + 1));
            int *nl = (int *)realloc(*labels, sizeof(int) * (size_t)(*total + n_files + 1));
            if (np) *paths = np;
            if (nl) *labels = nl;
            if (!np || !nl) {
                quantmcu_free_list(files, n_files);
                qmcu_error_set(err, "%s: out of memory", dir);
                st = QMCU_ERR_NOMEM;
                break;
            }
        }
        for (k = 0; k < n_files; k++) {
            (*paths)[*total] = files[k];
            (*labels)[(*total)++] = label;
        }
        free(files);
    }
    for (s = 0; s < n_sub; s++) free(subs[s]);
    free(subs);
    return st;
}

/* A ground-truth file: lines "FILE CLASS" (ILSVRC2012 validation style; FILE matched by base name,
 * CLASS an index or WordNet id). Sets labels[i] for every image; errors name the file and line. */
static qmcu_status apply_ground_truth(const char *gt, const char *classes, class_list *cl, char **paths, int n,
                                      int *labels, qmcu_error *err)
{
    FILE *f = fopen(gt, "r");
    char line[1024], name[512], cls[64];
    int i, line_no = 0;
    if (!f) {
        qmcu_error_set(err, "%s: cannot open ground-truth file", gt);
        return QMCU_ERR_IO;
    }
    for (i = 0; i < n; i++) labels[i] = -1;
    while (fgets(line, sizeof line, f)) {
        qmcu_error e2;
        int label;
        line_no++;
        if (line[strspn(line, " \t\r\n")] == 0) continue; /* blank */
        if (sscanf(line, "%511s %63s", name, cls) != 2) {
            fclose(f);
            qmcu_error_set(err, "%s:%d: expected 'FILE CLASS'", gt, line_no);
            return QMCU_ERR_FORMAT;
        }
        if ((label = class_of(cls, classes, cl, &e2)) < 0) {
            fclose(f);
            qmcu_error_set(err, "%s:%d: %.400s", gt, line_no, e2.msg);
            return QMCU_ERR_FORMAT;
        }
        for (i = 0; i < n; i++)
            if (!strcmp(base_name(paths[i]), base_name(name))) labels[i] = label;
    }
    fclose(f);
    for (i = 0; i < n; i++)
        if (labels[i] < 0) {
            qmcu_error_set(err, "%s: not listed in the ground-truth file %s", paths[i], gt);
            return QMCU_ERR_ARG;
        }
    return QMCU_OK;
}

/* The images to evaluate and their labels: skip, limit, and labels that fit the model. */
static qmcu_status select_images(const quantmcu_model *m, const char *dir, const quantmcu_eval_options *o,
                                 char ***paths, int **labels, int *n, qmcu_error *err)
{
    const int n_out = quantmcu_output_count(m), offset = n_out == 1001 ? 1 : 0;
    int total, i, k;
    class_list cl = {NULL, 0};
    qmcu_status st = quantmcu_list_images(dir, paths, &total, err);
    *labels = NULL;
    *n = 0;
    if (st == QMCU_OK && total == 0) { /* no images at the top: class sub-folders */
        free(*paths);
        *paths = NULL;
        st = list_class_folders(dir, o->classes, &cl, paths, labels, &total, err);
        if (st == QMCU_OK && total == 0) {
            qmcu_error_set(err, "%s: no samples in folder (JPEG/PNG/BMP images, or .npy/.bin inputs)", dir);
            st = QMCU_ERR_ARG;
        }
    } else if (st == QMCU_OK) {
        if (!(*labels = (int *)malloc(sizeof(int) * (size_t)total))) st = QMCU_ERR_NOMEM;
        for (i = 0; st == QMCU_OK && i < total; i++) (*labels)[i] = label_of((*paths)[i]);
    }
    if (st == QMCU_OK && o->ground_truth)
        st = apply_ground_truth(o->ground_truth, o->classes, &cl, *paths, total, *labels, err);
    free(cl.wnid);
    *n = total;
    if (st != QMCU_OK) return st;
    k = o->skip < total ? o->skip : total;
    for (i = 0; i < k; i++) free((*paths)[i]);
    memmove(*paths, *paths + k, sizeof(char *) * (size_t)(total - k));
    memmove(*labels, *labels + k, sizeof(int) * (size_t)(total - k));
    *n = total - k;
    if (o->limit > 0 && o->limit < *n) {
        for (i = o->limit; i < *n; i++) free((*paths)[i]);
        *n = o->limit;
    }
    if (*n == 0) {
        qmcu_error_set(err,
                       k ? "%s: no images left after skipping %d"
                         : "%s: no samples in folder (JPEG/PNG/BMP images, or .npy/.bin inputs)",
                       dir, k);
        return QMCU_ERR_ARG;
    }
    for (i = 0; i < *n; i++) {
        const int label = (*labels)[i];
        if (label < 0) {
            qmcu_error_set(err,
                           "%s: file name does not start with a class index (use class sub-folders or --ground-truth)",
                           (*paths)[i]);
            return QMCU_ERR_ARG;
        }
        if (label + offset >= n_out) {
            qmcu_error_set(err, "%s: class index %d is beyond the model's %d outputs", (*paths)[i], label, n_out);
            return QMCU_ERR_ARG;
        }
    }
    return QMCU_OK;
}

/* Accuracy, time and BitOPs from the workers' records. */
static void summarize(const quantmcu_model *m, const quantmcu_plan *p, const eval_job *jobs, int threads, int n,
                      double wall_ms, quantmcu_eval_result *out)
{
    const qmcu_graph *g = quantmcu_graph(m);
    const qmcu_plan *l = qmcu_api_layout(p);
    /* BitOPs = MACs x weight bits x input activation bits: 8 x 8 outside the QuantMCU patch stage
     * (32 x 32 for a float model); the patch stage as the tiles really ran (per image) */
    const int fbits = g->tensors[g->inputs[0]].type == QMCU_F32 && g->tensors[g->outputs[0]].type == QMCU_F32 ? 32 : 8;
    const double layer_bitops = (double)(l->macs - l->patch_macs) * fbits * fbits;
    int i, t, h1 = 0, h5 = 0;
    double ms = 0.0;
    memset(out, 0, sizeof *out);
    for (i = 0; i < n; i++) {
        if (jobs[0].broken[i]) {
            out->errors++;
            continue;
        }
        h1 += jobs[0].top1[i];
        h5 += jobs[0].top5[i];
        ms += jobs[0].ms[i];
        out->agreement_pct += jobs[0].agree[i];
        out->kl += jobs[0].kl[i];
    }
    n -= out->errors; /* the figures are over the images evaluated */
    for (t = 0; t < threads; t++) {
        out->stats.patch_bitops += jobs[t].stats.patch_bitops;
        out->stats.tiles += jobs[t].stats.tiles;
        out->stats.outlier_tiles += jobs[t].stats.outlier_tiles;
        out->stats.lowbit_values += jobs[t].stats.lowbit_values;
        out->stats.outlier_values += jobs[t].stats.outlier_values;
    }
    out->images = n;
    out->agreement_pct = 100.0 * out->agreement_pct / n;
    out->kl /= n;
    out->top1_pct = 100.0 * h1 / n;
    out->top5_pct = 100.0 * h5 / n;
    out->ms_per_image = ms / n;
    out->wall_ms_per_image = wall_ms / n;
    out->patch_bitops_int8 = (double)l->patch_macs * fbits * fbits;
    out->patch_bitops = quantmcu_plan_exec(p)->lowbit ? (double)out->stats.patch_bitops / n : out->patch_bitops_int8;
    out->bitops = out->patch_bitops + layer_bitops;
}

qmcu_status quantmcu_eval(const quantmcu_model *m, const quantmcu_plan *p, const char *dir,
                          const quantmcu_eval_options *o, quantmcu_eval_result *out, qmcu_error *err)
{
    enum { MAX_THREADS = 64 };
    eval_job jobs[MAX_THREADS];
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    quantmcu_eval_options opt = *o;
    char **paths = NULL, *hits = NULL;
    double *ms = NULL, *kl = NULL, wall0;
    int n = 0, t, done = 0, started = 0;
    int *labels = NULL;
    qmcu_status st = select_images(m, dir, o, &paths, &labels, &n, err);
    if (st != QMCU_OK) goto out;
    if (opt.threads < 1) opt.threads = 1;
    if (opt.threads > MAX_THREADS) opt.threads = MAX_THREADS;
    if (opt.threads > n) opt.threads = n;
    hits = (char *)calloc((size_t)n * 4, 1);
    kl = (double *)calloc((size_t)n, sizeof(double));
    ms = (double *)calloc((size_t)n, sizeof(double));
    if (!hits || !ms || !kl) {
        qmcu_error_set(err, "eval: out of memory");
        st = QMCU_ERR_NOMEM;
        goto out;
    }
    wall0 = now_ms();
    for (t = 0; t < opt.threads; t++) {
        eval_job *j = &jobs[t];
        memset(j, 0, sizeof *j);
        j->m = m;
        j->p = p;
        j->o = &opt;
        j->paths = paths;
        j->labels = labels;
        j->n = n;
        j->thread = t;
        j->label_offset = quantmcu_output_count(m) == 1001 ? 1 : 0;
        j->top1 = hits;
        j->top5 = hits + n;
        j->agree = hits + 2 * (size_t)n;
        j->broken = hits + 3 * (size_t)n;
        j->kl = kl;
        j->ms = ms;
        j->lock = &lock;
        j->done = &done;
    }
    started = qmcu_parallel_run(jobs, sizeof jobs[0], opt.threads, eval_worker);
    for (t = started; t < opt.threads; t++) { /* a thread could not be started */
        jobs[t].st = QMCU_ERR_NOMEM;
        qmcu_error_set(&jobs[t].err, "eval: cannot start thread");
    }
    for (t = 0; t < opt.threads && st == QMCU_OK; t++)
        if (jobs[t].st != QMCU_OK) {
            st = jobs[t].st;
            *err = jobs[t].err;
        }
    if (st == QMCU_OK) {
        int broken = 0;
        for (t = 0; t < n; t++) broken += hits[3 * (size_t)n + t];
        if (broken == n) {
            qmcu_error_set(err, "%s: none of the %d images could be decoded", dir, n);
            st = QMCU_ERR_FORMAT;
        }
    }
    if (st == QMCU_OK) summarize(m, p, jobs, opt.threads, n, now_ms() - wall0, out);
out:
    free(labels);
    free(hits);
    free(ms);
    free(kl);
    quantmcu_free_list(paths, n);
    return st;
}
