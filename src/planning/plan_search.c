/* Plan search: every legal split x every grid 1x1..8x8 (non-square too) and "no patching". */
#include <time.h>

#include "plan.h"

#define QMCU_MAX_GRID 8

/* Is a better than b? Fitting beats not fitting; among fitting plans the fewest executed
 * MACs (then the smaller arena, then fewer tiles); among the others the smallest arena. */
static int better(const qmcu_plan *a, const qmcu_plan *b, size_t budget)
{
    const int fa = a->arena_bytes <= budget, fb = b->arena_bytes <= budget;
    if (fa != fb) return fa;
    if (fa) {
        if (a->macs != b->macs) return a->macs < b->macs;
        if (a->arena_bytes != b->arena_bytes) return a->arena_bytes < b->arena_bytes;
    } else {
        if (a->arena_bytes != b->arena_bytes) return a->arena_bytes < b->arena_bytes;
        if (a->macs != b->macs) return a->macs < b->macs;
    }
    return a->n_tiles < b->n_tiles;
}

qmcu_status qmcu_plan_search(const qmcu_model *m, size_t budget, int input_in_sram, qmcu_plan **out,
                             qmcu_search_stats *stats, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const clock_t t0 = clock();
    qmcu_plan_spec spec = {0, 1, 1, 0, 0};
    qmcu_plan *best = NULL, *cand;
    qmcu_status st;
    char why[256];
    int k, gh, gw;
    stats->candidates = 1;
    spec.input_in_sram = input_in_sram;
    if ((st = qmcu_plan_build(m, &spec, &best, err)) != QMCU_OK) return st;
    for (k = 1; k <= g->n_ops; k++) {
        const qmcu_tensor *s = &g->tensors[g->ops[k - 1].out];
        if (!qmcu_split_is_legal(g, k, why, sizeof why)) continue;
        for (gh = 1; gh <= QMCU_MAX_GRID && gh <= s->dims[1]; gh++)
            for (gw = 1; gw <= QMCU_MAX_GRID && gw <= s->dims[2]; gw++) {
                if (qmcu_window_empty(qmcu_grid_tile(s->dims[1], s->dims[2], gh, gw, gh - 1, gw - 1))) continue;
                spec.split = k;
                spec.grid_h = gh;
                spec.grid_w = gw;
                if ((st = qmcu_plan_build(m, &spec, &cand, err)) != QMCU_OK) {
                    qmcu_plan_free(best);
                    return st;
                }
                stats->candidates++;
                if (better(cand, best, budget)) {
                    qmcu_plan_free(best);
                    best = cand;
                } else {
                    qmcu_plan_free(cand);
                }
            }
    }
    stats->fits = best->arena_bytes <= budget;
    stats->seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
    *out = best;
    return QMCU_OK;
}
