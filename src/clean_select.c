/* Stage `clean`, per-feed selectors: a small CSS subset (tag, .class, #id, [attr], [attr=value],
 * the descendant combinator and comma lists) parsed from config text and matched against
 * libxml2 HTML element nodes. Never changes the tree it matches against. */
#include <ctype.h>

#include <libxml/tree.h>

#include "clean.h"

enum sel_kind { SEL_CLASS, SEL_ID, SEL_ATTR, SEL_ATTR_EQ };

struct sel_simple {
	enum sel_kind kind;
	char *name;
	char *value;
};

struct sel_compound {
	char *tag; /* lower case, NULL for any */
	struct sel_simple *s;
	size_t n;
};

struct sel_complex {
	struct sel_compound *parts; /* left to right; each is a descendant of the previous */
	size_t n;
};

struct clean_selector {
	struct sel_complex *alts;
	size_t n;
};

static int ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == ':' ||
	       (unsigned char)c >= 0x80;
}

static char *read_ident(const char **pp)
{
	const char *p = *pp;
	while (ident_char(*p))
		p++;
	if (p == *pp)
		return NULL;
	char *s = xstrndup(*pp, (size_t)(p - *pp));
	*pp = p;
	return s;
}

static void lower(char *s)
{
	for (; s && *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void compound_release(struct sel_compound *c)
{
	free(c->tag);
	for (size_t i = 0; i < c->n; i++) {
		free(c->s[i].name);
		free(c->s[i].value);
	}
	free(c->s);
}

void clean_selector_free(struct clean_selector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < s->alts[i].n; j++)
			compound_release(&s->alts[i].parts[j]);
		free(s->alts[i].parts);
	}
	free(s->alts);
	free(s);
}

static int parse_attr(const char **pp, struct sel_simple *out)
{
	const char *p = *pp + 1;
	while (*p == ' ')
		p++;
	out->name = read_ident(&p);
	if (!out->name)
		return -1;
	lower(out->name);
	while (*p == ' ')
		p++;
	out->kind = SEL_ATTR;
	if (*p == '=') {
		p++;
		while (*p == ' ')
			p++;
		out->kind = SEL_ATTR_EQ;
		if (*p == '"' || *p == '\'') {
			char q = *p++;
			const char *end = strchr(p, q);
			if (!end)
				return -1;
			out->value = xstrndup(p, (size_t)(end - p));
			p = end + 1;
		} else {
			out->value = read_ident(&p);
			if (!out->value)
				return -1;
		}
		while (*p == ' ')
			p++;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return 0;
}

static int parse_compound(const char **pp, struct sel_compound *c)
{
	const char *p = *pp;
	memset(c, 0, sizeof(*c));
	if (*p == '*') {
		p++;
	} else if (ident_char(*p)) {
		c->tag = read_ident(&p);
		lower(c->tag);
	}
	while (*p == '.' || *p == '#' || *p == '[') {
		c->s = xrealloc(c->s, (c->n + 1) * sizeof(*c->s));
		struct sel_simple *s = &c->s[c->n++];
		memset(s, 0, sizeof(*s));
		if (*p == '[') {
			if (parse_attr(&p, s) < 0)
				return -1;
			continue;
		}
		s->kind = *p == '.' ? SEL_CLASS : SEL_ID;
		p++;
		s->name = read_ident(&p);
		if (!s->name)
			return -1;
	}
	if (!c->tag && c->n == 0 && p == *pp)
		return -1;
	*pp = p;
	return 0;
}

int clean_selector_parse(const char *text, struct clean_selector **out, struct err *e)
{
	struct clean_selector *s = xcalloc(1, sizeof(*s));
	const char *p = text ? text : "";
	for (;;) {
		struct sel_complex cx = {NULL, 0};
		while (*p == ' ' || *p == '\t')
			p++;
		for (;;) {
			struct sel_compound c;
			cx.parts = xrealloc(cx.parts, (cx.n + 1) * sizeof(*cx.parts));
			if (parse_compound(&p, &c) < 0) {
				compound_release(&c);
				s->alts = xrealloc(s->alts, (s->n + 1) * sizeof(*s->alts));
				s->alts[s->n++] = cx;
				goto bad;
			}
			cx.parts[cx.n++] = c;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\0' || *p == ',')
				break;
		}
		s->alts = xrealloc(s->alts, (s->n + 1) * sizeof(*s->alts));
		s->alts[s->n++] = cx;
		if (*p == '\0')
			break;
		p++;
	}
	*out = s;
	return 0;
bad:
	err_set(e, 1, "clean: selector \"%s\": unsupported syntax at \"%.20s\"", text ? text : "",
	        p);
	clean_selector_free(s);
	return -1;
}

int clean_selector_check(const char *text, struct err *e)
{
	struct clean_selector *s;
	if (clean_selector_parse(text, &s, e) < 0)
		return -1;
	clean_selector_free(s);
	return 0;
}

static int has_class(const xmlNode *el, const char *cls)
{
	xmlChar *v = xmlGetProp(el, BAD_CAST "class");
	int found = 0;
	if (!v)
		return 0;
	size_t n = strlen(cls);
	const char *p = (const char *)v;
	while (*p && !found) {
		while (*p && isspace((unsigned char)*p))
			p++;
		const char *start = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		found = (size_t)(p - start) == n && memcmp(start, cls, n) == 0;
	}
	xmlFree(v);
	return found;
}

static int compound_matches(const struct sel_compound *c, const xmlNode *el)
{
	if (el->type != XML_ELEMENT_NODE)
		return 0;
	if (c->tag && strcasecmp(c->tag, (const char *)el->name) != 0)
		return 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct sel_simple *s = &c->s[i];
		xmlChar *v;
		int ok;
		switch (s->kind) {
		case SEL_CLASS:
			if (!has_class(el, s->name))
				return 0;
			break;
		case SEL_ID:
			v = xmlGetProp(el, BAD_CAST "id");
			ok = v && strcmp((const char *)v, s->name) == 0;
			xmlFree(v);
			if (!ok)
				return 0;
			break;
		case SEL_ATTR:
			if (!xmlHasProp(el, BAD_CAST s->name))
				return 0;
			break;
		case SEL_ATTR_EQ:
			v = xmlGetProp(el, BAD_CAST s->name);
			ok = v && strcmp((const char *)v, s->value) == 0;
			xmlFree(v);
			if (!ok)
				return 0;
			break;
		}
	}
	return 1;
}

/* With only descendant combinators, taking the nearest matching ancestor for each step
 * leftwards is exact: a farther one could only leave fewer ancestors for the rest. */
static int complex_matches(const struct sel_complex *cx, const xmlNode *el)
{
	if (cx->n == 0 || !compound_matches(&cx->parts[cx->n - 1], el))
		return 0;
	const xmlNode *cur = el->parent;
	for (size_t i = cx->n - 1; i-- > 0;) {
		while (cur && !compound_matches(&cx->parts[i], cur))
			cur = cur->parent;
		if (!cur)
			return 0;
		cur = cur->parent;
	}
	return 1;
}

int clean_selector_matches(const struct clean_selector *s, const struct _xmlNode *el)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (complex_matches(&s->alts[i], el))
			return 1;
	return 0;
}
