#!/usr/bin/env python3
"""Regenerates the images of the offline demo corpus (examples/demo/images/).

Every picture is drawn here from shapes, gradients and seeded noise: nothing is copied from
anywhere. The outputs are committed, so this script is needed only to change them.
Needs python3-pil (Debian). Run from anywhere: python3 examples/demo/make-images.py
"""

import io
import math
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFilter, ImageFont

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
MAX_JPEG_BYTES = 400 * 1024


def lerp(a, b, t):
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))


def vertical_gradient(size, top, bottom):
    w, h = size
    col = Image.new("RGB", (1, h))
    for y in range(h):
        col.putpixel((0, y), lerp(top, bottom, y / max(1, h - 1)))
    return col.resize((w, h))


def add_noise(img, rng, amount):
    """Film-grain: seeded, so the output is the same on every run."""
    w, h = img.size
    # Noise drawn at a quarter of the size and scaled up looks like grain, not like static,
    # and keeps the JPEG within budget.
    small = (w // 4, h // 4)
    grain = Image.frombytes("L", small, rng.randbytes(small[0] * small[1]))
    grain = grain.resize((w, h), Image.BILINEAR).convert("RGB")
    return Image.blend(img, grain, amount)


def save_jpeg(img, name):
    """Saves at the highest quality that stays under the size budget."""
    for quality in (88, 84, 80, 76, 72, 68, 64, 60):
        data = io.BytesIO()
        img.save(data, "JPEG", quality=quality, optimize=True)
        if data.tell() <= MAX_JPEG_BYTES:
            break
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data.getvalue())


def big_text(draw_on, xy, text, scale, fill):
    """PIL's default font is a small bitmap font: draw it small and scale it up."""
    font = ImageFont.load_default()
    box = font.getbbox(text)
    w, h = box[2] + 2, box[3] + 2
    tile = Image.new("L", (w, h), 0)
    ImageDraw.Draw(tile).text((1, 1), text, font=font, fill=255)
    tile = tile.resize((w * scale, h * scale), Image.NEAREST)
    colour = Image.new(draw_on.mode, tile.size, fill)
    draw_on.paste(colour, xy, tile)
    return tile.size


def landscape(rng, name, size, sky, ground, sun):
    """A photo-like landscape: sky gradient, sun, ridges, lake reflection, grain."""
    w, h = size
    img = vertical_gradient(size, sky[0], sky[1])
    d = ImageDraw.Draw(img)
    sx, sy, sr = sun
    for i in range(6, 0, -1):
        glow = lerp(sky[1], (255, 240, 200), i / 8)
        r = sr * (1 + i * 0.35)
        d.ellipse((sx - r, sy - r, sx + r, sy + r), fill=glow)
    d.ellipse((sx - sr, sy - sr, sx + sr, sy + sr), fill=(255, 244, 214))
    horizon = int(h * 0.62)
    for layer in range(4):
        base = horizon - int(h * 0.18) + layer * int(h * 0.06)
        colour = lerp(ground[0], ground[1], layer / 3)
        points = [(0, h)]
        x = 0
        y = base
        while x <= w:
            y = base - abs(math.sin(x / (180 + 70 * layer) + layer)) * h * (0.16 - layer * 0.03)
            y += rng.uniform(-8, 8)
            points.append((x, y))
            x += 24
        points.append((w, h))
        d.polygon(points, fill=colour)
    d.rectangle((0, horizon + int(h * 0.12), w, h), fill=lerp(ground[1], sky[0], 0.35))
    for _ in range(140):
        y = rng.randint(horizon + int(h * 0.13), h)
        x = rng.randint(0, w)
        ln = rng.randint(40, 260)
        d.line((x, y, x + ln, y), fill=lerp(sky[1], (255, 255, 255), rng.random() * 0.5), width=3)
    img = img.filter(ImageFilter.GaussianBlur(2))
    img = add_noise(img, rng, 0.07)
    save_jpeg(img, name)


def lab_photo(rng, name, size):
    """An indoor scene: racks of servers with status lights, warm and cold light."""
    w, h = size
    img = vertical_gradient(size, (28, 34, 52), (70, 64, 80))
    d = ImageDraw.Draw(img)
    d.polygon([(0, h), (w, h), (w * 0.7, h * 0.7), (w * 0.3, h * 0.7)], fill=(58, 56, 66))
    for rack in range(7):
        x0 = int(w * 0.04 + rack * w * 0.135)
        x1 = x0 + int(w * 0.11)
        d.rectangle((x0, int(h * 0.12), x1, int(h * 0.78)), fill=(22, 24, 30), outline=(90, 96, 110), width=4)
        for row in range(22):
            y = int(h * 0.14 + row * h * 0.028)
            d.rectangle((x0 + 10, y, x1 - 10, y + int(h * 0.02)), fill=(38, 42, 52))
            for led in range(3):
                c = rng.choice([(60, 220, 120), (60, 220, 120), (240, 180, 40), (70, 140, 255)])
                lx = x1 - 30 - led * 22
                d.ellipse((lx, y + 8, lx + 10, y + 18), fill=c)
    d.ellipse((w * 0.55, -h * 0.4, w * 1.3, h * 0.35), fill=(120, 110, 130))
    img = img.filter(ImageFilter.GaussianBlur(3))
    img = add_noise(img, rng, 0.06)
    save_jpeg(img, name)


def city_night(rng, name, size):
    """A skyline at dusk, used as a WeChat background-image banner."""
    w, h = size
    img = vertical_gradient(size, (18, 22, 60), (210, 110, 90))
    d = ImageDraw.Draw(img)
    x = 0
    while x < w:
        bw = rng.randint(60, 180)
        bh = rng.randint(int(h * 0.25), int(h * 0.8))
        d.rectangle((x, h - bh, x + bw, h), fill=(16, 16, 28))
        for wy in range(h - bh + 16, h - 10, 28):
            for wx in range(x + 10, x + bw - 14, 22):
                if rng.random() < 0.45:
                    d.rectangle((wx, wy, wx + 10, wy + 14), fill=(255, 214, 120))
        x += bw + rng.randint(4, 20)
    img = img.filter(ImageFilter.GaussianBlur(1))
    img = add_noise(img, rng, 0.05)
    save_jpeg(img, name)


def bar_chart(name, title, labels, values, unit, alpha=False):
    """A diagram with labels; with alpha=True its background is transparent."""
    w, h = 1600, 1000
    mode = "RGBA" if alpha else "RGB"
    bg = (0, 0, 0, 0) if alpha else (255, 255, 255)
    img = Image.new(mode, (w, h), bg)
    d = ImageDraw.Draw(img)
    ink = (30, 30, 30, 255) if alpha else (30, 30, 30)
    big_text(img, (80, 40), title, 5, ink)
    left, bottom, top = 160, h - 140, 180
    d.line((left, top, left, bottom), fill=ink, width=5)
    d.line((left, bottom, w - 80, bottom), fill=ink, width=5)
    top_value = max(values) * 1.15
    for i in range(5):
        y = bottom - (bottom - top) * i / 4
        d.line((left - 12, y, w - 80, y), fill=(200, 200, 200, 255) if alpha else (215, 215, 215), width=2)
        big_text(img, (30, int(y) - 18), "%d" % round(top_value * i / 4), 3, ink)
    colours = [(52, 101, 164), (204, 0, 0), (78, 154, 6), (196, 160, 0), (117, 80, 123)]
    slot = (w - 80 - left) / len(values)
    for i, (label, value) in enumerate(zip(labels, values)):
        x0 = left + slot * i + slot * 0.2
        x1 = left + slot * (i + 1) - slot * 0.2
        y0 = bottom - (bottom - top) * value / top_value
        c = colours[i % len(colours)]
        d.rectangle((x0, y0, x1, bottom), fill=c + ((220,) if alpha else ()))
        big_text(img, (int(x0), int(y0) - 50), "%g %s" % (value, unit), 3, ink)
        big_text(img, (int(x0), bottom + 20), label, 3, ink)
    img.save(os.path.join(OUT, name), "PNG", optimize=True)


def pipeline_diagram(name):
    """Boxes and arrows: the stages of a feed-to-book pipeline."""
    w, h = 1800, 520
    img = Image.new("RGB", (w, h), (250, 250, 247))
    d = ImageDraw.Draw(img)
    stages = ["fetch", "parse", "clean", "images", "epub", "mail"]
    bw = 230
    gap = (w - 2 * 60 - bw * len(stages)) / (len(stages) - 1)
    for i, stage in enumerate(stages):
        x0 = int(60 + i * (bw + gap))
        d.rounded_rectangle((x0, 170, x0 + bw, 350), radius=28, fill=(235, 240, 250),
                    outline=(40, 60, 110), width=6)
        tw = len(stage) * 6 * 4
        big_text(img, (x0 + (bw - tw) // 2, 235), stage, 4, (20, 30, 60))
        if i < len(stages) - 1:
            ax0 = x0 + bw + 8
            ax1 = int(ax0 + gap - 16)
            d.line((ax0, 260, ax1, 260), fill=(40, 60, 110), width=6)
            d.polygon([(ax1, 260), (ax1 - 22, 246), (ax1 - 22, 274)], fill=(40, 60, 110))
    big_text(img, (60, 60), "feeds -> one small EPUB", 5, (60, 60, 60))
    big_text(img, (60, 420), "each stage: bytes in, data out", 3, (110, 110, 110))
    img.save(os.path.join(OUT, name), "PNG", optimize=True)


def terminal_screenshot(name):
    """A screenshot-like PNG: a terminal window with a run's output, flat colours."""
    w, h = 1400, 820
    img = Image.new("RGB", (w, h), (236, 236, 236))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, w, 56), fill=(210, 210, 214))
    for i, c in enumerate([(237, 106, 94), (245, 191, 79), (98, 197, 84)]):
        d.ellipse((24 + i * 36, 16, 48 + i * 36, 40), fill=c)
    big_text(img, (w // 2 - 150, 14), "user@pi: ~", 3, (70, 70, 70))
    d.rectangle((0, 56, w, h), fill=(30, 32, 36))
    lines = [
        ("$ inkdigest run", (220, 220, 220)),
        ("feed 1/3  ok   12 articles, 3 new", (150, 220, 150)),
        ("feed 2/3  ok    8 articles, 2 new", (150, 220, 150)),
        ("feed 3/3  304  not modified", (200, 200, 120)),
        ("images 9/9  2.1 MB -> 412 KB", (220, 220, 220)),
        ("book  digest-2026-11-26.epub  (5 articles)", (220, 220, 220)),
        ("$ _", (220, 220, 220)),
    ]
    for i, (text, colour) in enumerate(lines):
        big_text(img, (40, 100 + i * 92), text, 4, colour)
    img.save(os.path.join(OUT, name), "PNG", optimize=True)


def tracking_pixel(name):
    img = Image.new("P", (1, 1), 0)
    img.putpalette([255, 255, 255] + [0, 0, 0] * 255)
    img.save(os.path.join(OUT, name), "GIF", transparency=0)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(20261126)
    lab_photo(rng, "ai-lab.jpg", (2400, 1600))
    city_night(rng, "city-dusk.jpg", (2400, 900))
    landscape(rng, "lake-dawn.jpg", (2400, 1600), ((90, 120, 190), (250, 190, 140)),
          ((40, 50, 80), (20, 45, 40)), (1600, 620, 110))
    landscape(rng, "harbour-evening.jpg", (2000, 1333), ((40, 60, 120), (240, 150, 110)),
          ((50, 40, 60), (30, 30, 40)), (500, 560, 80))
    landscape(rng, "valley-noon.jpg", (1800, 1200), ((120, 170, 230), (225, 235, 245)),
          ((70, 110, 60), (40, 80, 50)), (1400, 260, 70))
    bar_chart("chart-decode.png", "tokens per second (higher is better)",
          ["baseline", "int8", "spec.", "spec.+int8"], [41, 63, 97, 128], "tok/s")
    bar_chart("chart-eink.png", "e-ink panel refresh (ms, lower is better)",
          ["2016", "2019", "2022", "2025"], [980, 620, 450, 260], "ms", alpha=True)
    pipeline_diagram("pipeline.png")
    terminal_screenshot("terminal.png")
    tracking_pixel("pixel.gif")
    total = 0
    for f in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, f))
        total += size
        print("%-22s %8d bytes" % (f, size))
    print("%-22s %8d bytes" % ("total", total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
