#!/usr/bin/env bash
# Fan-out, side by side, in one run: builds bin/web, bin/loadgen and
# bin/minibroadcaster, then for each target starts a fresh server on loopback,
# holds SUBS subscribers on BOARDS boards, drives RATE score-adds a second for
# DURATION, and prints loadgen's report; at the end a table and the ratios to
# the minimal broadcaster (the ceiling: net/http and a goroutine per
# subscriber, nothing else).
#
# Targets:
#   web      bin/web in embedded mode, PUBLISH_INTERVAL (default 1ms here;
#            the service's default is 50ms), caps and rate limits lifted
#   pushpin  Pushpin (Debian package) in front of bin/web (GRIP_URL); its
#            message_rate and message_hwm are raised from 2500/s and 25000 to
#            1000000/s and 10000000, or it would measure its own rate limiter;
#            SSE only. Memory is Pushpin's processes plus web's.
#   mini     loadtest/cmd/minibroadcaster; SSE only
#
# Usage: loadtest/fanout.sh [SUBS=1000] [BOARDS=1] [RATE=10] [DURATION=20s] [TRANSPORT=sse]
# Env: TARGETS="web pushpin mini" to choose, PUBLISH_INTERVAL, RESULTS=file to
# append the RESULT lines to.
set -euo pipefail
cd "$(dirname "$0")/.."
subs=${1:-1000}
boards=${2:-1}
rate=${3:-10}
duration=${4:-20s}
transport=${5:-sse}
targets=${TARGETS:-web pushpin mini}
publish=${PUBLISH_INTERVAL:-1ms}
results=${RESULTS:-}

go build -o bin/web ./cmd/web
go build -o bin/loadgen ./loadtest/cmd/loadgen
go build -o bin/minibroadcaster ./loadtest/cmd/minibroadcaster
tmp=$(mktemp -d)
pids=()
rundirs=()
stop() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	pids=()
}
trap 'stop; rm -rf "$tmp" "${rundirs[@]}"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not ready: $1" >&2; return 1; }

start_web() { # $1: port (default a free one), $2: extra env (GRIP_URL=...)
	local port=${1:-$(free_port)}
	env PORT=$port HOST=127.0.0.1 LOG_LEVEL=warn PUBLISH_INTERVAL=$publish RATE_LIMIT_WRITES=0 RATE_LIMIT_STREAMS=0 \
		MAX_STREAMS=19900 MAX_STREAMS_PER_CLIENT=20000 ${2:-} bin/web >"$tmp/web.log" 2>&1 &
	pids+=($!)
	web_pid=$!
	web_url=http://127.0.0.1:$port
	wait_http "$web_url/healthz"
}

# set_key FILE SECTION KEY VALUE: sets key in [section] of an ini file.
set_key() {
	awk -v sec="[$2]" -v key="$3" -v val="$4" '
		/^\[/ { if (insec && !done) { print key "=" val; done=1 } insec = ($0 == sec) }
		insec && $0 ~ "^" key "=" { if (!done) print key "=" val; done=1; next }
		{ print }
		END { if (insec && !done) print key "=" val }' "$1" >"$1.new" && mv "$1.new" "$1"
}

start_pushpin() { # in front of web_url; sets pushpin_url, pushpin_pids
	local dir=$tmp/pushpin rundir
	rundir=$(mktemp -d /tmp/ppXXXX) # ipc socket paths must stay short
	rundirs+=("$rundir")
	mkdir -p "$dir/log"
	local client=$(free_port) control=$(free_port) key=$(head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	local conf=$dir/pushpin.conf ipc="ipc://{rundir}/{ipc_prefix}"
	cp /etc/pushpin/pushpin.conf "$conf"
	set_key "$conf" global rundir "$rundir"
	set_key "$conf" global port_offset 0
	set_key "$conf" runner services condure,zurl,pushpin-proxy,pushpin-handler
	set_key "$conf" runner http_port "127.0.0.1:$client"
	set_key "$conf" runner logdir "$dir/log"
	set_key "$conf" runner log_level 1
	set_key "$conf" proxy routesfile routes
	set_key "$conf" proxy sig_key "$key"
	set_key "$conf" proxy zurl_out_specs "${ipc}zurl-in"
	set_key "$conf" proxy zurl_out_stream_specs "${ipc}zurl-in-stream"
	set_key "$conf" proxy zurl_in_specs "${ipc}zurl-out"
	set_key "$conf" handler push_in_spec "${ipc}push-in"
	set_key "$conf" handler push_in_sub_specs "${ipc}push-in-sub"
	set_key "$conf" handler command_spec "${ipc}command"
	set_key "$conf" handler push_in_http_addr 127.0.0.1
	set_key "$conf" handler push_in_http_port "$control"
	# Raised from 2500/s and 25000: every subscriber a message goes to counts.
	set_key "$conf" handler message_rate 1000000
	set_key "$conf" handler message_hwm 10000000
	echo "* ${web_url#http://}" >"$dir/routes"
	(cd "$dir" && exec pushpin --config "$conf" --merge-output >"$dir/out.log" 2>&1) &
	pids+=($!)
	pushpin_pid=$!
	pushpin_url=http://127.0.0.1:$client
	grip_url="http://127.0.0.1:$control/?key=$key"
	for _ in $(seq 300); do curl -s -o /dev/null "$pushpin_url/healthz" && break; sleep 0.1; done
	sleep 2 # the proxy takes a moment after the port opens
}

run() { # label, then loadgen flags
	local label=$1
	shift
	echo "== $label: $subs $transport subscribers, $boards boards, $rate writes/s for $duration"
	bin/loadgen -label "$label" -transport "$transport" -subs "$subs" -boards "$boards" -rate "$rate" -duration "$duration" "$@" | tee "$tmp/out"
	grep '^RESULT' "$tmp/out" >>"$tmp/results"
	[ -z "$results" ] || grep '^RESULT' "$tmp/out" >>"$results"
}

for target in $targets; do
	case $target in
	web)
		start_web
		run web -target web -url "$web_url" -pid "$web_pid"
		;;
	pushpin)
		[ "$transport" = sse ] || continue
		command -v pushpin >/dev/null || { echo "pushpin not on PATH: skipped" >&2; continue; }
		# Pushpin needs web's port for its routes, and web needs Pushpin's
		# control port: pick web's first.
		port=$(free_port)
		web_url=http://127.0.0.1:$port
		start_pushpin
		start_web "$port" "GRIP_URL=$grip_url TRUSTED_PROXIES=127.0.0.1/32"
		procs="$web_pid,$(pgrep -d, -P "$pushpin_pid")"
		run pushpin -target web -url "$web_url" -stream-url "$pushpin_url" -pid "$procs"
		;;
	mini)
		# SSE whatever TRANSPORT is: the ceiling is the same for both.
		port=$(free_port)
		bin/minibroadcaster -addr 127.0.0.1:$port &
		pids+=($!)
		for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
		run mini -target mini -url "http://127.0.0.1:$port" -pid "${pids[-1]}" -transport sse
		;;
	esac
	stop
done

echo
echo "== summary (PUBLISH_INTERVAL=$publish for web)"
printf '%-8s %-4s %6s %6s %12s %8s %8s %8s %14s\n' target tr subs boards delivered p50_ms p99_ms max_ms rss/sub_KiB
field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$2"; }
declare -A p99 rsssub
while read -r line; do
	l=$(field label "$line")
	p99[$l]=$(field p99_ms "$line")
	rsssub[$l]=$(field rss_per_sub_kib "$line")
	printf '%-8s %-4s %6s %6s %12s %8s %8s %8s %14s\n' "$l" "$(field transport "$line")" "$(field connected "$line")" \
		"$(field boards "$line")" "$(field delivered "$line")/$(field expected "$line")" "$(field p50_ms "$line")" \
		"${p99[$l]}" "$(field max_ms "$line")" "${rsssub[$l]}"
done <"$tmp/results"
if [ -n "${p99[mini]:-}" ]; then
	for l in web pushpin; do
		[ -n "${p99[$l]:-}" ] || continue
		echo "$l / mini: p99 $(awk -v a="${p99[$l]}" -v b="${p99[mini]}" 'BEGIN{printf "%.2f", a/b}')x, RSS per subscriber $(awk -v a="${rsssub[$l]}" -v b="${rsssub[mini]}" 'BEGIN{printf "%.2f", a/b}')x"
	done
fi
