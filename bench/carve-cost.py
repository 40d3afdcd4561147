#!/usr/bin/env python3
"""What general carving would cost (#22): trying a zlib or gzip stream at every offset of a
binary file, as docs/archives.md discusses. Reads the files under DIR (default /usr/bin), leaves
out text (no NUL byte in the first 8 KiB: text never pays), and for each binary file counts

- candidates: offsets whose two bytes pass zlib's header check (method 8, window <= 32 KiB, no
  preset dictionary, (CMF*256+FLG) % 31 == 0) or that start a gzip member (1f 8b 08);
- streams: candidates whose first 4 KiB inflate without error (the check leadey-scan's zlib
  sniff makes), and the bytes they inflate to when read to their end (what a carver would then
  scan);

and times the candidate search and the trial inflates (CPython's zlib, the same C inflate
work as zlib-rs; Python's per-candidate overhead is included, so these are upper bounds), against
one `bytes.find` pass for the key prefix over the same bytes (the floor of any scan).

    python3 bench/carve-cost.py /usr/lib/x86_64-linux-gnu
"""
import os
import re
import sys
import time
import zlib

TRIAL = 4096
root = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin"
zlib_head = re.compile(rb"[\x08\x18\x28\x38\x48\x58\x68\x78][\x00-\xff]", re.S)

files = binary = size = cand = streams = inflated = 0
t_find = t_search = t_trial = t_full = 0.0
for base, dirs, names in os.walk(root):
    for name in names:
        path = os.path.join(base, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        try:
            data = open(path, "rb").read()
        except OSError:
            continue
        files += 1
        if b"\0" not in data[:8192]:
            continue
        binary += 1
        size += len(data)
        t0 = time.perf_counter()
        data.find(b"leadey_sk_live_")
        t1 = time.perf_counter()
        offsets = []
        for m in zlib_head.finditer(data):
            cmf, flg = data[m.start()], data[m.start() + 1]
            if flg & 0x20 == 0 and (cmf >> 4) <= 7 and (cmf * 256 + flg) % 31 == 0:
                offsets.append((m.start(), 15))
        at = data.find(b"\x1f\x8b\x08")
        while at >= 0:
            offsets.append((at, 31))
            at = data.find(b"\x1f\x8b\x08", at + 1)
        t2 = time.perf_counter()
        found = []
        for off, wbits in offsets:
            d = zlib.decompressobj(wbits)
            try:
                out = d.decompress(data[off:off + TRIAL], 65536)
            except zlib.error:
                continue
            if out or d.eof:
                found.append((off, wbits))
        t3 = time.perf_counter()
        for off, wbits in found:
            d = zlib.decompressobj(wbits)
            try:
                n = len(d.decompress(data[off:]))
            except zlib.error:
                n = 0
            inflated += n
        t4 = time.perf_counter()
        cand += len(offsets)
        streams += len(found)
        t_find += t1 - t0
        t_search += t2 - t1
        t_trial += t3 - t2
        t_full += t4 - t3

mb = size / 1e6
print(f"dir {root}: {files} files, {binary} binary, {mb:.1f} MB of binary files")
print(f"candidates {cand} ({cand / max(mb, 1e-9):.0f} per MB), streams that inflate {streams}, "
      f"inflating to {inflated / 1e6:.1f} MB")
print(f"prefix find (floor of a scan) {t_find:.3f} s; candidate search {t_search:.2f} s; "
      f"trial inflates {t_trial:.2f} s; full inflate of the streams {t_full:.2f} s")
