"""`make results` reads every row, reference and history strictly: a malformed one is an error that names the file
and line, never a silently wrong mean (issue 23: a 6-field row turned 1.653 ± 0.008 (2) into 4.432 ± 4.813 (3)).
Tables join ours with the paper's numbers on fields, and format ours in one way."""

import math

import pandas as pd
import pytest

from common import report, results
from papers.char_rnn import rows as char_rnn_rows

LSTM = {"experiment": "bible", "variant": "LSTM 2x128", "preset": "cpu", "metric": "test_bpc", "method": "LSTM",
        "num_layers": "2", "rnn_size": "128", "dropout": "0", "carry_state": "True", "train_context": ""}


def write_rows(results_dir, rows, history=None):
    for row in rows:
        results.append_rows("char_rnn", [row], results_dir, char_rnn_rows.FIELDS)
    if history is not None:
        (results_dir / "histories").mkdir(exist_ok=True)
        history.to_csv(results_dir / "histories" / "run.csv", index=False)
    return results_dir / "char_rnn.csv"


def test_a_row_with_too_few_fields_is_an_error_naming_file_and_line(tmp_path):
    path = write_rows(tmp_path, [{**LSTM, "value": 1.65, "seed": 1}, {**LSTM, "value": 1.66, "seed": 2}])
    with open(path, "a") as f:
        f.write("char_rnn,bible,cpu,LSTM 2x128,1.7,3\n")  # a hand-written row, fields missing
    with pytest.raises(report.ReportError, match=rf"{path}, line 4: 6 fields where the header has 21"):
        report.build(tmp_path, root=None, figures=False)


@pytest.mark.parametrize("column, value, message", [
    ("value", "1.6x", "value '1.6x' is not a number"),
    ("value", "nan", "value 'nan' is not a number"),
    ("seed", "1.0", "seed '1.0' is not a whole number"),
    ("steps", "-5", "steps '-5' is not a whole number"),
])
def test_a_value_seed_or_steps_that_is_no_number_is_an_error(tmp_path, column, value, message):
    path = write_rows(tmp_path, [{**LSTM, "value": 1.65, "seed": 1}, {**LSTM, "value": 1.66, "seed": 2, column: value}])
    with pytest.raises(report.ReportError, match=rf"{path}, line 3: {message}.*restore the file from git"):
        report.read_results(path, char_rnn_rows.FIELDS)


def test_a_file_of_before_the_fields_points_to_the_migration(tmp_path):
    path = tmp_path / "char_rnn.csv"
    old = ("paper", "experiment", "variant", "preset", "metric", "value", "paper_value", "seed", "steps", "epochs",
           "wall_seconds", "device", "versions", "commit", "date")  # the header of the rows before rows.py
    path.write_text(",".join(old) + "\n")
    with pytest.raises(report.ReportError, match=r"line 1: the columns are .* run results/migrations/"):
        report.read_results(path, char_rnn_rows.FIELDS)


def test_a_history_with_a_gap_in_its_checkpoints_is_an_error_naming_it(tmp_path):
    curve = pd.DataFrame({"checkpoint": [1, 2, 4], "step": [100, 200, 400], "loss": [3.0, 2.0, 1.0]})
    write_rows(tmp_path, [{**LSTM, "value": 1.65, "seed": 1, "history": "histories/run.csv"}], curve)
    with pytest.raises(report.ReportError, match=r"histories/run.csv: its checkpoints are not 1, 2, \.\.\., 3"):
        report.build(tmp_path, root=None, figures=False)


def test_a_history_cut_short_of_its_rows_steps_is_an_error_naming_it(tmp_path):
    curve = pd.DataFrame({"checkpoint": [1, 2], "step": [100, 200], "loss": [3.0, 2.0]})  # the third checkpoint lost
    write_rows(tmp_path, [{**LSTM, "value": 1.65, "seed": 1, "steps": 300, "history": "histories/run.csv"}], curve)
    with pytest.raises(report.ReportError, match=r"run.csv: its last checkpoint is at step 200, but the rows that "
                                                  r"name it trained \[300\] steps"):
        report.build(tmp_path, root=None, figures=False)


def test_history_plots_are_found_through_the_rows(tmp_path):
    curve = pd.DataFrame({"checkpoint": [1, 2, 3], "step": [100, 200, 300], "loss": [3.0, 2.0, 1.0],
                          "val_loss": [3.1, 2.2, 1.5]})
    write_rows(tmp_path, [{**LSTM, "value": 1.65, "seed": 1, "history": "histories/run.csv"},
                          {**LSTM, "metric": "valid_bpc", "value": 1.6, "seed": 1, "history": "histories/run.csv"}],
               curve)
    (tmp_path / "histories" / "stray_seed1.csv").write_text("epoch,loss\n1,2.0\n")  # named by no row: not read
    stale = tmp_path / "plots" / "old_name.png"
    stale.parent.mkdir()
    stale.write_bytes(b"")
    text = report.build(tmp_path, root=None)
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["char_rnn_bible_cpu_lstm-2x128.png"]
    assert "![char_rnn_bible_cpu_lstm-2x128](plots/char_rnn_bible_cpu_lstm-2x128.png)" in text


def test_mean_std_is_the_one_format_of_ours():
    assert report.mean_std(8.04, 0.3536, 2, digits=2) == "8.04 ± 0.35 (2)"
    assert report.mean_std(0.9218, math.nan, 1) == "0.922"
    assert report.mean_std(math.nan, math.nan, 0, missing="FAIL") == "FAIL"


def test_a_reference_fixes_only_the_fields_it_fills():
    refs = pd.DataFrame([dict(experiment="t", variant="", method="Ptr-Net", n_test="5", decoding="beam", beam_width="",
                              metric="acc", value="0.9", kind="paper", source="s")])
    ours = {"method": "Ptr-Net", "n_test": "5", "decoding": "beam", "beam_width": "4"}
    assert list(report.references(refs, ours, experiment="t", metric="acc")["value"]) == ["0.9"]
    assert report.references(refs, {**ours, "decoding": "greedy"}, experiment="t", metric="acc").empty
    assert report.references(refs, {**ours, "n_test": "10"}, experiment="t", metric="acc").empty


def test_every_papers_references_parse_with_its_fields():
    for paper in ("char_rnn", "depth_study", "pointer_networks"):
        refs = report.read_references(paper)
        assert len(refs) and set(refs["kind"]) <= {"paper", "target"}
        assert list(refs.columns[2:-4]) == list(report.paper_fields(paper))
