#!/usr/bin/env bash
# Run `ctlib campaign` in the background from a clean snapshot of the committed code,
# so that the working tree can stay dirty while the campaign trains.
#
# usage: tools/campaign.sh [--help] [CAMPAIGN OPTIONS...]     (default: --profile cpu)
#
# A committed profile's runs are refused from a git tree with uncommitted changes (each
# record must name the code that made it). This script checks HEAD out into a git
# worktree under .cache/campaign-tree (refreshed to HEAD when no campaign is running),
# runs `nice -n 19 python -m ctlib.cli campaign ...` there with the package imported from
# that worktree, and stores everything in THIS checkout: records and snapshots in
# results/, checkpoints in .cache/ctlib/runs. The log goes to .cache/campaign.log.
# Commit results/<profile>/ before the session ends.
#
# examples:
#   tools/campaign.sh --profile cpu --hours 2.5
#   tools/campaign.sh --profile cpu --tier 1
#   tail -f .cache/campaign.log
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
tree="$root/.cache/campaign-tree"
py="$root/.venv/bin/python"
[[ -x "$py" ]] || { echo "no $py: run 'make venv' first" >&2; exit 1; }
if pgrep -f "ctlib.cli campaign" >/dev/null; then
  echo "a campaign is already running (pgrep -af 'ctlib.cli campaign'); not starting another" >&2
  exit 1
fi
mkdir -p "$root/.cache"
if [[ -d "$tree" ]]; then
  git -C "$tree" checkout -q --detach "$(git -C "$root" rev-parse HEAD)"
else
  git -C "$root" worktree add -q --detach "$tree" HEAD
fi
args=("$@")
[[ ${#args[@]} -gt 0 ]] || args=(--profile cpu)
data="${CTLIB_DATA:-}"
[[ -n "$data" || ! -d "$root/../shared/data" ]] || data="$(cd "$root/../shared/data" && pwd)"
cd "$tree"
CTLIB_CACHE="$root/.cache/ctlib" CTLIB_RESULTS="$root/results" CTLIB_DATA="$data" \
  PYTHONPATH="$tree" nohup nice -n 19 "$py" -m ctlib.cli campaign "${args[@]}" \
  >> "$root/.cache/campaign.log" 2>&1 &
echo "campaign started (pid $!) from $(git -C "$tree" rev-parse --short HEAD); log: .cache/campaign.log"
