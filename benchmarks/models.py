"""The MLP and the CNN that the benchmarks time, written once for edunn and torch alike.

``lib`` is the ``edunn`` or the ``torch`` module: both have ``lib.nn`` with the same layer names, so one
function builds the same model in either library.
"""

import numpy as np

MLP_BATCH = 256
MLP_SIZES = (784, 512, 512, 10)
CNN_BATCH = 64
CNN_IMAGE = (1, 28, 28)
CLASSES = 10


def mlp(lib):
    """784-512-512-10 with ReLU between the layers."""
    nn = lib.nn
    first, hidden, second, out = MLP_SIZES
    return nn.Sequential(nn.Linear(first, hidden), nn.ReLU(), nn.Linear(hidden, second), nn.ReLU(),
                         nn.Linear(second, out))


def cnn(lib):
    """Two 5x5 convolutions, each followed by ReLU and 2x2 max pooling, then a linear classifier."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # (N, 16, 12, 12)
        nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),  # (N, 32, 4, 4)
        nn.Flatten(), nn.Linear(32 * 4 * 4, CLASSES),
    )


def batch(model_name, seed=0):
    """Return (inputs, integer targets) as float32/int64 numpy arrays for one training step."""
    rng = np.random.default_rng(seed)
    if model_name == "mlp":
        shape = (MLP_BATCH, MLP_SIZES[0])
    else:
        shape = (CNN_BATCH, *CNN_IMAGE)
    inputs = rng.standard_normal(shape).astype(np.float32)
    targets = rng.integers(0, CLASSES, size=shape[0]).astype(np.int64)
    return inputs, targets


def train_step(lib, model, optimizer, inputs, targets):
    """Run one forward pass, cross-entropy loss, backward pass and optimizer step; return the loss tensor."""
    optimizer.zero_grad()
    loss = lib.nn.functional.cross_entropy(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss
