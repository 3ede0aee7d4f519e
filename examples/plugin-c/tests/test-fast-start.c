/* Loads the fast-start plugin through a scheme file, runs its event stream
 * and checks the balances worked out by hand in fast-start.ini's comment;
 * then checks the loader's refusals (newer ABI, not a plugin, not found).
 *
 * Usage: test-fast-start SCHEME EVENTS FUTURE_ABI_SO NO_ENTRY_SO
 * (REFERRAL_PLUGIN_PATH must name the directory of fast-start.so). */
#include <stdio.h>
#include <string.h>

#include <referral/referral-plugin.h>

static int failures;

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    if (!(cond))                                                              \
      {                                                                       \
        failures++;                                                           \
        fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                 \
        fprintf (stderr, __VA_ARGS__);                                        \
        fputc ('\n', stderr);                                                 \
      }                                                                       \
  } while (0)

static gint64
available (ReferralEngine *engine, const char *key)
{
  const ReferralTree *tree = referral_engine_tree (engine);
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  ReferralMember m = referral_tree_lookup (tree, key);
  if (m == REFERRAL_NO_MEMBER)
    return -1;
  return referral_ledger_balance (ledger, referral_ledger_member_account (ledger, m, FALSE));
}

static void
report (const char *file, guint64 line, const char *message, gpointer user_data)
{
  fprintf (stderr, "%s:%" G_GUINT64_FORMAT ": %s\n", file, line, message);
}

int
main (int argc, char **argv)
{
  if (argc != 5)
    {
      fprintf (stderr, "usage: %s SCHEME EVENTS FUTURE_ABI_SO NO_ENTRY_SO\n", argv[0]);
      return 2;
    }
  GError *error = NULL;

  /* Before the scheme is loaded the type is unknown. */
  CHECK (referral_rule_type_lookup ("fast_start") == NULL, "fast_start registered early");

  ReferralScheme *scheme = referral_scheme_load_file (argv[1], &error);
  CHECK (scheme != NULL, "load scheme: %s", error ? error->message : "?");
  if (scheme == NULL)
    return 1;
  CHECK (referral_rule_type_lookup ("fast_start") != NULL, "fast_start not registered");
  ReferralEngine *engine = referral_engine_new (scheme, &error);
  CHECK (engine != NULL, "engine: %s", error ? error->message : "?");
  if (engine == NULL)
    return 1;
  ReferralRunStats stats;
  CHECK (referral_engine_apply_jsonl (engine, argv[2], REFERRAL_RUN_STOP_AT_ERROR,
                                      report, NULL, &stats, &error),
         "apply events");
  CHECK (stats.applied == 10, "applied %" G_GUINT64_FORMAT, stats.applied);
  /* B's first two orders pay A 10.00 each (the third pays nothing); C's
   * order comes a period after C joined (nothing); D's order pays C. */
  CHECK (available (engine, "A") == 2000, "A has %" G_GINT64_FORMAT, available (engine, "A"));
  CHECK (available (engine, "B") == 0, "B has %" G_GINT64_FORMAT, available (engine, "B"));
  CHECK (available (engine, "C") == 1000, "C has %" G_GINT64_FORMAT, available (engine, "C"));
  CHECK (available (engine, "D") == 0, "D has %" G_GINT64_FORMAT, available (engine, "D"));
  CHECK (referral_ledger_is_balanced (referral_engine_ledger (engine)), "unbalanced");

  /* Loading the same plugin again (as a second scheme does) is a no-op. */
  ReferralScheme *again = referral_scheme_load_file (argv[1], &error);
  CHECK (again != NULL, "second load: %s", error ? error->message : "?");
  g_clear_error (&error);
  CHECK (referral_plugin_load ("fast-start", &error), "load by name: %s",
         error ? error->message : "?");
  g_clear_error (&error);

  /* A plugin built for a newer ABI is refused before it runs. */
  CHECK (!referral_plugin_load (argv[3], &error), "future ABI accepted");
  CHECK (error && error->code == REFERRAL_ERROR_ABI && strstr (error->message, "rule ABI version 99")
         && strstr (error->message, "supports versions 1 to 1"),
         "future ABI error: %s", error ? error->message : "none");
  g_clear_error (&error);

  /* A shared object without the entry points is not a plugin. */
  CHECK (!referral_plugin_load (argv[4], &error), "non-plugin accepted");
  CHECK (error && error->code == REFERRAL_ERROR_ABI
         && strstr (error->message, "not a libreferral plugin"),
         "non-plugin error: %s", error ? error->message : "none");
  g_clear_error (&error);

  /* Not found: the message lists where it looked. */
  CHECK (!referral_plugin_load ("no-such-plugin", &error), "missing plugin loaded");
  CHECK (error && error->code == REFERRAL_ERROR_IO && strstr (error->message, "no-such-plugin.so"),
         "missing plugin error: %s", error ? error->message : "none");
  g_clear_error (&error);

  /* A scheme naming a missing plugin is refused with file, line and key. */
  ReferralScheme *bad = referral_scheme_load_data (
      "[scheme]\nname = x\nplugins = no-such-plugin\n", -1, "bad.ini", &error);
  CHECK (bad == NULL && error && strstr (error->message, "bad.ini:3: [scheme] key \"plugins\""),
         "bad scheme error: %s", error ? error->message : "none");
  g_clear_error (&error);

  referral_scheme_unref (again);
  referral_engine_free (engine);
  referral_scheme_unref (scheme);
  if (failures == 0)
    printf ("fast-start plugin: all checks passed\n");
  return failures ? 1 : 0;
}
