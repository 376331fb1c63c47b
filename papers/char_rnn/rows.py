"""The fields of a char_rnn result row: what the tables group by (results/char_rnn.csv, DESIGN.md "Results").

A row's columns are common/results.py's `header(FIELDS)`: these between the common ones. Values are strings as in
the CSV; "" where a field does not apply. The `variant` column is only the label tables show (`variant` below
writes it from these fields); nothing reads it back.

    method         "LSTM" (train.py), or the compressor (compressors.py): "xz -9e", "bzip2 -9", "gzip -9"
    num_layers     the LSTM's stacked layers, "2"; "" for a compressor
    rnn_size       units per LSTM layer, "128"; "" for a compressor
    dropout        the LSTM's dropout rate, "0", "0.25"; "" for a compressor
    carry_state    "True": the state is carried from one window of a stream to the next (Karpathy's char-rnn);
                   "False": every window starts from a zero state ("zero-state windows"); "" for a compressor
    train_context  a compressor's bits given the training text first, bits(train + test) - bits(train): "True";
                   the test text alone: "False"; "" for the LSTM
"""

FIELDS = ("method", "num_layers", "rnn_size", "dropout", "carry_state", "train_context")


def lstm_fields(config) -> dict[str, str]:
    """The fields of an LSTM run of `config` (configs.py)."""
    return {"method": "LSTM", "num_layers": str(config.num_layers), "rnn_size": str(config.rnn_size),
            "dropout": f"{config.dropout:g}", "carry_state": str(bool(config.carry_state)), "train_context": ""}


def compressor_fields(name: str, train_context: bool) -> dict[str, str]:
    """The fields of a compressor's row (compressors.COMPRESSORS names)."""
    return {"method": name, "num_layers": "", "rnn_size": "", "dropout": "", "carry_state": "",
            "train_context": str(bool(train_context))}


def variant(fields: dict) -> str:
    """The label tables show: "LSTM 2x128", "LSTM 2x128, dropout 0.25, zero-state windows", "xz -9e + train context"."""
    if fields["method"] != "LSTM":
        return fields["method"] + (" + train context" if fields["train_context"] == "True" else "")
    name = f"LSTM {fields['num_layers']}x{fields['rnn_size']}"
    if float(fields["dropout"] or 0):
        name += f", dropout {fields['dropout']}"
    return name if fields["carry_state"] == "True" else f"{name}, zero-state windows"
