#!/usr/bin/env python3
"""Usage: keys-found.py TOOL REPORT KEYS_FILE. Prints how many of the planted keys in KEYS_FILE
(whitespace-separated) the report holds: by `key_sha256` for leadey-scan's JSON (TOOL
`leadey`), by the key's text for any other tool. A missing report holds none. Shared by the
benchmark scripts."""
import hashlib
import json
import sys

tool, report, keys_file = sys.argv[1:]
keys = open(keys_file).read().split()
try:
    text = open(report, encoding="utf-8", errors="replace").read()
except FileNotFoundError:
    print(0)
    sys.exit()
if tool == "leadey":
    hashes = {f.get("key_sha256") for f in json.loads(text).get("findings", [])}
    print(sum(hashlib.sha256(k.encode()).hexdigest() in hashes for k in keys))
else:
    print(sum(k in text for k in keys))
