/* Arm semihosting, as QEMU implements it with -semihosting-config enable=on. */
#ifndef MTK_SEMIHOSTING_H
#define MTK_SEMIHOSTING_H

#ifdef __cplusplus
extern "C" {
#endif

/* SYS_EXIT_EXTENDED: QEMU exits with `code`. Never returns. */
__attribute__((noreturn)) void semihosting_exit(int code);

#ifdef __cplusplus
}
#endif

#endif
