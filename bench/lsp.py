#!/usr/bin/env python3
"""Latency of `leadey-scan --lsp` (#24): from a `didChange` sent to the `publishDiagnostics` of
that version, measured over stdio with a release build, as an editor sees it.

Cases (each buffer holds three keys, so every publish carries diagnostics and positions):
- 10,000 lines of code-like text (~470 KB): one-character edits with ranges (incremental sync);
- 1 MiB buffer: the same, and also the whole text sent on each change (full sync, what clients
  without incremental sync do);
- 1 MiB of base64 lines with three base64-encoded keys (the decoders' worst plain case);
- 10 MiB of code-like text, to show where the time goes past the goals;
- the first `didOpen` of each buffer.
With --nvim NVIM, also end to end in headless Neovim (>= 0.11) with debounce_text_changes = 0:
from `nvim_buf_set_lines` to the `DiagnosticChanged` event, on the 10,000-line buffer.

Usage: bench/lsp.py [--bin PATH] [--rounds N] [--nvim PATH]
  (default binary: target/release/leadey-scan, built with `cargo build --release --locked`
   unless --bin or $LEADEY_BIN is given). Keys are random, made at run time. Prints the median,
   p95 and max of each case, the load average before and after, and the binary's commit.
"""

import argparse
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "leadey_" + "sk_live_"
ALNUM = string.ascii_letters + string.digits


def key(rng):
    return PREFIX + "".join(rng.choice(ALNUM) for _ in range(32))


def code_lines(rng, n):
    """n lines that look like source code: identifiers, calls, strings, numbers, comments."""
    words = ["config", "client", "request", "value", "result", "token", "buffer", "index",
             "handler", "session", "payload", "options", "header", "response", "cache"]
    out = []
    for i in range(n):
        a, b, c = rng.choice(words), rng.choice(words), rng.choice(words)
        kind = i % 5
        if kind == 0:
            out.append(f"    let {a}_{i} = {b}.{c}(\"{a}-{b}\", {rng.randint(0, 99999)});")
        elif kind == 1:
            out.append(f"    // {a} {b} {c}: see issue {rng.randint(1, 999)} for the {b} path")
        elif kind == 2:
            out.append(f"    if {a}.is_empty() {{ return Err(Error::{c.capitalize()}); }}")
        elif kind == 3:
            blob = "".join(rng.choice(ALNUM + "+/") for _ in range(24))
            out.append(f"    const {a.upper()}_{i}: &str = \"{blob}\";")
        else:
            out.append(f"fn {a}_{b}_{i}({c}: &mut {b.capitalize()}) -> usize {{ {c}.len() }}")
    return out


def with_keys(rng, lines, count=3):
    for j in range(count):
        at = (j + 1) * len(lines) // (count + 1)
        lines[at] = f"    let api_key = \"{key(rng)}\";"
    return lines


def base64_mib(rng):
    """1 MiB of base64 lines (76 characters, as in MIME and certificate bundles), three keys
    base64-encoded among them: the decoders' worst case among plain buffers."""
    import base64
    lines = []
    size = 0
    while size < 1 << 20:
        raw = bytes(rng.getrandbits(8) for _ in range(57))
        line = base64.b64encode(raw).decode()
        lines.append(line)
        size += len(line) + 1
    for j in range(3):
        at = (j + 1) * len(lines) // 4
        lines[at] = "token: " + base64.b64encode(key(rng).encode()).decode()
    return lines


def scaled(rng, mib):
    """`mib` MiB of code-like lines with three keys."""
    lines = code_lines(rng, int(mib * 17000))
    return with_keys(rng, lines)


def one_mib(rng):
    lines = code_lines(rng, 30000)
    text = "\n".join(lines)
    while len(text.encode()) < 1 << 20:
        lines += code_lines(rng, 1000)
        text = "\n".join(lines)
    # Cut to 1 MiB at a line end.
    cut = text.encode()[: 1 << 20].decode("utf-8", "ignore")
    lines = cut.split("\n")[:-1]
    return with_keys(rng, lines)


class Server:
    def __init__(self, binary):
        self.p = subprocess.Popen([binary, "--lsp"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next_id = 0

    def send(self, msg):
        msg["jsonrpc"] = "2.0"
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def read(self):
        length = 0
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise SystemExit("the server closed its output")
            line = line.strip()
            if not line:
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.p.stdout.read(length))

    def request(self, method, params):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            m = self.read()
            if m.get("id") == self.next_id and "method" not in m:
                return m

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def wait_publish(self, uri, version):
        while True:
            m = self.read()
            if m.get("method") == "textDocument/publishDiagnostics":
                p = m["params"]
                if p["uri"] == uri and p.get("version") == version:
                    return p

    def stop(self):
        self.request("shutdown", None)
        self.notify("exit", None)
        self.p.wait(timeout=30)


def stats(ms):
    s = sorted(ms)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]
    return f"median {s[len(s) // 2]:.2f} ms, p95 {p95:.2f} ms, max {s[-1]:.2f} ms (n={len(s)})"


def bench_buffer(server, name, lines, rounds, rng, full):
    uri = f"untitled:{name}"
    text = "\n".join(lines) + "\n"
    t0 = time.perf_counter()
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "rust", "version": 1, "text": text}})
    p = server.wait_publish(uri, 1)
    open_ms = (time.perf_counter() - t0) * 1000
    assert len(p["diagnostics"]) == 3, p["diagnostics"]
    times = []
    version = 1
    for _ in range(rounds):
        version += 1
        line = rng.randrange(len(lines))
        if full:
            lines[line] = "x" + lines[line]
            text = "\n".join(lines) + "\n"
            change = {"text": text}
        else:
            at = {"line": line, "character": 0}
            change = {"range": {"start": at, "end": at}, "text": "x"}
        t0 = time.perf_counter()
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})
        p = server.wait_publish(uri, version)
        times.append((time.perf_counter() - t0) * 1000)
        assert len(p["diagnostics"]) == 3
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return open_ms, times


NVIM_LUA = r"""
local bin, path, rounds = os.getenv('B'), os.getenv('P'), tonumber(os.getenv('N'))
vim.cmd('filetype plugin indent off') vim.cmd('syntax off')
vim.cmd('edit ' .. vim.fn.fnameescape(path))
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start({ name = 'leadey-scan', cmd = { bin, '--lsp' },
  root_dir = vim.fn.fnamemodify(path, ':h'), flags = { debounce_text_changes = 0 } })
vim.wait(20000, function() local c = vim.lsp.get_client_by_id(id); return c and c.initialized end)
local changed = 0
vim.api.nvim_create_autocmd('DiagnosticChanged', { buffer = buf, callback = function() changed = changed + 1 end })
vim.wait(20000, function() return #vim.diagnostic.get(buf) == 3 end, 1)
local times = {}
local n = vim.api.nvim_buf_line_count(buf)
for i = 1, rounds do
  local before = changed
  local line = (i * 7919) % n
  local text = vim.api.nvim_buf_get_lines(buf, line, line + 1, false)[1]
  local t0 = vim.uv.hrtime()
  vim.api.nvim_buf_set_lines(buf, line, line + 1, false, { 'x' .. text })
  vim.wait(20000, function() return changed > before end, 0)
  table.insert(times, (vim.uv.hrtime() - t0) / 1e6)
end
local f = io.open(os.getenv('O'), 'w') f:write(vim.json.encode({ times = times, diags = #vim.diagnostic.get(buf) })) f:close()
vim.cmd('qa!')
"""


def bench_nvim(nvim, binary, lines, rounds):
    d = tempfile.mkdtemp(prefix="lsp-bench-")
    try:
        path = os.path.join(d, "big.rs")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        script, out = os.path.join(d, "b.lua"), os.path.join(d, "out.json")
        with open(script, "w") as f:
            f.write(NVIM_LUA)
        env = dict(os.environ, B=binary, P=path, N=str(rounds), O=out)
        subprocess.run([nvim, "--headless", "--clean", "-l", script], env=env, check=True,
                       stdin=subprocess.DEVNULL, timeout=600)
        with open(out) as f:
            r = json.load(f)
        assert r["diags"] == 3, r
        return r["times"]
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("LEADEY_BIN"))
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--nvim")
    args = ap.parse_args()
    binary = args.bin
    if not binary:
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target/release/leadey-scan")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    print(f"binary {binary} (commit {commit}); load before {os.getloadavg()}")
    rng = random.Random(24)
    ten_k = with_keys(rng, code_lines(rng, 10000))
    mib = one_mib(rng)
    server = Server(binary)
    server.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    server.notify("initialized", {})
    cases = [("10k-lines", ten_k, False, args.rounds), ("1mib", mib, False, args.rounds),
             ("1mib-full-sync", mib, True, max(20, args.rounds // 4)),
             ("1mib-base64", base64_mib(rng), False, args.rounds),
             ("10mib", scaled(rng, 10), False, max(20, args.rounds // 10))]
    for name, lines, full, rounds in cases:
        size = len(("\n".join(lines) + "\n").encode())
        open_ms, times = bench_buffer(server, name, list(lines), rounds, rng, full)
        print(f"{name}: {len(lines)} lines, {size} bytes; didOpen {open_ms:.2f} ms; "
              f"didChange -> publishDiagnostics {stats(times)}")
    server.stop()
    if args.nvim:
        times = bench_nvim(args.nvim, binary, ten_k, args.rounds)
        print(f"neovim 10k-lines (debounce 0): set_lines -> DiagnosticChanged {stats(times)}")
    print(f"load after {os.getloadavg()}")


if __name__ == "__main__":
    sys.exit(main())
