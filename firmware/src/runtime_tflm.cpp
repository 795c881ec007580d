// The TFLM runtime: the model's flatbuffer (model_data.cc) run by TensorFlow Lite Micro's interpreter.
// The op resolver registers exactly the model's ops (MODEL_OPS from the converter), so the linker keeps
// only their kernels; the arena is the size the converter measured with the host TFLM interpreter.
// Which kernels TFLM was built with (MTK_TFLM_REFERENCE / MTK_TFLM_CMSIS_NN) is set by `firmware build`.
#include "runtime.h"

#include <new>

#include "tensorflow/lite/micro/compatibility.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/micro/system_setup.h"
#include "tensorflow/lite/schema/schema_generated.h"

#include "model/model_data.h"
#include "model/model_meta.h"

static_assert(MODEL_INPUT_BYTES == META_INPUT_BYTES, "model_data.h and model_meta.h describe different models");
static_assert(MODEL_OUTPUT_BYTES == META_OUTPUT_BYTES, "model_data.h and model_meta.h describe different models");
// Until the interpreter has allocated its tensors the protocol receives requests into the arena itself.
static_assert(MODEL_ARENA_BYTES >= MODEL_INPUT_BYTES, "the arena holds the input tensor");

namespace
{

using OpResolver = tflite::MicroMutableOpResolver<MODEL_OP_COUNT>;

alignas(16) uint8_t tensor_arena[MODEL_ARENA_BYTES];
// Constructed in place at init: no heap, no static constructors with side effects before main.
alignas(OpResolver) uint8_t resolver_storage[sizeof(OpResolver)];
alignas(tflite::MicroInterpreter) uint8_t interpreter_storage[sizeof(tflite::MicroInterpreter)];
tflite::MicroInterpreter *interpreter = nullptr;
const char *init_error = "not initialised";

#ifdef MTK_TRACE
} // namespace
extern "C" void mtk_trace_step(int step, const int8_t *data, uint32_t bytes);
namespace
{

// Per-layer profile (benchmark images, -DMTK_TRACE): TFLM's interpreter opens one event per operator
// it invokes; the end of the n-th is reported like a compiled model's step n.
class StepProfiler : public tflite::MicroProfilerInterface
{
  public:
    uint32_t BeginEvent(const char *) override
    {
        return next_step_;
    }
    void EndEvent(uint32_t handle) override
    {
        mtk_trace_step(static_cast<int>(handle), nullptr, 0);
        next_step_ = handle + 1;
    }
    void Restart()
    {
        next_step_ = 0;
    }

  private:
    uint32_t next_step_ = 0;
    // Never deleted (a static object): the deleting destructor a virtual one brings then names this empty
    // delete, as TFLM's own classes do, not the C++ library's, which the RISC-V toolchain does not have.
    TF_LITE_REMOVE_VIRTUAL_DELETE
};
StepProfiler profiler;
tflite::MicroProfilerInterface *const profiler_or_null = &profiler;
#else
tflite::MicroProfilerInterface *const profiler_or_null = nullptr;
#endif

bool register_ops(OpResolver &resolver)
{
#define MTK_REGISTER_OP(add)                                                                                           \
    if (resolver.add() != kTfLiteOk)                                                                                   \
        return false;
    MODEL_OPS(MTK_REGISTER_OP)
#undef MTK_REGISTER_OP
    return true;
}

} // namespace

extern "C" int runtime_init(void)
{
#ifndef ARDUINO
    // On Arduino the TFLM ports' InitializeTarget() re-opens Serial at 9600 baud, which would cut the
    // protocol's link (board_init already opened it); elsewhere it is the target's own set-up.
    tflite::InitializeTarget();
#endif
    const tflite::Model *model = tflite::GetModel(model_data);
    if (model->version() != TFLITE_SCHEMA_VERSION) {
        init_error = "model schema version differs from this TFLM";
        return -1;
    }
    OpResolver *resolver = new (resolver_storage) OpResolver();
    if (!register_ops(*resolver)) {
        init_error = "op resolver has no room for the model's ops";
        return -1;
    }
    interpreter = new (interpreter_storage)
        tflite::MicroInterpreter(model, *resolver, tensor_arena, sizeof(tensor_arena), nullptr, profiler_or_null);
    if (interpreter->AllocateTensors() != kTfLiteOk) {
        init_error = "AllocateTensors failed: arena too small or an op is missing";
        interpreter = nullptr;
        return -1;
    }
    TfLiteTensor *in = interpreter->input(0);
    TfLiteTensor *out = interpreter->output(0);
    if (in->type != kTfLiteInt8 || out->type != kTfLiteInt8 || in->bytes != MODEL_INPUT_BYTES ||
        out->bytes != MODEL_OUTPUT_BYTES) {
        init_error = "model tensors do not match model_data.h (expected int8 input/output)";
        interpreter = nullptr;
        return -1;
    }
    init_error = "";
    return 0;
}

extern "C" const char *runtime_error(void)
{
    return init_error;
}
extern "C" const char *runtime_name(void)
{
#if defined(MTK_TFLM_CMSIS_NN)
    return "tflm-cmsis-nn";
#elif defined(MTK_TFLM_REFERENCE)
    return "tflm-reference";
#else
    return "tflm"; // a TFLM library whose kernels this build does not know (e.g. the registry's)
#endif
}

// Without an interpreter (init failed) there is no tensor: the arena is unused, so it serves as the
// buffer the protocol decodes requests into, and no other memory is set aside for that case.
extern "C" int8_t *runtime_input(void)
{
    return interpreter ? interpreter->input(0)->data.int8 : reinterpret_cast<int8_t *>(tensor_arena);
}

extern "C" const int8_t *runtime_output(void)
{
    return interpreter ? interpreter->output(0)->data.int8 : reinterpret_cast<const int8_t *>(tensor_arena);
}

extern "C" int runtime_invoke(void)
{
    if (interpreter == nullptr)
        return -1;
#ifdef MTK_TRACE
    profiler.Restart();
#endif
    return interpreter->Invoke() == kTfLiteOk ? 0 : -1;
}

extern "C" uint32_t runtime_arena_bytes(void)
{
    return interpreter ? static_cast<uint32_t>(interpreter->arena_used_bytes()) : 0;
}
