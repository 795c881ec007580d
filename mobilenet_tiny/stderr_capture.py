"""Capture the process-level stderr (file descriptor 2).

TensorFlow's converter and the TFLM host runtime log from C++ straight to fd 2, past sys.stderr and past
TF_CPP_MIN_LOG_LEVEL in places. The CLI parks that noise and shows it only when something failed."""
import contextlib
import os
import tempfile


class Captured:
    text: str = ""


@contextlib.contextmanager
def capture_fd2(replay_on_error: bool = True):
    """Yield a Captured whose .text holds what was written to fd 2 inside the block. If the block raises
    and replay_on_error, the captured text is written back to the real stderr first."""
    captured = Captured()
    with tempfile.TemporaryFile() as parked:
        saved = os.dup(2)
        os.dup2(parked.fileno(), 2)
        failed = False
        try:
            yield captured
        except KeyboardInterrupt:
            raise  # Ctrl-C: the library's log is not what the user asked to see
        except BaseException:
            from .interrupts import received

            failed = received() is None
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            parked.seek(0)
            captured.text = parked.read().decode(errors="replace")
            if failed and replay_on_error and captured.text:
                os.write(2, captured.text.encode())
