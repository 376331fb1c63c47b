"""The migration to structured rows (results/migrations/2026_12_structured_rows.py) changed no number: the tables
regenerated from the migrated CSVs hold every value of the tables generated before it, as often as before.

tests/fixtures/results_before_structured_rows.md is results/README.md as `make results` wrote it before the
migration. Layouts may differ (a superseded recipe in its own table, labels naming a net's recipe): the comparison is
of the value cells of each paper's tables, every cell but a row's label, without the notes in brackets that name the
paper's net beside its number ("8.75 (w=16, pad-4 crops)" -> "8.75").
"""

import csv
import importlib.util
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from common import report
from common.results import RESULTS_DIR, ROOT

BEFORE = Path(__file__).parent / "fixtures" / "results_before_structured_rows.md"
MIGRATION = ROOT / "results" / "migrations" / "2026_12_structured_rows.py"
MIGRATED_UNTIL = "2026-12-02T22:25:54Z"  # the date of the last row at the migration; later rows are new runs
NOTE = re.compile(r"\s*\([^)]*[A-Za-z=][^)]*\)$")  # a trailing note in brackets with words: "(w=16, pad-4 crops)"


def value_cells(markdown: str) -> dict[str, Counter]:
    """Per paper (### section): how often each value cell occurs in its tables (header rows and labels left out)."""
    cells: dict[str, Counter] = {}
    paper, previous = None, ""
    for line in markdown.splitlines():
        if line.startswith("### "):
            paper = line[4:].strip()
            cells[paper] = Counter()
        elif line.startswith("|") and not line.startswith("|---") and previous.startswith("|"):
            values = [NOTE.sub("", c.strip()) for c in line.strip().strip("|").split("|")][1:]
            cells[paper].update(v for v in values if v)
        previous = line if not line.startswith("|---") else previous
    return cells


def differences(before: str, after: str) -> list[str]:
    old, new = value_cells(before), value_cells(after)
    out = [f"{paper}: no section after" for paper in old if paper not in new]
    for paper, counts in old.items():
        out += [f"{paper}: {value!r} {count} times before, {new.get(paper, Counter())[value]} after"
                for value, count in counts.items() if new.get(paper, Counter())[value] != count]
    return out


def rows_until_migration(results_dir: Path) -> None:
    """results/*.csv as they were at the migration (rows dated after it left out), and the histories."""
    for path in sorted(RESULTS_DIR.glob("*.csv")):
        with open(path, newline="") as f:
            reader = csv.reader(f)
            columns = next(reader)
            rows = [r for r in reader if r[columns.index("date")] <= MIGRATED_UNTIL]
        with open(results_dir / path.name, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([columns, *rows])
    shutil.copytree(RESULTS_DIR / "histories", results_dir / "histories")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> tuple[Path, str]:
    results_dir = tmp_path_factory.mktemp("results")
    rows_until_migration(results_dir)
    return results_dir, report.build(results_dir, root=None, figures=False)


def test_tables_from_the_migrated_rows_hold_every_number_of_before(regenerated):
    before = BEFORE.read_text()
    assert sum(sum(c.values()) for c in value_cells(before).values()) > 200  # it sees the tables
    assert differences(before, regenerated[1]) == []


def test_the_comparison_sees_a_changed_value_and_a_lost_row(regenerated, tmp_path):
    results_dir, _ = regenerated
    shutil.copytree(results_dir, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "depth_study.csv"
    lines = path.read_text().splitlines(keepends=True)
    changed = next(i for i, line in enumerate(lines) if ",test_error,6.52," in line)  # DenseNet-40's one seed
    lines[changed] = lines[changed].replace(",test_error,6.52,", ",test_error,6.53,")
    lost = next(i for i, line in enumerate(lines) if ",valid_error,28.30," in line)  # plain-56, pad-4 crops
    path.write_text("".join(lines[:lost] + lines[lost + 1:]))
    found = differences(BEFORE.read_text(), report.build(tmp_path, root=None, figures=False))
    assert "depth_study: '6.52' 1 times before, 0 after" in found
    assert "depth_study: '28.30' 1 times before, 0 after" in found


def test_superseded_recipe_stands_in_its_own_titled_table(regenerated):
    text = regenerated[1]
    depth = text[text.index("**fashion_mnist_depth**"):text.index("**fashion_mnist_lesion**")]
    current, superseded = depth.split("**Superseded `cpu` recipe")
    assert "| ResNet-20 (w=8), flips only |" in current and "| ResNet-20 (w=8) |" not in current
    assert "| ResNet-20 (w=8) | 67.9k | 6000 | 9.37 |" in superseded and "flips only |" not in superseded
    lesion = text[text.index("**fashion_mnist_lesion**"):]
    assert "| ResNet-56 (w=8), pad-4 crops + flips, 3000 steps | 13.18 |" in lesion.split("**Superseded")[1]


def load_migration():
    spec = importlib.util.spec_from_file_location("structured_rows", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_refuses_to_run_twice():
    migration = load_migration()
    with pytest.raises(migration.MigrationError, match="already migrated"):
        migration.migrate(ROOT)


def test_every_history_counts_checkpoints_and_steps_and_belongs_to_a_row():
    named = set()
    for path in sorted(RESULTS_DIR.glob("*.csv")):  # every paper's rows, the ones written since the migration too
        frame = report.read_results(path, report.paper_fields(path.stem))
        named |= set(frame["history"]) - {""}
        for history, rows in frame[frame["history"] != ""].groupby("history"):
            curve = report.read_history(RESULTS_DIR / history)
            assert curve["step"].iloc[-1] == int(rows["steps"].iloc[0])  # the run's steps at its last checkpoint
    assert named == {str(p.relative_to(RESULTS_DIR)) for p in (RESULTS_DIR / "histories").rglob("*.csv")}
