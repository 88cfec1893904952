"""The ``walkout`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from walkout.storefile import check_store_file

app = typer.Typer(
    help="walkout: a cashier-less store platform: digital twin, fusion engine and tools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
store_app = typer.Typer(help="Work with store files.", no_args_is_help=True)
app.add_typer(store_app, name="store")

console = Console()
err_console = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print a one-line error to stderr and return the exit to raise (code 1)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


@store_app.command("check")
def store_check(
    file: Annotated[Path, typer.Argument(help="The store file (store.json) to check.")],
) -> None:
    """Validate a store file and report every error with its path."""
    problems = check_store_file(file)
    if problems:
        for p in problems:
            err_console.print(f"{file}: {p.render()}", highlight=False, soft_wrap=True)
        raise fail(f"{len(problems)} problem(s) in {file}")
    console.print(f"{file}: ok")


def main() -> None:
    app()
