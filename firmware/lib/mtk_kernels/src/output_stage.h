/*
 * The output stage of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: reading a channel's entry of the
 * quantization table (layout in mtk_kernels.h) and requantizing an accumulator to int8.
 *
 * The DSP path picks one form per layer (mtk_output_mode) and passes it as a constant into an inlined loop,
 * so every form gets its own loop with no per-output branching: the folded stage (SMMLAR + 2 ALU
 * operations) saturated to int8 by SSAT, plus a lower clamp for ReLU layers whose zero point is not -128.
 */
#ifndef MTK_OUTPUT_STAGE_H_
#define MTK_OUTPUT_STAGE_H_

#include "mtk_kernels.h"
#include "mtk_fixedpoint.h"

/* Channel oc's entry in a quantization table of blocks of `group` channels: [0] bias, [group] multiplier,
 * [2 * group] rounding, [3 * group] r (folded) or shift. */
MTK_INLINE const int32_t *mtk_quant_entry(const int32_t *quant, int group, int oc)
{
    return quant + (oc / group) * 4 * group + oc % group;
}

/* TFLM's output stage for channel oc, whichever form the table holds (portable arithmetic). */
MTK_INLINE int8_t mtk_output_channel(const int32_t *quant, int group, int folded, const mtk_output_quant *q, int oc,
                                     int32_t acc)
{
    const int32_t *c = mtk_quant_entry(quant, group, oc);
    const int32_t shift = folded ? -c[3 * group] : c[3 * group];
    return mtk_output_s8(acc, c[group], shift, q->output_zero_point, q->act_min, q->act_max);
}

/* The byte v in all four bytes of a word (the operand of bytewise SIMD). */
MTK_INLINE uint32_t mtk_bytes4(int32_t v)
{
    return 0x01010101u * (uint8_t)v;
}

#if MTK_DSP

enum { MTK_OUT_GENERAL, MTK_OUT_FOLDED, MTK_OUT_FOLDED_MIN, MTK_OUT_FOLDED_CLAMPED };

MTK_INLINE int mtk_output_mode(int folded, const mtk_output_quant *q)
{
    if (!folded) {
        return MTK_OUT_GENERAL;
    }
    if (q->act_max != 127) {
        return MTK_OUT_FOLDED_CLAMPED;
    }
    return q->act_min == -128 ? MTK_OUT_FOLDED : MTK_OUT_FOLDED_MIN;
}

/* One output in form `mode` (a compile-time constant after inlining); m, rounding, r from the table
 * (rounding unused and r = TFLM's shift in the general form). The value is in int8 range; it stays an
 * int32 so that the byte store needs no sign extension first. */
MTK_INLINE int32_t mtk_output_as(int mode, const mtk_output_quant *q, int32_t acc, int32_t m, int32_t rounding,
                                 int32_t r)
{
    if (mode == MTK_OUT_GENERAL) {
        return mtk_output_s8(acc, m, r, q->output_zero_point, q->act_min, q->act_max);
    }
    const int32_t v = mtk_output_folded(acc, m, rounding, r);
    if (mode == MTK_OUT_FOLDED) {
        return __ssat(v, 8);
    }
    if (mode == MTK_OUT_FOLDED_MIN) {
        const int32_t s = __ssat(v, 8);
        return s < q->act_min ? q->act_min : s;
    }
    return mtk_clamp(v, q->act_min, q->act_max);
}

/* mtk_output_as for channel j of table block t (blocks of `group`). */
MTK_INLINE int32_t mtk_output_entry(int mode, const mtk_output_quant *q, const int32_t *t, int group, int j,
                                    int32_t acc)
{
    return mtk_output_as(mode, q, acc, t[group + j], t[2 * group + j], t[3 * group + j]);
}

#if MTK_THUMB2_ASM
/* mtk_output_folded saturated to int8, for accumulator operand a with multiplier m, rounding n and shift r
 * (operand names), using operand tmp: SMMLAR + 2 ALU + SSAT. */
#define MTK_FOLDED_ONE(a, m, n, r)                                                                                     \
    "lsl %[tmp], %[" a "], #1\n\t"                                                                                     \
    "smmlar %[tmp], %[tmp], %[" m "], %[" n "]\n\t"                                                                    \
    "add %[" a "], %[tmp], %[" a "], asr #31\n\t"                                                                      \
    "asr %[" a "], %[" a "], %[" r "]\n\t"                                                                             \
    "ssat %[" a "], #8, %[" a "]\n\t"

/* Folded output stage, saturated to int8, of channels j and j + 1 of table block t (blocks of `group`):
 * the parameters as three LDRD, then SMMLAR + 2 ALU + SSAT per value. Written out because GCC reloads the
 * table per value when the accumulators hold most registers. */
MTK_INLINE void mtk_folded_pair(const int32_t *t, const int group, const int j, int32_t *a0, int32_t *a1)
{
    int32_t m0, m1, n0, n1, r0, r1, tmp;
    /* clang-format off */
    __asm__("ldrd %[m0], %[m1], [%[t], %[om]]\n\t"
            "ldrd %[n0], %[n1], [%[t], %[on]]\n\t"
            "ldrd %[r0], %[r1], [%[t], %[or]]\n\t"
            MTK_FOLDED_ONE("a0", "m0", "n0", "r0")
            MTK_FOLDED_ONE("a1", "m1", "n1", "r1")
            : [a0] "+r"(*a0), [a1] "+r"(*a1), [m0] "=&r"(m0), [m1] "=&r"(m1), [n0] "=&r"(n0), [n1] "=&r"(n1),
              [r0] "=&r"(r0), [r1] "=&r"(r1), [tmp] "=&r"(tmp)
            : [t] "r"(t), [om] "I"(4 * (group + j)), [on] "I"(4 * (2 * group + j)), [or] "I"(4 * (3 * group + j))
            : "memory");
    /* clang-format on */
}

/* Four int8 values (already saturated) as one little-endian word: three BFI. */
MTK_INLINE uint32_t mtk_pack_s8x4(int32_t b0, int32_t b1, int32_t b2, int32_t b3)
{
    /* clang-format off */
    __asm__("bfi %[r], %[b1], #8, #8\n\t"
            "bfi %[r], %[b2], #16, #8\n\t"
            "bfi %[r], %[b3], #24, #8\n\t"
            : [r] "+r"(b0)
            : [b1] "r"(b1), [b2] "r"(b2), [b3] "r"(b3));
    /* clang-format on */
    return (uint32_t)b0;
}

/* The folded output stage of a 2 channels x 2 pixels block (table blocks of 2, one block t): the table read
 * once, four values saturated to int8 and packed as [pixel 0: c0 c1, pixel 1: c0 c1]. */
MTK_INLINE uint32_t mtk_folded_2x2(const int32_t *t, int32_t a00, int32_t a01, int32_t a10, int32_t a11)
{
    int32_t m0, m1, n0, n1, r0, r1, tmp;
    /* clang-format off */
    __asm__("ldrd %[m0], %[m1], [%[t], #8]\n\t"
            "ldrd %[n0], %[n1], [%[t], #16]\n\t"
            "ldrd %[r0], %[r1], [%[t], #24]\n\t"
            MTK_FOLDED_ONE("a00", "m0", "n0", "r0")
            MTK_FOLDED_ONE("a10", "m0", "n0", "r0")
            MTK_FOLDED_ONE("a01", "m1", "n1", "r1")
            MTK_FOLDED_ONE("a11", "m1", "n1", "r1")
            "bfi %[a00], %[a01], #8, #8\n\t"
            "bfi %[a00], %[a10], #16, #8\n\t"
            "bfi %[a00], %[a11], #24, #8\n\t"
            : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [m0] "=&r"(m0), [m1] "=&r"(m1),
              [n0] "=&r"(n0), [n1] "=&r"(n1), [r0] "=&r"(r0), [r1] "=&r"(r1), [tmp] "=&r"(tmp)
            : [t] "r"(t)
            : "memory");
    /* clang-format on */
    return (uint32_t)a00;
}

/* Bytewise signed max(v, lo4): SSUB8 sets a GE flag per byte where v >= lo, SEL keeps those bytes. Two
 * instructions clamp four outputs (ReLU's lower bound). */
MTK_INLINE uint32_t mtk_max_s8x4(uint32_t v, uint32_t lo4)
{
    uint32_t r;
    /* clang-format off */
    __asm__("ssub8 %[r], %[v], %[lo]\n\t"
            "sel %[r], %[v], %[lo]\n\t"
            : [r] "=&r"(r)
            : [v] "r"(v), [lo] "r"(lo4)
            : "cc");
    /* clang-format on */
    return r;
}
#endif

#endif

#endif /* MTK_OUTPUT_STAGE_H_ */
