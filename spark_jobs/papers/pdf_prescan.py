"""A cheap look at a PDF's raw bytes that vouches for it before PDFium reads it, so the exact
structure pass (pypdf's bounded walk, in pure Python: a large share of the reading time)
runs only on documents this look cannot vouch for.

It vouches when, read from the bytes alone (objects found by their `N G obj` headers, object
streams inflated and split):
- the file is not encrypted, and every object is defined once;
- the page tree reached from the one catalog has no node twice and is at most
  MAX_PAGE_TREE_DEPTH deep;
- the pages' content streams and all form XObjects, each FlateDecode (inflated here from the
  stream's start to the end of its zlib data: at least what any reader inflates from it) or
  unfiltered, inflate together to at most the bound (`max_decompressed_bytes`), as the exact
  pass counts them;
- no form XObject refers to a form that leads back to it, nor through more than
  MAX_FORM_DEPTH of them.

Anything else (an encrypted file, another filter, a filter or a /Kids held by reference, a
stream or object this look cannot place, a bound reached) sends the document to the exact
pass, which decides. No file past the bounds is vouched for; a file within them that pypdf
cannot parse but PDFium reads is read instead of quarantined as pdf_corrupt.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

MAX_PAGE_TREE_DEPTH = 64  # pypdf stops at 100; deeper goes to the exact pass
MAX_FORM_DEPTH = 30  # the exact pass stops at 32
_CHUNK = 4 * 2**20
_EOL = re.compile(rb"\r\n|\n|\r")
# Comments and NUL are blanks to a PDF reader: each becomes spaces (same length) before
# anything here reads a dictionary or an object header.
_PDF_BLANKS = re.compile(rb"%[^\r\n]*|\x00")
_OBJ_HEADER = re.compile(rb"(?<![0-9])([0-9]{1,10})\s+([0-9]{1,5})\s+obj$")
_HEADER_LIKE = re.compile(rb"[0-9]\s+obj$")
_HEADER_WINDOW = 64
_CONTENTS = re.compile(rb"/Contents\s*(\[[^\]]*\]|[0-9]+\s+[0-9]+\s+R)")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+|[0-9]+\s+[0-9]+\s+R)")
_NAME = re.compile(rb"/([A-Za-z0-9]+)")
_REF = re.compile(rb"([0-9]{1,10})\s+[0-9]{1,5}\s+R\b")
_TYPE_PAGES = re.compile(rb"/Type\s*/Pages\b")
_TYPE_CATALOG = re.compile(rb"/Type\s*/Catalog\b")
_PAGES_REF = re.compile(rb"/Pages\s*([0-9]{1,10})\s+[0-9]{1,5}\s+R")
_KIDS = re.compile(rb"/Kids\s*(\[[^\]]*\]|[0-9]+\s+[0-9]+\s+R)")
_FORM = re.compile(rb"/Subtype\s*/Form\b")
_OBJSTM = re.compile(rb"/Type\s*/ObjStm\b")
_FIRST = re.compile(rb"/First\s+([0-9]{1,10})")
_RESOURCES_REF = re.compile(rb"/(?:Resources|XObject)\s*([0-9]{1,10})\s+[0-9]{1,5}\s+R")


class _CannotVouch(Exception):
    pass


@dataclass
class _Object:
    dictionary: bytes  # the object's text up to its stream keyword, if any
    stream: int | None = None  # where its stream's data starts in the file


def vouch(data: bytes, max_decoded: int) -> str | None:
    """None when the raw bytes show a document within the bounds; else why the exact pass
    must look (for logs and tests)."""
    try:
        _check(data, max_decoded)
    except _CannotVouch as why:
        return str(why)
    return None


def _check(data: bytes, max_decoded: int) -> None:
    if b"/Encrypt" in data:
        raise _CannotVouch("encrypted")
    objects = _raw_objects(data)
    for number, item in list(objects.items()):
        if item.stream is not None and _OBJSTM.search(item.dictionary):
            content = _inflated(data, item, number, 64 * 2**20, keep=True)
            _add_compressed_objects(objects, item.dictionary, content)
    pages = _page_tree(objects)
    forms = {
        n
        for n, item in objects.items()
        if item.stream is not None and _FORM.search(item.dictionary)
    }
    counted = set(forms)
    for page in pages:
        counted |= _contents(objects, page)
    decoded = 0
    for number in sorted(counted):
        decoded += _inflated(data, objects[number], number, max_decoded - decoded)
        if decoded > max_decoded:
            raise _CannotVouch(f"content streams and forms inflate to over {max_decoded} bytes")
    _check_forms(objects, forms)


def _raw_objects(data: bytes) -> dict[int, _Object]:
    """The objects written uncompressed, by number; one defined twice, or an `obj` keyword
    after a number that does not read as a header, is not vouched for."""
    headers: list[tuple[int, int, int]] = []  # (number, header start, body start)
    at = data.find(b"obj")
    while at >= 0:
        if data[at - 3 : at] != b"end":
            start = max(0, at - _HEADER_WINDOW)
            window = _blanked(data[start : at + 3])
            match = _OBJ_HEADER.search(window)
            if match is not None:
                headers.append((int(match.group(1)), start + match.start(), at + 3))
            elif _HEADER_LIKE.search(window):
                raise _CannotVouch(f"an object header at byte {at} this look cannot read")
        at = data.find(b"obj", at + 3)
    objects: dict[int, _Object] = {}
    for index, (number, _, body) in enumerate(headers):
        end = headers[index + 1][1] if index + 1 < len(headers) else len(data)
        if number in objects:
            raise _CannotVouch(f"object {number} is defined twice")
        keyword = data.find(b"stream", body, end)
        if keyword < 0:
            objects[number] = _Object(_blanked(data[body:end]))
            continue
        dictionary = _blanked(data[body:keyword])
        eol = _EOL.match(data, keyword + 6)
        if eol is None or not _whole_dictionary(dictionary):
            raise _CannotVouch(f"object {number}'s stream keyword does not end its dictionary")
        objects[number] = _Object(dictionary, eol.end())
    return objects


def _blanked(text: bytes) -> bytes:
    if b"%" not in text and b"\x00" not in text:  # nothing to blank (most windows)
        return text
    return _PDF_BLANKS.sub(lambda blank: b" " * len(blank.group()), text)


def _whole_dictionary(text: bytes) -> bool:
    text = text.strip()
    return (
        text.startswith(b"<<") and text.endswith(b">>") and text.count(b"<<") == text.count(b">>")
    )


def _inflated(data: bytes, item: _Object, number: int, budget: int, keep: bool = False):
    """Bytes the stream inflates to (stopping past `budget`), or with `keep` its bytes;
    raises _CannotVouch for a filter this look does not run."""
    found = _FILTER.search(item.dictionary)
    if found is None:
        end = data.find(b"endstream", item.stream)
        raw = data[item.stream : len(data) if end < 0 else end]
        return raw if keep else len(raw)
    filters = _NAME.findall(found.group(1))
    if found.group(1)[:1] not in (b"[", b"/") or filters != [b"FlateDecode"]:
        raise _CannotVouch(f"object {number} has filters {found.group(1)[:60]!r}")
    inflate = zlib.decompressobj()
    produced = 0
    pieces: list[bytes] = []
    position = item.stream
    view = memoryview(data)  # chunks without copying the file's bytes
    try:
        while not inflate.eof and produced <= budget:
            if inflate.unconsumed_tail:
                chunk = inflate.unconsumed_tail
            else:
                chunk = view[position : position + _CHUNK]
                position += len(chunk)
                if not chunk:
                    break
            out = inflate.decompress(chunk, _CHUNK)
            produced += len(out)
            if keep:
                pieces.append(out)
    except zlib.error:
        pass  # what inflated before the damage is what a reader gets
    if keep:
        if produced > budget:
            raise _CannotVouch(f"object stream {number} inflates to over {budget} bytes")
        return b"".join(pieces)
    return produced


def _add_compressed_objects(objects: dict[int, _Object], header: bytes, content: bytes) -> None:
    first = _FIRST.search(header)
    if first is None:
        raise _CannotVouch("an object stream without /First")
    offset = int(first.group(1))
    numbers = content[:offset].split()
    if len(numbers) % 2:
        raise _CannotVouch("an object stream's header is cut short")
    try:
        pairs = [(int(numbers[i]), int(numbers[i + 1])) for i in range(0, len(numbers), 2)]
    except ValueError as exc:
        raise _CannotVouch("an object stream's header is not numbers") from exc
    for index, (number, at) in enumerate(pairs):
        end = pairs[index + 1][1] if index + 1 < len(pairs) else len(content) - offset
        if number in objects:
            raise _CannotVouch(f"object {number} is defined twice")
        objects[number] = _Object(_blanked(content[offset + at : offset + end]))


def _page_tree(objects: dict[int, _Object]) -> list[int]:
    """The pages' object numbers, the tree walked level by level from the catalog."""
    catalogs = [item for item in objects.values() if _TYPE_CATALOG.search(item.dictionary)]
    if len(catalogs) != 1:
        raise _CannotVouch(f"{len(catalogs)} catalogs")
    root = _PAGES_REF.search(catalogs[0].dictionary)
    if root is None:
        raise _CannotVouch("the catalog's /Pages is not a reference")
    seen: set[int] = set()
    pages: list[int] = []
    level = [int(root.group(1))]
    depth = 0
    while level:
        depth += 1
        if depth > MAX_PAGE_TREE_DEPTH:
            raise _CannotVouch(f"the page tree is over {MAX_PAGE_TREE_DEPTH} deep")
        below = []
        for number in level:
            if number in seen:
                raise _CannotVouch(f"page tree node {number} is reached twice")
            seen.add(number)
            item = objects.get(number)
            if item is None:
                raise _CannotVouch(f"page tree node {number} is not in the file")
            if not _TYPE_PAGES.search(item.dictionary):
                pages.append(number)
                continue
            kids = _KIDS.search(item.dictionary)
            if kids is None or kids.group(1)[:1] != b"[":
                raise _CannotVouch(f"page tree node {number} has no /Kids array")
            below += [int(kid) for kid in _REF.findall(kids.group(1))]
        level = below
    return pages


def _contents(objects: dict[int, _Object], page: int) -> set[int]:
    """The page's content streams (by number); each must be a stream written uncompressed."""
    found = _CONTENTS.search(objects[page].dictionary)
    if found is None:
        return set()
    refs = [int(ref) for ref in _REF.findall(found.group(1))]
    if found.group(1)[:1] != b"[" and refs and objects.get(refs[0]) is not None:
        held = objects[refs[0]]
        if held.stream is None:  # a reference to an array of streams
            refs = [int(ref) for ref in _REF.findall(held.dictionary)]
    for ref in refs:
        if ref not in objects or objects[ref].stream is None:
            raise _CannotVouch(f"page {page}'s content {ref} is not a stream in the file")
    return set(refs)


def _check_forms(objects: dict[int, _Object], forms: set[int]) -> None:
    """No form XObject leads back to itself or through more than MAX_FORM_DEPTH forms; its
    references are read from its dictionary and the /Resources and /XObject it refers to."""
    if not forms:
        return
    edges: dict[int, set[int]] = {}
    for number in forms:
        text = objects[number].dictionary
        for held in _RESOURCES_REF.findall(text):
            inner_text = objects[int(held)].dictionary if int(held) in objects else b""
            text += inner_text
            for inner in _RESOURCES_REF.findall(inner_text):
                text += objects[int(inner)].dictionary if int(inner) in objects else b""
        edges[number] = {int(ref) for ref in _REF.findall(text)} & forms
    depth: dict[int, int] = {}
    for start in forms:
        _form_depth(start, edges, depth, ())


def _form_depth(number: int, edges: dict[int, set[int]], depth: dict[int, int], path) -> int:
    if number in path:
        raise _CannotVouch(f"form {number} leads back to itself")
    if number not in depth:
        depth[number] = 1 + max(
            (_form_depth(child, edges, depth, (*path, number)) for child in edges[number]),
            default=0,
        )
    if len(path) + depth[number] > MAX_FORM_DEPTH:
        raise _CannotVouch(f"forms nest over {MAX_FORM_DEPTH} deep")
    return depth[number]
