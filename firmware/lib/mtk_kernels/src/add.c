/*
 * ADD int8 of two same-shaped tensors; TFLM's general rescaling path (inputs shifted left by 20 bits).
 * An int8 input has 256 values, so with scratch each input's rescaling (offset, shift, multiply) becomes a
 * table of 256 int32 built once per call and read per element; only the output stage stays per element.
 */
#include "mtk_kernels.h"
#include "mtk_fixedpoint.h"

MTK_INLINE int32_t rescaled(int32_t offset, int32_t x, int left_shift, int32_t multiplier, int shift)
{
    return mtk_requantize(mtk_shift_left(offset + x, left_shift), multiplier, shift);
}

MTK_INLINE int8_t add_output(const mtk_add_params *p, int32_t sum)
{
    const int32_t value = mtk_requantize(sum, p->output_multiplier, p->output_shift) + p->q.output_zero_point;
    return (int8_t)mtk_clamp(value, p->q.act_min, p->q.act_max);
}

MTK_INLINE void build_tables(const mtk_add_params *p, int32_t *table1, int32_t *table2)
{
    for (int x = -128; x < 128; ++x) {
        table1[x + 128] = rescaled(p->input1_offset, x, p->left_shift, p->input1_multiplier, p->input1_shift);
        table2[x + 128] = rescaled(p->input2_offset, x, p->left_shift, p->input2_multiplier, p->input2_shift);
    }
}

MTK_INLINE void add_with_tables(const mtk_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                                const int32_t *table1, const int32_t *table2)
{
    const mtk_add_params params = *p; /* in registers: the stores below may alias the descriptor */
    const uint32_t size = params.size;
    for (uint32_t i = 0; i < size; ++i) {
        output[i] = add_output(&params, table1[input1[i] + 128] + table2[input2[i] + 128]);
    }
}

void mtk_add_s8(const mtk_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output, int8_t *scratch)
{
    const uint32_t size = p->size;
    if (scratch == NULL) {
        for (uint32_t i = 0; i < size; ++i) {
            output[i] = add_output(
                p, rescaled(p->input1_offset, input1[i], p->left_shift, p->input1_multiplier, p->input1_shift) +
                       rescaled(p->input2_offset, input2[i], p->left_shift, p->input2_multiplier, p->input2_shift));
        }
        return;
    }
    int32_t *table1 = (int32_t *)(void *)scratch, *table2 = table1 + 256; /* indexed by x + 128 */
    build_tables(p, table1, table2);
    add_with_tables(p, input1, input2, output, table1, table2);
}

/* A band of rows in a patch-based stage: the tables are built once for the whole tensor (the rescaling
 * does not depend on size), then every band adds with them. */
void mtk_add_prepare_s8(const mtk_add_params *p, int8_t *scratch)
{
    int32_t *table1 = (int32_t *)(void *)scratch;
    build_tables(p, table1, table1 + 256);
}

void mtk_add_prepared_s8(const mtk_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                         const int8_t *scratch)
{
    const int32_t *table1 = (const int32_t *)(const void *)scratch;
    add_with_tables(p, input1, input2, output, table1, table1 + 256);
}

uint32_t mtk_add_scratch_bytes(const mtk_add_params *p)
{
    /* the two tables pay for themselves from about 512 elements on */
    return p->size >= 512u ? 2u * 256u * 4u : 0u;
}

uint32_t mtk_add_in_place_ok(const mtk_add_params *p)
{
    (void)p; /* element i of both inputs is read before output element i is written, and never again */
    return 1u;
}
