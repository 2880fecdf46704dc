"""Scoring fanned out to a Dask cluster gives the scores scoring in-process gives.

A real ``distributed.LocalCluster`` with two worker processes on 127.0.0.1; the
score flow sends it batches through prefect-dask's ``DaskTaskRunner`` when
``[compute] dask_address`` names it, and stores what comes back.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.score import score_flow
from tests.builders import NOW, fresh_store, team_settings
from voxwatch.domain import Mention, RawResponse
from voxwatch.store import stages, store_for

distributed = pytest.importorskip("distributed")

TEXTS = [
    ("The acme kettle broke after two days and support never answered.", "en"),
    ("Love the new acme grinder, fast delivery too!", "en"),
    ("Where do I find the acme warranty card?", "en"),
    ("快递太慢了，包装也破了，很失望。", "zh"),
    ("质量很好，物流也快，下次还买。", "zh"),
    ("El pedido llegó roto y nadie responde.", "es"),
    ("Produit génial, livraison rapide.", "fr"),
    ("Die Lieferung kam zu spät und der Deckel fehlt.", "de"),
    ("配送が遅すぎます。返金してください。", "ja"),
    ("포장이 엉망이고 환불도 안 해줘요.", "ko"),
] * 3


# A LocalCluster of two worker processes, started in a process of its own: Dask's workers are spawned,
# and a spawned child re-runs the parent's __main__, which inside a test run may be a Streamlit page.
CLUSTER = """
import sys
from distributed import LocalCluster
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                  dashboard_address=None) as cluster:
    print(cluster.scheduler_address, flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    process = subprocess.Popen(
        [sys.executable, "-c", CLUSTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdin is not None
    address = process.stdout.readline().strip()
    try:
        with distributed.Client(address, timeout=120) as client:
            yield client
    finally:
        process.stdin.close()
        process.wait(timeout=60)


def stored(tmp_path: Path, name: str, extra: str = "") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    settings = team_settings(folder, extra)
    store = fresh_store(settings)
    mentions = [Mention(f"m{n}", text, lang=lang) for n, (text, lang) in enumerate(TEXTS)]
    raw = RawResponse("http://127.0.0.1:9/feed.xml", 200, {}, b"<rss/>", NOW)
    stages.save_page(store, "blog", raw, mentions)
    return folder / "voxwatch.toml"


def scores(config: Path) -> dict[str, tuple[Any, ...]]:
    from voxwatch.settings import load_settings

    rows = store_for(load_settings(config)).read(
        lambda c: c.execute(
            "SELECT mention_id, model_id, label, p_negative, p_neutral, p_positive, themes FROM scores"
        ).fetchall()
    )
    return {row[0]: tuple(row[1:]) for row in rows}


# The plain torch path: ONNX's dynamic int8 quantizes each batch by its own range, so its scores move
# (up to 0.008 here) with which texts share a batch, and the cluster's batches are not the flow's.
TORCH = '\n[model]\nbackend = "torch"\n'


def test_scores_from_the_cluster_equal_the_in_process_ones(cluster: Any, tmp_path: Path) -> None:
    here = stored(tmp_path, "here", TORCH)
    address = cluster.scheduler.address
    there = stored(tmp_path, "there", f'{TORCH}\n[compute]\ndask_address = "{address}"\ndask_batch = 4\n')
    assert score_flow(str(here)) == len(TEXTS)
    assert score_flow(str(there)) == len(TEXTS)
    local, remote = scores(here), scores(there)
    assert local.keys() == remote.keys() and len(local) == len(TEXTS)
    for mention, (model, label, *probs, themes) in local.items():
        r_model, r_label, *r_probs, r_themes = remote[mention]
        assert (r_model, r_label, r_themes) == (model, label, themes)
        assert r_probs == pytest.approx(probs, abs=1e-5)
    # Both workers scored, each with one model loaded once and kept.
    warm = cluster.run(lambda: len(__import__("flows.score", fromlist=["_WARM"])._WARM))
    assert sorted(warm.values()) == [1, 1]
    assert score_flow(str(there)) == 0  # nothing left: the cluster is asked for nothing


def test_without_prefect_dask_a_dask_address_is_a_clear_settings_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    from voxwatch.errors import SettingsError

    there = stored(tmp_path, "there", '\n[compute]\ndask_address = "tcp://127.0.0.1:9"\n')
    monkeypatch.setitem(sys.modules, "prefect_dask", None)  # as if not installed
    with pytest.raises(SettingsError, match=r"voxwatch\[dask\]"):
        score_flow(str(there))
    shutil.rmtree(tmp_path / "there")
