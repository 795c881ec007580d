"""Deterministic, stratified splits (train / validation / test) and stratified samples."""
import numpy as np

from ..errors import UserError

SPLITS = ("train", "val", "test")


def check_val_split(val_split: float, name: str = "validation split") -> float:
    if not isinstance(val_split, (int, float)) or not 0.0 <= val_split < 1.0:
        raise UserError(f"{name} {val_split!r} must be a fraction in [0, 1)")
    return float(val_split)


def assign_splits(y: np.ndarray, val_split: float, seed: int, test_split: float = 0.0) -> dict[str, np.ndarray]:
    """Indices of each split: round(fraction · n) images of each class go to validation, then to test.

    Every class with at least two images gives at least one to validation and keeps at least one for
    training (when val_split > 0); with test_split > 0 a class of three or more gives one to test too.
    Each class is shuffled by its own seeded stream, so adding images to one class does not move the split
    of another, and a test split does not move the validation split. Indices come back sorted.
    """
    val_split = check_val_split(val_split)
    test_split = check_val_split(test_split, "test split")
    if val_split + test_split >= 1.0:
        raise UserError(f"validation ({val_split:g}) and test ({test_split:g}) splits leave nothing to train on")
    parts = {name: [] for name in SPLITS}
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        n = members.size
        n_val = int(round(n * val_split))
        if val_split > 0 and n >= 2:
            n_val = min(max(n_val, 1), n - 1)
        else:
            n_val = 0 if n < 2 else n_val
        n_test = int(round(n * test_split))
        if test_split > 0 and n - n_val >= 2:
            n_test = min(max(n_test, 1), n - n_val - 1)
        else:
            n_test = 0
        order = np.random.default_rng([seed, int(label)]).permutation(members)
        parts["val"].append(order[:n_val])
        parts["test"].append(order[n_val:n_val + n_test])
        parts["train"].append(order[n_val + n_test:])
    return {name: np.sort(np.concatenate(p)).astype(np.int64) if p else np.zeros(0, np.int64)
            for name, p in parts.items()}


def stratified_split(y: np.ndarray, val_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) of a two-way `assign_splits`."""
    parts = assign_splits(y, val_split, seed)
    return parts["train"], parts["val"]


def stratified_sample(y: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    """Sorted indices of at most `limit` items with each class's share kept (largest remainders get the
    rounding), chosen at random within each class by a seeded stream: never just the first `limit`."""
    y = np.asarray(y)
    if limit is None or limit >= len(y):
        return np.arange(len(y))
    if limit < 1:
        raise UserError("--limit must be at least 1")
    classes, counts = np.unique(y, return_counts=True)
    exact = counts * limit / len(y)
    quota = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - quota), kind="stable")[:limit - quota.sum()]:
        quota[i] += 1
    chosen = [np.random.default_rng([seed, int(label), 0x11A1]).permutation(np.flatnonzero(y == label))[:q]
              for label, q in zip(classes, quota)]
    return np.sort(np.concatenate(chosen))
