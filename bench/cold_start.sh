#!/usr/bin/env bash
# Cold start of the field app to its first frame: the release binary started in a
# pseudo-terminal (80x24) on a data directory whose store holds COUNT finalized KIN
# interviews (default 100,000), timed from spawn until the first frame (home, its counts
# loading while the store opens on another thread, or the counts kept at the last clean
# close), until home shows its counts (from that file, or once the store is open) and
# until the store is open (home names the officer; keys work); then the same on an empty
# store. Each is timed twice: with the counts file removed before every start (as before
# there was one: the counts wait for the store) and as it is left by the last close. Each is run RUNS times (default 5) and
# reported as min / median / max. Finally the start-up steps are timed one by one
# in-process (bench/cold_start.rs `phases`).
#
# Usage: bench/cold_start.sh
#   COUNT=100000 RUNS=5      sizes
#   BENCH_DATA_DIR=DIR       keep the generated data directories in DIR and reuse them on
#                            the next run (generating 100,000 interviews takes a while);
#                            by default a temporary directory is used and removed.
# Needs: cargo, python3 (for the pseudo-terminal).
set -euo pipefail

COUNT=${COUNT:-100000}
RUNS=${RUNS:-5}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

echo "== building the release binary and the data generator"
cargo build --release --quiet --bin doorstep --example cold_start
target=${CARGO_TARGET_DIR:-$root/target}
doorstep=$target/release/doorstep
helper=$target/release/examples/cold_start

if [[ -n ${BENCH_DATA_DIR:-} ]]; then
    work=$BENCH_DATA_DIR
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/doorstep-cold-start.XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi
full=$work/store-$COUNT
empty=$work/store-empty

configure() {
    DOORSTEP_DATA_DIR=$1 "$doorstep" config set officer "PC 4521" >/dev/null
    DOORSTEP_DATA_DIR=$1 "$doorstep" config set device "WIGAN-NPT-07" >/dev/null
}

if [[ ! -d $full/store ]]; then
    rm -rf "$full"
    echo "== writing a journal of $COUNT finalized KIN interviews"
    start=$(date +%s)
    "$helper" journal "$full" "$COUNT"
    echo "   ($(($(date +%s) - start)) s)"
    echo "== doorstep recover: building the store from the journal"
    start=$(date +%s)
    DOORSTEP_DATA_DIR=$full "$doorstep" recover | sed 's/^/   /'
    echo "   ($(($(date +%s) - start)) s)"
fi
echo "   store: $(du -sh "$full/store" | cut -f1), journal: $(du -sh "$full/journal" | cut -f1)"
if [[ ! -d $empty/store ]]; then
    rm -rf "$empty"
    configure "$empty"
fi

# Spawn → home screen, in a pseudo-terminal; prints one line of timings.
time_start() {
    python3 - "$doorstep" "$1" "$RUNS" "$2" <<'PY'
import fcntl, os, pty, re, select, signal, statistics, struct, sys, termios, time

binary, data_dir, runs, kept = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
# Home's counts as the last clean close left them (see src/store/home_file.rs).
KEPT_FILE = os.path.join(data_dir, "store", "home-counts")
env = dict(os.environ, DOORSTEP_DATA_DIR=data_dir, TERM="xterm-256color", NO_COLOR="1")
# Escape sequences, then blanks: the first frame only writes the cells that are not blank.
ESCAPES = re.compile(rb"\x1b(\[[0-9;?<=>]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>78DEHM])")
# The first frame marks its counts as loading. Later frames are drawn only as changes to
# it (only the cells that differ are written): the counts kept at the last clean close
# replace the "…" with digits; the home screen proper names the officer.
FIRST = re.compile(rb"\(loading\)")
COUNTS = re.compile(rb"[0-9]")
HOME = re.compile(rb"officer")
DEADLINE = 120.0

def once():
    if kept == "without" and os.path.exists(KEPT_FILE):
        os.remove(KEPT_FILE)
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.execve(binary, [binary], env)
    seen, first, counted, shown = b"", None, None, None
    first_len = 0
    try:
        while shown is None:
            left = DEADLINE - (time.perf_counter() - t0)
            if left <= 0:
                raise SystemExit(f"no home screen after {DEADLINE:.0f} s; the output was:\n{seen[-2000:]!r}")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                raise SystemExit(f"doorstep exited before its home screen; the output was:\n{seen[-2000:]!r}")
            seen += chunk
            text = ESCAPES.sub(b"", seen).replace(b" ", b"")
            if first is None and FIRST.search(text):
                first = time.perf_counter() - t0
                first_len = len(text)
            elif first is not None and counted is None and COUNTS.search(text[first_len:]):
                # Digits after the first frame: the kept counts, or the store's own.
                counted = time.perf_counter() - t0
            if first is not None and HOME.search(text):
                shown = time.perf_counter() - t0
                counted = counted or shown
        os.write(fd, b"q")
        end = time.perf_counter() + 15
        while time.perf_counter() < end:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if select.select([fd], [], [], 0.05)[0]:
                try:
                    os.read(fd, 1 << 16)
                except OSError:
                    pass
        else:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return first, counted, shown

firsts, counts, times = [], [], []
for _ in range(runs):
    f, c, t = once()
    firsts.append(f * 1000)
    counts.append(c * 1000)
    times.append(t * 1000)
def spread(xs):
    return f"min {min(xs):.0f} ms, median {statistics.median(xs):.0f} ms, max {max(xs):.0f} ms"
print(f"{runs} runs; first frame: {spread(firsts)}; "
      f"home with its counts: {spread(counts)}; store open: {spread(times)}")
PY
}

for store in "$full" "$empty"; do
    echo "== cold start to the home screen, ${store##*/}"
    echo "   without the counts kept at close: $(time_start "$store" without)"
    echo "   with the counts kept at close:    $(time_start "$store" with)"
done
echo "== where the time goes ($COUNT responses), in-process"
"$helper" phases "$full" "$RUNS" | sed 's/^/   /'
echo "== where the time goes (empty store), in-process"
"$helper" phases "$empty" "$RUNS" | sed 's/^/   /'
