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


# Arrows point down: a module imports (at the top or inside a function) only modules of its own
# subpackage or of a lower layer. The CLI is imported by nothing.
LAYERS = {
    "errors": 0, "losses": 1, "common": 2, "checkpoint_kind": 3, "data": 3, "solo": 3, "clip": 3,
    "explain": 4, "evaluate": 5, "cli": 6,
}


def _imports(path):
    import ast

    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("solo_tricl."):
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("solo_tricl."))


def test_imports_point_down_toward_the_losses():
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "solo_tricl"
    wrong = []
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[0] in ("__init__", "_solo_autoload"):
            continue
        layer = LAYERS[parts[0]]
        for module in _imports(path):
            target = module.split(".")[1]
            if target != parts[0] and LAYERS[target] >= layer:
                wrong.append(f"{'/'.join(parts)} imports {module}")
    assert not wrong, wrong


def test_each_subpackage_imports_on_its_own():
    for subpackage in ("losses", "common", "data", "solo", "clip", "explain", "evaluate"):
        subprocess.run([sys.executable, "-c", f"import solo_tricl.{subpackage}"], check=True)


def test_each_shared_option_is_defined_once_for_both_hosts():
    import argparse

    from solo_tricl.clip import plugins
    from solo_tricl.clip.launcher import configure
    from solo_tricl.solo import method_kwargs

    solo_options = {**method_kwargs.TRICL, **method_kwargs.NCL, **method_kwargs.KERNEL}
    clip_options = {**plugins.TRICL_OPTIONS, **plugins.NCL_OPTIONS, **plugins.KERNEL_OPTIONS}
    shared = set(solo_options) & set(clip_options)
    assert shared == {"importance_init_std", "decorrelation", "decorrelation_weight", "non_neg", "gamma"}
    assert all(solo_options[name] is clip_options[name] for name in shared)
    parser = argparse.ArgumentParser()
    configure(parser)
    defaults = vars(parser.parse_args([]))
    assert all(defaults[name] == option.default for name, option in clip_options.items())
