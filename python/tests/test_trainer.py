"""Training on arrays and CSV files, the progress callback, the trainer's config fields,
checkpoints and exports."""
import os
import signal
import subprocess
import threading

import numpy as np
import pytest

import grugan
from conftest import small_trainer


def test_train_on_an_array_with_a_callback(sines):
    seen = []
    with grugan.Dataset.from_array(sines, seed=2) as data, \
            small_trainer(data, total_steps=4, select_every=-1,
                          callback=lambda p: seen.append((p.step, p.finished))) as tr:
        p = tr.run()
        assert p.step == 4 and p.finished == grugan.FINISHED_STEPS
        assert seen == [(1, 0), (2, 0), (3, 0), (4, grugan.FINISHED_STEPS)]
        assert np.isfinite(p.d_loss) and 0 < p.d_real < 1
        assert tr.generator.sample(3, 12).shape == (3, 12, 3)
        assert tr.run().step == 4  # finished: returns at once


def test_the_callback_stops_training(sines):
    with grugan.Dataset.from_array(sines) as data, small_trainer(data, total_steps=50) as tr:
        tr.callback = lambda p: p.step >= 3
        p = tr.run()
        assert p.step == 3 and p.finished == grugan.FINISHED_NO
        assert tr.step() is False
        tr.callback = None
        assert tr.step() is True and tr.progress.step == 5


class Boom(Exception):
    pass


@pytest.mark.parametrize("exception", [Boom, KeyboardInterrupt])
def test_an_exception_in_the_callback_is_raised_after_the_step(sines, exception):
    def callback(p):
        if p.step == 2:
            raise exception("from the callback")

    with grugan.Dataset.from_array(sines) as data, \
            small_trainer(data, total_steps=5, callback=callback) as tr:
        with pytest.raises(exception, match="from the callback"):
            tr.run()
        assert tr.progress.step == 2  # stopped after the step that raised
        assert tr.run().step == 5     # and the trainer goes on


def test_train_on_a_csv_file_with_model_selection(series_csv):
    with grugan.Dataset.from_csv(series_csv, 10, columns=[1, 2], holdout=0.2, seed=1) as data:
        n, steps, features = data.shape
        assert (steps, features) == (10, 2) and data.split == (n - n // 5, n // 5)
        with small_trainer(data, total_steps=4, select_every=2, patience=-1) as tr:
            p = tr.run()
            assert p.evaluations == 2 and 0 <= p.best_quality <= 0.5
            assert p.best_step in (2, 4)
            best = tr.best_params()
            assert list(best) == tr.generator.params.names()
            tr.restore_best()
            for name, value in best.items():
                np.testing.assert_array_equal(tr.generator.params[name], value)
            assert 0 <= tr.estimate() <= 0.5
            x = tr.generator.sample(4, 10, seed=1)
            lo, hi = np.loadtxt(series_csv, delimiter=",", skiprows=1, usecols=[1, 2]).min(0), \
                np.loadtxt(series_csv, delimiter=",", skiprows=1, usecols=[1, 2]).max(0)
            assert np.all(x >= lo - 1e-3) and np.all(x <= hi + 1e-3)  # data units


def test_a_bad_csv_row_raises_with_its_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,x\n")
    with pytest.raises(grugan.FormatError, match="line 3"):
        grugan.Dataset.from_csv(bad, 1)


def test_time_budget_and_early_stopping(sines):
    with grugan.Dataset.from_array(sines) as data:
        with small_trainer(data, total_steps=10**6, max_seconds=1e-9, select_every=-1) as tr:
            p = tr.run()
            assert p.finished == grugan.FINISHED_TIME and p.step == 1
    noise = np.random.default_rng(7).random((10, 2, 3), dtype=np.float32)
    with grugan.Dataset.from_array(noise) as data:  # cheap estimates that soon stall
        with small_trainer(data, total_steps=10**6, select_every=1, patience=1,
                           batch_size=8) as tr:
            p = tr.run()
            assert p.finished == grugan.FINISHED_PATIENCE
            # an equal estimate takes over as the best without resetting the patience
            assert p.best_step <= p.step and p.evaluations == p.step
        with small_trainer(data, total_steps=1, select_every=-1, batch_size=8) as tr:
            tr.run()
            with pytest.raises(grugan.StateError):
                tr.estimate()


def test_instance_noise_changes_training(sines):
    def trained(noise):
        with grugan.Dataset.from_array(sines) as data, \
                small_trainer(data, total_steps=3, select_every=-1,
                              instance_noise=noise) as tr:
            tr.run()
            return tr.generator.params["head.bias"]
    np.testing.assert_array_equal(trained(0.1), trained(0.1))
    assert not np.array_equal(trained(0.1), trained(-1))


def test_a_resumed_checkpoint_continues_exactly(sines, tmp_path):
    def trainer(data):
        return small_trainer(data, total_steps=6, select_every=2, patience=-1)

    with grugan.Dataset.from_array(sines) as data, trainer(data) as tr:
        tr.callback = lambda p: p.step == 3
        tr.run()
        tr.save(tmp_path / "ck.safetensors")
        state = tr.to_bytes()
        tr.callback = None
        tr.run()
        straight = tr.generator.params.state_dict()
        tr.export(tmp_path / "best.safetensors")
        best = tr.best_params()
    for resume in ("file", "bytes"):
        with grugan.Dataset.from_array(sines) as data, trainer(data) as tr:
            if resume == "file":
                tr.load(tmp_path / "ck.safetensors")
            else:
                tr.load_bytes(state)
            assert tr.progress.step == 3
            assert tr.run().step == 6
            for name, value in tr.generator.params.state_dict().items():
                np.testing.assert_array_equal(value, straight[name])
    with grugan.Generator.load(tmp_path / "best.safetensors") as g:
        for name, value in best.items():
            np.testing.assert_array_equal(g.params[name], value)
    with grugan.Dataset.from_array(sines[:, :, :2]) as data, trainer(data) as tr:
        with pytest.raises(grugan.Error, match=".+"):
            tr.load(tmp_path / "ck.safetensors")


def test_closing_a_borrowed_handle_closes_its_borrowers(sines):
    data = grugan.Dataset.from_array(sines)
    tr = small_trainer(data, total_steps=2)
    gen = tr.generator
    data.close()
    assert tr.closed and gen.closed  # the trainer owned the models it made
    with pytest.raises(ValueError, match="Trainer is closed"):
        tr.run()


def test_the_same_generator_as_train_csv(series_csv, root, tmp_path):
    """The package's for_dataset makes the models and settings train_csv makes, so both
    train the same generator (a check of every struct field the two fill)."""
    tool = os.path.join(root, "build", "examples", "train_csv")
    if not os.path.exists(tool):
        pytest.skip("build/examples/train_csv not built (make examples)")
    subprocess.run([tool, str(series_csv), "--columns", "1,2", "--batch", "16", "--hidden",
                    "8", "--layers", "1", "--steps", "2", "--select-every", "2",
                    "--checkpoint", str(tmp_path / "ck.safetensors"), "--curve",
                    str(tmp_path / "curve")], check=True, capture_output=True)
    with grugan.Dataset.from_csv(series_csv, 24, columns=[1, 2], seed=1) as data, \
            grugan.Trainer.for_dataset(data, hidden_size=8, num_layers=1, batch_size=16,
                                       total_steps=2, select_every=2, max_seconds=300) as tr, \
            grugan.Generator.load(tmp_path / "ck.safetensors") as theirs:
        tr.run()
        tr.restore_best()
        np.testing.assert_array_equal(tr.generator.sample(5, 30, seed=3),
                                      theirs.sample(5, 30, seed=3))


def test_ctrl_c_stops_training_after_a_step(sines):
    """SIGINT while the library trains (no callback set) raises KeyboardInterrupt once the
    step is done, and leaves Python's handler in place."""
    with grugan.Dataset.from_array(sines) as data, \
            small_trainer(data, total_steps=10**7, select_every=-1) as tr:
        timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            tr.run()
        timer.join()
        step = tr.progress.step
        assert 0 < step < 10**7
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert tr.step() and tr.progress.step == step + 1
