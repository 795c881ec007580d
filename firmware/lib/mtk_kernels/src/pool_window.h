/*
 * The window loop AVERAGE_POOL_2D and MAX_POOL_2D share (avg_pool.c, max_pool.c): padding is excluded from
 * the window, not read as zeros, as in TFLM's reference kernels. `average` is a constant after inlining.
 */
#ifndef MTK_POOL_WINDOW_H_
#define MTK_POOL_WINDOW_H_

#include "mtk_kernels.h"
#include "mtk_fixedpoint.h"

#define MTK_MAX(a, b) ((a) > (b) ? (a) : (b))
#define MTK_MIN(a, b) ((a) < (b) ? (a) : (b))

MTK_INLINE void mtk_pool_windows(const mtk_pool_params *p, const int8_t *input, int8_t *output, const int average)
{
    const int c_count = p->c;
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_top;
        const int ky_start = MTK_MAX(0, -y0);
        const int ky_end = MTK_MIN(p->filter_h, p->in_h - y0);
        for (int ox = 0; ox < p->out_w; ++ox) {
            const int x0 = ox * p->stride_w - p->pad_left;
            const int kx_start = MTK_MAX(0, -x0);
            const int kx_end = MTK_MIN(p->filter_w, p->in_w - x0);
            const int count = (ky_end - ky_start) * (kx_end - kx_start);
            for (int c = 0; c < c_count; ++c) {
                int32_t acc = average ? 0 : -128;
                for (int ky = ky_start; ky < ky_end; ++ky) {
                    const int8_t *row = input + ((y0 + ky) * p->in_w + x0) * c_count + c;
                    for (int kx = kx_start; kx < kx_end; ++kx) {
                        const int32_t v = row[kx * c_count];
                        acc = average ? acc + v : MTK_MAX(acc, v);
                    }
                }
                if (average && count > 0) {
                    /* rounds half away from zero, like the reference */
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                }
                *output++ = (int8_t)mtk_clamp(acc, p->act_min, p->act_max);
            }
        }
    }
}

#endif /* MTK_POOL_WINDOW_H_ */
