/* TFLite_Detection_PostProcess with TFLite 2.9's arithmetic (see quantmcu/kernels.h). Float
 * expressions keep TFLite's operation order and no multiply-add may be fused, so that the host
 * and a Cortex-M4F compute the same bytes (as in resize.c). */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <math.h>
#include <string.h>

#include "quantmcu/kernels.h"

typedef struct {
    float ymin, xmin, ymax, xmax;
} corner_box;

/* Element i of an input: float, or 8-bit dequantized as TFLite does it ((q - zero point) * scale,
 * in float: the stored int8 minus its zero point equals the uint8 byte minus the model's). */
static float input_value(const qmcu_detection_inputs *in, int which, const void *base, int64_t i)
{
    if (in->scale[which] == 0.0f) return ((const float *)base)[i];
    return (float)(((const int8_t *)base)[i] - in->zero_point[which]) * in->scale[which];
}

static float score_of(const qmcu_detection_inputs *in, int32_t box, int32_t cls)
{
    return input_value(in, 1, in->scores, (int64_t)box * in->num_classes_with_background + cls);
}

/* DecodeCenterSizeBoxes: (y, x, h, w) against the anchor (y, x, h, w), in double. */
static void decode_boxes(const qmcu_detection_params *p, const qmcu_detection_inputs *in, corner_box *boxes)
{
    int32_t i;
    for (i = 0; i < in->num_boxes; i++) {
        const int64_t e = (int64_t)i * in->code_len, a = (int64_t)i * 4;
        const float by = input_value(in, 0, in->boxes, e), bx = input_value(in, 0, in->boxes, e + 1);
        const float bh = input_value(in, 0, in->boxes, e + 2), bw = input_value(in, 0, in->boxes, e + 3);
        const float ay = input_value(in, 2, in->anchors, a), ax = input_value(in, 2, in->anchors, a + 1);
        const float ah = input_value(in, 2, in->anchors, a + 2), aw = input_value(in, 2, in->anchors, a + 3);
        const float yc = (float)((double)by / (double)p->y_scale * (double)ah + (double)ay);
        const float xc = (float)((double)bx / (double)p->x_scale * (double)aw + (double)ax);
        const float half_h = (float)(0.5 * exp((double)bh / (double)p->h_scale) * (double)ah);
        const float half_w = (float)(0.5 * exp((double)bw / (double)p->w_scale) * (double)aw);
        boxes[i].ymin = yc - half_h;
        boxes[i].xmin = xc - half_w;
        boxes[i].ymax = yc + half_h;
        boxes[i].xmax = xc + half_w;
    }
}

static float iou(const corner_box *a, const corner_box *b)
{
    const float area_a = (a->ymax - a->ymin) * (a->xmax - a->xmin);
    const float area_b = (b->ymax - b->ymin) * (b->xmax - b->xmin);
    float iy0, ix0, iy1, ix1, h, w, inter;
    if (area_a <= 0 || area_b <= 0) return 0.0f;
    iy0 = a->ymin > b->ymin ? a->ymin : b->ymin;
    ix0 = a->xmin > b->xmin ? a->xmin : b->xmin;
    iy1 = a->ymax < b->ymax ? a->ymax : b->ymax;
    ix1 = a->xmax < b->xmax ? a->xmax : b->xmax;
    h = iy1 - iy0;
    w = ix1 - ix0;
    inter = (h > 0.0f ? h : 0.0f) * (w > 0.0f ? w : 0.0f);
    return inter / (area_a + area_b - inter);
}

/* ---- ranking indices by value, decreasing ------------------------------------------------ */
/* a ranks before b: larger value, or (for a total order equal to a stable sort) the smaller index */
static int before_stable(const float *v, int32_t a, int32_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); }

static void sift_down_stable(const float *v, int32_t *idx, int32_t root, int32_t n)
{
    for (;;) {
        int32_t child = 2 * root + 1, last = root;
        if (child < n && before_stable(v, idx[last], idx[child])) last = child;
        if (child + 1 < n && before_stable(v, idx[last], idx[child + 1])) last = child + 1;
        if (last == root) return;
        {
            const int32_t t = idx[root];
            idx[root] = idx[last];
            idx[last] = t;
        }
        root = last;
    }
}

/* std::stable_sort by decreasing value: equal values keep their order. Any sort under the total
 * order (value desc, index asc) gives that result; a heap sort needs no extra memory. */
static void sort_stable_desc(const float *v, int32_t *idx, int32_t n)
{
    int32_t i;
    for (i = n / 2 - 1; i >= 0; i--) sift_down_stable(v, idx, i, n);
    for (i = n - 1; i > 0; i--) {
        const int32_t t = idx[0];
        idx[0] = idx[i];
        idx[i] = t;
        sift_down_stable(v, idx, 0, i);
    }
}

/* libstdc++'s std::partial_sort(first, middle, last, comp) with comp(i, j) = v[i] > v[j]: a heap
 * select then a heap sort of [0, k). Not stable; equal values end where this algorithm puts them,
 * which is what TFLite (built against libstdc++) outputs. */
static int greater(const float *v, int32_t a, int32_t b) { return v[a] > v[b]; }

static void push_heap(const float *v, int32_t *h, int32_t hole, int32_t top, int32_t value)
{
    int32_t parent = (hole - 1) / 2;
    while (hole > top && greater(v, h[parent], value)) {
        h[hole] = h[parent];
        hole = parent;
        parent = (hole - 1) / 2;
    }
    h[hole] = value;
}

static void adjust_heap(const float *v, int32_t *h, int32_t hole, int32_t len, int32_t value)
{
    const int32_t top = hole;
    int32_t child = hole;
    while (child < (len - 1) / 2) {
        child = 2 * (child + 1);
        if (greater(v, h[child], h[child - 1])) child--;
        h[hole] = h[child];
        hole = child;
    }
    if ((len & 1) == 0 && child == (len - 2) / 2) {
        child = 2 * (child + 1);
        h[hole] = h[child - 1];
        hole = child - 1;
    }
    push_heap(v, h, hole, top, value);
}

static void partial_sort_desc(const float *v, int32_t *idx, int32_t k, int32_t n)
{
    int32_t i;
    if (k >= 2) /* make_heap */
        for (i = (k - 2) / 2;; i--) {
            adjust_heap(v, idx, i, k, idx[i]);
            if (i == 0) break;
        }
    for (i = k; i < n; i++)
        if (greater(v, idx[i], idx[0])) { /* pop_heap(first, middle, i) */
            const int32_t value = idx[i];
            idx[i] = idx[0];
            adjust_heap(v, idx, 0, k, value);
        }
    while (k > 1) { /* sort_heap */
        const int32_t value = idx[--k];
        idx[k] = idx[0];
        adjust_heap(v, idx, 0, k, value);
    }
}

/* First index of the largest of n values (optimized_ops::ArgMaxVector). */
static int32_t arg_max_first(const float *v, int32_t n)
{
    int32_t i, best = 0;
    for (i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* DecreasingPartialArgSort: indices of the k largest of n values, in TFLite's order. */
static void partial_arg_sort(const float *v, int32_t n, int32_t k, int32_t *idx)
{
    int32_t i;
    if (k == 1) {
        idx[0] = arg_max_first(v, n);
        return;
    }
    for (i = 0; i < n; i++) idx[i] = i;
    partial_sort_desc(v, idx, k, n);
}

/* ---- non-max suppression ------------------------------------------------------------------ */
typedef struct {
    corner_box *boxes;   /* [num_boxes] decoded */
    float *values;       /* [num_boxes] the scores being suppressed (best class, or one class) */
    int32_t *order;      /* [num_boxes] boxes above the threshold, ranked */
    uint8_t *active;     /* [num_boxes] */
    float *cls_score;    /* [classes] one box's class scores */
    int32_t *cls_idx;    /* [classes] ranked */
    int32_t *selected;   /* [max(max_detections, detections_per_class)] */
    int32_t *merged_box; /* regular NMS, [max_detections + detections_per_class] each: */
    float *merged_score; /*   kept (box * classes_with_bg + class) and score, best first */
    int32_t *sorted;
    float *sorted_score;
} workspace;

/* NonMaxSuppressionSingleClassHelper: boxes with values >= threshold ranked (stable), each kept
 * unless it overlaps a kept one by more than the IoU threshold; up to max_out kept -> selected. */
static int32_t nms_single_class(const qmcu_detection_params *p, const workspace *w, int32_t num_boxes, int32_t max_out)
{
    int32_t kept = 0, n = 0, i, j, active;
    for (i = 0; i < num_boxes; i++)
        if (w->values[i] >= p->score_threshold) w->order[n++] = i;
    sort_stable_desc(w->values, w->order, n);
    memset(w->active, 1, (size_t)n);
    active = n;
    for (i = 0; i < n; i++) {
        if (active == 0 || kept >= max_out) break;
        if (!w->active[i]) continue;
        w->selected[kept++] = w->order[i];
        w->active[i] = 0;
        active--;
        for (j = i + 1; j < n; j++)
            if (w->active[j] && iou(&w->boxes[w->order[i]], &w->boxes[w->order[j]]) > p->iou_threshold) {
                w->active[j] = 0;
                active--;
            }
    }
    return kept;
}

static size_t align8(size_t v) { return (v + 7) & ~(size_t)7; }

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }

/* The next `bytes` of the workspace at *off (NULL when only measuring). */
static void *carve(uint8_t *base, size_t *off, size_t bytes)
{
    void *p = base ? base + *off : NULL;
    *off += align8(bytes);
    return p;
}

/* Lays the workspace out from `base` (NULL: only measures); returns its size. */
static size_t layout(const qmcu_detection_params *p, int32_t num_boxes, int32_t classes, uint8_t *base, workspace *w)
{
    size_t at = 0;
    const size_t nb = (size_t)num_boxes, merged = (size_t)p->max_detections + (size_t)p->detections_per_class;
    w->boxes = (corner_box *)carve(base, &at, nb * sizeof(corner_box));
    w->values = (float *)carve(base, &at, nb * 4);
    w->order = (int32_t *)carve(base, &at, nb * 4);
    w->active = (uint8_t *)carve(base, &at, nb);
    w->cls_score = (float *)carve(base, &at, (size_t)classes * 4);
    w->cls_idx = (int32_t *)carve(base, &at, (size_t)classes * 4);
    w->selected = (int32_t *)carve(base, &at, (size_t)max_i32(p->max_detections, p->detections_per_class) * 4);
    w->merged_box = w->sorted = NULL;
    w->merged_score = w->sorted_score = NULL;
    if (p->use_regular_nms) {
        w->merged_box = (int32_t *)carve(base, &at, merged * 4);
        w->merged_score = (float *)carve(base, &at, merged * 4);
        w->sorted = (int32_t *)carve(base, &at, merged * 4);
        w->sorted_score = (float *)carve(base, &at, merged * 4);
    }
    return at;
}

size_t qmcu_detection_scratch_size(const qmcu_detection_params *p, int32_t num_boxes, int32_t num_classes_with_bg)
{
    workspace w;
    return layout(p, num_boxes, num_classes_with_bg, NULL, &w);
}

static void write_detection(const qmcu_detection_params *p, const corner_box *box, int32_t slot, float cls, float score,
                            float *out)
{
    const int32_t n = p->max_detections * p->max_classes_per_detection;
    out[4 * slot] = box->ymin;
    out[4 * slot + 1] = box->xmin;
    out[4 * slot + 2] = box->ymax;
    out[4 * slot + 3] = box->xmax;
    out[4 * n + slot] = cls;
    out[5 * n + slot] = score;
}

/* One box's class scores (background skipped) into w->cls_score. */
static void box_class_scores(const qmcu_detection_params *p, const qmcu_detection_inputs *in, const workspace *w,
                             int32_t box)
{
    const int32_t label_offset = in->num_classes_with_background - p->num_classes;
    int32_t c;
    for (c = 0; c < p->num_classes; c++) w->cls_score[c] = score_of(in, box, c + label_offset);
}

/* NonMaxSuppressionMultiClassFastHelper: one NMS over each anchor's best class score; each kept
 * anchor reports its top classes. Returns the number of anchors kept. */
static int32_t nms_fast(const qmcu_detection_params *p, const qmcu_detection_inputs *in, const workspace *w, float *out)
{
    const int32_t per_anchor =
        p->max_classes_per_detection < p->num_classes ? p->max_classes_per_detection : p->num_classes;
    int32_t i, c, kept;
    for (i = 0; i < in->num_boxes; i++) { /* the value the class ranking puts first: the largest */
        box_class_scores(p, in, w, i);
        w->values[i] = w->cls_score[arg_max_first(w->cls_score, p->num_classes)];
    }
    kept = nms_single_class(p, w, in->num_boxes, p->max_detections);
    for (i = 0; i < kept; i++) {
        const int32_t box = w->selected[i];
        box_class_scores(p, in, w, box);
        partial_arg_sort(w->cls_score, p->num_classes, per_anchor, w->cls_idx);
        for (c = 0; c < per_anchor; c++)
            write_detection(p, &w->boxes[box], p->max_classes_per_detection * i + c, (float)w->cls_idx[c],
                            w->cls_score[w->cls_idx[c]], out);
    }
    return kept;
}

/* NonMaxSuppressionMultiClassRegularHelper: NMS per class (up to detections_per_class each),
 * merged into the best max_detections so far after every class. Returns the number kept. (TFLite's
 * published source partial-sorts the union instead; the 2.9 library merges, as measured: with equal
 * scores only the merge reproduces its choice and order.) */
static int32_t nms_regular(const qmcu_detection_params *p, const qmcu_detection_inputs *in, const workspace *w,
                           float *out)
{
    const int32_t ncb = in->num_classes_with_background, label_offset = ncb - p->num_classes;
    int32_t col, i, size = 0;
    for (col = 0; col < p->num_classes; col++) {
        int32_t kept, n, k;
        for (i = 0; i < in->num_boxes; i++) w->values[i] = score_of(in, i, col + label_offset);
        kept = nms_single_class(p, w, in->num_boxes, p->detections_per_class);
        n = size;
        for (i = 0; i < kept; i++, n++) {
            w->merged_box[n] = w->selected[i] * ncb + col + label_offset;
            w->merged_score[n] = w->values[w->selected[i]];
        }
        k = n < p->max_detections ? n : p->max_detections;
        { /* merge the kept run [0, size) and this class's run [size, n), both best first; an equal score
           * goes to this class first (std::inplace_merge with TFLite's non-strict comparison) */
            int32_t a = 0, b = size;
            for (i = 0; i < k; i++) {
                const int take_new = b < n && (a >= size || w->merged_score[b] >= w->merged_score[a]);
                const int32_t from = take_new ? b++ : a++;
                w->sorted[i] = w->merged_box[from];
                w->sorted_score[i] = w->merged_score[from];
            }
        }
        for (i = 0; i < k; i++) {
            w->merged_box[i] = w->sorted[i];
            w->merged_score[i] = w->sorted_score[i];
        }
        size = k;
    }
    for (i = 0; i < size; i++) {
        const int32_t anchor = w->merged_box[i] / ncb, cls = w->merged_box[i] - anchor * ncb - label_offset;
        write_detection(p, &w->boxes[anchor], i, (float)cls, w->merged_score[i], out);
    }
    return size;
}

qmcu_status qmcu_detection_postprocess(const qmcu_detection_params *p, const qmcu_detection_inputs *in, void *scratch,
                                       size_t scratch_bytes, float *out)
{
    const int32_t n = p->max_detections * p->max_classes_per_detection;
    workspace w;
    int32_t i, kept;
    if (layout(p, in->num_boxes, in->num_classes_with_background, NULL, &w) > scratch_bytes) return QMCU_ERR_NOMEM;
    layout(p, in->num_boxes, in->num_classes_with_background, (uint8_t *)scratch, &w);
    memset(out, 0, sizeof(float) * (size_t)(6 * n + 1));
    decode_boxes(p, in, w.boxes);
    for (i = 0; i < in->num_boxes; i++) /* ValidateBoxes */
        if (w.boxes[i].ymin > w.boxes[i].ymax || w.boxes[i].xmin > w.boxes[i].xmax) return QMCU_ERR_FORMAT;
    kept = p->use_regular_nms ? nms_regular(p, in, &w, out) : nms_fast(p, in, &w, out);
    out[6 * n] = (float)kept;
    return QMCU_OK;
}
