"""A serial connection to a running firmware: requests out, replies back, timeouts on everything.

Works the same over a real serial port (/dev/ttyACM0, COM3) and QEMU's UART on TCP
(socket://127.0.0.1:PORT). Anything between frames that does not decode (the boot banner, line noise) is
skipped; a reply is matched to its request by sequence number.
"""
import socket
import time
import urllib.parse

import numpy as np
import serial
from serial.urlhandler.protocol_socket import Serial as _PySerialSocket

from ..errors import UserError, one_line
from . import protocol
from .protocol import Frame, ProtocolError


class DeviceTimeout(UserError):
    """The device did not answer in time."""


class DeviceGone(UserError):
    """The connection dropped (board unplugged, QEMU killed)."""


class DeviceError(UserError):
    """The device answered a request with an error frame."""

    def __init__(self, reply: protocol.DeviceErrorReply, request: str):
        super().__init__(f"device rejected {request}: {reply}")
        self.reply = reply


_NAMES = {protocol.PING: "ping", protocol.HELLO: "hello", protocol.INFER: "infer"}

# pyserial's URL handlers (serial.urlhandler.protocol_*) besides socket://, which is checked here.
_OTHER_URL_SCHEMES = ("rfc2217", "loop", "spy", "hwgrep", "alt", "cp2110")


def check_port(url: str) -> str:
    """One line for a --port that cannot name a serial port, before anything waits on it (a socket URL
    is retried for seconds while an emulator starts)."""
    if not url or not url.strip():
        raise UserError("--port is empty: give a serial port (/dev/ttyACM0, COM3) or socket://HOST:PORT")
    if "://" not in url:
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("socket", "rfc2217"):
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None or not 0 < port < 65536:
            raise UserError(f"--port {url}: expected {parts.scheme}://HOST:PORT with a TCP port 1-65535 "
                            f"(e.g. {parts.scheme}://127.0.0.1:5555)")
    elif parts.scheme not in _OTHER_URL_SCHEMES:
        raise UserError(f"--port {url}: unknown URL scheme {parts.scheme}:// (use a serial port such as "
                        "/dev/ttyACM0 or COM3, or socket://HOST:PORT)")
    return url


class _SocketPort(_PySerialSocket):
    """pyserial's socket:// port, except that opening it keeps what the device has sent already.

    pyserial empties the input on open. A QEMU board starts its CPU when this connection is made, so its
    boot banner can arrive in the instant between connecting and that flush and be lost (on a loaded
    machine it was, at random). The device speaks first only at boot, so nothing stale is kept."""

    _opening = False

    def open(self):
        self._opening = True
        try:
            super().open()
        finally:
            self._opening = False

    def reset_input_buffer(self):
        if not self._opening:
            super().reset_input_buffer()


class DeviceLink:
    def __init__(self, url: str, *, timeout: float = 10.0, baudrate: int = 115200, open_timeout: float = 10.0):
        self.url, self.timeout = url, timeout
        self._buffer = bytearray()
        self._seq = 0
        self.noise_bytes = 0  # bytes skipped because they formed no valid frame
        self.unsolicited: list[Frame] = []  # frames that answered no pending request (e.g. seq-0 errors)
        self._port = self._open(url, baudrate, open_timeout)

    @staticmethod
    def _open(url: str, baudrate: int, open_timeout: float):
        check_port(url)
        deadline = time.monotonic() + open_timeout
        while True:
            try:
                if url.startswith("socket://"):
                    port = _SocketPort(None, baudrate=baudrate, timeout=0.05, write_timeout=5)
                    port.port = url
                    port.open()
                else:
                    port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05, write_timeout=5)
                sock = getattr(port, "_socket", None)
                if sock is not None:
                    # pyserial leaves Nagle on: a request written right after another one would wait for
                    # the peer's delayed ACK (~40 ms per round trip).
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return port
            except (serial.SerialException, OSError, ValueError) as e:
                # An emulator may still be starting its server socket; a real port either exists or not.
                if not url.startswith("socket://") or time.monotonic() > deadline:
                    raise UserError(f"cannot open serial port {url}: {one_line(e)}") from None
                time.sleep(0.1)

    def close(self):
        if self._port is not None:
            self._port.close()
            self._port = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- raw I/O ----

    def _gone(self, e: BaseException) -> DeviceGone:
        return DeviceGone(f"lost the connection to the device at {self.url}: {one_line(e) or type(e).__name__}")

    def send_raw(self, data: bytes):
        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as e:
            raise self._gone(e) from None

    def read_available(self) -> bytes:
        """Whatever has arrived (waits at most ~50 ms): raw bytes, for monitors."""
        return self._read_some()

    def _read_some(self) -> bytes:
        try:
            return self._port.read(max(1, self._port.in_waiting))
        except (serial.SerialException, OSError) as e:
            raise self._gone(e) from None

    def read_frame(self, deadline: float) -> Frame:
        """The next valid frame, skipping noise; DeviceTimeout at `deadline` (time.monotonic())."""
        while True:
            while (end := self._buffer.find(b"\x00")) >= 0:
                raw = bytes(self._buffer[:end])
                del self._buffer[:end + 1]
                if not raw:
                    continue
                try:
                    return protocol.decode_frame(raw)
                except ProtocolError:
                    self.noise_bytes += len(raw)
            if time.monotonic() > deadline:
                raise DeviceTimeout(f"no reply from the device at {self.url} within {self.timeout:g} s "
                                    "(is it running and is this its port?)")
            self._buffer += self._read_some()

    # ---- requests ----

    def next_seq(self) -> int:
        self._seq = self._seq % 255 + 1  # 1..255: 0 marks errors the device could not tie to a request
        return self._seq

    def request(self, msg_type: int, payload: bytes = b"", timeout: float | None = None) -> Frame:
        seq = self.next_seq()
        self.send_raw(protocol.encode_frame(msg_type, seq, payload))
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            frame = self.read_frame(deadline)
            if frame.seq != seq:
                self.unsolicited.append(frame)
                continue
            if frame.type == protocol.ERROR:
                raise DeviceError(protocol.parse_error(frame.payload), _NAMES.get(msg_type, f"type {msg_type:#x}"))
            if frame.type != msg_type | protocol.REPLY:
                raise UserError(f"device answered {_NAMES.get(msg_type)} with message type {frame.type:#x}")
            return frame

    def sync(self, timeout: float | None = None):
        """Wait until the device answers a ping (it may still be booting or printing its banner)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            try:
                self.request(protocol.PING, b"sync", timeout=min(1.0, max(0.05, deadline - time.monotonic())))
                return
            except DeviceTimeout:
                if time.monotonic() > deadline:
                    raise DeviceTimeout(f"the device at {self.url} did not answer a ping within "
                                        f"{self.timeout if timeout is None else timeout:g} s") from None

    def ping(self, payload: bytes = b"") -> bytes:
        return self.request(protocol.PING, payload).payload

    def hello(self) -> protocol.Hello:
        try:
            return protocol.parse_hello(self.request(protocol.HELLO).payload)
        except ProtocolError as e:
            raise UserError(f"device sent a malformed hello: {e}") from None

    def infer(self, pixels) -> protocol.InferResult:
        data = np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()
        try:
            return protocol.parse_infer(self.request(protocol.INFER, data).payload)
        except ProtocolError as e:
            raise UserError(f"device sent a malformed infer reply: {e}") from None
