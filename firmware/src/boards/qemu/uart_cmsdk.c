/* board.h on the Arm MPS2/MPS3 boards: UART0 is a CMSDK APB UART (base address from the board's JSON).
 * QEMU holds incoming bytes while the 1-byte receive buffer is full, so polling loses nothing. */
#include <stdint.h>

#include "../../board.h"

typedef struct {
  volatile uint32_t data;
  volatile uint32_t state; /* bit0 TX full, bit1 RX full */
  volatile uint32_t ctrl;  /* bit0 TX enable, bit1 RX enable */
  volatile uint32_t intstatus;
  volatile uint32_t bauddiv;
} cmsdk_uart_t;

#define UART0 ((cmsdk_uart_t *)(MTK_UART_BASE))

void board_init(void) {
  UART0->bauddiv = 16;
  UART0->ctrl = 3; /* without TX enable a polled write never completes */
}

int board_read_byte(void) {
  if ((UART0->state & 2u) == 0) return -1;
  return (int)(UART0->data & 0xFFu);
}

void board_write(const uint8_t *data, size_t len) {
  for (size_t i = 0; i < len; i++) {
    while (UART0->state & 1u) {
    }
    UART0->data = data[i];
  }
}

void board_flush(void) {}

const char *board_name(void) { return MTK_BOARD_NAME; }
