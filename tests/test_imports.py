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
    "errors": 0,
    "lazy": 0,
    "losses": 1,
    "common": 2,
    "checkpoint_kind": 3,
    "data": 3,
    "solo": 3,
    "clip": 3,
    "explain": 4,
    "evaluate": 5,
    "bench": 6,
    "cli": 7,
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
    for subpackage in ("losses", "common", "data", "solo", "clip", "explain", "evaluate", "bench"):
        subprocess.run([sys.executable, "-c", f"import solo_tricl.{subpackage}"], check=True)


def test_each_shared_option_is_defined_once_for_both_hosts():
    import argparse

    from solo_tricl.clip import plugins
    from solo_tricl.clip.launcher import configure
    from solo_tricl.solo import method_kwargs

    solo_options = {**method_kwargs.TRICL, **method_kwargs.NCL, **method_kwargs.KERNEL, **method_kwargs.MRL}
    clip_options = {name: option for name, (option, _) in plugins.declared_options(plugins.load_plugins()).items()}
    shared = set(solo_options) & set(clip_options)
    assert shared == {
        "importance_init_std",
        "decorrelation",
        "decorrelation_weight",
        "non_neg",
        "gamma",
        "nesting",
        "reduction",
        "smallest_prefix",
    }
    assert all(solo_options[name] is clip_options[name] for name in shared)
    parser = argparse.ArgumentParser()
    configure(parser)
    defaults = vars(parser.parse_args([]))
    assert all(defaults[name] == option.default for name, option in clip_options.items())


def test_every_default_comes_from_one_table():
    """The losses' constructor defaults, solo-learn's method_kwargs and clip-train's flags all read
    solo_tricl.losses.defaults."""
    import inspect

    from solo_tricl import losses
    from solo_tricl.losses import defaults
    from solo_tricl.solo import method_kwargs

    def default(cls, name):
        return inspect.signature(cls).parameters[name].default

    for cls in (losses.InfoNCELoss, losses.NCLLoss, losses.TriCLLoss, losses.MatryoshkaInfoNCELoss):
        assert default(cls, "temperature") == defaults.TEMPERATURE == method_kwargs.TRICL["temperature"].default
    assert (
        default(losses.KernelInfoNCELoss, "temperature")
        == default(losses.KernelMixtureLoss, "tau1")
        == method_kwargs.KERNEL["tau1"].default
        == defaults.TAU1
    )
    assert default(losses.KernelMixtureLoss, "lam") == method_kwargs.KERNEL["lam"].default
    assert default(losses.NCLLoss, "non_neg") == method_kwargs.NCL["non_neg"].default
    assert tuple(losses.NON_NEGATIVE_MAPS) == defaults.NON_NEGATIVE_MAP_NAMES
    assert default(losses.FeatureImportance, "init_std") == method_kwargs.TRICL["importance_init_std"].default
