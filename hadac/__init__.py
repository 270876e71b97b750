"""hadac: a compiler for sustainable hardware dimensioning.

A `.hada` spec names hardware platforms, algorithms with their hyperparameters, benchmark
data and the observables to predict; hadac fits surrogate models of the observables, encodes
them in a MiniZinc model together with the user's constraints and objective, and solves it.
"""

__version__ = "0.1.0"
