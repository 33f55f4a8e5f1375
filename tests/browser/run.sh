#!/usr/bin/env bash
# The browser test of `losscast report`: writes two reports (the MPL 400M study, and a run whose
# name is an XSS attempt) and checks them in Debian's Chromium driven by playwright-core. Run by
# ./check; .ci/run installs Chromium when it is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
    echo "browser test: $chromium not found; install Debian's chromium (apt-get install chromium)" >&2
    exit 1
fi
node_dir="${LOSSCAST_NODE:-$HOME/.cache/losscast-node}"
if [ ! -d "$node_dir/node_modules/playwright-core" ]; then
    mkdir -p "$node_dir"
    npm install --silent --no-audit --no-fund --prefix "$node_dir" playwright-core@1.64.1
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run --quiet -- report --manifest data/mpl400.toml \
    --forecast cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000 \
    --plan "--total 24000 --peak 3e-4 --warmup 2160 --families wsd,cosine" \
    --out "$out/mpl400.html"
cat > "$out/xss.toml" <<TOML
[[run]]
name = "</script><img src=x onerror=alert(1)>"
path = "$PWD/data/mpl/csv_400/cosine_24000.csv"
schedule = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000"
TOML
cargo run --quiet -- report --manifest "$out/xss.toml" --out "$out/xss.html"
cargo run --quiet -- fit --law chinchilla data/chinchilla/svg_extracted_data.csv --drop-top-loss 5 \
    --out "$out/chinchilla.json" >/dev/null
cargo run --quiet -- report --fit "$out/chinchilla.json" data/chinchilla/svg_extracted_data.csv \
    --out "$out/chinchilla.html"
mkdir -p plots
CHROMIUM="$chromium" NODE_PATH="$node_dir/node_modules" node tests/browser/report.test.cjs \
    "$out/mpl400.html" "$out/xss.html" plots/report-screenshot.png "$out/chinchilla.html"
