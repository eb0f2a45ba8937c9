#!/usr/bin/env bash
# Soak: graphgate serve in front of the emulator, under moderate load from wrk for a long
# time, sampling the gateway's resident memory (RSS) and goroutines every interval.
#
#   bench/soak.sh [duration, default 10m] [sample interval, default 30s]
#
# Needs wrk (Debian package) and Node.js (to read JSON). Prints one line per sample and
# wrk's summary; a sound gateway's RSS and goroutines stay flat after warm-up.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10m}"
interval="${2:-30s}"
command -v wrk >/dev/null || { echo "soak: wrk is required (apt-get install wrk)" >&2; exit 2; }

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/graphgate" ./cmd/graphgate
"$work/graphgate" emulator --addr 127.0.0.1:0 --ca-out "$work/ca.pem" --log-level warn >"$work/emu.out" 2>"$work/emu.err" &
pids+=($!)
for _ in $(seq 1 100); do grep -q emulator_url "$work/emu.out" 2>/dev/null && break; sleep 0.1; done
emu="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0]).emulator_url)' "$work/emu.out")"
curl -sk "$emu/_emulator/directory" >"$work/dir.json"

# Configuration, policy and a token from the emulator's directory (its first tenant, the
# chat-web client app, the first enabled user).
node - "$work" "$emu" <<'JS'
const fs = require("fs"); const [work, emu] = process.argv.slice(2);
const dir = JSON.parse(fs.readFileSync(work + "/dir.json", "utf8"));
const t = dir.tenants[0];
const app = t.clients.find(c => c.name === "chat-web");
const user = t.users.find(u => u.accountEnabled);
fs.writeFileSync(work + "/policy.yaml", `clients:
  - app_id: ${app.id}
    name: chat-web
    purpose: Soak test.
    operations: [me.read, users.read, users.list, photo.read, presence.read]
    fields:
      self: [displayName, jobTitle, mail]
      others: [displayName, jobTitle, mail]
`);
fs.writeFileSync(work + "/graphgate.yaml", `listen: 127.0.0.1:0
log_level: warn
app_id: ${t.gateway_app_id}
authority: ${emu}
graph_url: ${emu}/v1.0
ca_file: ${work}/ca.pem
policy_file: ${work}/policy.yaml
data_dir: ${work}/data
tenants:
  - {id: ${t.id}, name: soak, client_id: ${t.gateway_app_id}, client_secret: "${t.gateway_client_secret}"}
cache: {ttl: 30s, max_entries: 200}
metrics: {listen: 127.0.0.1:0}
rate_limit: {per_user_rps: 100000, per_user_burst: 100000, per_client_rps: 100000, per_client_burst: 100000}
usage: {flush_interval: 10s}
`);
fs.writeFileSync(work + "/token.args", [emu + "/" + t.id + "/oauth2/v2.0/token", app.id, t.scope, user.userPrincipalName, t.password].join("\n"));
fs.writeFileSync(work + "/ids", t.users.map(u => u.id).join("\n"));
JS
mapfile -t targs <"$work/token.args"
token="$(curl -sk "${targs[0]}" -d grant_type=password -d client_id="${targs[1]}" \
	--data-urlencode "scope=${targs[2]}" --data-urlencode "username=${targs[3]}" -d password="${targs[4]}" |
	sed -E 's/.*"access_token":"([^"]+)".*/\1/')"

"$work/graphgate" serve --config "$work/graphgate.yaml" >"$work/gw.out" 2>"$work/gw.err" &
gwpid=$!
pids+=($gwpid)
for _ in $(seq 1 100); do grep -q "metrics" "$work/gw.out" 2>/dev/null && break; sleep 0.1; done
gw="$(sed -nE 's/.*listening on (http[^ ]+).*/\1/p' "$work/gw.out" | head -1)"
metrics="$(grep -oE 'http://[0-9.:]+/metrics' "$work/gw.out" | head -1)"
[ -n "$gw" ] && [ -n "$metrics" ] || { echo "soak: gateway did not start" >&2; cat "$work/gw.err" >&2; exit 1; }

# A mix of what clients do: own profile and colleagues (cache hits after warm-up), a
# search, photos and presence, over every user of the tenant so that the cache churns.
cat >"$work/mix.lua" <<LUA
local threads = {}
function setup(thread) table.insert(threads, thread) end
local ids = {}
for line in io.lines("$work/ids") do ids[#ids + 1] = line end
local n = 0
request = function()
  n = n + 1
  local id = ids[(n % #ids) + 1]
  local k = n % 6
  local path
  if k == 0 then path = "/v1.0/me"
  elseif k == 1 then path = "/v1.0/users/" .. id .. "?\$select=displayName,jobTitle"
  elseif k == 2 then path = "/v1.0/users?\$search=%22displayName:a%22&\$top=5"
  elseif k == 3 then path = "/v1.0/users/" .. id .. "/photos/48x48/\$value"
  elseif k == 4 then path = "/v1.0/users/" .. id .. "/presence"
  else path = "/v1.0/users/" .. id end
  return wrk.format("GET", path, {["Authorization"] = "Bearer $token", ["ConsistencyLevel"] = "eventual"})
end
-- Moderate load: each connection waits 2 ms between requests.
delay = function() return 2 end
statuses = {}
response = function(status) statuses[status] = (statuses[status] or 0) + 1 end
function done()
  local total = {}
  for _, t in ipairs(threads) do
    for s, c in pairs(t:get("statuses")) do total[s] = (total[s] or 0) + c end
  end
  local line = "statuses:"
  for s, c in pairs(total) do line = line .. " " .. s .. "=" .. c end
  print(line)
end
LUA

sample() {
	local rss goroutines
	rss="$(awk '/VmRSS/ {print $2}' "/proc/$gwpid/status")"
	goroutines="$(curl -s "$metrics" | awk '/^go_goroutines / {print $2}')"
	printf '%s rss_kib=%s goroutines=%s\n' "$(date -u +%H:%M:%S)" "$rss" "$goroutines"
}
echo "soak: $duration against $gw (gateway pid $gwpid), sampling every $interval"
sample
wrk -t1 -c4 -d"$duration" --latency -s "$work/mix.lua" "$gw" >"$work/wrk.out" 2>&1 &
wrkpid=$!
while kill -0 "$wrkpid" 2>/dev/null; do
	sleep "$interval"
	kill -0 "$wrkpid" 2>/dev/null && sample
done
wait "$wrkpid" || true
sample
cat "$work/wrk.out"
