"""Sequence to sequence end to end on the smoke preset: a training run and the baselines write their rows through
the lifecycle, BLEU is computed on detokenised text, a changed vocabulary is refused."""

import json

import pandas as pd
import pytest

from common import lifecycle
from common.data import DataError
from papers.seq2seq import baselines, configs, data, evaluate, train


def smoke_config(tmp_path, spec="smoke"):
    config = configs.get_config(spec)
    config.workdir = str(tmp_path / "run")
    config.results_dir = str(tmp_path / "results")
    return config


def test_smoke_run_and_baselines_write_their_rows(tmp_path):
    config = smoke_config(tmp_path)
    lifecycle.execute(train.EXPERIMENT, config)
    table = pd.read_csv(tmp_path / "results" / "seq2seq.csv", dtype=str, keep_default_na=False)
    assert set(table.metric) == {"valid_perplexity", "test_perplexity", "bleu", "bleu_tokenized"}
    perplexity = table[table.metric == "test_perplexity"].value.astype(float).iloc[0]
    assert 1 < perplexity < config.target_vocab_size
    searches = table[table.metric == "bleu"]
    assert set(zip(searches.beam_size, searches.length_penalty, strict=True)) == {("1", "0"), ("2", "0"), ("2", "1")}
    assert searches.bleu_signature.str.contains("tok:13a").all()
    translations = pd.read_csv(next((tmp_path / "results" / "translations").rglob("*.tsv.gz")), sep="\t",
                               keep_default_na=False)
    assert len(translations) == config.eval_sentences and {"beam1", "beam2", "reference"} <= set(translations)
    assert json.loads((tmp_path / "run" / "result.json").read_text())["recorded"]

    baseline_config = smoke_config(tmp_path)
    baseline_config.workdir = str(tmp_path / "baselines")
    lifecycle.execute(baselines.EXPERIMENT, baseline_config)
    table = pd.read_csv(tmp_path / "results" / "seq2seq.csv", dtype=str, keep_default_na=False)
    assert {"copy", "retrieval"} <= set(table.architecture)

    from common import report

    text = report.build(tmp_path / "results", root=None)
    assert "| Model | valid ppl | test ppl | BLEU beam 1 |" in text and "Retrieval (TF-IDF" in text
    assert (tmp_path / "results" / "plots" / "seq2seq-fig2.png").exists()  # the sentence vectors' PCA

    saved = tmp_path / "run" / "target_vocab.json"
    saved.write_text(json.dumps({"words": ["<pad>", "<unk>", "<s>", "</s>", "x"]}))
    corpus = data.load_corpus("generated", "", config.max_length, seed=config.seed)
    with pytest.raises(DataError, match="does not match the target vocabulary"):
        train.vocabularies(config, corpus, tmp_path / "run")


def test_bleu_is_computed_on_detokenised_text():
    """sacrebleu gets "l'outil," (detokenised), not "l' outil ,": the same words score 100 either way only
    because the detokeniser inverts the tokeniser; the tokenised score is the paper's kind, a second metric."""
    sentence = data.tokenize("Ouvrez l'outil, puis cliquez sur « OK ».", "fr")
    assert evaluate.detokenized([sentence]) == ["Ouvrez l'outil, puis cliquez sur \"OK\"."]
    assert evaluate.bleu([list(sentence)], [list(sentence)])[0] == pytest.approx(100.0)
    assert evaluate.tokenized_bleu([list(sentence)], [list(sentence)]) == pytest.approx(100.0)
    score, signature = evaluate.bleu([["un", "chat"]], [["un", "chien", "noir", "ici"]])
    assert score < 100 and "tok:13a" in signature
