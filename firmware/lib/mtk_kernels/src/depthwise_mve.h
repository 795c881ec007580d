/*
 * DEPTHWISE_CONV_2D 3x3, depth multiplier 1, on Helium (depthwise_mve.c): per channel a window's 9 taps are
 * 9 consecutive scratch bytes, so one vector load and one VMLADAVA.S8 give its accumulator.
 */
#ifndef MTK_DEPTHWISE_MVE_H_
#define MTK_DEPTHWISE_MVE_H_

#include "mtk_kernels.h"
#include "output_stage.h"

#define MTK_DW_MVE_GROUP 8 /* channels a pass over the rows serves (one 16-bit scatter's lanes) */

/* Scratch: per channel of a group the three window rows interleaved column by column, 24 bytes a padded
 * column for the group, no load reading beyond them: never more than the DSP path's rows, 24 bytes a column
 * pair, which mtk_depthwise_conv2d_scratch_bytes (the one size the planner asks) gives every build path. */

#if MTK_MVE
/* Whether mtk_depthwise_mve_s8 serves the layer (the caller has checked depth multiplier 1, >= 4 channels):
 * rows of 3 outputs or fewer stay on the DSP path, whose per-row set-up is smaller (VWW's 3x3-output layers:
 * 74.5 k and 117 k beats here against 55.6 k and 94.1 k). */
MTK_INLINE int mtk_depthwise_mve_ok(const mtk_depthwise_params *p)
{
    return p->filter_h == 3 && p->filter_w == 3 && p->out_w >= 4 && p->in_w <= 2048;
}

/* Channels [0, in_c / 4 * 4) of the layer; width = padded input columns (below 3,000: the scatter offsets are
 * 16-bit), scratch as sized above. */
void mtk_depthwise_mve_s8(const mtk_depthwise_params *p, int width, const int8_t *input, int8_t *output,
                          int8_t *scratch);
#endif

#endif /* MTK_DEPTHWISE_MVE_H_ */
