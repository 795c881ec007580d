/* Inner products for CONV_2D / FULLY_CONNECTED: portable C, or Arm DSP (ACLE) on Cortex-M4/M7/M33/M55. */
#include "dot_rows.h"
#include "output_stage.h"

static int32_t dot_scalar(const int8_t *a, const int8_t *b, int n)
{
    int32_t acc = 0;
    for (int i = 0; i < n; ++i) {
        acc += (int32_t)a[i] * (int32_t)b[i];
    }
    return acc;
}

#if MTK_DSP

/* Two rows x two filters: per 4 values, 4 word loads, 8 SXTB16, 8 SMLAD for 16 multiply-accumulates. */
static void dot_2x2(const int8_t *w0, const int8_t *w1, const int8_t *x0, const int8_t *x1, int k, int32_t acc[4])
{
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    const int k4 = k & ~3;
    int i = 0;
    /* One index for all four streams keeps the loop in registers (no spilled pointers). */
    for (; i < k4; i += 4) {
        const int32_t wa = mtk_read_s8x4(w0 + i), xa = mtk_read_s8x4(x0 + i);
        const int32_t wa_even = __sxtb16(wa), wa_odd = mtk_sxtb16_ror8(wa);
        const int32_t xa_even = __sxtb16(xa), xa_odd = mtk_sxtb16_ror8(xa);
        a00 = __smlad(wa_even, xa_even, a00);
        a00 = __smlad(wa_odd, xa_odd, a00);
        const int32_t xb = mtk_read_s8x4(x1 + i);
        const int32_t xb_even = __sxtb16(xb), xb_odd = mtk_sxtb16_ror8(xb);
        a10 = __smlad(wa_even, xb_even, a10);
        a10 = __smlad(wa_odd, xb_odd, a10);
        const int32_t wb = mtk_read_s8x4(w1 + i);
        const int32_t wb_even = __sxtb16(wb), wb_odd = mtk_sxtb16_ror8(wb);
        a01 = __smlad(wb_even, xa_even, a01);
        a01 = __smlad(wb_odd, xa_odd, a01);
        a11 = __smlad(wb_even, xb_even, a11);
        a11 = __smlad(wb_odd, xb_odd, a11);
    }
    for (; i < k; ++i) {
        a00 += w0[i] * x0[i];
        a01 += w1[i] * x0[i];
        a10 += w0[i] * x1[i];
        a11 += w1[i] * x1[i];
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

/* One row against one filter. */
static int32_t dot_1x1(const int8_t *w, const int8_t *x, int k, int32_t acc)
{
    const int8_t *end = x + (k & ~3);
    while (x < end) {
        const int32_t wv = mtk_read_s8x4(w), xv = mtk_read_s8x4(x);
        w += 4;
        x += 4;
        acc = __smlad(__sxtb16(wv), __sxtb16(xv), acc);
        acc = __smlad(mtk_sxtb16_ror8(wv), mtk_sxtb16_ror8(xv), acc);
    }
    return acc + dot_scalar(w, x, k & 3);
}

void mtk_dot_rows_s8(const mtk_dot_rows *d, const int8_t *row0, const int8_t *row1, int8_t *out0, int8_t *out1)
{
    /* Accumulators for a chunk of filters first (all four per 2x2 pass), then the output stage over the
       chunk: two simple loops instead of one whose live values spill. The chunk bounds the stack use. */
    enum { CHUNK = 32 };
    int32_t acc0[CHUNK], acc1[CHUNK];
    const int k = d->k, out_c = d->out_c;
    const int32_t *bias = d->bias;
    const mtk_output_stage stage = {d->multiplier, d->shift, d->rounding, d->rshift, d->q->output_zero_point,
                                    d->q->act_min, d->q->act_max};
    for (int first = 0; first < out_c; first += CHUNK) {
        const int n = out_c - first < CHUNK ? out_c - first : CHUNK;
        const int8_t *w = d->weights + first * k;
        int i = 0;
        if (row1 != NULL) {
            for (; i + 2 <= n; i += 2, w += 2 * k) {
                int32_t acc[4] = {bias[first + i], bias[first + i + 1], bias[first + i], bias[first + i + 1]};
                dot_2x2(w, w + k, row0, row1, k, acc);
                acc0[i] = acc[0];
                acc0[i + 1] = acc[1];
                acc1[i] = acc[2];
                acc1[i + 1] = acc[3];
            }
            if (i < n) {
                acc0[i] = dot_1x1(w, row0, k, bias[first + i]);
                acc1[i] = dot_1x1(w, row1, k, bias[first + i]);
            }
            mtk_output_run_s8(&stage, acc0, first, n, out0 + first);
            mtk_output_run_s8(&stage, acc1, first, n, out1 + first);
        } else {
            for (; i < n; ++i, w += k) {
                acc0[i] = dot_1x1(w, row0, k, bias[first + i]);
            }
            mtk_output_run_s8(&stage, acc0, first, n, out0 + first);
        }
    }
}

#else /* portable C */

void mtk_dot_rows_s8(const mtk_dot_rows *d, const int8_t *row0, const int8_t *row1, int8_t *out0, int8_t *out1)
{
    const int k = d->k;
    for (int oc = 0; oc < d->out_c; ++oc) {
        const int8_t *w = d->weights + oc * k;
        out0[oc] = mtk_output(d, d->bias[oc] + dot_scalar(w, row0, k), oc);
        if (row1 != NULL) {
            out1[oc] = mtk_output(d, d->bias[oc] + dot_scalar(w, row1, k), oc);
        }
    }
}

#endif
