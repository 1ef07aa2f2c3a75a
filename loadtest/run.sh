#!/usr/bin/env bash
# Load test of the built web binary in embedded mode, from a separate
# process over loopback (wrk, Debian package "wrk"). Prints wrk's summary for
#   1. GET the demo board (the JSON read path: index range read + ranks),
#   2. POST score-add spread over its five players (atomic update + rank),
#   3. the same POST while SUBSCRIBERS SSE clients stream the board
#      (every write is republished to all of them).
# Usage: loadtest/run.sh [duration, default 10s] [subscribers, default 500]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
subscribers=${2:-500}
port=${PORT:-5077}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk" >&2; exit 1; }

go build -o bin/web ./cmd/web
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
PORT=$port LOG_LEVEL=warn bin/web >"$tmp/web.log" 2>&1 &
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done

board=$(curl -sf "$base/boards/" | sed -E 's/.*"id":"([^"]+)".*/\1/')
players=$(curl -sf "$base/boards/$board/" | grep -oE '"id":"[^"]+"' | sed 1d | cut -d'"' -f4 | tr '\n' ' ')
cat >"$tmp/score.lua" <<LUA
local players = {}
for p in string.gmatch("$players", "%S+") do players[#players + 1] = p end
local i = 0
wrk.method = "POST"
request = function()
  i = i + 1
  return wrk.format(nil, "/boards/$board/players/" .. players[i % #players + 1] .. "/score-add/")
end
LUA

echo "== GET /boards/{board}/ ($duration, 2 threads, 64 connections)"
wrk -t2 -c64 -d"$duration" --latency "$base/boards/$board/"
echo "== POST score-add ($duration, 2 threads, 64 connections)"
wrk -t2 -c64 -d"$duration" --latency -s "$tmp/score.lua" "$base"
echo "== POST score-add with $subscribers SSE subscribers"
for _ in $(seq "$subscribers"); do
  curl -sN -H 'Accept: text/event-stream' "$base/boards/$board/" >/dev/null &
done
sleep 2
wrk -t2 -c64 -d"$duration" --latency -s "$tmp/score.lua" "$base"
echo "== web's resident memory: $(ps -o rss= -p "$(pgrep -f "bin/web" | head -1)") KiB"
