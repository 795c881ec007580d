/* Benchmark image: the firmware's runtime (runtime_*.c*) and board code with this driver in place of
 * main.cpp and the serial protocol. It runs the model on the inputs linked in (bench_inputs.c, written by
 * `mobilenet-tiny bench`), times each invoke with the firmware's own latency counter (timing.h) and
 * writes one line per result to the UART, which the host reads from QEMU's serial output:
 *   i N              instructions per tick of the latency counter (timing.h)
 *   a ARENA          arena bytes the runtime uses
 *   k STACK          stack high-water mark of the first inference, in bytes (free RAM is painted first)
 *   o HEX t TICKS    output bytes and latency of each input
 *   s STEP TICKS     with -DMTK_TRACE: ticks of each layer of the first inference
 *   e TEXT           the runtime could not start or an invoke failed
 * Built with -DMTK_BENCH_INIT_ONLY it stops after the arena line (measuring what the runtime needs).
 * The exit status (through semihosting) is 0 when every inference succeeded. */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "model/model_meta.h"
#include "runtime.h"
#include "timing.h"

extern const int8_t bench_inputs[][META_INPUT_BYTES];
extern const int bench_input_count;
extern uint32_t __bss_end, __stack_top; /* the stack grows down from the top of RAM towards static data */

#ifdef MTK_TRACE
/* The timer after each layer; the generated code (and TFLM's profiler in runtime_tflm.cpp) calls this. */
#define MAX_STEPS 512
static uint64_t step_stamp[MAX_STEPS];
static int step_count;

void mtk_trace_step(int step, const int8_t *data, uint32_t bytes)
{
    (void)data;
    (void)bytes;
    if (step >= 0 && step < MAX_STEPS) {
        step_stamp[step] = timing_now();
        step_count = step + 1;
    }
}
#endif

static void put_text(const char *text)
{
    board_write((const uint8_t *)text, strlen(text));
}

static void put_hex(uint64_t value, int digits)
{
    char text[16];
    for (int i = 0; i < digits; ++i)
        text[i] = "0123456789abcdef"[(value >> (4 * (digits - 1 - i))) & 0xF];
    board_write((const uint8_t *)text, (size_t)digits);
}

static void put_line(char tag, uint64_t value)
{
    char head[2] = {tag, ' '};
    board_write((const uint8_t *)head, 2);
    put_hex(value, 16);
    put_text("\n");
}

#define STACK_PAINT 0xA5A5A5A5u

/* Fill the free RAM below this frame with a pattern; the deepest overwritten word after an inference is
 * its stack high-water mark (this driver's own frames included). */
__attribute__((noinline)) static void paint_stack(void)
{
    uint32_t here;
    const uintptr_t limit = (uintptr_t)&here - 64; /* keep clear of this frame */
    for (volatile uint32_t *w = &__bss_end; (uintptr_t)w < limit; ++w)
        *w = STACK_PAINT;
}

static uint32_t stack_bytes_used(void)
{
    const uint32_t *w = &__bss_end;
    while (*w == STACK_PAINT)
        ++w;
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)w);
}

int main(void)
{
    board_init();
    timing_init();
    if (runtime_init() != 0) {
        put_text("e ");
        put_text(runtime_error());
        put_text("\n");
        board_flush();
        return 1;
    }
    put_line('i', timing_info()->instructions_per_tick);
    put_line('a', runtime_arena_bytes());
#ifdef MTK_BENCH_INIT_ONLY /* measuring the arena the runtime needs */
    board_flush();
    return 0;
#endif
    paint_stack();
    for (int n = 0; n < bench_input_count; ++n) {
        memcpy(runtime_input(), bench_inputs[n], META_INPUT_BYTES);
#ifdef MTK_TRACE
        memset(step_stamp, 0, sizeof(step_stamp)); /* steps without a kernel (RESHAPE) leave theirs at 0 */
        step_count = 0;
#endif
        const uint64_t start = timing_now();
        __asm volatile("" ::: "memory"); /* keep the invoke between the two timer reads */
        const int status = runtime_invoke();
        __asm volatile("" ::: "memory");
        const uint64_t ticks = timing_now() - start;
        if (status != 0) {
            put_text("e invoke failed\n");
            board_flush();
            return 2;
        }
        if (n == 0)
            put_line('k', stack_bytes_used()); /* before any printing, whose stack is not the model's */
        put_text("o ");
        const int8_t *output = runtime_output();
        for (int i = 0; i < META_OUTPUT_BYTES; ++i)
            put_hex((uint8_t)output[i], 2);
        put_text(" t ");
        put_hex(ticks, 16);
        put_text("\n");
#ifdef MTK_TRACE
        if (n == 0) {
            uint64_t previous = start;
            for (int i = 0; i < step_count; ++i) {
                if (step_stamp[i] == 0)
                    continue;
                put_text("s ");
                put_hex((uint64_t)i, 4);
                put_text(" ");
                put_hex(step_stamp[i] - previous, 16);
                put_text("\n");
                previous = step_stamp[i];
            }
        }
#endif
    }
    board_flush();
    return 0;
}
