#!/usr/bin/env python3
"""Checks an EPUB against the rules Kindle's converter enforces (E999 causes collected in
/work/shared/EREADER.md section 1 and 5). Standard library only: unzips the book in memory and
prints one line per violation. Exit status 0 when clean, 1 on violations, 2 on usage errors.

Usage: kindle_check.py BOOK.epub
"""
import posixpath
import re
import struct
import sys
import urllib.parse
import xml.etree.ElementTree as ET
import zipfile

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "xhtml": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "ocf": "urn:oasis:names:tc:opendocument:xmlns:container",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# KDP's language list as used by innocenat/kindle-epub-fix (ISO 639-1 and 639-2 codes).
KINDLE_LANGS = set("""
af gsw ar eu nb br ca zh kw co da nl stq en fi fr fy gl de gu hi is ga it ja lb mr ml gv frr
nn pl pt oc rm sco gd es sv ta cy
afr ara eus baq nob bre cat zho chi cor cos dan nld dut eng fin fra fre fry glg deu ger guj hin
isl ice gle ita jpn ltz mar mal glv nor nno por oci roh gla spa swe tam cym wel
""".split())

XML_EXT = (".xml", ".opf", ".ncx", ".xhtml", ".html", ".htm", ".svg")
XHTML_TYPES = ("application/xhtml+xml",)
MAX_XHTML_FILES = 300
MAX_XHTML_BYTES = 2 * 1024 * 1024
XML_DECL = re.compile(rb'^(\xef\xbb\xbf)?<\?xml[^>]*\bencoding\s*=\s*["\'][A-Za-z0-9._-]+["\']')


class Checker:
    def __init__(self, path):
        self.path = path
        self.problems = []

    def bad(self, msg):
        self.problems.append(msg)

    def run(self):
        try:
            z = zipfile.ZipFile(self.path)
        except (OSError, zipfile.BadZipFile) as e:
            self.bad(f"not a zip file: {e}")
            return
        with z:
            self.z = z
            self.names = z.namelist()
            self.check_ocf()
            self.check_names()
            self.check_xml_decls()
            opf = self.find_opf()
            if opf is None:
                return
            self.check_package(opf)

    # -- container --------------------------------------------------------------------------
    def check_ocf(self):
        infos = self.z.infolist()
        if not infos or infos[0].filename != "mimetype":
            self.bad("mimetype is not the first entry")
        else:
            mi = infos[0]
            if mi.compress_type != zipfile.ZIP_STORED:
                self.bad("mimetype is compressed (must be stored)")
            if mi.extra:
                self.bad("mimetype has an extra field")
            if self.z.read(mi) != b"application/epub+zip":
                self.bad("mimetype content is not 'application/epub+zip'")
        for info in infos:
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                self.bad(f"{info.filename}: compression method {info.compress_type}")
        if "META-INF/encryption.xml" in self.names:
            self.bad("META-INF/encryption.xml present (obfuscated or encrypted resources)")

    def check_names(self):
        for n in self.names:
            if not n.isascii() or " " in n:
                self.bad(f"{n!r}: file name is not ASCII without spaces")

    def check_xml_decls(self):
        for n in self.names:
            if n.lower().endswith(XML_EXT):
                head = self.z.read(n)[:200]
                if not XML_DECL.match(head):
                    self.bad(f"{n}: no XML declaration with an encoding")

    # -- package ----------------------------------------------------------------------------
    def parse(self, name):
        try:
            return ET.fromstring(self.z.read(name))
        except (KeyError, ET.ParseError) as e:
            self.bad(f"{name}: not well-formed: {e}")
            return None

    def find_opf(self):
        c = self.parse("META-INF/container.xml") if "META-INF/container.xml" in self.names \
            else None
        if c is None:
            self.bad("META-INF/container.xml missing or broken")
            return None
        rf = c.find(".//ocf:rootfile", NS)
        if rf is None or not rf.get("full-path"):
            self.bad("container.xml names no rootfile")
            return None
        return rf.get("full-path")

    def check_package(self, opf_name):
        opf = self.parse(opf_name)
        if opf is None:
            return
        base = posixpath.dirname(opf_name)

        def res(href, rel_to=base):
            path = urllib.parse.unquote(href.split("#", 1)[0])
            return posixpath.normpath(posixpath.join(rel_to, path)) if path else None

        langs = [e.text or "" for e in opf.findall(".//dc:language", NS)]
        if not langs:
            self.bad("no dc:language")
        for lang in langs:
            primary = lang.strip().split("-")[0].lower()
            if primary not in KINDLE_LANGS:
                self.bad(f"dc:language {lang!r} is not one Kindle supports")

        manifest = {}
        for it in opf.findall(".//opf:manifest/opf:item", NS):
            manifest[it.get("id")] = (res(it.get("href", "")), it.get("media-type", ""),
                                      it.get("properties", ""))
        spine_el = opf.find(".//opf:spine", NS)
        spine = []
        if spine_el is not None:
            for ir in spine_el.findall("opf:itemref", NS):
                if ir.get("idref") in manifest:
                    spine.append(manifest[ir.get("idref")][0])
        spine_pos = {p: i for i, p in enumerate(spine)}

        xhtml = [v[0] for v in manifest.values() if v[1] in XHTML_TYPES]
        if len(xhtml) >= MAX_XHTML_FILES:
            self.bad(f"{len(xhtml)} XHTML files (Kindle needs fewer than {MAX_XHTML_FILES})")

        body_ids = {}
        docs = {}
        for p in xhtml:
            if p not in self.names:
                self.bad(f"{p}: in the manifest but not in the zip")
                continue
            size = self.z.getinfo(p).file_size
            if size > MAX_XHTML_BYTES:
                self.bad(f"{p}: {size} bytes (more than 2 MB)")
            root = self.parse(p)
            if root is None:
                continue
            docs[p] = root
            if root.get("lang") is None or root.get(XML_LANG) is None:
                self.bad(f"{p}: <html> lacks lang or xml:lang")
            body = root.find("xhtml:body", NS)
            if body is not None and body.get("id"):
                body_ids[p] = body.get("id")

        # Links to a <body> id, and <img> without src.
        for p, root in docs.items():
            d = posixpath.dirname(p)
            for a in root.iter():
                href = a.get("href") if a.tag in ("{%s}a" % NS["xhtml"],) else None
                if a.tag == "{%s}img" % NS["xhtml"] and not a.get("src"):
                    self.bad(f"{p}: <img> without src")
                if href and "#" in href and not re.match(r"^[a-z]+:", href):
                    target = res(href, d) or p
                    frag = href.split("#", 1)[1]
                    if body_ids.get(target) == frag:
                        self.bad(f"{p}: link {href} targets a <body> id")

        # Table of contents: NCX and nav list the same targets, in spine order.
        ncx_targets = []
        ncx_id = spine_el.get("toc") if spine_el is not None else None
        if not ncx_id or ncx_id not in manifest:
            self.bad("spine has no toc=\"ncx\" pointing at the NCX")
        else:
            ncx_path = manifest[ncx_id][0]
            ncx = self.parse(ncx_path)
            if ncx is not None:
                for np in ncx.iter("{%s}navPoint" % NS["ncx"]):
                    c = np.find("ncx:content", NS)
                    if c is None:
                        self.bad(f"{ncx_path}: navPoint {np.get('id')} without content")
                        continue
                    children = [ch.tag for ch in np]
                    if "{%s}navLabel" % NS["ncx"] not in children or \
                            children.index("{%s}navLabel" % NS["ncx"]) > \
                            children.index("{%s}content" % NS["ncx"]):
                        self.bad(f"{ncx_path}: navPoint {np.get('id')}: navLabel must come first")
                    src = c.get("src", "")
                    ncx_targets.append((res(src, posixpath.dirname(ncx_path)),
                                        src.split("#", 1)[1] if "#" in src else ""))
                uid = ncx.find(".//ncx:meta[@name='dtb:uid']", NS)
                ident = opf.find(".//dc:identifier", NS)
                if uid is None or ident is None or uid.get("content") != (ident.text or ""):
                    self.bad(f"{ncx_path}: dtb:uid differs from dc:identifier")
        nav_targets = []
        navs = [v[0] for v in manifest.values() if "nav" in v[2].split()]
        if len(navs) != 1:
            self.bad(f"{len(navs)} items with properties=\"nav\" (need exactly 1)")
        elif navs[0] in docs:
            nav = docs[navs[0]]
            for n in nav.iter("{%s}nav" % NS["xhtml"]):
                if n.get("{%s}type" % NS["epub"]) == "toc":
                    for a in n.iter("{%s}a" % NS["xhtml"]):
                        h = a.get("href", "")
                        nav_targets.append((res(h, posixpath.dirname(navs[0])),
                                            h.split("#", 1)[1] if "#" in h else ""))
        if not ncx_targets:
            self.bad("NCX navMap is empty")
        for t, frag in ncx_targets:
            if frag and body_ids.get(t) == frag:
                self.bad(f"NCX entry {t}#{frag} targets a <body> id")
        if ncx_targets != nav_targets:
            self.bad("NCX and nav toc list different entries or orders")
        last = -1
        for t, _frag in ncx_targets:
            if t not in spine_pos:
                self.bad(f"NCX entry {t} is not in the spine")
                continue
            if spine_pos[t] < last:
                self.bad(f"NCX entry {t} is out of spine order")
            last = spine_pos[t]

        # Images: JPEG or PNG only, and no transparency.
        for _id, (p, mt, _props) in sorted(manifest.items()):
            if not mt.startswith("image/") and not p.lower().endswith(
                    (".gif", ".webp", ".tif", ".tiff", ".bmp", ".svg")):
                continue
            if p not in self.names:
                self.bad(f"{p}: in the manifest but not in the zip")
                continue
            self.check_image(p, self.z.read(p))

    def check_image(self, p, data):
        if data[:3] == b"\xff\xd8\xff":
            return
        if data[:8] != b"\x89PNG\r\n\x1a\n":
            self.bad(f"{p}: not JPEG or PNG")
            return
        if len(data) < 33:
            self.bad(f"{p}: truncated PNG")
            return
        colour_type = data[25]
        if colour_type in (4, 6):
            self.bad(f"{p}: PNG with an alpha channel (colour type {colour_type})")
        pos = 8
        while pos + 8 <= len(data):
            length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
            if ctype == b"tRNS":
                self.bad(f"{p}: PNG with a transparent colour (tRNS)")
            if ctype == b"IDAT" or ctype == b"IEND":
                break
            pos += 12 + length


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    c = Checker(argv[1])
    c.run()
    for p in c.problems:
        print(f"{argv[1]}: {p}")
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
