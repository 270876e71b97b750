"""hadac: a compiler for sustainable hardware dimensioning.

A `.hada` spec names hardware platforms, algorithms with their hyperparameters, benchmark
data and the observables to predict; hadac fits surrogate models of the observables, encodes
them in a MiniZinc model together with the user's constraints and objective, and solves it.
"""

__version__ = "0.1.0"

# `hadac.load` and `hadac.Study` come from hadac.api on first use, so that `import hadac`
# loads nothing else (a command's start-up time is its imports').
_API = ("load", "Study", "HadacError")


def __getattr__(name: str):
    if name in _API:
        import hadac.api

        return getattr(hadac.api, name)
    raise AttributeError(f"module 'hadac' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
