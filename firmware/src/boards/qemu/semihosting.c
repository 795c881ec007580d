#include "semihosting.h"

#include <stdint.h>

void semihosting_exit(int code)
{
    /* ADP_Stopped_ApplicationExit (0x20026) with the exit code, via SYS_EXIT_EXTENDED (0x20). */
    volatile uint32_t block[2] = {0x20026u, (uint32_t)code};
    register uint32_t r0 __asm("r0") = 0x20;
    register volatile uint32_t *r1 __asm("r1") = block;
    __asm volatile("bkpt 0xAB" : : "r"(r0), "r"(r1) : "memory");
    for (;;) {
    }
}
