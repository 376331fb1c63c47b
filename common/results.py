"""Result rows: `results/<paper>.csv`, appended by runs, never edited by hand.

A row says what was measured and how (DESIGN.md): paper, experiment, variant, preset, metric, value,
the paper's value, seed, steps, epochs, wall seconds, device, library versions, commit, date.
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

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "results"

FIELDS = (
    "paper", "experiment", "variant", "preset", "metric", "value", "paper_value",
    "seed", "steps", "epochs", "wall_seconds", "device", "versions", "commit", "date",
)  # fmt: skip


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


def append_rows(
    paper: str, rows: Iterable[Mapping], results_dir: str | os.PathLike | None = None
) -> Path:
    """Appends rows to results/<paper>.csv atomically; missing fields are filled from `environment()`."""
    path = results_path(paper, results_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    env = environment()
    new = []
    for row in rows:
        unknown = set(row) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown result fields {sorted(unknown)}; the fields are {FIELDS}")
        new.append({**env, "paper": paper, **row})
    with _locked(path):
        old = path.read_text() if path.exists() else ""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
        if not old:
            writer.writeheader()
        writer.writerows(new)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(old + out.getvalue())
        os.replace(tmp, path)
    return path


def read_rows(paper: str, results_dir: str | os.PathLike | None = None) -> list[dict]:
    path = results_path(paper, results_dir)
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_bench(table, paper: str, out: str | os.PathLike | None = None) -> Path:
    """Writes a benchmark's pandas table, with the device, versions and date of this run, to
    results/bench/<paper>.csv (or `out`); returns the path. Benchmarks are not result rows: the latest replaces."""
    out = Path(out or Path(RESULTS_DIR) / "bench" / f"{paper}.csv")
    table = table.assign(device=device_name(), versions=library_versions(), date=environment()["date"])
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False, float_format="%.4g")
    print(f"wrote {out}")
    return out
