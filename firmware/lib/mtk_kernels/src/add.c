/* ADD int8 of two same-shaped tensors; TFLM's general rescaling path (inputs shifted left by 20 bits). */
#include "mtk_kernels.h"
#include "mtk_fixedpoint.h"

void mtk_add_s8(const mtk_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    for (uint32_t i = 0; i < p->size; ++i) {
        const int32_t a = mtk_shift_left(p->input1_offset + input1[i], p->left_shift);
        const int32_t b = mtk_shift_left(p->input2_offset + input2[i], p->left_shift);
        const int32_t sum = mtk_requantize(a, p->input1_multiplier, p->input1_shift) +
                            mtk_requantize(b, p->input2_multiplier, p->input2_shift);
        const int32_t value = mtk_requantize(sum, p->output_multiplier, p->output_shift) + p->q.output_zero_point;
        output[i] = (int8_t)mtk_clamp(value, p->q.act_min, p->q.act_max);
    }
}
