/* util: what the stages that parse untrusted HTML share: silencing libxml2's thread-wide error
 * handlers around a parse (the stages count or ignore errors themselves; libxml2 must never
 * print), and reading the charset a page declares. */
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include <ctype.h>

#include "util.h"

static void quiet_structured(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

static void quiet_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

void util_xml_quiet_begin(struct xml_quiet *q)
{
	xmlInitParser();
	q->serror = (void (*)(void))xmlStructuredError;
	q->sctx = xmlStructuredErrorContext;
	q->gerror = (void (*)(void))xmlGenericError;
	q->gctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(NULL, quiet_structured);
	xmlSetGenericErrorFunc(NULL, quiet_generic);
}

void util_xml_quiet_end(struct xml_quiet *q)
{
	xmlSetStructuredErrorFunc(q->sctx, (xmlStructuredErrorFunc)q->serror);
	xmlSetGenericErrorFunc(q->gctx, (xmlGenericErrorFunc)q->gerror);
}

char *util_html_meta_charset(const char *page, size_t len)
{
	size_t n = len < 4096 ? len : 4096;
	char *head = xstrndup(page, n);
	for (char *p = head; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	char *result = NULL;
	for (char *m = strstr(head, "<meta"); m && !result; m = strstr(m + 5, "<meta")) {
		char *end = strchr(m, '>');
		if (!end)
			break;
		char *cs = strstr(m, "charset");
		if (!cs || cs > end)
			continue;
		cs += 7;
		while (*cs == ' ')
			cs++;
		if (*cs++ != '=')
			continue;
		while (*cs == ' ' || *cs == '"' || *cs == '\'')
			cs++;
		char *v = cs;
		while (isalnum((unsigned char)*v) || *v == '-' || *v == '_' || *v == ':' ||
		       *v == '.')
			v++;
		if (v > cs)
			result = xstrndup(cs, (size_t)(v - cs));
	}
	free(head);
	return result;
}
