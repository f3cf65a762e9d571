"""The lecture exercises, built on the toolkit: the 5x7 characters (`characters`, `font`) and JSON sweeps
(`experiment` parses and runs one configuration, `sweep` runs a whole grid)."""
