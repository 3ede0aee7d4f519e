/* referral run: apply a JSON Lines file of events to a scheme
 * (shared/spec/events.md). */
#include "commands.h"
#include "output.h"
#include "sqlite-out.h"

#include <string.h>
#include <referral/referral.h>

typedef struct {
  char *scheme;
  char *balances;
  char *ledger;
  gboolean keep_going;
  char *journal; /* --journal DIR (issue 6) */
  char *sync;
  gint64 group_events;   /* --group-events N (0: the library's 64) */
  gint64 snapshot_every; /* --snapshot-every N (0: none) */
  gint threads;          /* --threads 1|2 */
} RunOptions;

static void
report_to_stderr (const char *file, guint64 line, const char *message,
                  gpointer user_data)
{
  fprintf (stderr, "%s:%" G_GUINT64_FORMAT ": %s\n", file, line, message);
}

static char *
builtin_list (void)
{
  const char *const *names = referral_scheme_builtin_names ();
  g_autofree char *joined = g_strjoinv (", ", (char **) names);
  return g_strdup_printf ("Built-in schemes: %s.\n"
                          "\n"
                          "The summary counts the events applied, the duplicates "
                          "skipped and the errors,\nthen adds up the ledger: "
                          "money in = the buyers' payments (\"sale\" postings)\n"
                          "less those refunded; paid out = every credit from the "
                          "platform or a pool to a\nmember, less its reversals; "
                          "held = the members' held funds.\n"
                          "\n"
                          "Exit status: 0 when every event applied, 1 when any "
                          "was rejected,\n2 for bad usage, an unreadable input, "
                          "an unusable scheme or an unwritable output.",
                          joined);
}

/* Checks what can be checked before any work, so that a usage error
 * leaves no output file behind. */
static gboolean
check_usage (const RunOptions *o, int argc, char **argv)
{
  if (o->scheme == NULL)
    {
      command_error ("run", "--scheme is required (see \"referral run --help\")");
      return FALSE;
    }
  if (argc != 2)
    {
      command_error ("run", "%s (see \"referral run --help\")",
                     argc < 2 ? "give one events file, or - for standard input"
                              : "give only one events file");
      return FALSE;
    }
  if (o->threads != 1 && o->threads != 2)
    {
      command_error ("run", "--threads must be 1 or 2, not %d", o->threads);
      return FALSE;
    }
  if (o->ledger != NULL && o->balances != NULL && strcmp (o->ledger, "-") != 0
      && strcmp (o->ledger, o->balances) == 0)
    {
      command_error ("run", "--balances and --ledger name the same file %s",
                     o->ledger);
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_sqlite (const char *path)
{
  return path != NULL && (g_str_has_suffix (path, ".sqlite") || g_str_has_suffix (path, ".sqlite3"));
}

/* --ledger FILE.sqlite: the tables of docs/sqlite-schema.md that a run has
 * (no simulation metrics).  Like the other outputs of run, it replaces an
 * existing file; it is written aside and renamed, so a failure leaves the
 * old file (or none). */
static gboolean
write_ledger_sqlite (const RunOptions *o, const char *events, const ReferralEngine *engine,
                     GError **error)
{
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  g_autofree char *identity = g_strdup_printf ("%016" G_GINT64_MODIFIER "x",
                                               referral_scheme_identity (scheme));
  g_autofree char *hash = g_strdup_printf ("%016" G_GINT64_MODIFIER "x",
                                           referral_engine_state_hash (engine));
  g_autofree char *decimals = g_strdup_printf ("%u", referral_scheme_decimals (scheme));
  const char *pairs[] = {
    "command", "run", "version", referral_version (), "scheme", o->scheme,
    "scheme_name", referral_scheme_name (scheme), "scheme_identity", identity,
    "decimals", decimals, "events", events, "state_hash", hash, NULL
  };
  Database *db = database_create (o->ledger, TRUE, error);
  if (db == NULL)
    return FALSE;
  if (!database_write_run (db, pairs, error)
      || !database_write_engine (db, engine, NULL, error))
    {
      database_abort (db);
      return FALSE;
    }
  return database_commit (db, error);
}

/* --journal DIR (issue 6): the events go through a journal in DIR, which
 * is resumed when it exists (events applied before are duplicates now).
 * DIR/scheme.ini keeps the scheme's text for `referral replay`. */
static ReferralJournal *
open_journal (const RunOptions *o, ReferralScheme *scheme, GError **error)
{
  ReferralJournalOptions opt = REFERRAL_JOURNAL_OPTIONS_INIT;
  if (o->sync == NULL || strcmp (o->sync, "every") == 0)
    opt.sync = REFERRAL_SYNC_EVERY;
  else if (strcmp (o->sync, "group") == 0)
    opt.sync = REFERRAL_SYNC_GROUP;
  else if (strcmp (o->sync, "none") == 0)
    opt.sync = REFERRAL_SYNC_NONE;
  else
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_JOURNAL,
                   "--sync must be every, group or none, not %s", o->sync);
      return NULL;
    }
  if (o->group_events < 0 || o->group_events > G_MAXUINT32 || o->snapshot_every < 0
      || o->snapshot_every > G_MAXUINT32)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_JOURNAL,
                   "--group-events and --snapshot-every must be between 0 and %u", G_MAXUINT32);
      return NULL;
    }
  opt.group_events = (guint32) o->group_events;
  opt.snapshot_every = (guint32) o->snapshot_every;
  ReferralJournal *j = referral_journal_open (o->journal, scheme, &opt, error);
  if (j == NULL)
    return NULL;
  g_autofree char *path = g_build_filename (o->journal, "scheme.ini", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      const char *text = referral_scheme_builtin_text (o->scheme);
      g_autofree char *contents = NULL;
      if (text == NULL && !g_file_get_contents (o->scheme, &contents, NULL, error))
        {
          referral_journal_free (j);
          return NULL;
        }
      if (!g_file_set_contents (path, text ? text : contents, -1, error))
        {
          referral_journal_free (j);
          return NULL;
        }
    }
  return j;
}

static int
run (const RunOptions *o, const char *events)
{
  g_autoptr (GError) error = NULL;
  if (referral_scheme_builtin_text (o->scheme) == NULL
      && !g_file_test (o->scheme, G_FILE_TEST_EXISTS))
    {
      g_autofree char *names = g_strjoinv (", ", (char **) referral_scheme_builtin_names ());
      command_error ("run", "scheme %s is neither a built-in scheme (%s) nor a file",
                     o->scheme, names);
      return EXIT_USAGE;
    }
  g_autoptr (ReferralScheme) scheme = referral_scheme_open (o->scheme, &error);
  if (scheme == NULL)
    {
      command_error ("run", "cannot use scheme %s: %s", o->scheme, error->message);
      return EXIT_USAGE;
    }
  g_autoptr (ReferralJournal) journal = NULL;
  g_autoptr (ReferralEngine) own_engine = NULL;
  if (o->journal != NULL && (journal = open_journal (o, scheme, &error)) == NULL)
    {
      command_error ("run", "journal %s: %s", o->journal, error->message);
      return EXIT_USAGE;
    }
  if (journal == NULL)
    own_engine = referral_engine_new (scheme, &error);
  ReferralEngine *engine = journal ? referral_journal_engine (journal) : own_engine;
  if (engine == NULL)
    {
      command_error ("run", "cannot set up scheme %s: %s", o->scheme, error->message);
      return EXIT_USAGE;
    }

  /* Open the events file once before creating any output, so that a wrong
   * path does not truncate the outputs of an earlier run. */
  ReferralJsonlReader *probe = referral_jsonl_reader_open (
    events, referral_scheme_decimals (scheme), &error);
  if (probe == NULL)
    {
      command_error ("run", "%s", error->message);
      return EXIT_USAGE;
    }
  referral_jsonl_reader_free (probe);

  Output balances = { NULL, NULL }, ledger = { NULL, NULL };
  gboolean sqlite = is_sqlite (o->ledger);
  if ((sqlite && !database_check_target (o->ledger, TRUE, &error))
      || (o->balances != NULL && !output_open (&balances, o->balances, &error))
      || (o->ledger != NULL && !sqlite && !output_open (&ledger, o->ledger, &error)))
    {
      command_error ("run", "%s", error->message);
      output_close (&balances, NULL);
      return EXIT_USAGE;
    }

  ReferralRunStats stats;
  ReferralRunFlags flags = o->keep_going ? REFERRAL_RUN_KEEP_GOING
                                         : REFERRAL_RUN_STOP_AT_ERROR;
  if (o->threads == 1)
    flags |= REFERRAL_RUN_ONE_THREAD;
  gboolean all_applied = journal
    ? referral_journal_apply_jsonl (journal, events, flags, report_to_stderr, NULL, &stats,
                                    &error)
    : referral_engine_apply_jsonl (engine, events, flags, report_to_stderr, NULL, &stats,
                                   &error);
  int status = all_applied ? EXIT_ALL_APPLIED : EXIT_REJECTED;
  if (error != NULL)
    {
      /* The events file could not be read to its end. */
      command_error ("run", "%s", error->message);
      g_clear_error (&error);
      status = EXIT_USAGE;
    }

  /* The state as of the stop is written whatever happened. */
  if (balances.file != NULL)
    write_balances (balances.file, engine);
  if (ledger.file != NULL)
    write_ledger_csv (ledger.file, engine);
  if (sqlite && !write_ledger_sqlite (o, events, engine, &error))
    {
      command_error ("run", "%s", error->message);
      g_clear_error (&error);
      status = EXIT_USAGE;
    }
  Output *outs[] = { &balances, &ledger };
  for (gsize i = 0; i < G_N_ELEMENTS (outs); i++)
    if (!output_close (outs[i], &error))
      {
        command_error ("run", "%s", error->message);
        g_clear_error (&error);
        status = EXIT_USAGE;
      }
  write_summary (stderr, engine, &stats);
  if (journal != NULL && !referral_journal_close (g_steal_pointer (&journal), &error))
    {
      command_error ("run", "%s", error->message);
      g_clear_error (&error);
      status = EXIT_USAGE;
    }
  return status;
}

int
command_run (int argc, char **argv)
{
  RunOptions o = { NULL, NULL, NULL, FALSE, NULL, NULL, 0, 0, 2 };
  const GOptionEntry entries[] = {
    { "scheme", 's', 0, G_OPTION_ARG_FILENAME, &o.scheme,
      "A built-in scheme's name or a scheme file (required)", "SCHEME" },
    { "balances", 'b', 0, G_OPTION_ARG_FILENAME, &o.balances,
      "Write every member's and pool's balance as JSON Lines to OUT (- for standard output)",
      "OUT" },
    { "ledger", 'l', 0, G_OPTION_ARG_FILENAME, &o.ledger,
      "Write every posting as CSV to OUT (- for standard output), or as a SQLite "
      "database when OUT ends with .sqlite (docs/sqlite-schema.md)", "OUT" },
    { "keep-going", 'k', 0, G_OPTION_ARG_NONE, &o.keep_going,
      "Report and skip each bad event instead of stopping at the first", NULL },
    { "journal", 'j', 0, G_OPTION_ARG_FILENAME, &o.journal,
      "Apply the events through a write-ahead journal in DIR, resuming it when it exists "
      "(events applied before are skipped as duplicates; docs/durability.md)", "DIR" },
    { "sync", 0, 0, G_OPTION_ARG_STRING, &o.sync,
      "With --journal: every (default), group or none", "POLICY" },
    { "group-events", 0, 0, G_OPTION_ARG_INT64, &o.group_events,
      "With --sync group: events per fdatasync (default 64)", "N" },
    { "snapshot-every", 0, 0, G_OPTION_ARG_INT64, &o.snapshot_every,
      "With --journal: write a snapshot every N applied events, then prune the journal "
      "(default 0: none)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &o.threads,
      "2 (default): read and parse a regular events file on a second thread while "
      "applying; 1: one thread", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autofree char *description = builtin_list ();
  int status;
  if (!command_parse_options ("run", "EVENTS|-",
                              "Apply a JSON Lines file of events (- for standard input) "
                              "to a scheme,\nthen write the balances, the ledger and a "
                              "summary on standard error.",
                              description, entries, &argc, &argv))
    status = EXIT_USAGE;
  else if (!check_usage (&o, argc, argv))
    status = EXIT_USAGE;
  else
    status = run (&o, argv[1]);
  g_free (o.scheme);
  g_free (o.balances);
  g_free (o.ledger);
  g_free (o.journal);
  g_free (o.sync);
  return status;
}
