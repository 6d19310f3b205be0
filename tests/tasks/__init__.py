"""Tests of the Prefect tasks and the engines behind them."""
