# Installs hilo like a C library.
#
#   make                      cargo build --release (and the libhilo.so.0 link)
#   make install              install into PREFIX (default /usr/local)
#   make uninstall            remove what install installed
#   make test                 every test: installs what the tests need
#                             beyond the toolchain (scripts/install-test-deps.sh:
#                             doxygen, cmake, luajit, GLib, libuv, ...), then
#                             cargo test
#   make docs                 the C reference from include/hilo.h with
#                             Doxygen (docs/Doxyfile): HTML in
#                             target/docs/html, man pages in target/docs/man;
#                             fails when Doxygen warns
#
# Variables:
#   PREFIX=/usr/local         where to install; libdir and includedir follow it
#   DESTDIR=                  staging root prepended to every installed path
#   LIBDIR=target/release     where the built libhilo.so and libhilo.a are;
#                             given on the command line, nothing is built
#   STRIP="strip --strip-debug"  run on the installed libraries: the debug
#                             info goes (libhilo.so 5.4 MB -> 0.7 MB,
#                             libhilo.a 25 MB -> 14 MB, most of it Rust's
#                             std, which a program links only in part), the
#                             symbol table stays, so backtraces, gdb and
#                             hilo_dump still name hilo's functions. To keep
#                             the debug info for stepping through hilo's
#                             sources: make install STRIP=true
#
# Installed: $(libdir)/libhilo.so.$(VERSION) with the libhilo.so.$(SOMAJOR)
# and libhilo.so symlinks, $(libdir)/libhilo.a, $(includedir)/hilo.h,
# $(libdir)/pkgconfig/hilo.pc, CMake's package files in $(cmakedir)
# (find_package(hilo): imported targets hilo::hilo and hilo::hilo_static),
# and when Doxygen is installed the man pages in $(mandir)/man3 (`man 3
# hilo`, `man 3 hilo_join`, ...).

PREFIX     ?= /usr/local
DESTDIR    ?=
libdir     ?= $(PREFIX)/lib
includedir ?= $(PREFIX)/include
pkgconfigdir ?= $(libdir)/pkgconfig
cmakedir   ?= $(libdir)/cmake/hilo
mandir     ?= $(PREFIX)/share/man
DOCS_OUT   ?= target/docs

VERSION := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
MINOR   := $(word 2,$(subst ., ,$(VERSION)))
SONAME  := libhilo.so.$(SOMAJOR)
REALNAME := libhilo.so.$(VERSION)

ifeq ($(origin LIBDIR),undefined)
LIBDIR := target/release
BUILD  := build
else
BUILD  :=
endif

INSTALL ?= install
STRIP   ?= strip --strip-debug
DOXYGEN ?= doxygen

# The installed files' @...@ values: hilo.pc's absolute paths; the CMake
# files' paths relative to their own directory, so a staged or moved
# install still finds the library and the header.
SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(libdir)|g' \
	    -e 's|@INCLUDEDIR@|$(includedir)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@MAJOR@|$(SOMAJOR)|g' -e 's|@MINOR@|$(MINOR)|g' \
	    -e 's|@SOMAJOR@|$(SOMAJOR)|g' \
	    -e "s|@LIBDIR_FROM_CONFIG@|$$(realpath -m -s --relative-to=$(cmakedir) $(libdir))|g" \
	    -e "s|@INCLUDE_FROM_CONFIG@|$$(realpath -m -s --relative-to=$(cmakedir) $(includedir))|g" \
	    -e "s|@SIZEOF_VOID_P@|$$(($$(getconf LONG_BIT) / 8))|g"

.PHONY: all build install install-man uninstall docs test
all: build

test:
	bash scripts/install-test-deps.sh
	cargo test

build:
	cargo build --release
	ln -sf libhilo.so target/release/$(SONAME)  # what programs linked with -lhilo load

install: $(BUILD)
	@test -f $(LIBDIR)/libhilo.so || { echo "no libhilo.so in $(LIBDIR)"; exit 1; }
	@test -f $(LIBDIR)/libhilo.a || { echo "no libhilo.a in $(LIBDIR)"; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) $(DESTDIR)$(pkgconfigdir) \
	    $(DESTDIR)$(cmakedir)
	$(INSTALL) -m 755 $(LIBDIR)/libhilo.so $(DESTDIR)$(libdir)/$(REALNAME)
	ln -sf $(REALNAME) $(DESTDIR)$(libdir)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(libdir)/libhilo.so
	$(INSTALL) -m 644 $(LIBDIR)/libhilo.a $(DESTDIR)$(libdir)/libhilo.a
	$(STRIP) $(DESTDIR)$(libdir)/$(REALNAME) $(DESTDIR)$(libdir)/libhilo.a
	$(INSTALL) -m 644 include/hilo.h $(DESTDIR)$(includedir)/hilo.h
	$(SUBST) hilo.pc.in > $(DESTDIR)$(pkgconfigdir)/hilo.pc
	$(SUBST) cmake/hiloConfig.cmake.in > $(DESTDIR)$(cmakedir)/hiloConfig.cmake
	$(SUBST) cmake/hiloConfigVersion.cmake.in > $(DESTDIR)$(cmakedir)/hiloConfigVersion.cmake
	chmod 644 $(DESTDIR)$(pkgconfigdir)/hilo.pc $(DESTDIR)$(cmakedir)/hiloConfig.cmake \
	    $(DESTDIR)$(cmakedir)/hiloConfigVersion.cmake
	$(MAKE) --no-print-directory install-man

# Doxygen writes one page, hilo.h.3, and a page per function, type and
# status that points to it (all named hilo* or HILO_*); hilo.3 points to it
# too, for `man 3 hilo`.
install-man:
	@if command -v $(DOXYGEN) >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory docs && \
	    $(INSTALL) -d $(DESTDIR)$(mandir)/man3 && \
	    $(INSTALL) -m 644 $(DOCS_OUT)/man/man3/*.3 $(DESTDIR)$(mandir)/man3/ && \
	    echo '.so man3/hilo.h.3' > $(DESTDIR)$(mandir)/man3/hilo.3 && \
	    echo "installed the man pages in $(DESTDIR)$(mandir)/man3"; \
	else \
	    echo "man pages skipped: doxygen is not installed (scripts/install-test-deps.sh installs it)"; \
	fi

docs: $(DOCS_OUT)/done

# Doxygen's warnings go to a log (docs/Doxyfile); any warning fails the
# build. So does a man page line that starts with a quote, which troff
# takes for a request and drops (Doxygen writes a leading "..." that way).
$(DOCS_OUT)/done: include/hilo.h docs/Doxyfile docs/mainpage.dox
	@command -v $(DOXYGEN) >/dev/null 2>&1 || \
	    { echo "make docs needs doxygen (scripts/install-test-deps.sh installs it)"; exit 1; }
	rm -rf $(DOCS_OUT)
	mkdir -p $(DOCS_OUT)
	HILO_DOCS_OUT=$(DOCS_OUT) HILO_VERSION=$(VERSION) $(DOXYGEN) docs/Doxyfile
	@if [ -s $(DOCS_OUT)/warnings.log ]; then \
	    cat $(DOCS_OUT)/warnings.log; echo "make docs: Doxygen warned (above)"; exit 1; fi
	@if grep -n "^'" $(DOCS_OUT)/man/man3/*.3; then \
	    echo "make docs: man page lines above start with a quote, which troff drops"; exit 1; fi
	touch $@
	@echo "HTML: $(DOCS_OUT)/html/index.html; man pages: $(DOCS_OUT)/man/man3"

uninstall:
	rm -f $(DESTDIR)$(libdir)/$(REALNAME) $(DESTDIR)$(libdir)/$(SONAME) \
	      $(DESTDIR)$(libdir)/libhilo.so $(DESTDIR)$(libdir)/libhilo.a \
	      $(DESTDIR)$(includedir)/hilo.h $(DESTDIR)$(pkgconfigdir)/hilo.pc \
	      $(DESTDIR)$(cmakedir)/hiloConfig.cmake $(DESTDIR)$(cmakedir)/hiloConfigVersion.cmake
	-rmdir $(DESTDIR)$(cmakedir) 2>/dev/null
	rm -f $(DESTDIR)$(mandir)/man3/hilo.3 $(DESTDIR)$(mandir)/man3/hilo.h.3 \
	      $(DESTDIR)$(mandir)/man3/hilo_*.3 $(DESTDIR)$(mandir)/man3/HILO_*.3
