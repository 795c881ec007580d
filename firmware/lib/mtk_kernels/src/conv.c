/*
 * CONV_2D, int8, per-channel requantization; bit-exact with TFLM's reference ConvPerChannel.
 * 1x1 convolutions without padding read pixels in place; any other window is copied into an im2col row
 * (padding filled with the input zero point, which the folded bias cancels exactly as TFLM's skipped taps).
 * Two or three rows at a time (as mtk_dot_rows_group says) go through the dot engine. Scratch: the dot
 * engine's expanded rows first (word aligned), then MTK_DOT_MAX_ROWS im2col rows.
 *
 * DSP path, 3x3 window on one or three input channels (a grayscale or RGB model's first layer), groups of
 * three pixels, several a call: an inner pixel's im2col row is three runs of 3 or 9 input bytes, so its
 * blocks of four are formed in registers from unaligned word loads of the rows (a byte beyond a run lands
 * on a padding weight, which is zero) and sign-extended straight into the dot engine's scratch, without the
 * im2col copy and the expansion pass. With Helium these layers form each pixel's row in vector registers
 * instead (conv_window_mve.c); other windows take im2col (rows of 8 bytes or more copied as vectors) and the
 * Helium dot engine, which reads rows in place.
 */
#include "dot_rows.h"
#include "conv_window_mve.h"

/* Groups of three pixels a 3x3 window on one or three channels sign-extends into scratch before one call of
 * the DSP dot routine (its set-up is then shared by that many groups). */
#define MTK_WINDOW_GROUPS 8

/* Whether the layer has that window (a grayscale or RGB model's first layer). */
static int window_shape(const mtk_conv_params *p)
{
    return (p->in_c == 1 || p->in_c == 3) && p->filter_h == 3 && p->filter_w == 3;
}

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
#if MTK_MVE
            if (row_bytes >= 8) { /* 16 bytes a predicated load and store */
                for (int i = 0; i < row_bytes; i += 16) {
                    const mve_pred16_t n = vctp8q((uint32_t)(row_bytes - i));
                    vstrbq_p_s8(row + i, vldrbq_z_s8(src + i, n), n);
                }
                continue;
            }
#endif
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

#if MTK_DSP
/* Whether a 3x3 layer reads its windows in place (the first layer of a grayscale or RGB model). */
MTK_INLINE int window_in_place(const mtk_conv_params *p, const mtk_dot_rows *d)
{
    return window_shape(p) && mtk_dot_rows3_expanded_ok(d);
}

/* The blocks (int8 x 4: 3 for one channel, 7 for three) of a 3x3 window inside the image whose top row
 * starts at r0, rows `row` bytes apart: unaligned word loads of the three input rows, merged where a block
 * spans two rows. A loaded byte beyond the window lands on a padding weight (zero), so it only has to be
 * readable: the last one must lie within the input tensor. */
MTK_INLINE void inside_blocks(const int c, const int8_t *r0, const int row, int32_t *b)
{
    const int8_t *r1 = r0 + row, *r2 = r1 + row;
    if (c == 1) {
        const uint32_t l0 = (uint32_t)mtk_read_s8x4(r0), l1 = (uint32_t)mtk_read_s8x4(r1),
                       l2 = (uint32_t)mtk_read_s8x4(r2);
        b[0] = (int32_t)((l0 & 0x00FFFFFFu) | (l1 << 24));    /* x00 x01 x02 x10 */
        b[1] = (int32_t)(((l1 >> 8) & 0xFFFFu) | (l2 << 16)); /* x11 x12 x20 x21 */
        b[2] = (int32_t)(l2 >> 16);                           /* x22, then padding */
        return;
    }
    /* Three channels: each row is 9 contiguous values, the blocks v[4i..4i+3] of the 27. */
    b[0] = mtk_read_s8x4(r0);
    b[1] = mtk_read_s8x4(r0 + 4);
    b[2] = (int32_t)(((uint32_t)mtk_read_s8x4(r1) << 8) | (uint8_t)r0[8]); /* r0[8] r1[0..2] */
    b[3] = mtk_read_s8x4(r1 + 3);
    b[4] = (int32_t)(((uint32_t)mtk_read_s8x4(r1 + 7) & 0xFFFFu) | ((uint32_t)mtk_read_s8x4(r2) << 16));
    b[5] = mtk_read_s8x4(r2 + 2);
    b[6] = mtk_read_s8x4(r2 + 6); /* r2[6..8], then padding */
}

/* The blocks of pixel (oy, ox)'s window anywhere: in place where it lies inside the image and its last word
 * load ends within the input, else from its im2col row (padding = the input zero point). */
MTK_INLINE void window_blocks(const mtk_conv_params *p, const int c, const int8_t *input, int oy, int ox, int32_t *b)
{
    const int in_w = p->in_w, y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
    const int row = in_w * c, last_read = (y0 + 2) * row + x0 * c + (c == 1 ? 4 : 10);
    if (y0 >= 0 && x0 >= 0 && y0 + 3 <= p->in_h && x0 + 3 <= in_w && last_read <= p->in_h * row) {
        inside_blocks(c, input + y0 * row + x0 * c, row, b);
        return;
    }
    int8_t values[28] = {0};
    im2col_row(p, input, oy, ox, values);
    for (int i = 0; i < (c == 1 ? 3 : 7); ++i) {
        b[i] = mtk_read_s8x4(values + 4 * i);
    }
}

/* Pixel r (0 to 2) of a group: its blocks into its words of the group's slots, as mtk_dot3_pixel_word for
 * one channel, plain SXTB16 halves for three (doubling 7 blocks a pixel would cost more than it spares the
 * dot routine); returns where the next pixel's go (written out, so the blocks stay in registers). */
MTK_INLINE mtk_word *put_pixel(const int c, const int32_t *b, mtk_word *slot, int *r)
{
    const int blocks = c == 1 ? 3 : 7;
#pragma GCC unroll 7
    for (int k = 0; k < blocks; ++k) {
        if (c == 1) {
            mtk_dot3_pixel_word(b[k], slot + 6 * k);
        } else {
            slot[6 * k] = __sxtb16(b[k]);
            slot[6 * k + 1] = mtk_sxtb16_ror8(b[k]);
        }
    }
    if (++*r < 3) {
        return slot + 2;
    }
    *r = 0;
    return slot + 6 * blocks - 4;
}

/* Every whole group of three pixels of a window_in_place layer with c channels (a constant after inlining)
 * into the dot engine, their rows sign-extended into x (the layout in dot_rows.h), MTK_WINDOW_GROUPS groups
 * a call; returns the pixels done. Per output row the run of columns whose windows lie inside the image is
 * found once and gone through in its own loop, so an inner pixel costs its loads and sign extensions only.
 * The descriptor's fields are read into locals first: the stores into x (words that may alias anything)
 * would otherwise make GCC reload them for every pixel. */
MTK_INLINE int window_pixels(const mtk_conv_params *p, const int c, const mtk_dot_rows *d, const int8_t *input,
                             int8_t *output, mtk_word *x)
{
    const int in_w = p->in_w, in_h = p->in_h, out_w = p->out_w, sw = p->stride_w, pl = p->pad_left;
    const int blocks = c == 1 ? 3 : 7, row = in_w * c, extra = c == 1 ? 4 : 10, out_c = p->out_c;
    const int pixels = 3 * (p->out_h * out_w / 3), step = sw * c;
    mtk_word *const batch_end = x + 6 * blocks * MTK_WINDOW_GROUPS;
    /* Columns whose window lies within the width: x0 = ox * sw - pl in [0, in_w - 3]. */
    const int ox_lo = (pl + sw - 1) / sw, ox_hi = in_w - 3 + pl >= 0 ? (in_w - 3 + pl) / sw + 1 : 0;
    mtk_word *slot = x;
    int8_t *out = output;
    int n = 0, r = 0;
    for (int oy = 0; n < pixels; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_top;
        int hi = ox_hi;
        if (y0 < 0 || y0 + 3 > in_h) {
            hi = 0;
        } else if (y0 + 3 == in_h) {      /* the bottom row's last word load must end within the input */
            const int room = row - extra; /* x0 * c <= room */
            const int last = room < 0 ? -1 : (room / c + pl) / sw;
            hi = hi < last + 1 ? hi : last + 1;
        }
        int ox = 0;
        while (ox < out_w && n < pixels) {
            int end = ox; /* the inside run from ox, if any */
            if (ox >= ox_lo && ox < hi) {
                end = hi < ox + (pixels - n) ? hi : ox + (pixels - n);
            }
            if (end == ox) {
                int32_t b[7];
                window_blocks(p, c, input, oy, ox, b);
                slot = put_pixel(c, b, slot, &r);
                ++ox;
                ++n;
            } else {
                const int8_t *src = input + y0 * row + (ox * sw - pl) * c;
                n += end - ox;
                for (; ox < end; ++ox, src += step) {
                    int32_t b[7];
                    inside_blocks(c, src, row, b);
                    slot = put_pixel(c, b, slot, &r);
                    if (slot == batch_end) {
                        mtk_dot_rows3_expanded_s8(d, x, MTK_WINDOW_GROUPS, out, out_c, c == 3);
                        out += 3 * MTK_WINDOW_GROUPS * out_c;
                        slot = x;
                    }
                }
                continue;
            }
            if (slot == batch_end) {
                mtk_dot_rows3_expanded_s8(d, x, MTK_WINDOW_GROUPS, out, out_c, c == 3);
                out += 3 * MTK_WINDOW_GROUPS * out_c;
                slot = x;
            }
        }
    }
    mtk_dot_rows3_expanded_s8(d, x, (int)(slot - x) / (6 * blocks), out, out_c, c == 3);
    return pixels;
}

static int window_pixels_c1(const mtk_conv_params *p, const mtk_dot_rows *d, const int8_t *input, int8_t *output,
                            mtk_word *x)
{
    return window_pixels(p, 1, d, input, output, x);
}

static int window_pixels_c3(const mtk_conv_params *p, const mtk_dot_rows *d, const int8_t *input, int8_t *output,
                            mtk_word *x)
{
    return window_pixels(p, 3, d, input, output, x);
}
#endif

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
    int n = 0;
#if MTK_MVE
    if (mtk_conv2d_window_mve_ok(p)) {
        n = mtk_conv2d_window_mve_s8(p, &d, input, output);
    }
#endif
#if MTK_DSP
    if (window_in_place(p, &d)) {
        n = (p->in_c == 1 ? window_pixels_c1 : window_pixels_c3)(p, &d, input, output, (mtk_word *)(void *)scratch);
    }
#endif
    if (pointwise && group == 3 && p->stride_h == 1 && p->stride_w == 1 && p->out_w == p->in_w) {
        /* Stride 1: pixel n's row is at n * in_c, three rows a call with nothing else to find per pixel
         * (few channels, as in V1's first pointwise layer, make a call short). */
        const int run = pixels - pixels % 3;
        mtk_dot_rows3_run_s8(&d, input, p->in_c, run, output, p->out_c, scratch);
        n = run;
    }
    /* The next pixel's position, stepped rather than divided out (an SDIV is up to 12 cycles, and a
     * pointwise layer with few channels spends little more than that per row). */
    int oy = n / p->out_w, ox = n % p->out_w;
    for (; n < pixels; n += group) {
        const int count = pixels - n >= group ? group : pixels - n;
        for (int r = 0; r < count; ++r, ++ox) {
            if (ox == p->out_w) {
                ox = 0;
                ++oy;
            }
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
    /* The same on every target (one arena plan): room for the DSP window path's groups where it may run. */
    const uint32_t groups = window_shape(p) ? MTK_WINDOW_GROUPS : 1u;
    return groups * mtk_dot_rows_scratch_bytes(k) + (pointwise ? 0u : MTK_DOT_MAX_ROWS * (uint32_t)k);
}
