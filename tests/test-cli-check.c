/* `referral check`, the scheme parameter accessors it is built on, and the
 * conventions every command shares: COMMAND --help exits 0, an unknown
 * option exits 2, and so on for each command `referral --help` lists. */
#include "testutil.h"

#include <string.h>
#include <glib/gstdio.h>
#include <sys/wait.h>

/* ---- running the tool ----------------------------------------------------- */

typedef struct {
  int status; /* exit status, or -1 when killed by a signal */
  char *out;
  char *err;
} Result;

static void
result_clear (Result *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

/* Runs the tool with the NULL-terminated @args and fills @r. */
static void
run_argv (Result *r, const char *const *args)
{
  const char *build = g_getenv ("REFERRAL_BUILD_DIR");
  ck_assert_msg (build != NULL, "REFERRAL_BUILD_DIR is not set");
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_build_filename (build, "tools", "referral", "referral", NULL));
  for (const char *const *a = args; *a != NULL; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  g_ptr_array_add (argv, NULL);
  int wait_status = 0;
  GError *error = NULL;
  gboolean ok = g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT,
                              NULL, NULL, &r->out, &r->err, &wait_status, &error);
  g_ptr_array_unref (argv);
  assert_no_error (error);
  ck_assert (ok);
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
}

static void G_GNUC_NULL_TERMINATED
run (Result *r, ...)
{
  GPtrArray *args = g_ptr_array_new ();
  va_list ap;
  va_start (ap, r);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  run_argv (r, (const char *const *) args->pdata);
  g_ptr_array_unref (args);
}

static char *tmp_dir;

static void
setup_tmp (void)
{
  tmp_dir = g_dir_make_tmp ("referral-check-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_dir);
}

static void
teardown_tmp (void)
{
  GDir *d = g_dir_open (tmp_dir, 0, NULL);
  if (d != NULL)
    {
      const char *name;
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *p = g_build_filename (tmp_dir, name, NULL);
          g_remove (p);
        }
      g_dir_close (d);
    }
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* Writes @text to a file in the temporary directory; returns its path. */
static char *
write_tmp (const char *name, const char *text)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  GError *error = NULL;
  g_file_set_contents (path, text, -1, &error);
  assert_no_error (error);
  return path;
}

/* ---- the accessors -------------------------------------------------------- */

/* demo.ini sets rates, kind on "direct" and leaves sku, amounts at their
 * defaults; the accessors tell them apart and refuse out-of-range indexes. */
START_TEST (test_rule_params_api)
{
  GError *error = NULL;
  g_autoptr (ReferralScheme) scheme = referral_scheme_new_builtin ("demo", &error);
  assert_no_error (error);
  ck_assert_uint_eq (referral_scheme_n_rules (scheme), 2);
  ck_assert_str_eq (referral_scheme_rule_name (scheme, 0), "direct");
  guint n = referral_scheme_rule_n_params (scheme, 0);
  ck_assert_uint_eq (n, 4);
  gboolean seen_rates = FALSE, seen_sku = FALSE;
  for (guint k = 0; k < n; k++)
    {
      const char *name = NULL, *value = NULL;
      gboolean is_set = -1;
      ck_assert (referral_scheme_rule_param (scheme, 0, k, &name, &value, &is_set));
      ck_assert_ptr_nonnull (name);
      ck_assert_ptr_nonnull (value);
      if (strcmp (name, "rates") == 0)
        {
          seen_rates = TRUE;
          ck_assert_str_eq (value, "5%, 10%");
          ck_assert (is_set == TRUE);
        }
      else if (strcmp (name, "sku") == 0)
        {
          seen_sku = TRUE;
          ck_assert_str_eq (value, "");
          ck_assert (is_set == FALSE);
        }
    }
  ck_assert (seen_rates && seen_sku);
  /* Outputs may be NULL. */
  ck_assert (referral_scheme_rule_param (scheme, 1, 0, NULL, NULL, NULL));
  /* Out of range: FALSE, outputs untouched. */
  const char *name = "untouched";
  ck_assert (!referral_scheme_rule_param (scheme, 0, n, &name, NULL, NULL));
  ck_assert (!referral_scheme_rule_param (scheme, 2, 0, &name, NULL, NULL));
  ck_assert_str_eq (name, "untouched");
  ck_assert_uint_eq (referral_scheme_rule_n_params (scheme, 2), 0);
}
END_TEST

/* ---- referral check ------------------------------------------------------- */

/* The built-in demo: every rule in order, set values as written, defaults
 * marked. */
START_TEST (test_check_builtin)
{
  Result r;
  run (&r, "check", "demo", NULL);
  ck_assert_int_eq (r.status, 0);
  ck_assert_str_eq (r.err, "");
  ck_assert_str_eq (r.out,
                    "built-in: valid scheme \"demo\"\n"
                    "decimals: 2\n"
                    "ranks: user, member\n"
                    "rules: 2\n"
                    "\n"
                    "[rule direct]\n"
                    "type = direct_award\n"
                    "sku = \"\"    # default\n"
                    "amounts = \"\"    # default\n"
                    "rates = 5%, 10%\n"
                    "kind = direct\n"
                    "\n"
                    "[rule unilevel]\n"
                    "type = unilevel\n"
                    "levels = 3\n"
                    "rates = 5%, 3%, 1%\n"
                    "sku = \"\"    # default\n"
                    "min_rank = member\n"
                    "compress = false    # default\n"
                    "kind = unilevel\n");
  result_clear (&r);
}
END_TEST

/* A scheme file: its rules appear in the scheme's order, each with every
 * parameter its type declares. */
START_TEST (test_check_file_rule_order)
{
  g_autofree char *path = tu_source_path ("examples/schemes/chain21.ini");
  Result r;
  run (&r, "check", path, NULL);
  ck_assert_int_eq (r.status, 0);
  g_autofree char *head = g_strdup_printf ("%s: valid scheme \"chain21\"\n", path);
  ck_assert (g_str_has_prefix (r.out, head));

  GError *error = NULL;
  g_autoptr (ReferralScheme) scheme = referral_scheme_load_file (path, &error);
  assert_no_error (error);
  ck_assert_uint_gt (referral_scheme_n_rules (scheme), 1);
  const char *at = r.out;
  for (guint i = 0; i < referral_scheme_n_rules (scheme); i++)
    {
      g_autofree char *group = g_strdup_printf ("\n[rule %s]\ntype = %s\n",
                                                referral_scheme_rule_name (scheme, i),
                                                referral_scheme_rule_type (scheme, i));
      const char *found = strstr (at, group);
      ck_assert_msg (found != NULL, "rule %u (%s) missing or out of order", i, group);
      at = found + strlen (group);
      /* The next group (or the end) bounds this rule's parameter lines. */
      const char *end = strstr (at, "\n[rule ");
      g_autofree char *block = g_strndup (at, end ? (gsize) (end - at) : strlen (at));
      for (guint k = 0; k < referral_scheme_rule_n_params (scheme, i); k++)
        {
          const char *name;
          ck_assert (referral_scheme_rule_param (scheme, i, k, &name, NULL, NULL));
          g_autofree char *line = g_strdup_printf ("%s = ", name);
          ck_assert_msg (g_str_has_prefix (block, line) || strstr (block, line) != NULL,
                         "rule %u: parameter %s missing", i, name);
        }
    }
  result_clear (&r);
}
END_TEST

/* Invalid schemes exit 1; the message names the file, the line and the key. */
static const struct {
  const char *text;
  const char *needles[3];
} invalid_cases[] = {
  { "[scheme]\nname = x\nranks = a\n\n[rule r]\ntype = unilevel\nlevels = 1\n"
    "rates = 1%\nfoo = 1\n",
    { ":9:", "\"foo\"", "unknown parameter" } },
  { "[scheme]\nname = x\nranks = a\n[rule r]\ntype = unilevel\nlevels = many\n",
    { ":6:", "levels", "many" } },
  { "[scheme]\nname = x\nranks = a\n[rule r]\ntype = no_such_type\n",
    { ":5:", "type", "no_such_type" } },
  { "[scheme]\nname = x\ndecimals = 12\n",
    { ":3:", "decimals", "12" } },
  /* An empty list item (this case leaked the items before it: fuzz-scheme). */
  { "[scheme]\nname = x\nranks = a, b\n[rule d]\ntype = direct_award\n"
    "rates = 5%, , 1%\n",
    { ":6:", "key \"rates\"", "empty item" } },
  /* A list parameter a rule checks in its init: its error names the
   * parameter, so the message points at that key's line. */
  { "[scheme]\nname = x\n[rule r]\ntype = direct_award\nrates = lots\n",
    { ":5: [rule r] key \"rates\"", "\"rates\"", "lots" } },
};

START_TEST (test_check_invalid)
{
  g_autofree char *path = write_tmp ("bad.ini", invalid_cases[_i].text);
  Result r;
  run (&r, "check", path, NULL);
  ck_assert_int_eq (r.status, 1);
  ck_assert_str_eq (r.out, "");
  ck_assert (g_str_has_prefix (r.err, "referral check: "));
  assert_contains (r.err, path);
  for (guint k = 0; k < G_N_ELEMENTS (invalid_cases[_i].needles); k++)
    assert_contains (r.err, invalid_cases[_i].needles[k]);
  result_clear (&r);
}
END_TEST

/* Usage errors and unreadable files exit 2 and print nothing on stdout. */
START_TEST (test_check_usage)
{
  Result r;
  run (&r, "check", NULL);
  ck_assert_int_eq (r.status, 2);
  ck_assert_str_eq (r.out, "");
  assert_contains (r.err, "expected one SCHEME argument");
  result_clear (&r);

  run (&r, "check", "demo", "chain21", NULL);
  ck_assert_int_eq (r.status, 2);
  ck_assert_str_eq (r.out, "");
  result_clear (&r);

  g_autofree char *missing = g_build_filename (tmp_dir, "missing.ini", NULL);
  run (&r, "check", missing, NULL);
  ck_assert_int_eq (r.status, 2);
  ck_assert_str_eq (r.out, "");
  assert_contains (r.err, missing);
  result_clear (&r);

  /* A directory is not a readable scheme file either. */
  run (&r, "check", tmp_dir, NULL);
  ck_assert_int_eq (r.status, 2);
  ck_assert_str_eq (r.out, "");
  result_clear (&r);
}
END_TEST

/* ---- every command's --help and usage errors ------------------------------ */

/* The command names `referral --help` lists under "Commands:". */
static GPtrArray *
listed_commands (void)
{
  Result r;
  run (&r, "--help", NULL);
  ck_assert_int_eq (r.status, 0);
  const char *list = strstr (r.out, "Commands:\n");
  ck_assert_ptr_nonnull (list);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = g_strsplit (list + strlen ("Commands:\n"), "\n", -1);
  for (char **l = lines; *l && **l; l++)
    {
      g_auto (GStrv) words = g_strsplit_set (g_strstrip (*l), " ", 2);
      g_ptr_array_add (names, g_strdup (words[0]));
    }
  result_clear (&r);
  return names;
}

START_TEST (test_every_command_help_and_usage)
{
  g_autoptr (GPtrArray) names = listed_commands ();
  ck_assert_uint_ge (names->len, 4);
  gboolean has_check = FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      has_check = has_check || strcmp (name, "check") == 0;
      Result r;
      run (&r, name, "--help", NULL);
      ck_assert_msg (r.status == 0, "%s --help exited %d", name, r.status);
      g_autofree char *usage = g_strdup_printf ("Usage:\n  referral %s ", name);
      ck_assert_msg (g_str_has_prefix (r.out, usage), "%s --help: %s", name, r.out);
      ck_assert_str_eq (r.err, "");
      result_clear (&r);

      run (&r, name, "--no-such-option", NULL);
      ck_assert_msg (r.status == 2, "%s --no-such-option exited %d", name, r.status);
      ck_assert_str_eq (r.out, "");
      g_autofree char *prefix = g_strdup_printf ("referral %s: ", name);
      ck_assert_msg (g_str_has_prefix (r.err, prefix), "%s: %s", name, r.err);
      assert_contains (r.err, "--no-such-option");
      result_clear (&r);
    }
  ck_assert (has_check);

  Result r;
  run (&r, NULL);
  ck_assert_int_eq (r.status, 2);
  result_clear (&r);
  run (&r, "no-such-command", NULL);
  ck_assert_int_eq (r.status, 2);
  assert_contains (r.err, "no-such-command");
  result_clear (&r);
  run (&r, "--no-such-option", NULL);
  ck_assert_int_eq (r.status, 2);
  result_clear (&r);
}
END_TEST

/* The manual page documents every command `referral --help` lists, and the
 * three exit statuses. */
START_TEST (test_man_page_covers_commands)
{
  g_autofree char *path = tu_source_path ("tools/referral/referral.1");
  g_autofree char *man = NULL;
  GError *error = NULL;
  g_file_get_contents (path, &man, NULL, &error);
  assert_no_error (error);
  ck_assert (g_str_has_prefix (man, ".\\\" referral(1)"));
  assert_contains (man, "\n.TH REFERRAL 1 ");
  g_autoptr (GPtrArray) names = listed_commands ();
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *section = g_strdup_printf ("\n.SS %s\n", (const char *) names->pdata[i]);
      assert_contains (man, section);
      g_autofree char *synopsis = g_strdup_printf ("\n.B referral %s\n",
                                                   (const char *) names->pdata[i]);
      assert_contains (man, synopsis);
    }
  assert_contains (man, "\n.SH EXIT STATUS\n");
  for (const char *const *s = (const char *const[]) { "\n.B 0\n", "\n.B 1\n", "\n.B 2\n", NULL };
       *s != NULL; s++)
    assert_contains (man, *s);
  assert_contains (man, "\n.SH FILES\n");
  assert_contains (man, "\n.SH EXAMPLES\n");
}
END_TEST

static Suite *
cli_check_suite (void)
{
  Suite *s = suite_create ("cli-check");
  TCase *tc = tu_tcase (s, "api", 30);
  tcase_add_test (tc, test_rule_params_api);

  tc = tu_tcase (s, "check", 60);
  tcase_add_checked_fixture (tc, setup_tmp, teardown_tmp);
  tcase_add_test (tc, test_check_builtin);
  tcase_add_test (tc, test_check_file_rule_order);
  tcase_add_loop_test (tc, test_check_invalid, 0, G_N_ELEMENTS (invalid_cases));
  tcase_add_test (tc, test_check_usage);

  tc = tu_tcase (s, "commands", 60);
  tcase_add_test (tc, test_every_command_help_and_usage);
  tcase_add_test (tc, test_man_page_covers_commands);
  return s;
}

int
main (void)
{
  return tu_run_suites (cli_check_suite (), NULL);
}
