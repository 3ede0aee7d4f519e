/* referral replay: the state of a journal directory (referral run
 * --journal DIR) as of event K, read-only (issue 6). */
#include "commands.h"
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <referral/referral.h>

typedef struct {
  char *scheme;
  char *until;
  char *balances;
  char *ledger;
} ReplayOptions;

static int
replay (const ReplayOptions *o, const char *dir)
{
  g_autoptr (GError) error = NULL;
  ReferralJournalOptions opt = REFERRAL_JOURNAL_OPTIONS_INIT;
  opt.read_only = TRUE;
  if (o->until != NULL)
    {
      char *end;
      guint64 k = g_ascii_strtoull (o->until, &end, 10);
      if (*o->until == '\0' || *end != '\0' || k >= REFERRAL_JOURNAL_ALL)
        {
          command_error ("replay", "--until must be a number of events, not \"%s\"", o->until);
          return EXIT_USAGE;
        }
      opt.until = (guint32) k;
    }
  g_autofree char *scheme_path = o->scheme ? g_strdup (o->scheme)
                                           : g_build_filename (dir, "scheme.ini", NULL);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      command_error ("replay", "%s is not a journal directory", dir);
      return EXIT_USAGE;
    }
  g_autoptr (ReferralScheme) scheme = referral_scheme_open (scheme_path, &error);
  if (scheme == NULL)
    {
      command_error ("replay", "cannot use scheme %s: %s", scheme_path, error->message);
      return EXIT_USAGE;
    }
  g_autoptr (ReferralJournal) journal = referral_journal_open (dir, scheme, &opt, &error);
  if (journal == NULL)
    {
      command_error ("replay", "%s", error->message);
      return EXIT_USAGE;
    }
  const ReferralEngine *engine = referral_journal_engine (journal);
  Output balances = { NULL, NULL }, ledger = { NULL, NULL };
  if ((o->balances != NULL && !output_open (&balances, o->balances, &error))
      || (o->ledger != NULL && !output_open (&ledger, o->ledger, &error)))
    {
      command_error ("replay", "%s", error->message);
      output_close (&balances, NULL);
      return EXIT_USAGE;
    }
  if (balances.file != NULL)
    write_balances (balances.file, engine);
  if (ledger.file != NULL)
    write_ledger_csv (ledger.file, engine);
  int status = EXIT_ALL_APPLIED;
  Output *outs[] = { &balances, &ledger };
  for (gsize i = 0; i < G_N_ELEMENTS (outs); i++)
    if (!output_close (outs[i], &error))
      {
        command_error ("replay", "%s", error->message);
        g_clear_error (&error);
        status = EXIT_USAGE;
      }
  fprintf (stderr, "events: %u\nstate hash: %016" G_GINT64_MODIFIER "x\n",
           referral_engine_n_events (engine), referral_engine_state_hash (engine));
  return status;
}

int
command_replay (int argc, char **argv)
{
  ReplayOptions o = { NULL, NULL, NULL, NULL };
  const GOptionEntry entries[] = {
    { "until", 'u', 0, G_OPTION_ARG_STRING, &o.until,
      "The state after the first K events (default: all)", "K" },
    { "scheme", 's', 0, G_OPTION_ARG_FILENAME, &o.scheme,
      "The scheme (default: DIR/scheme.ini, which run --journal writes)", "SCHEME" },
    { "balances", 'b', 0, G_OPTION_ARG_FILENAME, &o.balances,
      "Write every member's and pool's balance as JSON Lines to OUT (- for standard output)",
      "OUT" },
    { "ledger", 'l', 0, G_OPTION_ARG_FILENAME, &o.ledger,
      "Write every posting as CSV to OUT (- for standard output)", "OUT" },
    G_OPTION_ENTRY_NULL
  };
  int status;
  if (!command_parse_options ("replay", "DIR",
                              "Recover the state of a journal directory (referral run "
                              "--journal DIR) as of\nevent K, read-only, and write its "
                              "balances or ledger.",
                              "Exit status: 0 on success, 2 for bad usage, a damaged or "
                              "missing journal,\nor K beyond its end.",
                              entries, &argc, &argv))
    status = EXIT_USAGE;
  else if (argc != 2)
    {
      command_error ("replay", "give one journal directory (see \"referral replay --help\")");
      status = EXIT_USAGE;
    }
  else
    status = replay (&o, argv[1]);
  g_free (o.scheme);
  g_free (o.until);
  g_free (o.balances);
  g_free (o.ledger);
  return status;
}
