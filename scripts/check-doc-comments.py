#!/usr/bin/env python3
"""Lists the public and open symbols of a module that have no doc comment.

    scripts/check-doc-comments.py MODULE SYMBOL_GRAPHS SOURCE_DIR

SYMBOL_GRAPHS is a folder that holds the module's symbol graphs, at any depth:
MODULE.symbols.json, and MODULE@Other.symbols.json for extensions of other modules' types,
extracted at the public access level. `make test-docs` passes the scratch folder of the
documentation build, where swift-docc-plugin left the graphs it gave DocC; when the folder
holds several extractions of the module, the newest is read. SOURCE_DIR is the module's
source folder. Prints one line per undocumented symbol, with its file and line, and exits
1 when there is any; exits 2 when there is no graph of the module.

DocC itself does not warn about undocumented symbols, so this is what keeps every public
declaration documented. A symbol counts as documented when it has a `///` (or `/** */`)
comment of its own. Left out, on purpose:

- symbols of other modules, even when they appear in the graph (a facade that re-exports a
  module must not be blamed for that module's gaps; that module is checked on its own):
  only symbols declared under SOURCE_DIR count;
- synthesized symbols (`::SYNTHESIZED::` identifiers): default implementations that a type
  gets from a protocol extension, such as `!=` from Equatable. They have no declaration
  here, and their docs are the protocol extension's. Members the compiler generates (the
  `init(rawValue:)` of an enum with raw values) have no declaration either, and so no
  source location: they are left out with the other modules' symbols;
- extension blocks (`swift.extension`): a declaration such as `extension Array` holds
  members, which are checked one by one; it has no meaning of its own to document;
- members whose doc comment is inherited from the protocol requirement they implement
  (`description` of CustomStringConvertible, `==` of Equatable, `hash(into:)`, ...):
  DocC shows the requirement's documentation on them, which says what they do. The graph
  fills those docs in from the requirement (or from the overridden member of a superclass).
  A requirement that is itself undocumented gives nothing to inherit, so its
  implementations are reported (and the requirement too, when it is ours).
"""

import json
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

PUBLIC = {"public", "open"}


def path_of(uri):
    return Path(unquote(urlparse(uri).path)).resolve() if uri else None


def has_text(doc):
    return any(line.get("text", "").strip() for line in doc.get("lines", []))


def graph_files(module, root):
    """The symbol graph files of the newest extraction of `module` under `root`."""
    mains = list(root.rglob(f"{module}.symbols.json"))
    if not mains:
        print(f"check-doc-comments: no symbol graph of {module} under {root}", file=sys.stderr)
        sys.exit(2)
    folder = max(mains, key=lambda path: path.stat().st_mtime).parent
    return [folder / f"{module}.symbols.json"] + sorted(folder.glob(f"{module}@*.symbols.json"))


def undocumented(module, files, source_dir):
    found, seen = [], set()
    for file in files:
        for symbol in json.loads(file.read_text())["symbols"]:
            precise = symbol["identifier"]["precise"]
            if precise in seen or symbol.get("accessLevel") not in PUBLIC:
                continue
            seen.add(precise)
            if "::SYNTHESIZED::" in precise or symbol["kind"]["identifier"] == "swift.extension":
                continue
            location = symbol.get("location", {})
            declared_in = path_of(location.get("uri"))
            if declared_in is None or not declared_in.is_relative_to(source_dir):
                continue
            doc = symbol.get("docComment")
            if doc and has_text(doc):
                continue  # its own comment, or one inherited from the requirement it implements
            line = location.get("position", {}).get("line", 0) + 1
            kind = symbol["kind"]["displayName"].lower()
            name = ".".join(symbol["pathComponents"])
            shown = declared_in.relative_to(Path.cwd()) if declared_in.is_relative_to(Path.cwd()) else declared_in
            found.append((str(shown), line, kind, name))
    return sorted(found)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    module, root, source_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]).resolve()
    files = graph_files(module, root)
    found = undocumented(module, files, source_dir)
    for path, line, kind, name in found:
        print(f"{path}:{line}: {kind} {name} has no doc comment")
    if found:
        print(f"{module}: {len(found)} public symbols without a doc comment")
        return 1
    print(f"{module}: every public symbol has a doc comment ({files[0].parent})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
