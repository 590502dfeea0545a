/* Stage `config`: reads the INI file (inih) into plain settings and feed list. Validates every
 * value and reports problems as "FILE:LINE: message". Never touches the network or the state. */
#ifndef INKDIGEST_CONFIG_H
#define INKDIGEST_CONFIG_H

#include "model.h"

struct mail_conf {
	int enabled;
	struct strlist to;       /* at most 15 */
	char *from;
	char *smtp_url;          /* smtps://host:465 or smtp://host:587 */
	char *tls;               /* "required" (default) or "none" */
	char *user;
	char *password_env;
	char *password_file;
	char *password_command;
	char *ca_file;
	char *subject;           /* template, may be NULL */
	char *body;              /* template, may be NULL */
	long max_mail_size;      /* bytes of the encoded message; default 50 MB */
	int line;                /* line of [mail], for messages */
};

struct config {
	char *path;              /* the config file as given */
	char *dir;               /* its folder: relative paths resolve against it */
	char *title;             /* default "inkdigest" */
	char *language;          /* default "en" */
	char *output;            /* strftime pattern, absolute after load */
	char *state;             /* absolute after load */
	char *templates;         /* folder, or NULL for the built-in search */
	char *font;              /* "auto", "none" or PATH[#index] */
	char *opml;              /* OPML file to read feeds from, or NULL */
	char *ca_file;           /* extra CA certificates (PEM) for downloads, or NULL */
	char *timezone;          /* TZ name for displayed times, or NULL for the system's */
	long max_age_h;          /* 0 = no limit; default 48 */
	long max_articles_per_feed;  /* 0 = no limit; default 25 */
	char *device;            /* profile name; default "kindle-paperwhite" */
	long max_width, max_height;  /* image box (from the device unless set) */
	long jpeg_quality;       /* default 75 */
	long max_size;           /* book size budget in bytes; default 45 MB */
	long max_image_bytes;    /* default 15 MB */
	long max_image_pixels;   /* default 40,000,000 */
	long max_feed_bytes;     /* default 20 MB */
	long concurrency;        /* default 8 */
	long per_host;           /* default 2 */
	long timeout_s;          /* per transfer; default 60 */
	long connect_timeout_s;  /* default 15 */
	long prune_days;         /* default 90 */
	char *proxy;             /* global proxy, or NULL */
	int block_private_addresses;
	struct feed_conf *feeds;
	size_t n_feeds;
	struct mail_conf mail;
	struct strlist warnings; /* non-fatal notes, "FILE:LINE: message"; the caller prints them */
};

/* A device profile: name and the image box in pixels. The box is the screen, capped at
 * 1440x1920 for Kindles (Send to Kindle downsamples anything larger). */
struct device_profile {
	const char *name;
	int width, height;
	const char *description;
	int screen_width, screen_height;  /* the panel itself */
	int kindle;              /* 1: dc:language must be Kindle-supported, box capped */
};
/* All known profiles, terminated by a {NULL} entry. */
const struct device_profile *config_profiles(void);
const struct device_profile *config_find_profile(const char *name);

/* 1 when lang (a BCP 47 tag such as "zh-CN") has a primary subtag Kindle accepts as
 * dc:language (KDP's list: zh, ja, en, de, fr, ... but not ko). */
int config_kindle_language_ok(const char *lang);

/* Loads and validates path into c. On failure returns -1 and adds one "FILE:LINE: message"
 * line per problem to errors (all problems, not just the first). c must be released either
 * way. */
int config_load(const char *path, struct config *c, struct strlist *errors);
void config_release(struct config *c);

#endif
