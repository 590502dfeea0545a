#!/usr/bin/env python3
"""Generate a deterministic feed corpus for benchmarking a feeds-to-EPUB tool.

Layout written under OUT:
  base/        large plasma images that the photos are cropped from
  img/         one unique image file per image reference (JPEG, PNG, WebP, GIF)
  feeds/       feedNN.xml (RSS 2.0, Atom 1.0, RSS 1.0 mixed); half are Chinese,
               WeChat-style (huge inline styles, lazy data-src images)
  nginx.conf   serves OUT on 127.0.0.1:PORT (nginx -c OUT/nginx.conf -p OUT)
  bench.recipe calibre recipe over the same feeds
  feeds.txt    one feed URL a line
  MANIFEST     counts

Photos are crops of plasma fractals (they look and compress like photos), diagrams
are drawn shapes; made with ImageMagick and libvips (Debian: imagemagick,
libvips-tools). Everything is seeded, so two runs give the same feeds and images.
"""
import argparse, os, random, subprocess, sys, hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape


def find_imagemagick():
    """Debian's ImageMagick 6 by its versioned name: a plain `convert` on PATH may be a
    stand-in or GraphicsMagick, which cannot draw plasma fractals."""
    for path in ("/usr/bin/convert-im6.q16", "/usr/bin/convert-im6.q16hdri", "/usr/bin/convert"):
        if os.path.exists(path) and not os.path.realpath(path).endswith("/gm"):
            return path
    sys.exit("corpus.py: ImageMagick not found (Debian: apt-get install imagemagick)")


IM = None  # set in main(), so that --help works without ImageMagick

CJK = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质")
WORDS = ("the of and to in is that for it as with was on be by this are from at or an "
         "model image data feed reader kindle screen paper light battery digest article "
         "network diffusion sample quality training compute gradient noise step scale "
         "system design memory speed test result paper author figure table layout").split()

STYLE = ("max-width: 100%;box-sizing: border-box !important;overflow-wrap: break-word !important;"
         "font-size: 15px;letter-spacing: 1px;line-height: 1.75em;color: rgb(62, 62, 62);")


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_base(args):
    path, seed = args
    if not os.path.exists(path):
        png = path[:-2] + ".png"
        run([IM, "-seed", str(seed), "-size", "3000x2250", "plasma:fractal", "-blur", "0x1", png])
        run(["vips", "copy", png, path])
        os.unlink(png)


def make_image(args):
    """One unique image: a crop of a base photo, or a drawn diagram (PNG), or an animated GIF."""
    path, kind, w, h, seed, base = args
    if os.path.exists(path):
        return
    rng = random.Random(seed)
    if kind in ("jpg", "webp") or (kind == "png" and seed % 5 == 0):
        if kind == "png":  # a screenshot-sized photo PNG, the heaviest kind real feeds carry
            w, h = 1080, 608
        x, y = rng.randrange(0, 3000 - w + 1), rng.randrange(0, 2250 - h + 1)
        opt = {"jpg": "[Q=85,optimize_coding]", "webp": "[Q=80]", "png": "[compression=6]"}[kind]
        run(["vips", "extract_area", base, path + opt, str(x), str(y), str(w), str(h)])
    elif kind == "png":  # diagram-like: flat colours and lines
        cmd = [IM, "-size", f"{w}x{h}", "xc:white"]
        for _ in range(rng.randint(4, 12)):
            c = "#%02x%02x%02x" % (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            x0, y0 = rng.randrange(w), rng.randrange(h)
            x1, y1 = rng.randrange(w), rng.randrange(h)
            shape = rng.choice(["rectangle", "line", "circle"])
            cmd += ["-fill", c, "-stroke", "#222222", "-draw", f"{shape} {x0},{y0} {x1},{y1}"]
        run(cmd + ["-depth", "8", "-colors", "64", path])
    else:  # animated gif, 3 frames
        cmd = [IM, "-seed", str(seed), "-delay", "20"]
        for _ in range(3):
            cmd += ["(", "-size", f"{w}x{h}", "plasma:", ")"]
        run(cmd + ["-colors", "64", "-loop", "0", path])


def zh_text(rng, n):
    s = []
    for _ in range(n):
        s.append("".join(rng.choice(CJK) for _ in range(rng.randint(8, 24))))
    return "，".join(s) + "。"


def en_text(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def article_html(rng, zh, imgs, host):
    parts = []
    for k, (ext, alias) in enumerate(imgs):
        para = zh_text(rng, rng.randint(4, 10)) if zh else en_text(rng, rng.randint(40, 90))
        if zh:
            parts.append(f'<section style="{STYLE}"><section style="{STYLE}"><p style="{STYLE}">'
                         f'<span style="{STYLE}">{escape(para)}</span></p></section></section>')
            parts.append(f'<p style="text-align: center;"><img class="rich_pages" data-ratio="0.75" '
                         f'data-type="{ext}" data-w="1080" style="width: 100%; height: auto;" '
                         f'data-src="http://{host}{alias}"></p>')
        else:
            parts.append(f"<p>{escape(para)}</p>")
            parts.append(f'<figure><img src="http://{host}{alias}" alt="figure {k}"><figcaption>'
                         f'{escape(en_text(rng, 8))}</figcaption></figure>')
    tail = zh_text(rng, 6) if zh else en_text(rng, 60)
    parts.append(f"<p>{escape(tail)}</p>")
    return "\n".join(parts)


def write_feed(path, fmt, title, link, items):
    now = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)
    with open(path, "w", encoding="utf-8") as f:
        if fmt == "rss2":
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n')
            f.write(f"<title>{escape(title)}</title><link>{link}</link><description>{escape(title)}</description>\n")
            for i, (t, l, html) in enumerate(items):
                d = (now - timedelta(hours=i)).strftime("%a, %d %b %Y %H:%M:%S +0000")
                f.write(f"<item><title>{escape(t)}</title><link>{l}</link><guid>{l}</guid>"
                        f"<pubDate>{d}</pubDate><description><![CDATA[{html}]]></description></item>\n")
            f.write("</channel></rss>\n")
        elif fmt == "atom":
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n')
            f.write(f"<title>{escape(title)}</title><id>{link}</id><link href=\"{link}\"/>"
                    f"<updated>{now.isoformat()}</updated>\n")
            for i, (t, l, html) in enumerate(items):
                d = (now - timedelta(hours=i)).isoformat()
                f.write(f"<entry><title>{escape(t)}</title><id>{l}</id><link href=\"{l}\"/>"
                        f"<updated>{d}</updated><author><name>bench</name></author>"
                        f"<content type=\"html\">{escape(html)}</content></entry>\n")
            f.write("</feed>\n")
        else:  # rss1 / RDF
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                    'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
                    'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n')
            f.write(f'<channel rdf:about="{link}"><title>{escape(title)}</title><link>{link}</link>'
                    f"<description>{escape(title)}</description><items><rdf:Seq>")
            for t, l, html in items:
                f.write(f'<rdf:li rdf:resource="{l}"/>')
            f.write("</rdf:Seq></items></channel>\n")
            for i, (t, l, html) in enumerate(items):
                d = (now - timedelta(hours=i)).isoformat()
                f.write(f'<item rdf:about="{l}"><title>{escape(t)}</title><link>{l}</link><dc:date>{d}</dc:date>'
                        f"<content:encoded><![CDATA[{html}]]></content:encoded></item>\n")
            f.write("</rdf:RDF>\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--feeds", type=int, default=20)
    ap.add_argument("--articles", type=int, default=25)
    ap.add_argument("--images", type=int, default=4, help="images per article")
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    global IM
    IM = find_imagemagick()
    rng = random.Random(a.seed)
    out = os.path.abspath(a.out)
    os.makedirs(f"{out}/feeds", exist_ok=True)
    host = f"127.0.0.1:{a.port}"

    # Every image reference is its own file with its own pixels, as in real feeds, so nothing
    # can be deduplicated: 55% JPEG photos, 25% PNG (diagrams or photos), 12% WebP, 8% GIF.
    os.makedirs(f"{out}/base", exist_ok=True)
    bases = [(f"{out}/base/{i}.v", a.seed * 100 + i) for i in range(8)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        list(ex.map(make_base, bases))
    fmts = ["rss2", "atom", "rss1"]
    urls, jobs = [], []
    n_img = 0
    for fi in range(a.feeds):
        zh = fi % 2 == 0
        fmt = "rss2" if zh else fmts[fi % 3]
        items = []
        for ai in range(a.articles):
            imgs = []
            d = f"img/f{fi:02d}a{ai:03d}"
            os.makedirs(f"{out}/{d}", exist_ok=True)
            for k in range(a.images):
                r = rng.randrange(100)
                kind = "jpg" if r < 55 else "png" if r < 80 else "webp" if r < 92 else "gif"
                if kind == "gif":
                    w, h = 480, 270
                else:
                    w = rng.choice([640, 800, 1080, 1080, 1280, 1600, 2048])
                    h = min(2250, int(w * rng.choice([0.5, 0.5625, 0.75, 1.0, 1.33])))
                path = f"{out}/{d}/{k}.{kind}"
                jobs.append((path, kind, w, h, a.seed * 100000 + n_img, rng.choice(bases)[0]))
                imgs.append((kind, f"/{d}/{k}.{kind}"))
                n_img += 1
            title = (zh_text(rng, 1)[:18] if zh else en_text(rng, 7))
            link = f"http://{host}/post/f{fi:02d}/{ai:03d}.html"
            items.append((title, link, article_html(rng, zh, imgs, host)))
        name = f"feed{fi:02d}.xml"
        write_feed(f"{out}/feeds/{name}", fmt, ("中文频道 " if zh else "Blog ") + str(fi),
                   f"http://{host}/", items)
        urls.append(f"http://{host}/feeds/{name}")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        list(ex.map(make_image, jobs))

    with open(f"{out}/feeds.txt", "w") as f:
        f.write("\n".join(urls) + "\n")
    with open(f"{out}/nginx.conf", "w") as f:
        # nginx started by root hands requests to "nobody", who cannot read a corpus under
        # /root/.cache; serving as the user who made the corpus works for both cases.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        f.write(f"""{user}worker_processes 1;
daemon on;
pid {out}/nginx.pid;
error_log {out}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  types {{ image/jpeg jpg; image/png png; image/gif gif; image/webp webp; application/xml xml; text/html html; }}
  client_body_temp_path {out}/tmp; proxy_temp_path {out}/tmp; fastcgi_temp_path {out}/tmp;
  uwsgi_temp_path {out}/tmp; scgi_temp_path {out}/tmp;
  server {{
    listen 127.0.0.1:{a.port};
    root {out};
    location /post/ {{ return 200 "<html><body><p>article page</p></body></html>"; }}
  }}
}}
""")
    os.makedirs(f"{out}/tmp", exist_ok=True)
    with open(f"{out}/bench.recipe", "w") as f:
        feeds = ",\n        ".join(f"('Feed {i}', '{u}')" for i, u in enumerate(urls))
        f.write(f"""from calibre.web.feeds.news import BasicNewsRecipe

class Bench(BasicNewsRecipe):
    title = 'Bench digest'
    language = 'zh'
    oldest_article = 100000
    max_articles_per_feed = 10000
    use_embedded_content = True
    no_stylesheets = True
    compress_news_images = True
    scale_news_images_to_device = True
    simultaneous_downloads = 8
    timeout = 30
    feeds = [
        {feeds}
    ]

    def preprocess_raw_html(self, raw_html, url):
        # WeChat-style lazy images carry the URL in data-src
        return raw_html.replace(' data-src="', ' src="')
""")
    img_bytes = sum(os.path.getsize(j[0]) for j in jobs)
    with open(f"{out}/MANIFEST", "w") as f:
        f.write(f"feeds {a.feeds}\narticles {a.feeds * a.articles}\nimage_refs {n_img}\n"
                f"image_bytes {img_bytes}\nport {a.port}\n")
    print(open(f"{out}/MANIFEST").read(), end="")


if __name__ == "__main__":
    main()
