/*
 * The inner product engine of CONV_2D and FULLY_CONNECTED: one or two input rows (a pixel's channels, or
 * an im2col window) against every filter row, then requantization. The accumulation is exact integer
 * arithmetic, so the DSP path and the portable path produce the same accumulators and the same bytes.
 *
 * Filters arrive packed by the compiler (see mtk_kernels.h): rows padded with zeros to a multiple of 4,
 * two rows interleaved in blocks of 4. One 8-byte load then feeds two filters, and the DSP path runs two
 * filters x two pixels per pass against pixels sign-extended once into scratch (SXTB16 order), so its
 * inner loop is 3 loads + 4 SXTB16 + 8 SMLAD for 16 multiply-accumulates. The Helium path (dot_rows.c) reads
 * the rows in place instead: per 16 values of a filter pair VLD20/VLD21 and one load per row, then one
 * VMLADAVA.S8 per filter and row (2 filters x 3 rows a pass), before the same scalar output stage.
 */
#ifndef MTK_DOT_ROWS_H_
#define MTK_DOT_ROWS_H_

#include "mtk_kernels.h"
#include "output_stage.h"

/* Channel quantization tables come in blocks of this many channels: one filter pair. */
#define MTK_DOT_QUANT_GROUP 2

typedef struct {
    int k;                 /* row length (before padding) */
    int out_c;             /* filter rows = outputs per input row */
    const int8_t *weights; /* packed, 4-byte aligned */
    const int32_t *quant;  /* channel table, blocks of MTK_DOT_QUANT_GROUP; bias folded with the input offset */
    int folded;            /* the table holds the folded output stage */
    const mtk_output_quant *q;
} mtk_dot_rows;

MTK_INLINE int mtk_padded4(int k)
{
    return (k + 3) & ~3;
}

/* Pixels per call at most (mtk_dot_rows3_s8) and so the im2col rows CONV_2D keeps. */
#define MTK_DOT_MAX_ROWS 3

/* Scratch bytes mtk_dot_rows_s8 / mtk_dot_rows3_s8 need for rows of k values (three rows, sign-extended
 * to 16 bits; the same on every target, as the compiler plans one arena for all). */
MTK_INLINE uint32_t mtk_dot_rows_scratch_bytes(int k)
{
    return 2u * MTK_DOT_MAX_ROWS * (uint32_t)mtk_padded4(k);
}

/* out0[oc] (and out1[oc] when row1 is not NULL) for every filter row oc. `scratch` (word-aligned,
 * mtk_dot_rows_scratch_bytes) may be NULL when row1 is NULL. */
void mtk_dot_rows_s8(const mtk_dot_rows *d, const int8_t *row0, const int8_t *row1, int8_t *out0, int8_t *out1,
                     int8_t *scratch);

/* How many input rows a call should bring on this target: 3 where mtk_dot_rows3_s8 has a routine for the
 * layer (Helium: every layer; the Arm DSP path: mtk_dot_rows3_expanded_ok), else 2. */
int mtk_dot_rows_group(const mtk_dot_rows *d);

/* Whether mtk_dot_rows3_expanded_s8 serves the layer (the Arm DSP path, folded output stage, even filter
 * count). */
int mtk_dot_rows3_expanded_ok(const mtk_dot_rows *d);

/* out[i * out_stride + oc] for rows[i], i < 3 (scratch as for mtk_dot_rows_s8). */
void mtk_dot_rows3_s8(const mtk_dot_rows *d, const int8_t *const rows[3], int8_t *out, int out_stride, int8_t *scratch);

/* mtk_dot_rows3_s8 over `count` rows (a multiple of 3) row_stride bytes apart, their outputs out_stride
 * apart: the layer's set-up once for the run rather than per three rows. */
void mtk_dot_rows3_run_s8(const mtk_dot_rows *d, const int8_t *rows, int row_stride, int count, int8_t *out,
                          int out_stride, int8_t *scratch);

#if MTK_DSP
/* Four values of a row as the three-pixel routine reads them (x[0] the even, x[1] the odd SXTB16 halves),
 * each doubled: the accumulators then come out as 2 * acc, the operand the folded output stage's SMMLAR
 * takes, so the routine spends no shift per output (|2 * acc| < 2^31 on every folded layer). */
MTK_INLINE void mtk_dot3_pixel_word(int32_t v, mtk_word *x)
{
    const int32_t even = __sxtb16(v), odd = mtk_sxtb16_ror8(v);
    x[0] = __sadd16(even, even);
    x[1] = __sadd16(odd, odd);
}

/* mtk_dot_rows3_s8 for `groups` groups of three rows a caller has expanded into x itself, where
 * mtk_dot_rows3_expanded_ok(d): per group mtk_dot_rows_scratch_bytes(d->k) bytes, per block of four values
 * the words of row 0, row 1, row 2 (mtk_dot3_pixel_word each; with `plain`, for rows of 25 to 28 values
 * only, the SXTB16 halves undoubled), padding values anything finite (their weights are zero); group g's
 * outputs at out + 3 * g * out_stride. One call for many groups spares the routine's set-up per group. */
void mtk_dot_rows3_expanded_s8(const mtk_dot_rows *d, const mtk_word *x, int groups, int8_t *out, int out_stride,
                               int plain);
#endif

#endif /* MTK_DOT_ROWS_H_ */
