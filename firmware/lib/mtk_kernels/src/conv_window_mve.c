/* CONV_2D, 3x3 window on one or three input channels, Helium (conv_window_mve.h): one entry point. */
#include "conv_window_mve.h"
#include "dot_rows_mve.h"

#if MTK_MVE

/* Lane masks of the predicated loads (one predicate bit per byte lane). One channel: window rows in lanes
 * 0-2, 3-5, 6-8. Three channels: row 0 in lanes 0-8 of the first vector, row 1's first 7 values in its
 * lanes 9-15 (the complement: GCC 12 cannot encode that mask as a constant) and its last 2 in lanes 0-1 of the second, row 2 in lanes 2-10 of the second. */
#define LANES_0_2 0x0007u
#define LANES_3_5 0x0038u
#define LANES_6_8 0x01C0u
#define LANES_0_8 0x01FFu
#define LANES_0_1 0x0003u
#define LANES_2_10 0x07FCu

/* Pixel (y0, x0 = window origin)'s im2col row with c channels as vectors xa (values 0..15) and, for c == 3,
 * xb (values 16..26). Inside the image every load is a run of one input row (a predicated load touches no
 * memory in its inactive lanes); a window over the border goes through a row built with the input zero
 * point for the padding. */
MTK_INLINE void window_vectors(const mtk_conv_params *p, const int c, const int8_t *input, int y0, int x0,
                               int8x16_t *xa, int8x16_t *xb)
{
    const int in_w = p->in_w, row = in_w * c;
    if (y0 >= 0 && x0 >= 0 && y0 + 3 <= p->in_h && x0 + 3 <= in_w) {
        const int8_t *r0 = input + y0 * row + x0 * c, *r1 = r0 + row, *r2 = r1 + row;
        if (c == 1) {
            *xa = vorrq_s8(vorrq_s8(vldrbq_z_s8(r0, LANES_0_2), vldrbq_z_s8(r1 - 3, LANES_3_5)),
                           vldrbq_z_s8(r2 - 6, LANES_6_8));
            return;
        }
        *xa = vorrq_s8(vldrbq_z_s8(r0, LANES_0_8), vldrbq_z_s8(r1 - 9, vpnot(LANES_0_8)));
        *xb = vorrq_s8(vldrbq_z_s8(r1 + 7, LANES_0_1), vldrbq_z_s8(r2 - 2, LANES_2_10));
        return;
    }
    int8_t values[32];
    const int8_t zp = (int8_t)p->input_zero_point;
    int8_t *v = values;
    for (int ky = 0; ky < 3; ++ky) {
        for (int kx = 0; kx < 3; ++kx) {
            const int iy = y0 + ky, ix = x0 + kx;
            const int valid = iy >= 0 && iy < p->in_h && ix >= 0 && ix < in_w;
            const int8_t *src = input + (iy * in_w + ix) * c;
            for (int i = 0; i < c; ++i) {
                *v++ = valid ? src[i] : zp;
            }
        }
    }
    *xa = vldrbq_z_s8(values, vctp8q((uint32_t)(9 * c < 16 ? 9 * c : 16)));
    if (c == 3) {
        *xb = vldrbq_z_s8(values + 16, vctp8q(27 - 16));
    }
}

/* Whole groups of npx pixels (c channels, output stage form `mode`; all constants after inlining). */
MTK_INLINE int window_groups(const mtk_conv_params *layer, const mtk_dot_rows *dot, const int mode, const int c,
                             const int npx, const int8_t *input, int8_t *output)
{
    /* Local copies: the output's byte stores may alias the descriptors, which would have every parameter
     * reloaded per pixel group. */
    const mtk_conv_params lp = *layer;
    const mtk_output_quant q = *dot->q;
    const mtk_dot_rows d = {dot->k, dot->out_c, dot->weights, dot->quant, dot->folded, &q};
    const mtk_conv_params *const p = &lp;
    const int pixels = p->out_h * p->out_w, out_w = p->out_w, out_c = p->out_c;
    const int sh = p->stride_h, sw = p->stride_w;
    int y0 = -p->pad_top, x0 = -p->pad_left, ox = 0, n = 0;
    for (; n + npx <= pixels; n += npx) {
        int8x16_t xa[3], xb[3];
        for (int r = 0; r < npx; ++r) {
            window_vectors(p, c, input, y0, x0, &xa[r], &xb[r]);
            x0 += sw;
            if (++ox == out_w) {
                ox = 0;
                x0 = -p->pad_left;
                y0 += sh;
            }
        }
        mve_vec_rows(&d, mode, npx, c == 1 ? 1 : 2, xa, xb, output + n * out_c, out_c);
    }
    return n;
}

#define WINDOW_VARIANT(name, mode, c, npx)                                                                             \
    static int name(const mtk_conv_params *p, const mtk_dot_rows *d, const int8_t *input, int8_t *output)              \
    {                                                                                                                  \
        return window_groups(p, d, mode, c, npx, input, output);                                                       \
    }
WINDOW_VARIANT(window_c1_general, MTK_OUT_GENERAL, 1, 3)
WINDOW_VARIANT(window_c1_folded, MTK_OUT_FOLDED, 1, 3)
WINDOW_VARIANT(window_c1_folded_min, MTK_OUT_FOLDED_MIN, 1, 3)
WINDOW_VARIANT(window_c1_folded_clamped, MTK_OUT_FOLDED_CLAMPED, 1, 3)
WINDOW_VARIANT(window_c3_general, MTK_OUT_GENERAL, 3, 3)
WINDOW_VARIANT(window_c3_folded, MTK_OUT_FOLDED, 3, 3)
WINDOW_VARIANT(window_c3_folded_min, MTK_OUT_FOLDED_MIN, 3, 3)
WINDOW_VARIANT(window_c3_folded_clamped, MTK_OUT_FOLDED_CLAMPED, 3, 3)

typedef int (*window_fn)(const mtk_conv_params *, const mtk_dot_rows *, const int8_t *, int8_t *);

int mtk_conv2d_window_mve_s8(const mtk_conv_params *p, const mtk_dot_rows *d, const int8_t *input, int8_t *output)
{
    static const window_fn fns[2][4] = {
        {window_c1_general, window_c1_folded, window_c1_folded_min, window_c1_folded_clamped},
        {window_c3_general, window_c3_folded, window_c3_folded_min, window_c3_folded_clamped},
    };
    return fns[p->in_c == 3][mtk_output_mode(d->folded, d->q)](p, d, input, output);
}

#endif /* MTK_MVE */
