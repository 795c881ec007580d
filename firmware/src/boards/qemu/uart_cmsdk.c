/* board.h on the Arm MPS2/MPS3 boards: UART0 is a CMSDK APB UART (base address and receive interrupt
 * from the board's JSON). Received bytes are taken by the RX interrupt into a ring; the protocol loop
 * sleeps in WFI while the ring is empty, so an idle board costs the host no CPU.
 *
 * The CMSDK UART holds one received byte. When the ring is full the handler leaves the byte in the
 * UART and masks its interrupt until the loop has drained the ring: QEMU keeps further bytes in the
 * socket while the register is full, so nothing is lost (a real part would need flow control). */
#include <stdint.h>

#include "../../board.h"
#include "../rx_ring.h"

typedef struct {
    volatile uint32_t data;
    volatile uint32_t state;     /* bit0 TX full, bit1 RX full */
    volatile uint32_t ctrl;      /* bit0 TX enable, bit1 RX enable, bit3 RX interrupt enable */
    volatile uint32_t intstatus; /* write 1 to clear; bit1 RX */
    volatile uint32_t bauddiv;
} cmsdk_uart_t;

#define UART0 ((cmsdk_uart_t *)(MTK_UART_BASE))
#define UART_STATE_TX_FULL 1u
#define UART_STATE_RX_FULL 2u
#define UART_CTRL_ENABLE (1u | 2u)
#define UART_CTRL_RX_INTERRUPT 8u
#define UART_INT_RX 2u

#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)

static rx_ring_t rx;

void UART0_RX_Handler(void)
{
    /* One interrupt per byte (the UART holds one). Clear first, then read: a byte QEMU delivers after the
   * read raises the interrupt again. Two register accesses per byte, as each is a round trip through
   * QEMU's device lock. */
    UART0->intstatus = UART_INT_RX;
    if (rx_ring_full(&rx)) {
        UART0->ctrl = UART_CTRL_ENABLE; /* the byte waits in the UART; board_read_byte resumes */
        return;
    }
    rx_ring_push(&rx, (uint8_t)UART0->data);
}

void board_init(void)
{
    UART0->bauddiv = 16;
    UART0->ctrl = UART_CTRL_ENABLE | UART_CTRL_RX_INTERRUPT; /* without TX enable a write never completes */
    NVIC_ISER[MTK_UART_RX_IRQ / 32] = 1u << (MTK_UART_RX_IRQ % 32);
}

int board_read_byte(void)
{
    int byte = rx_ring_pop(&rx);
    if (byte >= 0 && !(UART0->ctrl & UART_CTRL_RX_INTERRUPT)) {
        /* The handler paused with a byte left in the UART, which raises no new interrupt: take it here
     * (there is room now) after re-arming, so that the next byte QEMU delivers interrupts again. */
        __asm volatile("cpsid i" ::: "memory");
        UART0->ctrl = UART_CTRL_ENABLE | UART_CTRL_RX_INTERRUPT;
        if (UART0->state & UART_STATE_RX_FULL) {
            UART0->intstatus = UART_INT_RX;
            rx_ring_push(&rx, (uint8_t)UART0->data);
        }
        __asm volatile("cpsie i" ::: "memory");
    }
    return byte;
}

void board_wait_for_input(void)
{
    /* With interrupts masked, a byte arriving between the check and WFI still ends WFI (it pends). */
    __asm volatile("cpsid i" ::: "memory");
    if (rx_ring_empty(&rx))
        __asm volatile("dsb\n wfi" ::: "memory");
    __asm volatile("cpsie i" ::: "memory");
}

void board_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (UART0->state & UART_STATE_TX_FULL) {
        }
        UART0->data = data[i];
    }
}

void board_flush(void)
{
}

const char *board_name(void)
{
    return MTK_BOARD_NAME;
}
