#!/usr/bin/env python3
"""Reads a `/usr/bin/time -v -o FILE` report and prints `SECONDS RSS_MIB EXIT` (EXIT is
`signal` when the command was killed). Shared by the benchmark scripts."""
import re
import sys

t = open(sys.argv[1]).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall.split(":"))))
code = re.search(r"Exit status: (\d+)", t)
print(f"{secs:.2f} {rss:.1f} {code.group(1) if code else 'signal'}")
