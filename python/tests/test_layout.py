"""The package's structs and constants against include/grugan.h: every field's offset
and size and every struct's size as the C compiler lays them out, every field name the
header declares, every constant's value, and the package's version."""
import ctypes
import os
import re
import shutil
import subprocess

import pytest

import grugan
from grugan import _structs, constants


def header(root):
    with open(os.path.join(root, "include", "grugan.h")) as f:
        return f.read()


def c_fields(text, c_name):
    """The member names of `typedef struct c_name { ... } c_name;` in the header."""
    body = re.search(r"typedef struct %s \{(.*?)\} %s;" % (c_name, c_name), text, re.S)
    assert body, f"{c_name} not in grugan.h"
    code = re.sub(r"/\*.*?\*/", "", body.group(1), flags=re.S)
    return [m.group(1) for m in re.finditer(r"(\w+)\s*(?:\[\d+\])?\s*;", code)]


def test_field_names_and_order_match_the_header(root):
    text = header(root)
    for cls in _structs.ALL:
        assert [n for n, _ in cls._fields_] == c_fields(text, cls._c_name_), cls._c_name_


def test_offsets_and_sizes_match_the_c_compiler(root, tmp_path):
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        pytest.skip("no C compiler to compare the struct layouts with")
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include <grugan.h>',
             'int main(void)', '{']
    expected = []
    for cls in _structs.ALL:
        c = cls._c_name_
        lines.append(f'    printf("{c} %zu\\n", sizeof({c}));')
        expected.append(f"{c} {ctypes.sizeof(cls)}")
        for name, _ in cls._fields_:
            lines.append(f'    printf("{c}.{name} %zu %zu\\n", offsetof({c}, {name}), '
                         f'sizeof(((({c} *)0)->{name})));')
            field = getattr(cls, name)
            expected.append(f"{c}.{name} {field.offset} {field.size}")
    lines += ["    return 0;", "}"]
    source, program = tmp_path / "layout.c", tmp_path / "layout"
    source.write_text("\n".join(lines) + "\n")
    subprocess.run([cc, "-std=c99", "-I", os.path.join(root, "include"), "-o", str(program),
                    str(source)], check=True)
    out = subprocess.run([str(program)], check=True, capture_output=True, text=True).stdout
    assert out.split("\n")[:-1] == expected


def test_constants_match_the_header(root):
    defines = dict(re.findall(r"#define GRUGAN_(\w+)\s+\(?(-?\d+)\)?", header(root)))
    ours = {k: v for k, v in vars(constants).items() if k.isupper() and isinstance(v, int)}
    assert ours, "no constants"
    for name, value in ours.items():
        assert name in defines, f"GRUGAN_{name} is not in grugan.h"
        assert int(defines[name]) == value, name


def test_package_version_is_the_header_version(root):
    v = dict(re.findall(r"#define GRUGAN_VERSION_(MAJOR|MINOR|PATCH) (\d+)", header(root)))
    assert grugan.__version__ == f"{v['MAJOR']}.{v['MINOR']}.{v['PATCH']}"
    assert int(v["MAJOR"]) == grugan.ABI_MAJOR
    assert grugan.version() == grugan.__version__
