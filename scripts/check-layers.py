#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Layering and cycle checks over the `#include "..."` lines and the calls of
traffic-counter-ebpf/, traffic-counter-common/ and traffic-counter/.

Prints one line per violation and exits 1; prints nothing and exits 0 when
the tree is clean. The rules are LAYERS below; openspec/project.md states the
same table ("Dependency rules"). Usage:

    check-layers.py [--root DIR] [--cycles-only]

--root: the tree to check (default: this repository). --cycles-only: only
the cycle checks, for a tree without the layer folders (the flat layout
before the layers).
"""

import argparse
import os
import re
import sys

EBPF = "traffic-counter-ebpf"
COMMON = "traffic-counter-common"
CLI = "traffic-counter"
COMMON_LAYERS = ("abi", "util", "maps", "config", "export", "loader")

# Layer -> the layers its files may include. "skel" is a generated BPF
# skeleton (*.skel.h); "cli" is traffic-counter/ (command folders have their
# own rule, COMMAND_FOLDER_USERS). Keep in step with openspec/project.md.
LAYERS = {
    "ebpf": {"abi", "ebpf"},
    "abi": {"abi"},
    "util": {"abi", "util"},
    "maps": {"abi", "util", "maps"},
    "config": {"abi", "util", "maps", "config"},
    "export": {"abi", "util", "maps", "config", "export"},
    "loader": {"abi", "util", "maps", "loader", "skel"},
    "cli": set(COMMON_LAYERS) | {"cli"},
}
# Besides its own files, who may include a header of a command folder
# (traffic-counter/top/, verify/, serve/, ipfix/). Tests are not scanned.
COMMAND_FOLDER_USERS = {CLI + "/main.c", CLI + "/commands.h"}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
# clang-format (BreakBeforeBraces: Linux) puts a function's "{" alone at
# column 0 and its "}" alone at column 0; its signature starts at column 0.
SIGNATURE_RE = re.compile(r"^([A-Za-z_][^;(]*?)\b([A-Za-z_]\w*)\s*\(")
CALL_RE = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
NOT_CALLS = {"if", "for", "while", "switch", "return", "sizeof", "defined"}


def source_files(root):
    """Every .c and .h under the three source folders, relative to root."""
    out = []
    for top in (EBPF, COMMON, CLI):
        for d, _, names in os.walk(os.path.join(root, top)):
            for n in names:
                if n.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(out)


def layer_of(path):
    """The layer of a file, or None when its folder is not a known layer."""
    if path.endswith(".skel.h"):
        return "skel"
    parts = path.split("/")
    if parts[0] == EBPF:
        return "ebpf"
    if parts[0] == CLI:
        return "cli"
    if parts[0] == COMMON and len(parts) > 2 and parts[1] in COMMON_LAYERS:
        return parts[1]
    return None


def command_folder(path):
    """traffic-counter/top/x.h -> "traffic-counter/top", else None."""
    parts = path.split("/")
    if parts[0] == CLI and len(parts) > 2:
        return "/".join(parts[:2])
    return None


def module_of(path):
    """A module is x.c + x.h in one folder: the path without extension and
    without the source folder ("loader/hooks", "top/cmd_top")."""
    stem = path[: -len(".c")] if path.endswith(".c") else path[: -len(".h")]
    parts = stem.split("/")
    return "/".join(parts[1:]) if parts[0] in (EBPF, COMMON, CLI) else stem


def search_path(path):
    """Where the build looks for a quoted include of this file: its own
    folder first, then the -I folders of its side (Makefile)."""
    own = os.path.dirname(path)
    if path.startswith(EBPF + "/"):
        return [own, COMMON + "/abi"]
    return [own, COMMON, CLI]


def resolve(root, path, inc):
    """The included file relative to root, or None when not in the tree.
    Falls back to the other sides' folders so that an include the build
    would not find still gets its layer named."""
    for d in search_path(path) + [COMMON + "/abi", COMMON, CLI]:
        cand = os.path.normpath(os.path.join(d, inc))
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    return None


def read_lines(root, path):
    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
        return f.read().split("\n")


def strip_code(lines):
    """Lines with comments and string/char literals blanked, same numbering."""
    text = "\n".join(lines)
    pat = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
    return pat.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text).split("\n")


def includes(root, files):
    """(file, line number, include text, resolved path or None)."""
    out = []
    for f in files:
        for i, line in enumerate(read_lines(root, f), 1):
            m = INCLUDE_RE.match(line)
            if m:
                out.append((f, i, m.group(1), resolve(root, f, m.group(1))))
    return out


def layer_violations(incs):
    out = []
    for f, line, inc, dst in incs:
        where = f'{f}:{line}: #include "{inc}": '
        src_layer = layer_of(f)
        if dst is None:
            if inc.endswith(".skel.h"):
                dst = inc  # generated in build/
            else:
                out.append(where + "not found in the tree")
                continue
        dst_layer = layer_of(dst)
        if src_layer is None or dst_layer is None:
            continue
        if src_layer != "cli" and dst_layer == "cli":
            out.append(where + "common and ebpf never include the CLI (traffic-counter/)")
        elif dst_layer not in LAYERS[src_layer]:
            allowed = ", ".join(sorted(LAYERS[src_layer]))
            out.append(where + f"{src_layer} may include only: {allowed}")
        folder = command_folder(dst)
        if folder and command_folder(f) != folder and f not in COMMAND_FOLDER_USERS:
            if os.path.basename(f).startswith("cmd_"):
                out.append(where + "a command never includes another command's header")
            else:
                out.append(where + f"{folder}/ is included only by its own files, "
                           "main.c and commands.h")
    return out


def definitions(root, files):
    """Non-static function definitions: name -> defining .c file."""
    defs = {}
    for f in files:
        if not f.endswith(".c") or f.startswith(EBPF + "/"):
            continue
        lines = strip_code(read_lines(root, f))
        sig = None
        for line in lines:
            if line == "{" and sig:
                defs.setdefault(sig, f)
            m = SIGNATURE_RE.match(line)
            if m and not line.startswith(("static", "#", "typedef")):
                sig = m.group(2)
            elif line[:1] not in ("", " ", "\t", "{"):
                sig = None
    return defs


def calls(root, files, defs):
    """(caller file, line, name, defining file) for calls between files."""
    out = []
    for f in files:
        if not f.endswith(".c") or f.startswith(EBPF + "/"):
            continue
        for i, line in enumerate(strip_code(read_lines(root, f)), 1):
            if line.startswith("#"):
                continue
            for m in CALL_RE.finditer(line):
                name = m.group(1)
                if name in NOT_CALLS or name not in defs or defs[name] == f:
                    continue
                out.append((f, i, name, defs[name]))
    return out


def command_call_violations(call_list):
    out = []
    for f, line, name, dst in call_list:
        if os.path.basename(f).startswith("cmd_") and os.path.basename(dst).startswith("cmd_"):
            out.append(f"{f}:{line}: calls {name}() of {dst}: "
                       "a command never calls another command")
    return out


def simple_cycles(graph):
    """Each elementary cycle once, starting at its smallest module."""
    found = []
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ()), reverse=True):
                if nxt == start:
                    found.append(path + [start])
                elif nxt > start and nxt not in path:
                    stack.append((nxt, path + [nxt]))
    return sorted(found, key=lambda c: (len(c), c))


def cycle_violations(kind, edges):
    graph = {}
    for a, b in edges:
        if a != b:
            graph.setdefault(a, set()).add(b)
    return [f"{kind} cycle: " + " -> ".join(c) for c in simple_cycles(graph)]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(here))
    ap.add_argument("--cycles-only", action="store_true")
    args = ap.parse_args()

    files = source_files(args.root)
    incs = includes(args.root, files)
    call_list = calls(args.root, files, definitions(args.root, files))

    out = []
    if not args.cycles_only:
        out += layer_violations(incs)
        out += command_call_violations(call_list)
    inc_edges = {(module_of(f), module_of(d)) for f, _, _, d in incs if d}
    out += cycle_violations("include", inc_edges)
    call_edges = {(module_of(f), module_of(d)) for f, _, _, d in call_list}
    # A call cycle that is also an include cycle is reported once, above.
    inc_cycles = {tuple(c.split(": ", 1)[1].split(" -> ")) for c in out
                  if c.startswith("include cycle")}
    out += [c for c in cycle_violations("call", call_edges)
            if tuple(c.split(": ", 1)[1].split(" -> ")) not in inc_cycles]
    for line in out:
        print(line)
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
