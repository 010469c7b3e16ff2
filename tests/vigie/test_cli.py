import pytest

from vigie import cli


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.SUBCOMMANDS:
        assert name in out


def test_unknown_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["nope"]) == 2
    assert "unknown command 'nope'" in capsys.readouterr().err


def test_every_subcommand_module_exposes_main() -> None:
    import importlib

    for module_name, _ in cli.SUBCOMMANDS.values():
        module = importlib.import_module(module_name)
        assert callable(module.main), module_name
