"""Measure how well MobileNetV1 learns a built-in data set: plain float training with tf_keras `fit`.

A measurement, not a test: it prints generation time, per-epoch validation accuracy, the best and final
validation accuracy and the wall time. The README's claim (V1 α0.25 96×96×1 ≥ 90 % in a few minutes on
2 cores) comes from running this with the defaults (builtin:shapes, 6,000 images, Adam 3e-3, batch 32,
8 epochs = 1,200 steps):

    .venv/bin/python tools/check_builtin_accuracy.py
    .venv/bin/python tools/check_builtin_accuracy.py --bn-momentum 0.9

Measured on the shared 2-core machine (other jobs running): final val accuracy 0.9375 with the builders'
BatchNormalization (momentum 0.99), 0.9633 with momentum 0.9; same training accuracy (0.985) in both, the
difference is only how far the moving statistics lag. With lr 1e-3 it is slower: 0.758 after the same
8 epochs (training accuracy 0.90). Training took 5–7 minutes there; an idle machine does ~130 ms a step.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mobilenet_tiny.data import BUILTIN_DEFAULT, load_data, to_tf_dataset  # noqa: E402
from mobilenet_tiny.models import mobilenet_v1, parse_input_shape  # noqa: E402
from mobilenet_tiny.tf_env import keras, tf  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=BUILTIN_DEFAULT, help="data spec (default %(default)s)")
    parser.add_argument("--input", default="96x96x1", help="HxWxC (default %(default)s)")
    parser.add_argument("--alpha", type=float, default=0.25)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bn-momentum", type=float, default=None,
                        help="override every BatchNormalization's momentum (the builders use Keras' 0.99)")
    parser.add_argument("--no-augment", action="store_true", help="train on the images as they are")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    start = time.perf_counter()
    data = load_data(args.data, parse_input_shape(args.input), seed=args.seed)
    generated = time.perf_counter()
    print(f"data: {data.source} {data.input_shape}, classes {data.labels}, "
          f"{len(data.train_x)} train / {len(data.val_x)} val, made in {generated - start:.1f} s")

    train = to_tf_dataset(data.train_x, data.train_y, args.batch_size, training=not args.no_augment,
                          seed=args.seed)
    val = to_tf_dataset(data.val_x, data.val_y, args.batch_size, training=False)
    # Moving statistics start at mean 0 / variance 1 and move by (1 - momentum) per step; with 0.99 they need
    # several hundred steps to reach the small variances of early layers, and until then the model in
    # inference mode (validation, conversion) predicts one class.
    model = mobilenet_v1(data.input_shape, alpha=args.alpha, num_classes=len(data.labels),
                         **({"bn_momentum": args.bn_momentum} if args.bn_momentum is not None else {}))
    model.compile(optimizer=keras.optimizers.Adam(args.lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=args.epochs, verbose=2)
    trained = time.perf_counter()

    accuracy = history.history["val_accuracy"]
    print(f"val accuracy per epoch: {' '.join(f'{a:.3f}' for a in accuracy)}")
    best = max(accuracy)
    print(f"final val accuracy {accuracy[-1]:.4f}, best {best:.4f} (epoch {accuracy.index(best) + 1})")
    print(f"wall time: data {generated - start:.1f} s, training {trained - generated:.1f} s, "
          f"total {trained - start:.1f} s")


if __name__ == "__main__":
    main()
