#!/usr/bin/python3
"""A fixture HTTP server for the fetch tests and every integration test, on 127.0.0.1 only.

Binds an ephemeral port and writes it to --port-file once listening; serves the static files of
--root and a set of misbehaving routes, over HTTPS with --tls CERT KEY (the test certificate is
tests/fixtures/fetch/tls-cert.pem). Standard library only. Every request is counted (see
/hits) and, with --log FILE, appended to FILE as one line "METHOD PATH STATUS".

Routes (FILE is a path below --root; N, MS, BPS are integers):
  /FILE                             the file (Content-Type from its extension)
  /status/CODE[?retry_after=S&location=URL]
                                    answers CODE with a short text body (Retry-After / Location
                                    headers when given; S may be "date+N" for an HTTP-date N
                                    seconds ahead)
  /flaky/CODE-then-ok/FILE[?n=N&retry_after=S]
                                    the first N hits (default 1) of this exact path+query answer
                                    CODE, later ones serve FILE
  /etag/FILE                        FILE with ETag and Last-Modified; 304 when If-None-Match
                                    matches, or (without it) If-Modified-Since is not older
  /slow/BPS/FILE                    FILE with its Content-Length, dripped at BPS bytes/second
  /stall/FILE                       headers (Content-Length of FILE), then nothing for 60 s
  /redirect/N/FILE                  302 chain: N redirects, then FILE
  /redirect-loop                    302 to itself, forever
  /redirect-file                    302 to file:///etc/passwd
  /redirect-to?url=URL              302 to any URL
  /gzip-bomb[/MB]                   a ~100 KB gzip body (Content-Encoding: gzip) inflating to MB
                                    (default 100) megabytes of zeros
  /truncated/FILE                   Content-Length of FILE plus 1000, half of FILE, then close
  /close                            closes the connection without an answer
  /ctype/TYPE/FILE                  FILE served as TYPE: "text/html/feed.xml" gives text/html;
                                    an encoded "image%2Fpng/a.jpg" works too
  /big/MB[?nolength=1]              MB megabytes of 'x' (no Content-Length with nolength: the
                                    body is delimited by closing the connection)
  /referer-required/FILE            403 unless a Referer is sent
  /no-referer/FILE                  403 when a Referer is sent (like WeChat's image host)
  /header-echo                      the request headers as a JSON object, names lower-cased
  /hold/MS/FILE[?group=G]           waits MS ms, then FILE; tracks concurrent requests per G
  /concurrency?group=G              JSON {"active": A, "max": M} for group G (default "")
  /hits[?path=P]                    JSON {path: count} of every request so far (path without
                                    query); with path=P just P's count as text (P with a '?'
                                    counts that exact path+query)
  /reset                            forgets hits, flaky counters and concurrency records
Control routes (/hits, /concurrency, /reset) are not counted. Requests in absolute form
("GET http://host/path") are served as /path, so the server doubles as an HTTP proxy for
itself; /header-echo then shows "x-fixture-proxied": "1".
"""
import argparse
import email.utils
import hashlib
import json
import mimetypes
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
HITS_PATH = {}      # path without query -> count
HITS_FULL = {}      # path with query -> count
FLAKY = {}          # path with query -> hits so far
ACTIVE = {}         # group -> active requests
MAX_ACTIVE = {}     # group -> highest active seen
BOMBS = {}          # MB -> gzip bytes
ROOT = "."
LOG = None


def retry_after(v):
	"""Seconds as given, or "date+N": an HTTP-date N seconds from now."""
	if v.startswith("date+"):
		return email.utils.formatdate(time.time() + int(v[5:]), usegmt=True)
	return v


def gzip_bomb(mb):
	with LOCK:
		if mb in BOMBS:
			return BOMBS[mb]
	c = zlib.compressobj(9, zlib.DEFLATED, 31)
	chunk = bytes(1 << 20)
	parts = [c.compress(chunk) for _ in range(mb)]
	parts.append(c.flush())
	data = b"".join(parts)
	with LOCK:
		BOMBS[mb] = data
	return data


class Handler(BaseHTTPRequestHandler):
	protocol_version = "HTTP/1.1"
	server_version = "inkdigest-fixture/1"

	def log_message(self, fmt, *args):
		pass

	def log_request(self, code="-", size="-"):
		if LOG:
			with LOCK:
				with open(LOG, "a", encoding="utf-8") as f:
					f.write("%s %s %s\n" % (self.command, self.path, code))

	# ---- helpers ----

	def local_file(self, rel):
		rel = urllib.parse.unquote(rel).lstrip("/")
		full = os.path.realpath(os.path.join(ROOT, rel))
		root = os.path.realpath(ROOT)
		if full != root and not full.startswith(root + os.sep):
			return None
		return full if os.path.isfile(full) else None

	def read_file(self, rel):
		p = self.local_file(rel)
		if p is None:
			return None, None
		with open(p, "rb") as f:
			data = f.read()
		ctype = mimetypes.guess_type(p)[0] or "application/octet-stream"
		if ctype.startswith("text/") or ctype.endswith("xml") or ctype.endswith("json"):
			ctype += "; charset=utf-8"
		return data, ctype

	def send(self, code, body=b"", ctype="text/plain; charset=utf-8", headers=None,
		 close=False):
		self.send_response(code)
		for k, v in (headers or {}).items():
			self.send_header(k, v)
		if code != 304:
			self.send_header("Content-Type", ctype)
			self.send_header("Content-Length", str(len(body)))
		if close:
			self.send_header("Connection", "close")
			self.close_connection = True
		self.end_headers()
		if self.command != "HEAD" and code != 304:
			self.wfile.write(body)

	def send_file(self, rel, headers=None, ctype=None):
		data, guessed = self.read_file(rel)
		if data is None:
			self.send(404, b"not found\n")
			return
		self.send(200, data, ctype or guessed, headers)

	# ---- dispatch ----

	def do_HEAD(self):
		self.do_GET()

	def do_GET(self):
		url = urllib.parse.urlsplit(self.path)
		if url.scheme:
			# Absolute form: a client using this server as its HTTP proxy.
			self.path = urllib.parse.urlunsplit(("", "", url.path, url.query, ""))
			self.headers["X-Fixture-Proxied"] = "1"
			url = urllib.parse.urlsplit(self.path)
		path = url.path
		q = dict(urllib.parse.parse_qsl(url.query))
		if path in ("/hits", "/concurrency", "/reset"):
			return self.control(path, q)
		with LOCK:
			HITS_PATH[path] = HITS_PATH.get(path, 0) + 1
			HITS_FULL[self.path] = HITS_FULL.get(self.path, 0) + 1
		parts = path.split("/")
		head = parts[1] if len(parts) > 1 else ""
		rest = "/".join(parts[2:])
		try:
			handler = ROUTES.get(head)
			if handler:
				return handler(self, rest, q)
			return self.send_file(path)
		except (BrokenPipeError, ConnectionResetError):
			self.close_connection = True

	def control(self, path, q):
		with LOCK:
			if path == "/reset":
				for d in (HITS_PATH, HITS_FULL, FLAKY, ACTIVE, MAX_ACTIVE):
					d.clear()
				body = b"ok\n"
				ctype = "text/plain"
			elif path == "/hits" and "path" in q:
				p = q["path"]
				n = HITS_FULL.get(p, 0) if "?" in p else HITS_PATH.get(p, 0)
				body = b"%d\n" % n
				ctype = "text/plain"
			elif path == "/hits":
				body = json.dumps(HITS_PATH).encode()
				ctype = "application/json"
			else:
				g = q.get("group", "")
				body = json.dumps({"active": ACTIVE.get(g, 0),
						   "max": MAX_ACTIVE.get(g, 0)}).encode()
				ctype = "application/json"
		self.send(200, body, ctype)

	# ---- routes ----

	def r_status(self, rest, q):
		code = int(rest.split("/")[0] or 500)
		headers = {}
		if "retry_after" in q:
			headers["Retry-After"] = retry_after(q["retry_after"])
		if "location" in q:
			headers["Location"] = q["location"]
		self.send(code, b"status %d\n" % code, headers=headers)

	def r_flaky(self, rest, q):
		spec, _, rel = rest.partition("/")
		code = int(spec.split("-")[0])
		n = int(q.get("n", "1"))
		with LOCK:
			seen = FLAKY.get(self.path, 0)
			FLAKY[self.path] = seen + 1
		if seen < n:
			headers = {}
			if "retry_after" in q:
				headers["Retry-After"] = retry_after(q["retry_after"])
			return self.send(code, b"flaky %d\n" % code, headers=headers)
		self.send_file(rel)

	def r_etag(self, rest, q):
		p = self.local_file(rest)
		if p is None:
			return self.send(404, b"not found\n")
		data, ctype = self.read_file(rest)
		etag = '"%s"' % hashlib.sha1(data).hexdigest()[:16]
		mtime = int(os.stat(p).st_mtime)
		lm = email.utils.formatdate(mtime, usegmt=True)
		headers = {"ETag": etag, "Last-Modified": lm}
		inm = self.headers.get("If-None-Match")
		ims = self.headers.get("If-Modified-Since")
		fresh = False
		if inm is not None:
			fresh = etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
		elif ims is not None:
			try:
				fresh = email.utils.parsedate_to_datetime(ims).timestamp() >= mtime
			except (TypeError, ValueError):
				fresh = False
		if fresh:
			return self.send(304, headers=headers)
		self.send(200, data, ctype, headers)

	def r_slow(self, rest, q):
		bps_s, _, rel = rest.partition("/")
		bps = max(1, int(bps_s))
		data, ctype = self.read_file(rel)
		if data is None:
			return self.send(404, b"not found\n")
		self.send_response(200)
		self.send_header("Content-Type", ctype)
		self.send_header("Content-Length", str(len(data)))
		self.send_header("Connection", "close")
		self.close_connection = True
		self.end_headers()
		step = max(1, bps // 10)
		for i in range(0, len(data), step):
			self.wfile.write(data[i:i + step])
			self.wfile.flush()
			time.sleep(step / bps)

	def r_stall(self, rest, q):
		data, ctype = self.read_file(rest)
		self.send_response(200)
		self.send_header("Content-Type", ctype or "text/plain")
		self.send_header("Content-Length", str(len(data or b"x")))
		self.send_header("Connection", "close")
		self.close_connection = True
		self.end_headers()
		self.wfile.flush()
		time.sleep(60)

	def r_redirect(self, rest, q):
		n_s, _, rel = rest.partition("/")
		n = int(n_s)
		if n <= 0:
			return self.send_file(rel)
		self.send(302, b"", headers={"Location": "/redirect/%d/%s" % (n - 1, rel)})

	def r_redirect_loop(self, rest, q):
		self.send(302, b"", headers={"Location": "/redirect-loop"})

	def r_redirect_file(self, rest, q):
		self.send(302, b"", headers={"Location": "file:///etc/passwd"})

	def r_redirect_to(self, rest, q):
		self.send(302, b"", headers={"Location": q.get("url", "/")})

	def r_gzip_bomb(self, rest, q):
		mb = int(rest or 100)
		body = gzip_bomb(mb)
		self.send(200, body, "application/xml",
			  headers={"Content-Encoding": "gzip"})

	def r_truncated(self, rest, q):
		data, ctype = self.read_file(rest)
		if data is None:
			return self.send(404, b"not found\n")
		self.send_response(200)
		self.send_header("Content-Type", ctype)
		self.send_header("Content-Length", str(len(data) + 1000))
		self.send_header("Connection", "close")
		self.close_connection = True
		self.end_headers()
		self.wfile.write(data[:len(data) // 2])
		self.wfile.flush()
		self.connection.shutdown(socket.SHUT_RDWR)

	def r_close(self, rest, q):
		self.close_connection = True
		self.connection.shutdown(socket.SHUT_RDWR)

	def r_ctype(self, rest, q):
		first, _, more = rest.partition("/")
		first = urllib.parse.unquote(first)
		if "/" in first:
			ctype, rel = first, more
		else:
			sub, _, rel = more.partition("/")
			ctype = first + "/" + sub
		self.send_file(rel, ctype=ctype)

	def r_big(self, rest, q):
		mb = int(rest or 1)
		total = mb << 20
		chunk = b"x" * (1 << 16)
		self.send_response(200)
		self.send_header("Content-Type", "application/octet-stream")
		if q.get("nolength"):
			self.send_header("Connection", "close")
			self.close_connection = True
		else:
			self.send_header("Content-Length", str(total))
		self.end_headers()
		sent = 0
		while sent < total:
			self.wfile.write(chunk)
			sent += len(chunk)

	def r_referer_required(self, rest, q):
		if not self.headers.get("Referer"):
			return self.send(403, b"referer required\n")
		self.send_file(rest)

	def r_no_referer(self, rest, q):
		if self.headers.get("Referer"):
			return self.send(403, b"hotlinking not allowed\n")
		self.send_file(rest)

	def r_header_echo(self, rest, q):
		h = {}
		for k, v in self.headers.items():
			h[k.lower()] = v
		self.send(200, json.dumps(h).encode(), "application/json")

	def r_hold(self, rest, q):
		ms_s, _, rel = rest.partition("/")
		g = q.get("group", "")
		with LOCK:
			ACTIVE[g] = ACTIVE.get(g, 0) + 1
			MAX_ACTIVE[g] = max(MAX_ACTIVE.get(g, 0), ACTIVE[g])
		try:
			time.sleep(int(ms_s) / 1000.0)
		finally:
			with LOCK:
				ACTIVE[g] -= 1
		self.send_file(rel)


ROUTES = {
	"status": Handler.r_status,
	"flaky": Handler.r_flaky,
	"etag": Handler.r_etag,
	"slow": Handler.r_slow,
	"stall": Handler.r_stall,
	"redirect": Handler.r_redirect,
	"redirect-loop": Handler.r_redirect_loop,
	"redirect-file": Handler.r_redirect_file,
	"redirect-to": Handler.r_redirect_to,
	"gzip-bomb": Handler.r_gzip_bomb,
	"truncated": Handler.r_truncated,
	"close": Handler.r_close,
	"ctype": Handler.r_ctype,
	"big": Handler.r_big,
	"referer-required": Handler.r_referer_required,
	"no-referer": Handler.r_no_referer,
	"header-echo": Handler.r_header_echo,
	"hold": Handler.r_hold,
}


class Server(ThreadingHTTPServer):
	daemon_threads = True
	allow_reuse_address = True
	request_queue_size = 128

	def handle_error(self, request, client_address):
		# Clients that hang up (timeouts, size caps) are part of the tests, not failures.
		exc = sys.exc_info()[1]
		if isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError,
				    ssl.SSLError)):
			return
		super().handle_error(request, client_address)


def main():
	global ROOT, LOG
	p = argparse.ArgumentParser(description=__doc__,
				    formatter_class=argparse.RawDescriptionHelpFormatter)
	p.add_argument("--port-file", required=True)
	p.add_argument("--root", default=".")
	p.add_argument("--log", help="append one line per request to this file")
	p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS")
	a = p.parse_args()
	ROOT = a.root
	LOG = a.log
	srv = Server(("127.0.0.1", 0), Handler)
	port = srv.server_address[1]
	if a.tls:
		ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
		ctx.load_cert_chain(a.tls[0], a.tls[1])
		# The handshake runs in the handler's thread: a stuck client never blocks accept.
		srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
					     do_handshake_on_connect=False)
	tmp = a.port_file + ".tmp"
	with open(tmp, "w", encoding="ascii") as f:
		f.write("%d\n" % port)
	os.replace(tmp, a.port_file)
	try:
		srv.serve_forever(poll_interval=0.1)
	except KeyboardInterrupt:
		pass
	return 0


if __name__ == "__main__":
	sys.exit(main())
