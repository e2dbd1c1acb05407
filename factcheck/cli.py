"""The command line: parses arguments, calls the library, prints results. No logic of its own.

Heavy modules (the openai SDK, rich consoles) are imported inside the commands so ``factcheck --help`` starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from factcheck.errors import FactcheckError

app = typer.Typer(
    name="factcheck",
    help="Draft checkable claims from a document with an LLM, review them in the terminal, publish the verdicts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"verbose": False}


@app.callback()
def _options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks and debug logs.")] = False,
) -> None:
    _state["verbose"] = verbose


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line error to stderr and exit non-zero."""
    typer.echo(f"factcheck: error: {message}", err=True)
    raise typer.Exit(code)


# ----------------------------------------------------------------------------------------------- extract
# (commands of each stage live in their own section below; keep sections in pipeline order)


def main() -> None:
    """Console entry point: our own errors become one line and exit 1; Ctrl-C exits 130 without a traceback."""
    try:
        app(standalone_mode=False)
    except FactcheckError as exc:
        if _state["verbose"]:
            raise
        typer.echo(f"factcheck: error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("factcheck: interrupted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("factcheck: aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # click's usage errors and anything else: one line, never a traceback
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if _state["verbose"]:
            raise
        typer.echo(f"factcheck: unexpected error: {type(exc).__name__}: {exc} (run with --verbose for details)", err=True)
        sys.exit(1)


_ = Path  # re-exported for command sections that take paths
