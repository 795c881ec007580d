/*
 * Benchmark driver: runs the compiled model on the inputs in bench_inputs.c and prints, per input, the
 * output bytes in hex and the CMSDK TIMER0 ticks the inference took. QEMU with -icount shift=0 runs one
 * instruction per virtual nanosecond and TIMER0 counts at 25 MHz: 1 tick = 40 instructions.
 */
#include <stdint.h>

#include "model.h"

extern const int8_t bench_inputs[][MODEL_INPUT_BYTES];
extern uint32_t __bss_end__, __stack_top__; /* stack grows down from the top of RAM towards the end of static data */
extern const int bench_input_count;
void host_write(const char *text);

#define TIMER0_CTRL (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)

#ifdef MTK_TRACE
/* Per-layer profile: the timer value after each step (the generated code calls this hook). */
#define MAX_STEPS 512
static uint32_t step_stamp[MAX_STEPS];
static int step_count;

void mtk_trace_step(int step, const int8_t *data, uint32_t bytes)
{
    (void)data;
    (void)bytes;
    if (step < MAX_STEPS) {
        step_stamp[step] = TIMER0_VALUE;
        step_count = step + 1;
    }
}
#endif

static char *put_hex(char *p, uint32_t v, int digits)
{
    for (int i = digits - 1; i >= 0; --i) {
        *p++ = "0123456789abcdef"[(v >> (4 * i)) & 0xF];
    }
    return p;
}

#define STACK_PAINT 0xA5A5A5A5u

/* Fill the free RAM below this frame with a pattern; the deepest overwritten word after an inference is
 * its stack high-water mark. */
__attribute__((noinline)) static void paint_stack(void)
{
    uint32_t here;
    const uintptr_t limit = (uintptr_t)&here - 64; /* keep clear of this frame */
    for (volatile uint32_t *w = &__bss_end__; (uintptr_t)w < limit; ++w) {
        *w = STACK_PAINT;
    }
}

static uint32_t stack_bytes_used(void)
{
    const uint32_t *w = &__bss_end__;
    while (*w == STACK_PAINT) {
        ++w;
    }
    return (uint32_t)((uintptr_t)&__stack_top__ - (uintptr_t)w);
}

int main(void)
{
    static int8_t output[MODEL_OUTPUT_BYTES];
    static char line[2 * MODEL_OUTPUT_BYTES + 32];
    paint_stack();
    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 1u;
    for (int n = 0; n < bench_input_count; ++n) {
        const uint32_t start = TIMER0_VALUE;
        __asm__ volatile("" ::: "memory");
        const int status = model_invoke(bench_inputs[n], output);
        __asm__ volatile("" ::: "memory");
        const uint32_t ticks = start - TIMER0_VALUE;
        if (status != 0) {
            return 1;
        }
        char *p = line;
        if (n == 0) { /* before any printing, whose stack use is not the model's */
            *p++ = 'k';
            *p++ = ' ';
            p = put_hex(p, stack_bytes_used(), 8);
            *p++ = '\n';
            *p = 0;
            host_write(line);
            p = line;
        }
        *p++ = 'o';
        *p++ = ' ';
        for (int i = 0; i < MODEL_OUTPUT_BYTES; ++i) {
            p = put_hex(p, (uint8_t)output[i], 2);
        }
        *p++ = ' ';
        *p++ = 't';
        *p++ = ' ';
        p = put_hex(p, ticks, 8);
        *p++ = '\n';
        *p = 0;
        host_write(line);
#ifdef MTK_TRACE
        uint32_t previous = start;
        for (int i = 0; i < step_count; ++i) {
            char *q = line;
            *q++ = 's';
            *q++ = ' ';
            q = put_hex(q, (uint32_t)i, 4);
            *q++ = ' ';
            q = put_hex(q, previous - step_stamp[i], 8);
            *q++ = '\n';
            *q = 0;
            previous = step_stamp[i];
            host_write(line);
        }
#endif
    }
    return 0;
}
