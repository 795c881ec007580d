/* PAD of an HxWxC int8 tensor with a constant (the output zero point, or PADV2's value). */
#include <string.h>

#include "mtk_kernels.h"

void mtk_pad_s8(const mtk_pad_params *p, const int8_t *input, int8_t *output)
{
    const int out_w = p->pad_left + p->in_w + p->pad_right;
    const int out_c = p->pad_front + p->in_c + p->pad_back;
    const int out_h = p->pad_top + p->in_h + p->pad_bottom;
    const int8_t *src = input;
    for (int y = 0; y < out_h; ++y) {
        const int row_inside = y >= p->pad_top && y < p->pad_top + p->in_h;
        for (int x = 0; x < out_w; ++x) {
            if (!row_inside || x < p->pad_left || x >= p->pad_left + p->in_w) {
                memset(output, p->value, (size_t)out_c);
            } else {
                memset(output, p->value, p->pad_front);
                memcpy(output + p->pad_front, src, p->in_c);
                memset(output + p->pad_front + p->in_c, p->value, p->pad_back);
                src += p->in_c;
            }
            output += out_c;
        }
    }
}
