/*
 * DEPTHWISE_CONV_2D 3x3, depth multiplier 1, on Helium (depthwise_mve.c): per channel a window's 9 taps are
 * 9 consecutive scratch bytes, so one vector load and one VMLADAVA.S8 give its accumulator.
 */
#ifndef MTK_DEPTHWISE_MVE_H_
#define MTK_DEPTHWISE_MVE_H_

#include "mtk_kernels.h"
#include "output_stage.h"

#define MTK_DW_MVE_GROUP 8 /* channels a pass over the rows serves (one 16-bit scatter's lanes) */

/* Scratch bytes the Helium layout needs for a 3x3 layer `width` padded columns wide: per channel of a group
 * the three window rows interleaved column by column, plus the 16-byte load's overrun past the last window.
 * Plain C on every build path, so the planner's arena is the same whichever path runs. */
MTK_INLINE uint32_t mtk_depthwise_mve_scratch_bytes(const mtk_depthwise_params *p, int width)
{
    return p->filter_h == 3 && p->filter_w == 3 ? MTK_DW_MVE_GROUP * 3u * (uint32_t)width + 16u : 0u;
}

#if MTK_MVE
/* Whether mtk_depthwise_mve_s8 serves the layer (the caller has checked depth multiplier 1, >= 4 channels). */
MTK_INLINE int mtk_depthwise_mve_ok(const mtk_depthwise_params *p)
{
    return p->filter_h == 3 && p->filter_w == 3;
}

/* Channels [0, in_c / 4 * 4) of the layer; width = padded input columns, scratch as sized above. */
void mtk_depthwise_mve_s8(const mtk_depthwise_params *p, int width, const int8_t *input, int8_t *output,
                          int8_t *scratch);
#endif

#endif /* MTK_DEPTHWISE_MVE_H_ */
