/* Stage `cli`: the command line. Parses arguments, loads the config and runs the subcommands;
 * the only place (with pipeline) that wires stages together and decides exit codes. */
#ifndef INKDIGEST_CLI_H
#define INKDIGEST_CLI_H

/* sysexits-style exit codes, decided only here. */
enum exit_code {
	EXIT_OK_ = 0,            /* a book was written (and mailed), or nothing new */
	EXIT_USAGE = 64,         /* EX_USAGE */
	EXIT_DATAERR = 65,       /* EX_DATAERR: bad input file (e.g. an OPML file that does not parse) */
	EXIT_NOINPUT = 66,       /* EX_NOINPUT: config or file missing */
	EXIT_UNAVAILABLE = 69,   /* EX_UNAVAILABLE: every feed failed */
	EXIT_SOFTWARE = 70,      /* EX_SOFTWARE: internal error */
	EXIT_CANTCREAT = 73,     /* EX_CANTCREAT: cannot write the book */
	EXIT_IOERR = 74,         /* EX_IOERR: state database error */
	EXIT_TEMPFAIL = 75,      /* EX_TEMPFAIL: mail failed temporarily, or another run holds the lock */
	EXIT_CONFIG = 78         /* EX_CONFIG: config invalid */
};

int cli_main(int argc, char **argv);

#endif
