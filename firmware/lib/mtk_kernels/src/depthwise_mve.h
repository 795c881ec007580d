/*
 * DEPTHWISE_CONV_2D 3x3, depth multiplier 1, on Helium (depthwise_mve.c): per channel a window's 9 taps are
 * 9 of at most 15 consecutive scratch bytes, so one vector load and one VMLADAVA.S8 give its accumulator:
 * interleaved rows on wide maps, column strips on small ones.
 */
#ifndef MTK_DEPTHWISE_MVE_H_
#define MTK_DEPTHWISE_MVE_H_

#include "mtk_kernels.h"
#include "output_stage.h"

#define MTK_DW_MVE_GROUP 8 /* channels a pass over the rows serves (one 16-bit scatter's lanes) */

/* Scratch: per channel of a group the three window rows interleaved column by column, 24 bytes a padded
 * column for the group, no load reading beyond them: never more than the DSP path's rows, 24 bytes a column
 * pair, which mtk_depthwise_conv2d_scratch_bytes (the one size the planner asks) gives every build path. The
 * column strips take 5 * columns + 1 bytes a channel, for 4 channels (or 8 where that size has room). */

#if MTK_MVE
/* Whether the column strips serve the layer (folded output stage forms): rows of up to 6 outputs, 12 at stride 1 (VWW's 12-wide layers:
 * 151.0 k beats against 158.8 k at stride 1, 127.3 k against 99.4 k at stride 2, whose strips take 5 input
 * rows for 2 output rows). */
MTK_INLINE int mtk_depthwise_mve_strips(const mtk_depthwise_params *p)
{
    return p->folded && p->filter_h == 3 && p->filter_w == 3 && (p->stride_h == 1 || p->stride_h == 2) &&
           p->out_w <= (p->stride_h == 1 ? 12 : 6);
}

/* Whether mtk_depthwise_mve_s8 serves the layer (the caller has checked depth multiplier 1, >= 4 channels):
 * rows of 3 outputs or fewer only through the strips; the interleaved rows' per-row set-up is too large for
 * them (VWW's 3x3-output layers: 74.5 k and 117 k beats against the DSP path's 55.6 k and 94.1 k). */
MTK_INLINE int mtk_depthwise_mve_ok(const mtk_depthwise_params *p)
{
    return p->filter_h == 3 && p->filter_w == 3 && (p->out_w >= 4 || mtk_depthwise_mve_strips(p)) && p->in_w <= 2048;
}

/* Channels [0, in_c / 4 * 4) of the layer; width = padded input columns (below 3,000: the scatter offsets are
 * 16-bit), scratch as sized above. */
void mtk_depthwise_mve_s8(const mtk_depthwise_params *p, int width, const int8_t *input, int8_t *output,
                          int8_t *scratch);
#endif

#endif /* MTK_DEPTHWISE_MVE_H_ */
