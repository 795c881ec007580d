/* Host harness for firmware/src/frame.c: the firmware's framing code compiled with the system gcc.
 *   frame_harness decode CAPACITY < bytes  -> one line per frame: "<status> <hex of header + payload>"
 *   frame_harness encode < type seq payload -> the frame bytes the firmware would send */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

void board_write(const uint8_t *data, size_t len) { fwrite(data, 1, len, stdout); }
void board_flush(void) { fflush(stdout); }

static size_t read_all(uint8_t **out) {
  size_t cap = 1 << 16, len = 0, n;
  uint8_t *buf = malloc(cap);
  while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
    len += n;
    if (len == cap) buf = realloc(buf, cap *= 2);
  }
  *out = buf;
  return len;
}

int main(int argc, char **argv) {
  uint8_t *in;
  size_t len = read_all(&in);
  if (argc == 3 && strcmp(argv[1], "decode") == 0) {
    size_t capacity = (size_t)atoi(argv[2]);
    uint8_t *buf = malloc(capacity ? capacity : 1);
    frame_decoder_t d;
    frame_decoder_init(&d, buf, capacity);
    for (size_t i = 0; i < len; i++) {
      frame_status_t s = frame_decoder_feed(&d, in[i]);
      if (s == FRAME_NONE) continue;
      printf("%d ", (int)s);
      if (s == FRAME_OK) {
        for (size_t k = 0; k < FRAME_HEADER_BYTES; k++) printf("%02x", d.header[k]);
        for (size_t k = 0; k < d.payload_len; k++) printf("%02x", buf[k]);
      }
      printf("\n");
    }
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "encode") == 0 && len >= 2) {
    frame_begin(in[0], in[1]);
    frame_put(in + 2, len - 2);
    frame_end();
    return 0;
  }
  fprintf(stderr, "usage: frame_harness decode CAPACITY | encode\n");
  return 2;
}
