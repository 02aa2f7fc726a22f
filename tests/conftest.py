"""pytest 的公共设置：被测设备、cuda 标记的跳过规则、hypothesis 的确定性配置。"""

import os

import pytest
from hypothesis import HealthCheck, settings

import edunn

# derandomize 让每次运行都生成同一批样例，CI 的结果因此可复现；
# 需要更广的搜索时，用 HYPOTHESIS_PROFILE=explore 运行。
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=30,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("explore", deadline=None, max_examples=500,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config, items):
    if edunn.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU and cupy (edunn.cuda.is_available() is False)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def device():
    """被测设备，来自环境变量 EDUNN_DEVICE（默认 cpu）；要求 cuda 却没有 GPU 时跳过。"""
    dev = edunn.device(os.environ.get("EDUNN_DEVICE", "cpu"))
    if dev.type == "cuda" and not edunn.cuda.is_available():
        pytest.skip("EDUNN_DEVICE=cuda but edunn.cuda.is_available() is False")
    return dev
