"""The one settings object: a profile from profiles.yaml, overridden by PILEHOUSE_* env vars.

The only module that reads PILEHOUSE_* variables or finds the configuration files under
orchestration/; the engine and the gates receive what they need as arguments.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, ValidationError, create_model, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from spark_jobs.config_files import (
    ConfigError,
    ConfigFile,
    ConfigModel,
    first_problem,
    read_config,
    suggestion,
)
from spark_jobs.session import SessionLayout, parse_bytes
from spark_jobs.storage import ObjectStore

# The configuration files a user edits ship with the code location (orchestration/).
CONFIG_DIR = Path(__file__).resolve().parents[1] / "orchestration"
PROFILES_FILE = CONFIG_DIR / "profiles.yaml"
# Curation falls back to the shipped dedup settings when the recipes directory has none.
SHIPPED_DEDUP_CONFIG = CONFIG_DIR / "recipes" / "dedup.yaml"
# How messages name the PILEHOUSE_* variables, which come from no file.
ENVIRONMENT = "environment"


class ProfileSource(PydanticBaseSettingsSource):
    """Reads the selected profile's block from profiles.yaml (below env vars in priority)."""

    def get_field_value(self, field, field_name):  # pragma: no cover - unused by __call__
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        profile = os.environ.get("PILEHOUSE_PROFILE", "local")
        config = read_profiles()
        profiles = config.data or {}
        if profile not in profiles:
            raise ConfigError(
                ENVIRONMENT,
                f"{profile!r} is not a profile of {config.name}{suggestion(profile, profiles)}; "
                f"allowed: {', '.join(profiles)}",
                key="PILEHOUSE_PROFILE",
            )
        return {"profile": profile, **(profiles[profile] or {})}


class Settings(BaseSettings):
    """Where Pilehouse keeps its data and which engines it uses."""

    model_config = SettingsConfigDict(env_prefix="PILEHOUSE_", extra="ignore")

    profile: Literal["local", "cluster"] = "local"
    # Root of everything the embedded profile writes (lake, landing zone, Dagster, MLflow).
    home: Path = Field(default_factory=lambda: Path("var").resolve())
    lake_uri: str = ""
    landing_uri: str = ""
    spark_master: str = "local[*]"
    spark_conf: dict[str, str] = Field(default_factory=dict)
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    # How long S3 may take to answer before a write or read fails (docs/storage.md).
    s3_connect_timeout_s: float = 2.0
    s3_request_timeout_s: float = 30.0
    s3_max_retries: int = 2
    # Only for a store without conditional put and one writer per table (docs/storage.md).
    s3_allow_unsafe_rename: bool = False
    mlflow_tracking_uri: str = ""
    # Where new experiments keep their artifacts (models, manifests). Empty: beside the SQLite
    # store under home, or s3://<lake bucket>/mlflow when the lake is on S3, so that every
    # machine of a cluster reaches them.
    mlflow_artifacts_uri: str = ""
    mlflow_experiment: str = "pilehouse"
    # Dagster storage on Postgres in the cluster profile; SQLite under home otherwise.
    dagster_postgres_url: str | None = None
    # The source registry and the directory of curation recipes (<corpus>-default.yaml).
    sources_file: Path = CONFIG_DIR / "sources.yaml"
    recipes_dir: Path = CONFIG_DIR / "recipes"
    # The training-mixture recipes (<name>.yaml), one mixtures/<name> asset each.
    mixtures_dir: Path = CONFIG_DIR / "mixtures"
    # Synthetic-data recipes (<name>.yaml), one synthetic.<name> table each.
    synthetic_dir: Path = CONFIG_DIR / "synthetic"
    # Benchmark JSONL files or directories, separated by os.pathsep; empty: the bundled sample.
    benchmarks: str = ""
    # Web pages of the bundled sample (the generators' range; see spark_jobs/samples/bundled.py).
    sample_pages: int = Field(2000, ge=40, le=200_000)
    sample_seed: int = 0
    # `pilehouse ui` serves Data Docs and reports over http on this loopback port; asset and
    # check metadata link to outputs_base_url (default http://127.0.0.1:<outputs_port>), which
    # a deployment points at wherever it serves the same directories.
    outputs_port: int = Field(3001, ge=1, le=65535)
    outputs_base_url: str = ""
    # How Spark spreads over the machines (spark_jobs.session.SessionLayout); only the local
    # profile binds the driver to loopback. Empty/None: derived (see docs/scaling.md).
    spark_driver_host: str | None = None
    spark_driver_bind_address: str | None = None
    spark_cores: int | None = None
    spark_tasks_per_core: int = 2
    spark_shuffle_partitions_per_core: int = 4
    spark_max_records_per_file: int = 500_000
    spark_max_bytes_per_file: str = "512m"
    spark_max_partition_bytes: str = "128m"

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        return (init_settings, env_settings, ProfileSource(settings_cls))

    @field_validator("spark_max_bytes_per_file")
    @classmethod
    def _a_size(cls, value: str) -> str:
        parse_bytes(value)  # ValueError: "… is not a size in bytes (e.g. …)"
        return value

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        self.home = Path(self.home).resolve()
        self.lake_uri = self.lake_uri or str(self.home / "lake")
        self.landing_uri = self.landing_uri or str(self.home / "landing")
        self.mlflow_tracking_uri = self.mlflow_tracking_uri or f"sqlite:///{self.home}/mlflow.db"
        self.mlflow_artifacts_uri = self.mlflow_artifacts_uri or default_artifacts_uri(
            self.lake_uri, self.home
        )
        if self.s3_endpoint_url and self.mlflow_artifacts_uri.startswith("s3://"):
            # MLflow's S3 artifact client (boto3, credentials from the environment) takes
            # its endpoint from this variable only.
            os.environ["MLFLOW_S3_ENDPOINT_URL"] = self.s3_endpoint_url
        self.outputs_base_url = self.outputs_base_url or f"http://127.0.0.1:{self.outputs_port}"
        return self

    @property
    def dagster_home(self) -> Path:
        return Path(os.environ.get("DAGSTER_HOME") or self.home / "dagster")

    @property
    def spark_layout(self) -> SessionLayout:
        return SessionLayout(
            driver_host=self.spark_driver_host,
            driver_bind_address=self.spark_driver_bind_address,
            cores=self.spark_cores,
            tasks_per_core=self.spark_tasks_per_core,
            shuffle_partitions_per_core=self.spark_shuffle_partitions_per_core,
            max_records_per_file=self.spark_max_records_per_file,
            max_bytes_per_file=self.spark_max_bytes_per_file,
            max_partition_bytes=self.spark_max_partition_bytes,
        )

    @property
    def store(self) -> ObjectStore:
        return ObjectStore(
            endpoint_url=self.s3_endpoint_url,
            region=self.s3_region,
            connect_timeout_s=self.s3_connect_timeout_s,
            request_timeout_s=self.s3_request_timeout_s,
            max_retries=self.s3_max_retries,
            allow_unsafe_rename=self.s3_allow_unsafe_rename,
        )

    @property
    def dedup_config_file(self) -> Path:
        """dedup.yaml in the recipes directory, or the shipped one when it has none."""
        path = Path(self.recipes_dir) / "dedup.yaml"
        return path if path.exists() else SHIPPED_DEDUP_CONFIG

    @property
    def benchmark_locations(self) -> list[Path]:
        """The benchmark files or directories named by `benchmarks` (empty: none named)."""
        return [Path(part) for part in self.benchmarks.split(os.pathsep) if part]

    def table_uri(self, name: str) -> str:
        """The URI of a lake table given its dotted name, e.g. 'curated.web'."""
        return f"{self.lake_uri.rstrip('/')}/{name.replace('.', '/')}"


def default_artifacts_uri(lake_uri: str, home: Path) -> str:
    """MLflow's artifact root when none is set: the lake's bucket if on S3, else under home."""
    if lake_uri.startswith("s3://"):
        bucket = lake_uri.removeprefix("s3://").split("/", 1)[0]
        return f"s3://{bucket}/mlflow"
    return str(home / "mlflow-artifacts")


def _profile_model() -> type[ConfigModel]:
    """One block of profiles.yaml: any Settings field but `profile`, each optional."""
    return create_model(
        "Profile",
        __base__=ConfigModel,
        **{
            name: (info.annotation, Field(None, description=info.description))
            for name, info in Settings.model_fields.items()
            if name != "profile"
        },
    )


Profile = _profile_model()
ProfilesFile = create_model(
    "ProfilesFile",
    __base__=ConfigModel,
    **{
        name: (Profile | None, Field(None, description="settings that differ from the defaults"))
        for name in get_args(Settings.model_fields["profile"].annotation)
    },
)


def read_profiles(path: Path = PROFILES_FILE) -> ConfigFile:
    """profiles.yaml, checked: unknown profiles and keys and wrong types raise ConfigError."""
    config = read_config(path)
    config.validate(ProfilesFile)
    return config


def load_settings(**overrides: Any) -> Settings:
    """The settings; a mistake in profiles.yaml or a PILEHOUSE_* variable raises ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        loc, problem = first_problem(Settings, error)
        raise ConfigError(ENVIRONMENT, problem, key=f"PILEHOUSE_{str(loc[0]).upper()}") from None
    except SettingsError as error:
        # pydantic-settings names the field it could not parse (dicts and lists are JSON).
        field = re.search(r'field "(\w+)"', str(error))
        if field is None:
            raise ConfigError(ENVIRONMENT, str(error)) from None
        raise ConfigError(
            ENVIRONMENT,
            "not valid JSON; allowed: a JSON value",
            key=f"PILEHOUSE_{field[1].upper()}",
        ) from None
