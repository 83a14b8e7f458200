"""Markdown tables of one sitting of ``benchmarks/gpu_checks.sh`` (docs/performance.md, "GPU").

Reads the benchmark JSONs that the script wrote to a folder (``bench_gram_gpu.json``,
``bench_conv_gpu.json``, ``bench_kernels_gpu.json``, ``bench_engine_gpu.json``; a missing one is
left out) and writes ``bench_gpu.md`` beside them. Every ratio is taken within one run of one
benchmark, on one device::

    python benchmarks/gpu_tables.py docs/figures/gpu
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jaxfb import io


def _device(record: dict) -> str:
    env = record.get("environment", record)
    device = env.get("device", {})
    versions = env.get("versions", {})
    return f"{device.get('kind', '?')}, JAX {versions.get('jax', '?')}"


def gram_table(record: dict) -> list[str]:
    lines = [
        f"`bench_gram.py` ({_device(record)}): draws/s of frame bounds, best of "
        f"{record['reps']} calls",
        "",
        "| J | T | n | stride | fast path | fast | weights (direct) | RNG floor | NumPy loop "
        "| fast / weights |",
        "| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in record["rows"]:
        rate = r["draws_per_s"]
        numpy = f"{rate['numpy']:.3g}" if "numpy" in rate else "-"
        lines.append(
            f"| {r['J']} | {r['T']} | {r['N']} | {r['stride']} | {r['fast_method']} "
            f"| {rate['fast']:.3g} | {rate['weights']:.3g} | {rate['floor']:.3g} | {numpy} "
            f"| {rate['fast'] / rate['weights']:.1f}x |"
        )
    return lines


def conv_table(record: dict) -> list[str]:
    lines = [
        f"`bench_conv.py` ({_device(record)}): one layer's frame bounds, best of the calls",
        "",
        "| J | C_in | T | n | stride | jaxfb (ms) | NumPy loop (ms) | hybra-style loop (ms) "
        "| NumPy / jaxfb | hybra / jaxfb |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in record["rows"]:
        s = r["best_seconds"]
        lines.append(
            f"| {r['J']} | {r['C_in']} | {r['T']} | {r['n']} | {r['stride']} "
            f"| {1e3 * s['jaxfb']:.3g} | {1e3 * s['numpy_loop']:.3g} | {1e3 * s['hybra_loop']:.3g} "
            f"| {s['numpy_loop'] / s['jaxfb']:.1f}x | {s['hybra_loop'] / s['jaxfb']:.1f}x |"
        )
    return lines


def kernels_table(record: dict) -> list[str]:
    lines = [
        f"`bench_kernels.py` ({_device(record)}): sampling + frame bounds, filterbanks/s",
        "",
        "| J | T | N | auto path | jaxfb | RNG floor | ratio to floor | NumPy loop | vs NumPy |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in record["rows"]:
        lines.append(
            f"| {r['J']} | {r['T']} | {r['N']} | {r['auto']} | {r['auto_fb_per_s']:.3g} "
            f"| {r['floor_fb_per_s']:.3g} | {r['ratio_to_floor']:.2f} | {r['numpy_fb_per_s']:.3g} "
            f"| {r['speedup_vs_numpy']:.0f}x |"
        )
    return lines


def engine_table(record: dict) -> list[str]:
    w, e = record["workload"], record["engine"]
    m = record["machine"]
    return [
        f"`bench_engine.py` ({m['device_kind']}, JAX {record['versions']['jax']}): "
        f"{w['draws']:,} draws at J = {w['J']}, T = {w['T']}, N = {w['N']}, streaming statistics",
        "",
        "| path | us per draw | time over the RNG floor's |",
        "| --- | ---: | ---: |",
        f"| RNG floor | {record['floor']['us_per_draw']:.3g} | 1.00 |",
        f"| bare kernel | {record['kernel']['us_per_draw']:.3g} "
        f"| {record['ratio_kernel_to_floor']:.2f} |",
        f"| engine | {e['us_per_draw']:.3g} | {record['ratio_engine_to_floor']:.2f} |",
        f"| NumPy loop (host CPU) | {record['numpy']['us_per_draw']:.3g} "
        f"| {record['numpy']['us_per_draw'] / record['floor']['us_per_draw']:.0f} |",
        "",
        f"Engine: {e['draws_per_s']:.3g} draws/s, compile {e['compile_s']:.2g} s, "
        f"batch {e['batch_size']}, microbatch {e['microbatch']}; "
        f"{record['speedup_engine_over_numpy']:.0f}x the NumPy loop.",
    ]


TABLES = {
    "bench_gram_gpu.json": gram_table,
    "bench_conv_gpu.json": conv_table,
    "bench_kernels_gpu.json": kernels_table,
    "bench_engine_gpu.json": engine_table,
}


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="where gpu_checks.sh wrote its JSONs")
    folder = Path(parser.parse_args(argv).folder)
    blocks = [
        "\n".join(table(io.load_json(folder / name)))
        for name, table in TABLES.items()
        if (folder / name).exists()
    ]
    text = "\n\n".join(blocks) + "\n"
    io.atomic_write_text(folder / "bench_gpu.md", text)
    print(text)
    return text


if __name__ == "__main__":
    main()
