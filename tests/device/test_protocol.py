"""Host side of the serial protocol: framing round trips and message parsing."""
import struct

import numpy as np
import pytest
from cobs import cobs
from hypothesis import given, settings
from hypothesis import strategies as st

from mobilenet_tiny.device import protocol


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=2000))
def test_frame_round_trip(msg_type, seq, payload):
    raw = protocol.encode_frame(msg_type, seq, payload)
    assert raw[0] == 0 and raw[-1] == 0 and 0 not in raw[1:-1]
    frame = protocol.decode_frame(raw[1:-1])
    assert frame == protocol.Frame(protocol.VERSION, msg_type, seq, payload)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=300), st.integers(0, 299), st.integers(0, 7))
def test_any_single_bit_flip_is_rejected(payload, position, bit):
    body = bytearray(protocol.frame_body(protocol.INFER, 3, payload))
    body[position % len(body)] ^= 1 << bit
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_frame(cobs.encode(bytes(body)))


def test_short_and_garbage_frames_are_rejected():
    for raw in (b"", cobs.encode(b"\x01\x02\x03"), b"\x05ab", b"hello banner\r\n"):
        with pytest.raises(protocol.ProtocolError):
            protocol.decode_frame(raw)


def _s(text: str) -> bytes:
    data = text.encode()
    return bytes([len(data)]) + data


def test_parse_hello():
    payload = (bytes([1]) + _s("qemu_m4") + _s("compiled") + _s("ab" * 32) + struct.pack("<HHH", 32, 32, 1)
               + struct.pack("<fi", 1 / 255, -128) + struct.pack("<Hfi", 4, 1 / 256, -128)
               + struct.pack("<II", 6144, 1024) + _s("systick") + struct.pack("<II", 25_000_000, 40)
               + _s("") + struct.pack("<H", 2) + _s("cat") + _s("dog"))
    h = protocol.parse_hello(payload)
    assert (h.board, h.runtime, h.input_shape, h.input_zero_point, h.output_size) == ("qemu_m4", "compiled", (32, 32, 1), -128, 4)
    assert h.labels == ("cat", "dog") and h.instructions_per_tick == 40 and h.input_bytes == 1024
    assert h.input_scale == pytest.approx(1 / 255)
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_hello(payload[:-3])
    # Firmware of this protocol version without the appended clock: 0, no ms; with it, ms at that clock.
    assert h.cpu_hz == 0 and h.latency_ms(1000) is None and h.latency_instructions(1000) == 40_000
    clocked = protocol.parse_hello(payload + struct.pack("<I", 168_000_000))
    assert clocked.cpu_hz == 168_000_000 and clocked.labels == ("cat", "dog")
    assert clocked.latency_ms(4_200_000) == pytest.approx(1000.0)  # 168 M instructions at 168 MHz
    assert clocked.clock_text() == "at 168 MHz, 1 instruction/cycle"


def test_parse_infer_and_error():
    r = protocol.parse_infer(struct.pack("<HQH", 2, 123456789012, 3) + bytes([0x80, 0x7F, 0x00]))
    assert r.top_class == 2 and r.latency_ticks == 123456789012
    assert r.output.dtype == np.int8 and r.output.tolist() == [-128, 127, 0]
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_infer(struct.pack("<HQH", 2, 1, 3) + b"\x00")
    e = protocol.parse_error(bytes([1]) + _s("CRC mismatch"))
    assert str(e) == "bad CRC: CRC mismatch"
