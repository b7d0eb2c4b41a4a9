#!/usr/bin/env python3
"""Import cycles between a crate's modules, from its `use crate::…`, `crate::…` and `super::…`
paths (test modules and comment lines left out). Exits 1 if there is a cycle.

usage: scripts/import-cycles.py SRC_DIR [DEPTH] [-v]
  DEPTH 0 (default): file modules, a parent's `mod` of its children not counted;
  DEPTH N: modules cut to their first N path segments (1 = the crate's top-level modules).
  -v: print the import graph too."""
import glob
import os
import re
import sys

args = [a for a in sys.argv[1:] if a != "-v"]
src, depth = args[0], int(args[1]) if len(args) > 1 else 0

mods = {}
for f in glob.glob(src + "/**/*.rs", recursive=True):
    path = os.path.relpath(f, src)[:-3].split("/")
    if path[-1] == "mod":
        path = path[:-1]
    if path in (["lib"], ["main"]):
        path = []
    mods["::".join(path)] = f


def group_items(body):
    """Splits `a::b, c::{d, e}` at its top-level commas."""
    items, cur, level = [], "", 0
    for ch in body:
        level += (ch == "{") - (ch == "}")
        if ch == "," and level == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    return items + [cur]


def expand(prefix, body, out):
    for item in group_items(body):
        item = item.strip()
        if not item:
            continue
        m = re.match(r"([\w:]*?)::\{(.*)\}$", item, re.S)
        if m:
            expand(prefix + [p for p in m.group(1).split("::") if p], m.group(2), out)
        else:
            out.append(prefix + [p for p in item.split(" as ")[0].split("::") if p and p != "self"])


def targets(text, module):
    out = []
    for m in re.finditer(r"use crate::\{(.*?)\};", text, re.S):
        expand([], m.group(1), out)
    for m in re.finditer(r"crate::((?:\w+::)*\w+)", text):
        out.append(m.group(1).split("::"))
    parent = module.split("::")[:-1] if module else []
    for m in re.finditer(r"use super::\{(.*?)\};", text, re.S):
        for item in group_items(m.group(1)):
            first = item.strip().split("::")[0]
            if first and first != "self":
                out.append(parent + [first])
    for m in re.finditer(r"super::(\w+)", text):
        out.append(parent + [m.group(1)])
    return out


def resolve(path):
    best = None
    for i in range(1, len(path) + 1):
        if "::".join(path[:i]) in mods:
            best = "::".join(path[:i])
    return best


def cut(m):
    return "::".join(m.split("::")[:depth]) if depth else m


edges = {}
for module, f in mods.items():
    text = open(f).read()
    text = text.split("#[cfg(test)]\nmod tests")[0]
    text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("//"))
    for path in targets(text, module):
        t = resolve(path)
        if t is None:
            continue
        a, b = cut(module), cut(t)
        related = depth == 0 and (b.startswith(a + "::") or a.startswith(b + "::"))
        if a != b and not related:
            edges.setdefault(a, set()).add(b)

# Strongly connected components (Tarjan): any with more than one module is a cycle.
sys.setrecursionlimit(10000)
index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges.get(v, ()):
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
        if len(comp) > 1:
            cycles.append(sorted(comp))


for v in list(edges):
    if v not in index:
        visit(v)
if "-v" in sys.argv:
    for a in sorted(edges):
        print(f"{a or '(root)'} -> {', '.join(sorted(edges[a]))}")
print(f"{src} (depth {depth}): {len(mods)} modules, cycles: {cycles or 'none'}")
sys.exit(1 if cycles else 0)
