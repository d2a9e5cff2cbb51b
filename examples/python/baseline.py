"""Experiment 1 in CPython: three bumps (argument: list or array)."""
import sys
from seed import three_calls

three_calls(sys.argv[1] if len(sys.argv) > 1 else "list")
