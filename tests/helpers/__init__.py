"""Test helpers: synthetic datasets following TIMESERIES_SCHEMA and a tiny fake engine."""
