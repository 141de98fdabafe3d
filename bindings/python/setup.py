"""Builds the hilo Python package: `pip install ./bindings/python`.

1. `cargo build --release` at the repository root gives libhilo.so, which is
   bundled in the package as hilo/libhilo.so.MAJOR (its soname; debug info
   stripped when `strip` is there), where hilo/__init__.py loads it from.
2. The extension module hilo._hilo (hilo/_hilo.c) is compiled against
   include/hilo.h and linked with that library (RUNPATH $ORIGIN).

Why setuptools with a cargo step rather than maturin or setuptools-rust: the
Rust crate is a C library (a cdylib with a C ABI), not a Python extension;
what Python imports is a small C extension over it, which setuptools builds
natively. maturin builds one Rust extension module (PyO3/cffi) or a cdylib
loaded by cffi, so hilo._hilo would have to be rewritten for it or dropped;
setuptools-rust would add a build dependency only to run the one cargo
command below. setuptools is what pip uses anyway.
"""

import os
import re
import shutil
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def cargo_version():
    """The one version (Cargo.toml's [package] version)."""
    with open(os.path.join(ROOT, "Cargo.toml")) as f:
        return re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.M).group(1)


VERSION = cargo_version()
SONAME = "libhilo.so.%s" % VERSION.split(".")[0]


class BuildWithCargo(build_ext):
    """build_ext that first builds libhilo.so with cargo and bundles it."""

    def run(self):
        cargo = os.environ.get("CARGO", "cargo")
        subprocess.check_call([cargo, "build", "--release", "--lib"], cwd=ROOT)
        built = os.path.join(ROOT, "target", "release", "libhilo.so")
        # The link step wants libhilo.so; the package holds it under its soname.
        link_dir = os.path.join(os.path.abspath(self.build_temp), "hilo-lib")
        os.makedirs(link_dir, exist_ok=True)
        shutil.copyfile(built, os.path.join(link_dir, "libhilo.so"))
        if shutil.which("strip"):
            subprocess.check_call(["strip", "--strip-debug",
                                   os.path.join(link_dir, "libhilo.so")])
        for ext in self.extensions:
            ext.library_dirs.append(link_dir)
        super().run()
        package_dir = os.path.join(HERE if self.inplace else self.build_lib, "hilo")
        os.makedirs(package_dir, exist_ok=True)
        shutil.copyfile(os.path.join(link_dir, "libhilo.so"),
                        os.path.join(package_dir, SONAME))


setup(
    version=VERSION,
    packages=["hilo"],
    ext_modules=[
        Extension(
            "hilo._hilo",
            sources=["hilo/_hilo.c"],
            include_dirs=[os.path.join(ROOT, "include")],
            libraries=["hilo"],
            runtime_library_dirs=["$ORIGIN"],
            extra_compile_args=["-std=c11", "-D_POSIX_C_SOURCE=200809L"],
        )
    ],
    cmdclass={"build_ext": BuildWithCargo},
)
