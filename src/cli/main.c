/* main.c: the sluice command: dispatch to subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sluice.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("sluice version %s (build %s)\n", sl_version(), sl_build_id());
    return 0;
}

static const subcommand commands[] = {
    {"convert", sl_cli_convert, "convert CSV / JSON Lines to Parquet, NDJSON or CSV"},
    {"job", sl_cli_job, "submit files as jobs to a server, list, show, cancel them"},
    {"inspect", sl_cli_inspect, "show schema, row groups, encodings and statistics of a Parquet file"},
    {"model", sl_cli_model, "create, list, show and delete models (schemas) on a server"},
    {"serve", sl_cli_serve, "run the ingest service (HTTP -> WAL -> Parquet)"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'sluice <command> --help' for the options of a command.\n");
}

/* The heavy commands allocate large, short-lived buffers (input chunks, column builders,
 * encoded pages); first-touch page faults cost ~15% of a conversion on our VMs. glibc (2.35+)
 * backs malloc's large blocks with transparent huge pages when the tunable
 * glibc.malloc.hugetlb=1 is set, which can only be done before the process starts: so we
 * re-execute ourselves once with it. SLUICE_NO_THP=1 turns this off; if the re-exec fails we
 * simply go on. */
static void enable_huge_pages(char **argv)
{
    if (getenv("SLUICE_NO_THP"))
        return;
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && strstr(t, "glibc.malloc.hugetlb"))
        return;
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "%s%sglibc.malloc.hugetlb=1", t ? t : "", t ? ":" : "");
    if (n < 0 || (size_t)n >= sizeof(buf) || setenv("GLIBC_TUNABLES", buf, 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc?): carry on without huge pages */
    if (t)
        setenv("GLIBC_TUNABLES", t, 1);
    else
        unsetenv("GLIBC_TUNABLES");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version"))
        return cmd_version(0, NULL);
    if (!strcmp(argv[1], "convert") || !strcmp(argv[1], "serve"))
        enable_huge_pages(argv);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
