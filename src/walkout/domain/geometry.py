"""Pure geometry shared by the simulator and the engine: camera projection and floor polygons.

Cameras follow OpenCV conventions (PROTOCOL section 1): a world point X maps to camera
coordinates ``R·X + t``, is divided by depth, distorted with ``dist = (k1, k2, p1, p2[, k3])``
and mapped to pixels with ``K``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from walkout.domain.store import Camera

FloatArray = NDArray[np.float64]


def camera_matrices(cam: Camera) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """K, R, t and the 5 distortion coefficients of a camera as arrays."""
    dist = np.zeros(5)
    dist[: min(5, len(cam.dist))] = cam.dist[:5]
    return (
        np.asarray(cam.K, dtype=float),
        np.asarray(cam.R, dtype=float),
        np.asarray(cam.t, dtype=float),
        dist,
    )


def project(cam: Camera, points: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Project world points ``(..., 3)`` to pixels ``(..., 2)``.

    Returns the pixels and a mask of points in front of the camera and inside its image.
    """
    k, r, t, dist = camera_matrices(cam)
    pts = np.asarray(points, dtype=float)
    pc = pts @ r.T + t
    z = pc[..., 2]
    in_front = z > 1e-6
    zs = np.where(in_front, z, 1.0)
    x = pc[..., 0] / zs
    y = pc[..., 1] / zs
    k1, k2, p1, p2, k3 = dist
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2 * r2 + k3 * r2 * r2 * r2
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    u = k[0, 0] * xd + k[0, 1] * yd + k[0, 2]
    v = k[1, 1] * yd + k[1, 2]
    uv = np.stack([u, v], axis=-1)
    visible = in_front & (u >= 0) & (u < cam.width) & (v >= 0) & (v < cam.height)
    return uv, visible


def undistort_normalized(cam: Camera, uv: FloatArray, iterations: int = 8) -> FloatArray:
    """Pixels ``(..., 2)`` to undistorted normalised image coordinates ``(..., 2)``.

    Inverts the OpenCV distortion model by fixed-point iteration (as ``cv2.undistortPoints``).
    """
    k, _, _, dist = camera_matrices(cam)
    k1, k2, p1, p2, k3 = dist
    uv = np.asarray(uv, dtype=float)
    yd = (uv[..., 1] - k[1, 2]) / k[1, 1]
    xd = (uv[..., 0] - k[0, 2] - k[0, 1] * yd) / k[0, 0]
    x, y = xd.copy(), yd.copy()
    for _ in range(iterations):
        r2 = x * x + y * y
        radial = 1 + k1 * r2 + k2 * r2 * r2 + k3 * r2 * r2 * r2
        dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        x = (xd - dx) / radial
        y = (yd - dy) / radial
    return np.stack([x, y], axis=-1)


def pixel_rays(cam: Camera, uv: FloatArray) -> tuple[FloatArray, FloatArray]:
    """World rays through pixels: the camera centre ``(3,)`` and unit directions ``(..., 3)``."""
    _, r, t, _ = camera_matrices(cam)
    xy = undistort_normalized(cam, uv)
    dirs_cam = np.concatenate([xy, np.ones((*xy.shape[:-1], 1))], axis=-1)
    dirs = dirs_cam @ r  # R^T · d for row vectors
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    return -(r.T @ t), dirs


def points_in_polygon(points: FloatArray, polygon: Sequence[Sequence[float]]) -> NDArray[np.bool_]:
    """Even-odd test of floor points ``(..., 2)`` against a polygon (points on an edge may go
    either way)."""
    pts = np.asarray(points, dtype=float)
    poly = np.asarray(polygon, dtype=float)
    x, y = pts[..., 0], pts[..., 1]
    inside = np.zeros(x.shape, dtype=bool)
    n = len(poly)
    for i in range(n):
        x1, y1 = poly[i]
        x2, y2 = poly[(i + 1) % n]
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < x_at)
    return inside


def polygon_bounds(polygon: Sequence[Sequence[float]]) -> tuple[float, float, float, float]:
    """``(xmin, ymin, xmax, ymax)`` of a polygon."""
    poly = np.asarray(polygon, dtype=float)
    return (
        float(poly[:, 0].min()),
        float(poly[:, 1].min()),
        float(poly[:, 0].max()),
        float(poly[:, 1].max()),
    )
