/* AVERAGE_POOL_2D, int8 (input and output share quantization, as TFLM requires); bit-exact with TFLM's
 * reference AveragePool: the window's sum divided by the pixels inside the image, rounded half away. */
#include "pool_window.h"

void mtk_avg_pool_s8(const mtk_pool_params *p, const int8_t *input, int8_t *output)
{
    mtk_pool_windows(p, input, output, 1);
}
