"""Training on several devices or machines with tf.distribute (`train --strategy`).

- `one-device`: tf.distribute.OneDeviceStrategy on the first GPU, else the CPU.
- `mirrored`: tf.distribute.MirroredStrategy, one replica per local GPU (the CPU when there is none).
- `multi-worker`: tf.distribute.MultiWorkerMirroredStrategy, the cluster and this process's place in it
  read from the TF_CONFIG environment variable, as TensorFlow documents it:
  `{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}`.
  The chief is the "chief" task, or worker 0 when the cluster names none.
- `auto`: multi-worker when TF_CONFIG names more than one task, mirrored with two or more GPUs, else
  TensorFlow's default strategy (one device: what training always did, byte for byte).

Following TensorFlow's recipes (the "Distributed training with Keras" and "Multi-worker training with
Keras" guides): `--batch-size` is the global batch, split evenly over the replicas; each worker's input
pipeline builds the whole shuffled, augmented stream and keeps its share of every global batch
(`distribute_datasets_from_function` with the input context); the model, optimizer and QAT wrappers are
created inside `strategy.scope()`, batch norms synchronized; every worker saves (saving reads synchronised
variables, a collective operation), the chief into the run directory, the others into a temporary
directory deleted when they end; all restore the chief's checkpoints (train.py).
"""
import contextlib
import json
import os
from dataclasses import dataclass

from .errors import UserError

STRATEGIES = ("auto", "one-device", "mirrored", "multi-worker")


@dataclass
class Distribution:
    name: str  # what was chosen: default, one-device, mirrored, multi-worker
    strategy: object | None  # None: TensorFlow's default strategy
    replicas: int = 1
    workers: int = 1
    worker_index: int = 0
    is_chief: bool = True
    task: str = ""  # "worker 1" etc., for messages

    def scope(self):
        return contextlib.nullcontext() if self.strategy is None else self.strategy.scope()

    def per_replica_batch(self, global_batch: int) -> int:
        if global_batch % self.replicas:
            raise UserError(f"--batch-size {global_batch} is the global batch: it must split evenly over the "
                            f"{self.replicas} replicas of {self.name}")
        return global_batch // self.replicas

    def describe(self) -> str:
        if self.strategy is None:
            return "one device (TensorFlow's default strategy)"
        where = f"{self.workers} workers, this is {self.task}{' (chief)' if self.is_chief else ''}; " \
            if self.workers > 1 else ""
        return f"{self.name}: {where}{self.replicas} replica{'s' if self.replicas != 1 else ''} in all"

    def dataset(self, make, global_batch: int):
        """make(per_replica_batch, shard) → tf.data.Dataset; distributed over the replicas when there is a
        strategy (each input pipeline builds its own shard), else the plain dataset."""
        if self.strategy is None:
            return make(global_batch, None)
        return self.strategy.distribute_datasets_from_function(
            lambda ctx: make(ctx.get_per_replica_batch_size(global_batch),
                             (ctx.num_input_pipelines, ctx.input_pipeline_id)))

    def gather_ints(self, values: list[int]) -> list[list[int]]:
        """Every worker's `values` (a collective: all workers must call it at the same point)."""
        if self.workers == 1:
            return [list(values)]
        from .tf_env import tf

        local = tf.constant([list(values)], tf.int64)
        per_replica = self.strategy.experimental_distribute_values_from_function(lambda ctx: local)
        rows = self.strategy.gather(per_replica, axis=0).numpy().tolist()
        return rows


def read_tf_config() -> dict | None:
    text = os.environ.get("TF_CONFIG")
    if not text:
        return None
    try:
        config = json.loads(text)
        cluster = config["cluster"]
        task = config["task"]
        kind, index = task["type"], int(task["index"])
        tasks = [(k, i) for k in ("chief", "worker") for i in range(len(cluster.get(k, [])))]
        if (kind, index) not in tasks:
            raise ValueError(f"task {kind} {index} is not in the cluster")
    except (ValueError, KeyError, TypeError) as e:
        reason = f"no {e.args[0]!r} in it" if isinstance(e, KeyError) else str(e)
        raise UserError(f"TF_CONFIG is not a cluster description TensorFlow understands ({reason}): it must be like "
                        '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", '
                        '"index": 0}}') from None
    return {"cluster": cluster, "type": kind, "index": index, "tasks": tasks}


def make_distribution(name: str = "auto") -> Distribution:
    """The strategy `name` (STRATEGIES) on this machine. Call before TensorFlow runs anything: a
    MultiWorkerMirroredStrategy configures the collective ops at program start."""
    if name not in STRATEGIES:
        raise UserError(f"unknown --strategy {name!r}: choose one of {', '.join(STRATEGIES)}")
    tf_config = read_tf_config()
    if name == "multi-worker" and tf_config is None:
        raise UserError("--strategy multi-worker needs TF_CONFIG: the cluster's addresses and this worker's index "
                        "(see README, Training on several machines)")
    from .tf_env import tf

    gpus = tf.config.list_physical_devices("GPU")
    if name == "auto":
        if tf_config is not None and len(tf_config["tasks"]) > 1:
            name = "multi-worker"
        elif len(gpus) > 1:
            name = "mirrored"
        else:
            return Distribution("default", None)
    if name == "one-device":
        return Distribution(name, tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0"))
    if name == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
        return Distribution(name, strategy, replicas=strategy.num_replicas_in_sync)
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as e:
        raise UserError(f"cannot start the multi-worker strategy: {e} (it must be created before TensorFlow runs "
                        "anything in this process)") from None
    kind, index = tf_config["type"], tf_config["index"]
    has_chief = bool(tf_config["cluster"].get("chief"))
    is_chief = kind == "chief" or (kind == "worker" and index == 0 and not has_chief)
    position = tf_config["tasks"].index((kind, index))
    return Distribution(name, strategy, replicas=strategy.num_replicas_in_sync, workers=len(tf_config["tasks"]),
                        worker_index=position, is_chief=is_chief, task=f"{kind} {index}")
