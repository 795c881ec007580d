/*
 * The output stage applied to a run of int32 accumulators (one pixel's channels): a tight loop with
 * every parameter in a register. Kernels compute accumulators first and call this second, which keeps
 * both loops free of register spills on Cortex-M.
 */
#ifndef MTK_OUTPUT_STAGE_H_
#define MTK_OUTPUT_STAGE_H_

#include "mtk_fixedpoint.h"

typedef struct {
    const int32_t *multiplier;
    const int8_t *shift;
    const int32_t *rounding; /* folded stage (DSP path) or NULL */
    const int8_t *rshift;
    int32_t zero_point, act_min, act_max;
} mtk_output_stage;

/* out[i] for channels first .. first + n - 1. */
void mtk_output_run_s8(const mtk_output_stage *s, const int32_t *acc, int first, int n, int8_t *out);

#endif /* MTK_OUTPUT_STAGE_H_ */
