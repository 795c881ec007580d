"""Import TensorFlow and Keras 2 the one way this project supports.

tfmot 0.8.1 only understands Keras 2 (`tf_keras`); TF_USE_LEGACY_KERAS must be set before TensorFlow is
first imported or `tf.keras` becomes Keras 3 and `quantize_model` rejects the models. Every module that
needs TensorFlow imports it from here, late (inside functions), so the CLI starts fast.
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
# This wheel probes for CUDA at import and logs to the C-level stderr before absl is set up; level 3 and no
# visible GPU keep the CLI's output readable (Python-level errors still raise as usual).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")



def _import_quietly():
    """Import TF with the C-level stderr parked: its CUDA probe logs there before absl is initialised,
    whatever TF_CPP_MIN_LOG_LEVEL says. Anything it logged is shown if the import fails."""
    from .stderr_capture import capture_fd2

    with capture_fd2():
        import tensorflow
        import tf_keras
    return tensorflow, tf_keras


tf, keras = _import_quietly()

tf.get_logger().setLevel("ERROR")

__all__ = ["tf", "keras", "tfmot"]


def tfmot():
    """tensorflow_model_optimization, imported only after the switches above (it imports TF itself)."""
    import tensorflow_model_optimization

    return tensorflow_model_optimization
