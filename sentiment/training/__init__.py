"""The scripts that trained and checked the shipped models; not part of the installed package.

Run them from a checkout of the repository (``python -m sentiment.training.train
--data ../shared/data/sentiment``); ``sentiment/MODEL_CARD.md`` says what each
one reproduces. The wheel leaves this folder out (``pyproject.toml``), because a
user scoring text needs the models, not the recipes and their data readers.
"""
