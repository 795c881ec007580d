"""MobileNetV1 (Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
Applications"), width-scaled for microcontroller inputs."""
from .common import (check_alpha, check_bn_momentum, check_classes, check_dropout, check_input_shape, dropout_layer,
                     ModelArgumentError)

# The paper's Table 1 after the first full convolution: (pointwise filters, depthwise stride).
_SEPARABLE_BLOCKS = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2), (1024, 1),
)


def mobilenet_v1(input_shape=(96, 96, 1), alpha=0.25, num_classes=2, depth_multiplier=1, dropout=0.1,
                 bn_momentum=0.99):
    """Build MobileNetV1 as a tf_keras functional model.

    Hyper-parameters of the paper: a 3×3 stride-2 convolution with 32 filters, then 13 depthwise-separable
    blocks (3×3 depthwise → BN → ReLU6, 1×1 pointwise → BN → ReLU6) whose filters follow Table 1
    (64, 128, 128, 256, 256, 512, 5×512, 1024, 1024; stride 2 where the spatial size halves), global average
    pooling, dropout and a softmax classifier. The width multiplier α scales every layer's filters to
    int(filters·α), as in the paper and keras.applications; the resolution multiplier is the input size.

    Padding is TF 'same' throughout: for stride 2 it pads bottom/right only, the same numbers as
    keras.applications' explicit ZeroPadding2D + 'valid', but with no PAD op in the int8 model.
    Parameter counts equal keras.applications.MobileNet (4,253,864 at α=1, 224×224×3, 1000 classes; the
    paper rounds this to 4.2 M) and so do MACs (569 M).

    Args:
      input_shape: (height, width, channels), height and width ≥ 32, channels 1 (gray) or 3 (RGB).
      alpha: width multiplier in [0.1, 1.4].
      num_classes: classifier outputs (≥ 2).
      depth_multiplier: depthwise channel multiplier (the paper's ρ is the input size, not this).
      dropout: dropout rate before the classifier.
      bn_momentum: BatchNormalization momentum (keras.applications' 0.99 suits ImageNet's many steps;
        training on a small set wants less: see train.py).

    Raises:
      ValueError: for any invalid argument.
    """
    from ..tf_env import keras

    h, w, c = check_input_shape(input_shape)
    alpha = check_alpha(alpha)
    num_classes = check_classes(num_classes)
    dropout = check_dropout(dropout)
    bn_momentum = check_bn_momentum(bn_momentum)
    if not isinstance(depth_multiplier, int) or depth_multiplier < 1:
        raise ModelArgumentError(f"depth_multiplier {depth_multiplier!r} must be a positive integer")
    layers = keras.layers

    inputs = keras.Input(shape=(h, w, c), name="input")
    x = layers.Conv2D(int(32 * alpha), 3, strides=2, padding="same", use_bias=False, name="conv1")(inputs)
    x = layers.BatchNormalization(momentum=bn_momentum, name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, stride) in enumerate(_SEPARABLE_BLOCKS, start=1):
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", depth_multiplier=depth_multiplier,
                                   use_bias=False, name=f"conv_dw_{block_id}")(x)
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"conv_dw_{block_id}_bn")(x)
        x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
        x = layers.Conv2D(int(filters * alpha), 1, padding="same", use_bias=False, name=f"conv_pw_{block_id}")(x)
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"conv_pw_{block_id}_bn")(x)
        x = layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = dropout_layer(layers, dropout)(x)
    x = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Softmax(name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"mobilenet_v1_{alpha:g}_{h}x{w}x{c}")
