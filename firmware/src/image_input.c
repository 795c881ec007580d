#include "image_input.h"

#include "model/model_meta.h"

void image_input_convert(const uint8_t *pixels, int8_t *input)
{
    for (int i = 0; i < META_INPUT_BYTES; i++)
        input[i] = meta_input_lut[pixels[i]];
}
