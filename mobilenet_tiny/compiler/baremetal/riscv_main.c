/*
 * Benchmark driver for QEMU's RISC-V virt board (the qemu_rv32 firmware's start-up and linker script):
 * runs the compiled model on the inputs in bench_inputs.c and prints on the UART, per input, the output
 * bytes in hex and the instructions the inference retired (minstret, exact under -icount); with
 * -DMTK_TRACE also the instructions of every step.
 */
#include <stdint.h>

#include "model.h"

extern const int8_t bench_inputs[][MODEL_INPUT_BYTES];
extern const int bench_input_count;

#define UART ((volatile uint8_t *)0x10000000u)

void uart_rx_interrupt(void) {} /* the start-up's trap handler names it; receive is never enabled here */

static uint32_t instret(void)
{
    uint32_t v;
    __asm__ volatile("csrr %0, minstret" : "=r"(v));
    return v;
}

static void put_char(char c)
{
    while (!(UART[5] & 0x20u)) {
    }
    UART[0] = (uint8_t)c;
}

static void put_hex(uint32_t v, int digits)
{
    for (int i = digits - 1; i >= 0; --i) {
        put_char("0123456789abcdef"[(v >> (4 * i)) & 0xF]);
    }
}

#ifdef MTK_TRACE
#define MAX_STEPS 512
static uint32_t step_stamp[MAX_STEPS];
static int step_count;

void mtk_trace_step(int step, const int8_t *data, uint32_t bytes)
{
    (void)data;
    (void)bytes;
    if (step < MAX_STEPS) {
        step_stamp[step] = instret();
        step_count = step + 1;
    }
}
#endif

int main(void)
{
    static int8_t output[MODEL_OUTPUT_BYTES];
    for (int n = 0; n < bench_input_count; ++n) {
        const uint32_t start = instret();
        __asm__ volatile("" ::: "memory");
        const int status = model_invoke(bench_inputs[n], output);
        __asm__ volatile("" ::: "memory");
        const uint32_t count = instret() - start;
        if (status != 0) {
            return 1;
        }
        put_char('o');
        put_char(' ');
        for (int i = 0; i < MODEL_OUTPUT_BYTES; ++i) {
            put_hex((uint8_t)output[i], 2);
        }
        put_char(' ');
        put_char('t');
        put_char(' ');
        put_hex(count, 8);
        put_char('\n');
#ifdef MTK_TRACE
        uint32_t previous = start;
        for (int i = 0; i < step_count; ++i) {
            if (step_stamp[i] == 0) {
                continue; /* a step without a kernel call (RESHAPE) */
            }
            put_char('s');
            put_char(' ');
            put_hex((uint32_t)i, 4);
            put_char(' ');
            put_hex(step_stamp[i] - previous, 8);
            put_char('\n');
            previous = step_stamp[i];
            step_stamp[i] = 0;
        }
#endif
    }
    return 0;
}
