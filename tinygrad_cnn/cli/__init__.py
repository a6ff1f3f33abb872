"""The ``tinygrad-cnn`` command (also ``python -m tinygrad_cnn``): ``train``, ``evaluate`` and ``plot``.

``main(argv)`` returns the exit code. User errors (bad options, missing or corrupt files, a diverging
run) end with one line ``tinygrad-cnn: error: ...`` on stderr and a non-zero code, never a traceback
(set ``TINYGRAD_CNN_TRACEBACK=1`` to see one); Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from tinygrad_cnn.cli.common import PROG, CLIError, one_line

__all__ = ["build_parser", "main"]


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that raises CLIError (one line, exit code 2) instead of printing the usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{message} (see {self.prog} --help)", exit_code=2)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``tinygrad-cnn`` and its subcommands."""
    from tinygrad_cnn.cli import evaluate, plots, train

    parser = _ArgumentParser(prog=PROG, description="Train and evaluate small CNNs with tinygrad_cnn (numpy).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module, summary in (
        ("train", train, "train a model (no options: SeedCNN on the bundled MNIST-5k digits)"),
        ("evaluate", evaluate, "accuracy and confusion matrix of a trained model"),
        ("plot", plots, "redraw curves.png and filters.png of a training run"),
    ):
        description = (module.__doc__ or summary).split("\n\n")[0].replace("``", "")
        p = sub.add_parser(name, help=summary, description=description)
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    return parser


def _fail(message: object, code: int) -> int:
    print(f"{PROG}: error: {one_line(message)}", file=sys.stderr, flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.run(args))
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr, flush=True)
        return 130
    except CLIError as e:
        return _fail(e, e.exit_code)
    except (ValueError, TypeError, RuntimeError, OSError) as e:  # the library's errors: FileNotFoundError, ...
        if os.environ.get("TINYGRAD_CNN_TRACEBACK"):
            raise
        if isinstance(e, OSError) and e.filename is not None and e.strerror:
            return _fail(f"{e.filename}: {e.strerror}", 1)
        return _fail(e, 1)
