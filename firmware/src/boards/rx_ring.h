/* Receive ring between a UART's interrupt handler (the only producer) and the protocol loop (the only
 * consumer). Single-producer/single-consumer with free-running indices: neither side needs a lock. */
#ifndef MTK_RX_RING_H
#define MTK_RX_RING_H

#include <stdint.h>

#ifndef RX_RING_BYTES
#define RX_RING_BYTES 512u /* a power of two; the ISR stops taking bytes when it is full */
#endif

typedef struct {
    uint8_t data[RX_RING_BYTES];
    volatile uint32_t head; /* written by the ISR */
    volatile uint32_t tail; /* written by the protocol loop */
} rx_ring_t;

static inline int rx_ring_full(const rx_ring_t *r)
{
    return r->head - r->tail == RX_RING_BYTES;
}
static inline int rx_ring_empty(const rx_ring_t *r)
{
    return r->head == r->tail;
}

static inline void rx_ring_push(rx_ring_t *r, uint8_t byte)
{
    r->data[r->head % RX_RING_BYTES] = byte;
    __asm volatile("" ::: "memory"); /* the byte is stored before the index publishes it */
    r->head = r->head + 1;
}

static inline int rx_ring_pop(rx_ring_t *r)
{
    if (rx_ring_empty(r))
        return -1;
    uint8_t byte = r->data[r->tail % RX_RING_BYTES];
    __asm volatile("" ::: "memory");
    r->tail = r->tail + 1;
    return byte;
}

#endif
