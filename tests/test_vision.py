"""The camera models: pose, track and product messages from simulated people."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any

import numpy as np
import orjson
import pytest

from walkout.domain.geometry import project
from walkout.domain.messages import PoseMsg, ProductMsg, TrackMsg, parse_message
from walkout.domain.store import Store
from walkout.sim.body import WRISTS, BodyMotion, hanging_hands, head_centre
from walkout.sim.timeline import PersonTrack, ProductSighting
from walkout.sim.vision import (
    VisionMode,
    VisionParams,
    VisionRenderer,
    hidden_by_people,
    occluders,
    occlusion_by_people,
    track_id,
)

T0 = 1_700_000_000.0
QUIET = VisionParams(false_rate=0.0, miss_rate=0.0, keypoint_drop=0.0)


def look_at(centre: list[float], target: list[float]) -> tuple[list[Any], list[float]]:
    """OpenCV extrinsics (R, t) of a camera at ``centre`` looking at ``target``."""
    c = np.asarray(centre, dtype=float)
    z = np.asarray(target, dtype=float) - c
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    r = np.stack([x, np.cross(z, x), z])
    return r.tolist(), (-r @ c).tolist()


def camera(name: str, centre: list[float], target: list[float]) -> dict[str, Any]:
    r, t = look_at(centre, target)
    return {
        "id": name,
        "width": 640,
        "height": 480,
        "fps": 10,
        "K": [[400, 0, 322], [0, 400, 238], [0, 0, 1]],
        "dist": [-0.05, 0.01, 0, 0, 0],
        "R": r,
        "t": t,
    }


def make_store(fixtures: bool = True) -> Store:
    """An 8 x 6 m room, a 2 m tall gondola in the middle, three cameras 3 m up."""
    return Store.model_validate(
        {
            "version": 1,
            "id": "vision-test",
            "name": "Vision test",
            "currency": "USD",
            "floor": [[0, 0], [8, 0], [8, 6], [0, 6]],
            "gates": [{"id": "g", "kind": "both", "area": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
            "products": [
                {
                    "sku": f"00000000000{i}",
                    "name": f"Product {i}",
                    "price": 100 + i,
                    "weight_g": 100.0 + i,
                    "tags": ["snack"] if i < 4 else ["drink"],
                }
                for i in range(6)
            ],
            "plates": [
                {"id": "P1", "box": [[3.5, 2.0, 1.2], [4.5, 2.4, 1.6]]},
                {"id": "P2", "box": [[3.5, 2.0, 0.5], [4.5, 2.4, 0.9]]},
            ],
            "facings": [
                {"sku": "000000000000", "plates": ["P1"]},
                {"sku": "000000000001", "plates": ["P2"]},
            ],
            "cameras": [
                camera("west", [1, 3, 3], [4, 3, 0.8]),
                camera("east", [7, 3, 3], [4, 3, 0.8]),
                camera("south", [4, 0.3, 3], [4, 2.5, 0.5]),
            ],
            "fixtures": [
                {"id": "G1", "footprint": [[3.5, 2], [4.5, 2], [4.5, 4], [3.5, 4]], "height": 2.0}
            ]
            if fixtures
            else [],
        }
    )


def standing(
    person: int, x: float, y: float, heading: float = 0.0, seconds: float = 20.0
) -> PersonTrack:
    t = T0 + np.arange(0.0, seconds, 1 / 30)
    xy = np.tile([x, y], (len(t), 1))
    h = np.full(len(t), heading)
    return PersonTrack(person, f"T{person}", 1.75, t, xy, h, hanging_hands(xy, h, 1.75))


def walking(
    person: int, start: list[float], end: list[float], seconds: float = 20.0
) -> PersonTrack:
    t = T0 + np.arange(0.0, seconds, 1 / 30)
    f = ((t - T0) / seconds)[:, None]
    xy = np.asarray(start) * (1 - f) + np.asarray(end) * f
    h = np.full(len(t), np.arctan2(end[1] - start[1], end[0] - start[0]))
    return PersonTrack(person, f"T{person}", 1.7, t, xy, h, hanging_hands(xy, h, 1.7))


def poses(lines: list[bytes]) -> list[PoseMsg]:
    msgs = [parse_message(line) for line in lines]
    return [m for m in msgs if isinstance(m, PoseMsg)]


def test_every_line_is_a_valid_message_and_every_camera_reports_each_frame() -> None:
    store = make_store()
    people = [walking(0, [1.0, 1.0], [7.0, 5.0]), walking(1, [2.0, 5.0], [6.0, 1.0])]
    sightings = [ProductSighting(T0 + 1.0 + i, "000000000000", (4.0, 1.8, 1.3)) for i in range(8)]
    chunk = VisionRenderer(store, people, sightings=sightings, seed=1).render(T0, T0 + 10.0)
    msgs = [parse_message(line) for line in chunk.lines]
    assert np.all(np.diff(chunk.t) >= 0)
    assert all(abs(m.t - t) < 6e-4 for m, t in zip(msgs, chunk.t, strict=True))
    frames = defaultdict(list)
    for m in msgs:
        if isinstance(m, PoseMsg):
            frames[m.camera].append(m.t)
            assert all(len(p.kp) == 17 for p in m.people)
    assert sorted(frames) == ["east", "south", "west"]
    for times in frames.values():
        assert abs(len(times) - 100) <= 1  # a frame near a window edge may fall either side
        gaps = np.diff(times)
        assert np.all(np.abs(gaps - 0.1) < 0.0101)  # 10 fps with a few ms of jitter
        assert np.std(gaps) > 1e-4
    seen = Counter(len(m.people) for m in msgs if isinstance(m, PoseMsg))
    assert seen[0] > 0  # empty frames are still reported
    assert seen[1] + seen[2] > 150
    assert any(isinstance(m, ProductMsg) for m in msgs)


def test_keypoints_reproject_within_noise_of_the_true_points() -> None:
    store = make_store()
    person = standing(0, 2.0, 1.5, heading=0.5)
    truth = BodyMotion.from_track(person).keypoints(np.array([T0]))[0]
    chunk = VisionRenderer(store, [person], seed=2, params=QUIET).render(T0, T0 + 5.0)
    errors = []
    for msg in poses(chunk.lines):
        cam = next(c for c in store.cameras if c.id == msg.camera)
        expected, visible = project(cam, truth)
        for det in msg.people:
            kp = np.asarray(det.kp)
            shown = kp[:, 2] > 0
            assert np.all(visible[shown])
            assert np.all((kp[:, 2][shown] >= 0.5) & (kp[:, 2][shown] <= 0.99))
            assert np.all(kp[~shown] == 0.0)
            errors.append(np.linalg.norm(kp[shown, :2] - expected[shown], axis=-1))
    err = np.concatenate(errors)
    assert len(err) > 500
    assert np.max(err) < 15.0
    assert 0.8 < np.sqrt(np.mean(err**2)) < 4.5  # 1-3 px per axis


def test_a_person_behind_the_gondola_is_hidden_from_one_camera_only() -> None:
    store = make_store()
    person = standing(0, 5.2, 3.0, heading=np.pi)
    chunk = VisionRenderer(store, [person], seed=3, params=QUIET).render(T0, T0 + 3.0)
    counts = Counter((m.camera, len(m.people)) for m in poses(chunk.lines))
    assert counts["west", 0] >= 29
    assert counts["west", 1] == 0
    assert counts["east", 1] >= 29
    assert counts["east", 0] == 0
    # Without the gondola the west camera sees them in every frame.
    open_store = store.model_copy(update={"fixtures": []})
    chunk = VisionRenderer(open_store, [person], seed=3, params=QUIET).render(T0, T0 + 3.0)
    assert {len(m.people) for m in poses(chunk.lines) if m.camera == "west"} == {1}


def test_bodies_hide_the_people_behind_them() -> None:
    centre = np.array([0.0, 0.0, 3.0])
    front = BodyMotion.from_track(standing(0, 2.0, 0.0)).keypoints(np.array([T0]))
    back = BodyMotion.from_track(standing(1, 3.0, 0.0)).keypoints(np.array([T0]))
    kp = np.stack([front, back], axis=1)  # (T=1, P=2, 17, 3)
    hidden = hidden_by_people(centre, kp, np.ones((1, 2), dtype=bool), 0.2)
    assert not hidden[0, 0].any()  # the front person is in the clear
    assert hidden[0, 1, 11:].all()  # the back one's hips, knees and ankles are hidden
    assert not hidden[0, 1, 0]  # but the nose shows over the front person's head
    alone = hidden_by_people(centre, kp, np.array([[False, True]]), 0.2)
    assert not alone.any()
    _, by = occlusion_by_people(centre, kp, np.ones((1, 2), dtype=bool), 0.2)
    assert by.tolist() == [[-1, 0]]  # the back one is hidden by the front one, not vice versa


def _descriptors(lines: list[bytes]) -> dict[str, list[tuple[float, np.ndarray]]]:
    """Each camera's detections as (x pixel of the hips, unit descriptor)."""
    out: dict[str, list[tuple[float, np.ndarray]]] = defaultdict(list)
    for msg in poses(lines):
        for det in msg.people:
            assert det.app is not None
            kp = np.asarray(det.kp)
            out[msg.camera].append((float(kp[11:13, 0].mean()), np.asarray(det.app)))
    return out


def test_detections_carry_appearance_that_tells_people_apart_and_keypoints_do_not_change() -> None:
    """Each detection carries an 8-long unit descriptor; one person's descriptors from one
    camera are more alike than two people's, and turning descriptors off leaves every other
    byte of the pose messages as it was."""
    store = make_store(fixtures=False)
    people = [standing(0, 2.0, 4.5), standing(1, 6.0, 4.5)]
    # Among many outfits two strangers hardly ever wear the same (with the default few, one
    # pair in six does, and then only their own variation tells them apart).
    params = replace(QUIET, appearance_outfits=100)
    lines = VisionRenderer(store, people, seed=5, params=params).render(T0, T0 + 10.0).lines
    by_camera = _descriptors(lines)

    def unit_mean(rows: np.ndarray) -> np.ndarray:
        mean = rows.mean(axis=0)
        return mean / np.linalg.norm(mean)

    compared = 0
    for dets in by_camera.values():
        split = np.median([u for u, _ in dets])
        left = np.array([a for u, a in dets if u < split])
        right = np.array([a for u, a in dets if u >= split])
        if not (len(left) > 20 and len(right) > 20):
            continue
        compared += 1
        assert left.shape[1] == 8
        assert np.allclose(np.linalg.norm(left, axis=1), 1.0, atol=0.01)
        # A person's look over the first and the second half of the frames, and the other's.
        same = unit_mean(left[::2]) @ unit_mean(left[1::2])
        assert same > 0.9
        assert unit_mean(left) @ unit_mean(right) < same - 0.2
        # Single detections are noisy: a look is a running mean, not one frame.
        assert 0.3 < np.median(left[1:] @ left[0]) < 0.95
    assert compared >= 2
    plain = replace(params, appearance_dims=0)
    bare = VisionRenderer(store, people, seed=5, params=plain).render(T0, T0 + 10.0).lines
    assert len(bare) == len(lines)
    for with_app, without in zip(lines, bare, strict=True):
        msg = orjson.loads(with_app)
        for det in msg.get("people", []):
            det.pop("app")
        assert msg == orjson.loads(without)


def test_detector_misses_and_invents_people_at_the_configured_rates() -> None:
    store = make_store()
    person = standing(0, 2.0, 1.5)
    params = VisionParams(miss_rate=0.2, false_rate=0.0)
    chunk = VisionRenderer(store, [person], seed=4, params=params).render(T0, T0 + 20.0)
    south = [m for m in poses(chunk.lines) if m.camera == "south"]
    rate = np.mean([len(m.people) for m in south])
    assert 0.72 < rate < 0.88
    ghosts = VisionRenderer(store, [], seed=4, params=VisionParams(false_rate=0.5))
    msgs = poses(ghosts.render(T0, T0 + 20.0).lines)
    invented = [p for m in msgs for p in m.people]
    assert 0.2 * len(msgs) < len(invented) < 0.55 * len(msgs)
    scores = np.array([kp[2] for p in invented for kp in p.kp if kp[2] > 0])
    assert np.all(scores <= 0.9)
    assert np.mean(scores) < 0.6
    assert all(sum(kp[2] > 0 for kp in p.kp) >= 5 for p in invented)
    nobody = VisionRenderer(store, [], seed=4, params=QUIET).render(T0, T0 + 5.0)
    assert all(not m.people for m in poses(nobody.lines))


def test_track_messages_have_stable_ids_and_positions_near_the_truth() -> None:
    store = make_store()
    people = [walking(0, [1.0, 1.0], [7.0, 5.0]), standing(7, 2.0, 5.0)]
    params = VisionParams(track_sd_m=0.03, track_hand_drop=0.2)
    renderer = VisionRenderer(store, people, mode="track", seed=5, params=params)
    msgs = [parse_message(line) for line in renderer.render(T0, T0 + 10.0).lines]
    tracks = [m for m in msgs if isinstance(m, TrackMsg)]
    assert len(tracks) == len(msgs) == 150
    np.testing.assert_allclose(np.diff([m.t for m in tracks]), 1 / 15, atol=1.1e-3)
    ids = {p.id for m in tracks for p in m.people}
    assert ids == {track_id(0, 5), track_id(7, 5)}
    assert all(len(i) == 19 and i.isdigit() for i in ids)
    assert track_id(0, 5) != track_id(0, 6)
    motions = {track_id(p.person, 5): BodyMotion.from_track(p) for p in people}
    head_err: list[float] = []
    hand_err: list[float] = []
    hands_seen: Counter[int] = Counter()
    for m in tracks:
        assert len(m.people) == 2
        for p in m.people:
            kp = motions[p.id].keypoints(np.array([m.t]))
            head_err.append(float(np.linalg.norm(np.asarray(p.head) - head_centre(kp)[0])))
            hands_seen[len(p.hands)] += 1
            for hand in p.hands:
                hand_err.append(
                    float(np.linalg.norm(kp[0, WRISTS] - np.asarray(hand), axis=-1).min())
                )
    assert 0.03 < np.mean(head_err) < 0.07  # |N(0, 0.03 I3)| averages 0.048 m
    assert np.max(hand_err) < 0.2
    assert hands_seen[2] > hands_seen[1] > hands_seen[0] > 0


def test_product_messages_name_the_true_product_most_of_the_time() -> None:
    store = make_store()
    sightings = [
        ProductSighting(T0 + 0.05 * i, "000000000001", (4.0, 1.8, 1.0)) for i in range(200)
    ]
    hidden = ProductSighting(T0 + 0.01, "000000000000", (4.0, 3.0, 1.0))  # inside the gondola
    renderer = VisionRenderer(store, [], sightings=[*sightings, hidden], seed=6)
    msgs = list(map(parse_message, renderer.render(T0, T0 + 10.0).lines))
    products = [m for m in msgs if isinstance(m, ProductMsg)]
    assert 170 < len(products) < 200  # about 5 % missing, the hidden one never
    assert {m.camera for m in products} == {"south"}  # the nearest camera that sees it
    top = [max(m.scores, key=lambda s: m.scores[s]) for m in products]
    right = sum(sku == "000000000001" for sku in top) / len(top)
    assert 0.85 < right < 1.0
    for m, sku in zip(products, top, strict=True):
        # The true product with 1-3 distractors, or a wrong one with or without the truth.
        assert 2 <= len(m.scores) <= 4 if sku == "000000000001" else 1 <= len(m.scores) <= 4
        assert set(m.scores) <= {p.sku for p in store.products}
        assert max(m.scores.values()) >= 0.6
    cam = store.cameras[2]
    expected, _ = project(cam, np.array([4.0, 1.8, 1.0]))
    at = np.array([m.at for m in products])
    assert np.all(np.linalg.norm(at - expected, axis=-1) < 15.0)


def test_same_seed_same_bytes_and_frame_times_do_not_depend_on_windows() -> None:
    store = make_store()
    people = [walking(0, [1.0, 1.0], [7.0, 5.0]), walking(1, [7.0, 1.0], [1.0, 5.0])]
    sightings = [ProductSighting(T0 + 2.5, "000000000002", (4.0, 1.8, 1.0))]

    def run(
        seed: int, windows: list[tuple[float, float]], mode: VisionMode = "pose"
    ) -> list[bytes]:
        r = VisionRenderer(store, people, sightings=sightings, seed=seed, mode=mode)
        return [line for a, b in windows for line in r.render(T0 + a, T0 + b).lines]

    whole = [(0.0, 10.0)]
    assert run(8, whole) == run(8, whole)
    assert run(8, whole) != run(9, whole)
    assert run(8, whole, "track") == run(8, whole, "track")
    halves = run(8, [(0.0, 5.0), (5.0, 10.0)])

    def frame_keys(lines: list[bytes]) -> list[tuple[str, float]]:
        return sorted(
            (d["camera"], d["t"]) for d in map(orjson.loads, lines) if d["type"] == "pose"
        )

    assert frame_keys(halves) == frame_keys(run(8, whole))


def test_stores_without_fixtures_are_occluded_by_their_plate_columns() -> None:
    prisms = occluders(make_store(fixtures=False))
    assert len(prisms) == 1  # the two stacked plates form one column
    np.testing.assert_allclose(prisms[0].footprint.min(axis=0), [3.5, 2.0])
    np.testing.assert_allclose(prisms[0].footprint.max(axis=0), [4.5, 2.4])
    assert prisms[0].height == 1.6
    assert len(occluders(make_store())) == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"miss_rate": 1.5},
        {"false_rate": -0.1},
        {"score_range": (0.9, 0.5)},
        {"product_score_range": (0.3, 0.9)},
        {"track_hz": 0.0},
        {"min_keypoints": 0},
        {"appearance_dims": -1},
        {"appearance_noise": -0.5},
    ],
)
def test_params_reject_nonsense(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        VisionParams(**bad)


def test_cameras_are_genlocked_unless_given_phase_offsets() -> None:
    store = make_store()

    def first_frames(params: VisionParams) -> list[float]:
        lines = VisionRenderer(store, [], seed=10, params=params).render(T0, T0 + 1.0).lines
        first: dict[str, float] = {}
        for msg in poses(lines):
            first.setdefault(msg.camera, msg.t % 0.1)
        return sorted(first.values())

    locked = first_frames(VisionParams())
    assert len(locked) == 3
    assert min(locked[-1] - locked[0], 0.1 - locked[-1] + locked[0]) < 0.009
    free = first_frames(VisionParams(camera_phase_s=0.1, frame_jitter_s=0.0))
    assert np.ptp(free) > 0.01


def test_track_mode_needs_no_cameras() -> None:
    store = make_store().model_copy(update={"cameras": []})
    sightings = [ProductSighting(T0 + 1.0, "000000000001", (4.0, 1.8, 1.0))]
    renderer = VisionRenderer(store, [standing(3, 2.0, 1.0)], mode="track", sightings=sightings)
    msgs = [parse_message(line) for line in renderer.render(T0, T0 + 2.0).lines]
    assert len(msgs) == 30
    assert all(isinstance(m, TrackMsg) and len(m.people) == 1 for m in msgs)
