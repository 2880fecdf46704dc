"""Replay: run one connector's parser on a saved response, with no network.

Anyone can check a parser against a real page: a saved body (feed, page, JSON),
or a recorded cassette (vcrpy YAML, betamax JSON), whose responses are each
parsed and the mentions merged, first occurrence kept.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from flows.sources import parse_response, source_module
from sentiment.lang import detect_language
from voxwatch.domain import Mention, RawResponse
from voxwatch.errors import ParseError, VoxWatchError

log = logging.getLogger(__name__)


def _cassette_bodies(data: Any) -> list[tuple[str, bytes, dict[str, str]]] | None:
    """``(url, body, headers)`` for each recorded response, or None if not a cassette.

    vcrpy keeps its recordings under ``interactions``, betamax under
    ``http_interactions``; both record the request URI and the response body alike.
    """
    if not isinstance(data, dict):
        return None
    items = data.get("interactions", data.get("http_interactions"))
    if not isinstance(items, list):
        return None
    out = []
    for item in items:
        response = item.get("response", {})
        body = response.get("body", {}).get("string", "")
        headers = {
            k.lower(): v[0] if isinstance(v, list) else v for k, v in response.get("headers", {}).items()
        }
        out.append((item.get("request", {}).get("uri", "?"), str(body).encode("utf-8"), headers))
    return out


def _load_cassette(path: Path, body: bytes) -> list[tuple[str, bytes, dict[str, str]]] | None:
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            return _cassette_bodies(yaml.safe_load(body))
        except yaml.YAMLError as exc:
            raise VoxWatchError(f"{path}: not a readable YAML cassette ({exc})") from exc
    if path.suffix.lower() == ".json":
        try:
            return _cassette_bodies(json.loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None  # a plain JSON response body, not a cassette
    return None


def replay_file(kind: str, path: Path) -> list[Mention]:
    """The mentions ``kind``'s parser finds in ``path``, each with its language."""
    try:
        source_module(kind)
    except ValueError as exc:
        raise VoxWatchError(str(exc)) from None
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise VoxWatchError(f"cannot read {path}: {exc.strerror or exc}") from exc
    now = datetime.now(UTC)
    recorded = _load_cassette(path, body)
    if recorded is None:
        page = parse_response(kind, RawResponse(path.resolve().as_uri(), 200, {}, body, now))
        mentions = page.mentions
    else:
        mentions, seen = [], set()
        for url, recorded_body, headers in recorded:
            try:
                page = parse_response(kind, RawResponse(url, 200, headers, recorded_body, now))
            except ParseError as exc:
                log.info("skipped a recorded response: %s", exc)
                continue
            for mention in page.mentions:
                if mention.external_id not in seen:
                    seen.add(mention.external_id)
                    mentions.append(mention)
    return [m if m.lang else replace(m, lang=detect_language(m.text)) for m in mentions]
