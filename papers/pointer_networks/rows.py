"""The fields of a Pointer Networks result row: what Tables 1 and 2 group by (results/pointer_networks.csv).

A row's columns are common/results.py's `header(FIELDS)`: these between the common ones. Values are strings as in
the CSV; "" where a field does not apply (a solver has no training sizes and no decoding). The `variant` column is
only the label tables show (`variant` below writes it, as the paper's tables name a model); nothing reads it back.

    task         the data (data.py): "convex_hull", "delaunay", "tsp" (Held-Karp tours up to n = 20), "tsp_a1",
                 "tsp_a3" (the paper's n = 50 models, trained on heuristic A1's or A3's tours)
    method       a model (train.py): "LSTM", "+Attention", "Ptr-Net"; a TSP solver (baselines.py): "Optimal", "A1",
                 "A2", "A3"
    n_min, n_max the training sizes, "5" and "50" for the paper's 5-50 models; "" for a solver
    n_test       the size of the test instances
    decoding     "beam" (the paper's decoding, Sec. 2.1) or "greedy"; "" for a solver
    beam_width   the beam's width for a "beam" row, else ""
    constrained  "True": the search may only emit valid outputs (constraints.py: the TSP's tours, a hull's vertices
                 at most once, whole Delaunay triangles); "False": any point or EOS at every step (the paper's
                 protocol for the hull and Delaunay, Sec. 4.4; for the TSP, the invalid_share); "" for a solver
In papers/pointer_networks/paper_results.csv the same fields say what a published number or target is about; an
empty field there is one the paper does not state (the beam width), and matches any of ours.
"""

FIELDS = ("task", "method", "n_min", "n_max", "n_test", "decoding", "beam_width", "constrained")
MODEL_NAMES = {"lstm": "LSTM", "attention": "+Attention", "ptr_net": "Ptr-Net"}  # config.model -> the paper's
METHODS = tuple(MODEL_NAMES.values())  # Table 1's order
SOLVERS = ("Optimal", "A1", "A2", "A3")  # Table 2's columns


def model_fields(config, decoding: str, constrained: bool = True) -> dict[str, str]:
    """The fields of a model's test rows under one decoding ("beam" of config.beam_width, or "greedy")."""
    return {"task": config.task, "method": MODEL_NAMES[config.model], "n_min": str(config.n_min),
            "n_max": str(config.n_max), "n_test": str(config.n_test), "decoding": decoding,
            "beam_width": str(config.beam_width) if decoding == "beam" else "", "constrained": str(bool(constrained))}


def solver_fields(solver: str, n_test: int) -> dict[str, str]:
    """The fields of a TSP solver's row (baselines.py)."""
    return {"task": "tsp", "method": solver, "n_min": "", "n_max": "", "n_test": str(n_test), "decoding": "",
            "beam_width": "", "constrained": ""}


def trained_on(fields: dict) -> str:
    """The training sizes as the paper's tables write them: "5", "5-50", "50 (A1 tours)"; "" for a solver."""
    if not fields["n_min"]:
        return ""
    sizes = fields["n_min"] if fields["n_min"] == fields["n_max"] else f"{fields['n_min']}-{fields['n_max']}"
    task = fields["task"]
    return sizes + (f" ({task.removeprefix('tsp_').upper()} tours)" if task.startswith("tsp_") else "")


def variant(fields: dict) -> str:
    """The label tables show: "Ptr-Net n=5-50 -> 10", "Ptr-Net n=50 (A1 tours) -> 50", "Optimal n=5"."""
    if fields["method"] in SOLVERS:
        return f"{fields['method']} n={fields['n_test']}"
    return f"{fields['method']} n={trained_on(fields)} -> {fields['n_test']}"
