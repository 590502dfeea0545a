/* inkdigest's entry point: hands argv to the command line module. Nothing else. */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
