"""The fields of a result row (results/seq2seq.csv): what the paper's Table 1 and the claims group by.

A row's columns are common/results.py's `header(FIELDS)`: these between the common ones; values are strings.

    architecture     "deep_lstm" (Sutskever et al.), "attention" (Bahdanau et al. 2014), or a baseline without a model,
                     "copy" or "retrieval" (baselines.py; the other fields empty)
    reverse_source   "True" when the source is read backwards (Sec. 3.3)
    num_layers, units, vocab_size   the model's size; vocab_size "<source>/<target>" words, specials included
    beam_size        the search's beam ("" for perplexity); 1 is greedy
    length_penalty   alpha of the finished set's ranking log p / length^alpha: "0" the paper's (summed log p)
    bleu_signature   sacrebleu's signature for "bleu" rows, the metric's exact definition
"""

BASELINES = {"copy": "Copy the source", "retrieval": "Retrieval (TF-IDF nearest training source)"}  # baselines.py
FIELDS = ("architecture", "reverse_source", "num_layers", "units", "vocab_size", "beam_size", "length_penalty",
          "bleu_signature")


def model_fields(config, source_vocab_size: int, target_vocab_size: int) -> dict[str, str]:
    return {"architecture": config.architecture, "reverse_source": str(bool(config.reverse_source)),
            "num_layers": str(config.num_layers), "units": str(config.units),
            "vocab_size": f"{source_vocab_size}/{target_vocab_size}", "beam_size": "", "length_penalty": "",
            "bleu_signature": ""}


def variant(fields: dict) -> str:
    """The label tables show: "LSTM 4 x 256, reversed, beam 12" / "Attention (Bahdanau), beam 2, length-normalised"."""
    if fields["architecture"] in BASELINES:
        return BASELINES[fields["architecture"]]
    if fields["architecture"] == "attention":
        name = "Attention (Bahdanau)" + (", reversed" if fields["reverse_source"] == "True" else "")
    else:
        name = (f"LSTM {fields['num_layers']} x {fields['units']}, "
                + ("reversed" if fields["reverse_source"] == "True" else "forward"))
    if fields.get("beam_size"):
        name += f", beam {fields['beam_size']}"
        if fields.get("length_penalty") not in ("", "0"):
            name += ", length-normalised"
    return name
