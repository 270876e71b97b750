"""The CP model's fixed point: how large its integer sums may grow (`hadac.encode.cp`), and
what stands for "no bound" in a query's data (`hadac.cpsolve`). Its own module, so that a
solve reads these without importing the encoder."""

# The largest magnitude of a fixed-point sum's shares: Chuffed (WebAssembly) fails on
# domains wider than about 3 x 10^8, and Gecode's ints stop at 2^31 - 2.
LIMIT = 10**7
SUM_LIMIT = 2 * LIMIT  # bounds every sum: shares of at most LIMIT and one unit per tree
BIG = 2 * 10**9  # a query's "no bound", beyond every sum and within 32 bits
