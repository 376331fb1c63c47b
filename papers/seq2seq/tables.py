"""Our rows laid out like the paper's Table 1, the claims' comparisons and Fig. 3, for `make results` (common/report).

Table 1 (LAYOUTS): a row per model (the reversed and forward deep LSTM, the shallower ones, the attention model, then
the baselines), columns validation and test perplexity, test BLEU (sacrebleu, 13a, detokenised) for beams 1, 2, 12
and for beam 12 with length-normalised ranking, our tokenised BLEU at beam 12, and the paper's tokenised BLEU and
perplexity for the same kind of model (WMT'14, 1,000 units: orderings and gaps compare, values do not). Rows are
found by their fields (rows.py), never by their names.

Claims (SECTIONS): reversal (forward against reversed, with the seeds' spread), the share of beam 12's gain that
beam 2 gives, perplexity by depth, the best model against the baselines.

Figure 2 (FIGURES): the deep LSTMs' sentence vectors of phrases.py's phrase families, 2-D PCA.
Figure 3 (FIGURES): test BLEU of each model's beam-12 translations (results/translations/, train.py) by source
sentence length and by the mean frequency rank of the source words (rarer words to the right), the mean over seeds.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from common.report import latest_rows, mean_std, save_figure, select, summarize
from papers.seq2seq import evaluate, phrases, rows

MODEL = ("architecture", "reverse_source", "num_layers", "units", "vocab_size")
BEAM = "12"  # the paper's Table 1 beam
LENGTH_BUCKETS = (1, 5, 9, 13, 18, 25, 36, 81)  # source tokens: [1, 5), [5, 9), ...


def _order(key) -> tuple:
    architecture = {"deep_lstm": 0, "attention": 1}.get(key["architecture"], 2)
    return architecture, -int(key["num_layers"] or 0), key["reverse_source"] != "True", key["architecture"]


def _cell(block, key, metric, beam="", alpha="") -> str:
    found = select(block, **{f: key[f] for f in MODEL}, metric=metric, beam_size=beam, length_penalty=alpha)
    return mean_std(*found[["mean", "std", "n"]].iloc[0], digits=2) if len(found) else ""


def _paper(refs, key, metric, beam="") -> str:
    found = refs[(refs["kind"] == "paper") & (refs["metric"] == metric) & (refs["beam_size"] == beam)
                 & (refs["architecture"] == key["architecture"]) & (refs["reverse_source"] == key["reverse_source"])]
    if key["architecture"] == "deep_lstm":
        found = found[found["num_layers"] == key["num_layers"]]
    return ", ".join(found["value"])


def table1(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    keys = block.drop_duplicates(list(MODEL))
    head = ["Model", "valid ppl", "test ppl", "BLEU beam 1", "beam 2", f"beam {BEAM}", f"beam {BEAM}, length-norm.",
            f"tokenised BLEU beam {BEAM}", "paper: tokenised BLEU", "paper: test ppl"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, key in sorted(keys.iterrows(), key=lambda item: _order(item[1])):
        label = rows.variant({**{f: key[f] for f in MODEL}, "beam_size": ""})
        cells = [label, _cell(block, key, "valid_perplexity"), _cell(block, key, "test_perplexity")]
        cells += [_cell(block, key, "bleu", beam, "0") for beam in ("1", "2", BEAM)]
        cells += [_cell(block, key, "bleu", BEAM, "1"), _cell(block, key, "bleu_tokenized", BEAM, "0")]
        if key["architecture"] in rows.BASELINES:  # no search: one BLEU, in the beam-12 columns' place
            cells[3:8] = ["", "", _cell(block, key, "bleu"), "", _cell(block, key, "bleu_tokenized")]
        cells += [_paper(refs, key, "bleu_tokenized", BEAM), _paper(refs, key, "test_perplexity")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


LAYOUTS = {"libreoffice": table1, "wmt14": table1, "generated": table1}


def _values(frame, metric, beam="", alpha="", **model) -> np.ndarray:
    found = select(latest_rows(frame), metric=metric, beam_size=beam, length_penalty=alpha, **model)
    return found["value"].astype(float).to_numpy()


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else np.nan


def _compare(a: np.ndarray, b: np.ndarray, digits: int = 2) -> str:
    """ "a -> b (difference d; seeds' spread s)" over seeds, or "" when either side has no run."""
    if not len(a) or not len(b):
        return ""
    spread = (a.std(ddof=1) if len(a) > 1 else 0.0) + (b.std(ddof=1) if len(b) > 1 else 0.0)
    return (f"{a.mean():.{digits}f} -> {b.mean():.{digits}f} (difference {b.mean() - a.mean():+.{digits}f}; "
            f"the two seeds' spreads add to {spread:.{digits}f})")


def claims(frame: pd.DataFrame, results_dir: Path) -> str:
    out = []
    for (experiment, preset), block in frame.groupby(["experiment", "preset"], sort=False):
        deep = {"architecture": "deep_lstm", "num_layers": "4"}
        lines = []
        for metric, beam, name in (("test_perplexity", "", "test perplexity"), ("bleu", BEAM, "BLEU, beam 12")):
            text = _compare(_values(block, metric, beam, "0" if beam else "", reverse_source="False", **deep),
                            _values(block, metric, beam, "0" if beam else "", reverse_source="True", **deep))
            if text:
                lines.append(f"- Reversal (claim 1), {name}, forward -> reversed: {text}.")
        for _, key in summarize(block).drop_duplicates(list(MODEL)).iterrows():
            model = {f: key[f] for f in MODEL}
            b1, b2, b12 = (_mean(_values(block, "bleu", beam, "0", **model)) for beam in ("1", "2", BEAM))
            if not np.isfinite([b1, b2, b12]).all():
                continue
            share = (f"beam 2 gives {100 * (b2 - b1) / (b12 - b1):.0f}% of beam 12's gain over greedy" if b12 > b1
                     else "beam 12 gains nothing over greedy")
            lines.append(f"- Beam (claim 2), {rows.variant(model | {'beam_size': ''})}: {share} (BLEU beam 1, 2, "
                         f"12: {b1:.2f}, {b2:.2f}, {b12:.2f}).")
        depth = {n: _values(block, "test_perplexity", architecture="deep_lstm", reverse_source="True", num_layers=n)
                 for n in ("1", "2", "4")}
        if sum(len(v) > 0 for v in depth.values()) > 1:
            lines.append("- Depth (claim 4), test perplexity of the reversed model with 1, 2, 4 layers: " + ", ".join(
                f"{n}: {v.mean():.2f}" for n, v in depth.items() if len(v)) + " (paper: each layer nearly -10%).")
        if lines:
            out += [f"**Claims, {experiment}, preset `{preset}`**", "", *lines, ""]
    return "\n".join(out)


SECTIONS = [claims]


def _run_files(frame: pd.DataFrame, results_dir: Path, kind: str, suffix: str, **rows_of) -> dict[str, list[Path]]:
    """{model label: its seeds' files of `kind`} for the runs with rows `rows_of`: a run's files sit where its history
    does, under results/<kind>/ instead of results/histories/ (all are lifecycle.results_file of its work dir)."""
    found = select(latest_rows(frame), **rows_of)
    files: dict[str, list[Path]] = {}
    for _, row in found[found["history"] != ""].iterrows():
        path = Path(results_dir) / Path(row["history"]).with_suffix(suffix).as_posix().replace(
            "histories/", f"{kind}/", 1)
        if path.exists():
            label = rows.variant({f: row[f] for f in MODEL} | {"beam_size": ""})
            files.setdefault(f"{label} ({row['experiment']}, {row['preset']})", []).append(path)
    return files


def _bucket_bleu(table: pd.DataFrame, buckets: pd.Series) -> pd.Series:
    return table.groupby(buckets, observed=True).apply(lambda part: evaluate.bleu(
        [h.split() for h in part[f"beam{BEAM}"]], [r.split() for r in part["reference"]])[0])


def figure3(frame: pd.DataFrame, results_dir: Path) -> list[Path]:
    files = _run_files(frame, results_dir, "translations", ".tsv.gz", metric="bleu", beam_size=BEAM, length_penalty="0")
    if not files:
        return []
    fig, (by_length, by_rank) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, paths in sorted(files.items()):
        tables = [pd.read_csv(p, sep="\t", keep_default_na=False) for p in paths]
        lengths = [_bucket_bleu(t, pd.cut(t["source_length"], LENGTH_BUCKETS, right=False)) for t in tables]
        ranks = [_bucket_bleu(t, pd.qcut(t["mean_source_rank"], 6, duplicates="drop")) for t in tables]
        seeds = f" ({len(paths)} seeds)" if len(paths) > 1 else ""
        for ax, curves in ((by_length, lengths), (by_rank, ranks)):
            mean = pd.concat(curves, axis=1).mean(axis=1)
            ax.plot([str(i) for i in mean.index], mean.to_numpy(), "o-", label=label + seeds)
    by_length.set_xlabel("source sentence length (tokens)")
    by_rank.set_xlabel("mean frequency rank of the source words (bins of equal size)")
    for ax in (by_length, by_rank):
        ax.set_ylabel(f"test BLEU, beam {BEAM}")
        ax.tick_params(axis="x", labelrotation=30)
        ax.grid(alpha=0.3)
    by_length.legend(fontsize=7)
    fig.suptitle("Fig. 3: BLEU by sentence length and by word rarity")
    fig.tight_layout()
    return [save_figure(fig, results_dir, "seq2seq-fig3")]


def figure2(frame: pd.DataFrame, results_dir: Path) -> list[Path]:
    """Fig. 2: the sentence vectors of phrases.py's families in their first two principal components, a panel per
    deep LSTM (its first seed), each family in one colour."""
    files = _run_files(frame, results_dir, "sentence_vectors", ".npz", metric="test_perplexity",
                       architecture="deep_lstm")
    if not files:
        return []
    fig, axes = plt.subplots(1, len(files), figsize=(6.5 * len(files), 5.5), squeeze=False)
    family_of = {p: i for i, family in enumerate(phrases.FAMILIES.values()) for p in family}
    for ax, (label, paths) in zip(axes[0], sorted(files.items()), strict=True):
        saved = np.load(paths[0])
        points = PCA(2, svd_solver="full").fit_transform(saved["vectors"])  # exact, so the plot is reproducible
        for text, (x, y) in zip(saved["phrases"], points, strict=True):
            colour = plt.cm.tab10(family_of.get(str(text), 9))
            ax.scatter(x, y, color=colour, s=18)
            ax.annotate(str(text), (x, y), fontsize=6.5, color=colour, xytext=(3, 2), textcoords="offset points")
        ax.set_title(label, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Fig. 2: sentence vectors of phrase families (2-D PCA)")
    fig.tight_layout()
    return [save_figure(fig, results_dir, "seq2seq-fig2")]


FIGURES = [figure2, figure3]
