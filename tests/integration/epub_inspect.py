#!/usr/bin/env python3
"""Inspects an EPUB that inkdigest wrote and checks what issue 2 promises of every book.

Usage: epub_inspect.py BOOK.epub --box WxH [--expect-articles N] [--expect-sections N]
                       [--expect-images N] [--expect-text STRING ...] [--json]

Checks: the nav lists sections then articles in spine order; every image in the book is a
baseline one-channel JPEG inside the box; every <img> points at a file that exists; no page
refers to a remote resource. Prints a JSON summary with --json. Exits 1 on any violation.
"""
import argparse
import json
import posixpath
import re
import sys
import xml.etree.ElementTree as ET
import zipfile

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
}


def jpeg_info(data):
    """(width, height, components, sof marker) from a JPEG's frame header."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ValueError("bad marker")
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        seglen = int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h = int.from_bytes(data[i + 5:i + 7], "big")
            w = int.from_bytes(data[i + 7:i + 9], "big")
            return w, h, data[i + 9], marker
        i += 2 + seglen
    raise ValueError("no frame header")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("book")
    ap.add_argument("--box", required=True)
    ap.add_argument("--expect-articles", type=int)
    ap.add_argument("--expect-sections", type=int)
    ap.add_argument("--expect-images", type=int)
    ap.add_argument("--min-images", type=int)
    ap.add_argument("--expect-text", action="append", default=[])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    box_w, box_h = (int(v) for v in a.box.split("x"))
    errors = []
    z = zipfile.ZipFile(a.book)
    names = z.namelist()
    if names[0] != "mimetype" or z.read("mimetype") != b"application/epub+zip":
        errors.append("mimetype is not the first entry or is wrong")
    container = ET.fromstring(z.read("META-INF/container.xml"))
    opf_path = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile").get("full-path")
    opf_dir = posixpath.dirname(opf_path)
    opf = ET.fromstring(z.read(opf_path))
    manifest = {it.get("id"): it for it in opf.find("opf:manifest", NS)}
    spine = [manifest[r.get("idref")].get("href") for r in opf.find("opf:spine", NS)]
    nav_item = [it for it in manifest.values() if "nav" in (it.get("properties") or "").split()]
    if len(nav_item) != 1:
        errors.append("expected exactly one nav item")
    nav_href = nav_item[0].get("href")
    nav = ET.fromstring(z.read(posixpath.join(opf_dir, nav_href)))
    toc = [n for n in nav.iter("{%s}nav" % NS["x"])
           if n.get("{%s}type" % NS["epub"]) == "toc"][0]
    sections = []
    nav_files = []
    for li in toc.find("x:ol", NS).findall("x:li", NS):
        link = li.find("x:a", NS)
        entry = {"title": "".join(link.itertext()).strip(), "articles": []}
        nav_files.append(link.get("href").split("#")[0])
        sub = li.find("x:ol", NS)
        if sub is not None:
            for li2 in sub.findall("x:li", NS):
                l2 = li2.find("x:a", NS)
                entry["articles"].append("".join(l2.itertext()).strip())
                nav_files.append(l2.get("href").split("#")[0])
        sections.append(entry)
    # The nav's files must appear in the spine in the same order.
    spine_pos = {h: i for i, h in enumerate(spine)}
    order = [spine_pos.get(posixpath.normpath(posixpath.join(posixpath.dirname(nav_href), f)), -1)
             for f in nav_files]
    if any(p < 0 for p in order):
        errors.append("a nav entry points outside the spine")
    if order != sorted(order):
        errors.append("nav order differs from spine order")
    n_articles = sum(len(s["articles"]) for s in sections)

    images = []
    for item in manifest.values():
        mt = item.get("media-type")
        if not mt.startswith("image/"):
            continue
        path = posixpath.join(opf_dir, item.get("href"))
        if mt != "image/jpeg":
            errors.append(f"{path}: media type {mt}, not image/jpeg")
            continue
        w, h, comps, sof = jpeg_info(z.read(path))
        images.append({"path": path, "width": w, "height": h})
        if comps != 1:
            errors.append(f"{path}: {comps} components, not grayscale")
        if sof not in (0xC0, 0xC1):
            errors.append(f"{path}: not baseline (SOF {sof:#x})")
        if w > box_w or h > box_h:
            errors.append(f"{path}: {w}x{h} is larger than the box {box_w}x{box_h}")
    content_images = [i for i in images if not i["path"].endswith("cover.jpg")]

    text = []
    for href in spine:
        path = posixpath.join(opf_dir, href)
        raw = z.read(path).decode("utf-8")
        doc = ET.fromstring(raw.encode("utf-8"))
        text.append(" ".join(doc.itertext()))
        for img in doc.iter("{%s}img" % NS["x"]):
            src = img.get("src") or ""
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), src))
            if re.match(r"^[a-z]+:", src) or target not in names:
                errors.append(f"{path}: <img src={src!r}> does not point inside the book")
        for bad in ("<script", "javascript:", " onload=", " onerror="):
            if bad in raw.lower():
                errors.append(f"{path}: contains {bad!r}")
    alltext = "\n".join(text)
    for t in a.expect_text:
        if t not in alltext:
            errors.append(f"text {t!r} not found in the book")

    if a.expect_articles is not None and n_articles != a.expect_articles:
        errors.append(f"{n_articles} articles in the nav, expected {a.expect_articles}")
    if a.expect_sections is not None and len(sections) != a.expect_sections:
        errors.append(f"{len(sections)} sections in the nav, expected {a.expect_sections}")
    if a.expect_images is not None and len(content_images) != a.expect_images:
        errors.append(f"{len(content_images)} images, expected {a.expect_images}")
    if a.min_images is not None and len(content_images) < a.min_images:
        errors.append(f"{len(content_images)} images, expected at least {a.min_images}")

    summary = {"sections": sections, "articles": n_articles, "images": len(content_images),
               "spine": spine, "errors": errors}
    if a.json:
        print(json.dumps(summary, ensure_ascii=False, indent=1))
    for e in errors:
        print(f"epub_inspect: {a.book}: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
