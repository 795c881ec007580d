"""Model builders: one plain function per architecture (tf_keras, quantizable by tfmot)."""
from .common import parse_input_shape
from .mobilenet_v1 import mobilenet_v1
from .mobilenet_v2 import mobilenet_v2

ARCHITECTURES = {"v1": mobilenet_v1, "v2": mobilenet_v2}
DEFAULT_ALPHA = {"v1": 0.25, "v2": 0.35}


def check_arch(arch: str) -> str:
    """The one check of an architecture name (the CLI, training and build_model all go through it)."""
    from ..errors import UserError

    if arch not in ARCHITECTURES:
        raise UserError(f"unknown architecture {arch!r}: choose one of {', '.join(sorted(ARCHITECTURES))}")
    return arch


def build_model(arch: str, input_shape=(96, 96, 1), alpha: float | None = None, num_classes: int = 2, **kwargs):
    """Build `arch` ('v1' or 'v2'); alpha None picks the architecture's small default (0.25 / 0.35)."""
    check_arch(arch)
    if alpha is None:
        alpha = DEFAULT_ALPHA[arch]
    return ARCHITECTURES[arch](input_shape=input_shape, alpha=alpha, num_classes=num_classes, **kwargs)


__all__ = ["mobilenet_v1", "mobilenet_v2", "build_model", "check_arch", "parse_input_shape", "ARCHITECTURES",
           "DEFAULT_ALPHA"]
