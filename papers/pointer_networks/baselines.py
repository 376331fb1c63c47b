"""Table 2's solver columns on the test set of a TSP config: Optimal (Held-Karp), A1, A2, A3 (heuristics.py).

    python -m papers.pointer_networks.baselines --config=papers/pointer_networks/configs.py:cpu \
        --config.task=tsp --config.n_test=10

The points are those of `data.test_set(config)` (the config's n_test, test_instances and data_seed), so
the rows sit beside the Ptr-Net rows of the same n in `table2_tsp`. The optimum needs Held-Karp and is
written up to n = 20 (the paper's limit too: N/A above). Tours are cached with the data (data.py). Writes a
row per solver (rows.solver_fields) with metric tour_length, through the run lifecycle (common/lifecycle.py).
"""

from pathlib import Path

import ml_collections
import numpy as np

from common import lifecycle
from common.config import ConfigError
from common.data import DataError
from papers.pointer_networks import configs, data, rows
from papers.pointer_networks.solvers import MAX_HELD_KARP_CITIES
from papers.pointer_networks.tours import tour_length

EXPERIMENT_NAME = "table2_tsp"
SOLVERS = {"Optimal": "tsp", "A1": "tsp_a1", "A2": "tsp_a2", "A3": "tsp_a3"}  # column: the data layer's task


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    return Path(config.workdir or f"runs/pointer_networks/{config.preset}/tsp/baselines/test_n{config.n_test}")


def solver_tour_lengths(config: ml_collections.ConfigDict) -> dict[str, float]:
    """Mean tour length of each solver on the config's test points (Optimal only up to n = 20)."""
    points, _ = data.test_set(config)
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


def validate(config: ml_collections.ConfigDict) -> None:
    configs.validate(config)
    if not config.task.startswith("tsp"):
        raise ConfigError(f"the baselines are Table 2's TSP solvers; config.task={config.task!r} has none "
                          f"(use --config.task=tsp)")


def solve(config: ml_collections.ConfigDict, run: lifecycle.Run) -> lifecycle.Outcome:
    lengths = solver_tour_lengths(config)
    out = []
    for solver, value in lengths.items():
        fields = rows.solver_fields(solver, config.n_test)
        out.append(dict(experiment=EXPERIMENT_NAME, variant=rows.variant(fields), **fields, metric="tour_length",
                        value=f"{value:.4f}", seed=""))
    return lifecycle.Outcome(rows=out, summary=f"TSP n={config.n_test}, {config.test_instances} test instances: "
                             + ", ".join(f"{k} {v:.4f}" for k, v in lengths.items()), facts={"tour_length": lengths})


# Only the test set (n_test, test_instances, data_seed, data_dir) decides the solvers' tours.
EXPERIMENT = lifecycle.Experiment(
    paper="pointer_networks", fields=rows.FIELDS, work=solve, workdir=workdir_for, validate=validate,
    ignored_keys=tuple(k for k in configs.paper() if k not in ("n_test", "test_instances", "data_seed", "preset")))

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/pointer_networks/configs.py:cpu")
