/* Requests: ping (echo), hello (what this device runs), infer (uint8 pixels -> int8 scores). Every
 * malformed frame gets an error reply naming the problem; the decoder state is reset at each delimiter,
 * so no input can wedge the device. */
#include "protocol.h"

#include <string.h>

#include "board.h"
#include "frame.h"
#include "image_input.h"
#include "model/model_meta.h"
#include "result_output.h"
#include "runtime.h"
#include "timing.h"

/* Requests are decoded straight into the model's input buffer (an image is converted there in place),
 * so receiving costs no RAM of its own; only a model with fewer input bytes than the largest ping needs
 * a separate buffer. */
#if META_INPUT_BYTES >= PING_MAX_PAYLOAD
#define MAX_PAYLOAD META_INPUT_BYTES
static uint8_t *payload_buffer(void)
{
    return (uint8_t *)runtime_input();
}
#else
#define MAX_PAYLOAD PING_MAX_PAYLOAD
static uint8_t *payload_buffer(void)
{
    static uint8_t small[PING_MAX_PAYLOAD];
    return small;
}
#endif

static frame_decoder_t decoder;

void protocol_send_error(uint8_t seq, uint8_t code, const char *message)
{
    frame_begin(MSG_ERROR, seq);
    frame_put_u8(code);
    frame_put_str(message);
    frame_end();
}

static void put_f32(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof(bits));
    frame_put_u32(bits);
}

static void reply_hello(uint8_t seq)
{
    const timing_info_t *timer = timing_info();
    frame_begin(MSG_HELLO | MSG_REPLY_FLAG, seq);
    frame_put_u8(FRAME_VERSION);
    frame_put_str(board_name());
    frame_put_str(runtime_name());
    frame_put_str(META_MODEL_SHA256);
    frame_put_u16(META_INPUT_HEIGHT);
    frame_put_u16(META_INPUT_WIDTH);
    frame_put_u16(META_INPUT_CHANNELS);
    put_f32(META_INPUT_SCALE);
    frame_put_u32((uint32_t)(int32_t)META_INPUT_ZERO_POINT);
    frame_put_u16(META_OUTPUT_BYTES);
    put_f32(META_OUTPUT_SCALE);
    frame_put_u32((uint32_t)(int32_t)META_OUTPUT_ZERO_POINT);
    frame_put_u32(runtime_arena_bytes());
    frame_put_u32(MAX_PAYLOAD);
    frame_put_str(timer->name);
    frame_put_u32(timer->ticks_per_second);
    frame_put_u32(timer->instructions_per_tick);
    frame_put_str(runtime_error());
    frame_put_u16(META_NUM_LABELS);
    for (int i = 0; i < META_NUM_LABELS; i++)
        frame_put_str(meta_labels[i]);
    frame_put_u32(timer->cpu_hz); /* appended after the labels: hosts that stop reading there still work */
    frame_end();
}

static void handle_infer(uint8_t seq, const uint8_t *payload, size_t len)
{
    if (len != META_INPUT_BYTES) {
        protocol_send_error(seq, ERR_BAD_LENGTH, "infer needs exactly H*W*C uint8 pixels");
        return;
    }
    if (runtime_error()[0] != '\0') {
        protocol_send_error(seq, ERR_RUNTIME, runtime_error());
        return;
    }
    image_input_convert(payload, runtime_input());
    uint64_t start = timing_now();
    __asm volatile("" ::: "memory"); /* keep the invoke between the two timer reads */
    int status = runtime_invoke();
    __asm volatile("" ::: "memory");
    uint64_t ticks = timing_now() - start;
    if (status != 0) {
        protocol_send_error(seq, ERR_RUNTIME, "model invoke failed");
        return;
    }
    result_output_send(seq, runtime_output(), ticks);
}

static void handle_frame(const uint8_t *header, const uint8_t *payload, size_t payload_len)
{
    uint8_t version = header[0], type = header[1], seq = header[2];
    if (version != FRAME_VERSION) {
        protocol_send_error(seq, ERR_BAD_VERSION, "unsupported protocol version");
        return;
    }
    switch (type) {
    case MSG_PING:
        if (payload_len > PING_MAX_PAYLOAD) {
            protocol_send_error(seq, ERR_BAD_LENGTH, "ping payload longer than 64 bytes");
            return;
        }
        frame_begin(MSG_PING | MSG_REPLY_FLAG, seq);
        frame_put(payload, payload_len);
        frame_end();
        return;
    case MSG_HELLO:
        reply_hello(seq);
        return;
    case MSG_INFER:
        handle_infer(seq, payload, payload_len);
        return;
    default:
        protocol_send_error(seq, ERR_UNKNOWN_COMMAND, "unknown command");
    }
}

void protocol_init(void)
{
    frame_decoder_init(&decoder, payload_buffer(), MAX_PAYLOAD);
}

void protocol_poll(void)
{
    int byte;
    while ((byte = board_read_byte()) >= 0) {
        switch (frame_decoder_feed(&decoder, (uint8_t)byte)) {
        case FRAME_NONE:
            break;
        case FRAME_OK:
            handle_frame(decoder.header, decoder.payload, decoder.payload_len);
            break;
        case FRAME_ERR_TOO_SHORT:
            protocol_send_error(0, ERR_TOO_SHORT, "frame shorter than header and CRC");
            break;
        case FRAME_ERR_TOO_LONG:
            protocol_send_error(0, ERR_TOO_LONG, "frame longer than the largest request");
            break;
        case FRAME_ERR_COBS:
            protocol_send_error(0, ERR_BAD_FRAMING, "COBS block runs past the frame end");
            break;
        case FRAME_ERR_CRC:
            protocol_send_error(0, ERR_BAD_CRC, "CRC mismatch");
            break;
        }
    }
}
