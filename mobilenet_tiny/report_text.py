"""Human-readable terminal output (rich tables); machine output is JSON elsewhere."""
from rich.console import Console
from rich.table import Table


def _console() -> Console:
    return Console(width=120, soft_wrap=False)


def print_info(stats) -> None:
    console = _console()
    table = Table(title=f"{stats.name}: input {'x'.join(map(str, stats.input_shape))}", show_lines=False)
    for col, justify in (("layer", "left"), ("type", "left"), ("output", "left"), ("params", "right"),
                         ("MACs", "right")):
        table.add_column(col, justify=justify)
    for layer in stats.layers:
        table.add_row(layer.name, layer.type, "x".join(map(str, layer.output_shape)), f"{layer.params:,}",
                      f"{layer.macs:,}" if layer.macs else "")
    table.add_section()
    table.add_row("total", "", "", f"{stats.params:,}", f"{stats.macs:,}")
    console.print(table)

    if stats.separable:
        sep = Table(title="depthwise-separable vs standard convolution")
        for col in ("depthwise → pointwise", "K", "Cin", "Cout", "HxW", "standard MACs", "separable MACs",
                    "ratio", "1/Cout + 1/K²"):
            sep.add_column(col, justify="left" if col.startswith("depth") else "right")
        for p in stats.separable:
            sep.add_row(f"{p.depthwise} → {p.pointwise}", str(p.kernel), str(p.cin), str(p.cout),
                        f"{p.height}x{p.width}", f"{p.standard_macs:,}", f"{p.separable_macs:,}",
                        f"{float(p.ratio):.5f}", f"{float(p.expected_ratio):.5f}")
        console.print(sep)
    console.print(f"params {stats.params:,}   MACs {stats.macs:,}   peak int8 activation memory ≥ "
                  f"{stats.peak_activation_bytes:,} bytes (at {stats.peak_activation_layer})")


def print_confusion(matrix, labels) -> None:
    table = Table(title="confusion matrix (rows: true, columns: predicted)")
    table.add_column("")
    for label in labels:
        table.add_column(label, justify="right")
    for label, row in zip(labels, matrix):
        table.add_row(label, *(str(int(v)) for v in row))
    _console().print(table)


def print_per_class(rows) -> None:
    table = Table(title="per class")
    for col in ("class", "precision", "recall", "F1", "images"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for r in rows:
        table.add_row(r["label"], f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}", str(r["support"]))
    _console().print(table)
