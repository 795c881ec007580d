/* FULLY_CONNECTED, int8; bit-exact with TFLM's reference FullyConnected / FullyConnectedPerChannel. */
#include "dot_rows.h"

void mtk_fully_connected_s8(const mtk_fc_params *p, const int8_t *input, int8_t *output)
{
    const mtk_dot_rows d = {p->in_c, p->out_c, p->filter, p->quant, p->folded, &p->q};
    mtk_dot_rows_s8(&d, input, NULL, output, NULL, NULL);
}
