"""Language identifiers on short texts: accuracy per language, texts/s and memory, in one run.

python bench/langid_report.py [--data ../shared/data/sentiment] [--zh 300]

Which identifier should route a mention to its language's model? The texts are the
ones a brand hears: the multilingual tweet validation split (2,592 tweets, 324 in
each of ar, de, en, es, fr, hi, it, pt; ``lang`` field) plus the first ``--zh``
Chinese food-delivery reviews. Each identifier runs in a fresh process (so its
peak memory is its own), on one thread, one text per call as the scorer would
call it. Accuracy is reported on the raw text and on the text with what tweets
share across languages removed (``@user``, ``http...``, ``RT``, ``#``), which is
cheap to do before identifying.

Identifiers: our own ``sentiment.lang`` (script + English stop words; answers
only en/zh/ja/ko or ``und``), ``py3langid`` (naive Bayes over byte n-grams, 97
languages, or restricted to the languages we serve) and
``lingua-language-detector`` (n-gram models up to 5-grams plus rules, 75
languages or restricted; high and low accuracy modes). Both packages carry their
models in the wheel.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "sentiment"
# What the routes serve: the nine languages, and the two CJK ones the current route names.
SERVED = ("ar", "de", "en", "es", "fr", "hi", "it", "pt", "zh", "ja", "ko")
IDENTIFIERS = (
    "sentiment.lang",
    "py3langid (97 languages)",
    "py3langid (served 11)",
    "lingua (75 languages)",
    "lingua (served 11)",
    "lingua (served 11, low accuracy)",
)
_NOISE = re.compile(r"@\w+|https?://\S*|\bhttp\b|\bRT\b|#")


def clean(text: str) -> str:
    """The tweet without mentions, links, retweet marks and hash signs."""
    return " ".join(_NOISE.sub(" ", text).split())


def load_texts(data: Path, zh_count: int) -> list[tuple[str, str]]:
    """``(text, language)`` pairs: the multilingual validation tweets, then Chinese reviews."""
    pairs: list[tuple[str, str]] = []
    with (data / "multi_tweets_val.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            pairs.append((row["text"], row["lang"]))
    with (data / "zh_waimai_train.jsonl").open(encoding="utf-8") as lines:
        for line, _ in zip(lines, range(zh_count), strict=False):
            pairs.append((json.loads(line)["text"], "zh"))
    return pairs


def make_identifier(name: str) -> Callable[[str], str]:
    """A function text -> ISO 639-1 code (or ``und``) for one of ``IDENTIFIERS``."""
    if name == "sentiment.lang":
        sys.path.insert(0, str(ROOT))
        from sentiment.lang import detect_language

        return detect_language
    if name.startswith("py3langid"):
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
        if "served" in name:
            identifier.set_languages(list(SERVED))
        return lambda text: str(identifier.classify(text)[0])
    if name.startswith("lingua"):
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        if "served" in name:
            builder = LanguageDetectorBuilder.from_iso_codes_639_1(
                *(getattr(IsoCode639_1, code.upper()) for code in SERVED)
            )
        else:
            builder = LanguageDetectorBuilder.from_all_languages()
        if "low accuracy" in name:
            builder = builder.with_low_accuracy_mode()
        detector = builder.build()

        def detect(text: str) -> str:
            language = detector.detect_language_of(text)
            return "und" if language is None else language.iso_code_639_1.name.lower()

        return detect
    raise SystemExit(f"unknown identifier {name!r}")


SCRIPTS = {"ar": ("ARABIC", "Arabic"), "hi": ("DEVANAGARI", "Devanagari"), "zh": ("CJK UNIFIED", "Han")}


def script_note(pairs: list[tuple[str, str]]) -> str:
    """How many texts of each non-Latin language are written in that language's script.

    The Hindi tweets (SAIL 2015) are romanised Hindi and Hindi-English code-mixing in
    Latin letters, which no identifier here can call Hindi.
    """
    import unicodedata

    parts = []
    for lang, (prefix, script) in SCRIPTS.items():
        texts = [text for text, lang_ in pairs if lang_ == lang]
        written = sum(any(unicodedata.name(c, "").startswith(prefix) for c in text) for text in texts)
        parts.append(f"{lang}: {written}/{len(texts)} in {script} script")
    return "; ".join(parts)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_one(name: str, data: Path, zh_count: int) -> dict[str, object]:
    """Run one identifier over the texts; called in a fresh process."""
    pairs = load_texts(data, zh_count)
    before = rss_mb()
    start = time.perf_counter()
    identify = make_identifier(name)
    identify("warm up: load the models now")  # lingua loads its models lazily, on first use
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    raw = [identify(text) for text, _lang in pairs]
    seconds = time.perf_counter() - start
    cleaned = [identify(clean(text)) for text, _lang in pairs]
    per_lang: dict[str, list[int]] = {}
    confusions: Counter[tuple[str, str]] = Counter()
    for (_text, lang), got, got_clean in zip(pairs, raw, cleaned, strict=True):
        counts = per_lang.setdefault(lang, [0, 0, 0])
        counts[0] += got == lang
        counts[1] += got_clean == lang
        counts[2] += 1
        if got_clean != lang:
            confusions[(lang, got_clean)] += 1
    others = [(lang, got) for (_t, lang), got in zip(pairs, cleaned, strict=True) if lang != "hi"]
    return {
        "name": name,
        "accuracy_clean_without_hi": sum(got == lang for lang, got in others) / len(others),
        "accuracy": sum(got == lang for (_t, lang), got in zip(pairs, raw, strict=True)) / len(pairs),
        "accuracy_clean": sum(got == lang for (_t, lang), got in zip(pairs, cleaned, strict=True))
        / len(pairs),
        "per_lang": {lang: [c[0] / c[2], c[1] / c[2]] for lang, c in sorted(per_lang.items())},
        "texts_per_s": len(pairs) / seconds,
        "load_s": load_s,
        "rss_mb": rss_mb(),
        "rss_added_mb": rss_mb() - before,
        "und": sum(got == "und" for got in raw),
        "top_confusions": [f"{a}->{b} {n}" for (a, b), n in confusions.most_common(4)],
        "n": len(pairs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--zh", type=int, default=300, help="Chinese reviews to add (default 300)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one identifier, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.data, args.zh)))
        return

    env = {**os.environ, "OMP_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1"}
    results = []
    for name in IDENTIFIERS:
        out = subprocess.run(
            [sys.executable, __file__, "--data", str(args.data), "--zh", str(args.zh), "--one", name],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if out.returncode:
            print(f"{name}: failed\n{out.stderr.strip()[-2000:]}", file=sys.stderr)
            continue
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if not results:
        raise SystemExit("no identifier ran")

    langs = list(results[0]["per_lang"])
    print(
        f"{results[0]['n']} texts: 2,592 tweets (324 per language) + {args.zh} Chinese reviews; one thread\n"
    )
    print(script_note(load_texts(args.data, args.zh)) + "\n")
    columns = ("acc", "clean", "no hi", "texts/s", "load s", "RSS MB")
    head = f"{'identifier':34} " + " ".join(f"{c:>7}" for c in columns) + "  und"
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r['name']:34} {r['accuracy']:7.3f} {r['accuracy_clean']:7.3f}"
            f" {r['accuracy_clean_without_hi']:7.3f} {r['texts_per_s']:7.0f}"
            f" {r['load_s']:7.1f} {r['rss_mb']:7.0f}  {r['und']}"
        )
    print(
        "\nacc: raw text; clean: without @user, links, RT, '#'; no hi: clean, Hindi left out;"
        " RSS: the process's peak, data included; und: no answer on raw text"
    )
    print("\naccuracy per language, on cleaned text (raw in brackets)")
    print(f"{'identifier':34} " + " ".join(f"{lang:>11}" for lang in langs))
    for r in results:
        cells = " ".join(f"{r['per_lang'][lang][1]:5.2f}({r['per_lang'][lang][0]:4.2f})" for lang in langs)
        print(f"{r['name']:34} {cells}")
    print("\nmost frequent errors on cleaned text (true->said count)")
    for r in results:
        print(f"{r['name']:34} {', '.join(r['top_confusions'])}")


if __name__ == "__main__":
    main()
