/* Inner products for CONV_2D / FULLY_CONNECTED over packed filters (dot_rows.h): one entry point, its Arm DSP
 * block first (the RV32 block in dot_rows_rv32.c), the portable C fallback after it. */
#include "dot_rows.h"
#include "dot_rows_mve.h"
#include "dot_rows_rv32.h"

/* Where filter row oc starts in the packed array and how far apart its blocks of 4 are. */
MTK_INLINE const int8_t *packed_row(const mtk_dot_rows *d, int oc, int *block_step)
{
    const int k4 = mtk_padded4(d->k);
    const int paired = oc < (d->out_c & ~1);
    *block_step = paired ? 8 : 4;
    return d->weights + (oc & ~1) * k4 + (paired ? (oc & 1) * 4 : 0);
}

MTK_INLINE int8_t output_any(const mtk_dot_rows *d, int32_t acc, int oc)
{
    return mtk_output_channel(d->quant, MTK_DOT_QUANT_GROUP, d->folded, d->q, oc, acc);
}

#if MTK_MVE

/* Helium: a filter pair's 2 x 16 values are one VLD20/VLD21 pair (the packed blocks of four are whole words,
 * so deinterleaving words splits the two filters), each row's 16 values one load in place (no expansion),
 * and each filter x row one VMLADAVA.S8 over 16 lanes: per 16 values 2 + npx loads and 2 * npx MACs, every
 * loaded vector used two or three times. A row length that is not a multiple of 16 ends with predicated
 * loads: the rows' bytes beyond k read as zero, the pair's last blocks come as two gathers of whole words,
 * so nothing beyond the filter array is read. The accumulators are the DSP path's, so its output stage
 * follows unchanged. */

/* Every filter against npx rows (1 to 3; `npx` and `mode` are constants after inlining), out[r] the row's
 * outputs. */
MTK_INLINE void mve_rows(const mtk_dot_rows *d, const int mode, const int npx, const int8_t *const rows[3],
                         int8_t *const out[3], const int runs, const int row_step, const int out_step)
{
    const int k = d->k, chunks = k >> 4, rest = k & 15, pairs = d->out_c >> 1;
    const int tail_bytes = 2 * (mtk_padded4(k) - 16 * chunks); /* of a pair's weights after its chunks */
    const mve_pred16_t row_tail = vctp8q((uint32_t)rest), word_tail = vctp32q((uint32_t)(rest + 3) >> 2);
    const uint32x4_t offsets = vld1q_u32(pair_tail_offsets);
    const mtk_output_quant q = *d->q;
    const uint32_t lo4 = mtk_bytes4(q.act_min);
    /* Locals, not the arrays or the descriptor: the written-out loops clobber memory, which would have every
     * one of these reloaded per run. */
    const int8_t *const weights = d->weights;
    const int32_t *const quant = d->quant;
    const int8_t *r0 = rows[0], *r1 = rows[npx > 1 ? 1 : 0], *r2 = rows[npx > 2 ? 2 : 0];
    int8_t *out0 = out[0], *out1 = out[npx > 1 ? 1 : 0], *out2 = out[npx > 2 ? 2 : 0];
    for (int run = 0; run < runs;
         ++run, r0 += row_step, r1 += row_step, r2 += row_step, out0 += out_step, out1 += out_step, out2 += out_step) {
        const int8_t *w = weights;
        const int32_t *t = quant;
        const int8_t *const x0 = r0, *const x1 = r1, *const x2 = r2;
        int8_t *o0 = out0, *o1 = out1, *o2 = out2;
        if (k <= 16 && pairs > 0) { /* short rows (V2's expand layers): each row one vector for all filters */
            const mve_pred16_t row_all = vctp8q((uint32_t)k), words = vctp32q((uint32_t)mtk_padded4(k) >> 2);
            const int8x16_t v0 = vldrbq_z_s8(x0, row_all), v1 = vldrbq_z_s8(x1, row_all), v2 = vldrbq_z_s8(x2, row_all);
            int pair = 0;
#if MTK_THUMB2_ASM
            if (npx == 3 && (mode == MTK_OUT_FOLDED || mode == MTK_OUT_FOLDED_MIN)) {
                pair = mve_short_all(mode == MTK_OUT_FOLDED_MIN, pairs, k, (int)(o1 - o0), x0, x1, x2, v0, v1, v2,
                                     offsets, lo4, &w, &t, &o0, &o1, &o2);
            }
#endif
            for (; pair < pairs; ++pair, t += 4 * MTK_DOT_QUANT_GROUP, o0 += 2, o1 += 2, o2 += 2) {
                const int32_t *wt = (const int32_t *)(const void *)w;
                const int8x16_t f0 = vreinterpretq_s8_s32(vldrwq_gather_offset_z_s32(wt, offsets, words));
                const int8x16_t f1 = vreinterpretq_s8_s32(vldrwq_gather_offset_z_s32(wt + 1, offsets, words));
                w += 2 * mtk_padded4(k);
                const int32_t b0 = t[0], b1 = t[1];
                if (npx == 3) {
                    mve_pair_out3(mode, &q, t, lo4, vmladavaq_s8(b0, f0, v0), vmladavaq_s8(b1, f1, v0),
                                  vmladavaq_s8(b0, f0, v1), vmladavaq_s8(b1, f1, v1), vmladavaq_s8(b0, f0, v2),
                                  vmladavaq_s8(b1, f1, v2), o0, o1, o2);
                    continue;
                }
                mve_pair_out(mode, &q, t, lo4, vmladavaq_s8(b0, f0, v0), vmladavaq_s8(b1, f1, v0), o0);
                if (npx > 1) {
                    mve_pair_out(mode, &q, t, lo4, vmladavaq_s8(b0, f0, v1), vmladavaq_s8(b1, f1, v1), o1);
                }
            }
        }
        for (int pair = k <= 16 ? pairs : 0; pair < pairs;
             ++pair, t += 4 * MTK_DOT_QUANT_GROUP, o0 += 2, o1 += 2, o2 += 2) {
            int32_t a[3][2] = {{t[0], t[1]}, {t[0], t[1]}, {t[0], t[1]}};
            int i = 0;
            for (int c = chunks; c > 0; --c, i += 16, w += 32) {
                const int32x4x2_t wv = vld2q_s32((const int32_t *)(const void *)w);
                const int8x16_t v0 = vld1q_s8(x0 + i);
                mve_pair_mla(npx, vreinterpretq_s8_s32(wv.val[0]), vreinterpretq_s8_s32(wv.val[1]), v0,
                             npx > 1 ? vld1q_s8(x1 + i) : v0, npx > 2 ? vld1q_s8(x2 + i) : v0, a);
            }
            if (rest) {
                const int32_t *wt = (const int32_t *)(const void *)w;
                const int8x16_t f0 = vreinterpretq_s8_s32(vldrwq_gather_offset_z_s32(wt, offsets, word_tail));
                const int8x16_t f1 = vreinterpretq_s8_s32(vldrwq_gather_offset_z_s32(wt + 1, offsets, word_tail));
                const int8x16_t v0 = vldrbq_z_s8(x0 + i, row_tail);
                mve_pair_mla(npx, f0, f1, v0, npx > 1 ? vldrbq_z_s8(x1 + i, row_tail) : v0,
                             npx > 2 ? vldrbq_z_s8(x2 + i, row_tail) : v0, a);
                w += tail_bytes;
            }
            mve_pair_out_rows(mode, npx, &q, t, lo4, a, o0, o1, o2);
        }
        if (d->out_c & 1) { /* odd last filter: its row is contiguous, padded with zeros */
            int32_t a[3] = {t[0], t[0], t[0]};
            for (int r = 0; r < npx; ++r) {
                const int8_t *x = r == 0 ? x0 : r == 1 ? x1 : x2;
                int i = 0;
                for (; i + 16 <= k; i += 16) {
                    a[r] = vmladavaq_s8(a[r], vld1q_s8(w + i), vld1q_s8(x + i));
                }
                if (rest) {
                    a[r] = vmladavaq_s8(a[r], vldrbq_z_s8(w + i, row_tail), vldrbq_z_s8(x + i, row_tail));
                }
            }
            mve_single_out(mode, &q, t, a, npx, o0, o1, o2);
        }
    }
}

#if MTK_THUMB2_ASM
/* clang-format off */
/* One block of 16 values: two filter pairs (VLD20/VLD21 each: q0..q3 = filters 0..3) against two rows (q4, q5),
 * eight VMLADAV[A] into a0..a7 (a row's four filters, then the other row's). */
#define MVE_QUAD_BLOCK(op)                                                                                             \
    "vld20.32 {q0, q1}, [%[wa]]\n\t"                                                                                   \
    "vld21.32 {q0, q1}, [%[wa]]!\n\t"                                                                                  \
    "vld20.32 {q2, q3}, [%[wb]]\n\t"                                                                                   \
    "vld21.32 {q2, q3}, [%[wb]]!\n\t"                                                                                  \
    "vldrb.u8 q4, [%[x0]], #16\n\t"                                                                                    \
    "vldrb.u8 q5, [%[x1]], #16\n\t"                                                                                    \
    op " %[a0], q0, q4\n\t"                                                                                            \
    op " %[a1], q1, q4\n\t"                                                                                            \
    op " %[a2], q2, q4\n\t"                                                                                            \
    op " %[a3], q3, q4\n\t"                                                                                            \
    op " %[a4], q0, q5\n\t"                                                                                            \
    op " %[a5], q1, q5\n\t"                                                                                            \
    op " %[a6], q2, q5\n\t"                                                                                            \
    op " %[a7], q3, q5\n\t"
/* clang-format on */

/* Four filters (the pairs at wa and wb) against rows x0 and x1 of `chunks` (>= 1) blocks of 16 values, the dot
 * products as row 0's vector [f0 f1 f2 f3] and row 1's. Per block 14 vector instructions for
 * 128 MACs, each loaded vector used two or four times; the eight accumulators take all seven even registers
 * below lr (VMLADAV's) and lr, so the loop counts with SUBS/BNE, and a function of its own (inlined into the
 * caller's loop GCC 12 finds the operands "impossible constraints"). VMOV Qd[2], Qd[0], Rt, Rt2 writes Rt to
 * lane 0 and Rt2 to lane 2. */
__attribute__((noinline)) static int32x4x2_t mve_quad_rows2(const int8_t *wa, const int8_t *wb, const int8_t *x0,
                                                            const int8_t *x1, int chunks)
{
    register int32_t a7 __asm__("lr");
    int32_t a0, a1, a2, a3, a4, a5, a6;
    int32x4_t r0, r1;
    /* clang-format off */
    __asm__(MVE_QUAD_BLOCK("vmladav.s8")
            "subs %[n], %[n], #1\n\t"
            "beq 2f\n\t"
            "1:\n\t"
            MVE_QUAD_BLOCK("vmladava.s8")
            "subs %[n], %[n], #1\n\t"
            "bne 1b\n\t"
            "2:\n\t"
            "vmov %q[r0][2], %q[r0][0], %[a0], %[a2]\n\t"
            "vmov %q[r0][3], %q[r0][1], %[a1], %[a3]\n\t"
            "vmov %q[r1][2], %q[r1][0], %[a4], %[a6]\n\t"
            "vmov %q[r1][3], %q[r1][1], %[a5], %[a7]\n\t"
            : [wa] "+r"(wa), [wb] "+r"(wb), [x0] "+r"(x0), [x1] "+r"(x1), [n] "+r"(chunks), [a0] "=&Te"(a0),
              [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [a4] "=&Te"(a4), [a5] "=&Te"(a5), [a6] "=&Te"(a6),
              [a7] "=&r"(a7), [r0] "=&w"(r0), [r1] "=&w"(r1)
            :
            : "q0", "q1", "q2", "q3", "q4", "q5", "cc", "memory");
    /* clang-format on */
    const int32x4x2_t v = {{r0, r1}};
    return v;
}

/* The folded output stage of four accumulators at once (four filters of a row, bias not yet added; form
 * `mode`, a constant after inlining): sign(acc) + rounding + SMMULR(2 * acc, m) as VQRDMULH and two adds (the
 * same value: |acc| < 2^30), then the shift right by r with int8 saturation as a saturating shift left by
 * 24 - r and a shift right by 24 (exact: s >> r fits int8 exactly when s << (24 - r) fits int32). */
MTK_INLINE int32x4_t mve_folded4(const int mode, int32x4_t acc, const int32x4_t *e, int32x4_t lo, int32x4_t hi)
{
    const int32x4_t a = vaddq_s32(acc, e[0]);
    int32x4_t y = vaddq_s32(vaddq_s32(vqrdmulhq_s32(a, e[1]), e[2]), vshrq_n_s32(a, 31));
    y = vshrq_n_s32(vqshlq_s32(y, e[3]), 24);
    if (mode == MTK_OUT_FOLDED_MIN || mode == MTK_OUT_FOLDED_CLAMPED) {
        y = vmaxq_s32(y, lo);
    }
    if (mode == MTK_OUT_FOLDED_CLAMPED) {
        y = vminq_s32(y, hi);
    }
    return y;
}

/* Whether mve_quads serves the layer: folded table, rows of whole blocks of 16 (32 values or more; shorter
 * rows have their own loop), filters in fours. */
MTK_INLINE int mve_quads_ok(const mtk_dot_rows *d)
{
    return d->folded && d->k >= 32 && (d->k & 15) == 0 && (d->out_c & 3) == 0;
}

/* One quad's filters (w, parameter vectors e: bias, multiplier, rounding, 24 - shift) against `count` (even)
 * rows row_stride apart, outputs out_stride apart, two rows a pass. */
MTK_INLINE void mve_quad_rows(const int mode, const int8_t *w, int k, const int32x4_t *e, int32x4_t lo, int32x4_t hi,
                              const int8_t *x, int row_stride, int count, int8_t *o, int out_stride)
{
    for (int left = count; left > 0; left -= 2, x += 2 * row_stride, o += 2 * out_stride) {
        const int32x4x2_t v = mve_quad_rows2(w, w + 2 * k, x, x + row_stride, k >> 4);
        vstrbq_s32(o, mve_folded4(mode, v.val[0], e, lo, hi));
        vstrbq_s32(o + out_stride, mve_folded4(mode, v.val[1], e, lo, hi));
    }
}

/* Every filter against `count` (even) rows row_stride apart (outputs out_stride apart), four filters at a time over
 * all rows (`rows_fn`, mve_quad_rows in the layer's form): the four filters' parameters read once, as
 * vectors, and each pass's eight outputs through two vector output stages and two 4-byte stores, against
 * the pair loop's scalar stage per output. */
MTK_INLINE void mve_quads(const mtk_dot_rows *d,
                          void (*rows_fn)(const int8_t *, int, const int32x4_t *, int32x4_t, int32x4_t, const int8_t *,
                                          int, int, int8_t *, int),
                          const int8_t *rows, int row_stride, int count, int8_t *out, int out_stride)
{
    const int k = d->k, quads = d->out_c >> 2;
    static const uint32_t entry_offsets[4] = {0, 4, 32, 36}; /* filters 0..3 in the quad's two table blocks */
    const uint32x4_t offsets = vld1q_u32(entry_offsets);
    const int32x4_t lo = vdupq_n_s32(d->q->act_min), hi = vdupq_n_s32(d->q->act_max);
    for (int quad = 0; quad < quads; ++quad) {
        const int32_t *t = d->quant + quad * 8 * MTK_DOT_QUANT_GROUP;
        int32x4_t e[4];
        for (int j = 0; j < 4; ++j) {
            e[j] = vldrwq_gather_offset_s32(t + 2 * j, offsets);
        }
        e[3] = vsubq_s32(vdupq_n_s32(24), e[3]);
        rows_fn(d->weights + quad * 4 * k, k, e, lo, hi, rows, row_stride, count, out + 4 * quad, out_stride);
    }
}

/* clang-format off */
/* Both rows' stages of a pass, then the loop's end. */
#define MVE_SHORT_QUAD_TAIL(clamp0, clamp1)                                                                            \
    MVE_QUAD_STAGE("a0", "a1", "a2", "a3", "q2", "q3", "%q[e0]", "%q[e1]", "%q[e2]", "%q[e3]",                         \
                   clamp0)                                                                                             \
    "vstrb.32 q3, [%[o]]\n\t"                                                                                          \
    "add %[o], %[o], %[os]\n\t"                                                                                        \
    MVE_QUAD_STAGE("a4", "a5", "a6", "a7", "q2", "q3", "%q[e0]", "%q[e1]", "%q[e2]", "%q[e3]",                         \
                   clamp1)                                                                                             \
    "vstrb.32 q3, [%[o]]\n\t"                                                                                          \
    "add %[o], %[o], %[os]\n\t"                                                                                        \
    "subs %[n], %[n], #1\n\t"                                                                                          \
    "bne 1b\n\t"

/* k == 16: per pass rows x (q2) and x + 16 (q3), the quad's two pairs as VLD20/VLD21 into q0, q1 (w restored
 * after). */
#define MVE_SHORT_QUAD_K16(clamp0, clamp1)                                                                             \
    "1:\n\t"                                                                                                           \
    "vldrb.u8 q2, [%[x]], #16\n\t"                                                                                     \
    "vldrb.u8 q3, [%[x]], #16\n\t"                                                                                     \
    "vld20.32 {q0, q1}, [%[w]]\n\t"                                                                                    \
    "vld21.32 {q0, q1}, [%[w]]!\n\t"                                                                                   \
    "vmladav.s8 %[a0], q0, q2\n\t"                                                                                     \
    "vmladav.s8 %[a1], q1, q2\n\t"                                                                                     \
    "vmladav.s8 %[a4], q0, q3\n\t"                                                                                     \
    "vmladav.s8 %[a5], q1, q3\n\t"                                                                                     \
    "vld20.32 {q0, q1}, [%[w]]\n\t"                                                                                    \
    "vld21.32 {q0, q1}, [%[w]]!\n\t"                                                                                   \
    "vmladav.s8 %[a2], q0, q2\n\t"                                                                                     \
    "vmladav.s8 %[a3], q1, q2\n\t"                                                                                     \
    "vmladav.s8 %[a6], q0, q3\n\t"                                                                                     \
    "vmladav.s8 %[a7], q1, q3\n\t"                                                                                     \
    "sub %[w], %[w], #64\n\t"                                                                                          \
    MVE_SHORT_QUAD_TAIL(clamp0, clamp1)

/* k == 8: the quad's pairs stay in p0, p1 (words [f0 f1 f0 f1] of the packed pair); a row's two words go to
 * lanes [w0 w0 w1 w1], so VMLADAV on the predicate's lanes (words 0, 2: VPR.P0 = 0x0F0F) is the first
 * filter's dot product and on the others (an E of the VPT block) the second's: no spreading of rows or weights.
 * T E E T, as every change between T and E inverts VPR.P0 and the block must leave it as it found it. */
#define MVE_SHORT_QUAD_ROW8(v, r0, r1, r2, r3)                                                                         \
    "ldrd %[a0], %[a1], [%[x]], #8\n\t"                                                                                \
    "vmov " v "[2], " v "[0], %[a0], %[a1]\n\t"                                                                        \
    "vmov " v "[3], " v "[1], %[a0], %[a1]\n\t"
#define MVE_SHORT_QUAD_MLA8(v, r0, r1, r2, r3)                                                                         \
    "vpsteet\n\t"                                                                                                      \
    "vmladavt.s8 %[" r0 "], %q[p0], " v "\n\t"                                                                         \
    "vmladave.s8 %[" r1 "], %q[p0], " v "\n\t"                                                                         \
    "vmladave.s8 %[" r3 "], %q[p1], " v "\n\t"                                                                         \
    "vmladavt.s8 %[" r2 "], %q[p1], " v "\n\t"
#define MVE_SHORT_QUAD_K8(clamp0, clamp1)                                                                              \
    "movw %[a0], #0x0f0f\n\t"                                                                                          \
    "vmsr p0, %[a0]\n\t"                                                                                               \
    "1:\n\t"                                                                                                           \
    MVE_SHORT_QUAD_ROW8("q2", "a0", "a1", "a2", "a3")                                                                  \
    MVE_SHORT_QUAD_ROW8("q3", "a4", "a5", "a6", "a7")                                                                  \
    MVE_SHORT_QUAD_MLA8("q2", "a0", "a1", "a2", "a3")                                                                  \
    MVE_SHORT_QUAD_MLA8("q3", "a4", "a5", "a6", "a7")                                                                  \
    MVE_SHORT_QUAD_TAIL(clamp0, clamp1)

#define MVE_SHORT_QUAD_OUTPUTS                                                                                         \
    : [w] "+r"(w), [x] "+r"(x), [o] "+l"(o), [n] "+r"(passes), [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2),      \
      [a3] "=&Te"(a3), [a4] "=&Te"(a4), [a5] "=&Te"(a5), [a6] "=&Te"(a6), [a7] "=&r"(a7)
#define MVE_SHORT_QUAD_INPUTS                                                                                          \
    [os] "r"(out_stride), [e0] "w"(e[0]), [e1] "w"(e[1]), [e2] "w"(e[2]), [e3] "w"(e[3]), [lo] "m"(lo), [hi] "m"(hi)
/* clang-format on */

/* One quad's filters (w; parameter vectors e as for mve_folded4) against `count` (even, >= 2) rows of k (8
 * or 16) values one after another, outputs out_stride apart, two rows a pass and form `mode`: the four
 * filters x two rows' dot products as eight VMLADAV into GPRs (the eight accumulators take r0-r12's even
 * registers and lr, VMLADAV's), then per row one vector output stage and one 4-byte store, against the
 * pair loop's scalar stage per output (~13 beats an output at k == 8). A function of its own for the
 * register allocation, as mve_quad_rows2. */
__attribute__((noinline)) static void mve_short_quad_rows(const int mode, const int8_t *w, int k, const int32x4_t *e,
                                                          int32_t lo, int32_t hi, const int8_t *x, int count, int8_t *o,
                                                          int out_stride)
{
    register int32_t a7 __asm__("lr");
    int32_t a0, a1, a2, a3, a4, a5, a6;
    int passes = count >> 1;
    if (k == 16) {
        if (mode == MTK_OUT_FOLDED) {
            __asm__ volatile(MVE_SHORT_QUAD_K16("", "") MVE_SHORT_QUAD_OUTPUTS:MVE_SHORT_QUAD_INPUTS
                             : "q0", "q1", "q2", "q3", "cc", "memory");
        } else if (mode == MTK_OUT_FOLDED_MIN) {
            __asm__ volatile(MVE_SHORT_QUAD_K16(MVE_QUAD_MAX("a0", "q2", "q3"), MVE_QUAD_MAX("a4", "q2", "q3"))
                             MVE_SHORT_QUAD_OUTPUTS:MVE_SHORT_QUAD_INPUTS
                             : "q0", "q1", "q2", "q3", "cc", "memory");
        } else {
            __asm__ volatile(MVE_SHORT_QUAD_K16(MVE_QUAD_MAX("a0", "q2", "q3") MVE_QUAD_MIN("a0", "q2", "q3"),
                                                MVE_QUAD_MAX("a4", "q2", "q3") MVE_QUAD_MIN("a4", "q2", "q3"))
                             MVE_SHORT_QUAD_OUTPUTS:MVE_SHORT_QUAD_INPUTS
                             : "q0", "q1", "q2", "q3", "cc", "memory");
        }
        return;
    }
    const int8x16_t p0 = vld1q_s8(w), p1 = vld1q_s8(w + 16);
    if (mode == MTK_OUT_FOLDED) {
        __asm__ volatile(MVE_SHORT_QUAD_K8("", "") MVE_SHORT_QUAD_OUTPUTS
                         : MVE_SHORT_QUAD_INPUTS, [p0] "w"(p0), [p1] "w"(p1)
                         : "q2", "q3", "cc", "memory");
    } else if (mode == MTK_OUT_FOLDED_MIN) {
        __asm__ volatile(MVE_SHORT_QUAD_K8(MVE_QUAD_MAX("a0", "q2", "q3"), MVE_QUAD_MAX("a4", "q2", "q3"))
                             MVE_SHORT_QUAD_OUTPUTS
                         : MVE_SHORT_QUAD_INPUTS, [p0] "w"(p0), [p1] "w"(p1)
                         : "q2", "q3", "cc", "memory");
    } else {
        __asm__ volatile(MVE_SHORT_QUAD_K8(MVE_QUAD_MAX("a0", "q2", "q3") MVE_QUAD_MIN("a0", "q2", "q3"),
                                           MVE_QUAD_MAX("a4", "q2", "q3") MVE_QUAD_MIN("a4", "q2", "q3"))
                             MVE_SHORT_QUAD_OUTPUTS
                         : MVE_SHORT_QUAD_INPUTS, [p0] "w"(p0), [p1] "w"(p1)
                         : "q2", "q3", "cc", "memory");
    }
}

/* Whether mve_short_quads serves the layer: folded table, rows of 8 or 16 values one after another (pointwise,
 * stride 1), filters in fours. */
MTK_INLINE int mve_short_quads_ok(const mtk_dot_rows *d, int row_stride)
{
    return d->folded && (d->k == 8 || d->k == 16) && row_stride == d->k && (d->out_c & 3) == 0;
}

/* mve_short_quad_rows in mve_quad_rows's form (the rows adjacent, the bounds the vectors' lanes). */
MTK_INLINE void mve_short_rows(const int mode, const int8_t *w, int k, const int32x4_t *e, int32x4_t lo, int32x4_t hi,
                               const int8_t *x, int row_stride, int count, int8_t *o, int out_stride)
{
    (void)row_stride;
    mve_short_quad_rows(mode, w, k, e, vgetq_lane_s32(lo, 0), vgetq_lane_s32(hi, 0), x, count, o, out_stride);
}

typedef void (*mve_quads_fn)(const mtk_dot_rows *, const int8_t *, int, int, int8_t *, int);

#define MVE_QUADS_VARIANT(name, mode, kernel)                                                                          \
    static void name##_rows(const int8_t *w, int k, const int32x4_t *e, int32x4_t lo, int32x4_t hi, const int8_t *x,   \
                            int row_stride, int count, int8_t *o, int out_stride)                                      \
    {                                                                                                                  \
        kernel(mode, w, k, e, lo, hi, x, row_stride, count, o, out_stride);                                            \
    }                                                                                                                  \
    static void name(const mtk_dot_rows *d, const int8_t *rows, int row_stride, int count, int8_t *out,                \
                     int out_stride)                                                                                   \
    {                                                                                                                  \
        mve_quads(d, name##_rows, rows, row_stride, count, out, out_stride);                                           \
    }
MVE_QUADS_VARIANT(mve_quads_folded, MTK_OUT_FOLDED, mve_quad_rows)
MVE_QUADS_VARIANT(mve_quads_folded_min, MTK_OUT_FOLDED_MIN, mve_quad_rows)
MVE_QUADS_VARIANT(mve_quads_folded_clamped, MTK_OUT_FOLDED_CLAMPED, mve_quad_rows)
MVE_QUADS_VARIANT(mve_short_quads_folded, MTK_OUT_FOLDED, mve_short_rows)
MVE_QUADS_VARIANT(mve_short_quads_folded_min, MTK_OUT_FOLDED_MIN, mve_short_rows)
MVE_QUADS_VARIANT(mve_short_quads_folded_clamped, MTK_OUT_FOLDED_CLAMPED, mve_short_rows)

/* The quad routine for `count` rows of layer d (folded forms, in mtk_output_mode's order from FOLDED), or
 * NULL. From 12 rows for rows of 32 values or more: VWW's 3x3-pixel layers (9 rows) are 96.2 k and 166.9 k
 * beats in the pair loop against 101.5 k and 174.2 k there, its 6x6 ones (36 rows) 192.4 k against 183.5 k. */
MTK_INLINE const mve_quads_fn *mve_quads_for(const mtk_dot_rows *d, int row_stride, int count)
{
    static const mve_quads_fn long_rows[3] = {mve_quads_folded, mve_quads_folded_min, mve_quads_folded_clamped};
    static const mve_quads_fn short_rows[3] = {mve_short_quads_folded, mve_short_quads_folded_min,
                                               mve_short_quads_folded_clamped};
    if (count >= 12 && mve_quads_ok(d)) {
        return long_rows;
    }
    return count >= 2 && mve_short_quads_ok(d, row_stride) ? short_rows : NULL;
}
#endif

#define MVE_VARIANT(name, mode, npx)                                                                                   \
    static void name(const mtk_dot_rows *d, const int8_t *const rows[3], int8_t *const out[3], int runs, int row_step, \
                     int out_step)                                                                                     \
    {                                                                                                                  \
        mve_rows(d, mode, npx, rows, out, runs, row_step, out_step);                                                   \
    }
MVE_VARIANT(mve_rows1_general, MTK_OUT_GENERAL, 1)
MVE_VARIANT(mve_rows1_folded, MTK_OUT_FOLDED, 1)
MVE_VARIANT(mve_rows1_folded_min, MTK_OUT_FOLDED_MIN, 1)
MVE_VARIANT(mve_rows1_folded_clamped, MTK_OUT_FOLDED_CLAMPED, 1)
MVE_VARIANT(mve_rows2_general, MTK_OUT_GENERAL, 2)
MVE_VARIANT(mve_rows2_folded, MTK_OUT_FOLDED, 2)
MVE_VARIANT(mve_rows2_folded_min, MTK_OUT_FOLDED_MIN, 2)
MVE_VARIANT(mve_rows2_folded_clamped, MTK_OUT_FOLDED_CLAMPED, 2)
MVE_VARIANT(mve_rows3_general, MTK_OUT_GENERAL, 3)
MVE_VARIANT(mve_rows3_folded, MTK_OUT_FOLDED, 3)
MVE_VARIANT(mve_rows3_folded_min, MTK_OUT_FOLDED_MIN, 3)
MVE_VARIANT(mve_rows3_folded_clamped, MTK_OUT_FOLDED_CLAMPED, 3)

typedef void (*mve_rows_fn)(const mtk_dot_rows *, const int8_t *const[3], int8_t *const[3], int, int, int);

/* The routine for npx (1 to 3) rows in the layer's output stage form, `runs` times, the rows row_step and
 * the outputs out_step further each time (the layer's set-up once for them all). */
static void mve_dot_rows(const mtk_dot_rows *d, int npx, const int8_t *const rows[3], int8_t *const out[3], int runs,
                         int row_step, int out_step)
{
    static const mve_rows_fn fns[3][4] = {
        {mve_rows1_general, mve_rows1_folded, mve_rows1_folded_min, mve_rows1_folded_clamped},
        {mve_rows2_general, mve_rows2_folded, mve_rows2_folded_min, mve_rows2_folded_clamped},
        {mve_rows3_general, mve_rows3_folded, mve_rows3_folded_min, mve_rows3_folded_clamped},
    };
    fns[npx - 1][mtk_output_mode(d->folded, d->q)](d, rows, out, runs, row_step, out_step);
}

#endif /* MTK_MVE */

#if MTK_DSP
/* The job of dot_rows_dsp.S (offsets listed there). */
typedef struct {
    const int8_t *weights;
    const mtk_word *x;
    const int32_t *table;
    int8_t *out;
    int32_t out_stride;
    int32_t blocks;
    int32_t pairs;
    int32_t clamp; /* 0 none, 1 lower bound, 2 both */
    uint32_t lo4, hi4;
    const int8_t *rows; /* NULL: x holds `groups` expanded groups one after another; else pixel rows of whole
                         * blocks, row_stride apart, which the routine expands into x three at a time */
    int32_t row_stride;
    int32_t groups;         /* of three pixels, >= 1; their outputs 3 * out_stride apart */
    int32_t one_value_last; /* the last block holds one value (its other weights are zero) */
    int32_t plain;          /* x holds plain SXTB16 halves (7 blocks only), not mtk_dot3_pixel_word's */
    int32_t sign;           /* the output stage's sign term matters: outputs below the zero point are kept */
} mtk_dot3_job;

void mtk_dot3_folded_dsp(const mtk_dot3_job *job);
#endif

/* The DSP path's own rows (Helium reads rows in place, above). */
#if MTK_DSP && !MTK_MVE

/* One block of rows 0 and 1 (four values each) sign-extended: [row0 even, row0 odd, row1 even, row1 odd],
 * the halfword order SXTB16 gives, matching the filter words' own SXTB16. */
MTK_INLINE void expand_block(int32_t r0, int32_t r1, mtk_word *x)
{
    x[0] = __sxtb16(r0);
    x[1] = mtk_sxtb16_ror8(r0);
    x[2] = __sxtb16(r1);
    x[3] = mtk_sxtb16_ror8(r1);
}

/* Rows 0 and 1 sign-extended into x block by block; padding values are 0. */
static void expand_rows(const int8_t *row0, const int8_t *row1, int k, mtk_word *x)
{
    const int full = k >> 2, tail = k & 3;
    for (int b = 0; b < full; ++b, row0 += 4, row1 += 4, x += 4) {
        expand_block(mtk_read_s8x4(row0), mtk_read_s8x4(row1), x);
    }
    if (tail) {
        int8_t t0[4] = {0, 0, 0, 0}, t1[4] = {0, 0, 0, 0};
        memcpy(t0, row0, (size_t)tail);
        memcpy(t1, row1, (size_t)tail);
        expand_block(mtk_read_s8x4(t0), mtk_read_s8x4(t1), x);
    }
}

/* Three rows as the three-pixel routine reads them, block by block (mtk_dot3_pixel_word for row 0, 1, 2);
 * padding values are 0. */
static void expand_rows3(const int8_t *const rows[3], int k, mtk_word *x)
{
    const int full = k >> 2, tail = k & 3;
    const int8_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2];
    for (int b = 0; b < full; ++b, r0 += 4, r1 += 4, r2 += 4, x += 6) {
        mtk_dot3_pixel_word(mtk_read_s8x4(r0), x);
        mtk_dot3_pixel_word(mtk_read_s8x4(r1), x + 2);
        mtk_dot3_pixel_word(mtk_read_s8x4(r2), x + 4);
    }
    if (tail) {
        int8_t t[3][4] = {{0}};
        memcpy(t[0], r0, (size_t)tail);
        memcpy(t[1], r1, (size_t)tail);
        memcpy(t[2], r2, (size_t)tail);
        for (int r = 0; r < 3; ++r) {
            mtk_dot3_pixel_word(mtk_read_s8x4(t[r]), x + 2 * r);
        }
    }
}

#if MTK_THUMB2_ASM
/* One block of 4 values: 3 LDRD (post-indexed), 4 SXTB16, 8 SMLAD. GCC's own schedule of the same C
 * spends 20 instructions a block on separate address updates; written out, the loop body is 15. */
#define MTK_MAC_2X2_BLOCK                                                                                              \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                                                \
    "sxtb16 %[w0o], %[w0], ror #8\n\t"                                                                                 \
    "sxtb16 %[w0], %[w0]\n\t"                                                                                          \
    "sxtb16 %[w1o], %[w1], ror #8\n\t"                                                                                 \
    "sxtb16 %[w1], %[w1]\n\t"                                                                                          \
    "ldrd %[xe], %[xo], [%[x]], #8\n\t"                                                                                \
    "smlad %[a00], %[w0], %[xe], %[a00]\n\t"                                                                           \
    "smlad %[a00], %[w0o], %[xo], %[a00]\n\t"                                                                          \
    "smlad %[a01], %[w1], %[xe], %[a01]\n\t"                                                                           \
    "smlad %[a01], %[w1o], %[xo], %[a01]\n\t"                                                                          \
    "ldrd %[xe], %[xo], [%[x]], #8\n\t"                                                                                \
    "smlad %[a10], %[w0], %[xe], %[a10]\n\t"                                                                           \
    "smlad %[a10], %[w0o], %[xo], %[a10]\n\t"                                                                          \
    "smlad %[a11], %[w1], %[xe], %[a11]\n\t"                                                                           \
    "smlad %[a11], %[w1o], %[xo], %[a11]\n\t"

/* Two filters (a packed pair at *w) x two expanded pixels over `blocks` (>= 1) blocks; *w advances past
 * them. The loop runs two blocks a pass; an odd count enters the first pass at its second half. */
MTK_INLINE void mac_2x2(const mtk_word **w, const mtk_word *x, int blocks, int32_t *a00, int32_t *a01, int32_t *a10,
                        int32_t *a11)
{
    const mtk_word *wp = *w;
    int32_t w0, w1, w0o, w1o, xe, xo;
    /* clang-format off */
    __asm__("lsrs %[n], %[n], #1\n\t" /* passes; the carry says odd */
            "bcc 1f\n\t"
            "adds %[n], %[n], #1\n\t"
            "b 2f\n\t"
            "1:\n\t" MTK_MAC_2X2_BLOCK
            "2:\n\t" MTK_MAC_2X2_BLOCK
            "subs %[n], %[n], #1\n\t"
            "bne 1b\n\t"
            : [a00] "+r"(*a00), [a01] "+r"(*a01), [a10] "+r"(*a10), [a11] "+r"(*a11), [w] "+r"(wp),
              [x] "+r"(x), [n] "+r"(blocks), [w0] "=&r"(w0), [w1] "=&r"(w1), [w0o] "=&r"(w0o),
              [w1o] "=&r"(w1o), [xe] "=&r"(xe), [xo] "=&r"(xo)
            :
            : "cc", "memory");
    /* clang-format on */
    *w = wp;
}
#else
MTK_INLINE void mac_2x2(const mtk_word **w, const mtk_word *x, int blocks, int32_t *a00, int32_t *a01, int32_t *a10,
                        int32_t *a11)
{
    const mtk_word *wp = *w;
    for (int b = blocks; b > 0; --b, wp += 2, x += 4) {
        const int32_t w0 = wp[0], w1 = wp[1];
        const int32_t w0e = __sxtb16(w0), w0o = mtk_sxtb16_ror8(w0);
        const int32_t w1e = __sxtb16(w1), w1o = mtk_sxtb16_ror8(w1);
        *a00 = __smlad(w0o, x[1], __smlad(w0e, x[0], *a00));
        *a01 = __smlad(w1o, x[1], __smlad(w1e, x[0], *a01));
        *a10 = __smlad(w0o, x[3], __smlad(w0e, x[2], *a10));
        *a11 = __smlad(w1o, x[3], __smlad(w1e, x[2], *a11));
    }
    *w = wp;
}
#endif

/* Every filter against the two expanded rows in x, writing out0 and out1 (the same place when there is
 * one row: x then holds it twice). Per filter pair one table block: bias[2], multiplier[2], rounding[2], r[2]. */
MTK_INLINE void rows_2px(const mtk_dot_rows *d, const int mode, const mtk_word *x, int8_t *out0, int8_t *out1)
{
    const int blocks = mtk_padded4(d->k) >> 2, out_c = d->out_c;
    const mtk_word *w = (const mtk_word *)(const void *)d->weights;
    const int32_t *t = d->quant;
    const mtk_output_quant q = *d->q;
#if MTK_THUMB2_ASM
    const uint32_t lo4 = mtk_bytes4(q.act_min);
#endif
    int8_t *const end0 = out0 + (out_c & ~1);
    for (; out0 < end0; out0 += 2, out1 += 2, t += 4 * MTK_DOT_QUANT_GROUP) {
        int32_t a00 = t[0], a01 = t[1];
        int32_t a10 = a00, a11 = a01;
        mac_2x2(&w, x, blocks, &a00, &a01, &a10, &a11);
#if MTK_THUMB2_ASM
        if (mode == MTK_OUT_FOLDED || mode == MTK_OUT_FOLDED_MIN) {
            uint32_t packed = mtk_folded_2x2(t, a00, a01, a10, a11);
            if (mode == MTK_OUT_FOLDED_MIN) {
                packed = mtk_max_s8x4(packed, lo4);
            }
            const uint16_t pixel0 = (uint16_t)packed, pixel1 = (uint16_t)(packed >> 16);
            memcpy(out0, &pixel0, 2);
            memcpy(out1, &pixel1, 2);
            continue;
        }
#endif
        /* Both pixels from the table before the first byte store, after which it must be assumed changed. */
        const int8_t pixel0[2] = {(int8_t)mtk_output_entry(mode, &q, t, MTK_DOT_QUANT_GROUP, 0, a00),
                                  (int8_t)mtk_output_entry(mode, &q, t, MTK_DOT_QUANT_GROUP, 1, a01)};
        const int8_t pixel1[2] = {(int8_t)mtk_output_entry(mode, &q, t, MTK_DOT_QUANT_GROUP, 0, a10),
                                  (int8_t)mtk_output_entry(mode, &q, t, MTK_DOT_QUANT_GROUP, 1, a11)};
        memcpy(out0, pixel0, 2);
        memcpy(out1, pixel1, 2);
    }
    if (out_c & 1) { /* odd last filter: its blocks are consecutive words */
        int32_t a0 = t[0], a1 = a0;
        const mtk_word *xp = x;
        for (int b = blocks; b > 0; --b, w += 1, xp += 4) {
            const int32_t w0 = w[0];
            const int32_t w0e = __sxtb16(w0), w0o = mtk_sxtb16_ror8(w0);
            a0 = __smlad(w0e, xp[0], a0);
            a0 = __smlad(w0o, xp[1], a0);
            a1 = __smlad(w0e, xp[2], a1);
            a1 = __smlad(w0o, xp[3], a1);
        }
        out0[0] = mtk_output_as(mode, &q, a0, t[2], t[4], t[6]);
        out1[0] = mtk_output_as(mode, &q, a1, t[2], t[4], t[6]);
    }
}

static void rows_2px_general(const mtk_dot_rows *d, const mtk_word *x, int8_t *out0, int8_t *out1)
{
    rows_2px(d, MTK_OUT_GENERAL, x, out0, out1);
}

static void rows_2px_folded(const mtk_dot_rows *d, const mtk_word *x, int8_t *out0, int8_t *out1)
{
    rows_2px(d, MTK_OUT_FOLDED, x, out0, out1);
}

static void rows_2px_folded_min(const mtk_dot_rows *d, const mtk_word *x, int8_t *out0, int8_t *out1)
{
    rows_2px(d, MTK_OUT_FOLDED_MIN, x, out0, out1);
}

static void rows_2px_folded_clamped(const mtk_dot_rows *d, const mtk_word *x, int8_t *out0, int8_t *out1)
{
    rows_2px(d, MTK_OUT_FOLDED_CLAMPED, x, out0, out1);
}

/* One row read in place (FULLY_CONNECTED: no scratch), two filters per pass. */
static void rows_1px(const mtk_dot_rows *d, const int8_t *row, int8_t *out)
{
    const int k = d->k, full = k >> 2, tail = k & 3, out_c = d->out_c;
    int8_t last[4] = {0, 0, 0, 0};
    memcpy(last, row + 4 * full, (size_t)tail);
    for (int oc = 0; oc < out_c; oc += 2) {
        int block_step;
        const mtk_word *w = (const mtk_word *)(const void *)packed_row(d, oc, &block_step);
        const int paired = block_step == 8, step = block_step / 4; /* words */
        int32_t a0 = mtk_quant_entry(d->quant, MTK_DOT_QUANT_GROUP, oc)[0];
        int32_t a1 = paired ? mtk_quant_entry(d->quant, MTK_DOT_QUANT_GROUP, oc + 1)[0] : 0;
        for (int b = 0; b < full + (tail != 0); ++b, w += step) {
            const int32_t xv = mtk_read_s8x4(b < full ? row + 4 * b : last);
            const int32_t xe = __sxtb16(xv), xo = mtk_sxtb16_ror8(xv);
            a0 = __smlad(__sxtb16(w[0]), xe, a0);
            a0 = __smlad(mtk_sxtb16_ror8(w[0]), xo, a0);
            if (paired) {
                a1 = __smlad(__sxtb16(w[1]), xe, a1);
                a1 = __smlad(mtk_sxtb16_ror8(w[1]), xo, a1);
            }
        }
        out[oc] = output_any(d, a0, oc);
        if (paired) {
            out[oc + 1] = output_any(d, a1, oc + 1);
        }
    }
}

#endif /* MTK_DSP && !MTK_MVE */

int mtk_dot_rows3_expanded_ok(const mtk_dot_rows *d)
{
    return MTK_DSP && !MTK_MVE && d->folded && d->out_c >= 2 && (d->out_c & 1) == 0;
}

int mtk_dot_rows_group(const mtk_dot_rows *d)
{
    if (MTK_MVE || mtk_dot_rows3_expanded_ok(d)) {
        return 3;
    }
    return 2;
}

#if MTK_DSP
/* The three-pixel routine's job for layer d, pixels expanded in x, outputs out_stride apart. */
MTK_INLINE mtk_dot3_job dot3_job(const mtk_dot_rows *d, const mtk_word *x, int8_t *out, int out_stride)
{
    const mtk_output_quant q = *d->q;
    const int mode = mtk_output_mode(d->folded, d->q);
    const mtk_dot3_job job = {d->weights,
                              x,
                              d->quant,
                              out,
                              out_stride,
                              mtk_padded4(d->k) >> 2,
                              d->out_c >> 1,
                              mode == MTK_OUT_FOLDED       ? 0
                              : mode == MTK_OUT_FOLDED_MIN ? 1
                                                           : 2,
                              mtk_bytes4(q.act_min),
                              mtk_bytes4(q.act_max),
                              NULL,
                              0,
                              1,
                              (d->k & 3) == 1,
                              0,
                              q.act_min < q.output_zero_point};
    return job;
}

void mtk_dot_rows3_expanded_s8(const mtk_dot_rows *d, const mtk_word *x, int groups, int8_t *out, int out_stride,
                               int plain)
{
    /* With Helium no layer comes here (mtk_dot_rows3_expanded_ok), and the routine is left unlinked. */
    if (!MTK_MVE && groups > 0) {
        mtk_dot3_job job = dot3_job(d, x, out, out_stride);
        job.groups = groups;
        job.plain = plain;
        mtk_dot3_folded_dsp(&job);
    }
}
#endif

void mtk_dot_rows3_s8(const mtk_dot_rows *d, const int8_t *const rows[3], int8_t *out, int out_stride, int8_t *scratch)
{
#if MTK_MVE
    (void)scratch; /* rows are read in place */
    int8_t *const outs[3] = {out, out + out_stride, out + 2 * out_stride};
    mve_dot_rows(d, 3, rows, outs, 1, 0, 0);
    return;
#elif MTK_DSP
    if (mtk_dot_rows_group(d) == 3) {
        mtk_word *x = (mtk_word *)(void *)scratch;
        expand_rows3(rows, d->k, x);
        mtk_dot_rows3_expanded_s8(d, x, 1, out, out_stride, 0);
        return;
    }
#endif
    mtk_dot_rows_s8(d, rows[0], rows[1], out, out + out_stride, scratch);
    mtk_dot_rows_s8(d, rows[2], NULL, out + 2 * out_stride, NULL, scratch);
}

void mtk_dot_rows3_run_s8(const mtk_dot_rows *d, const int8_t *rows, int row_stride, int count, int8_t *out,
                          int out_stride, int8_t *scratch)
{
#if MTK_MVE
    (void)scratch; /* rows are read in place */
#if MTK_THUMB2_ASM
    const mve_quads_fn *const quads = mve_quads_for(d, row_stride, count);
    if (quads != NULL) {
        const int even = count & ~1;
        quads[mtk_output_mode(d->folded, d->q) - MTK_OUT_FOLDED](d, rows, row_stride, even, out, out_stride);
        if (count & 1) {
            mtk_dot_rows_s8(d, rows + even * row_stride, NULL, out + even * out_stride, NULL, scratch);
        }
        return;
    }
#endif
    const int8_t *const three[3] = {rows, rows + row_stride, rows + 2 * row_stride};
    int8_t *const outs[3] = {out, out + out_stride, out + 2 * out_stride};
    mve_dot_rows(d, 3, three, outs, count / 3, 3 * row_stride, 3 * out_stride);
    return;
#endif
#if MTK_DSP && !MTK_MVE
    if (mtk_dot_rows_group(d) == 3) {
        /* The job once for the run: rows of whole blocks the routine expands itself, three at a time, in one
         * call; otherwise per three rows their expansion (with the tail) and the routine. */
        mtk_word *x = (mtk_word *)(void *)scratch;
        mtk_dot3_job job = dot3_job(d, x, out, out_stride);
        if ((d->k & 3) == 0) {
            job.rows = rows;
            job.row_stride = row_stride;
            job.groups = count / 3;
            if (job.groups > 0) {
                mtk_dot3_folded_dsp(&job);
            }
            return;
        }
        for (int i = 0; i < count; i += 3, rows += 3 * row_stride, job.out += 3 * out_stride) {
            const int8_t *const three[3] = {rows, rows + row_stride, rows + 2 * row_stride};
            expand_rows3(three, d->k, x);
            mtk_dot3_folded_dsp(&job);
        }
        return;
    }
#endif
    for (int i = 0; i < count; i += 3, rows += 3 * row_stride, out += 3 * out_stride) {
        const int8_t *const three[3] = {rows, rows + row_stride, rows + 2 * row_stride};
        mtk_dot_rows3_s8(d, three, out, out_stride, scratch);
    }
}

/* Portable C: one filter row at a time against each input row, in exact int32 arithmetic. */
static int32_t dot_packed(const int8_t *w, int block_step, const int8_t *x, int k)
{
    int32_t acc = 0;
    int i = 0;
    for (; i + 4 <= k; i += 4, w += block_step) {
        acc += w[0] * x[i] + w[1] * x[i + 1] + w[2] * x[i + 2] + w[3] * x[i + 3];
    }
    for (int j = 0; i < k; ++i, ++j) {
        acc += w[j] * x[i];
    }
    return acc;
}

void mtk_dot_rows_s8(const mtk_dot_rows *d, const int8_t *row0, const int8_t *row1, int8_t *out0, int8_t *out1,
                     int8_t *scratch)
{
#if MTK_MVE
    (void)scratch; /* rows are read in place */
    const int8_t *const rows[3] = {row0, row1, NULL};
    int8_t *const outs[3] = {out0, out1, NULL};
    mve_dot_rows(d, row1 != NULL ? 2 : 1, rows, outs, 1, 0, 0);
    return;
#elif MTK_DSP
    if (scratch == NULL) {
        rows_1px(d, row0, out0);
        if (row1 != NULL) {
            rows_1px(d, row1, out1);
        }
        return;
    }
    mtk_word *x = (mtk_word *)(void *)scratch;
    expand_rows(row0, row1 != NULL ? row1 : row0, d->k, x);
    if (row1 == NULL) {
        out1 = out0;
    }
    switch (mtk_output_mode(d->folded, d->q)) {
    case MTK_OUT_GENERAL:
        rows_2px_general(d, x, out0, out1);
        break;
    case MTK_OUT_FOLDED:
        rows_2px_folded(d, x, out0, out1);
        break;
    case MTK_OUT_FOLDED_MIN:
        rows_2px_folded_min(d, x, out0, out1);
        break;
    default:
        rows_2px_folded_clamped(d, x, out0, out1);
        break;
    }
    return;
#elif MTK_RISCV
    (void)scratch; /* rows are read in place */
    mtk_dot_rows_rv32(d, row0, row1, out0, out1);
    return;
#endif
    (void)scratch;
    const int k = d->k;
    for (int oc = 0; oc < d->out_c; ++oc) {
        int step;
        const int8_t *w = packed_row(d, oc, &step);
        const int32_t bias = mtk_quant_entry(d->quant, MTK_DOT_QUANT_GROUP, oc)[0];
        out0[oc] = output_any(d, bias + dot_packed(w, step, row0, k), oc);
        if (row1 != NULL) {
            out1[oc] = output_any(d, bias + dot_packed(w, step, row1, k), oc);
        }
    }
}
