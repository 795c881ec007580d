/*
 * The output stage on RV32IM (MTK_RISCV): the folded form of the quantization table (mtk_kernels.h) in
 * MUL + MULH and four ALU instructions, TFLM's two roundings bit for bit; the general form falls back to
 * mtk_output_channel. As on the DSP path, one form per layer is picked (rv_output_mode) and passed as a
 * constant into inlined loops, so no output branches on the form.
 */
#ifndef MTK_OUTPUT_STAGE_RV32_H_
#define MTK_OUTPUT_STAGE_RV32_H_

#include "output_stage.h"

#if MTK_RISCV

enum { RV_OUT_GENERAL, RV_OUT_FOLDED, RV_OUT_FOLDED_CLAMPED };

MTK_INLINE int rv_output_mode(int folded, const mtk_output_quant *q)
{
    if (!folded) {
        return RV_OUT_GENERAL;
    }
    return q->act_min == -128 && q->act_max == 127 ? RV_OUT_FOLDED : RV_OUT_FOLDED_CLAMPED;
}

/* SMMULR: (a * b + 2^31) >> 32. Adding 2^31 to the low word carries exactly when its top bit is set. */
MTK_INLINE int32_t rv_smmulr(int32_t a, int32_t b)
{
    const uint32_t lo = (uint32_t)a * (uint32_t)b;
    const int32_t hi = (int32_t)(((int64_t)a * (int64_t)b) >> 32);
    return hi + (int32_t)(lo >> 31);
}

/* v saturated to int8 with one compare on the common path: v + 128 outside [0, 255] means v was beyond one
 * end, and (v >> 31) ^ 127 is that end (127, or -128 = ~127). */
MTK_INLINE int32_t rv_saturate_s8(int32_t v)
{
    if ((uint32_t)(v + 128) > 255u) {
        v = (v >> 31) ^ 127;
    }
    return v;
}

/* The folded output (mtk_fixedpoint.h's derivation: |acc| < 2^30, r in [1, 23]) clamped to [lo, hi]. */
MTK_INLINE int32_t rv_output_folded(int32_t acc, int32_t m, int32_t rounding, int32_t r, int32_t lo, int32_t hi)
{
    int32_t v = (rv_smmulr(acc * 2, m) + rounding + (acc >> 31)) >> r;
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

/* One output in form `mode` from the table values m, rounding, r held in registers (general form: r is
 * TFLM's shift, rounding unused). In int8 range, but an int32: the byte store needs no sign extension. */
MTK_INLINE int32_t rv_output_as(int mode, const mtk_output_quant *q, int32_t m, int32_t rounding, int32_t r,
                                int32_t acc)
{
    if (mode == RV_OUT_GENERAL) {
        return mtk_output_s8(acc, m, r, q->output_zero_point, q->act_min, q->act_max);
    }
    if (mode == RV_OUT_FOLDED) {
        return rv_saturate_s8((rv_smmulr(acc * 2, m) + rounding + (acc >> 31)) >> r);
    }
    return (int8_t)rv_output_folded(acc, m, rounding, r, q->act_min, q->act_max);
}

/* One output of channel j of table block t (blocks of `group`) in form `mode` (a constant after inlining). */
MTK_INLINE int8_t rv_output_entry(int mode, const mtk_output_quant *q, const int32_t *t, int group, int j, int32_t acc)
{
    if (mode == RV_OUT_GENERAL) {
        return mtk_output_s8(acc, t[group + j], t[3 * group + j], q->output_zero_point, q->act_min, q->act_max);
    }
    if (mode == RV_OUT_FOLDED) {
        return (int8_t)rv_output_folded(acc, t[group + j], t[2 * group + j], t[3 * group + j], -128, 127);
    }
    return (int8_t)rv_output_folded(acc, t[group + j], t[2 * group + j], t[3 * group + j], q->act_min, q->act_max);
}

#endif

#endif /* MTK_OUTPUT_STAGE_RV32_H_ */
