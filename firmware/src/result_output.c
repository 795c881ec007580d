#include "result_output.h"

#include "frame.h"
#include "model/model_meta.h"
#include "protocol.h"

int result_top_class(const int8_t *output, int count)
{
    int best = 0; /* ties go to the lowest index, as numpy's argmax does on the host */
    for (int i = 1; i < count; i++) {
        if (output[i] > output[best])
            best = i;
    }
    return best;
}

void result_output_send(uint8_t seq, const int8_t *output, uint64_t latency_ticks)
{
    frame_begin(MSG_INFER | MSG_REPLY_FLAG, seq);
    frame_put_u16((uint16_t)result_top_class(output, META_OUTPUT_BYTES));
    frame_put_u64(latency_ticks);
    frame_put_u16(META_OUTPUT_BYTES);
    frame_put(output, META_OUTPUT_BYTES);
    frame_end();
}
