#!/usr/bin/env bash
# The edit-replay benchmark, end to end: fetch the template histories (cached under
# target/shipwright-replay/), check the oracle's rules, run the oracle, then the Rust replay.
#   runtime/benches/replay/run.sh              # every package (about 300 MB of wheels, downloaded once)
#   runtime/benches/replay/run.sh --smoke      # the small CI set
# Extra arguments go to fetch.py (--packages, --versions, --stride, --refresh).
set -euo pipefail
cd "$(dirname "$0")/../../.."
PYTHON="${PYTHON:-python3}"
here=runtime/benches/replay
out=target/shipwright-replay

"$PYTHON" -c 'import jinja2' 2>/dev/null || "$PYTHON" -m pip install -r .ci/requirements.txt
smoke=()
replay="$out/replay.json"
for arg in "$@"; do
  if [ "$arg" = "--smoke" ]; then smoke=(--smoke); replay="$out/replay-smoke.json"; fi
done
"$PYTHON" "$here/fetch.py" "$@"
"$PYTHON" "$here/test_oracle.py"
"$PYTHON" "$here/oracle.py" "$replay"
cargo bench -p shipwright-runtime --bench replay -- ${smoke[@]+"${smoke[@]}"}
