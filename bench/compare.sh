#!/usr/bin/env bash
# Each figure measured in one run beside what an analyst would otherwise use, written as a
# table (figure, ours, theirs, ratio, target) with the machine described into
# BENCHMARKS.md, between its `compare.sh` markers (the rest of the file is kept).
#
# - answer commit (Store write + flush, per answer) vs a bare write + fdatasync of the same
#   bytes in the same directory (cargo bench --bench commit);
# - assigning POINTS (default 1,000,000) police.uk-style points to the 200 Wigan LSOAs vs
#   geopandas `sjoin` on the same points;
# - `doorstep batch merge` of MERGE_RESPONSES (default 1,000,000) simulated responses in
#   MERGE_BATCHES (default 100) batches, time and peak RSS, vs DuckDB loading the same
#   records from JSONL and de-duplicating them by id into a table — only when this
#   doorstep has `batch merge` (the row says so otherwise); and `batch verify` of the same
#   files alone (the checks a merge makes before it stores anything) beside the same DuckDB
#   time, which says how much of the gap no storing could close;
# - `doorstep report` for every ward of a period (CSV, internal: nothing suppressed) vs
#   DuckDB computing the same issue counts per ward (how many complete responses named
#   each issue) from the same responses as JSONL (`doorstep export responses --format
#   jsonl`), both from the start of the process, on the store the merge built, or on
#   REPORT_DATA_DIR (a data directory) for REPORT_PERIOD when given. Measured twice: as
#   the store is (after a merge it reads the counts the merge kept), then counted from
#   every response after a write has moved the store past those counts (`config set`
#   of the officer's name, the one change this makes to the store); the two CSV files
#   must be the same.
#
# FIGURES (default "commit points merge report") picks what to measure; the rows of the
# figures not measured are kept from the table already in BENCHMARKS.md.
#
# The Python side (duckdb, geopandas, shapely, pyarrow from PyPI) is installed into its
# own virtual environment, VENV (default bench/.venv); `cargo test` never needs it.
# Usage: bench/compare.sh     POINTS=… MERGE_RESPONSES=… MERGE_BATCHES=… WORK=DIR (keep inputs)
#                             FIGURES="report" REPORT_DATA_DIR=DIR REPORT_PERIOD=2026-Q3
set -euo pipefail

FIGURES=${FIGURES:-commit points merge report}
wants() { [[ " $FIGURES " == *" $1 "* ]]; }

POINTS=${POINTS:-1000000}
MERGE_RESPONSES=${MERGE_RESPONSES:-1000000}
MERGE_BATCHES=${MERGE_BATCHES:-100}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
VENV=${VENV:-$root/bench/.venv}

if [[ -n ${WORK:-} ]]; then
    work=$WORK
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/doorstep-compare.XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi

echo "== Python tools in $VENV"
if [[ ! -x $VENV/bin/python ]]; then
    python3 -m venv "$VENV"
fi
if wants points; then
    "$VENV/bin/pip" install --quiet duckdb geopandas shapely pyarrow
else
    "$VENV/bin/pip" install --quiet duckdb
fi
py=$VENV/bin/python

echo "== building"
cargo build --release --quiet --bin doorstep --example scale
target=${CARGO_TARGET_DIR:-$root/target}
doorstep=$target/release/doorstep
scale=$target/release/examples/scale
lsoas=$root/tests/fixtures/geodata/boundaries/wigan_lsoa_2011_E08000010.geojson

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 |"); }
out=$root/BENCHMARKS.md
# The rows of a figure not measured this run, as the table has them (first cell starts so).
keep() {
    [[ -f $out ]] || return 0
    local line
    while IFS= read -r line; do rows+=("$line"); done < <(
        sed -n '/compare.sh:begin/,/compare.sh:end/p' "$out" | grep -F "| $1" || true)
}
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a / b:.2f}')" "$1" "$2"; }
# Wall seconds, peak RSS in MB and CPU seconds (user + system) of a command:
# "seconds megabytes cpu". CPU time says what the wall time means on a shared machine.
measure() {
    local log=$work/time.log
    /usr/bin/time -f "%e %M %U %S" -o "$log" "$@" >/dev/null
    awk '{ printf "%s %.0f %.1f\n", $1, $2 / 1024, $3 + $4 }' "$log"
}

if wants commit; then
echo "== answer commit vs bare write + fdatasync"
commit=$(cargo bench --quiet --bench commit -- --noplot 2>/dev/null | grep '^commit ratio:')
echo "   $commit"
ours_ms=$(sed -E 's/.*store answer commit median ([0-9.]+) ms.*/\1/' <<<"$commit")
bare_ms=$(sed -E 's/.*fdatasync median ([0-9.]+) ms.*/\1/' <<<"$commit")
row "answer commit (median, per answer)" "$ours_ms ms" "$bare_ms ms (write + fdatasync)" \
    "$(ratio "$ours_ms" "$bare_ms")×" "≤ 1.5×"
else
    keep "answer commit"
fi

if wants points; then
echo "== $POINTS points to the Wigan LSOAs vs geopandas sjoin"
points=$work/points-$POINTS.csv
[[ -f $points ]] || "$scale" points "$points" "$POINTS"
read -r ours_s ours_in < <("$scale" locate "$lsoas" "$points")
read -r theirs_s theirs_in < <("$py" - "$lsoas" "$points" <<'PY'
import sys, time
import geopandas as gpd, pandas as pd
lsoas = gpd.read_file(sys.argv[1]).to_crs("EPSG:4326")
df = pd.read_csv(sys.argv[2])
pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.longitude, df.latitude), crs="EPSG:4326")
t = time.perf_counter()
joined = gpd.sjoin(pts, lsoas, how="inner", predicate="within")
print(f"{time.perf_counter() - t:.4f} {joined.index.nunique()}")
PY
)
echo "   ours ${ours_s} s ($ours_in inside), geopandas ${theirs_s} s ($theirs_in inside)"
row "assign $POINTS points to 200 LSOAs" "$ours_s s" "$theirs_s s (geopandas sjoin)" \
    "$(ratio "$theirs_s" "$ours_s")× faster" "≥ 5× faster"
else
    keep "assign "
fi

if ! wants merge; then
    keep "batch merge"
    keep "batch verify"
elif "$doorstep" batch --help 2>/dev/null | grep -q '^  merge'; then
    echo "== batch merge of $MERGE_RESPONSES responses in $MERGE_BATCHES batches vs DuckDB"
    batches=$work/batches-$MERGE_RESPONSES-$MERGE_BATCHES
    if [[ ! -d $batches ]]; then
        devices=$(( MERGE_BATCHES / 4 > 0 ? MERGE_BATCHES / 4 : 1 ))
        periods=$(( MERGE_BATCHES / devices ))
        DOORSTEP_DATA_DIR=$work/sim "$doorstep" simulate --devices "$devices" --periods "$periods" \
            --responses "$MERGE_RESPONSES" --period 2026-Q4 --seed 1 --unencrypted --out "$batches" >/dev/null
    fi
    batch_mb=$(du -sm "$batches" | cut -f1)
    # DuckDB first, so its JSONL (about as big as the batch files) and database are gone
    # before the coordinator's store is built; the JSONL is kept only if it was there before.
    jsonl=$work/responses-$MERGE_RESPONSES.jsonl
    made_jsonl=
    [[ -f $jsonl ]] || { "$scale" jsonl "$batches" "$jsonl"; made_jsonl=1; }
    rm -f "$work/duck.db"
    read -r duck_s duck_mb duck_cpu < <(measure "$py" - "$jsonl" "$work/duck.db" <<'PY'
import sys, duckdb
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE responses AS SELECT DISTINCT ON (id) * FROM read_json_auto(?, format='newline_delimited', maximum_object_size=100000000)", [sys.argv[1]])
con.close()
PY
)
    rm -f "$work/duck.db"
    [[ -z $made_jsonl ]] || rm -f "$jsonl"
    # The merge's own first pass alone (every file read, its signature, checksums, counts
    # and every answer against its survey; nothing written but the devices' first-use
    # pins), into a store of its own: what a merge costs before it stores anything.
    rm -rf "$work/verify-only"
    read -r verify_s verify_mb verify_cpu < <(measure env DOORSTEP_DATA_DIR="$work/verify-only" "$doorstep" batch verify "$batches"/*.batch)
    rm -rf "$work/verify-only"
    rm -rf "$work/coordinator"
    read -r merge_s merge_mb merge_cpu < <(measure env DOORSTEP_DATA_DIR="$work/coordinator" "$doorstep" batch merge "$batches")
    # Kept for the report figure below (and, with WORK set, for later runs).
    store_mb=$(du -sm "$work/coordinator" | cut -f1)
    echo "   merge ${merge_s} s (${merge_cpu} s CPU), ${merge_mb} MB peak; DuckDB ${duck_s} s (${duck_cpu} s CPU), ${duck_mb} MB peak"
    echo "   load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "   batch files ${batch_mb} MB, coordinator's journal + store ${store_mb} MB"
    row "batch merge, $MERGE_RESPONSES responses in $MERGE_BATCHES batches" "$merge_s s ($merge_cpu s CPU)" \
        "$duck_s s ($duck_cpu s CPU) (DuckDB JSONL load + dedup)" "$(ratio "$duck_s" "$merge_s")× as fast" "≥ 1×"
    row "batch merge peak RSS, $MERGE_RESPONSES responses in $MERGE_BATCHES batches" "$merge_mb MB" \
        "$duck_mb MB (DuckDB)" "$(ratio "$merge_mb" "$duck_mb")×" "≤ 300 MB"
    echo "   batch verify alone ${verify_s} s (${verify_cpu} s CPU), ${verify_mb} MB peak"
    row "batch verify alone (the merge's checks, nothing stored), same batches" "$verify_s s ($verify_cpu s CPU), $verify_mb MB" \
        "$duck_s s (DuckDB, as above)" "$(ratio "$duck_s" "$verify_s")× as fast" "—"
else
    echo "== batch merge: this doorstep has no \`batch merge\` yet, skipped"
    row "batch merge, $MERGE_RESPONSES responses in $MERGE_BATCHES batches" "not measured" \
        "DuckDB JSONL load + dedup" "—" "≥ 1×; ≤ 300 MB (no \`batch merge\` in this build)"
fi

if wants report; then
    report_dir=${REPORT_DATA_DIR:-$work/coordinator}
    period=${REPORT_PERIOD:-2026-Q4}
    if [[ -d $report_dir/store ]]; then
        rjsonl=$work/report-$period.jsonl
        DOORSTEP_DATA_DIR=$report_dir "$doorstep" export responses --period "$period" --survey kin --format jsonl --out "$rjsonl" >/dev/null
        n=$(wc -l <"$rjsonl" | tr -d ' ')
        echo "== report for every ward of $period ($n complete responses) vs DuckDB issue counts per ward"
        read -r report_s report_mb report_cpu < <(measure env DOORSTEP_DATA_DIR="$report_dir" "$doorstep" report \
            --period "$period" --level ward --internal --format csv --out "$work/report.csv")
        read -r rduck_s rduck_mb rduck_cpu < <(measure "$py" - "$rjsonl" <<'PY'
import sys, duckdb
con = duckdb.connect()
con.execute("CREATE TABLE r AS SELECT * FROM read_json_auto(?, format='newline_delimited', maximum_object_size=100000000)", [sys.argv[1]])
issues = [c[0] for c in con.execute("DESCRIBE r").fetchall()
          if c[0].startswith("unsafe_issues_") and not c[0].endswith("_other")]
sums = ", ".join(f'sum(CAST("{c}" AS INTEGER)) AS "{c}"' for c in issues)
con.execute(f"SELECT ward, count(*), {sums} FROM r WHERE status = 'complete' GROUP BY ward").fetchall()
PY
)
        # The same report counted from every response: a write moves the store past the
        # counts the merge kept.
        DOORSTEP_DATA_DIR=$report_dir "$doorstep" config set officer "compare.sh" >/dev/null
        read -r full_s full_mb full_cpu < <(measure env DOORSTEP_DATA_DIR="$report_dir" "$doorstep" report \
            --period "$period" --level ward --internal --format csv --out "$work/report-counted.csv")
        cmp -s "$work/report.csv" "$work/report-counted.csv" \
            || { echo "the report from kept counts differs from the one counted afresh" >&2; exit 1; }
        echo "   report ${report_s} s (${report_cpu} s CPU), ${report_mb} MB peak; counted from every response ${full_s} s (${full_cpu} s CPU), ${full_mb} MB peak; DuckDB ${rduck_s} s (${rduck_cpu} s CPU), ${rduck_mb} MB peak"
        row "report, every ward of $period ($n responses)" "$report_s s ($report_cpu s CPU), $report_mb MB" \
            "$rduck_s s ($rduck_cpu s CPU), $rduck_mb MB (DuckDB JSONL load + issue counts per ward)" \
            "$(ratio "$rduck_s" "$report_s")× as fast" "≥ 1×"
        row "report counted from every response, every ward of $period" "$full_s s ($full_cpu s CPU), $full_mb MB" \
            "$rduck_s s (DuckDB, as above)" "$(ratio "$rduck_s" "$full_s")× as fast" "—"
    else
        echo "   no store to report on (no merge ran and REPORT_DATA_DIR is not set): skipped"
        keep "report, "
        keep "report counted "
    fi
else
    keep "report, "
    keep "report counted "
fi

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cores=$(grep -c '^processor' /proc/cpuinfo)
mem=$(free -h | awk '/^Mem:/ { print $2 }')
table=$(
    echo "<!-- compare.sh:begin (written by bench/compare.sh; edits between the markers are lost) -->"
    echo "Measured $(date -u +%Y-%m-%d) on: $cpu, $cores logical CPUs, $mem memory (\`free -h\`)."
    echo
    echo "| figure | ours | theirs | ratio | target |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo "<!-- compare.sh:end -->"
)
if [[ -f $out ]] && grep -q 'compare.sh:begin' "$out"; then
    python3 - "$out" "$table" <<'PY'
import re, sys
path, table = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
# Rows of figures not measured in this run stay as they were (matched by their first words).
def kind(row):
    name = row.split("|")[1].strip()
    for k in ("answer commit", "assign", "batch merge peak", "batch merge", "batch verify", "report"):
        if name.startswith(k):
            return k
    return name
old = re.search(r"<!-- compare.sh:begin.*?<!-- compare.sh:end -->", text, flags=re.S)
if old:
    new_rows = [l for l in table.splitlines() if l.startswith("| ") and not l.startswith("| figure")]
    have = {kind(r) for r in new_rows}
    kept = [l for l in old.group(0).splitlines()
            if l.startswith("| ") and not l.startswith("| figure") and kind(l) not in have]
    lines = table.splitlines()
    at = lines.index("|---|---|---|---|---|") + 1
    table = "\n".join(lines[:at] + kept + lines[at:])
text = re.sub(r"<!-- compare.sh:begin.*?<!-- compare.sh:end -->", lambda _: table, text, flags=re.S)
open(path, "w", encoding="utf-8").write(text)
PY
else
    printf '# Benchmarks\n\n%s\n' "$table" >"$out"
fi
echo "== written to BENCHMARKS.md"
printf '%s\n' "${rows[@]}"
