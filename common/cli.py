"""Command-line entry points: `--config=papers/<paper>/configs.py:<preset>` plus `--config.KEY=VALUE` overrides.

Known failures (a bad flag, preset, config key or value, missing data, unreadable run files, a results file that
cannot take rows, a diverged run) end the command with one line that says what to do, and exit status 1; anything
else is a bug and keeps its traceback.
"""

import re
import sys
from collections.abc import Callable

from absl import app, flags
from ml_collections import config_flags

from common.checkpoints import RunStateError
from common.config import ConfigError
from common.data import DataError
from common.results import ResultsError
from common.training import TrainingDiverged

EXPECTED_ERRORS = (ConfigError, DataError, TrainingDiverged, RunStateError, ResultsError, FileNotFoundError)


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, with one line instead of a traceback for a bad preset, key or value."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as err:
        text = str(err)
        marker = f"{ConfigError.__module__}.{ConfigError.__name__}: "
        message = text.rsplit(marker, 1)[1].splitlines()[0] if marker in text else text.splitlines()[0]
    except AttributeError as err:  # ml_collections: an override of a key the locked config does not have
        text = str(err.args[0]).replace("\\", "")
        key = re.search(r"'([\w.]+)'", text)
        hint = re.search(r"Did you mean [^?]*\?", text)
        message = (f"unknown config key '{key[1] if key else text}'" + (f"; {hint[0]}" if hint else "")
                   + "; the keys are those of the config file named by --config")
    sys.exit(f"error: {message}")


def run_with_config(run: Callable, default_config: str) -> None:
    """Defines the --config flag, parses the command line and calls run(config)."""
    config_flag = config_flags.DEFINE_config_file("config", default_config, "paper config file:preset")

    def main(argv):
        if len(argv) > 1:
            raise app.UsageError(f"unexpected arguments {argv[1:]}; options are --config=... --config.KEY=V")
        try:
            config = config_flag.value
            config.keys()  # the file is loaded on first use
        except OSError as err:  # ml_collections loads the config file lazily
            cause = " ".join(str(err.__cause__ or err).split())
            sys.exit(f"error: --config names a file that cannot be loaded ({cause}); "
                     f"use e.g. {default_config}")
        try:
            run(config)
        except EXPECTED_ERRORS as err:
            sys.exit(f"error: {err}")

    app.run(main, flags_parser=parse_flags)
