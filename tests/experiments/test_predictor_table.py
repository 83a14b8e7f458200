"""experiments/predictor_table.py --calibrate: the grid search recovers planted constants."""

from _support import load_script

from jaxfb import io, theory


def test_calibration_recovers_planted_constants(tmp_path):
    # "Monte Carlo" means that are the model's own at constants off the module's defaults, with
    # 1% standard errors: the profile over the exponent and the block fits must find them
    script = load_script("experiments/predictor_table.py")
    planted = {
        "min_edge_width": 0.0,
        "min_edge_width_rate": 2.4,
        "edge_width": 1.43,
        "edge_width_rate": 0.3,
        "kappa_coupling": 0.125,
        "edge_interpolation": 1.0,
    }
    grid = {
        "edge_interpolation": [1.0, 2.0],
        "min_edge_width_rate": [2.4, 2.6],
        "edge_width": [1.23, 1.43],
        "edge_width_rate": [0.3],
        "kappa_coupling": [0.125, 0.25],
    }
    records = []
    for J, T, N in ((5, 4, 16), (8, 8, 32), (16, 16, 64), (5, 8, 1024)):
        law = theory.frame_bound_distribution(J, N, length=T, **planted)
        A, B, kappa = law.mean_lower(), law.mean_upper(), law.mean_kappa()
        records.append(
            {"set": "calibration", "J": J, "T": T, "N": N, "A": A, "A_se": 0.01 * A}
            | {"B": B, "B_se": 0.01 * B, "kappa": kappa, "kappa_se": 0.01 * kappa}
        )
    records.append({**records[0], "set": "held-out", "A": 0.0})  # not in the search
    result = script.calibrate(records, tmp_path, grid=grid, workers=1)
    assert result["best"] == planted
    assert result["points"] == 4
    best = min(result["profile"], key=lambda e: e["chi2"])
    assert best["edge_interpolation"] == 1.0 and best["chi2"] < 1e-12
    assert io.load_json(tmp_path / "predictor_calibration.json")["best"] == planted
