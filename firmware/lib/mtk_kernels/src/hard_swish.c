/*
 * HARD_SWISH int8, x * relu6(x + 3) / 6; bit-exact with TFLM's reference HardSwish, which works in 16-bit
 * fixed point: the input on a finer scale (x 128), a "relu-ish" factor in [0, 1] rescaled from [-3, 3]
 * with saturation, their product, and the output shift. Multipliers and exponents come from the compiler
 * (TFLM's HardSwishPrepare arithmetic).
 */
#include "mtk_kernels.h"
#include "mtk_fixedpoint.h"

/* gemmlowp's SaturatingRoundingDoublingHighMul for int16. */
MTK_INLINE int16_t srdhm16(int16_t a, int16_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    const int32_t ab = (int32_t)a * b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15)); /* division: gemmlowp truncates toward zero */
}

/* The same without rounding (TFLM's SaturatingDoublingHighMul, chosen there to cancel the bias above). */
MTK_INLINE int16_t sdhm16(int16_t a, int16_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    return (int16_t)(((int32_t)a * b) / (1 << 15));
}

MTK_INLINE int16_t saturating_left_shift16(int16_t value, int amount)
{
    const int64_t r = (int64_t)value * ((int64_t)1 << amount);
    return (int16_t)(r > INT16_MAX ? INT16_MAX : (r < INT16_MIN ? INT16_MIN : r));
}

/* gemmlowp's RoundingDivideByPOT in int16 arithmetic. */
MTK_INLINE int16_t rounding_divide_by_pot16(int16_t x, int exponent)
{
    const int16_t mask = (int16_t)((1LL << exponent) - 1);
    const int16_t remainder = (int16_t)(x & mask);
    const int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
    return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

void mtk_hard_swish_s8(const mtk_hard_swish_params *p, const int8_t *input, int8_t *output)
{
    const int reluish_exponent = p->reluish_multiplier_exponent;
    for (uint32_t i = 0; i < p->size; ++i) {
        const int16_t x = (int16_t)(input[i] - p->input_zero_point);
        const int16_t hires = (int16_t)(x * (1 << 7));
        const int16_t preshift_output = srdhm16(hires, p->output_multiplier);
        int16_t reluish = hires;
        if (reluish_exponent > 0) {
            reluish = saturating_left_shift16(reluish, reluish_exponent - 1);
        }
        reluish = srdhm16(reluish, p->reluish_multiplier);
        if (reluish_exponent > 0) {
            reluish = saturating_left_shift16(reluish, 1);
        }
        if (reluish_exponent < 0) {
            reluish = rounding_divide_by_pot16(reluish, -reluish_exponent);
        }
        reluish = (int16_t)((reluish + (1 << 15)) >> 1); /* [-1, 1] -> [0, 1] */
        const int16_t y = rounding_divide_by_pot16(sdhm16(reluish, preshift_output), -p->output_multiplier_exponent);
        output[i] = (int8_t)mtk_clamp(y + p->output_zero_point, -128, 127);
    }
}
