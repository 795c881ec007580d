/* The few newlib hooks a bare-metal image needs: a heap between .bss and the stack floor. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern uint8_t __heap_start, __stack_limit;

void *_sbrk(ptrdiff_t increment)
{
    static uint8_t *brk = &__heap_start;
    if (increment > 0 && (size_t)increment > (size_t)(&__stack_limit - brk)) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uint8_t *previous = brk;
    brk += increment;
    return previous;
}
