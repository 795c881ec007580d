"""The whole pipeline on the built-in default, end to end, as the README's main command runs it:
built-in data → float training → QAT → full int8 → C (TFLM array and compiled runtime) → firmware for an
emulated Cortex-M board → QEMU → serial test against the host TFLM interpreter → a short summary.

Re-running it continues the same run directory (a finished run is not trained again)."""
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError
from .fileio import check_output_dir


@dataclass
class DemoSummary:
    lines: list[str] = field(default_factory=list)
    ok: bool = True


def run_demo(out_dir="runs/demo", *, board_env: str = "qemu_m4", epochs: int = 8, qat_epochs: int = 2,
             data: str | None = None, limit: int = 100, log=print) -> DemoSummary:
    from .convert.pipeline import convert_model
    from .data import BUILTIN_DEFAULT
    from .device.board import get_board
    from .device.emulator import Emulator
    from .device.firmware_build import build_firmware
    from .device.link import DeviceLink
    from .data.selection import select_images
    from .device.serial_test import run_serial_test
    from .train import TrainConfig, completed_epochs, train

    start = time.time()
    run_dir = Path(out_dir)
    board = get_board(board_env)
    if not board.emulated:
        raise UserError(f"the demo boots an emulated board; {board_env} is real hardware: use `firmware build`, "
                        "`flash` and `serial-test` for it")
    # Every argument is checked before the first step: a bad one must not cost a training run.
    if limit < 1:
        raise UserError(f"--limit must be at least 1 (images sent to the device), got {limit}")
    # The demo keeps its short, measured course (README): gray 96×96, 8 + 2 epochs at a constant learning
    # rate (the default; said here too because a cosine decay over only 8 epochs halves the average rate,
    # and shapes needs ~800 steps at 3e-3 before it takes off: 84.6 % float / 89.5 % QAT, not 97.5 / 99.6).
    config = TrainConfig(data=data or BUILTIN_DEFAULT, epochs=epochs, qat_epochs=qat_epochs, lr_schedule="constant",
                         warmup_epochs=0).check()
    check_output_dir(run_dir)
    resume = (run_dir / "config.json").exists()
    if resume:
        done = completed_epochs(run_dir)
        log(f"[1/4] continuing the run in {run_dir} ({done['float']} float + {done['qat']} QAT epochs done)")
    else:
        log(f"[1/4] training MobileNetV1 α{0.25} 96×96×1 on {config.data} → {run_dir}")
    train(config, run_dir, resume=resume, log=log, note_interrupts=False)

    log("[2/4] converting to full int8, C array and compiled C")
    conv = convert_model(run_dir, log=log)
    report = conv.report

    log(f"[3/4] building firmware for {board.env} (compiled runtime)")
    fw = build_firmware(board.env, conv.tflite_path, runtime="compiled", labels=conv.labels,
                        out_dir=run_dir / "firmware" / board.env, log=log)

    log(f"[4/4] booting QEMU {board.env} and comparing the device with the host TFLM interpreter")
    sent = select_images(fw.facts.input_shape, run=run_dir, limit=limit)
    with Emulator(board, fw.firmware, time_limit=600) as qemu, DeviceLink(qemu.url, timeout=60) as link:
        link.sync()
        st = run_serial_test(link, conv.model_bytes, sent.x, sent.y)

    acc = report["accuracy"]
    cmp = report["tflm_vs_litert_reference"]
    ins = st.latency_instructions()
    summary = DemoSummary(ok=st.ok)
    summary.lines += [
        f"accuracy on {report['validation_images']} validation images: float {acc['keras_float']:.4f}, "
        f"QAT {acc.get('keras_qat', float('nan')):.4f}, int8 TFLM {acc['int8_tflm']:.4f} "
        + ("(LiteRT reference unavailable for this model)" if "unavailable" in cmp else
           f"(LiteRT reference {acc['int8_litert_reference']:.4f}; {cmp['inputs_differing']} outputs differ, "
           f"max {cmp['max_abs_difference']})"),
        f"device ({board.env}, compiled runtime): accuracy {st.device_correct / max(st.count, 1):.4f} on "
        f"{st.count} images ({sent.description}), bit-exact with host TFLM {st.bit_exact}/{st.count}",
    ]
    if ins:
        summary.lines.append(f"speed: {sorted(ins)[len(ins) // 2]:,} instructions per inference "
                             f"({sorted(ins)[len(ins) // 2] / fw.macs:.2f} per MAC, {fw.macs:,} MACs; QEMU -icount)")
    summary.lines += [
        f"memory: arena {fw.arena_bytes:,} B (TFLM's on the host: {report['tflm_arena_bytes']:,} B), "
        f"RAM {fw.ram_bytes:,} B, "
        f"flash {fw.flash_bytes:,} B; model {len(conv.model_bytes):,} B",
        f"outputs in {run_dir}: model.tflite, model_data.h/.cc, report.md, firmware/{board.env}/ "
        f"({time.time() - start:.0f} s)",
    ]
    return summary
