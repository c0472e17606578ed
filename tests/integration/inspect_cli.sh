#!/usr/bin/env bash
# `sluice inspect` as a command: exit codes and messages for usage errors and for files that are
# not Parquet, truncated, or have a corrupt footer; text, --json and --pages on files written by
# pq_gen (clean: exit 0, no problems); and --pages catching a chunk whose metadata disagrees
# with its pages. Values are checked by parquet_roundtrip.sh; this is about the CLI contract.
set -euo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
S="$SL_BIN/sluice"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fails=0

# expect CODE STDERR-SUBSTRING -- ARGS...
expect() {
  local code=$1 want=$2
  shift 3
  local rc=0
  "$S" inspect "$@" >"$out/stdout" 2>"$out/stderr" || rc=$?
  if [[ $rc -ne $code ]] || ! grep -qF -- "$want" "$out/stderr"; then
    echo "FAIL: inspect $* -> rc $rc (want $code), stderr: $(cat "$out/stderr")"
    fails=$((fails + 1))
  fi
}

# usage
"$S" inspect --help | grep -q '^usage: sluice inspect FILE.parquet'
expect 2 "no file given" --
expect 2 "unknown option '--bogus'" -- --bogus x.parquet
expect 2 "more than one file" -- a.parquet b.parquet

"$SL_BIN/pq_gen" "$out/gen" >/dev/null
good=$(ls "$out"/gen/*.parquet | head -1)
size=$(stat -c %s "$good")
footer_len=$(od -An -tu4 -j $((size - 8)) -N4 "$good" | tr -d ' ')

# broken files
: >"$out/empty.parquet"
printf 'hello, world\n' >"$out/text.parquet"
head -c $((size - 1)) "$good" >"$out/truncated.parquet"
printf 'PAR1' >"$out/magic_only.parquet"
{ head -c $((size - 8)) "$good"; printf '\xff\xff\xff\x7fPAR1'; } >"$out/biglen.parquet"
{ head -c $((size - 4)) "$good"; printf 'PARE'; } >"$out/encrypted.parquet"
{ printf 'XXXX'; tail -c +5 "$good"; } >"$out/nohead.parquet"
# overwrite the first bytes of the footer with a field of an impossible type
{ head -c $((size - 8 - footer_len)) "$good"; printf '\x1d\x1d\x1d'; tail -c $((footer_len + 8 - 3)) "$good"; } \
  >"$out/corrupt.parquet"

expect 1 "No such file or directory" -- "$out/missing.parquet"
expect 1 "not a Parquet file (empty file)" -- "$out/empty.parquet"
expect 1 "not a Parquet file (missing PAR1 magic at end)" -- "$out/text.parquet"
expect 1 "truncated or incomplete Parquet file" -- "$out/truncated.parquet"
expect 1 "truncated Parquet file" -- "$out/magic_only.parquet"
expect 1 "corrupt footer (footer length 2147483647 exceeds the file" -- "$out/biglen.parquet"
expect 1 "encrypted Parquet footer" -- "$out/encrypted.parquet"
expect 1 "not a Parquet file (missing PAR1 magic at start)" -- "$out/nohead.parquet"
expect 1 "corrupt footer: truncated or malformed Thrift data (in FileMetaData)" -- "$out/corrupt.parquet"
grep -q "^sluice inspect: $out/corrupt.parquet: corrupt footer" "$out/stderr"
expect 1 "is a directory" -- "$out"

# every generated file: clean in all modes, JSON parses and has the stable top-level keys
for f in "$out"/gen/*.parquet; do
  for mode in "" "--pages" "--json" "--json --pages"; do
    # shellcheck disable=SC2086
    if ! "$S" inspect $mode "$f" >"$out/o" 2>"$out/e"; then
      echo "FAIL: inspect $mode $f: $(cat "$out/e")"
      fails=$((fails + 1))
    fi
  done
  python3 - "$out/o" <<'EOF' || fails=$((fails + 1))
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
for k in ("file", "file_size", "version", "created_by", "num_rows", "num_row_groups",
          "num_columns", "key_value_metadata", "schema", "row_groups", "problems"):
    assert k in d, "missing key %s" % k
assert d["problems"] == [], d["problems"]
assert d["created_by"].startswith("sluice version "), d["created_by"]
for rg in d["row_groups"]:
    for c in rg["columns"]:
        for k in ("path", "type", "codec", "encodings", "num_values", "statistics", "pages"):
            assert k in c, "missing column key %s" % k
        assert c["pages"], "no pages walked for %s" % c["path"]
EOF
done

# --pages notices when the pages do not match the footer: zero all column data, keep the footer.
data_end=$((size - 8 - footer_len))
{ head -c 4 "$good"; head -c $((data_end - 4)) /dev/zero; tail -c $((footer_len + 8)) "$good"; } \
  >"$out/zeroed.parquet"
rc=0
"$S" inspect --pages "$out/zeroed.parquet" >"$out/o" 2>"$out/e" || rc=$?
if [[ $rc -ne 1 ]] || ! grep -q "PROBLEM: row group 0 column 0" "$out/o" ||
  ! grep -q "problems\? found" "$out/e"; then
  echo "FAIL: --pages on zeroed pages: rc $rc, $(cat "$out/e")"
  fails=$((fails + 1))
fi
# without --pages only the footer is read, so the same file is fine
"$S" inspect "$out/zeroed.parquet" >/dev/null

if [[ $fails -ne 0 ]]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "inspect_cli: ok"
