/*
 * Minimal bare-metal start-up for QEMU's mps2-an386 (Cortex-M4F) used to benchmark the compiled runtime:
 * vector table, .data/.bss set-up, FPU on, main(), and exit through semihosting so QEMU returns main's
 * status. No libc I/O: results leave through semihosting SYS_WRITE0.
 */
#include <stdint.h>

extern uint32_t __data_load__, __data_start__, __data_end__, __bss_start__, __bss_end__, __stack_top__;
int main(void);

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void host_write(const char *text)
{
    semihost(0x04, text); /* SYS_WRITE0 */
}

void host_exit(int code)
{
    const uint32_t block[2] = {0x20026u, (uint32_t)code}; /* ADP_Stopped_ApplicationExit */
    semihost(0x20, block);                                 /* SYS_EXIT_EXTENDED-style block */
    for (;;) {
    }
}

void reset_handler(void)
{
    uint32_t *src = &__data_load__;
    for (uint32_t *dst = &__data_start__; dst < &__data_end__;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &__bss_start__; dst < &__bss_end__;) {
        *dst++ = 0;
    }
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10/CP11 full access */
    __asm__ volatile("dsb\n isb" ::: "memory");
#endif
    host_exit(main());
}

static void fault_handler(void)
{
    host_write("fault\n");
    host_exit(99);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&__stack_top__, reset_handler, fault_handler, fault_handler, fault_handler, fault_handler,
    fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0, fault_handler, fault_handler,
};
