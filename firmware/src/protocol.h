/* Message layer over frame.h: decodes requests from the host and answers each one (PROTOCOL.md). */
#ifndef MTK_PROTOCOL_H
#define MTK_PROTOCOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    MSG_PING = 0x01,
    MSG_HELLO = 0x02,
    MSG_INFER = 0x03,
    MSG_REPLY_FLAG = 0x80, /* a reply's type is the request's type | 0x80 */
    MSG_ERROR = 0x7F,
};

enum {
    ERR_BAD_CRC = 1,
    ERR_TOO_SHORT = 2,
    ERR_TOO_LONG = 3,
    ERR_BAD_VERSION = 4,
    ERR_UNKNOWN_COMMAND = 5,
    ERR_BAD_LENGTH = 6,
    ERR_BAD_FRAMING = 7,
    ERR_RUNTIME = 8,
};

#define PING_MAX_PAYLOAD 64

void protocol_init(void);
/* Handle every byte the board has received so far; returns without waiting for more. */
void protocol_poll(void);
void protocol_send_error(uint8_t seq, uint8_t code, const char *message);

#ifdef __cplusplus
}
#endif

#endif
