"""The record of versions, devices and host written beside every result."""

from __future__ import annotations

import os
import platform
from typing import Any

__all__ = ["environment", "package_version"]


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def package_version() -> str:
    """jaxfb's installed version (``"0.0.0+unknown"`` when run from a source tree not installed)."""
    return _dist_version("jaxfb") or "0.0.0+unknown"


def environment() -> dict[str, Any]:
    """Versions, devices and host of this process, as JSON-ready dicts.

    Every JSON sidecar jaxfb writes (sweep points, ``jaxfb reproduce``'s ``config.json``,
    ``jaxfb fit``'s ``fit.json``, the experiments) carries these three entries, and ``jaxfb info``
    prints them.

    Returns:
        ``{"versions": {...}, "device": {...}, "host": {...}}``: ``versions`` of jaxfb, jax,
        jaxlib, numpy, scipy, optax, matplotlib and python; ``device``: backend, platform, kind,
        count, local_count, process_count, x64, devices, JAX_PLATFORMS; ``host``: machine,
        processor, cpus, os.

    Examples:
        >>> import jax, jaxfb
        >>> env = jaxfb.environment()
        >>> env["versions"]["jax"] == jax.__version__
        True
        >>> env["device"]["backend"] == jax.default_backend()
        True
    """
    import jax
    import numpy as np

    devices = jax.devices()
    return {
        "versions": {
            "jaxfb": package_version(),
            "jax": jax.__version__,
            "jaxlib": getattr(jax.lib, "__version__", None) or _dist_version("jaxlib"),
            "numpy": np.__version__,
            "scipy": _dist_version("scipy"),
            "optax": _dist_version("optax"),
            "matplotlib": _dist_version("matplotlib"),
            "python": platform.python_version(),
        },
        "device": {
            "backend": jax.default_backend(),
            "platform": devices[0].platform,
            "kind": devices[0].device_kind,
            "count": len(devices),
            "local_count": jax.local_device_count(),
            "process_count": jax.process_count(),
            "x64": bool(jax.config.jax_enable_x64),
            "devices": [f"{d.platform}:{d.id} {d.device_kind}" for d in devices],
            "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", ""),
        },
        "host": {
            "machine": platform.machine(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "os": platform.platform(),
        },
    }
