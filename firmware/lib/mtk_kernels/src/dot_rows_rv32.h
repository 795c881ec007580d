/* mtk_dot_rows_s8's RV32IM block (MTK_RISCV), in dot_rows_rv32.c. */
#ifndef MTK_DOT_ROWS_RV32_H_
#define MTK_DOT_ROWS_RV32_H_

#include "dot_rows.h"

/* mtk_dot_rows_s8 for RV32IM: rows read in place (row1 may be NULL), no scratch. */
void mtk_dot_rows_rv32(const mtk_dot_rows *d, const int8_t *row0, const int8_t *row1, int8_t *out0, int8_t *out1);

#endif /* MTK_DOT_ROWS_RV32_H_ */
