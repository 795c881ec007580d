"""The serial protocol's bytes (firmware/PROTOCOL.md; the C side is firmware/src/frame.c, protocol.c).

A frame on the wire is 0x00, COBS(version, type, seq, payload, CRC-32 LE), 0x00. This module only turns
messages into bytes and bytes into messages; link.py does the I/O.
"""
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from cobs import cobs

VERSION = 1
HEADER = struct.Struct("<BBB")
CRC_BYTES = 4

PING, HELLO, INFER = 0x01, 0x02, 0x03
REPLY = 0x80
ERROR = 0x7F
PING_MAX_PAYLOAD = 64

ERROR_NAMES = {1: "bad CRC", 2: "frame too short", 3: "frame too long", 4: "bad version",
               5: "unknown command", 6: "bad payload length", 7: "bad framing", 8: "runtime error"}


class ProtocolError(ValueError):
    """Bytes that are not a valid frame (the link skips them: e.g. the boot banner)."""


@dataclass(frozen=True)
class Frame:
    version: int
    type: int
    seq: int
    payload: bytes


def frame_body(msg_type: int, seq: int, payload: bytes = b"", version: int = VERSION) -> bytes:
    """The decoded frame: header + payload + CRC (what COBS then encodes)."""
    body = HEADER.pack(version, msg_type, seq) + bytes(payload)
    return body + struct.pack("<I", zlib.crc32(body))


def encode_frame(msg_type: int, seq: int, payload: bytes = b"", version: int = VERSION) -> bytes:
    """Bytes to send. The leading delimiter closes whatever partial frame the device may hold."""
    return b"\x00" + cobs.encode(frame_body(msg_type, seq, payload, version)) + b"\x00"


def decode_frame(raw: bytes) -> Frame:
    """One frame's bytes between delimiters → Frame; ProtocolError if it is not a valid frame."""
    try:
        body = cobs.decode(raw)
    except cobs.DecodeError as e:
        raise ProtocolError(f"bad COBS: {e}") from None
    if len(body) < HEADER.size + CRC_BYTES:
        raise ProtocolError(f"frame of {len(body)} bytes is shorter than header + CRC")
    (crc,) = struct.unpack_from("<I", body, len(body) - CRC_BYTES)
    if zlib.crc32(body[:-CRC_BYTES]) != crc:
        raise ProtocolError("CRC mismatch")
    version, msg_type, seq = HEADER.unpack_from(body)
    return Frame(version, msg_type, seq, bytes(body[HEADER.size:-CRC_BYTES]))


class _Reader:
    """Sequential little-endian reads from a payload; ProtocolError when it runs short."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        s = struct.Struct("<" + fmt)
        if self.pos + s.size > len(self.data):
            raise ProtocolError("payload shorter than its fields")
        values = s.unpack_from(self.data, self.pos)
        self.pos += s.size
        return values[0] if len(values) == 1 else values

    def string(self) -> str:
        n = self.take("B")
        if self.pos + n > len(self.data):
            raise ProtocolError("string runs past the payload")
        s = self.data[self.pos:self.pos + n].decode("utf-8", errors="replace")
        self.pos += n
        return s

    def rest(self) -> bytes:
        return self.data[self.pos:]

    def remaining(self) -> int:
        return len(self.data) - self.pos


@dataclass(frozen=True)
class Hello:
    protocol_version: int
    board: str
    runtime: str
    model_sha256: str
    input_shape: tuple[int, int, int]  # H, W, C
    input_scale: float
    input_zero_point: int
    output_size: int
    output_scale: float
    output_zero_point: int
    arena_bytes: int
    max_payload: int
    timer: str
    ticks_per_second: int
    instructions_per_tick: int  # 0: ticks are cycles, not instructions
    runtime_error: str
    labels: tuple[str, ...]
    cpu_hz: int = 0  # clock latencies in ms are quoted at; 0: firmware older than this field

    @property
    def input_bytes(self) -> int:
        h, w, c = self.input_shape
        return h * w * c

    def latency_instructions(self, ticks: int) -> int | None:
        """Instructions for `ticks` timer ticks (QEMU boards), None where ticks are cycles."""
        return ticks * self.instructions_per_tick if self.instructions_per_tick else None

    def latency_ms(self, ticks: int) -> float | None:
        """Milliseconds at the board's clock: cycles / cpu_hz on a real board; on QEMU, instructions /
        cpu_hz of the part the board stands for (one instruction per cycle, an estimate)."""
        if self.instructions_per_tick:
            return ticks * self.instructions_per_tick / self.cpu_hz * 1e3 if self.cpu_hz else None
        return ticks / self.ticks_per_second * 1e3 if self.ticks_per_second else None

    def clock_text(self) -> str:
        if not self.cpu_hz:
            return "clock unknown"
        mhz = f"{self.cpu_hz / 1e6:g} MHz"
        return f"at {mhz}, 1 instruction/cycle" if self.instructions_per_tick else f"at {mhz}"


def parse_hello(payload: bytes) -> Hello:
    r = _Reader(payload)
    version, board, runtime, sha = r.take("B"), r.string(), r.string(), r.string()
    shape = tuple(int(v) for v in r.take("HHH"))
    in_scale, in_zp = r.take("fi")
    out_size, out_scale, out_zp = r.take("Hfi")
    arena, max_payload = r.take("II")
    timer = r.string()
    tps, ipt = r.take("II")
    runtime_error = r.string()
    labels = tuple(r.string() for _ in range(r.take("H")))
    cpu_hz = r.take("I") if r.remaining() >= 4 else 0  # appended field: absent in older firmware
    return Hello(version, board, runtime, sha, shape, float(in_scale), int(in_zp), int(out_size),
                 float(out_scale), int(out_zp), int(arena), int(max_payload), timer, int(tps), int(ipt),
                 runtime_error, labels, int(cpu_hz))


@dataclass(frozen=True)
class InferResult:
    top_class: int
    latency_ticks: int
    output: np.ndarray  # int8 (output_size,)


def parse_infer(payload: bytes) -> InferResult:
    r = _Reader(payload)
    top, ticks, n = r.take("HQH")
    rest = r.rest()
    if len(rest) != n:
        raise ProtocolError(f"infer reply announces {n} outputs but carries {len(rest)} bytes")
    return InferResult(int(top), int(ticks), np.frombuffer(rest, dtype=np.int8).copy())


@dataclass(frozen=True)
class DeviceErrorReply:
    code: int
    message: str

    def __str__(self) -> str:
        return f"{ERROR_NAMES.get(self.code, f'error {self.code}')}: {self.message}"


def parse_error(payload: bytes) -> DeviceErrorReply:
    r = _Reader(payload)
    return DeviceErrorReply(r.take("B"), r.string())
