"""可以直接运行的完整示例，每个示例都是一个模块，用 ``python -m edunn.examples.<名字>`` 启动。

- ``digits``：在 scikit-learn 自带的手写数字数据上训练一个小卷积网络（AdamW + OneCycleLR，
  然后做随机权重平均），支持检查点与断点续训。运行它需要 scikit-learn 与 tqdm。
"""
