/* referral check: validate a scheme file (or a built-in scheme) and print
 * its rules in order with their effective parameters, defaults applied, so
 * that what a scheme file means can be read without running it. */
#include "commands.h"

#include <stdio.h>
#include <string.h>
#include <referral/referral.h>

/* Prints @text quoted when it is empty or has spaces at its ends, so that a
 * default of "" is visible. */
static void
print_value (const char *text)
{
  gsize n = strlen (text);
  if (n == 0 || g_ascii_isspace (text[0]) || g_ascii_isspace (text[n - 1]))
    printf ("\"%s\"", text);
  else
    fputs (text, stdout);
}

static void
print_scheme (const char *source, const ReferralScheme *scheme)
{
  printf ("%s: valid scheme \"%s\"\n", source, referral_scheme_name (scheme));
  printf ("decimals: %u\n", referral_scheme_decimals (scheme));
  fputs ("ranks:", stdout);
  for (guint r = 0; r < referral_scheme_n_ranks (scheme); r++)
    printf ("%s %s", r ? "," : "", referral_scheme_rank_name (scheme, (ReferralRank) r));
  guint n_rules = referral_scheme_n_rules (scheme);
  printf ("\nrules: %u\n", n_rules);
  for (guint i = 0; i < n_rules; i++)
    {
      printf ("\n[rule %s]\ntype = %s\n", referral_scheme_rule_name (scheme, i),
              referral_scheme_rule_type (scheme, i));
      for (guint k = 0; k < referral_scheme_rule_n_params (scheme, i); k++)
        {
          const char *name, *value;
          gboolean is_set;
          if (!referral_scheme_rule_param (scheme, i, k, &name, &value, &is_set))
            continue;
          printf ("%s = ", name);
          print_value (value);
          fputs (is_set ? "\n" : "    # default\n", stdout);
        }
    }
}

int
command_check (int argc, char **argv)
{
  const GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };
  if (!command_parse_options ("check", "SCHEME",
                              "Validate a scheme file (or name a built-in scheme) and print its\n"
                              "rules in order with their effective parameters: the value set in\n"
                              "the file, or the rule type's default (marked \"# default\").",
                              "Exit status: 0 valid, 1 invalid scheme (the message names the\n"
                              "file, line and key), 2 usage error or unreadable file.",
                              entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc != 2)
    {
      command_error ("check", "expected one SCHEME argument, got %d (see \"referral check "
                     "--help\")", argc - 1);
      return EXIT_USAGE;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (ReferralScheme) scheme = referral_scheme_open (argv[1], &error);
  if (scheme == NULL)
    {
      command_error ("check", "%s", error->message);
      return g_error_matches (error, REFERRAL_ERROR, REFERRAL_ERROR_IO) ? EXIT_USAGE
                                                                        : EXIT_REJECTED;
    }
  const char *source = referral_scheme_builtin_text (argv[1]) != NULL ? "built-in" : argv[1];
  print_scheme (source, scheme);
  return EXIT_ALL_APPLIED;
}
