"""Pointer Networks' data (Vinyals et al. 2015, Sec. 3): point sets and their targets, generated once and cached.

The paper generated its data too (points uniform in the unit square, exact solutions); so do we, with
`load_or_generate(task, n_points, n_instances, split, seed_base, cache_dir)`:

* tasks: "convex_hull" and "delaunay" (`geometry.py`), "tsp" (the Held-Karp optimum, `solvers.py`,
  n <= 20), and "tsp_a1", "tsp_a2", "tsp_a3" (Table 2's heuristics, `heuristics.py`, for the paper's
  n = 50 models trained on A1 or A3 tours, and for the baseline columns).
* splits: train, valid and test draw from independent streams: the seed is
  SeedSequence([seed_base, split number, n_points]), so no split shares a stream with another, and every
  task with the same n, split and seed sees the same points (Table 2 compares solvers on one test set).
  Instances are drawn in order: the first k of a larger set are the set of k.
* the file is `cache_dir/<task>_n<n>_<split>_<N>_s<seed>.npz`, written atomically (a temporary file in
  the same directory, then os.replace), so a stopped run never leaves half a file. A file that does not
  load, or holds something other than what its name says, is an error that names it and says to delete it.

Targets are int32 indices (0-based) padded with -1: convex hull (N, n); Delaunay (N, 2n - 5, 3); TSP (N, n).
"""

import zipfile
from dataclasses import dataclass
from pathlib import Path

import ml_collections
import numpy as np
import tensorflow as tf

from common import batches
from common.data import DataError
from common.files import atomic_write
from papers.pointer_networks import geometry
from papers.pointer_networks.heuristics import HEURISTICS
from papers.pointer_networks.model import with_eos
from papers.pointer_networks.solvers import held_karp

SPLITS = {"train": 0, "valid": 1, "test": 2}
TASKS = ("convex_hull", "delaunay", "tsp", "tsp_a1", "tsp_a2", "tsp_a3")
# The targets' convention per task: bump one when it changes, and older cache files are reported as stale.
# TSP 2: tours read counter-clockwise (tours.py); 1 read them in the direction of the smaller second index.
# Delaunay 2: the paper's triangle order (by incenter); 1 sorted the triangles by their indices.
FORMATS = {"convex_hull": 1, "delaunay": 2, "tsp": 2, "tsp_a1": 2, "tsp_a2": 2, "tsp_a3": 2}


@dataclass(frozen=True)
class PointSets:
    task: str
    points: np.ndarray  # float32 (N, n, 2)
    targets: np.ndarray  # int32, padded with -1 (module docstring)
    path: Path


def split_seed(seed_base: int, split: str, n_points: int) -> np.random.SeedSequence:
    """The seed of one split: independent of every other split, n and seed_base."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {sorted(SPLITS)}")
    if seed_base < 0:
        raise ValueError(f"seed_base must be >= 0, got {seed_base}")
    return np.random.SeedSequence([seed_base, SPLITS[split], n_points])


def make_targets(task: str, points: np.ndarray) -> np.ndarray:
    """The task's canonical targets for points (N, n, 2), int32 padded with -1."""
    if task == "convex_hull":
        targets = geometry.convex_hull_targets(points)
    elif task == "delaunay":
        targets = geometry.delaunay_targets(points)
    elif task == "tsp":
        targets = held_karp(points)
    elif task.startswith("tsp_") and task[4:] in HEURISTICS:
        targets = HEURISTICS[task[4:]](points)
    else:
        raise ValueError(f"unknown task {task!r}; choose one of {list(TASKS)}")
    return targets.astype(np.int32)


def cache_path(task: str, n_points: int, n_instances: int, split: str, seed_base: int, cache_dir) -> Path:
    return Path(cache_dir) / f"{task}_n{n_points}_{split}_{n_instances}_s{seed_base}.npz"


def _target_shape(task: str, n_instances: int, n_points: int) -> tuple[int, ...]:
    if task == "delaunay":
        return (n_instances, geometry.max_triangles(n_points), 3)
    return (n_instances, n_points)


def _save_atomically(path: Path, **arrays) -> None:
    """A temporary file beside `path`, then a rename: a stopped run never leaves half a cache."""
    atomic_write(path, lambda tmp: np.savez(tmp, **arrays))


def _load(path: Path, task: str, n_points: int, n_instances: int, split: str, seed_base: int) -> PointSets:
    expected = {"task": task, "n_points": n_points, "split": split, "seed_base": seed_base, "format": FORMATS[task]}
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = {key: f[key].item() for key in expected}
            points, targets = f["points"], f["targets"]
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise DataError(f"the cache file {path} is corrupt ({type(err).__name__}: {err}); delete it "
                        f"(rm {path}) and run again to regenerate it.") from err
    problems = [f"{key} is {meta[key]!r}, expected {value!r}" for key, value in expected.items() if meta[key] != value]
    if points.shape != (n_instances, n_points, 2) or points.dtype != np.float32:
        problems.append(f"points are {points.dtype} {points.shape}, expected float32 {(n_instances, n_points, 2)}")
    if targets.shape != _target_shape(task, n_instances, n_points) or targets.dtype != np.int32:
        problems.append(f"targets are {targets.dtype} {targets.shape}")
    elif targets.size and (targets.min() < -1 or targets.max() >= n_points):
        problems.append("targets hold indices outside the point set")
    if problems:
        raise DataError(f"the cache file {path} does not hold what its name says ({'; '.join(problems)}); "
                        f"delete it (rm {path}) and run again to regenerate it.")
    return PointSets(task, points, targets, path)


def load_or_generate(task: str, n_points: int, n_instances: int, split: str, seed_base: int, cache_dir) -> PointSets:
    """Points and exact targets of one split: loaded from the cache, or generated and then cached."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {list(TASKS)}")
    if n_instances < 1:
        raise ValueError(f"n_instances must be >= 1, got {n_instances}")
    seed = split_seed(seed_base, split, n_points)
    path = cache_path(task, n_points, n_instances, split, seed_base, cache_dir)
    if path.exists():
        return _load(path, task, n_points, n_instances, split, seed_base)
    points = geometry.random_points(n_instances, n_points, seed)
    targets = make_targets(task, points)
    path.parent.mkdir(parents=True, exist_ok=True)
    _save_atomically(path, points=points, targets=targets, task=np.str_(task), n_points=np.int64(n_points),
                     split=np.str_(split), seed_base=np.int64(seed_base), format=np.int64(FORMATS[task]))
    return PointSets(task, points, targets, path)


# --- the splits as the models read them ----------------------------------------------------------------------

@dataclass(frozen=True)
class Split:
    """A training or validation split as the models read it: every instance padded to n_max points."""

    points: np.ndarray  # float32 (N, n_max, 2)
    targets: np.ndarray  # int32 (N, T): output classes, EOS after each sequence, then -1
    lengths: np.ndarray  # int32 (N,): the real number of points

    def inputs(self, mixed: bool) -> dict:
        inputs = {"points": self.points, "targets": self.targets}
        return {**inputs, "lengths": self.lengths} if mixed else inputs


def instance_counts(total: int, sizes: range) -> dict[int, int]:
    """`total` instances shared as evenly as possible among the sizes (the smaller sizes get the remainder)."""
    base, extra = divmod(total, len(sizes))
    return {n: base + (i < extra) for i, n in enumerate(sizes) if base + (i < extra) > 0}


def load_split(config: ml_collections.ConfigDict, split: str, n_instances: int, eos: int) -> Split:
    """The train or valid split: n uniform over n_min .. n_max, points padded to n_max, EOS class `eos`.

    Padding points are zeros, and `lengths` says where the real points end; with n_min == n_max there is
    no padding. The EOS class is the last output class at n_max points (model.eos_index(n_max)).
    """
    sizes = range(config.n_min, config.n_max + 1)
    parts = [load_or_generate(config.task, n, count, split, config.data_seed, config.data_dir)
             for n, count in instance_counts(n_instances, sizes).items()]
    targets = [with_eos(p.targets, eos) for p in parts]
    width = max(t.shape[1] for t in targets)
    points = np.zeros((n_instances, config.n_max, 2), dtype=np.float32)
    padded = np.full((n_instances, width), -1, dtype=np.int32)
    lengths = np.zeros(n_instances, dtype=np.int32)
    start = 0
    for part, target in zip(parts, targets, strict=True):
        count, n = part.points.shape[:2]
        points[start : start + count, :n] = part.points
        padded[start : start + count, : target.shape[1]] = target
        lengths[start : start + count] = n
        start += count
    return Split(points, padded, lengths)


def training_batches(split: Split, batch_size: int, seed: int, start_step: int, total_steps: int,
                     mixed: bool) -> tf.data.Dataset:
    """Batches for global steps start_step .. total_steps - 1, shuffled per pass as a pure function of the step
    (common/batches.py), so a resumed run sees the batches an uninterrupted run would have seen."""
    arrays = {key: tf.constant(value) for key, value in split.inputs(mixed).items()}

    def batch(indices):
        inputs = {key: tf.gather(value, indices) for key, value in arrays.items()}
        return inputs, inputs["targets"]

    return batches.shuffled_batches(len(split.points), batch_size, seed, start_step, total_steps, batch)


def validation_batches(split: Split, batch_size: int, mixed: bool) -> tf.data.Dataset:
    inputs = split.inputs(mixed)
    return tf.data.Dataset.from_tensor_slices((inputs, split.targets)).batch(batch_size).cache()


def test_set(config: ml_collections.ConfigDict) -> tuple[np.ndarray, np.ndarray | None]:
    """The test points (N, n_test, 2) and, for the hull and Delaunay, their exact targets.

    The TSP's metrics need no labels, so its points are drawn directly from the test stream (the same points
    load_or_generate gives, for any n: Held-Karp's labels stop at n = 20).
    """
    if config.task.startswith("tsp"):
        seed = split_seed(config.data_seed, "test", config.n_test)
        return geometry.random_points(config.test_instances, config.n_test, seed), None
    test = load_or_generate(config.task, config.n_test, config.test_instances, "test", config.data_seed,
                            config.data_dir)
    return test.points, test.targets
