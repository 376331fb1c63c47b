"""Command-line entry points: `--config=papers/<paper>/configs.py:<preset>` plus `--config.KEY=VALUE` overrides.

Known failures (a bad config value, missing data, a diverged run) end the command with one line that says
what to do, and exit status 1; anything else is a bug and keeps its traceback.
"""

import sys
from collections.abc import Callable

from absl import app
from ml_collections import config_flags

from common.config import ConfigError
from common.data import DataError
from common.training import TrainingDiverged

EXPECTED_ERRORS = (ConfigError, DataError, TrainingDiverged, FileNotFoundError)


def run_with_config(run: Callable, default_config: str) -> None:
    """Defines the --config flag, parses the command line and calls run(config)."""
    config_flag = config_flags.DEFINE_config_file("config", default_config, "paper config file:preset")

    def main(argv):
        if len(argv) > 1:
            raise app.UsageError(f"unexpected arguments {argv[1:]}; options are --config=... --config.KEY=V")
        try:
            run(config_flag.value)
        except EXPECTED_ERRORS as err:
            sys.exit(f"error: {err}")

    app.run(main)
