# libgrugan - GNU make build. `make help` lists the targets.

# ---- version: one source of truth, include/grugan.h ----------------------
version_part = $(shell sed -n 's/^\#define GRUGAN_VERSION_$(1) \([0-9][0-9]*\)$$/\1/p' include/grugan.h)
MAJOR := $(call version_part,MAJOR)
MINOR := $(call version_part,MINOR)
PATCH := $(call version_part,PATCH)
VERSION := $(MAJOR).$(MINOR).$(PATCH)

# ---- installation directories ----------------------------------------------
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

# ---- tools and flags ---------------------------------------------------------
CC ?= cc
CXX ?= c++
AR ?= ar
PKG_CONFIG ?= pkg-config
PYTHON ?= /usr/bin/python3
CFLAGS ?= -O2 -g
LDFLAGS ?=

MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BLIS_INCDIR := $(firstword $(foreach v,openmp pthread serial,$(patsubst %/blis.h,%,$(wildcard /usr/include/$(MULTIARCH)/blis-$(v)/blis.h))) $(patsubst %/blis.h,%,$(wildcard /usr/include/blis/blis.h)))
BLIS_CFLAGS ?= $(if $(BLIS_INCDIR),-isystem $(BLIS_INCDIR))
BLIS_LIBS ?= -lblis
OPENMP_CFLAGS ?= -fopenmp
OPENMP_LIBS ?= $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),-lomp,-lgomp)

WARNINGS := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion \
            -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2
LIB_CPPFLAGS := -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L -DGRUGAN_BUILDING
LIB_CFLAGS := -std=c11 $(WARNINGS) -fPIC -fvisibility=hidden -fno-trapping-math -fno-math-errno -ffp-contract=off $(OPENMP_CFLAGS) $(BLIS_CFLAGS)
LIBS_PRIVATE := $(BLIS_LIBS) $(OPENMP_LIBS) -lpthread -lm

CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

SANITIZE := -fsanitize=address,undefined,float-divide-by-zero -fno-sanitize-recover=all \
            -fno-omit-frame-pointer

# ---- sources -----------------------------------------------------------------
# src/mpi/ is the optional MPI adapter (`make mpi`), not part of libgrugan.
LIB_SRC := $(sort $(filter-out src/mpi/%,$(wildcard src/*/*.c)))
TEST_SRC := $(sort $(wildcard tests/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

LIB_OBJ := $(LIB_SRC:%.c=build/obj/%.o)
ASAN_LIB_OBJ := $(LIB_SRC:%.c=build/asan/%.o)
TEST_OBJ := $(TEST_SRC:%.c=build/obj/%.o)
ASAN_TEST_OBJ := $(TEST_SRC:%.c=build/asan/%.o)

SONAME := libgrugan.so.$(MAJOR)
SHARED := lib/libgrugan.so.$(VERSION)
STATIC := lib/libgrugan.a

.PHONY: all check check-asan install uninstall clean help bench examples demo \
        fuzz fuzz-replay fuzz-seeds abi-check abi-baseline mpi install-mpi
.DELETE_ON_ERROR:

all: $(SHARED) lib/$(SONAME) lib/libgrugan.so $(STATIC)

help:
	@echo "make [all]        build lib/libgrugan.so.$(VERSION) and lib/libgrugan.a"
	@echo "make check        build and run the test suite"
	@echo "make check-asan   the test suite with AddressSanitizer + UBSan"
	@echo "make check-valgrind  the test suite under valgrind's memcheck (about 16 min)"
	@echo "make fuzz         libFuzzer targets, FUZZ_SECONDS (60) each (needs clang)"
	@echo "make bench        speed against PyTorch on this machine"
	@echo "make examples     build the example programs into build/examples/"
	@echo "make mpi          the MPI adapter lib/libgrugan_mpi.{a,so}, train_csv_mpi, evaluate_mpi (needs mpicc)"
	@echo "make demo         train on Sines for about 90 s and write a checkpoint, samples, a picture"
	@echo "make abi-check    compare the library's ABI with abi/$(SONAME).abi (needs abigail-tools)"
	@echo "make abi-baseline rewrite abi/$(SONAME).abi from the built library (docs/api-conventions.md)"
	@echo "make docs         HTML API reference in build/docs/html (needs doxygen)"
	@echo "make install      install (PREFIX, LIBDIR, INCLUDEDIR, PKGCONFIGDIR, MANDIR, DESTDIR)"
	@echo "make install-mpi  install the MPI adapter (after make install)"
	@echo "make uninstall    remove exactly what install wrote"
	@echo "make clean        remove build outputs"

# ---- library -----------------------------------------------------------------
build/obj/src/%.o: src/%.c $(wildcard src/*/*.h) include/grugan.h Makefile
	@mkdir -p $(@D)
	$(CC) $(LIB_CPPFLAGS) $(LIB_CFLAGS) $(CFLAGS) -MMD -c $< -o $@

$(SHARED): $(LIB_OBJ) src/grugan.map
	@mkdir -p lib
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/grugan.map \
	    -Wl,--no-undefined $(OPENMP_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(LIB_OBJ) $(LIBS_PRIVATE)

lib/$(SONAME): $(SHARED)
	ln -sf libgrugan.so.$(VERSION) $@

lib/libgrugan.so: lib/$(SONAME)
	ln -sf $(SONAME) $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p lib
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

# ---- tests -------------------------------------------------------------------
TEST_CFLAGS := -std=c11 $(WARNINGS) -Wno-missing-prototypes $(CHECK_CFLAGS)
TEST_CPPFLAGS := -Iinclude -Isrc -Itests -Ibuild -D_POSIX_C_SOURCE=200809L \
                 -DGRUGAN_SOURCE_DIR='"$(CURDIR)"'

# Every "Suite *suite_NAME(void)" defined in tests/*.c, as SUITE(suite_NAME).
build/suite_list.h: $(TEST_SRC)
	@mkdir -p build
	sed -n 's/^Suite \*\(suite_[A-Za-z0-9_]*\)(void)$$/SUITE(\1)/p' $(TEST_SRC) > $@.tmp
	mv $@.tmp $@

build/obj/tests/test_main.o build/asan/tests/test_main.o: build/suite_list.h
build/obj/tests/test_pca.o build/asan/tests/test_pca.o: examples/pca.h

build/obj/tests/%.o: tests/%.c $(wildcard tests/*.h) $(wildcard src/*/*.h) include/grugan.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CPPFLAGS) $(TEST_CFLAGS) $(OPENMP_CFLAGS) $(CFLAGS) -c $< -o $@

build/test_grugan: $(TEST_OBJ) $(STATIC)
	$(CC) $(OPENMP_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(TEST_OBJ) $(STATIC) $(LIBS_PRIVATE) $(CHECK_LIBS)

check: all build/test_grugan
	CC="$(CC)" CXX="$(CXX)" PKG_CONFIG="$(PKG_CONFIG)" MAKE="$(MAKE)" sh tests/shell/run.sh
	cd tests && ../build/test_grugan

# ---- ABI against the committed baseline (docs/api-conventions.md, "ABI") ------
# The baseline is the abidw XML of the library built with gcc and -g, one file
# per SONAME. abi-check fails on an incompatible change and lists compatible
# additions; abi-baseline records the built library's ABI as the new baseline.
ABI_BASELINE := abi/$(SONAME).abi

abi-check: $(SHARED)
	sh scripts/abi-check.sh $(ABI_BASELINE) $(SHARED) include

abi-baseline: $(SHARED)
	@mkdir -p abi
	sh scripts/abi-dump.sh $(SHARED) include > $(ABI_BASELINE).tmp
	mv $(ABI_BASELINE).tmp $(ABI_BASELINE)

# ---- tests under AddressSanitizer + UndefinedBehaviorSanitizer --------------
build/asan/src/%.o: src/%.c $(wildcard src/*/*.h) include/grugan.h
	@mkdir -p $(@D)
	$(CC) $(LIB_CPPFLAGS) $(LIB_CFLAGS) -O1 -g $(SANITIZE) -c $< -o $@

build/asan/tests/%.o: tests/%.c $(wildcard tests/*.h) $(wildcard src/*/*.h) include/grugan.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CPPFLAGS) $(TEST_CFLAGS) $(OPENMP_CFLAGS) -O1 -g $(SANITIZE) -c $< -o $@

build/asan/test_grugan: $(ASAN_TEST_OBJ) $(ASAN_LIB_OBJ)
	$(CC) $(OPENMP_CFLAGS) $(SANITIZE) -o $@ $(ASAN_TEST_OBJ) $(ASAN_LIB_OBJ) $(LIBS_PRIVATE) $(CHECK_LIBS)

check-asan: build/asan/test_grugan
	cd tests && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 CK_FORK=no ../build/asan/test_grugan

# ---- tests under valgrind's memcheck (docs/RELIABILITY.md) --------------------
# Each suite in one process without fork (CK_FORK=no), so that leaks are seen:
# memory errors and definite or indirect leaks fail; "possibly lost" and "still
# reachable" blocks (libgomp's and BLIS's thread pools) do not count.
# VALGRIND_SKIP lists suites to leave out (none by default; the blas suite
# alone takes about 2.5 minutes).
VALGRIND ?= valgrind
VALGRIND_FLAGS ?= --leak-check=full --show-leak-kinds=definite,indirect \
                  --errors-for-leak-kinds=definite,indirect --error-exitcode=1
VALGRIND_SKIP ?=

.PHONY: check-valgrind
check-valgrind: build/test_grugan
	@failed=; for s in $$(sed -n 's/^SUITE(suite_\(.*\))$$/\1/p' build/suite_list.h); do \
	    case " $(VALGRIND_SKIP) " in *" $$s "*) echo "== $$s: skipped"; continue;; esac; \
	    echo "== $$s"; \
	    (cd tests && CK_FORK=no CK_RUN_SUITE=$$s $(VALGRIND) -q $(VALGRIND_FLAGS) \
	        ../build/test_grugan) || failed="$$failed $$s"; \
	done; \
	if [ -n "$$failed" ]; then echo "check-valgrind: failed:$$failed"; exit 1; fi

# ---- fuzzing (docs/RELIABILITY.md, "Fuzzing") -----------------------------------
# `make fuzz` builds each fuzz/fuzz_NAME.c with clang's libFuzzer, ASan and
# UBSan and runs it FUZZ_SECONDS seconds with fuzz/NAME.dict on its corpus:
# new inputs go to build/fuzz/corpus/NAME, fuzz/corpus/NAME (the committed
# seeds) and fuzz/crashes/NAME (past reproducers) are read. A crash, leak,
# timeout, out-of-memory or failed check stops with an error and leaves the
# input in build/fuzz/crashes/NAME/ (once fixed, copy it to fuzz/crashes/NAME/).
# `make fuzz-replay` builds the replay drivers with $(CC) (no libFuzzer);
# tests/shell/test_fuzz_replay.sh runs them over every corpus file and crash
# reproducer in `make check`. `make fuzz-seeds` rewrites the seed corpora.
# (-Wno-pass-failed: at -O1 with sanitizers clang cannot vectorize the
# `omp simd` loops and says so; that is no defect of the code.)
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= checkpoint csv npy roundtrip
FUZZ_ARGS ?=
FUZZ_ALL := checkpoint csv npy roundtrip
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_PROG_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARNINGS) -Iinclude
FUZZ_COMMON := fuzz/fuzz_common.c fuzz/fuzz_common.h fuzz/fuzz_dataset_check.h
.SECONDARY: $(FUZZ_LIB_OBJ)

build/fuzz/obj/src/%.o: src/%.c $(wildcard src/*/*.h) include/grugan.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(LIB_CPPFLAGS) $(LIB_CFLAGS) -O1 -g $(SANITIZE) -fsanitize=fuzzer-no-link \
	    -Wno-pass-failed -c $< -o $@

build/fuzz/fuzz_%: fuzz/fuzz_%.c $(FUZZ_COMMON) include/grugan.h $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_PROG_CFLAGS) $(OPENMP_CFLAGS) -O1 -g $(SANITIZE) -fsanitize=fuzzer \
	    -o $@ $< fuzz/fuzz_common.c $(FUZZ_LIB_OBJ) $(BLIS_LIBS) -lpthread -lm

fuzz: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p build/fuzz/corpus/$$t build/fuzz/crashes/$$t || exit 1; \
	    echo "== fuzz_$$t: $(FUZZ_SECONDS) s"; \
	    UBSAN_OPTIONS=print_stacktrace=1 build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	        -dict=fuzz/$$t.dict -artifact_prefix=build/fuzz/crashes/$$t/ -timeout=30 \
	        -print_final_stats=1 $(FUZZ_ARGS) \
	        build/fuzz/corpus/$$t fuzz/corpus/$$t fuzz/crashes/$$t || \
	        { echo "fuzz_$$t failed: the input is in build/fuzz/crashes/$$t/"; exit 1; }; \
	done

build/fuzz-replay/replay_%: fuzz/fuzz_%.c fuzz/replay.c $(FUZZ_COMMON) include/grugan.h $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(FUZZ_PROG_CFLAGS) $(OPENMP_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ fuzz/replay.c $< \
	    fuzz/fuzz_common.c $(STATIC) $(LIBS_PRIVATE)

fuzz-replay: $(FUZZ_ALL:%=build/fuzz-replay/replay_%)

build/fuzz-replay/make_seeds: fuzz/make_seeds.c $(FUZZ_COMMON) include/grugan.h $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(FUZZ_PROG_CFLAGS) $(OPENMP_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ fuzz/make_seeds.c \
	    fuzz/fuzz_common.c $(STATIC) $(LIBS_PRIVATE)

fuzz-seeds: build/fuzz-replay/make_seeds
	mkdir -p $(FUZZ_ALL:%=fuzz/corpus/%)
	build/fuzz-replay/make_seeds fuzz/corpus

# ---- examples (in-tree build: the static library and its private libs) -------
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLES := $(EXAMPLE_SRC:examples/%.c=build/examples/%)

build/examples/%: examples/%.c $(wildcard examples/*.h) include/grugan.h $(STATIC)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L $(WARNINGS) -Iinclude $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< $(STATIC) $(LIBS_PRIVATE)

CXXFLAGS ?= $(CFLAGS)
CXX_WARNINGS := $(filter-out -Wstrict-prototypes -Wmissing-prototypes,$(WARNINGS))

build/examples/embed: examples/embed.cpp include/grugan.h $(STATIC)
	@mkdir -p $(@D)
	$(CXX) -std=c++11 $(CXX_WARNINGS) -Iinclude $(CXXFLAGS) $(LDFLAGS) \
	    -o $@ $< $(STATIC) $(LIBS_PRIVATE)

examples: $(EXAMPLES) build/examples/embed

# ---- the MPI adapter (docs/SCALING.md): optional, built with $(MPICC) ----------
# lib/libgrugan_mpi.{a,so} from src/mpi/ (the only code that includes mpi.h),
# its header include/grugan_mpi.h and build/gru_gan_mpi.pc; the shared one
# links libgrugan.so. Also the MPI test program, the MPI paths of train_csv
# and evaluate, and the benchmark of docs/SCALING.md (build/sines_mpi_bench).
MPICC ?= mpicc
MPI_SRC := $(sort $(wildcard src/mpi/*.c))
MPI_OBJ := $(MPI_SRC:%.c=build/obj/%.o)
MPI_SHARED := lib/libgrugan_mpi.so.$(VERSION)
MPI_SONAME := libgrugan_mpi.so.$(MAJOR)
MPI_STATIC := lib/libgrugan_mpi.a

mpi: $(MPI_SHARED) lib/$(MPI_SONAME) lib/libgrugan_mpi.so $(MPI_STATIC) build/gru_gan_mpi.pc \
     build/examples/train_csv_mpi build/examples/evaluate_mpi build/test_mpi build/sines_mpi_bench

build/obj/src/mpi/%.o: src/mpi/%.c include/grugan_mpi.h include/grugan.h Makefile
	@mkdir -p $(@D)
	$(MPICC) -Iinclude -D_POSIX_C_SOURCE=200809L -DGRUGAN_MPI_BUILDING -std=c11 $(WARNINGS) \
	    -fPIC -fvisibility=hidden $(CFLAGS) -c $< -o $@

$(MPI_SHARED): $(MPI_OBJ) $(SHARED) lib/libgrugan.so
	$(MPICC) -shared -Wl,-soname,$(MPI_SONAME) -Wl,--no-undefined $(CFLAGS) $(LDFLAGS) \
	    -o $@ $(MPI_OBJ) -Llib -lgrugan

lib/$(MPI_SONAME): $(MPI_SHARED)
	ln -sf libgrugan_mpi.so.$(VERSION) $@

lib/libgrugan_mpi.so: lib/$(MPI_SONAME)
	ln -sf $(MPI_SONAME) $@

$(MPI_STATIC): $(MPI_OBJ)
	rm -f $@
	$(AR) rcs $@ $(MPI_OBJ)

build/gru_gan_mpi.pc: gru_gan_mpi.pc.in include/grugan.h FORCE
	@mkdir -p build
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' gru_gan_mpi.pc.in > $@

build/examples/train_csv_mpi: examples/mpi/train_csv_mpi.c examples/train_csv.c \
                              $(wildcard examples/*.h) include/grugan.h include/grugan_mpi.h \
                              $(MPI_STATIC) $(STATIC)
	@mkdir -p $(@D)
	$(MPICC) -std=c11 -D_POSIX_C_SOURCE=200809L $(WARNINGS) -Iinclude $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< $(MPI_STATIC) $(STATIC) $(LIBS_PRIVATE)

build/examples/evaluate_mpi: examples/mpi/evaluate_mpi.c examples/evaluate.c \
                             $(wildcard examples/*.h) include/grugan.h include/grugan_mpi.h \
                             $(MPI_STATIC) $(STATIC)
	@mkdir -p $(@D)
	$(MPICC) -std=c11 -D_POSIX_C_SOURCE=200809L $(WARNINGS) -Iinclude $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< $(MPI_STATIC) $(STATIC) $(LIBS_PRIVATE)

build/test_mpi: tests/mpi/test_mpi.c include/grugan.h include/grugan_mpi.h $(MPI_STATIC) $(STATIC)
	@mkdir -p $(@D)
	$(MPICC) -std=c11 -D_POSIX_C_SOURCE=200809L $(WARNINGS) -Iinclude $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< $(MPI_STATIC) $(STATIC) $(LIBS_PRIVATE)

build/sines_mpi_bench: bench/mpi/sines_mpi_bench.c include/grugan.h include/grugan_mpi.h \
                       $(MPI_STATIC) $(STATIC)
	$(MPICC) -std=c11 -D_POSIX_C_SOURCE=200809L $(WARNINGS) -Iinclude $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< $(MPI_STATIC) $(STATIC) $(LIBS_PRIVATE) -lm

install-mpi: mpi
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/grugan_mpi.h $(DESTDIR)$(INCLUDEDIR)/grugan_mpi.h
	install -m 755 $(MPI_SHARED) $(DESTDIR)$(LIBDIR)/libgrugan_mpi.so.$(VERSION)
	ln -sf libgrugan_mpi.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(MPI_SONAME)
	ln -sf $(MPI_SONAME) $(DESTDIR)$(LIBDIR)/libgrugan_mpi.so
	install -m 644 $(MPI_STATIC) $(DESTDIR)$(LIBDIR)/libgrugan_mpi.a
	install -m 644 build/gru_gan_mpi.pc $(DESTDIR)$(PKGCONFIGDIR)/gru_gan_mpi.pc

# evaluate too: the demo ends by telling how to score its samples with it.
demo: build/examples/train_sines build/examples/evaluate
	build/examples/train_sines --out build/demo $(DEMO_ARGS)

# ---- API reference (optional tool: doxygen) ------------------------------------
.PHONY: docs
docs:
	@if command -v doxygen >/dev/null 2>&1; then \
	    mkdir -p build/docs && doxygen docs/Doxyfile && \
	    echo "API reference: build/docs/html/index.html"; \
	else \
	    echo "make docs: doxygen is not installed (optional; on Debian: apt-get install doxygen), nothing built"; \
	fi

# ---- benchmark (docs/PERFORMANCE.md); BENCH_ARGS go to bench/run.sh ----------
# One program per bench/*.c: build/gru_bench (GRU), build/gan_bench (GAN step),
# build/fma_peak (the FMA throughput the figures are compared with),
# build/penalty_bench (gradient penalties).
BENCH_BINS := $(BENCH_SRC:bench/%.c=build/%)

$(BENCH_BINS): build/%: bench/%.c include/grugan.h $(STATIC)
	@mkdir -p build
	$(CC) -Iinclude -D_POSIX_C_SOURCE=200809L -std=c11 $(WARNINGS) $(OPENMP_CFLAGS) $(BLIS_CFLAGS) \
	    $(CFLAGS) $(LDFLAGS) -o $@ $< $(STATIC) $(LIBS_PRIVATE)

bench: all $(BENCH_BINS)
	PYTHON="$(PYTHON)" sh bench/run.sh $(BENCH_ARGS)

# ---- install -------------------------------------------------------------------
# The library, its header and .pc file, and the manual pages of the four
# command-line examples (docs/man/*.1, docs/cli.md).
MAN_PAGES := $(sort $(wildcard docs/man/*.1))

build/gru_gan.pc: gru_gan.pc.in include/grugan.h FORCE
	@mkdir -p build
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|g' -e 's|@BLIS_CFLAGS@||g' gru_gan.pc.in > $@

FORCE:

install: all build/gru_gan.pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/grugan.h $(DESTDIR)$(INCLUDEDIR)/grugan.h
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/libgrugan.so.$(VERSION)
	ln -sf libgrugan.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libgrugan.so
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/libgrugan.a
	install -m 644 build/gru_gan.pc $(DESTDIR)$(PKGCONFIGDIR)/gru_gan.pc
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/grugan.h
	rm -f $(DESTDIR)$(LIBDIR)/libgrugan.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	rm -f $(DESTDIR)$(LIBDIR)/libgrugan.so $(DESTDIR)$(LIBDIR)/libgrugan.a
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/gru_gan.pc
	rm -f $(DESTDIR)$(INCLUDEDIR)/grugan_mpi.h $(DESTDIR)$(LIBDIR)/libgrugan_mpi.so.$(VERSION)
	rm -f $(DESTDIR)$(LIBDIR)/libgrugan_mpi.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libgrugan_mpi.so
	rm -f $(DESTDIR)$(LIBDIR)/libgrugan_mpi.a $(DESTDIR)$(PKGCONFIGDIR)/gru_gan_mpi.pc
	rm -f $(MAN_PAGES:docs/man/%=$(DESTDIR)$(MANDIR)/man1/%)

clean:
	rm -rf build lib

-include $(LIB_OBJ:.o=.d)
