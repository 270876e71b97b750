"""Encoders: turn fitted surrogates and the spec into a MiniZinc model and its data.

Two model shapes. When every param has a finite domain and the configurations (an
algorithm on a hardware with one value of each param) are few enough, the *enumerated*
model tabulates every quantity over them and compares integer ranks: exact, and the same
for every solver (`tables`, `render`). Otherwise the *MIP* model encodes each surrogate by
its own structure over param variables (`mip`, with each kind's encoding in
`hadac.surrogates`). `model.encode` chooses the shape and builds either; `quantities` says
what a query can bound and optimise. The package imports nothing itself, so that reading a
build (`names`) costs no encoder.
"""
