#!/usr/bin/env bash
# Renders the bench's JSON (bench/run.sh) as the Markdown report.
#
# Usage: bench/report.sh latest.json > latest.md
#
# The goals are compared here, for the reader: nothing fails on a figure.
set -euo pipefail

[ $# -eq 1 ] || {
	echo "usage: bench/report.sh LATEST.json" >&2
	exit 2
}

jq -r -L "$(dirname "$0")" -f /dev/stdin "$1" <<'JQ'
include "fix";
def ns: if . == null then "n/a" else fix(if . < 100 then 1 else 0 end) + " ns" end;
def x: if . == null then "n/a" else fix(2) + "x" end;
def pct: if . == null then "n/a" else (if . >= 0 then "+" else "" end) + (. * 100 | fix(1)) + "%" end;
def mpps: if . == null then "n/a" else (. / 1e6 | fix(3)) + " Mpps" end;
def secs: if . == null then "n/a" else (. / 1000 | fix(2)) + " s" end;
def verdict(ok): if ok == null then "not measured" elif ok then "met" else "missed" end;
def row: "| " + join(" | ") + " |";

. as $r
| ($r.hit.results // []) as $hit
| def hitcell(hook; frame; program; flows):
    [$hit[] | select(.hook == hook and .frame == frame and .program == program
                     and .flows == flows and .path == "hit")][0];
  def floorcell(hook; frame):
    [$hit[] | select(.hook == hook and .frame == frame and .program == "floor")][0];
  def both(c): if c == null then "n/a" else (c.ns.median | ns) + ", " + (c.ratio.median | x) end;
  def ratio(c): c.ratio.median;
  ($r.e2e.runs // []) as $runs
| def e2e(name; n):
    [$runs[] | select(.sources == n) | .configs[] | select(.name == name)][0];
  ($r.userspace.readers // []) as $readers
| ([$readers[] | select(.capacity == 1048576)][0]) as $big
| ["ipv6_84", "vlan_ipv4_68", "qinq_ipv6_92"] as $others
| (hitcell("xdp"; "ipv4_64"; "traffic-counter"; false) | ratio(.)) as $r4
| (hitcell("xdp"; "ipv4_64"; "traffic-counter"; true) | ratio(.)) as $rflow
| ($others | map(. as $f | hitcell("xdp"; $f; "traffic-counter"; false) | ratio(.))) as $rother
| ($r.meta) as $m
| [
"# traffic-counter benchmark",
"",
"`make bench` on \($m.date): Linux \($m.kernel) (\($m.arch)), \($m.cpu_model), \($m.cpus) CPUs,",
"commit `\($m.commit)`; measuring took \($m.measure_seconds) s."
  + (if $m.quick then " **Quick run (BENCH_QUICK=1): too few rounds to compare.**" else "" end),
"Method: [bench/README.md](../README.md). Every figure, with quartiles: [latest.json](latest.json).",
"",
"Figures are medians: of per-round ratios for the kernel programs (each program and its floor run",
"side by side in every round), of per-pair differences end to end (each configuration toggled on",
"and off every half second under one generator). Nothing here is asserted: compare reports.",
"",
"CPU vulnerabilities and mitigations (they set the floor: with \"Safe RET\" every return in the",
"kernel, so every helper call, costs extra):",
"",
"```text",
(($m.cpu_vulnerabilities // []) | if type == "array" then .[] else . end),
"```",
"",
"## Goals",
"",
(["goal", "target", "measured", ""] | row),
(["---", "---", "---", "---"] | row),
(["IP counting, hit path, 64-byte IPv4, xdp", "at most 2.0x the XDP_PASS floor", ($r4 | x),
  verdict(if $r4 == null then null else $r4 <= 2.0 end)] | row),
(["IPv6, VLAN, QinQ+IPv6 against 64-byte IPv4 (xdp, flows off)", "within 10%",
  ($rother | map(if . == null or $r4 == null then "n/a" else (. / $r4 - 1 | pct) end) | join(" / ")),
  verdict(if $r4 == null or any($rother[]; . == null) then null
          else all($rother[]; (. / $r4 - 1 | fabs) <= 0.10) end)] | row),
(["flows on, 64-byte IPv4, xdp", "at most 4.0x the floor", ($rflow | x),
  verdict(if $rflow == null then null else $rflow <= 4.0 end)] | row),
(
  [1, 10000][] as $n
  | ["xdp", "tc-ingress"][] as $cfg
  | e2e($cfg; $n).added_cpu_ns_per_packet.median as $a
  | e2e("nft-prerouting"; $n).added_cpu_ns_per_packet.median as $np
  | e2e("nft-netdev"; $n).added_cpu_ns_per_packet.median as $nd
  | ["end to end, \($cfg), \($n) source\(if $n > 1 then "s" else "" end): added CPU per packet",
     "below nftables dynamic set (prerouting \($np | ns), netdev \($nd | ns))", ($a | ns),
     verdict(if $a == null or $np == null or $nd == null then null else $a < $np and $a < $nd end)]
  | row
),
(["end to end, \($r.flood_sources // "n/a") sources (a new-source flood), xdp: added CPU per packet",
  "below nftables dynamic set (prerouting \(e2e("nft-prerouting"; $r.flood_sources).added_cpu_ns_per_packet.median | ns), netdev \(e2e("nft-netdev"; $r.flood_sources).added_cpu_ns_per_packet.median | ns))",
  (e2e("xdp"; $r.flood_sources).added_cpu_ns_per_packet.median | ns),
  (e2e("xdp"; $r.flood_sources).added_cpu_ns_per_packet.median as $a
   | e2e("nft-prerouting"; $r.flood_sources).added_cpu_ns_per_packet.median as $np
   | e2e("nft-netdev"; $r.flood_sources).added_cpu_ns_per_packet.median as $nd
   | verdict(if $a == null or $np == null or $nd == null then null else $a < $np and $a < $nd end))]
 | row),
(["dump-maps --json, 1M entries", "under 0.5 s", ($big.dump_maps_json_ms | secs),
  verdict(if $big == null then null else $big.dump_maps_json_ms < 500 end)] | row),
(["dump-maps --json against bpftool map dump -j, 1M entries", "at least 10x faster",
  (if $big == null then "n/a" else ($big.bpftool_dump_json_ms / $big.dump_maps_json_ms | x) end),
  verdict(if $big == null then null
          else $big.bpftool_dump_json_ms >= 10 * $big.dump_maps_json_ms end)] | row),
"",
"## Performance (issue 19: address diversity)",
"",
"Ratios of medians from this run. Full-map path (section 2): `ip_map_full`, a new address into a",
"full IP map, over `ip_full_hit_one`, a hit on one key of that map (what the issue's 4-6x compared",
"with), and over `ip_hit_cycle`, hits spread over as many keys (cold buckets, like a flood's).",
"Hit path: section 1's programs over the naive reference on the same frame, at xdp, the range",
"over the five frames; `tfc_xdp_legacy` is what attach chooses at MTU 1500, `tfc_xdp` above a",
"page-sized MTU. Flood: section 4's last run.",
"",
(["figure", "issue's baseline", "goal", "measured"] | row),
(["---", "---", "---", "---"] | row),
(($r.miss.sizes // []) as $sizes
 | ["full-map path / hit path, " + ($sizes | map("\(.resident)") | join(" / ")) + " resident",
    "4-6x", "at most 1.5x",
    (["ip_full_hit_one", "ip_hit_cycle"] | map(. as $hp
     | "over \($hp) " + ($sizes | map(([.results[] | select(.path == "ip_map_full")][0].ns.median) as $f
                  | ([.results[] | select(.path == $hp)][0].ns.median) as $h
                  | if $f == null or $h == null then "n/a" else ($f / $h | x) end)
     | join(" / "))) | join("; "))] | row),
(def span(prog; flows; ref):
   [["ipv4_64", "ipv6_84", "vlan_ipv4_68", "qinq_ipv6_92", "ipv4_1500"][] as $f
    | hitcell("xdp"; $f; prog; flows).ns.median as $a
    | hitcell("xdp"; $f; ref; flows).ns.median as $b
    | if $a == null or $b == null then empty else $a / $b end]
   | if length == 0 then "n/a" else (min | x) + "-" + (max | x) end;
 (["hit path / naive, xdp, flows off",
   "1.15-1.31x", "at most 1.10x",
   "tfc_xdp_legacy " + span("traffic-counter"; false; "naive")
   + "; tfc_xdp " + span("traffic-counter (tfc_xdp)"; false; "naive")] | row),
 (["flows on / naive flows on, xdp", "1.28-1.42x", "at most 1.15x",
   "tfc_xdp_legacy " + span("traffic-counter"; true; "naive")
   + "; tfc_xdp " + span("traffic-counter (tfc_xdp)"; true; "naive")] | row)),
($r.flood_sources as $n
 | ["random-source flood (\($n // "n/a") sources), end to end: added CPU per packet",
    "not measured", "below the nftables dynamic set",
    "xdp \(e2e("xdp"; $n).added_cpu_ns_per_packet.median | ns), xdp with a full IP map \(e2e("xdp-full"; $n).added_cpu_ns_per_packet.median | ns), tc-ingress \(e2e("tc-ingress"; $n).added_cpu_ns_per_packet.median | ns); nftables prerouting \(e2e("nft-prerouting"; $n).added_cpu_ns_per_packet.median | ns), netdev \(e2e("nft-netdev"; $n).added_cpu_ns_per_packet.median | ns)"]
 | row),
"",
"## 1. Per-packet cost of the kernel programs",
"",
"`BPF_PROG_TEST_RUN`, \($r.hit.repeat) repetitions per run, \($r.hit.rounds) rounds; every XDP",
"program attached to a down veth first, so a run costs what the program costs. Hit path: the key is",
"in the maps. Each cell: time per packet, and its ratio to the floor of the same hook and frame.",
"naive: a per-CPU hash keyed by source address (lookup, else update), plus a shared LRU 5-tuple",
"hash with atomic adds for \"flows on\" (bench/naive.bpf.c). At xdp, traffic-counter is",
"`tfc_xdp_legacy`, the program attach chooses when the MTU fits a page (`data_end - data`); the",
"frags-aware `tfc_xdp` follows the tables.",
"",
(
  ["xdp", "tc"][] as $hook
  | "### \($hook)\n",
    (["frame", "floor", "traffic-counter", "flows on", "naive", "naive, flows on"] | row),
    (["---", "---:", "---:", "---:", "---:", "---:"] | row),
    (["ipv4_64", "ipv6_84", "vlan_ipv4_68", "qinq_ipv6_92", "ipv4_1500"][] as $f
     | [$f, (floorcell($hook; $f).ns.median | ns),
        both(hitcell($hook; $f; "traffic-counter"; false)),
        both(hitcell($hook; $f; "traffic-counter"; true)),
        both(hitcell($hook; $f; "naive"; false)),
        both(hitcell($hook; $f; "naive"; true))] | row),
    "",
    (if $hook == "xdp" then
       "`tfc_xdp` (frags-aware), flows off / on:\n",
       ([["ipv4_64", "ipv6_84", "vlan_ipv4_68", "qinq_ipv6_92", "ipv4_1500"][] as $f
         | "- \($f): \(both(hitcell("xdp"; $f; "traffic-counter (tfc_xdp)"; false))) / \(both(hitcell("xdp"; $f; "traffic-counter (tfc_xdp)"; true)))"]
        | join("\n")) + "\n"
     else empty end)
),
"### Where the time goes (xdp, 64-byte IPv4, flows off)",
"",
"Stages of the real program, built from its source (bench/real.bpf.c): parsing only, then the",
"frame-length helper (`bpf_xdp_get_buff_len`), then the control-map read; parsing and the",
"control-map read without the helper; parsing and one statistic row (the statistics path: what a",
"non-IP frame or a frame into a full map adds); parsing and the IP map's upsert with the real",
"24-byte key and with an 8-byte IPv4 key, over bench maps of the same type and size (the key",
"layout). Then, alone, the two clocks flow timestamps can read, and a what-if that is not the",
"data path: a per-CPU cache of the last address in front of the IP map (bench/README.md).",
"",
(["stage", "time per packet", "above the floor", "ratio"] | row),
(["---", "---:", "---:", "---:"] | row),
(floorcell("xdp"; "ipv4_64").ns.median as $fl
 | ($hit[] | select(.path == "breakdown"))
 | [.program, (.ns.median | ns), (.ns.median - $fl | ns), (.ratio.median | x)] | row),
"",
"## 2. Miss paths (xdp, 64-byte IPv4)",
"",
"A key field is bumped in every packet (bench/bench_bump.h); the floor bumps it too. `ip_hit_cycle`",
"and `flow_hit_cycle`: hits spread over every resident key. `ip_insert`: a new address on every",
"packet (deleted again after each run, \($r.miss.insert_repeat) per run). `ip_map_full`: a new",
"address on every packet into a full IP map (`dropped_packets`; overflow to prefixes off).",
"`ip_full_hit_one`: that full map, every packet a hit on one resident key. `flow_lru_evict`: a",
"new flow on every packet into a full flow map (one LRU eviction each).",
"",
(($r.miss.sizes // []) as $sizes
 | (["path"] + ($sizes | map("\(.resident) resident")) | row),
   (["---"] + ($sizes | map("---:")) | row),
   (["floor", "ip_hit_cycle", "ip_insert", "ip_map_full", "ip_full_hit_one", "flow_hit_cycle",
     "flow_lru_evict"][]
    as $p
    | [$p] + ($sizes | map([.results[] | select(.path == $p)][0]
                           | if .ratio == null then (.ns.median | ns) else both(.) end))
    | row)),
"",
"## 3. Map choices",
"",
"Bench-only copies of the counting code over each layout (bench/variants.bpf.c; the data path's",
"map types are fixed in its source), xdp, 64-byte IPv4, \($r.maps.rounds) rounds. \"All CPUs\": the",
"same run on every CPU at once (up to 64), the same key for hits (one source whose packets land on",
"several queues), keys of each CPU's own for inserts and evictions; the flow maps hold",
"\($r.maps.flow_map_entries) entries, full before the evictions. Memory: `memlock` in fdinfo of a",
"1,048,576-entry map, and what it comes to on 64 CPUs (per-CPU values grow with possible CPUs).",
"",
(($r.maps.results // []) as $mr
 | ($r.memory.maps // []) as $mem
 | ($mr | map(.cpus) | max // 1) as $nall
 | def mcell(name; path; n): [$mr[] | select(.program == name and .path == path and .cpus == n)][0]
     | if . == null then "n/a" else (.ns.median | ns) + ", " + (.ratio.median | x) end;
   def mem(name): [$mem[] | select(.map == name and .entries == 1048576)][0];
   (["layout", "hit, 1 CPU", "hit, \($nall) CPUs", "insert (ip) or eviction (flow), 1 CPU",
     "\($nall) CPUs",
     "bytes/entry, \($r.memory.possible_cpus) CPUs", "64 CPUs", "GiB per 1M, 64 CPUs"] | row),
   (["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"] | row),
   ([$mr[] | select(.path == "hit" and .cpus == 1 and .program != "floor"
                    and (.program | startswith("traffic-counter") | not)) | .program][] as $v
    | (if ($v | startswith("ip")) then "insert" else "lru_evict" end) as $miss
    | mem($v) as $m1
    | [$v, mcell($v; "hit"; 1), mcell($v; "hit"; $nall), mcell($v; $miss; 1),
       mcell($v; $miss; $nall),
       ($m1.bytes_per_entry | fix(0)), ($m1.bytes_per_entry_64_cpus | fix(0)),
       ($m1.gib_per_million_64_cpus | fix(2))] | row),
   "",
   "The real program on the same frame, for comparison with its per-CPU-hash and shared-LRU",
   "copies: " + ([$mr[] | select((.program | startswith("traffic-counter")) and .cpus == 1)
                  | "\(.program) \(.ns.median | ns), \(.ratio.median | x)"] | join("; ")) + ".",
   "The decision and its reasons: `openspec/changes/0004-map-choices.md`."),
"",
"## 4. End to end",
"",
"A veth pair between two namespaces; a generator (an XDP program run with",
"`BPF_F_TEST_XDP_LIVE_FRAMES`, redirecting into the sending veth) on CPU 0 sends 64-byte UDP frames",
"as fast as it can; the receiving veth's threaded NAPI thread, pinned to CPU 1, does all receive",
"work. In each of \($r.e2e.pairs) rounds every configuration in turn is attached for \($r.e2e.half_ms) ms,",
"then detached for \($r.e2e.half_ms) ms; each \"on\" half is compared with the \"off\" halves either",
"side of it. Added CPU time: the NAPI thread's CPU time per received packet, on minus off. A pair",
"with a half in which nothing arrived (a stall elsewhere) is left out. iptables is the",
"\($r.e2e.iptables) variant.",
"",
($runs[]
 | "### \(.sources) source\(if .sources > 1 then "s" else "" end)\n",
   "Generator: \(.generator_pps | mpps). Nothing attached: \(.idle_pps | mpps) received,"
   + " \(.idle_cpu_ns_per_packet | ns) of receive CPU per packet.\n",
   (["configuration", "added CPU per packet", "received, on/off", "CPU per packet, on",
     "receiver CPU share, on", "pairs"] | row),
   (["---", "---:", "---:", "---:", "---:", "---:"] | row),
   (.configs[] | [.label, (.added_cpu_ns_per_packet.median | ns), (.pps_ratio.median | x),
                  (.on_cpu_ns_per_packet.median | ns),
                  (if .on_receiver_cpu_share.median == null then "n/a"
                   else (.on_receiver_cpu_share.median * 100 | fix(0)) + "%" end),
                  (.pairs | tostring)] | row),
   ""),
"## 5. Userspace",
"",
"An IP map pinned by `traffic-counter attach --ip-map-size N`, filled with N IPv4 entries",
"(bench/fill_map.c), read whole; wall time, median of the runs.",
"",
(["entries", "dump-maps --json", "status --json", "bpftool map dump -j", "bpftool / dump-maps"]
 | row),
(["---:", "---:", "---:", "---:", "---:"] | row),
($readers[] | [(.entries | tostring), (.dump_maps_json_ms | secs), (.status_json_ms | secs),
               (.bpftool_dump_json_ms | secs),
               (.bpftool_dump_json_ms / .dump_maps_json_ms | x)] | row),
"",
"Memory per entry, read back from the kernel (`memlock` in the map's fdinfo):",
"",
(["map", "entries", "bytes/entry, \($r.memory.possible_cpus) CPUs", "fixed", "per CPU",
  "64 CPUs"] | row),
(["---", "---:", "---:", "---:", "---:", "---:"] | row),
(($r.memory.maps // [])[] | [.map, (.entries | tostring), (.bytes_per_entry | fix(1)),
                             (.bytes_per_entry_fixed | fix(1)),
                             (.bytes_per_entry_per_cpu | fix(0)),
                             (.bytes_per_entry_64_cpus | fix(0))] | row),
"",
"## 6. History (`record`)",
"",
"`record --once` on \($r.record.addresses // 0) addresses (bench/record_bench.sh): CPU time (user +",
"system) and peak RSS of a save cycle; goals < \($r.record.goals.cpu_s_per_cycle // 1) s and",
"< \($r.record.goals.peak_rss_mb // 64) MB. Database growth a day with the defaults",
"(10,000 address rows per hour bucket, interface and direction): \($r.record.db_growth_per_day_mb // 0) MB.",
"",
(["cycle", "CPU s", "peak RSS MB"] | row),
(["---", "---:", "---:"] | row),
(($r.record.cycles // [])[] | [.cycle, (.cpu_s | fix(2)), (.peak_rss_mb | fix(1))] | row),
"",
"## 7. Per-cgroup programs (`cgroup_skb`)",
"",
"BPF_PROG_TEST_RUN of the egress program against a `cgroup_skb` program that only allows",
"(bench/cgroup_bench.c, \($r.cgroup.rounds // 0) rounds), the ratio taken in each round.",
"Depth 1 here is the helper call's cost: the bench runs in the root cgroup.",
"",
(["frame", "program", "ns", "x allow-only"] | row),
(["---", "---", "---:", "---:"] | row),
(($r.cgroup.results // [])[] | select(.ratio != null)
 | [.frame, .path, (.ns.median | ns), (.ratio.median | x)] | row)
] | .[]
JQ
