/* The subcommands of the `referral` tool, one function each. */
#ifndef REFERRAL_TOOL_COMMANDS_H
#define REFERRAL_TOOL_COMMANDS_H

#include <glib.h>

G_BEGIN_DECLS

/* Exit statuses shared by every command (shared/spec/events.md). */
enum {
  EXIT_ALL_APPLIED = 0, /* success: every event applied */
  EXIT_REJECTED = 1,    /* at least one event was bad or rejected */
  EXIT_USAGE = 2        /* bad usage, unreadable input, unusable scheme or output */
};

/* A command receives its own argv: argv[0] is the command's name. */
typedef int (*CommandFunc) (int argc, char **argv);

typedef struct {
  const char *name;
  const char *summary; /* one line, for `referral --help` */
  CommandFunc func;
} Command;

int command_run (int argc, char **argv);
int command_simulate (int argc, char **argv);
int command_explain (int argc, char **argv);
int command_check (int argc, char **argv);
int command_replay (int argc, char **argv); /* issue 6 */

/* Parses @argc/@argv of command @name with @entries; @parameter_string and
 * @summary describe it in --help.  On a usage error prints it (with a hint
 * to --help) and returns FALSE.  --help prints the help and exits 0. */
gboolean command_parse_options (const char *name, const char *parameter_string,
                                const char *summary, const char *description,
                                const GOptionEntry *entries,
                                int *argc, char ***argv);

/* Prints "referral NAME: message" on stderr. */
void command_error (const char *name, const char *format, ...) G_GNUC_PRINTF (2, 3);

G_END_DECLS

#endif
