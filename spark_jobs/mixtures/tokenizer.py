"""The mixture tokenizer: a byte-level BPE trained on a sample of curated text, or a file.

A tokenizer's version is the hash of its serialized form, so the same sample and vocabulary
size give the same version on every machine (BPE training in `tokenizers` is deterministic).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import mlflow
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from spark_jobs.tracking import ensure_experiment

END_OF_TEXT = "<|endoftext|>"
TOKENIZER_EXPERIMENT = "pilehouse-tokenizers"
VERSION_TAG = "tokenizer.version"


@dataclass(frozen=True)
class MixtureTokenizer:
    """A tokenizer with its version and where it came from."""

    tokenizer: Tokenizer
    version: str
    origin: str  # "trained" or the path of the user's file
    mlflow_run_id: str | None = None
    artifact_uri: str | None = None

    @property
    def eos_id(self) -> int:
        token = self.tokenizer.token_to_id(END_OF_TEXT)
        if token is None:
            raise ValueError(
                f"tokenizer {self.version} ({self.origin}) has no {END_OF_TEXT} token; "
                "add it as a special token so documents can be separated in packed shards"
            )
        return token

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    def to_json(self) -> str:
        return self.tokenizer.to_str()


def _version(tokenizer: Tokenizer) -> str:
    return hashlib.sha256(tokenizer.to_str().encode()).hexdigest()[:16]


def train_bpe(texts: Iterable[str], vocab_size: int) -> MixtureTokenizer:
    """Train a byte-level BPE (GPT-2 style pre-tokenization) with an end-of-text token."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[END_OF_TEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return MixtureTokenizer(tokenizer, _version(tokenizer), "trained")


def load_tokenizer_file(path: str | Path) -> MixtureTokenizer:
    """A user's tokenizer.json (Hugging Face `tokenizers` format)."""
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as error:
        raise ValueError(
            f"{path} is not a readable tokenizer.json ({error}); "
            "save one with tokenizers.Tokenizer.save()"
        ) from error
    return MixtureTokenizer(tokenizer, _version(tokenizer), str(path))


def tokenizer_from_json(text: str, origin: str = "manifest") -> MixtureTokenizer:
    tokenizer = Tokenizer.from_str(text)
    return MixtureTokenizer(tokenizer, _version(tokenizer), origin)


def log_tokenizer(
    tok: MixtureTokenizer,
    tracking_uri: str,
    *,
    experiment: str = TOKENIZER_EXPERIMENT,
    artifact_location: str | None = None,
) -> MixtureTokenizer:
    """Version the tokenizer as an MLflow artifact; reuse the run that already holds it."""
    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient(tracking_uri)
    experiment_id = ensure_experiment(tracking_uri, experiment, artifact_location)
    existing = client.search_runs(
        [experiment_id], filter_string=f"tags.`{VERSION_TAG}` = '{tok.version}'", max_results=1
    )
    if existing:
        run = existing[0]
    else:
        run = client.create_run(
            experiment_id,
            run_name=f"tokenizer-{tok.version}",
            tags={VERSION_TAG: tok.version, "tokenizer.origin": tok.origin},
        )
        client.log_param(run.info.run_id, "vocab_size", tok.vocab_size)
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "tokenizer.json"
            path.write_text(tok.to_json())
            client.log_artifact(run.info.run_id, str(path))
        client.set_terminated(run.info.run_id)
    run_id = run.info.run_id
    return MixtureTokenizer(
        tok.tokenizer,
        tok.version,
        tok.origin,
        mlflow_run_id=run_id,
        artifact_uri=f"runs:/{run_id}/tokenizer.json",
    )
