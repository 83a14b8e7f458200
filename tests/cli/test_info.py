"""``jaxfb info``: versions, backend and devices."""

import jax

import jaxfb
from jaxfb.cli import main


def test_info_prints_versions_and_backend(capsys):
    assert main(["info"]) == 0
    lines = {}
    for line in capsys.readouterr().out.splitlines():
        key, _, value = line.partition(" ")
        lines[key] = value.strip()
    assert lines["jaxfb"] == jaxfb.__version__
    assert lines["jax"] == jax.__version__
    assert lines["backend"] == jax.default_backend()
