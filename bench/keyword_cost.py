#!/usr/bin/env python3
"""What a rule set's keywords cost the prefilter on base64 blobs (notebook images, model
weights in JSON): the share of positions of random base64 that pass the VBMI bucket stage and
then the table test of src/matcher/prefilter, computed exactly from a Python model of both.

    python3 bench/keyword_cost.py RULES_DIR [RULES_DIR …]

Each passing position costs a scalar table lookup (and, past the table, a keyword compare), so
the bucket figure tracks the `prefilter/base64_json` criterion group: 0.52% at 330 keywords ran
at about 1267 MiB/s, 1.60% at 494 keywords at about 990 MiB/s. The model follows the Rust code
(class(), weight(), the bucket placement and its sweeps, the gram hash) and must be kept in step
with it; it is for comparing keyword sets, not a substitute for `cargo bench --bench engine`.
What costs: keywords whose first four bytes are all base64 characters (letters, digits, `+`,
`/`), most of all three-byte ones (`eyj`, `pwd`, `cio`), which set a whole table word and leave
their bucket open to any fourth byte.
"""
import sys, glob, tomllib, itertools
BITS = 13
def fold(b): return b | 0x20
def klass(b): return (b & 0x1f) | ((b & 0x40) >> 1)
def weight(c):
    if 0x21 <= c <= 0x3a: return 0.03
    if 0x10 <= c <= 0x19: return 0.01
    if c == 0x00: return 0.1
    if c in (0x02, 0x1a, 0x1d, 0x3f) or 0x0c <= c <= 0x0f: return 0.01
    return 0.002
def h(x): return (((x & 0xFFFFFF) * 0x9E3779B1) & 0xFFFFFFFF) >> (32 - BITS)

def keywords(d, drop=()):
    out = []
    for f in sorted(glob.glob(d + '/*.toml')):
        for r in tomllib.load(open(f, 'rb'))['rule']:
            for k in r['keywords']:
                k = k.lower()
                if k not in out and k not in drop: out.append(k)
    return out

class Fill:
    def __init__(s):
        s.count = [[0]*64 for _ in range(4)]; s.short = [0]*4; s.sum = [0.0]*4; s.grams = 0
    def cost(s, g, change):
        grams = s.grams + change
        if grams == 0: return 0.0
        p = 1.0
        for j in range(4):
            c = g[j]
            if c is None:
                short = s.short[j] + change; present = s.sum[j]
            else:
                n = s.count[j][c]; w = weight(c); sm = s.sum[j]
                if n == 0 and change == 1: sm += w
                elif n == 1 and change == -1: sm -= w
                short = s.short[j]; present = sm
            p *= 1.0 if short > 0 else present
        return p
    def add(s, g, change):
        s.grams += change
        for j in range(4):
            c = g[j]
            if c is None: s.short[j] += change
            else:
                was = s.count[j][c]; s.count[j][c] += change
                if was == 0 or s.count[j][c] == 0: s.sum[j] += change * weight(c)

def build(kws):
    table = [0] * (1 << BITS)
    grams = []
    for p in kws:
        b = p.encode()
        n = min(len(b), 4)
        if n < 3: continue
        fb = [fold(x) for x in b[:n]]
        x = 0
        for i, v in enumerate(fb): x |= v << (8 * i)
        if n == 4: table[h(x)] |= 1 << ((x >> 24) & 63)
        else: table[h(x)] = (1 << 64) - 1
        grams.append(tuple(klass(fb[j]) if j < n else None for j in range(4)))
    key = lambda g: (sum(c is not None for c in g), tuple((-1 if c is None else c) for c in g))
    grams = sorted(set(grams), key=key)
    B = 32
    fill = [Fill() for _ in range(B)]; now = [0.0] * B; place = []
    def cheapest(g, nott):
        best = None
        for b in range(B):
            if b == nott: continue
            v = (fill[b].cost(g, 1) - now[b], b)
            if best is None or v[0] < best[0]: best = v
        return best
    for g in grams:
        _, b = cheapest(g, B); fill[b].add(g, 1); now[b] = fill[b].cost(g, 0); place.append(b)
    for _ in range(4):
        moved = False
        for i, g in enumerate(grams):
            frm = place[i]; left = fill[frm].cost(g, -1); adds, to = cheapest(g, frm)
            if adds < now[frm] - left - 1e-12:
                fill[frm].add(g, -1); now[frm] = left; fill[to].add(g, 1); now[to] += adds; place[i] = to; moved = True
        if not moved: break
    T = [[0] * 64 for _ in range(4)]
    for g, b in zip(grams, place):
        for j, c in enumerate(g):
            if c is None:
                for k in range(64): T[j][k] |= 1 << b
            else: T[j][c] |= 1 << b
    return table, T, grams, place

B64 = b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
def rates(table, T):
    # folded byte -> probability
    probs = {}
    for c in B64: probs[fold(c)] = probs.get(fold(c), 0) + 1 / 64
    items = list(probs.items())
    pb = pt = 0.0
    for (a, pa), (b, pbb) in itertools.product(items, items):
        m01 = T[0][klass(a)] & T[1][klass(b)]
        if not m01: continue
        for (c, pc) in items:
            m012 = m01 & T[2][klass(c)]
            if not m012: continue
            for (d, pd) in items:
                if m012 & T[3][klass(d)]:
                    p = pa * pbb * pc * pd
                    pb += p
                    x = a | b << 8 | c << 16 | d << 24
                    if table[h(x)] >> ((x >> 24) & 63) & 1: pt += p
    return pb, pt

def main():
    for d in sys.argv[1:]:
        kws = keywords(d)
        table, T, grams, place = build(kws)
        pb, pt = rates(table, T)
        print(f'{d}: {len(kws)} keywords, {len(grams)} grams; random base64 positions passing '
              f'the buckets {pb * 100:.3f}%, the table {pt * 100:.4f}%')


if __name__ == '__main__':
    main()
