"""Great Expectations suites for lake tables and the Dagster asset checks that run them."""
