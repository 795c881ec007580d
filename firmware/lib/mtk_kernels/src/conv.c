/*
 * CONV_2D, int8, per-channel requantization; bit-exact with TFLM's reference ConvPerChannel.
 * 1x1 convolutions without padding read pixels in place; any other window is copied into an im2col row
 * (padding filled with the input zero point, which the folded bias cancels exactly as TFLM's skipped taps).
 * Two or three rows at a time (as mtk_dot_rows_group says) go through the dot engine. Scratch: the dot
 * engine's expanded rows first (word aligned), then MTK_DOT_MAX_ROWS im2col rows.
 */
#include "dot_rows.h"

static void im2col_row(const mtk_conv_params *p, const int8_t *input, int oy, int ox, int8_t *row)
{
    /* Locals only: stores through int8_t pointers may alias the descriptor. */
    const int in_c = p->in_c, fw = p->filter_w, fh = p->filter_h, in_h = p->in_h, in_w = p->in_w;
    const int8_t zp = (int8_t)p->input_zero_point;
    const int y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
    const int row_bytes = fw * in_c;
    if (y0 >= 0 && x0 >= 0 && y0 + fh <= in_h && x0 + fw <= in_w) {
        /* Whole window inside: each filter row is one contiguous run of the input. */
        const int8_t *src = input + (y0 * in_w + x0) * in_c;
        for (int ky = 0; ky < fh; ++ky, src += in_w * in_c, row += row_bytes) {
            for (int i = 0; i < row_bytes; ++i) {
                row[i] = src[i];
            }
        }
        return;
    }
    for (int ky = 0; ky < fh; ++ky) {
        const int iy = y0 + ky;
        for (int kx = 0; kx < fw; ++kx) {
            const int ix = x0 + kx;
            const int8_t *src = input + (iy * in_w + ix) * in_c;
            const int valid = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
            for (int i = 0; i < in_c; ++i) {
                *row++ = valid ? src[i] : zp;
            }
        }
    }
}

void mtk_conv2d_s8(const mtk_conv_params *p, const int8_t *input, int8_t *output, int8_t *scratch)
{
    const int k = p->filter_h * p->filter_w * p->in_c;
    const int pointwise = p->filter_h == 1 && p->filter_w == 1 && p->pad_top == 0 && p->pad_left == 0;
    const int pixels = p->out_h * p->out_w;
#if MTK_RISCV
    /* RV32 reads rows in place (no expansion): the im2col rows take the expansion's room instead, padded
     * with zeros to the packed filters' length, so the dot loops run whole blocks only. */
    const int row_bytes = pointwise ? k : mtk_padded4(k);
    int8_t *const im2col = scratch;
    for (int i = k; i < row_bytes && !pointwise; ++i) {
        im2col[i] = im2col[row_bytes + i] = 0;
    }
#else
    const int row_bytes = k;
    int8_t *const im2col = scratch + mtk_dot_rows_scratch_bytes(k);
#endif
    const mtk_dot_rows d = {row_bytes, p->out_c, p->filter, p->quant, p->folded, &p->q};
    const int group = mtk_dot_rows_group(&d);
    const int8_t *rows[MTK_DOT_MAX_ROWS];
    for (int n = 0; n < pixels; n += group) {
        const int count = pixels - n >= group ? group : pixels - n;
        for (int r = 0; r < count; ++r) {
            const int oy = (n + r) / p->out_w, ox = (n + r) % p->out_w;
            if (pointwise) {
                rows[r] = input + (oy * p->stride_h * p->in_w + ox * p->stride_w) * p->in_c;
            } else {
                im2col_row(p, input, oy, ox, im2col + r * row_bytes);
                rows[r] = im2col + r * row_bytes;
            }
        }
        int8_t *out0 = output + n * p->out_c;
        if (count == 3) {
            mtk_dot_rows3_s8(&d, rows, out0, p->out_c, scratch);
        } else {
            mtk_dot_rows_s8(&d, rows[0], count == 2 ? rows[1] : NULL, out0, out0 + p->out_c, scratch);
        }
    }
}

/* Bytes of scratch mtk_conv2d_s8 needs; the compiler plans them into the arena. */
uint32_t mtk_conv2d_scratch_bytes(const mtk_conv_params *p)
{
    const int k = p->filter_h * p->filter_w * p->in_c;
    const int pointwise = p->filter_h == 1 && p->filter_w == 1 && p->pad_top == 0 && p->pad_left == 0;
    return mtk_dot_rows_scratch_bytes(k) + (pointwise ? 0u : MTK_DOT_MAX_ROWS * (uint32_t)k);
}
