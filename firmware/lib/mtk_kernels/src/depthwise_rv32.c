/*
 * DEPTHWISE_CONV_2D on RV32IM (MTK_RISCV), depth multiplier 1, per group of four channels (the weight
 * groups of mtk_kernels.h). The input rows a window needs are copied once per group into scratch as one
 * int8 row per channel, with the input zero point around the image (no border case; the folded bias
 * cancels it as TFLM's skipped taps). Then per channel and output row the 3x3 weights stay in registers
 * and two neighbouring outputs are computed per pass, so the input bytes their windows share are loaded
 * once: 12 loads (stride 1) feed 18 MUL + ADD pairs. Other window sizes take a plain loop over the same
 * rows. Exact integer arithmetic: TFLM's reference accumulators.
 */
#include "depthwise_rv32.h"
#include "output_stage_rv32.h"

#if MTK_RISCV

#define DW_GROUP 4
#define DW_MAX_ROWS 16

/* Input row iy, channels 4g..4g+3, as four int8 rows of `width` values (zero point outside the image). */
static void expand_row(const mtk_conv_params *p, const int8_t *input, int iy, int g, int width, int8_t *row)
{
    const int in_w = p->in_w, in_c = p->in_c, left = p->pad_left;
    const int8_t zp = (int8_t)p->input_zero_point;
    int8_t *r0 = row, *r1 = row + width, *r2 = row + 2 * width, *r3 = row + 3 * width;
    if (iy < 0 || iy >= p->in_h) {
        for (int i = 0; i < DW_GROUP * width; ++i) {
            row[i] = zp;
        }
        return;
    }
    for (int i = 0; i < left; ++i) {
        r0[i] = r1[i] = r2[i] = r3[i] = zp;
    }
    const int8_t *src = input + iy * in_w * in_c + DW_GROUP * g;
    for (int ix = left; ix < left + in_w; ++ix, src += in_c) {
        r0[ix] = src[0];
        r1[ix] = src[1];
        r2[ix] = src[2];
        r3[ix] = src[3];
    }
    for (int i = left + in_w; i < width; ++i) {
        r0[i] = r1[i] = r2[i] = r3[i] = zp;
    }
}

/* The 3x3 window at a, b, c (rows 0..2) and, `stride` columns on, its right neighbour: straight-line code
 * after inlining (stride a constant), each byte loaded once. */
MTK_INLINE void taps_3x3_pair(const int stride, const int8_t *a, const int8_t *b, const int8_t *c, const int32_t *w,
                              int32_t *acc0, int32_t *acc1)
{
    const int8_t *rows[3] = {a, b, c};
    int32_t s0 = *acc0, s1 = *acc1;
#pragma GCC unroll 3
    for (int ky = 0; ky < 3; ++ky) {
#pragma GCC unroll 5
        for (int kx = 0; kx < 3 + stride; ++kx) {
            const int32_t x = rows[ky][kx];
            if (kx < 3) s0 += w[3 * ky + kx] * x;
            if (kx >= stride && kx - stride < 3) s1 += w[3 * ky + kx - stride] * x;
        }
    }
    *acc0 = s0;
    *acc1 = s1;
}

/* One output row of one channel: rows[ky] its expanded input rows, w its weights (tap order), t0 its
 * table entry (bias; multiplier, rounding, shift at +4, +8, +12), out its first output (stride out_c). */
MTK_INLINE void channel_row(const mtk_conv_params *p, const int mode, const int is3x3, const int stride,
                            const int8_t *const *rows, const int32_t *w, const int32_t *t0, int8_t *out)
{
    const int out_w = p->out_w, out_c = p->out_c, fh = p->filter_h, fw = p->filter_w, sw = p->stride_w;
    const mtk_output_quant q = p->q;
    const int32_t bias = t0[0];
    int ox = 0;
    if (is3x3) {
        const int8_t *a = rows[0], *b = rows[1], *c = rows[2];
        for (; ox + 2 <= out_w; ox += 2, a += 2 * stride, b += 2 * stride, c += 2 * stride, out += 2 * out_c) {
            int32_t acc0 = bias, acc1 = bias;
            taps_3x3_pair(stride, a, b, c, w, &acc0, &acc1);
            out[0] = rv_output_entry(mode, &q, t0, DW_GROUP, 0, acc0);
            out[out_c] = rv_output_entry(mode, &q, t0, DW_GROUP, 0, acc1);
        }
    }
    for (; ox < out_w; ++ox, out += out_c) { /* any window, and a 3x3 row's odd last output */
        int32_t acc = bias;
        for (int ky = 0; ky < fh; ++ky) {
            const int8_t *x = rows[ky] + ox * sw;
            for (int kx = 0; kx < fw; ++kx) {
                acc += w[ky * fw + kx] * x[kx];
            }
        }
        out[0] = rv_output_entry(mode, &q, t0, DW_GROUP, 0, acc);
    }
}

/* Every output row of channel group g over a rolling window of filter_h expanded input rows. */
MTK_INLINE void group_rows(const mtk_conv_params *p, const int mode, const int is3x3, const int stride, int width,
                           const int8_t *input, int g, int8_t *slots, int8_t *output)
{
    static const uint8_t lane[DW_GROUP] = {0, 2, 1, 3}; /* the weights' SXTB16 order: c0, c2, c1, c3 */
    const int fh = p->filter_h, taps = p->filter_h * p->filter_w, slot_bytes = DW_GROUP * width;
    const int16_t *wg = p->dw_filter + g * taps * DW_GROUP;
    const int32_t *t = p->quant + g * 4 * DW_GROUP;
    int next = -p->pad_top; /* first input row not yet expanded for this group */
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_top;
        for (int iy = next > y0 ? next : y0; iy < y0 + fh; ++iy) {
            expand_row(p, input, iy, g, width, slots + ((iy + p->pad_top) % fh) * slot_bytes);
        }
        next = y0 + fh;
        int8_t *out = output + oy * p->out_w * p->out_c + DW_GROUP * g;
        for (int c = 0; c < DW_GROUP; ++c) {
            const int8_t *rows[DW_MAX_ROWS];
            for (int ky = 0; ky < fh; ++ky) {
                rows[ky] = slots + ((y0 + ky + p->pad_top) % fh) * slot_bytes + c * width;
            }
            int32_t w[DW_MAX_ROWS * DW_MAX_ROWS];
            for (int tap = 0; tap < taps; ++tap) {
                w[tap] = wg[tap * DW_GROUP + lane[c]];
            }
            channel_row(p, mode, is3x3, stride, rows, w, t + c, out + c);
        }
    }
}

typedef void (*group_fn)(const mtk_conv_params *, int, const int8_t *, int, int8_t *, int8_t *);

#define DW_VARIANT(name, mode, is3x3, stride)                                                                 \
    static void name(const mtk_conv_params *p, int width, const int8_t *input, int g, int8_t *slots,         \
                     int8_t *output)                                                                          \
    {                                                                                                         \
        group_rows(p, mode, is3x3, stride, width, input, g, slots, output);                                   \
    }
DW_VARIANT(group_3x3s1_folded, RV_OUT_FOLDED, 1, 1)
DW_VARIANT(group_3x3s1_clamped, RV_OUT_FOLDED_CLAMPED, 1, 1)
DW_VARIANT(group_3x3s1_general, RV_OUT_GENERAL, 1, 1)
DW_VARIANT(group_3x3s2_folded, RV_OUT_FOLDED, 1, 2)
DW_VARIANT(group_3x3s2_clamped, RV_OUT_FOLDED_CLAMPED, 1, 2)
DW_VARIANT(group_3x3s2_general, RV_OUT_GENERAL, 1, 2)
DW_VARIANT(group_any_folded, RV_OUT_FOLDED_CLAMPED, 0, 1)
DW_VARIANT(group_any_general, RV_OUT_GENERAL, 0, 1)

static group_fn pick_group_fn(const mtk_conv_params *p)
{
    static const group_fn by_mode_s1[] = {group_3x3s1_general, group_3x3s1_folded, group_3x3s1_clamped};
    static const group_fn by_mode_s2[] = {group_3x3s2_general, group_3x3s2_folded, group_3x3s2_clamped};
    const int mode = rv_output_mode(p->folded, &p->q);
    if (p->filter_h == 3 && p->filter_w == 3 && (p->stride_w == 1 || p->stride_w == 2)) {
        return (p->stride_w == 1 ? by_mode_s1 : by_mode_s2)[mode];
    }
    return mode == RV_OUT_GENERAL ? group_any_general : group_any_folded;
}

void mtk_depthwise_groups_rv32(const mtk_conv_params *p, int padded_width, const int8_t *input, int8_t *output,
                               int8_t *scratch)
{
    const group_fn run_group = pick_group_fn(p);
    for (int g = 0; g < p->in_c / DW_GROUP; ++g) {
        run_group(p, padded_width, input, g, scratch, output);
    }
}

#endif
