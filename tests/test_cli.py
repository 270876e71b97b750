"""The `hadac` command line: every command on every spec, help, JSON output, exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import SPECS

from hadac.builddir import FORMAT_VERSION
from hadac.cli import main

COMMANDS = ["check", "compile", "show", "solve", "solvers"]


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_check_compile_show_on_every_spec(spec, tmp_path):
    assert run("check", spec).exit_code == 0
    out = tmp_path / spec.stem
    compiled = run("compile", spec, "-o", out)
    assert compiled.exit_code == 0, compiled.output
    assert f"-> {out}" in compiled.stdout
    shown = run("show", out)
    assert shown.exit_code == 0, shown.output
    assert "surrogates" in shown.stdout
    assert "R²" in shown.stdout


def test_contract_example_checks_compiles_and_shows(contract_spec, tmp_path):
    assert run("check", contract_spec).exit_code == 0
    assert run("compile", contract_spec, "-o", tmp_path / "b").exit_code == 0
    shown = run("show", tmp_path / "b", "--json")
    manifest = json.loads(shown.stdout)
    assert manifest["format_version"] == FORMAT_VERSION
    assert len(manifest["surrogates"]) == 16


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


def test_version_and_group_help():
    assert run("--version").stdout.startswith("hadac, version ")
    assert all(c in run("--help").stdout for c in COMMANDS)


def test_json_outputs_carry_a_format_version(tmp_path):
    spec = SPECS[0]
    checked = json.loads(run("check", spec, "--json").stdout)
    compiled = json.loads(run("compile", spec, "-o", tmp_path / "b", "--json").stdout)
    solvers = json.loads(run("solvers", "--json").stdout)
    for payload in (checked, compiled, solvers):
        assert payload["format_version"] == 1
    assert compiled["ok"] is True and compiled["surrogates"] > 0
    assert {s["name"] for s in solvers["solvers"]} == {"gecode", "cbc", "highs", "chuffed"}


def test_errors_exit_1_with_json_diagnostics(tmp_path):
    bad = tmp_path / "bad.hada"
    bad.write_text("hardware a {\n")
    result = run("compile", bad, "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["ok"] is False
    assert (payload["diagnostics"][0]["line"], payload["diagnostics"][0]["column"]) == (1, 13)


def test_show_of_a_folder_that_is_not_a_build(tmp_path):
    result = run("show", tmp_path)
    assert result.exit_code == 1
    assert "is not a hadac build directory" in result.stderr
