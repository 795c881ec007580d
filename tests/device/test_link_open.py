"""Opening a link: --port checked at once, and nothing the device sent before the port was open is lost."""
import socket
import threading
import time

import pytest

from mobilenet_tiny.device.link import DeviceLink, _SocketPort, check_port
from mobilenet_tiny.errors import UserError


def test_bytes_sent_at_connect_are_kept(monkeypatch):
    """A QEMU board boots when the host connects and prints its banner at once. pyserial's socket port
    empties its input right after connecting; the link must not (the flaky device test of issue 10)."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = threading.Event()

    def device():
        conn, _ = server.accept()
        conn.sendall(b"\r\nmobilenet-tiny on test\r\n")
        accepted.set()
        time.sleep(3)
        conn.close()

    threading.Thread(target=device, daemon=True).start()
    real = _SocketPort._reconfigure_port

    def slow_reconfigure(self, *args, **kwargs):  # the instant between connect and the flush, stretched
        assert accepted.wait(5)
        time.sleep(0.1)  # the banner is in the socket's receive buffer before open() goes on
        return real(self, *args, **kwargs)

    monkeypatch.setattr(_SocketPort, "_reconfigure_port", slow_reconfigure)
    with DeviceLink(f"socket://127.0.0.1:{server.getsockname()[1]}", open_timeout=5) as link:
        received = b""
        deadline = time.monotonic() + 5
        while b"on test" not in received and time.monotonic() < deadline:
            received += link.read_available()
    server.close()
    assert b"mobilenet-tiny on test" in received


@pytest.mark.parametrize("url,fragment", [
    ("socket://127.0.0.1", "expected socket://HOST:PORT"),
    ("socket://:5555", "expected socket://HOST:PORT"),
    ("socket://127.0.0.1:70000", "TCP port 1-65535"),
    ("rfc2217://host", "expected rfc2217://HOST:PORT"),
    ("tcp://127.0.0.1:5555", "unknown URL scheme tcp://"),
    ("", "--port is empty"),
])
def test_bad_port_urls_fail_at_once(url, fragment):
    start = time.monotonic()
    with pytest.raises(UserError, match=fragment):
        DeviceLink(url, open_timeout=10)
    assert time.monotonic() - start < 1


@pytest.mark.parametrize("url", ["/dev/ttyACM0", "COM3", "socket://127.0.0.1:5555", "socket://[::1]:5555",
                                 "rfc2217://board.local:2217", "loop://"])
def test_good_port_names_pass(url):
    assert check_port(url) == url
