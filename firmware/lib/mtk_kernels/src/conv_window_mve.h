/*
 * CONV_2D's 3x3 windows on one or three input channels (a grayscale or RGB model's first layer) on Helium:
 * each pixel's im2col row formed in vector registers from predicated loads of the three input rows, then
 * the dot engine's vector-row core (dot_rows_mve.h). No copy into scratch.
 */
#ifndef MTK_CONV_WINDOW_MVE_H_
#define MTK_CONV_WINDOW_MVE_H_

#include "dot_rows.h"

#if MTK_MVE
/* Whether mtk_conv2d_window_mve_s8 serves the layer. */
MTK_INLINE int mtk_conv2d_window_mve_ok(const mtk_conv_params *p)
{
    return (p->in_c == 1 || p->in_c == 3) && p->filter_h == 3 && p->filter_w == 3;
}

/* The layer's pixels in raster order, in whole groups of the routine's width (3 pixels for one channel, 2
 * for three); returns the pixels done (the caller finishes the rest). d is the layer's dot engine. */
int mtk_conv2d_window_mve_s8(const mtk_conv_params *p, const mtk_dot_rows *d, const int8_t *input, int8_t *output);
#endif

#endif /* MTK_CONV_WINDOW_MVE_H_ */
