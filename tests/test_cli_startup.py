"""``solo-tricl --help`` imports no subcommand (and so no torch, no host); a subcommand's help
imports that subcommand's module only."""

import subprocess
import sys

PROBE = """
import sys
from solo_tricl.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print(sorted(m for m in ("torch", "solo", "open_clip", "solo_tricl.evaluate.cli", "solo_tricl.solo.cli")
             if m in sys.modules))
"""


def imported_after(argv):
    result = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1]


def test_top_level_help_imports_no_subcommand():
    assert imported_after(["--help"]) == "[]"


def test_a_subcommand_help_imports_only_its_module():
    assert imported_after(["evaluate", "--help"]) == "['solo_tricl.evaluate.cli']"


def test_no_subcommand_help_imports_torch_or_a_host():
    from solo_tricl.cli import SUBCOMMANDS

    for command in SUBCOMMANDS:
        assert imported_after([command, "--help"]) in (
            "[]",
            f"['{SUBCOMMANDS[command][0]}']",
            "['solo_tricl.solo.cli']",
        ), command
