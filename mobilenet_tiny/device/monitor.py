"""`mobilenet-tiny monitor`: show what a device sends, decoded, for a person watching the port.

Frames are printed as messages; bytes between frames (the boot banner, debug prints) as text.
"""
import time

from . import protocol
from .link import DeviceLink

_TYPE_NAMES = {protocol.PING | protocol.REPLY: "pong", protocol.HELLO | protocol.REPLY: "hello",
               protocol.INFER | protocol.REPLY: "infer", protocol.ERROR: "error",
               protocol.PING: "ping (request)", protocol.HELLO: "hello (request)", protocol.INFER: "infer (request)"}


def describe_frame(frame: protocol.Frame) -> str:
    name = _TYPE_NAMES.get(frame.type, f"type {frame.type:#04x}")
    try:
        if frame.type == protocol.HELLO | protocol.REPLY:
            h = protocol.parse_hello(frame.payload)
            detail = (f"board {h.board}, runtime {h.runtime}, model {h.model_sha256[:16]}, input "
                      f"{'x'.join(map(str, h.input_shape))} (scale {h.input_scale:.6g}, zp {h.input_zero_point}), "
                      f"{h.output_size} outputs, arena {h.arena_bytes:,} B, labels {', '.join(h.labels)}"
                      + (f", ERROR {h.runtime_error}" if h.runtime_error else ""))
        elif frame.type == protocol.INFER | protocol.REPLY:
            r = protocol.parse_infer(frame.payload)
            detail = f"top class {r.top_class}, latency {r.latency_ticks:,} ticks, output {r.output.tolist()}"
        elif frame.type == protocol.ERROR:
            detail = str(protocol.parse_error(frame.payload))
        else:
            detail = f"{len(frame.payload)} payload bytes {frame.payload[:32].hex()}"
    except protocol.ProtocolError as e:
        detail = f"undecodable payload ({e})"
    return f"[seq {frame.seq}] {name}: {detail}"


def monitor(url: str, *, duration: float | None = None, say_hello: bool = True, out=print, baudrate: int = 115200):
    """Print decoded traffic from `url` until `duration` seconds pass (forever when None) or Ctrl-C."""
    link = DeviceLink(url, baudrate=baudrate)
    try:
        if say_hello:
            link.send_raw(protocol.encode_frame(protocol.HELLO, link.next_seq()))
        end = None if duration is None else time.monotonic() + duration
        pending = bytearray()
        while end is None or time.monotonic() < end:
            pending += link.read_available()
            while (cut := pending.find(b"\x00")) >= 0:
                raw = bytes(pending[:cut])
                del pending[:cut + 1]
                if not raw:
                    continue
                try:
                    out(describe_frame(protocol.decode_frame(raw)))
                except protocol.ProtocolError:
                    text = raw.decode("utf-8", errors="replace").strip()
                    if text:
                        out(f"text: {text}")
            if len(pending) > 4096:  # a long text stream without frames: show it as it comes
                out(f"text: {pending.decode('utf-8', errors='replace').strip()}")
                pending.clear()
    finally:
        link.close()
