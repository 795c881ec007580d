/* Reset and trap handling for the QEMU RISC-V virt board (machine mode, no firmware underneath): gp and
 * sp set, .data copied, .bss zeroed, constructors run, then main(). Machine external interrupts come
 * from the PLIC (the UART's receive interrupt); any exception, or an interrupt nothing asked for, ends
 * QEMU with exit code 3 instead of hanging, so a host talking to the board sees the connection drop. */
#include <stdint.h>

#include "board_exit.h"

extern uint32_t __data_start, __data_end, __data_load, __bss_start, __bss_end;
extern void __libc_init_array(void);
extern int main(void);
void uart_rx_interrupt(void);

#define SIFIVE_TEST (*(volatile uint32_t *)0x00100000u)
#define PLIC_CLAIM (*(volatile uint32_t *)0x0C200004u) /* hart 0, machine mode */
#define MCAUSE_INTERRUPT 0x80000000u
#define MCAUSE_MACHINE_EXTERNAL 11u

void board_exit(int code)
{
    SIFIVE_TEST = code == 0 ? 0x5555u : ((uint32_t)code << 16) | 0x3333u;
    for (;;) {
    }
}

__attribute__((interrupt("machine"), aligned(4))) static void trap_handler(void)
{
    uint32_t cause;
    __asm volatile("csrr %0, mcause" : "=r"(cause));
    if (cause != (MCAUSE_INTERRUPT | MCAUSE_MACHINE_EXTERNAL))
        board_exit(3);
    uint32_t source = PLIC_CLAIM;
    if (source != MTK_UART_RX_IRQ)
        board_exit(3);
    uart_rx_interrupt();
    PLIC_CLAIM = source; /* complete */
}

__attribute__((noreturn, used)) static void reset(void)
{
    for (uint32_t *src = &__data_load, *dst = &__data_start; dst < &__data_end;)
        *dst++ = *src++;
    for (uint32_t *dst = &__bss_start; dst < &__bss_end;)
        *dst++ = 0;
    __asm volatile("csrw mtvec, %0" : : "r"((uintptr_t)trap_handler)); /* direct mode: every trap here */
    __libc_init_array();
    board_exit(main());
}

/* The ELF entry: QEMU's virt machine jumps here (-bios none). gp first, without relaxation, since the
 * linker would otherwise rewrite this very load relative to gp. */
__attribute__((naked, section(".text.start"), used)) void _start(void)
{
    __asm volatile(".option push\n"
                   ".option norelax\n"
                   "la gp, __global_pointer$\n"
                   ".option pop\n"
                   "la sp, __stack_top\n"
                   "j reset\n");
}
