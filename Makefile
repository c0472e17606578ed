# sluice: top-level entry points. `make run` and `make test` install what they need
# (scripts/deps.sh), so they work on a fresh Debian 12 machine.
JOBS ?= $(shell nproc)
CMAKE_RELEASE = cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release
CMAKE_ASAN = cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DSL_SANITIZE=address,undefined
CMAKE_TSAN = cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=Debug -DSL_SANITIZE=thread -DCMAKE_C_COMPILER=clang
CMAKE_FUZZ = cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DSL_FUZZ=ON -DCMAKE_C_COMPILER=clang

.PHONY: all deps build asan tsan fuzz-build fuzz test run bench format clean

all: build

deps:
	scripts/deps.sh

build:
	$(CMAKE_RELEASE) >/dev/null && cmake --build build/release -j $(JOBS)

asan:
	$(CMAKE_ASAN) >/dev/null && cmake --build build/asan -j $(JOBS)

tsan:
	$(CMAKE_TSAN) >/dev/null && cmake --build build/tsan -j $(JOBS)

fuzz-build:
	$(CMAKE_FUZZ) >/dev/null && cmake --build build/fuzz -j $(JOBS)

# Runs every fuzz target for FUZZ_SECONDS each on its in-tree corpus.
FUZZ_SECONDS ?= 60
fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_SECONDS)

test: deps
	scripts/test.sh

run: deps build
	scripts/run.sh

bench: deps build
	bench/encode.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
