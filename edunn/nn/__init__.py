"""``edunn.nn``：神经网络的构件。"""

from . import functional, init, utils
