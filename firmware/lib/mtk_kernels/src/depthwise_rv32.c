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
static void expand_row(const mtk_depthwise_params *p, const int8_t *input, int iy, int g, int width, int8_t *row)
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
    const int8_t *src = input + mtk_ring_row(p->in_ring, p->in_ring_first, iy) * in_w * in_c + DW_GROUP * g;
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

/* The taps of one column x of a window row for the left output (weight wl) and, when `right`, the right
 * one (weight wr): the byte loaded once. */
/* clang-format off */
#define DW_COLUMN_BOTH(row, x, wl, wr)                                                                        \
    "lb %[x], " #x "(%[" row "])\n\t"                                                                      \
    "mul %[t], %[x], %[" wl "]\n\t"                                                                        \
    "add %[s0], %[s0], %[t]\n\t"                                                                           \
    "mul %[t], %[x], %[" wr "]\n\t"                                                                        \
    "add %[s1], %[s1], %[t]\n\t"
#define DW_COLUMN_LEFT(row, x, wl)                                                                            \
    "lb %[x], " #x "(%[" row "])\n\t"                                                                      \
    "mul %[t], %[x], %[" wl "]\n\t"                                                                        \
    "add %[s0], %[s0], %[t]\n\t"
#define DW_COLUMN_RIGHT(row, x, wr)                                                                           \
    "lb %[x], " #x "(%[" row "])\n\t"                                                                      \
    "mul %[t], %[x], %[" wr "]\n\t"                                                                        \
    "add %[s1], %[s1], %[t]\n\t"
/* Stride 1: columns 0..3 of a row, weights w?0..w?2 (? = the row); 4 loads, 6 MUL + ADD pairs. */
#define DW_ROW_S1(row, k)                                                                                     \
    DW_COLUMN_LEFT(row, 0, "w" k "0") DW_COLUMN_BOTH(row, 1, "w" k "1", "w" k "0")                          \
    DW_COLUMN_BOTH(row, 2, "w" k "2", "w" k "1") DW_COLUMN_RIGHT(row, 3, "w" k "2")
/* Stride 2: columns 0..4; column 2 is shared. */
#define DW_ROW_S2(row, k)                                                                                     \
    DW_COLUMN_LEFT(row, 0, "w" k "0") DW_COLUMN_LEFT(row, 1, "w" k "1")                                     \
    DW_COLUMN_BOTH(row, 2, "w" k "2", "w" k "0") DW_COLUMN_RIGHT(row, 3, "w" k "1")                         \
    DW_COLUMN_RIGHT(row, 4, "w" k "2")
/* clang-format on */

/* The 3x3 window at rows a, b, c and, `stride` columns on, its right neighbour, weights w (tap order) in
 * registers: stride 1: 12 loads for 18 multiply-accumulates. Written out because GCC spills the weights. */
MTK_INLINE void taps_3x3_pair(const int stride, const int8_t *a, const int8_t *b, const int8_t *c, const int32_t *w,
                              int32_t *acc0, int32_t *acc1)
{
    int32_t s0 = *acc0, s1 = *acc1, x, t;
#define DW_OPERANDS                                                                                                    \
    : [s0] "+r"(s0), [s1] "+r"(s1), [x] "=&r"(x), [t] "=&r"(t)                                               \
    : [a] "r"(a), [b] "r"(b), [c] "r"(c), [w00] "r"(w[0]), [w01] "r"(w[1]), [w02] "r"(w[2]), [w10] "r"(w[3]),  \
      [w11] "r"(w[4]), [w12] "r"(w[5]), [w20] "r"(w[6]), [w21] "r"(w[7]), [w22] "r"(w[8])                      \
    : "memory"
    if (stride == 1) {
        __asm__(DW_ROW_S1("a", "0") DW_ROW_S1("b", "1") DW_ROW_S1("c", "2") DW_OPERANDS);
    } else {
        __asm__(DW_ROW_S2("a", "0") DW_ROW_S2("b", "1") DW_ROW_S2("c", "2") DW_OPERANDS);
    }
#undef DW_OPERANDS
    *acc0 = s0;
    *acc1 = s1;
}

/* One output row of one channel: rows[ky] its expanded input rows, w its weights (tap order), t0 its
 * table entry (bias; multiplier, rounding, shift at +4, +8, +12), out its first output (stride out_c). */
MTK_INLINE void channel_row(const mtk_depthwise_params *p, const int mode, const int is3x3, const int stride,
                            const int8_t *const *rows, const int32_t *w, const int32_t *t0, int8_t *out)
{
    const int out_w = p->out_w, out_c = p->out_c, fh = p->filter_h, fw = p->filter_w, sw = p->stride_w;
    const mtk_output_quant q = p->q;
    /* In registers: stores through `out` might otherwise be taken to change the table. */
    const int32_t bias = t0[0], m = t0[DW_GROUP], rounding = t0[2 * DW_GROUP], r = t0[3 * DW_GROUP];
    int ox = 0;
#if defined(__OPTIMIZE__)
    if (is3x3) {
        const int32_t wr[9] = {w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]};
        const int8_t *a = rows[0], *b = rows[1], *c = rows[2];
        for (; ox + 2 <= out_w; ox += 2, a += 2 * stride, b += 2 * stride, c += 2 * stride, out += 2 * out_c) {
            int32_t acc0 = bias, acc1 = bias;
            taps_3x3_pair(stride, a, b, c, wr, &acc0, &acc1);
            const int32_t y0 = rv_output_as(mode, &q, m, rounding, r, acc0);
            const int32_t y1 = rv_output_as(mode, &q, m, rounding, r, acc1);
            out[0] = (int8_t)y0;
            out[out_c] = (int8_t)y1;
        }
    }
#endif
    if (is3x3) { /* an odd last output */
        for (; ox < out_w; ++ox, out += out_c) {
            int32_t acc = bias;
#pragma GCC unroll 3
            for (int ky = 0; ky < 3; ++ky) {
                const int8_t *x = rows[ky] + ox * stride;
                acc += w[3 * ky] * x[0] + w[3 * ky + 1] * x[1] + w[3 * ky + 2] * x[2];
            }
            out[0] = (int8_t)rv_output_as(mode, &q, m, rounding, r, acc);
        }
        return;
    }
    for (; ox < out_w; ++ox, out += out_c) { /* any other window */
        int32_t acc = bias;
        for (int ky = 0; ky < fh; ++ky) {
            const int8_t *x = rows[ky] + ox * sw;
            for (int kx = 0; kx < fw; ++kx) {
                acc += w[ky * fw + kx] * x[kx];
            }
        }
        out[0] = (int8_t)rv_output_as(mode, &q, m, rounding, r, acc);
    }
}

/* Every output row of channel group g over a rolling window of filter_h expanded input rows. */
MTK_INLINE void group_rows(const mtk_depthwise_params *p, const int mode, const int is3x3, const int stride, int width,
                           const int8_t *input, int g, int8_t *slots, int8_t *output)
{
    static const uint8_t lane[DW_GROUP] = {0, 2, 1, 3}; /* the weights' SXTB16 order: c0, c2, c1, c3 */
    const int fh = p->filter_h, taps = p->filter_h * p->filter_w, slot_bytes = DW_GROUP * width;
    const int16_t *wg = p->filter + g * taps * DW_GROUP;
    const int32_t *t = p->quant + g * 4 * DW_GROUP;
    int32_t w[DW_GROUP][DW_MAX_ROWS * DW_MAX_ROWS]; /* per channel, in tap order */
    for (int c = 0; c < DW_GROUP; ++c) {
        for (int tap = 0; tap < taps; ++tap) {
            w[c][tap] = wg[tap * DW_GROUP + lane[c]];
        }
    }
    int next = -p->pad_top; /* first input row not yet expanded for this group */
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_top;
        for (int iy = next > y0 ? next : y0; iy < y0 + fh; ++iy) {
            expand_row(p, input, iy, g, width, slots + ((iy + p->pad_top) % fh) * slot_bytes);
        }
        next = y0 + fh;
        const int8_t *rows[DW_MAX_ROWS];
        for (int ky = 0; ky < fh; ++ky) {
            rows[ky] = slots + ((y0 + ky + p->pad_top) % fh) * slot_bytes;
        }
        int8_t *out = output + oy * p->out_w * p->out_c + DW_GROUP * g;
        for (int c = 0; c < DW_GROUP; ++c) {
            const int8_t *channel_rows[DW_MAX_ROWS];
            for (int ky = 0; ky < fh; ++ky) {
                channel_rows[ky] = rows[ky] + c * width;
            }
            channel_row(p, mode, is3x3, stride, channel_rows, w[c], t + c, out + c);
        }
    }
}

typedef void (*group_fn)(const mtk_depthwise_params *, int, const int8_t *, int, int8_t *, int8_t *);

#define DW_VARIANT(name, mode, is3x3, stride)                                                                          \
    static void name(const mtk_depthwise_params *p, int width, const int8_t *input, int g, int8_t *slots,              \
                     int8_t *output)                                                                                   \
    {                                                                                                                  \
        group_rows(p, mode, is3x3, stride, width, input, g, slots, output);                                            \
    }
DW_VARIANT(group_3x3s1_folded, RV_OUT_FOLDED, 1, 1)
DW_VARIANT(group_3x3s1_clamped, RV_OUT_FOLDED_CLAMPED, 1, 1)
DW_VARIANT(group_3x3s1_general, RV_OUT_GENERAL, 1, 1)
DW_VARIANT(group_3x3s2_folded, RV_OUT_FOLDED, 1, 2)
DW_VARIANT(group_3x3s2_clamped, RV_OUT_FOLDED_CLAMPED, 1, 2)
DW_VARIANT(group_3x3s2_general, RV_OUT_GENERAL, 1, 2)
DW_VARIANT(group_any_folded, RV_OUT_FOLDED_CLAMPED, 0, 1)
DW_VARIANT(group_any_general, RV_OUT_GENERAL, 0, 1)

static group_fn pick_group_fn(const mtk_depthwise_params *p)
{
    static const group_fn by_mode_s1[] = {group_3x3s1_general, group_3x3s1_folded, group_3x3s1_clamped};
    static const group_fn by_mode_s2[] = {group_3x3s2_general, group_3x3s2_folded, group_3x3s2_clamped};
    const int mode = rv_output_mode(p->folded, &p->q);
    if (p->filter_h == 3 && p->filter_w == 3 && (p->stride_w == 1 || p->stride_w == 2)) {
        return (p->stride_w == 1 ? by_mode_s1 : by_mode_s2)[mode];
    }
    return mode == RV_OUT_GENERAL ? group_any_general : group_any_folded;
}

void mtk_depthwise_groups_rv32(const mtk_depthwise_params *p, int padded_width, const int8_t *input, int8_t *output,
                               int8_t *scratch)
{
    const group_fn run_group = pick_group_fn(p);
    for (int g = 0; g < p->in_c / DW_GROUP; ++g) {
        run_group(p, padded_width, input, g, scratch, output);
    }
}

#endif
