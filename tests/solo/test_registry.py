"""Entry-point loading into a METHODS dict, with fake entry points; no solo-learn needed."""

import importlib.metadata
import subprocess
import sys
import textwrap

import pytest

from solo_tricl.solo.registry import ENTRY_POINT_GROUP, add_entry_points, method_entry_points
from tests.solo import fake_plugins


def entry_point(name, value):
    return importlib.metadata.EntryPoint(name, value, ENTRY_POINT_GROUP)


def test_good_entry_points_are_added_in_place():
    methods = {"simclr": object}
    added = add_entry_points(
        methods,
        [
            entry_point("good", "tests.solo.fake_plugins:GoodMethod"),
            entry_point("other", "tests.solo.fake_plugins:AnotherGood"),
        ],
        base_class=fake_plugins.FakeBase,
    )
    assert methods["good"] is fake_plugins.GoodMethod
    assert set(added) == {"good", "other"} and "simclr" in methods


@pytest.mark.parametrize(
    "value,reason",
    [
        ("no_such_module_xyz:Thing", "ModuleNotFoundError"),
        ("tests.solo.fake_plugins:Missing", "AttributeError"),
        ("tests.solo.fake_plugins:NotAMethod", "not a solo.methods.base.BaseMethod subclass"),
    ],
)
def test_a_broken_entry_point_warns_with_its_name_and_the_rest_load(value, reason):
    methods = {}
    with pytest.warns(UserWarning, match=rf"entry point 'broken' \({value}\).*{reason}"):
        added = add_entry_points(
            methods,
            [entry_point("broken", value), entry_point("good", "tests.solo.fake_plugins:GoodMethod")],
            base_class=fake_plugins.FakeBase,
        )
    assert list(added) == ["good"]


def test_an_entry_point_does_not_replace_an_existing_method():
    methods = {"good": fake_plugins.AnotherGood}
    with pytest.warns(UserWarning, match=r"'good' would replace .*AnotherGood"):
        add_entry_points(
            methods, [entry_point("good", "tests.solo.fake_plugins:GoodMethod")], base_class=fake_plugins.FakeBase
        )
    assert methods["good"] is fake_plugins.AnotherGood


def test_our_methods_are_declared_once():
    names = [ep.name for ep in method_entry_points() if ep.value.startswith("solo_tricl.")]
    assert sorted(names) == ["kernel", "mrl", "ncl", "tricl"]


def test_autoload_hook_fills_an_unmodified_methods_dict(tmp_path):
    """A stand-in ``solo`` package and a third-party dist with a broken entry point: importing
    ``solo.methods`` must register both good entry points lazily and warn about the broken one."""
    package = tmp_path / "solo" / "methods"
    package.mkdir(parents=True)
    (tmp_path / "solo" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("from solo.methods.base import BaseMethod\nMETHODS = {'base': BaseMethod}\n")
    (package / "base.py").write_text("class BaseMethod:\n    pass\n")
    (tmp_path / "thirdparty.py").write_text(
        "from solo.methods.base import BaseMethod\nclass Plugin(BaseMethod):\n    pass\n"
    )
    dist = tmp_path / "thirdparty-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[solo.methods]\nplugin = thirdparty:Plugin\nbroken = thirdparty:Nope\n")
    code = textwrap.dedent("""
        import warnings, sys
        warnings.simplefilter("always")
        from solo.methods import METHODS          # as main_pretrain.py does
        assert "solo_tricl.solo.tricl" not in sys.modules   # nothing loaded before a lookup
        print("plugin" in METHODS, "tricl" in METHODS, "ncl" in METHODS, "kernel" in METHODS)
    """)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True"]
    assert "entry point 'broken' (thirdparty:Nope)" in result.stderr
