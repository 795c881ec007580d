/*
 * SOFTMAX int8 -> int8 with TFLM's reference algorithm: input differences rescaled to Q5.26, exp() of
 * negative values in fixed point (gemmlowp's polynomial + barrel shifter), sum in Q12.19, reciprocal by
 * Newton-Raphson, output = exp * reciprocal rounded to 8 bits.
 */
#include "mtk_kernels.h"
#include "mtk_fixedpoint.h"

/* Saturating x * 2^exponent for exponent > 0 (gemmlowp SaturatingRoundingMultiplyByPOT). */
static int32_t saturating_mul_pot(int32_t x, int exponent)
{
    const int32_t threshold = (int32_t)((((uint32_t)1) << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return mtk_shift_left(x, exponent);
}

static int32_t wrap_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static int32_t wrap_sub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out. */
static int32_t exp_on_interval(int32_t a)
{
    const int32_t constant_term = 1895147668;    /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 */
    const int32_t x = wrap_add(a, 1 << 28);      /* a + 1/8 */
    const int32_t x2 = mtk_srdhm(x, x);
    const int32_t x3 = mtk_srdhm(x2, x);
    const int32_t x4 = mtk_srdhm(x2, x2);
    const int32_t x4_over_4 = mtk_rounding_divide_by_pot(x4, 2);
    const int32_t poly =
        mtk_rounding_divide_by_pot(wrap_add(mtk_srdhm(wrap_add(x4_over_4, x3), constant_1_over_3), x2), 1);
    return wrap_add(constant_term, mtk_srdhm(constant_term, wrap_add(x, poly)));
}

/* exp(a) for a <= 0 given in Q5.26, result in Q0.31. */
static int32_t exp_on_negative_values(int32_t a)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int fractional_bits = 26;
    const int32_t one_quarter = 1 << (fractional_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = wrap_sub(a & mask, one_quarter);
    int32_t result = exp_on_interval(saturating_mul_pot(a_mod_quarter_minus_one_quarter, 5));
    const int32_t remainder = wrap_sub(a_mod_quarter_minus_one_quarter, a);
    for (int k = 0; k < 7; ++k) {
        /* exponents -2 .. +4: bit (26 + exponent) of the remainder selects exp(-2^exponent) */
        if (remainder & (1 << (fractional_bits - 2 + k))) {
            result = mtk_srdhm(result, barrel[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

static int32_t rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out (Newton-Raphson, gemmlowp's constants). */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int32_t half_denominator = rounding_half_sum(a, INT32_MAX);
    const int32_t constant_48_over_17 = 1515870810;      /* Q2.29 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2.29 */
    const int32_t one_q2 = 1 << 29;
    int32_t x = wrap_add(constant_48_over_17, mtk_srdhm(half_denominator, constant_neg_32_over_17));
    for (int i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = mtk_srdhm(half_denominator, x);
        const int32_t one_minus = wrap_sub(one_q2, half_denominator_times_x);
        x = wrap_add(x, saturating_mul_pot(mtk_srdhm(x, one_minus), 2));
    }
    return saturating_mul_pot(x, 1);
}

static int count_leading_zeros(uint32_t x)
{
#if defined(__GNUC__)
    return x ? __builtin_clz(x) : 32;
#else
    int n = 0;
    if (x == 0)
        return 32;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
#endif
}

void mtk_softmax_s8(const mtk_softmax_params *p, const int8_t *input, int8_t *output)
{
    const int depth = p->depth;
    for (int row = 0; row < p->rows; ++row, input += depth, output += depth) {
        int8_t max_in_row = -128;
        for (int c = 0; c < depth; ++c) {
            max_in_row = input[c] > max_in_row ? input[c] : max_in_row;
        }

        int32_t sum_of_exps = 0; /* Q12.19 */
        for (int c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)input[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t rescaled = mtk_srdhm(mtk_shift_left(diff, p->input_left_shift), p->input_multiplier);
                sum_of_exps = wrap_add(sum_of_exps, mtk_rounding_divide_by_pot(exp_on_negative_values(rescaled), 12));
            }
        }

        const int headroom_plus_one = count_leading_zeros((uint32_t)sum_of_exps);
        const int num_bits_over_unit = 12 - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31));
        const int32_t shifted_scale = one_over_one_plus_x(shifted_sum_minus_one);
        const int exponent = num_bits_over_unit + 31 - 8;

        for (int c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)input[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t rescaled = mtk_srdhm(mtk_shift_left(diff, p->input_left_shift), p->input_multiplier);
                const int32_t exp_in_0 = exp_on_negative_values(rescaled);
                const int32_t unsat = mtk_rounding_divide_by_pot(mtk_srdhm(shifted_scale, exp_in_0), exponent);
                output[c] = (int8_t)mtk_clamp(unsat - 128, -128, 127);
            } else {
                output[c] = -128;
            }
        }
    }
}
