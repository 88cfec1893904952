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
        bu, bv = 1 - au, 1 - av
        w = np.empty((*au.shape, 4))
        np.multiply(bu, bv, out=w[..., 0])
        np.multiply(au, bv, out=w[..., 1])
        np.multiply(bu, av, out=w[..., 2])
        np.multiply(au, av, out=w[..., 3])
        out: FloatArray = np.matmul(w[..., None, :], corners)[..., 0, :]
        return out

    def rays(self, cam: IntArray, uv: FloatArray) -> FloatArray:
        """Unit world directions ``(N, K, 3)`` through pixels ``uv (N, K, 2)``; the rays start
        at ``self.centres[cam]``."""
        xy = self.normalized(cam, uv)
        d_cam = np.concatenate([xy, np.ones((*xy.shape[:-1], 1))], axis=-1)
        dirs: FloatArray = np.matmul(d_cam, self.rotations[cam])  # Rᵀ·d for row vectors
        dirs /= row_norm(dirs)[..., None]
        return dirs


def row_dot(a: FloatArray, b: FloatArray) -> FloatArray:
    """Dot products ``(...)`` of 3-vectors ``a`` and ``b`` (broadcast to ``(..., 3)``).

    Written out per component: numpy's ``(a * b).sum(-1)`` loops over an axis of length 3 for
    every vector, which costs several times more, for the same sums in the same order."""
    out: FloatArray = a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]
    return out


def row_norm(a: FloatArray) -> FloatArray:
    """Lengths ``(...)`` of 3-vectors ``a (..., 3)`` (as ``np.linalg.norm(a, axis=-1)``)."""
    out: FloatArray = np.sqrt(row_dot(a, a))
    return out


def projectors(dirs: FloatArray) -> FloatArray:
    """The matrices ``I - d dᵀ`` ``(..., 3, 3)`` of unit directions ``dirs (..., 3)``: each
    takes an offset from a point on the ray to its part across the ray."""
    out: FloatArray = np.eye(3) - np.matmul(dirs[..., :, None], dirs[..., None, :])
    return out


def ray_distances(points: FloatArray, origins: FloatArray, dirs: FloatArray) -> FloatArray:
    """Distances ``(...)`` from points to rays (unit ``dirs``), all broadcast to ``(..., 3)``."""
    w = points - origins
    along = row_dot(w, dirs)
    d2 = row_dot(w, w) - along * along
    out: FloatArray = np.sqrt(np.maximum(d2, 0.0))
    return out


def ray_gaps(
    o1: FloatArray, d1: FloatArray, o2: FloatArray, d2: FloatArray
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Where two rays (unit directions, all broadcast to ``(..., 3)``) come closest: the gap
    between them ``(...)``, its midpoint ``(..., 3)``, and whether that lies ahead on both rays
    (nearly parallel rays never qualify)."""
    w = o1 - o2
    b = row_dot(d1, d2)
    d, e = row_dot(d1, w), row_dot(d2, w)
    den = 1.0 - b * b
    ok = den > 1e-6
    den = np.where(ok, den, 1.0)
    s1, s2 = (b * e - d) / den, (e - b * d) / den
    p1, p2 = o1 + s1[..., None] * d1, o2 + s2[..., None] * d2
    gap = row_norm(p1 - p2)
    mid: FloatArray = 0.5 * (p1 + p2)
    return gap, mid, ok & (s1 > 0) & (s2 > 0)


class RayBundle:
    """The keypoint rays of N detections, grouped by person, ready to triangulate.

    ``origins (N, K, 3)``, unit ``dirs (N, K, 3)`` and ``weights (N, K)`` (0 = no ray) are the
    keypoint rays; ``group (N,)`` says which of ``n_groups`` people each detection belongs to;
    ``proj`` are the rays' :func:`projectors` where the caller has them already.
    The per-ray terms of the least-squares normal equations and their sums per person are
    computed once, so that :meth:`solve` can be called with several priors (the tracker places
    single-ray keypoints with a second prior) at the cost of the solve alone.
    """

    def __init__(
        self,
        origins: FloatArray,
        dirs: FloatArray,
        weights: FloatArray,
        group: IntArray,
        n_groups: int,
        proj: FloatArray | None = None,
    ) -> None:
        self.origins, self.dirs, self.group = origins, dirs, group
        self.member = (group[None, :] == np.arange(n_groups)[:, None]).astype(float)  # (G, N)
        # Each detection's place among its person's (for a dense (G, most, K) layout).
        order = np.argsort(group, kind="stable")
        counts = np.bincount(group, minlength=n_groups)
        self.rank = np.empty(len(group), dtype=np.intp)
        self.rank[order] = np.arange(len(group)) - (np.cumsum(counts) - counts)[group[order]]
        self.most = int(counts.max(initial=0))
        # Ray i's residual to a point p is P_i (p - o_i), with P_i = I - d_i d_iᵀ.
        self.proj = projectors(dirs) if proj is None else proj  # (N, K, 3, 3)
        self.proj_c = origins - dirs * row_dot(dirs, origins)[..., None]  # P_i o_i
        self.weights = np.where(weights > 0, weights, 0.0)
        self.sums = self._sums(self.weights)

    def _sums(self, w: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Each person's normal equations ``A (G, K, 3, 3)``, ``b (G, K, 3)`` for ray weights
        ``w (N, K)``, before the prior's pull."""
        n_groups, n = self.member.shape[0], len(w)
        k = w.shape[1]
        a = (self.member @ (w[..., None, None] * self.proj).reshape(n, -1)).reshape(
            n_groups, k, 3, 3
        )
        b = (self.member @ (w[..., None] * self.proj_c).reshape(n, -1)).reshape(n_groups, k, 3)
        return a, b

    def solve(
        self,
        prior: FloatArray,
        *,
        reg: tuple[float, float, float] = (1e-4, 1e-4, 1e-2),
        outlier_m: float = 0.15,
        rounds: int = 1,
        only: BoolArray | None = None,
    ) -> tuple[FloatArray, NDArray[np.int64]]:
        """Weighted least-squares intersection of each person's rays, keypoint by keypoint.

        Each point is pulled towards ``prior (G, K, 3)`` with weights ``reg`` per axis (x, y,
        z), which keeps every system solvable; the stronger pull on height puts a single-ray
        point where the ray crosses the prior's height (body keypoints keep their height, while
        depth along one ray is unknown). Then ``rounds`` times, each point's worst ray is
        dropped if it misses by more than ``outlier_m``, and the points that lost a ray are
        solved again. Only the points ``only (G, K)`` are solved (default: every point with a
        ray); the others are returned as their prior, with their rays all counted. Returns the
        points ``(G, K, 3)`` and each one's number of inlier rays.
        """
        group, w = self.group, self.weights
        a, b = self.sums
        pull_a, pull_b = np.diag(reg), np.asarray(reg) * prior
        views = self.member @ (w > 0).astype(float)  # (G, K)
        todo = views > 0 if only is None else only
        points = prior.copy()
        for step in range(rounds + 1):
            # Each point's system is solved on its own, so solving a subset changes no bits.
            g, k = np.nonzero(todo)
            rhs = (b[g, k] + pull_b[g, k])[..., None]
            points[g, k] = np.linalg.solve(a[g, k] + pull_a, rhs)[..., 0]
            if step == rounds:
                break
            resid = np.where(w > 0, ray_distances(points[group], self.origins, self.dirs), 0.0)
            slots = np.zeros((len(prior), self.most, resid.shape[1]))
            slots[group, self.rank] = resid
            worst = slots.max(axis=1)  # (G, K): each point's farthest ray (or 0)
            drop = (resid >= worst[group]) & (resid > outlier_m) & todo[group]
            if not drop.any():  # nothing to reject: further rounds would solve the same system
                break
            w = np.where(drop, 0.0, w)
            a, b = self._sums(w)
            todo = self.member @ drop.astype(float) > 0  # only the points that lost a ray
        views = self.member @ (w > 0).astype(float)
        return points, views.astype(np.int64)
