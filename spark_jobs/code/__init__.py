"""The code corpus family: repositories (directories or tarballs) to one row per source file."""

from spark_jobs.code.reader import CodeRepoReader

__all__ = ["CodeRepoReader"]
