#!/usr/bin/env python3
"""The module graph of src/: which top-level modules use which.

An edge A -> B means some non-test code in src/A.rs or src/A/ names
`crate::B` (in a `use` or a path; `use crate::{B, C}` counts both). Code
after `#[cfg(test)]` (the next item: a `mod tests { .. }`, a fn, a use) and
comments are left out. Prints the edges, the cycles (strongly connected
components of more than one module), the upward edges (into `app`, or into
`commands` from below it) and, one level down, a command that uses another
command's module.

Usage: scripts/module-graph.py [SRC_DIR]   (default: ./src)
Exit status 0 always: this measures, it does not judge.
"""

import os
import re
import sys
from collections import defaultdict

# The top of the program: nothing below may name these.
TOP = ["app", "commands"]


def strip_comments(text):
    """Line comments and block comments out; strings kept as they are."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i)
            i = n if j < 0 else j + 2
        elif c == "r" and re.match(r'r#*"', text[i:]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append(text[i:j])
            i = j
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:]):
            m = re.match(r"'(\\.|[^\\'])'", text[i:])
            out.append(m.group(0))
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def skip_item(text, i):
    """The index just past the item starting at or after `i` (braces balanced)."""
    n = len(text)
    depth = 0
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        elif c == ";" and depth == 0:
            return i + 1
        i += 1
    return n


def strip_tests(text):
    out = []
    i = 0
    for m in re.finditer(r"#\[cfg\(test\)\]", text):
        if m.start() < i:
            continue
        out.append(text[i : m.start()])
        i = skip_item(text, m.end())
    out.append(text[i:])
    return "".join(out)


def names_used(text):
    """Top-level module names after `crate::`, groups included."""
    used = set()
    for m in re.finditer(r"\bcrate::(\{|[A-Za-z_][A-Za-z0-9_]*)", text):
        if m.group(1) != "{":
            used.add(m.group(1))
            continue
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        group = text[m.end() : j - 1]
        # A name is top level when it starts a comma-separated part at depth 0.
        part_start = True
        level = 0
        token = ""
        for c in group + ",":
            if c == "{":
                level += 1
            elif c == "}":
                level -= 1
            if level == 0 and c == ",":
                if part_start and token:
                    used.add(token)
                part_start = True
                token = ""
                continue
            if part_start and level == 0:
                if c.isalnum() or c == "_":
                    token += c
                elif token:
                    used.add(token)
                    part_start = False
            elif part_start and token:
                used.add(token)
                part_start = False
    return used


def module_of(path, src):
    rel = os.path.relpath(path, src)
    parts = rel.split(os.sep)
    return parts[0][:-3] if len(parts) == 1 else parts[0]


def command_of(path, src):
    """`commands/run/x.rs` -> `run`; `commands/status.rs` -> `status`."""
    parts = os.path.relpath(path, src).split(os.sep)
    if parts[0] != "commands" or len(parts) < 2:
        return None
    return parts[1][:-3] if parts[1].endswith(".rs") else parts[1]


def scc(nodes, edges):
    """Tarjan's strongly connected components."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    edges = defaultdict(set)
    why = defaultdict(set)  # (a, b) -> files
    cmd_edges = defaultdict(set)
    nodes = set()
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            a = module_of(path, src)
            if a in ("main", "lib"):
                continue
            nodes.add(a)
            with open(path, encoding="utf-8") as fh:
                text = strip_tests(strip_comments(fh.read()))
            for b in names_used(text):
                if b != a and b not in ("self",):
                    edges[a].add(b)
                    nodes.add(b)
                    why[(a, b)].add(os.path.relpath(path, src))
            here = command_of(path, src)
            if here:
                for m in re.finditer(r"\bcrate::commands::([a-z_]+)", text):
                    if m.group(1) != here:
                        cmd_edges[here].add(m.group(1))
                for m in re.finditer(r"\bsuper::super::([a-z_]+)", text):
                    if m.group(1) != here:
                        cmd_edges[here].add(m.group(1))
                if os.path.relpath(root, src) == "commands":
                    for m in re.finditer(r"\bsuper::([a-z_]+)::", text):
                        if m.group(1) != here:
                            cmd_edges[here].add(m.group(1))
    count = sum(len(v) for v in edges.values())
    print(f"modules: {len(nodes)}  edges: {count}")
    print("\nedges (module -> modules it uses):")
    for a in sorted(nodes):
        if edges[a]:
            print(f"  {a} -> {', '.join(sorted(edges[a]))}")
    cycles = scc(nodes, edges)
    print(f"\ncycles (strongly connected sets): {len(cycles)}")
    for c in cycles:
        print(f"  {{{', '.join(c)}}}")
        members = set(c)
        for a in c:
            for b in sorted(edges[a] & members):
                print(f"    {a} -> {b}: {', '.join(sorted(why[(a, b)]))}")
    upward = [
        (a, b)
        for a in sorted(nodes)
        for b in sorted(edges[a])
        if b in TOP and a not in TOP[: TOP.index(b) + 1] and not (b == "commands" and a == "app")
    ]
    print(f"\nupward edges (into {' / '.join(TOP)} from below): {len(upward)}")
    for a, b in upward:
        print(f"  {a} -> {b}: {', '.join(sorted(why[(a, b)]))}")
    cross = [(a, b) for a in sorted(cmd_edges) for b in sorted(cmd_edges[a])]
    print(f"\ncommand -> another command's module: {len(cross)}")
    for a, b in cross:
        print(f"  commands::{a} -> commands::{b}")


if __name__ == "__main__":
    main()
