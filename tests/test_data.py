"""edunn.utils.data 与 torch.utils.data 的对照：批次的划分、合并规则与错误。

edunn 与 torch 的随机流不同，打乱的具体顺序无法对照；这里对照的是不依赖随机流的部分，
以及打乱结果的性质（是排列、同种子可复现）。
"""

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import edunn
import edunn.utils.data as edata
from edunn.testing import assert_close, from_torch


def _datasets(n=10):
    x = torch.arange(n * 3, dtype=torch.float64).reshape(n, 3)
    y = torch.arange(n)
    return edata.TensorDataset(from_torch(x), from_torch(y)), tdata.TensorDataset(x, y)


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 11])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_batches_match_torch(batch_size, drop_last):
    ours, theirs = _datasets()
    loader = edata.DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    reference = tdata.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(reference)
    batches = list(loader)
    expected = list(reference)
    assert len(batches) == len(expected)
    for (x, y), (tx, ty) in zip(batches, expected):
        assert_close(x, tx)
        assert_close(y, ty)


def test_default_collate_structures_match_torch():
    Point = collections.namedtuple("Point", "a b")
    samples = [
        {"x": np.array([1.0, 2.0]), "label": i, "weight": 0.5 * i, "name": f"s{i}", "p": Point(i, [i, i + 1])}
        for i in range(4)
    ]
    ours = edata.default_collate(samples)
    theirs = tdata.default_collate(samples)
    assert set(ours) == set(theirs)
    assert_close(ours["x"], theirs["x"])
    assert_close(ours["label"], theirs["label"])
    assert_close(ours["weight"], theirs["weight"])
    assert ours["name"] == theirs["name"]
    assert type(ours["p"]).__name__ == "Point"
    assert_close(ours["p"].a, theirs["p"].a)
    assert_close(ours["p"].b[1], theirs["p"].b[1])


def test_shuffle_is_a_reproducible_permutation():
    ours, _ = _datasets(20)
    first = [int(i) for _, y in edata.DataLoader(ours, batch_size=5, shuffle=True,
                                                  generator=edunn.Generator().manual_seed(3)) for i in y.tolist()]
    second = [int(i) for _, y in edata.DataLoader(ours, batch_size=5, shuffle=True,
                                                   generator=edunn.Generator().manual_seed(3)) for i in y.tolist()]
    assert sorted(first) == list(range(20))
    assert first == second
    assert first != list(range(20))


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.25, 0.25, 0.5], [0.33, 0.33, 0.34]])
def test_random_split_lengths_match_torch(lengths):
    ours = edata.random_split(range(10), lengths, generator=edunn.Generator().manual_seed(0))
    theirs = tdata.random_split(range(10), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(10))


def test_random_split_rejects_wrong_total_like_torch():
    with pytest.raises(ValueError) as theirs:
        tdata.random_split(range(10), [3, 3])
    with pytest.raises(ValueError) as ours:
        edata.random_split(range(10), [3, 3])
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("kwargs", [
    {"batch_size": 0},
    {"batch_size": 2, "shuffle": True, "sampler": [0, 1]},
    {"batch_sampler": [[0, 1]], "batch_size": 2},
    {"batch_size": None, "drop_last": True},
])
def test_dataloader_bad_options_match_torch(kwargs):
    ours, theirs = _datasets()
    with pytest.raises(ValueError) as expected:
        tdata.DataLoader(theirs, **kwargs)
    with pytest.raises(ValueError) as actual:
        edata.DataLoader(ours, **kwargs)
    assert str(actual.value) == str(expected.value)


def test_subset_and_concat_index_like_torch():
    ours, theirs = _datasets(6)
    ours_subset = edata.Subset(ours, [4, 0, 2])
    theirs_subset = tdata.Subset(theirs, [4, 0, 2])
    for i in range(3):
        assert_close(ours_subset[i][0], theirs_subset[i][0])
    ours_concat = ours + ours_subset
    theirs_concat = theirs + theirs_subset
    assert len(ours_concat) == len(theirs_concat)
    for i in (-1, 0, 5, 6, 8):
        assert_close(ours_concat[i][1], theirs_concat[i][1])


def test_tensor_dataset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"\[3, 2\]"):
        edata.TensorDataset(edunn.zeros(3, 1), edunn.zeros(2))
