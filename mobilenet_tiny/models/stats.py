"""Model statistics: per-layer params and MACs, the depthwise-separable savings, and a memory bound.

Works on any tf_keras model (ours, keras.applications, a user's .h5), from the layer objects alone.
MACs count multiply-accumulates of Conv2D, DepthwiseConv2D, SeparableConv2D and Dense; BN, activations,
pooling and adds are not counted (the papers count the same way). Parameter counts are exact Keras
counts: the papers round them (MobileNetV1 α=1: 4,253,864 → "4.2 M"; α=0.25: 475,544 → "0.5 M";
MobileNetV2 α=1: 3,538,984 → "3.4 M").
"""
from dataclasses import asdict, dataclass, field
from fractions import Fraction


@dataclass
class LayerStats:
    name: str
    type: str
    output_shape: tuple
    params: int
    macs: int


@dataclass
class SeparablePair:
    """A depthwise conv followed (through BN/activation) by a 1×1 conv, against one standard K×K conv.

    standard MACs = K²·Cin·Cout·H·W; separable = (K²·Cin·m + Cin·m·Cout)·H·W with depth multiplier m;
    the paper's reduction ratio separable/standard = 1/Cout + 1/K² (times m)."""
    depthwise: str
    pointwise: str
    kernel: int
    cin: int
    cout: int
    depth_multiplier: int
    height: int
    width: int
    standard_macs: int
    separable_macs: int
    ratio: Fraction
    expected_ratio: Fraction

    def to_json(self) -> dict:
        d = asdict(self)
        d["ratio"] = float(self.ratio)
        d["expected_ratio"] = float(self.expected_ratio)
        d["ratio_exact"] = f"{self.ratio.numerator}/{self.ratio.denominator}"
        return d


@dataclass
class ModelStats:
    name: str
    input_shape: tuple
    layers: list[LayerStats]
    separable: list[SeparablePair]
    peak_activation_bytes: int
    peak_activation_layer: str
    extra: dict = field(default_factory=dict)

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def to_json(self) -> dict:
        return {
            **self.extra,
            "model": self.name,
            "input_shape": list(self.input_shape),
            "layers": [{**asdict(layer), "output_shape": list(layer.output_shape)} for layer in self.layers],
            "totals": {"params": self.params, "macs": self.macs, "layers": len(self.layers)},
            "separable": [p.to_json() for p in self.separable],
            "peak_activation_memory_int8": {
                "bytes": self.peak_activation_bytes, "layer": self.peak_activation_layer,
                "definition": "max over layers of input + output tensor bytes at 1 byte per value; BN, "
                              "activations and dropout are fused into their producer in the int8 graph"},
        }


def _shape(s) -> tuple:
    return tuple(int(d) for d in s[1:])


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _output_shapes(layer) -> list[tuple]:
    s = layer.output_shape
    return [_shape(x) for x in s] if isinstance(s, list) else [_shape(s)]


def _input_shapes(layer) -> list[tuple]:
    s = layer.input_shape
    return [_shape(x) for x in s] if isinstance(s, list) else [_shape(s)]


def layer_macs(layer) -> int:
    kind = type(layer).__name__
    out = _output_shapes(layer)[0]
    if kind == "Conv2D":
        kh, kw = layer.kernel_size
        cin = _input_shapes(layer)[0][-1] // getattr(layer, "groups", 1)
        return kh * kw * cin * _size(out)
    if kind == "DepthwiseConv2D":
        kh, kw = layer.kernel_size
        return kh * kw * _size(out)
    if kind == "SeparableConv2D":
        kh, kw = layer.kernel_size
        cin = _input_shapes(layer)[0][-1]
        h, w = out[0], out[1]
        return kh * kw * cin * layer.depth_multiplier * h * w + cin * layer.depth_multiplier * _size(out)
    if kind == "Dense":
        return _input_shapes(layer)[0][-1] * _size(out)
    return 0


_PASS_THROUGH = {"BatchNormalization", "ReLU", "Activation", "Dropout"}


def _consumers(model) -> dict:
    consumers = {}
    for layer in model.layers:
        for node in layer._inbound_nodes:
            inbound = node.inbound_layers
            for src in inbound if isinstance(inbound, list) else [inbound]:
                consumers.setdefault(src.name, []).append(layer)
    return consumers


def _separable_pairs(model) -> list[SeparablePair]:
    consumers = _consumers(model)
    pairs = []
    for layer in model.layers:
        if type(layer).__name__ != "DepthwiseConv2D":
            continue
        nxt = consumers.get(layer.name, [])
        while len(nxt) == 1 and type(nxt[0]).__name__ in _PASS_THROUGH:
            nxt = consumers.get(nxt[0].name, [])
        if len(nxt) != 1 or type(nxt[0]).__name__ != "Conv2D" or tuple(nxt[0].kernel_size) != (1, 1) \
                or tuple(nxt[0].strides) != (1, 1):
            continue
        pw = nxt[0]
        kh, kw = layer.kernel_size
        k2 = kh * kw
        cin = _input_shapes(layer)[0][-1]
        m = layer.depth_multiplier
        h, w, _ = _output_shapes(layer)[0]
        cout = pw.filters
        standard = k2 * cin * cout * h * w
        separable = (k2 * cin * m + cin * m * cout) * h * w
        pairs.append(SeparablePair(
            depthwise=layer.name, pointwise=pw.name, kernel=kh if kh == kw else k2, cin=cin, cout=cout,
            depth_multiplier=m, height=h, width=w, standard_macs=standard, separable_macs=separable,
            ratio=Fraction(separable, standard), expected_ratio=m * (Fraction(1, cout) + Fraction(1, k2))))
    return pairs


def model_stats(model, **extra) -> ModelStats:
    """Statistics of a built tf_keras model (extra keys are passed through to the JSON)."""
    layers, peak, peak_layer = [], 0, ""
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        out = _output_shapes(layer)
        layers.append(LayerStats(layer.name, type(layer).__name__, out[0], int(layer.count_params()),
                                 layer_macs(layer)))
        if type(layer).__name__ in _PASS_THROUGH:
            continue  # fused into the producing op in the int8 graph, or run in place
        live = sum(_size(s) for s in _input_shapes(layer)) + sum(_size(s) for s in out)
        if live > peak:
            peak, peak_layer = live, layer.name
    return ModelStats(model.name, _shape(model.input_shape), layers, _separable_pairs(model), peak, peak_layer,
                      extra)
