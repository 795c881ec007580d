/* COBS framing with CRC-32 (see frame.h and PROTOCOL.md). */
#include "frame.h"

#include "board.h"

/* CRC-32 (the zlib/Ethernet polynomial, reflected) with a 16-entry table: 64 bytes of flash instead of
 * 1 KiB, at two lookups per byte, which is still far faster than the UART. */
static const uint32_t crc_nibble_table[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t crc32_update(uint32_t crc, const uint8_t *data, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ crc_nibble_table[crc & 0xF];
        crc = (crc >> 4) ^ crc_nibble_table[crc & 0xF];
    }
    return ~crc;
}

/* ---- decoder ---- */

static void reset(frame_decoder_t *d)
{
    d->count = 0;
    d->crc = 0;
    d->code = 0;
    d->block = 0xFF;
    d->overflow = 0;
    d->raw = 0;
}

void frame_decoder_init(frame_decoder_t *d, uint8_t *payload, size_t capacity)
{
    d->payload = payload;
    d->capacity = capacity;
    d->payload_len = 0;
    reset(d);
}

/* One decoded byte: it enters the 4-byte tail, and the byte it pushes out is header or payload. */
static void append(frame_decoder_t *d, uint8_t byte)
{
    uint8_t *slot = &d->tail[d->count % FRAME_CRC_BYTES];
    if (d->count >= FRAME_CRC_BYTES) {
        size_t position = d->count - FRAME_CRC_BYTES;
        uint8_t out = *slot;
        d->crc = crc32_update(d->crc, &out, 1);
        if (position < FRAME_HEADER_BYTES) {
            d->header[position] = out;
        } else if (position - FRAME_HEADER_BYTES < d->capacity) {
            d->payload[position - FRAME_HEADER_BYTES] = out;
        } else {
            d->overflow = 1;
            return;
        }
    }
    *slot = byte;
    d->count++;
}

static frame_status_t finish(frame_decoder_t *d)
{
    if (d->overflow)
        return FRAME_ERR_TOO_LONG;
    if (d->code != 0)
        return FRAME_ERR_COBS;
    if (d->count < FRAME_HEADER_BYTES + FRAME_CRC_BYTES)
        return FRAME_ERR_TOO_SHORT;
    uint32_t sent = 0;
    for (int k = FRAME_CRC_BYTES - 1; k >= 0; k--)
        sent = (sent << 8) | d->tail[(d->count + (size_t)k) % FRAME_CRC_BYTES];
    d->payload_len = d->count - FRAME_HEADER_BYTES - FRAME_CRC_BYTES;
    return d->crc == sent ? FRAME_OK : FRAME_ERR_CRC;
}

frame_status_t frame_decoder_feed(frame_decoder_t *d, uint8_t byte)
{
    if (byte == 0) {
        frame_status_t status = d->raw ? finish(d) : FRAME_NONE; /* back-to-back delimiters are not frames */
        reset(d);
        return status;
    }
    if (d->overflow)
        return FRAME_NONE;
    if (d->code == 0) {
        /* A code byte. The previous block, unless it was a full 0xFF block, ended with a zero. */
        if (d->raw && d->block != 0xFF)
            append(d, 0);
        d->block = byte;
        d->code = (uint8_t)(byte - 1);
    } else {
        append(d, byte);
        d->code--;
    }
    d->raw = 1;
    return FRAME_NONE;
}

/* ---- writer ---- */

static struct {
    uint8_t block[254];
    uint8_t count;
    uint32_t crc;
} writer;

static void flush_block(void)
{
    uint8_t code = (uint8_t)(writer.count + 1);
    board_write(&code, 1);
    board_write(writer.block, writer.count);
    writer.count = 0;
}

static void encode_byte(uint8_t byte)
{
    if (byte == 0) {
        flush_block();
        return;
    }
    writer.block[writer.count++] = byte;
    if (writer.count == sizeof(writer.block))
        flush_block(); /* 0xFF block: no implied zero */
}

void frame_put(const void *data, size_t len)
{
    const uint8_t *bytes = (const uint8_t *)data;
    writer.crc = crc32_update(writer.crc, bytes, len);
    for (size_t i = 0; i < len; i++)
        encode_byte(bytes[i]);
}

void frame_begin(uint8_t type, uint8_t seq)
{
    static const uint8_t delimiter = 0;
    board_write(&delimiter, 1); /* ends any partial frame a receiver may hold (e.g. the boot banner) */
    writer.count = 0;
    writer.crc = 0;
    const uint8_t header[FRAME_HEADER_BYTES] = {FRAME_VERSION, type, seq};
    frame_put(header, sizeof(header));
}

void frame_put_u8(uint8_t v)
{
    frame_put(&v, 1);
}

void frame_put_u16(uint16_t v)
{
    const uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    frame_put(b, 2);
}

void frame_put_u32(uint32_t v)
{
    const uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    frame_put(b, 4);
}

void frame_put_u64(uint64_t v)
{
    frame_put_u32((uint32_t)v);
    frame_put_u32((uint32_t)(v >> 32));
}

void frame_put_str(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0' && n < 255)
        n++;
    frame_put_u8((uint8_t)n);
    frame_put(s, n);
}

void frame_end(void)
{
    uint32_t crc = writer.crc;
    const uint8_t b[4] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16), (uint8_t)(crc >> 24)};
    for (int i = 0; i < 4; i++)
        encode_byte(b[i]);
    flush_block();
    static const uint8_t delimiter = 0;
    board_write(&delimiter, 1);
    board_flush();
}
