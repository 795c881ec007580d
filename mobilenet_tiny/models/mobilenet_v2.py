"""MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks"),
width-scaled for microcontroller inputs."""
from .common import (check_alpha, check_bn_momentum, check_classes, check_dropout, check_input_shape, dropout_layer,
                     ModelArgumentError)

# The paper's Table 2 after the first convolution: (expansion t, output channels c, repeats n, stride s).
# t=6 rows use the builder's `expansion` argument; the first row's t=1 has no expansion layer at all.
_BOTTLENECKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to a multiple of `divisor`, never dropping more than 10 % (paper's rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def _inverted_residual(x, keras, expansion, stride, filters, block_id, bn_momentum):
    """1×1 expand → BN → ReLU6, 3×3 depthwise → BN → ReLU6, 1×1 project → BN (linear bottleneck);
    the input is added back only when the stride is 1 and the channel count is unchanged."""
    layers = keras.layers
    in_channels = x.shape[-1]
    prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
    inputs = x
    if block_id:
        x = layers.Conv2D(expansion * in_channels, 1, padding="same", use_bias=False, name=prefix + "expand")(x)
        x = layers.BatchNormalization(epsilon=1e-3, momentum=bn_momentum, name=prefix + "expand_BN")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=prefix + "depthwise")(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=bn_momentum, name=prefix + "depthwise_BN")(x)
    x = layers.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=prefix + "project")(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=bn_momentum, name=prefix + "project_BN")(x)
    if stride == 1 and in_channels == filters:
        x = layers.Add(name=prefix + "add")([inputs, x])
    return x


def mobilenet_v2(input_shape=(96, 96, 1), alpha=0.35, num_classes=2, expansion=6, dropout=0.1,
                 bn_momentum=0.999):
    """Build MobileNetV2 as a tf_keras functional model.

    Hyper-parameters of the paper: a 3×3 stride-2 convolution with 32 filters, 17 inverted-residual
    bottlenecks from Table 2 — (t, c, n, s) = (1,16,1,1), (6,24,2,2), (6,32,3,2), (6,64,4,2), (6,96,3,1),
    (6,160,3,2), (6,320,1,1) — a 1×1 convolution to 1280 channels, global average pooling and a softmax
    classifier. Each bottleneck is 1×1 expand → BN → ReLU6, 3×3 depthwise → BN → ReLU6, 1×1 linear
    projection → BN, with a residual add only when stride is 1 and input and output channels match.
    Channels are α-scaled and made divisible by 8 (`make_divisible`), as in the paper and
    keras.applications; the last convolution keeps 1280 channels unless α > 1.

    'same' padding gives the same numbers as keras.applications' ZeroPadding2D(correct_pad) + 'valid'.
    Parameter counts equal keras.applications.MobileNetV2 (3,538,984 at α=1, 224×224×3, 1000 classes;
    the paper rounds this to 3.4 M); MACs ≈ 300 M.

    Args:
      input_shape: (height, width, channels), height and width ≥ 32, channels 1 or 3.
      alpha: width multiplier in [0.1, 1.4].
      num_classes: classifier outputs (≥ 2).
      expansion: expansion factor t of the bottlenecks the paper gives t=6 (the first keeps t=1).
      dropout: dropout rate before the classifier (keras.applications uses none; it adds no parameters).
      bn_momentum: BatchNormalization momentum (keras.applications' 0.999 suits ImageNet's many steps).

    Raises:
      ValueError: for any invalid argument.
    """
    from ..tf_env import keras

    h, w, c = check_input_shape(input_shape)
    alpha = check_alpha(alpha)
    num_classes = check_classes(num_classes)
    dropout = check_dropout(dropout)
    bn_momentum = check_bn_momentum(bn_momentum)
    if not isinstance(expansion, int) or expansion < 1:
        raise ModelArgumentError(f"expansion {expansion!r} must be a positive integer")
    layers = keras.layers

    inputs = keras.Input(shape=(h, w, c), name="input")
    x = layers.Conv2D(make_divisible(32 * alpha), 3, strides=2, padding="same", use_bias=False, name="Conv1")(inputs)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=bn_momentum, name="bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    block_id = 0
    for t, channels, repeats, first_stride in _BOTTLENECKS:
        filters = make_divisible(int(channels * alpha))
        for i in range(repeats):
            x = _inverted_residual(x, keras, expansion if t != 1 else 1, first_stride if i == 0 else 1,
                                   filters, block_id, bn_momentum)
            block_id += 1
    last_filters = make_divisible(1280 * alpha) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_filters, 1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=bn_momentum, name="Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    if dropout:
        x = dropout_layer(layers, dropout)(x)
    x = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Softmax(name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"mobilenet_v2_{alpha:g}_{h}x{w}x{c}")
