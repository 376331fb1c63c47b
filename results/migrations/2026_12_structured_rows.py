"""Migration of 2026-12 (issue 23): result rows get their paper's fields; histories count checkpoints and steps.

    .venv/bin/python results/migrations/2026_12_structured_rows.py    # then: make results

Before it, what a row measured was written into its names ("Ptr-Net n=5-50 -> 10", "accuracy (greedy)",
"plain-56 (w=8), flips only", "test_error (block 10 deleted, downsampling)") and parsed back by the tables. It parses
those names here, once, and writes them as the fields of papers/<paper>/rows.py:

* results/<paper>.csv: the header becomes common/results.py's `header(FIELDS)`; each row gets its fields and a
  metric without the words now in fields ("accuracy (greedy)" -> accuracy, decoding greedy); `paper_value` is
  dropped (read by nothing: the paper's numbers are in paper_results.csv); `history` names the row's learning curve,
  relative to results/ ("" when none). Every other value (value, seed, steps, epochs, wall_seconds, device,
  versions, commit, date) is copied as text, byte for byte.
* papers/<paper>/paper_results.csv: the same fields as columns, parsed from the same names, before metric.
* results/histories/**/*.csv: `epoch` renamed `checkpoint` (a checkpoint interval, not a pass over the data), and
  `step` (training steps done at that checkpoint) added where missing: checkpoint x (the run's steps / checkpoints).

A history is a row's when its file name is the one the row's run wrote (train.py's names until this migration) and
its last wall_seconds is the row's (within a second): a seed measured again overwrote its history, so the earlier
rows of that seed get "". Every history must belong to a row. Nothing is written unless every file parses, and a
second run finds the new headers and stops.
"""

import csv
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from common.results import header  # noqa: E402
from papers.char_rnn import rows as char_rnn_rows  # noqa: E402
from papers.depth_study import rows as depth_rows  # noqa: E402
from papers.pointer_networks import rows as pointer_rows  # noqa: E402

OLD_HEADER = ("paper", "experiment", "variant", "preset", "metric", "value", "paper_value", "seed", "steps", "epochs",
              "wall_seconds", "device", "versions", "commit", "date")
OLD_REFERENCE_HEADER = ("experiment", "variant", "metric", "value", "kind", "source")
ROWS = {"char_rnn": char_rnn_rows, "pointer_networks": pointer_rows, "depth_study": depth_rows}


class MigrationError(RuntimeError):
    pass


# --- the names of the rows until now, parsed into fields --------------------------------------------------------------

def char_rnn_fields(experiment: str, variant: str, metric: str, ours: bool) -> tuple[dict, str]:
    if m := re.fullmatch(r"LSTM (\d+)x(\d+)(?:, dropout ([\d.]+))?(, zero-state windows)?", variant):
        return ({"method": "LSTM", "num_layers": m[1], "rnn_size": m[2], "dropout": m[3] or "0",
                 "carry_state": str(not m[4]), "train_context": ""}, metric)
    if m := re.fullmatch(r"(xz -9e|bzip2 -9|gzip -9)( \+ train context)?", variant):
        return char_rnn_rows.compressor_fields(m[1], bool(m[2])), metric
    raise MigrationError(f"char_rnn variant {variant!r}")


POINTER_TASKS = {"table1_convex_hull": "convex_hull", "delaunay": "delaunay", "table2_tsp": "tsp"}
POINTER_BEAM_WIDTH = {"cpu": "4", "paper": "4"}  # configs.py's beam_width of every preset, unchanged since 428571c


def pointer_fields(experiment: str, variant: str, metric: str, ours: bool, preset: str = "") -> tuple[dict, str]:
    """Ours: decoded with constraints, "(unconstrained greedy)" without; beam of the preset's width. The paper's
    numbers and the issue's targets are the beam's (train.py); the paper states no width and no constraint but the
    TSP's, so those stay empty."""
    if m := re.fullmatch(r"(Optimal|A1|A2|A3) n=(\d+)", variant):
        if metric != "tour_length":
            raise MigrationError(f"pointer_networks solver metric {metric!r}")
        return pointer_rows.solver_fields(m[1], int(m[2])), metric
    m = re.fullmatch(r"(LSTM|\+Attention|Ptr-Net) n=(\d+)(?:-(\d+))?(?: \((A1|A3) tours\))? -> (\d+)", variant)
    k = re.fullmatch(r"([a-z_]+)(?: \((greedy|unconstrained greedy)\))?", metric)
    if not m or not k:
        raise MigrationError(f"pointer_networks variant {variant!r}, metric {metric!r}")
    task = POINTER_TASKS[experiment] + (f"_{m[4].lower()}" if m[4] else "")
    decoding = "greedy" if k[2] else "beam"
    fields = {"task": task, "method": m[1], "n_min": m[2], "n_max": m[3] or m[2], "n_test": m[5],
              "decoding": decoding, "beam_width": "", "constrained": ""}
    if ours:
        fields["beam_width"] = POINTER_BEAM_WIDTH[preset] if decoding == "beam" else ""
        fields["constrained"] = str(k[2] != "unconstrained greedy")
    return fields, k[1]


DEPTH_NET = re.compile(r"(ResNet|plain|DenseNet-BC|DenseNet)-(\d+)(?: \((w|k)=(\d+)\))?"
                       r"(?:, (no augmentation|flips only|pad-\d+ crops))?")
DEPTH_LESION = re.compile(r"test_error(?P<std> std)? \((?:(?P<intact>intact)|block (?P<block>\d+) deleted"
                          r"(?P<down>, downsampling)?|(?P<k>\d+) random blocks? deleted)\)")
DEPTH_AUGMENTATION = {None: "pad-4 crops + flips", "no augmentation": "none", "flips only": "flips"}
# issue #4's target is for the cpu ResNet-20 of width 8 (its source), whatever the augmentation
DEPTH_TARGET_FIELDS = {("fashion_mnist_depth", "ResNet-20"): {"width": "8", "augmentation": ""}}


def depth_fields(experiment: str, variant: str, metric: str, ours: bool) -> tuple[dict, str]:
    """Our DenseNet ran with dropout 0 (cpu_densenet's, never overridden); Huang et al.'s with 0.2 exactly without
    augmentation (paper_results.csv's source)."""
    m = DEPTH_NET.fullmatch(variant)
    if not m:
        raise MigrationError(f"depth_study variant {variant!r}")
    resnet = m[1] in ("ResNet", "plain")
    size = m[4] or (depth_rows.PAPER_WIDTH if resnet else depth_rows.PAPER_GROWTH_RATE)
    aug = DEPTH_AUGMENTATION.get(m[5]) or f"{m[5].removesuffix(' crops')} crops + flips"
    dropout = "" if resnet else ("0.2" if aug == "none" and not ours else "0")
    if aug == "none" and ours and not resnet:
        raise MigrationError(f"depth_study {variant!r}: which dropout rate did our run use?")
    fields = {"net": m[1], "depth": m[2], "width": size if resnet else "", "growth_rate": "" if resnet else size,
              "augmentation": aug, "dropout_rate": dropout, **depth_rows.lesion_fields("")}
    if lesion := DEPTH_LESION.fullmatch(metric):
        if lesion["intact"]:
            fields.update(depth_rows.lesion_fields("intact"))
        elif lesion["block"]:
            fields.update(depth_rows.lesion_fields("one block", lesion["block"], bool(lesion["down"])))
        else:
            fields.update(depth_rows.lesion_fields("random blocks", lesion["k"]))
        metric = "test_error_std" if lesion["std"] else "test_error"
    elif metric not in ("test_error", "valid_error", "train_error", "params"):
        raise MigrationError(f"depth_study metric {metric!r}")
    return fields, metric


PARSERS = {"char_rnn": char_rnn_fields, "pointer_networks": pointer_fields, "depth_study": depth_fields}


def old_metric(paper: str, fields: dict, metric: str) -> str:
    """The metric's name before this migration, from its fields: the check that the parse lost nothing."""
    if paper == "pointer_networks" and fields["decoding"] == "greedy":
        return f"{metric} ({'greedy' if fields['constrained'] != 'False' else 'unconstrained greedy'})"
    if paper == "depth_study" and fields["lesion"]:
        std = " std" if metric == "test_error_std" else ""
        what = {"intact": "intact", "one block": f"block {fields['deleted']} deleted"
                + (", downsampling" if fields["downsampling"] == "True" else ""),
                "random blocks": f"{fields['deleted']} random block{'s' if fields['deleted'] != '1' else ''} deleted"}
        return f"test_error{std} ({what[fields['lesion']]})"
    return metric


# --- histories -----------------------------------------------------------------------------------------------------

def history_name(paper: str, row: dict, fields: dict) -> str | None:
    """The history file a row's run wrote, relative to results/ (train.py's names until this migration)."""
    if not row["seed"] or (paper == "depth_study" and fields["lesion"]):
        return None  # a solver, a compressor or a lesion: no training run behind the row
    seed, preset, variant = row["seed"], row["preset"], row["variant"]
    if paper == "char_rnn":
        slug = variant.lower().replace(", ", "-").replace(" ", "")
        return f"histories/char_rnn/{row['experiment']}_{preset}_{slug}_seed{seed}.csv"
    if paper == "pointer_networks":
        model = {"LSTM": "lstm", "+Attention": "attention", "Ptr-Net": "ptr_net"}[fields["method"]]
        return (f"histories/pointer_networks/{fields['task']}_{preset}_{model}-n{fields['n_min']}-{fields['n_max']}"
                f"_seed{seed}.csv")
    slug = re.sub(r"[^a-z0-9]+", "-", variant.lower()).strip("-")
    return f"histories/depth_study/{row['experiment'].removesuffix('_depth')}_{preset}/{slug}_seed{seed}.csv"


def read_csv(path: Path, exact: bool = True) -> tuple[list[str], list[list[str]]]:
    """Header and records; `exact`: refuses a file that csv would write back otherwise (rows written by runs)."""
    text = path.read_text()
    records = list(csv.reader(io.StringIO(text)))
    if exact and to_text(records[0], records[1:]) != text:
        raise MigrationError(f"{path} would not be written back as it was read; fix it by hand first")
    return records[0], records[1:]


def to_text(columns, records) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(records)
    return out.getvalue()


def migrate_history(path: Path, steps: set[str]) -> str:
    columns, records = read_csv(path)
    if "epoch" not in columns or "checkpoint" in columns:
        raise MigrationError(f"{path} has the columns {columns}, not a history of before this migration")
    index = columns.index("epoch")
    checkpoints = [int(r[index]) for r in records]
    if checkpoints != list(range(1, len(records) + 1)):
        raise MigrationError(f"{path}: checkpoints {checkpoints} are not 1..{len(records)}")
    if len(steps) != 1 or int(next(iter(steps))) % len(records):
        raise MigrationError(f"{path}: its rows' steps {sorted(steps)} are not one multiple of its {len(records)} "
                             f"checkpoints")
    per_checkpoint = int(next(iter(steps))) // len(records)
    by_name = [dict(zip(columns, r, strict=True)) for r in records]
    if "step" in columns and any(int(float(r["step"])) != c * per_checkpoint for r, c in zip(by_name, checkpoints,
                                                                                              strict=True)):
        raise MigrationError(f"{path}: its step column is not checkpoint x {per_checkpoint}")
    rest = [c for c in columns if c not in ("epoch", "step")]
    out = [[r["epoch"], r.get("step", str(c * per_checkpoint)), *(r[k] for k in rest)]
           for r, c in zip(by_name, checkpoints, strict=True)]
    return to_text(["checkpoint", "step", *rest], out)


# --- the files -----------------------------------------------------------------------------------------------------

def migrate_results(paper: str, path: Path, results_dir: Path, claimed: dict) -> str:
    columns, records = read_csv(path)
    if tuple(columns) != OLD_HEADER:
        raise MigrationError(f"{path} has the columns {columns}; this migration reads {OLD_HEADER}")
    fields_of = ROWS[paper].FIELDS
    out = []
    for line, record in enumerate(records, start=2):
        if len(record) != len(columns):
            raise MigrationError(f"{path}:{line}: {len(record)} fields, the header has {len(columns)}")
        row = dict(zip(columns, record, strict=True))
        extra = {"preset": row["preset"]} if paper == "pointer_networks" else {}
        fields, metric = PARSERS[paper](row["experiment"], row["variant"], row["metric"], True, **extra)
        if ROWS[paper].variant(fields) != row["variant"] or old_metric(paper, fields, metric) != row["metric"]:
            raise MigrationError(f"{path}:{line}: {row['variant']!r} / {row['metric']!r} do not parse back")
        history = history_name(paper, row, fields)
        if history and (results_dir / history).exists():
            *_, last = csv.DictReader(io.StringIO((results_dir / history).read_text()))
            if abs(float(last["wall_seconds"]) - float(row["wall_seconds"])) <= 1:
                claimed.setdefault(history, set()).add(row["steps"])
            else:
                history = None  # that seed was measured again: the file is the later run's
        new = {**row, **fields, "metric": metric, "history": history or ""}
        out.append([new[c] for c in header(fields_of)])
    return to_text(header(fields_of), out)


def migrate_references(paper: str, path: Path) -> str:
    """The paper's numbers, written by hand: their values are kept as text, their quoting becomes csv's."""
    columns, records = read_csv(path, exact=False)
    if tuple(columns) != OLD_REFERENCE_HEADER:
        raise MigrationError(f"{path} has the columns {columns}; this migration reads {OLD_REFERENCE_HEADER}")
    fields_of = ROWS[paper].FIELDS
    out = []
    for line, record in enumerate(records, start=2):
        row = dict(zip(columns, record, strict=True))
        fields, metric = PARSERS[paper](row["experiment"], row["variant"], row["metric"], False)
        fixed = DEPTH_TARGET_FIELDS.get((row["experiment"], row["variant"])) if paper == "depth_study" else None
        if row["kind"] == "target" and fixed:
            fields.update(fixed)
        elif ROWS[paper].variant(fields) != row["variant"] or old_metric(paper, fields, metric) != row["metric"]:
            raise MigrationError(f"{path}:{line}: {row['variant']!r} / {row['metric']!r} do not parse back")
        new = {**row, **fields, "metric": metric}
        out.append([new[c] for c in ("experiment", "variant", *fields_of, "metric", "value", "kind", "source")])
    return to_text(("experiment", "variant", *fields_of, "metric", "value", "kind", "source"), out)


def migrate(root: Path = ROOT) -> dict[Path, str]:
    """The new text of every file this migration changes; writes nothing."""
    results_dir = root / "results"
    for paper, rows in ROWS.items():
        path = results_dir / f"{paper}.csv"
        if path.exists() and tuple(read_csv(path)[0]) == header(rows.FIELDS):
            raise MigrationError(f"{path} is already migrated (its columns are header(FIELDS)); nothing to do")
    new, claimed = {}, {}
    for paper in ROWS:
        path = results_dir / f"{paper}.csv"
        if path.exists():
            new[path] = migrate_results(paper, path, results_dir, claimed)
        new[root / "papers" / paper / "paper_results.csv"] = migrate_references(
            paper, root / "papers" / paper / "paper_results.csv")
    for path in sorted((results_dir / "histories").rglob("*.csv")):
        relative = str(path.relative_to(results_dir))
        if relative not in claimed:
            raise MigrationError(f"{path} is no row's history (no row names it with its wall_seconds)")
        new[path] = migrate_history(path, claimed[relative])
    return new


def main() -> None:
    try:
        new = migrate()
    except MigrationError as error:
        sys.exit(f"migration stopped, nothing written: {error}")
    for path, text in new.items():
        path.write_text(text)
    print(f"migrated {len(new)} files; now run `make results`")


if __name__ == "__main__":
    main()
