"""edunn.examples.digits: the same CNN training run in edunn and torch, checkpoints that resume bit for bit
in a fresh process, and the command line's exit code and message for bad input."""

import copy
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

import edunn
from edunn.examples import digits
from edunn.testing import copy_weights

REPO_ROOT = Path(__file__).resolve().parent.parent
# 短的训练足以比较两个库：两轮 OneCycleLR 加两轮 SWA，覆盖两个阶段、update_bn 与所有状态
SHORT = ["--epochs", "2", "--swa-epochs", "2"]


def run_cli(*args):
    """Run ``python -m edunn.examples.digits`` in a fresh process that imports this checkout's edunn."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run([sys.executable, "-m", "edunn.examples.digits", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)


def assert_identical(actual, expected, path="checkpoint"):
    """Assert two loaded checkpoints are equal; tensors must match in dtype, shape and every bit."""
    if isinstance(expected, dict):
        assert list(actual) == list(expected), path
        for key in expected:
            assert_identical(actual[key], expected[key], f"{path}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected), path
        assert len(actual) == len(expected), path
        for index, (a, e) in enumerate(zip(actual, expected)):
            assert_identical(a, e, f"{path}[{index}]")
    elif isinstance(expected, edunn.Tensor):
        assert isinstance(actual, edunn.Tensor), path
        assert actual.dtype == expected.dtype, path
        assert actual.shape == expected.shape, path
        assert actual.numpy().tobytes() == expected.numpy().tobytes(), f"{path} differs"
    else:
        assert type(actual) is type(expected), path
        assert actual == expected, path


@pytest.fixture(scope="module")
def data():
    return digits.load_digits_data()


# ---------------------------------------------------------------------------
# 数据与批次顺序
# ---------------------------------------------------------------------------


def test_load_data_split_is_stratified(data):
    labels = np.concatenate([data.y_train, data.y_val, data.y_test])
    assert len(labels) == 1797
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (1077, 360, 360)
    overall = np.bincount(labels) / len(labels)
    for part in (data.y_train, data.y_val, data.y_test):
        share = np.bincount(part, minlength=10) / len(part)
        # 分层划分：每一类在每一份里的样本数与按全集比例算出的数相差不到一个
        assert np.all(np.abs(share - overall) * len(part) < 1)


def test_load_data_normalises_with_training_statistics(data):
    assert data.X_train.shape[1:] == (1, 8, 8)
    assert abs(data.X_train.mean()) < 1e-12
    assert abs(data.X_train.std() - 1) < 1e-12
    # 验证集与测试集按训练集的统计量换算，所以它们的均值不是 0，换算回去仍是 0..16 的整数像素
    assert abs(data.X_test.mean()) > 1e-6
    assert abs(data.X_val.mean()) > 1e-6
    restored = data.X_test * data.std + data.mean
    assert np.all(np.isin(np.round(restored, 9), np.arange(17)))


def test_load_data_accepts_flat_rows():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 17, size=(200, 64))
    y = np.arange(200) % 4
    flat = digits.load_data(X, y)
    square = digits.load_data(X.reshape(200, 8, 8), y)
    assert flat.image_shape == (1, 8, 8)
    assert flat.num_classes == 4
    np.testing.assert_array_equal(flat.X_train, square.X_train)
    np.testing.assert_array_equal(flat.y_test, square.y_test)


@pytest.mark.parametrize("X, y, message", [
    (np.zeros((10, 63)), np.arange(10) % 2, "square number of pixels, got 63"),
    (np.zeros((10, 8, 8)), np.arange(9) % 2, "one label per image"),
    (np.zeros((10, 8, 8)), np.linspace(0, 1, 10), "labels must be integers"),
    (np.zeros((10,)), np.arange(10) % 2, "2, 3 or 4 dimensions"),
])
def test_load_data_rejects_bad_arrays(X, y, message):
    with pytest.raises(ValueError, match=message):
        digits.load_data(X, y)


def test_batch_sampler_covers_each_index_once_per_epoch():
    sampler = digits.EpochBatchSampler(100, 32, seed=3)
    first, second = list(sampler), list(sampler)
    assert len(sampler) == 4
    assert [len(batch) for batch in first] == [32, 32, 32, 4]
    assert sorted(i for batch in first for i in batch) == list(range(100))
    assert first != second


def test_batch_sampler_state_restores_next_epoch():
    sampler = digits.EpochBatchSampler(50, 8, seed=1)
    list(sampler)
    state = sampler.state_dict()
    expected = list(sampler)
    restored = digits.EpochBatchSampler(50, 8, seed=99)
    restored.load_state_dict(state)
    assert list(restored) == expected


def test_batch_sampler_gives_both_dataloaders_same_batches():
    X = np.arange(40.0).reshape(20, 2)
    batches = {}
    for lib in (edunn, torch):
        dataset = lib.utils.data.TensorDataset(lib.tensor(X))
        loader = lib.utils.data.DataLoader(dataset, batch_sampler=digits.EpochBatchSampler(20, 6, seed=5))
        batches[lib.__name__] = [np.asarray(batch[0].numpy()) for epoch in range(2) for batch in loader]
    assert len(batches["edunn"]) == 8
    for ours, theirs in zip(batches["edunn"], batches["torch"]):
        np.testing.assert_array_equal(ours, theirs)


# ---------------------------------------------------------------------------
# edunn 与 torch：同一次运行
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def float64_runs(data):
    """Train the same float64 CNN with edunn and with torch; return ``{"edunn": trainer, "torch": trainer}``."""
    config = digits.TrainConfig(epochs=3, swa_epochs=2, dtype="float64", seed=1)
    edunn.manual_seed(1)
    model = digits.build_model(edunn)
    torch_model = digits.build_model(torch)
    copy_weights(model, torch_model)
    # 这么小的矩阵用一个线程更快：多线程的同步开销大于并行的收益
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            return {lib.__name__: digits.Trainer(lib, m, data, config).fit()
                    for lib, m in ((edunn, model), (torch, torch_model))}
    finally:
        torch.set_num_threads(threads)


def test_float64_runs_match_torch_every_epoch(float64_runs):
    ours, theirs = float64_runs["edunn"].history, float64_runs["torch"].history
    assert len(ours["train_loss"]) == 5
    np.testing.assert_allclose(ours["train_loss"], theirs["train_loss"], rtol=1e-8, atol=0)
    np.testing.assert_allclose(ours["val_loss"], theirs["val_loss"], rtol=1e-8, atol=0)
    assert ours["val_accuracy"] == theirs["val_accuracy"]


def test_float64_runs_use_same_learning_rates(float64_runs):
    ours, theirs = float64_runs["edunn"].history["lr"], float64_runs["torch"].history["lr"]
    assert len(ours) == 5 * 17
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    # SWA 阶段每轮只调一次学习率：第 4 轮沿用 OneCycleLR 最后给出的值，第 5 轮是 SWALR
    # 余弦退火两步中的第一步，正好在起点与 swa_lr 的中点
    fourth, fifth = ours[3 * 17:4 * 17], ours[4 * 17:]
    assert len(set(fourth)) == 1
    assert len(set(fifth)) == 1
    assert fifth[0] == pytest.approx((fourth[0] + digits.TrainConfig().swa_lr) / 2, rel=1e-12)


def test_float64_runs_predict_same_test_labels(float64_runs):
    ours, theirs = float64_runs["edunn"], float64_runs["torch"]
    np.testing.assert_array_equal(ours.test_predictions(), theirs.test_predictions())
    np.testing.assert_array_equal(ours.test_predictions(ours.model), theirs.test_predictions(theirs.model))
    assert ours.test_accuracy() > 0.9


def test_float64_runs_end_with_same_averaged_weights(float64_runs):
    ours = float64_runs["edunn"].swa_model.state_dict()
    theirs = float64_runs["torch"].swa_model.state_dict()
    assert list(ours) == list(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key].numpy(), theirs[key].numpy(), rtol=1e-7, atol=1e-10, err_msg=key)
    assert int(ours["n_averaged"].item()) == 2


# ---------------------------------------------------------------------------
# 检查点：中断后在新进程里续训
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uninterrupted")
    assert digits.main([*SHORT, "--checkpoint-dir", str(folder)]) == 0
    return edunn.load(folder / digits.CHECKPOINT_NAME)


@pytest.mark.parametrize("stop_after", [1, 3], ids=["in-onecycle-phase", "in-swa-phase"])
def test_resume_in_fresh_process_is_bit_identical(uninterrupted, tmp_path, stop_after):
    assert digits.main([*SHORT, "--checkpoint-dir", str(tmp_path), "--stop-after", str(stop_after)]) == 0
    path = tmp_path / digits.CHECKPOINT_NAME
    assert edunn.load(path)["epoch"] == stop_after

    result = run_cli("--checkpoint-dir", tmp_path, "--resume")
    assert result.returncode == 0, result.stderr
    assert "test accuracy of the averaged (SWA) model:" in result.stdout

    resumed = edunn.load(path)
    assert resumed["epoch"] == 4
    assert_identical(resumed, uninterrupted)


def test_trainer_load_failure_leaves_trainer_unchanged(data, uninterrupted):
    config = digits.TrainConfig(**uninterrupted["config"])
    edunn.manual_seed(0)
    trainer = digits.Trainer(edunn, digits.build_model(edunn), data, config)
    before = copy.deepcopy(trainer.state_dict())
    # 模型与平均模型先载入成功，优化器随后失败：训练器必须回到载入前的状态
    broken = dict(uninterrupted, optimizer={"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="different number of parameter groups"):
        trainer.load_state_dict(broken)
    assert_identical(trainer.state_dict(), before)


# ---------------------------------------------------------------------------
# 命令行：坏输入与冒烟测试
# ---------------------------------------------------------------------------


def assert_usage_error(capsys, argv, *fragments):
    assert digits.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err


def test_cli_resume_without_checkpoint(capsys, tmp_path):
    folder = tmp_path / "empty"
    assert_usage_error(capsys, ["--checkpoint-dir", str(folder), "--resume"], "not found", str(folder))
    assert not folder.exists()


def test_cli_resume_from_corrupt_checkpoint(capsys, tmp_path, uninterrupted):
    path = tmp_path / digits.CHECKPOINT_NAME
    edunn.save(uninterrupted, path)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    assert_usage_error(capsys, ["--checkpoint-dir", str(tmp_path), "--resume"], "corrupted", str(path))
    assert path.read_bytes() == content


def test_cli_resume_from_truncated_checkpoint(capsys, tmp_path):
    path = tmp_path / digits.CHECKPOINT_NAME
    path.write_bytes(b"EDUNNCKP\x01")
    assert_usage_error(capsys, ["--checkpoint-dir", str(tmp_path), "--resume"], "cannot resume from")
    assert path.read_bytes() == b"EDUNNCKP\x01"


def test_cli_resume_from_other_checkpoint_kind(capsys, tmp_path):
    path = tmp_path / digits.CHECKPOINT_NAME
    edunn.save({"weight": edunn.zeros(3)}, path)
    content = path.read_bytes()
    assert_usage_error(capsys, ["--checkpoint-dir", str(tmp_path), "--resume"],
                       "not a digits training checkpoint", "missing keys")
    assert path.read_bytes() == content


def test_cli_resume_from_different_model(capsys, tmp_path, data):
    config = digits.TrainConfig(epochs=2, swa_epochs=2)
    trainer = digits.Trainer(edunn, digits.build_model(edunn, channels=(8, 16)), data, config)
    path = tmp_path / digits.CHECKPOINT_NAME
    trainer.save_checkpoint(path)
    content = path.read_bytes()
    assert_usage_error(capsys, ["--checkpoint-dir", str(tmp_path), "--resume"],
                       "size mismatch for 0.weight", "[8, 1, 3, 3]")
    assert path.read_bytes() == content


def test_cli_resume_with_conflicting_options(capsys, tmp_path, uninterrupted):
    path = tmp_path / digits.CHECKPOINT_NAME
    edunn.save(uninterrupted, path)
    content = path.read_bytes()
    assert_usage_error(capsys, ["--checkpoint-dir", str(tmp_path), "--resume", "--epochs", "5", "--dtype", "float64"],
                       "--epochs 5 (checkpoint has 2)", "--dtype float64 (checkpoint has float32)")
    assert path.read_bytes() == content


def test_cli_new_run_keeps_existing_checkpoint(capsys, tmp_path, uninterrupted):
    path = tmp_path / digits.CHECKPOINT_NAME
    edunn.save(uninterrupted, path)
    content = path.read_bytes()
    assert_usage_error(capsys, [*SHORT, "--checkpoint-dir", str(tmp_path)], "already exists", "--resume")
    assert path.read_bytes() == content


@pytest.mark.parametrize("device", ["tpu", "cuda:x"])
def test_cli_rejects_invalid_device(capsys, device):
    assert_usage_error(capsys, ["--device", device], f"invalid device '{device}'")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="cupy is installed")
def test_cli_rejects_cuda_without_cupy(capsys):
    assert_usage_error(capsys, ["--device", "cuda"], "invalid device 'cuda'", "cupy")


def test_cli_rejects_invalid_epochs(capsys):
    assert_usage_error(capsys, ["--epochs", "0"], "epochs must be at least 1, got 0")


def test_cli_resume_needs_checkpoint_dir(capsys):
    with pytest.raises(SystemExit) as exit_info:
        digits.main(["--resume"])
    assert exit_info.value.code == 2
    assert "--resume needs --checkpoint-dir" in capsys.readouterr().err


def test_cli_process_exits_2_on_bad_device():
    result = run_cli("--device", "tpu")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: invalid device 'tpu'")
    assert result.stderr.count("\n") == 1


def test_cli_smoke_run_prints_progress_and_accuracy():
    result = run_cli("--epochs", "1", "--swa-epochs", "1")
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(r"test accuracy of the averaged \(SWA\) model: (\d\.\d{4})\n", result.stdout)
    assert match, result.stdout
    assert 0.5 < float(match.group(1)) <= 1.0
    assert "edunn float32: 100%" in result.stderr
    assert "2/2" in result.stderr
