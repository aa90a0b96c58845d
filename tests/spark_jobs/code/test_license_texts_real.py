"""License texts as real sources write them (excerpts of Debian DEP-5 copyright files and
upstream license files): each is recognised as its license, and a notice that disagrees with the
full text is recorded beside the full text's verdict."""

from __future__ import annotations

import pytest

from spark_jobs.code.reader import RepoSurvey, detect_repo_license
from spark_jobs.ingest import _overridden_license
from spark_jobs.licenses import decide_license, detect_license_text, license_class
from spark_jobs.sources import LicenseOverride, Source

TEXTS = [
    (
        "Permission is granted to copy, distribute and/or modify this document\n"
        "under the terms of the GNU Free Documentation License, Version 1.3\n"
        "or any later version published by the Free Software Foundation;\n"
        "with no Invariant Sections, no Front-Cover Texts, and no Back-Cover Texts.",
        "GFDL-1.3-no-invariants-or-later",
    ),
    (
        "On Debian systems, the complete text of the GNU General Public\n"
        "License version 2 can be found in `/usr/share/common-licenses/GPL-2'.",
        "GPL-2.0-only",
    ),
    (
        "This program is free software; you can redistribute it and/or modify\n"
        "it under the terms of the GNU General Public License, v2, as\n"
        "published by the Free Software Foundation",
        "GPL-2.0-only",
    ),
    (
        "it under the terms of version 3 of the GNU General Public License as\n"
        "published by the Free Software Foundation.",
        "GPL-3.0-only",
    ),
    ("Released under the GNU LGPL version 2 or later", "LGPL-2.0-or-later"),
    (
        "This file may be redistributed under the terms of the\nGNU Lesser General Public License.",
        "LGPL-2.0-or-later",
    ),
    (
        "PREAMBLE\nThe goals of the Open Font License (OFL) are to stimulate worldwide\n"
        "development of collaborative font projects",
        "OFL-1.1",
    ),
    (
        "Distributed under the Terms of Use in\n<http://www.unicode.org/copyright.html>.\n\n"
        "Permission is hereby granted, free of charge, to any person obtaining\na copy of the "
        "Unicode data files and any associated documentation",
        "Unicode-DFS-2016",
    ),
    (
        "Copying and distribution of this file, with or without modification,\nare permitted in "
        "any medium without royalty provided the copyright notice\nand this notice are "
        "preserved.",
        "FSFAP",
    ),
    (
        "This Makefile.in is free software; the Free Software Foundation\ngives unlimited "
        "permission to copy and/or distribute it,\nwith or without modifications, as long as "
        "this notice is preserved.",
        "FSFULLR",
    ),
    (
        "This library is free software; you can redistribute it and/or modify\n"
        "it under the same terms as Perl itself.",
        "Artistic-1.0-Perl OR GPL-1.0-or-later",
    ),
    (
        "Permission to use, copy, modify, and distribute this software for any purpose\nwith or "
        "without fee is hereby granted, provided that the above copyright\nnotice and this "
        "permission notice appear in all copies.\n\nExcept as contained in this notice, the name "
        "of a copyright holder shall not\nbe used in advertising",
        "curl",
    ),
    (
        "Permission is hereby granted, free of charge, to any person obtaining a copy of this "
        "software ... The above copyright notice and this permission notice shall be included "
        "in all copies ... Except as contained in this notice, the name of the X Consortium "
        "shall not be used in advertising",
        "X11",
    ),
    (
        "Permission is hereby granted, without written agreement and without\nlicense or "
        "royalty fees, to use, copy, modify, and distribute this\nsoftware and its "
        "documentation for any purpose",
        "MIT-Modern-Variant",
    ),
    (
        '"THE BEER-WARE LICENSE" (Revision 42):\n<phk@login.dkuug.dk> wrote this file.',
        "Beerware",
    ),
    ("The OpenLDAP Public License\nVersion 2.8, 17 August 2003", "OLDAP-2.8"),
    ("The FreeType Project LICENSE\n----------------------------", "FTL"),
    ("You can use this free for any purpose. It's in the public domain.", "PublicDomain"),
    (
        "THE WORK (AS DEFINED BELOW) IS PROVIDED UNDER THE TERMS OF THIS CREATIVE\nCOMMONS "
        "PUBLIC LICENSE ... Creative Commons Attribution-NonCommercial 3.0 ... You may not "
        "exercise any of the rights granted to You in a manner that is primarily intended for "
        "noncommercial use",
        "CC-BY-NC-3.0",
    ),
    ('SPDX license expression "CC0-1.0": https://spdx.org/licenses/CC0-1.0.html', "CC0-1.0"),
]


@pytest.mark.parametrize(("text", "spdx"), TEXTS, ids=[s for _, s in TEXTS])
def test_real_license_texts_are_recognised(text: str, spdx: str) -> None:
    assert detect_license_text(text) == spdx
    assert license_class(spdx) != "unknown"


@pytest.mark.parametrize(
    ("spdx", "cls"),
    [
        ("GFDL-1.3-no-invariants-or-later", "copyleft"),
        ("MIT-Modern-Variant", "permissive"),
        ("Artistic-1.0-Perl OR GPL-1.0-or-later", "permissive"),
        ("OFL-1.1-RFN", "permissive"),
        ("Unicode-3.0", "permissive"),
        ("Python-2.0", "permissive"),
        ("CC-BY-NC-4.0", "restricted"),
        ("CC-BY-NC-4.0 OR MIT", "permissive"),
        ("CC-BY-NC-4.0 AND MIT", "restricted"),
        ("LicenseRef-Acme AND CC-BY-NC-4.0", "unknown"),
    ],
)
def test_classes_of_real_world_ids(spdx: str, cls: str) -> None:
    assert license_class(spdx) == cls


MIT_TEXT = (
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this "
    'software and associated documentation files (the "Software"), to deal in the Software '
    "without restriction ... The above copyright notice and this permission notice shall be "
    "included in all copies or substantial portions of the Software."
)


def test_the_full_text_decides_and_a_disagreeing_notice_is_recorded() -> None:
    survey = RepoSurvey(
        license_files={"LICENSE": MIT_TEXT},
        metadata_files={"pyproject.toml": '[project]\nlicense = "Apache-2.0"\n'},
    )
    found = detect_repo_license(survey)
    assert found.license == "MIT"
    assert found.evidence == (
        "detected:LICENSE; notice metadata:pyproject.toml says Apache-2.0, the full text decides"
    )
    agreeing = RepoSurvey(
        license_files={"LICENSE": MIT_TEXT},
        metadata_files={"pyproject.toml": '[project]\nlicense = "MIT"\n'},
    )
    assert detect_repo_license(agreeing).evidence == "detected:LICENSE"
    notice_only = RepoSurvey(metadata_files={"pyproject.toml": '[project]\nlicense = "MIT"\n'})
    assert detect_repo_license(notice_only).evidence == "metadata:pyproject.toml"
    assert decide_license(None, (), {}) is None


def test_an_override_licenses_the_pages_of_its_domain_and_path() -> None:
    source = Source(
        "mixed",
        "web",
        "/landing",
        "warc",
        "NOASSERTION",
        license_overrides=(
            LicenseOverride("PSF-2.0", domain="docs.python.org"),
            LicenseOverride("CC-BY-SA-4.0", path="/wiki/*"),
        ),
    )
    page = {"url": "https://docs.python.org/3/library/os.html", "domain": "docs.python.org"}
    assert _overridden_license(source, page) == {
        "license": "PSF-2.0",
        "license_evidence": "declared:override (domain=docs.python.org)",
    }
    wiki = {"url": "https://example.org/wiki/Python", "domain": "example.org"}
    assert _overridden_license(source, wiki)["license"] == "CC-BY-SA-4.0"
    assert (
        _overridden_license(source, {"url": "https://example.org/blog", "domain": "example.org"})
        == {}
    )
