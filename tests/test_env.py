"""jaxfb.environment(): the record written beside every result."""

import json

import jax
import numpy as np

import jaxfb
from jaxfb.cli import main


def test_environment_is_json_and_true():
    env = jaxfb.environment()
    assert json.loads(json.dumps(env)) == env
    assert env["versions"]["jaxfb"] == jaxfb.__version__
    assert env["versions"]["numpy"] == np.__version__
    assert env["device"]["count"] == jax.device_count()
    assert env["device"]["kind"] == jax.devices()[0].device_kind
    with jax.enable_x64(True):
        assert jaxfb.environment()["device"]["x64"] is True


def test_sidecars_and_info_share_it(capsys):
    from jaxfb.montecarlo import _sweep  # the sweep's point sidecars

    assert _sweep.environment() == jaxfb.environment()
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for key in ("jaxfb", "jax", "backend", "kind", "os"):
        assert any(line.split()[:1] == [key] for line in out.splitlines()), key
