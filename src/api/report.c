/* quantmcu_report: one self-contained HTML file (inline SVG, a few lines of inline JS, no network)
 * that explains a plan to someone who never read our README: summary, memory timeline, tile map
 * with VDPC, per-layer MACs and BitOPs, and optionally per-op MCU instructions and a frontier. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "../common/host_file.h"
#include "api_internal.h"

#define SVG_W 960

void quantmcu_report_options_default(quantmcu_report_options *o)
{
    memset(o, 0, sizeof *o);
    o->limit = 100;
    o->threads = 2;
}

static void html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void base64(FILE *f, const uint8_t *d, size_t n)
{
    static const char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    for (i = 0; i + 2 < n; i += 3) {
        const uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        fputc(k[v >> 18], f), fputc(k[(v >> 12) & 63], f), fputc(k[(v >> 6) & 63], f), fputc(k[v & 63], f);
    }
    if (i < n) {
        const uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0);
        fputc(k[v >> 18], f), fputc(k[(v >> 12) & 63], f);
        fputc(i + 1 < n ? k[(v >> 6) & 63] : '=', f), fputc('=', f);
    }
}

/* ---- memory timeline ----------------------------------------------------------------------- */
enum { MEM_INPUT, MEM_TILE, MEM_S, MEM_ACT, MEM_CACHE, MEM_SCRATCH, MEM_KINDS };
static const char *const k_mem_name[MEM_KINDS] = {"input",       "tile buffers", "split tensor S",
                                                  "activations", "halo caches",  "scratch"};
static const char *const k_mem_color[MEM_KINDS] = {"#9e9e9e", "#42a5f5", "#ab47bc", "#66bb6a", "#ffa726", "#ef5350"};

static int buffer_kind(const qmcu_plan *p, int b)
{
    const qmcu_graph *g = p->g;
    const int nt = g->n_tensors, no = g->n_ops;
    int i;
    if (b >= nt + no) return MEM_CACHE;
    if (b >= nt) return MEM_SCRATCH;
    if (qmcu_graph_is_input(g, b)) return MEM_INPUT;
    if (b == p->split_tensor) return MEM_S;
    for (i = 0; i < p->spec.split; i++)
        if (g->ops[i].out == b) return MEM_TILE;
    return MEM_ACT;
}

static void memory_section(FILE *f, const qmcu_plan *p, const qmcu_plan *layer, size_t budget)
{
    const qmcu_graph *g = p->g;
    const int no = g->n_ops, h = 300, left = 60;
    const double bw = (double)(SVG_W - left - 10) / no;
    size_t top = p->arena_bytes > layer->arena_bytes ? p->arena_bytes : layer->arena_bytes;
    int i, b, k;
    if (budget > top) top = budget;
    top = top + top / 10;
    fprintf(f, "<section id=\"memory\"><h2>Memory timeline</h2>\n<p>Bytes live while each op runs (all tiles of "
               "the patch stage share one step), stacked by kind. The line is layer-by-layer execution of the same "
               "model; the dashed line is the SRAM budget. Placement is a real first-fit arena: the peak is what a "
               "linker needs.</p>\n");
    fprintf(f, "<svg id=\"memory-svg\" data-ops=\"%d\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", no, SVG_W,
            h + 40, SVG_W, h + 40);
    for (i = 0; i < no; i++) {
        double y = h, v[MEM_KINDS] = {0};
        for (b = 0; b < p->n_buffers; b++)
            if (p->buffers[b].size && p->buffers[b].first <= i && i <= p->buffers[b].last)
                v[buffer_kind(p, b)] += (double)p->buffers[b].size;
        fprintf(f, "<g class=\"op\"><title>op %d %s (%s): ", i, qmcu_op_name(g->ops[i].type),
                i < p->spec.split ? "patch" : "layer");
        for (k = 0; k < MEM_KINDS; k++)
            if (v[k] > 0) fprintf(f, "%s %.0f B; ", k_mem_name[k], v[k]);
        fputs("</title>", f);
        for (k = 0; k < MEM_KINDS; k++) {
            const double hh = v[k] / (double)top * h;
            if (hh <= 0) continue;
            y -= hh;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", left + i * bw, y,
                    bw * 0.9, hh, k_mem_color[k]);
        }
        fputs("</g>\n", f);
    }
    fputs("<polyline fill=\"none\" stroke=\"#212121\" stroke-width=\"1.5\" points=\"", f);
    for (i = 0; i < no; i++)
        fprintf(f, "%.1f,%.1f ", left + (i + 0.45) * bw,
                h - (double)(layer->step_live_bytes[i] + layer->scratch_bytes[i]) / (double)top * h);
    fputs("\"/>\n", f);
    if (budget)
        fprintf(f,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d32f2f\" stroke-dasharray=\"6 4\"/>"
                "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#d32f2f\">budget %zu B</text>\n",
                left, SVG_W - 10, h - (double)budget / (double)top * h, h - (double)budget / (double)top * h,
                SVG_W - 160, h - (double)budget / (double)top * h - 4, budget);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">peak %zu B (op %d)</text>\n", left + p->live_peak_op * bw,
            h - (double)p->arena_bytes / (double)top * h - 6, p->arena_bytes, p->live_peak_op);
    fprintf(f, "<text x=\"0\" y=\"12\" font-size=\"11\">%.0f kB</text><text x=\"0\" y=\"%d\" font-size=\"11\">0</text>",
            top / 1024.0, h);
    for (k = 0; k < MEM_KINDS; k++)
        fprintf(f,
                "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" "
                "font-size=\"11\">%s</text>",
                left + k * 125, h + 18, k_mem_color[k], left + k * 125 + 14, h + 27, k_mem_name[k]);
    fprintf(f,
            "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#212121\"/><text x=\"%d\" y=\"%d\" "
            "font-size=\"11\">layer by layer (%zu B peak)</text>\n",
            left + MEM_KINDS * 125, left + MEM_KINDS * 125 + 20, h + 23, h + 23, left + MEM_KINDS * 125 + 24, h + 27,
            layer->arena_bytes);
    fputs("</svg></section>\n", f);
}

/* ---- tile map -------------------------------------------------------------------------------- */
static void tile_section(FILE *f, const quantmcu_model *m, const quantmcu_plan *qp, const char *image,
                         const int16_t *tile_switch)
{
    const qmcu_plan *p = qmcu_api_layout(qp);
    const qmcu_exec_plan *e = quantmcu_plan_exec(qp);
    const qmcu_graph *g = quantmcu_graph(m);
    const qmcu_tensor *in = &g->tensors[g->inputs[0]], *s = &g->tensors[p->split_tensor];
    const int ih = in->dims[1], iw = in->dims[2], side = 480;
    const double sc = (double)side / (ih > iw ? ih : iw), fy = (double)ih / s->dims[1], fx = (double)iw / s->dims[2];
    uint8_t *bytes = NULL;
    size_t len = 0;
    qmcu_error err;
    int t, i;
    fprintf(f,
            "<section id=\"tiles\"><h2>Tile map</h2>\n<p>The input as the model sees it (central crop), cut "
            "into the %dx%d tiles of the split tensor (%dx%dx%d after op %d). Each filled square is the part of "
            "the output a tile computes; its dashed outline is the input window it reads, halo included. ",
            p->spec.grid_h, p->spec.grid_w, s->dims[1], s->dims[2], s->dims[3], p->spec.split - 1);
    if (e->lowbit)
        fputs("Red tiles held an outlier in a low-bit feature map and switched to 8 bits (VDPC: from there on in "
              "version 2, the whole tile again as 8-bit sub-tiles in version 3); green ones ran every low-bit map at "
              "its planned width.",
              f);
    fprintf(f, "</p>\n<svg id=\"tiles-svg\" data-tiles=\"%d\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
            p->n_tiles, side, side, side, side);
    fprintf(f, "<defs><clipPath id=\"crop\"><rect width=\"%.1f\" height=\"%.1f\"/></clipPath></defs>\n", iw * sc,
            ih * sc);
    if (image && qmcu_read_file(image, "image", 64u << 20, &bytes, &len, &err) == QMCU_OK) {
        const char *ext = strrchr(image, '.');
        const char *mime = ext && (!strcmp(ext, ".png") || !strcmp(ext, ".PNG"))   ? "image/png"
                           : ext && (!strcmp(ext, ".bmp") || !strcmp(ext, ".BMP")) ? "image/bmp"
                                                                                   : "image/jpeg";
        /* the 87.5 % central crop, stretched to the input size like the preprocessing */
        fprintf(f,
                "<image clip-path=\"url(#crop)\" preserveAspectRatio=\"none\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\" href=\"data:%s;base64,",
                -iw * sc * (1 / 0.875 - 1) / 2, -ih * sc * (1 / 0.875 - 1) / 2, iw * sc / 0.875, ih * sc / 0.875, mime);
        base64(f, bytes, len);
        fputs("\"/>\n", f);
        free(bytes);
    }
    for (t = 0; t < p->n_tiles; t++) {
        const qmcu_window c = p->region[(size_t)t * g->n_tensors + p->split_tensor];
        const qmcu_window w = p->region[(size_t)t * g->n_tensors + g->inputs[0]];
        const int sw = tile_switch && tile_switch[t] >= 0;
        fprintf(f,
                "<g class=\"tile\"><title>tile %d: output rows %d..%d, columns %d..%d; reads input rows %d..%d, "
                "columns %d..%d",
                t, c.h0, c.h1 - 1, c.w0, c.w1 - 1, w.h0, w.h1 - 1, w.w0, w.w1 - 1);
        if (sw) fprintf(f, "; switched to 8 bits at op %d (VDPC)", tile_switch[t]);
        fputs("</title>", f);
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.4\" "
                "stroke=\"#ffffff\" stroke-width=\"2\"/>",
                c.w0 * fx * sc, c.h0 * fy * sc, (c.w1 - c.w0) * fx * sc, (c.h1 - c.h0) * fy * sc,
                !e->lowbit ? "#1e88e5"
                : sw       ? "#e53935"
                           : "#43a047");
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#fdd835\" "
                "stroke-dasharray=\"3 3\" stroke-opacity=\"0.6\"/></g>\n",
                w.w0 * sc, w.h0 * sc, (w.w1 - w.w0) * sc, (w.h1 - w.h0) * sc);
    }
    fputs("</svg>\n", f);
    if (e->lowbit && tile_switch) { /* bits per tile and low-bit map */
        fputs("<table class=\"bits\"><tr><th>tile</th>", f);
        for (i = 0; i < p->spec.split; i++)
            if (e->lowbit_bits[g->ops[i].out] < 8) fprintf(f, "<th>op %d</th>", i);
        fputs("</tr>\n", f);
        for (t = 0; t < p->n_tiles; t++) {
            fprintf(f, "<tr><td>%d</td>", t);
            for (i = 0; i < p->spec.split; i++) {
                const int b = e->lowbit_bits[g->ops[i].out];
                if (b >= 8) continue;
                if (tile_switch[t] >= 0 && i >= tile_switch[t])
                    fputs("<td class=\"out\">8</td>", f);
                else
                    fprintf(f, "<td>%d</td>", b);
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("</section>\n", f);
}

/* ---- per-layer bars -------------------------------------------------------------------------- */
static void bars(FILE *f, const char *id, int n, const double *a, const double *b, const char *ca, const char *cb,
                 const char *name_a, const char *name_b, const qmcu_graph *g)
{
    const int h = 220, left = 60;
    const double bw = (double)(SVG_W - left - 10) / n;
    double top = 0;
    int i;
    for (i = 0; i < n; i++) {
        if (a[i] > top) top = a[i];
        if (b && b[i] > top) top = b[i];
    }
    if (top <= 0) top = 1;
    fprintf(f, "<svg id=\"%s\" data-ops=\"%d\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", id, n, SVG_W,
            h + 30, SVG_W, h + 30);
    for (i = 0; i < n; i++) {
        fprintf(f, "<g class=\"op\"><title>op %d %s: %s %.0f", i, qmcu_op_name(g->ops[i].type), name_a, a[i]);
        if (b) fprintf(f, ", %s %.0f", name_b, b[i]);
        fprintf(f, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", left + i * bw,
                h - a[i] / top * h, b ? bw * 0.45 : bw * 0.9, a[i] / top * h, ca);
        if (b)
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                    left + i * bw + bw * 0.45, h - b[i] / top * h, bw * 0.45, b[i] / top * h, cb);
        fputs("</g>\n", f);
    }
    fprintf(f, "<text x=\"0\" y=\"12\" font-size=\"11\">%.3g</text><text x=\"0\" y=\"%d\" font-size=\"11\">0</text>",
            top, h);
    fprintf(f,
            "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" "
            "font-size=\"11\">%s</text>",
            left, h + 12, ca, left + 14, h + 21, name_a);
    if (b)
        fprintf(f,
                "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" "
                "font-size=\"11\">%s</text>",
                left + 300, h + 12, cb, left + 314, h + 21, name_b);
    fputs("</svg>\n", f);
}

/* ---- frontier -------------------------------------------------------------------------------- */
static void frontier_section(FILE *f, const char *path)
{
    uint8_t *text = NULL;
    size_t len = 0;
    qmcu_error err;
    char *line, *save = NULL;
    double x[64], y[64];
    char label[64][64];
    int n = 0, i;
    const int h = 300, left = 60, w = 600;
    double xmin = 1e9, xmax = -1e9, ymin = 1e9, ymax = -1e9;
    if (qmcu_read_file(path, "frontier", 16u << 20, &text, &len, &err) != QMCU_OK) return;
    for (line = strtok_r((char *)text, "\n", &save); line && n < 64; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "patch_bitops_ratio");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "top1_drop_pt");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "setting");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "vs_recompute_int8_bitops_ratio");
        if (cJSON_IsNumber(v)) r = v;
        if (cJSON_IsNumber(r) && cJSON_IsNumber(d)) {
            x[n] = r->valuedouble;
            y[n] = d->valuedouble;
            snprintf(label[n], sizeof label[n], "%s", cJSON_IsString(s) ? s->valuestring : "");
            if (x[n] < xmin) xmin = x[n];
            if (x[n] > xmax) xmax = x[n];
            if (y[n] < ymin) ymin = y[n];
            if (y[n] > ymax) ymax = y[n];
            n++;
        }
        cJSON_Delete(o);
    }
    free(text);
    if (!n) return;
    if (xmax - xmin < 0.1) xmax = xmin + 0.1;
    if (ymax - ymin < 1) ymax = ymin + 1;
    fprintf(f,
            "<section id=\"frontier\"><h2>Accuracy vs BitOPs</h2><p>Each point is one QuantMCU setting from %s: "
            "patch-stage BitOPs reduction (x) against the top-1 drop from 8 bits in points (y, lower is "
            "better).</p>\n<svg id=\"frontier-svg\" data-points=\"%d\" width=\"%d\" height=\"%d\">\n",
            base_name(path), n, w + left + 20, h + 40);
    for (i = 0; i < n; i++) {
        const double px = left + (x[i] - xmin) / (xmax - xmin) * (w - 40) + 20,
                     py = (y[i] - ymin) / (ymax - ymin) * (h - 40) + 20;
        fputs("<g class=\"point\"><title>", f);
        html_text(f, label[i]);
        fprintf(f, ": %.3fx, %.2f pt</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#1e88e5\"/></g>\n", x[i],
                y[i], px, py);
    }
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.2fx</text><text x=\"%d\" y=\"%d\" font-size=\"11\">%.2fx "
            "BitOPs reduction</text><text x=\"0\" y=\"24\" font-size=\"11\">%.1f pt</text><text x=\"0\" y=\"%d\" "
            "font-size=\"11\">%.1f pt</text></svg></section>\n",
            left, h + 15, xmin, left + w - 120, h + 15, xmax, ymin, h - 16, ymax);
}

static const char k_style[] =
    "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#212121}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
    "th{background:#f5f5f5}td.out{background:#ffcdd2}section{margin:2em 0}h2{border-bottom:1px solid #ddd}"
    "svg{display:block;margin:.5em 0}p{max-width:60em}";

/* What a report shows besides the plan itself: evaluations, the sample image's tiles and its
 * emulated per-op instructions. */
typedef struct {
    quantmcu_plan_info info;
    size_t budget;        /* the report's SRAM budget, else the plan's (0: none) */
    quantmcu_plan *layer; /* the layer-by-layer plan (peak SRAM comparison) */
    quantmcu_eval_result res, res8;
    int have_eval, have_eval8;
    char **imgs;
    int n_imgs;
    const char *sample;
    int16_t *tile_switch;               /* per tile: op where VDPC switched it to 8 bits, or -1 */
    unsigned long long *op_insns, insns; /* emulated instructions per op, in all */
} report_data;

/* Evaluations on o->images (this plan, and the int8 plan when given). */
static qmcu_status report_evaluate(const quantmcu_model *m, const quantmcu_plan *p, const quantmcu_report_options *o,
                                   report_data *d, qmcu_error *err)
{
    quantmcu_eval_options eo;
    qmcu_status st;
    quantmcu_eval_options_default(&eo);
    eo.skip = o->skip;
    eo.limit = o->limit;
    eo.threads = o->threads;
    eo.reference = o->int8_plan;
    if ((st = quantmcu_eval(m, p, o->images, &eo, &d->res, err)) != QMCU_OK) return st;
    d->have_eval = 1;
    if (o->int8_plan) {
        eo.reference = NULL;
        if ((st = quantmcu_eval(m, o->int8_plan, o->images, &eo, &d->res8, err)) != QMCU_OK) return st;
        d->have_eval8 = 1;
    }
    if (!d->sample && quantmcu_list_images(o->images, &d->imgs, &d->n_imgs, err) == QMCU_OK && d->n_imgs > o->skip)
        d->sample = d->imgs[o->skip];
    return QMCU_OK;
}

/* The sample image on the host (which tiles VDPC switched) and, with o->mcu_board, on the
 * emulated MCU (instructions per op of the same input). */
static qmcu_status report_sample(const quantmcu_model *m, const quantmcu_plan *p, const quantmcu_report_options *o,
                                 report_data *d, qmcu_error *err)
{
    uint8_t *mem = (uint8_t *)calloc(quantmcu_plan_memory_bytes(p) + 1, 1);
    void *in = malloc(quantmcu_input_bytes(m)), *out = malloc(quantmcu_output_bytes(m));
    qmcu_run_options ro = {0, NULL, d->tile_switch, NULL, NULL};
    qmcu_status st = mem && in && out ? quantmcu_run_image(m, p, mem, d->sample, in, out, &ro, err) : QMCU_ERR_NOMEM;
    if (st == QMCU_OK && o->mcu_board) {
        quantmcu_mcu_options mo;
        quantmcu_firmware *fw = NULL;
        memset(&mo, 0, sizeof mo);
        mo.target = "cortex-m4";
        mo.board = o->mcu_board;
        mo.profile = 1;
        if ((st = quantmcu_mcu_build(m, p, &mo, &fw, err)) == QMCU_OK)
            st = quantmcu_mcu_run(fw, in, out, &d->insns, d->op_insns, err);
        quantmcu_mcu_free(fw);
    }
    free(mem);
    free(in);
    free(out);
    return st;
}

static void summary_section(FILE *f, const quantmcu_plan *p, const quantmcu_report_options *o, const report_data *d)
{
    const quantmcu_plan_info *info = &d->info;
    const int lowbit = quantmcu_plan_exec(p)->lowbit != NULL;
    fprintf(f, "<section id=\"summary\"><h2>Summary</h2><table>\n");
    fprintf(f, "<tr><th>plan</th><td>%s</td></tr>\n", info->mode);
    if (info->split)
        fprintf(f,
                "<tr><th>patch stage</th><td>ops 0..%d, %dx%d tiles, input patch %dx%d; halo: %d ops recompute, %d "
                "cache columns, %d cache columns and rows (%zu B of caches)</td></tr>\n",
                info->split - 1, info->grid_h, info->grid_w, info->input_patch_h, info->input_patch_w,
                info->halo_ops[0], info->halo_ops[1], info->halo_ops[3], info->cache_bytes);
    fprintf(f, "<tr><th>peak SRAM</th><td>%zu B (%.1f kB)%s; layer by layer %zu B</td></tr>\n", info->arena_bytes,
            info->arena_bytes / 1024.0, info->input_in_sram ? ", input included" : ", input streamed",
            qmcu_api_layout(d->layer)->arena_bytes);
    if (d->budget)
        fprintf(f, "<tr><th>budget</th><td>%zu B: %s</td></tr>\n", d->budget,
                info->arena_bytes <= d->budget ? "fits" : "does NOT fit");
    fprintf(f, "<tr><th>MACs</th><td>%lld executed; patch stage %lld vs %lld layer by layer (%+.1f %%)</td></tr>\n",
            (long long)info->macs, (long long)info->patch_macs, (long long)info->patch_layer_macs,
            info->patch_layer_macs
                ? 100.0 * (double)(info->patch_macs - info->patch_layer_macs) / info->patch_layer_macs
                : 0.0);
    if (lowbit)
        fprintf(f, "<tr><th>patch-stage BitOPs</th><td>%.3g planned vs %.3g at 8 bits (%.2fx)</td></tr>\n",
                info->patch_bitops, info->patch_bitops_int8,
                info->patch_bitops > 0 ? info->patch_bitops_int8 / info->patch_bitops : 0.0);
    if (d->have_eval8)
        fprintf(f, "<tr><th>accuracy, 8 bits</th><td>top-1 %.2f %%, top-5 %.2f %% on %d images</td></tr>\n",
                d->res8.top1_pct, d->res8.top5_pct, d->res8.images);
    if (d->have_eval)
        fprintf(f,
                "<tr><th>accuracy, this plan</th><td>top-1 %.2f %%, top-5 %.2f %% on %d images; %.1f ms per image on "
                "the host</td></tr>\n",
                d->res.top1_pct, d->res.top5_pct, d->res.images, d->res.ms_per_image);
    if (d->have_eval && lowbit)
        fprintf(f,
                "<tr><th>QuantMCU as run</th><td>BitOPs %.2fx below 8 bits; outlier tiles %.1f %%; top-1 agreement "
                "with 8 bits %.2f %%</td></tr>\n",
                d->res.patch_bitops > 0 ? d->res.patch_bitops_int8 / d->res.patch_bitops : 0.0,
                d->res.stats.tiles ? 100.0 * (double)d->res.stats.outlier_tiles / (double)d->res.stats.tiles : 0.0,
                d->have_eval8 ? d->res.agreement_pct : -1.0);
    if (lowbit) { /* version 3: how the bits buy memory, the outlier tiles, the guard */
        quantmcu_quant_info qi;
        if (quantmcu_quant_get_info(p, &qi) == QMCU_OK && qi.scheme >= 3) {
            fprintf(f,
                    "<tr><th>QuantMCU v3</th><td>maps stored at their bits (4/2-bit packed, 5/6-bit in planes), "
                    "buffers sized for them; ");
            if (info->fallback_h)
                fprintf(f, "an outlier tile runs again as %dx%d 8-bit sub-tiles (+%zu bytes); ", info->fallback_h,
                        info->fallback_w, info->fallback_excess_bytes);
            else
                fputs("no 8-bit sub-grid fits the budget: outlier tiles keep their bits (outliers saturate); ", f);
            fprintf(f, "accuracy guard: KL %.4f on the calibration images (limit %.3g%s); %.1f M instructions predicted",
                    qi.calib_kl, qi.max_kl, qi.guard_met ? "" : ", NOT met", info->predicted_instructions / 1e6);
            fputs("</td></tr>\n", f);
        }
    }
    if (o->mcu_board)
        fprintf(f, "<tr><th>emulated Cortex-M4 (%s)</th><td>%llu instructions for the sample image</td></tr>\n",
                o->mcu_board, d->insns);
    fputs("</table></section>\n", f);
}

/* Per-layer MACs and BitOPs (and per-op emulated instructions when measured); a and b: n_ops each. */
static void layer_sections(FILE *f, const quantmcu_model *m, const quantmcu_plan *p, const quantmcu_report_options *o,
                           const report_data *d, double *a, double *b)
{
    const qmcu_graph *g = quantmcu_graph(m);
    const qmcu_plan *pl = qmcu_api_layout(p);
    const qmcu_exec_plan *e = quantmcu_plan_exec(p);
    int i;
    fputs("<section id=\"layers\"><h2>Per-layer MACs and BitOPs</h2><p>Left bar: MACs layer by layer; right bar: MACs "
          "as this plan executes them (tiles, halo recomputation included, cached halos not). Below: BitOPs at 8 bits "
          "and as planned (QuantMCU maps at their bits on normal tiles).</p>\n",
          f);
    for (i = 0; i < g->n_ops; i++) {
        a[i] = (double)qmcu_op_macs(g, &g->ops[i]);
        b[i] = (double)pl->op_macs[i];
    }
    bars(f, "layers-svg", g->n_ops, a, b, "#90a4ae", "#1e88e5", "MACs layer by layer", "MACs executed", g);
    for (i = 0; i < g->n_ops; i++) {
        const int bits = e->lowbit && i < pl->spec.split ? e->lowbit_bits[g->ops[i].in[0]] : 8;
        a[i] = (double)pl->op_macs[i] * 64.0;
        b[i] = (double)pl->op_macs[i] * 8.0 * (qmcu_op_has(g->ops[i].type, QMCU_OPT_WEIGHTED) ? bits : 8);
    }
    bars(f, "bitops-svg", g->n_ops, a, b, "#90a4ae", "#43a047", "BitOPs at 8 bits", "BitOPs planned", g);
    fputs("</section>\n", f);
    if (o->mcu_board) {
        fputs("<section id=\"mcu\"><h2>Emulated Cortex-M4 instructions per op</h2><p>One inference of the sample image "
              "under QEMU (emulated instructions, not cycles), per op, all tiles.</p>\n",
              f);
        for (i = 0; i < g->n_ops; i++) a[i] = (double)d->op_insns[i];
        bars(f, "mcu-svg", g->n_ops, a, NULL, "#8e24aa", NULL, "instructions", NULL, g);
        fputs("</section>\n", f);
    }
}

qmcu_status quantmcu_report(const quantmcu_model *m, const quantmcu_plan *p, const quantmcu_report_options *o,
                            const char *path, qmcu_error *err)
{
    const qmcu_graph *g = quantmcu_graph(m);
    const qmcu_plan *pl = qmcu_api_layout(p);
    quantmcu_plan_options lo;
    report_data d;
    double *a = NULL, *b = NULL;
    qmcu_atomic_file af;
    qmcu_status st;
    int i;
    FILE *f;
    memset(&d, 0, sizeof d);
    d.sample = o->sample_image;
    quantmcu_plan_get_info(p, &d.info);
    d.budget = o->sram_budget ? o->sram_budget : d.info.sram_budget;
    quantmcu_plan_options_default(&lo);
    lo.split = 0;
    lo.input_in_sram = d.info.input_in_sram;
    if ((st = quantmcu_plan_make(m, &lo, &d.layer, NULL, err)) != QMCU_OK) return st;
    if (o->images && (st = report_evaluate(m, p, o, &d, err)) != QMCU_OK) goto done;
    d.tile_switch = (int16_t *)calloc((size_t)(pl->n_tiles ? pl->n_tiles : 1), sizeof(int16_t));
    a = (double *)calloc((size_t)g->n_ops, sizeof(double));
    b = (double *)calloc((size_t)g->n_ops, sizeof(double));
    d.op_insns = (unsigned long long *)calloc((size_t)g->n_ops, sizeof(unsigned long long));
    if (!d.tile_switch || !a || !b || !d.op_insns) {
        qmcu_error_set(err, "%s: out of memory", path);
        st = QMCU_ERR_NOMEM;
        goto done;
    }
    for (i = 0; i < pl->n_tiles; i++) d.tile_switch[i] = -1;
    if (d.sample && pl->n_tiles && (st = report_sample(m, p, o, &d, err)) != QMCU_OK) goto done;
    if ((st = qmcu_atomic_open(&af, path, err)) != QMCU_OK) goto done;
    f = af.f;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>quantmcu report: ");
    html_text(f, base_name(g->path));
    fprintf(f, "</title><style>%s</style></head>\n<body>\n<h1>", k_style);
    html_text(f, base_name(g->path));
    fprintf(f, " on a microcontroller</h1>\n");
    summary_section(f, p, o, &d);
    memory_section(f, pl, qmcu_api_layout(d.layer), d.budget);
    if (pl->n_tiles) tile_section(f, m, p, d.sample, d.tile_switch);
    layer_sections(f, m, p, o, &d, a, b);
    if (o->frontier) frontier_section(f, o->frontier);
    fputs("<script>\n(function () {\n  var n = 0, s = document.querySelectorAll('svg');\n  for (var i = 0; i < "
          "s.length; i++) n += s[i].querySelectorAll('g').length;\n  document.body.setAttribute('data-ready', "
          "String(n));\n})();\n</script>\n</body></html>\n",
          f);
    st = qmcu_atomic_commit(&af, err);
done:
    quantmcu_free_list(d.imgs, d.n_imgs);
    quantmcu_plan_free(d.layer);
    free(d.tile_switch);
    free(a);
    free(b);
    free(d.op_insns);
    return st;
}
