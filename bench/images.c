/* Benchmark driver for stage `image`: converts the image files named on the command line, one
 * after another on one thread, and prints per-format images/s, CPU ms per megapixel of input,
 * bytes in/out and peak RSS. With -o DIR it writes each output as DIR/<name>.jpg so sizes and
 * pixels can be compared with vipsthumbnail's. Not a test; reads only the files it is given.
 * Usage: images [-w W] [-h H] [-q Q] [-r REPEAT] [-o OUTDIR] FILE... */
#include <getopt.h>
#include <libgen.h>
#include <sys/resource.h>

#include "image.h"

struct tally {
	int n, failed;
	double wall_s, cpu_s, mpix;
	size_t bytes_in, bytes_out;
};

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_tally(const char *what, const struct tally *t)
{
	if (t->n == 0)
		return;
	printf("%-5s images=%d failed=%d images_per_s=%.2f cpu_ms_per_mp=%.2f "
	       "ms_per_image=%.1f bytes_in=%zu bytes_out=%zu\n",
	       what, t->n, t->failed, t->n / t->wall_s, t->cpu_s * 1000.0 / t->mpix,
	       t->wall_s * 1000.0 / t->n, t->bytes_in, t->bytes_out);
}

int main(int argc, char **argv)
{
	struct image_opts o = {.max_width = 1236, .max_height = 1648, .quality = 75};
	const char *outdir = NULL;
	int repeat = 1, c;
	while ((c = getopt(argc, argv, "w:h:q:r:o:")) != -1) {
		long v = 0;
		if (c != 'o' && util_parse_long(optarg, &v) != 0) {
			fprintf(stderr, "images: bad number %s\n", optarg);
			return 2;
		}
		switch (c) {
		case 'w':
			o.max_width = (int)v;
			break;
		case 'h':
			o.max_height = (int)v;
			break;
		case 'q':
			o.quality = (int)v;
			break;
		case 'r':
			repeat = (int)v;
			break;
		case 'o':
			outdir = optarg;
			break;
		default:
			fprintf(stderr,
			        "usage: images [-w W] [-h H] [-q Q] [-r N] [-o DIR] FILE...\n");
			return 2;
		}
	}
	struct tally by_fmt[IMAGE_FORMAT_OTHER + 1] = {0}, all = {0};
	for (int i = optind; i < argc; i++) {
		struct buf in = BUF_INIT;
		struct err e = {0};
		if (util_read_file(argv[i], 0, &in, &e) != 0) {
			fprintf(stderr, "images: %s: %s\n", argv[i], e.msg);
			return 1;
		}
		enum image_format f = image_detect((const unsigned char *)in.data, in.len);
		struct tally *t = &by_fmt[f];
		for (int r = 0; r < repeat; r++) {
			struct image_result res = {0};
			double w0 = util_monotonic(), c0 = cpu_now();
			int rc =
			    image_convert((const unsigned char *)in.data, in.len, &o, &res, &e);
			double dw = util_monotonic() - w0, dc = cpu_now() - c0;
			t->n++;
			all.n++;
			t->wall_s += dw;
			all.wall_s += dw;
			t->cpu_s += dc;
			all.cpu_s += dc;
			t->bytes_in += in.len;
			all.bytes_in += in.len;
			if (rc != 0) {
				fprintf(stderr, "images: %s: %s\n", argv[i], e.msg);
				t->failed++;
				all.failed++;
				continue;
			}
			double mp = (double)res.width_in * res.height_in / 1e6;
			t->mpix += mp;
			all.mpix += mp;
			t->bytes_out += res.jpeg.len;
			all.bytes_out += res.jpeg.len;
			if (outdir && r == 0) {
				char *copy = xstrdup(argv[i]);
				char *path = xasprintf("%s/%s.jpg", outdir, basename(copy));
				/* Plain write, no fsync: vipsthumbnail doesn't sync either. */
				FILE *f = fopen(path, "wb");
				if (!f || fwrite(res.jpeg.data, 1, res.jpeg.len, f) != res.jpeg.len)
					fprintf(stderr, "images: cannot write %s\n", path);
				if (f)
					fclose(f);
				free(path);
				free(copy);
			}
			image_result_release(&res);
		}
		buf_release(&in);
	}
	for (int f = IMAGE_FORMAT_JPEG; f <= IMAGE_FORMAT_WEBP; f++)
		print_tally(image_format_name((enum image_format)f), &by_fmt[f]);
	print_tally("all", &all);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("peak_rss_kb=%ld\n", ru.ru_maxrss);
	return all.failed ? 1 : 0;
}
