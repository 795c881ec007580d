/* Output stage over a run of accumulators; see output_stage.h. */
#include "output_stage.h"

void mtk_output_run_s8(const mtk_output_stage *s, const int32_t *acc, int first, int n, int8_t *out)
{
    const int32_t *mult = s->multiplier + first;
    const int32_t lo = s->act_min, hi = s->act_max;
#if MTK_DSP
    if (s->rounding != NULL) {
        const int32_t *rounding = s->rounding + first;
        const int8_t *rshift = s->rshift + first;
        if (lo == -128 && hi == 127) {
            for (int i = 0; i < n; ++i) {
                out[i] = (int8_t)__ssat(mtk_output_folded(acc[i], mult[i], rounding[i], rshift[i]), 8);
            }
        } else {
            for (int i = 0; i < n; ++i) {
                out[i] = mtk_output_folded_s8(acc[i], mult[i], rounding[i], rshift[i], lo, hi);
            }
        }
        return;
    }
#endif
    const int8_t *shift = s->shift + first;
    const int32_t zp = s->zero_point;
    for (int i = 0; i < n; ++i) {
        out[i] = mtk_output_s8(acc[i], mult[i], shift[i], zp, lo, hi);
    }
}
