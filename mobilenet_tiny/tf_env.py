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
    import tempfile

    with tempfile.TemporaryFile() as parked:
        saved = os.dup(2)
        os.dup2(parked.fileno(), 2)
        try:
            import tensorflow
            import tf_keras
        except BaseException:
            os.dup2(saved, 2)
            parked.seek(0)
            os.write(2, parked.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return tensorflow, tf_keras


tf, keras = _import_quietly()

tf.get_logger().setLevel("ERROR")

__all__ = ["tf", "keras"]
