/* Reset and exception vectors for the QEMU Cortex-M boards: FPU on, .data copied, .bss zeroed, C/C++
 * constructors run, then main(). A fault, or an interrupt nothing asked for, ends QEMU through
 * semihosting with exit code 3 instead of hanging, so a host talking to the board sees the connection
 * drop at once. */
#include <stdint.h>

#include "semihosting.h"

extern uint32_t __stack_top, __data_start, __data_end, __data_load, __bss_start, __bss_end;
extern void __libc_init_array(void);
extern int main(void);
void SysTick_Handler(void);
void UART0_RX_Handler(void);

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)

void Reset_Handler(void);

static void Fault_Handler(void)
{
    semihosting_exit(3);
}

/* 16 system exceptions + the first 64 device interrupts (the UART's receive interrupt among them). */
#define VECTOR_COUNT (16 + 64)
_Static_assert(MTK_UART_RX_IRQ < 64, "UART receive interrupt outside the vector table");

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init" /* every device vector faults except the UART's */
__attribute__((section(".isr_vector"), used)) static void (*const vector_table[VECTOR_COUNT])(void) = {
    [16 ... VECTOR_COUNT - 1] = Fault_Handler,
    [0] = (void (*)(void))(&__stack_top),
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    Fault_Handler, /* SecureFault (v8-M) */
    0,
    0,
    0,
    Fault_Handler, /* SVCall */
    Fault_Handler, /* DebugMonitor */
    0,
    Fault_Handler, /* PendSV */
    SysTick_Handler,
    [16 + MTK_UART_RX_IRQ] = UART0_RX_Handler,
};
#pragma GCC diagnostic pop

void Reset_Handler(void)
{
    SCB_CPACR |= 0xFu << 20; /* CP10/CP11 full access: the first float instruction faults otherwise */
    __asm volatile("dsb\n isb" ::: "memory");
    SCB_VTOR = (uint32_t)vector_table;
    for (uint32_t *src = &__data_load, *dst = &__data_start; dst < &__data_end;)
        *dst++ = *src++;
    for (uint32_t *dst = &__bss_start; dst < &__bss_end;)
        *dst++ = 0;
    __libc_init_array();
    semihosting_exit(main());
}
