"""`mobilenet-tiny export arduino`: the model as an Arduino library, for the Arduino IDE (Sketch → Include
Library → Add .ZIP/folder) or a PlatformIO project's lib/.

    DIR/library.properties
    DIR/src/NAME.h                 labels, input shape, NAME_begin() / NAME_classify(pixels, scores)
    DIR/src/NAME.c[pp]             the pixel table and the classifier around the runtime
    DIR/src/NAME_net.h/.c + mtk_*  compiled runtime: the generated C and this project's kernels
    DIR/src/NAME_tflite_data.*     tflm runtime: the .tflite as a C array (TFLM itself comes from the
                                   Chirale_TensorFlowLite library, `depends=`)
    DIR/examples/Classify/         a sketch: GetImage() (a camera's frame buffer, shaped like TFLM's
                                   person_detection example) → classify → print the top class

The classifier takes uint8 pixels (HWC, as a camera delivers them) and quantizes them with the same
256-entry table the host uses (`interpreters.pixel_lut`), so a frame gives the host's bytes exactly.
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..fileio import replaced_dir
from ..interpreters import pixel_lut

MARKER = ".mobilenet-tiny-arduino-library"
EXAMPLE = "Classify"
TFLM_LIBRARY = "Chirale_TensorFlowLite"


@dataclass
class ArduinoLibrary:
    path: Path
    name: str
    runtime: str
    header: Path
    example: Path
    sample_image: np.ndarray  # the frame the example's GetImage() returns (uint8, H×W×C)


def _c_rows(values, per_line: int = 16, width: int = 4) -> str:
    values = [int(v) for v in np.asarray(values).reshape(-1)]
    return ",\n  ".join(", ".join(f"{v:{width}d}" for v in values[i:i + per_line]) for i in range(0, len(values), per_line))


def _c_string(text: str) -> str:
    return json.dumps(str(text), ensure_ascii=True)  # a valid C string literal for any text


def render_header(name: str, facts, labels: list[str], runtime: str) -> str:
    up = name.upper()
    h, w, c = facts.input_shape
    return f"""/* {name}.h: an int8 MobileNet classifier exported by `mobilenet-tiny export arduino` ({runtime} runtime),
 * model SHA-256 {facts.sha256}. Do not edit: export again.
 *
 *   uint8_t frame[{up}_INPUT_BYTES];   // camera pixels, row by row, {c} channel(s) per pixel
 *   int8_t scores[{up}_NUM_CLASSES];
 *   if ({name}_begin() != 0) Serial.println({name}_error());
 *   int top = {name}_classify(frame, scores);  // {name}_labels[top]
 */
#ifndef {up}_H_
#define {up}_H_

#include <stdint.h>

#define {up}_INPUT_HEIGHT {h}
#define {up}_INPUT_WIDTH {w}
#define {up}_INPUT_CHANNELS {c}
#define {up}_INPUT_BYTES {h * w * c}
#define {up}_NUM_CLASSES {len(labels)}
/* The scores are the model's int8 output: probability = {facts.output_scale!r} * (score - ({facts.output_zero_point})). */
#define {up}_OUTPUT_SCALE {float(np.float32(facts.output_scale)).hex()}f
#define {up}_OUTPUT_ZERO_POINT ({facts.output_zero_point})

#ifdef __cplusplus
extern "C" {{
#endif

extern const char *const {name}_labels[{up}_NUM_CLASSES];

/* Prepare the model once (TFLM: allocate its tensors). 0 on success, else {name}_error() says why. */
int {name}_begin(void);
const char *{name}_error(void);

/* Classify one frame: {h}x{w} uint8 pixels with {c} channel(s), HWC. Writes the int8 score of every class
 * and returns the top class (the lowest index on ties), or -1 if the model could not run. */
int {name}_classify(const uint8_t *pixels, int8_t *scores);

#ifdef __cplusplus
}}
#endif

#endif
"""


def _common_source(name: str, facts, labels: list[str]) -> str:
    up = name.upper()
    lut = pixel_lut(facts.input_scale, facts.input_zero_point)
    return f"""const char *const {name}_labels[{up}_NUM_CLASSES] = {{{", ".join(_c_string(label) for label in labels)}}};

/* uint8 pixel -> int8 model input: clamp(round(p / 255 / {facts.input_scale!r}) + ({facts.input_zero_point})), computed on the
 * host with the function its own reference run uses. */
static const int8_t pixel_lut[256] = {{
  {_c_rows(lut)}
}};

static int top_class(const int8_t *scores) {{
  int best = 0;
  for (int i = 1; i < {up}_NUM_CLASSES; i++) {{
    if (scores[i] > scores[best]) best = i;
  }}
  return best;
}}
"""


def render_compiled_source(name: str, facts, labels: list[str]) -> str:
    up = name.upper()
    return f"""/* {name}.c: the classifier around the compiled model ({name}_net.c). Generated; do not edit. */
#include "{name}.h"

#include "{name}_net.h"

_Static_assert({up}_NET_INPUT_BYTES == {up}_INPUT_BYTES, "another model");
_Static_assert({up}_NET_OUTPUT_BYTES == {up}_NUM_CLASSES, "another model");

{_common_source(name, facts, labels)}
int {name}_begin(void) {{ return 0; }} /* the arena is planned at build time: nothing can fail */
const char *{name}_error(void) {{ return ""; }}

int {name}_classify(const uint8_t *pixels, int8_t *scores) {{
  int8_t *input = {name}_net_input_buffer(); /* the input's place in the arena: no copy */
  for (int i = 0; i < {up}_INPUT_BYTES; i++) input[i] = pixel_lut[pixels[i]];
  if ({name}_net_invoke(input, scores) != 0) return -1;
  return top_class(scores);
}}
"""


def render_tflm_source(name: str, facts, labels: list[str]) -> str:
    up = name.upper()
    data = f"{name}_tflite"
    dup = data.upper()
    return f"""// {name}.cpp: the classifier around TensorFlow Lite Micro ({data}_data.cc holds the model). Generated;
// do not edit. The resolver registers exactly the model's ops; the arena is what the host TFLM measured.
#include "{name}.h"

#include <new>
#include <string.h>

#include "{data}_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

static_assert({dup}_INPUT_BYTES == {up}_INPUT_BYTES, "{data}_data.h describes another model");
static_assert({dup}_OUTPUT_BYTES == {up}_NUM_CLASSES, "{data}_data.h describes another model");

extern "C" {{
{_common_source(name, facts, labels)}}}

namespace {{

using OpResolver = tflite::MicroMutableOpResolver<{dup}_OP_COUNT>;
alignas(16) uint8_t tensor_arena[{dup}_ARENA_BYTES];
alignas(OpResolver) uint8_t resolver_storage[sizeof(OpResolver)];
alignas(tflite::MicroInterpreter) uint8_t interpreter_storage[sizeof(tflite::MicroInterpreter)];
tflite::MicroInterpreter *interpreter = nullptr;
const char *init_error = "{name}_begin() was not called";

bool register_ops(OpResolver &resolver) {{
#define {up}_REGISTER(add) if (resolver.add() != kTfLiteOk) return false;
  {dup}_OPS({up}_REGISTER)
#undef {up}_REGISTER
  return true;
}}

}}  // namespace

extern "C" int {name}_begin(void) {{
  if (interpreter != nullptr) return 0;
  const tflite::Model *model = tflite::GetModel({data}_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) {{
    init_error = "model schema version differs from this TFLM";
    return -1;
  }}
  OpResolver *resolver = new (resolver_storage) OpResolver();
  if (!register_ops(*resolver)) {{
    init_error = "op resolver has no room for the model's ops";
    return -1;
  }}
  tflite::MicroInterpreter *candidate = new (interpreter_storage)
      tflite::MicroInterpreter(model, *resolver, tensor_arena, sizeof(tensor_arena));
  if (candidate->AllocateTensors() != kTfLiteOk) {{
    init_error = "AllocateTensors failed: arena too small or an op is missing";
    return -1;
  }}
  TfLiteTensor *in = candidate->input(0);
  TfLiteTensor *out = candidate->output(0);
  if (in->type != kTfLiteInt8 || out->type != kTfLiteInt8 || in->bytes != {up}_INPUT_BYTES ||
      out->bytes != {up}_NUM_CLASSES) {{
    init_error = "model tensors are not the int8 input/output this header describes";
    return -1;
  }}
  interpreter = candidate;
  init_error = "";
  return 0;
}}

extern "C" const char *{name}_error(void) {{ return init_error; }}

extern "C" int {name}_classify(const uint8_t *pixels, int8_t *scores) {{
  if (interpreter == nullptr && {name}_begin() != 0) return -1;
  int8_t *input = interpreter->input(0)->data.int8;
  for (int i = 0; i < {up}_INPUT_BYTES; i++) input[i] = pixel_lut[pixels[i]];
  if (interpreter->Invoke() != kTfLiteOk) return -1;
  memcpy(scores, interpreter->output(0)->data.int8, {up}_NUM_CLASSES);
  return top_class(scores);
}}
"""


def render_example(name: str) -> str:
    up = name.upper()
    return f"""// Classify: one camera frame through the exported model, the top class printed on Serial (115200 baud).
//
// GetImage() stands for your camera, in the shape of TFLM's person_detection example: it fills
// image_data with one frame of image_width x image_height pixels, `channels` uint8 values each, row by
// row. Here it copies sample_image.h (a frame chosen at export time); replace its body with your
// camera's capture (and resize/crop to {up}_INPUT_WIDTH x {up}_INPUT_HEIGHT).
#include <{name}.h>
#include <string.h>

#include "sample_image.h"

static uint8_t frame[{up}_INPUT_BYTES];
static int8_t scores[{up}_NUM_CLASSES];

bool GetImage(int image_width, int image_height, int channels, uint8_t *image_data) {{
  memcpy(image_data, sample_image, (size_t)image_width * image_height * channels);
  return true;
}}

void setup() {{
  Serial.begin(115200);
  const unsigned long start = millis();
  while (!Serial && millis() - start < 3000) {{
  }}
  if ({name}_begin() != 0) {{
    Serial.print("model error: ");
    Serial.println({name}_error());
  }}
}}

void loop() {{
  if (!GetImage({up}_INPUT_WIDTH, {up}_INPUT_HEIGHT, {up}_INPUT_CHANNELS, frame)) {{
    Serial.println("image capture failed");
    delay(1000);
    return;
  }}
  const unsigned long start = micros();
  const int top = {name}_classify(frame, scores);
  const unsigned long elapsed = micros() - start;
  if (top < 0) {{
    Serial.println("classification failed");
  }} else {{
    Serial.print("top class: ");
    Serial.print({name}_labels[top]);
    Serial.print(" (score ");
    Serial.print(scores[top]);
    Serial.print(", ");
    Serial.print(elapsed);
    Serial.println(" us)");
    Serial.print("scores:");
    for (int i = 0; i < {up}_NUM_CLASSES; i++) {{
      Serial.print(' ');
      Serial.print(scores[i]);
    }}
    Serial.println();
  }}
  delay(1000);
}}
"""


def render_sample_image(image: np.ndarray, source: str) -> str:
    h, w, c = image.shape
    return f"""// sample_image.h: one {h}x{w}x{c} uint8 frame (HWC) for the example's GetImage(): {source}.
#ifndef SAMPLE_IMAGE_H_
#define SAMPLE_IMAGE_H_

#include <stdint.h>

static const uint8_t sample_image[{h * w * c}] = {{
  {_c_rows(image, per_line=24, width=3)}
}};

#endif
"""


def render_properties(name: str, facts, labels: list[str], runtime: str) -> str:
    h, w, c = facts.input_shape
    depends = f"depends={TFLM_LIBRARY}\n" if runtime == "tflm" else ""
    classes = ", ".join(labels[:8]) + (", ..." if len(labels) > 8 else "")
    return (f"name={name}\nversion=1.0.0\nauthor=mobilenet-tiny\nmaintainer=mobilenet-tiny\n"
            f"sentence=int8 MobileNet image classifier, {h}x{w}x{c} input, {len(labels)} classes ({classes}).\n"
            f"paragraph=Exported by mobilenet-tiny ({runtime} runtime) from the model with SHA-256 {facts.sha256}; "
            f"outputs equal the TensorFlow Lite Micro interpreter's byte for byte.\n"
            f"category=Data Processing\nurl=https://pypi.org/project/mobilenet-tiny/\narchitectures=*\n"
            f"includes={name}.h\n{depends}")


def sample_frame(input_shape, image_path=None) -> tuple[np.ndarray, str]:
    """The example's frame: the given image file (centre-cropped and resized as training data are), or a
    generated one from the built-in `shapes` set."""
    if image_path is not None:
        from ..data.folders import decode_image

        path = Path(image_path)
        if not path.is_file():
            raise UserError(f"--image {path}: no such file")
        try:
            return decode_image(path, tuple(input_shape)).astype(np.uint8), path.name
        except Exception as e:  # PIL's errors for a file that is not an image
            raise UserError(f"--image {path}: cannot read it as an image ({type(e).__name__})") from None
    from ..data.builtin import draw_shapes

    pixels, _ = draw_shapes(1, tuple(input_shape), seed=0)
    return pixels[0], "a generated image of the built-in shapes set"


def _copy_kernels(dest: Path) -> list[str]:
    """The kernel library's headers and sources, flat into dest (the Arduino IDE puts only src/ on the
    include path, and the kernels include each other by bare name)."""
    from ..compiler import KERNELS_DIR

    copied = {}
    for path in sorted(p for p in KERNELS_DIR.rglob("*") if p.is_file() and p.suffix in (".c", ".h", ".S")):
        if path.name in copied:
            raise UserError(f"internal error: two kernel files named {path.name} ({copied[path.name]}, {path})")
        copied[path.name] = path
        shutil.copyfile(path, dest / path.name)
    return sorted(copied)


def export_arduino(model, out_dir, *, name: str = "mobilenet_tiny_model", runtime: str = "compiled",
                   image=None, labels=None) -> ArduinoLibrary:
    """Write the library to out_dir (whole or not at all; an existing export there is replaced)."""
    from ..device.model_meta import check_firmware_model
    from ..model_facts import load_model_facts

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name or ""):
        raise UserError(f"--name {name!r}: use a lower-case C identifier (letters, digits, _)")
    if runtime not in ("compiled", "tflm"):
        raise UserError(f"--runtime {runtime!r}: choose compiled or tflm")
    facts = load_model_facts(model)
    check_firmware_model(facts)  # a full-int8 image classifier, as the firmware needs
    labels = facts.class_names(labels)
    tflite_bytes = facts.data
    frame, frame_source = sample_frame(facts.input_shape, image)
    out = Path(out_dir).resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise UserError(f"{out} exists and is not a library made by `export arduino`: choose another -o")
    with replaced_dir(out) as staging:
        src = staging / "src"
        src.mkdir()
        (staging / MARKER).write_text("made by `mobilenet-tiny export arduino`; replaced on each export\n")
        (staging / "library.properties").write_text(render_properties(name, facts, labels, runtime))
        (src / f"{name}.h").write_text(render_header(name, facts, labels, runtime))
        if runtime == "compiled":
            from ..compiler import compile_model

            compile_model(facts, src, name=f"{name}_net", labels=labels)
            (src / f"{name}.c").write_text(render_compiled_source(name, facts, labels))
            _copy_kernels(src)
        else:
            from ..convert.c_array import write_c_array
            from ..convert.pipeline import tflm_arena_bytes

            _, arena = tflm_arena_bytes(tflite_bytes)
            write_c_array(facts, src, name=f"{name}_tflite", labels=labels, arena_bytes=arena)
            (src / f"{name}.cpp").write_text(render_tflm_source(name, facts, labels))
        example = staging / "examples" / EXAMPLE
        example.mkdir(parents=True)
        (example / f"{EXAMPLE}.ino").write_text(render_example(name))
        (example / "sample_image.h").write_text(render_sample_image(frame, frame_source))
    return ArduinoLibrary(out, name, runtime, out / "src" / f"{name}.h", out / "examples" / EXAMPLE, frame)
