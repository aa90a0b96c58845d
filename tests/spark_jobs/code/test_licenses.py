"""License knowledge: names to SPDX ids, classes of expressions, license texts, and agreement of
the text detector with the declared metadata of the distributions installed here."""

from __future__ import annotations

import importlib.metadata as md
import re
from dataclasses import dataclass

import pytest

from spark_jobs.licenses import (
    canonical_expression,
    detect_license_files,
    detect_license_text,
    is_license_file_name,
    license_class,
    license_ids,
    normalize_license,
    spdx_header,
)
from spark_jobs.licenses.spdx import knowledge


@pytest.mark.parametrize(
    ("name", "spdx"),
    [
        ("MIT License", "MIT"),
        ("License :: OSI Approved :: MIT License", "MIT"),
        ("Apache Software License", "Apache-2.0"),
        ("Apache 2.0", "Apache-2.0"),
        ("Apache License, Version 2.0", "Apache-2.0"),
        ("BSD", "BSD-3-Clause"),
        ("new BSD", "BSD-3-Clause"),
        ("The BSD 2-Clause License", "BSD-2-Clause"),
        ("GNU GPLv3", "GPL-3.0-only"),
        (
            "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)",
            "GPL-3.0-or-later",
        ),
        ("GPL-2.0+", "GPL-2.0-or-later"),  # deprecated SPDX ids are updated
        ("LGPL-2.1", "LGPL-2.1-only"),
        ("License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0"),
        ("Python Software Foundation License", "PSF-2.0"),
        ("License :: OSI Approved :: ISC License (ISCL)", "ISC"),
        ("zlib/libpng", "Zlib"),
        ("Public Domain", "PublicDomain"),
        ("mit or Apache 2.0", "Apache-2.0 OR MIT"),
        ("MIT/Apache-2.0", "Apache-2.0 OR MIT"),
        ("MPL-1.1 OR GPL-2.0-only", "GPL-2.0-only OR MPL-1.1"),
        ("Dual License", None),
        ("License :: OSI Approved", None),
        ("", None),
    ],
)
def test_free_form_names_normalize_to_spdx(name: str, spdx: str | None) -> None:
    assert normalize_license(name) == spdx


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("MIT", "permissive"),
        ("CC0-1.0", "public_domain"),
        ("MPL-2.0", "weak_copyleft"),
        ("GPL-3.0-or-later", "copyleft"),
        ("GPL-2.0+", "copyleft"),
        ("MIT OR GPL-3.0-only", "permissive"),  # OR: the licensee picks the most permissive
        ("MIT AND GPL-3.0-only", "copyleft"),  # AND: the most restrictive applies
        ("(MIT OR GPL-2.0-only) AND LGPL-2.1-only", "weak_copyleft"),
        ("Apache-2.0 WITH LLVM-exception", "permissive"),
        ("MIT AND LicenseRef-proprietary", "unknown"),
        ("NOASSERTION", "unknown"),
        ("not an expression (", "unknown"),
    ],
)
def test_license_class_of_expressions(expression: str, expected: str) -> None:
    assert license_class(expression) == expected


def test_every_registered_id_has_one_known_class() -> None:
    classes = knowledge().classes
    for spdx in ("MIT", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "ISC", "PSF-2.0"):
        assert classes[spdx] == "permissive"
    for spdx in ("Python-2.0", "Zlib", "BSL-1.0", "0BSD", "HPND", "OFL-1.1", "CC-BY-4.0"):
        assert classes[spdx] == "permissive"
    assert {classes[s] for s in ("Unlicense", "CC0-1.0", "PublicDomain")} == {"public_domain"}
    assert {classes[s] for s in ("LGPL-2.1-only", "LGPL-3.0-or-later", "EPL-2.0")} == {
        "weak_copyleft"
    }
    assert {classes[s] for s in ("GPL-2.0-only", "AGPL-3.0-only", "CC-BY-SA-4.0")} == {"copyleft"}
    assert license_class("AGPL-3.0") == "copyleft"  # a deprecated id still classifies


def test_canonical_expression_orders_operands() -> None:
    assert canonical_expression("MIT OR Apache-2.0") == "Apache-2.0 OR MIT"
    assert canonical_expression("(MIT OR Apache-2.0) AND Zlib") == "(Apache-2.0 OR MIT) AND Zlib"
    assert license_ids("(MIT OR Apache-2.0) AND GPL-2.0-only WITH Classpath-exception-2.0") == [
        "Apache-2.0",
        "GPL-2.0-only",
        "MIT",
    ]


BSD_HEAD = """Copyright (c) 2020, Someone
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.
"""
NEITHER = """3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.
"""
DISCLAIMER = 'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"\n'


def test_bsd_clause_count_comes_from_the_no_endorsement_clause() -> None:
    assert detect_license_text(BSD_HEAD + DISCLAIMER) == "BSD-2-Clause"
    assert detect_license_text(BSD_HEAD + NEITHER + DISCLAIMER) == "BSD-3-Clause"


def test_gnu_versions_and_or_later_notices() -> None:
    assert detect_license_text("GNU GENERAL PUBLIC LICENSE\n   Version 2, June 1991\n") == (
        "GPL-2.0-only"
    )
    assert detect_license_text("  GNU GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007\n") == (
        "GPL-3.0-only"
    )
    assert detect_license_text("GNU LESSER GENERAL PUBLIC LICENSE\nVersion 2.1, February 1999") == (
        "LGPL-2.1-only"
    )
    notice = (
        "# This program is free software: you can redistribute it and/or modify\n"
        "# it under the terms of the GNU General Public License as published by\n"
        "# the Free Software Foundation, either version 3 of the License, or\n"
        "# (at your option) any later version.\n"
    )
    assert detect_license_text(notice) == "GPL-3.0-or-later"
    assert detect_license_text(notice.replace("General", "Lesser General")) == "LGPL-3.0-or-later"


def test_mit_apache_and_public_domain_texts() -> None:
    mit = (
        "Permission is hereby granted, free of charge, to any person obtaining a copy of this "
        "software ... subject to the following conditions:\n\nThe above copyright notice and "
        "this permission notice shall be included in all copies or substantial portions."
    )
    assert detect_license_text(mit) == "MIT"
    assert detect_license_text(mit.split("subject to")[0] + "THE SOFTWARE IS PROVIDED") == "MIT-0"
    assert detect_license_text(
        "                Apache License\n          Version 2.0, January 2004"
    ) == ("Apache-2.0")
    assert detect_license_text(
        "This is free and unencumbered software released into the public domain."
    ) == ("Unlicense")
    assert detect_license_text("Copyright (c) 2024 Someone. All rights reserved.") is None


def test_a_file_stating_several_licenses_is_its_first_one() -> None:
    # numpy's LICENSE.txt: the project's BSD text, then its bundled libraries' licenses.
    text = (
        BSD_HEAD
        + NEITHER
        + "\n----\nThe bundled libgfortran is GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007"
    )
    assert detect_license_text(text) == "BSD-3-Clause"


def test_spdx_headers() -> None:
    assert spdx_header("/* SPDX-License-Identifier: GPL-2.0-or-later */\nint x;") == (
        "GPL-2.0-or-later"
    )
    assert spdx_header("#!/bin/sh\n# SPDX-License-Identifier: MIT OR Apache-2.0\n") == (
        "Apache-2.0 OR MIT"
    )
    assert spdx_header("<!-- SPDX-License-Identifier: CC-BY-4.0 -->") == "CC-BY-4.0"
    assert spdx_header("no header here") is None


def test_license_file_combinations() -> None:
    mit = "Permission is hereby granted, free of charge, to any person obtaining a copy ... shall be included in all copies"
    apache = "Apache License\nVersion 2.0, January 2004"
    assert detect_license_files({"LICENSE-MIT": mit, "LICENSE-APACHE": apache}) == (
        "Apache-2.0 OR MIT",
        ("LICENSE-APACHE", "LICENSE-MIT"),
    )
    pointer = "This software is made available under the terms of *either* of the licenses found in LICENSE.APACHE or LICENSE.MIT."
    assert detect_license_files({"LICENSE": pointer, "LICENSE.APACHE": apache, "LICENSE.MIT": mit})[
        0
    ] == ("Apache-2.0 OR MIT")
    # A generic LICENSE plus a second file without any "either": both apply.
    assert detect_license_files(
        {"LICENSE": mit, "LICENSE.PSF": "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2"}
    )[0] == ("MIT AND PSF-2.0")
    assert detect_license_files({"LICENSE": "All rights reserved."}) == (None, ())
    assert is_license_file_name("COPYING") and is_license_file_name("LICENSE_GPL2.0.txt")
    assert not is_license_file_name("LICENSE.external")  # bundled code's licenses
    assert not is_license_file_name("license.py")  # a module, not a license text


# --- agreement with the installed distributions' declared licenses ---------------------------


@dataclass(frozen=True)
class Comparison:
    distribution: str
    detected: str | None  # from the dist-info license files' text
    declared: tuple[str, ...]  # License-Expression, else License field + classifiers, normalized
    files: tuple[str, ...]

    @property
    def agrees(self) -> bool:
        """Every license the files state is one the metadata declares (the metadata may list
        more: bundled code's licenses are declared but usually not in the root files). The
        -only / -or-later suffix is not compared: a license text does not say which."""
        detected = {_family(i) for i in license_ids(self.detected)}
        declared = {_family(i) for e in self.declared for i in license_ids(e)}
        return bool(detected) and detected <= declared


def _family(spdx: str) -> str:
    return re.sub(r"(-only|-or-later|\+)$", "", spdx)


def _declared(metadata) -> tuple[str, ...]:
    if metadata.get("License-Expression"):
        return tuple(filter(None, [normalize_license(metadata["License-Expression"])]))
    names = [metadata.get("License") or ""]
    names = [n for n in names if n and len(n) <= 200 and n.count("\n") <= 2]  # not a pasted text
    names += [c for c in metadata.get_all("Classifier") or [] if c.startswith("License ::")]
    return tuple(filter(None, (normalize_license(n) for n in names)))


def _compare_installed() -> list[Comparison]:
    comparisons: dict[str, Comparison] = {}
    for dist in md.distributions():
        name = dist.metadata["Name"]
        if not name or name.lower() in comparisons:
            continue
        files = {}
        for path in dist.files or []:
            parts = path.parts
            at_root = len(parts) == 2 or (len(parts) == 3 and parts[1] == "licenses")
            if parts[0].endswith(".dist-info") and at_root and is_license_file_name(parts[-1]):
                files[parts[-1]] = dist.locate_file(path).read_text(errors="replace")
        declared = _declared(dist.metadata)
        if files and declared:
            detected, _ = detect_license_files(files)
            comparisons[name.lower()] = Comparison(name, detected, declared, tuple(sorted(files)))
    return sorted(comparisons.values(), key=lambda c: c.distribution.lower())


def test_detection_agrees_with_declared_metadata_of_installed_distributions() -> None:
    comparisons = _compare_installed()
    agreeing = [c for c in comparisons if c.agrees]
    share = len(agreeing) / len(comparisons)
    classes_agree = sum(
        license_class(c.detected) == license_class(" AND ".join(f"({d})" for d in c.declared))
        for c in agreeing
    )
    print(
        f"\nlicense detection vs declared metadata: {len(agreeing)}/{len(comparisons)} "
        f"distributions agree ({share:.1%}); license class equal for {classes_agree} of them"
    )
    for miss in (c for c in comparisons if not c.agrees):
        print(
            f"  miss: {miss.distribution}: files {miss.files} say {miss.detected}, "
            f"metadata says {' | '.join(miss.declared)}"
        )
    assert len(comparisons) >= 30
    assert share >= 0.95
