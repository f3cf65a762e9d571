"""Command-line front ends; scripts/*.py and the console scripts are thin wrappers over them."""
