/* Stage `image`, GIF decoder: GIF bytes in, the first frame as an 8-bit gray raster out, placed
 * on a white logical screen (transparency shows white). Reads record by record and stops after
 * the first image, so an animation's later frames are never decoded. Never prints; the screen
 * size is checked before anything is allocated for it. */
#include "image_internal.h"

#include <gif_lib.h>

struct gif_src {
	const unsigned char *data;
	size_t len, pos;
};

static int on_gif_read(GifFileType *gif, GifByteType *out, int n)
{
	struct gif_src *s = gif->UserData;
	if (n <= 0)
		return 0;
	size_t k = (size_t)n;
	if (k > s->len - s->pos)
		k = s->len - s->pos;
	memcpy(out, s->data + s->pos, k);
	s->pos += k;
	return (int)k;
}

static int gif_fail(GifFileType *gif, const char *what, struct err *e)
{
	const char *why = GifErrorString(gif->Error);
	err_set(e, IMAGE_ERR_CORRUPT, "decode: GIF: %s: %s", what, why ? why : "error");
	return -1;
}

/* Reads the first image record onto the canvas in d. */
static int read_frame(GifFileType *gif, int transparent, const struct image_plan *p,
                      struct image_decoded *d, struct err *e)
{
	if (DGifGetImageDesc(gif) == GIF_ERROR)
		return gif_fail(gif, "image descriptor", e);
	GifImageDesc *id = &gif->Image;
	long fw = id->Width, fh = id->Height;
	long sw = gif->SWidth, sh = gif->SHeight;
	/* A zero or too-small logical screen: browsers size it from the frame. */
	if (sw <= 0 || sh <= 0) {
		sw = id->Left + fw;
		sh = id->Top + fh;
	}
	if (image_check_size(p, "GIF", sw, sh, e) != 0)
		return -1;
	if (fw <= 0 || fh <= 0) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: GIF: invalid frame size %ldx%ld", fw, fh);
		return -1;
	}
	if (fw > 65535 || fh > 65535 || fw * fh > (long)p->max_pixels) {
		err_set(e, IMAGE_ERR_TOO_LARGE, "decode: GIF: frame %ldx%ld is over the limit", fw,
		        fh);
		return -1;
	}
	ColorMapObject *cmap = id->ColorMap ? id->ColorMap : gif->SColorMap;
	if (!cmap || !cmap->Colors || cmap->ColorCount <= 0) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: GIF: no colour map");
		return -1;
	}
	unsigned char lut[256];
	for (int i = 0; i < 256; i++) {
		if (i < cmap->ColorCount) {
			GifColorType *c = &cmap->Colors[i];
			lut[i] = image_luma(c->Red, c->Green, c->Blue);
		} else {
			lut[i] = 0; /* an index past the map: browsers show black */
		}
	}
	d->w_in = (int)sw;
	d->h_in = (int)sh;
	d->orientation = 1;
	image_gray_alloc(&d->g, (int)sw, (int)sh);
	memset(d->g.px, 255, (size_t)sw * (size_t)sh);

	GifPixelType *line = xmalloc((size_t)fw);
	static const int start[] = {0, 4, 2, 1}, step[] = {8, 8, 4, 2};
	int passes = id->Interlace ? 4 : 1;
	int rc = 0;
	for (int pass = 0; pass < passes && rc == 0; pass++) {
		int y0 = id->Interlace ? start[pass] : 0, dy = id->Interlace ? step[pass] : 1;
		for (long y = y0; y < fh; y += dy) {
			if (DGifGetLine(gif, line, (int)fw) == GIF_ERROR) {
				rc = gif_fail(gif, "image data", e);
				break;
			}
			if (image_over_time(p)) {
				err_set(e, IMAGE_ERR_TOO_LARGE,
				        "decode: GIF: over the time limit of %d ms", p->timeout_ms);
				rc = -1;
				break;
			}
			/* Frame placement is clipped to the logical screen. */
			long cy = id->Top + y;
			if (cy < 0 || cy >= sh)
				continue;
			unsigned char *row = d->g.px + (size_t)cy * (size_t)sw;
			for (long x = 0; x < fw; x++) {
				long cx = id->Left + x;
				if (cx < 0 || cx >= sw)
					continue;
				if (line[x] == transparent)
					continue;
				row[cx] = lut[line[x]];
			}
		}
	}
	free(line);
	return rc;
}

static int decode_run(GifFileType *gif, const struct image_plan *p, struct image_decoded *d,
                      struct err *e)
{
	int transparent = -1;
	for (;;) {
		GifRecordType rec;
		if (DGifGetRecordType(gif, &rec) == GIF_ERROR)
			return gif_fail(gif, "record", e);
		switch (rec) {
		case IMAGE_DESC_RECORD_TYPE:
			return read_frame(gif, transparent, p, d, e);
		case EXTENSION_RECORD_TYPE: {
			int code;
			GifByteType *ext;
			if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR)
				return gif_fail(gif, "extension", e);
			if (code == GRAPHICS_EXT_FUNC_CODE && ext) {
				GraphicsControlBlock gcb;
				if (DGifExtensionToGCB(ext[0], ext + 1, &gcb) == GIF_OK)
					transparent = gcb.TransparentColor;
			}
			while (ext) {
				if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR)
					return gif_fail(gif, "extension", e);
			}
			break;
		}
		case TERMINATE_RECORD_TYPE:
			err_set(e, IMAGE_ERR_CORRUPT, "decode: GIF: no image in the file");
			return -1;
		default:
			break;
		}
	}
}

int image_decode_gif(const unsigned char *data, size_t len, const struct image_plan *p,
                     struct image_decoded *d, struct err *e)
{
	struct gif_src src = {data, len, 0};
	int gerr = 0;
	GifFileType *gif = DGifOpen(&src, on_gif_read, &gerr);
	if (!gif) {
		const char *why = GifErrorString(gerr);
		err_set(e, IMAGE_ERR_CORRUPT, "decode: GIF: %s", why ? why : "cannot open");
		return -1;
	}
	int rc = decode_run(gif, p, d, e);
	int cerr;
	DGifCloseFile(gif, &cerr);
	if (rc != 0) {
		free(d->g.px);
		d->g.px = NULL;
	}
	return rc;
}
