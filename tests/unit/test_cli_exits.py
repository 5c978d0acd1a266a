"""Exit codes are one table (``output.EXIT_CODES``): each status with its error class and
its description, and --help's list (``EXIT_HELP``) is made from it."""

from __future__ import annotations

import inspect

from nxuskit import errors
from nxuskit_cli import output


def test_help_lists_every_code_with_its_description() -> None:
    for code, (_, text) in output.EXIT_CODES.items():
        assert f"{code} {text}" in output.EXIT_HELP
    assert output.EXIT_HELP.startswith("Exit codes: 0 ok; 1 not authenticated")


def test_every_error_has_its_status() -> None:
    classes = [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.NxuskitError)
    ]
    for cls in [*classes, output.ServiceError]:
        assert output.exit_code(cls("x")) in output.EXIT_CODES, cls
    for cls in (errors.DaemonBusy, errors.DaemonNotRunning, errors.DaemonNotAnswering):
        assert output.exit_code(cls("x")) == 4
    assert output.exit_code(errors.NxuskitError("x")) == 10  # an unknown kind: a protocol error


def test_the_named_statuses_are_in_the_table() -> None:
    named = (output.EXIT_UNREACHABLE, output.EXIT_MISSING_DEPENDENCY, output.EXIT_INTERNAL,
             output.EXIT_INTERRUPTED)  # fmt: skip
    assert set(named) <= set(output.EXIT_CODES)
    codes = [code for code, (cls, _) in output.EXIT_CODES.items() if cls is not None]
    assert len(codes) == len({cls for cls, _ in output.EXIT_CODES.values() if cls is not None})
