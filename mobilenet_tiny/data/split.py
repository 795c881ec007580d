"""Deterministic, stratified train/validation split."""
import numpy as np

from ..errors import UserError


def check_val_split(val_split: float) -> float:
    if not isinstance(val_split, (int, float)) or not 0.0 <= val_split < 1.0:
        raise UserError(f"validation split {val_split!r} must be a fraction in [0, 1)")
    return float(val_split)


def stratified_split(y: np.ndarray, val_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) taking round(val_split · n) images of each class for validation.

    Every class with at least two images gives at least one to validation and keeps at least one for
    training (when val_split > 0). Each class is shuffled by its own seeded stream, so adding images to one
    class does not move the split of another. Indices come back sorted: the arrays keep their input order.
    """
    val_split = check_val_split(val_split)
    train, val = [], []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        n = members.size
        n_val = int(round(n * val_split))
        if val_split > 0 and n >= 2:
            n_val = min(max(n_val, 1), n - 1)
        else:
            n_val = 0 if n < 2 else n_val
        order = np.random.default_rng([seed, int(label)]).permutation(members)
        val.append(order[:n_val])
        train.append(order[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
