/* What TFLM's objects ask of the C and C++ runtime that this toolchain leaves to the application: Debian's
 * riscv64-unknown-elf has picolibc and no C++ library at all (TFLM compiles against the Arm package's
 * libstdc++ headers, see mobilenet_tiny/device/tflm_library.py, and links none of it). Built
 * -fno-exceptions -fno-rtti -fno-threadsafe-statics, TFLM names no unwinder, type_info nor __cxa_guard_*;
 * nor operator new or delete: the static-memory build allocates nothing, and TF_LITE_REMOVE_VIRTUAL_DELETE
 * gives its classes with virtual destructors (and runtime_tflm.cpp's profiler) their own empty delete, so
 * firmware code that did call new or delete would fail to link rather than allocate. The compiled runtime
 * names none of these: its images drop them. On the Arm boards newlib's nosys stubs and libsupc++ play the
 * same parts. */
#include <stdio.h>
#include <stdlib.h>

#include "board_exit.h"

/* TFLM's DebugLog prints to stderr. The UART carries the serial protocol, which stray text would break, so
 * the log goes nowhere, as it does on the Arm boards (nosys's _write). */
static int discard(char c, FILE *stream)
{
    (void)stream;
    return (unsigned char)c;
}

static FILE sink = FDEV_SETUP_STREAM(discard, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stderr = &sink;

/* TFLITE_ABORT and failed TFLITE_DCHECKs: picolibc's abort would raise a signal through kill/getpid/_exit,
 * none of which a bare board has; it ends QEMU as an unexpected trap does. */
void abort(void)
{
    board_exit(3);
}

/* A pure virtual function called through a vtable (TFLM's MicroContext names it, weakly). */
void __cxa_pure_virtual(void)
{
    board_exit(3);
}
