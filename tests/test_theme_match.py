"""Themes by meaning: a complaint in a language without keyword lists still gets its themes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from flows.collect import collect_flow
from flows.score import score_flow
from sentiment.e5_scorer import wheel_embedder
from sentiment.theme_match import ThemeMatcher, tag_texts, wheel_matcher
from sentiment.themes import Similarity, ThemeBook, load_theme_book, tag_themes
from sentiment.training.calibrate_themes import read_examples, scores, truth_matrix, write_threshold
from tests.settings_files import source, write_settings
from voxwatch.cli.main import app
from voxwatch.errors import SettingsError

BOOK = load_theme_book()
IDS = [theme.id for theme in BOOK.themes]
EXAMPLES = Path(__file__).resolve().parent.parent / "sentiment" / "training" / "theme_examples.jsonl"


class HashedEmbedding:
    """A stand-in sentence encoder for the properties: a fixed unit vector per text, and a call log."""

    def __init__(self, dim: int = 16) -> None:
        self.dim = dim
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        self.calls.append(list(texts))
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "big")
            rows.append(torch.randn(self.dim, generator=torch.Generator().manual_seed(seed)))
        return torch.nn.functional.normalize(torch.stack(rows), dim=-1) if rows else torch.empty(0, self.dim)


langs = st.sampled_from(["en", "zh", "es", "fr", "ja", "ar", "und", None])
texts = st.text(max_size=60)


@given(st.lists(st.tuples(texts, langs), max_size=12), st.floats(-1.0, 1.0))
@settings(max_examples=60, deadline=None)
def test_keyword_themes_always_stay_and_come_in_definition_order(
    rows: list[tuple[str, str | None]], threshold: float
) -> None:
    book = ThemeBook(BOOK.themes, Similarity(BOOK.similarity.languages, threshold))
    matcher = ThemeMatcher(book, HashedEmbedding())
    found = tag_texts([t for t, _ in rows], [lang for _, lang in rows], book, matcher)
    for (text, _lang), themes in zip(rows, found, strict=True):
        assert set(tag_themes(text, book.themes)) <= set(themes)
        assert themes == sorted(set(themes), key=IDS.index)


@given(st.lists(st.tuples(texts, st.sampled_from(["en", "zh"])), max_size=12))
@settings(max_examples=40, deadline=None)
def test_texts_in_the_pattern_languages_never_ask_the_encoder(rows: list[tuple[str, str]]) -> None:
    embed = HashedEmbedding()
    found = tag_texts([t for t, _ in rows], [lang for _, lang in rows], BOOK, ThemeMatcher(BOOK, embed))
    assert found == [tag_themes(text, BOOK.themes) for text, _ in rows]
    assert embed.calls == []


NO_LETTERS = st.characters(blacklist_categories=("Lu", "Ll", "Lt", "Lm", "Lo"))


@given(st.lists(st.text(alphabet=NO_LETTERS), max_size=8))
@settings(max_examples=40, deadline=None)
def test_a_text_without_letters_has_no_meaning_to_match(symbols: list[str]) -> None:
    embed = HashedEmbedding()
    tag_texts(symbols, ["es"] * len(symbols), BOOK, ThemeMatcher(BOOK, embed))
    assert embed.calls == []


def test_a_threshold_above_one_turns_matching_by_meaning_off() -> None:
    off = ThemeBook(BOOK.themes, Similarity(BOOK.similarity.languages, 2.0))
    embed = HashedEmbedding()
    assert tag_texts(["Mi pedido nunca llegó"], ["es"], off, ThemeMatcher(off, embed)) == [[]]
    assert embed.calls == []


def test_the_shipped_definition_describes_every_theme_and_is_calibrated() -> None:
    assert BOOK.similarity.languages == {"en", "zh"}
    assert 0 < BOOK.similarity.threshold < 1
    for theme in BOOK.themes:
        assert theme.description and len(theme.examples) >= 3, theme.id


# --- the real encoder ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matcher() -> ThemeMatcher:
    torch.set_num_threads(1)
    return wheel_matcher(BOOK)


COMPLAINTS = [
    ("Mi pedido nunca llegó y el repartidor no contesta el teléfono", "es", "delivery"),
    ("On m'a débité deux fois et toujours aucun remboursement", "fr", "refund_billing"),
    ("Die Anwendung stürzt bei jeder Anmeldung ab, so nervig", "de", "app_website"),
    ("Il prodotto è arrivato rotto e non funziona", "it", "product_quality"),
    ("Preço absurdo, caro demais pelo que oferece", "pt", "price"),
    ("موظف خدمة العملاء كان وقحا جدا معي", "ar", "staff_attitude"),
    ("店の前で一時間も並ばされた、遅すぎる", "ja", "waiting_speed"),
    ("음식에서 유리 조각이 나왔어요, 너무 위험합니다", "ko", "safety"),
]


@pytest.mark.parametrize(("text", "lang", "theme"), COMPLAINTS, ids=[c[1] for c in COMPLAINTS])
def test_a_complaint_in_a_language_without_keywords_gets_its_theme(
    matcher: ThemeMatcher, text: str, lang: str, theme: str
) -> None:
    assert tag_themes(text, BOOK.themes) == []  # the keywords alone miss it
    assert theme in tag_texts([text], [lang], BOOK, matcher)[0]


@pytest.mark.parametrize(
    ("text", "lang"),
    [("¡Feliz cumpleaños a todo el equipo!", "es"), ("Guten Morgen zusammen, schönes Wochenende", "de")],
)
def test_chatter_about_nothing_gets_no_theme(matcher: ThemeMatcher, text: str, lang: str) -> None:
    assert tag_texts([text], [lang], BOOK, matcher) == [[]]


def test_the_calibrated_threshold_holds_on_labelled_examples(matcher: ThemeMatcher) -> None:
    rows = [r for r in read_examples(EXAMPLES) if r["lang"] in ("es", "ja")]
    similar = matcher.similarities([r["text"] for r in rows])
    figures = scores(similar, truth_matrix(rows, IDS), BOOK.similarity.threshold)
    assert figures["precision"] >= 0.7 and figures["f1"] >= 0.65, figures


def test_the_matcher_and_the_chinese_route_share_one_encoder(matcher: ThemeMatcher) -> None:
    from sentiment.model import RoutedScorer, load_scorer
    from voxwatch.settings import ModelSettings

    router = load_scorer(ModelSettings())
    assert isinstance(router, RoutedScorer)
    assert router.route("zh").encoder.model is wheel_embedder().model  # type: ignore[attr-defined]


# --- through the flows and the CLI --------------------------------------------------------------

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Acme mentions</title><link>https://example.test/</link>
<description>mentions</description>
<item><title>Acme</title><guid>es-1</guid><link>https://example.test/es-1</link>
<pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate>
<description>Acme: mi pedido nunca llegó y el repartidor no contesta, llevo dos semanas
esperando</description></item>
<item><title>Acme</title><guid>en-1</guid><link>https://example.test/en-1</link>
<pubDate>Mon, 23 Nov 2026 11:00:00 GMT</pubDate>
<description>Acme charged me twice and I still have no refund</description></item>
</channel></rss>
"""


def test_the_score_flow_stores_themes_for_a_spanish_complaint(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(FEED, content_type="application/rss+xml")
    config = write_settings(tmp_path, source("feed", "rss", httpserver.url_for("/feed.xml")))
    assert collect_flow(str(config)) == {"feed": 2}
    assert score_flow(str(config)) == 2
    with duckdb.connect(str(tmp_path / "voxwatch.duckdb"), read_only=True) as conn:
        rows = conn.execute(
            "SELECT m.lang, s.themes FROM scores s JOIN mentions m ON m.id = s.mention_id ORDER BY m.lang"
        ).fetchall()
    themes = {lang: list(found) for lang, found in rows}
    assert "delivery" in themes["es"]
    assert themes["en"] == ["refund_billing"]  # keywords, exactly as before


def test_the_route_dry_run_shows_themes_by_meaning(tmp_path: Path) -> None:
    config = write_settings(tmp_path)
    text = "La aplicación se cierra cada vez que intento pagar"
    result = CliRunner().invoke(app, ["route", text, "--lang", "es", "--config", str(config)])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output[result.output.index("{") :])
    assert "app_website" in decision["themes"]


def test_a_theme_with_nothing_to_compare_never_matches_whatever_the_threshold(tmp_path: Path) -> None:
    themes = tmp_path / "themes.toml"
    themes.write_text(
        "[similarity]\nthreshold = 0.0001\n\n"
        '[[themes]]\nid = "described"\npatterns = ["zzz"]\n'
        'description = "late parcels"\nexamples = ["late"]\n\n'
        '[[themes]]\nid = "bare"\npatterns = ["yyy"]\nexamples = ["  "]\n',
        encoding="utf-8",
    )
    book = load_theme_book(themes)
    embed = HashedEmbedding()
    found = tag_texts(["¿dónde está mi paquete?", "hola"], ["es", "es"], book, ThemeMatcher(book, embed))
    assert all("bare" not in themes_of for themes_of in found)


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('languages = "en"', "languages"),
        ("languages = [1, 2]", "languages"),
        ("threshold = nan", "threshold"),
        ("threshold = -1", "threshold"),
        ("threshold = 0", "threshold"),
        ('threshold = "high"', "threshold"),
    ],
)
def test_a_bad_similarity_table_is_refused_naming_the_file_and_key(
    tmp_path: Path, table: str, named: str
) -> None:
    themes = tmp_path / "mine.toml"
    themes.write_text(f'[similarity]\n{table}\n\n[[themes]]\nid = "t"\npatterns = ["x"]\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=rf"mine\.toml.*{named}"):
        load_theme_book(themes)


def test_examples_must_be_a_list_not_a_string(tmp_path: Path) -> None:
    themes = tmp_path / "mine.toml"
    themes.write_text('[[themes]]\nid = "t"\npatterns = ["x"]\nexamples = "My order"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="examples"):
        load_theme_book(themes)


def test_calibration_rewrites_only_the_threshold_line(tmp_path: Path) -> None:
    themes = tmp_path / "themes.toml"
    text = '# keep me\n[similarity]\nlanguages = ["en"]\nthreshold = 1e-3\n\n'
    text += '[[themes]]\nid = "t"\npatterns = []\n'
    themes.write_text(text, encoding="utf-8")
    write_threshold(0.25, themes)
    assert themes.read_text(encoding="utf-8") == text.replace("1e-3", "0.25")
    assert load_theme_book(themes).similarity.threshold == 0.25
