"""The fields of a result row (results/recurrent_batch_norm.csv): what the paper's tables group by.

A row's columns are common/results.py's `header(FIELDS)`: these between the common ones; values are strings as in
the CSV. The `variant` column is only the label tables show (`variant` below).

    task         "pixels", "pixels_permuted" (Table 1), "chars" (Table 2)
    model        "LSTM" or "BN-LSTM"
    units        the layer's size
    gamma_init   BN-LSTM: the initial gamma ("0.1", the paper's; "1" for its appendix's comparison); "" for LSTM
    statistics   BN-LSTM at test time: "per_step" (population statistics of each step, the paper's), "shared" (one
                 average over the steps), "batch" (the test batch's own); "" for LSTM
    test_length  characters: the length of the test sequences ("100" as trained, "1000" beyond); "" for pixels
"""

FIELDS = ("task", "model", "units", "gamma_init", "statistics", "test_length")
MODEL_NAMES = {"lstm": "LSTM", "bn_lstm": "BN-LSTM"}


def model_fields(config, statistics: str = "per_step", test_length: int = 0) -> dict[str, str]:
    bn = config.model == "bn_lstm"
    return {"task": config.task, "model": MODEL_NAMES[config.model], "units": str(config.units),
            "gamma_init": f"{config.gamma_init:g}" if bn else "", "statistics": statistics if bn else "",
            "test_length": str(test_length) if test_length else ""}


def variant(fields: dict) -> str:
    """"BN-LSTM", "BN-LSTM (gamma 1)", "BN-LSTM, shared statistics", "LSTM, test length 1000"."""
    name = fields["model"]
    if fields["gamma_init"] and fields["gamma_init"] != "0.1":
        name += f" (gamma {fields['gamma_init']})"
    if fields["statistics"] and fields["statistics"] != "per_step":
        name += f", {fields['statistics'].replace('_', ' ')} statistics"
    if fields["test_length"]:
        name += f", test length {fields['test_length']}"
    return name
