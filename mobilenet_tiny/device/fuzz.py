"""Malformed serial frames, and a fuzz run that proves the device survives them: after every bad frame a
ping must come back (the device still serves, and every reply to the bad frame came before it), and a
valid infer now and then must still be byte-exact with the host TFLM interpreter.

Used by the robustness test (tests/firmware/test_robustness.py, ~1,000 frames) and by the benchmark-style
run tools/fuzz_serial.py (10,000 frames and more, not in CI)."""
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from cobs import cobs

from . import protocol
from .link import DeviceLink, DeviceTimeout

# firmware/PROTOCOL.md, "error codes".
BAD_CRC, TOO_SHORT, TOO_LONG, BAD_VERSION, UNKNOWN, BAD_LENGTH, BAD_FRAMING = 1, 2, 3, 4, 5, 6, 7
KINDS = ("random", "truncated", "crc", "oversize", "command", "size", "version", "short", "cobs")


def malformed_frame(rng: random.Random, seq: int, input_bytes: int, max_payload: int):
    """(kind, bytes to send, error codes the device may answer with; empty: any or none)."""
    kind = rng.choice(KINDS)
    if kind == "random":
        return kind, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) + b"\x00", set()
    if kind == "truncated":
        full = protocol.encode_frame(protocol.INFER, seq, bytes(rng.randrange(256) for _ in range(input_bytes)))
        return kind, full[:rng.randrange(2, len(full) - 1)], {BAD_CRC, BAD_FRAMING, TOO_SHORT}
    if kind == "crc":
        body = bytearray(protocol.frame_body(protocol.PING, seq, b"payload"))
        body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
        return kind, b"\x00" + cobs.encode(bytes(body)) + b"\x00", {BAD_CRC}
    if kind == "oversize":
        if rng.random() < 0.8:  # keep most of them cheap: each costs a transfer of > max_payload bytes
            return kind, protocol.encode_frame(protocol.PING, seq, bytes(range(1, 66))), {BAD_LENGTH}
        return kind, protocol.encode_frame(protocol.INFER, seq, bytes(max_payload + rng.randrange(1, 64))), {TOO_LONG}
    if kind == "command":
        return kind, protocol.encode_frame(rng.choice([0x00, 0x04, 0x7F, 0x81, 0xFF]), seq), {UNKNOWN}
    if kind == "size":
        n = rng.choice([0, 1, input_bytes - 1, input_bytes // 2])
        return kind, protocol.encode_frame(protocol.INFER, seq, bytes(n)), {BAD_LENGTH}
    if kind == "version":
        return kind, protocol.encode_frame(protocol.HELLO, seq, version=rng.choice([0, 2, 255])), {BAD_VERSION}
    if kind == "short":
        short = bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 7)))
        return kind, b"\x00" + cobs.encode(short) + b"\x00", {TOO_SHORT}
    return kind, b"\x00\x20abc\x00", {BAD_FRAMING}  # a COBS block promising 31 bytes in a 3-byte frame


@dataclass
class FuzzResult:
    frames: int = 0
    kinds: Counter = field(default_factory=Counter)
    error_replies: Counter = field(default_factory=Counter)  # device error code -> count
    wrong_replies: list = field(default_factory=list)  # (frame number, kind, codes seen, codes allowed)
    hangs: int = 0  # a ping after a bad frame not answered in time
    infers_checked: int = 0
    infers_exact: int = 0
    seconds: float = 0.0

    def summary_lines(self) -> list[str]:
        codes = ", ".join(f"{protocol.ERROR_NAMES.get(c, c)} {n:,}" for c, n in sorted(self.error_replies.items()))
        return [f"{self.frames:,} malformed frames in {self.seconds:.1f} s "
                f"({self.frames / max(self.seconds, 1e-9):.0f} frames/s, each followed by a ping)",
                "kinds: " + ", ".join(f"{k} {self.kinds[k]:,}" for k in KINDS),
                f"error replies: {sum(self.error_replies.values()):,} ({codes})",
                f"hangs (ping unanswered): {self.hangs}, wrong replies: {len(self.wrong_replies)}",
                f"valid infers in between: {self.infers_exact}/{self.infers_checked} byte-exact with host TFLM"]


def fuzz(link: DeviceLink, frames: int, *, seed: int = 0, infer_every: int = 0, infer_check=None,
         progress=None) -> FuzzResult:
    """Send `frames` malformed frames, each followed by a ping; every `infer_every` frames call
    infer_check(link) -> bool (a valid inference compared with the host). Stops at the first hang."""
    rng = random.Random(seed)
    hello = link.hello()
    result = FuzzResult()
    start = time.monotonic()
    for i in range(frames):
        seq = link.next_seq()
        kind, data, allowed = malformed_frame(rng, seq, hello.input_bytes, hello.max_payload)
        link.unsolicited.clear()
        link.send_raw(data)
        try:
            answered = link.ping(b"alive %d" % i) == b"alive %d" % i
        except DeviceTimeout:
            result.hangs += 1
            break
        codes = {protocol.parse_error(f.payload).code for f in link.unsolicited if f.type == protocol.ERROR}
        result.frames += 1
        result.kinds[kind] += 1
        result.error_replies.update(codes)
        if not answered or (allowed and not codes & allowed):
            result.wrong_replies.append((i, kind, sorted(codes), sorted(allowed)))
        if infer_every and infer_check is not None and (i + 1) % infer_every == 0:
            result.infers_checked += 1
            result.infers_exact += bool(infer_check(link))
        if progress:
            progress(i + 1, frames)
    result.seconds = time.monotonic() - start
    return result
