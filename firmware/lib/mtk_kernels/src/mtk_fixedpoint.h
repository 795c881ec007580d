/*
 * Fixed-point helpers shared by the kernels: the gemmlowp-style arithmetic TFLM's reference kernels use
 * (saturating rounding doubling high multiply, rounding divide by a power of two). Signed overflow is
 * avoided by doing shifts in unsigned arithmetic; GCC and Clang convert back modulo 2^32.
 *
 * MTK_DSP is 1 when the Arm DSP extension is available (Cortex-M4/M7/M33/M55) and MTK_PORTABLE is not set;
 * MTK_MVE is 1 when Helium is available too (Cortex-M55).
 */
#ifndef MTK_FIXEDPOINT_H_
#define MTK_FIXEDPOINT_H_

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(MTK_PORTABLE)
#define MTK_DSP 1
#include <arm_acle.h>
#else
#define MTK_DSP 0
#endif

/* Helium (MVE, Cortex-M55/M85): integer vector instructions on top of the DSP extension, which the core
 * also has (the Helium blocks keep the DSP path's scalar output stage). -DMTK_NO_MVE keeps the DSP path. */
#if MTK_DSP && defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(MTK_NO_MVE)
#define MTK_MVE 1
#include <arm_mve.h>
#else
#define MTK_MVE 0
#endif

/* RV32 with the M extension (ESP32-C3/C6 class): register-blocked C loops, dot_rows_rv32.c and
 * depthwise_rv32.c (no SIMD: each loaded byte serves several filters or outputs instead). */
#if defined(__riscv) && __riscv_xlen == 32 && defined(__riscv_mul) && !defined(MTK_PORTABLE)
#define MTK_RISCV 1
#else
#define MTK_RISCV 0
#endif

/* Hand-scheduled Thumb-2 blocks (inner loops and output stages of the DSP path) need GCC-style inline
 * assembly and optimisation: at -O0 the frame pointer takes a register they need and constants are not
 * folded into immediates, so such builds use the C versions (same bytes, more instructions). */
#if MTK_DSP && defined(__GNUC__) && defined(__thumb2__) && defined(__OPTIMIZE__)
#define MTK_THUMB2_ASM 1
#else
#define MTK_THUMB2_ASM 0
#endif

#if defined(__GNUC__)
#define MTK_INLINE static inline __attribute__((always_inline))
#else
#define MTK_INLINE static inline
#endif

/* (a * b * 2) >> 32 rounded to nearest, the one overflow case saturated (gemmlowp's definition). */
MTK_INLINE int32_t mtk_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? (1LL << 30) : (1LL - (1LL << 30));
    /* Division (not a shift) on purpose: gemmlowp truncates toward zero. */
    return (int32_t)((ab + nudge) / (1LL << 31));
}

/* mtk_srdhm for b >= 0 (every requantization multiplier): floor((a*b + 2^30) / 2^31) gives the same
 * result as gemmlowp's nudge-then-truncate for either sign of a*b, and compiles to one SMLAL. */
MTK_INLINE int32_t mtk_srdhm_nonneg(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * (int64_t)b + (1LL << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero. */
MTK_INLINE int32_t mtk_rounding_divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)((((uint32_t)1) << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

MTK_INLINE int32_t mtk_shift_left(int32_t x, int amount)
{
    return (int32_t)((uint32_t)x << amount);
}

/* TFLM's MultiplyByQuantizedMultiplier (double rounding) for a non-negative multiplier. */
MTK_INLINE int32_t mtk_requantize(int32_t acc, int32_t multiplier, int shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    return mtk_rounding_divide_by_pot(mtk_srdhm_nonneg(mtk_shift_left(acc, left), multiplier), right);
}

MTK_INLINE int32_t mtk_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Requantize one accumulator to an int8 output: the whole TFLM output stage with every parameter in a
 * register (callers hoist zero point and activation bounds out of their loops). */
MTK_INLINE int8_t mtk_output_s8(int32_t acc, int32_t multiplier, int32_t shift, int32_t zero_point, int32_t act_min,
                                int32_t act_max)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t x = mtk_srdhm_nonneg(mtk_shift_left(acc, left), multiplier);
    return (int8_t)mtk_clamp(mtk_rounding_divide_by_pot(x, left - shift) + zero_point, act_min, act_max);
}

#if MTK_DSP
/* SXTB16 of the word rotated right by 8: bytes 1 and 3 sign-extended to two halfwords, one instruction
 * (GCC does not fold a separate rotate into SXTB16's operand). */
MTK_INLINE int32_t mtk_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
#endif

#if MTK_DSP
/* The same output stage folded into SMMLAR + two ALU instructions, for r = -shift in [1, 23] and
 * |acc| < 2^30 (the compiler checks both per layer from the weights and biases):
 *   x = floor((acc*m + 2^30) / 2^31) = floor((2*acc*m + 2^31) / 2^32) = SMMULR(2*acc, m)
 *       (TFLM's SaturatingRoundingDoublingHighMul for m >= 0)
 *   y = floor((x + 2^(r-1) + sign(x)) / 2^r) + zp          (its RoundingDivideByPOT, plus the zero point)
 *     = (x + rounding + sign(acc)) >> r,   rounding = 2^(r-1) + zp * 2^r
 * sign(x) may be replaced by sign(acc): they differ only when x == 0, where both give y == zp.
 * SMMLAR computes a + SMMULR(b, c), so the rounding constant rides along with the multiply. */
MTK_INLINE int32_t mtk_smmlar(int32_t b, int32_t c, int32_t a)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(b), "r"(c), "r"(a));
    return r;
}

MTK_INLINE int32_t mtk_output_folded(int32_t acc, int32_t multiplier, int32_t rounding, int32_t rshift)
{
    return (mtk_smmlar(acc * 2, multiplier, rounding) + (acc >> 31)) >> rshift;
}

#endif

#if defined(__GNUC__)
/* A word of an int8 array the compiler aligned (packed filters, the arena): may_alias keeps the accesses
 * legal under strict aliasing, aligned(4) lets GCC merge neighbours into LDRD/LDM. */
typedef int32_t __attribute__((may_alias, aligned(4))) mtk_word;
#else
typedef int32_t mtk_word;
#endif

/* Four int8 values as one word (unaligned loads are fine on Cortex-M3 and later). */
MTK_INLINE int32_t mtk_read_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

#endif /* MTK_FIXEDPOINT_H_ */
