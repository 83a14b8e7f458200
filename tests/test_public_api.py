"""The public surfaces: ``__all__`` lists exactly what each namespace exports, and the contract's
names (docs/api.md) are there."""

import importlib
import types

import pytest

import jaxfb

CONTRACT = {
    "jaxfb": [
        "random_filterbank",
        "littlewood_paley",
        "frame_bounds",
        "condition_number",
        "energy",
        "autocorrelation",
        "io",
        "theory",
        "signals",
    ],
    "jaxfb.theory": [
        "energy_mean",
        "energy_variance",
        "cantelli_deviation",
        "chernoff_deviation",
        "energy_sf",
        "kappa_tilde",
        "expected_frame_bounds",
        "expected_condition_number",
    ],
    "jaxfb.signals": ["make_signal", "impulse", "load_audio"],
    "jaxfb.cli": ["main"],
}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_all_is_what_the_namespace_exports(name):
    module = importlib.import_module(name)
    exported = set(module.__all__)
    assert len(exported) == len(module.__all__), f"{name}.__all__ repeats a name"
    assert set(CONTRACT[name]) <= exported, set(CONTRACT[name]) - exported
    missing = sorted(n for n in exported if not hasattr(module, n))
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"
    # every public, non-module attribute is listed (a subpackage is listed where it is imported
    # on purpose; submodules that Python attaches as a side effect are not public names)
    unlisted = sorted(
        n
        for n, value in vars(module).items()
        if not n.startswith("_")
        and n not in exported
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", name).startswith("jaxfb")
    )
    assert not unlisted, f"{name} exports names missing from __all__: {unlisted}"


def test_strided_bounds_have_one_entry_point():
    assert not hasattr(jaxfb, "strided_frame_bounds")
    assert not hasattr(jaxfb, "strided_condition_number")
