"""Shared fixtures: small real datasets written once per test session, and a summary line
saying whether the solo-learn tests ran."""

import importlib.util
import os
from pathlib import Path

import pytest


def solo_learn_available() -> bool:
    return importlib.util.find_spec("solo") is not None


SOLO_LEARN_MISSING = (
    "solo-learn is not installed (install solo-learn main from git: see README, Set-up)"
)


def pytest_terminal_summary(terminalreporter):
    reports = [
        report
        for key in ("passed", "failed", "skipped", "error")
        for report in terminalreporter.stats.get(key, [])
        if report.when in ("call", "setup") and "solo" in report.keywords
    ]
    counts = {}
    for report in reports:
        if report.when == "setup" and report.outcome == "passed":
            continue
        counts[report.outcome] = counts.get(report.outcome, 0) + 1
    state = "installed" if solo_learn_available() else "NOT installed"
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none"
    terminalreporter.write_sep("=", f"solo-learn {state}; solo-learn tests: {summary}")
    main_pretrain = os.environ.get("SOLO_LEARN_SRC")
    if main_pretrain:
        terminalreporter.write_line(f"SOLO_LEARN_SRC={main_pretrain}")
