"""`mobilenet-tiny compile`: a thin wrapper over compile_model; bad input is one line and exit 1."""
import json
import subprocess
import sys

from compiler_helpers import cached_model


def _cli(*args):
    return subprocess.run([sys.executable, "-c", "from mobilenet_tiny.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=300)


def test_compile_writes_files_and_reports(zoo, tmp_path):
    from mobilenet_tiny.tf_env import keras

    model = cached_model("ok-conv", lambda: zoo.single_layer(lambda x: keras.layers.Conv2D(2, 1)(x), (4, 4, 1), 0),
                         op="conv")
    (tmp_path / "model.tflite").write_bytes(model)
    (tmp_path / "labels.txt").write_text("zero\n")  # wrong count on purpose below
    proc = _cli("compile", str(tmp_path / "model.tflite"), "-o", str(tmp_path / "c"), "--json")
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "labels" in proc.stderr
    (tmp_path / "labels.txt").unlink()
    proc = _cli("compile", str(tmp_path / "model.tflite"), "-o", str(tmp_path / "c"), "--name", "tiny", "--json")
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert facts["ops"] == ["CONV_2D"] and facts["output_size"] == 32
    assert "#define TINY_ARENA_BYTES" in (tmp_path / "c" / "tiny.h").read_text()
    assert "tiny_invoke" in (tmp_path / "c" / "tiny.c").read_text()


def test_compile_rejects_non_model(tmp_path):
    bad = tmp_path / "junk.tflite"
    bad.write_bytes(b"definitely not a flatbuffer")
    proc = _cli("compile", str(bad), "-o", str(tmp_path / "c"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr and not (tmp_path / "c").exists()


def test_compile_dir_needs_an_unambiguous_model(zoo, tmp_path):
    """A directory: its model.tflite, else its only .tflite; two others and no model.tflite is refused."""
    import flatbuffer_models

    (tmp_path / "b.tflite").write_bytes(flatbuffer_models.requantize((1, 1, 1, 3), 0.02, 0, 0.01, 3))
    proc = _cli("compile", str(tmp_path), "-o", str(tmp_path / "c"), "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["output_size"] == 3, proc.stderr
    (tmp_path / "a.tflite").write_bytes(flatbuffer_models.requantize((1, 1, 1, 5), 0.02, 0, 0.01, 3))
    proc = _cli("compile", str(tmp_path), "-o", str(tmp_path / "d"))
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and not (tmp_path / "d").exists()
    assert "2 .tflite models and no model.tflite (a.tflite, b.tflite)" in proc.stderr, proc.stderr
    (tmp_path / "model.tflite").write_bytes(flatbuffer_models.requantize((1, 1, 1, 7), 0.02, 0, 0.01, 3))
    proc = _cli("compile", str(tmp_path), "-o", str(tmp_path / "e"), "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["output_size"] == 7, proc.stderr


def test_name_rule_is_the_same_in_convert_and_compile(tmp_path):
    """--name: a C identifier, upper case allowed, the same rule (and message) in both commands."""
    import flatbuffer_models

    (tmp_path / "m.tflite").write_bytes(flatbuffer_models.requantize((1, 1, 1, 3), 0.02, 0, 0.01, 3))
    for name, ok in (("Model", True), ("my-model", False), ("2fast", False)):
        results = [_cli("compile", str(tmp_path / "m.tflite"), "-o", str(tmp_path / f"c-{name}"), "--name", name),
                   _cli("convert", str(tmp_path / "m.tflite"), "--out", str(tmp_path / f"v-{name}"), "--name", name,
                        "--no-report")]
        if ok:
            assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
            assert (tmp_path / f"c-{name}" / f"{name}.h").is_file()
            assert "#define MODEL_INPUT_SCALE" in (tmp_path / f"v-{name}" / f"{name}_data.h").read_text()
        else:
            assert [r.returncode for r in results] == [1, 1]
            assert results[0].stderr == results[1].stderr and "C identifier" in results[0].stderr


def test_labels_with_quotes_and_non_ascii_compile(tmp_path):
    """Labels become C string literals: quotes, backslashes, '?' and UTF-8 are escaped, and gcc -Werror
    accepts the file; the bytes printed back by a C program equal the labels' UTF-8."""
    import subprocess as sp

    import flatbuffer_models
    from mobilenet_tiny.compiler import compile_model
    from mobilenet_tiny.compiler.host import HOST_CFLAGS, KERNELS_DIR, kernel_sources

    labels = ['say "hi"', "back\\slash", "café", "what??=", "tab\there"]
    model = flatbuffer_models.requantize((1, 1, 1, len(labels)), 0.02, 0, 0.01, 3)
    compile_model(model, tmp_path, "net", labels=labels)
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\n#include "net.h"\n'
        "int main(void) { for (int i = 0; i < NET_NUM_CLASSES; ++i) printf(\"%s\\n\", net_labels[i]); return 0; }\n")
    exe = tmp_path / "labels"
    sp.run(["gcc", *HOST_CFLAGS, "-I", str(KERNELS_DIR / "include"), "-I", str(tmp_path), str(tmp_path / "net.c"),
            str(tmp_path / "main.c"), *map(str, kernel_sources()), "-o", str(exe), "-lm"], check=True)
    printed = sp.run([str(exe)], capture_output=True, check=True).stdout
    assert printed == "".join(label + "\n" for label in labels).encode("utf-8")


def test_the_three_headers_state_the_facts_the_same_way(tmp_path):
    """The compiled model's header, the TFLM C array's header and the firmware's model_meta.h come from one
    emitter: the same macros with the same values (a float32 scale as the shortest decimal that reads back
    exactly), and the labels as the same C literals."""
    import re

    import numpy as np

    import flatbuffer_models
    from mobilenet_tiny.compiler import compile_model
    from mobilenet_tiny.convert.c_array import write_c_array
    from mobilenet_tiny.device.model_meta import write_model_meta
    from mobilenet_tiny.model_facts import read_model_facts

    labels = ['say "hi"', "café", "what??="]
    model = read_model_facts(flatbuffer_models.requantize((1, 1, 1, 3), 1 / 255, -128, 0.0123, 3), labels=labels)
    compile_model(model, tmp_path, "net")
    write_c_array(model, tmp_path, name="net", arena_bytes=1024)
    write_model_meta(tmp_path, model)

    def macros(text, prefix):
        return {m[0]: m[1] for m in re.findall(rf"#define {prefix}_(INPUT_\w+|OUTPUT_\w+) (.+?)\s*(?:/\*.*)?$", text, re.M)}

    compiled = macros((tmp_path / "net.h").read_text(), "NET")
    assert len(compiled) == 9, compiled  # INPUT_HEIGHT ... OUTPUT_ZERO_POINT
    assert compiled == macros((tmp_path / "net_data.h").read_text(), "NET")
    assert compiled == macros((tmp_path / "model_meta.h").read_text(), "META")
    assert np.float32(compiled["INPUT_SCALE"].rstrip("f")) == np.float32(1 / 255)
    literals = [re.search(r"labels\[\w+\] = \{(.*)\};", (tmp_path / f).read_text()).group(1)
                for f in ("net.c", "net_data.cc", "model_meta.c")]
    assert literals[0] == literals[1] == literals[2] and r"caf\303\251" in literals[0]
