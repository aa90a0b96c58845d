"""License names, license texts and SPDX headers to SPDX ids; SPDX expressions to a license class.

The knowledge (classes, aliases, deprecated ids) is data in classes.yaml; the phrases that
identify a license text are the `TEXT_SIGNATURES` table below. Nothing is downloaded.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

KNOWLEDGE_FILE = Path(__file__).with_name("classes.yaml")
NOASSERTION = "NOASSERTION"
# Most to least permissive: an OR takes the lowest rank of its options, an AND the highest.
CLASS_RANK = {
    "public_domain": 0,
    "permissive": 1,
    "weak_copyleft": 2,
    "copyleft": 3,
    "restricted": 4,
    "unknown": 5,
}
UNKNOWN = "unknown"


@dataclass(frozen=True)
class LicenseKnowledge:
    classes: dict[str, str]  # license id -> class
    deprecated: dict[str, str]  # deprecated SPDX id -> current id
    aliases: dict[str, str]  # name key (see _name_key) -> license id
    ids_by_lower: dict[str, str]  # lower-cased id -> id, for case-insensitive matching


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (plain YAML keeps the last,
    so a second `OFL-1.1:` alias list would silently drop the first)."""

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ValueError(f"{key_node.start_mark}: {key!r} is given twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_knowledge_yaml(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # a SafeLoader subclass


@functools.cache
def knowledge(path: Path = KNOWLEDGE_FILE) -> LicenseKnowledge:
    data = _load_knowledge_yaml(path)
    classes: dict[str, str] = {}
    for license_class, ids in data["classes"].items():
        if license_class not in CLASS_RANK:
            raise ValueError(f"{path}: unknown license class {license_class!r}")
        for spdx in ids:
            if spdx in classes:
                raise ValueError(f"{path}: {spdx} is listed under two classes")
            classes[spdx] = license_class
    deprecated = dict(data.get("deprecated") or {})
    aliases: dict[str, str] = {}
    for spdx, names in (data.get("aliases") or {}).items():
        if spdx not in classes:
            raise ValueError(f"{path}: alias target {spdx} has no class")
        for name in [spdx, *names]:
            aliases.setdefault(_name_key(str(name)), spdx)
    ids_by_lower = {spdx.lower(): spdx for spdx in classes}
    ids_by_lower.update({old.lower(): new for old, new in deprecated.items()})
    return LicenseKnowledge(classes, deprecated, aliases, ids_by_lower)


# --- free-form names -------------------------------------------------------------------------

_STOP_WORDS = frozenset(
    {"license", "licensed", "licenses", "the", "version", "v", "software", "gnu", "under", "a"}
)


def _name_key(text: str) -> str:
    """'Apache License, Version 2.0', 'apache-2.0' and 'Apache 2' all become 'apache 2'."""
    key = text.lower().replace("licence", "license")
    key = re.sub(r"(?<=[a-z])v?(?=\d)", " ", key)  # gplv3 -> gpl 3, mpl2 -> mpl 2
    key = re.sub(r"[^a-z0-9.+]+", " ", key)
    key = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", key)  # dots that are not decimal points
    key = re.sub(r"(\d)\.0\b", r"\1", key)  # 2.0 -> 2
    return " ".join(word for word in key.split() if word not in _STOP_WORDS)


def _lookup(name: str) -> str | None:
    """One license name (an SPDX id, a deprecated id or an alias) to its current id."""
    name = name.strip().strip("\"'")
    if not name:
        return None
    known = knowledge()
    if name.lower() in known.ids_by_lower:
        return known.ids_by_lower[name.lower()]
    if name.startswith("LicenseRef-"):
        return name
    for candidate in (name, *_parenthesized_variants(name)):
        spdx = known.aliases.get(_name_key(candidate))
        if spdx:
            return spdx
    if _PUBLIC_DOMAIN_NAME.match(name):
        return "PublicDomain"
    return _versioned_gnu(name, known)


# Debian's per-work public-domain names: public-domain-md5, public-domain-sha1...
_PUBLIC_DOMAIN_NAME = re.compile(r"(?i)public[- ]domain[-_ ][a-z0-9][\w.-]*$")


_GNU_NAME = re.compile(r"(?i)(a?gpl|lgpl|gfdl)-?v?(\d)(?:\.(\d))?(\+|-only|-or-later)?")


def _versioned_gnu(name: str, known: LicenseKnowledge) -> str | None:
    """GNU short names in any of their spellings: GPL-1+, GPL-1, LGPLv3+, GPL-2.0+ ->
    GPL-1.0-or-later, GPL-1.0-only, LGPL-3.0-or-later, GPL-2.0-or-later."""
    match = _GNU_NAME.fullmatch(name)
    if not match:
        return None
    kind, major, minor, suffix = match.groups()
    later = "or-later" if suffix in ("+", "-or-later") else "only"
    spdx = f"{kind.upper()}-{major}.{minor or 0}-{later}"
    return known.ids_by_lower.get(spdx.lower())


# DEP-5 "with X exception" names -> SPDX exception ids; others become AdditionRef-X-exception.
_EXCEPTIONS = {
    "autoconf": "Autoconf-exception-generic",
    "autoconf-data": "Autoconf-exception-generic",
    "autoconf-3": "Autoconf-exception-3.0",
    "bison": "Bison-exception-2.2",
    "classpath": "Classpath-exception-2.0",
    "font": "Font-exception-2.0",
    "gcc": "GCC-exception-3.1",
    "gcc-3.1": "GCC-exception-3.1",
    "libtool": "Libtool-exception",
    "openssl": "OpenSSL-exception",
}
_WITH_EXCEPTION = re.compile(
    r"(?i)^(?P<license>.+?)\s+with\s+(?P<exception>[\w.+-]+?)\s+exception$"
)


def _with_exception(text: str) -> str | None:
    """'GPL-3+ with Autoconf-data exception' -> 'GPL-3.0-or-later WITH
    Autoconf-exception-generic': the license keeps its class, the exception is recorded."""
    match = _WITH_EXCEPTION.match(text.strip())
    if not match:
        return None
    spdx = _lookup(match.group("license"))
    if spdx is None:
        return None
    name = match.group("exception")
    exception = _EXCEPTIONS.get(name.lower(), f"AdditionRef-{name}-exception")
    return f"{spdx} WITH {exception}"


def _parenthesized_variants(name: str) -> list[str]:
    """'GNU General Public License v3 (GPLv3)' -> the name without, then the part within."""
    inner = re.findall(r"\(([^()]*)\)", name)
    outer = re.sub(r"\([^()]*\)", " ", name)
    return [outer, *inner] if inner else []


def normalize_license(text: str | None) -> str | None:
    """A license as people write it to an SPDX id or expression, or None when it is not one.

    Accepts SPDX ids and expressions (deprecated ids are updated: GPL-2.0 -> GPL-2.0-only),
    free-form names ("MIT License", "Apache 2.0", "new BSD", "GNU GPLv3"), trove classifiers
    ("License :: OSI Approved :: BSD License": the last part), "A or B" / "A/B" pairs, and a
    whole license text pasted into a metadata field (identified by `detect_license_text`).
    A bare "BSD" means BSD-3-Clause, its commonest meaning; a GPL without a version means
    any version (GPL-1.0-or-later), as SPDX reads it.
    """
    if not text or not text.strip():
        return None
    text = text.strip()
    if len(text) > 200 or text.count("\n") > 2:
        return detect_license_text(text)
    if "::" in text:
        text = text.rsplit("::", 1)[-1].strip()
    found = _lookup(text) or _with_exception(text)
    if found:
        return found
    try:
        tree = _parse(text, _lookup_leaf)
    except ValueError:
        tree = None
    if tree is not None:
        return _serialize(tree)
    parts = re.split(r"\s+(?:or|and)\s+|\s*/\s*", text, flags=re.IGNORECASE)
    operator = " AND " if re.search(r"\s+and\s+", text, re.IGNORECASE) else " OR "
    if len(parts) > 1:
        ids = [_lookup(part) for part in parts]
        if all(ids):
            return canonical_expression(operator.join(ids))  # type: ignore[arg-type]
    return None


def _lookup_leaf(token: str) -> str:
    found = _lookup(token)
    if found is None:
        # An operator-joined expression may name SPDX ids this table does not hold; keep them.
        if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.+-]*", token) and any(c.isdigit() for c in token):
            return token
        raise ValueError(f"not a license id: {token!r}")
    return found


# --- SPDX expressions ------------------------------------------------------------------------

Node = str | tuple  # an id, ("WITH", id, exception), ("AND", children) or ("OR", children)
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def _parse(expression: str, leaf=lambda token: token) -> Node:
    """Parse an SPDX expression (OR binds looser than AND; WITH binds tightest)."""
    tokens = _TOKEN.findall(expression)
    position = 0

    def peek() -> str | None:
        return tokens[position].upper() if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise ValueError(f"SPDX expression ends early: {expression!r}")
        position += 1
        return tokens[position - 1]

    def chain(operator: str, operand) -> Node:
        children = [operand()]
        while peek() == operator:
            take()
            children.append(operand())
        return children[0] if len(children) == 1 else (operator, tuple(children))

    def atom() -> Node:
        token = take()
        if token == "(":
            inner = chain("OR", lambda: chain("AND", atom))
            if take() != ")":
                raise ValueError(f"unbalanced parentheses in {expression!r}")
            return inner
        if token.upper() in {"AND", "OR", "WITH", ")"}:
            raise ValueError(f"unexpected {token!r} in {expression!r}")
        spdx = leaf(token)
        if peek() == "WITH":
            take()
            return ("WITH", spdx, take())
        return spdx

    tree = chain("OR", lambda: chain("AND", atom))
    if position != len(tokens):
        raise ValueError(f"unexpected {tokens[position]!r} in {expression!r}")
    return tree


def _serialize(node: Node, parent: str | None = None) -> str:
    if isinstance(node, str):
        return node
    if node[0] == "WITH":
        return f"{node[1]} WITH {node[2]}"
    operator, children = node
    flat: list[str] = []
    for child in children:
        if isinstance(child, tuple) and child[0] == operator:
            flat.extend(_serialize(c, operator) for c in child[1])
        else:
            flat.append(_serialize(child, operator))
    text = f" {operator} ".join(sorted(set(flat)))
    return f"({text})" if parent and len(set(flat)) > 1 else text


def canonical_expression(expression: str) -> str:
    """The expression with operands of each AND/OR sorted and deduplicated, so equal
    expressions compare equal: 'MIT OR Apache-2.0' -> 'Apache-2.0 OR MIT'."""
    return _serialize(_parse(expression))


def license_ids(expression: str | None) -> list[str]:
    """The license ids an expression names (exceptions left out), sorted."""
    if not expression:
        return []
    found: set[str] = set()

    def walk(node: Node) -> None:
        if isinstance(node, str):
            found.add(node)
        elif node[0] == "WITH":
            found.add(node[1])
        else:
            for child in node[1]:
                walk(child)

    walk(_parse(expression))
    return sorted(found)


def license_class(expression: str | None) -> str:
    """The class of an SPDX id or expression: public_domain, permissive, weak_copyleft,
    copyleft or unknown.

    For `A OR B` the licensee may choose, so the most permissive option's class counts; for
    `A AND B` both apply, so the most restrictive one's does. `A WITH exception` has A's
    class. Ids not in classes.yaml, LicenseRef-* ids, NOASSERTION and text that does not
    parse are unknown, which ranks below copyleft: an unknown AND anything stays unknown.
    """
    if not expression or not expression.strip():
        return UNKNOWN
    try:
        tree = _parse(expression.strip())
    except ValueError:
        return UNKNOWN
    return _class_of(tree)


@functools.cache
def license_policies(path: Path = KNOWLEDGE_FILE) -> dict[str, frozenset[str]]:
    """Policy name -> the license classes it accepts (classes.yaml `policies`)."""
    data = _load_knowledge_yaml(path)
    policies = {name: frozenset(classes) for name, classes in (data.get("policies") or {}).items()}
    for name, classes in policies.items():
        unknown = classes - set(CLASS_RANK)
        if unknown:
            raise ValueError(f"{path}: policy {name!r} names unknown classes {sorted(unknown)}")
    return policies


def license_allowed(expression: str | None, policy: str) -> bool:
    """Whether a license (SPDX id or expression) is acceptable under a named policy."""
    policies = license_policies()
    if policy not in policies:
        raise ValueError(f"unknown license policy {policy!r}; policies: {', '.join(policies)}")
    return license_class(expression) in policies[policy]


def _class_of(node: Node) -> str:
    if isinstance(node, str):
        known = knowledge()
        spdx = known.ids_by_lower.get(node.lower(), node)
        if spdx.endswith("+"):
            spdx = known.ids_by_lower.get(f"{spdx[:-1]}-or-later".lower(), spdx)
        return known.classes.get(spdx, UNKNOWN)
    if node[0] == "WITH":
        return _class_of(node[1])
    classes = [_class_of(child) for child in node[1]]
    pick = min if node[0] == "OR" else max
    return pick(classes, key=CLASS_RANK.__getitem__)


# --- license texts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TextSignature:
    """A phrase that only one license's text (or one family's, refined after) contains."""

    license: str  # an SPDX id, or a family name that _refine resolves
    pattern: str  # a regex over the normalized text (lower case, single spaces)


TEXT_SIGNATURES = (
    # A text that names its own SPDX id says it best.
    TextSignature(
        "spdx-id", r"spdx[- ]license[- ](?:identifier|expression):? ?\"?(?P<id>[a-z0-9.+-]+)"
    ),
    TextSignature("AGPL-3.0-only", r"gnu affero general public license,? version 3"),
    TextSignature("LGPL-3.0-only", r"gnu lesser general public license,? version 3"),
    TextSignature("LGPL-2.1-only", r"gnu lesser general public license,? version 2\.1"),
    TextSignature("LGPL-2.0-only", r"gnu library general public license,? version 2"),
    TextSignature("GPL-3.0-only", r"gnu general public license,? version 3, 29 june 2007"),
    TextSignature("GPL-2.0-only", r"gnu general public license,? version 2, june 1991"),
    # The GFDL, its version, "or any later version" and whether it allows invariant sections.
    TextSignature(
        "gfdl",
        r"gnu free documentation license,? (?:\(g?fdl\),? )?(?:either )?(?:version |v\.? ?)?"
        r"(?P<version>1\.[123])(?: of the license)?"
        r"(?P<later>,? or (?:\(at your \w+\) )?any later version)?",
    ),
    # The notice put at the top of GNU-licensed files: names the version and "or later".
    TextSignature(
        "gnu-notice",
        r"under (?:the terms of )?the gnu "
        r"(?P<kind>general|lesser general|library general|affero general)"
        r" public license,? (?:\((?:l|a)?gpl\),? )?(?:as published by the free software "
        r"foundation[;,]? (?:either |in )?)?"
        r"(?:version |v\.? ?)(?P<version>[123](?:\.[01])?)(?: of the license)?"
        r"(?: dated [a-z]+,? \d{4})?"  # "version 2 dated June, 1991" (findutils)
        r"(?P<later>,? (?:or|\(or\)) \(?at your \w+\)? any later version"
        r"|,? or any later version|,? or later|\+)?",
    ),
    # The same notice without a version: any version, as SPDX reads a bare "GPL".
    TextSignature(
        "gnu-any",
        r"under (?:the terms of )?the gnu "
        r"(?P<kind>general|lesser general|library general|affero general)"
        r" public license\b(?!,? (?:\((?:l|a)?gpl\),? )?(?:as published by the free software "
        r"foundation[;,]? (?:either |in )?)?(?:version|v\.? ?\d))",
    ),
    # "the terms of version 3 of the GNU General Public License", "GNU LGPL version 2 or later".
    TextSignature(
        "gnu-short",
        r"(?:terms of )?version (?P<version>[123](?:\.[01])?) of the gnu "
        r"(?P<kind>general|lesser general|library general|affero general) public license"
        r"|\bgnu (?P<short>l?gpl|agpl)(?: ?v| version |-)(?P<version2>[123](?:\.[01])?)"
        r"(?P<later>\+| or later|,? or \(?at your option\)? any later version)?",
    ),
    # Debian's pointers to the shared copies of common licenses (DEP-5 copyright files).
    TextSignature(
        "debian-pointer",
        r"/usr/share/common-licenses/(?P<name>[a-z0-9.+-]*[a-z0-9+])",
    ),
    TextSignature(
        "Apache-2.0",
        r"apache license,? (?:version |v\.? ?)?2(?:\.0)?\b(?!\.\d)|apache\.org/licenses/license-2\.0"
        r"|version 2\.0, january 2004 https?://www\.apache\.org/licenses",
    ),
    TextSignature("Apache-1.1", r"apache software license,? version 1\.1"),
    TextSignature("MPL-2.0", r"mozilla public license,? (?:version |v\. ?)2\.0"),
    TextSignature("MPL-1.1", r"mozilla public license,? (?:version |v\. ?)1\.1"),
    TextSignature("EPL-2.0", r"eclipse public license,? -? ?v(?:ersion)? ?2\.0"),
    TextSignature("EPL-1.0", r"eclipse public license,? -? ?v(?:ersion)? ?1\.0"),
    TextSignature("BSL-1.0", r"boost software license -? ?version 1\.0"),
    TextSignature("CC0-1.0", r"\bcc0 1\.0 universal"),
    # CC0's legal code, whose title is often left off.
    TextSignature(
        "CC0-1.0",
        r"the laws of most jurisdictions throughout the world automatically confer exclusive "
        r"copyright",
    ),
    TextSignature("CC-BY-SA-4.0", r"attribution-sharealike 4\.0 international"),
    TextSignature("CC-BY-4.0", r"\battribution 4\.0 international"),
    TextSignature("CC-BY-SA-3.0", r"attribution-sharealike 3\.0 unported"),
    TextSignature("CC-BY-3.0", r"\battribution 3\.0 unported"),
    # The 1.0-3.0 legal codes begin alike; their license elements tell them apart.
    TextSignature(
        "cc-legalcode",
        r"provided under the terms of this creative commons public license",
    ),
    TextSignature(
        "Unlicense", r"this is free and unencumbered software released into the public domain"
    ),
    TextSignature("WTFPL", r"do what the fuck you want to public license"),
    TextSignature("OFL-1.1", r"sil open font license,? version 1\.1"),
    TextSignature("OFL-1.0", r"sil open font license,? version 1\.0"),
    TextSignature(
        "OFL-1.1", r"the goals of the open font license \(ofl\) are to stimulate worldwide"
    ),
    TextSignature(
        "Beerware",
        r"the beer-?ware license|as long as you retain this notice you can do whatever you "
        r"want with this stuff",
    ),
    TextSignature("openldap", r"the openldap public license,? version (?P<version>\d\.\d)"),
    TextSignature(
        "libtiff",
        r"provided that \(i\) the above copyright notices and this permission notice appear in "
        r"all copies of the software and related documentation, and \(ii\) the names of sam "
        r"leffler and silicon graphics",
    ),
    TextSignature("Artistic-2.0", r"the artistic license 2\.0"),
    TextSignature(
        "Artistic-2.0",
        r"(?:copyright )?\(c\) 2000-2006, the perl foundation\. everyone is permitted to copy",
    ),
    TextSignature(
        "Artistic-1.0",
        r"the intent of this document is to state the conditions under which a package may be "
        r"copied|under the terms of the artistic license\b",
    ),
    TextSignature(
        "Artistic-1.0-Perl OR GPL-1.0-or-later",
        r"under the same terms as perl itself",
    ),
    TextSignature(
        "unicode",
        r"unicode,? inc\.? license agreement|unicode\.org/copyright\.html"
        r"|unicode license v3|permission is hereby granted, free of charge, to any person "
        r"obtaining a copy of the unicode data files",
    ),
    TextSignature("FTL", r"the freetype project license"),
    TextSignature(
        "Libpng",
        r"copyright and license for libpng|this code is released under the libpng license"
        r"|png reference library license version 2",
    ),
    # libpng's grant, in copies without its title (Qt's bundled copy): "source code" in the
    # licenses up to libpng 1.6.35, "software ... conditions" in the PNG Reference Library
    # License version 2.
    TextSignature(
        "libpng-grant",
        r"permission is hereby granted to use, copy, modify, and distribute this (?:source code|"
        r"software), or portions hereof, for any purpose, without fee, subject to the following "
        r"(?P<terms>restrictions|conditions)",
    ),
    TextSignature(
        "FSFAP",
        r"copying and distribution of this file, with or without modification, are permitted "
        r"in any medium without royalty provided the copyright notice and this notice are "
        r"preserved",
    ),
    TextSignature(
        "FSFULLR",
        r"this [\w.-]+ is free software; the free software foundation gives unlimited permission "
        r"to copy and/or distribute it, with or without modifications, as long as this notice "
        r"is preserved",
    ),
    TextSignature(
        "FSFUL",
        r"this (?:configure )?script is free software; the free software foundation gives "
        r"unlimited permission to copy, distribute and modify it",
    ),
    TextSignature(
        "Vim",
        r"there are no restrictions on distributing unmodified copies of vim",
    ),
    TextSignature(
        "PSF-2.0",
        r"python software foundation license,? version 2"
        r"|license agreement is between the python software foundation",
    ),
    # The PSF agreement reused with another licensor's name (matplotlib's license).
    TextSignature(
        "PSF-2.0",
        r"license agreement is between the [^.]{1,80}?,? and the individual or organization "
        r"\(\"licensee\"\)",
    ),
    TextSignature(
        "Zlib",
        r"permission is granted to anyone to use this software for any purpose, including "
        r"commercial applications, and to alter it and redistribute it freely",
    ),
    # The ISC grant (no "and its documentation"): ISC, 0BSD, curl, dtoa and the ISC grant
    # without its notice condition, told apart by what follows the grant.
    TextSignature(
        "isc-family",
        r"permission to use, copy, modify, and(?:/or)? distribute this software for any purpose "
        r"(?:with or without|and without|without) fee is hereby granted",
    ),
    TextSignature(
        "mit-family",
        r"permission is hereby granted, free of charge, to any person obtaining a copy",
    ),
    # HarfBuzz's and others' "Old MIT": no fee, two paragraphs kept in all copies.
    TextSignature(
        "MIT-Modern-Variant",
        r"permission is hereby granted, without written agreement and without license or "
        r"royalty fees, to use, copy, modify, and distribute this software",
    ),
    TextSignature(
        "bsd-family",
        r"redistribution and use(?: of [^,.]{1,40}?)? in source and binary forms(?: of [^,.]{1,40})?"
        r"(?:,? with or without modification,?)? (?:are|is) permitted,? provided that",
    ),
    # The Historical Permission Notice and its variants (MIT-CMU, NTP, the "and sell" and
    # US-export variants): the grant names the documentation too.
    TextSignature(
        "hpnd-family",
        r"permission to use, copy, modify,? and distribute this software and its (?:associated )?"
        r"documentation (?:for any purpose )?(?:and |with or )?without fee is hereby granted"
        r"|permission to use, copy, modify, distribute,? and sell this "
        r"(?:software and its (?:associated )?documentation|file) for any purpose is hereby "
        r"granted without fee",
    ),
    # The PostgreSQL license: the University of California's Postgres95 grant, "without a
    # written agreement", its notice "and the following two paragraphs" kept in all copies.
    TextSignature(
        "PostgreSQL",
        r"permission to use, copy, modify, and distribute this software and its documentation "
        r"for any purpose, without fee, and without a written agreement is hereby granted, "
        r"provided that the above copyright notice and this paragraph and the following two "
        r"paragraphs appear in all copies",
    ),
    TextSignature(
        "hpnd-export",
        r"export of this software from the united states of america (?:may|is assumed to) "
        r"require a specific license",
    ),
    # Public-domain statements: a dedication, release or placing "in/into/to the public domain"
    # (by its author, "hereby", or in the passive; not "your modifications", not "not"), a
    # waiver or disclaimer of copyright, "no copyright is claimed", works with nothing to
    # copyright and a "Public domain." line (see _PUBLIC_DOMAIN_LINE).
    TextSignature(
        "PublicDomain",
        r"(?<!\bnot )(?<!\bnever )(?:dedicate[sd]?|release[sd]?|place[sd]?|put)"
        r"(?: (?:it|them|(?:this|the|these|all|my|our|his|her|their) (?:[\w-]+ ){0,2}?[\w-]+))?"
        r"(?: hereby)? (?:in|into|to|on) the public domain"
        r"|\b(?:i|we|hereby)\b[^.]{0,40}?\b(?:place|dedicate|release|put)[sd]?\b"
        r"(?:(?!\byour\b)[^.]){0,60}?\b(?:in|into|to) the public domain"
        r"|\b(?:is|are|was|were|been|being) (?:hereby )?(?:placed|dedicated|released|put)\b"
        r"(?:(?!\byour\b)[^.]){0,40}?\b(?:in|into|to) the public domain"
        r"|\b(?:is|are) (?:hereby )?public domain\b|\bdisclaims? copyright"
        r"|^(?:100% )?public domain\.?$"
        r"|\b(?:is|are|it's) (?:hereby )?(?:placed )?in the public domain|no copyright is claimed"
        r"|\bcopyright (?:is|are) (?:hereby )?(?:waived|disclaimed|abandoned)"
        r"|\bhereby waives?\b[^.]{0,40}?\bcopyright"
        # US government works and files with nothing to copyright.
        r"|\b(?:not|never) (?:to )?(?:assert|claim) (?:any )?copyright"
        r"|\b(?:not|hardly|no|none)\b[^.]{0,60}?\b(?:eligible for|subject to) copyright"
        # "2010-03-12 : Igor Pavlov : Public domain": a dated attribution line.
        r"|: public domain(?:[.;,]|$| [-(]| this\b)"
        # Works whose copyright ran out ("Copyright protection expired. From Alice...").
        r"|\bcopyright (?:protection |term )?(?:has )?(?:expired|lapsed)",
    ),
    # "No Rights Reserved" is Creative Commons' own name for CC0 (its deed's title); "some
    # rights reserved" (CC BY's) and "all rights reserved" are other words.
    TextSignature("CC0-1.0", r"(?<!\bsome )(?<!\ball )\bno rights reserved\b"),
    # CC0's own notice ("have dedicated all copyright and related and neighboring rights to
    # this software to the public domain worldwide"), its deed's address and its name.
    TextSignature(
        "CC0-1.0",
        r"dedicated all copyright and related and neighbou?ring rights to [^.]{1,60}? to the "
        r"public domain|creativecommons\.org/publicdomain/zero/1\.0|\bcc0 public domain dedication",
    ),
    TextSignature(
        "BSL-1.0",
        r"permission is hereby granted, free of charge, to any person or organization obtaining a "
        r"copy of the software and accompanying documentation covered by this license",
    ),
    TextSignature(
        "Artistic-2.0",
        r"this license establishes the terms under which a given free software package may be "
        r"copied, modified, distributed, and/or redistributed",
    ),
    # Well-known texts by a sentence of their body, for copies whose title or first grant is
    # missing or reworded; each comes after the text's own grant, so the grant decides first.
    TextSignature(
        "mit-body",
        r"the above copyright notice and this permission notice shall be included in all copies "
        r"or substantial portions of the software",
    ),
    TextSignature(
        "Zlib",
        r"the origin of this software must not be misrepresented; you must not claim that you "
        r"wrote the original software",
    ),
    TextSignature(
        "bsd-family",
        r"redistributions of source code must retain the above copyright notice",
    ),
    TextSignature(
        "Apache-2.0",
        r"grant of copyright license\. subject to the terms and conditions of this license, each "
        r"contributor hereby grants",
    ),
)
# Debian's /usr/share/common-licenses names, and what they hold.
_DEBIAN_COMMON = {
    "apache-2.0": "Apache-2.0",
    "artistic": "Artistic-1.0",
    "bsd": "BSD-3-Clause",
    "cc0-1.0": "CC0-1.0",
    "gfdl": "GFDL-1.3-or-later",
    "gfdl-1.2": "GFDL-1.2-only",
    "gfdl-1.3": "GFDL-1.3-only",
    "gpl": "GPL-1.0-or-later",
    "gpl-1": "GPL-1.0-only",
    "gpl-2": "GPL-2.0-only",
    "gpl-3": "GPL-3.0-only",
    "lgpl": "LGPL-2.0-or-later",
    "lgpl-2": "LGPL-2.0-only",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-3": "LGPL-3.0-only",
    "mpl-1.1": "MPL-1.1",
    "mpl-2.0": "MPL-2.0",
}
_COMPILED = tuple((s.license, re.compile(s.pattern)) for s in TEXT_SIGNATURES)
_BSD_NO_ENDORSEMENT = re.compile(
    r"neither the name|names? of .{0,160}? (?:may|must|shall) not be used to endorse"
    r"|(?:may|must|shall) not be used to endorse"
)
_GNU_PREFIX = {"general": "GPL", "lesser general": "LGPL", "library general": "LGPL"}


_COMMENT_LEADER = re.compile(r"^\s*(?:#+|//+|/?\*+/?|--|;+|\.\.|%+|dnl\b|>+)\s?")


def _normalize_text(text: str) -> str:
    """Lower case; comment leaders (# // * -- ; .. % dnl >), DEP-5's ' .' blank-line marks
    and markup stripped; a word hyphenated over two lines ("with-" / "out") joined; whitespace
    (tabs, no-break spaces) collapsed to single spaces."""
    lines = [_COMMENT_LEADER.sub("", line) for line in text.splitlines()]
    lines = ["" if line.strip() == "." else line for line in lines]
    flat = ""
    for line in lines:
        if re.search(r"[a-z]-\s*$", flat) and re.match(r"\s*[a-z]", line):
            flat = flat.rstrip()[:-1] + line.strip()  # "with-" / "out": a typesetter's break
        else:
            flat += " " + line
    flat = flat.strip().lower()
    flat = flat.translate(
        str.maketrans(
            {
                "\u2018": "'",
                "\u2019": "'",
                "\u201c": '"',
                "\u201d": '"',
                "\u2013": "-",
                "\u2014": "-",
                "\u00a9": "(c)",
            }
        )
    )
    flat = re.sub(r"\blicenc(e[sd]?|ing)\b", r"licens\1", flat)  # British spelling
    return re.sub(r"\s+", " ", flat)


def detect_license_text(text: str) -> str | None:
    """The SPDX id of the license a LICENSE/COPYING file (or a file's notice) states, or None.

    Each license is recognised by a phrase of its text (`TEXT_SIGNATURES`): the MIT
    permission grant (with its attribution condition; without it, MIT-0), the Apache 2.0
    title or notice, the BSD redistribution clause (4 clauses with the advertising clause,
    3 with a no-endorsement clause, else 2), the GNU titles with their version lines and the
    GNU per-file notices with "or (at your option) any later version"... When a file holds
    several licenses (a project's license followed by its bundled libraries'), the one
    stated first is the file's license.
    """
    normalized = _normalize_text(text)
    best: tuple[int, str] | None = None
    for family, pattern in _COMPILED:
        match = pattern.search(normalized)
        if match and (best is None or match.start() < best[0]):
            spdx = _refine(family, normalized, match)
            if spdx:
                best = (match.start(), spdx)
    if best:
        return best[1]
    if _PUBLIC_DOMAIN_LINE.search(text):
        return "PublicDomain"
    return _named_in_a_notice(normalized)


# A line that says only "Public domain." (a file header's license line), when nothing else does.
_PUBLIC_DOMAIN_LINE = re.compile(
    r"(?im)^[\s#*/;%-]*(?:license:\s*)?(?:this (?:file|code|software|program|work) is )?"
    r"(?:in the )?public[- ]domain(?: software| code)?\.?\s*$"
)


# "is licensed under the MIT license", "released under the terms of the Apache License 2.0":
# a notice that names its license instead of stating it.
_NOTICE = re.compile(
    r"\b(?:licen[cs]ed|released|distributed|available|provided|covered) (?:to you )?under "
    r"(?:the )?(?:terms of )?(?:the )?(?P<name>[a-z0-9][a-z0-9 .+/-]{0,50}?)"
    r"(?: licen[cs]e\b| public licen[cs]e\b|[,;:(]|\.(?:\s|$)|$)"
)


def _named_in_a_notice(normalized: str) -> str | None:
    for match in _NOTICE.finditer(normalized[:4000]):
        name = match.group("name").strip()
        for candidate in (f"{name} license", name):
            spdx = _lookup(candidate)
            if spdx:
                return spdx
    return None


def _refine(family: str, text: str, match: re.Match) -> str | None:
    after = text[match.end() : match.end() + 2000]
    if family == "spdx-id":
        return normalize_license(match.group("id"))
    if family == "debian-pointer":
        return _DEBIAN_COMMON.get(match.group("name"))
    if family == "gfdl":
        invariants = "no invariant sections" not in text
        later = "or-later" if match.group("later") else "only"
        kind = "invariants" if invariants and "invariant sections" in text else ""
        if not invariants:
            kind = "no-invariants"
        return f"GFDL-{match.group('version')}{'-' + kind if kind else ''}-{later}"
    if family == "gnu-short":
        kind = match.group("kind") or {"gpl": "general", "lgpl": "lesser general"}.get(
            match.group("short") or "", "affero general"
        )
        prefix = "AGPL" if kind.startswith("affero") else _GNU_PREFIX[kind]
        version = match.group("version") or match.group("version2")
        version = version if "." in version else f"{version}.0"
        return f"{prefix}-{version}-{'or-later' if match.group('later') else 'only'}"
    if family == "openldap":
        return f"OLDAP-{match.group('version')}"
    if family == "isc-family":
        condition = after[:200]
        if condition.startswith(", provided that this entire notice is included"):
            return "dtoa"
        if not condition.startswith(", provided"):
            # Nothing asked of the licensee: 0BSD's exact grant, else ISC's grant without its
            # notice condition (Debian: ISC-no-attribution), still ISC's family.
            return "0BSD" if "and/or distribute" in match.group(0) else "ISC"
        copyright_holder = "except as contained in this notice, the name of a copyright holder"
        return "curl" if copyright_holder in after else "ISC"
    if family == "gnu-any":
        kind = match.group("kind")
        # "under the terms of the GNU GPL" ... "the complete text ... common-licenses/GPL-2":
        # the version the text names later decides.
        prefix = "AGPL" if kind.startswith("affero") else _GNU_PREFIX[kind]
        pointer = re.search(r"/usr/share/common-licenses/([a-z0-9.+-]*[a-z0-9+])", after)
        if pointer and _DEBIAN_COMMON.get(pointer.group(1), "").startswith(prefix):
            return _DEBIAN_COMMON[pointer.group(1)]
        return {
            "general": "GPL-1.0-or-later",
            "lesser general": "LGPL-2.0-or-later",
            "library general": "LGPL-2.0-or-later",
        }.get(kind, "AGPL-3.0-or-later")
    if family == "cc-legalcode":
        elements = text[match.end() : match.end() + 20000]
        version = re.search(r"creative commons (?:[a-z-]+ )?(\d\.\d)", text)
        number = version.group(1) if version else "3.0"
        if "noncommercial" in elements or "non-commercial" in elements:
            return f"CC-BY-NC-{number}"
        if "noderivs" in elements or "no derivative" in elements:
            return f"CC-BY-ND-{number}"
        if "sharealike" in elements or "share alike" in elements:
            return f"CC-BY-SA-{number}"
        return f"CC-BY-{number}"
    if family == "unicode":
        return "Unicode-3.0" if "unicode license v3" in text else "Unicode-DFS-2016"
    if family == "mit-family":
        if after.startswith(" of the font software"):
            return "OFL-1.1"  # the OFL's own grant, in copies without its title or preamble
        if "shall be included in all copies" not in after[:800]:
            return "MIT-0"
        # X11: MIT plus the clause that keeps the holder's name out of advertising.
        return "X11" if "shall not be used in advertising" in after else "MIT"
    if family == "libpng-grant":
        return "libpng-2.0" if match.group("terms") == "conditions" else "Libpng"
    if family == "mit-body":
        return "X11" if "shall not be used in advertising" in after else "MIT"
    if family == "bsd-family":
        if "the origin of this software must not be misrepresented" in after[:1500]:
            return "bzip2-1.0.6"  # BSD's frame with zlib's clauses
        conditions, disclaimer, _ = after[:1500].partition(" is provided by ")
        if (
            disclaimer
            and "redistributions of source code" in match.group(0) + conditions
            and not re.search(r"redistributions? in binary form|binary form must", conditions)
        ):
            return "BSD-1-Clause"  # the conditions end with the source-code one alone
        if "all advertising materials mentioning" in after:
            return "BSD-4-Clause"
        if re.search(
            r"redistributions of any form whatsoever must retain the following acknowledg", after
        ):
            return "BSD-3-Clause-Attribution"
        return "BSD-3-Clause" if _BSD_NO_ENDORSEMENT.search(after) else "BSD-2-Clause"
    if family == "hpnd-family":
        grant = match.group(0)
        if re.search(r"\(ii\) the names of [^.]{0,40}?sam leffler", after[:400]):
            return "libtiff"  # libtiff's grant is the "and sell" one, its conditions its own
        if "and sell" in grant:
            return "HPND-sell-variant"
        if "with or without fee" in grant:
            return "NTP"
        rest = after[:1500]
        # MIT-CMU is HPND without its "makes no representations about the suitability" line.
        if "not be used in advertising" in rest and "makes no representations" not in rest:
            return "MIT-CMU"
        return "HPND"
    if family == "hpnd-export":
        modify = "if you modify this software you must label your software as modified"
        return "HPND-export-US-modify" if modify in after else "HPND-export-US"
    if family == "gnu-notice":
        kind = match.group("kind")
        prefix = "AGPL" if kind.startswith("affero") else _GNU_PREFIX[kind]
        version = match.group("version")
        version = version if "." in version else f"{version}.0"
        if prefix == "LGPL" and version == "2.0" and kind == "lesser general":
            # The Lesser GPL starts at 2.1: "version 2" alone there is a typo, "version 2 or
            # later" says what it says.
            version = "2.0" if match.group("later") else "2.1"
        return f"{prefix}-{version}-{'or-later' if match.group('later') else 'only'}"
    return family


_SPDX_HEADER = re.compile(r"SPDX-License-Identifier:[ \t]*([^\r\n]+)")
_HEADER_END = re.compile(r"\s*(?:\*/|-->|\*\)|#\}|%>|\"\"\"|''')")


def spdx_header(text: str) -> str | None:
    """The license of the first `SPDX-License-Identifier:` line in text, normalized; None when
    there is no such line or its value is not a license expression."""
    match = _SPDX_HEADER.search(text)
    if not match:
        return None
    value = _HEADER_END.split(match.group(1))[0].strip().strip("\"'")
    return normalize_license(value)


# --- a project's license files ---------------------------------------------------------------

_LICENSE_FILE = re.compile(r"(?:un)?licen[cs]es?|copying|copyright", re.IGNORECASE)
# LICENSE.external, LICENSE-THIRD-PARTY...: the licenses of bundled code, not the project's.
_THIRD_PARTY = re.compile(r"third|3rd|external|vendor|bundled", re.IGNORECASE)
# license.py, licenses.json...: code or data about licenses, not a license text.
_CODE_SUFFIX = re.compile(
    r"\.(?:py|js|ts|go|rs|c|h|java|rb|php|json|ya?ml|toml|html|css|sh)$", re.I
)
_DUAL_POINTER = re.compile(r"\beither\b|dual[- ]licen|at your (?:option|choice)|your choice of")


def is_license_file_name(name: str) -> bool:
    """LICENSE, LICENCE.txt, COPYING, LICENSE-MIT, LICENSE_GPL2.0.txt, UNLICENSE, COPYRIGHT..."""
    stem = re.split(r"[-._ ]", name, maxsplit=1)[0]
    return (
        bool(_LICENSE_FILE.fullmatch(stem))
        and not _THIRD_PARTY.search(name)
        and not _CODE_SUFFIX.search(name)
    )


def _named_for_a_license(name: str) -> bool:
    """LICENSE-MIT, LICENSE.APACHE, LICENSE_GPL2.0.txt: not just LICENSE(.txt|.md|.rst)."""
    rest = re.split(r"[-._ ]", name, maxsplit=1)[1:]
    return bool(rest) and rest[0].lower() not in {"txt", "md", "rst"}


def detect_license_files(files: Mapping[str, str]) -> tuple[str | None, tuple[str, ...]]:
    """The license a project's root license files state, and which files said so.

    One recognised license is the answer. Several are alternatives (OR) when a file that
    states none of them points at the others with "either", "dual licensed" or "at your
    option" (cryptography, tld), or when every file that states one is named for its
    license (LICENSE-MIT + LICENSE-APACHE, the Rust and PyPA convention); otherwise all
    apply (AND: a LICENSE plus a LICENSE.PSF for code taken from CPython).
    """
    found: list[tuple[str, str]] = []
    pointers: list[str] = []
    for name in sorted(files):
        spdx = detect_license_text(files[name])
        if spdx:
            found.append((name, spdx))
        else:
            pointers.append(files[name])
    if not found:
        return None, ()
    names = tuple(name for name, _ in found)
    ids = sorted({spdx for _, spdx in found})
    if len(ids) == 1:
        return ids[0], names
    dual = any(_DUAL_POINTER.search(_normalize_text(text)[:3000]) for text in pointers) or all(
        _named_for_a_license(name) for name in names
    )
    return canonical_expression((" OR " if dual else " AND ").join(ids)), names


@dataclass(frozen=True)
class LicenseDecision:
    """A license and the evidence for it, as recorded in a row's license_evidence."""

    license: str
    evidence: str


def decide_license(
    full_text: str | None, files: tuple[str, ...], notices: Mapping[str, str | None]
) -> LicenseDecision | None:
    """The license of a work from its full license text(s) and its notices (SPDX headers,
    package metadata, README lines: where -> the license they name).

    The full text decides: it is the grant itself, a notice only points at one. Where a notice
    names another license, both are recorded: `detected:LICENSE; notice metadata:setup.cfg
    says MIT, the full text decides`. Without a full text the first notice decides.
    """
    named = {where: spdx for where, spdx in notices.items() if spdx}
    if full_text:
        evidence = f"detected:{','.join(files)}"
        disagreeing = [
            f"notice {where} says {spdx}"
            for where, spdx in named.items()
            if _same_license(spdx, full_text) is False
        ]
        if disagreeing:
            evidence += "; " + "; ".join(disagreeing) + ", the full text decides"
        return LicenseDecision(full_text, evidence)
    for where, spdx in named.items():
        return LicenseDecision(spdx, where)
    return None


def _same_license(a: str, b: str) -> bool | None:
    """Whether two expressions name the same licenses (None: one does not parse)."""
    try:
        return canonical_expression(a) == canonical_expression(b)
    except ValueError:
        return None
