/* The part of the Arduino API a sketch needs on the QEMU boards: setup()/loop(), Serial over the board's
 * UART (the same socket the firmware's protocol uses), millis()/micros()/delay(). Enough to build and run
 * an exported library's example (`mobilenet-tiny export arduino`) under QEMU; not an Arduino core. */
#ifndef MTK_QEMU_ARDUINO_H
#define MTK_QEMU_ARDUINO_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

unsigned long millis(void);
unsigned long micros(void);
void delay(unsigned long ms);

#ifdef __cplusplus
}

class SerialPort
{
  public:
    void begin(unsigned long baud)
    {
        (void)baud;
    } /* a socket has no rate; the UART is up before setup() */
    void end()
    {
    }
    explicit operator bool() const
    {
        return true;
    }
    int available();
    int read();
    void flush()
    {
    }
    size_t write(uint8_t byte);
    size_t write(const uint8_t *data, size_t len);
    size_t print(const char *text);
    size_t print(char c);
    size_t print(int value)
    {
        return print(static_cast<long>(value));
    }
    size_t print(unsigned value)
    {
        return print(static_cast<unsigned long>(value));
    }
    size_t print(long value);
    size_t print(unsigned long value);
    size_t print(double value, int digits = 2);
    template <typename T> size_t println(T value)
    {
        return print(value) + println();
    }
    size_t println()
    {
        return print("\r\n");
    }
};

extern SerialPort Serial;

void setup();
void loop();
#endif

#endif
