"""Experiment configs: every paper has one `configs.py` with the presets `smoke`, `cpu` and `paper`.

A paper's `configs.py` defines one function per preset and `get_config = preset_getter(smoke=..., cpu=...,
paper=...)` (or its own `get_config` that calls `preset_config`). Entry points load it with ml_collections'
`config_flags`, so that

    python -m papers.char_rnn.train --config=papers/char_rnn/configs.py:cpu --config.seed=2

picks a preset and overrides single fields. Configs are locked: an override of a key that does not
exist is an error. Fields with a fixed set of values are checked by `check_choices`.
"""

from collections.abc import Callable, Mapping

import ml_collections

PRESETS = ("smoke", "cpu", "paper")

# Choices shared by every paper's training config (see common/training.py).
COMMON_CHOICES = {
    "distribute": ("default", "mirrored"),
}


class ConfigError(ValueError):
    """A config that cannot be run; the message says which field and what is allowed."""


def preset_config(
    presets: Mapping[str, Callable[[], ml_collections.ConfigDict]], name: str | None
) -> ml_collections.ConfigDict:
    """Builds the named preset, records its name in `config.preset` and locks the keys."""
    name = name or "cpu"
    if name not in presets:
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(presets)}")
    config = presets[name]()
    config.preset = name
    config.lock()
    return config


def preset_with_model(presets: Mapping[str, Callable[[], ml_collections.ConfigDict]], models: Mapping[str, dict],
                      spec: str | None) -> ml_collections.ConfigDict:
    """`<preset>` or `<preset>,<model>`: the preset with the model's overrides (`models[name]`, a dict of keys)."""
    preset, _, name = (spec or "cpu").partition(",")
    config = preset_config(presets, preset)
    if name:
        if name not in models:
            raise ConfigError(f"unknown model {name!r}: choose one of {', '.join(models)}")
        config.update(models[name])
    return config


def preset_getter(**presets: Callable[[], ml_collections.ConfigDict]) -> Callable:
    """A paper's `get_config(preset)`, which ml_collections' config_flags calls with the text after the colon."""
    return lambda preset=None: preset_config(presets, preset)


def check_choices(config: ml_collections.ConfigDict, choices: Mapping[str, tuple]) -> None:
    """Raises ConfigError if a field holds a value outside its allowed choices."""
    for key, allowed in {**COMMON_CHOICES, **choices}.items():
        value = config[key]
        if value not in allowed:
            raise ConfigError(
                f"config.{key}={value!r} is not valid; choose one of: {', '.join(map(repr, allowed))}"
            )


def check_lr_boundaries(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError unless config.lr_boundaries are increasing fractions of train_steps in (0, 1)."""
    boundaries = tuple(config.lr_boundaries)
    if any(not 0.0 < b < 1.0 for b in boundaries) or list(boundaries) != sorted(set(boundaries)):
        raise ConfigError(f"config.lr_boundaries={boundaries} must be increasing fractions of train_steps in (0, 1), "
                          f"e.g. (0.5, 0.75), or (0.8,) to divide the lr by 10 for the last fifth of training")


def step_boundaries(train_steps: int, fractions) -> list[int]:
    """The steps at which a step schedule drops the lr: round(fraction x train_steps) (He et al.: 32,000 and
    48,000 of 64,000)."""
    return [round(f * train_steps) for f in fractions]


def check_positive(config: ml_collections.ConfigDict, keys: tuple[str, ...]) -> None:
    """Raises ConfigError if any of the numeric fields `keys` is not > 0."""
    for key in keys:
        if not config[key] > 0:
            raise ConfigError(f"config.{key}={config[key]!r} must be > 0")
