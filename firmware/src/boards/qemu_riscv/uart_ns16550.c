/* board.h on the QEMU RISC-V virt board: its NS16550A UART (base and PLIC source from the board's
 * JSON), FIFO on. The receive interrupt (FIFO at its trigger level, or a character timeout for a frame's
 * last bytes) drains the FIFO into a ring; the protocol loop sleeps in WFI while the ring is empty.
 *
 * QEMU hands the UART as many bytes per main-loop pass as its FIFO has room for below the trigger level
 * (14), which is what makes this link fast; the Arm boards' CMSDK UART takes one. When the ring is full
 * the handler masks the interrupt and leaves the rest in the FIFO, and QEMU holds back further bytes:
 * nothing is lost. */
#include <stdint.h>

#include "../../board.h"
#include "../rx_ring.h"

#define UART ((volatile uint8_t *)(MTK_UART_BASE))
#define UART_RBR_THR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_LSR 5
#define IER_RX_AVAILABLE 0x01u
#define FCR_FIFO_ON_CLEARED_TRIGGER_14 0xC7u
#define LCR_DIVISOR_LATCH 0x80u
#define LCR_8N1 0x03u
#define LSR_DATA_READY 0x01u
#define LSR_THR_EMPTY 0x20u

#define PLIC_PRIORITY(source) (*(volatile uint32_t *)(0x0C000000u + 4u * (source)))
#define PLIC_ENABLE_HART0_M ((volatile uint32_t *)0x0C002000u)
#define PLIC_THRESHOLD_HART0_M (*(volatile uint32_t *)0x0C200000u)
#define MIE_MACHINE_EXTERNAL (1u << 11)
#define MSTATUS_MIE 8u

static rx_ring_t rx;

static inline void interrupts_off(void)
{
    __asm volatile("csrci mstatus, %0" : : "i"(MSTATUS_MIE) : "memory");
}
static inline void interrupts_on(void)
{
    __asm volatile("csrsi mstatus, %0" : : "i"(MSTATUS_MIE) : "memory");
}

/* Called by the trap handler (startup.c) for the UART's PLIC source. */
void uart_rx_interrupt(void)
{
    while (UART[UART_LSR] & LSR_DATA_READY) {
        if (rx_ring_full(&rx)) {
            UART[UART_IER] = 0; /* the rest waits in the FIFO; board_read_byte resumes */
            return;
        }
        rx_ring_push(&rx, UART[UART_RBR_THR]);
    }
}

void board_init(void)
{
    UART[UART_IER] = 0;
    /* Divisor 1: the fastest rate QEMU models, so its character timeout (4 characters) is short. */
    UART[UART_LCR] = LCR_DIVISOR_LATCH;
    UART[UART_DLL] = 1;
    UART[UART_DLM] = 0;
    UART[UART_LCR] = LCR_8N1;
    UART[UART_FCR] = FCR_FIFO_ON_CLEARED_TRIGGER_14;
    UART[UART_IER] = IER_RX_AVAILABLE;
    PLIC_PRIORITY(MTK_UART_RX_IRQ) = 1;
    PLIC_ENABLE_HART0_M[MTK_UART_RX_IRQ / 32] |= 1u << (MTK_UART_RX_IRQ % 32);
    PLIC_THRESHOLD_HART0_M = 0;
    __asm volatile("csrs mie, %0" : : "r"(MIE_MACHINE_EXTERNAL));
    interrupts_on();
}

int board_read_byte(void)
{
    int byte = rx_ring_pop(&rx);
    if (byte >= 0 && UART[UART_IER] == 0)
        UART[UART_IER] = IER_RX_AVAILABLE; /* re-raises if data waits */
    return byte;
}

void board_wait_for_input(void)
{
    /* With interrupts masked, an interrupt arriving between the check and WFI still ends WFI. */
    interrupts_off();
    if (rx_ring_empty(&rx))
        __asm volatile("wfi" ::: "memory");
    interrupts_on();
}

void board_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (!(UART[UART_LSR] & LSR_THR_EMPTY)) {
        }
        UART[UART_RBR_THR] = data[i];
    }
}

void board_flush(void)
{
}

const char *board_name(void)
{
    return MTK_BOARD_NAME;
}
