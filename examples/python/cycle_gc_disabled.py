"""Experiment 3 in CPython: a list that holds itself, gc disabled: stairs."""
import gc
from seed import three_calls

gc.disable()
three_calls("list", self_ref=True)
