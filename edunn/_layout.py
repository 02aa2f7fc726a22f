"""张量的内存布局（layout）：稠密的 ``strided`` 与稀疏的 ``sparse_coo``，名字与 torch 相同。"""


class layout:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"edunn.{self.name}"

    def __reduce__(self):
        return self.name


strided = layout("strided")
sparse_coo = layout("sparse_coo")
