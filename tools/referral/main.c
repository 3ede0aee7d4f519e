/* referral: the command-line client of libreferral.
 *
 *   referral COMMAND [OPTION...] ARGS
 *
 * argv[1] names the command; each command parses its own options with
 * GOptionContext (command_parse_options()) and returns the exit status.
 * Adding a command means adding a row to `commands` and a cmd-NAME.c file. */
#include "commands.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <referral/referral.h>

static const Command commands[] = {
  { "run", "apply a file of events to a scheme; print balances, ledger, summary",
    command_run },
  { "simulate", "simulate a population under a scheme from a seed; report the outcome",
    command_simulate },
  { "explain", "trace every cent of one member to the event and rule that caused it",
    command_explain },
  { "check", "validate a scheme and print its rules with their effective parameters",
    command_check },
  { "replay", "the state of a journal (run --journal DIR) as of event K",
    command_replay },
};

static void
print_help (FILE *file)
{
  fputs ("Usage:\n"
         "  referral COMMAND [OPTION…]\n"
         "\n"
         "Model referral-tree incentive schemes: fold a stream of events into\n"
         "members, ranks and an exact double-entry ledger.\n"
         "\n"
         "Commands:\n", file);
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (file, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fputs ("\n"
         "Options:\n"
         "  -h, --help     Show this help\n"
         "  --version      Show the version\n"
         "\n"
         "Run \"referral COMMAND --help\" for the options of a command.\n", file);
}

void
command_error (const char *name, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "referral %s: %s\n", name, msg);
  g_free (msg);
}

gboolean
command_parse_options (const char *name, const char *parameter_string,
                       const char *summary, const char *description,
                       const GOptionEntry *entries, int *argc, char ***argv)
{
  /* GOption shows the program name in "Usage:"; make it the command's. */
  g_autofree char *prgname = g_strdup_printf ("referral %s", name);
  g_set_prgname (prgname);
  g_autoptr (GOptionContext) context = g_option_context_new (parameter_string);
  g_option_context_set_summary (context, summary);
  if (description != NULL)
    g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      command_error (name, "%s (see \"referral %s --help\")", error->message, name);
      return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  /* For GOption's messages and help only: no output depends on the locale
   * (money has its own formatter, and JSON and CSV are written byte by byte). */
  setlocale (LC_ALL, "");
  g_set_prgname ("referral");
  if (argc < 2)
    {
      print_help (stderr);
      return EXIT_USAGE;
    }
  const char *word = argv[1];
  if (strcmp (word, "--help") == 0 || strcmp (word, "-h") == 0
      || strcmp (word, "help") == 0)
    {
      print_help (stdout);
      return EXIT_ALL_APPLIED;
    }
  if (strcmp (word, "--version") == 0)
    {
      printf ("referral %s\n", referral_version ());
      return EXIT_ALL_APPLIED;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (word, commands[i].name) == 0)
      return commands[i].func (argc - 1, argv + 1);

  if (word[0] == '-')
    fprintf (stderr, "referral: unknown option %s (see \"referral --help\")\n", word);
  else
    fprintf (stderr, "referral: unknown command \"%s\" (see \"referral --help\")\n", word);
  return EXIT_USAGE;
}
