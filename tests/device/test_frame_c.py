"""The firmware's C framing (firmware/src/frame.c, compiled here with the host gcc) against the host's
Python framing (mobilenet_tiny/device/protocol.py): both directions, malformed input included."""
import random
import subprocess
import zlib

import pytest
from cobs import cobs

from mobilenet_tiny.device import protocol
from mobilenet_tiny.device.platformio_env import FIRMWARE_DIR

HERE = __import__("pathlib").Path(__file__).parent
OK, TOO_SHORT, TOO_LONG, BAD_COBS, BAD_CRC = 1, 2, 3, 4, 5


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    exe = tmp_path_factory.mktemp("frame") / "frame_harness"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{FIRMWARE_DIR / 'src'}",
                    str(HERE / "frame_harness.c"), str(FIRMWARE_DIR / "src" / "frame.c"), "-o", str(exe)],
                   check=True, timeout=120)
    return exe


def decode_with_c(harness, data: bytes, capacity: int) -> list[tuple[int, bytes]]:
    out = subprocess.run([str(harness), "decode", str(capacity)], input=data, capture_output=True,
                         check=True, timeout=60).stdout.decode()
    result = []
    for line in out.splitlines():
        status, _, hexdata = line.partition(" ")
        result.append((int(status), bytes.fromhex(hexdata.strip())))
    return result


def test_c_decodes_python_frames(harness):
    rng = random.Random(1)
    frames = [(rng.randrange(256), rng.randrange(256),
               bytes(rng.choice([0, 0, 255, rng.randrange(256)]) for _ in range(rng.choice([0, 1, 253, 254, 255, 600]))))
              for _ in range(200)]
    stream = b"".join(protocol.encode_frame(t, s, p) for t, s, p in frames)
    decoded = decode_with_c(harness, stream, capacity=1024)
    assert [status for status, _ in decoded] == [OK] * len(frames)
    assert [body for _, body in decoded] == [protocol.frame_body(t, s, p)[:-4] for t, s, p in frames]


def test_python_decodes_c_frames(harness):
    rng = random.Random(2)
    for n in (0, 1, 2, 253, 254, 255, 508, 1000):
        payload = bytes(rng.choice([0, 255, rng.randrange(256)]) for _ in range(n))
        raw = subprocess.run([str(harness), "encode"], input=bytes([0x83, 7]) + payload, capture_output=True,
                             check=True, timeout=60).stdout
        assert raw[0] == 0 and raw[-1] == 0 and raw[1:-1].count(0) == 0
        frame = protocol.decode_frame(raw[1:-1])
        assert (frame.version, frame.type, frame.seq, frame.payload) == (1, 0x83, 7, payload)


def test_payload_capacity_is_exact(harness):
    """A payload of exactly CAPACITY bytes fits (the CRC needs no room of its own); one more is too long."""
    fits = protocol.encode_frame(protocol.INFER, 1, bytes(range(1, 65)))
    too_long = protocol.encode_frame(protocol.INFER, 2, bytes(65))
    decoded = decode_with_c(harness, fits + too_long, capacity=64)
    assert decoded == [(OK, protocol.frame_body(protocol.INFER, 1, bytes(range(1, 65)))[:-4]), (TOO_LONG, b"")]


def test_c_rejects_malformed_frames_and_recovers(harness):
    good = protocol.encode_frame(protocol.PING, 9, b"ok")
    body = protocol.frame_body(protocol.PING, 1, b"x")
    bad_crc = body[:-1] + bytes([body[-1] ^ 1])
    cases = [
        (b"\x00" + cobs.encode(bad_crc) + b"\x00", BAD_CRC),
        (b"\x00" + cobs.encode(b"\x01\x02") + b"\x00", TOO_SHORT),
        (b"\x00" + cobs.encode(protocol.frame_body(protocol.INFER, 1, bytes(100))) + b"\x00", TOO_LONG),
        (b"\x00\x09abc\x00", BAD_COBS),  # code byte promises 8 bytes, the frame ends after 3
        (good[:len(good) // 2], BAD_COBS),  # truncated mid-block, closed by the next frame's leading 0x00
    ]
    stream = b"".join(c for c, _ in cases) + good
    decoded = decode_with_c(harness, stream, capacity=64)
    assert [s for s, _ in decoded] == [want for _, want in cases] + [OK]
    assert decoded[-1][1] == protocol.frame_body(protocol.PING, 9, b"ok")[:-4]


def test_c_survives_random_bytes(harness):
    rng = random.Random(3)
    noise = bytes(rng.randrange(256) for _ in range(200_000))
    good = protocol.encode_frame(protocol.HELLO, 42)
    decoded = decode_with_c(harness, noise + good, capacity=512)
    assert decoded[-1] == (OK, protocol.frame_body(protocol.HELLO, 42)[:-4])
    assert all(s in (TOO_SHORT, TOO_LONG, BAD_COBS, BAD_CRC) for s, _ in decoded[:-1])


def test_crc_is_zlib_crc32():
    body = protocol.frame_body(1, 2, b"123456789")
    assert int.from_bytes(body[-4:], "little") == zlib.crc32(body[:-4])
    assert zlib.crc32(b"123456789") == 0xCBF43926  # the CRC-32 check value
