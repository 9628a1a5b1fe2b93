# Makes the NumPy fixtures of GearboxTrainingTests/NumPyFileTests (run: python3 make.py, NumPy 2.x).
# stored.npz: np.savez (members stored), x float32 (3, 2, 2) = arange / 4, y int64 [0, 2, 1].
# deflated.npz: np.savez_compressed (members deflated), x uint8 (4, 1, 3, 3) = arange % 256, y uint8 [3, 0, 1, 2].
# single.npy: np.save of int64 [[1, -2, 3], [4, 5, -6]].
import numpy as np

np.savez("stored.npz", x=(np.arange(12, dtype=np.float32) / 4).reshape(3, 2, 2), y=np.array([0, 2, 1], dtype=np.int64))
np.savez_compressed("deflated.npz", x=(np.arange(36) % 256).astype(np.uint8).reshape(4, 1, 3, 3), y=np.array([3, 0, 1, 2], dtype=np.uint8))
np.save("single.npy", np.array([[1, -2, 3], [4, 5, -6]], dtype=np.int64))
