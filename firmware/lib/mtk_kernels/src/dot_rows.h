/*
 * The inner product engine of CONV_2D and FULLY_CONNECTED: one or two input rows (a pixel's channels, or
 * an im2col window) against every filter row, then requantization. The accumulation is exact integer
 * arithmetic, so the DSP path (two rows x two filters per pass, SXTB16 + SMLAD) and the portable path
 * produce the same accumulators and therefore the same bytes.
 */
#ifndef MTK_DOT_ROWS_H_
#define MTK_DOT_ROWS_H_

#include "mtk_kernels.h"
#include "mtk_fixedpoint.h"

typedef struct {
    int k;                    /* row length */
    int out_c;                /* filter rows = outputs per input row */
    const int8_t *weights;    /* out_c x k */
    const int32_t *bias;      /* folded: includes input_offset * sum(filter row) */
    const int32_t *multiplier;
    const int8_t *shift;
    const mtk_output_quant *q;
    const int32_t *rounding;  /* optional folded output stage (DSP path) */
    const int8_t *rshift;
} mtk_dot_rows;

MTK_INLINE int8_t mtk_output(const mtk_dot_rows *d, int32_t acc, int oc)
{
    return mtk_output_s8(acc, d->multiplier[oc], d->shift[oc], d->q->output_zero_point, d->q->act_min,
                             d->q->act_max);
}

/* out0[oc] (and out1[oc] when row1 is not NULL) for every filter row oc. */
void mtk_dot_rows_s8(const mtk_dot_rows *d, const int8_t *row0, const int8_t *row1, int8_t *out0, int8_t *out1);

#endif /* MTK_DOT_ROWS_H_ */
