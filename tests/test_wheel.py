"""The wheel holds the shipped configs (inside the package) and the solo-learn autoload .pth."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_ships_the_configs_and_the_autoload_hook(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv*", ".git", "bench-work", "__pycache__", "trained_models", "datasets", "evaluation*", "configs"
        ),
    )
    shutil.copytree(ROOT / "configs", source / "configs")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("solo_tricl-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "solo_tricl_autoload.pth" in names
    shipped = {name for name in names if name.startswith("solo_tricl/configs/")}
    expected = {f"solo_tricl/{p.relative_to(ROOT).as_posix()}" for p in (ROOT / "configs").rglob("*.yaml")}
    assert expected and expected <= shipped
    assert "solo_tricl/configs/pretrain/fashion_mnist/tricl.yaml" in shipped
    assert "solo_tricl/configs/linear/fashion_mnist/linear.yaml" in shipped


def test_a_checkout_finds_the_top_level_configs():
    from solo_tricl.solo.cli import shipped_configs

    assert (shipped_configs() / "pretrain" / "fashion_mnist" / "tricl.yaml").is_file()
