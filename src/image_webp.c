/* Stage `image`, WebP decoder: WebP bytes in (lossy, lossless, alpha, animated), an 8-bit gray
 * raster out, already scaled to the target by libwebp's own rescaler. Opaque images are decoded
 * to YUV and only the Y plane is used; alpha is composited on white. An animation gives its
 * first frame. Never prints; sizes are checked from the header before decoding. */
#include "image_internal.h"

#include <webp/decode.h>
#include <webp/demux.h>

/* libwebp's Y is studio range (16..235); stretch to full range like its RGB output does. */
static void y_to_gray(unsigned char *lut)
{
	for (int v = 0; v < 256; v++) {
		int g = ((v - 16) * 255 * 2 + 219) / (219 * 2);
		lut[v] = (unsigned char)(g < 0 ? 0 : g > 255 ? 255 : g);
	}
}

static const char *vp8_status(VP8StatusCode s)
{
	switch (s) {
	case VP8_STATUS_OUT_OF_MEMORY:
		return "out of memory";
	case VP8_STATUS_INVALID_PARAM:
		return "invalid parameter";
	case VP8_STATUS_BITSTREAM_ERROR:
		return "bitstream error";
	case VP8_STATUS_UNSUPPORTED_FEATURE:
		return "unsupported feature";
	case VP8_STATUS_NOT_ENOUGH_DATA:
		return "truncated data";
	default:
		return "error";
	}
}

/* Decodes one still bitstream (a whole file or an animation frame) at ow x oh into g. */
static int decode_still(const uint8_t *data, size_t len, int ow, int oh, struct image_gray *g,
                        struct err *e)
{
	WebPDecoderConfig cfg;
	if (!WebPInitDecoderConfig(&cfg)) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: WebP: library version mismatch");
		return -1;
	}
	VP8StatusCode st = WebPGetFeatures(data, len, &cfg.input);
	if (st != VP8_STATUS_OK) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: WebP: %s", vp8_status(st));
		return -1;
	}
	if (ow != cfg.input.width || oh != cfg.input.height) {
		cfg.options.use_scaling = 1;
		cfg.options.scaled_width = ow;
		cfg.options.scaled_height = oh;
	}
	int alpha = cfg.input.has_alpha;
	/* Premultiplied RGBA: compositing on white is then just adding 255 - alpha. */
	cfg.output.colorspace = alpha ? MODE_rgbA : MODE_YUV;
	st = WebPDecode(data, len, &cfg);
	if (st != VP8_STATUS_OK) {
		WebPFreeDecBuffer(&cfg.output);
		err_set(e, IMAGE_ERR_CORRUPT, "decode: WebP: %s", vp8_status(st));
		return -1;
	}
	if (cfg.output.width != ow || cfg.output.height != oh) {
		WebPFreeDecBuffer(&cfg.output);
		err_set(e, IMAGE_ERR_CORRUPT, "decode: WebP: unexpected output size");
		return -1;
	}
	image_gray_alloc(g, ow, oh);
	if (alpha) {
		const WebPRGBABuffer *b = &cfg.output.u.RGBA;
		for (int y = 0; y < oh; y++) {
			const uint8_t *s = b->rgba + (size_t)y * (size_t)b->stride;
			unsigned char *out = g->px + (size_t)y * (size_t)ow;
			for (int x = 0; x < ow; x++, s += 4) {
				unsigned v = image_luma(s[0], s[1], s[2]) + 255u - s[3];
				out[x] = (unsigned char)(v > 255 ? 255 : v);
			}
		}
	} else {
		unsigned char lut[256];
		y_to_gray(lut);
		const WebPYUVABuffer *b = &cfg.output.u.YUVA;
		for (int y = 0; y < oh; y++) {
			const uint8_t *s = b->y + (size_t)y * (size_t)b->y_stride;
			unsigned char *out = g->px + (size_t)y * (size_t)ow;
			for (int x = 0; x < ow; x++)
				out[x] = lut[s[x]];
		}
	}
	WebPFreeDecBuffer(&cfg.output);
	return 0;
}

/* The first frame of an animation on a white canvas, at full size (frames can be offset, so
 * the rescaler can't be used on them; the common resize step shrinks the canvas). */
static int decode_first_frame(const uint8_t *data, size_t len, const struct image_plan *p,
                              struct image_decoded *d, struct err *e)
{
	WebPData wd = {data, len};
	WebPDemuxer *dmx = WebPDemux(&wd);
	if (!dmx) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: WebP: invalid animation container");
		return -1;
	}
	int rc = -1;
	int cw = (int)WebPDemuxGetI(dmx, WEBP_FF_CANVAS_WIDTH);
	int ch = (int)WebPDemuxGetI(dmx, WEBP_FF_CANVAS_HEIGHT);
	WebPIterator it;
	if (image_check_size(p, "WebP", cw, ch, e) != 0)
		goto out_dmx;
	if (!WebPDemuxGetFrame(dmx, 1, &it)) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: WebP: animation without frames");
		goto out_dmx;
	}
	struct image_gray f = {0};
	if (it.width <= 0 || it.height <= 0 || it.x_offset < 0 || it.y_offset < 0 ||
	    it.x_offset + it.width > cw || it.y_offset + it.height > ch) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: WebP: frame outside the canvas");
		goto out_it;
	}
	if (decode_still(it.fragment.bytes, it.fragment.size, it.width, it.height, &f, e) != 0)
		goto out_it;
	d->w_in = cw;
	d->h_in = ch;
	d->orientation = 1;
	image_gray_alloc(&d->g, cw, ch);
	memset(d->g.px, 255, (size_t)cw * (size_t)ch);
	for (int y = 0; y < it.height; y++)
		memcpy(d->g.px + (size_t)(it.y_offset + y) * (size_t)cw + (size_t)it.x_offset,
		       f.px + (size_t)y * (size_t)it.width, (size_t)it.width);
	free(f.px);
	rc = 0;
out_it:
	WebPDemuxReleaseIterator(&it);
out_dmx:
	WebPDemuxDelete(dmx);
	return rc;
}

int image_decode_webp(const unsigned char *data, size_t len, const struct image_plan *p,
                      struct image_decoded *d, struct err *e)
{
	WebPBitstreamFeatures feat;
	VP8StatusCode st = WebPGetFeatures(data, len, &feat);
	if (st != VP8_STATUS_OK) {
		err_set(e, IMAGE_ERR_CORRUPT, "decode: WebP: %s", vp8_status(st));
		return -1;
	}
	if (feat.has_animation)
		return decode_first_frame(data, len, p, d, e);
	if (image_check_size(p, "WebP", feat.width, feat.height, e) != 0)
		return -1;
	d->w_in = feat.width;
	d->h_in = feat.height;
	d->orientation = 1;
	int tw, th;
	image_target_size(p, feat.width, feat.height, 1, &tw, &th);
	return decode_still(data, len, tw, th, &d->g, e);
}
