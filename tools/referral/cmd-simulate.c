/* referral simulate: a seeded population simulation under a scheme, with
 * its report, JSON, CSV files and SQLite database (docs/simulation.md). */
#include "commands.h"
#include "output.h"
#include "sim-output.h"
#include "sqlite-out.h"

#include <string.h>
#include <unistd.h>
#include <referral/referral.h>

typedef struct {
  char *scheme;
  char *config;
  char *db;
  char *csv;
  gboolean json;
  gboolean force;
  gboolean quiet;
  char **values;        /* one per simulation key, from its option */
  char **option_names;  /* "members", "entry-price", ... */
} SimOptions;

/* ---- progress ----------------------------------------------------------------- */

typedef struct {
  gboolean tty;
  gint64 start;         /* monotonic µs */
  guint every;          /* plain lines: every this many days */
} Progress;

static void
format_duration (char *buf, gsize size, gint64 us)
{
  gint64 s = (us + 500000) / 1000000;
  if (s < 60)
    g_snprintf (buf, size, "%" G_GINT64_FORMAT "s", s);
  else
    g_snprintf (buf, size, "%" G_GINT64_FORMAT "m%02" G_GINT64_FORMAT "s", s / 60, s % 60);
}

static void
show_progress (const ReferralSim *sim, gpointer user_data)
{
  Progress *p = user_data;
  guint done = referral_sim_days_done (sim), days = referral_sim_n_days (sim);
  const ReferralSimDay *day = referral_sim_day (sim, done);
  gint64 elapsed = g_get_monotonic_time () - p->start;
  char took[32];
  format_duration (took, sizeof took, elapsed);
  if (p->tty)
    {
      /* A bar redrawn in place; the ETA assumes the remaining days cost
       * what the days so far cost on average. */
      enum { WIDTH = 30 };
      char bar[WIDTH + 1];
      guint filled = (guint) ((guint64) WIDTH * done / days);
      memset (bar, '#', filled);
      memset (bar + filled, '-', WIDTH - filled);
      bar[WIDTH] = '\0';
      char eta[32];
      format_duration (eta, sizeof eta, elapsed * (gint64) (days - done) / (gint64) done);
      fprintf (stderr, "\r[%s] %3u%% day %u/%u, %" G_GUINT32_FORMAT " members, ETA %s   ",
               bar, (guint) ((guint64) 100 * done / days), done, days, day->members,
               done == days ? "0s" : eta);
      if (done == days)
        fprintf (stderr, "\rsimulated %u days in %s%*s\n", days, took, 60, "");
      fflush (stderr);
      return;
    }
  if (done % p->every == 0 || done == days)
    fprintf (stderr, "referral simulate: day %u/%u, %" G_GUINT32_FORMAT " members, "
             "%" G_GUINT32_FORMAT " active, %s elapsed\n", done, days, day->members,
             day->active, took);
}

/* ---- options --------------------------------------------------------------------- */

static char *
describe (void)
{
  GString *s = g_string_new (NULL);
  g_autofree char *names = g_strjoinv (", ", (char **) referral_scheme_builtin_names ());
  g_string_append_printf (s,
    "Built-in schemes: %s.\n"
    "\n"
    "Every simulation option can also be set in a key file given with --config\n"
    "([sim] group, the option's name with '_' for '-', e.g. \"entry_price = 699\");\n"
    "an option on the command line overrides the file.  Defaults:\n", names);
  for (const char *const *k = referral_sim_config_keys (); *k != NULL; k++)
    {
      const char *def = referral_sim_config_key_default (*k);
      g_string_append_printf (s, "  %-18s %s\n", *k, *def ? def : "(empty)");
    }
  g_string_append (s,
    "\n"
    "The report goes to standard output (--json: the same figures as JSON);\n"
    "progress goes to standard error: a bar when it is a terminal, else a line\n"
    "every tenth of the run.  --db writes a SQLite database (docs/sqlite-schema.md)\n"
    "and --csv a directory of CSV files; neither replaces an existing file\n"
    "unless --force.  The same seed and options give the same output, byte for\n"
    "byte.\n"
    "\n"
    "Exit status: 0 on success, 1 when the scheme rejected any simulated event\n"
    "(the report says which), 2 for bad usage, an unusable scheme or\n"
    "configuration, or an unwritable output.");
  return g_string_free (s, FALSE);
}

static GOptionEntry *
make_entries (SimOptions *o)
{
  const char *const *keys = referral_sim_config_keys ();
  guint n = g_strv_length ((char **) keys);
  o->values = g_new0 (char *, n + 1);
  o->option_names = g_new0 (char *, n + 1);
  const GOptionEntry fixed[] = {
    { "scheme", 's', 0, G_OPTION_ARG_FILENAME, &o->scheme,
      "A built-in scheme's name or a scheme file (required)", "SCHEME" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config,
      "Read simulation settings from the [sim] group of FILE", "FILE" },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &o->db,
      "Write members, postings, daily metrics and parameters to a new SQLite database",
      "FILE.sqlite" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &o->csv,
      "Write daily.csv, members.csv, cohorts.csv, ranks.csv, summary.csv and ledger.csv "
      "into DIR", "DIR" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o->json,
      "Print the report as JSON", NULL },
    { "force", 'f', 0, G_OPTION_ARG_NONE, &o->force,
      "Replace existing --db and --csv files", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet,
      "Show no progress", NULL },
  };
  guint n_fixed = G_N_ELEMENTS (fixed);
  GOptionEntry *entries = g_new0 (GOptionEntry, n_fixed + n + 1);
  memcpy (entries, fixed, sizeof fixed);
  for (guint i = 0; i < n; i++)
    {
      o->option_names[i] = g_strdelimit (g_strdup (keys[i]), "_", '-');
      GOptionEntry *e = &entries[n_fixed + i];
      e->long_name = o->option_names[i];
      e->arg = G_OPTION_ARG_STRING;
      e->arg_data = &o->values[i];
      e->description = referral_sim_config_key_description (keys[i]);
      e->arg_description = referral_sim_config_key_syntax (keys[i]);
    }
  return entries;
}

static void
clear_options (SimOptions *o)
{
  g_free (o->scheme);
  g_free (o->config);
  g_free (o->db);
  g_free (o->csv);
  /* values has holes (options not given): not a NULL-terminated vector. */
  for (guint i = 0; o->option_names != NULL && o->option_names[i] != NULL; i++)
    g_free (o->values[i]);
  g_free (o->values);
  g_strfreev (o->option_names);
}

/* The configuration: defaults, then --config, then each option. */
static ReferralSimConfig *
make_config (const SimOptions *o)
{
  g_autoptr (ReferralSimConfig) config = referral_sim_config_new ();
  g_autoptr (GError) error = NULL;
  if (o->config != NULL && !referral_sim_config_load_file (config, o->config, &error))
    {
      command_error ("simulate", "%s", error->message);
      return NULL;
    }
  const char *const *keys = referral_sim_config_keys ();
  for (guint i = 0; keys[i] != NULL; i++)
    {
      if (o->values[i] == NULL)
        continue;
      g_autofree char *where = g_strdup_printf ("option --%s", o->option_names[i]);
      if (!referral_sim_config_set (config, keys[i], o->values[i], where, &error))
        {
          command_error ("simulate", "%s", error->message);
          return NULL;
        }
    }
  return g_steal_pointer (&config);
}

/* The scheme's text, for the database's record of the run. */
static char *
scheme_text (const char *label)
{
  const char *builtin = referral_scheme_builtin_text (label);
  if (builtin != NULL)
    return g_strdup (builtin);
  char *text = NULL;
  if (!g_file_get_contents (label, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

static gboolean
write_database (const SimOptions *o, ReferralSim *sim, GError **error)
{
  ReferralEngine *engine = referral_sim_engine (sim);
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  const ReferralSimConfig *config = referral_sim_config (sim);
  g_autofree char *identity = g_strdup_printf ("%016" G_GINT64_MODIFIER "x",
                                               referral_scheme_identity (scheme));
  g_autofree char *hash = g_strdup_printf ("%016" G_GINT64_MODIFIER "x",
                                           referral_engine_state_hash (engine));
  g_autofree char *decimals = g_strdup_printf ("%u", referral_scheme_decimals (scheme));
  g_autofree char *text = scheme_text (o->scheme);
  g_autofree char *sim_text = referral_sim_config_to_data (config);
  GPtrArray *pairs = g_ptr_array_new_with_free_func (g_free);
  const char *fixed[] = {
    "command", "simulate", "version", referral_version (), "scheme", o->scheme,
    "scheme_name", referral_scheme_name (scheme), "scheme_identity", identity,
    "scheme_text", text, "decimals", decimals, "state_hash", hash, "sim_config", sim_text,
  };
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (pairs, g_strdup (fixed[i]));
  for (const char *const *k = referral_sim_config_keys (); *k != NULL; k++)
    {
      g_ptr_array_add (pairs, g_strdup_printf ("sim.%s", *k));
      g_ptr_array_add (pairs, g_strdup (referral_sim_config_get (config, *k)));
    }
  g_ptr_array_add (pairs, NULL);

  Database *db = database_create (o->db, o->force, error);
  gboolean ok = db != NULL
                && database_write_run (db, (const char *const *) pairs->pdata, error)
                && database_write_engine (db, engine, sim, error)
                && database_write_sim (db, sim, error);
  g_ptr_array_unref (pairs);
  if (db == NULL)
    return FALSE;
  if (!ok)
    {
      database_abort (db);
      return FALSE;
    }
  return database_commit (db, error);
}

static int
simulate (const SimOptions *o)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ReferralSimConfig) config = make_config (o);
  if (config == NULL)
    return EXIT_USAGE;
  if (referral_scheme_builtin_text (o->scheme) == NULL
      && !g_file_test (o->scheme, G_FILE_TEST_EXISTS))
    {
      g_autofree char *names = g_strjoinv (", ", (char **) referral_scheme_builtin_names ());
      command_error ("simulate", "scheme %s is neither a built-in scheme (%s) nor a file",
                     o->scheme, names);
      return EXIT_USAGE;
    }
  g_autoptr (ReferralScheme) scheme = referral_scheme_open (o->scheme, &error);
  if (scheme == NULL)
    {
      command_error ("simulate", "cannot use scheme %s: %s", o->scheme, error->message);
      return EXIT_USAGE;
    }
  /* Refuse the outputs before a long run, not after it. */
  if ((o->db != NULL && !database_check_target (o->db, o->force, &error))
      || (o->csv != NULL && !check_sim_csv_dir (o->csv, o->force, &error)))
    {
      command_error ("simulate", "%s", error->message);
      return EXIT_USAGE;
    }
  g_autoptr (ReferralSim) sim = referral_sim_new (scheme, config, &error);
  if (sim == NULL)
    {
      command_error ("simulate", "%s", error->message);
      return EXIT_USAGE;
    }

  Progress progress = { isatty (STDERR_FILENO) != 0, g_get_monotonic_time (), 1 };
  progress.every = MAX (1u, (referral_sim_n_days (sim) + 9) / 10);
  if (!referral_sim_run (sim, o->quiet ? NULL : show_progress, &progress, &error))
    {
      command_error ("simulate", "%s", error->message);
      return EXIT_REJECTED;
    }

  int status = referral_sim_summary (sim)->rejected > 0 ? EXIT_REJECTED : EXIT_ALL_APPLIED;
  if (o->db != NULL && !write_database (o, sim, &error))
    {
      command_error ("simulate", "%s", error->message);
      g_clear_error (&error);
      status = EXIT_USAGE;
    }
  if (o->csv != NULL && !write_sim_csv (o->csv, sim, o->force, &error))
    {
      command_error ("simulate", "%s", error->message);
      g_clear_error (&error);
      status = EXIT_USAGE;
    }
  if (o->json)
    write_sim_json (stdout, sim, o->scheme);
  else
    write_sim_report (stdout, sim, o->scheme);
  if (fflush (stdout) != 0 || ferror (stdout))
    {
      command_error ("simulate", "cannot write standard output");
      status = EXIT_USAGE;
    }
  if (status == EXIT_REJECTED)
    command_error ("simulate", "the scheme rejected %" G_GUINT32_FORMAT " simulated events; "
                   "the first: %s", referral_sim_summary (sim)->rejected,
                   referral_sim_first_rejection (sim));
  return status;
}

int
command_simulate (int argc, char **argv)
{
  SimOptions o;
  memset (&o, 0, sizeof o);
  g_autofree GOptionEntry *entries = make_entries (&o);
  g_autofree char *description = describe ();
  int status;
  if (!command_parse_options ("simulate", "",
                              "Simulate a market of people living under a scheme, day by "
                              "day, from a seed;\nprint what it did to them.",
                              description, entries, &argc, &argv))
    status = EXIT_USAGE;
  else if (o.scheme == NULL)
    {
      command_error ("simulate", "--scheme is required (see \"referral simulate --help\")");
      status = EXIT_USAGE;
    }
  else if (argc != 1)
    {
      command_error ("simulate", "unexpected argument %s (see \"referral simulate --help\")",
                     argv[1]);
      status = EXIT_USAGE;
    }
  else
    status = simulate (&o);
  clear_options (&o);
  return status;
}
