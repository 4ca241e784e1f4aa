#!/usr/bin/env python3
"""Recompute the corpus oracle (expected.json) from the pcaps with tshark.

Usage: tests/corpus/tshark_oracle.py [--corpus DIR] [--out FILE] [--jobs N]

DIR defaults to the directory of this script, FILE to DIR/expected.json.
tshark decodes every frame; this script only sorts the frames into IPv4,
IPv6 and non-IP and adds them up (the rules are in README.md, "expected.json").
Two parts are not derived from the pcaps: "classes" and "origin" come from
DIR/manifest.json, and "veth_replay_check" (a measured replay over veth, not
a decode) is kept from the expected.json already in DIR.
"""
import argparse
import concurrent.futures
import ipaddress
import json
import os
import subprocess
import sys

# Field order of the tshark output; each line is one frame.
FIELDS = (
    "frame.len", "frame.cap_len", "frame.protocols", "eth.type", "vlan.etype",
    "ip.src", "ip.dst", "ip.len", "ip.proto", "ip.hdr_len", "ip.flags.mf",
    "ip.frag_offset",
    "ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.nxt",
    "ipv6.hopopts.nxt", "ipv6.routing.nxt", "ipv6.fraghdr.nxt",
    "ipv6.fraghdr.offset", "ipv6.dstopts.nxt",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
    "sctp.srcport", "sctp.dstport",
)
# Each fragment and segment is judged on its own: no reassembly.
PREFS = ("ip.defragment:FALSE", "ipv6.defragment:FALSE",
         "tcp.desegment_tcp_streams:FALSE")
# IPv6 extension headers the walk goes through: next header value ->
# tshark's protocol name (also its field prefix).
IPV6_EXT = {0: "ipv6.hopopts", 43: "ipv6.routing", 44: "ipv6.fraghdr",
            60: "ipv6.dstopts"}
PORT_PROTO = {6: "tcp", 17: "udp", 132: "sctp"}
TAG_PROTOS = ("vlan", "ieee8021ad")  # 0x8100/0x9100 and 0x88a8 tags
ETH_HLEN = 14
ETH_FRAME_MAX = 1514
TAG_LEN = 4
SHORT = "short-frame(<14 bytes captured)"


def run_tshark(pcap):
    cmd = ["tshark", "-n", "-r", pcap]
    for pref in PREFS:
        cmd += ["-o", pref]
    # occurrence=a: every occurrence, outermost first, so that the
    # extension-header chain can be followed; the script reads the first
    # occurrence everywhere else.
    cmd += ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
            "-E", "aggregator=,"]
    for field in FIELDS:
        cmd += ["-e", field]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"tshark failed on {pcap} (exit {res.returncode}): "
                           f"{res.stderr.strip()}")
    for line in res.stdout.splitlines():
        values = line.split("\t")
        values += [""] * (len(FIELDS) - len(values))
        yield {f: (v.split(",") if v else []) for f, v in zip(FIELDS, values)}


def first_int(frame, field, base=10):
    return int(frame[field][0], base)


class Frame:
    """One frame as the oracle sees it: its lengths and, for an IP frame,
    the outermost header's addresses, protocol and ports."""

    def __init__(self, fr):
        self.len = first_int(fr, "frame.len")
        self.cap = first_int(fr, "frame.cap_len")
        eth_type = fr["eth.type"]
        self.outer_8100 = bool(eth_type) and int(eth_type[0], 16) == 0x8100
        self.tags = 0
        self.family = None  # 4 or 6 for an IP frame
        self.non_ip = None  # the reason otherwise
        self.fragment = False
        self.l4_missing = False
        self.ext_truncated = False
        self.classify(fr, fr["frame.protocols"][0].split(":")
                      if fr["frame.protocols"] else [])

    def classify(self, fr, chain):
        if self.cap < ETH_HLEN:
            self.non_ip = SHORT
            return
        if len(chain) < 2:
            self.non_ip = "no-ethertype"
            return
        if chain[1] != "ethertype":
            self.non_ip = "802.3-length-field(" + ":".join(chain[1:3]) + ")"
            return
        pos, tags = 2, []
        while pos < len(chain) and chain[pos] in TAG_PROTOS:
            tags.append(chain[pos])
            pos += 1
            if pos >= len(chain) or chain[pos] != "ethertype":
                self.tags = len(tags)
                self.non_ip = ("802.1Q/ad-tag-then-802.3-length-field("
                               + ":".join(chain[pos:pos + 2]) + ")")
                return
            pos += 1
        self.tags = len(tags)
        l3 = chain[pos] if pos < len(chain) else None
        if l3 == "ip":
            self.ipv4(fr)
        elif l3 == "ipv6":
            self.ipv6(fr)
        else:
            self.non_ip = self.ethertype_reason(fr, tags, l3)
            return
        if self.family is not None:
            self.ports(fr, chain, pos + 1)

    @staticmethod
    def ethertype_reason(fr, tags, l3):
        vlans = tags.count("vlan")
        if not tags and fr["eth.type"]:
            return "ethertype-0x%04x" % first_int(fr, "eth.type", 16)
        if tags and tags[-1] == "vlan" and len(fr["vlan.etype"]) >= vlans:
            return "ethertype-0x%04x" % int(fr["vlan.etype"][vlans - 1], 16)
        return f"ethertype-other({l3})"

    def ipv4(self, fr):
        if not all(fr[f] for f in ("ip.src", "ip.dst", "ip.len", "ip.proto",
                                   "ip.hdr_len")):
            self.non_ip = "ipv4-ethertype-but-invalid-or-truncated-header"
            return
        self.family = 4
        self.src = fr["ip.src"][0]
        self.dst = fr["ip.dst"][0]
        self.ip_len = first_int(fr, "ip.len")
        self.proto = first_int(fr, "ip.proto")
        more = fr["ip.flags.mf"][:1] in (["1"], ["True"])
        offset = fr["ip.frag_offset"] and first_int(fr, "ip.frag_offset") > 0
        self.later_fragment = bool(offset)
        self.fragment = more or self.later_fragment

    def ipv6(self, fr):
        if not all(fr[f] for f in ("ipv6.src", "ipv6.dst", "ipv6.plen",
                                   "ipv6.nxt")):
            self.non_ip = "ipv6-ethertype-but-invalid-or-truncated-header"
            return
        self.family = 6
        self.src = fr["ipv6.src"][0]
        self.dst = fr["ipv6.dst"][0]
        self.ip_len = 40 + first_int(fr, "ipv6.plen")  # a jumbogram: 40
        self.later_fragment = False
        # Follow the chain with no limit; the n-th header of one kind is
        # the n-th occurrence of its field.
        seen = {nh: 0 for nh in IPV6_EXT}
        nh = first_int(fr, "ipv6.nxt")
        while nh in IPV6_EXT:
            nexts = fr[IPV6_EXT[nh] + ".nxt"]
            n = seen[nh]
            if n >= len(nexts):
                self.ext_truncated = True
                break
            if nh == 44:
                self.fragment = True
                offsets = fr["ipv6.fraghdr.offset"]
                if n < len(offsets) and int(offsets[n]) > 0:
                    self.later_fragment = True
            seen[nh] += 1
            nh = int(nexts[n])
        self.proto = nh

    def ports(self, fr, chain, pos):
        """Ports of a TCP/UDP/SCTP header tshark decoded right after the
        outer IP header and its extension headers; 0 otherwise."""
        self.sport = self.dport = 0
        name = PORT_PROTO.get(self.proto)
        if name is None or self.later_fragment or self.ext_truncated:
            return
        while pos < len(chain) and chain[pos] in IPV6_EXT.values():
            pos += 1
        sport, dport = fr[name + ".srcport"], fr[name + ".dstport"]
        if pos < len(chain) and chain[pos] == name and sport and dport:
            self.sport, self.dport = int(sport[0]), int(dport[0])
        else:
            self.l4_missing = True


def bump(counts, key, by=1):
    counts[key] = counts.get(key, 0) + by


def count_file(pcap):
    """The tshark-derived part of one file's entry."""
    stats = {"min_mtu_for_replay": 0, "max_frame_len": 0}
    per_src, flows, non_ip = {}, {}, {}
    non_ip_bytes = 0
    for fr in run_tshark(pcap):
        f = Frame(fr)
        bump(stats, "frames")
        bump(stats, "l2_bytes", f.len)
        bump(stats, "l2_cap_bytes", f.cap)
        stats["max_frame_len"] = max(stats["max_frame_len"], f.len)
        if f.cap < f.len:
            bump(stats, "truncated_frames")
        if f.len > ETH_FRAME_MAX + TAG_LEN * f.tags:
            bump(stats, "frames_longer_than_1514_plus_tags")
        # AF_PACKET sends up to MTU + 14 bytes, 4 more under an outer 0x8100.
        mtu = f.cap - ETH_HLEN - (TAG_LEN if f.outer_8100 else 0)
        stats["min_mtu_for_replay"] = max(stats["min_mtu_for_replay"], mtu)
        if f.family is None:
            bump(non_ip, f.non_ip)
            non_ip_bytes += f.len
            continue
        kind = f"ipv{f.family}"
        bump(stats, kind + "_frames")
        if f.fragment:
            bump(stats, kind + "_fragment_frames")
        if f.l4_missing:
            bump(stats, "tcp_udp_without_decodable_l4_header")
        if f.ext_truncated:
            bump(stats, "ipv6_ext_header_chain_truncated")
        src = ipaddress.ip_address(f.src).compressed
        dst = ipaddress.ip_address(f.dst).compressed
        s = per_src.setdefault(src, {"family": f.family, "packets": 0,
                                     "l2_bytes": 0, "ip_bytes": 0,
                                     "l2_cap_bytes": 0})
        s["packets"] += 1
        s["l2_bytes"] += f.len
        s["ip_bytes"] += f.ip_len
        s["l2_cap_bytes"] += f.cap
        key = (f.family, src, dst, f.proto, f.sport, f.dport)
        fl = flows.setdefault(key, {"family": f.family, "src": src, "dst": dst,
                                    "proto": f.proto, "sport": f.sport,
                                    "dport": f.dport, "packets": 0,
                                    "l2_bytes": 0, "ip_bytes": 0})
        fl["packets"] += 1
        fl["l2_bytes"] += f.len
        fl["ip_bytes"] += f.ip_len
    return {
        "per_src_ip": dict(sorted(per_src.items())),
        "flows": [flows[k] for k in sorted(flows)],
        "non_ip_frames": sum(non_ip.values()),
        "non_ip_l2_bytes": non_ip_bytes,
        "non_ip_breakdown": dict(sorted(non_ip.items())),
        "stats": dict(sorted(stats.items())),
        "replayable_as_is": (stats.get("truncated_frames", 0) == 0
                             and SHORT not in non_ip),
    }


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as err:
        sys.exit(f"tshark_oracle: cannot read {what} {path}: {err}")


def entry(name, counted, manifest, previous):
    """One file's entry: the counts, then provenance, then the replay check."""
    if name not in manifest:
        sys.exit(f"tshark_oracle: {name} is not in manifest.json: add its "
                 "provenance there (README.md, 'Adding a capture')")
    prov = manifest[name]
    out = dict(counted)
    out["classes"] = prov["classes"]
    out["origin"] = {k: v for k, v in prov.items() if k != "classes"}
    check = previous.get(name, {}).get("veth_replay_check")
    if check is not None:
        for mtu, res in check.items():
            if res.get("frames_in_file") != counted["stats"]["frames"]:
                sys.exit(f"tshark_oracle: {name}: veth_replay_check.{mtu} "
                         f"has {res.get('frames_in_file')} frames, tshark "
                         f"{counted['stats']['frames']}: replay it again")
        out["veth_replay_check"] = check
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=here, help="pcaps + manifest.json")
    ap.add_argument("--out", help="output (default CORPUS/expected.json)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    out_path = args.out or os.path.join(args.corpus, "expected.json")
    manifest = load_json(os.path.join(args.corpus, "manifest.json"),
                         "manifest")
    prev_path = os.path.join(args.corpus, "expected.json")
    previous = (load_json(prev_path, "previous oracle")
                if os.path.exists(prev_path) else {})
    names = sorted(n for n in os.listdir(args.corpus) if n.endswith(".pcap"))
    if not names:
        sys.exit(f"tshark_oracle: no .pcap files in {args.corpus}")
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        counted = pool.map(count_file,
                           (os.path.join(args.corpus, n) for n in names))
        result = {n: entry(n, c, manifest, previous)
                  for n, c in zip(names, counted)}
    # Written whole, then renamed: a failed run leaves the old file intact.
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1)
    os.replace(tmp, out_path)
    print(f"tshark_oracle: {len(result)} files -> {out_path}")


if __name__ == "__main__":
    main()
