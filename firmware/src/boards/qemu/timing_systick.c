/* timing.h on QEMU: SysTick at the boards' 25 MHz, extended to 64 bits by counting wraps in its interrupt.
 * With -icount shift=0 QEMU retires exactly one instruction per virtual nanosecond, so a tick is 40
 * instructions and counts repeat exactly from run to run. */
#include <stdint.h>

#include "../../timing.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_RELOAD 0x00FFFFFFu

static volatile uint32_t wraps;

void SysTick_Handler(void) { wraps++; }

void timing_init(void) {
  SYST_RVR = SYST_RELOAD;
  SYST_CVR = 0;
  SYST_CSR = 7; /* enable, interrupt on wrap, processor clock */
}

uint64_t timing_now(void) {
  uint32_t before, count;
  /* Re-read if a wrap was counted between the two reads. */
  do {
    before = wraps;
    count = SYST_CVR;
    __asm volatile("" ::: "memory");
  } while (before != wraps);
  /* A wrap pending but not yet serviced (interrupts masked) shows as a count that just reloaded. */
  return (uint64_t)before * (SYST_RELOAD + 1u) + (SYST_RELOAD - count);
}

static const timing_info_t info = {"systick 25 MHz (QEMU -icount: 40 instructions/tick)", 25000000u, 40u,
                                   MTK_CPU_HZ};

const timing_info_t *timing_info(void) { return &info; }
