/* The answer to an infer request: top class, latency and the raw int8 output vector. */
#ifndef MTK_RESULT_OUTPUT_H
#define MTK_RESULT_OUTPUT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int result_top_class(const int8_t *output, int count);
void result_output_send(uint8_t seq, const int8_t *output, uint64_t latency_ticks);

#ifdef __cplusplus
}
#endif

#endif
