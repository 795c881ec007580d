/*
 * DEPTHWISE_CONV_2D, int8, per-channel requantization; bit-exact with TFLM's reference
 * DepthwiseConvPerChannel. Taps outside the image read the input zero point (cancelled by the folded bias).
 *
 * DSP path (depth multiplier 1), per group of four channels: the input rows a window needs are
 * sign-extended once into scratch (zero point around the image, so border windows read like any other),
 * with the weights' int16 halfword order (layout in mtk_kernels.h). A tap for four channels is then two
 * two-word loads and four SMLAxy, and the accumulators stay in registers from bias to output byte. A 3x3
 * layer at stride 1 or 2 with the folded output stage takes two neighbouring output pixels at a time, one
 * halfword lane (two of the four channels) per pass from bias to output bytes in registers: the two windows
 * share their middle columns and every weight, so a row of both is 7 (stride 1) or 8 single loads for 12
 * SMLAxy, not 12 LDRD. Rows of 4 or more such outputs go channel-planar instead (below): one channel's
 * int16 row as column pairs, so that SMLAD takes two taps of a window at once and four outputs of one
 * channel share their loads, 81 (stride 1) or 85 (stride 2) est. M4 cycles for 36 MACs with the output stage
 * (rows of exactly 6 outputs: six a pass); rows of exactly 3 too, a channel's rows of a chunk in one loop.
 * The portable build runs the same schedule in plain C over int8 rows. Channels beyond the last multiple
 * of 4 and depth multipliers above 1 take the reference loop.
 *
 * In place: every grouped path (DSP, RV32, portable) copies a group's input rows into scratch before it
 * writes the output rows that need them, and a group writes only its own four channels, so when the groups
 * cover all channels the output may overwrite the input (mtk_depthwise_conv2d_in_place_ok says when).
 */
#include "depthwise_mve.h"
#include "depthwise_rv32.h"
#include "mtk_kernels.h"
#include "output_stage.h"

#include <stddef.h>

#define DW_GROUP 4     /* channels per weight group and per quantization table block */
#define DW_MAX_ROWS 16 /* filter heights the grouped path serves */

/* Whether the grouped path (DSP) serves this layer; the scratch is planned for it either way. */
static int groups_apply(const mtk_depthwise_params *p)
{
    return p->depth_multiplier == 1 && p->in_c >= DW_GROUP && p->filter_h <= DW_MAX_ROWS;
}

static int padded_width(const mtk_depthwise_params *p)
{
    /* input columns the windows reach, left and right padding included */
    const int right = (p->out_w - 1) * p->stride_w + p->filter_w - p->pad_left - p->in_w;
    return p->pad_left + p->in_w + (right > 0 ? right : 0);
}

/* Rows of exactly 6 or 3 outputs (3x3, stride_w 1 or 2), or 12 at stride 1, go through the DSP path's chunks: up to DWP6_ROWS
 * output rows' input rows expanded at once, a row after the other. */
#define DWP6_ROWS 6
static int chunked(const mtk_depthwise_params *p)
{
    return p->filter_h == 3 && p->filter_w == 3 &&
           (((p->stride_w == 1 || p->stride_w == 2) && (p->out_w == 6 || p->out_w == 3)) ||
            (p->stride_w == 1 && p->out_w == 12));
}

static int chunk_rows(const mtk_depthwise_params *p)
{
    return ((p->out_h < DWP6_ROWS ? p->out_h : DWP6_ROWS) - 1) * p->stride_h + 3;
}

MTK_INLINE int32_t dw_weight(const mtk_depthwise_params *p, int tap, int oc)
{
    static const uint8_t lane[DW_GROUP] = {0, 2, 1, 3}; /* SXTB16 order: c0, c2, c1, c3 */
    const int taps = p->filter_h * p->filter_w;
    return p->filter[((oc / DW_GROUP) * taps + tap) * DW_GROUP + lane[oc % DW_GROUP]];
}

/* Channels [c_begin, c_end) of one output pixel, any depth multiplier (the reference loop). */
static void depthwise_pixel_scalar(const mtk_depthwise_params *p, const int8_t *input, int y0, int x0, int c_begin,
                                   int c_end, int8_t *out)
{
    const int fw = p->filter_w, mult = p->depth_multiplier;
    for (int ic = c_begin; ic < c_end; ++ic) {
        for (int m = 0; m < mult; ++m) {
            const int oc = ic * mult + m;
            int32_t acc = mtk_quant_entry(p->quant, DW_GROUP, oc)[0];
            for (int ky = 0; ky < p->filter_h; ++ky) {
                const int iy = y0 + ky, inside = iy >= 0 && iy < p->in_h;
                const int8_t *row =
                    input + (inside ? mtk_ring_row(p->in_ring, p->in_ring_first, iy) : 0) * p->in_w * p->in_c;
                for (int kx = 0; kx < fw; ++kx) {
                    const int ix = x0 + kx;
                    const int32_t x =
                        (inside && ix >= 0 && ix < p->in_w) ? row[ix * p->in_c + ic] : p->input_zero_point;
                    acc += dw_weight(p, ky * fw + kx, oc) * x;
                }
            }
            out[oc] = mtk_output_channel(p->quant, DW_GROUP, p->folded, &p->q, oc, acc);
        }
    }
}

#if MTK_DSP

/* Input row iy of channels 4g..4g+3, sign-extended: per padded column two words (c0, c2) and (c1, c3), the
 * halfword order of the weights. Columns and rows outside the image hold the input zero point, so every
 * window reads the same way. */
typedef struct {
    int width, left, in_w, in_c, in_h, row_bytes; /* padded width, the image's, bytes an image row */
    int ring, ring_first;                         /* the input's ring of rows (mtk_ring_row) */
    int32_t zp;                                   /* the zero point sign-extended in both halfwords */
} dw_rows;

/* The row geometry once per group (the descriptor would be re-read after every asm block's clobber). */
MTK_INLINE void rows_plan(const mtk_depthwise_params *p, dw_rows *e)
{
    e->width = padded_width(p);
    e->left = p->pad_left;
    e->in_w = p->in_w;
    e->in_c = p->in_c;
    e->in_h = p->in_h;
    e->row_bytes = p->in_w * p->in_c;
    e->ring = p->in_ring;
    e->ring_first = p->in_ring_first;
    e->zp = __sxtb16((int32_t)mtk_bytes4(p->input_zero_point));
}

/* (row_g: channel 4g of image row 0) */
static void expand_row(const dw_rows *rp, const int8_t *row_g, int iy, mtk_word *row)
{
    const int c_count = rp->in_c, in_w = rp->in_w, width = rp->width, left = rp->left;
    const int32_t zp = rp->zp;
    if ((unsigned)iy >= (unsigned)rp->in_h) {
        for (int i = 0; i < 2 * width; ++i) {
            row[i] = zp;
        }
        return;
    }
    int col = 0;
    for (; col < left; ++col, row += 2) {
        row[0] = row[1] = zp;
    }
    const int8_t *src = row_g + mtk_ring_row(rp->ring, rp->ring_first, iy) * rp->row_bytes;
#if MTK_THUMB2_ASM
    /* 6 instructions a pixel instead of GCC's 9 (it indexes the stores instead of post-incrementing). */
    int32_t v, e, n = in_w;
    /* clang-format off */
    __asm__("1:\n\t"
            "ldr %[v], [%[src]]\n\t"
            "add %[src], %[src], %[c]\n\t"
            "sxtb16 %[e], %[v]\n\t"
            "sxtb16 %[v], %[v], ror #8\n\t"
            "strd %[e], %[v], [%[row]], #8\n\t"
            "subs %[n], %[n], #1\n\t"
            "bne 1b\n\t"
            : [src] "+r"(src), [row] "+r"(row), [n] "+r"(n), [v] "=&r"(v), [e] "=&r"(e)
            : [c] "r"(c_count)
            : "cc", "memory");
    /* clang-format on */
    col += in_w;
#else
    for (int ix = 0; ix < in_w; ++ix, ++col, row += 2, src += c_count) {
        const int32_t v = mtk_read_s8x4(src);
        row[0] = __sxtb16(v);
        row[1] = mtk_sxtb16_ror8(v);
    }
#endif
    for (; col < width; ++col, row += 2) {
        row[0] = row[1] = zp;
    }
}

/* The taps of one window for four channels: rows[ky] + column (words) is the window's row ky, w the group's
 * weights in tap order. */
MTK_INLINE void taps_any(const mtk_word *const *rows, int column, int fh, int fw, const mtk_word *w, int32_t *a0,
                         int32_t *a1, int32_t *a2, int32_t *a3)
{
    for (int ky = 0; ky < fh; ++ky) {
        const mtk_word *x = rows[ky] + column;
        for (int kx = 0; kx < fw; ++kx, x += 2, w += 2) {
            *a0 = __smlabb(x[0], w[0], *a0);
            *a2 = __smlatt(x[0], w[0], *a2);
            *a1 = __smlabb(x[1], w[1], *a1);
            *a3 = __smlatt(x[1], w[1], *a3);
        }
    }
}

#if MTK_THUMB2_ASM
/* One tap for four channels: input words at [row + xoff] and weight words at [w + woff], two LDRD and four
 * SMLAxy; nine of them make a 3x3 window (GCC's own schedule spills accumulators). */
#define DW_TAP_ASM(row, xoff, woff)                                                                                    \
    "ldrd %[xe], %[xo], [%[" row "], #" #xoff "]\n\t"                                                                  \
    "ldrd %[we], %[wo], [%[w], #" #woff "]\n\t"                                                                        \
    "smlabb %[a0], %[xe], %[we], %[a0]\n\t"                                                                            \
    "smlatt %[a2], %[xe], %[we], %[a2]\n\t"                                                                            \
    "smlabb %[a1], %[xo], %[wo], %[a1]\n\t"                                                                            \
    "smlatt %[a3], %[xo], %[wo], %[a3]\n\t"

MTK_INLINE void taps_3x3(const mtk_word *r0, const mtk_word *r1, const mtk_word *r2, const mtk_word *w, int32_t *a0,
                         int32_t *a1, int32_t *a2, int32_t *a3)
{
    int32_t xe, xo, we, wo;
    /* clang-format off */
    __asm__(DW_TAP_ASM("r0", 0, 0) DW_TAP_ASM("r0", 8, 8) DW_TAP_ASM("r0", 16, 16)
            DW_TAP_ASM("r1", 0, 24) DW_TAP_ASM("r1", 8, 32) DW_TAP_ASM("r1", 16, 40)
            DW_TAP_ASM("r2", 0, 48) DW_TAP_ASM("r2", 8, 56) DW_TAP_ASM("r2", 16, 64)
            : [a0] "+r"(*a0), [a1] "+r"(*a1), [a2] "+r"(*a2), [a3] "+r"(*a3), [xe] "=&r"(xe), [xo] "=&r"(xo),
              [we] "=&r"(we), [wo] "=&r"(wo)
            : [r0] "r"(r0), [r1] "r"(r1), [r2] "r"(r2), [w] "r"(w)
            : "memory");
    /* clang-format on */
}
#else
MTK_INLINE void taps_3x3(const mtk_word *r0, const mtk_word *r1, const mtk_word *r2, const mtk_word *w, int32_t *a0,
                         int32_t *a1, int32_t *a2, int32_t *a3)
{
    const mtk_word *const rows[3] = {r0, r1, r2};
    taps_any(rows, 0, 3, 3, w, a0, a1, a2, a3);
}
#endif

#if MTK_THUMB2_ASM
/* clang-format off */
/* Both halfword lanes of pixel p (p0 or p1) accumulate the column word in tmp times weight w. */
#define DW2_MAC(p, w)                                                                                                  \
    "smlabb %[" p "l], %[tmp], %[" w "], %[" p "l]\n\t"                                                                \
    "smlatt %[" p "h], %[tmp], %[" w "], %[" p "h]\n\t"
/* The row's three weights; its column at byte offset `at` into tmp. */
#define DW2_WEIGHTS(wa, wb, wc)                                                                                        \
    "ldr %[wa], [%[w], #" wa "]\n\t"                                                                                   \
    "ldr %[wb], [%[w], #" wb "]\n\t"                                                                                   \
    "ldr %[wc], [%[w], #" wc "]\n\t"
#define DW2_COLUMN(row, at) "ldr %[tmp], [%[" row "], #" at "]\n\t"
/* Row `row` of two neighbouring 3x3 windows in one halfword lane (the words at +0 of each column, or at +4:
 * the pointers say which): weights at [w, #wa/wb/wc], columns 8 bytes apart; p0 the first pixel's
 * accumulators, p1 the second's (l: the lane's bottom halfword channel, h: its top). Stride 1: the windows
 * share two columns. */
#define DW2_ROW_S1(row, wa, wb, wc)                                                                                    \
    DW2_WEIGHTS(wa, wb, wc)                                                                                            \
    "ldr %[tmp], [%[" row "]]\n\t" DW2_MAC("p0", "wa")                                                                 \
    DW2_COLUMN(row, "8") DW2_MAC("p0", "wb") DW2_MAC("p1", "wa")                                                       \
    DW2_COLUMN(row, "16") DW2_MAC("p0", "wc") DW2_MAC("p1", "wb")                                                      \
    DW2_COLUMN(row, "24") DW2_MAC("p1", "wc")

/* The same at stride 2: the windows share one column (the first's third, the second's first). */
#define DW2_ROW_S2(row, wa, wb, wc)                                                                                    \
    DW2_WEIGHTS(wa, wb, wc)                                                                                            \
    "ldr %[tmp], [%[" row "]]\n\t" DW2_MAC("p0", "wa")                                                                 \
    DW2_COLUMN(row, "8") DW2_MAC("p0", "wb")                                                                           \
    DW2_COLUMN(row, "16") DW2_MAC("p0", "wc") DW2_MAC("p1", "wa")                                                      \
    DW2_COLUMN(row, "24") DW2_MAC("p1", "wb")                                                                          \
    DW2_COLUMN(row, "32") DW2_MAC("p1", "wc")

/* The lane's biases (table words 0 and 2 from t), the 3x3 taps, and the folded stage of its four values
 * (multiplier, rounding, shift at words 4/8/12 and 6/10/14), saturated to int8 and left as the bytes 0 and
 * 2 of one word per pixel (UXTB16), so that the two lanes of a pixel combine with one shifted ORR. */
#define DW2_LANE(ROW)                                                                                                  \
    "ldr %[p0l], [%[t]]\n\t"                                                                                           \
    "ldr %[p0h], [%[t], #8]\n\t"                                                                                       \
    "mov %[p1l], %[p0l]\n\t"                                                                                           \
    "mov %[p1h], %[p0h]\n\t"                                                                                           \
    ROW("r0", "0", "8", "16") ROW("r1", "24", "32", "40") ROW("r2", "48", "56", "64")                                  \
    "ldr %[wa], [%[t], #16]\n\t"                                                                                       \
    "ldr %[wb], [%[t], #32]\n\t"                                                                                       \
    "ldr %[wc], [%[t], #48]\n\t"                                                                                       \
    MTK_FOLDED_ONE("p0l", "wa", "wb", "wc")                                                                            \
    MTK_FOLDED_ONE("p1l", "wa", "wb", "wc")                                                                            \
    "ldr %[wa], [%[t], #24]\n\t"                                                                                       \
    "ldr %[wb], [%[t], #40]\n\t"                                                                                       \
    "ldr %[wc], [%[t], #56]\n\t"                                                                                       \
    MTK_FOLDED_ONE("p0h", "wa", "wb", "wc")                                                                            \
    MTK_FOLDED_ONE("p1h", "wa", "wb", "wc")                                                                            \
    "bfi %[p0l], %[p0h], #16, #8\n\t"                                                                                  \
    "bfi %[p1l], %[p1h], #16, #8\n\t"                                                                                  \
    "uxtb16 %[p0l], %[p0l]\n\t"                                                                                        \
    "uxtb16 %[p1l], %[p1l]\n\t"
/* clang-format on */

/* One halfword lane of two neighbouring 3x3 windows at stride 1 or 2 (a constant after inlining), from bias
 * to output bytes: r0..r2, w and t point at the lane's words (+1 word for the second lane). */
MTK_INLINE void lane_3x3_2px(const int stride, const mtk_word *r0, const mtk_word *r1, const mtk_word *r2,
                             const mtk_word *w, const int32_t *t, uint32_t *pixel0, uint32_t *pixel1)
{
    int32_t p0l, p0h, p1l, p1h, wa, wb, wc, tmp;
    /* clang-format off */
    if (stride == 1) {
        __asm__(DW2_LANE(DW2_ROW_S1)
                : [p0l] "=&r"(p0l), [p0h] "=&r"(p0h), [p1l] "=&r"(p1l), [p1h] "=&r"(p1h), [wa] "=&r"(wa),
                  [wb] "=&r"(wb), [wc] "=&r"(wc), [tmp] "=&r"(tmp)
                : [r0] "r"(r0), [r1] "r"(r1), [r2] "r"(r2), [w] "r"(w), [t] "r"(t)
                : "memory");
    } else {
        __asm__(DW2_LANE(DW2_ROW_S2)
                : [p0l] "=&r"(p0l), [p0h] "=&r"(p0h), [p1l] "=&r"(p1l), [p1h] "=&r"(p1h), [wa] "=&r"(wa),
                  [wb] "=&r"(wb), [wc] "=&r"(wc), [tmp] "=&r"(tmp)
                : [r0] "r"(r0), [r1] "r"(r1), [r2] "r"(r2), [w] "r"(w), [t] "r"(t)
                : "memory");
    }
    /* clang-format on */
    *pixel0 = (uint32_t)p0l;
    *pixel1 = (uint32_t)p1l;
}

/* The folded output stage of one pixel's four accumulators (channels 0..3), packed and stored. */
MTK_INLINE void folded_store4(const int mode, const int32_t *t, uint32_t lo4, int32_t a0, int32_t a1, int32_t a2,
                              int32_t a3, int8_t *out)
{
    mtk_folded_pair(t, DW_GROUP, 0, &a0, &a1);
    mtk_folded_pair(t, DW_GROUP, 2, &a2, &a3);
    uint32_t packed = mtk_pack_s8x4(a0, a1, a2, a3);
    if (mode == MTK_OUT_FOLDED_MIN) {
        packed = mtk_max_s8x4(packed, lo4);
    }
    memcpy(out, &packed, 4);
}
#endif

#if MTK_THUMB2_ASM
/* The 3x3 layers at stride 1 or 2 with the folded output stage, channel-planar: per channel of the group one
 * int16 plane of the filter_h row slots, a word per column pair (x[2k] low, x[2k+1] high) and the slots of
 * a pair side by side (word k of slot s at 3k + s), so that one pointer with immediate offsets reaches all
 * three rows of a window and SMLAD takes two taps of one channel at once. The slot holding window row ky
 * changes from output row to output row; the weights are permuted into slot order instead (per row, in each
 * channel's record), so the loop never changes. Along a channel's row the weights of slots 0
 * and 1 stay in registers; slot 2's are reloaded per pass, their registers then serving the output stage. */
#define DWP_SLOTS 3
#define DWP_MIN_WIDTH 4

static int plane_words(const mtk_depthwise_params *p)
{
    return (padded_width(p) + 1) / 2;
}

/* Columns 2k and 2k + 1 (words v0, v1: channels 0..3 of each) as the planar words of channels 0..3 at d,
 * d + plane, ...: PKHBT/PKHTB pair the columns' halves, SXTB16 sign-extends. */
MTK_INLINE void planar_store(mtk_word *d, int plane, int32_t v0, int32_t v1)
{
    const int32_t t = (int32_t)(((uint32_t)v0 & 0xffffu) | ((uint32_t)v1 << 16));
    const int32_t u = (int32_t)(((uint32_t)v0 >> 16) | ((uint32_t)v1 & 0xffff0000u));
    d[0] = __sxtb16(t);
    d[plane] = mtk_sxtb16_ror8(t);
    d[2 * plane] = __sxtb16(u);
    d[3 * plane] = mtk_sxtb16_ror8(u);
}

/* What expanding a row takes, worked out once per call: the row loop's asm clobbers memory, so GCC would
 * re-derive it from the descriptor for every row. The pairs [k_lo, k_lo + inner) have both columns inside
 * the image; left of them at most pair 0, (padding, column 0) (the planar path takes pad_left <= 1, as
 * TFLite's 3x3 paddings are); right of them the pair of the last column and the padding if any (`tail`:
 * that column's byte offset, else -1), then from pair `zz` on padding alone. */
typedef struct {
    int words, plane, in_h, row_bytes, in_c, inner, src0, k_lo, tail, zz;
    int ring, ring_first; /* the input's ring of rows (mtk_ring_row) */
    int32_t zp4;
} dwp_rows;

static void planar_plan(const mtk_depthwise_params *p, dwp_rows *e)
{
    const int in_w = p->in_w, left = p->pad_left, in_c = p->in_c;
    const int k_lo = (left + 1) / 2, k_hi = (in_w + left) / 2, odd = (in_w + left) & 1;
    e->words = plane_words(p);
    e->plane = DWP_SLOTS * e->words;
    e->in_h = p->in_h;
    e->row_bytes = in_w * in_c;
    e->ring = p->in_ring;
    e->ring_first = p->in_ring_first;
    e->in_c = in_c;
    e->inner = k_hi - k_lo;
    e->src0 = (2 * k_lo - left) * in_c;
    e->k_lo = k_lo;
    e->tail = odd ? (in_w - 1) * in_c : -1;
    e->zz = k_hi + odd;
    e->zp4 = (int32_t)mtk_bytes4(p->input_zero_point);
}

/* Two column pairs a pass for `n` passes: loads, PKHBT/PKHTB pairing the columns and SXTB16 sign-extending,
 * 14 instructions a pair; the four planes' stores post-increment by a pair (`step`: its bytes). */
#define DWP_EXPAND_LOOP(step)                                                                                          \
    "1:\n\t"                                                                                                           \
    "ldr %[v0], [%[src]]\n\t"                                                                                          \
    "ldr %[v1], [%[src], %[c]]\n\t"                                                                                    \
    "ldr %[v2], [%[src], %[c], lsl #1]\n\t"                                                                            \
    "ldr %[v3], [%[src], %[c3]]\n\t"                                                                                   \
    "add %[src], %[src], %[c], lsl #2\n\t"                                                                             \
    "pkhbt %[t], %[v0], %[v1], lsl #16\n\t"                                                                            \
    "pkhtb %[v1], %[v1], %[v0], asr #16\n\t"                                                                           \
    "sxtb16 %[v0], %[t]\n\t"                                                                                           \
    "sxtb16 %[t], %[t], ror #8\n\t"                                                                                    \
    "str %[v0], [%[d0]], #" step "\n\t"                                                                                \
    "str %[t], [%[d1]], #" step "\n\t"                                                                                 \
    "sxtb16 %[v0], %[v1]\n\t"                                                                                          \
    "sxtb16 %[v1], %[v1], ror #8\n\t"                                                                                  \
    "str %[v0], [%[d2]], #" step "\n\t"                                                                                \
    "str %[v1], [%[d3]], #" step "\n\t"                                                                                \
    "pkhbt %[t], %[v2], %[v3], lsl #16\n\t"                                                                            \
    "pkhtb %[v3], %[v3], %[v2], asr #16\n\t"                                                                           \
    "sxtb16 %[v2], %[t]\n\t"                                                                                           \
    "sxtb16 %[t], %[t], ror #8\n\t"                                                                                    \
    "str %[v2], [%[d0]], #" step "\n\t"                                                                                \
    "str %[t], [%[d1]], #" step "\n\t"                                                                                 \
    "sxtb16 %[v2], %[v3]\n\t"                                                                                          \
    "sxtb16 %[v3], %[v3], ror #8\n\t"                                                                                  \
    "str %[v2], [%[d2]], #" step "\n\t"                                                                                \
    "str %[v3], [%[d3]], #" step "\n\t"                                                                                \
    "subs %[n], %[n], #1\n\t"                                                                                          \
    "bne 1b\n\t"

/* Input row iy of the group's channels (row_g: the group's first channel of image row 0) into the four
 * planes (e->plane words apart) from d on, column pair k at d + k * cstep (3: a slot of the rolling rows, 1:
 * a row of the six-output chunks); cstep is a constant after inlining. */
MTK_INLINE void expand_row_planar(const dwp_rows *e, const int8_t *row_g, int iy, mtk_word *d, const int cstep)
{
    const int plane = e->plane, in_c = e->in_c;
    const int32_t zp4 = e->zp4;
    if ((unsigned)iy >= (unsigned)e->in_h) {
        const int32_t zz = __sxtb16(zp4);
        for (int k = e->words; k > 0; --k, d += cstep) {
            d[0] = d[plane] = d[2 * plane] = d[3 * plane] = zz;
        }
        return;
    }
    const int8_t *row = row_g + mtk_ring_row(e->ring, e->ring_first, iy) * e->row_bytes;
    if (e->k_lo > 0) {
        planar_store(d, plane, zp4, mtk_read_s8x4(row));
    }
    if (e->tail >= 0) {
        planar_store(d + cstep * (e->zz - 1), plane, mtk_read_s8x4(row + e->tail), zp4);
    }
    if (e->zz < e->words) {
        const int32_t zz = __sxtb16(zp4);
        for (mtk_word *z = d + cstep * e->zz, *end = d + cstep * e->words; z < end; z += cstep) {
            z[0] = z[plane] = z[2 * plane] = z[3 * plane] = zz;
        }
    }
    if (e->inner > 0) {
        /* an odd count of inner pairs starts with one */
        const int8_t *src = row + e->src0;
        mtk_word *d0 = d + cstep * e->k_lo, *d1 = d0 + plane, *d2 = d1 + plane, *d3 = d2 + plane;
        int32_t n = e->inner, v0, v1, v2, v3, t;
        if (n & 1) {
            planar_store(d0, plane, mtk_read_s8x4(src), mtk_read_s8x4(src + in_c));
            src += 2 * in_c;
            d0 += cstep;
            d1 += cstep;
            d2 += cstep;
            d3 += cstep;
        }
        n >>= 1;
        if (n > 0) {
            const int32_t c3 = 3 * in_c;
            /* clang-format off */
            if (cstep == DWP_SLOTS) {
                __asm__ volatile(DWP_EXPAND_LOOP("12")
                        : [src] "+r"(src), [d0] "+r"(d0), [d1] "+r"(d1), [d2] "+r"(d2), [d3] "+r"(d3), [n] "+r"(n),
                          [v0] "=&r"(v0), [v1] "=&r"(v1), [v2] "=&r"(v2), [v3] "=&r"(v3), [t] "=&r"(t)
                        : [c] "r"(in_c), [c3] "r"(c3)
                        : "cc", "memory");
            } else {
                __asm__ volatile(DWP_EXPAND_LOOP("4")
                        : [src] "+r"(src), [d0] "+r"(d0), [d1] "+r"(d1), [d2] "+r"(d2), [d3] "+r"(d3), [n] "+r"(n),
                          [v0] "=&r"(v0), [v1] "=&r"(v1), [v2] "=&r"(v2), [v3] "=&r"(v3), [t] "=&r"(t)
                        : [c] "r"(in_c), [c3] "r"(c3)
                        : "cc", "memory");
            }
            /* clang-format on */
        }
    }
}

/* clang-format off */
/* Column words v0 (even) and v1 (odd) as the pair words of channels 0..3, stored through d0..d3 (post-
 * incremented a word): PKHBT/PKHTB pair the columns' halves, SXTB16 sign-extends. */
#define DWP_PAIR_STORE                                                                                                 \
    "pkhbt %[t], %[v0], %[v1], lsl #16\n\t"                                                                            \
    "pkhtb %[v1], %[v1], %[v0], asr #16\n\t"                                                                           \
    "sxtb16 %[v0], %[t]\n\t"                                                                                           \
    "sxtb16 %[t], %[t], ror #8\n\t"                                                                                    \
    "str %[v0], [%[d0]], #4\n\t"                                                                                       \
    "str %[t], [%[d1]], #4\n\t"                                                                                        \
    "sxtb16 %[v0], %[v1]\n\t"                                                                                          \
    "sxtb16 %[v1], %[v1], ror #8\n\t"                                                                                  \
    "str %[v0], [%[d2]], #4\n\t"                                                                                       \
    "str %[v1], [%[d3]], #4\n\t"
/* clang-format on */

/* Input rows y0 + r, r in [r_begin, r_end), of the group's channels into the chunk's planes (row r at
 * planes + r * words). The rows inside the image in one block, each row's pairs in order: the pair of padding
 * and column 0, the inner pairs, the last column's pair, the padding pairs (the plan's k_lo, inner, tail,
 * zz); a row reads in_w columns and writes `words` pairs a plane, so the source and plane pointers run on
 * from row to row. expand_row_planar takes ~135 est. M4 cycles a 6-wide row (the plan re-read after its
 * blocks' memory clobbers, branches around the border pairs); this ~80. Not inlined: one copy for the four
 * variants. The rows outside the image (`borders`) are the same for every group of a single-chunk layer: its
 * first group writes them, the others keep them. */
__attribute__((noinline)) static void expand_chunk(const dwp_rows *e, const int8_t *row_g, int y0, int r_begin,
                                                   int r_end, int borders, mtk_word *planes)
{
    const int words = e->words, plane = e->plane;
    /* rows [inside, outside) are in the image */
    const int inside = -y0 < r_begin ? r_begin : -y0 > r_end ? r_end : -y0;
    const int outside = e->in_h - y0 < inside ? inside : e->in_h - y0 > r_end ? r_end : e->in_h - y0;
    for (int r = borders ? r_begin : inside; r < inside; ++r) {
        expand_row_planar(e, row_g, y0 + r, planes + r * words, 1);
    }
    /* the asm's source runs on from row to row: a ring window (mtk_ring_row) is taken in runs up to its end */
    for (int r = inside, b, run; r < outside; r += run) {
        b = mtk_ring_row(e->ring, e->ring_first, y0 + r);
        run = e->ring > 0 && b + outside - r > e->ring ? e->ring - b : outside - r;
        const int8_t *src = row_g + b * e->row_bytes;
        mtk_word *d0 = planes + r * words, *d1 = d0 + plane, *d2 = d1 + plane, *d3 = d2 + plane;
        int32_t rows = run, n, v0, v1, t;
        /* clang-format off */
        __asm__ volatile(
            "0:\n\t"
            "ldr %[t], [%[e], %[o_klo]]\n\t"
            "cmp %[t], #0\n\t"
            "beq 1f\n\t"
            "ldr %[v1], [%[src]]\n\t"
            "mov %[v0], %[zp]\n\t"
            "add %[src], %[src], %[c]\n\t"
            DWP_PAIR_STORE
            "1:\n\t"
            "ldr %[n], [%[e], %[o_inner]]\n\t"
            "cmp %[n], #0\n\t"
            "ble 3f\n\t"
            "2:\n\t"
            "ldr %[v0], [%[src]]\n\t"
            "ldr %[v1], [%[src], %[c]]\n\t"
            "add %[src], %[src], %[c], lsl #1\n\t"
            DWP_PAIR_STORE
            "subs %[n], %[n], #1\n\t"
            "bne 2b\n\t"
            "3:\n\t"
            "ldr %[t], [%[e], %[o_tail]]\n\t"
            "cmp %[t], #0\n\t"
            "blt 4f\n\t"
            "ldr %[v0], [%[src]]\n\t"
            "mov %[v1], %[zp]\n\t"
            "add %[src], %[src], %[c]\n\t"
            DWP_PAIR_STORE
            "4:\n\t"
            "ldr %[n], [%[e], %[o_words]]\n\t"
            "ldr %[t], [%[e], %[o_zz]]\n\t"
            "subs %[n], %[n], %[t]\n\t"
            "ble 6f\n\t"
            "sxtb16 %[t], %[zp]\n\t"
            "5:\n\t"
            "str %[t], [%[d0]], #4\n\t"
            "str %[t], [%[d1]], #4\n\t"
            "str %[t], [%[d2]], #4\n\t"
            "str %[t], [%[d3]], #4\n\t"
            "subs %[n], %[n], #1\n\t"
            "bne 5b\n\t"
            "6:\n\t"
            "subs %[rows], %[rows], #1\n\t"
            "bne 0b\n\t"
            : [src] "+r"(src), [d0] "+r"(d0), [d1] "+r"(d1), [d2] "+r"(d2), [d3] "+r"(d3), [rows] "+r"(rows),
              [n] "=&r"(n), [v0] "=&r"(v0), [v1] "=&r"(v1), [t] "=&r"(t)
            : [e] "r"(e), [c] "r"(e->in_c), [zp] "r"(e->zp4), [o_klo] "i"(offsetof(dwp_rows, k_lo)),
              [o_inner] "i"(offsetof(dwp_rows, inner)), [o_tail] "i"(offsetof(dwp_rows, tail)),
              [o_words] "i"(offsetof(dwp_rows, words)), [o_zz] "i"(offsetof(dwp_rows, zz))
            : "cc", "memory");
        /* clang-format on */
    }
    for (int r = outside; borders && r < r_end; ++r) {
        expand_row_planar(e, row_g, y0 + r, planes + r * words, 1);
    }
}

/* What the row loop of one channel reads, for one assignment of window rows to slots: the pair weights
 * (taps 0 and 1 of a window row, low and high halfword) of slots 0..2, the third taps of slots 0 (bottom)
 * and 1 (top) in s01 and of slot 2 in s2, all doubled, and the bias doubled, so that the accumulators hold
 * 2 * acc, which the folded stage's SMMLAR takes (|acc| < 2^30, see mtk_fixedpoint.h); the stage's
 * parameters; where the channel's plane starts and its four-output passes end; which tails (bit 1: two
 * outputs, bit 0: one) the row has; how far back the output pointer goes from the row's end to the next
 * channel; and whether this is the group's last channel. Rows of 3 outputs read end4 as the chunk's end, x0
 * as its first row and `tails` as the bytes between its rows' planes. The byte offsets are the loops'. */
typedef struct {
    uint32_t p0, p1, p2, s01, s2;
} dwp_weights;
typedef struct {
    dwp_weights w;               /* p0, p1, p2, s01, s2 at 0, 4, 8, 12, 16 */
    int32_t bias2, m, n, r;      /* 20, 24, 28, 32 */
    int32_t act_min, out_c;      /* 36, 40 */
    const mtk_word *end4, *x0;   /* 44, 48 */
    int32_t tails, rewind, last; /* 52, 56, 60 */
} dwp_channel;
_Static_assert(sizeof(dwp_channel) == 64, "the row loop steps 64 bytes a channel");

/* clang-format off */
/* Four neighbouring windows at stride 1, words o0..o2 (column pairs k..k+2) of a slot in A, B and D: even
 * outputs SMLAD of their own pair with weights P, odd ones SMLADX of the pair PKHBT makes across two words;
 * the third taps by SMLAxy with half h (b or t) of S; accumulating onto register `acc` (the bias in the first
 * slot, the accumulators after it). */
#define DWP4_S1_MAC(D, P, S, h, acc0, acc1, acc2, acc3)                                                                \
    "smlad %[a0], %[A], %[" P "], %[" acc0 "]\n\t"                                                                     \
    "pkhbt %[A], %[B], %[A]\n\t"                                                                                       \
    "smladx %[a1], %[A], %[" P "], %[" acc1 "]\n\t"                                                                    \
    "smlab" h " %[a0], %[B], %[" S "], %[a0]\n\t"                                                                      \
    "smlat" h " %[a1], %[B], %[" S "], %[a1]\n\t"                                                                      \
    "smlad %[a2], %[B], %[" P "], %[" acc2 "]\n\t"                                                                     \
    "smlab" h " %[a2], %[" D "], %[" S "], %[a2]\n\t"                                                                  \
    "pkhbt %[B], %[" D "], %[B]\n\t"                                                                                   \
    "smladx %[a3], %[B], %[" P "], %[" acc3 "]\n\t"                                                                    \
    "smlat" h " %[a3], %[" D "], %[" S "], %[a3]\n\t"
#define DWP_LD(r, o) "ldr %[" r "], [%[x], #" o "]\n\t"
#define DWP_REC(r, o) "ldr %[" r "], [%[ch], #" o "]\n\t"
/* Slot 0 with the bias (in T1), slot 1, and slot 2 with its weights loaded into T1, T2: each slot's loads
 * in one run (a load after a load takes one cycle). */
#define DWP4_PASS_S1                                                                                                   \
    DWP_REC("T1", "20") DWP_LD("A", "0") DWP_LD("B", "12") DWP_LD("T2", "24")                                           \
    DWP4_S1_MAC("T2", "P0", "S01", "b", "T1", "T1", "T1", "T1")                                                        \
    DWP_LD("A", "4") DWP_LD("B", "16") DWP_LD("T2", "28")                                                               \
    DWP4_S1_MAC("T2", "P1", "S01", "t", "a0", "a1", "a2", "a3")                                                        \
    DWP_REC("T1", "8") DWP_REC("T2", "16") DWP_LD("A", "8") DWP_LD("B", "20")                                           \
    "smlad %[a0], %[A], %[T1], %[a0]\n\t"                                                                              \
    "pkhbt %[A], %[B], %[A]\n\t"                                                                                       \
    "smladx %[a1], %[A], %[T1], %[a1]\n\t"                                                                             \
    "smlabb %[a0], %[B], %[T2], %[a0]\n\t"                                                                             \
    "smlatb %[a1], %[B], %[T2], %[a1]\n\t"                                                                             \
    "smlad %[a2], %[B], %[T1], %[a2]\n\t"                                                                              \
    DWP_LD("A", "32")                                                                                                  \
    "smlabb %[a2], %[A], %[T2], %[a2]\n\t"                                                                             \
    "pkhbt %[B], %[A], %[B]\n\t"                                                                                       \
    "smladx %[a3], %[B], %[T1], %[a3]\n\t"                                                                             \
    "smlatb %[a3], %[A], %[T2], %[a3]\n\t"
/* The same at stride 2, words o0..o4 of a slot: every window's pair is a word. */
#define DWP4_PASS_S2                                                                                                   \
    DWP_REC("T1", "20") DWP_LD("A", "0") DWP_LD("B", "12") DWP_LD("T2", "24")                                           \
    "smlad %[a0], %[A], %[P0], %[T1]\n\t"                                                                              \
    "smlabb %[a0], %[B], %[S01], %[a0]\n\t"                                                                            \
    "smlad %[a1], %[B], %[P0], %[T1]\n\t"                                                                              \
    "smlabb %[a1], %[T2], %[S01], %[a1]\n\t"                                                                           \
    "smlad %[a2], %[T2], %[P0], %[T1]\n\t"                                                                             \
    DWP_LD("A", "36") DWP_LD("B", "48")                                                                                \
    "smlabb %[a2], %[A], %[S01], %[a2]\n\t"                                                                            \
    "smlad %[a3], %[A], %[P0], %[T1]\n\t"                                                                              \
    "smlabb %[a3], %[B], %[S01], %[a3]\n\t"                                                                            \
    DWP_LD("A", "4") DWP_LD("B", "16") DWP_LD("T1", "28") DWP_LD("T2", "40")                                           \
    "smlad %[a0], %[A], %[P1], %[a0]\n\t"                                                                              \
    "smlabt %[a0], %[B], %[S01], %[a0]\n\t"                                                                            \
    "smlad %[a1], %[B], %[P1], %[a1]\n\t"                                                                              \
    "smlabt %[a1], %[T1], %[S01], %[a1]\n\t"                                                                           \
    "smlad %[a2], %[T1], %[P1], %[a2]\n\t"                                                                             \
    "smlabt %[a2], %[T2], %[S01], %[a2]\n\t"                                                                           \
    "smlad %[a3], %[T2], %[P1], %[a3]\n\t"                                                                             \
    DWP_LD("A", "52")                                                                                                  \
    "smlabt %[a3], %[A], %[S01], %[a3]\n\t"                                                                            \
    DWP_REC("T1", "8") DWP_REC("T2", "16") DWP_LD("A", "8") DWP_LD("B", "20")                                           \
    "smlad %[a0], %[A], %[T1], %[a0]\n\t"                                                                              \
    "smlabb %[a0], %[B], %[T2], %[a0]\n\t"                                                                             \
    "smlad %[a1], %[B], %[T1], %[a1]\n\t"                                                                              \
    DWP_LD("A", "32")                                                                                                  \
    "smlabb %[a1], %[A], %[T2], %[a1]\n\t"                                                                             \
    "smlad %[a2], %[A], %[T1], %[a2]\n\t"                                                                              \
    DWP_LD("B", "44")                                                                                                  \
    "smlabb %[a2], %[B], %[T2], %[a2]\n\t"                                                                             \
    "smlad %[a3], %[B], %[T1], %[a3]\n\t"                                                                              \
    DWP_LD("A", "56")                                                                                                  \
    "smlabb %[a3], %[A], %[T2], %[a3]\n\t"
/* Two windows (the tail of a row of outputs). */
#define DWP2_S1(o0, o1, P, S, h)                                                                                       \
    "ldr %[A], [%[x], #" o0 "]\n\t"                                                                                    \
    "ldr %[B], [%[x], #" o1 "]\n\t"                                                                                    \
    "smlad %[a0], %[A], %[" P "], %[a0]\n\t"                                                                           \
    "pkhbt %[A], %[B], %[A]\n\t"                                                                                       \
    "smladx %[a1], %[A], %[" P "], %[a1]\n\t"                                                                          \
    "smlab" h " %[a0], %[B], %[" S "], %[a0]\n\t"                                                                      \
    "smlat" h " %[a1], %[B], %[" S "], %[a1]\n\t"
#define DWP2_S2(o0, o1, o2, P, S, h)                                                                                   \
    "ldr %[A], [%[x], #" o0 "]\n\t"                                                                                    \
    "ldr %[B], [%[x], #" o1 "]\n\t"                                                                                    \
    "smlad %[a0], %[A], %[" P "], %[a0]\n\t"                                                                           \
    "smlab" h " %[a0], %[B], %[" S "], %[a0]\n\t"                                                                      \
    "smlad %[a1], %[B], %[" P "], %[a1]\n\t"                                                                           \
    "ldr %[A], [%[x], #" o2 "]\n\t"                                                                                    \
    "smlab" h " %[a1], %[A], %[" S "], %[a1]\n\t"
/* The weights of slot 2 (their registers hold the output stage's parameters afterwards). */
#define DWP_SLOT2_WEIGHTS                                                                                              \
    "ldr %[T1], [%[ch], #8]\n\t"                                                                                       \
    "ldr %[T2], [%[ch], #16]\n\t"
/* Folded stage of the doubled accumulator a: SMMLAR(2 acc, m, n) + sign(acc), >> r, saturated to int8
 * (m in A, n in B, r in T1). */
#define DWP_OUT_ONE(a)                                                                                                 \
    "smmlar %[T2], %[" a "], %[A], %[B]\n\t"                                                                           \
    "add %[" a "], %[T2], %[" a "], asr #31\n\t"                                                                       \
    "asr %[" a "], %[" a "], %[T1]\n\t"                                                                                \
    "ssat %[" a "], #8, %[" a "]\n\t"
#define DWP_OUT_PARAMS                                                                                                 \
    "ldr %[A], [%[ch], #24]\n\t"                                                                                       \
    "ldr %[B], [%[ch], #28]\n\t"                                                                                       \
    "ldr %[T1], [%[ch], #32]\n\t"
#define DWP_MIN_ONE(a)                                                                                                 \
    "cmp %[" a "], %[A]\n\t"                                                                                           \
    "it lt\n\t"                                                                                                        \
    "movlt %[" a "], %[A]\n\t"
#define DWP_LO "ldr %[A], [%[ch], #36]\n\t"
/* Two outputs of the channel stored out_c bytes apart, out advanced past them. */
#define DWP_STORE2(a, b)                                                                                               \
    "strb %[" a "], [%[out]]\n\t"                                                                                      \
    "strb %[" b "], [%[out], %[A]]\n\t"                                                                                \
    "add %[out], %[out], %[A], lsl #1\n\t"
#define DWP_OC "ldr %[A], [%[ch], #40]\n\t"
#define DWP_BIAS(a) "ldr %[" a "], [%[ch], #20]\n\t"

#define DWP4_OUT DWP_OUT_PARAMS DWP_OUT_ONE("a0") DWP_OUT_ONE("a1") DWP_OUT_ONE("a2") DWP_OUT_ONE("a3")
#define DWP4_MIN DWP_LO DWP_MIN_ONE("a0") DWP_MIN_ONE("a1") DWP_MIN_ONE("a2") DWP_MIN_ONE("a3")
/* The four outputs stored out_c bytes apart, out advanced past them; the loop's end read with out_c. */
#define DWP4_STORE_LOOP(step, loop)                                                                                          \
    DWP_REC("A", "40") DWP_REC("T1", "44")                                                                             \
    "add %[B], %[out], %[A], lsl #1\n\t"                                                                               \
    "strb %[a0], [%[out]]\n\t"                                                                                         \
    "strb %[a1], [%[out], %[A]]\n\t"                                                                                   \
    "strb %[a2], [%[B]]\n\t"                                                                                           \
    "strb %[a3], [%[B], %[A]]\n\t"                                                                                     \
    "add %[out], %[B], %[A], lsl #1\n\t"                                                                               \
    "add %[x], %[x], #" step "\n\t"                                                                                    \
    "cmp %[x], %[T1]\n\t"                                                                                              \
    "bne " loop "\n\t"
#define DWP2_PASS_S1                                                                                                   \
    DWP_BIAS("a0") DWP_BIAS("a1")                                                                                      \
    DWP2_S1("0", "12", "P0", "S01", "b") DWP2_S1("4", "16", "P1", "S01", "t")                                          \
    DWP_SLOT2_WEIGHTS DWP2_S1("8", "20", "T1", "T2", "b")
#define DWP2_PASS_S2                                                                                                   \
    DWP_BIAS("a0") DWP_BIAS("a1")                                                                                      \
    DWP2_S2("0", "12", "24", "P0", "S01", "b") DWP2_S2("4", "16", "28", "P1", "S01", "t")                              \
    DWP_SLOT2_WEIGHTS DWP2_S2("8", "20", "32", "T1", "T2", "b")
#define DWP2_OUT DWP_OUT_PARAMS DWP_OUT_ONE("a0") DWP_OUT_ONE("a1")
#define DWP2_MIN DWP_LO DWP_MIN_ONE("a0") DWP_MIN_ONE("a1")
#define DWP1_MIN DWP_LO DWP_MIN_ONE("a0")
#define DWP2_STORE DWP_OC DWP_STORE2("a0", "a1")
#define DWP1_S(P, S, h, o0, o1) DWP_LD("A", o0) DWP_LD("B", o1) "smlad %[a0], %[A], %[" P "], %[a0]\n\t"       \
    "smlab" h " %[a0], %[B], %[" S "], %[a0]\n\t"
/* One window: its pair and the next pair's low half, per slot. */
#define DWP1_PASS                                                                                                      \
    DWP_BIAS("a0") DWP1_S("P0", "S01", "b", "0", "12") DWP1_S("P1", "S01", "t", "4", "16")                             \
    DWP_SLOT2_WEIGHTS DWP1_S("T1", "T2", "b", "8", "20") DWP_OUT_PARAMS DWP_OUT_ONE("a0")
#define DWP_WEIGHTS DWP_REC("P0", "0") DWP_REC("P1", "4") DWP_REC("S01", "12") DWP_REC("x", "48")
/* A group's output row: per channel (records ch[0..3]) passes of four outputs to end4, then the tails of two
 * and one, then back to the next channel's first output; every register holds a value, pointer or weight,
 * so all the rest is read from the record. */
#define DWP_ROW(PASS4, STEP4, PASS2, STEP2, MIN4, MIN2, MIN1)                                                          \
    "1:\n\t" DWP_WEIGHTS DWP_REC("A", "44")                                                                            \
    "cmp %[x], %[A]\n\t"                                                                                               \
    "beq 3f\n\t"                                                                                                       \
    ".p2align 2\n" /* the pass loop's first instruction (32-bit) not across a word: a cycle a pass */           \
    "2:\n\t" PASS4 DWP4_OUT MIN4 DWP4_STORE_LOOP(STEP4, "2b")                                                          \
    "3:\n\t" DWP_REC("A", "52")                                                                                        \
    "cmp %[A], #0\n\t" /* no tails (V1's and V2's rows): one test, not two */                                         \
    "beq 5f\n\t"                                                                                                       \
    "tst %[A], #2\n\t"                                                                                                 \
    "beq 4f\n\t" PASS2 DWP2_OUT MIN2 DWP2_STORE                                                                        \
    "add %[x], %[x], #" STEP2 "\n\t"                                                                                   \
    "4:\n\t" DWP_REC("A", "52")                                                                                        \
    "tst %[A], #1\n\t"                                                                                                 \
    "beq 5f\n\t" DWP1_PASS MIN1                                                                                        \
    "strb %[a0], [%[out]]\n\t"                                                                                         \
    "5:\n\t" DWP_REC("A", "56") DWP_REC("B", "60")                                                                     \
    "sub %[out], %[out], %[A]\n\t"                                                                                     \
    "add %[ch], %[ch], #64\n\t"                                                                                        \
    "cmp %[B], #0\n\t"                                                                                                 \
    "beq 1b\n\t"
#define DWP_OPERANDS                                                                                                   \
    : [ch] "+r"(ch), [out] "+r"(out), [x] "=&r"(x), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3),  \
      [A] "=&r"(A), [B] "=&r"(B), [T1] "=&r"(T1), [T2] "=&r"(T2), [P0] "=&r"(P0), [P1] "=&r"(P1), [S01] "=&r"(S01)   \
    :                                                                                                                  \
    : "cc", "memory"
/* clang-format on */

/* clang-format off */
/* Rows of exactly 6 outputs (V1's and V2's 6x6 layers, their 12->6 stride-2 ones): one pass of six windows
 * per channel instead of four and a tail of two, so a channel's weights and bias are read once and its
 * outputs go through one output stage. Six accumulators leave two registers for a slot's weights (P, S:
 * they are reloaded per window row) and three for the columns. Such rows are expanded row after row (the
 * six-output chunks below, DWP6_PITCH words a row), so window row ky's words are at 4 * DWP6_PITCH * ky bytes.
 * Stride 1, words at o0..o3 of a window row: even windows SMLAD of their pair, odd ones SMLADX of the pair
 * PKHBT makes across two words, the third taps by SMLAxy with half h of S.
 * F(i): what window i's first SMLAD of the slot adds to, its accumulator, or in a pass's first slot the bias
 * in a5 (a5's own first SMLAD comes last), so that no bias is copied. */
#define DWP6_SELF(i) "a" #i
#define DWP6_FROM_BIAS(i) "a5"
#define DWP6_S1_SLOT(o0, o1, o2, o3, h, F)                                                                             \
    DWP_LD("A", o0) DWP_LD("B", o1) DWP_LD("D", o2)                                                                    \
    "smlad %[a0], %[A], %[P], %[" F(0) "]\n\t"                                                                         \
    "pkhbt %[A], %[B], %[A]\n\t"                                                                                       \
    "smladx %[a1], %[A], %[P], %[" F(1) "]\n\t"                                                                        \
    "smlab" h " %[a0], %[B], %[S], %[a0]\n\t"                                                                          \
    "smlat" h " %[a1], %[B], %[S], %[a1]\n\t"                                                                          \
    "smlad %[a2], %[B], %[P], %[" F(2) "]\n\t"                                                                         \
    "smlab" h " %[a2], %[D], %[S], %[a2]\n\t"                                                                          \
    "pkhbt %[B], %[D], %[B]\n\t"                                                                                       \
    "smladx %[a3], %[B], %[P], %[" F(3) "]\n\t"                                                                        \
    "smlat" h " %[a3], %[D], %[S], %[a3]\n\t"                                                                          \
    DWP_LD("A", o3)                                                                                                    \
    "smlad %[a4], %[D], %[P], %[" F(4) "]\n\t"                                                                         \
    "smlab" h " %[a4], %[A], %[S], %[a4]\n\t"                                                                          \
    "pkhbt %[D], %[A], %[D]\n\t"                                                                                       \
    "smladx %[a5], %[D], %[P], %[" F(5) "]\n\t"                                                                        \
    "smlat" h " %[a5], %[A], %[S], %[a5]\n\t"
/* Stride 2, words o0..o6: every window's pair is a word, its third tap the next word's low half. */
#define DWP6_S2_SLOT(o0, o1, o2, o3, o4, o5, o6, h, F)                                                                 \
    DWP_LD("A", o0) DWP_LD("B", o1) DWP_LD("D", o2)                                                                    \
    "smlad %[a0], %[A], %[P], %[" F(0) "]\n\t"                                                                         \
    "smlab" h " %[a0], %[B], %[S], %[a0]\n\t"                                                                          \
    "smlad %[a1], %[B], %[P], %[" F(1) "]\n\t"                                                                         \
    "smlab" h " %[a1], %[D], %[S], %[a1]\n\t"                                                                          \
    DWP_LD("A", o3) DWP_LD("B", o4)                                                                                    \
    "smlad %[a2], %[D], %[P], %[" F(2) "]\n\t"                                                                         \
    "smlab" h " %[a2], %[A], %[S], %[a2]\n\t"                                                                          \
    "smlad %[a3], %[A], %[P], %[" F(3) "]\n\t"                                                                         \
    "smlab" h " %[a3], %[B], %[S], %[a3]\n\t"                                                                          \
    DWP_LD("D", o5) DWP_LD("A", o6)                                                                                    \
    "smlad %[a4], %[B], %[P], %[" F(4) "]\n\t"                                                                         \
    "smlab" h " %[a4], %[D], %[S], %[a4]\n\t"                                                                          \
    "smlad %[a5], %[D], %[P], %[" F(5) "]\n\t"                                                                         \
    "smlab" h " %[a5], %[A], %[S], %[a5]\n\t"
/* Stride 1, the three window rows' words at w0.., w1.., w2.. (rows of 6: 4 words a row, of 12: 7) */
#define DWP6_PASS_S1_AT(w00, w01, w02, w03, w10, w11, w12, w13, w20, w21, w22, w23)                                  \
    DWP_REC("P", "0") DWP_REC("S", "12")                                                                               \
    DWP6_S1_SLOT(w00, w01, w02, w03, "b", DWP6_FROM_BIAS) DWP_REC("P", "4")                                            \
    DWP6_S1_SLOT(w10, w11, w12, w13, "t", DWP6_SELF) DWP_REC("P", "8") DWP_REC("S", "16")                              \
    DWP6_S1_SLOT(w20, w21, w22, w23, "b", DWP6_SELF)
#define DWP6_PASS_S1 DWP6_PASS_S1_AT("0", "4", "8", "12", "16", "20", "24", "28", "32", "36", "40", "44")
#define DWP6_PASS_S1_12 DWP6_PASS_S1_AT("0", "4", "8", "12", "28", "32", "36", "40", "56", "60", "64", "68")
#define DWP6_PASS_S2                                                                                                   \
    DWP_REC("P", "0") DWP_REC("S", "12")                                                                               \
    DWP6_S2_SLOT("0", "4", "8", "12", "16", "20", "24", "b", DWP6_FROM_BIAS) DWP_REC("P", "4")                         \
    DWP6_S2_SLOT("28", "32", "36", "40", "44", "48", "52", "t", DWP6_SELF) DWP_REC("P", "8") DWP_REC("S", "16")        \
    DWP6_S2_SLOT("56", "60", "64", "68", "72", "76", "80", "b", DWP6_SELF)
/* The folded stage (m in A, n in B, r in P, S the scratch register) and the lower clamp (in A). */
#define DWP6_OUT_ONE(a)                                                                                                \
    "smmlar %[S], %[" a "], %[A], %[B]\n\t"                                                                            \
    "add %[" a "], %[S], %[" a "], asr #31\n\t"                                                                        \
    "asr %[" a "], %[" a "], %[P]\n\t"                                                                                 \
    "ssat %[" a "], #8, %[" a "]\n\t"
#define DWP6_OUT                                                                                                       \
    DWP_REC("A", "24") DWP_REC("B", "28") DWP_REC("P", "32")                                                           \
    DWP6_OUT_ONE("a0") DWP6_OUT_ONE("a1") DWP6_OUT_ONE("a2") DWP6_OUT_ONE("a3") DWP6_OUT_ONE("a4") DWP6_OUT_ONE("a5")
#define DWP6_MIN                                                                                                       \
    DWP_LO DWP_MIN_ONE("a0") DWP_MIN_ONE("a1") DWP_MIN_ONE("a2") DWP_MIN_ONE("a3") DWP_MIN_ONE("a4")                   \
    DWP_MIN_ONE("a5")
/* Per channel: its plane and bias, the six windows, the stage, six stores out_c bytes apart from two bases
 * (out stays at the channel's first output, so the next channel's is one byte on). */
#define DWP6_ROW(PASS, MIN)                                                                                            \
    "1:\n\t" DWP_REC("x", "48") DWP_BIAS("a5") PASS DWP6_OUT MIN DWP_OC                                                \
    "strb %[a0], [%[out]]\n\t"                                                                                         \
    "strb %[a1], [%[out], %[A]]\n\t"                                                                                   \
    "add %[B], %[out], %[A], lsl #1\n\t"                                                                               \
    "strb %[a2], [%[B]]\n\t"                                                                                           \
    "strb %[a3], [%[B], %[A]]\n\t"                                                                                     \
    "add %[B], %[B], %[A], lsl #1\n\t"                                                                                 \
    "strb %[a4], [%[B]]\n\t"                                                                                           \
    "strb %[a5], [%[B], %[A]]\n\t"                                                                                     \
    "add %[out], %[out], #1\n\t" DWP_REC("B", "60")                                                                    \
    "add %[ch], %[ch], #64\n\t"                                                                                        \
    "cmp %[B], #0\n\t"                                                                                                 \
    "beq 1b\n\t"
#define DWP6_OPERANDS                                                                                                  \
    : [ch] "+r"(ch), [out] "+r"(out), [x] "=&r"(x), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3),  \
      [a4] "=&r"(a4), [a5] "=&r"(a5), [A] "=&r"(A), [B] "=&r"(B), [D] "=&r"(D), [P] "=&r"(P), [S] "=&r"(S)           \
    :                                                                                                                  \
    : "cc", "memory"
/* clang-format on */

/* clang-format off */
/* Rows of exactly 3 outputs (3x3 maps, V1's and V2's last layers): per channel every row of a chunk in one
 * loop, three windows a row, the weights of slots 0 and 1 in registers across the rows (slot 2's reloaded per
 * row, their registers then serving the output stage), so that a channel's set-up is paid once a chunk, not
 * once a row. Window row ky's words are at 4 * words * ky bytes (words: 3 at stride 1, 4 at stride 2); F as
 * for the six-output slots, the bias in a2. Stride 1, words o0..o2: */
#define DWP3_FROM_BIAS(i) "a2"
#define DWP3_S1_SLOT(o0, o1, o2, P, S, h, F)                                                                           \
    DWP_LD("A", o0) DWP_LD("B", o1) DWP_LD("D", o2)                                                                    \
    "smlad %[a0], %[A], %[" P "], %[" F(0) "]\n\t"                                                                     \
    "pkhbt %[A], %[B], %[A]\n\t"                                                                                       \
    "smladx %[a1], %[A], %[" P "], %[" F(1) "]\n\t"                                                                    \
    "smlab" h " %[a0], %[B], %[" S "], %[a0]\n\t"                                                                      \
    "smlat" h " %[a1], %[B], %[" S "], %[a1]\n\t"                                                                      \
    "smlad %[a2], %[B], %[" P "], %[" F(2) "]\n\t"                                                                     \
    "smlab" h " %[a2], %[D], %[" S "], %[a2]\n\t"
/* Stride 2, words o0..o3: every window's pair is a word, its third tap the next word's low half. */
#define DWP3_S2_SLOT(o0, o1, o2, o3, P, S, h, F)                                                                       \
    DWP_LD("A", o0) DWP_LD("B", o1) DWP_LD("D", o2)                                                                    \
    "smlad %[a0], %[A], %[" P "], %[" F(0) "]\n\t"                                                                     \
    "smlab" h " %[a0], %[B], %[" S "], %[a0]\n\t"                                                                      \
    "smlad %[a1], %[B], %[" P "], %[" F(1) "]\n\t"                                                                     \
    "smlab" h " %[a1], %[D], %[" S "], %[a1]\n\t"                                                                      \
    DWP_LD("A", o3)                                                                                                    \
    "smlad %[a2], %[D], %[" P "], %[" F(2) "]\n\t"                                                                     \
    "smlab" h " %[a2], %[A], %[" S "], %[a2]\n\t"
#define DWP3_PASS_S1                                                                                                   \
    DWP_BIAS("a2") DWP3_S1_SLOT("0", "4", "8", "P0", "S01", "b", DWP3_FROM_BIAS)                                       \
    DWP3_S1_SLOT("12", "16", "20", "P1", "S01", "t", DWP6_SELF)                                                        \
    DWP_SLOT2_WEIGHTS DWP3_S1_SLOT("24", "28", "32", "T1", "T2", "b", DWP6_SELF)
#define DWP3_PASS_S2                                                                                                   \
    DWP_BIAS("a2") DWP3_S2_SLOT("0", "4", "8", "12", "P0", "S01", "b", DWP3_FROM_BIAS)                                 \
    DWP3_S2_SLOT("16", "20", "24", "28", "P1", "S01", "t", DWP6_SELF)                                                  \
    DWP_SLOT2_WEIGHTS DWP3_S2_SLOT("32", "36", "40", "44", "T1", "T2", "b", DWP6_SELF)
/* Per channel: slot 0 and 1's weights and its first row's plane, then per row the three windows, the stage,
 * three stores out_c bytes apart (out then at the next row), the next row's plane (the record's `tails`: bytes
 * between rows) until the chunk's end (end4); then back to the next channel's first output (rewind). */
#define DWP3_ROWS(PASS, MIN)                                                                                           \
    "1:\n\t" DWP_REC("P0", "0") DWP_REC("P1", "4") DWP_REC("S01", "12") DWP_REC("x", "48")                           \
    "2:\n\t" PASS DWP_OUT_PARAMS DWP_OUT_ONE("a0") DWP_OUT_ONE("a1") DWP_OUT_ONE("a2") MIN DWP_OC                      \
    "strb %[a0], [%[out]]\n\t"                                                                                         \
    "strb %[a1], [%[out], %[A]]\n\t"                                                                                   \
    "add %[B], %[out], %[A], lsl #1\n\t"                                                                               \
    "strb %[a2], [%[B]]\n\t"                                                                                           \
    "add %[out], %[B], %[A]\n\t" DWP_REC("A", "52") DWP_REC("B", "44")                                                 \
    "add %[x], %[x], %[A]\n\t"                                                                                         \
    "cmp %[x], %[B]\n\t"                                                                                               \
    "bne 2b\n\t" DWP_REC("A", "56") DWP_REC("B", "60")                                                                 \
    "sub %[out], %[out], %[A]\n\t"                                                                                     \
    "add %[ch], %[ch], #64\n\t"                                                                                        \
    "cmp %[B], #0\n\t"                                                                                                 \
    "beq 1b\n\t"
#define DWP3_MIN DWP_LO DWP_MIN_ONE("a0") DWP_MIN_ONE("a1") DWP_MIN_ONE("a2")
#define DWP3_OPERANDS                                                                                                  \
    : [ch] "+r"(ch), [out] "+r"(out), [x] "=&r"(x), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [A] "=&r"(A),    \
      [B] "=&r"(B), [D] "=&r"(D), [T1] "=&r"(T1), [T2] "=&r"(T2), [P0] "=&r"(P0), [P1] "=&r"(P1), [S01] "=&r"(S01)   \
    :                                                                                                                  \
    : "cc", "memory"
/* clang-format on */

/* A chunk's rows of 3 outputs of a group's four channels (records ch[0..3], their planes and ends set for the
 * chunk; out at channel 0 of the chunk's first pixel). */
MTK_INLINE void group_rows3(const int stride, const int mode, const dwp_channel *ch, int8_t *out)
{
    const mtk_word *x;
    int32_t a0, a1, a2, A, B, D, T1, T2, P0, P1, S01;
    /* clang-format off */
    if (stride == 1 && mode == MTK_OUT_FOLDED) {
        __asm__ volatile(DWP3_ROWS(DWP3_PASS_S1, "") DWP3_OPERANDS);
    } else if (stride == 1) {
        __asm__ volatile(DWP3_ROWS(DWP3_PASS_S1, DWP3_MIN) DWP3_OPERANDS);
    } else if (mode == MTK_OUT_FOLDED) {
        __asm__ volatile(DWP3_ROWS(DWP3_PASS_S2, "") DWP3_OPERANDS);
    } else {
        __asm__ volatile(DWP3_ROWS(DWP3_PASS_S2, DWP3_MIN) DWP3_OPERANDS);
    }
    /* clang-format on */
}

/* One output row of 6 outputs of a group's four channels (as group_row). */
MTK_INLINE void group_row6(const int stride, const int mode, const int wide12, const dwp_channel *ch, int8_t *out)
{
    const mtk_word *x;
    int32_t a0, a1, a2, a3, a4, a5, A, B, D, P, S;
    /* clang-format off */
    if (stride == 1 && wide12 && mode == MTK_OUT_FOLDED) {
        __asm__ volatile(DWP6_ROW(DWP6_PASS_S1_12, "") DWP6_OPERANDS);
    } else if (stride == 1 && wide12) {
        __asm__ volatile(DWP6_ROW(DWP6_PASS_S1_12, DWP6_MIN) DWP6_OPERANDS);
    } else if (stride == 1 && mode == MTK_OUT_FOLDED) {
        __asm__ volatile(DWP6_ROW(DWP6_PASS_S1, "") DWP6_OPERANDS);
    } else if (stride == 1) {
        __asm__ volatile(DWP6_ROW(DWP6_PASS_S1, DWP6_MIN) DWP6_OPERANDS);
    } else if (mode == MTK_OUT_FOLDED) {
        __asm__ volatile(DWP6_ROW(DWP6_PASS_S2, "") DWP6_OPERANDS);
    } else {
        __asm__ volatile(DWP6_ROW(DWP6_PASS_S2, DWP6_MIN) DWP6_OPERANDS);
    }
    /* clang-format on */
}

/* One output row of a group's four channels (records ch[0..3], out at channel 0 of the row's first pixel). */
MTK_INLINE void group_row(const int stride, const int mode, const dwp_channel *ch, int8_t *out)
{
    const mtk_word *x;
    int32_t a0, a1, a2, a3, A, B, T1, T2, P0, P1, S01;
    /* clang-format off */
    if (stride == 1 && mode == MTK_OUT_FOLDED) {
        __asm__ volatile(DWP_ROW(DWP4_PASS_S1, "24", DWP2_PASS_S1, "12", "", "", "") DWP_OPERANDS);
    } else if (stride == 1) {
        __asm__ volatile(DWP_ROW(DWP4_PASS_S1, "24", DWP2_PASS_S1, "12", DWP4_MIN, DWP2_MIN, DWP1_MIN)
                         DWP_OPERANDS);
    } else if (mode == MTK_OUT_FOLDED) {
        __asm__ volatile(DWP_ROW(DWP4_PASS_S2, "48", DWP2_PASS_S2, "24", "", "", "") DWP_OPERANDS);
    } else {
        __asm__ volatile(DWP_ROW(DWP4_PASS_S2, "48", DWP2_PASS_S2, "24", DWP4_MIN, DWP2_MIN, DWP1_MIN)
                         DWP_OPERANDS);
    }
    /* clang-format on */
}

/* A chunk's `rows` output rows of 6 or 12 (`wide`, a constant after inlining: two passes of six, the second
 * 3 words and 6 outputs on; stride 1 only) outputs, `pitch` words between the rows' planes. */
MTK_INLINE void passes6(const int stride, const int mode, const int wide, dwp_channel *ch, mtk_word *planes, int plane,
                        int rows, int pitch, int8_t *out, int out_c)
{
    for (int j = 0; j < rows; ++j, out += wide * out_c) {
#pragma GCC unroll 1 /* one copy of a pass's block: 0.4 KB */
        for (int half = 0; half < wide; half += 6) {
#pragma GCC unroll 4
            for (int c = 0; c < DW_GROUP; ++c) {
                ch[c].x0 = planes + c * plane + j * pitch + half / 2;
            }
            group_row6(stride, mode, wide == 12, ch, out + half * out_c);
        }
    }
}

/* The bottom halves of lo and hi (PKHBT), and their top halves (PKHTB), lo's in the bottom half: GCC builds
 * either from UXTH, ORR and two shifts (V1's 3x3-output layers: ~480 est. M4 cycles of set-up a group). */
MTK_INLINE uint32_t dwp_pack_bottoms(uint32_t lo, uint32_t hi)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

MTK_INLINE uint32_t dwp_pack_tops(uint32_t lo, uint32_t hi)
{
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
}

/* The records' fields that are the same for every group (planes `plane` words apart). */
static void records_init(const mtk_depthwise_params *p, const int stride, mtk_word *planes, int plane, dwp_channel *ch)
{
    const int out_w = p->out_w, out_c = p->out_c, quads = out_w / 4;
    const int step4 = 2 * DWP_SLOTS * stride; /* words a pass of four outputs advances */
    for (int c = 0; c < DW_GROUP; ++c) {
        ch[c] = (dwp_channel){{0, 0, 0, 0, 0},
                              0,
                              0,
                              0,
                              0,
                              p->q.act_min,
                              out_c,
                              planes + c * plane + quads * step4,
                              planes + c * plane,
                              out_w == 3 ? 4 * p->stride_h * plane_words(p) : out_w & 3,
                              (quads * 4 + (out_w & 2)) * out_c - 1,
                              c == DW_GROUP - 1};
    }
}

/* Group g's stage parameters into its records, the bias doubled (t: the group's table block). */
MTK_INLINE void records_stage(const int32_t *t, dwp_channel *ch)
{
#pragma GCC unroll 4
    for (int c = 0; c < DW_GROUP; ++c) {
        ch[c].bias2 = 2 * t[c];
        ch[c].m = t[DW_GROUP + c];
        ch[c].n = t[2 * DW_GROUP + c];
        ch[c].r = t[3 * DW_GROUP + c];
    }
}

/* All output rows of every channel group when a row has 6 or 3 outputs: chunks of up to DWP6_ROWS output
 * rows, a chunk's input rows expanded once, in order, so that the weights keep one order, written straight
 * into the records once a group, and a row costs four pointers, not a slot rotation (V1's 6x6 layers: 105 K
 * of their 175 K est. cycles were set-up per row); rows of 3 take a chunk a call. The geometry is read once a
 * call (the descriptor would be re-read after every asm block's clobber). The last 3 - stride_h rows of a
 * chunk move to the top for the next one: in place, their input rows may be overwritten by then. */
MTK_INLINE void groups_chunked(const mtk_depthwise_params *p, const int mode, const int stride, const int8_t *input,
                               mtk_word *planes, int8_t *output)
{
    const int words = plane_words(p), plane = chunk_rows(p) * words, out_w = p->out_w;
    const int out_h = p->out_h, sh = p->stride_h, pad_top = p->pad_top, out_c = p->out_c, out_row = out_w * out_c;
    const int keep = sh < 3 ? 3 - sh : 0, from = ((DWP6_ROWS - 1) * sh + 3 - keep) * words;
    const int groups = p->in_c / DW_GROUP;
    const int16_t *filter = p->filter;
    const int32_t *quant = p->quant;
    dwp_channel ch[DW_GROUP];
    dwp_rows e;
    planar_plan(p, &e);
    e.plane = plane;
    records_init(p, stride, planes, plane, ch);
    for (int g = 0; g < groups; ++g) {
        /* a tap's weights are two words, (c0, c2) and (c1, c3): doubled by SADD16, paired by PKHBT/PKHTB;
         * the third taps of window rows 0 and 1 share a word (s01) */
        const mtk_word *f = (const mtk_word *)(const void *)(filter + g * 9 * DW_GROUP);
        uint32_t a[3], b[3]; /* window row ky's third taps, (c0, c2) and (c1, c3) */
#pragma GCC unroll 3
        for (int ky = 0; ky < 3; ++ky, f += 6) {
            const uint32_t a0 = (uint32_t)__sadd16(f[0], f[0]), b0 = (uint32_t)__sadd16(f[1], f[1]);
            const uint32_t a1 = (uint32_t)__sadd16(f[2], f[2]), b1 = (uint32_t)__sadd16(f[3], f[3]);
            a[ky] = (uint32_t)__sadd16(f[4], f[4]);
            b[ky] = (uint32_t)__sadd16(f[5], f[5]);
            (&ch[0].w.p0)[ky] = dwp_pack_bottoms(a0, a1);
            (&ch[1].w.p0)[ky] = dwp_pack_bottoms(b0, b1);
            (&ch[2].w.p0)[ky] = dwp_pack_tops(a0, a1);
            (&ch[3].w.p0)[ky] = dwp_pack_tops(b0, b1);
        }
        ch[0].w.s01 = dwp_pack_bottoms(a[0], a[1]);
        ch[1].w.s01 = dwp_pack_bottoms(b[0], b[1]);
        ch[2].w.s01 = dwp_pack_tops(a[0], a[1]);
        ch[3].w.s01 = dwp_pack_tops(b[0], b[1]);
        ch[0].w.s2 = a[2] & 0xffffu;
        ch[1].w.s2 = b[2] & 0xffffu;
        ch[2].w.s2 = a[2] >> 16;
        ch[3].w.s2 = b[2] >> 16;
        records_stage(quant + g * 4 * DW_GROUP, ch);
        const int8_t *row_g = input + DW_GROUP * g;
        int8_t *out = output + DW_GROUP * g;
        for (int oy = 0; oy < out_h; oy += DWP6_ROWS) {
            const int rows = out_h - oy < DWP6_ROWS ? out_h - oy : DWP6_ROWS;
            const int y0 = oy * sh - pad_top, n = (rows - 1) * sh + 3;
            int r = 0;
            if (oy > 0) {
                for (int c = 0; c < DW_GROUP; ++c) {
                    for (int i = 0; i < keep * words; ++i) {
                        planes[c * plane + i] = planes[c * plane + from + i];
                    }
                }
                r = keep;
            }
            expand_chunk(&e, row_g, y0, r, n, g == 0 || out_h > DWP6_ROWS, planes);
            if (out_w == 3) {
#pragma GCC unroll 4
                for (int c = 0; c < DW_GROUP; ++c) {
                    ch[c].end4 = ch[c].x0 + rows * sh * words;
                    ch[c].rewind = rows * out_row - 1;
                }
                group_rows3(stride, mode, ch, out);
                out += rows * out_row;
                continue;
            }
            if (stride == 1 && out_w == 12) {
                passes6(stride, mode, 12, ch, planes, plane, rows, sh * words, out, out_c);
            } else {
                passes6(stride, mode, 6, ch, planes, plane, rows, sh * words, out, out_c);
            }
            out += rows * out_row;
        }
    }
}

/* All output rows of every channel group (3x3, stride_w 1 or 2, folded stage) over the rolling planar slots,
 * a group after the other (rows of 6 or 3 outputs: the chunks above). The row plan and the records' fields
 * that are the same for every group are worked out once a call, not once a group: the stage calls a layer
 * per band of one row. */
MTK_INLINE void groups_planar(const mtk_depthwise_params *p, const int mode, const int stride, const int8_t *input,
                              mtk_word *planes, int8_t *output)
{
    if (chunked(p)) {
        groups_chunked(p, mode, stride, input, planes, output);
        return;
    }
    const int out_w = p->out_w, out_c = p->out_c;
    /* per channel its window rows' pair weights and third taps, doubled, and its record (the weights in the
     * slot order of the current output row, set per row: a record per assignment would cost 0.5 KB of stack) */
    uint32_t pr[3][DW_GROUP], sg[3][DW_GROUP]; /* [window row][channel]: a row's four at fixed offsets */
    dwp_channel ch[DW_GROUP];
    dwp_rows e;
    planar_plan(p, &e);
    records_init(p, stride, planes, DWP_SLOTS * e.words, ch);
    for (int g = 0; g < p->in_c / DW_GROUP; ++g) {
        const mtk_word *f = (const mtk_word *)(const void *)(p->filter + g * 9 * DW_GROUP);
        /* a tap's weights are two words, (c0, c2) and (c1, c3): doubled by SADD16 and paired by halfword
         * moves (PKHBT/PKHTB), per group and band (the stage calls a layer per band) */
#pragma GCC unroll 3
        for (int ky = 0; ky < 3; ++ky, f += 6) {
            const uint32_t a0 = (uint32_t)__sadd16(f[0], f[0]), b0 = (uint32_t)__sadd16(f[1], f[1]);
            const uint32_t a1 = (uint32_t)__sadd16(f[2], f[2]), b1 = (uint32_t)__sadd16(f[3], f[3]);
            const uint32_t a2 = (uint32_t)__sadd16(f[4], f[4]), b2 = (uint32_t)__sadd16(f[5], f[5]);
            pr[ky][0] = dwp_pack_bottoms(a0, a1);
            pr[ky][1] = dwp_pack_bottoms(b0, b1);
            pr[ky][2] = dwp_pack_tops(a0, a1);
            pr[ky][3] = dwp_pack_tops(b0, b1);
            sg[ky][0] = a2 & 0xffffu;
            sg[ky][1] = b2 & 0xffffu;
            sg[ky][2] = a2 >> 16;
            sg[ky][3] = b2 >> 16;
        }
        records_stage(p->quant + g * 4 * DW_GROUP, ch);
        const int8_t *row_g = input + DW_GROUP * g;
        int8_t *out_g = output + DW_GROUP * g;
        int next = -p->pad_top, first = 0;
        for (int oy = 0; oy < p->out_h; ++oy) {
            const int y0 = oy * p->stride_h - p->pad_top;
            for (int ky = next > y0 ? next - y0 : 0; ky < 3; ++ky) {
                const int slot = first + ky < 3 ? first + ky : first + ky - 3;
                expand_row_planar(&e, row_g, y0 + ky, planes + slot, DWP_SLOTS);
            }
            next = y0 + 3;
            /* window rows in slots 0, 1, 2 */
            const int k0 = first == 0 ? 0 : 3 - first, k1 = k0 == 2 ? 0 : k0 + 1, k2 = k1 == 2 ? 0 : k1 + 1;
            const uint32_t *q0 = pr[k0], *q1 = pr[k1], *q2 = pr[k2], *g0 = sg[k0], *g1 = sg[k1], *g2 = sg[k2];
#pragma GCC unroll 4
            for (int c = 0; c < DW_GROUP; ++c) {
                ch[c].w = (dwp_weights){q0[c], q1[c], q2[c], g0[c] | (g1[c] << 16), g2[c]};
            }
            group_row(stride, mode, ch, out_g + oy * out_w * out_c);
            first += p->stride_h;
            while (first >= 3) {
                first -= 3;
            }
        }
    }
}

typedef void (*layer_fn)(const mtk_depthwise_params *, const int8_t *, mtk_word *, int8_t *);

#define DWP_VARIANT(name, mode, stride)                                                                                \
    static void name(const mtk_depthwise_params *p, const int8_t *input, mtk_word *planes, int8_t *output)             \
    {                                                                                                                  \
        groups_planar(p, mode, stride, input, planes, output);                                                         \
    }
DWP_VARIANT(groups_planar_s1, MTK_OUT_FOLDED, 1)
DWP_VARIANT(groups_planar_s1_min, MTK_OUT_FOLDED_MIN, 1)
DWP_VARIANT(groups_planar_s2, MTK_OUT_FOLDED, 2)
DWP_VARIANT(groups_planar_s2_min, MTK_OUT_FOLDED_MIN, 2)

/* The planar rows' variant for this layer, or NULL. Rows of 1 or 2 outputs go to two-pixel lanes; rows of 3
 * take the chunks, whose per-channel loop over a chunk's rows pays a channel's set-up once a chunk (V1's
 * 3x3-output layers: 7.54 and 6.15 est. M4 cycles a MAC in three-pixel lanes, planar rows of 3 row by row
 * were 11.5 and 9.6 on the zoo's). */
static layer_fn pick_planar_fn(const mtk_depthwise_params *p)
{
    const int mode = mtk_output_mode(p->folded, &p->q);
    if (p->filter_h == 3 && p->filter_w == 3 && (p->stride_w == 1 || p->stride_w == 2) &&
        (p->out_w >= DWP_MIN_WIDTH || p->out_w == 3) && (mode == MTK_OUT_FOLDED || mode == MTK_OUT_FOLDED_MIN) &&
        p->pad_left <= 1) {
        if (p->stride_w == 1) {
            return mode == MTK_OUT_FOLDED ? groups_planar_s1 : groups_planar_s1_min;
        }
        return mode == MTK_OUT_FOLDED ? groups_planar_s2 : groups_planar_s2_min;
    }
    return NULL;
}
#endif

/* One output row of one channel group: rows[ky] are the expanded input rows of the windows, w the group's
 * weights, t its table block; `mode` and `is3x3` are constants after inlining. */
MTK_INLINE void output_row(const mtk_depthwise_params *p, const int mode, const int is3x3, const mtk_word *const *rows,
                           const mtk_word *w, const int32_t *t, int8_t *out)
{
    const int out_w = p->out_w, out_c = p->out_c, fh = p->filter_h, fw = p->filter_w;
    const int step = 2 * p->stride_w; /* words between windows */
    const mtk_output_quant q = p->q;
#if MTK_THUMB2_ASM
    const uint32_t lo4 = mtk_bytes4(q.act_min);
#endif
    const mtk_word *r0 = rows[0], *r1 = rows[fh > 1 ? 1 : 0], *r2 = rows[fh > 2 ? 2 : 0];
    int ox = 0;
#if MTK_THUMB2_ASM
    if (is3x3 && (mode == MTK_OUT_FOLDED || mode == MTK_OUT_FOLDED_MIN) && (step == 2 || step == 4)) {
        for (; ox + 2 <= out_w; ox += 2, out += 2 * out_c, r0 += 2 * step, r1 += 2 * step, r2 += 2 * step) {
            uint32_t even0, even1, odd0, odd1; /* lanes (c0, c2) and (c1, c3) of both pixels */
            lane_3x3_2px(step / 2, r0, r1, r2, w, t, &even0, &even1);
            lane_3x3_2px(step / 2, r0 + 1, r1 + 1, r2 + 1, w + 1, t + 1, &odd0, &odd1);
            uint32_t pixel0 = even0 | (odd0 << 8), pixel1 = even1 | (odd1 << 8);
            if (mode == MTK_OUT_FOLDED_MIN) {
                pixel0 = mtk_max_s8x4(pixel0, lo4);
                pixel1 = mtk_max_s8x4(pixel1, lo4);
            }
            memcpy(out, &pixel0, 4);
            memcpy(out + out_c, &pixel1, 4);
        }
    }
#endif
    for (; ox < out_w; ++ox, out += out_c, r0 += step, r1 += step, r2 += step) {
        int32_t a0 = t[0], a1 = t[1], a2 = t[2], a3 = t[3];
        if (is3x3) {
            taps_3x3(r0, r1, r2, w, &a0, &a1, &a2, &a3);
        } else {
            taps_any(rows, ox * step, fh, fw, w, &a0, &a1, &a2, &a3);
        }
#if MTK_THUMB2_ASM
        if (mode == MTK_OUT_FOLDED || mode == MTK_OUT_FOLDED_MIN) {
            folded_store4(mode, t, lo4, a0, a1, a2, a3, out);
            continue;
        }
#endif
        /* All four from the table before the first byte store, after which it must be assumed changed. */
        const int8_t y[DW_GROUP] = {(int8_t)mtk_output_entry(mode, &q, t, DW_GROUP, 0, a0),
                                    (int8_t)mtk_output_entry(mode, &q, t, DW_GROUP, 1, a1),
                                    (int8_t)mtk_output_entry(mode, &q, t, DW_GROUP, 2, a2),
                                    (int8_t)mtk_output_entry(mode, &q, t, DW_GROUP, 3, a3)};
        memcpy(out, y, DW_GROUP);
    }
}

/* All output rows of channel group g, in order, over a rolling window of filter_h expanded input rows in
 * scratch (each input row expanded once); one call per group keeps small images cheap. */
MTK_INLINE void group_rows(const mtk_depthwise_params *p, const int mode, const int is3x3, const int8_t *input, int g,
                           mtk_word *slots, int8_t *output)
{
    const int fh = p->filter_h, taps = p->filter_h * p->filter_w, row_words = 2 * padded_width(p);
    const mtk_word *w = (const mtk_word *)(const void *)(p->filter + g * taps * DW_GROUP);
    const int32_t *t = p->quant + g * 4 * DW_GROUP;
    const mtk_word *rows[DW_MAX_ROWS];
    dw_rows e;
    rows_plan(p, &e);
    const int8_t *row_g = input + DW_GROUP * g;
    int next = -p->pad_top; /* first input row not yet expanded for this group */
    int first = 0;          /* the slot of the window's first row, (y0 + pad_top) % fh kept without dividing */
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_top;
        for (int ky = next > y0 ? next - y0 : 0; ky < fh; ++ky) {
            const int slot = first + ky < fh ? first + ky : first + ky - fh;
            expand_row(&e, row_g, y0 + ky, slots + slot * row_words);
        }
        next = y0 + fh;
        for (int ky = 0; ky < fh; ++ky) {
            rows[ky] = slots + (first + ky < fh ? first + ky : first + ky - fh) * row_words;
        }
        output_row(p, mode, is3x3, rows, w, t, output + oy * p->out_w * p->out_c + DW_GROUP * g);
        first += p->stride_h;
        while (first >= fh) {
            first -= fh;
        }
    }
}

typedef void (*group_fn)(const mtk_depthwise_params *, const int8_t *, int, mtk_word *, int8_t *);

#define DW_VARIANT(name, mode, is3x3)                                                                                  \
    static void name(const mtk_depthwise_params *p, const int8_t *input, int g, mtk_word *slots, int8_t *output)       \
    {                                                                                                                  \
        group_rows(p, mode, is3x3, input, g, slots, output);                                                           \
    }
DW_VARIANT(group_3x3_folded, MTK_OUT_FOLDED, 1)
DW_VARIANT(group_3x3_folded_min, MTK_OUT_FOLDED_MIN, 1)
DW_VARIANT(group_3x3_folded_clamped, MTK_OUT_FOLDED_CLAMPED, 1)
DW_VARIANT(group_3x3_general, MTK_OUT_GENERAL, 1)
DW_VARIANT(group_any_folded, MTK_OUT_FOLDED_CLAMPED, 0)
DW_VARIANT(group_any_general, MTK_OUT_GENERAL, 0)

static group_fn pick_group_fn(const mtk_depthwise_params *p)
{
    const int mode = mtk_output_mode(p->folded, &p->q);
    if (p->filter_h != 3 || p->filter_w != 3) {
        return mode == MTK_OUT_GENERAL ? group_any_general : group_any_folded;
    }
    switch (mode) {
    case MTK_OUT_FOLDED:
        return group_3x3_folded;
    case MTK_OUT_FOLDED_MIN:
        return group_3x3_folded_min;
    case MTK_OUT_FOLDED_CLAMPED:
        return group_3x3_folded_clamped;
    default:
        return group_3x3_general;
    }
}

/* Groups of four channels, depth multiplier 1. */
static void depthwise_groups(const mtk_depthwise_params *p, const int8_t *input, int8_t *output, int8_t *scratch)
{
#if MTK_THUMB2_ASM
    const layer_fn run_planar = pick_planar_fn(p);
    if (run_planar != NULL) {
        run_planar(p, input, (mtk_word *)(void *)scratch, output);
        return;
    }
#endif
    const group_fn run_group = pick_group_fn(p);
    for (int g = 0; g < p->in_c / DW_GROUP; ++g) {
        run_group(p, input, g, (mtk_word *)(void *)scratch, output);
    }
}

#elif !MTK_RISCV

/* Input row iy of channels 4g..4g+3 as int8, four values per padded column (zero point outside the image). */
static void expand_row_portable(const mtk_depthwise_params *p, const int8_t *input, int iy, int g, int8_t *row)
{
    const int width = padded_width(p), left = p->pad_left, in_w = p->in_w, in_c = p->in_c;
    const int8_t zp = (int8_t)p->input_zero_point;
    const int inside = iy >= 0 && iy < p->in_h;
    const int8_t *src =
        input + (inside ? mtk_ring_row(p->in_ring, p->in_ring_first, iy) : 0) * in_w * in_c + DW_GROUP * g;
    for (int col = 0; col < width; ++col, row += DW_GROUP) {
        const int ix = col - left;
        const int valid = inside && ix >= 0 && ix < in_w;
        for (int c = 0; c < DW_GROUP; ++c) {
            row[c] = valid ? src[ix * in_c + c] : zp;
        }
    }
}

/* All output rows of channel group g over a rolling window of filter_h rows in scratch, the DSP path's
 * schedule with the reference arithmetic. */
static void group_rows_portable(const mtk_depthwise_params *p, const int8_t *input, int g, int8_t *slots,
                                int8_t *output)
{
    const int fh = p->filter_h, fw = p->filter_w, sw = p->stride_w, row_bytes = DW_GROUP * padded_width(p);
    int next = -p->pad_top; /* first input row not yet copied for this group */
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_top;
        for (int iy = next > y0 ? next : y0; iy < y0 + fh; ++iy) {
            expand_row_portable(p, input, iy, g, slots + ((iy + p->pad_top) % fh) * row_bytes);
        }
        next = y0 + fh;
        int8_t *out = output + oy * p->out_w * p->out_c + DW_GROUP * g;
        for (int ox = 0; ox < p->out_w; ++ox, out += p->out_c) {
            int32_t acc[DW_GROUP];
            for (int c = 0; c < DW_GROUP; ++c) {
                acc[c] = mtk_quant_entry(p->quant, DW_GROUP, DW_GROUP * g + c)[0];
            }
            for (int ky = 0; ky < fh; ++ky) {
                const int8_t *x = slots + ((y0 + ky + p->pad_top) % fh) * row_bytes + ox * sw * DW_GROUP;
                for (int kx = 0; kx < fw; ++kx, x += DW_GROUP) {
                    for (int c = 0; c < DW_GROUP; ++c) {
                        acc[c] += dw_weight(p, ky * fw + kx, DW_GROUP * g + c) * x[c];
                    }
                }
            }
            /* All four before the first store: the stores may alias the descriptor's tables. */
            int8_t y[DW_GROUP];
            for (int c = 0; c < DW_GROUP; ++c) {
                y[c] = mtk_output_channel(p->quant, DW_GROUP, p->folded, &p->q, DW_GROUP * g + c, acc[c]);
            }
            memcpy(out, y, DW_GROUP);
        }
    }
}

#endif

uint32_t mtk_depthwise_conv2d_scratch_bytes(const mtk_depthwise_params *p)
{
    /* filter_h input rows of one channel group (a six-output chunk's rows if more), sign-extended, the width
     * rounded up to whole column pairs (the planar layout's words); every path gets the same arena */
    const uint32_t width = (uint32_t)padded_width(p);
    const uint32_t rows = (uint32_t)(chunked(p) && chunk_rows(p) > p->filter_h ? chunk_rows(p) : p->filter_h);
    return groups_apply(p) ? 8u * rows * (width + (width & 1u)) : 0u;
}

void mtk_depthwise_conv2d_s8(const mtk_depthwise_params *p, const int8_t *input, int8_t *output, int8_t *scratch)
{
    int first_scalar = 0; /* channels below this are done by depthwise_groups */
#if MTK_DSP
    if (groups_apply(p)) {
#if MTK_MVE
        if (mtk_depthwise_mve_ok(p)) {
            mtk_depthwise_mve_s8(p, padded_width(p), input, output, scratch);
        } else
#endif
            depthwise_groups(p, input, output, scratch);
        first_scalar = p->in_c / DW_GROUP * DW_GROUP;
    }
#elif MTK_RISCV
    if (groups_apply(p)) {
        mtk_depthwise_groups_rv32(p, padded_width(p), input, output, scratch);
        first_scalar = p->in_c / DW_GROUP * DW_GROUP;
    }
#else
    if (groups_apply(p)) {
        for (int g = 0; g < p->in_c / DW_GROUP; ++g) {
            group_rows_portable(p, input, g, scratch, output);
        }
        first_scalar = p->in_c / DW_GROUP * DW_GROUP;
    }
#endif
    if (first_scalar == p->in_c) {
        return;
    }
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int y0 = oy * p->stride_h - p->pad_top;
        for (int ox = 0; ox < p->out_w; ++ox) {
            depthwise_pixel_scalar(p, input, y0, ox * p->stride_w - p->pad_left, first_scalar, p->in_c,
                                   output + (oy * p->out_w + ox) * p->out_c);
        }
    }
}

uint32_t mtk_depthwise_conv2d_in_place_ok(const mtk_depthwise_params *p)
{
    if (!groups_apply(p) || p->in_c % DW_GROUP != 0) {
        return 0u; /* the reference loop reads the input after writing outputs */
    }
    /* Output row oy is written once the input rows up to oy * stride - pad_top + filter_h - 1 are in scratch;
     * it covers the input's pixels up to (oy + 1) * out_w - 1 (same channel count, same pixel stride). */
    for (int oy = 0; oy < p->out_h; ++oy) {
        const int copied_end = oy * p->stride_h - p->pad_top + p->filter_h;
        const int last_row_written = ((oy + 1) * p->out_w - 1) / p->in_w;
        if (last_row_written >= copied_end && last_row_written < p->in_h) {
            return 0u;
        }
    }
    return 1u;
}
