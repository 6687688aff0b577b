"""The reliability trials and the test doubles they run on, shared by bench and tests.

`python -m bench.reliability` runs every scenario with many trials; tests/reliability runs the
same scenarios bounded, and other tests reuse the doubles (a stub POS API, a dripping server,
`possync serve` in a subprocess, loopback alert endpoints) and the comparisons with the
simulator's truth. bench imports nothing from tests/ (tests/structure/test_bench_imports.py).
"""
