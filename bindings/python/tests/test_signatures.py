"""The ctypes signatures in hilo/__init__.py (_SIGNATURES), checked against
the prototypes in include/hilo.h, so the two cannot drift: every function the
binding declares must exist in the header with the same return type and the
same parameter types. (hilo/_hilo.c needs no such test: it includes the
header, so the compiler checks it.)"""

import ctypes
import os
import re
import unittest

import support  # noqa: F401  (the import path)
import hilo

HEADER = os.path.join(support.BINDING, "..", "..", "include", "hilo.h")

# C type (as the header spells it, spaces normalised) -> the ctypes type.
C_TYPES = {
    "int": ctypes.c_int,
    "bool": ctypes.c_bool,
    "double": ctypes.c_double,
    "size_t": ctypes.c_size_t,
    "uint32_t": ctypes.c_uint,
    "int64_t": ctypes.c_int64,
    "hilo_thread_t": ctypes.c_uint64,
    "const char *": ctypes.c_char_p,
    "char *": ctypes.c_char_p,
    "void": None,
    "void *": ctypes.c_void_p,
    "void **": ctypes.POINTER(ctypes.c_void_p),
    "hilo_thread_t *": ctypes.POINTER(ctypes.c_uint64),
    "hilo_fn": hilo._HILO_FN,
}


def c_type(text):
    text = re.sub(r"\s+", " ", text.strip())
    text = re.sub(r"\s*\*", " *", text).replace("* *", "**")
    if text in C_TYPES:
        return C_TYPES[text]
    # An opaque object (hilo_lock *, const hilo_sem *) is a void pointer.
    if re.fullmatch(r"(const )?hilo_[a-z]+ \*", text):
        return ctypes.c_void_p
    raise KeyError(text)


def header_prototypes():
    """name -> (return type text, [parameter type texts]) from hilo.h."""
    with open(HEADER) as f:
        text = re.sub(r"/\*.*?\*/|//[^\n]*", "", f.read(), flags=re.S)
    found = {}
    for m in re.finditer(r"^([A-Za-z_][\w \*]*?)\s*\b(hilo_\w+)\(([^;{]*)\);", text, re.M):
        ret, name, params = m.group(1), m.group(2), m.group(3)
        types = []
        if params.strip() not in ("", "void"):
            for p in params.split(","):
                p = p.strip()
                if "(*" in p:  # a function pointer parameter (hilo_local_new)
                    types.append("fn")
                    continue
                types.append(re.sub(r"\b\w+$", "", p).strip())  # drop the name
        found[name] = (ret.replace("extern", "").strip(), types)
    return found


@unittest.skipUnless(os.path.exists(HEADER), "no include/hilo.h next to the binding")
class SignaturesMatchTheHeader(unittest.TestCase):
    def test_every_declared_function_matches(self):
        protos = header_prototypes()
        self.assertGreater(len(protos), 40, "the header's prototypes were not read")
        for name, (restype, argtypes) in hilo._SIGNATURES.items():
            with self.subTest(function=name):
                self.assertIn(name, protos, "%s is not in hilo.h" % name)
                ret, params = protos[name]
                self.assertIs(c_type(ret), restype, "%s returns %s" % (name, ret))
                self.assertEqual(len(params), len(argtypes), "%s takes %s" % (name, params))
                for i, (text, declared) in enumerate(zip(params, argtypes)):
                    self.assertIs(c_type(text), declared,
                                  "%s parameter %d is %s" % (name, i, text))

    def test_the_check_catches_a_drift(self):
        # A wrong parameter type would be caught: the checker maps types.
        self.assertIsNot(c_type("double"), ctypes.c_int)
        self.assertIs(c_type("const hilo_sem *"), ctypes.c_void_p)


if __name__ == "__main__":
    unittest.main()
