"""Crowding: a turn's mean similarity to its nearest other turns, and the
evidence search taking it off the similarity so that a message close to
everything ("Haha, yeah!") stops being the nearest evidence for every question.
Real LanceDB in a temp dir; the figures are checked against numpy by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dl_app.adapters.turn_crowding import CLUSTER_ROWS, NEAREST, Crowding
from dl_app.adapters.turns_lancedb import LanceTurnStore
from dl_app.core.evidence import Matches, turn_scores
from dl_app.core.ports import TurnRecord, TurnRef

MODEL = "test:model"
T0 = 1_700_000_000_000


def unit(m: np.ndarray) -> np.ndarray:
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


def fill(store: LanceTurnStore, vectors: np.ndarray) -> list[str]:
    ids = [f"t{i}" for i in range(len(vectors))]
    recs = [TurnRecord(id=t, entry=f"e{i // 10}", role="user", ts=T0 + i, seq=i % 10,
                       text=f"message {i}") for i, t in enumerate(ids)]
    store.add(recs, [r.text for r in recs])
    store.set_vectors(ids, vectors, MODEL)
    return ids


def by_hand(vectors: np.ndarray, k: int) -> np.ndarray:
    sims = unit(vectors) @ unit(vectors).T
    np.fill_diagonal(sims, -np.inf)
    return np.sort(sims, axis=1)[:, ::-1][:, :k].mean(axis=1)


@pytest.fixture
def vectors() -> np.ndarray:
    rng = np.random.default_rng(7)
    points = rng.standard_normal((60, 16))
    points[0] = points[1:].mean(axis=0)  # a hub: near the middle of everything
    return points.astype(np.float32)


def test_each_nearest_turn_carries_its_mean_similarity_to_its_nearest_turns(
        tmp_path: Path, vectors: np.ndarray) -> None:
    store = LanceTurnStore(tmp_path / "d")
    try:
        ids = fill(store, vectors)
        expected = dict(zip(ids, by_hand(vectors, NEAREST), strict=True))
        found = store.nearest(vectors[5], MODEL, 20)
        plain = store.search_vector(vectors[5], MODEL, 20)
        assert [(r, s) for r, s, _ in found] == plain  # the same turns and similarities
        for ref, _, crowding in found:
            assert crowding == pytest.approx(expected[ref.id], abs=1e-5)
        hub = dict((r.id, c) for r, _, c in store.nearest(vectors[0], MODEL, 60))
        assert hub["t0"] == max(hub.values())  # the hub is the most crowded
    finally:
        store.close()


def test_a_sample_stands_in_for_a_large_space_and_deleted_turns_leave_it(
        tmp_path: Path, vectors: np.ndarray) -> None:
    store = LanceTurnStore(tmp_path / "d", crowd_sample=30)
    try:
        ids = fill(store, vectors)
        found = store.nearest(vectors[3], MODEL, 60)
        figures = {r.id: c for r, _, c in found}
        # Half the space is sampled: a turn's nearest 10 there stand about where
        # its nearest 20 of all do, and the figures stay close to those, in about
        # their order.
        sampled, full = np.array([figures[t] for t in ids]), by_hand(vectors, 2 * NEAREST)
        assert np.abs(sampled - full).mean() < 0.06
        ranks = [np.argsort(np.argsort(a)) for a in (sampled, full)]
        assert np.corrcoef(*ranks)[0, 1] > 0.7
        assert store.nearest(vectors[3], MODEL, 60) == found  # the same sample again
        store.delete_entries([f"e{i}" for i in range(1, 6)])  # only t0..t9 are left
        left = store.nearest(vectors[3], MODEL, 60)
        assert {r.id for r, _, _ in left} == {f"t{i}" for i in range(10)}
        expected = dict(zip([f"t{i}" for i in range(10)], by_hand(vectors[:10], 9),
                            strict=True))
        for ref, _, crowding in left:  # computed again over what is left
            assert crowding == pytest.approx(expected[ref.id], abs=1e-5)
    finally:
        store.close()


def test_a_crowded_turn_loses_its_lead_to_a_specific_one() -> None:
    hub, specific = TurnRef("hub", "e1", T0), TurnRef("specific", "e2", T0)
    far = TurnRef("far", "e3", T0)
    turns = {r.id: r for r in (hub, specific, far)}
    sims = {"hub": 0.82, "specific": 0.80, "far": 0.60}
    plain = turn_scores(Matches([], sims, turns, []))
    assert plain["hub"] > plain["specific"]
    crowded = turn_scores(Matches([], sims, turns, [],
                                  crowding={"hub": 0.75, "specific": 0.55, "far": 0.40}))
    assert crowded["specific"] > crowded["hub"]
    assert crowded["specific"] == pytest.approx(0.5)  # the best corrected similarity


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("4", "4")])
def test_the_app_runs_numpys_blas_on_one_thread_unless_told_otherwise(
        given: str | None, expected: str) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    code = "import os, dl_app, numpy; print(os.environ['OPENBLAS_NUM_THREADS'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == expected


def test_beyond_exact_rows_each_figure_is_taken_in_its_nearest_clusters(tmp_path: Path) -> None:
    """Spherical k-means over the held vectors; a turn's 10 nearest are looked
    for in its ``PROBES`` nearest clusters only. On clustered data (topics) the
    figures stay those of the full computation, in the same order."""
    import lancedb
    import pyarrow as pa

    rng = np.random.default_rng(11)
    topics = unit(rng.standard_normal((40, 32)))
    points = unit(topics[rng.integers(0, 40, 3000)] + 0.2 * rng.standard_normal((3000, 32)))
    ids = [f"t{i}" for i in range(len(points))]
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(points.astype(np.float32).ravel()), 32)
    table = lancedb.connect(tmp_path).create_table("v", pa.table({"id": ids, "vector": vectors}))
    asked = rng.choice(len(points), 200, replace=False)
    crowding = Crowding(exact_rows=1000)
    clustered = crowding.figures(table, [ids[i] for i in asked], points[asked])
    assert crowding._centroids is not None and len(crowding._centroids) == 3000 // CLUSTER_ROWS
    exact = by_hand(points, NEAREST)[asked]
    assert np.abs(np.array(clustered) - exact).mean() < 0.002
    ranks = [np.argsort(np.argsort(a)) for a in (np.array(clustered), exact)]
    assert np.corrcoef(*ranks)[0, 1] > 0.99
    assert Crowding(exact_rows=5000).figures(table, [ids[i] for i in asked],
                                             points[asked]) == pytest.approx(exact, abs=1e-5)
