"""The planner's report as a picture: bytes live at every step, per schedule (matplotlib, a PNG)."""
from __future__ import annotations

from ..fileio import atomic_path


def plot_live_bytes(report: dict, path, title: str = "") -> None:
    """A bar chart of the chosen schedule's live bytes per step, layer-by-layer's behind it, each one's peak
    and lower bound in the legend. `report`: CompileResult.memory_report()."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = [row["layer"] for row in report["live_bytes"]]
    chosen = [row["bytes"] for row in report["live_bytes"]]
    base = [row["layer_by_layer_bytes"] for row in report["live_bytes"]]
    lbl, c = report["schedules"]["layer-by-layer"], report["chosen"]
    x = range(len(layers))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.16 * len(layers) + 2), 4.2))
    ax.bar(x, [b / 1024 for b in base], color="#d9d9d9",
           label=f"layer-by-layer: peak {lbl['arena_bytes']:,} B (lower bound {lbl['lower_bound_bytes']:,} B)")
    what = c["schedule"] if "stage_last_step" not in c else f"patched, steps 0-{c['stage_last_step']}"
    ax.bar(x, [b / 1024 for b in chosen], color="#3b75af", width=0.6,
           label=f"{what} ({report['mode']}): arena {c['arena_bytes']:,} B (lower bound "
                 f"{c['lower_bound_bytes']:,} B), ~{c['estimated_instructions_ratio']:.3f}x instructions")
    if "stage_last_step" in c:
        ax.axvspan(-0.5, c["stage_last_step"] + 0.5, color="#f2c14e", alpha=0.2, label="patched stage")
    ax.set_xticks(list(x), [name.split("_", 1)[0] for name in layers], rotation=90, fontsize=6)
    ax.set_xlabel("step")
    ax.set_ylabel("KiB live while the step runs")
    ax.set_title(title or "activation memory per step")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
