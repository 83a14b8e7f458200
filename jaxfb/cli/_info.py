"""``jaxfb info``: versions, backend and devices."""

from __future__ import annotations

import platform


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="print versions, the JAX backend and its devices")
    p.set_defaults(func=run)


def environment() -> dict:
    """Versions and devices, as recorded beside every result."""
    import jax
    import numpy as np

    from .. import __version__

    devices = jax.devices()
    return {
        "jaxfb": __version__,
        "jax": jax.__version__,
        "jaxlib": getattr(jax.lib, "__version__", None) or _dist_version("jaxlib"),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "backend": jax.default_backend(),
        "device_count": len(devices),
        "devices": [f"{d.platform}:{d.id} {d.device_kind}" for d in devices],
        "x64": bool(jax.config.jax_enable_x64),
    }


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def run(args) -> int:
    env = environment()
    width = max(len(k) for k in env)
    for key, value in env.items():
        if isinstance(value, list):
            value = ", ".join(value)
        print(f"{key:<{width}}  {value}")
    return 0
