"""``jaxfb info``: versions, backend and devices."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="print versions, the JAX backend and its devices")
    p.set_defaults(func=run)


def environment() -> dict:
    """Versions, devices and host, flattened for printing (see :func:`jaxfb.environment`)."""
    from .._env import environment as env

    out = {}
    for group in env().values():
        for key, value in group.items():
            out.setdefault(key, value)
    return out


def run(args) -> int:
    env = environment()
    width = max(len(k) for k in env)
    for key, value in env.items():
        if isinstance(value, list):
            value = ", ".join(value)
        print(f"{key:<{width}}  {value}")
    return 0
