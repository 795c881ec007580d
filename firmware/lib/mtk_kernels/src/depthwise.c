/*
 * DEPTHWISE_CONV_2D, int8, per-channel requantization; bit-exact with TFLM's reference
 * DepthwiseConvPerChannel. Taps outside the image read the input zero point (cancelled by the folded bias).
 * DSP path (depth multiplier 1): per output pixel, the accumulators of four channels per pass (SXTB16 +
 * SMLABB/SMLATT, one word of input and one of weights per tap; 3x3 fully unrolled), border pixels read a
 * zero-point-padded copy of their window from scratch, then the output stage runs over all channels.
 */
#include "mtk_kernels.h"
#include "mtk_fixedpoint.h"
#include "output_stage.h"

MTK_INLINE int8_t requantize_channel(const mtk_conv_params *p, int32_t acc, int oc)
{
    const int32_t value = mtk_requantize(acc, p->multiplier[oc], p->shift[oc]) + p->q.output_zero_point;
    return (int8_t)mtk_clamp(value, p->q.act_min, p->q.act_max);
}

/* Channels [c_begin, c_end) of one output pixel, any depth multiplier (the reference loop). */
static void depthwise_pixel_scalar(const mtk_conv_params *p, const int8_t *input, int y0, int x0, int c_begin,
                                   int c_end, int8_t *out)
{
    const int fw = p->filter_w, out_c = p->out_c, mult = p->depth_multiplier;
    for (int ic = c_begin; ic < c_end; ++ic) {
        for (int m = 0; m < mult; ++m) {
            const int oc = ic * mult + m;
            int32_t acc = p->bias[oc];
            for (int ky = 0; ky < p->filter_h; ++ky) {
                const int iy = y0 + ky;
                for (int kx = 0; kx < fw; ++kx) {
                    const int ix = x0 + kx;
                    const int32_t x = (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w)
                                          ? input[(iy * p->in_w + ix) * p->in_c + ic]
                                          : p->input_zero_point;
                    acc += p->filter[(ky * fw + kx) * out_c + oc] * x;
                }
            }
            out[oc] = requantize_channel(p, acc, oc);
        }
    }
}

#if MTK_DSP

/* The filter window of one output pixel with the image border filled by the input zero point, so border
 * pixels run the same code as interior ones. */
static const int8_t *padded_window(const mtk_conv_params *p, const int8_t *input, int y0, int x0, int8_t *window)
{
    const int c_count = p->in_c, fw = p->filter_w, fh = p->filter_h, in_h = p->in_h, in_w = p->in_w;
    const int8_t zp = (int8_t)p->input_zero_point;
    int8_t *dst = window;
    for (int ky = 0; ky < fh; ++ky) {
        const int iy = y0 + ky;
        for (int kx = 0; kx < fw; ++kx, dst += c_count) {
            const int ix = x0 + kx;
            if (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w) {
                memcpy(dst, input + (iy * in_w + ix) * c_count, (size_t)c_count);
            } else {
                memset(dst, zp, (size_t)c_count);
            }
        }
    }
    return window;
}

/* One 3x3 window for four channels, in its own function so that its 13 live values own the registers. */
__attribute__((noinline)) static void depthwise_3x3_group(const int8_t *x, const int8_t *w, int c_count,
                                                          int row_stride, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 3
#endif
    for (int ky = 0; ky < 3; ++ky, x += row_stride) {
        const int8_t *xt = x;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 3
#endif
        for (int kx = 0; kx < 3; ++kx, xt += c_count, w += c_count) {
            const int32_t xv = mtk_read_s8x4(xt), wv = mtk_read_s8x4(w);
            const int32_t xe = __sxtb16(xv), xo = mtk_sxtb16_ror8(xv);
            const int32_t we = __sxtb16(wv), wo = mtk_sxtb16_ror8(wv);
            a0 = __smlabb(xe, we, a0);
            a2 = __smlatt(xe, we, a2);
            a1 = __smlabb(xo, wo, a1);
            a3 = __smlatt(xo, wo, a3);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* Multiply-accumulate phase: the int32 accumulators of all vectorised channels of one output pixel.
 * `x` is the window's top-left pixel, `row_stride` the distance between its rows. */
static void depthwise_accumulate(const mtk_conv_params *p, const int8_t *x_origin, int row_stride, int32_t *acc,
                                 int vector_channels)
{
    const int c_count = p->in_c, fw = p->filter_w, fh = p->filter_h;
    const int32_t *bias = p->bias;
    const int8_t *w = p->filter;
    for (int c = 0; c < vector_channels; c += 4, w += 4, acc += 4) {
        if (fw == 3 && fh == 3) {
            acc[0] = bias[c];
            acc[1] = bias[c + 1];
            acc[2] = bias[c + 2];
            acc[3] = bias[c + 3];
            depthwise_3x3_group(x_origin + c, w, c_count, row_stride, acc);
            continue;
        }
        int32_t a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3];
        const int8_t *x = x_origin + c, *wt = w;
        for (int ky = 0; ky < fh; ++ky, x += row_stride) {
            const int8_t *xt = x;
            for (int kx = 0; kx < fw; ++kx, xt += c_count, wt += c_count) {
                const int32_t xv = mtk_read_s8x4(xt), wv = mtk_read_s8x4(wt);
                const int32_t xe = __sxtb16(xv), xo = mtk_sxtb16_ror8(xv);
                const int32_t we = __sxtb16(wv), wo = mtk_sxtb16_ror8(wv);
                a0 = __smlabb(xe, we, a0);
                a2 = __smlatt(xe, we, a2);
                a1 = __smlabb(xo, wo, a1);
                a3 = __smlatt(xo, wo, a3);
            }
        }
        acc[0] = a0;
        acc[1] = a1;
        acc[2] = a2;
        acc[3] = a3;
    }
}

#endif

uint32_t mtk_depthwise_conv2d_scratch_bytes(const mtk_conv_params *p)
{
    /* int32 accumulators of one pixel, then one zero-point-padded window for border pixels */
    return p->depth_multiplier == 1 ? 4u * p->in_c + (uint32_t)p->filter_h * p->filter_w * p->in_c : 0u;
}

void mtk_depthwise_conv2d_s8(const mtk_conv_params *p, const int8_t *input, int8_t *output, int8_t *scratch)
{
    const int c_count = p->in_c, out_c = p->out_c, in_h = p->in_h, in_w = p->in_w;
    const int fh = p->filter_h, fw = p->filter_w;
    const int out_h = p->out_h, out_w = p->out_w, sh = p->stride_h, sw = p->stride_w;
    const int pad_top = p->pad_top, pad_left = p->pad_left;
#if MTK_DSP
    const int vector_channels = p->depth_multiplier == 1 ? c_count & ~3 : 0;
#else
    const int vector_channels = 0;
    (void)scratch, (void)in_h, (void)in_w, (void)fh, (void)fw;
#endif
    for (int oy = 0; oy < out_h; ++oy) {
        const int y0 = oy * sh - pad_top;
        for (int ox = 0; ox < out_w; ++ox, output += out_c) {
            const int x0 = ox * sw - pad_left;
#if MTK_DSP
            if (vector_channels) {
                int32_t *acc = (int32_t *)(void *)scratch; /* the arena keeps scratch word-aligned */
                int8_t *window = scratch + 4 * c_count;
                if (y0 >= 0 && x0 >= 0 && y0 + fh <= in_h && x0 + fw <= in_w) {
                    depthwise_accumulate(p, input + (y0 * in_w + x0) * c_count, in_w * c_count, acc,
                                         vector_channels);
                } else {
                    depthwise_accumulate(p, padded_window(p, input, y0, x0, window), fw * c_count, acc,
                                         vector_channels);
                }
                const mtk_output_stage stage = {p->multiplier, p->shift, p->rounding, p->rshift,
                                                p->q.output_zero_point, p->q.act_min, p->q.act_max};
                mtk_output_run_s8(&stage, acc, 0, vector_channels, output);
            }
#endif
            if (vector_channels < c_count) {
                depthwise_pixel_scalar(p, input, y0, x0, vector_channels, c_count, output);
            }
        }
    }
}
