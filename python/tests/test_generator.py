"""Generators, parameters by PyTorch name, exports, arrays without copies, errors."""
import numpy as np
import pytest

import grugan
from grugan._handle import floats_in


def test_arrays_pass_without_copies_when_they_can():
    a = np.zeros((2, 3, 4), np.float32)
    assert floats_in(a, "a") is a
    assert floats_in(a[:, :, ::2], "a") is not a          # strided: one contiguous copy
    assert floats_in(a.astype(np.float64), "a").dtype == np.float32


def test_sample_is_deterministic_and_fills_out_in_place():
    with grugan.Generator.create(3, 2, hidden_size=8, num_layers=2, seed=5) as g:
        a = g.sample(4, 30, seed=9)
        out = np.full((4, 30, 2), np.nan, np.float32)
        assert g.sample(4, 30, seed=9, out=out) is out
        np.testing.assert_array_equal(a, out)
        assert not np.array_equal(a, g.sample(4, 30, seed=10))
        with pytest.raises(ValueError, match="shape"):
            g.sample(4, 30, out=np.empty((4, 30, 3), np.float32))
        with pytest.raises(ValueError, match="float32"):
            g.sample(4, 30, out=np.empty((4, 30, 2)))


def test_forward_on_the_drawn_noise_gives_the_samples():
    with grugan.Generator.create(3, 2, hidden_size=8, seed=5) as g:
        z = g.noise(5, 7, seed=3)
        assert z.shape == (5, 7, 3)
        np.testing.assert_array_equal(g.noise(2, 7, seed=3, first=3), z[3:])
        np.testing.assert_allclose(g.forward(z), g.sample(5, 7, seed=3), rtol=0, atol=1e-6)


def test_params_by_pytorch_name():
    with grugan.Generator.create(3, 2, hidden_size=4, num_layers=2, seed=1) as g:
        p = g.params
        assert p.names()[:4] == ["gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0",
                                 "gru.bias_hh_l0"]
        d = p.state_dict()
        assert d["gru.weight_ih_l0"].shape == (12, 3)
        assert d["gru.weight_hh_l1"].shape == (12, 4)
        assert d["head.weight"].shape == (2, 4) and d["head.bias"].shape == (2,)
        assert sum(v.size for v in d.values()) == p.num_scalars
        p["head.bias"] = np.array([0.5, -0.5])
        np.testing.assert_array_equal(p["head.bias"], [0.5, -0.5])
        with pytest.raises(ValueError, match="shape"):
            p["head.bias"] = np.zeros(3)
        with pytest.raises(grugan.NonFiniteError):
            p["head.bias"] = np.array([np.nan, 0])
        with pytest.raises(KeyError):
            p["no.such"]
        assert "head.weight" in p and "no.such" not in p
        with grugan.Generator.create(3, 2, hidden_size=4, num_layers=2, seed=2) as h:
            h.params.load_state_dict(d)
            h.params["head.bias"] = np.array([0.5, -0.5])
            np.testing.assert_array_equal(h.sample(3, 6, seed=1), g.sample(3, 6, seed=1))


def test_export_roundtrip_with_scaler(tmp_path):
    with grugan.Generator.create(2, 2, hidden_size=4, num_layers=1, seed=3) as g:
        assert g.scaler is None
        g.set_scaler([1, 10], [0.5, 0.25])
        offset, scale = g.scaler
        np.testing.assert_array_equal(offset, [1, 10])
        x = g.sample(3, 5, seed=2)
        np.testing.assert_allclose(x, g.sample(3, 5, seed=2, scaled=True) / scale + offset,
                                   rtol=1e-6)
        g.save(tmp_path / "gen.safetensors")
        with grugan.Generator.load(tmp_path / "gen.safetensors") as h:
            assert h.config == g.config
            np.testing.assert_array_equal(h.sample(3, 5, seed=2), x)
        with grugan.Generator.from_bytes(g.to_bytes()) as h:
            np.testing.assert_array_equal(h.sample(3, 5, seed=2), x)


def test_failures_raise_the_class_of_their_status_with_the_message(tmp_path):
    with pytest.raises(grugan.FileIOError, match="cannot open") as e:
        grugan.Generator.load(tmp_path / "missing.safetensors")
    assert e.value.code == grugan.E_IO and "missing.safetensors" in e.value.message
    with pytest.raises(grugan.FormatError):
        grugan.Generator.from_bytes(b"not a checkpoint")
    with pytest.raises(grugan.Error) as e:
        grugan.Generator.create(0, 2)
    assert e.value.code < 0 and e.value.message
    with grugan.Generator.create(2, 2) as g:
        with pytest.raises(grugan.RangeError):
            g.threads = 0
        g.threads = 2
        assert g.threads == 2
    with pytest.raises(TypeError, match="unknown setting 'hiden_size'"):
        grugan.Generator.create(2, 2, hiden_size=4)
    with pytest.raises(ValueError, match="outside"):
        grugan.Generator.create(2, 2, hidden_size=-1)
    with pytest.raises(ValueError, match="expected normal, uniform"):
        grugan.Generator.create(2, 2, noise_kind="gaussian")


def test_closed_handles_refuse_use():
    g = grugan.Generator.create(2, 2)
    g.close()
    g.close()
    assert g.closed
    with pytest.raises(ValueError, match="Generator is closed"):
        g.sample(1, 1)
