/* Latency counter: CPU cycles on real boards (DWT CYCCNT on Cortex-M, CCOUNT on ESP32), and on QEMU,
 * under -icount shift=0, exact instruction counts: SysTick on the Arm boards (one tick of the 25 MHz
 * clock is 40 instructions), minstret on RISC-V (one tick per instruction). */
#ifndef MTK_TIMING_H
#define MTK_TIMING_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *name;               /* what a tick is, for `hello` */
    uint32_t ticks_per_second;      /* 0 when unknown */
    uint32_t instructions_per_tick; /* 0 when ticks are cycles rather than retired instructions */
    uint32_t cpu_hz;                /* clock for latencies in ms: the CPU's, or on QEMU that of the part the
                                    board stands for (instructions then count as cycles) */
} timing_info_t;

void timing_init(void);
uint64_t timing_now(void);
const timing_info_t *timing_info(void);

#ifdef __cplusplus
}
#endif

#endif
