/*
 * DEPTHWISE_CONV_2D 3x3 on Helium (depthwise_mve.h): one entry point.
 *
 * Scratch holds, per channel of a group of 8, three input rows interleaved column by column (byte
 * 3 * column + slot), the zero point in the padding, so a window is 9 consecutive bytes and one VMLADAVA.S8
 * against the channel's weights in a Q register (lanes 9-15 zero) gives its accumulator from the bias. One
 * 16-byte load holds three windows at stride 1 (two at stride 2), reduced against the weights moved up 3 and
 * 6 lanes: 8 beats for 27 MACs. Input rows come in once per group as 8-channel loads scattered into the 8
 * channel rows (one beat a byte); rows roll through the three slots as the DSP path's do, and the weight
 * vector of each rotation is built once per group. The output stage is the scalar one of output_stage.h, so
 * the bytes are TFLM's. Like the DSP path, a group copies the input rows an output row needs before writing
 * it, and writes only its own channels, so mtk_depthwise_conv2d_in_place_ok holds for it too.
 */
#include "depthwise_mve.h"

#if MTK_MVE

#define DW_GROUP 4 /* channels per weight group and table block (mtk_kernels.h) */

/* Input row iy of channels c0..c0+n-1 into slot `slot` of each channel's interleaved rows; `full` (n == 8,
 * a constant after inlining) drops the predicate and its VPST per access. */
MTK_INLINE void scatter_row(const int full, const mtk_depthwise_params *p, int width, const int8_t *input, int iy,
                            int c0, mve_pred16_t lanes, uint16x8_t offsets, int8_t *slot_base)
{
    const int left = p->pad_left, in_w = p->in_w, in_c = p->in_c;
    const int inside = iy >= 0 && iy < p->in_h;
    /* columns of left padding, of image and of right padding (a row outside the image is all padding);
     * unsigned counts, so that each loop starts with DLS on its count */
    const unsigned pad_l = (unsigned)(inside ? left : width), image = inside ? (unsigned)in_w : 0u;
    const unsigned pad_r = (unsigned)width - pad_l - image;
    const int16x8_t zp = vdupq_n_s16((int16_t)p->input_zero_point);
    int8_t *dst = slot_base;
    for (unsigned i = pad_l; i != 0; --i, dst += 3) {
        vstrbq_scatter_offset_p_s16(dst, offsets, zp, lanes);
    }
    const int8_t *src = input + (inside ? mtk_ring_row(p->in_ring, p->in_ring_first, iy) : 0) * in_w * in_c + c0;
    for (unsigned i = image; i != 0; --i, dst += 3, src += in_c) {
        if (full) {
            vstrbq_scatter_offset_s16(dst, offsets, vldrbq_s16(src));
        } else {
            vstrbq_scatter_offset_p_s16(dst, offsets, vldrbq_z_s16(src, lanes), lanes);
        }
    }
    for (unsigned i = pad_r; i != 0; --i, dst += 3) {
        vstrbq_scatter_offset_p_s16(dst, offsets, zp, lanes);
    }
}

/* Bytes of one rotation's weights: WPAD zeros, the 9 taps, zeros, so that loads at WPAD - 3 and WPAD - 6 give
 * the weights moved up 3 and 6 lanes, against which one load serves the next window or two too. */
#define WINDOW_LANES 0x01FFu /* a window's 9 bytes (a predicated load reads no others) */
#define SHARED_LANES 0x7FFFu /* the 15 bytes a shared load's windows take */
#define WPAD 6
#define WBYTES 24

#if MTK_THUMB2_ASM
/* clang-format off */
/* The folded output stage (mtk_output_folded, saturated) of four windows' dot products in q0 at once, stored
 * to out + off[lane]: the bias added, then sign(acc) + rounding + SMMULR(2 * acc, m) as one VQRDMLAH (the
 * same value: |acc| < 2^30, so doubling loses nothing), and the shift right by r with int8 saturation as a
 * saturating shift left by 24 - r and an arithmetic shift right by 24 (both exact: s >> r fits int8 exactly
 * when s << (24 - r) fits int32). 14 beats and a 4-beat scatter for four outputs, against ~10 scalar
 * instructions an output. */
#define DW_VEC_OUT(clamp)                                                                                              \
    "vadd.i32 q0, q0, %[bias]\n\t"                                                                                     \
    "vshr.s32 q1, q0, #31\n\t"                                                                                         \
    "vadd.i32 q1, q1, %[n]\n\t"                                                                                        \
    "vqrdmlah.s32 q1, q0, %[m]\n\t"                                                                                    \
    "vqshl.s32 q1, %[sh]\n\t"                                                                                          \
    "vshr.s32 q1, q1, #24\n\t"                                                                                         \
    clamp                                                                                                              \
    "vstrb.32 q1, [%[out], %q[off]]\n\t"                                                                               \
    "add %[out], %[out], %[ostep]\n\t"

/* A shared load of the window row at x, advanced by `step`: all 16 bytes, or (ends) under P0 the 15 its
 * windows take. */
#define DW_LOAD_ALL(step) "vldrb.u8 q2, [%[x]], #" step "\n\t"
#define DW_LOAD_ENDS(step) "vpst\n\tvldrbt.u8 q2, [%[x]], #" step "\n\t"

/* At stride 1 a load's three windows (lanes 0..2; lane 3 repeats lane 1, so its byte is written twice), at
 * stride 2 two loads' two windows each; wb, wc the weights moved up 3 and 6 lanes (stride 2: wb up 6).
 * VMOV Qd[2], Qd[0], Rt, Rt2 writes Rt to lane 0 and Rt2 to lane 2. */
#define DW_VEC_S1(load, clamp)                                                                                         \
    load("9")                                                                                                          \
    "vmladav.s8 %[a0], q2, %q[w0]\n\t"                                                                                 \
    "vmladav.s8 %[a1], q2, %q[wb]\n\t"                                                                                 \
    "vmladav.s8 %[a2], q2, %q[wc]\n\t"                                                                                 \
    "vmov q0[2], q0[0], %[a0], %[a2]\n\t"                                                                              \
    "vmov q0[3], q0[1], %[a1], %[a1]\n\t"                                                                              \
    DW_VEC_OUT(clamp)
#define DW_VEC_S2(load, clamp)                                                                                         \
    load("12")                                                                                                         \
    "vmladav.s8 %[a0], q2, %q[w0]\n\t"                                                                                 \
    "vmladav.s8 %[a1], q2, %q[wb]\n\t"                                                                                 \
    load("12")                                                                                                         \
    "vmladav.s8 %[a2], q2, %q[w0]\n\t"                                                                                 \
    "vmladav.s8 %[a3], q2, %q[wb]\n\t"                                                                                 \
    "vmov q0[2], q0[0], %[a0], %[a2]\n\t"                                                                              \
    "vmov q0[3], q0[1], %[a1], %[a3]\n\t"                                                                              \
    DW_VEC_OUT(clamp)

/* `count` (> 0, in lr) passes of `body`; a0 brings the shared loads' lanes for P0. */
#define DW_VEC_LOOP(body, load, clamp)                                                                                 \
    __asm__ volatile("vmsr p0, %[a0]\n\t"                                                                           \
                     "dls lr, lr\n\t"                                                                                  \
                     "1:\n\t" body(load, clamp) "le lr, 1b\n\t"                                                        \
                     : [x] "+r"(x), [out] "+r"(out), [count] "+r"(count), [a0] "+&Te"(a0), [a1] "=&Te"(a1),          \
                       [a2] "=&Te"(a2), [a3] "=&Te"(a3)                                                                \
                     : [w0] "w"(w0), [wb] "w"(wb), [wc] "w"(w6), [off] "w"(off), [lo] "w"(lo),              \
                       [bias] "r"(bias), [n] "r"(rounding), [m] "r"(m), [sh] "r"(24 - r), [ostep] "r"(ostep)       \
                     : "q0", "q1", "q2", "p0", "memory")
/* DW_VEC_LOOP with the lower clamp in FOLDED_MIN form. */
#define DW_VEC_LOOPS(body, load)                                                                                       \
    if (mode == MTK_OUT_FOLDED_MIN) {                                                                                  \
        DW_VEC_LOOP(body, load, "vmax.s32 q1, q1, %q[lo]\n\t");                                                       \
    } else {                                                                                                           \
        DW_VEC_LOOP(body, load, "");                                                                                   \
    }
/* clang-format on */
#endif

/* mtk_output_as of bias + dot, v the window and wv the weights: in the folded forms from twice the
 * accumulator, 2 * bias + 2 * VMLADAV as one ADD with a shifted operand (bias2 = 2 * bias), which spares
 * the copy of the bias a VMLADAVA would accumulate onto and the doubling (|acc| < 2^30: no overflow). */
MTK_INLINE int32_t dw_output(const int mode, const mtk_output_quant *q, int32_t bias, int32_t bias2, int8x16_t v,
                             int8x16_t wv, int32_t m, int32_t rounding, int32_t r)
{
    if (mode == MTK_OUT_GENERAL) {
        return mtk_output_as(mode, q, vmladavaq_s8(bias, v, wv), m, rounding, r);
    }
    const int32_t twice = bias2 + 2 * vmladavq_s8(v, wv);
    const int32_t y = (mtk_smmlar(twice, m, rounding) + (twice >> 31)) >> r;
    if (mode == MTK_OUT_FOLDED) {
        return __ssat(y, 8);
    }
    if (mode == MTK_OUT_FOLDED_MIN) {
        const int32_t s8 = __ssat(y, 8);
        return s8 < q->act_min ? q->act_min : s8;
    }
    return mtk_clamp(y, q->act_min, q->act_max);
}

/* One output row of one channel: x its interleaved rows, w its weight bytes for the current slot rotation, e
 * its bias, multiplier, rounding and shift. `mode` and `step` (bytes between windows: 3 at stride 1, 6 at 2,
 * 0 for any) are constants after inlining. One 16-byte load holds three windows at stride 1, two at 2; `ends`
 * (a constant: the channel row that ends the scratch) loads only the 15 bytes they take, so as not to read
 * past the scratch (a VPST a load). The folded forms take the shared loads' windows four outputs at a time
 * through the vector output stage (DW_VEC_LOOP), the rest one at a time. */
MTK_INLINE void channel_row(const int mode, const int ends, const mtk_output_quant *q, int out_w, int shared, int out_c,
                            const int step, int any_step, uint32x4_t off, int32x4_t lo, const int8_t *x,
                            const int8_t *w, const int32_t *e, int8_t *out)
{
    const int32_t bias = e[0], m = e[1], rounding = e[2], r = e[3];
    const mtk_output_quant ql = *q; /* a local: the byte stores would have its bounds reloaded per output */
    const int8x16_t w0 = vldrbq_s8(w + WPAD), w3 = vldrbq_s8(w + WPAD - 3), w6 = vldrbq_s8(w + WPAD - 6);
    int left = out_w - (step == 3 ? 3 : step == 6 ? 2 : 0) * shared;
#if !MTK_THUMB2_ASM
    (void)off;
    (void)lo;
#else
    /* At stride 1 in FOLDED form the scalar stage is as cheap as the vector one with a lane to spare (VWW's
     * 48-wide layer 240.3 k beats against 245.0 k, its 6-wide ones 115.2 k against 113.8 k), so there it
     * stays; a lower clamp costs the scalar stage three instructions an output more. */
    if ((step == 6 && mode == MTK_OUT_FOLDED) || (step && mode == MTK_OUT_FOLDED_MIN)) {
        const int vec = step == 3 ? shared : shared >> 1; /* passes of four outputs (stride 1: three) */
        if (vec > 0) {
            register int count __asm__("lr") = vec;
            int32_t a0 = SHARED_LANES, a1, a2, a3;
            const int8x16_t wb = step == 3 ? w3 : w6;
            const int ostep = (step == 3 ? 3 : 4) * out_c;
            if (step == 3 && ends) {
                DW_VEC_LOOPS(DW_VEC_S1, DW_LOAD_ENDS)
            } else if (step == 3) {
                DW_VEC_LOOPS(DW_VEC_S1, DW_LOAD_ALL)
            } else if (ends) {
                DW_VEC_LOOPS(DW_VEC_S2, DW_LOAD_ENDS)
            } else {
                DW_VEC_LOOPS(DW_VEC_S2, DW_LOAD_ALL)
            }
            shared -= step == 3 ? vec : 2 * vec;
        }
    }
#endif
    const int32_t bias2 = 2 * bias;
    if (step == 3) {
        for (unsigned i = (unsigned)shared; i != 0; --i, x += 9) {
            const int8x16_t v = ends ? vldrbq_z_s8(x, SHARED_LANES) : vldrbq_s8(x);
            const int32_t y0 = dw_output(mode, &ql, bias, bias2, v, w0, m, rounding, r);
            const int32_t y1 = dw_output(mode, &ql, bias, bias2, v, w3, m, rounding, r);
            const int32_t y2 = dw_output(mode, &ql, bias, bias2, v, w6, m, rounding, r);
            *out = (int8_t)y0;
            out += out_c;
            *out = (int8_t)y1;
            out += out_c;
            *out = (int8_t)y2;
            out += out_c;
        }
    } else if (step == 6) {
        for (unsigned i = (unsigned)shared; i != 0; --i, x += 12) {
            const int8x16_t v = ends ? vldrbq_z_s8(x, SHARED_LANES) : vldrbq_s8(x);
            const int32_t y0 = dw_output(mode, &ql, bias, bias2, v, w0, m, rounding, r);
            const int32_t y1 = dw_output(mode, &ql, bias, bias2, v, w6, m, rounding, r);
            *out = (int8_t)y0;
            out += out_c;
            *out = (int8_t)y1;
            out += out_c;
        }
    }
    const int s = step ? step : any_step;
    for (unsigned i = (unsigned)left; i != 0; --i, x += s, out += out_c) {
        *out = (int8_t)dw_output(mode, &ql, bias, bias2, vldrbq_z_s8(x, WINDOW_LANES), w0, m, rounding, r);
    }
}

/* One channel of a group: its weight bytes for each slot rotation, then its table entry, so that one pointer
 * walks a group's channels. */
typedef struct {
    int8_t w[3][WBYTES];
    int32_t e[4];
} dw_channel;

/* What the channel rows of one output row of a group need. */
typedef struct {
    const int8_t *x;      /* the group's interleaved rows in scratch */
    int8_t *out;          /* the output row's first channel of the group */
    const dw_channel *ch; /* the group's channels */
    const mtk_output_quant *q;
    int rows, shared; /* channel rows before the one that ends the scratch; shared loads a row */
    int n, out_w, out_c, stride, any_step, first;
} dw_row_job;

/* The channel rows of one output row of a group, a call of its own: with only the job's values live, the
 * per-row set-up stays in registers (inlined into depthwise_mve's loops it spilled, ~40 beats a row). */
MTK_INLINE void group_row(const int mode, const int step, const dw_row_job *j)
{
    const mtk_output_quant *q = j->q;
    const int8_t *x = j->x;
    int8_t *out = j->out;
    const dw_channel *ch = j->ch;
    const int rows = j->rows, shared = j->shared, out_w = j->out_w, out_c = j->out_c, stride = j->stride;
    const int any_step = j->any_step, first = j->first;
    /* the vector output stage's byte offsets (DW_VEC_S1 / S2's lane order) and lower bound */
    static const uint32_t lanes[2][4] = {{0, 1, 2, 1}, {0, 1, 2, 3}};
    const uint32x4_t off = vmulq_n_u32(vld1q_u32(lanes[step == 3 ? 0 : 1]), (uint32_t)out_c);
    const int32x4_t lo = vdupq_n_s32(q->act_min);
    for (int c = rows; c > 0; --c, x += stride, ++out, ++ch) {
        channel_row(mode, 0, q, out_w, shared, out_c, step, any_step, off, lo, x, ch->w[first], ch->e, out);
    }
    if (rows < j->n) {
        channel_row(mode, 1, q, out_w, shared, out_c, step, any_step, off, lo, x, ch->w[first], ch->e, out);
    }
}

MTK_INLINE void depthwise_mve(const int stride_w, void (*row)(const dw_row_job *), const mtk_depthwise_params *p,
                              int width, const int8_t *input, int8_t *output, int8_t *scratch)
{
    const int channels = p->in_c / DW_GROUP * DW_GROUP, out_w = p->out_w, out_c = p->out_c;
    const int stride = 3 * width, any_step = 3 * p->stride_w;
    /* windows a row takes through shared loads (3 or 2 a load; the rest take 9-lane loads) */
    const int per_load = stride_w == 1 ? 3 : 2;
    const int shared = stride_w ? out_w / per_load : 0;
    uint16_t offset_table[MTK_DW_MVE_GROUP];
    for (int c = 0; c < MTK_DW_MVE_GROUP; ++c) {
        offset_table[c] = (uint16_t)(c * stride);
    }
    const uint16x8_t offsets = vld1q_u16(offset_table);
    static const uint8_t lane[DW_GROUP] = {0, 2, 1, 3}; /* the weights' SXTB16 order: c0, c2, c1, c3 */
    /* per channel of a group its weights for each slot rotation `first` (slot j holds window row
     * (j - first) mod 3), laid out as WBYTES says (the zeros stay) */
    dw_channel chans[MTK_DW_MVE_GROUP];
    memset(chans, 0, sizeof(chans));
    dw_row_job job = {.ch = chans, .q = &p->q, .out_w = out_w, .out_c = out_c, .stride = stride, .any_step = any_step};
    for (int c0 = 0; c0 < channels; c0 += MTK_DW_MVE_GROUP) {
        const int n = channels - c0 < MTK_DW_MVE_GROUP ? channels - c0 : MTK_DW_MVE_GROUP;
        const mve_pred16_t lanes = vctp16q((uint32_t)n);
        job.n = n;
        job.rows = n == MTK_DW_MVE_GROUP ? n - 1 : n; /* the last channel row ends the scratch */
        job.shared = shared;
        for (int c = 0; c < n; ++c) {
            const int oc = c0 + c;
            const int16_t *f = p->filter + (oc / DW_GROUP) * 9 * DW_GROUP + lane[oc % DW_GROUP];
            const int32_t *t = mtk_quant_entry(p->quant, DW_GROUP, oc);
            chans[c].e[0] = t[0];
            chans[c].e[1] = t[DW_GROUP];
            chans[c].e[2] = t[2 * DW_GROUP];
            chans[c].e[3] = t[3 * DW_GROUP];
            int8_t *w0 = chans[c].w[0] + WPAD, *w1 = chans[c].w[1] + WPAD, *w2 = chans[c].w[2] + WPAD;
            for (int kx = 0; kx < 3; ++kx, w0 += 3, w1 += 3, w2 += 3) {
                const int8_t k0 = (int8_t)f[kx * DW_GROUP], k1 = (int8_t)f[(3 + kx) * DW_GROUP],
                             k2 = (int8_t)f[(6 + kx) * DW_GROUP]; /* window rows 0, 1, 2 */
                w0[0] = k0;
                w0[1] = k1;
                w0[2] = k2;
                w1[0] = k2;
                w1[1] = k0;
                w1[2] = k1;
                w2[0] = k1;
                w2[1] = k2;
                w2[2] = k0;
            }
        }
        int next = -p->pad_top; /* first input row not yet in scratch for this group */
        int first = 0;          /* the slot of the window's first row */
        for (int oy = 0; oy < p->out_h; ++oy) {
            const int y0 = oy * p->stride_h - p->pad_top;
            for (int ky = next > y0 ? next - y0 : 0; ky < 3; ++ky) {
                const int slot = first + ky < 3 ? first + ky : first + ky - 3;
                if (n == MTK_DW_MVE_GROUP) {
                    scatter_row(1, p, width, input, y0 + ky, c0, lanes, offsets, scratch + slot);
                } else {
                    scatter_row(0, p, width, input, y0 + ky, c0, lanes, offsets, scratch + slot);
                }
            }
            next = y0 + 3;
            job.x = scratch;
            job.out = output + oy * out_w * out_c + c0;
            job.first = first;
            row(&job);
            first += p->stride_h;
            while (first >= 3) {
                first -= 3;
            }
        }
    }
}

/* Small maps, column strips: per channel of a group, STRIP_ROWS input rows stored column-major (byte
 * STRIP_ROWS * column + row, zero point around the image). A window's taps are then 9 of 15 consecutive bytes
 * whatever its row, so one weight vector serves every window of the layer (no per-row rotation to build) and
 * one 16-byte load of a column holds the windows of all the strip's output rows (3 at stride 1, 2 at stride
 * 2), reduced against the weights moved up by their row. The strip's image columns come in as one scatter of
 * the group's channels a pixel (the padding columns are filled once), the weights as one gather a channel.
 * Small maps pay most for the interleaved rows' set-up per output row and channel, which the strips do not
 * have. The rows a strip shares with the next one move down in scratch rather than being read again, so each
 * input row is read once, before any output row that needs it is written (in place holds as for the other
 * paths). */
#define STRIP_ROWS 5
#define STRIP_WBYTES 32 /* a channel's weights: taps at 2 + STRIP_ROWS * kx + ky, zeros around */

#if MTK_THUMB2_ASM
/* clang-format off */
/* The folded output stage saturated to int8 (dw_output's) of one window of the column load q3 against the
 * weights w, stored by `store`; a and t the only scratch registers, so that a channel's loop keeps all its
 * operands in registers (GCC's own loop reloads the output row offsets from the stack, 2 of 31 beats). */
#define STRIP_OUT(w, store) /* a: an even register (VMLADAV) */                                                                                            \
    "vmladav.s8 %[a], q3, %q[" w "]\n\t"                                                                           \
    "add %[a], %[b2], %[a], lsl #1\n\t"                                                                             \
    "smmlar %[t], %[a], %[m], %[n]\n\t"                                                                             \
    "add %[t], %[t], %[a], asr #31\n\t"                                                                             \
    "asr %[t], %[t], %[r]\n\t"                                                                                      \
    "ssat %[t], #8, %[t]\n\t"                                                                                       \
    store
#define STRIP_ROW0 "strb %[t], [%[out]]\n\t"
#define STRIP_ROW1 "strb %[t], [%[out], %[row]]\n\t"
#define STRIP_ROW2 "strb %[t], [%[out], %[row], lsl #1]\n\t"
/* out_w (> 0, in lr) columns of `body`, the load advanced by `step` (5 or 10: the stride in both directions). */
#define STRIP_LOOP(body, step)                                                                                         \
    __asm__ volatile("dls lr, lr\n\t"                                                                               \
                     "1:\n\t"                                                                                         \
                     "vldrb.u8 q3, [%[x]], #" step "\n\t" body                                                       \
                     "add %[out], %[out], %[oc]\n\t"                                                                 \
                     "le lr, 1b\n\t"                                                                                  \
                     : [x] "+r"(x), [out] "+r"(out), [cnt] "+r"(n), [a] "=&Te"(a), [t] "=&r"(t)                        \
                     : [w0] "w"(w0), [w1] "w"(w1), [w2] "w"(w2), [oc] "r"(out_c), [row] "r"(out_row),               \
                       [b2] "r"(bias2), [m] "r"(m), [n] "r"(rounding), [r] "r"(r)                                     \
                     : "q3", "memory")
#define STRIP_LOOPS(body)                                                                                              \
    if (stride_h == 1) {                                                                                               \
        STRIP_LOOP(body, "5");                                                                                         \
    } else {                                                                                                           \
        STRIP_LOOP(body, "10");                                                                                        \
    }
/* clang-format on */
#endif

/* The strip's output rows (`count`, 1..3 at stride 1, 1..2 at stride 2; constants) of one channel: x its
 * strip's first window column, step the bytes between windows, out its first output. */
MTK_INLINE void strip_channel(const int mode, const int stride_h, const int count, const mtk_output_quant *q,
                              const int8_t *x, int step, int out_w, int out_row, const int8_t *wb, const int32_t *e,
                              int8_t *out, int out_c)
{
    const int32_t bias = e[0], m = e[DW_GROUP], rounding = e[2 * DW_GROUP], r = e[3 * DW_GROUP];
    const int32_t bias2 = 2 * bias;
    const mtk_output_quant ql = *q; /* a local: the byte stores would have its bounds reloaded per output */
    const int8x16_t w0 = vldrbq_s8(wb + 2), w1 = vldrbq_s8(wb + 2 - stride_h), w2 = vldrbq_s8(wb);
#if MTK_THUMB2_ASM
    if (mode == MTK_OUT_FOLDED && step == STRIP_ROWS * stride_h) {
        register int n __asm__("lr") = out_w;
        int32_t a, t;
        if (count == 3) {
            STRIP_LOOPS(STRIP_OUT("w0", STRIP_ROW0) STRIP_OUT("w1", STRIP_ROW1) STRIP_OUT("w2", STRIP_ROW2));
        } else if (count == 2) {
            STRIP_LOOPS(STRIP_OUT("w0", STRIP_ROW0) STRIP_OUT("w1", STRIP_ROW1));
        } else {
            STRIP_LOOPS(STRIP_OUT("w0", STRIP_ROW0));
        }
        return;
    }
#endif
    for (int i = out_w; i > 0; --i, x += step, out += out_c) {
        const int8x16_t v = vldrbq_s8(x);
        out[0] = (int8_t)dw_output(mode, &ql, bias, bias2, v, w0, m, rounding, r);
        if (count > 1) {
            out[out_row] = (int8_t)dw_output(mode, &ql, bias, bias2, v, w1, m, rounding, r);
        }
        if (count > 2) {
            out[2 * out_row] = (int8_t)dw_output(mode, &ql, bias, bias2, v, w2, m, rounding, r);
        }
    }
}

/* Strip rows keep .. end - 1 of the image columns from input rows r0 + keep on, channels c0 .. c0 + group - 1
 * (group 4 or 8, a constant; plane bytes a channel): one scatter of the pixel's channels a column (8 lanes:
 * 1.25 beats a byte with the load, 4 lanes 1.5), of the zero point (read with stride 0) in a row outside the
 * image. The padding columns hold the zero point from the start (depthwise_strips). */
MTK_INLINE void strip_rows(const int group, const mtk_depthwise_params *p, const int8_t *input, int c0, int r0,
                           int keep, int end, int plane, int8_t *strips)
{
    const int in_c = p->in_c, in_w = p->in_w;
    const uint32x4_t offsets4 = vmulq_n_u32(vidupq_n_u32(0u, 1), (uint32_t)plane);
    const uint16x8_t offsets8 = vmulq_n_u16(vidupq_n_u16(0u, 1), (uint16_t)plane);
    const uint32_t zp[2] = {mtk_bytes4(p->input_zero_point), mtk_bytes4(p->input_zero_point)};
    for (int row = keep; row < end; ++row) {
        const int iy = r0 + row;
        const int inside = iy >= 0 && iy < p->in_h;
        const int8_t *src =
            inside ? input + mtk_ring_row(p->in_ring, p->in_ring_first, iy) * in_w * in_c + c0 : (const int8_t *)zp;
        const int src_step = inside ? in_c : 0;
        int8_t *dst = strips + STRIP_ROWS * p->pad_left + row;
        for (unsigned i = (unsigned)in_w; i != 0; --i, src += src_step, dst += STRIP_ROWS) {
            if (group == 8) {
                vstrbq_scatter_offset_s16(dst, offsets8, vldrbq_s16(src));
            } else {
                vstrbq_scatter_offset_s32(dst, offsets4, vldrbq_s32(src));
            }
        }
    }
}

/* The two group sizes' fills, shared by every output stage form. */
static void strip_rows_4(const mtk_depthwise_params *p, const int8_t *input, int c0, int r0, int keep, int end,
                         int plane, int8_t *strips)
{
    strip_rows(DW_GROUP, p, input, c0, r0, keep, end, plane, strips);
}

static void strip_rows_8(const mtk_depthwise_params *p, const int8_t *input, int c0, int r0, int keep, int end,
                         int plane, int8_t *strips)
{
    strip_rows(8, p, input, c0, r0, keep, end, plane, strips);
}

/* Each image column's last `keep` rows (1 or 2) to its first, every channel (the rows the next strip keeps:
 * read from the input only once, which in place needs): one halfword or byte copy a column. */
static void strip_keep(const mtk_depthwise_params *p, int group, int plane, int keep, int8_t *strips)
{
    const int from = STRIP_ROWS - keep;
    for (int c = 0; c < group; ++c) {
        int8_t *x = strips + c * plane + STRIP_ROWS * p->pad_left;
        if (keep == 2) {
            for (unsigned i = p->in_w; i != 0; --i, x += STRIP_ROWS) {
                uint16_t v;
                memcpy(&v, x + from, sizeof(v));
                memcpy(x, &v, sizeof(v));
            }
        } else {
            for (unsigned i = p->in_w; i != 0; --i, x += STRIP_ROWS) {
                x[0] = x[from];
            }
        }
    }
}

/* A strip's `count` output rows (a constant) of channels c0 .. c0 + group - 1, out the first one's. */
MTK_INLINE void strip_channels(const int mode, const int stride_h, const int count, const mtk_depthwise_params *p,
                               int group, int plane, const int8_t *strips, int8_t (*wbuf)[STRIP_WBYTES], int c0,
                               int8_t *out)
{
    const int out_w = p->out_w, out_c = p->out_c, out_row = out_w * out_c, step = STRIP_ROWS * p->stride_w;
    const int32_t *e = mtk_quant_entry(p->quant, DW_GROUP, c0); /* c0 opens a table block */
    for (int c = 0; c < group; ++c, strips += plane, ++out) {
        strip_channel(mode, stride_h, count, &p->q, strips, step, out_w, out_row, wbuf[c], e + c + (c & ~3) * 3, out,
                      out_c);
    }
}

/* All output rows of channels c0 .. c0 + group - 1 (group 4 or 8), wbuf their weights. */
MTK_INLINE void strips_group(const int mode, const int stride_h, int group, const mtk_depthwise_params *p, int plane,
                             const int8_t *input, int8_t *output, int8_t *scratch, int c0, int8_t (*wbuf)[STRIP_WBYTES])
{
    const int per_strip = stride_h == 1 ? 3 : 2; /* output rows a strip serves */
    const int out_row = p->out_w * p->out_c;
    static const uint8_t lane[DW_GROUP] = {0, 2, 1, 3}; /* the weights' SXTB16 order: c0, c2, c1, c3 */
    /* byte offset of tap (ky, kx) (its int16's low byte) for weight lane STRIP_ROWS * kx + ky */
    static const uint8_t taps[16] = {0, 24, 48, 0, 0, 8, 32, 56, 0, 0, 16, 40, 64, 0, 0, 0};
    const uint8x16_t tap_offsets = vld1q_u8(taps);
    for (int c = 0; c < group; ++c) {
        const int oc = c0 + c;
        const int16_t *f = p->filter + oc / DW_GROUP * 9 * DW_GROUP + lane[oc % DW_GROUP];
        vst1q_s8(wbuf[c] + 2, vldrbq_gather_offset_z_s8((const int8_t *)(const void *)f, tap_offsets, 0x1CE7));
    }
    for (int oy = 0; oy < p->out_h; oy += per_strip) {
        const int rows = p->out_h - oy < per_strip ? p->out_h - oy : per_strip;
        const int keep = oy == 0 ? 0 : STRIP_ROWS - per_strip * stride_h;
        if (keep > 0) {
            strip_keep(p, group, plane, keep, scratch);
        }
        (group == 8 ? strip_rows_8 : strip_rows_4)(p, input, c0, oy * stride_h - p->pad_top, keep,
                                                   (rows - 1) * stride_h + 3, plane, scratch);
        int8_t *out = output + oy * out_row + c0;
        if (rows == 3) {
            strip_channels(mode, stride_h, 3, p, group, plane, scratch, wbuf, c0, out);
        } else if (rows == 2) {
            strip_channels(mode, stride_h, 2, p, group, plane, scratch, wbuf, c0, out);
        } else {
            strip_channels(mode, stride_h, 1, p, group, plane, scratch, wbuf, c0, out);
        }
    }
}

/* Groups of 8 channels where the scratch holds their 8 strips (VWW's 6x6 layers; 3x3 maps and 12-wide rows
 * have room for 4), then groups of 4. */
MTK_INLINE void depthwise_strips(const int mode, const int stride_h, const mtk_depthwise_params *p, int width,
                                 const int8_t *input, int8_t *output, int8_t *scratch)
{
    const int plane = STRIP_ROWS * width + 1; /* + 1: the last column's load stays inside */
    const int channels = p->in_c / DW_GROUP * DW_GROUP;
    const int wide = 8 * plane <= (int)mtk_depthwise_conv2d_scratch_bytes(p);
    int8_t wbuf[8][STRIP_WBYTES];
    memset(wbuf, 0, sizeof(wbuf));
    /* the padding columns, for all groups */
    memset(scratch, p->input_zero_point, (size_t)((wide ? 8 : DW_GROUP) * plane));
    int c0 = 0;
    for (; wide && c0 + 8 <= channels; c0 += 8) {
        strips_group(mode, stride_h, 8, p, plane, input, output, scratch, c0, wbuf);
    }
    for (; c0 < channels; c0 += DW_GROUP) {
        strips_group(mode, stride_h, DW_GROUP, p, plane, input, output, scratch, c0, wbuf);
    }
}

#define DW_MVE_VARIANT(name, mode, stride_w)                                                                           \
    __attribute__((noinline)) static void name##_row(const dw_row_job *j)                                              \
    {                                                                                                                  \
        group_row(mode, 3 * (stride_w), j);                                                                            \
    }                                                                                                                  \
    static void name(const mtk_depthwise_params *p, int width, const int8_t *input, int8_t *output, int8_t *scratch)   \
    {                                                                                                                  \
        depthwise_mve(stride_w, name##_row, p, width, input, output, scratch);                                         \
    }
DW_MVE_VARIANT(depthwise_mve_folded_s1, MTK_OUT_FOLDED, 1)
DW_MVE_VARIANT(depthwise_mve_folded_s2, MTK_OUT_FOLDED, 2)
DW_MVE_VARIANT(depthwise_mve_folded_min_s1, MTK_OUT_FOLDED_MIN, 1)
DW_MVE_VARIANT(depthwise_mve_folded_min_s2, MTK_OUT_FOLDED_MIN, 2)
DW_MVE_VARIANT(depthwise_mve_folded_clamped, MTK_OUT_FOLDED_CLAMPED, 0)
DW_MVE_VARIANT(depthwise_mve_general, MTK_OUT_GENERAL, 0)

/* One a folded output stage form and stride (a run-time stride: 6.9 k bytes less flash for VWW, 17.5 k beats
 * more). */
#define DW_STRIPS_VARIANT(name, mode)                                                                                  \
    static void name##_s1(const mtk_depthwise_params *p, int width, const int8_t *input, int8_t *output,               \
                          int8_t *scratch)                                                                             \
    {                                                                                                                  \
        depthwise_strips(mode, 1, p, width, input, output, scratch);                                                   \
    }                                                                                                                  \
    static void name##_s2(const mtk_depthwise_params *p, int width, const int8_t *input, int8_t *output,               \
                          int8_t *scratch)                                                                             \
    {                                                                                                                  \
        depthwise_strips(mode, 2, p, width, input, output, scratch);                                                   \
    }
DW_STRIPS_VARIANT(depthwise_strips_folded, MTK_OUT_FOLDED)
DW_STRIPS_VARIANT(depthwise_strips_folded_min, MTK_OUT_FOLDED_MIN)
DW_STRIPS_VARIANT(depthwise_strips_folded_clamped, MTK_OUT_FOLDED_CLAMPED)

void mtk_depthwise_mve_s8(const mtk_depthwise_params *p, int width, const int8_t *input, int8_t *output,
                          int8_t *scratch)
{
    const int mode = mtk_output_mode(p->folded, &p->q), s1 = p->stride_w == 1, s2 = p->stride_w == 2;
    if (mtk_depthwise_mve_strips(p)) {
        static void (*const strips[2][3])(const mtk_depthwise_params *, int, const int8_t *, int8_t *, int8_t *) = {
            {depthwise_strips_folded_s1, depthwise_strips_folded_min_s1, depthwise_strips_folded_clamped_s1},
            {depthwise_strips_folded_s2, depthwise_strips_folded_min_s2, depthwise_strips_folded_clamped_s2}};
        strips[p->stride_h - 1][mode - MTK_OUT_FOLDED](p, width, input, output, scratch);
    } else if (mode == MTK_OUT_FOLDED && (s1 || s2)) {
        (s1 ? depthwise_mve_folded_s1 : depthwise_mve_folded_s2)(p, width, input, output, scratch);
    } else if (mode == MTK_OUT_FOLDED_MIN && (s1 || s2)) {
        (s1 ? depthwise_mve_folded_min_s1 : depthwise_mve_folded_min_s2)(p, width, input, output, scratch);
    } else if (mode == MTK_OUT_GENERAL) {
        depthwise_mve_general(p, width, input, output, scratch);
    } else {
        depthwise_mve_folded_clamped(p, width, input, output, scratch);
    }
}

#endif
