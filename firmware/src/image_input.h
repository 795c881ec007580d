/* Camera/host pixels to model input: uint8 -> int8 through the table generated on the host
 * (model_meta.c), the same table the host uses, so device and host inputs are bit-identical. */
#ifndef MTK_IMAGE_INPUT_H
#define MTK_IMAGE_INPUT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* `pixels` and `input` may be the same buffer: the protocol converts a received image in place. */
void image_input_convert(const uint8_t *pixels, int8_t *input);

#ifdef __cplusplus
}
#endif

#endif
