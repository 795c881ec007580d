/* timing.h on QEMU RISC-V: the retired-instruction counter minstret (64 bits through minstreth). Under
 * QEMU -icount it counts every instruction exactly, identical from run to run. */
#include <stdint.h>

#include "../../timing.h"

void timing_init(void)
{
}

uint64_t timing_now(void)
{
    uint32_t high, low, again;
    do { /* re-read if the low word wrapped between the reads */
        __asm volatile("csrr %0, minstreth" : "=r"(high));
        __asm volatile("csrr %0, minstret" : "=r"(low));
        __asm volatile("csrr %0, minstreth" : "=r"(again));
    } while (high != again);
    return ((uint64_t)high << 32) | low;
}

/* -icount shift=0: one instruction per virtual nanosecond. */
static const timing_info_t info = {"minstret (QEMU -icount: 1 tick = 1 instruction)", 1000000000u, 1u, MTK_CPU_HZ};

const timing_info_t *timing_info(void)
{
    return &info;
}
