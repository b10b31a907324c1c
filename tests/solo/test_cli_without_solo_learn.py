"""CLI behaviour that needs no solo-learn installed."""

import subprocess
import sys


def test_every_cli_says_how_to_install_solo_learn_when_it_is_missing(tmp_path):
    code = (
        "import sys; sys.modules['solo'] = None; from solo_tricl.cli import main; "
        "sys.exit(main(['pretrain', '--config-name', 'fashion_mnist/tricl']))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert "solo-learn is not installed" in result.stderr
    assert "git+https://github.com/vturrisi/solo-learn.git" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
