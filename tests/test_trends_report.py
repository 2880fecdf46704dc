"""Trends breakdowns and the monthly leader report, on the demo week in a real DuckDB file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from insights.report import monthly_figures, render_html
from sentiment.registry import model_id_for
from tests.cli_process import voxwatch
from tests.conftest import copy_demo
from voxwatch.settings import load_settings
from voxwatch.store import queries, store_for

# The session-wide demo run is made once per worker: keep its users on one worker.
pytestmark = pytest.mark.xdist_group("demo")


@pytest.fixture
def config(demo_run: tuple[Path, dict], tmp_path: Path) -> Path:
    return copy_demo(demo_run, tmp_path)


def test_volume_breaks_down_by_source_language_and_theme(config: Path) -> None:
    settings = load_settings(config)
    model_id = model_id_for(settings.model.name)
    since = datetime.now(UTC) - timedelta(days=90)

    def by(dimension: str) -> list[dict]:
        return store_for(settings).read(lambda c: queries.daily_sentiment(c, model_id, since, dimension))

    by_source, by_language, by_theme = by("source"), by("language"), by("theme")
    total = sum(r["mentions"] for r in by_source)
    assert total == 36 and sum(r["mentions"] for r in by_language) == total
    assert {r["language"] for r in by_language} >= {"en", "zh"}
    assert sum(r["mentions"] for r in by_theme) >= total  # a mention counts under each of its themes
    assert {"delivery", "none"} <= {r["theme"] for r in by_theme}
    with pytest.raises(ValueError, match="unknown breakdown"):
        by("m.text; DROP TABLE mentions")


def test_monthly_report_carries_the_trends_figures(config: Path) -> None:
    settings = load_settings(config)
    store = store_for(settings)
    model_id = model_id_for(settings.model.name)
    this_month = datetime.now(UTC).date()
    last_month = this_month.replace(day=1) - timedelta(days=1)
    current, previous = (monthly_figures(store, settings, model_id, m) for m in (this_month, last_month))
    assert current["volume"] + previous["volume"] == 36  # the demo week sits in these two months
    assert current["previous_volume"] == previous["volume"]
    html = render_html(current)
    assert f'<td class="n" id="volume">{current["volume"]}</td>' in html
    owners = {o["owner"] for o in current["owners"] + previous["owners"]}
    assert owners & {"amy", "ben", "li", "sara"}


def test_report_html_escapes_whatever_the_store_holds(config: Path) -> None:
    settings = load_settings(config)
    figures = monthly_figures(store_for(settings), settings, "no-model", datetime.now(UTC).date())
    figures["top_themes"] = [{"theme": "<script>alert(1)</script>", "complaints": 3, "previous": 1}]
    figures["owners"] = [
        {
            "owner": "{{ 7*7 }}<b>",
            "cases": 1,
            "closed": 0,
            "still_open": 1,
            "median_first_response_hours": None,
        }
    ]
    html = render_html(figures)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}&lt;b&gt;" in html and "49" not in html.split("Owners")[1]


def test_report_command_writes_the_month(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    month = datetime.now(UTC).strftime("%Y-%m")
    result = voxwatch("report", "--month", month, "--config", str(config), "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert "Indicators" in out.read_text(encoding="utf-8")
    bad = voxwatch("report", "--month", "November", "--config", str(config), "--output", str(out))
    assert bad.returncode == 2 and "not YYYY-MM" in bad.stderr
