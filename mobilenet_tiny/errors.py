"""User-facing errors: the one exception type the CLI turns into a one-line message and a non-zero exit."""


class UserError(Exception):
    """Bad input from the user (arguments, files, data). The message is shown as is, without a traceback."""


def one_line(message: object) -> str:
    """`message` (text or an exception) with every run of whitespace made one space.

    Errors reach the user as a single line, and messages from C++ libraries and pyserial span several."""
    return " ".join(str(message).split())
