/*
 * mtk_dot_rows_s8's RV32IM block (MTK_RISCV). No SIMD, so the instructions per multiply-accumulate are set by
 * how often a loaded byte is reused: every pass runs two pixels against four filters (two packed pairs,
 * read through two pointers with the packed layout's own offsets), so per block of 4 values 8 input and 16
 * weight loads feed 32 MUL + ADD pairs. The loops have no branch but their own; the bytes come straight
 * from the rows (pointwise: the input in place) and the packed filters, no expansion. Exact integer
 * arithmetic: the same accumulators as TFLM's reference loop.
 */
#include "dot_rows_rv32.h"
#include "output_stage_rv32.h"

#if MTK_RISCV

/* Accumulators of up to 2 pixels x 4 filters. */
typedef struct {
    int32_t a[2][4];
} rv_acc;

/* One value j of a block for 2 pixels x 4 filters: the two pixels' bytes, then per filter its byte (pair A
 * at wa, pair B at wb: filters 0 and 1 at +0 and +4, as packed) into two MUL + ADD pairs. 22 instructions
 * for 8 multiply-accumulates. */
#define RV_MAC_2X4_VALUE(j)                                                                                            \
    "lb %[p], " #j "(%[x0])\n\t"                                                                                       \
    "lb %[q], " #j "(%[x1])\n\t"                                                                                       \
    "lb %[f], " #j "(%[wa])\n\t"                                                                                       \
    "mul %[t], %[f], %[p]\n\t"                                                                                         \
    "add %[a00], %[a00], %[t]\n\t"                                                                                     \
    "mul %[t], %[f], %[q]\n\t"                                                                                         \
    "add %[a10], %[a10], %[t]\n\t"                                                                                     \
    "lb %[f], " #j " + 4(%[wa])\n\t"                                                                                   \
    "mul %[t], %[f], %[p]\n\t"                                                                                         \
    "add %[a01], %[a01], %[t]\n\t"                                                                                     \
    "mul %[t], %[f], %[q]\n\t"                                                                                         \
    "add %[a11], %[a11], %[t]\n\t"                                                                                     \
    "lb %[f], " #j "(%[wb])\n\t"                                                                                       \
    "mul %[t], %[f], %[p]\n\t"                                                                                         \
    "add %[a02], %[a02], %[t]\n\t"                                                                                     \
    "mul %[t], %[f], %[q]\n\t"                                                                                         \
    "add %[a12], %[a12], %[t]\n\t"                                                                                     \
    "lb %[f], " #j " + 4(%[wb])\n\t"                                                                                   \
    "mul %[t], %[f], %[p]\n\t"                                                                                         \
    "add %[a03], %[a03], %[t]\n\t"                                                                                     \
    "mul %[t], %[f], %[q]\n\t"                                                                                         \
    "add %[a13], %[a13], %[t]\n\t"

/* 2 pixels x 4 filters (two packed pairs) over `blocks` (>= 1) blocks of 4 values: 93 instructions per
 * 32 multiply-accumulates. Written out because GCC's schedule of the same C hoists every load of a block
 * and spills the accumulators. */
MTK_INLINE void rv_mac_2x4(const int8_t *wa, const int8_t *wb, const int8_t *x0, const int8_t *x1, int blocks,
                           rv_acc *acc)
{
    int32_t a00 = acc->a[0][0], a01 = acc->a[0][1], a02 = acc->a[0][2], a03 = acc->a[0][3];
    int32_t a10 = acc->a[1][0], a11 = acc->a[1][1], a12 = acc->a[1][2], a13 = acc->a[1][3];
    const int8_t *const end = x0 + 4 * blocks;
    int32_t p, q, f, t;
    /* clang-format off */
    __asm__("1:\n\t"
            RV_MAC_2X4_VALUE(0) RV_MAC_2X4_VALUE(1) RV_MAC_2X4_VALUE(2) RV_MAC_2X4_VALUE(3)
            "addi %[x0], %[x0], 4\n\t"
            "addi %[x1], %[x1], 4\n\t"
            "addi %[wa], %[wa], 8\n\t"
            "addi %[wb], %[wb], 8\n\t"
            "bne %[x0], %[end], 1b\n\t"
            : [a00] "+r"(a00), [a01] "+r"(a01), [a02] "+r"(a02), [a03] "+r"(a03), [a10] "+r"(a10),
              [a11] "+r"(a11), [a12] "+r"(a12), [a13] "+r"(a13), [x0] "+r"(x0), [x1] "+r"(x1), [wa] "+r"(wa),
              [wb] "+r"(wb), [p] "=&r"(p), [q] "=&r"(q), [f] "=&r"(f), [t] "=&r"(t)
            : [end] "r"(end)
            : "memory");
    /* clang-format on */
    acc->a[0][0] = a00, acc->a[0][1] = a01, acc->a[0][2] = a02, acc->a[0][3] = a03;
    acc->a[1][0] = a10, acc->a[1][1] = a11, acc->a[1][2] = a12, acc->a[1][3] = a13;
}

/* 2 pixels x 8 filters (four packed pairs, pair_stride bytes apart from w) over `blocks` (>= 1) blocks:
 * acc[0..7] pixel 0, acc[8..15] pixel 1, read and written back. In dot_rows_rv32_mac.S: 16 accumulators
 * and 11 more registers are more than inline assembly may name; 175 instructions per 64 MACs. */
void mtk_rv32_mac_2x8(int32_t *acc, const int8_t *w, int32_t pair_stride, const int8_t *x0, const int8_t *x1,
                      int32_t blocks);

/* Passes of 8 filters pay for the call and the saved registers only over rows this long. */
#define RV_2X8_MIN_BLOCKS 8

/* `pixels` (1 or 2) rows x the filters whose packed blocks start at w[0..filters) (1, 2 or 4; `step` bytes
 * between one filter's blocks) over `blocks` blocks of 4 values; constants after inlining (one row, a last
 * pair or filter, and -O0 builds: the written-out loop needs the optimiser's register allocation). */
MTK_INLINE void rv_mac(const int pixels, const int filters, const int8_t *const *w, const int step, const int8_t *x0,
                       const int8_t *x1, int blocks, rv_acc *acc)
{
    int32_t a00 = acc->a[0][0], a01 = acc->a[0][1], a02 = acc->a[0][2], a03 = acc->a[0][3];
    int32_t a10 = acc->a[1][0], a11 = acc->a[1][1], a12 = acc->a[1][2], a13 = acc->a[1][3];
    const int8_t *w0 = w[0], *w1 = filters > 1 ? w[1] : w[0], *w2 = filters > 2 ? w[2] : w[0];
    const int8_t *w3 = filters > 3 ? w[3] : w[0];
    for (; blocks > 0; --blocks, x0 += 4, x1 += 4, w0 += step, w1 += step, w2 += step, w3 += step) {
#pragma GCC unroll 4 /* constant offsets: every load is one LB, no address arithmetic */
        for (int j = 0; j < 4; ++j) {
            const int32_t p = x0[j], q = pixels > 1 ? x1[j] : 0;
            int32_t f = w0[j];
            a00 += f * p;
            if (pixels > 1)
                a10 += f * q;
            if (filters > 1) {
                f = w1[j];
                a01 += f * p;
                if (pixels > 1)
                    a11 += f * q;
            }
            if (filters > 2) {
                f = w2[j];
                a02 += f * p;
                if (pixels > 1)
                    a12 += f * q;
                f = w3[j];
                a03 += f * p;
                if (pixels > 1)
                    a13 += f * q;
            }
        }
    }
    acc->a[0][0] = a00, acc->a[0][1] = a01, acc->a[0][2] = a02, acc->a[0][3] = a03;
    acc->a[1][0] = a10, acc->a[1][1] = a11, acc->a[1][2] = a12, acc->a[1][3] = a13;
}

/* The last k % 4 values (rows are not padded; the packed filters are, with zeros). */
MTK_INLINE void rv_mac_tail(const int pixels, const int filters, const int8_t *const *w, const int8_t *x0,
                            const int8_t *x1, int tail, rv_acc *acc)
{
    for (int f = 0; f < filters; ++f) {
        for (int j = 0; j < tail; ++j) {
            acc->a[0][f] += w[f][j] * x0[j];
            if (pixels > 1)
                acc->a[1][f] += w[f][j] * x1[j];
        }
    }
}

/* Channel j of table block t for both pixels of a pass: its parameters loaded, two outputs stored (the
 * stores may alias the table, so each channel reads its own parameters afresh anyway). */
MTK_INLINE void rv_store_pair(const int mode, const mtk_output_quant *q, const int32_t *t, int j, int32_t acc0,
                              int32_t acc1, int8_t *out0, int8_t *out1)
{
    const int32_t m = t[MTK_DOT_QUANT_GROUP + j], n = t[2 * MTK_DOT_QUANT_GROUP + j],
                  r = t[3 * MTK_DOT_QUANT_GROUP + j];
    const int32_t y0 = rv_output_as(mode, q, m, n, r, acc0), y1 = rv_output_as(mode, q, m, n, r, acc1);
    *out0 = (int8_t)y0;
    *out1 = (int8_t)y1;
}

/* Every filter against `pixels` rows; `mode` a constant after inlining. */
MTK_INLINE void rv_rows(const mtk_dot_rows *d, const int mode, const int pixels, const int8_t *x0, const int8_t *x1,
                        int8_t *out0, int8_t *out1)
{
    const int k = d->k, k4 = mtk_padded4(k), blocks = k >> 2, tail = k & 3, out_c = d->out_c;
    const mtk_output_quant q = *d->q;
    const int8_t *pair = d->weights;
    const int32_t *t = d->quant;
    int oc = 0;
#if defined(__OPTIMIZE__)
    /* Eight filters (four pairs, four table blocks) a pass, then four, both pixels in registers throughout. */
    if (pixels == 2 && tail == 0 && blocks > 0) {
        for (; blocks >= RV_2X8_MIN_BLOCKS && oc + 8 <= out_c; oc += 8, pair += 8 * k4, t += 16 * MTK_DOT_QUANT_GROUP) {
            const int32_t *tb = t + 4 * MTK_DOT_QUANT_GROUP, *tc = tb + 4 * MTK_DOT_QUANT_GROUP;
            const int32_t *td = tc + 4 * MTK_DOT_QUANT_GROUP;
            int32_t acc[16] = {t[0], t[1], tb[0], tb[1], tc[0], tc[1], td[0], td[1],
                               t[0], t[1], tb[0], tb[1], tc[0], tc[1], td[0], td[1]};
            mtk_rv32_mac_2x8(acc, pair, 2 * k4, x0, x1, blocks);
            rv_store_pair(mode, &q, t, 0, acc[0], acc[8], out0 + oc, out1 + oc);
            rv_store_pair(mode, &q, t, 1, acc[1], acc[9], out0 + oc + 1, out1 + oc + 1);
            rv_store_pair(mode, &q, tb, 0, acc[2], acc[10], out0 + oc + 2, out1 + oc + 2);
            rv_store_pair(mode, &q, tb, 1, acc[3], acc[11], out0 + oc + 3, out1 + oc + 3);
            rv_store_pair(mode, &q, tc, 0, acc[4], acc[12], out0 + oc + 4, out1 + oc + 4);
            rv_store_pair(mode, &q, tc, 1, acc[5], acc[13], out0 + oc + 5, out1 + oc + 5);
            rv_store_pair(mode, &q, td, 0, acc[6], acc[14], out0 + oc + 6, out1 + oc + 6);
            rv_store_pair(mode, &q, td, 1, acc[7], acc[15], out0 + oc + 7, out1 + oc + 7);
        }
        for (; oc + 4 <= out_c; oc += 4, pair += 4 * k4, t += 8 * MTK_DOT_QUANT_GROUP) {
            const int32_t *t2 = t + 4 * MTK_DOT_QUANT_GROUP;
            rv_acc acc = {{{t[0], t[1], t2[0], t2[1]}, {t[0], t[1], t2[0], t2[1]}}};
            rv_mac_2x4(pair, pair + 2 * k4, x0, x1, blocks, &acc);
            rv_store_pair(mode, &q, t, 0, acc.a[0][0], acc.a[1][0], out0 + oc, out1 + oc);
            rv_store_pair(mode, &q, t, 1, acc.a[0][1], acc.a[1][1], out0 + oc + 1, out1 + oc + 1);
            rv_store_pair(mode, &q, t2, 0, acc.a[0][2], acc.a[1][2], out0 + oc + 2, out1 + oc + 2);
            rv_store_pair(mode, &q, t2, 1, acc.a[0][3], acc.a[1][3], out0 + oc + 3, out1 + oc + 3);
        }
    }
#endif
    /* The rest two filters (a pair, or an odd last filter whose blocks are consecutive) at a time, in C. */
    for (; oc < out_c; oc += 2, pair += 2 * k4, t += 4 * MTK_DOT_QUANT_GROUP) {
        const int paired = oc + 1 < out_c, step = paired ? 8 : 4;
        const int8_t *w[2] = {pair, pair + 4};
        rv_acc acc = {{{t[0], t[1], 0, 0}, {t[0], t[1], 0, 0}}};
        if (paired) {
            rv_mac(pixels, 2, w, 8, x0, x1, blocks, &acc);
        } else {
            rv_mac(pixels, 1, w, 4, x0, x1, blocks, &acc);
        }
        if (tail) {
            const int8_t *wt[2] = {w[0] + step * blocks, w[1] + step * blocks};
            rv_mac_tail(pixels, paired ? 2 : 1, wt, x0 + 4 * blocks, x1 + 4 * blocks, tail, &acc);
        }
        for (int p = 0; p < pixels; ++p) {
            int8_t *out = p ? out1 : out0;
            out[oc] = rv_output_entry(mode, &q, t, MTK_DOT_QUANT_GROUP, 0, acc.a[p][0]);
            if (paired) {
                out[oc + 1] = rv_output_entry(mode, &q, t, MTK_DOT_QUANT_GROUP, 1, acc.a[p][1]);
            }
        }
    }
}

#define RV_ROWS_VARIANT(name, mode, pixels)                                                                            \
    static void name(const mtk_dot_rows *d, const int8_t *x0, const int8_t *x1, int8_t *out0, int8_t *out1)            \
    {                                                                                                                  \
        rv_rows(d, mode, pixels, x0, x1, out0, out1);                                                                  \
    }
RV_ROWS_VARIANT(rows2_folded, RV_OUT_FOLDED, 2)
RV_ROWS_VARIANT(rows2_clamped, RV_OUT_FOLDED_CLAMPED, 2)
RV_ROWS_VARIANT(rows2_general, RV_OUT_GENERAL, 2)
RV_ROWS_VARIANT(rows1_folded, RV_OUT_FOLDED, 1)
RV_ROWS_VARIANT(rows1_clamped, RV_OUT_FOLDED_CLAMPED, 1)
RV_ROWS_VARIANT(rows1_general, RV_OUT_GENERAL, 1)

void mtk_dot_rows_rv32(const mtk_dot_rows *d, const int8_t *row0, const int8_t *row1, int8_t *out0, int8_t *out1)
{
    const int mode = rv_output_mode(d->folded, d->q);
    if (row1 != NULL) {
        (mode == RV_OUT_FOLDED    ? rows2_folded
         : mode == RV_OUT_GENERAL ? rows2_general
                                  : rows2_clamped)(d, row0, row1, out0, out1);
        return;
    }
    (mode == RV_OUT_FOLDED    ? rows1_folded
     : mode == RV_OUT_GENERAL ? rows1_general
                              : rows1_clamped)(d, row0, row0, out0, out0);
}

#endif
