/* One small interface over the inference engines: TFLM (runtime_tflm.cpp) or the compiled C model
 * (runtime_compiled.c). Exactly one of them is linked into a firmware. */
#ifndef MTK_RUNTIME_H
#define MTK_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 0 on success; on failure runtime_error() says why and the device answers every infer with an error. */
int runtime_init(void);
const char *runtime_error(void);
const char *runtime_name(void);
int8_t *runtime_input(void);        /* MODEL_INPUT_BYTES, in the model's int8 input quantization */
const int8_t *runtime_output(void); /* MODEL_OUTPUT_BYTES */
int runtime_invoke(void);           /* 0 on success */
uint32_t runtime_arena_bytes(void); /* bytes of the tensor arena actually used */

#ifdef __cplusplus
}
#endif

#endif
