/* util: silencing libxml2's thread-wide error handlers while a stage parses untrusted markup
 * (the stages count or ignore parse errors themselves; libxml2 must never print). Nothing
 * else of libxml2 lives here. */
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

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
