/*
 * mtk_kernels: int8 kernels for the mobilenet-tiny compiled runtime.
 *
 * Every kernel reproduces the integer arithmetic of TensorFlow Lite Micro's reference kernels bit for bit
 * (same fixed-point multiply, same rounding, same per-channel requantization), so a compiled model
 * answers exactly what the TFLM interpreter answers. Tensors are NHWC, batch 1, int8.
 *
 * The generated model code (<name>.c) owns one static arena and passes pointers into it; each kernel
 * reads its parameters and constant data (packed weights, channel quantization tables) through a const
 * descriptor in flash, filled in by the compiler (mobilenet_tiny/compiler/ops, one entry per operator).
 *
 * Layout: one entry point per file (src/<op>.c), the way CMSIS-NN lays out its kernels. Inside it the Arm
 * DSP block comes first (#if MTK_DSP: ACLE SIMD intrinsics, and hand-scheduled Thumb-2 blocks in optimised
 * builds), the portable C99 fallback after it; another architecture's block goes between the two. The
 * DSP path is chosen by __ARM_FEATURE_DSP (Cortex-M4/M7/M33/M55), and on a core with Helium (__ARM_FEATURE_MVE:
 * Cortex-M55) the MVE block (#if MTK_MVE, arm_mve.h intrinsics) comes before the DSP one in the dot engine of
 * CONV_2D and FULLY_CONNECTED (-DMTK_NO_MVE keeps the DSP path); the RV32IM block (#elif MTK_RISCV: RV32
 * with the M extension, the ESP32-C3/C6 class) is register-blocked C and assembly in <op>_rv32.c/.S beside
 * its entry point; -DMTK_PORTABLE forces portable C. Every path gives identical bytes.
 *
 * Scratch: CONV_2D, DEPTHWISE_CONV_2D and ADD take a scratch pointer into the arena, of the size their
 * *_scratch_bytes() function beside them returns (NULL when it returns 0). That function is the only
 * formula: the compiler evaluates it on the host to plan the arena, so it must give the same number on
 * every target and path. Likewise *_in_place_ok() says whether a kernel's output may overwrite its input.
 *
 * Bands: CONV_2D, DEPTHWISE_CONV_2D, the pools (rows), ADD and QUANTIZE (elements) also run on a band of
 * rows: the generated code calls the same entry point with a copy of the descriptor whose in_h, out_h and
 * pad_top (or size) describe the band, and pointers to the band's rows (the patch-based stage).
 */
#ifndef MTK_KERNELS_H_
#define MTK_KERNELS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Requantization of one output channel: out = clamp(MBQM(acc, multiplier, shift) + output_zero_point). */
typedef struct {
    int32_t output_zero_point;
    int32_t act_min; /* fused activation, already in the output's quantized domain */
    int32_t act_max;
} mtk_output_quant;

/* Packed filters (CONV_2D, FULLY_CONNECTED): each filter row (OHWI order within the row) padded with zeros
 * to k4 = k rounded up to 4, rows taken in pairs and the pair's two rows interleaved in blocks of four
 * values: f0[0..3] f1[0..3] f0[4..7] f1[4..7] ... ; an odd last row follows alone. The array is 4-byte
 * aligned (MTK_ALIGNED), so one 8-byte load feeds two filters. */
#if defined(__GNUC__)
#define MTK_ALIGNED(n) __attribute__((aligned(n)))
#else
#define MTK_ALIGNED(n)
#endif

/* Channel quantization table (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED): int32 blocks of G channels
 * (G = 2 for CONV_2D / FULLY_CONNECTED, 4 for DEPTHWISE_CONV_2D; channels padded with zeros to a multiple
 * of G), each block bias[G], multiplier[G], rounding[G], shift[G]:
 *   bias: the model's bias plus input_offset * sum(filter of the channel) (padding reads the input zero
 *         point, so the folded term cancels there exactly as TFLM's skipped taps do);
 *   folded == 0: TFLM's multiplier and shift (rounding unused);
 *   folded == 1: every r = -shift in [1, 23] and every accumulator provably below 2^30 in magnitude (the
 *         compiler checks both per layer), rounding = 2^(r-1) + output_zero_point * 2^r and the shift
 *         column holds r: the output before clamping is (SMMULR(2 * acc, multiplier) + rounding +
 *         sign(acc)) >> r, equal to TFLM's two roundings (see mtk_fixedpoint.h).
 * One base pointer then serves all of a channel group's parameters. */

/* CONV_2D. */
typedef struct {
    uint16_t in_h, in_w, in_c;
    uint16_t out_h, out_w, out_c;
    uint8_t filter_h, filter_w;
    uint8_t stride_h, stride_w;
    uint8_t pad_top, pad_left;
    int32_t input_zero_point;
    mtk_output_quant q;
    const int8_t *filter; /* packed (above) */
    const int32_t *quant; /* channel table, blocks of 2 */
    uint8_t folded;
} mtk_conv_params;

/* DEPTHWISE_CONV_2D, any depth multiplier. */
typedef struct {
    uint16_t in_h, in_w, in_c;
    uint16_t out_h, out_w, out_c;
    uint8_t filter_h, filter_w;
    uint8_t stride_h, stride_w;
    uint8_t pad_top, pad_left;
    uint16_t depth_multiplier;
    int32_t input_zero_point;
    mtk_output_quant q;
    /* int16, groups of 4 output channels (zero-padded), per group every tap (HW order) as w[c0], w[c2], w[c1],
     * w[c3]: the halfword order SXTB16 gives the input's 4 channels. */
    const int16_t *filter;
    const int32_t *quant; /* channel table, blocks of 4 */
    uint8_t folded;
    /* A banded stage's input window as a ring (0: the input rows follow each other): the buffer at `input`
     * holds in_ring rows, and the band's input row iy is buffer row in_ring_first + iy, less in_ring once
     * it reaches in_ring (mtk_ring_row), so that the stage writes each new row over a dead one instead of
     * moving the kept rows up. */
    uint16_t in_ring, in_ring_first;
} mtk_depthwise_params;

/* Buffer row of a band's row iy (0 <= iy < rows <= ring; ring 0 and first 0: iy itself). */
static inline int mtk_ring_row(int ring, int first, int iy)
{
    const int r = first + iy;
    return r >= ring ? r - ring : r;
}

/* FULLY_CONNECTED: filter is [out_c][in_c], packed; per-tensor weights repeat the one multiplier per channel. */
typedef struct {
    uint16_t in_c, out_c;
    mtk_output_quant q;
    const int8_t *filter;
    const int32_t *quant; /* channel table, blocks of 2 */
    uint8_t folded;
} mtk_fc_params;

/* MEAN over H and W of an HxWxC tensor (TFLM's integer QuantizedMeanOrSum, 1/count folded in). */
typedef struct {
    uint16_t in_h, in_w, in_c;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
} mtk_mean_params;

/* SOFTMAX over the last dimension, int8 in, int8 out (scale 1/256, zero point -128). */
typedef struct {
    uint16_t rows, depth;
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;
} mtk_softmax_params;

/* ADD of two same-shaped tensors (TFLM's general int8 path: both inputs rescaled with left_shift). */
typedef struct {
    uint32_t size;
    int32_t input1_offset, input2_offset;
    int32_t input1_multiplier, input2_multiplier;
    int32_t input1_shift, input2_shift;
    int32_t left_shift;
    int32_t output_multiplier, output_shift;
    mtk_output_quant q;
} mtk_add_params;

/* AVERAGE_POOL_2D / MAX_POOL_2D. */
typedef struct {
    uint16_t in_h, in_w, c;
    uint16_t out_h, out_w;
    uint8_t filter_h, filter_w;
    uint8_t stride_h, stride_w;
    uint8_t pad_top, pad_left;
    int32_t act_min, act_max;
} mtk_pool_params;

/* PAD of a 4-D NHWC tensor (batch padding is not supported) with a constant value. */
typedef struct {
    uint16_t in_h, in_w, in_c;
    uint16_t pad_top, pad_bottom, pad_left, pad_right, pad_front, pad_back; /* front/back: channels */
    int8_t value;
} mtk_pad_params;

/* QUANTIZE int8 -> int8 (requantize). */
typedef struct {
    uint32_t size;
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier, shift;
} mtk_requantize_params;

/* HARD_SWISH, TFLM's 16-bit fixed-point reference: int16 multipliers and their exponents from HardSwishPrepare. */
typedef struct {
    uint32_t size;
    int32_t input_zero_point, output_zero_point;
    int16_t output_multiplier, reluish_multiplier;
    int8_t output_multiplier_exponent, reluish_multiplier_exponent;
} mtk_hard_swish_params;

/* RELU as an operator (TFLM's ReluQuantized: requantized to the output scale, clamped at its zero). */
typedef struct {
    uint32_t size;
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier, shift;
    int32_t act_min;
} mtk_relu_params;

/* RELU6 as an operator (TFLM's Relu6Quantized: clamped to [zero, six] in the input's quantization). */
typedef struct {
    uint32_t size;
    int8_t zero, six;
} mtk_relu6_params;

void mtk_conv2d_s8(const mtk_conv_params *p, const int8_t *input, int8_t *output, int8_t *scratch);
/* two pixels sign-extended to 16 bits for the dot engine, plus two im2col rows unless the conv is 1x1
 * without padding (it then reads pixels in place) */
uint32_t mtk_conv2d_scratch_bytes(const mtk_conv_params *p);
void mtk_depthwise_conv2d_s8(const mtk_depthwise_params *p, const int8_t *input, int8_t *output, int8_t *scratch);
/* depth multiplier 1 and at least 4 channels: filter_h input rows of one group of 4 channels, sign-extended
 * to 16 bits and padded with the input zero point to whole column pairs; otherwise 0 */
uint32_t mtk_depthwise_conv2d_scratch_bytes(const mtk_depthwise_params *p);
/* 1 when the output may overwrite the input (the compiler then gives both one buffer): the groups of 4
 * channels cover all channels and every output row lands on input rows already copied into scratch */
uint32_t mtk_depthwise_conv2d_in_place_ok(const mtk_depthwise_params *p);
void mtk_fully_connected_s8(const mtk_fc_params *p, const int8_t *input, int8_t *output);
void mtk_mean_hw_s8(const mtk_mean_params *p, const int8_t *input, int8_t *output);
void mtk_softmax_s8(const mtk_softmax_params *p, const int8_t *input, int8_t *output);
void mtk_add_s8(const mtk_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output, int8_t *scratch);
uint32_t mtk_add_scratch_bytes(const mtk_add_params *p); /* two 256-entry rescaling tables, or 0 */
/* The same in two parts for bands of rows: the tables into scratch once, then any number of bands with them
 * (a band's descriptor differs in size only). */
void mtk_add_prepare_s8(const mtk_add_params *p, int8_t *scratch);
void mtk_add_prepared_s8(const mtk_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                         const int8_t *scratch);
uint32_t mtk_add_in_place_ok(const mtk_add_params *p); /* 1: the output may overwrite either input */
void mtk_avg_pool_s8(const mtk_pool_params *p, const int8_t *input, int8_t *output);
void mtk_max_pool_s8(const mtk_pool_params *p, const int8_t *input, int8_t *output);
void mtk_pad_s8(const mtk_pad_params *p, const int8_t *input, int8_t *output);
void mtk_requantize_s8(const mtk_requantize_params *p, const int8_t *input, int8_t *output);
void mtk_hard_swish_s8(const mtk_hard_swish_params *p, const int8_t *input, int8_t *output);
void mtk_relu_s8(const mtk_relu_params *p, const int8_t *input, int8_t *output);
void mtk_relu6_s8(const mtk_relu6_params *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* MTK_KERNELS_H_ */
