/*
 * DEPTHWISE_CONV_2D, int8, per-channel requantization; bit-exact with TFLM's reference
 * DepthwiseConvPerChannel. Taps outside the image read the input zero point (cancelled by the folded bias).
 *
 * Weights are int16 in groups of four channels (layout in mtk_kernels.h), so the DSP path (depth
 * multiplier 1) spends per tap and four channels one word load of input, two SXTB16, one two-word load of
 * weights and four SMLAxy, with the group's accumulators in registers from bias to output byte. Border
 * pixels first copy their window into scratch with the zero point around it, then run the same code.
 * Channels beyond the last multiple of 4, and depth multipliers above 1, take the reference loop.
 */
#include "mtk_kernels.h"
#include "output_stage.h"

#define DW_GROUP 4 /* channels per weight group and per quantization table block */

MTK_INLINE int32_t dw_weight(const mtk_conv_params *p, int tap, int oc)
{
    static const uint8_t lane[DW_GROUP] = {0, 2, 1, 3}; /* SXTB16 order: c0, c2, c1, c3 */
    const int taps = p->filter_h * p->filter_w;
    return p->dw_filter[((oc / DW_GROUP) * taps + tap) * DW_GROUP + lane[oc % DW_GROUP]];
}

/* Channels [c_begin, c_end) of one output pixel, any depth multiplier (the reference loop). */
static void depthwise_pixel_scalar(const mtk_conv_params *p, const int8_t *input, int y0, int x0, int c_begin,
                                   int c_end, int8_t *out)
{
    const int fw = p->filter_w, mult = p->depth_multiplier;
    for (int ic = c_begin; ic < c_end; ++ic) {
        for (int m = 0; m < mult; ++m) {
            const int oc = ic * mult + m;
            int32_t acc = mtk_quant_entry(p->quant, DW_GROUP, oc)[0];
            for (int ky = 0; ky < p->filter_h; ++ky) {
                const int iy = y0 + ky;
                for (int kx = 0; kx < fw; ++kx) {
                    const int ix = x0 + kx;
                    const int32_t x = (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w)
                                          ? input[(iy * p->in_w + ix) * p->in_c + ic]
                                          : p->input_zero_point;
                    acc += dw_weight(p, ky * fw + kx, oc) * x;
                }
            }
            out[oc] = mtk_output_channel(p->quant, DW_GROUP, p->folded, &p->q, oc, acc);
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

/* One tap for four channels: input word at x, weight words w[0] (c0, c2) and w[1] (c1, c3). */
#define DW_TAP(x, w)                                                                                          \
    do {                                                                                                      \
        const int32_t xv_ = mtk_read_s8x4(x);                                                                 \
        const int32_t xe_ = __sxtb16(xv_), xo_ = mtk_sxtb16_ror8(xv_);                                       \
        const int32_t we_ = (w)[0], wo_ = (w)[1];                                                             \
        a0 = __smlabb(xe_, we_, a0);                                                                          \
        a2 = __smlatt(xe_, we_, a2);                                                                          \
        a1 = __smlabb(xo_, wo_, a1);                                                                          \
        a3 = __smlatt(xo_, wo_, a3);                                                                          \
    } while (0)

#if MTK_THUMB2_ASM
/* The nine taps of a 3x3 window for four channels, written out: 8 instructions a tap (GCC's own schedule
 * of DW_TAP spills accumulators and spends about twice that). */
#define DW_TAP_ASM(address)                                                                                   \
    "ldr %[xv], " address "\n\t"                                                                            \
    "sxtb16 %[xo], %[xv], ror #8\n\t"                                                                      \
    "sxtb16 %[xv], %[xv]\n\t"                                                                              \
    "ldrd %[we], %[wo], [%[w]], #8\n\t"                                                                    \
    "smlabb %[a0], %[xv], %[we], %[a0]\n\t"                                                                \
    "smlatt %[a2], %[xv], %[we], %[a2]\n\t"                                                                \
    "smlabb %[a1], %[xo], %[wo], %[a1]\n\t"                                                                \
    "smlatt %[a3], %[xo], %[wo], %[a3]\n\t"
#define DW_ROW_ASM(row) DW_TAP_ASM("[" row "]") DW_TAP_ASM("[" row ", %[c]]") DW_TAP_ASM("[" row ", %[c], lsl #1]")

MTK_INLINE void taps_3x3(const int8_t *x, int c_count, int row_stride, const mtk_word **w, int32_t *a0,
                         int32_t *a1, int32_t *a2, int32_t *a3)
{
    const int8_t *row;
    int32_t xv, xo, we, wo;
    __asm__(DW_ROW_ASM("%[x]")
            "add %[row], %[x], %[rs]\n\t"
            DW_ROW_ASM("%[row]")
            "add %[row], %[row], %[rs]\n\t"
            DW_ROW_ASM("%[row]")
            : [a0] "+r"(*a0), [a1] "+r"(*a1), [a2] "+r"(*a2), [a3] "+r"(*a3), [w] "+r"(*w), [row] "=&r"(row),
              [xv] "=&r"(xv), [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo)
            : [x] "r"(x), [c] "r"(c_count), [rs] "r"(row_stride)
            : "memory");
}
#else
MTK_INLINE void taps_3x3(const int8_t *x, int c_count, int row_stride, const mtk_word **w, int32_t *a0,
                         int32_t *a1, int32_t *a2, int32_t *a3)
{
    const mtk_word *wp = *w;
    for (int ky = 0; ky < 3; ++ky, x += row_stride) {
        for (int kx = 0; kx < 3; ++kx, wp += 2) {
            const int32_t xv = mtk_read_s8x4(x + kx * c_count);
            const int32_t xe = __sxtb16(xv), xo = mtk_sxtb16_ror8(xv);
            *a0 = __smlabb(xe, wp[0], *a0);
            *a2 = __smlatt(xe, wp[0], *a2);
            *a1 = __smlabb(xo, wp[1], *a1);
            *a3 = __smlatt(xo, wp[1], *a3);
        }
    }
    *w = wp;
}
#endif

/* All four-channel groups of one output pixel: `x` is the window's top-left pixel, `row_stride` the
 * distance between its rows; `mode` and `is3x3` are constants after inlining. */
MTK_INLINE void depthwise_groups(const mtk_conv_params *p, const int mode, const int is3x3, const int8_t *x,
                                 int row_stride, int groups, int8_t *out)
{
    const int c_count = p->in_c, fh = p->filter_h, fw = p->filter_w;
    const mtk_word *w = (const mtk_word *)(const void *)p->dw_filter;
    const int32_t *t = p->quant;
    const mtk_output_quant q = p->q;
#if MTK_THUMB2_ASM
    const uint32_t lo4 = 0x01010101u * (uint8_t)q.act_min;
#endif
    for (int g = 0; g < groups; ++g, x += DW_GROUP, t += 4 * DW_GROUP, out += DW_GROUP) {
        int32_t a0 = t[0], a1 = t[1], a2 = t[2], a3 = t[3];
        if (is3x3) {
            taps_3x3(x, c_count, row_stride, &w, &a0, &a1, &a2, &a3);
        } else {
            for (int ky = 0; ky < fh; ++ky) {
                const int8_t *xt = x + ky * row_stride;
                for (int kx = 0; kx < fw; ++kx, xt += c_count, w += 2) {
                    DW_TAP(xt, w);
                }
            }
        }
#if MTK_THUMB2_ASM
        if (mode == MTK_OUT_FOLDED || mode == MTK_OUT_FOLDED_MIN) {
            mtk_folded_pair(t, DW_GROUP, 0, &a0, &a1);
            mtk_folded_pair(t, DW_GROUP, 2, &a2, &a3);
            uint32_t packed = mtk_pack_s8x4(a0, a1, a2, a3);
            if (mode == MTK_OUT_FOLDED_MIN) {
                packed = mtk_max_s8x4(packed, lo4);
            }
            memcpy(out, &packed, 4);
            continue;
        }
#endif
        /* Read the table before the first byte store: afterwards the compiler must assume it changed. */
        const int32_t m0 = t[4], m1 = t[5], m2 = t[6], m3 = t[7];
        const int32_t rounding0 = t[8], rounding1 = t[9], rounding2 = t[10], rounding3 = t[11];
        const int32_t r0 = t[12], r1 = t[13], r2 = t[14], r3 = t[15];
        const int32_t y0 = mtk_output_as(mode, &q, a0, m0, rounding0, r0);
        const int32_t y1 = mtk_output_as(mode, &q, a1, m1, rounding1, r1);
        const int32_t y2 = mtk_output_as(mode, &q, a2, m2, rounding2, r2);
        const int32_t y3 = mtk_output_as(mode, &q, a3, m3, rounding3, r3);
        out[0] = (int8_t)y0;
        out[1] = (int8_t)y1;
        out[2] = (int8_t)y2;
        out[3] = (int8_t)y3;
    }
}

typedef void (*groups_fn)(const mtk_conv_params *, const int8_t *, int, int, int8_t *);

#define DW_VARIANT(name, mode, is3x3)                                                                         \
    static void name(const mtk_conv_params *p, const int8_t *x, int row_stride, int groups, int8_t *out)     \
    {                                                                                                         \
        depthwise_groups(p, mode, is3x3, x, row_stride, groups, out);                                         \
    }
DW_VARIANT(groups_3x3_folded, MTK_OUT_FOLDED, 1)
DW_VARIANT(groups_3x3_folded_min, MTK_OUT_FOLDED_MIN, 1)
DW_VARIANT(groups_3x3_folded_clamped, MTK_OUT_FOLDED_CLAMPED, 1)
DW_VARIANT(groups_3x3_general, MTK_OUT_GENERAL, 1)
DW_VARIANT(groups_any_folded, MTK_OUT_FOLDED_CLAMPED, 0)
DW_VARIANT(groups_any_general, MTK_OUT_GENERAL, 0)

static groups_fn pick_groups_fn(const mtk_conv_params *p)
{
    const int mode = mtk_output_mode(p->folded, &p->q);
    if (p->filter_h != 3 || p->filter_w != 3) {
        return mode == MTK_OUT_GENERAL ? groups_any_general : groups_any_folded;
    }
    switch (mode) {
    case MTK_OUT_FOLDED:
        return groups_3x3_folded;
    case MTK_OUT_FOLDED_MIN:
        return groups_3x3_folded_min;
    case MTK_OUT_FOLDED_CLAMPED:
        return groups_3x3_folded_clamped;
    default:
        return groups_3x3_general;
    }
}

#endif

uint32_t mtk_depthwise_conv2d_scratch_bytes(const mtk_conv_params *p)
{
    /* one zero-point-padded window for border pixels */
    return p->depth_multiplier == 1 ? (uint32_t)p->filter_h * p->filter_w * p->in_c : 0u;
}

void mtk_depthwise_conv2d_s8(const mtk_conv_params *p, const int8_t *input, int8_t *output, int8_t *scratch)
{
    const int c_count = p->in_c, out_c = p->out_c, in_h = p->in_h, in_w = p->in_w;
    const int fh = p->filter_h, fw = p->filter_w;
    const int out_h = p->out_h, out_w = p->out_w, sh = p->stride_h, sw = p->stride_w;
    const int pad_top = p->pad_top, pad_left = p->pad_left;
#if MTK_DSP
    const int groups = p->depth_multiplier == 1 ? c_count / DW_GROUP : 0;
    const groups_fn run_groups = pick_groups_fn(p);
#else
    const int groups = 0;
    (void)scratch, (void)in_h, (void)in_w, (void)fh, (void)fw;
#endif
    for (int oy = 0; oy < out_h; ++oy) {
        const int y0 = oy * sh - pad_top;
        for (int ox = 0; ox < out_w; ++ox, output += out_c) {
            const int x0 = ox * sw - pad_left;
#if MTK_DSP
            if (groups) {
                if (y0 >= 0 && x0 >= 0 && y0 + fh <= in_h && x0 + fw <= in_w) {
                    run_groups(p, input + (y0 * in_w + x0) * c_count, in_w * c_count, groups, output);
                } else {
                    run_groups(p, padded_window(p, input, y0, x0, scratch), fw * c_count, groups, output);
                }
            }
#endif
            if (groups * DW_GROUP < c_count) {
                depthwise_pixel_scalar(p, input, y0, x0, groups * DW_GROUP, c_count, output);
            }
        }
    }
}
