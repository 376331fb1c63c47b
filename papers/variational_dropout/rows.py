"""The fields of a result row (results/variational_dropout.csv): what the paper's Table 1 groups by.

A row's columns are common/results.py's `header(FIELDS)`: these between the common ones; values are strings as in
the CSV. The `variant` column is only the label tables show (`variant` below).

    dropout      "none", "zaremba" (Zaremba et al. 2014), "variational" (Gal & Ghahramani)
    tied         variational: "True" one mask for all four gates, "False" a mask per gate; "" otherwise
    p_embed, p_input, p_recurrent, p_output
                 the dropout rates (model.py): word, each layer's input, recurrent state, top layer's output
    units, num_layers   the LSTM's size
    estimator    "standard" (the dropout approximation: no masks at test time) or "mc" (MC dropout)
    mc_samples   K, the number of MC samples averaged, for an "mc" row; "" otherwise
"""

FIELDS = ("dropout", "tied", "p_embed", "p_input", "p_recurrent", "p_output", "units", "num_layers", "estimator",
          "mc_samples")


def model_fields(config) -> dict[str, str]:
    """The fields of a trained model of `config` (configs.py), before its estimator is set."""
    return {"dropout": config.dropout, "tied": str(bool(config.tied)) if config.dropout == "variational" else "",
            **{key: f"{config[key]:g}" for key in ("p_embed", "p_input", "p_recurrent", "p_output")},
            "units": str(config.units), "num_layers": str(config.num_layers)}


def estimator_fields(estimator: str, samples: int = 0) -> dict[str, str]:
    return {"estimator": estimator, "mc_samples": str(samples) if estimator == "mc" else ""}


def model_name(fields: dict) -> str:
    """The model's name in workdirs and make targets: none, zaremba, variational, variational_tied, ..._no_embed."""
    if fields["dropout"] != "variational":
        return fields["dropout"]
    return "variational" + ("_tied" if fields["tied"] == "True" else "") + (
        "_no_embed" if float(fields["p_embed"]) == 0 else "")


def variant(fields: dict) -> str:
    """The label tables show, as the paper's Table 1 names its rows, with the rates (embedding / input / recurrent /
    output): "Variational (untied weights, p 0.2/0.35/0.2/0.35, MC K = 100)"."""
    if fields["dropout"] == "none":
        return "No dropout"
    if fields["dropout"] == "zaremba":
        return f"Zaremba et al. (p {fields['p_input']})"
    details = ["tied weights" if fields["tied"] == "True" else "untied weights",
               "p " + "/".join(fields[key] for key in ("p_embed", "p_input", "p_recurrent", "p_output"))]
    if float(fields["p_embed"]) == 0:
        details.append("no word dropout")
    if fields.get("estimator") == "mc":
        details.append(f"MC K = {fields['mc_samples']}")
    return f"Variational ({', '.join(details)})"
