/* timing.h on QEMU: SysTick on the processor clock QEMU gives the machine (F_CPU, from the board's JSON:
 * 25 MHz on mps2-an386/an500, 32 MHz on mps3-an547), extended to 64 bits by counting wraps in its interrupt.
 * With -icount shift=0 QEMU retires exactly one instruction per virtual nanosecond, so a 25 MHz tick is 40
 * instructions and counts repeat exactly from run to run. A 32 MHz tick is 31.25 instructions, which the
 * protocol's whole instructions-per-tick cannot say: there the ticks are reported as instructions (rounded
 * down to one; the resolution stays a tick's). */
#include <stdint.h>

#include "../../timing.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_RELOAD 0x00FFFFFFu

#define NS_PER_SECOND 1000000000u
#if NS_PER_SECOND % F_CPU == 0
#define INSTRUCTIONS_PER_TICK (NS_PER_SECOND / F_CPU)
#define TICKS_PER_SECOND F_CPU
#define TICK_NAME "SysTick ticks"
#else
#define INSTRUCTIONS_PER_TICK 1u
#define TICKS_PER_SECOND NS_PER_SECOND
#define TICK_NAME "instructions"
#endif

static volatile uint32_t wraps;

void SysTick_Handler(void)
{
    wraps++;
}

void timing_init(void)
{
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0;
    SYST_CSR = 7; /* enable, interrupt on wrap, processor clock */
}

uint64_t timing_now(void)
{
    uint32_t before, count;
    /* Re-read if a wrap was counted between the two reads. */
    do {
        before = wraps;
        count = SYST_CVR;
        __asm volatile("" ::: "memory");
    } while (before != wraps);
    /* A wrap pending but not yet serviced (interrupts masked) shows as a count that just reloaded. */
    const uint64_t ticks = (uint64_t)before * (SYST_RELOAD + 1u) + (SYST_RELOAD - count);
#if NS_PER_SECOND % F_CPU == 0
    return ticks;
#else /* in two parts, so that hours of virtual time do not overflow */
    return ticks / F_CPU * NS_PER_SECOND + ticks % F_CPU * NS_PER_SECOND / F_CPU;
#endif
}

#define MTK_STR(x) #x
#define MTK_XSTR(x) MTK_STR(x)
static const timing_info_t info = {"systick at " MTK_XSTR(F_CPU) " Hz, in " TICK_NAME " (QEMU -icount)",
                                   TICKS_PER_SECOND, INSTRUCTIONS_PER_TICK, MTK_CPU_HZ};

const timing_info_t *timing_info(void)
{
    return &info;
}
