"""Table 2's solver columns on the test set of a TSP config: Optimal (Held-Karp), A1, A2, A3 (heuristics.py).

    python -m papers.pointer_networks.baselines --config=papers/pointer_networks/configs.py:cpu \
        --config.task=tsp --config.n_test=10

The points are those of `train.test_set(config)` (the config's n_test, test_instances and data_seed), so
the rows sit beside the Ptr-Net rows of the same n in `table2_tsp`. The optimum needs Held-Karp and is
written up to n = 20 (the paper's limit too: N/A above). Tours are cached with the data (data.py). Writes
rows `Optimal n=<n>`, `A1 n=<n>`, ... with metric tour_length, and a result.json that makes a second call
print the result and do nothing.
"""

import json
import time
from pathlib import Path

import ml_collections
import numpy as np

from common import results, training
from common.cli import run_with_config
from common.config import ConfigError
from common.data import DataError
from papers.pointer_networks import configs, data
from papers.pointer_networks.solvers import MAX_HELD_KARP_CITIES
from papers.pointer_networks.tours import tour_length
from papers.pointer_networks.train import PAPER, RESULT_FILE, paper_value, test_set

EXPERIMENT = "table2_tsp"
SOLVERS = {"Optimal": "tsp", "A1": "tsp_a1", "A2": "tsp_a2", "A3": "tsp_a3"}  # column: the data layer's task


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    return Path(config.workdir or f"runs/{PAPER}/{config.preset}/tsp/baselines/test_n{config.n_test}")


def solver_tour_lengths(config: ml_collections.ConfigDict) -> dict[str, float]:
    """Mean tour length of each solver on the config's test points (Optimal only up to n = 20)."""
    points, _ = test_set(config)
    lengths = {}
    for column, task in SOLVERS.items():
        if task == "tsp" and config.n_test > MAX_HELD_KARP_CITIES:
            continue
        solved = data.load_or_generate(task, config.n_test, config.test_instances, "test", config.data_seed,
                                       config.data_dir)
        if not np.array_equal(solved.points, points):
            raise DataError(f"{solved.path} holds other test points than the models' test set; delete it "
                            f"(rm {solved.path}) and run again to regenerate it.")
        lengths[column] = float(tour_length(solved.points, solved.targets).mean())
    return lengths


def run(config: ml_collections.ConfigDict) -> dict:
    configs.validate(config)
    if not config.task.startswith("tsp"):
        raise ConfigError(f"the baselines are Table 2's TSP solvers; config.task={config.task!r} has none "
                          f"(use --config.task=tsp)")
    workdir = workdir_for(config)
    path = workdir / RESULT_FILE
    if path.exists():
        result = json.loads(path.read_text())
        changed = [k for k in ("n_test", "test_instances", "data_seed") if result[k] != config[k]]
        if changed:
            raise ConfigError(f"{path} holds the solvers' rows for other settings ("
                              + ", ".join(f"{k}={result[k]!r}" for k in changed)
                              + f"); delete it (rm {path}) or pass --config.workdir=NEW_DIR.")
        print(f"{path} is finished: " + ", ".join(f"{k} {v:.4f}" for k, v in result["tour_length"].items())
              + " (nothing rerun).", flush=True)
        return result
    commit = results.git_commit()
    started = time.time()
    lengths = solver_tour_lengths(config)
    seconds = time.time() - started
    print(f"TSP n={config.n_test}, {config.test_instances} test instances: "
          + ", ".join(f"{k} {v:.4f}" for k, v in lengths.items()) + f" ({seconds:.0f} s)", flush=True)
    rows = []
    for column, value in lengths.items():
        variant = f"{column} n={config.n_test}"
        rows.append(dict(commit=commit, experiment=EXPERIMENT, variant=variant, preset=config.preset,
                         metric="tour_length", value=f"{value:.4f}",
                         paper_value=paper_value(EXPERIMENT, variant, "tour_length"),
                         seed="", steps="", epochs="", wall_seconds=f"{seconds:.0f}"))
    results.append_rows(PAPER, rows, config.results_dir or None)
    result = {"tour_length": lengths, "n_test": config.n_test, "test_instances": config.test_instances,
              "data_seed": config.data_seed, "wall_seconds": seconds}
    workdir.mkdir(parents=True, exist_ok=True)
    training.atomic_write_text(path, json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    run_with_config(run, "papers/pointer_networks/configs.py:cpu")
