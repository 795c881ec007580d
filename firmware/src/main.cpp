// Firmware entry: bring up the board, the timer and the model, then serve the serial protocol forever.
// setup()/loop() as in Arduino and TFLM's examples; bare-metal boards call them from main().
#include "board.h"
#include "model/model_meta.h"
#include "protocol.h"
#include "runtime.h"
#include "timing.h"

namespace
{

void write_text(const char *text)
{
    const char *end = text;
    while (*end != '\0')
        end++;
    board_write(reinterpret_cast<const uint8_t *>(text), static_cast<size_t>(end - text));
}

// A line for humans on a plain serial monitor; it contains no 0x00, so the host's frame reader discards
// it as noise before the first frame.
void print_banner()
{
    write_text("\r\nmobilenet-tiny on ");
    write_text(board_name());
    write_text(", runtime ");
    write_text(runtime_name());
    write_text(", model ");
    write_text(META_MODEL_SHA256);
    if (runtime_error()[0] != '\0') {
        write_text(", ERROR: ");
        write_text(runtime_error());
    }
    write_text("\r\n");
    board_flush();
}

} // namespace

void setup()
{
    board_init();
    timing_init();
    runtime_init();
    protocol_init();
    print_banner();
}

void loop()
{
    protocol_poll();
    board_wait_for_input();
}

#ifndef ARDUINO
int main()
{
    setup();
    for (;;)
        loop();
}
#endif
