"""License texts shaped like the ones real Debian copyright files carry, one per rule the
detector learned from the tuning half of bench/licenses_real.py: the historical permission
notice and its variants, the ISC grant family, "or later" spelt oddly, pointers that name the
version after a bare notice, public-domain statements without the words "public domain", and
notices that only name their license."""

from __future__ import annotations

import pytest

from bench.licenses_real import _as_the_text_decides, _is_expression, exact_hit, family_of_id
from spark_jobs.licenses import detect_license_text, license_class

CASES = [
    # HPND with its "makes no representations" line.
    (
        "Permission to use, copy, modify, and distribute this software and its\n"
        "documentation for any purpose and without fee is hereby granted, provided\n"
        "that the above copyright notice appear in all copies and that both that\n"
        "copyright notice and this permission notice appear in supporting\n"
        "documentation, and that the name of Foo Corp. not be used in advertising or\n"
        "publicity pertaining to distribution of the software without specific,\n"
        "written prior permission. Foo Corp. makes no representations about the\n"
        "suitability of this software for any purpose.",
        "HPND",
    ),
    # The same grant without that line is MIT-CMU.
    (
        " * Permission to use, copy, modify, and distribute this software and its\n"
        " * documentation for any purpose and without fee is hereby granted,\n"
        " * provided that the above copyright notice appear in all copies and that\n"
        " * both that copyright notice and this permission notice appear in\n"
        " * supporting documentation, and that the name of Carnegie Mellon\n"
        " * University not be used in advertising or publicity pertaining to\n"
        " * distribution of the software without specific, written prior\n"
        " * permission.\n *\n"
        " * CARNEGIE MELLON UNIVERSITY DISCLAIMS ALL WARRANTIES WITH REGARD TO\n"
        " * THIS SOFTWARE.",
        "MIT-CMU",
    ),
    (
        "Permission to use, copy, modify, distribute, and sell this software\n"
        "and its documentation for any purpose is hereby granted without fee,\n"
        "provided that the above copyright notice appears in all copies and\n"
        "that both that copyright notice and this permission notice appear in\n"
        "supporting documentation, and that the name of OpenVision not be used\n"
        "in advertising or publicity pertaining to distribution of the software.",
        "HPND-sell-variant",
    ),
    # libtiff's grant is the "and sell" one; its "(ii) the names of" clause decides.
    (
        "Permission to use, copy, modify, distribute, and sell this software and\n"
        "its documentation for any purpose is hereby granted without fee, provided\n"
        "that (i) the above copyright notices and this permission notice appear in\n"
        "all copies of the software and related documentation, and (ii) the names of\n"
        "Pixar, Sam Leffler and Silicon Graphics may not be used in any advertising.",
        "libtiff",
    ),
    (
        "Permission to use, copy, modify, and distribute this software and its\n"
        "documentation for any purpose with or without fee is hereby granted,\n"
        "provided that the above copyright notice appears in all copies and that\n"
        "both the copyright notice and this permission notice appear in supporting\n"
        "documentation, and that the name NTP not be used in advertising.",
        "NTP",
    ),
    (
        "* Export of this software from the United States of America may\n"
        "* require a specific license from the United States Government.\n*\n"
        "* WITHIN THAT CONSTRAINT, permission to use, copy, modify, and\n"
        "* distribute this software and its documentation for any purpose and\n"
        "* without fee is hereby granted, provided that the above copyright\n"
        "* notice appear in all copies.  Furthermore if you modify this software\n"
        "* you must label your software as modified software.",
        "HPND-export-US-modify",
    ),
    # The ISC grant: with its notice condition, without it, and David Gay's dtoa notice.
    (
        "Permission to use, copy, modify, and distribute this software\n"
        "for any purpose and without fee is hereby granted. The author\n"
        "disclaims all warranties with regard to this software.",
        "ISC",
    ),
    (
        "Permission to use, copy, modify, and/or distribute this software for any\n"
        "purpose with or without fee is hereby granted.\n\n"
        'THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES',
        "0BSD",
    ),
    (
        "The author of this software is David M. Gay.\n\n"
        "Permission to use, copy, modify, and distribute this software for any\n"
        "purpose without fee is hereby granted, provided that this entire notice\n"
        "is included in all copies of any software which is or includes a copy\n"
        "or modification of this software.",
        "dtoa",
    ),
    # BSD: "must not be used to endorse" is the no-endorsement clause; an acknowledgment
    # that every redistribution keeps is BSD-3-Clause-Attribution.
    (
        "Redistribution and use in source and binary forms, with or without\n"
        "modification, are permitted provided that the following conditions\nare met:\n"
        "1. Redistributions of source code must retain the above copyright notice.\n"
        '3. The name "Carnegie Mellon University" must not be used to\n'
        "endorse or promote products derived from this software.",
        "BSD-3-Clause",
    ),
    (
        "Redistribution and use in source and binary forms, with or without\n"
        "modification, are permitted provided that the following conditions\nare met:\n"
        "3. The name of the author must not be used to endorse or promote products.\n"
        "4. Redistributions of any form whatsoever must retain the following\n"
        'acknowledgment:\n"This product includes software developed by Computing Services"',
        "BSD-3-Clause-Attribution",
    ),
    (
        "Redistribution and use of this software in source and binary forms, with or\n"
        "without modification, are permitted provided that the following conditions are\n"
        "met: Redistributions of source code must retain the above copyright notice.",
        "BSD-2-Clause",
    ),
    # GNU notices: "in version 2", "(at your opinion)", "(GPL)", "licensed under", "or later".
    (
        "This program is free software; you can redistribute it and/or modify\n"
        "it under the terms of the GNU General Public License as published by\n"
        "the Free Software Foundation in version 2 of the License.",
        "GPL-2.0-only",
    ),
    (
        "This program is free software; you can redistribute it and/or modify it under\n"
        "the terms of the GNU General Public License as published by the Free Software\n"
        "Foundation; version 2 of the license, or (at your opinion) any later version.",
        "GPL-2.0-or-later",
    ),
    (
        "This library is licensed under the GNU Lesser General Public License (LGPL),\n"
        "version 2.1 or later.",
        "LGPL-2.1-or-later",
    ),
    (
        "it under the terms of the GNU Lesser General Public License as published by\n"
        "the Free Software Foundation, either version 2 of the License, or\n"
        "(at your option) any later version.",
        "LGPL-2.0-or-later",
    ),
    # A bare GNU notice whose complete text is named by a pointer after it.
    (
        "Permission to use, copy, modify, and distribute this software and its\n"
        "documentation under the terms of the GNU General Public License is\n"
        "hereby granted. See the GNU General Public License for more details.\n\n"
        "On Debian systems, the complete text of the GNU General Public License\n"
        "can be found in `/usr/share/common-licenses/GPL-2'.",
        "GPL-2.0-only",
    ),
    (
        "This manual is covered by the GNU FDL.  Permission is granted to\n"
        "copy, distribute and/or modify this document under the terms of the\n"
        "GNU Free Documentation License (FDL), either version 1.2 of the\n"
        "License, or (at your option) any later version published by the Free\n"
        "Software Foundation (FSF); with no Invariant Sections, with no\n"
        "Front-Cover Text, and with no Back-Cover Texts.",
        "GFDL-1.2-no-invariants-or-later",
    ),
    # Public domain without the phrase "placed in the public domain".
    (
        "It is the policy of NLM (and U.S. government) to not assert copyright.",
        "PublicDomain",
    ),
    (
        "I believe that most files in debian/ hardly contains any creative\n"
        "expression eligible for copyright.",
        "PublicDomain",
    ),
    ("The author disclaims copyright to this source code.", "PublicDomain"),
    ("I hereby release this work into the public domain.", "PublicDomain"),
    # A notice that names its license instead of stating it.
    ("This package is licensed under the MIT license; see LICENSE.", "MIT"),
    ("Released under the terms of the Apache License 2.0.", "Apache-2.0"),
    # Third round (the former test half, now tune material).
    # The version line with its date (findutils).
    (
        "This program is free software; you can redistribute it and/or modify\n"
        "it under the terms of the GNU General Public License as published by\n"
        "the Free Software Foundation; version 2 dated June, 1991, or (at\n"
        "your option) any later version.",
        "GPL-2.0-or-later",
    ),
    (
        "it under the terms of the GNU General Public License as published by\n"
        "the Free Software Foundation; version 3 dated June, 2007.",
        "GPL-3.0-only",
    ),
    # Public domain said without "placed in the public domain".
    (
        "I believe that none of these files contain any creative\n"
        "expression eligible for copyright.",
        "PublicDomain",
    ),
    (
        "2010-03-12 : Igor Pavlov : Public domain\n"
        "This code is based on PPMd var.H (2001): Dmitry Shkarin : Public domain",
        "PublicDomain",
    ),
    ("Copyright protection expired. From Alice in Wonderland, published 1865.", "PublicDomain"),
    # The "and sell" grant over "this file" rather than "this software and its documentation".
    (
        "Permission to use, copy, modify, distribute, and sell this file for any\n"
        "purpose is hereby granted without fee, provided that the above copyright\n"
        "and this permission notice appear in all copies.  No representations are\n"
        "made about the suitability of this software for any purpose.",
        "HPND-sell-variant",
    ),
    # The PostgreSQL license (the University of California's Postgres95 grant).
    (
        "Permission to use, copy, modify, and distribute this software and its\n"
        "documentation for any purpose, without fee, and without a written agreement\n"
        "is hereby granted, provided that the above copyright notice and this\n"
        "paragraph and the following two paragraphs appear in all copies.\n\n"
        "IN NO EVENT SHALL THE UNIVERSITY OF CALIFORNIA BE LIABLE TO ANY PARTY FOR\n"
        "DIRECT, INDIRECT, SPECIAL, INCIDENTAL, OR CONSEQUENTIAL DAMAGES.",
        "PostgreSQL",
    ),
    # Fourth round. Public-domain statements: a first-person placing with "hereby" in between,
    # a waiver plus a dedication of "the software", a passive release, a bare "Public domain."
    # line under a file header.
    (
        "I, Mathias Panzenb\u00f6ck, place this file hereby into the public domain.\n"
        "Use it at your own risk for whatever you like.",
        "PublicDomain",
    ),
    (
        "To the extent that any copyright protections may be considered to be held by\n"
        "the authors of this software in some jurisdiction outside the United States,\n"
        "the authors hereby waive those copyright protections and dedicate the\n"
        "software to the public domain.",
        "PublicDomain",
    ),
    ("This code has been released into the public domain by its author.", "PublicDomain"),
    ("Copyright is hereby waived by the author of this file.", "PublicDomain"),
    (
        "Original author: Noah Friedman <friedman@prep.ai.mit.edu>\nCreated: 1993-05-16\n"
        "Public domain.",
        "PublicDomain",
    ),
    # Creative Commons' own name for CC0.
    ("No Rights Reserved", "CC0-1.0"),
    # libpng's license by its grant, without its title (Qt's bundled copy), and the PNG
    # Reference Library License version 2's wording of it.
    (
        'The software is supplied "as is", without warranty of any kind.\n\n'
        "Permission is hereby granted to use, copy, modify, and distribute\n"
        "this software, or portions hereof, for any purpose, without fee,\n"
        "subject to the following restrictions:\n\n"
        "1. The origin of this software must not be misrepresented; you\n"
        "must not claim that you wrote the original software.",
        "Libpng",
    ),
    (
        "Permission is hereby granted to use, copy, modify, and distribute this\n"
        "software, or portions hereof, for any purpose, without fee, subject to\n"
        "the following conditions:",
        "libpng-2.0",
    ),
    # Well-known texts by a body sentence when the grant is reworded or missing.
    (
        "Permission is granted to any person who has a copy of this software to deal in it\n"
        "without restriction. The above copyright notice and this permission notice shall be\n"
        "included in all copies or substantial portions of the Software.",
        "MIT",
    ),
    (
        "1. The origin of this software must not be misrepresented; you must not\n"
        "   claim that you wrote the original software.\n"
        "2. Altered source versions must be plainly marked as such.\n"
        "3. This notice may not be removed or altered from any source distribution.",
        "Zlib",
    ),
    (
        "1. Redistributions of source code must retain the above copyright notice, this\n"
        "   list of conditions and the following disclaimer.\n"
        "2. Redistributions in binary form must reproduce the above copyright notice.\n"
        "3. Neither the name of the copyright holder nor the names of its contributors\n"
        "   may be used to endorse or promote products derived from this software.",
        "BSD-3-Clause",
    ),
    (
        "2. Grant of Copyright License. Subject to the terms and conditions of this\n"
        "License, each Contributor hereby grants to You a perpetual, worldwide license.",
        "Apache-2.0",
    ),
    # BSD with the source-code condition only, and bzip2's BSD frame with zlib's clauses.
    (
        "Redistribution and use in source and binary forms, with or without\n"
        "modification, are permitted provided that the following conditions are met:\n\n"
        "* Redistributions of source code must retain the above copyright\n"
        "notice, this list of conditions and the following disclaimer.\n\n"
        'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS".',
        "BSD-1-Clause",
    ),
    (
        "Redistribution and use in source and binary forms, with or without\n"
        "modification, are permitted provided that the following conditions\n"
        "are met:\n\n"
        "1. Redistributions of source code must retain the above copyright\n"
        "   notice, this list of conditions and the following disclaimer.\n\n"
        "2. The origin of this software must not be misrepresented; you must\n"
        "   not claim that you wrote the original software.\n\n"
        "3. Altered source versions must be plainly marked as such.\n\n"
        "4. The name of the author may not be used to endorse or promote\n"
        "   products derived from this software without specific prior written\n"
        "   permission.",
        "bzip2-1.0.6",
    ),
    # CC0's own notice and its deed's address; Boost's, Artistic 2.0's and the OFL's texts by
    # their bodies (the OFL's grant is the MIT grant "of the Font Software").
    (
        "To the extent possible under law, the author(s) have dedicated all copyright and\n"
        "related and neighboring rights to this software to the public domain worldwide.\n"
        "This software is distributed without any warranty.",
        "CC0-1.0",
    ),
    ("See <http://creativecommons.org/publicdomain/zero/1.0/>.", "CC0-1.0"),
    (
        "Permission is hereby granted, free of charge, to any person or organization\n"
        "obtaining a copy of the software and accompanying documentation covered by\n"
        'this license (the "Software") to use, reproduce, display, distribute.',
        "BSL-1.0",
    ),
    (
        "This license establishes the terms under which a given free software\n"
        "Package may be copied, modified, distributed, and/or redistributed.",
        "Artistic-2.0",
    ),
    (
        "Permission is hereby granted, free of charge, to any person obtaining\n"
        "a copy of the Font Software, to use, study, copy, merge, embed, modify,\n"
        "redistribute, and sell modified and unmodified copies of the Font Software.",
        "OFL-1.1",
    ),
    # British spelling, "Version 2" without ".0", an en dash and a copyright sign.
    ("Licensed under the Apache Licence, Version 2 (the \u201cLicence\u201d).", "Apache-2.0"),
    (
        "\u00a9 2000\u20132006, The Perl Foundation. Everyone is permitted to copy and "
        "distribute verbatim copies of this license document.",
        "Artistic-2.0",
    ),
    # Layout: DEP-5's " ." blank lines and indentation, "%" comment leaders, a word
    # hyphenated over two lines, a copyright line and tabs before the grant.
    (
        " Copyright (C) 2004\tJane Doe\n .\n Permission is hereby granted, free of charge, to "
        "any\n person obtaining a copy of this software.\n .\n The above copyright notice and "
        "this\n permission notice shall be included in all copies or substantial portions.",
        "MIT",
    ),
    (
        "% Permission to use, copy, modify, and distribute this software for any purpose with-\n"
        "% out fee is hereby granted, provided that the above copyright notice and this\n"
        "% permission notice appear in all copies.",
        "ISC",
    ),
]


@pytest.mark.parametrize(("text", "spdx"), CASES, ids=[spdx for _, spdx in CASES])
def test_real_shaped_license_texts(text: str, spdx: str) -> None:
    assert detect_license_text(text) == spdx
    assert license_class(spdx) != "unknown"


@pytest.mark.parametrize(
    "text",
    [
        "Distributed under the following conditions: keep this notice.",
        "The software is provided under the same conditions as the rest of the package.",
        "This is free software.",
        # "public domain" and "copyright ... expired" in passing, not as a statement.
        "See the FAQ: public domain software is not the same as free software.",
        "The copyright term has not expired; all rights reserved.",
        # Fourth round: the broadened public-domain and CC0 rules on passing mentions.
        "If you place your modifications in the public domain, say so in the change log.",
        "This software is not released into the public domain.",
        "The authors have never placed it anywhere near a public domain archive.",
        "Some Rights Reserved",
        "Copyright (C) 2001 Jane Doe. All rights reserved.",
        "A public domain implementation of this function exists elsewhere.",
        # libpng's grant words without its "or portions hereof" are no libpng license.
        "Permission is hereby granted to use this software for any purpose.",
        # No Apache License 2.1 exists: the "Version 2" reading stops at "2.1".
        "The Apache License 2.1 draft was never published.",
    ],
)
def test_a_notice_without_a_license_name_names_none(text: str) -> None:
    assert detect_license_text(text) is None


def test_the_bench_truth_follows_what_the_text_decides() -> None:
    pointer = "On Debian systems, see /usr/share/common-licenses/GPL-2."
    notice = "under the terms of the GNU General Public License version 2 as published by"
    later = "either version 2 of the License, or (at your option) any later version."
    assert _as_the_text_decides("GPL-2.0-or-later", pointer) == "GPL-2.0-*"
    assert _as_the_text_decides("GPL-2.0-or-later", notice) == "GPL-2.0-only"
    assert _as_the_text_decides("GPL-2.0-only", later) == "GPL-2.0-or-later"
    assert exact_hit("GPL-2.0-only", "GPL-2.0-*") and exact_hit("GPL-2.0-or-later", "GPL-2.0-*")
    assert not exact_hit("GPL-3.0-only", "GPL-2.0-*") and not exact_hit(None, "GPL-2.0-*")
    x11 = "the name of the X Consortium shall not be used in advertising"
    assert _as_the_text_decides("MIT", x11) == "X11"
    assert _as_the_text_decides("MIT", "The above copyright notice shall be included") == "MIT"
    assert family_of_id("HPND-sell-variant") == family_of_id("MIT-CMU") == "MIT"
    assert family_of_id("ISC") == "ISC" and family_of_id("0BSD") == "BSD"
    assert family_of_id("bzip2-1.0.6") == "BSD"
    # A name joining several licenses with "+" is an expression; GPL-2+'s "+" is not.
    assert _is_expression("BSD-3-clause-iperf+MIT/X11+BSD-3-clause")
    assert not _is_expression("GPL-2+") and not _is_expression("LGPL-2.1+")
    # A name without a minor version takes the one the text states (libacl1's "LGPL-2+" over
    # "either version 2.1 of the License, or (at your option) any later version").
    lesser = "GNU Lesser General Public License ... either version 2.1 of the License, or later"
    assert _as_the_text_decides("LGPL-2.0-or-later", lesser, "LGPL-2+") == "LGPL-2.1-or-later"
    assert _as_the_text_decides("LGPL-2.0-or-later", lesser, "LGPL-2.0+") == "LGPL-2.0-or-later"
    two = "version 2.1 of the License ... version 2.0 of the License, or later"
    assert _as_the_text_decides("LGPL-2.0-or-later", two, "LGPL-2+") == "LGPL-2.0-or-later"


@pytest.mark.parametrize(
    ("name", "spdx", "cls"),
    [
        # DEP-5 short names of every GNU version, with and without "+".
        ("GPL-1+", "GPL-1.0-or-later", "copyleft"),
        ("GPL-1", "GPL-1.0-only", "copyleft"),
        ("LGPLv3+", "LGPL-3.0-or-later", "weak_copyleft"),
        ("GPL-2.0+", "GPL-2.0-or-later", "copyleft"),
        # Perl's usual pair: either license, so the more permissive class.
        ("Artistic or GPL-1+", "Artistic-1.0 OR GPL-1.0-or-later", "permissive"),
        # "with X exception": the license keeps its class, the exception is recorded.
        (
            "GPL-3+ with Autoconf-data exception",
            "GPL-3.0-or-later WITH Autoconf-exception-generic",
            "copyleft",
        ),
        ("GPL-2+ with Font exception", "GPL-2.0-or-later WITH Font-exception-2.0", "copyleft"),
        (
            "GPL-3+ with Foo exception",
            "GPL-3.0-or-later WITH AdditionRef-Foo-exception",
            "copyleft",
        ),
        ("Apache-2.0 WITH LLVM-exception", "Apache-2.0 WITH LLVM-exception", "permissive"),
        # Debian's per-work public-domain names; OFL and Python spellings.
        ("public-domain-md5", "PublicDomain", "public_domain"),
        ("SIL-OFL-1.1", "OFL-1.1", "permissive"),
        ("SIL Open Font License 1.1", "OFL-1.1", "permissive"),
        ("CNRI Python", "Python-2.0", "permissive"),
        (
            "(MIT OR Apache-2.0) AND BSD-3-Clause",
            "(Apache-2.0 OR MIT) AND BSD-3-Clause",
            "permissive",
        ),
    ],
)
def test_dep5_and_spdx_name_spellings(name: str, spdx: str, cls: str) -> None:
    from spark_jobs.licenses import normalize_license

    assert normalize_license(name) == spdx
    assert license_class(spdx) == cls


def test_a_license_knowledge_file_with_a_key_given_twice_is_refused(tmp_path) -> None:
    """YAML keeps the last of two equal keys; a second `OFL-1.1:` alias list once dropped the
    first one's names without a word."""
    from spark_jobs.licenses.spdx import knowledge

    path = tmp_path / "classes.yaml"
    path.write_text(
        "classes:\n  permissive: [OFL-1.1]\n"
        "aliases:\n  OFL-1.1: [SIL OFL 1.1]\n  OFL-1.1: [SIL 1.1]\n"
    )
    with pytest.raises(ValueError, match=r"'OFL-1\.1' is given twice"):
        knowledge(path)
