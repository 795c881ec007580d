/* RELU int8 as an operator of its own; bit-exact with TFLM's ReluQuantized, which requantizes to the output's
 * scale as it clamps: out = clamp(MBQM(x - zp_in) + zp_out, act_min, 127), act_min the output's zero. */
#include "mtk_kernels.h"
#include "mtk_fixedpoint.h"

void mtk_relu_s8(const mtk_relu_params *p, const int8_t *input, int8_t *output)
{
    for (uint32_t i = 0; i < p->size; ++i) {
        const int32_t value = mtk_requantize((int32_t)input[i] - p->input_zero_point, p->multiplier, p->shift);
        output[i] = (int8_t)mtk_clamp(value + p->output_zero_point, p->act_min, 127);
    }
}
