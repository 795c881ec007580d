/* RELU6 int8 as an operator of its own; bit-exact with TFLM's Relu6Quantized, which clamps the input between
 * its zero point and 6.0 in its scale and writes the result unchanged otherwise: the output's quantization
 * is not read (the converter gives it the input's). */
#include "mtk_kernels.h"

void mtk_relu6_s8(const mtk_relu6_params *p, const int8_t *input, int8_t *output)
{
    for (uint32_t i = 0; i < p->size; ++i) {
        const int8_t value = input[i];
        output[i] = value > p->six ? p->six : value < p->zero ? p->zero : value;
    }
}
