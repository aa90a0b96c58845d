#!/usr/bin/env bash
# The README "Scaling out" runbook on one machine, addresses of 127.0.0.0/8 standing for hosts:
# S3 on 127.0.0.6, PostgreSQL on 127.0.0.7, Spark master 127.0.0.2 with workers 127.0.0.3 and
# 127.0.0.4, the driver on 127.0.0.5; then `pilehouse run` in the cluster profile.
#
#   bash infra/cluster_trial.sh [WORK_DIR]      # default var/cluster-trial (emptied first)
#
# Needs `python` and `pilehouse` of the project's venv on PATH (PATH=.venv/bin:$PATH).
set -euo pipefail
W=$(realpath -m "${1:-var/cluster-trial}")
rm -rf "$W"; mkdir -p "$W"; chmod 755 "$W"  # under root, PostgreSQL runs as `postgres`
S3_PID= SPARK_PID=
stop() {
  [[ -n $SPARK_PID ]] && kill "$SPARK_PID" && wait "$SPARK_PID"
  python -m infra.postgres stop "$W/postgres" || true
  [[ -n $S3_PID ]] && kill "$S3_PID" && wait "$S3_PID"
}
trap stop EXIT
set -x
# 1. Object store. Any key pair: it becomes the trial server's admin identity.
export AWS_ACCESS_KEY_ID=pilehouse
AWS_SECRET_ACCESS_KEY=$(python -c 'import secrets; print(secrets.token_hex(20))')
export AWS_SECRET_ACCESS_KEY
python -m infra.seaweedfs "$W/s3" --host 127.0.0.6 --port 18333 --bucket lake >"$W/s3.out" &
S3_PID=$!
until grep -q PILEHOUSE_S3_ENDPOINT_URL "$W/s3.out"; do sleep 1; done
eval "$(cat "$W/s3.out")"
# 2. PostgreSQL with the dagster and mlflow databases.
eval "$(python -m infra.postgres start "$W/postgres" --host 127.0.0.7 --port 15433 --env)"
# 3. Spark standalone master and two workers.
python -m infra.spark_cluster --work-dir "$W/spark" --host 127.0.0.2 --port 17077 \
  --worker-hosts 127.0.0.3,127.0.0.4 --cores 1 --memory 2g --gpus 0 >"$W/spark.out" 2>&1 &
SPARK_PID=$!
until grep -q "Spark master" "$W/spark.out"; do sleep 1; done
# 4. The pipeline in the cluster profile.
export PILEHOUSE_PROFILE=cluster PILEHOUSE_HOME="$W/home"
export PILEHOUSE_SPARK_MASTER=spark://127.0.0.2:17077
export PILEHOUSE_SPARK_DRIVER_HOST=127.0.0.5 PILEHOUSE_SPARK_DRIVER_BIND_ADDRESS=127.0.0.5
export PILEHOUSE_LAKE_URI=s3://lake/tables PILEHOUSE_LANDING_URI=s3://lake/landing
export PILEHOUSE_SPARK_CONF='{"spark.cores.max": "2", "spark.executor.cores": "1", "spark.executor.memory": "1g", "spark.driver.memory": "2g"}'
pilehouse run --pages 40
pilehouse sql "SELECT count(*) AS curated_web FROM curated.web"
python -c 'from orchestration.settings import load_settings; print(load_settings().mlflow_artifacts_uri)'
