/* Serial framing (PROTOCOL.md): COBS-encoded frames delimited by 0x00; inside, a version byte, a message
 * type, a sequence number, the payload and a CRC-32 of all of it. Decoding is incremental so a frame never
 * needs more RAM than its decoded size, and any byte sequence leaves the decoder in a defined state. */
#ifndef MTK_FRAME_H
#define MTK_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FRAME_VERSION 1
#define FRAME_HEADER_BYTES 3 /* version, type, seq */
#define FRAME_CRC_BYTES 4

typedef enum {
    FRAME_NONE = 0,      /* need more bytes */
    FRAME_OK,            /* a whole frame with a good CRC is in the buffer */
    FRAME_ERR_TOO_SHORT, /* fewer bytes than header + CRC */
    FRAME_ERR_TOO_LONG,  /* more bytes than the buffer holds; the rest of the frame was skipped */
    FRAME_ERR_COBS,      /* a code byte pointed past the end of the frame */
    FRAME_ERR_CRC,
} frame_status_t;

/* The payload goes straight to its final place (for infer: the model's input buffer), so receiving an
 * image costs no RAM beyond the model's own input. The last four decoded bytes wait in `tail` until the
 * frame ends: only then is it known that they are the CRC and not payload. */
typedef struct {
    uint8_t header[FRAME_HEADER_BYTES];
    uint8_t *payload;
    size_t capacity;    /* payload bytes that fit */
    size_t count;       /* decoded bytes of the current frame so far */
    size_t payload_len; /* valid after FRAME_OK */
    uint8_t tail[FRAME_CRC_BYTES];
    uint32_t crc;     /* running CRC of the bytes that have left `tail` */
    uint8_t code;     /* bytes left in the current COBS block */
    uint8_t block;    /* the current block's code (0xFF blocks carry no implied zero) */
    uint8_t overflow; /* the frame outgrew `capacity`: skip to the delimiter */
    uint8_t raw;      /* any byte seen since the last delimiter */
} frame_decoder_t;

void frame_decoder_init(frame_decoder_t *d, uint8_t *payload, size_t capacity);
/* Feed one received byte; returns FRAME_NONE until a delimiter closes a non-empty frame. */
frame_status_t frame_decoder_feed(frame_decoder_t *d, uint8_t byte);

uint32_t crc32_update(uint32_t crc, const uint8_t *data, size_t len);

/* Streaming writer: frame_begin, any number of frame_put, frame_end. Encodes on the fly through a
 * 254-byte block buffer, so a reply of any size needs no frame-sized buffer. */
void frame_begin(uint8_t type, uint8_t seq);
void frame_put(const void *data, size_t len);
void frame_put_u8(uint8_t v);
void frame_put_u16(uint16_t v);
void frame_put_u32(uint32_t v);
void frame_put_u64(uint64_t v);
void frame_put_str(const char *s); /* u8 length + bytes, cut at 255 */
void frame_end(void);

#ifdef __cplusplus
}
#endif

#endif
