"""The one exception type the CLI turns into a one-line message and a non-zero exit."""


class UserError(Exception):
    """Bad input from the user (arguments, files, data). The message is shown as is, without a traceback."""
