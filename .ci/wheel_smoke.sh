#!/usr/bin/env bash
# The wheel works outside the checkout: build it, install it into a clean venv, and from an
# empty directory run `pilehouse validate`, ingest + annotate a tiny generated crawl with Spark,
# and query the result with `pilehouse sql`.
#
# The clean venv gets the wheel alone (--no-deps); its dependencies come from the project's
# venv through a path in a .pth file, so nothing is downloaded. That path adds no site
# directory: the project's editable install (its own .pth files) stays inactive, and every
# Pilehouse module must come from the wheel (checked below).
#
#   .ci/wheel_smoke.sh [PYTHON]      # default: .venv/bin/python
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${1:-$ROOT/.venv/bin/python}
WORK=$(mktemp -d /tmp/pilehouse-wheel-smoke.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$PYTHON" -m pip wheel --no-deps --no-build-isolation -q -w "$WORK/dist" "$ROOT"
WHEEL=$(ls "$WORK"/dist/pilehouse-*.whl)
DEPS=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
BASE=$("$PYTHON" -c 'import sys; print(sys.base_prefix)')/bin/python3
"$BASE" -m venv "$WORK/venv"
VENV_SITE=$("$WORK/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$DEPS" >"$VENV_SITE/_pilehouse_deps.pth"
"$WORK/venv/bin/python" -m pip install -q --no-deps --no-index "$WHEEL"

mkdir "$WORK/run"
cd "$WORK/run"
# Nothing of the checkout on the path: only what the wheel installed.
unset PYTHONPATH
export PILEHOUSE_HOME="$WORK/run/var"
"$WORK/venv/bin/python" - "$VENV_SITE" <<'EOF'
import sys

import assets, infra, orchestration, quality, spark_jobs
import spark_jobs.annotators.quality  # reads its rule files (package data)

site = sys.argv[1]
for package in (assets, infra, orchestration, quality, spark_jobs):
    assert package.__file__.startswith(site), f"{package.__name__} from {package.__file__}"
print("wheel modules: every package from", site)
EOF
"$WORK/venv/bin/pilehouse" validate
"$WORK/venv/bin/python" - <<'EOF'
from spark_jobs import stages
from spark_jobs.lake import Lake
from spark_jobs.samples.web import generate_web_sample
from spark_jobs.session import get_spark
from spark_jobs.settings import load_settings
from spark_jobs.sources import Source

settings = load_settings()
generate_web_sample(f"{settings.landing_uri}/smoke", pages=40, files=1, seed=0)
source = Source("smoke", "web", f"{settings.landing_uri}/smoke", "warc", "CC-BY-4.0")
spark = get_spark("local[1]", app_name="wheel-smoke")
lake = Lake(settings.lake_uri, settings.store)
ingested = stages.ingest_source(spark, lake, source, run_id="wheel-smoke", metadata={})
annotated = stages.annotate_source(spark, lake, "web", "smoke", metadata={})
spark.stop()
print("ingest:", ingested.counts, "annotate:", annotated.counts)
assert ingested.counts["kept"] > 0 and annotated.counts["annotated"] == ingested.counts["kept"]
EOF
"$WORK/venv/bin/pilehouse" sql "SELECT count(*) AS documents, count(DISTINCT language) AS languages FROM annotated.web"
echo "wheel smoke: ok ($(basename "$WHEEL"))"
