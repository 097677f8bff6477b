#!/bin/sh
# make-tracefile.sh OUT [TESTS [SRC]]
#
# Makes a real per-test LCOV tracefile: jq 1.6 (Debian's source package,
# about 30 C files) built with gcc --coverage, its own test suite
# (tests/jq.test) run one test at a time with `jq --run-tests`, one
# `lcov --capture` (with branch coverage) after each test, and the
# captures concatenated with cat: the shape per-test CI jobs and merged
# tracefiles have (every record repeats a path, with FN/FNDA/BRDA).
# TESTS (default 120) is how many tests to run; 120 make about 24 MB.
# coveragebench -realc and BenchmarkParseLCOVRealC read the result from
# internal/coverage/testdata/realc/jq.info and skip when it is absent (it
# is not committed: it is large and remade in a few minutes).
#
# SRC is an unpacked jq-1.6 source tree; without it the script runs
# `apt-get source jq` (needs a deb-src line in the apt sources) in a
# temporary directory. Needs gcc and lcov (apt-get install lcov).
set -eu
out=$(realpath -m "$1")
tests=${2:-120}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ $# -ge 3 ]; then
	src=$(realpath "$3")
else
	(cd "$work" && apt-get source -qq jq >/dev/null 2>&1)
	src=$(ls -d "$work"/jq-*/ | head -n 1)
	src=${src%/}
fi
b="$work/build"
mkdir -p "$b/src"
# What the autotools build would generate.
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/\\n"/' "$src/src/builtin.jq" >"$b/src/builtin.inc"
echo '#define JQ_VERSION "1.6"' >"$b/src/version.h"
# configure's answers on glibc: the libm functions jq wraps (but pow10,
# gone from glibc) and the time and memory functions it looks for.
defs="-D_GNU_SOURCE -DIEEE_8087 -DHAVE_MEMMEM -DHAVE_ALLOCA_H -DHAVE_ALLOCA -DHAVE_GMTIME_R -DHAVE_GMTIME
 -DHAVE_LOCALTIME_R -DHAVE_TIMEGM -DHAVE_STRPTIME -DHAVE_STRFTIME -DHAVE_MKSTEMP -DHAVE_ISATTY
 -DHAVE_GETTIMEOFDAY -DHAVE_PTHREAD_KEY_CREATE -DHAVE_PTHREAD_ONCE -DHAVE_ATEXIT -DHAVE_TM_TM_GMT_OFF"
for f in $(grep -o 'HAVE_[A-Z0-9_]*' "$src/src/libm.h" | sort -u | grep -v '^HAVE_POW10$'); do
	defs="$defs -D$f"
done
for c in "$src"/src/*.c; do
	case $(basename "$c") in inject_errors.c) continue ;; esac
	gcc --coverage -O0 -w $defs -I"$b" -I"$src/src" -c "$c" -o "$b/$(basename "$c" .c).o"
done
gcc --coverage "$b"/*.o -o "$b/jq" -lm

# One test per paragraph of jq.test (program, input, expected outputs),
# comment-only paragraphs skipped.
mkdir -p "$b/tests"
awk -v dir="$b/tests" 'BEGIN { RS = ""; n = 0 }
	{ body = ""; k = split($0, ls, "\n")
	  for (i = 1; i <= k; i++) if (ls[i] !~ /^#/) body = body ls[i] "\n"
	  if (body != "") { n++; printf "%s", body > (dir "/" sprintf("%04d", n)); close(dir "/" sprintf("%04d", n)) } }' \
	"$src/tests/jq.test"

: >"$out"
n=0
for t in $(ls "$b/tests" | head -n "$tests"); do
	find "$b" -name '*.gcda' -delete
	(cd "$src/tests" && "$b/jq" --run-tests <"$b/tests/$t" >/dev/null 2>&1) || true
	n=$((n + 1))
	lcov -q --capture --rc lcov_branch_coverage=1 -d "$b" -b "$src" -t "test$t" -o "$b/t.info" >/dev/null 2>&1
	cat "$b/t.info" >>"$out"
done
echo "$out: $n tests, $(wc -c <"$out") bytes, $(grep -c '^SF:' "$out") records" >&2
