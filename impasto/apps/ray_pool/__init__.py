"""A pool of Ray actors, each holding one Stylizer, that runs jobs sent as bytes.

Any app can feed it: a batch sends (photo, style) pairs, a video its shots. Images
and the weights travel as bytes and results come back as PNG bytes, so a worker needs
impasto installed and nothing else: no shared disk. Ray itself is imported only when a
pool starts.
"""

from impasto.apps.ray_pool.pool import StylizerPool
from impasto.apps.ray_pool.worker import PoolJob, PoolResult, Task, decode, encode_png

__all__ = ["PoolJob", "PoolResult", "StylizerPool", "Task", "decode", "encode_png"]
