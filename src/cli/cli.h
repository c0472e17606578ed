/* cli.h: subcommands of the sluice binary. Each takes argv without the program name
 * (argv[0] is the subcommand) and returns the process exit code. The CLI uses only sluice.h
 * and what the library exports for tools. */
#ifndef SL_CLI_H
#define SL_CLI_H

int sl_cli_inspect(int argc, char **argv);
int sl_cli_convert(int argc, char **argv);
int sl_cli_serve(int argc, char **argv);
int sl_cli_model(int argc, char **argv); /* model.c: sluice model create|list|show|delete */
int sl_cli_job(int argc, char **argv);   /* job.c: sluice job create|list|show|cancel */

#endif
