#!/usr/bin/python3
"""A real SMTP server for the mail tests (Debian's python3-aiosmtpd) on 127.0.0.1.

Binds an ephemeral port and writes it to --port-file once listening. Saves every accepted
message byte for byte as NNN.eml (plus NNN.json with the envelope) in --save-dir. Failure
modes let the tests exercise retries and permanent errors. Never listens beyond loopback.
"""
import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys

try:
	from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:
	# A python3 first on PATH (pyenv, a venv) may lack Debian's python3-aiosmtpd.
	if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
			os.access("/usr/bin/python3", os.X_OK):
		os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
	raise


def parse_args():
	p = argparse.ArgumentParser(description=__doc__)
	p.add_argument("--port-file", required=True)
	p.add_argument("--save-dir")
	tls = p.add_mutually_exclusive_group()
	tls.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"),
			 help="offer and require STARTTLS")
	tls.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"),
			 help="TLS from the first byte (smtps)")
	tls.add_argument("--no-starttls", action="store_true",
			 help="plain SMTP only: STARTTLS is not offered")
	p.add_argument("--auth", metavar="USER:PASSWORD",
		       help="require AUTH (PLAIN and LOGIN) with these credentials")
	p.add_argument("--auth-mechs", default="PLAIN,LOGIN",
		       help="comma-separated mechanisms to offer")
	p.add_argument("--reject-auth", action="store_true", help="answer every AUTH with 535")
	p.add_argument("--fail-first-n", type=int, default=0, metavar="N",
		       help="answer 421 to the first N attempts (see --fail-stage)")
	p.add_argument("--fail-stage", choices=("greeting", "data"), default="greeting",
		       help="where --fail-first-n answers 421: at connection or after DATA")
	p.add_argument("--max-size", type=int, default=0, metavar="BYTES",
		       help="refuse larger messages with 552 (and advertise SIZE)")
	p.add_argument("--stall", choices=("greeting", "data"),
		       help="never answer: at connection, or after the message data")
	p.add_argument("--reject-data", metavar="REPLY",
		       help="answer every message with this reply, e.g. '554 5.7.1 spam'")
	return p.parse_args()


class Handler:
	def __init__(self, args, state):
		self.args = args
		self.state = state

	async def handle_DATA(self, server, session, envelope):
		if self.args.stall == "data":
			await asyncio.sleep(3600)
		if self.args.fail_stage == "data" and self.state["failed"] < self.args.fail_first_n:
			self.state["failed"] += 1
			return "421 4.3.2 Busy, try again later"
		if self.args.reject_data:
			return self.args.reject_data
		if self.args.save_dir:
			self.state["saved"] += 1
			base = os.path.join(self.args.save_dir, "%03d" % self.state["saved"])
			with open(base + ".eml.tmp", "wb") as f:
				f.write(envelope.original_content)
			meta = {
				"mail_from": envelope.mail_from,
				"rcpt_tos": envelope.rcpt_tos,
				"login": (session.auth_data.login.decode("utf-8", "replace")
					  if session.auth_data is not None else None),
				"tls": session.ssl is not None or self.args.implicit_tls is not None,
			}
			with open(base + ".json", "w") as f:
				json.dump(meta, f)
			# The test looks for .eml files: only complete ones may appear.
			os.rename(base + ".eml.tmp", base + ".eml")
		return "250 2.0.0 Message accepted for delivery"


class Busy(asyncio.Protocol):
	"""Answers 421 at the greeting and hangs up, like a server over its connection limit."""

	def connection_made(self, transport):
		transport.write(b"421 4.3.2 Too many connections, try again later\r\n")
		transport.close()


class Silent(asyncio.Protocol):
	"""Accepts the connection and never says a word, like a wedged server."""


def make_authenticator(args):
	user, _, password = (args.auth or ":").partition(":")

	def authenticator(server, session, envelope, mechanism, auth_data):
		if args.reject_auth or not isinstance(auth_data, LoginPassword):
			return AuthResult(success=False, handled=False)
		ok = (auth_data.login == user.encode("utf-8")
		      and auth_data.password == password.encode("utf-8"))
		return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
	return authenticator


def tls_context(pair):
	ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
	ctx.load_cert_chain(pair[0], pair[1])
	return ctx


def main():
	args = parse_args()
	# aiosmtpd warns about its own deprecated attributes on every AUTH: keep stderr for errors.
	logging.getLogger("mail.log").setLevel(logging.ERROR)
	state = {"failed": 0, "saved": 0, "connections": 0}
	handler = Handler(args, state)
	kwargs = {
		"hostname": "localhost",  # no getfqdn(): it may wait on DNS
		"data_size_limit": args.max_size or None,
	}
	if args.starttls:
		kwargs["tls_context"] = tls_context(args.starttls)
		kwargs["require_starttls"] = True
	if args.auth or args.reject_auth:
		kwargs["authenticator"] = make_authenticator(args)
		kwargs["auth_required"] = True
		# aiosmtpd only knows about STARTTLS; over implicit TLS the transport is already
		# encrypted, and over --no-starttls the test wants AUTH on a plain connection.
		kwargs["auth_require_tls"] = bool(args.starttls)
		offered = set(m.strip().upper() for m in args.auth_mechs.split(","))
		kwargs["auth_exclude_mechanism"] = [m for m in ("PLAIN", "LOGIN") if m not in offered]
	implicit = tls_context(args.implicit_tls) if args.implicit_tls else None

	loop = asyncio.new_event_loop()
	asyncio.set_event_loop(loop)

	def factory():
		state["connections"] += 1
		if args.stall == "greeting":
			return Silent()
		if args.fail_stage == "greeting" and state["failed"] < args.fail_first_n:
			state["failed"] += 1
			return Busy()
		return SMTP(handler, loop=loop, **kwargs)

	server = loop.run_until_complete(
		loop.create_server(factory, host="127.0.0.1", port=0, ssl=implicit))
	port = server.sockets[0].getsockname()[1]
	tmp = args.port_file + ".tmp"
	with open(tmp, "w") as f:
		f.write("%d\n" % port)
	os.rename(tmp, args.port_file)

	loop.add_signal_handler(signal.SIGTERM, loop.stop)
	loop.add_signal_handler(signal.SIGINT, loop.stop)
	try:
		loop.run_forever()
	finally:
		server.close()
	return 0


if __name__ == "__main__":
	sys.exit(main())
