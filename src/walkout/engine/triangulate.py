"""Multi-camera geometry for the people tracker: batched pixel rays and ray triangulation.

Everything works on many keypoints of many cameras at once, so that one frame window of a
40-camera store costs a handful of numpy calls rather than one call per detection.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from walkout.domain.geometry import camera_matrices, undistort_normalized
from walkout.domain.store import Camera

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


class CameraBank:
    """The cameras of a store as stacked arrays: world rays for keypoints of any cameras at once.

    Undistortion reads a per-camera grid of :func:`undistort_normalized` values (``cells``
    cells along the longer image side) with bilinear interpolation; its error is far below a
    pixel for ordinary lenses. Points beyond the image extrapolate linearly from the border.
    """

    def __init__(self, cameras: Sequence[Camera], cells: int = 128) -> None:
        self.ids: tuple[str, ...] = tuple(c.id for c in cameras)
        self.index: dict[str, int] = {cid: i for i, cid in enumerate(self.ids)}
        n = len(cameras)
        self.rotations = np.zeros((n, 3, 3))
        self.centres = np.zeros((n, 3))
        self.steps = np.ones(n)
        self.last_cell = np.zeros((n, 2), dtype=np.intp)  # highest cell index along u and v
        nodes = [
            (int(np.ceil(c.width / s)) + 1, int(np.ceil(c.height / s)) + 1, s)
            for c in cameras
            for s in [max(c.width, c.height) / cells]
        ]
        nu = max((a for a, _, _ in nodes), default=2)
        nv = max((b for _, b, _ in nodes), default=2)
        self.grid = np.zeros((n, nv, nu, 2))
        for i, cam in enumerate(cameras):
            _, r, _, _ = camera_matrices(cam)
            cu, cv, step = nodes[i]
            self.rotations[i] = r
            self.centres[i] = cam.centre
            self.steps[i] = step
            self.last_cell[i] = (cu - 2, cv - 2)
            uu, vv = np.meshgrid(np.arange(nu) * step, np.arange(nv) * step)
            self.grid[i] = undistort_normalized(cam, np.stack([uu, vv], axis=-1))

    def __len__(self) -> int:
        return len(self.ids)

    def normalized(self, cam: IntArray, uv: FloatArray) -> FloatArray:
        """Undistorted normalised coordinates ``(N, K, 2)`` of pixels ``uv (N, K, 2)``;
        ``cam (N,)`` holds each row's camera index."""
        f = uv / self.steps[cam][:, None, None]
        # Truncation is the floor for f >= 0, and every f < 0 is clipped to cell 0 anyway.
        i = np.minimum(np.maximum(f.astype(np.intp), 0), self.last_cell[cam][:, None, :])
        a = f - i
        nv, nu = self.grid.shape[1:3]
        base = (cam[:, None] * nv + i[..., 1]) * nu + i[..., 0]
        corners = self.grid.reshape(-1, 2).take(base[..., None] + (0, 1, nu, nu + 1), axis=0)
        au, av = a[..., 0], a[..., 1]
        w = np.stack([(1 - au) * (1 - av), au * (1 - av), (1 - au) * av, au * av], axis=-1)
        out: FloatArray = np.matmul(w[..., None, :], corners)[..., 0, :]
        return out

    def rays(self, cam: IntArray, uv: FloatArray) -> FloatArray:
        """Unit world directions ``(N, K, 3)`` through pixels ``uv (N, K, 2)``; the rays start
        at ``self.centres[cam]``."""
        xy = self.normalized(cam, uv)
        d_cam = np.concatenate([xy, np.ones((*xy.shape[:-1], 1))], axis=-1)
        dirs: FloatArray = np.matmul(d_cam, self.rotations[cam])  # Rᵀ·d for row vectors
        dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
        return dirs


def ray_distances(points: FloatArray, origins: FloatArray, dirs: FloatArray) -> FloatArray:
    """Distances ``(...)`` from points to rays (unit ``dirs``), all broadcast to ``(..., 3)``."""
    w = points - origins
    along = (w * dirs).sum(-1)
    d2 = (w * w).sum(-1) - along * along
    out: FloatArray = np.sqrt(np.maximum(d2, 0.0))
    return out


def ray_gaps(
    o1: FloatArray, d1: FloatArray, o2: FloatArray, d2: FloatArray
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Where two rays (unit directions, all broadcast to ``(..., 3)``) come closest: the gap
    between them ``(...)``, its midpoint ``(..., 3)``, and whether that lies ahead on both rays
    (nearly parallel rays never qualify)."""
    w = o1 - o2
    b = (d1 * d2).sum(-1)
    d, e = (d1 * w).sum(-1), (d2 * w).sum(-1)
    den = 1.0 - b * b
    ok = den > 1e-6
    den = np.where(ok, den, 1.0)
    s1, s2 = (b * e - d) / den, (e - b * d) / den
    p1, p2 = o1 + s1[..., None] * d1, o2 + s2[..., None] * d2
    gap: FloatArray = np.linalg.norm(p1 - p2, axis=-1)
    mid: FloatArray = 0.5 * (p1 + p2)
    return gap, mid, ok & (s1 > 0) & (s2 > 0)


def triangulate(
    origins: FloatArray,
    dirs: FloatArray,
    weights: FloatArray,
    group: IntArray,
    prior: FloatArray,
    *,
    reg: tuple[float, float, float] = (1e-4, 1e-4, 1e-2),
    outlier_m: float = 0.15,
    rounds: int = 1,
) -> tuple[FloatArray, NDArray[np.int64]]:
    """Weighted least-squares intersection of keypoint rays, grouped by person.

    ``origins (N, K, 3)``, unit ``dirs (N, K, 3)`` and ``weights (N, K)`` (0 = no ray) are the
    keypoint rays of N detections; ``group (N,)`` says which of G people each belongs to. Each
    point is pulled towards ``prior (G, K, 3)`` with weights ``reg`` per axis (x, y, z), which
    keeps every system solvable; the stronger pull on height puts a single-ray point where the
    ray crosses the prior's height (body keypoints keep their height, while depth along one
    ray is unknown). Then
    ``rounds`` times, each point's worst ray is dropped if it misses by more than
    ``outlier_m``. Returns the points ``(G, K, 3)`` and each one's number of inlier rays.
    """
    n_groups, k = prior.shape[:2]
    member = (group[None, :] == np.arange(n_groups)[:, None]).astype(float)  # (G, N)
    proj = np.eye(3) - dirs[..., :, None] * dirs[..., None, :]  # (N, K, 3, 3)
    proj_c = origins - dirs * (dirs * origins).sum(-1, keepdims=True)
    w = np.where(weights > 0, weights, 0.0)
    points = prior
    for step in range(rounds + 1):
        a = (member @ (w[..., None, None] * proj).reshape(len(w), -1)).reshape(n_groups, k, 3, 3)
        b = (member @ (w[..., None] * proj_c).reshape(len(w), -1)).reshape(n_groups, k, 3)
        a += np.diag(reg)
        b += np.asarray(reg) * prior
        points = np.linalg.solve(a, b[..., None])[..., 0]
        if step == rounds:
            break
        resid = np.where(w > 0, ray_distances(points[group], origins, dirs), 0.0)
        worst = (member[:, :, None] * resid[None]).max(axis=1)  # (G, K)
        drop = (resid >= worst[group]) & (resid > outlier_m)
        if not drop.any():  # nothing to reject: further rounds would solve the same system
            break
        w = np.where(drop, 0.0, w)
    views = (member @ (w > 0).astype(float)).astype(np.int64)
    return points, views
