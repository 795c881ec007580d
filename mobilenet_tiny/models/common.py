"""Argument checks shared by the builders."""
from ..errors import UserError


class ModelArgumentError(UserError, ValueError):
    """An invalid builder argument (a ValueError for library callers, a one-line error for the CLI)."""


def check_input_shape(input_shape) -> tuple[int, int, int]:
    try:
        h, w, c = (int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise ModelArgumentError(f"input shape must be (height, width, channels), got {input_shape!r}") from None
    if h < 32 or w < 32:
        raise ModelArgumentError(f"input {h}x{w}x{c}: height and width must be at least 32")
    if c not in (1, 3):
        raise ModelArgumentError(f"input {h}x{w}x{c}: channels must be 1 (gray) or 3 (RGB)")
    return h, w, c


def check_alpha(alpha: float) -> float:
    if not isinstance(alpha, (int, float)) or not 0.1 <= alpha <= 1.4:
        raise ModelArgumentError(f"alpha {alpha!r} out of range: the width multiplier must be in [0.1, 1.4]")
    return float(alpha)


def check_classes(num_classes: int) -> int:
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ModelArgumentError(f"num_classes {num_classes!r}: a classifier needs at least 2 classes")
    return num_classes


def check_dropout(dropout: float) -> float:
    if not 0.0 <= dropout < 1.0:
        raise ModelArgumentError(f"dropout {dropout!r} must be in [0, 1)")
    return float(dropout)


def check_bn_momentum(momentum: float) -> float:
    if not isinstance(momentum, (int, float)) or not 0.0 <= momentum < 1.0:
        raise ModelArgumentError(f"bn_momentum {momentum!r} must be in [0, 1)")
    return float(momentum)


def dropout_layer(layers, rate: float):
    """Dropout drawing its masks from a tf.random.Generator: its state is a variable, so a checkpoint holds
    it and a resumed run draws the masks an unbroken run would (Keras' default stateful random ops keep
    their state inside the traced function, where no checkpoint reaches it)."""
    return layers.Dropout(rate, name="dropout", rng_type="stateful")


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """'96x96x1' -> (96, 96, 1), validated like the builders do."""
    parts = text.lower().split("x")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
        raise ModelArgumentError(f"input {text!r}: expected HxWxC, e.g. 96x96x1")
    return check_input_shape(tuple(int(p) for p in parts))
