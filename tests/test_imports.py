import subprocess
import sys


def test_losses_import_neither_host():
    code = (
        "import sys, solo_tricl.losses; "
        "loaded = [m for m in ('solo', 'open_clip', 'lightning', 'captum') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_help_lists_subcommands_without_error():
    out = subprocess.run(
        [sys.executable, "-m", "solo_tricl.cli", "--help"], check=True, capture_output=True, text=True
    ).stdout
    assert "solo-tricl" in out
