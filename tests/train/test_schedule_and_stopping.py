"""The learning-rate schedules and the early-stopping bookkeeping (pure functions of the step count and
of the recorded history, which is what makes a resumed run exact)."""
import math

import pytest

from mobilenet_tiny.train import TrainConfig, best_epoch, parse_input_size, phase_status


def lr_values(kind, base=1.0, total=100, warmup=10, steps=(0, 4, 9, 10, 55, 99, 100, 150)):
    from mobilenet_tiny.tf_env import keras, tf
    from mobilenet_tiny.train import make_schedule

    schedule = make_schedule(keras, tf, kind, base, total, warmup)
    return [float(schedule(s)) for s in steps]


def test_cosine_with_linear_warm_up():
    v = lr_values("cosine")
    assert v[0] == pytest.approx(0.1) and v[1] == pytest.approx(0.5) and v[2] == pytest.approx(1.0)
    assert v[3] == pytest.approx(1.0)  # warm-up ends at the peak
    assert v[4] == pytest.approx(0.5 * (1 + math.cos(math.pi * 45 / 90)), abs=1e-6)
    assert v[5] == pytest.approx(0.5 * (1 + math.cos(math.pi * 89 / 90)), abs=1e-6)
    assert v[6] == v[7] == pytest.approx(0.0, abs=1e-7)  # stays at 0 after the last step


def test_step_and_constant():
    assert lr_values("step", warmup=0, steps=(0, 49, 50, 74, 75, 99)) == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    assert lr_values("constant", warmup=0, steps=(0, 50, 99)) == pytest.approx([1, 1, 1])


def history(accuracies, losses=None, phase="float"):
    losses = losses or [1.0] * len(accuracies)
    return [{"phase": phase, "epoch": i + 1, "val_accuracy": a, "val_loss": l}
            for i, (a, l) in enumerate(zip(accuracies, losses))]


def test_best_epoch_breaks_ties_by_loss_then_by_the_earlier_epoch():
    assert best_epoch(history([0.5, 0.8, 0.7, 0.8]), "float") == 2
    assert best_epoch(history([0.5, 0.8, 0.7, 0.8], [1, 0.9, 1, 0.5]), "float") == 4
    assert best_epoch(history([0.5]), "qat") is None
    assert best_epoch([{"phase": "float", "epoch": 1, "loss": 1.0}], "float") is None  # no validation


def test_patience_stops_and_extension_restarts_the_count():
    config = TrainConfig(epochs=10, patience=3)
    h = history([0.5, 0.7, 0.6, 0.65, 0.69])
    assert phase_status(config, h, "float", 4) == {"completed": 4, "total": 10, "best_epoch": 2,
                                                   "stopped_early": False, "finished": False}
    status = phase_status(config, h, "float", 5)
    assert status["stopped_early"] and status["finished"] and status["best_epoch"] == 2
    assert not phase_status(TrainConfig(epochs=10, patience=0), h, "float", 5)["finished"]  # 0: never stop
    extended = TrainConfig(epochs=20, patience=3, extensions=[{"phase": "float", "from_epochs": 5, "to_epochs": 20}])
    assert not phase_status(extended, h, "float", 5)["finished"]
    without_val = [{"phase": "float", "epoch": e, "loss": 1.0} for e in (1, 2)]
    assert phase_status(config, without_val, "float", 2)["best_epoch"] == 2  # --val-split 0: the last epoch


def test_input_size_takes_channels_from_the_data_unless_given():
    assert parse_input_size("96x96") == (96, 96, None)
    assert parse_input_size("64x80x3") == (64, 80, 3)
    with pytest.raises(ValueError):
        parse_input_size("96")


def test_old_runs_keep_their_course():
    old = TrainConfig.from_json({"arch": "v1", "input_shape": [96, 96, 1], "epochs": 8, "qat_epochs": 2})
    assert (old.lr_schedule, old.patience, old.warmup_epochs) == ("constant", 0, 0)
