/* Plan search: every legal split x every grid 1x1..8x8 (non-square too) x halo strategy, and "no
 * patching". */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cost_model.h"
#include "plan.h"

#define QMCU_MAX_GRID 8

/* Is a better than b? Fitting beats not fitting; among fitting plans the fewest predicted
 * emulated instructions (the cost model: MACs, and what tiles, rows and calls cost on the device;
 * then fewer tiles, then the smaller arena); among the others the smallest arena. */
static int better(const qmcu_plan *a, const qmcu_plan *b, size_t budget)
{
    const int fa = a->arena_bytes <= budget, fb = b->arena_bytes <= budget;
    if (fa != fb) return fa;
    if (fa) {
        if (a->predicted != b->predicted) return a->predicted < b->predicted;
        if (a->n_tiles != b->n_tiles) return a->n_tiles < b->n_tiles;
        if (a->arena_bytes != b->arena_bytes) return a->arena_bytes < b->arena_bytes;
    } else {
        if (a->arena_bytes != b->arena_bytes) return a->arena_bytes < b->arena_bytes;
        if (a->predicted != b->predicted) return a->predicted < b->predicted;
    }
    return a->n_tiles < b->n_tiles;
}

static const int k_halos[] = {QMCU_HALO_RECOMPUTE, QMCU_HALO_COLS, QMCU_HALO_CACHED};

/* Builds spec, counts it, and keeps it in *best when it is better (*took: it was kept; may be NULL). */
static qmcu_status consider(const qmcu_model *m, const qmcu_plan_spec *spec, size_t budget, qmcu_plan **best,
                            int *candidates, int *took, qmcu_error *err)
{
    qmcu_plan *cand;
    const qmcu_status st = qmcu_plan_build(m, spec, &cand, err);
    if (took) *took = 0;
    if (st != QMCU_OK) return st;
    (*candidates)++;
    cand->predicted = qmcu_cost_predict(cand);
    if (*best && !better(cand, *best, budget)) {
        qmcu_plan_free(cand);
        return QMCU_OK;
    }
    qmcu_plan_free(*best);
    *best = cand;
    if (took) *took = 1;
    return QMCU_OK;
}

/* Mixed halo plans of one geometry, for when recompute fits and all-cached does not: the caches of
 * a prefix or of a suffix of the cacheable ops kept (columns only, or columns and rows), the rest
 * recomputing; then op by op, each cacheable op's strategy changed while that makes the plan better.
 * `cached`: the all-cached plan (which ops can cache). */
static qmcu_status mix_halo(const qmcu_model *m, qmcu_plan_spec spec, const qmcu_plan *cached, size_t budget,
                            qmcu_plan **local, int *candidates, qmcu_error *err)
{
    uint8_t *ops = (uint8_t *)calloc((size_t)spec.split, 1);
    qmcu_status st = ops ? QMCU_OK : QMCU_ERR_NOMEM;
    int j, side, mode, round, i, h, took = 1;
    spec.halo_ops = ops;
    for (side = 0; st == QMCU_OK && side < 2; side++)
        for (mode = 0; st == QMCU_OK && mode < 2; mode++)
            for (j = 1; st == QMCU_OK && j < spec.split; j++) {
                if (!cached->halo[j - 1] && !cached->halo[j]) continue; /* the same plan as j - 1 */
                for (i = 0; i < spec.split; i++)
                    ops[i] =
                        (uint8_t)((i < j) == !side ? cached->halo[i] & (mode ? QMCU_HALO_CACHED : QMCU_HALO_COLS) : 0);
                st = consider(m, &spec, budget, local, candidates, NULL, err);
            }
    for (round = 0; st == QMCU_OK && took && round < 4; round++) {
        took = 0;
        for (i = 0; i < spec.split; i++) ops[i] = (*local)->halo[i];
        for (i = 0; st == QMCU_OK && !took && i < spec.split; i++)
            for (h = 0; st == QMCU_OK && !took && h < 3; h++) {
                const uint8_t was = ops[i];
                if (!cached->halo[i] || k_halos[h] == was) continue;
                ops[i] = (uint8_t)k_halos[h];
                st = consider(m, &spec, budget, local, candidates, &took, err);
                if (!took) ops[i] = was;
            }
    }
    free(ops);
    return st;
}

/* Builds spec's geometry with each halo strategy asked for (halo: one of QMCU_HALO_*, or AUTO for
 * all, mixed plans included) and keeps the better of them and *best; counts candidates. */
static qmcu_status try_geometry(const qmcu_model *m, qmcu_plan_spec spec, size_t budget, int halo, qmcu_plan **best,
                                int *candidates, qmcu_error *err)
{
    qmcu_plan *local = NULL, *cached = NULL;
    qmcu_status st = QMCU_OK;
    int h;
    spec.halo_ops = NULL;
    for (h = 0; st == QMCU_OK && h < (int)(sizeof k_halos / sizeof k_halos[0]); h++) {
        if (halo != QMCU_HALO_AUTO && halo != k_halos[h]) continue;
        if (local && (local->patch_macs == local->patch_layer_macs || spec.split == 0))
            break; /* nothing recomputed: nothing to cache */
        if (halo == QMCU_HALO_AUTO && k_halos[h] == QMCU_HALO_COLS && spec.grid_w == 1) continue; /* one column */
        spec.halo = k_halos[h];
        st = consider(m, &spec, budget, &local, candidates, NULL, err);
    }
    if (st == QMCU_OK && halo == QMCU_HALO_AUTO && spec.split > 0 && local->arena_bytes <= budget &&
        local->patch_macs > local->patch_layer_macs) {
        spec.halo = QMCU_HALO_CACHED;
        if ((st = qmcu_plan_build(m, &spec, &cached, err)) == QMCU_OK && cached->arena_bytes > budget)
            st = mix_halo(m, spec, cached, budget, &local, candidates, err);
        qmcu_plan_free(cached);
    }
    if (st != QMCU_OK) {
        qmcu_plan_free(local);
        return st;
    }
    if (!*best || better(local, *best, budget)) {
        qmcu_plan_free(*best);
        *best = local;
    } else {
        qmcu_plan_free(local);
    }
    return QMCU_OK;
}

qmcu_status qmcu_plan_choose_halo(const qmcu_model *m, const qmcu_plan_spec *spec, size_t budget, qmcu_plan **out,
                                  qmcu_error *err)
{
    int candidates = 0;
    qmcu_status st;
    *out = NULL;
    st = try_geometry(m, *spec, budget, QMCU_HALO_AUTO, out, &candidates, err);
    if (st != QMCU_OK) {
        qmcu_plan_free(*out);
        *out = NULL;
    }
    return st;
}

qmcu_status qmcu_plan_search(const qmcu_model *m, size_t budget, int input_in_sram, int halo, qmcu_plan **out,
                             qmcu_search_stats *stats, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const clock_t t0 = clock();
    qmcu_plan_spec spec = {.split = 0, .grid_h = 1, .grid_w = 1, .input_in_sram = input_in_sram, .quantmcu = 0};
    qmcu_plan *best = NULL;
    qmcu_status st;
    char why[256];
    int k, gh, gw;
    stats->candidates = 0;
    if ((st = try_geometry(m, spec, budget, halo, &best, &stats->candidates, err)) != QMCU_OK) return st;
    for (k = 1; k <= g->n_ops; k++) {
        const qmcu_tensor *s = &g->tensors[g->ops[k - 1].out];
        if (!qmcu_split_is_legal(g, k, why, sizeof why)) continue;
        for (gh = 1; gh <= QMCU_MAX_GRID && gh <= s->dims[1]; gh++)
            for (gw = 1; gw <= QMCU_MAX_GRID && gw <= s->dims[2]; gw++) {
                if (qmcu_window_empty(qmcu_grid_tile(s->dims[1], s->dims[2], gh, gw, gh - 1, gw - 1))) continue;
                spec.split = k;
                spec.grid_h = gh;
                spec.grid_w = gw;
                if ((st = try_geometry(m, spec, budget, halo, &best, &stats->candidates, err)) != QMCU_OK) {
                    qmcu_plan_free(best);
                    return st;
                }
            }
    }
    if (best->arena_bytes > budget && halo == QMCU_HALO_AUTO && best->spec.split > 0) {
        /* nothing fits: the lowest peak; its geometry again with that peak as the budget, so mixed halo
           plans can lower the instructions at that peak */
        qmcu_plan *again = NULL;
        spec = best->spec;
        if ((st = try_geometry(m, spec, best->arena_bytes, halo, &again, &stats->candidates, err)) != QMCU_OK) {
            qmcu_plan_free(best);
            return st;
        }
        if (again->arena_bytes <= best->arena_bytes && again->predicted < best->predicted) {
            qmcu_plan_free(best);
            best = again;
        } else {
            qmcu_plan_free(again);
        }
    }
    stats->fits = best->arena_bytes <= budget;
    stats->seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
    *out = best;
    return QMCU_OK;
}

qmcu_status qmcu_plan_search_lowbit(const qmcu_model *m, size_t budget, int input_in_sram, qmcu_plan **out,
                                    double *predicted, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    uint8_t *four = (uint8_t *)malloc((size_t)g->n_tensors);
    qmcu_plan_spec spec = {.split = 0, .grid_h = 1, .grid_w = 1, .input_in_sram = input_in_sram};
    qmcu_plan_spec best_spec = spec;
    double best = -1.0;
    size_t best_arena = 0;
    qmcu_status st = QMCU_OK;
    int k, gh, gw, h;
    *out = NULL;
    *predicted = 0.0;
    if (!four) {
        qmcu_error_set(err, "%s: out of memory", g->path);
        return QMCU_ERR_NOMEM;
    }
    memset(four, 4, (size_t)g->n_tensors);
    spec.quantmcu = spec.packed = 1;
    spec.tensor_bits = four;
    spec.fallback_grid = -1;
    for (k = 1; k <= g->n_ops; k++) {
        const qmcu_tensor *s = &g->tensors[g->ops[k - 1].out];
        char why[256];
        qmcu_error scratch;
        if (!qmcu_split_is_legal(g, k, why, sizeof why) || !qmcu_split_is_lowbit_capable(g, k, &scratch)) continue;
        for (gh = 1; gh <= QMCU_MAX_GRID && gh <= s->dims[1]; gh++)
            for (gw = 1; gw <= QMCU_MAX_GRID && gw <= s->dims[2]; gw++)
                for (h = 0; h < (int)(sizeof k_halos / sizeof k_halos[0]); h++) {
                    qmcu_plan *p = NULL;
                    double pr;
                    if (qmcu_window_empty(qmcu_grid_tile(s->dims[1], s->dims[2], gh, gw, gh - 1, gw - 1))) continue;
                    spec.split = k;
                    spec.grid_h = gh;
                    spec.grid_w = gw;
                    spec.halo = k_halos[h];
                    if (qmcu_plan_build(m, &spec, &p, &scratch) != QMCU_OK) continue;
                    pr = p->arena_bytes <= budget ? qmcu_cost_predict(p) : -1.0;
                    if (pr >= 0.0 && (best < 0.0 || pr < best || (pr == best && p->arena_bytes < best_arena))) {
                        best = pr;
                        best_arena = p->arena_bytes;
                        best_spec = spec;
                    }
                    qmcu_plan_free(p);
                }
    }
    free(four);
    if (best < 0.0) return QMCU_OK;
    best_spec.quantmcu = best_spec.packed = 0;
    best_spec.tensor_bits = NULL;
    best_spec.fallback_grid = 0;
    if ((st = qmcu_plan_build(m, &best_spec, out, err)) != QMCU_OK) return st;
    (*out)->spec.sram_budget = budget;
    *predicted = best;
    return QMCU_OK;
}
