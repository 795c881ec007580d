"""Seeded single-operator models (name, build function, parameters) shared by the host per-op tests and
the Cortex-M4 (QEMU) ones, so both judge the same cached models."""
import numpy as np


def activation(keras, kind, x):
    if kind == "relu6":
        return keras.layers.ReLU(6.0)(x)
    if kind == "relu":
        return keras.layers.ReLU()(x)
    return x


def conv2d(zoo, seed: int):
    """CONV_2D: kernel 1-5, stride 1-3, SAME/VALID, 1-13 input and 1-16 output channels."""
    from mobilenet_tiny.tf_env import keras

    rng = np.random.default_rng(100 + seed)
    k = int(rng.choice([1, 2, 3, 5]))
    p = dict(k=k, stride=int(rng.choice([1, 2, 3])), padding=str(rng.choice(["same", "valid"])),
             h=int(rng.integers(k, 14)), w=int(rng.integers(k, 14)), cin=int(rng.choice([1, 2, 3, 8, 13])),
             cout=int(rng.choice([1, 3, 8, 16])), act=str(rng.choice(["none", "relu", "relu6"])),
             bias=bool(rng.integers(2)), lo=float(rng.choice([0.0, -1.0, -3.0])))

    def layer(x):
        y = keras.layers.Conv2D(p["cout"], p["k"], strides=p["stride"], padding=p["padding"], use_bias=p["bias"],
                                bias_initializer="random_normal")(x)
        return activation(keras, p["act"], y)

    return f"conv-{seed}", lambda: zoo.single_layer(layer, (p["h"], p["w"], p["cin"]), seed, (p["lo"], 1.0)), p


def depthwise_conv2d(zoo, seed: int):
    """DEPTHWISE_CONV_2D: kernel 1/3/5, stride 1-3, depth multiplier 1-3."""
    from mobilenet_tiny.tf_env import keras

    rng = np.random.default_rng(200 + seed)
    k = int(rng.choice([1, 3, 5]))
    p = dict(k=k, stride=int(rng.choice([1, 2, 3])), padding=str(rng.choice(["same", "valid"])),
             h=int(rng.integers(k, 14)), w=int(rng.integers(k, 14)), c=int(rng.choice([1, 3, 8, 16])),
             mult=int(rng.choice([1, 1, 2, 3])), act=str(rng.choice(["none", "relu", "relu6"])),
             lo=float(rng.choice([0.0, -2.0])))

    def layer(x):
        y = keras.layers.DepthwiseConv2D(p["k"], strides=p["stride"], padding=p["padding"],
                                         depth_multiplier=p["mult"], bias_initializer="random_normal")(x)
        return activation(keras, p["act"], y)

    return f"dw-{seed}", lambda: zoo.single_layer(layer, (p["h"], p["w"], p["c"]), seed, (p["lo"], 1.0)), p


DEPTHWISE_3X3 = [  # (h, w, c, stride, padding, act, lo): output widths 3 to 18 (every remainder of four, and
    # 3, below the planar path), SAME and VALID, channel counts with and without a tail beyond a multiple of 4
    (9, 17, 8, 1, "same", "relu", 0.0), (8, 36, 12, 2, "same", "none", -2.0), (7, 20, 6, 1, "valid", "relu6", 0.0),
    (10, 35, 4, 2, "valid", "relu", -2.0), (6, 16, 20, 1, "same", "none", -2.0), (11, 33, 18, 2, "same", "relu6", 0.0),
    (5, 7, 8, 1, "same", "none", 0.0), (5, 6, 4, 2, "same", "relu", 0.0),
    (6, 6, 12, 1, "same", "relu", 0.0), (12, 12, 8, 2, "same", "relu", 0.0),  # rows of exactly 6: one pass
    # rows of 6 taller than a six-output chunk (DWP6_ROWS): chunks of 6, 6, 2 / 6, 2 / 6, 1 rows
    (14, 6, 8, 1, "same", "relu", 0.0), (15, 12, 4, 2, "same", "none", -2.0), (9, 8, 12, 1, "valid", "relu6", 0.0),
    (17, 14, 8, 2, "valid", "relu", 0.0),
    # rows of exactly 3 (three-pixel lanes) taller than a chunk, channel counts 4k + 2
    (9, 3, 10, 1, "same", "relu", 0.0), (17, 7, 6, 2, "valid", "relu", 0.0)]
# written directly: a ReLU whose output zero point is not -128 (the folded stage with a lower clamp), planar,
# in three-pixel lanes (rows of 3 outputs at stride 1 and 2) and in six-output passes
DEPTHWISE_3X3_LOWER_CLAMP = [((9, 18, 12), 1, 21), ((8, 35, 8), 2, 22), ((3, 3, 8), 1, 23), ((6, 5, 12), 2, 24),
                             ((6, 6, 8), 1, 25), ((12, 11, 4), 2, 26), ((13, 6, 8), 1, 27), ((16, 12, 12), 2, 28)]

# written directly, the six-output and three-output chunks and the rows around them on small maps (3x3 to 7x7
# outputs, V1's and V2's last layers; 12-wide rows): (input shape, stride, padding 0 SAME / 1 VALID, lower clamp, per-tensor
# weights); channel counts 4, 6, 20, 36, 100, the input zero point -3
DEPTHWISE_3X3_MAPS = [((3, 3, 36), 1, 0, False, False), ((5, 5, 100), 1, 1, True, False),
                      ((6, 6, 20), 2, 0, False, True), ((7, 7, 6), 2, 1, True, False),
                      ((6, 6, 4), 1, 0, False, True), ((8, 8, 100), 1, 1, True, False),
                      ((13, 13, 36), 2, 1, False, False), ((11, 11, 20), 2, 0, True, True),
                      ((19, 3, 20), 1, 0, False, True), ((13, 6, 36), 2, 0, True, False),
                      ((5, 5, 6), 1, 0, False, False), ((7, 7, 20), 1, 0, True, True),
                      ((10, 10, 100), 2, 0, False, False), ((14, 14, 4), 2, 0, True, False),
                      # rows of 12 at stride 1 (two six-output passes a row), one chunk and several
                      ((6, 12, 36), 1, 0, True, False), ((14, 14, 20), 1, 1, False, True),
                      ((13, 12, 6), 1, 0, False, False), ((24, 24, 8), 2, 0, True, False)]


# written directly: small maps (Helium's column strips, depthwise_mve.c): (shape, stride, padding (0 SAME,
# 1 VALID), activation (0 none, 1 RELU, 2 RELU_N1_TO_1), output quantization, per-tensor weights, seed); maps
# of 3x3 to 12x12 outputs, strips of 1, 2 and 3 output rows (the rows a strip keeps for the next one), groups
# of 8 channels (6-wide rows) and of 4 after them, channel counts 4k + 2 (a scalar tail), every output stage
# form, the input zero point -3 in the padding
_RELU_Q, _GENERAL_Q = (0.01, -20), (0.00001, 3)
DEPTHWISE_3X3_SMALL_MAPS = [
    ((6, 6, 20), 1, 0, 0, (0.05, 4), False, 31), ((6, 6, 36), 1, 0, 1, _RELU_Q, False, 32),
    ((3, 3, 100), 1, 0, 2, _RELU_Q, False, 33), ((5, 5, 20), 1, 1, 0, (0.05, 4), True, 34),
    ((7, 7, 36), 2, 0, 1, _RELU_Q, False, 35), ((7, 7, 20), 1, 0, 0, (0.05, 4), True, 36),
    ((5, 5, 10), 2, 0, 0, _GENERAL_Q, False, 37), ((12, 12, 12), 1, 0, 2, _RELU_Q, True, 38),
    ((11, 11, 8), 2, 1, 1, _RELU_Q, False, 39), ((6, 6, 16), 2, 1, 0, (0.05, 4), False, 40),
    ((9, 6, 18), 1, 0, 0, (0.05, 4), False, 41), ((12, 12, 24), 2, 0, 1, _RELU_Q, False, 42),
    ((4, 4, 8), 1, 0, 0, _GENERAL_Q, True, 43), ((6, 6, 8), 1, 0, 2, _RELU_Q, False, 44)]


def depthwise_3x3(zoo, seed: int):
    """DEPTHWISE_CONV_2D 3x3 at stride 1 and 2, depth multiplier 1 (the DSP path's planar rows from 4
    outputs a row, the two- and three-pixel lanes below): the Keras cases above, then the lower-clamp ones,
    the maps and the small maps."""
    import flatbuffer_models as fm

    maps = seed - len(DEPTHWISE_3X3) - len(DEPTHWISE_3X3_LOWER_CLAMP)
    small = maps - len(DEPTHWISE_3X3_MAPS)
    if small >= 0:
        shape, stride, padding, act, out_q, per_tensor, fm_seed = DEPTHWISE_3X3_SMALL_MAPS[small]
        p = dict(shape=shape, stride=stride, padding=padding, act=act, out_q=out_q, per_tensor=per_tensor,
                 seed=fm_seed, form="small map")
        return f"dw3-{seed}", lambda: fm.depthwise_conv2d(shape, 3, stride=stride, activation=act, padding=padding,
                                                          seed=fm_seed, out_q=out_q, per_tensor=per_tensor), p
    if maps >= 0:
        shape, stride, padding, clamp, per_tensor = DEPTHWISE_3X3_MAPS[maps]
        p = dict(shape=shape, stride=stride, padding=padding, clamp=clamp, per_tensor=per_tensor, seed=seed)
        return f"dw3-{seed}", lambda: fm.depthwise_conv2d(shape, 3, stride=stride, activation=int(clamp),
                                                          padding=padding, seed=seed, per_tensor=per_tensor,
                                                          out_q=(0.01, -20) if clamp else (0.05, 4)), p
    if seed >= len(DEPTHWISE_3X3):
        shape, stride, fm_seed = DEPTHWISE_3X3_LOWER_CLAMP[seed - len(DEPTHWISE_3X3)]
        p = dict(shape=shape, stride=stride, seed=fm_seed, form="relu lower clamp")
        return f"dw3-{seed}", lambda: fm.depthwise_conv2d(shape, 3, stride=stride, activation=1, seed=fm_seed,
                                                          out_q=(0.01, -20)), p
    from mobilenet_tiny.tf_env import keras

    h, w, c, stride, padding, act, lo = DEPTHWISE_3X3[seed]
    p = dict(k=3, stride=stride, padding=padding, h=h, w=w, c=c, mult=1, act=act, lo=lo)

    def layer(x):
        y = keras.layers.DepthwiseConv2D(3, strides=stride, padding=padding, bias_initializer="random_normal")(x)
        return activation(keras, act, y)

    return f"dw3-{seed}", lambda: zoo.single_layer(layer, (h, w, c), 40 + seed, (lo, 1.0)), p


DEPTHWISE_3X3_COUNT = len(DEPTHWISE_3X3) + len(DEPTHWISE_3X3_LOWER_CLAMP) + len(DEPTHWISE_3X3_MAPS) + \
    len(DEPTHWISE_3X3_SMALL_MAPS)
# rows of 6 (one chunk, several) and of 3, layer by layer
DEPTHWISE_3X3_WHOLE_LAYER = [7, 8, 9, 10, 11, 12, 13, 14, 15, 18, 19, 20, 21, 22, 23] + \
    list(range(len(DEPTHWISE_3X3) + len(DEPTHWISE_3X3_LOWER_CLAMP),
               len(DEPTHWISE_3X3) + len(DEPTHWISE_3X3_LOWER_CLAMP) + len(DEPTHWISE_3X3_MAPS)))


def fully_connected(zoo, seed: int):
    """FULLY_CONNECTED: 1-69 inputs, 1-23 outputs, with or without Flatten."""
    from mobilenet_tiny.tf_env import keras

    rng = np.random.default_rng(300 + seed)
    p = dict(n_in=int(rng.integers(1, 70)), n_out=int(rng.integers(1, 24)), bias=bool(rng.integers(2)),
             act=str(rng.choice(["none", "relu"])), flatten=bool(seed % 2), lo=float(rng.choice([0.0, -4.0])))

    def layer(x):
        if p["flatten"]:
            x = keras.layers.Flatten()(x)
        return keras.layers.Dense(p["n_out"], use_bias=p["bias"], bias_initializer="random_normal",
                                  activation=None if p["act"] == "none" else p["act"])(x)

    shape = (1, p["n_in"], 2) if p["flatten"] else (p["n_in"],)
    return f"fc-{seed}", lambda: zoo.single_layer(layer, shape, seed, (p["lo"], 1.0)), p


def add(zoo, seed: int):
    """ADD of a 1x1 conv and a 1x1 depthwise conv of the same input (two rescalings), with or without ReLU."""
    from mobilenet_tiny.tf_env import keras

    rng = np.random.default_rng(800 + seed)
    p = dict(h=int(rng.integers(1, 9)), w=int(rng.integers(1, 9)), c=int(rng.choice([1, 4, 8])),
             act=str(rng.choice(["none", "relu"])), gain=float(rng.choice([0.1, 1.0, 8.0])))

    def layer(x):
        a = keras.layers.Conv2D(p["c"], 1, kernel_initializer="random_normal")(x)
        b = keras.layers.DepthwiseConv2D(1, depthwise_initializer=keras.initializers.Constant(p["gain"]))(x)
        return activation(keras, p["act"], keras.layers.Add()([a, b]))

    return f"add-{seed}", lambda: zoo.single_layer(layer, (p["h"], p["w"], p["c"]), seed, (-1.0, 1.0)), p


RING_STAGES = [  # (h, w, c, first depthwise (kernel, stride, padding), second's, depth multiplier of the second)
    (12, 17, 8, (3, 1, "same"), (3, 2, "same"), 1),    # planar rows at stride 1 and 2, padding rows top and bottom
    (13, 6, 8, (3, 1, "same"), (3, 1, "valid"), 1),    # rows of exactly 6 (six-output chunks), then VALID
    (11, 3, 12, (3, 1, "same"), (3, 2, "valid"), 1),   # rows of 3 outputs (three-pixel lanes)
    (12, 10, 6, (3, 2, "valid"), (3, 1, "same"), 1),   # a channel tail beyond a group of 4 (the scalar channels)
    (10, 9, 4, (5, 1, "same"), (3, 1, "same"), 2),     # 5x5 (a ring of 5 rows), depth multiplier 2
    (11, 8, 8, (3, 1, "same", "conv"), (3, 2, "same"), 1),  # a 3x3 conv's window: moved (it takes no ring)
]


def ring_stage(zoo, seed: int):
    """1x1 conv, depthwise (or a conv), 1x1 conv, depthwise: the depthwise convs read rows a stage step made,
    from ring windows (stage.py) when banded."""
    from mobilenet_tiny.tf_env import keras

    h, w, c, first, second, mult = RING_STAGES[seed]
    p = dict(h=h, w=w, c=c, first=list(first), second=list(second), mult=mult)

    def layers(x):
        x = keras.layers.Conv2D(c, 1, activation="relu", bias_initializer="random_normal")(x)
        if first[3:] == ("conv",):
            x = keras.layers.Conv2D(c, first[0], strides=first[1], padding=first[2], activation="relu",
                                    bias_initializer="random_normal")(x)
        else:
            x = keras.layers.DepthwiseConv2D(first[0], strides=first[1], padding=first[2], activation="relu",
                                             bias_initializer="random_normal")(x)
        x = keras.layers.Conv2D(c, 1, bias_initializer="random_normal")(x)
        x = keras.layers.ReLU(6.0)(x)
        return keras.layers.DepthwiseConv2D(second[0], strides=second[1], padding=second[2], depth_multiplier=mult,
                                            bias_initializer="random_normal")(x)

    return f"ring-{seed}", lambda: zoo.single_layer(layers, (h, w, 3), seed, (-1.0, 1.0)), p


def output_stage_forms() -> list[tuple[str, object]]:
    """(label, build) for models written directly whose output quantization picks each output stage form of
    the DSP kernels: folded with a lower clamp (RELU, RELU6 with zero point -20), folded with both clamps
    (RELU_N1_TO_1; RELU6 with zero point -128 whose upper bound is below 127, in a pointwise layer of 8 input
    channels as V1's first and V2's expand layers have), general (a multiplier above 1), in pointwise, im2col and depthwise convolutions, the
    latter with and without a tail channel and with a 5x5 stride-2 window; and the one- and three-channel
    3x3 CONV_2D whose inner pixels read their rows in place (SAME borders, and a VALID window whose last
    row's word load would end past the input)."""
    import flatbuffer_models as fm

    relu_q, general_q = (0.01, -20), (0.00001, 3)
    return [
        ("pointwise relu", lambda: fm.conv2d((7, 9, 8), 6, 1, activation=1, seed=1, out_q=relu_q)),
        ("pointwise general", lambda: fm.conv2d((7, 9, 8), 5, 1, seed=2, out_q=general_q)),
        ("pointwise relu_n1_to_1", lambda: fm.conv2d((7, 9, 8), 6, 1, activation=2, seed=13, out_q=relu_q)),
        ("pointwise relu6 upper clamp", lambda: fm.conv2d((7, 9, 8), 6, 1, activation=3, seed=14,
                                                          out_q=(0.03, -128))),
        ("conv3x3 relu_n1_to_1", lambda: fm.conv2d((7, 8, 3), 5, 3, activation=2, seed=3, out_q=relu_q)),
        ("conv3x3 relu6", lambda: fm.conv2d((7, 8, 3), 4, 3, stride=2, activation=3, seed=4, out_q=relu_q)),
        ("depthwise relu", lambda: fm.depthwise_conv2d((9, 7, 12), 3, activation=1, seed=5, out_q=relu_q)),
        ("depthwise relu_n1_to_1", lambda: fm.depthwise_conv2d((9, 7, 13), 3, activation=2, seed=6, out_q=relu_q)),
        ("depthwise general", lambda: fm.depthwise_conv2d((6, 5, 8), 3, stride=2, seed=7, out_q=general_q)),
        ("depthwise 5x5 relu", lambda: fm.depthwise_conv2d((11, 9, 8), 5, stride=2, activation=1, padding=1,
                                                           seed=8, out_q=relu_q)),
        ("conv3x3 one channel relu", lambda: fm.conv2d((9, 7, 1), 6, 3, activation=1, seed=9, out_q=relu_q)),
        ("conv3x3 one channel valid", lambda: fm.conv2d((9, 9, 1), 4, 3, stride=2, padding=1, seed=10)),
        ("conv3x3 three channels relu", lambda: fm.conv2d((9, 7, 3), 6, 3, activation=1, seed=11, out_q=relu_q)),
        ("conv3x3 three channels valid", lambda: fm.conv2d((9, 9, 3), 8, 3, stride=2, padding=1, seed=12)),
    ]


def dot_shapes() -> list[tuple[str, object]]:
    """(label, build) for CONV_2D models written directly in the shapes of the DSP dot routine's own paths:
    pointwise rows of 4 to 24 values (the written-out loops for 5 to 16 and 21 to 24, two filter pairs a pass,
    with even and odd pair counts and a single pair, output stages without the sign term (zero point -128,
    ReLU; in the general and multiple-of-8 loops too) and with it (small shifts, where its rounding ties
    are frequent); whole blocks expanded by the routine
    itself, a tail expanded in C, a last block of one value), pixel counts that leave a part group, each
    clamp form, odd filter
    counts, per-tensor weights; rows of 24 to 96 values (the loops for a multiple of 8 blocks with 0 to 2
    passes after the first eight, the general loop entered at each kind of block); and one- and three-channel 3x3 first layers, each padding and stride 1 and 2,
    with more pixels than one call's groups and a VALID bottom row whose last word load would end past the
    input."""
    import flatbuffer_models as fm

    relu_q = (0.01, -20)

    def conv(shape, filters, kernel=1, stride=1, padding=0, activation=0, seed=0, out_q=(0.05, 4),
             per_tensor=False):
        return lambda: fm.conv2d(shape, filters, kernel, stride=stride, padding=padding, activation=activation,
                                 seed=seed, out_q=relu_q if activation == 1 else out_q, per_tensor=per_tensor)

    return [
        ("pointwise k8", conv((7, 11, 8), 10, seed=21)),
        ("pointwise k8 relu", conv((5, 9, 8), 6, activation=1, seed=22)),
        ("pointwise k8 relu_n1_to_1", conv((5, 7, 8), 4, activation=2, seed=23, out_q=relu_q)),
        ("pointwise k8 per-tensor", conv((7, 9, 8), 16, seed=24, per_tensor=True)),
        ("pointwise k8 odd filters", conv((4, 5, 8), 5, seed=25)),
        ("pointwise k12", conv((6, 7, 12), 8, seed=26)),
        ("pointwise k12 relu", conv((4, 5, 12), 6, activation=1, seed=27)),
        ("pointwise k16", conv((6, 9, 16), 12, seed=28)),
        ("pointwise k16 relu per-tensor", conv((5, 5, 16), 8, activation=1, seed=29, per_tensor=True)),
        ("pointwise k20", conv((4, 7, 20), 6, seed=30)),
        ("pointwise k6", conv((5, 7, 6), 4, seed=31)),
        ("pointwise k4", conv((5, 5, 4), 4, seed=32)),
        ("pointwise k9", conv((5, 7, 9), 6, seed=41)),
        ("pointwise k32", conv((5, 7, 32), 6, seed=42)),
        ("pointwise k32 relu", conv((4, 5, 32), 4, activation=1, seed=43)),
        ("pointwise k64 relu", conv((3, 4, 64), 4, activation=1, seed=49)),
        ("pointwise k96", conv((3, 5, 96), 4, seed=45)),
        ("pointwise k64 relu_n1_to_1", conv((4, 4, 64), 6, activation=2, seed=44, out_q=relu_q)),
        ("pointwise k40 relu per-tensor", conv((4, 4, 40), 6, activation=1, seed=46, per_tensor=True)),
        ("pointwise k24", conv((5, 5, 24), 8, seed=47)),
        ("pointwise k36 odd filters", conv((4, 5, 36), 7, seed=48)),
        ("pointwise k8 relu even pairs", conv((4, 6, 8), 8, activation=1, seed=56)),
        ("pointwise k9 even pairs", conv((5, 5, 9), 4, seed=54)),
        ("pointwise k9 relu even pairs", conv((4, 5, 9), 8, activation=1, seed=55)),
        ("pointwise k16 odd pairs", conv((5, 7, 16), 10, seed=50)),
        ("pointwise k16 relu odd pairs", conv((4, 7, 16), 6, activation=1, seed=51)),
        ("pointwise k24 one pair", conv((5, 4, 24), 2, seed=53)),
        ("pointwise k24 relu odd pairs", conv((4, 5, 24), 6, activation=1, seed=52)),
        ("pointwise k24 per-tensor odd pairs", conv((4, 4, 24), 10, seed=57, per_tensor=True)),
        ("pointwise k12 one pair relu", conv((5, 5, 12), 2, activation=1, seed=58)),
        ("pointwise k8 zero point -128", conv((7, 11, 8), 10, seed=59, out_q=(0.05, -128))),
        ("pointwise k8 relu6 zero point -128", conv((5, 9, 8), 8, activation=3, seed=60, out_q=(6 / 255, -128))),
        ("pointwise k9 zero point -128", conv((5, 7, 9), 6, seed=61, out_q=(0.05, -128))),
        ("pointwise k12 zero point -128", conv((6, 7, 12), 8, seed=62, out_q=(0.05, -128))),
        ("pointwise k16 zero point -128", conv((5, 7, 16), 10, seed=63, out_q=(0.05, -128))),
        ("pointwise k16 relu6 zero point -128 per-tensor", conv((5, 5, 16), 12, activation=3, seed=64,
                                                              out_q=(6 / 255, -128), per_tensor=True)),
        ("pointwise k24 zero point -128", conv((5, 5, 24), 6, seed=65, out_q=(0.05, -128))),
        ("pointwise k24 relu6 zero point -128", conv((4, 5, 24), 8, activation=3, seed=66, out_q=(6 / 255, -128))),
        ("pointwise k32 zero point -128", conv((5, 7, 32), 6, seed=67, out_q=(0.05, -128))),
        ("pointwise k48 relu6 zero point -128", conv((4, 5, 48), 10, activation=3, seed=68, out_q=(6 / 255, -128))),
        ("pointwise k16 small shift", conv((9, 11, 16), 8, seed=69, out_q=(0.001, 4))),
        ("pointwise k32 small shift", conv((9, 11, 32), 8, seed=70, out_q=(0.001, 4))),
        ("pointwise k48 small shift", conv((9, 11, 48), 8, seed=71, out_q=(0.001, 4))),
        ("3x3 one channel same stride 2 relu", conv((17, 19, 1), 8, 3, stride=2, activation=1, seed=33)),
        ("3x3 one channel valid stride 2", conv((17, 19, 1), 16, 3, stride=2, padding=1, seed=34)),
        ("3x3 one channel same stride 1", conv((11, 13, 1), 6, 3, seed=35)),
        ("3x3 one channel valid per-tensor", conv((12, 10, 1), 8, 3, padding=1, seed=36, per_tensor=True)),
        ("3x3 one channel relu_n1_to_1", conv((13, 14, 1), 4, 3, stride=2, activation=2, seed=37, out_q=relu_q)),
        ("3x3 three channels same stride 2 relu", conv((17, 19, 3), 8, 3, stride=2, activation=1, seed=38)),
        ("3x3 three channels valid stride 2 per-tensor", conv((17, 19, 3), 8, 3, stride=2, padding=1, seed=39,
                                                              per_tensor=True)),
        ("3x3 three channels valid stride 1", conv((9, 26, 3), 4, 3, padding=1, seed=40)),
    ]
