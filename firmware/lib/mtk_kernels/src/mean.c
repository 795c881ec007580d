/* MEAN over height and width; TFLM's integer QuantizedMeanOrSum with 1/count folded into the multiplier. */
#include "mtk_kernels.h"
#include "mtk_fixedpoint.h"

void mtk_mean_hw_s8(const mtk_mean_params *p, const int8_t *input, int8_t *output)
{
    const int count = p->in_h * p->in_w;
    const int channels = p->in_c;
    for (int c = 0; c < channels; ++c) {
        int32_t sum = 0;
        for (int i = 0; i < count; ++i) {
            sum += input[i * channels + c];
        }
        const int32_t shifted = sum - p->input_zero_point * count;
        const int32_t value = mtk_requantize(shifted, p->multiplier, p->shift) + p->output_zero_point;
        output[c] = (int8_t)mtk_clamp(value, -128, 127);
    }
}
