/* QUANTIZE int8 -> int8 (TFLM's Requantize reference path): out = clamp(MBQM(x - zp_in) + zp_out). */
#include "mtk_kernels.h"
#include "mtk_fixedpoint.h"

void mtk_requantize_s8(const mtk_requantize_params *p, const int8_t *input, int8_t *output)
{
    for (uint32_t i = 0; i < p->size; ++i) {
        const int32_t value = mtk_requantize((int32_t)input[i] - p->input_zero_point, p->multiplier, p->shift);
        output[i] = (int8_t)mtk_clamp(value + p->output_zero_point, -128, 127);
    }
}
