#!/usr/bin/env bash
# Puts the issue 19 figures of several bench runs side by side, one column
# a run: the hit path against the naive reference, the full-map path
# against a hit, the cost breakdown and the new-source flood end to end.
#
# Usage: bench/compare.sh LABEL=latest.json... > table.md
set -euo pipefail

[ $# -ge 1 ] || {
	echo "usage: bench/compare.sh LABEL=latest.json..." >&2
	exit 2
}
args=()
labels=()
i=0
for a in "$@"; do
	file=${a#*=}
	[ -f "$file" ] || {
		echo "compare: no file $file" >&2
		exit 1
	}
	labels+=("${a%%=*}")
	args+=(--slurpfile "f$i" "$file")
	i=$((i + 1))
done
n=$#
labels_json=$(printf '%s\n' "${labels[@]}" | jq -R . | jq -s .)

jq -nr -L "$(dirname "$0")" --argjson n "$n" --argjson labels "$labels_json" "${args[@]}" -f /dev/stdin <<'JQ'
include "fix";
def x: if . == null then "n/a" else fix(2) + "x" end;
def ns: if . == null then "n/a" else fix(1) + " ns" end;
def row: "| " + join(" | ") + " |";
[range(0; $n) as $i | {label: $labels[$i], r: $ARGS.named["f\($i)"][0]}] as $runs
| def hit(r; prog; frame; flows):
    [r.hit.results[] | select(.hook == "xdp" and .program == prog and .frame == frame
                              and .flows == flows and .path == "hit")][0].ns.median;
  def span(r; prog; flows):
    [["ipv4_64", "ipv6_84", "vlan_ipv4_68", "qinq_ipv6_92", "ipv4_1500"][] as $f
     | hit(r; prog; $f; flows) as $a | hit(r; "naive"; $f; flows) as $b
     | if $a == null or $b == null then empty else $a / $b end]
    | if length == 0 then "n/a" else (min | x) + "-" + (max | x) end;
  def miss(r; size; path):
    [r.miss.sizes[] | select(.resident == size) | .results[] | select(.path == path)][0].ns.median;
  def ratio(a; b): if a == null or b == null then null else a / b end;
  def stage(r; name): [r.hit.results[] | select(.path == "breakdown" and .program == name)][0].ns.median;
  def floor(r): [r.hit.results[] | select(.hook == "xdp" and .frame == "ipv4_64" and .program == "floor")][0].ns.median;
  def e2e(r; cfg): (r.flood_sources) as $s
    | [r.e2e.runs[] | select(.sources == $s) | .configs[] | select(.name == cfg)][0]
      .added_cpu_ns_per_packet.median;
  (["figure"] + ($runs | map(.label)) | row),
  (["---"] + ($runs | map("---:")) | row),
  (["hit / naive, xdp flows off, tfc_xdp_legacy"] + ($runs | map(span(.r; "traffic-counter"; false))) | row),
  (["hit / naive, xdp flows off, tfc_xdp"] + ($runs | map(span(.r; "traffic-counter (tfc_xdp)"; false))) | row),
  (["flows on / naive flows on, tfc_xdp_legacy"] + ($runs | map(span(.r; "traffic-counter"; true))) | row),
  (["flows on / naive flows on, tfc_xdp"] + ($runs | map(span(.r; "traffic-counter (tfc_xdp)"; true))) | row),
  ([16384, 65536, 1048576][] as $s
   | (["full-map / one-key hit, \($s) resident"]
      + ($runs | map(ratio(miss(.r; $s; "ip_map_full"); miss(.r; $s; "ip_full_hit_one")) | x)) | row),
     (["full-map / hit cycle, \($s) resident"]
      + ($runs | map(ratio(miss(.r; $s; "ip_map_full"); miss(.r; $s; "ip_hit_cycle")) | x)) | row),
     (["full-map path, \($s) resident, above the floor"]
      + ($runs | map(ratio(miss(.r; $s; "ip_map_full") - miss(.r; $s; "floor"); 1) | ns)) | row)),
  (["xdp floor, 64-byte IPv4"] + ($runs | map(floor(.r) | ns)) | row),
  (["bpf_xdp_get_buff_len (parse+len - parse)"]
   + ($runs | map(ratio(stage(.r; "parse+len") - stage(.r; "parse"); 1) | ns)) | row),
  (["control-map read (parse+control - parse)"]
   + ($runs | map(ratio(stage(.r; "parse+control") - stage(.r; "parse"); 1) | ns)) | row),
  (["statistic row (parse+statistic row - parse)"]
   + ($runs | map(ratio(stage(.r; "parse+statistic row") - stage(.r; "parse"); 1) | ns)) | row),
  (["IP map upsert, 24-byte key (above parse)"]
   + ($runs | map(ratio(stage(.r; "parse+IP map, 24-byte key") - stage(.r; "parse"); 1) | ns)) | row),
  (["IP map upsert, 8-byte IPv4 key (above parse)"]
   + ($runs | map(ratio(stage(.r; "parse+IP map, 8-byte IPv4 key") - stage(.r; "parse"); 1) | ns)) | row),
  (["flood e2e, added CPU/packet: xdp (IP map 65,536)"] + ($runs | map(e2e(.r; "xdp") | ns)) | row),
  (["flood e2e: xdp, IP map of 1,024 (full)"] + ($runs | map(e2e(.r; "xdp-full") | ns)) | row),
  (["flood e2e: tc-ingress"] + ($runs | map(e2e(.r; "tc-ingress") | ns)) | row),
  (["flood e2e: nftables dynamic set, prerouting"] + ($runs | map(e2e(.r; "nft-prerouting") | ns)) | row),
  (["flood e2e: nftables dynamic set, netdev"] + ($runs | map(e2e(.r; "nft-netdev") | ns)) | row)
JQ
