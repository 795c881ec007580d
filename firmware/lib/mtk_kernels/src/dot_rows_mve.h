/*
 * The Helium (MVE) dot engine's shared pieces: the filter pair's output stage (the DSP path's scalar one,
 * bit-exact by construction) and the core for rows that are already in vector registers (mve_vec_rows):
 * CONV_2D's first layer forms its 3x3 windows there straight from the input rows (conv_window_mve.c)
 * instead of copying them into im2col rows. dot_rows.c reads rows from memory with the same pieces.
 */
#ifndef MTK_DOT_ROWS_MVE_H_
#define MTK_DOT_ROWS_MVE_H_

#include "dot_rows.h"

#if MTK_MVE

/* Byte offsets of the tail's words of one filter of a pair (the other filter's are 4 bytes on). */
static const uint32_t pair_tail_offsets[4] = {0, 8, 16, 24};

/* Output stage of filter pair t (table block t) for one row's accumulators, into out[0..1]. */
MTK_INLINE void mve_pair_out(const int mode, const mtk_output_quant *q, const int32_t *t, uint32_t lo4, int32_t a0,
                             int32_t a1, int8_t *out)
{
#if MTK_THUMB2_ASM
    if (mode == MTK_OUT_FOLDED || mode == MTK_OUT_FOLDED_MIN) {
        mtk_folded_pair(t, MTK_DOT_QUANT_GROUP, 0, &a0, &a1);
        uint32_t packed = (uint32_t)(uint8_t)a0 | ((uint32_t)(uint8_t)a1 << 8);
        if (mode == MTK_OUT_FOLDED_MIN) {
            packed = mtk_max_s8x4(packed, lo4);
        }
        const uint16_t pixel = (uint16_t)packed;
        memcpy(out, &pixel, 2);
        return;
    }
#endif
    (void)lo4;
    const int8_t pixel[2] = {(int8_t)mtk_output_entry(mode, q, t, MTK_DOT_QUANT_GROUP, 0, a0),
                             (int8_t)mtk_output_entry(mode, q, t, MTK_DOT_QUANT_GROUP, 1, a1)};
    memcpy(out, pixel, 2);
}

/* Output stage of an odd last filter (table entry t) for npx (1..3) rows' accumulators into out0..out2:
 * every value from the table before the first byte store, after which it must be assumed changed. */
MTK_INLINE void mve_single_out(const int mode, const mtk_output_quant *q, const int32_t *t, const int32_t *a,
                               const int npx, int8_t *out0, int8_t *out1, int8_t *out2)
{
    int8_t y[3];
    for (int r = 0; r < npx; ++r) {
        y[r] = (int8_t)mtk_output_as(mode, q, a[r], t[2], t[4], t[6]);
    }
    out0[0] = y[0];
    if (npx > 1) {
        out1[0] = y[1];
    }
    if (npx > 2) {
        out2[0] = y[2];
    }
}

#if MTK_THUMB2_ASM
/* The folded output stage of filter j of pair t (table blocks of 2) for three accumulators, saturated to
 * int8: its parameters read once. */
MTK_INLINE void mve_fold3(const int32_t *t, const int j, int32_t *a0, int32_t *a1, int32_t *a2)
{
    int32_t m, n, r, tmp;
    /* clang-format off */
    __asm__("ldr %[m], [%[t], %[om]]\n\t"
            "ldr %[n], [%[t], %[on]]\n\t"
            "ldr %[r], [%[t], %[or]]\n\t"
            MTK_FOLDED_ONE("a0", "m", "n", "r")
            MTK_FOLDED_ONE("a1", "m", "n", "r")
            MTK_FOLDED_ONE("a2", "m", "n", "r")
            : [a0] "+r"(*a0), [a1] "+r"(*a1), [a2] "+r"(*a2), [m] "=&r"(m), [n] "=&r"(n), [r] "=&r"(r),
              [tmp] "=&r"(tmp)
            : [t] "r"(t), [om] "I"(4 * (2 + j)), [on] "I"(4 * (4 + j)), [or] "I"(4 * (6 + j))
            : "memory");
    /* clang-format on */
}
#endif

/* Output stage of filter pair t for three rows' accumulators (a[row][filter]) into out0..out2: the folded
 * forms with one table read per filter for all three rows, the other forms through mve_pair_out. */
MTK_INLINE void mve_pair_out3(const int mode, const mtk_output_quant *q, const int32_t *t, uint32_t lo4, int32_t a00,
                              int32_t a01, int32_t a10, int32_t a11, int32_t a20, int32_t a21, int8_t *out0,
                              int8_t *out1, int8_t *out2)
{
#if MTK_THUMB2_ASM
    if (mode == MTK_OUT_FOLDED || mode == MTK_OUT_FOLDED_MIN) {
        mve_fold3(t, 0, &a00, &a10, &a20);
        mve_fold3(t, 1, &a01, &a11, &a21);
        /* per row its two channels in the low halfword (BFI), clamped bytewise for ReLU */
        uint32_t p0 = (uint32_t)a00, p1 = (uint32_t)a10, p2 = (uint32_t)a20;
        __asm__("bfi %[p], %[b], #8, #8" : [p] "+r"(p0) : [b] "r"(a01));
        __asm__("bfi %[p], %[b], #8, #8" : [p] "+r"(p1) : [b] "r"(a11));
        __asm__("bfi %[p], %[b], #8, #8" : [p] "+r"(p2) : [b] "r"(a21));
        if (mode == MTK_OUT_FOLDED_MIN) {
            p0 = mtk_max_s8x4(p0, lo4);
            p1 = mtk_max_s8x4(p1, lo4);
            p2 = mtk_max_s8x4(p2, lo4);
        }
        const uint16_t h0 = (uint16_t)p0, h1 = (uint16_t)p1, h2 = (uint16_t)p2;
        memcpy(out0, &h0, 2);
        memcpy(out1, &h1, 2);
        memcpy(out2, &h2, 2);
        return;
    }
#endif
    mve_pair_out(mode, q, t, lo4, a00, a01, out0);
    mve_pair_out(mode, q, t, lo4, a10, a11, out1);
    mve_pair_out(mode, q, t, lo4, a20, a21, out2);
}

/* Filters f0, f1 of a pair against npx (1 to 3, a constant after inlining) row vectors x0..x2 (x1, x2 unused
 * below npx), one VMLADAVA.S8 per filter and row into a[row][filter]. */
MTK_INLINE void mve_pair_mla(const int npx, int8x16_t f0, int8x16_t f1, int8x16_t x0, int8x16_t x1, int8x16_t x2,
                             int32_t a[3][2])
{
    a[0][0] = vmladavaq_s8(a[0][0], f0, x0);
    a[0][1] = vmladavaq_s8(a[0][1], f1, x0);
    if (npx > 1) {
        a[1][0] = vmladavaq_s8(a[1][0], f0, x1);
        a[1][1] = vmladavaq_s8(a[1][1], f1, x1);
    }
    if (npx > 2) {
        a[2][0] = vmladavaq_s8(a[2][0], f0, x2);
        a[2][1] = vmladavaq_s8(a[2][1], f1, x2);
    }
}

/* The output stage of npx rows' accumulators a[row][filter] of filter pair t into o0..o2. */
MTK_INLINE void mve_pair_out_rows(const int mode, const int npx, const mtk_output_quant *q, const int32_t *t,
                                  uint32_t lo4, int32_t a[3][2], int8_t *o0, int8_t *o1, int8_t *o2)
{
    if (npx == 3) {
        mve_pair_out3(mode, q, t, lo4, a[0][0], a[0][1], a[1][0], a[1][1], a[2][0], a[2][1], o0, o1, o2);
        return;
    }
    mve_pair_out(mode, q, t, lo4, a[0][0], a[0][1], o0);
    if (npx > 1) {
        mve_pair_out(mode, q, t, lo4, a[1][0], a[1][1], o1);
    }
}

#if MTK_THUMB2_ASM
/* Filter pair w (k4 in (16, 32]) against three rows held in memory as vectors xa[r] (values 0..15) and xb[r]
 * (16..k-1, zero beyond), into the six accumulators. Written out because GCC, with the six row vectors
 * and the pair's four in flight, reloads and copies the row vectors through the stack for every pair: here
 * each is loaded as it is used, per pair one VLD20/VLD21, two gathers, six loads and twelve VMLADAVA. */
MTK_INLINE void mve_pair_rows3x2(const int8_t *w, const int8x16_t *xa, const int8x16_t *xb, uint32x4_t offsets,
                                 mve_pred16_t words, int32_t *a00, int32_t *a01, int32_t *a10, int32_t *a11,
                                 int32_t *a20, int32_t *a21)
{
    const uint32x4_t offsets1 = vaddq_n_u32(offsets, 4);
    const int8_t *tail = w + 32;
    /* clang-format off */
    __asm__("vld20.32 {q0, q1}, [%[w]]\n\t"
            "vld21.32 {q0, q1}, [%[w]]\n\t"
            "vldrb.u8 q2, [%[xa]]\n\t"
            "vmladava.s8 %[a00], q0, q2\n\t"
            "vmladava.s8 %[a01], q1, q2\n\t"
            "vldrb.u8 q2, [%[xa], #16]\n\t"
            "vmladava.s8 %[a10], q0, q2\n\t"
            "vmladava.s8 %[a11], q1, q2\n\t"
            "vldrb.u8 q2, [%[xa], #32]\n\t"
            "vmladava.s8 %[a20], q0, q2\n\t"
            "vmladava.s8 %[a21], q1, q2\n\t"
            "vmsr p0, %[words]\n\t"
            "vpstt\n\t"
            "vldrwt.u32 q0, [%[tail], %q[off]]\n\t"
            "vldrwt.u32 q1, [%[tail], %q[off1]]\n\t"
            "vldrb.u8 q2, [%[xb]]\n\t"
            "vmladava.s8 %[a00], q0, q2\n\t"
            "vmladava.s8 %[a01], q1, q2\n\t"
            "vldrb.u8 q2, [%[xb], #16]\n\t"
            "vmladava.s8 %[a10], q0, q2\n\t"
            "vmladava.s8 %[a11], q1, q2\n\t"
            "vldrb.u8 q2, [%[xb], #32]\n\t"
            "vmladava.s8 %[a20], q0, q2\n\t"
            "vmladava.s8 %[a21], q1, q2\n\t"
            : [a00] "+Te"(*a00), [a01] "+Te"(*a01), [a10] "+Te"(*a10), [a11] "+Te"(*a11), [a20] "+Te"(*a20),
              [a21] "+Te"(*a21)
            : [w] "r"(w), [xa] "r"(xa), [xb] "r"(xb), [tail] "r"(tail), [off] "w"(offsets), [off1] "w"(offsets1),
              [words] "r"((uint32_t)words)
            : "q0", "q1", "q2", "memory");
    /* clang-format on */
}
#endif

#if MTK_THUMB2_ASM
/* clang-format off */
/* Filter j (0, 1) of the pair: twice its bias (see MVE_SHORT_OUT), multiplier, rounding and shift. */
#define MVE_SHORT_PARAMS(j)                                                                                            \
    "ldr %[b], [%[t], #" #j " * 4]\n\t"                                                                                \
    "ldr %[m], [%[t], #8 + " #j " * 4]\n\t"                                                                            \
    "ldr %[n], [%[t], #16 + " #j " * 4]\n\t"                                                                           \
    "ldr %[r], [%[t], #24 + " #j " * 4]\n\t"                                                                           \
    "lsls %[b], %[b], #1\n\t"

/* Output a (an even register) of filter f (q0, q1) for the row in vector v: the folded stage of
 * mtk_output_folded with the bias added as 2 * bias + 2 * dot (= 2 * acc, below 2^31 in magnitude), which
 * saves copying the bias into the accumulator; tmp has acc's sign for the rounding step. */
#define MVE_SHORT_OUT(a, f, v)                                                                                         \
    "vmladav.s8 %[" a "], " f ", %q[" v "]\n\t"                                                                        \
    "add %[tmp], %[b], %[" a "], lsl #1\n\t"                                                                           \
    "smmlar %[" a "], %[tmp], %[m], %[n]\n\t"                                                                          \
    "add %[" a "], %[" a "], %[tmp], asr #31\n\t"                                                                      \
    "asr %[" a "], %[" a "], %[r]\n\t"                                                                                 \
    "ssat %[" a "], #8, %[" a "]\n\t"

/* Bytewise max with the lower bound (mtk_max_s8x4) of the packed pair in a. */
#define MVE_SHORT_MIN(a)                                                                                               \
    "ldr %[tmp], %[lo4]\n\t"                                                                                           \
    "ssub8 %[c], %[" a "], %[tmp]\n\t"                                                                                 \
    "sel %[" a "], %[" a "], %[tmp]\n\t"

/* The pair's filters into q0 and q1 for any k <= 16: one VPT block of two gathers of the lanes whose word
 * offset is below 2 * k4 (nothing beyond the pair is read), w advanced by wstep. */
#define MVE_LOAD_GATHER                                                                                                \
    "vptt.u32 hi, %q[lim], %q[off]\n\t"                                                                                \
    "vldrwt.u32 q0, [%[w], %q[off]]\n\t"                                                                               \
    "vldrwt.u32 q1, [%[w], %q[off1]]\n\t"                                                                              \
    "ldr %[tmp], %[wstep]\n\t"                                                                                         \
    "add %[w], %[w], %[tmp]\n\t"

/* k4 == 16: the pair is exactly 32 bytes, one VLD20/VLD21 splits it (w advanced). */
#define MVE_LOAD_VLD2                                                                                                  \
    "vld20.32 {q0, q1}, [%[w]]\n\t"                                                                                    \
    "vld21.32 {q0, q1}, [%[w]]!\n\t"

/* k4 < 16 and a pair follows: VLD20/VLD21 of 32 bytes splits this pair's words into lanes 0 .. k4/4 - 1 and
 * the next pair's beyond, where the rows are zero; w advanced by wstep. */
#define MVE_LOAD_VLD2_STEP                                                                                             \
    "vld20.32 {q0, q1}, [%[w]]\n\t"                                                                                    \
    "vld21.32 {q0, q1}, [%[w]]\n\t"                                                                                    \
    "ldr %[tmp], %[wstep]\n\t"                                                                                         \
    "add %[w], %[w], %[tmp]\n\t"

/* k == 8: the pair's 16 bytes as they are (f0 in words 0 and 2, f1 in 1 and 3) in q0, against rows whose
 * words were spread to match (v: words 0, 2; u: words 1, 3; mve_spread_words). */
#define MVE_LOAD_WORDS "vldrw.u32 q0, [%[w]], #16\n\t"

/* The pair loop (count in lr): per pair the load, six outputs, three halfword stores; filter 1 is f1
 * against rows u0..u2. */
#define MVE_SHORT_PAIRS(load, f1, u0, u1, u2, clamp0, clamp1, clamp2)                                                  \
    "dls lr, lr\n\t"                                                                                                   \
    "1:\n\t"                                                                                                           \
    load                                                                                                               \
    MVE_SHORT_PARAMS(0)                                                                                                \
    MVE_SHORT_OUT("a0", "q0", "v0")                                                                                    \
    MVE_SHORT_OUT("a1", "q0", "v1")                                                                                    \
    MVE_SHORT_OUT("a2", "q0", "v2")                                                                                    \
    MVE_SHORT_PARAMS(1)                                                                                                \
    "adds %[t], #32\n\t"                                                                                               \
    MVE_SHORT_OUT("c", f1, u0)                                                                                         \
    "bfi %[a0], %[c], #8, #8\n\t"                                                                                      \
    clamp0                                                                                                             \
    "strh %[a0], [%[o]]\n\t"                                                                                           \
    MVE_SHORT_OUT("c", f1, u1)                                                                                         \
    "bfi %[a1], %[c], #8, #8\n\t"                                                                                      \
    clamp1                                                                                                             \
    "strh %[a1], [%[o], %[s]]\n\t"                                                                                     \
    MVE_SHORT_OUT("c", f1, u2)                                                                                         \
    "bfi %[a2], %[c], #8, #8\n\t"                                                                                      \
    clamp2                                                                                                             \
    "add %[tmp], %[o], %[s], lsl #1\n\t"                                                                               \
    "strh %[a2], [%[tmp]]\n\t"                                                                                         \
    "adds %[o], #2\n\t"                                                                                                \
    "le lr, 1b\n\t"

#define MVE_SHORT_OUTPUTS                                                                                              \
    : [w] "+r"(w), [t] "+r"(t), [o] "+r"(o), [count] "+r"(count), [b] "=&r"(b), [m] "=&r"(m), [n] "=&r"(n),           \
      [r] "=&r"(r), [tmp] "=&r"(tmp), [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [c] "=&Te"(c)
#define MVE_SHORT_INPUTS [s] "r"(stride), [lo4] "m"(lo4), [v0] "w"(v0), [v1] "w"(v1), [v2] "w"(v2)
#define MVE_SHORT_CLOBBERS : "q0", "q1", "cc", "memory"
#define MVE_SHORT_GATHER_INPUTS                                                                                        \
    : MVE_SHORT_INPUTS, [wstep] "m"(wstep), [off] "w"(offsets), [off1] "w"(offsets1), [lim] "w"(limit)
#define MVE_SHORT_STEP_INPUTS : MVE_SHORT_INPUTS, [wstep] "m"(wstep)
#define MVE_SHORT_WORDS_INPUTS : MVE_SHORT_INPUTS, [u0] "w"(u0), [u1] "w"(u1), [u2] "w"(u2)
/* clang-format on */

/* Row x's first 8 values (k == 8) as its two words spread over the lanes of the packed pair's two filters:
 * *v = [w0, 0, w1, 0] (filter 0's words), *u = [0, w0, 0, w1] (filter 1's). */
MTK_INLINE void mve_spread_words(const int8_t *x, int8x16_t *v, int8x16_t *u)
{
    const int32_t w0 = mtk_read_s8x4(x), w1 = mtk_read_s8x4(x + 4);
    int32x4_t e, o;
    /* clang-format off */
    __asm__("vmov.i32 %q0, #0\n\t"
            "vmov.i32 %q1, #0\n\t"
            "vmov.32 %e0[0], %3\n\t"
            "vmov.32 %f0[0], %2\n\t"
            "vmov.32 %e1[1], %3\n\t"
            "vmov.32 %f1[1], %2"
            : "=&w"(e), "=&w"(o)
            : "r"(w1), "r"(w0));
    /* clang-format on */
    *v = vreinterpretq_s8_s32(e);
    *u = vreinterpretq_s8_s32(o);
}

/* Filters 0 .. 2 * pairs - 1 (pairs >= 1) of a layer with k <= 16 against three rows x0..x2, held as vectors
 * v0..v2 (zero beyond k), folded output stage (with the lower clamp when `min`), outputs o + r * stride.
 * Written out: GCC's schedule of the same C spills the output pointers and copies every bias into three
 * accumulators; here 14 registers hold everything. The pair's filters come as one VLD20/VLD21 when k4 is 16,
 * as one 16-byte load against rows spread to its word order when k is 8 (V1's first pointwise, V2's
 * expand layers), else as one VLD20/VLD21 reading into the next pair, and for the last pair (nothing
 * beyond the filter array is read) two gathers (a gather costs a beat per lane on the M55). */
MTK_INLINE void mve_short_pairs3(const int min, const int8_t *w, const int32_t *t, int8_t *o, int stride, int pairs,
                                 const int8_t *x0, const int8_t *x1, const int8_t *x2, int8x16_t v0, int8x16_t v1,
                                 int8x16_t v2, uint32x4_t offsets, int k, uint32_t lo4)
{
    const int k4 = mtk_padded4(k);
    register int count __asm__("lr") = pairs;
    int32_t b, m, n, r, tmp, a0, a1, a2, c;
    if (k4 == 16) {
        if (min) {
            __asm__ volatile(MVE_SHORT_PAIRS(MVE_LOAD_VLD2, "q1", "v0", "v1", "v2", MVE_SHORT_MIN("a0"),
                                             MVE_SHORT_MIN("a1"), MVE_SHORT_MIN("a2")) MVE_SHORT_OUTPUTS
                             : MVE_SHORT_INPUTS MVE_SHORT_CLOBBERS);
        } else {
            __asm__ volatile(MVE_SHORT_PAIRS(MVE_LOAD_VLD2, "q1", "v0", "v1", "v2", "", "", "") MVE_SHORT_OUTPUTS
                             : MVE_SHORT_INPUTS MVE_SHORT_CLOBBERS);
        }
        return;
    }
    if (k == 8 && x0 != NULL) {
        int8x16_t u0, u1, u2;
        mve_spread_words(x0, &v0, &u0);
        mve_spread_words(x1, &v1, &u1);
        mve_spread_words(x2, &v2, &u2);
        if (min) {
            __asm__ volatile(MVE_SHORT_PAIRS(MVE_LOAD_WORDS, "q0", "u0", "u1", "u2", MVE_SHORT_MIN("a0"),
                                             MVE_SHORT_MIN("a1"), MVE_SHORT_MIN("a2"))
                                 MVE_SHORT_OUTPUTS MVE_SHORT_WORDS_INPUTS MVE_SHORT_CLOBBERS);
        } else {
            __asm__ volatile(MVE_SHORT_PAIRS(MVE_LOAD_WORDS, "q0", "u0", "u1", "u2", "", "", "")
                                 MVE_SHORT_OUTPUTS MVE_SHORT_WORDS_INPUTS MVE_SHORT_CLOBBERS);
        }
        return;
    }
    const int32_t wstep = 2 * k4;
    if (pairs > 1) { /* every pair but the last: 32 bytes read, the next pair's words meet rows' zeros */
        count = pairs - 1;
        if (min) {
            __asm__ volatile(MVE_SHORT_PAIRS(MVE_LOAD_VLD2_STEP, "q1", "v0", "v1", "v2", MVE_SHORT_MIN("a0"),
                                             MVE_SHORT_MIN("a1"), MVE_SHORT_MIN("a2"))
                                 MVE_SHORT_OUTPUTS MVE_SHORT_STEP_INPUTS MVE_SHORT_CLOBBERS);
        } else {
            __asm__ volatile(MVE_SHORT_PAIRS(MVE_LOAD_VLD2_STEP, "q1", "v0", "v1", "v2", "", "", "")
                                 MVE_SHORT_OUTPUTS MVE_SHORT_STEP_INPUTS MVE_SHORT_CLOBBERS);
        }
        count = 1;
    }
    const uint32x4_t offsets1 = vaddq_n_u32(offsets, 4), limit = vdupq_n_u32(2u * (uint32_t)k4);
    if (min) {
        __asm__ volatile(MVE_SHORT_PAIRS(MVE_LOAD_GATHER, "q1", "v0", "v1", "v2", MVE_SHORT_MIN("a0"),
                                         MVE_SHORT_MIN("a1"), MVE_SHORT_MIN("a2"))
                             MVE_SHORT_OUTPUTS MVE_SHORT_GATHER_INPUTS MVE_SHORT_CLOBBERS);
    } else {
        __asm__ volatile(MVE_SHORT_PAIRS(MVE_LOAD_GATHER, "q1", "v0", "v1", "v2", "", "", "")
                             MVE_SHORT_OUTPUTS MVE_SHORT_GATHER_INPUTS MVE_SHORT_CLOBBERS);
    }
}

/* mve_short_pairs3 over all `pairs` filter pairs (folded forms, three rows whose outputs are stride apart),
 * then w, t and o0..o2 past them; the pairs done. */
MTK_INLINE int mve_short_all(const int min, int pairs, int k, int stride, const int8_t *x0, const int8_t *x1,
                             const int8_t *x2, int8x16_t v0, int8x16_t v1, int8x16_t v2, uint32x4_t offsets,
                             uint32_t lo4, const int8_t **w, const int32_t **t, int8_t **o0, int8_t **o1, int8_t **o2)
{
    mve_short_pairs3(min, *w, *t, *o0, stride, pairs, x0, x1, x2, v0, v1, v2, offsets, k, lo4);
    *w += pairs * 2 * mtk_padded4(k);
    *t += pairs * 4 * MTK_DOT_QUANT_GROUP;
    *o0 += 2 * pairs;
    *o1 += 2 * pairs;
    *o2 += 2 * pairs;
    return pairs;
}
#endif

#if MTK_THUMB2_ASM
/* clang-format off */
/* The folded output stage of four filters' accumulators f0..f3 (GPRs) of one row as one vector, into qt for
 * a VSTRB.32: VMOV them into lanes of qa, then dot_rows.c mve_folded4's steps (parameter vectors e0..e3,
 * register names), the clamps `clamp` (MVE_QUAD_MAX / MVE_QUAD_MIN: the bound broadcast through f0, free by
 * then, from memory operands lo / hi). The accumulators stay in GPRs until here because VMLADAV writes
 * GPRs; moving four into a vector is two VMOV, against a scalar stage of five instructions per value. */
#define MVE_QUAD_STAGE(f0, f1, f2, f3, qa, qt, e0, e1, e2, e3, clamp)                                                  \
    "vmov " qa "[2], " qa "[0], %[" f0 "], %[" f2 "]\n\t"                                                              \
    "vmov " qa "[3], " qa "[1], %[" f1 "], %[" f3 "]\n\t"                                                              \
    "vadd.i32 " qa ", " qa ", " e0 "\n\t"                                                                              \
    "vqrdmulh.s32 " qt ", " qa ", " e1 "\n\t"                                                                          \
    "vshr.s32 " qa ", " qa ", #31\n\t"                                                                                 \
    "vadd.i32 " qt ", " qt ", " e2 "\n\t"                                                                              \
    "vadd.i32 " qt ", " qt ", " qa "\n\t"                                                                              \
    "vqshl.s32 " qt ", " qt ", " e3 "\n\t"                                                                             \
    "vshr.s32 " qt ", " qt ", #24\n\t"                                                                                 \
    clamp

#define MVE_QUAD_MAX(f0, qa, qt)                                                                                       \
    "ldr %[" f0 "], %[lo]\n\t"                                                                                         \
    "vdup.32 " qa ", %[" f0 "]\n\t"                                                                                    \
    "vmax.s32 " qt ", " qt ", " qa "\n\t"
#define MVE_QUAD_MIN(f0, qa, qt)                                                                                       \
    "ldr %[" f0 "], %[hi]\n\t"                                                                                         \
    "vdup.32 " qa ", %[" f0 "]\n\t"                                                                                    \
    "vmin.s32 " qt ", " qt ", " qa "\n\t"

/* clang-format on */
#endif

/* Every filter against npx (1 to 3) rows held in vectors: xa[r] the row's values 0..15, and for nvec == 2
 * (16 < k <= 32) xb[r] its values 16..k-1 (lanes from k - 16 on zero); `npx`, `nvec` and `mode` are
 * constants after inlining. Outputs out + r * out_stride. Per filter pair one VLD20/VLD21 (nvec == 2) and
 * two gathers of the pair's last blocks (whole words, nothing beyond the filter array), then one
 * VMLADAVA.S8 per filter, row and vector. */
MTK_INLINE void mve_vec_rows(const mtk_dot_rows *d, const int mode, const int npx, const int nvec, const int8x16_t *xa,
                             const int8x16_t *xb, int8_t *out, int out_stride)
{
    const int k4 = mtk_padded4(d->k), pairs = d->out_c >> 1;
    const uint32x4_t offsets = vld1q_u32(pair_tail_offsets);
    const mve_pred16_t words = vctp32q((uint32_t)(nvec == 1 ? k4 : k4 - 16) >> 2);
    const int8_t *w = d->weights;
    const int32_t *t = d->quant;
    const mtk_output_quant q = *d->q;
    const uint32_t lo4 = mtk_bytes4(q.act_min);
    int8_t *o0 = out, *o1 = npx > 1 ? out + out_stride : out, *o2 = npx > 2 ? out + 2 * out_stride : out;
    int pair = 0;
#if MTK_THUMB2_ASM
    if (nvec == 1 && npx == 3 && pairs > 0 && (mode == MTK_OUT_FOLDED || mode == MTK_OUT_FOLDED_MIN)) {
        pair = mve_short_all(mode == MTK_OUT_FOLDED_MIN, pairs, d->k, out_stride, NULL, NULL, NULL, xa[0], xa[1], xa[2],
                             offsets, lo4, &w, &t, &o0, &o1, &o2);
    }
#endif
    for (; pair < pairs; ++pair, t += 4 * MTK_DOT_QUANT_GROUP, o0 += 2, o1 += 2, o2 += 2) {
        int32_t a[3][2] = {{t[0], t[1]}, {t[0], t[1]}, {t[0], t[1]}};
        const int32_t *tail = (const int32_t *)(const void *)w;
#if MTK_THUMB2_ASM
        if (nvec == 2 && npx == 3) {
            mve_pair_rows3x2(w, xa, xb, offsets, words, &a[0][0], &a[0][1], &a[1][0], &a[1][1], &a[2][0], &a[2][1]);
            w += 2 * k4;
            mve_pair_out_rows(mode, 3, &q, t, lo4, a, o0, o1, o2);
            continue;
        }
#endif
        if (nvec == 2) {
            const int32x4x2_t wv = vld2q_s32((const int32_t *)(const void *)w);
            mve_pair_mla(npx, vreinterpretq_s8_s32(wv.val[0]), vreinterpretq_s8_s32(wv.val[1]), xa[0],
                         xa[npx > 1 ? 1 : 0], xa[npx > 2 ? 2 : 0], a);
            tail += 8;
        }
        const int8x16_t *const x = nvec == 2 ? xb : xa;
        const int8x16_t f0 = vreinterpretq_s8_s32(vldrwq_gather_offset_z_s32(tail, offsets, words));
        const int8x16_t f1 = vreinterpretq_s8_s32(vldrwq_gather_offset_z_s32(tail + 1, offsets, words));
        w += 2 * k4;
        mve_pair_mla(npx, f0, f1, x[0], x[npx > 1 ? 1 : 0], x[npx > 2 ? 2 : 0], a);
        mve_pair_out_rows(mode, npx, &q, t, lo4, a, o0, o1, o2);
    }
    if (d->out_c & 1) { /* odd last filter: its row is contiguous, padded with zeros to k4 */
        const int8x16_t fa = nvec == 2 ? vld1q_s8(w) : vldrbq_z_s8(w, vctp8q((uint32_t)k4));
        const int8x16_t fb = nvec == 2 ? vldrbq_z_s8(w + 16, vctp8q((uint32_t)(k4 - 16))) : fa;
        int32_t a[3];
        for (int r = 0; r < npx; ++r) {
            a[r] = vmladavaq_s8(t[0], fa, xa[r]);
            if (nvec == 2) {
                a[r] = vmladavaq_s8(a[r], fb, xb[r]);
            }
        }
        mve_single_out(mode, &q, t, a, npx, o0, o1, o2);
    }
}

#endif /* MTK_MVE */

#endif /* MTK_DOT_ROWS_MVE_H_ */
