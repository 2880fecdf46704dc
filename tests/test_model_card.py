"""The model card quotes the figures the training commands wrote, so neither drifts."""

from __future__ import annotations

import json
from pathlib import Path

MODELS = Path(__file__).parent.parent / "sentiment" / "models"
CARD = (Path(__file__).parent.parent / "sentiment" / "MODEL_CARD.md").read_text(encoding="utf-8")


def figures(value: object) -> list[float]:
    if isinstance(value, dict):
        return [f for key, inner in value.items() if key != "n" for f in figures(inner)]
    return [float(value)] if isinstance(value, float) else []


def test_every_held_out_figure_is_in_the_card() -> None:
    for model in ("minilm-en", "e5-head-zh", "e5-multi-v1"):
        metrics = json.loads((MODELS / model / "metrics.json").read_text(encoding="utf-8"))
        metrics.pop("temperature", None)
        metrics.pop("steps", None)  # a count, not a figure
        for name, value in metrics.items():
            for figure in figures(value):
                assert f"{figure:.3f}" in CARD, f"{model} {name} = {figure:.3f} is not in MODEL_CARD.md"


def test_routes_and_ids_match_the_shipped_files() -> None:
    default = json.loads((MODELS / "default" / "voxwatch_model.json").read_text(encoding="utf-8"))
    assert f"`{default['model_id']}`" in CARD
    for sub in {default["default"], *default["routes"].values()}:
        config = json.loads((MODELS / sub / "voxwatch_model.json").read_text(encoding="utf-8"))
        assert f"`{config['model_id']}`" in CARD


def test_the_wheel_leaves_the_training_scripts_out_and_the_card_names_them() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert "sentiment.training*" in project["tool"]["setuptools"]["packages"]["find"]["exclude"]
    scripts = Path(__file__).parent.parent / "sentiment" / "training"
    for script in ("train", "train_english", "train_chinese", "train_chinese_lexical"):
        assert (scripts / f"{script}.py").is_file()
        assert f"python -m sentiment.training.{script} --data" in CARD


def test_the_cjk_route_figures_are_in_the_card() -> None:
    """Agreement with the engine and the Japanese/Korean figures that chose the CJK routes
    (speeds vary from run to run, so the card gives ranges from the benchmark instead)."""
    metrics = json.loads((MODELS / "e5-head-zh-torch" / "metrics.json").read_text(encoding="utf-8"))
    chinese = metrics["chinese_engine_vs_torch"]
    for key in ("label_agreement", "int8_label_agreement", "max_probability_gap"):
        assert f"{chinese[key]:.3f}" in CARD
    for by_model in metrics["ja_ko_macro_f1"].values():
        for figure in by_model.values():
            assert f"{figure:.3f}" in CARD


def test_the_chinese_ngram_figures_are_in_the_card() -> None:
    """Every figure of the Chinese route with n-grams, and those of the held-out categories
    for the chosen C and weight (and the head and n-grams alone), which chose them."""
    metrics = json.loads((MODELS / "e5-head-zh-lex" / "metrics.json").read_text(encoding="utf-8"))
    config = json.loads((MODELS / "e5-head-zh-lex" / "voxwatch_model.json").read_text(encoding="utf-8"))
    categories = metrics.pop("shopping_categories_held_out")
    for name, value in metrics.items():
        assert f"{value:.3f}" in CARD, f"e5-head-zh-lex {name} = {value:.3f} is not in MODEL_CARD.md"
    c = config["lexical"]["C"]
    for weight in (0.0, config["lexical"]["weight"], 1.0):
        for figure in categories[f"C={c} weight={weight}"].values():
            assert f"{figure:.3f}" in CARD, f"held-out categories C={c} weight={weight}: {figure:.3f}"
