"""Reporters: they turn the runner's results into text; they never decide verdicts."""
