/* Stage `cli`: the command line. Parses arguments, finds the config, templates and state, runs
 * the subcommands and decides the exit code. It wires stages together only through pipeline.c
 * and the stage headers; it never parses feeds, HTML or images itself. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clean.h"
#include "cli.h"
#include "config.h"
#include "feed.h"
#include "mail.h"
#include "fetch.h"
#include "font.h"
#include "pipeline.h"
#include "state.h"

static const char usage_text[] =
	"Usage: inkdigest COMMAND [OPTIONS]\n"
	"\n"
	"Turns the new articles of your feeds into one EPUB for an e-ink reader.\n"
	"\n"
	"Commands:\n"
	"  run [-c CONFIG] [-o OUT.epub] [--state FILE] [--report FILE.json] [--no-mail] [-q] [-v]\n"
	"                     build the digest of what is new since the last run\n"
	"  check [-c CONFIG]  validate a config; problems as FILE:LINE: message\n"
	"  inspect URL|FILE [--json]\n"
	"                     fetch and parse one feed and show what inkdigest sees\n"
	"  import-opml FILE   print [feed] sections for the feeds of an OPML export\n"
	"  send FILE.epub... [-c CONFIG]\n"
	"                     mail existing books with the config's [mail] settings\n"
	"  log [N] [-c CONFIG] [--state FILE]\n"
	"                     show the last N runs (default 10)\n"
	"  state forget FEED|--all [-c CONFIG] [--state FILE]\n"
	"                     forget what was delivered, to receive old articles again\n"
	"  profiles           list the device profiles (image box sizes)\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE  config file (default $XDG_CONFIG_HOME/inkdigest/config.ini)\n"
	"  -o, --output FILE  where to write the book (default: the config's output)\n"
	"      --state FILE   state database (default: the config's state, else\n"
	"                     $XDG_STATE_HOME/inkdigest/state.db)\n"
	"      --report FILE  write the run report as JSON\n"
	"      --no-mail      do not mail the book even when [mail] is enabled\n"
	"      --wait SECONDS wait this long for another run's lock (default 0: leave at once)\n"
	"  -q, --quiet        errors only (for cron)\n"
	"  -v, --verbose      debug output\n"
	"  -h, --help         this help\n"
	"  -V, --version      the version\n"
	"\n"
	"Exit codes: 0 book written or nothing new, 64 usage, 65 bad input, 66 missing file,\n"
	"69 every feed failed or mail refused, 70 internal error, 73 cannot write the book,\n"
	"74 state database error, 75 temporary failure (mail, lock), 78 invalid config.\n";

struct cli_opts {
	const char *config;
	const char *output;
	const char *state;
	const char *report;
	int no_mail;
	int json;
	int all;
	long wait_s;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("inkdigest: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'inkdigest --help'.\n", stderr);
	return EXIT_USAGE;
}

static char *xdg_path(const char *env, const char *fallback_rel, const char *leaf)
{
	const char *base = getenv(env);
	if (base && base[0] == '/')
		return xasprintf("%s/inkdigest/%s", base, leaf);
	const char *home = getenv("HOME");
	return xasprintf("%s/%s/inkdigest/%s", home && *home ? home : ".", fallback_rel, leaf);
}

static int mkdir_parents(const char *path)
{
	char *dir = util_dirname(path);
	int rc = 0;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		rc = -1;
	free(dir);
	return rc;
}

static int is_dir(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Data folders: the config's choice, then next to the installed binary (PREFIX/share), then the
 * source tree the binary was built from. */
static char *find_data_dir(const char *configured, const char *leaf)
{
	if (configured)
		return xstrdup(configured);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *bindir = util_dirname(exe);
		char *cand = xasprintf("%s/../share/inkdigest/%s", bindir, leaf);
		free(bindir);
		if (is_dir(cand))
			return cand;
		free(cand);
	}
	char *cand = xasprintf("%s/%s", INKDIGEST_DATADIR, leaf);
	if (is_dir(cand))
		return cand;
	free(cand);
	return xasprintf("%s/%s", INKDIGEST_SOURCE_DIR, leaf);
}

static char *config_path(const struct cli_opts *co)
{
	if (co->config)
		return xstrdup(co->config);
	return xdg_path("XDG_CONFIG_HOME", ".config", "config.ini");
}

/* Appends the feeds of the config's OPML file (opml = FILE) to its own [feed] sections; a
 * URL already named in the config keeps its section. */
static int add_opml_feeds(struct config *cfg)
{
	struct buf b = BUF_INIT;
	struct err e = {0};
	struct feed_conf *feeds = NULL;
	size_t n = 0;
	int rc = 0;
	if (util_read_file(cfg->opml, 20u << 20, &b, &e) != 0) {
		fprintf(stderr, "inkdigest: opml %s\n", e.msg);
		rc = -1;
	} else if (feed_parse_opml(b.data, b.len, &feeds, &n, &e) != 0) {
		fprintf(stderr, "inkdigest: opml %s: %s\n", cfg->opml, e.msg);
		rc = -1;
	} else {
		cfg->feeds = xrealloc(cfg->feeds, (cfg->n_feeds + n + 1) * sizeof(*cfg->feeds));
		for (size_t i = 0; i < n; i++) {
			int dup = 0;
			for (size_t k = 0; k < cfg->n_feeds && !dup; k++)
				dup = strcmp(cfg->feeds[k].url, feeds[i].url) == 0;
			if (dup) {
				feed_conf_release(&feeds[i]);
				continue;
			}
			feeds[i].max_articles = -1;
			cfg->feeds[cfg->n_feeds++] = feeds[i];
		}
	}
	free(feeds);
	buf_release(&b);
	return rc;
}

/* What config cannot judge alone: the mail templates' placeholders and the feeds' selectors
 * belong to the stages that use them. One line per problem; 0 when all are usable. */
static int check_stage_settings(const struct config *cfg, const char *path)
{
	int bad = 0;
	struct err e = {0};
	const char *tmpl[] = {cfg->mail.subject, cfg->mail.body};
	for (size_t i = 0; i < ARRAY_SIZE(tmpl); i++) {
		char *x = tmpl[i] ? mail_expand(tmpl[i], NULL, &e) : NULL;
		if (tmpl[i] && !x) {
			fprintf(stderr, "%s:%d: [mail] %s: %s\n", path, cfg->mail.line,
				i ? "body" : "subject", e.msg + strlen("mail: "));
			bad = 1;
		}
		free(x);
	}
	for (size_t f = 0; f < cfg->n_feeds; f++) {
		const struct feed_conf *fc = &cfg->feeds[f];
		const struct strlist *lists[] = {&fc->keep, &fc->remove};
		for (size_t k = 0; k < ARRAY_SIZE(lists); k++)
			for (size_t i = 0; i < lists[k]->n; i++)
				if (clean_selector_check(lists[k]->items[i], &e) != 0) {
					fprintf(stderr, "%s:%d: [feed \"%s\"] %s: %s\n", path,
						fc->line, fc->name, k ? "remove" : "keep", e.msg);
					bad = 1;
				}
	}
	return bad ? -1 : 0;
}

static int load_config(const struct cli_opts *co, struct config *cfg)
{
	char *path = config_path(co);
	struct strlist errors = {0};
	int rc = EXIT_OK_;
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "inkdigest: config %s: %s\n", path, strerror(errno));
		rc = EXIT_NOINPUT;
	} else if (config_load(path, cfg, &errors) != 0) {
		for (size_t i = 0; i < errors.n; i++)
			fprintf(stderr, "%s\n", errors.items[i]);
		rc = EXIT_CONFIG;
	} else {
		for (size_t i = 0; i < cfg->warnings.n; i++)
			fprintf(stderr, "%s\n", cfg->warnings.items[i]);
		if ((cfg->opml && add_opml_feeds(cfg) != 0) || check_stage_settings(cfg, path) != 0)
			rc = EXIT_CONFIG;
		else if (cfg->n_feeds == 0) {
			fprintf(stderr, "inkdigest: config %s: no feeds\n", path);
			rc = EXIT_CONFIG;
		}
		/* Times in the book (article dates, the cover's date) are in the digest's zone. */
		if (rc == EXIT_OK_ && cfg->timezone) {
			setenv("TZ", cfg->timezone, 1);
			tzset();
		}
	}
	strlist_release(&errors);
	free(path);
	return rc;
}

static char *state_path(const struct cli_opts *co, const struct config *cfg)
{
	if (co->state)
		return xstrdup(co->state);
	if (cfg && cfg->state)
		return xstrdup(cfg->state);
	return xdg_path("XDG_STATE_HOME", ".local/state", "state.db");
}

/* Parses the options every subcommand shares; returns the index of the first operand or -1. */
static int parse_opts(int argc, char **argv, struct cli_opts *co, int *status)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"output", required_argument, NULL, 'o'},
		{"state", required_argument, NULL, 's'},
		{"report", required_argument, NULL, 'r'},
		{"no-mail", no_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"all", no_argument, NULL, 'a'},
		{"wait", required_argument, NULL, 'w'},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	optind = 0; /* glibc: start over with a fresh scan */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+c:o:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': co->config = optarg; break;
		case 'o': co->output = optarg; break;
		case 's': co->state = optarg; break;
		case 'r': co->report = optarg; break;
		case 'm': co->no_mail = 1; break;
		case 'j': co->json = 1; break;
		case 'a': co->all = 1; break;
		case 'w':
			if (util_parse_long(optarg, &co->wait_s) != 0 || co->wait_s < 0) {
				*status = usage_error("--wait: not a number of seconds: %s", optarg);
				return -1;
			}
			break;
		case 'q': log_set_level(LOG_ERROR); break;
		case 'v': log_set_level(LOG_DEBUG); break;
		case 'h':
			fputs(usage_text, stdout);
			*status = EXIT_OK_;
			return -1;
		default:
			*status = usage_error("unknown or incomplete option: %s", argv[optind - 1]);
			return -1;
		}
	}
	return optind;
}

static int cmd_run(int argc, char **argv, struct cli_opts *co)
{
	if (argc > 0)
		return usage_error("run: unexpected argument: %s", argv[0]);
	struct config cfg = {0};
	int rc = load_config(co, &cfg);
	if (rc != EXIT_OK_) {
		config_release(&cfg);
		return rc;
	}
	char *state = state_path(co, &cfg);
	char *templates = find_data_dir(cfg.templates, "templates");
	char *fonts = find_data_dir(NULL, "fonts");
	if (mkdir_parents(state) != 0) {
		fprintf(stderr, "inkdigest: state %s: cannot create its folder: %s\n", state,
			strerror(errno));
		rc = EXIT_CANTCREAT;
		goto out;
	}
	if (co->output == NULL && cfg.output)
		mkdir_parents(cfg.output);
	struct pipeline_opts po = {
		.cfg = &cfg,
		.output = co->output,
		.state_path = state,
		.report_path = co->report,
		.templates_dir = templates,
		.fonts_dir = fonts,
		.no_mail = co->no_mail,
		.progress = isatty(STDERR_FILENO) && log_get_level() == LOG_INFO,
		.lock_wait_s = (int)co->wait_s,
	};
	rc = pipeline_run(&po);
out:
	free(state);
	free(templates);
	free(fonts);
	config_release(&cfg);
	return rc;
}

static int cmd_check(int argc, char **argv, struct cli_opts *co)
{
	if (argc > 0)
		return usage_error("check: unexpected argument: %s", argv[0]);
	struct config cfg = {0};
	int rc = load_config(co, &cfg);
	if (rc == EXIT_OK_) {
		char *path = config_path(co);
		/* Which font `auto` finds is the first question when Chinese shows as squares. */
		char *fonts = find_data_dir(NULL, "fonts");
		struct font_choice fc = {0};
		struct err fe = {0};
		char *font_note;
		if (font_resolve_in(cfg.font ? cfg.font : "auto", cfg.dir, fonts, &fc, &fe) != 0)
			font_note = xasprintf(", no font: %s", fe.msg);
		else if (!fc.path)
			font_note = xstrdup(", no font embedded");
		else
			font_note = xasprintf(", font %s (%s)", fc.family ? fc.family : "?", fc.path);
		printf("%s: ok: %zu feeds, device %s (%ldx%ld)%s%s\n", path, cfg.n_feeds, cfg.device,
		       cfg.max_width, cfg.max_height, cfg.mail.enabled ? ", mail on" : "", font_note);
		free(font_note);
		font_choice_release(&fc);
		free(fonts);
		free(path);
	}
	config_release(&cfg);
	return rc;
}

static int cmd_profiles(int argc, char **argv, struct cli_opts *co)
{
	(void)co;
	if (argc > 0)
		return usage_error("profiles: unexpected argument: %s", argv[0]);
	for (const struct device_profile *p = config_profiles(); p->name; p++)
		printf("%-24s %4dx%-4d  %s\n", p->name, p->width, p->height,
		       p->description ? p->description : "");
	return EXIT_OK_;
}

static int cmd_import_opml(int argc, char **argv, struct cli_opts *co)
{
	(void)co;
	if (argc != 1)
		return usage_error("import-opml: %s", argc ? "too many arguments" : "missing FILE");
	struct buf b = BUF_INIT;
	struct err e = {0};
	if (util_read_file(argv[0], 20u << 20, &b, &e) != 0) {
		fprintf(stderr, "inkdigest: opml %s\n", e.msg);
		buf_release(&b);
		return EXIT_NOINPUT;
	}
	struct feed_conf *feeds = NULL;
	size_t n = 0;
	int rc = EXIT_OK_;
	if (feed_parse_opml(b.data, b.len, &feeds, &n, &e) != 0) {
		fprintf(stderr, "inkdigest: opml %s: %s\n", argv[0], e.msg);
		rc = EXIT_DATAERR;
	} else {
		for (size_t i = 0; i < n; i++) {
			/* A section name cannot hold a double quote or a newline in INI. */
			char *name = xstrdup(feeds[i].name);
			for (char *p = name; *p; p++)
				if (*p == '"' || *p == '\n' || *p == '\r' || *p == ']')
					*p = '\'';
			printf("[feed \"%s\"]\nurl = %s\n", name, feeds[i].url);
			if (feeds[i].group)
				printf("group = %s\n", feeds[i].group);
			printf("\n");
			free(name);
		}
	}
	for (size_t i = 0; i < n; i++)
		feed_conf_release(&feeds[i]);
	free(feeds);
	buf_release(&b);
	return rc;
}

struct inspect_ctx {
	int json;
	int rc;
	const char *url;
};

static void json_add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void inspect_done(void *user, struct fetch_response *resp)
{
	struct inspect_ctx *ic = user;
	if (resp->error != FETCH_OK) {
		fprintf(stderr, "inkdigest: feed %s: fetch: %s\n", ic->url, resp->error_msg);
		ic->rc = EXIT_UNAVAILABLE;
		return;
	}
	struct feed_doc doc = {0};
	struct err e = {0};
	char *charset = NULL;
	if (resp->content_type) {
		const char *p = strstr(resp->content_type, "charset=");
		if (p)
			charset = xstrndup(p + 8, strcspn(p + 8, "; \t\""));
	}
	struct feed_parse_opts po = {
		.url = resp->effective_url ? resp->effective_url : ic->url,
		.http_charset = charset,
		.fetch_time = util_now(),
	};
	if (feed_parse(resp->data ? resp->data : "", resp->len, &po, &doc, &e) != 0) {
		fprintf(stderr, "inkdigest: feed %s: parse: %s\n", ic->url, e.msg);
		free(charset);
		ic->rc = EXIT_DATAERR;
		return;
	}
	free(charset);
	cJSON *root = cJSON_CreateObject();
	json_add_str(root, "title", doc.title);
	json_add_str(root, "link", doc.link);
	json_add_str(root, "format", doc.format);
	cJSON *warnings = cJSON_AddArrayToObject(root, "warnings");
	for (size_t i = 0; i < doc.warnings.n; i++)
		cJSON_AddItemToArray(warnings, cJSON_CreateString(doc.warnings.items[i]));
	cJSON *items = cJSON_AddArrayToObject(root, "items");
	for (size_t i = 0; i < doc.n_items; i++) {
		struct article *a = &doc.items[i];
		struct clean_result cr = {0};
		struct clean_opts co = {.base_url = a->base_url ? a->base_url : a->link
							? a->link : po.url};
		const char *html = a->content ? a->content : "";
		if (clean_html(html, strlen(html), &co, &cr, &e) != 0)
			cr.xhtml = xstrdup("");
		if (!cr.images.n && a->lead_image)
			strlist_add(&cr.images, a->lead_image);
		cJSON *it = cJSON_CreateObject();
		json_add_str(it, "id", a->id);
		json_add_str(it, "title", a->title);
		json_add_str(it, "link", a->link);
		json_add_str(it, "author", a->author);
		if (a->published >= 0 && !a->date_guessed) {
			char when[32];
			util_format_rfc3339(a->published, when, sizeof(when));
			cJSON_AddStringToObject(it, "published", when);
		} else {
			cJSON_AddNullToObject(it, "published");
		}
		json_add_str(it, "content", cr.xhtml);
		cJSON *imgs = cJSON_AddArrayToObject(it, "images");
		for (size_t k = 0; k < cr.images.n; k++)
			cJSON_AddItemToArray(imgs, cJSON_CreateString(cr.images.items[k]));
		cJSON_AddItemToArray(items, it);
		clean_result_release(&cr);
	}
	if (ic->json) {
		char *text = cJSON_Print(root);
		puts(text);
		cJSON_free(text);
	} else {
		printf("title:  %s\nlink:   %s\nformat: %s\nitems:  %zu\n", doc.title ? doc.title : "",
		       doc.link ? doc.link : "", doc.format ? doc.format : "?", doc.n_items);
		for (size_t i = 0; i < doc.warnings.n; i++)
			printf("warning: %s\n", doc.warnings.items[i]);
		cJSON *it;
		cJSON_ArrayForEach(it, items)
		{
			cJSON *pub = cJSON_GetObjectItem(it, "published");
			cJSON *imgs = cJSON_GetObjectItem(it, "images");
			printf("\n- %s\n  id:        %s\n  link:      %s\n  published: %s\n"
			       "  images:    %d\n",
			       cJSON_GetStringValue(cJSON_GetObjectItem(it, "title")),
			       cJSON_GetStringValue(cJSON_GetObjectItem(it, "id")),
			       cJSON_IsString(cJSON_GetObjectItem(it, "link"))
				       ? cJSON_GetStringValue(cJSON_GetObjectItem(it, "link"))
				       : "-",
			       cJSON_IsString(pub) ? cJSON_GetStringValue(pub) : "unknown",
			       cJSON_GetArraySize(imgs));
		}
	}
	cJSON_Delete(root);
	feed_doc_release(&doc);
}

static int cmd_inspect(int argc, char **argv, struct cli_opts *co)
{
	if (argc != 1)
		return usage_error("inspect: %s", argc ? "too many arguments" : "missing URL or FILE");
	struct inspect_ctx ic = {.json = co->json, .rc = EXIT_OK_, .url = argv[0]};
	struct fetcher *f = fetch_new(NULL);
	/* The user named this feed on the command line, so a local file is allowed. */
	struct fetch_request req = {.url = argv[0], .max_bytes = 20u << 20, .allow_file = 1};
	fetch_add(f, &req, inspect_done, &ic);
	fetch_run(f, NULL, NULL);
	fetch_free(f);
	return ic.rc;
}

static int open_state(const struct cli_opts *co, int readonly, struct state **st)
{
	struct config cfg = {0};
	char *cpath = config_path(co);
	int have_cfg = access(cpath, R_OK) == 0;
	free(cpath);
	if (have_cfg || co->config) {
		int rc = load_config(co, &cfg);
		if (rc != EXIT_OK_) {
			config_release(&cfg);
			return rc;
		}
	}
	char *path = state_path(co, have_cfg ? &cfg : NULL);
	config_release(&cfg);
	struct err e = {0};
	int rc = EXIT_OK_;
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "inkdigest: state %s: %s\n", path, strerror(errno));
		rc = EXIT_NOINPUT;
	} else if ((readonly ? state_open_readonly(path, st, &e)
			     : state_open(path, (int)co->wait_s, st, &e)) != 0) {
		fprintf(stderr, "inkdigest: %s\n", e.msg);
		rc = e.code == STATE_ERR_LOCKED ? EXIT_TEMPFAIL : EXIT_IOERR;
	}
	free(path);
	return rc;
}

static int cmd_log(int argc, char **argv, struct cli_opts *co)
{
	long n = 10;
	if (argc > 1)
		return usage_error("log: unexpected argument: %s", argv[1]);
	if (argc == 1 && (util_parse_long(argv[0], &n) != 0 || n <= 0))
		return usage_error("log: not a positive number: %s", argv[0]);
	struct state *st = NULL;
	int rc = open_state(co, 1, &st);
	if (rc != EXIT_OK_)
		return rc;
	struct err e = {0};
	if (state_print_log(st, (int)n, stdout, &e) != 0) {
		fprintf(stderr, "inkdigest: state: %s\n", e.msg);
		rc = EXIT_IOERR;
	}
	state_close(st);
	return rc;
}

static int cmd_state(int argc, char **argv, struct cli_opts *co)
{
	if (argc < 1 || strcmp(argv[0], "forget") != 0)
		return usage_error("state: expected 'forget FEED' or 'forget --all'");
	if ((argc == 1) == !co->all || argc > 2)
		return usage_error("state forget: name one feed (its name or URL) or --all");
	const char *feed = argc == 2 ? argv[1] : NULL;
	char *key = NULL;
	if (feed) {
		/* A feed's name from the config stands for its URL, which is what the state keys. */
		struct config cfg = {0};
		struct cli_opts c2 = *co;
		char *cpath = config_path(co);
		if (access(cpath, R_OK) == 0 && load_config(&c2, &cfg) == EXIT_OK_)
			for (size_t i = 0; i < cfg.n_feeds; i++)
				if (!key && strcmp(cfg.feeds[i].name, feed) == 0)
					key = pipeline_feed_key(cfg.feeds[i].url);
		free(cpath);
		config_release(&cfg);
		if (!key)
			key = pipeline_feed_key(feed);
	}
	struct state *st = NULL;
	int rc = open_state(co, 0, &st);
	if (rc != EXIT_OK_) {
		free(key);
		return rc;
	}
	struct err e = {0};
	long n = state_forget(st, key, &e);
	/* Without this the feed's next fetch may be a 304 that hides the forgotten articles. */
	if (n >= 0 && key && state_http_forget(st, key, &e) != 0)
		n = -1;
	if (n < 0) {
		fprintf(stderr, "inkdigest: state: %s\n", e.msg);
		rc = EXIT_IOERR;
	} else {
		printf("forgot %ld delivered article%s%s%s\n", n, n == 1 ? "" : "s",
		       key ? " of " : "", key ? key : "");
	}
	state_close(st);
	free(key);
	return rc;
}

static int cmd_send(int argc, char **argv, struct cli_opts *co)
{
	if (argc < 1)
		return usage_error("send: missing FILE.epub");
	for (int i = 0; i < argc; i++)
		if (access(argv[i], R_OK) != 0) {
			fprintf(stderr, "inkdigest: send %s: %s\n", argv[i], strerror(errno));
			return EXIT_NOINPUT;
		}
	struct config cfg = {0};
	int rc = load_config(co, &cfg);
	if (rc == EXIT_OK_ && !cfg.mail.smtp_url) {
		fprintf(stderr, "inkdigest: send: the config has no [mail] smtp setting\n");
		rc = EXIT_CONFIG;
	}
	if (rc == EXIT_OK_)
		rc = pipeline_send(&cfg, (const char *const *)argv, (size_t)argc);
	config_release(&cfg);
	return rc;
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct cli_opts *co);
	const char *help;
};

static const struct command commands[] = {
	{"run", cmd_run,
	 "Usage: inkdigest run [-c CONFIG] [-o OUT.epub] [--state FILE] [--report FILE.json]\n"
	 "                     [--no-mail] [--wait SECONDS] [-q] [-v]\n"
	 "Builds the digest of what is new since the last run. Prints the book's path.\n"},
	{"check", cmd_check,
	 "Usage: inkdigest check [-c CONFIG]\nValidates a config; problems as FILE:LINE: message.\n"},
	{"inspect", cmd_inspect,
	 "Usage: inkdigest inspect URL|FILE [--json]\n"
	 "Fetches and parses one feed and prints what inkdigest sees (title, link, format, and\n"
	 "per item id, title, link, author, published, content, images).\n"},
	{"import-opml", cmd_import_opml,
	 "Usage: inkdigest import-opml FILE\nPrints [feed] sections for the feeds of an OPML file.\n"},
	{"send", cmd_send,
	 "Usage: inkdigest send FILE.epub... [-c CONFIG] [-v]\n"
	 "Mails existing books with the config's [mail] settings.\n"},
	{"log", cmd_log,
	 "Usage: inkdigest log [N] [-c CONFIG] [--state FILE]\nShows the last N runs (default 10).\n"},
	{"state", cmd_state,
	 "Usage: inkdigest state forget FEED|--all [-c CONFIG] [--state FILE]\n"
	 "Forgets the delivered articles of one feed (its name or URL), or of all.\n"},
	{"profiles", cmd_profiles, "Usage: inkdigest profiles\nLists the device profiles.\n"},
};

int cli_main(int argc, char **argv)
{
	/* A full disk or a file size limit must end in a clear error and a cleaned-up output
	 * path (EFBIG), not in a kill; a peer that closes a connection is libcurl's to report. */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		return usage_error("missing command");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return EXIT_OK_;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("inkdigest %s\n", INKDIGEST_VERSION);
		return EXIT_OK_;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			cmd = &commands[i];
	if (!cmd)
		return usage_error("unknown command: %s", argv[1]);

	/* Options may come before or after operands: collect operands as getopt stops. */
	struct cli_opts co = {0};
	int sub_argc = argc - 1;
	char **sub_argv = argv + 1;
	char **operands = xcalloc((size_t)sub_argc + 1, sizeof(*operands));
	int n_operands = 0;
	int status = EXIT_OK_;
	for (int i = 1; i < sub_argc; i++)
		if (!strcmp(sub_argv[i], "-h") || !strcmp(sub_argv[i], "--help")) {
			fputs(cmd->help, stdout);
			free(operands);
			return EXIT_OK_;
		}
	while (sub_argc > 0) {
		int first = parse_opts(sub_argc, sub_argv, &co, &status);
		if (first < 0) {
			free(operands);
			return status;
		}
		if (first >= sub_argc)
			break;
		operands[n_operands++] = sub_argv[first];
		/* Keep argv[0] for getopt and continue after the operand. */
		sub_argv[first] = sub_argv[0];
		sub_argv += first;
		sub_argc -= first;
	}
	if (fetch_global_init() != 0) {
		free(operands);
		fputs("inkdigest: cannot initialise libcurl\n", stderr);
		return EXIT_SOFTWARE;
	}
	int rc = cmd->fn(n_operands, operands, &co);
	fetch_global_cleanup();
	font_global_cleanup();
	free(operands);
	return rc;
}
