// board.h on real boards through the Arduino core's Serial (USB CDC or UART bridge).
#include <Arduino.h>

#include "../../board.h"

#ifndef MTK_SERIAL_BAUD
#define MTK_SERIAL_BAUD 115200
#endif

extern "C" void board_init(void)
{
    Serial.begin(MTK_SERIAL_BAUD);
    // USB CDC boards (nano33ble, ESP32-S3 native USB) lose what is written before the host opens the port;
    // wait briefly for it, but never forever: the board must also run without a host.
    const unsigned long start = millis();
    while (!Serial && millis() - start < 3000) {
    }
}

extern "C" int board_read_byte(void)
{
    return Serial.available() > 0 ? Serial.read() : -1;
}

// The Arduino cores receive into their own interrupt-driven buffer; loop() simply runs again.
extern "C" void board_wait_for_input(void)
{
}

extern "C" void board_write(const uint8_t *data, size_t len)
{
    Serial.write(data, len);
}

extern "C" void board_flush(void)
{
    Serial.flush();
}

extern "C" const char *board_name(void)
{
    return MTK_BOARD_NAME;
}
