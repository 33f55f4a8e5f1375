#!/bin/sh
# The size backtests of the last section of collapse-feasibility.md. Run from the repo root
# after `python3 docs/studies/ladders_prep.py` (which needs ../shared beside the repo).
set -e
LC=${LOSSCAST:-target/release/losscast}
for m in data/pile_t5_20k.toml data/mpl_joint.toml docs/studies/ladders/gpt3.toml \
    docs/studies/ladders/gzip_0.12.toml docs/studies/ladders/gzip_0.23.toml \
    docs/studies/ladders/gzip_0.33.toml docs/studies/ladders/gzip_0.45.toml \
    docs/studies/ladders/gzip_0.61.toml; do
    echo "== $m"
    "$LC" backtest --manifest "$m" --task size --laws collapse,joint-scaled,joint-additive 2>&1 \
        | grep -v '^warning' | sed -n '/^size$/,$p'
done
