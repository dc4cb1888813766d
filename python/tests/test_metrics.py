"""TimeGAN's scores, the statistics and writing sequences, from numpy arrays."""
import numpy as np
import pytest

import grugan


def test_scores_of_real_against_noise(sines):
    rng = np.random.default_rng(1)
    noise = rng.random(sines.shape, dtype=np.float32)
    quick = dict(repetitions=2, iterations=30, batch_size=16)
    mean, std = grugan.discriminative_score(sines, noise, **quick)
    assert 0 <= mean <= 0.5 and std >= 0
    assert (mean, std) == grugan.discriminative_score(sines, noise, threads=2, **quick)
    mean, std = grugan.predictive_score(sines, noise, **quick)
    assert mean > 0 and std >= 0
    stats = grugan.statistics_error(sines, sines)
    assert stats == {"mean_error": 0.0, "std_error": 0.0, "acf_error": 0.0}
    assert grugan.statistics_error(sines, noise)["std_error"] > 0


def test_score_failures(sines):
    with pytest.raises(grugan.RangeError):
        grugan.discriminative_score(sines * 3, sines, repetitions=1, iterations=1)
    with pytest.raises(ValueError, match="differ"):
        grugan.discriminative_score(sines, sines[:, :5])
    with pytest.raises(grugan.SizeError):
        grugan.predictive_score(sines[:, :, :1], sines[:, :, :1], repetitions=1)


def test_generator_quality_estimate(sines):
    with grugan.Generator.create(3, 3, hidden_size=4, num_layers=1) as g:
        q = g.quality(sines, n_test=10, repetitions=1, iterations=20)
        assert 0 <= q <= 0.5
        assert q == g.quality(sines, n_test=10, repetitions=1, iterations=20)


def test_write_sequences(sines, tmp_path):
    grugan.write_sequences(tmp_path / "x.npy", sines)
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), sines)
    grugan.write_sequences(tmp_path / "x.csv", sines[:2], format="csv")
    rows = np.loadtxt(tmp_path / "x.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(rows[:, 2:].astype(np.float32), sines[:2].reshape(-1, 3))
    with pytest.raises(ValueError, match="format"):
        grugan.write_sequences(tmp_path / "x.txt", sines, format="txt")
    with pytest.raises(grugan.FileIOError):
        grugan.write_sequences(tmp_path / "no" / "x.npy", sines)
