/* DEPTHWISE_CONV_2D's grouped path on RV32IM (MTK_RISCV), called by mtk_depthwise_conv2d_s8. */
#ifndef MTK_DEPTHWISE_RV32_H_
#define MTK_DEPTHWISE_RV32_H_

#include "mtk_kernels.h"

/* Channels 0 .. in_c / 4 * 4 of a depth-multiplier-1 layer, groups of four channels, with scratch of
 * 8 * filter_h * padded_width bytes (padded_width: the input columns the windows reach, padding included). */
void mtk_depthwise_groups_rv32(const mtk_depthwise_params *p, int padded_width, const int8_t *input, int8_t *output,
                               int8_t *scratch);

#endif /* MTK_DEPTHWISE_RV32_H_ */
