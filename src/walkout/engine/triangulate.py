"""Multi-camera geometry for the people tracker: batched pixel rays and ray triangulation.

Everything works on many keypoints of many cameras at once, so that one frame window of a
40-camera store costs a handful of numpy calls rather than one call per detection; the rays
of every keypoint, a loop over keypoints, are compiled (numba).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numba
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

    def rays(self, cam: IntArray, uv: FloatArray) -> FloatArray:
        """Unit world directions ``(N, K, 3)`` through pixels ``uv (N, K, 2)`` (``cam (N,)``
        holds each row's camera index); the rays start at ``self.centres[cam]``."""
        out = np.empty((*uv.shape[:2], 3))
        _rays(cam, uv, self.steps, self.last_cell, self.grid, self.rotations, out)
        return out


#: Where numpy's float-to-integer conversion saturates (to the least integer, as x86 does).
_INT_LIMIT = 2.0**63


@numba.njit(cache=True, nogil=True, inline="always")
def _cell(f: float, last: int) -> int:
    """The grid cell of coordinate ``f`` (in cells): its integer part, within ``[0, last]``
    (0 for NaN and for values no integer holds)."""
    if not -_INT_LIMIT <= f < _INT_LIMIT:
        return 0
    i = int(f)  # truncation: the floor for f >= 0, and every f < 0 is clipped to 0 anyway
    return min(max(i, 0), last)


@numba.njit(cache=True, nogil=True)
def _rays(
    cam: np.ndarray,
    uv: np.ndarray,
    steps: np.ndarray,
    last_cell: np.ndarray,
    grid: np.ndarray,
    rotations: np.ndarray,
    out: np.ndarray,
) -> None:
    """:meth:`CameraBank.rays` into ``out``: each pixel undistorted by bilinear interpolation
    of its camera's grid (beyond the image, extrapolated from the border cells), turned into
    the world by the camera's rotation and normalised."""
    for n in range(uv.shape[0]):
        c = cam[n]
        step, last_u, last_v = steps[c], last_cell[c, 0], last_cell[c, 1]
        r = rotations[c]
        g = grid[c]
        for k in range(uv.shape[1]):
            fu = uv[n, k, 0] / step
            fv = uv[n, k, 1] / step
            iu = _cell(fu, last_u)
            iv = _cell(fv, last_v)
            au = fu - iu
            av = fv - iv
            bu = 1.0 - au
            bv = 1.0 - av
            w0, w1, w2, w3 = bu * bv, au * bv, bu * av, au * av
            x = w0 * g[iv, iu, 0] + w1 * g[iv, iu + 1, 0] + w2 * g[iv + 1, iu, 0]
            x += w3 * g[iv + 1, iu + 1, 0]
            y = w0 * g[iv, iu, 1] + w1 * g[iv, iu + 1, 1] + w2 * g[iv + 1, iu, 1]
            y += w3 * g[iv + 1, iu + 1, 1]
            dx = x * r[0, 0] + y * r[1, 0] + r[2, 0]  # Rᵀ·(x, y, 1)
            dy = x * r[0, 1] + y * r[1, 1] + r[2, 1]
            dz = x * r[0, 2] + y * r[1, 2] + r[2, 2]
            norm = math.sqrt(dx * dx + dy * dy + dz * dz)
            out[n, k, 0] = dx / norm
            out[n, k, 1] = dy / norm
            out[n, k, 2] = dz / norm


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
    The per-ray terms of the least-squares normal equations are computed once, so that
    :meth:`solve` can be called with several priors (the tracker places single-ray keypoints
    with a second prior).
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
        # Ray i's residual to a point p is P_i (p - o_i), with P_i = I - d_i d_iᵀ.
        self.proj = projectors(dirs) if proj is None else proj  # (N, K, 3, 3)
        self.proj_c = origins - dirs * row_dot(dirs, origins)[..., None]  # P_i o_i
        self.weights = np.where(weights > 0, weights, 0.0)

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
        points = np.empty_like(prior, dtype=float)
        views = np.empty(prior.shape[:2], dtype=np.int64)
        todo = np.zeros(0, dtype=np.bool_).reshape(0, 0) if only is None else only
        _solve_bundle(
            self.proj, self.proj_c, self.origins, self.dirs, self.weights, self.group,
            np.ascontiguousarray(prior, dtype=float), np.asarray(reg, dtype=float), outlier_m,
            rounds, only is not None, todo, points, views,
        )  # fmt: skip
        return points, views


@numba.njit(cache=True, nogil=True)
def _solve_bundle(
    proj: np.ndarray,
    proj_c: np.ndarray,
    origins: np.ndarray,
    dirs: np.ndarray,
    weights: np.ndarray,
    group: np.ndarray,
    prior: np.ndarray,
    reg: np.ndarray,
    outlier_m: float,
    rounds: int,
    has_only: bool,
    only: np.ndarray,
    points: np.ndarray,
    views: np.ndarray,
) -> None:
    """:meth:`RayBundle.solve` into ``points`` and ``views``."""
    n_det, n_kp = weights.shape
    n_groups = prior.shape[0]
    w = weights.copy()
    a = np.zeros((n_groups, n_kp, 3, 3))
    b = np.zeros((n_groups, n_kp, 3))
    todo = np.zeros((n_groups, n_kp), dtype=np.bool_)
    views[:] = 0
    for n in range(n_det):
        for k in range(n_kp):
            if w[n, k] > 0.0:
                views[group[n], k] += 1
    for g in range(n_groups):
        for k in range(n_kp):
            todo[g, k] = only[g, k] if has_only else views[g, k] > 0
            for i in range(3):
                points[g, k, i] = prior[g, k, i]
    resid = np.zeros((n_det, n_kp))
    worst = np.zeros((n_groups, n_kp))
    for step in range(rounds + 1):
        # Each person's normal equations, of the points to solve.
        for g in range(n_groups):
            for k in range(n_kp):
                if todo[g, k]:
                    a[g, k] = 0.0
                    b[g, k] = 0.0
        for n in range(n_det):
            g = group[n]
            for k in range(n_kp):
                wk = w[n, k]
                if todo[g, k] and wk > 0.0:
                    for i in range(3):
                        b[g, k, i] += wk * proj_c[n, k, i]
                        for j in range(3):
                            a[g, k, i, j] += wk * proj[n, k, i, j]
        for g in range(n_groups):
            for k in range(n_kp):
                if todo[g, k]:
                    for i in range(3):  # the prior's pull (the sums are made anew each round)
                        a[g, k, i, i] += reg[i]
                        b[g, k, i] += reg[i] * prior[g, k, i]
                    x = solve3(a[g, k], b[g, k])
                    for i in range(3):
                        points[g, k, i] = x[i]
        if step == rounds:
            break
        # Each point's farthest ray; drop it where it misses by more than outlier_m.
        worst[:] = 0.0
        for n in range(n_det):
            g = group[n]
            for k in range(n_kp):
                r = 0.0
                if w[n, k] > 0.0:
                    r = across(
                        points[g, k, 0] - origins[n, k, 0],
                        points[g, k, 1] - origins[n, k, 1],
                        points[g, k, 2] - origins[n, k, 2],
                        dirs[n, k],
                    )
                resid[n, k] = r
                worst[g, k] = max(worst[g, k], r)
        dropped = np.zeros((n_groups, n_kp), dtype=np.bool_)
        for n in range(n_det):
            g = group[n]
            for k in range(n_kp):
                r = resid[n, k]
                if todo[g, k] and r >= worst[g, k] and r > outlier_m:
                    w[n, k] = 0.0
                    views[g, k] -= 1
                    dropped[g, k] = True
        if not dropped.any():  # nothing to reject: further rounds would solve the same system
            break
        todo = dropped  # only the points that lost a ray


@numba.njit(cache=True, nogil=True, inline="always")
def across(wx: float, wy: float, wz: float, d: np.ndarray) -> float:
    """The distance from a point to a ray of unit direction ``d``, given the offset ``w`` of
    the point from the ray's origin: the part of ``w`` across the ray."""
    along = wx * d[0] + wy * d[1] + wz * d[2]
    return math.sqrt(max(wx * wx + wy * wy + wz * wz - along * along, 0.0))


@numba.njit(cache=True, nogil=True)
def solve3(m: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The solution of the 3×3 system ``m x = b`` by Gaussian elimination with partial
    pivoting (``m`` and ``b`` are left as they were)."""
    a = m.copy()
    x = b.copy()
    for col in range(3):
        piv = col
        for r in range(col + 1, 3):
            if abs(a[r, col]) > abs(a[piv, col]):
                piv = r
        if piv != col:
            for j in range(3):
                a[col, j], a[piv, j] = a[piv, j], a[col, j]
            x[col], x[piv] = x[piv], x[col]
        for r in range(col + 1, 3):
            f = a[r, col] / a[col, col]
            for j in range(col, 3):
                a[r, j] -= f * a[col, j]
            x[r] -= f * x[col]
    for r in range(2, -1, -1):
        s = x[r]
        for j in range(r + 1, 3):
            s -= a[r, j] * x[j]
        x[r] = s / a[r, r]
    return x
