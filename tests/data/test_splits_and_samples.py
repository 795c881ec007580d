"""Splits and samples (pure numpy), the one class check, and progress lines where there is no terminal."""
import io

import numpy as np
import pytest
from rich.console import Console

from mobilenet_tiny.data.selection import check_labels
from mobilenet_tiny.data.split import assign_splits, stratified_sample, stratified_split
from mobilenet_tiny.errors import UserError


def test_test_split_leaves_the_validation_split_where_it_was():
    y = np.repeat(np.arange(5), [40, 30, 20, 10, 3])
    two = assign_splits(y, 0.2, seed=1)
    three = assign_splits(y, 0.2, seed=1, test_split=0.1)
    assert np.array_equal(two["val"], three["val"]) and not len(two["test"])
    assert np.array_equal(stratified_split(y, 0.2, 1)[1], two["val"])
    parts = [set(three[name]) for name in ("train", "val", "test")]
    assert set.union(*parts) == set(range(len(y))) and sum(map(len, parts)) == len(y)
    assert np.bincount(y[three["test"]]).tolist() == [4, 3, 2, 1, 1]  # a class of 3: 1 val, 1 test, 1 train
    assert np.bincount(y[three["train"]], minlength=5).min() >= 1
    with pytest.raises(UserError, match="leave nothing to train on"):
        assign_splits(y, 0.6, 0, test_split=0.4)


def test_stratified_sample_keeps_each_class_share_and_is_seeded():
    y = np.repeat(np.arange(3), [60, 30, 10])
    pick = stratified_sample(y, 10, seed=0)
    assert np.bincount(y[pick]).tolist() == [6, 3, 1]
    assert np.array_equal(pick, stratified_sample(y, 10, seed=0))
    assert not np.array_equal(pick, stratified_sample(y, 10, seed=1))
    assert not np.array_equal(pick, np.arange(10))  # never just the first N
    assert np.array_equal(stratified_sample(y, 1000, seed=0), np.arange(100))
    odd = stratified_sample(y, 7, seed=0)  # 4.2 / 2.1 / 0.7: the largest remainder gets the 7th
    assert len(odd) == 7 and np.bincount(y[odd], minlength=3).tolist() == [4, 2, 1]


def test_one_class_check_maps_names_and_refuses_other_classes():
    assert check_labels(["b", "a", "c"], 3, ["a", "b", "c"]).tolist() == [1, 0, 2]  # same classes, other order
    assert check_labels(["x", "y"], 2).tolist() == [0, 1]
    with pytest.raises(UserError, match="are not the model's labels"):
        check_labels(["cat", "dog"], 2, ["ant", "bee"])
    with pytest.raises(UserError, match="has 3 outputs but the data has 2 classes"):
        check_labels(["cat", "dog"], 3)


def test_progress_without_a_terminal_is_a_line_every_interval():
    from mobilenet_tiny.progress import task_progress

    lines = []
    console = Console(file=io.StringIO(), force_terminal=False)
    with task_progress("images", 5, lines.append, interval=0.0, console=console) as bar:
        for done in range(1, 6):
            bar.update(done)
    assert [line.split(" (")[0] for line in lines] == [f"images: {d}/5" for d in range(1, 5)]  # not at the end
    quiet = []
    with task_progress("images", 5, quiet.append, interval=3600, console=console) as bar:
        bar.update(3)
    assert quiet == []
