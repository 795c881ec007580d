/* CONV_2D, 3x3 window on one or three input channels, Helium (conv_window_mve.h): one entry point. */
#include "conv_window_mve.h"
#include "dot_rows_mve.h"

#if MTK_MVE

/* Lane masks of the predicated loads (one predicate bit per byte lane). One channel: window rows in lanes
 * 0-2, 3-5, 6-8. Three channels split after 16 values: row 0 in lanes 0-8 of the first vector, row 1's first
 * 7 values in its lanes 9-15 (the complement: GCC 12 cannot encode that mask as a constant) and its last 2 in
 * lanes 0-1 of the second, row 2 in lanes 2-10 of the second; split after 12 (window_quads_c3): row 1's
 * first 3 in lanes 9-11, its last 6 in lanes 0-5 of the second, row 2 in lanes 6-14. */
#define LANES_0_2 0x0007u
#define LANES_3_5 0x0038u
#define LANES_6_8 0x01C0u
#define LANES_0_8 0x01FFu
#define LANES_0_1 0x0003u
#define LANES_2_10 0x07FCu
#define LANES_9_11 0x0E00u
#define LANES_0_5 0x003Fu
#define LANES_6_14 0x7FC0u

/* The im2col row of a window inside the image (its top-left value at r0, rows `row` bytes apart) as vectors
 * xa and xb (window_vectors): every load a run of one input row (a predicated load touches no memory in its
 * inactive lanes). */
MTK_INLINE void window_inside(const int c, const int split, const int8_t *r0, const int row, int8x16_t *xa,
                              int8x16_t *xb)
{
    const int8_t *r1 = r0 + row, *r2 = r1 + row;
    if (c == 1) {
        *xa = vorrq_s8(vorrq_s8(vldrbq_z_s8(r0, LANES_0_2), vldrbq_z_s8(r1 - 3, LANES_3_5)),
                       vldrbq_z_s8(r2 - 6, LANES_6_8));
        return;
    }
    if (split == 12) {
        *xa = vorrq_s8(vldrbq_z_s8(r0, LANES_0_8), vldrbq_z_s8(r1 - 9, LANES_9_11));
        *xb = vorrq_s8(vldrbq_z_s8(r1 + 3, LANES_0_5), vldrbq_z_s8(r2 - 6, LANES_6_14));
        return;
    }
    *xa = vorrq_s8(vldrbq_z_s8(r0, LANES_0_8), vldrbq_z_s8(r1 - 9, vpnot(LANES_0_8)));
    *xb = vorrq_s8(vldrbq_z_s8(r1 + 7, LANES_0_1), vldrbq_z_s8(r2 - 2, LANES_2_10));
}

/* Pixel (y0, x0 = window origin)'s im2col row with c channels as vectors xa (values 0..split - 1) and, for
 * c == 3, xb (values split..26); split 16 or 12 (a constant after inlining). */
MTK_INLINE void window_vectors(const mtk_conv_params *p, const int c, const int split, const int8_t *input, int y0,
                               int x0, int8x16_t *xa, int8x16_t *xb)
{
    const int in_w = p->in_w;
    /* expected: GCC otherwise lays the border path inline and the inside one out of line */
    if (__builtin_expect(y0 >= 0 && x0 >= 0 && y0 + 3 <= p->in_h && x0 + 3 <= in_w, 1)) {
        window_inside(c, split, input + (y0 * in_w + x0) * c, in_w * c, xa, xb);
        return;
    }
    /* Over the border: one predicated load per window row and vector with the padding's lanes off as well
     * (no memory touched there, nor for a row outside the image), then the zero point into those lanes by
     * one predicated VDUP a vector. Bit b of `valid` / `pad` is value b of the im2col row. */
    const int run = 3 * c;
    uint32_t cols = 0, valid = 0;
    for (int kx = 0; kx < 3; ++kx) {
        if (x0 + kx >= 0 && x0 + kx < in_w) {
            cols |= ((1u << c) - 1u) << (kx * c);
        }
    }
    for (int ky = 0; ky < 3; ++ky) {
        if (y0 + ky >= 0 && y0 + ky < p->in_h) {
            valid |= cols << (ky * run);
        }
    }
    const uint32_t pad = ((1u << (9 * c)) - 1u) & ~valid, first = (1u << split) - 1u;
    int8x16_t a = vdupq_n_s8(0), b = vdupq_n_s8(0);
    for (int ky = 0; ky < 3; ++ky) {
        /* value v of window row ky at base + v (address arithmetic in uintptr_t: base may lie outside) */
        const uintptr_t base = (uintptr_t)input + (uintptr_t)(((y0 + ky) * in_w + x0) * c - ky * run);
        const uint32_t lanes = valid & (((1u << run) - 1u) << (ky * run));
        if (ky * run < split) {
            a = vorrq_s8(a, vldrbq_z_s8((const int8_t *)base, (mve_pred16_t)(lanes & first)));
        }
        if (c == 3 && ky * run + run > split) {
            b = vorrq_s8(b, vldrbq_z_s8((const int8_t *)(base + (uintptr_t)split), (mve_pred16_t)(lanes >> split)));
        }
    }
    const int8_t zp = (int8_t)p->input_zero_point;
    *xa = vdupq_m_n_s8(a, zp, (mve_pred16_t)(pad & first));
    if (c == 3) {
        *xb = vdupq_m_n_s8(b, zp, (mve_pred16_t)(pad >> split));
    }
}

#if MTK_THUMB2_ASM
/* clang-format off */
/* One filter pair of a quad (k = 27, pairs of 56 bytes) against two pixels' xa (values 0..11) and xb
 * (12..26): VLD20/VLD21 of the pair's first 32 bytes gives each filter's values 0..15 (those from 12 on meet
 * xa's zero lanes), of the 32 bytes from byte 24 its values 12..27 (words 3..6), so no gather and nothing read
 * beyond the pair; w ends on the next pair. Pixel 0's accumulators r0, r1, pixel 1's r2, r3. */
#define WINDOW_QUAD_PAIR(r0, r1, r2, r3)                                                                               \
    "vld20.32 {q0, q1}, [%[w]]\n\t"                                                                                    \
    "vld21.32 {q0, q1}, [%[w]]!\n\t"                                                                                   \
    "vmladav.s8 %[" r0 "], q0, %q[xa0]\n\t"                                                                            \
    "vmladav.s8 %[" r1 "], q1, %q[xa0]\n\t"                                                                            \
    "vmladav.s8 %[" r2 "], q0, %q[xa1]\n\t"                                                                            \
    "vmladav.s8 %[" r3 "], q1, %q[xa1]\n\t"                                                                            \
    "sub %[w], %[w], #8\n\t"                                                                                           \
    "vld20.32 {q0, q1}, [%[w]]\n\t"                                                                                    \
    "vld21.32 {q0, q1}, [%[w]]!\n\t"                                                                                   \
    "vmladava.s8 %[" r0 "], q0, %q[xb0]\n\t"                                                                           \
    "vmladava.s8 %[" r1 "], q1, %q[xb0]\n\t"                                                                           \
    "vmladava.s8 %[" r2 "], q0, %q[xb1]\n\t"                                                                           \
    "vmladava.s8 %[" r3 "], q1, %q[xb1]\n\t"

/* A bound (memory operand b) of both pixels' outputs in q2 and q0 (op VMAX / VMIN), broadcast through a0. */
#define WINDOW_QUADS_BOUND(op, b)                                                                                      \
    "ldr %[a0], %[" b "]\n\t"                                                                                          \
    "vdup.32 q1, %[a0]\n\t"                                                                                            \
    op ".s32 q2, q2, q1\n\t"                                                                                           \
    op ".s32 q0, q0, q1\n\t"

/* Per quad: its two pairs against both pixels, then both pixels' vector stages (dot_rows.c mve_folded4's steps:
 * the three adds in another order, the same sums) with each parameter vector (e, 64 bytes a quad) loaded once
 * into q2 or q3 for the two, and one 4-byte store per pixel (o, o1). */
#define WINDOW_QUADS(clamp)                                                                                            \
    "1:\n\t"                                                                                                           \
    WINDOW_QUAD_PAIR("a0", "a1", "a4", "a5")                                                                           \
    WINDOW_QUAD_PAIR("a2", "a3", "a6", "a7")                                                                           \
    "vmov q0[2], q0[0], %[a0], %[a2]\n\t"                                                                              \
    "vmov q0[3], q0[1], %[a1], %[a3]\n\t"                                                                              \
    "vmov q1[2], q1[0], %[a4], %[a6]\n\t"                                                                              \
    "vmov q1[3], q1[1], %[a5], %[a7]\n\t"                                                                              \
    "vldrw.u32 q2, [%[e]]\n\t"                                                                                         \
    "vadd.i32 q0, q0, q2\n\t"                                                                                          \
    "vadd.i32 q1, q1, q2\n\t"                                                                                          \
    "vldrw.u32 q3, [%[e], #16]\n\t"                                                                                    \
    "vqrdmulh.s32 q2, q0, q3\n\t"                                                                                      \
    "vshr.s32 q0, q0, #31\n\t"                                                                                         \
    "vadd.i32 q2, q2, q0\n\t"                                                                                          \
    "vqrdmulh.s32 q0, q1, q3\n\t"                                                                                      \
    "vshr.s32 q1, q1, #31\n\t"                                                                                         \
    "vadd.i32 q0, q0, q1\n\t"                                                                                          \
    "vldrw.u32 q3, [%[e], #32]\n\t"                                                                                    \
    "vadd.i32 q2, q2, q3\n\t"                                                                                          \
    "vadd.i32 q0, q0, q3\n\t"                                                                                          \
    "vldrw.u32 q3, [%[e], #48]\n\t"                                                                                    \
    "vqshl.s32 q2, q2, q3\n\t"                                                                                         \
    "vqshl.s32 q0, q0, q3\n\t"                                                                                         \
    "vshr.s32 q2, q2, #24\n\t"                                                                                         \
    "vshr.s32 q0, q0, #24\n\t"                                                                                         \
    clamp                                                                                                              \
    "vstrb.32 q2, [%[o]], #4\n\t"                                                                                      \
    "vstrb.32 q0, [%[o1]], #4\n\t"                                                                                     \
    "adds %[e], #64\n\t"                                                                                               \
    "subs %[n], %[n], #1\n\t"                                                                                          \
    "bne 1b\n\t"
#define WINDOW_QUADS_OPERANDS                                                                                          \
    : [w] "+r"(w), [e] "+r"(e), [o] "+l"(o), [o1] "+l"(o1), [n] "+r"(n), [a0] "=&Te"(a0), [a1] "=&Te"(a1),             \
      [a2] "=&Te"(a2), [a3] "=&Te"(a3), [a4] "=&Te"(a4), [a5] "=&Te"(a5), [a6] "=&Te"(a6), [a7] "=&r"(a7)              \
    : [xa0] "w"(xa0), [xb0] "w"(xb0), [xa1] "w"(xa1), [xb1] "w"(xb1), [lo] "m"(lo), [hi] "m"(hi)                       \
    : "q0", "q1", "q2", "q3", "cc", "memory"
/* clang-format on */

/* Every quad of filters (weights w, parameter vectors e) against two pixels' windows (xa, xb split after 12
 * values) in form `mode`, outputs at o and o1: per quad sixteen VMLADAV[A] on one load of its weights, and per
 * pixel one vector output stage and one store, against mve_vec_rows' scalar stage per output (~30 beats an
 * output for VWW's 3x3x3 -> 8 first layer). The eight accumulators take r0-r12's even registers and lr
 * (VMLADAV's), so a function of its own as dot_rows.c mve_quad_rows2. */
__attribute__((noinline)) static void window_quads(const int mode, const int8_t *w, const int32x4_t *e, int quads,
                                                   int8x16_t xa0, int8x16_t xb0, int8x16_t xa1, int8x16_t xb1,
                                                   int32_t lo, int32_t hi, int8_t *o, int8_t *o1)
{
    register int32_t a7 __asm__("lr");
    int32_t a0, a1, a2, a3, a4, a5, a6;
    int n = quads;
    if (mode == MTK_OUT_FOLDED) {
        __asm__ volatile(WINDOW_QUADS("") WINDOW_QUADS_OPERANDS);
    } else if (mode == MTK_OUT_FOLDED_MIN) {
        __asm__ volatile(WINDOW_QUADS(WINDOW_QUADS_BOUND("vmax", "lo")) WINDOW_QUADS_OPERANDS);
    } else {
        __asm__ volatile(WINDOW_QUADS(WINDOW_QUADS_BOUND("vmax", "lo") WINDOW_QUADS_BOUND("vmin", "hi"))
                             WINDOW_QUADS_OPERANDS);
    }
}

/* Quads of filters at most for window_quads_c3's parameter vectors (on the stack). */
#define WINDOW_MAX_QUADS 4

/* Whether window_quads_c3 serves the layer: three channels, folded table, filters in fours (at most 16). */
MTK_INLINE int window_quads_ok(const mtk_conv_params *p, const mtk_dot_rows *d)
{
    return p->in_c == 3 && d->folded && (d->out_c & 3) == 0 && d->out_c <= 4 * WINDOW_MAX_QUADS;
}

/* Every pixel of a three-channel layer through window_quads, two at a time (form `mode`, passed on: one
 * routine for the three forms); returns the pixels done. The quads' parameter vectors once per call (bias,
 * multiplier, rounding, 24 - r: dot_rows.c mve_folded4). An odd last pixel goes with a window past the
 * layer's end (its loads inside the image or its zero point row: window_vectors) whose outputs are dropped. */
static int window_quads_c3(const mtk_conv_params *layer, const mtk_dot_rows *d, const int mode, const int8_t *input,
                           int8_t *output)
{
    static const uint32_t entry_offsets[4] = {0, 4, 32, 36}; /* filters 0..3 in the quad's two table blocks */
    const uint32x4_t offsets = vld1q_u32(entry_offsets);
    const mtk_conv_params lp = *layer;
    const mtk_conv_params *const p = &lp;
    const int quads = d->out_c >> 2, pixels = p->out_h * p->out_w, out_w = p->out_w, out_c = p->out_c;
    const int32_t lo = d->q->act_min, hi = d->q->act_max;
    const int8_t *const weights = d->weights;
    int32x4_t e[4 * WINDOW_MAX_QUADS];
    for (int quad = 0; quad < quads; ++quad) {
        const int32_t *t = d->quant + quad * 8 * MTK_DOT_QUANT_GROUP;
        for (int j = 0; j < 4; ++j) {
            e[4 * quad + j] = vldrwq_gather_offset_s32(t + 2 * j, offsets);
        }
        e[4 * quad + 3] = vsubq_s32(vdupq_n_s32(24), e[4 * quad + 3]);
    }
    int8_t spare[4 * WINDOW_MAX_QUADS]; /* the outputs of an odd last pixel's partner */
    int y0 = -p->pad_top, x0 = -p->pad_left, ox = 0;
    const int row = p->in_w * 3, sw = p->stride_w;
    for (int n = 0; n < pixels; n += 2) {
        int8x16_t xa[2], xb[2];
        const int inside = ox + 2 < out_w && x0 >= 0 && y0 >= 0 && y0 + 3 <= p->in_h && x0 + sw + 3 <= p->in_w;
        if (__builtin_expect(inside, 1)) {
            /* both inside the image on one output row, not its last pixel: one bounds check, one address */
            const int8_t *const r0 = input + y0 * row + x0 * 3;
            window_inside(3, 12, r0, row, &xa[0], &xb[0]);
            window_inside(3, 12, r0 + sw * 3, row, &xa[1], &xb[1]);
            x0 += 2 * sw;
            ox += 2;
            window_quads(mode, weights, e, quads, xa[0], xb[0], xa[1], xb[1], lo, hi, output + n * out_c,
                         output + n * out_c + out_c);
            continue;
        }
#pragma GCC unroll 2 /* the four vectors stay in registers into window_quads */
        for (int r = 0; r < 2; ++r) {
            window_vectors(p, 3, 12, input, y0, x0, &xa[r], &xb[r]);
            x0 += p->stride_w;
            if (++ox == out_w) {
                ox = 0;
                x0 = -p->pad_left;
                y0 += p->stride_h;
            }
        }
        int8_t *const o = output + n * out_c;
        window_quads(mode, weights, e, quads, xa[0], xb[0], xa[1], xb[1], lo, hi, o,
                     n + 1 < pixels ? o + out_c : spare);
    }
    return pixels;
}
#endif

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
            window_vectors(p, c, 16, input, y0, x0, &xa[r], &xb[r]);
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
    const int mode = mtk_output_mode(d->folded, d->q);
#if MTK_THUMB2_ASM
    if (window_quads_ok(p, d)) {
        return window_quads_c3(p, d, mode, input, output);
    }
#endif
    return fns[p->in_c == 3][mode](p, d, input, output);
}

#endif /* MTK_MVE */
