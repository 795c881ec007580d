/* MAX_POOL_2D, int8 (input and output share quantization, as TFLM requires); bit-exact with TFLM's
 * reference MaxPool: the largest value of the window's pixels inside the image. */
#include "pool_window.h"

void mtk_max_pool_s8(const mtk_pool_params *p, const int8_t *input, int8_t *output)
{
    mtk_pool_windows(p, input, output, 0);
}
