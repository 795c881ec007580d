"""The builders against keras.applications and the papers."""
from fractions import Fraction

import pytest

from mobilenet_tiny.models import mobilenet_v1, mobilenet_v2
from mobilenet_tiny.models.stats import model_stats
from mobilenet_tiny.tf_env import keras


@pytest.mark.parametrize("alpha", [0.25, 0.5, 1.0])
@pytest.mark.parametrize("shape", [(96, 96, 3), (224, 224, 3)])
def test_param_counts_equal_keras_applications(alpha, shape):
    ours_v1 = mobilenet_v1(shape, alpha, 1000)
    ref_v1 = keras.applications.MobileNet(input_shape=shape, alpha=alpha, weights=None, classes=1000)
    assert ours_v1.count_params() == ref_v1.count_params()
    ours_v2 = mobilenet_v2(shape, alpha, 1000)
    ref_v2 = keras.applications.MobileNetV2(input_shape=shape, alpha=alpha, weights=None, classes=1000)
    assert ours_v2.count_params() == ref_v2.count_params()


@pytest.mark.parametrize("builder, alpha, paper_macs, keras_params", [
    (mobilenet_v1, 1.0, 569e6, 4_253_864),
    (mobilenet_v1, 0.25, 41e6, 475_544),
    (mobilenet_v2, 1.0, 300e6, 3_538_984),
])
def test_against_the_papers_tables(builder, alpha, paper_macs, keras_params):
    stats = model_stats(builder((224, 224, 3), alpha, 1000))
    assert abs(stats.macs - paper_macs) / paper_macs < 0.02
    assert stats.params == keras_params


@pytest.mark.parametrize("builder", [mobilenet_v1, mobilenet_v2])
def test_reduction_ratio_is_exactly_the_papers(builder):
    stats = model_stats(builder((96, 96, 1), 0.5, 2))
    assert len(stats.separable) == (13 if builder is mobilenet_v1 else 17)
    for pair in stats.separable:
        assert pair.ratio == Fraction(pair.separable_macs, pair.standard_macs)
        assert pair.ratio == Fraction(1, pair.cout) + Fraction(1, pair.kernel ** 2)
        assert pair.kernel == 3


def test_v2_residuals_only_where_shapes_allow():
    model = mobilenet_v2((96, 96, 1), 0.35, 2)
    adds = [layer for layer in model.layers if isinstance(layer, keras.layers.Add)]
    # Table 2: repeats after the first of each (t, c, n, s) row: 1 + 2 + 3 + 2 + 2 + 0 = 10 adds.
    assert len(adds) == 10
    for add in adds:
        a, b = add.input_shape
        assert a == b


def test_v1_layer_widths_follow_alpha():
    model = mobilenet_v1((96, 96, 1), 0.25, 3)
    convs = [layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs == [8, 16, 32, 32, 64, 64, 128, 128, 128, 128, 128, 128, 256, 256]
    assert model.output_shape == (None, 3)


def test_any_resolution_and_gray_or_rgb():
    for shape in [(32, 32, 1), (40, 64, 3), (128, 96, 1)]:
        for builder in (mobilenet_v1, mobilenet_v2):
            model = builder(shape, 0.1 if builder is mobilenet_v1 else 0.35, 2)
            assert model.input_shape == (None, *shape)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"alpha": 0.05}, "alpha"),
    ({"alpha": 1.5}, "alpha"),
    ({"input_shape": (31, 96, 1)}, "at least 32"),
    ({"input_shape": (96, 96, 2)}, "channels"),
    ({"input_shape": (96, 96)}, "input shape"),
    ({"num_classes": 1}, "at least 2 classes"),
    ({"dropout": 1.0}, "dropout"),
])
def test_invalid_arguments_raise_value_error(kwargs, fragment):
    for builder in (mobilenet_v1, mobilenet_v2):
        with pytest.raises(ValueError, match=fragment):
            builder(**kwargs)
