"""Example workloads to benchmark: real algorithms whose time, memory and quality depend on
their hyperparameters, so that hadac has something honest to measure and dimension.

`vpp` holds the energy management of a virtual power plant over one day, solved on-line by
ANTICIPATE (two-stage stochastic LPs, `nScenarios`) and CONTINGENCY (off-line plans,
`nTraces`).
"""
