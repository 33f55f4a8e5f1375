#!/bin/sh
# Issue 14's acceptance table: coverage of the intervals `fit` stores (each backtest fold's
# forecast gets the interval calibrated by a backtest of that fold's fit runs alone:
# `backtest --nested`). Run from the repo root after `python3 docs/studies/ladders_prep.py`.
# Writes one JSON per data set into ${OUT:-/tmp/coverage}; tables.py-style summary:
#   python3 docs/studies/interval_coverage_table.py ${OUT:-/tmp/coverage}
set -e
LC=${LOSSCAST:-target/release/losscast}
OUT=${OUT:-/tmp/coverage}
mkdir -p "$OUT"
L=docs/studies/ladders
run() { name=$1; shift; echo "== $name"; "$LC" backtest --nested --json --residuals "$OUT/$name-residuals.csv" "$@" > "$OUT/$name.json" 2>/dev/null || echo "failed: $name"; }
for m in mpl400 mpl100 mpl25 tissue2024 pile_t5; do run $m --manifest data/$m.toml; done
run mpl_joint --manifest data/mpl_joint.toml --task size
run gemstones --manifest $L/gemstones.toml --task truncate
for m in olmo_v1 olmo_v1_twin; do run $m --manifest $L/$m.toml --task truncate; done
run lamda --manifest $L/lamda_revisiting.toml --task truncate,size
run gpt3 --manifest $L/gpt3.toml --task size --laws collapse,joint-scaled,joint-additive
run pile_t5_size --manifest data/pile_t5_20k.toml --task size --laws collapse,joint-scaled,joint-additive
