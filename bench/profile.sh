#!/usr/bin/env bash
# profile.sh: where sluice's Parquet encode spends its time (perf, CPU-clock sampling).
#
#   bench/profile.sh                      # 10M rows, snappy, 1 writer thread
#   ROWS=2000000 CODEC=zstd THREADS=2 bench/profile.sh
#
# Compiles the library's lower pipeline stages -- src/util, src/column, src/encode/parquet, all
# the writer needs -- with the release optimisation (-O2) plus -g -fno-omit-frame-pointer into
# build/bench-prof (not through CMake, so work in progress in other stages does not stop it),
# links bench/encode_bench.c against them and records one encode of the table with
# `perf record -e cpu-clock` (this VM has no hardware counters). Sampling is switched on by
# encode_bench itself (--perf-ctl) once the table is built, so generation is not in the profile.
# cpu-clock counts the task's own CPU time, so the profile holds up on a busy machine even when
# the wall-clock figures do not.
#
# Prints self time per function (which library it is in, too), then inclusive time. Static
# helpers gcc inlines are charged to their caller: `perf report -i build/bench-prof/perf.data
# --sort symbol,srcline` splits them by source line.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-10000000}
CODEC=${CODEC:-snappy}
THREADS=${THREADS:-1}
out=build/bench-prof

rm -rf "$out/obj"
mkdir -p "$out/obj"
cflags=(-std=gnu17 -O2 -g -fno-omit-frame-pointer -DNDEBUG -pthread -Iinclude -Isrc
  "-DSL_BUILD_ID=\"$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)\"")
for src in src/util/*.c src/column/*.c src/encode/parquet/*.c; do
  gcc "${cflags[@]}" -c "$src" -o "$out/obj/$(basename "$src" .c).o"
done
rm -f "$out/libsluice-prof.a"
ar rcs "$out/libsluice-prof.a" "$out"/obj/*.o
gcc "${cflags[@]}" bench/encode_bench.c "$out/libsluice-prof.a" \
  -lsnappy -lzstd -llz4 -lz -lm -o "$out/encode_bench"

if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  dir=$(mktemp -d /dev/shm/sluice-prof.XXXXXX)
else
  dir=$(mktemp -d)
fi
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/perf.ctl"

perf record -q -e cpu-clock -F 999 -g -D -1 --control="fifo:$dir/perf.ctl" \
  -o "$out/perf.data" -- \
  "$out/encode_bench" --rows "$ROWS" --reps 1 --codec "$CODEC" --threads "$THREADS" \
  --dir "$dir" --perf-ctl "$dir/perf.ctl"

echo
echo "== self time by function (encode only; [k] = kernel, i.e. write() into the file)"
perf report -i "$out/perf.data" --stdio --no-children --percent-limit 0.3 \
  --sort dso,symbol -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
echo
echo "== inclusive time (children included) of functions above 3%"
perf report -i "$out/perf.data" --stdio --children --percent-limit 3 --sort symbol \
  -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -30
echo
echo "perf data: $out/perf.data (perf report -i $out/perf.data; perf annotate ... SYMBOL)"
