#!/usr/bin/env python3
"""abi_trim_grown.py BASELINE.abi CURRENT.abi > TRIMMED.abi

Cuts every grown struct of CURRENT (abidw XML) back to its BASELINE layout,
so that abidiff of BASELINE against TRIMMED sees only incompatible changes.

A struct whose first member is `size_t struct_size` (the configuration
structs and grugan_progress) may grow by appending members: a program built
with the older header passes the older size and the library reads or writes
only that much. The appended members must lie beyond the old size: one that
fits in the old tail padding leaves struct_size unchanged, so the library
could not tell an old caller from a new one. For each such struct of the
baseline, the struct in CURRENT keeps its first N members (N = the
baseline's count) and the baseline's size; abidiff then checks the types
and offsets of those N members as it checks everything else, and this
script their names (abidiff takes a renamed member for a harmless change,
which hides a member inserted before others of the same type).

Prints the grown structs on stderr; exits 1 when the first N members are
not the baseline's by name or an appended member lies inside the old size,
2 on bad input.
"""
import sys
import xml.etree.ElementTree as ET


def sized_structs(root):
    """Each struct definition whose first member is struct_size, by name."""
    found = {}
    for decl in root.iter("class-decl"):
        if decl.get("is-declaration-only") == "yes" or decl.get("is-struct") != "yes":
            continue
        members = decl.findall("data-member")
        if not members:
            continue
        first = members[0].find("var-decl")
        if first is None or first.get("name") != "struct_size":
            continue
        found.setdefault(decl.get("name"), []).append(decl)
    return found


def member_name(member):
    var = member.find("var-decl")
    return var.get("name") if var is not None else "?"


def main(argv):
    if len(argv) != 3:
        print("usage: abi_trim_grown.py BASELINE.abi CURRENT.abi", file=sys.stderr)
        return 2
    try:
        baseline = ET.parse(argv[1]).getroot()
        current_tree = ET.parse(argv[2])
    except (OSError, ET.ParseError) as e:
        print("abi_trim_grown.py: %s" % e, file=sys.stderr)
        return 2
    old = {name: decls[0] for name, decls in sized_structs(baseline).items()}
    status = 0
    for name, decls in sorted(sized_structs(current_tree.getroot()).items()):
        if name not in old:
            continue
        old_size = int(old[name].get("size-in-bits"))
        was = [member_name(m) for m in old[name].findall("data-member")]
        keep = len(was)
        # A struct may be defined in several translation units: report once, trim all.
        for copy, decl in enumerate(decls):
            report = copy == 0
            size = int(decl.get("size-in-bits"))
            members = decl.findall("data-member")
            now = [member_name(m) for m in members[:keep]]
            if now != was:
                status = 1
                if report:
                    print("abi: %s: members were %s, now begin %s: members may only be "
                          "appended" % (name, ", ".join(was), ", ".join(now)), file=sys.stderr)
            appended = members[keep:]
            if not appended:
                continue
            inside = [m for m in appended if int(m.get("layout-offset-in-bits")) < old_size]
            if inside:
                status = 1
            if report:
                for m in inside:
                    print("abi: %s: appended member '%s' at bit %s lies inside the old size "
                          "(%d bits): programs built with the old header pass the same "
                          "struct_size" % (name, member_name(m), m.get("layout-offset-in-bits"),
                                           old_size), file=sys.stderr)
                if not inside and now == was:
                    print("abi: grown struct %s: %d -> %d bits, appended: %s"
                          % (name, old_size, size, ", ".join(member_name(m) for m in appended)),
                          file=sys.stderr)
            for m in appended:
                decl.remove(m)
            if size >= old_size:
                decl.set("size-in-bits", str(old_size))
    current_tree.write(sys.stdout, encoding="unicode")
    sys.stdout.write("\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
