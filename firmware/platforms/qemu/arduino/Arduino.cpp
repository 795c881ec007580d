// The Arduino shim's implementation over the board support of firmware/src/boards (board.h, timing.h).
#include "Arduino.h"

#include "board.h"
#include "timing.h"

SerialPort Serial;

int SerialPort::available()
{
    return 0;
} /* unknown without taking the byte; read() returns -1 when none */
int SerialPort::read()
{
    return board_read_byte();
}

size_t SerialPort::write(uint8_t byte)
{
    board_write(&byte, 1);
    return 1;
}

size_t SerialPort::write(const uint8_t *data, size_t len)
{
    board_write(data, len);
    return len;
}

size_t SerialPort::print(const char *text)
{
    return write(reinterpret_cast<const uint8_t *>(text), strlen(text));
}
size_t SerialPort::print(char c)
{
    return write(static_cast<uint8_t>(c));
}

size_t SerialPort::print(unsigned long value)
{
    char digits[12];
    int n = 0;
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    for (int i = 0; i < n / 2; i++) {
        char t = digits[i];
        digits[i] = digits[n - 1 - i];
        digits[n - 1 - i] = t;
    }
    return write(reinterpret_cast<const uint8_t *>(digits), static_cast<size_t>(n));
}

size_t SerialPort::print(long value)
{
    if (value >= 0)
        return print(static_cast<unsigned long>(value));
    return print('-') + print(0ul - static_cast<unsigned long>(value));
}

size_t SerialPort::print(double value, int digits)
{
    size_t n = 0;
    if (value < 0) {
        n += print('-');
        value = -value;
    }
    double scale = 1;
    for (int i = 0; i < digits; i++)
        scale *= 10;
    unsigned long fixed = static_cast<unsigned long>(value * scale + 0.5);
    unsigned long whole = static_cast<unsigned long>(fixed / scale);
    n += print(whole);
    if (digits > 0) {
        n += print('.');
        unsigned long fraction = fixed - static_cast<unsigned long>(whole * scale);
        for (double s = scale / 10; s >= 1; s /= 10)
            n += print(static_cast<char>('0' + (fraction / static_cast<unsigned long>(s)) % 10));
    }
    return n;
}

extern "C" unsigned long micros(void)
{
    return static_cast<unsigned long>(timing_now() * 1000000u / timing_info()->ticks_per_second);
}

extern "C" unsigned long millis(void)
{
    return static_cast<unsigned long>(timing_now() * 1000u / timing_info()->ticks_per_second);
}

// A busy wait, as on most Arduino cores (under QEMU -icount: in virtual time, one instruction per ns).
extern "C" void delay(unsigned long ms)
{
    const unsigned long start = millis();
    while (millis() - start < ms) {
    }
}

int main()
{
    board_init();
    timing_init();
    setup();
    for (;;)
        loop();
}
