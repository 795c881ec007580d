/* Ending QEMU from the guest on the RISC-V virt machine: its SiFive test device ("finisher"). */
#ifndef MTK_BOARD_EXIT_H
#define MTK_BOARD_EXIT_H

#ifdef __cplusplus
extern "C" {
#endif

/* QEMU exits with `code`. Never returns. */
__attribute__((noreturn)) void board_exit(int code);

#ifdef __cplusplus
}
#endif

#endif
