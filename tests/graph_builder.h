/* Small in-memory int8 graphs for tests (the same IR the importer produces): chains of
 * conv / depthwise / pad / add / pool with random per-channel weights. */
#ifndef QMCU_GRAPH_BUILDER_H
#define QMCU_GRAPH_BUILDER_H

#include <stdlib.h>
#include <string.h>

#include "quantmcu/graph.h"
#include "test_util.h"

static inline qmcu_graph *gb_new(const char *name)
{
    qmcu_graph *g = (qmcu_graph *)calloc(1, sizeof *g);
    g->tensors = (qmcu_tensor *)calloc(64, sizeof(qmcu_tensor));
    g->ops = (qmcu_op *)calloc(32, sizeof(qmcu_op));
    snprintf(g->path, sizeof g->path, "%s", name);
    g->fingerprint = 0x1234u;
    return g;
}

static inline int gb_tensor(qmcu_graph *g, int n, int h, int w, int c, float scale, int zp)
{
    qmcu_tensor *t = &g->tensors[g->n_tensors];
    t->ndim = 4;
    t->dims[0] = n;
    t->dims[1] = h;
    t->dims[2] = w;
    t->dims[3] = c;
    t->type = QMCU_I8;
    t->quantized = 1;
    t->scale = scale;
    t->zero_point = zp;
    t->n_scales = 1;
    t->scales = (float *)malloc(sizeof(float));
    t->scales[0] = scale;
    t->bytes = (size_t)n * h * w * c;
    snprintf(t->name, sizeof t->name, "t%d", g->n_tensors);
    return g->n_tensors++;
}

static inline int gb_input(qmcu_graph *g, int h, int w, int c)
{
    const int t = gb_tensor(g, 1, h, w, c, 0.02f, -5);
    g->inputs[g->n_inputs++] = t;
    return t;
}

static inline void gb_output(qmcu_graph *g, int t) { g->outputs[g->n_outputs++] = t; }

static inline qmcu_op *gb_op(qmcu_graph *g, qmcu_op_type type)
{
    qmcu_op *op = &g->ops[g->n_ops++];
    op->type = type;
    op->stride_h = op->stride_w = op->dil_h = op->dil_w = 1;
    op->depth_multiplier = 1;
    return op;
}

/* conv (depthwise if dw) k x k, stride s, dilation d, SAME/VALID, oc outputs, ReLU6 */
static inline int gb_conv(qmcu_graph *g, int x, int oc, int k, int s, int d, int same, int dw)
{
    const qmcu_tensor *xt = &g->tensors[x];
    const int h = xt->dims[1], w = xt->dims[2], ic = xt->dims[3];
    const int oh = qmcu_out_size(same, h, k, s, d), ow = qmcu_out_size(same, w, k, s, d);
    const int wt = gb_tensor(g, dw ? 1 : oc, k, k, dw ? oc : ic, 0.01f, 0);
    const int bt = gb_tensor(g, 1, 1, 1, oc, 0.0002f, 0);
    const int y = gb_tensor(g, 1, oh, ow, oc, 0.05f, (int)(rnd() % 20) - 10);
    qmcu_tensor *W = &g->tensors[wt], *B = &g->tensors[bt];
    qmcu_op *op = gb_op(g, dw ? QMCU_OP_DEPTHWISE_CONV_2D : QMCU_OP_CONV_2D);
    size_t i;
    W->data = malloc(W->bytes);
    for (i = 0; i < W->bytes; i++) ((int8_t *)W->data)[i] = (int8_t)(rnd() % 255 - 127);
    free(W->scales);
    W->n_scales = oc;
    W->scales = (float *)malloc(sizeof(float) * (size_t)oc);
    for (i = 0; i < (size_t)oc; i++) W->scales[i] = 0.005f + 0.001f * (float)(rnd() % 10);
    W->quant_dim = dw ? 3 : 0;
    B->type = QMCU_I32;
    B->ndim = 1;
    B->dims[0] = oc;
    B->bytes = sizeof(int32_t) * (size_t)oc;
    B->data = malloc(B->bytes);
    for (i = 0; i < (size_t)oc; i++) ((int32_t *)B->data)[i] = rnd_range(-3000, 3000);
    op->n_in = 3;
    op->in[0] = x;
    op->in[1] = wt;
    op->in[2] = bt;
    op->out = y;
    op->padding_same = same;
    op->stride_h = op->stride_w = s;
    op->dil_h = op->dil_w = d;
    op->act = QMCU_ACT_RELU6;
    op->depth_multiplier = dw ? oc / ic : 1;
    op->pad_top = qmcu_pad_before(same, h, k, s, d);
    op->pad_left = qmcu_pad_before(same, w, k, s, d);
    return y;
}

static inline int gb_pad(qmcu_graph *g, int x, int top, int bottom, int left, int right)
{
    const qmcu_tensor *xt = &g->tensors[x];
    const int y =
        gb_tensor(g, 1, xt->dims[1] + top + bottom, xt->dims[2] + left + right, xt->dims[3], xt->scale, xt->zero_point);
    qmcu_op *op = gb_op(g, QMCU_OP_PAD);
    op->n_in = 1;
    op->in[0] = x;
    op->out = y;
    op->pads[1][0] = top;
    op->pads[1][1] = bottom;
    op->pads[2][0] = left;
    op->pads[2][1] = right;
    return y;
}

static inline int gb_add(qmcu_graph *g, int a, int b)
{
    const qmcu_tensor *at = &g->tensors[a];
    const int y = gb_tensor(g, 1, at->dims[1], at->dims[2], at->dims[3], 0.07f, 3);
    qmcu_op *op = gb_op(g, QMCU_OP_ADD);
    op->n_in = 2;
    op->in[0] = a;
    op->in[1] = b;
    op->out = y;
    return y;
}

static inline int gb_pool(qmcu_graph *g, int x, int k, int s, int same, int is_max)
{
    const qmcu_tensor *xt = &g->tensors[x];
    const int y = gb_tensor(g, 1, qmcu_out_size(same, xt->dims[1], k, s, 1), qmcu_out_size(same, xt->dims[2], k, s, 1),
                            xt->dims[3], xt->scale, xt->zero_point);
    qmcu_op *op = gb_op(g, is_max ? QMCU_OP_MAX_POOL_2D : QMCU_OP_AVERAGE_POOL_2D);
    op->n_in = 1;
    op->in[0] = x;
    op->out = y;
    op->filter_h = op->filter_w = k;
    op->stride_h = op->stride_w = s;
    op->padding_same = same;
    op->pad_top = qmcu_pad_before(same, xt->dims[1], k, s, 1);
    op->pad_left = qmcu_pad_before(same, xt->dims[2], k, s, 1);
    return y;
}

#endif
