/* The compiled runtime: the model as generated C (model.h / model.c from `mobilenet-tiny compile`). Its
 * one static arena is planned at build time, so init cannot fail, and the input is written straight into
 * the arena (model_input_buffer) instead of a separate RAM buffer. */
#include "runtime.h"

#include "model/model.h"
#include "model/model_meta.h"

_Static_assert(MODEL_INPUT_BYTES == META_INPUT_BYTES, "model.h and model_meta.h describe different models");
_Static_assert(MODEL_OUTPUT_BYTES == META_OUTPUT_BYTES, "model.h and model_meta.h describe different models");

static int8_t output_buffer[MODEL_OUTPUT_BYTES] __attribute__((aligned(4)));

int runtime_init(void)
{
    return 0;
}
const char *runtime_error(void)
{
    return "";
}
const char *runtime_name(void)
{
    return "compiled";
}
int8_t *runtime_input(void)
{
    return model_input_buffer();
}
const int8_t *runtime_output(void)
{
    return output_buffer;
}
int runtime_invoke(void)
{
    return model_invoke(model_input_buffer(), output_buffer);
}
uint32_t runtime_arena_bytes(void)
{
    return (uint32_t)MODEL_ARENA_BYTES;
}
