/* Board support: the byte pipe to the host and the board's identity. One implementation per family
 * (boards/qemu for the emulated Arm MPS2/MPS3 boards, boards/arduino for real boards). */
#ifndef MTK_BOARD_H
#define MTK_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void board_init(void);
/* Next received byte, or -1 when none is waiting (never blocks). */
int board_read_byte(void);
/* Sleep until input may have arrived (WFI on the QEMU boards); may return early, never loses a byte. */
void board_wait_for_input(void);
void board_write(const uint8_t *data, size_t len);
void board_flush(void);
const char *board_name(void);

#ifdef __cplusplus
}
#endif

#endif
