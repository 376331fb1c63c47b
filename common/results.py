"""Result rows: `results/<paper>.csv`, appended by runs, never edited by hand.

A row says what was measured and how (DESIGN.md): paper, experiment, preset, variant, the paper's own fields
(papers/<paper>/rows.py), metric, value, seed, steps, epochs (passes over the training data), wall seconds, the
learning curve, device, library versions, commit, date. The paper's published numbers live in its
paper_results.csv, joined to these rows on the fields by the report.
Appends hold an exclusive lock and replace the file atomically, so concurrent writers lose nothing and a
kill never leaves a half-written file.
"""

import csv
import datetime as dt
import fcntl
import io
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path

from common.files import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "results"

# A row's header: these, with the paper's own fields (papers/<paper>/rows.py: FIELDS, what its tables group by,
# e.g. method, n_test, decoding) between HEAD and TAIL. `epochs` counts passes over the training data; `history`
# is the run's learning curve, a path under results/ ("" for a row without one).
HEAD = ("paper", "experiment", "preset", "variant")
TAIL = ("metric", "value", "seed", "steps", "epochs", "wall_seconds", "history", "device", "versions", "commit",
        "date")


def header(paper_fields: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The columns of a paper's results CSV."""
    return (*HEAD, *paper_fields, *TAIL)




def results_path(paper: str, results_dir: str | os.PathLike | None = None) -> Path:
    return Path(results_dir or RESULTS_DIR) / f"{paper}.csv"


def device_name() -> str:
    """The accelerator if TF sees one, else the CPU model and its core count."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"{len(gpus)}x {details.get('device_name', 'GPU')}"
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU {model} ({os.cpu_count()} cores)"


def library_versions() -> str:
    import keras
    import numpy
    import tensorflow as tf

    return (
        f"python={platform.python_version()} tensorflow={tf.__version__} keras={keras.__version__} "
        f"numpy={numpy.__version__} onednn={os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'unset')}"
    )


def git_commit() -> str:
    """Short commit hash, with `-dirty` when tracked files outside results/ have uncommitted changes.

    Runs call this when they start, so the row names the code that ran, not the code at its end."""
    try:
        run = lambda *args: subprocess.run(  # noqa: E731
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        commit = run("rev-parse", "--short", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results")
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def environment() -> dict:
    """The fields of a row that describe where and when it was measured."""
    return {
        "device": device_name(),
        "versions": library_versions(),
        "commit": git_commit(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@contextmanager
def _locked(path: Path):
    lock_path = path.with_name(f".{path.name}.lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class ResultsError(RuntimeError):
    """A results CSV that cannot take rows (not writable, another header, a torn last line); says what to do."""


def check_results_file(path: Path, columns: tuple[str, ...]) -> str:
    """The CSV's text, after checking that rows with `columns` can be appended to it (and its folder is writable)."""
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ResultsError(f"{path} is not writable: fix the permissions of {folder}, or pass "
                           f"--config.results_dir=OTHER_DIR")
    text = path.read_text() if path.exists() else ""
    if not text:
        return text
    found = tuple(next(csv.reader(io.StringIO(text.splitlines()[0]))))
    if found != columns:
        raise ResultsError(f"{path} has the columns {', '.join(found)}, but this run writes {', '.join(columns)}; "
                           f"migrate the file (results/migrations/) or pass --config.results_dir=OTHER_DIR")
    if not text.endswith("\n"):
        raise ResultsError(f"{path} ends in a line without a newline (a torn write?): check its last line by hand, "
                           f"end it with a newline, and run again")
    return text


def append_rows(paper: str, rows: Iterable[Mapping], results_dir: str | os.PathLike | None = None,
                fields: tuple[str, ...] = ()) -> Path:
    """Appends rows to results/<paper>.csv atomically, under a lock; missing fields are filled from `environment()`.

    `fields` are the paper's own columns (papers/<paper>/rows.py); a row with another field is refused, and so is
    a file with other columns or a torn last line (`check_results_file`). Rows already in the file, field for field,
    are not appended again, so recording the same run twice (a kill between its rows and its result.json) adds
    nothing.
    """
    columns = header(fields)
    path = results_path(paper, results_dir)
    env = environment()
    new = []
    for row in rows:
        unknown = set(row) - set(columns)
        if unknown:
            raise ValueError(f"unknown result fields {sorted(unknown)}; the fields are {columns}")
        new.append({k: "" if v is None else str(v) for k, v in {**env, "paper": paper, **row}.items()})
    check_results_file(path, columns)
    with _locked(path):
        old = check_results_file(path, columns)
        present = {tuple(r) for r in csv.reader(io.StringIO(old))}
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", restval="")
        if not old:
            writer.writeheader()
        for row in new:
            if tuple(row.get(c, "") for c in columns) not in present:
                writer.writerow(row)
        atomic_write_text(path, old + out.getvalue())
    return path


def write_bench(table, paper: str, out: str | os.PathLike | None = None) -> Path:
    """Writes a benchmark's pandas table, with the device, versions and date of this run, to
    results/bench/<paper>.csv (or `out`); returns the path. Benchmarks are not result rows: the latest replaces."""
    out = Path(out or Path(RESULTS_DIR) / "bench" / f"{paper}.csv")
    table = table.assign(device=device_name(), versions=library_versions(), date=environment()["date"])
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False, float_format="%.4g")
    print(f"wrote {out}")
    return out
