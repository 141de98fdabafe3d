# Installs hilo like a C library.
#
#   make                      cargo build --release (and the libhilo.so.0 link)
#   make install              install into PREFIX (default /usr/local)
#   make uninstall            remove what install installed
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
# and libhilo.so symlinks, $(libdir)/libhilo.a, $(includedir)/hilo.h and
# $(libdir)/pkgconfig/hilo.pc.

PREFIX     ?= /usr/local
DESTDIR    ?=
libdir     ?= $(PREFIX)/lib
includedir ?= $(PREFIX)/include
pkgconfigdir ?= $(libdir)/pkgconfig

VERSION := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
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

.PHONY: all build install uninstall
all: build

build:
	cargo build --release
	ln -sf libhilo.so target/release/$(SONAME)  # what programs linked with -lhilo load

install: $(BUILD)
	@test -f $(LIBDIR)/libhilo.so || { echo "no libhilo.so in $(LIBDIR)"; exit 1; }
	@test -f $(LIBDIR)/libhilo.a || { echo "no libhilo.a in $(LIBDIR)"; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) $(DESTDIR)$(pkgconfigdir)
	$(INSTALL) -m 755 $(LIBDIR)/libhilo.so $(DESTDIR)$(libdir)/$(REALNAME)
	ln -sf $(REALNAME) $(DESTDIR)$(libdir)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(libdir)/libhilo.so
	$(INSTALL) -m 644 $(LIBDIR)/libhilo.a $(DESTDIR)$(libdir)/libhilo.a
	$(STRIP) $(DESTDIR)$(libdir)/$(REALNAME) $(DESTDIR)$(libdir)/libhilo.a
	$(INSTALL) -m 644 include/hilo.h $(DESTDIR)$(includedir)/hilo.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(libdir)|' \
	    -e 's|@INCLUDEDIR@|$(includedir)|' -e 's|@VERSION@|$(VERSION)|' \
	    hilo.pc.in > $(DESTDIR)$(pkgconfigdir)/hilo.pc
	chmod 644 $(DESTDIR)$(pkgconfigdir)/hilo.pc

uninstall:
	rm -f $(DESTDIR)$(libdir)/$(REALNAME) $(DESTDIR)$(libdir)/$(SONAME) \
	      $(DESTDIR)$(libdir)/libhilo.so $(DESTDIR)$(libdir)/libhilo.a \
	      $(DESTDIR)$(includedir)/hilo.h $(DESTDIR)$(pkgconfigdir)/hilo.pc
