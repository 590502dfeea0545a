/* The run: wires the stages together (state → fetch → feed → extract/clean → image → font →
 * cover → epub → mail → state) for `inkdigest run`. Only the cli calls it; it is the one place
 * besides cli that knows every stage. */
#ifndef INKDIGEST_PIPELINE_H
#define INKDIGEST_PIPELINE_H

#include "config.h"

struct pipeline_opts {
	const struct config *cfg;
	const char *output;      /* -o, or NULL for cfg->output */
	const char *state_path;  /* resolved state database path */
	const char *report_path; /* --report, or NULL */
	const char *templates_dir;
	const char *fonts_dir;
	int no_mail;
	int progress;            /* draw progress on stderr (a TTY, not -q) */
	int lock_wait_s;
};

/* Runs the digest; returns a process exit code (enum exit_code in cli.h). Prints one line per
 * failure and a closing summary on stderr. */
int pipeline_run(const struct pipeline_opts *o);

/* The name a feed has in the state and the report: its URL without userinfo (user:password@),
 * so a secret never lands on disk; a local path as it is. The caller frees it. */
char *pipeline_feed_key(const char *url);

/* Sends existing books with the config's [mail] settings (for `inkdigest send`). */
int pipeline_send(const struct config *cfg, const char *const *paths, size_t n);

#endif
