/* The `referral` command-line tool, end to end: the built binary is run
 * with g_spawn_sync() and its exit status, standard output and standard
 * error are compared with what shared/spec/events.md asks for. */
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

static char *
tool_path (void)
{
  const char *build = g_getenv ("REFERRAL_BUILD_DIR");
  ck_assert_msg (build != NULL, "REFERRAL_BUILD_DIR is not set");
  return g_build_filename (build, "tools", "referral", "referral", NULL);
}

/* Runs argv (NULL-terminated, without the program) and fills @r. */
static void
run_argv (Result *r, const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, tool_path ());
  for (const char *const *a = args; *a != NULL; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  g_ptr_array_add (argv, NULL);
  int wait_status = 0;
  GError *error = NULL;
  r->out = r->err = NULL;
  gboolean ok = g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT,
                              NULL, NULL, &r->out, &r->err, &wait_status, &error);
  g_ptr_array_unref (argv);
  assert_no_error (error);
  ck_assert (ok);
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
}

/* run (&r, "run", "--scheme", "demo", ...): a NULL-terminated list. */
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

static char *
read_file (const char *path)
{
  char *text = NULL;
  GError *error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  assert_no_error (error);
  return text;
}

static char *
fixture (const char *name)
{
  return tu_fixture_path (name);
}

static char *tmp_dir;

static void
setup_tmp (void)
{
  tmp_dir = g_dir_make_tmp ("referral-cli-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_dir);
}

static void
teardown_tmp (void)
{
  tu_remove_tree (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* ---- the demo example ----------------------------------------------------- */

#define DEMO_SUMMARY \
  "events applied: 13\n" \
  "duplicates: 1\n"      \
  "errors: 0\n"          \
  "money in: 363.83\n"   \
  "paid out: 60.05\n"    \
  "held: 0.00\n"

/* examples/events/demo.jsonl gives the balances worked out by hand in
 * examples/events/demo.balances.jsonl, byte for byte, with the built-in
 * scheme and with the scheme file alike. */
START_TEST (test_demo_balances)
{
  g_autofree char *events = tu_source_path ("examples/events/demo.jsonl");
  g_autofree char *expected_path = tu_source_path ("examples/events/demo.balances.jsonl");
  g_autofree char *expected = read_file (expected_path);
  g_autofree char *scheme_file = tu_source_path ("examples/schemes/demo.ini");
  const char *schemes[] = { "demo", scheme_file };
  for (int i = 0; i < 2; i++)
    {
      Result r;
      run (&r, "run", "--scheme", schemes[i], "--balances", "-", events, NULL);
      ck_assert_int_eq (r.status, 0);
      ck_assert_str_eq (r.out, expected);
      ck_assert_str_eq (r.err, DEMO_SUMMARY);
      result_clear (&r);
    }
}
END_TEST

/* Options may follow the file; the balances may go to a file. */
START_TEST (test_demo_to_file)
{
  g_autofree char *events = tu_source_path ("examples/events/demo.jsonl");
  g_autofree char *expected_path = tu_source_path ("examples/events/demo.balances.jsonl");
  g_autofree char *expected = read_file (expected_path);
  g_autofree char *out = tmp_path ("balances.jsonl");
  Result r;
  run (&r, "run", events, "--balances", out, "--scheme=demo", NULL);
  ck_assert_int_eq (r.status, 0);
  ck_assert_str_eq (r.out, "");
  ck_assert_str_eq (r.err, DEMO_SUMMARY);
  g_autofree char *written = read_file (out);
  ck_assert_str_eq (written, expected);
  result_clear (&r);
}
END_TEST

/* "-" reads the events from standard input. */
START_TEST (test_demo_from_stdin)
{
  g_autofree char *events = tu_source_path ("examples/events/demo.jsonl");
  g_autofree char *expected_path = tu_source_path ("examples/events/demo.balances.jsonl");
  g_autofree char *expected = read_file (expected_path);
  g_autofree char *tool = tool_path ();
  const char *argv[] = { "/bin/sh", "-c",
                         "exec \"$0\" run --scheme demo --balances - - < \"$1\"",
                         tool, events, NULL };
  g_autofree char *out = NULL, *err = NULL;
  int wait_status;
  GError *error = NULL;
  ck_assert (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                           &out, &err, &wait_status, &error));
  assert_no_error (error);
  ck_assert (WIFEXITED (wait_status));
  ck_assert_int_eq (WEXITSTATUS (wait_status), 0);
  ck_assert_str_eq (out, expected);
  ck_assert_str_eq (err, DEMO_SUMMARY);
}
END_TEST

static guint
count_lines (const char *text)
{
  guint n = 0;
  for (const char *c = text; *c != '\0'; c++)
    n += *c == '\n';
  return n;
}

START_TEST (test_demo_ledger)
{
  g_autofree char *events = tu_source_path ("examples/events/demo.jsonl");
  g_autofree char *csv = tmp_path ("ledger.csv");
  Result r;
  run (&r, "run", "--scheme", "demo", "--ledger", csv, events, NULL);
  ck_assert_int_eq (r.status, 0);
  ck_assert_str_eq (r.out, "");
  g_autofree char *text = read_file (csv);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  ck_assert_str_eq (lines[0], "index,event,event_id,kind,rule,from,to,amount,cause,reversal");
  /* Postings: o1 sale + 3 awards, o2 4, o3 sale + 2, refund of o1 4,
   * o4 4, the withdrawal 1. */
  ck_assert_uint_eq (count_lines (text), 1 + 20);
  ck_assert_str_eq (lines[21], "");
  /* The first posting is o1's sale (event e7, the 7th applied). */
  ck_assert_str_eq (lines[1], "0,6,e7,sale,engine,outside,platform,100.00,,0");
  ck_assert_str_eq (lines[2], "1,6,e7,direct,direct,platform,C:available,5.00,,0");
  /* The refund reverses o1's postings, last first, each caused by its original. */
  g_auto (GStrv) rev = g_strsplit (lines[12], ",", -1);
  ck_assert_str_eq (rev[2], "e10");
  ck_assert_str_eq (rev[9], "1");
  ck_assert_str_eq (rev[8], "3");
  ck_assert_str_eq (lines[20], "19,12,e13,withdraw,engine,B:available,outside,20.00,,0");
  result_clear (&r);

  /* Ledger and balances both to standard output: balances first. */
  run (&r, "run", "--scheme", "demo", "--ledger", "-", "--balances", "-", events, NULL);
  ck_assert_int_eq (r.status, 0);
  ck_assert (g_str_has_prefix (r.out, "{\"member\":\"A\""));
  ck_assert_uint_eq (count_lines (r.out), 4 + 1 + 20);
  assert_contains (r.out, "\nindex,event,event_id,kind,rule,from,to,amount,cause,reversal\n");
  result_clear (&r);
}
END_TEST

/* ---- bad event files ------------------------------------------------------ */

typedef struct {
  const char *file;      /* in tests/fixtures/cli/ */
  gboolean keep_going;
  const char *errors;    /* each line "LINE: message"; FILE: is prepended */
  const char *summary;
  const char *balances;
} BadCase;

#define SUMMARY(applied, dups, errs, in, out) \
  "events applied: " #applied "\nduplicates: " #dups "\nerrors: " #errs \
  "\nmoney in: " in "\npaid out: " out "\nheld: 0.00\n"
#define BAL(m, rank, avail) \
  "{\"member\":\"" m "\",\"rank\":\"" rank "\",\"available\":\"" avail "\",\"held\":\"0.00\"}\n"

static const BadCase bad_cases[] = {
  { "bad-decimals.jsonl", FALSE,
    "3: order \"o9\": amount \"6.999\" has more than 2 decimals\n",
    SUMMARY (2, 0, 1, "0.00", "0.00"),
    BAL ("A", "user", "0.00") BAL ("B", "user", "0.00") },
  { "bad-json.jsonl", FALSE,
    "2: invalid JSON: expected ',' or '}' at the end of the line\n",
    SUMMARY (1, 0, 1, "0.00", "0.00"),
    BAL ("A", "user", "0.00") },
  { "unknown-member.jsonl", FALSE,
    "2: order \"o9\": member \"X\" does not exist\n",
    SUMMARY (1, 0, 1, "0.00", "0.00"),
    BAL ("A", "user", "0.00") },
  { "unknown-sponsor.jsonl", FALSE,
    "1: join \"B\": sponsor \"Z\" does not exist\n",
    SUMMARY (0, 0, 1, "0.00", "0.00"),
    "" },
  { "unknown-type.jsonl", FALSE,
    "2: unknown type \"jump\"\n",
    SUMMARY (0, 0, 1, "0.00", "0.00"),
    "" },
  { "missing-id.jsonl", FALSE,
    "1: join \"A\": missing field \"id\"\n",
    SUMMARY (0, 0, 1, "0.00", "0.00"),
    "" },
  { "id-conflict.jsonl", FALSE,
    "2: join \"B\": event id \"e1\" was already used for a different event (sequence 0)\n",
    SUMMARY (1, 0, 1, "0.00", "0.00"),
    BAL ("A", "user", "0.00") },
  { "overdraw.jsonl", FALSE,
    "4: withdraw \"A\": amount 10.00 exceeds available 5.00\n",
    SUMMARY (3, 0, 1, "100.00", "5.00"),
    BAL ("A", "user", "5.00") BAL ("B", "user", "0.00") },
  { "double-refund.jsonl", FALSE,
    "5: refund \"o1\": order \"o1\" was already refunded\n",
    SUMMARY (4, 0, 1, "0.00", "0.00"),
    BAL ("A", "user", "0.00") BAL ("B", "user", "0.00") },
  { "float-amount.jsonl", FALSE,
    "2: withdraw \"A\": amount 6.99 is a JSON number with a fraction; "
    "write amounts with decimals as strings (\"6.99\")\n",
    SUMMARY (1, 0, 1, "0.00", "0.00"),
    BAL ("A", "user", "0.00") },
  { "invalid-utf8.jsonl", FALSE,
    "4: invalid UTF-8 at column 63\n",
    SUMMARY (2, 0, 1, "0.00", "0.00"),
    BAL ("A", "user", "0.00") BAL ("B", "user", "0.00") },
  /* Without --keep-going the run stops at line 4 (after a duplicate)... */
  { "keep-going.jsonl", FALSE,
    "4: order \"o1\": amount \"6.999\" has more than 2 decimals\n",
    SUMMARY (2, 1, 1, "0.00", "0.00"),
    BAL ("A", "user", "0.00") BAL ("B", "user", "0.00") },
  /* ...with it, every bad event is reported and skipped. */
  { "keep-going.jsonl", TRUE,
    "4: order \"o1\": amount \"6.999\" has more than 2 decimals\n"
    "7: withdraw \"A\": amount 50.00 exceeds available 10.00\n",
    SUMMARY (4, 2, 2, "200.00", "10.00"),
    BAL ("A", "user", "6.00") BAL ("B", "user", "0.00") },
};

/* Each bad file: exit status 1, each message exactly, the summary, and the
 * balances as of the stop. */
START_TEST (test_bad_file)
{
  const BadCase *c = &bad_cases[_i];
  g_autofree char *rel = g_build_filename ("cli", c->file, NULL);
  g_autofree char *path = fixture (rel);
  Result r;
  if (c->keep_going)
    run (&r, "run", "--keep-going", "--scheme", "demo", "--balances", "-", path, NULL);
  else
    run (&r, "run", "--scheme", "demo", "--balances", "-", path, NULL);

  GString *expected = g_string_new (NULL);
  g_auto (GStrv) lines = g_strsplit (c->errors, "\n", -1);
  for (int i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    g_string_append_printf (expected, "%s:%s\n", path, lines[i]);
  g_string_append (expected, c->summary);
  ck_assert_str_eq (r.err, expected->str);
  ck_assert_int_eq (r.status, 1);
  ck_assert_str_eq (r.out, c->balances);
  g_string_free (expected, TRUE);
  result_clear (&r);
}
END_TEST

/* ---- --threads --------------------------------------------------------------- */

/* `run --threads 1` and `--threads 2` (the default) print, write and exit
 * the same, keeping going or not, with or without a journal, on a file of
 * a few thousand events with rejected events, duplicates and bad lines. */
static const char *const thread_modes[][3] = {
  { NULL }, { "--keep-going", NULL }, { "--journal", "@J@", NULL },
  { "--keep-going", "--journal", "@J@" },
};

/* Fails unless @a and @b are the same text, quoting their first different
 * line (whole texts can be too long for a Check message). */
#define assert_same_text(a, b) assert_same_text_at (__FILE__, __LINE__, (a), (b))
static void
assert_same_text_at (const char *file, int line, const char *a, const char *b)
{
  if (strcmp (a, b) == 0)
    return;
  g_auto (GStrv) la = g_strsplit (a, "\n", -1);
  g_auto (GStrv) lb = g_strsplit (b, "\n", -1);
  guint k = 0;
  while (la[k] != NULL && lb[k] != NULL && strcmp (la[k], lb[k]) == 0)
    k++;
  _ck_assert_failed (file, line, "texts differ", "line %u is\n%.300s\nagainst\n%.300s", k + 1,
                     la[k] ? la[k] : "(none)", lb[k] ? lb[k] : "(none)");
}

static void
run_with_threads (Result *r, guint mode, const char *threads, const char *events)
{
  g_autofree char *jdir = g_strdup_printf ("%s/journal-%s", tmp_dir, threads);
  g_autofree char *bal = g_strdup_printf ("%s/balances-%s.jsonl", tmp_dir, threads);
  g_autofree char *led = g_strdup_printf ("%s/ledger-%s.csv", tmp_dir, threads);
  GPtrArray *args = g_ptr_array_new ();
  const char *fixed[] = { "run", "--scheme", "demo", "--sync", "none", "--threads", threads,
                          "--balances", bal, "--ledger", led };
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (args, (gpointer) fixed[i]);
  for (guint i = 0; i < 3 && thread_modes[mode][i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) (strcmp (thread_modes[mode][i], "@J@") == 0
                                       ? jdir : thread_modes[mode][i]));
  g_ptr_array_add (args, (gpointer) events);
  g_ptr_array_add (args, NULL);
  run_argv (r, (const char *const *) args->pdata);
  g_ptr_array_unref (args);
}

START_TEST (test_threads_same_output)
{
  GString *text = g_string_new ("{\"type\":\"join\",\"id\":\"j0\",\"member\":\"m0\"}\n");
  for (guint i = 1; i < 3000; i++)
    {
      if (i < 200)
        g_string_append_printf (text, "{\"type\":\"join\",\"id\":\"j%u\",\"member\":\"m%u\","
                                "\"sponsor\":\"m%u\"}\n", i, i, i / 2);
      else if (i >= 1500 && i % 31 == 0)
        g_string_append_printf (text, "{\"type\":\"order\",\"id\":\"x%u\",\"order\":\"x%u\","
                                "\"member\":\"nobody\",\"amount\":\"1.00\"}\n", i, i);
      else if (i % 1000 == 907)
        g_string_append (text, "{not json\n");
      else
        {
          guint k = i % 43 == 0 ? i - 1 : i; /* a duplicate now and then */
          g_string_append_printf (text, "{\"type\":\"order\",\"id\":\"o%u\",\"order\":\"o%u\","
                                  "\"member\":\"m%u\",\"amount\":\"%u.50\"}\n",
                                  k, k, k % 200, k % 70 + 1);
        }
    }
  g_autofree char *events = tmp_path ("threads.jsonl");
  ck_assert (g_file_set_contents (events, text->str, (gssize) text->len, NULL));
  g_string_free (text, TRUE);

  Result one, two;
  run_with_threads (&one, _i, "1", events);
  run_with_threads (&two, _i, "2", events);
  ck_assert_int_eq (one.status, 1);
  ck_assert_int_eq (two.status, one.status);
  assert_same_text (two.out, one.out);
  assert_same_text (two.err, one.err);
  assert_contains (one.err, "threads.jsonl:");
  const char *files[][2] = { { "balances-1.jsonl", "balances-2.jsonl" },
                             { "ledger-1.csv", "ledger-2.csv" } };
  for (guint f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *p1 = tmp_path (files[f][0]);
      g_autofree char *p2 = tmp_path (files[f][1]);
      g_autofree char *c1 = read_file (p1);
      g_autofree char *c2 = read_file (p2);
      ck_assert_uint_gt (strlen (c1), 1000);
      assert_same_text (c2, c1);
    }
  result_clear (&one);
  result_clear (&two);
}
END_TEST

/* ---- usage ---------------------------------------------------------------- */

START_TEST (test_help_and_version)
{
  Result r;
  run (&r, "--help", NULL);
  ck_assert_int_eq (r.status, 0);
  assert_contains (r.out, "Usage:");
  assert_contains (r.out, "  run ");
  ck_assert_str_eq (r.err, "");
  result_clear (&r);

  run (&r, "run", "--help", NULL);
  ck_assert_int_eq (r.status, 0);
  assert_contains (r.out, "referral run");
  assert_contains (r.out, "--scheme");
  assert_contains (r.out, "--balances");
  assert_contains (r.out, "--ledger");
  assert_contains (r.out, "--keep-going");
  assert_contains (r.out, "demo");
  result_clear (&r);

  run (&r, "--version", NULL);
  ck_assert_int_eq (r.status, 0);
  g_autofree char *version = g_strdup_printf ("referral %s\n", REFERRAL_VERSION_STRING);
  ck_assert_str_eq (r.out, version);
  result_clear (&r);
}
END_TEST

typedef struct {
  const char *args[10];
  const char *message; /* a part of standard error */
} UsageCase;

static const UsageCase usage_cases[] = {
  { { NULL }, "Usage:" },
  { { "--bogus", NULL }, "unknown option --bogus" },
  { { "fly", NULL }, "unknown command \"fly\"" },
  { { "run", "--bogus", "x.jsonl", NULL }, "--bogus" },
  { { "run", "@DEMO@", NULL }, "--scheme is required" },
  { { "run", "--scheme", "demo", NULL }, "give one events file" },
  { { "run", "--scheme", "demo", "@DEMO@", "@DEMO@", NULL }, "give only one events file" },
  { { "run", "--scheme", "no-such-scheme", "@DEMO@", NULL },
    "scheme no-such-scheme is neither a built-in scheme (demo, " },
  { { "run", "--scheme", "@TMP@", "@DEMO@", NULL }, "cannot use scheme @TMP@: " },
  { { "run", "--scheme", "@BADSCHEME@", "@DEMO@", NULL }, "no_such_rule" },
  { { "run", "--scheme", "demo", "@TMP@/missing.jsonl", NULL }, "missing.jsonl" },
  { { "run", "--scheme", "demo", "--ledger", "@TMP@/no/such/dir/l.sqlite", "@DEMO@", NULL },
    "cannot write @TMP@/no/such/dir/l.sqlite" },
  { { "run", "--scheme", "demo", "--balances", "@TMP@/no/such/dir/b.jsonl", "@DEMO@", NULL },
    "cannot write @TMP@/no/such/dir/b.jsonl" },
  { { "run", "--scheme", "demo", "--ledger", "@TMP@", "@DEMO@", NULL },
    "cannot write @TMP@" },
  { { "run", "--scheme", "demo", "--ledger", "@TMP@/x", "--balances", "@TMP@/x", "@DEMO@",
      NULL }, "name the same file" },
  { { "run", "--scheme", "demo", "--threads", "3", "--ledger", "@TMP@/x", "@DEMO@", NULL },
    "--threads must be 1 or 2, not 3" },
  { { "run", "--scheme", "demo", "--threads", "0", "--ledger", "@TMP@/x", "@DEMO@", NULL },
    "--threads must be 1 or 2, not 0" },
};

static char *
expand (const char *arg)
{
  g_autofree char *demo = tu_source_path ("examples/events/demo.jsonl");
  g_autofree char *bad = tu_fixture_path ("cli/bad-scheme.ini");
  char *s = g_strdup (arg);
  const char *names[] = { "@DEMO@", "@BADSCHEME@", "@TMP@" };
  const char *values[] = { demo, bad, tmp_dir };
  for (int i = 0; i < 3; i++)
    {
      g_auto (GStrv) parts = g_strsplit (s, names[i], -1);
      g_free (s);
      s = g_strjoinv (values[i], parts);
    }
  return s;
}

/* Bad usage, unusable schemes, unreadable input, unwritable output:
 * exit status 2 and a message saying why; no output file is created. */
START_TEST (test_usage_error)
{
  const UsageCase *c = &usage_cases[_i];
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; c->args[i] != NULL; i++)
    g_ptr_array_add (args, expand (c->args[i]));
  g_ptr_array_add (args, NULL);
  Result r;
  run_argv (&r, (const char *const *) args->pdata);
  g_ptr_array_unref (args);
  g_autofree char *message = expand (c->message);
  ck_assert_int_eq (r.status, 2);
  assert_contains (r.err, message);
  ck_assert_str_eq (r.out, "");
  /* Nothing was run: no summary. */
  ck_assert_ptr_null (strstr (r.err, "events applied"));
  g_autofree char *sqlite = tmp_path ("l.sqlite");
  g_autofree char *x = tmp_path ("x");
  ck_assert (!g_file_test (sqlite, G_FILE_TEST_EXISTS));
  ck_assert (!g_file_test (x, G_FILE_TEST_EXISTS));
  result_clear (&r);
}
END_TEST

/* A failed events file does not truncate outputs of an earlier run. */
START_TEST (test_missing_events_keeps_outputs)
{
  g_autofree char *out = tmp_path ("b.jsonl");
  g_file_set_contents (out, "earlier\n", -1, NULL);
  g_autofree char *missing = tmp_path ("missing.jsonl");
  Result r;
  run (&r, "run", "--scheme", "demo", "--balances", out, missing, NULL);
  ck_assert_int_eq (r.status, 2);
  g_autofree char *kept = read_file (out);
  ck_assert_str_eq (kept, "earlier\n");
  result_clear (&r);
}
END_TEST

/* A write that fails (a full disk) is exit status 2 with the reason. */
START_TEST (test_full_disk)
{
  if (!g_file_test ("/dev/full", G_FILE_TEST_EXISTS))
    return;
  g_autofree char *events = tu_source_path ("examples/events/demo.jsonl");
  Result r;
  run (&r, "run", "--scheme", "demo", "--ledger", "/dev/full", events, NULL);
  ck_assert_int_eq (r.status, 2);
  assert_contains (r.err, "referral run: cannot write /dev/full: ");
  /* The run itself went through: the summary follows. */
  assert_contains (r.err, "events applied: 13\n");
  result_clear (&r);
}
END_TEST

/* Keys are JSON-escaped in the balances, CSV-quoted in the ledger. */
START_TEST (test_output_escaping)
{
  g_autofree char *events = tmp_path ("odd.jsonl");
  g_file_set_contents (events,
    "{\"type\":\"join\",\"id\":\"e,1\",\"member\":\"a\\\"b\\\\c\"}\n"
    "{\"type\":\"join\",\"id\":\"e2\",\"member\":\"\\u5f20\\t,\",\"sponsor\":\"a\\\"b\\\\c\"}\n"
    "{\"type\":\"order\",\"id\":\"e,3\",\"order\":\"o1\",\"member\":\"\\u5f20\\t,\",\"amount\":10}\n",
    -1, NULL);
  Result r;
  run (&r, "run", "--scheme", "demo", "--balances", "-", "--ledger", "-", events, NULL);
  ck_assert_int_eq (r.status, 0);
  ck_assert_str_eq (r.out,
    "{\"member\":\"a\\\"b\\\\c\",\"rank\":\"user\",\"available\":\"0.50\",\"held\":\"0.00\"}\n"
    "{\"member\":\"\xe5\xbc\xa0\\t,\",\"rank\":\"user\",\"available\":\"0.00\",\"held\":\"0.00\"}\n"
    "index,event,event_id,kind,rule,from,to,amount,cause,reversal\n"
    "0,2,\"e,3\",sale,engine,outside,platform,10.00,,0\n"
    "1,2,\"e,3\",direct,direct,platform,\"a\"\"b\\c:available\",0.50,,0\n");
  result_clear (&r);
}
END_TEST

static Suite *
cli_suite (void)
{
  Suite *s = suite_create ("cli");
  TCase *tc = tu_tcase (s, "demo", 60);
  tcase_add_checked_fixture (tc, setup_tmp, teardown_tmp);
  tcase_add_test (tc, test_demo_balances);
  tcase_add_test (tc, test_demo_to_file);
  tcase_add_test (tc, test_demo_from_stdin);
  tcase_add_test (tc, test_demo_ledger);
  tcase_add_test (tc, test_output_escaping);

  tc = tu_tcase (s, "errors", 60);
  tcase_add_loop_test (tc, test_bad_file, 0, G_N_ELEMENTS (bad_cases));

  tc = tu_tcase (s, "threads", 60);
  tcase_add_checked_fixture (tc, setup_tmp, teardown_tmp);
  tcase_add_loop_test (tc, test_threads_same_output, 0, G_N_ELEMENTS (thread_modes));

  tc = tu_tcase (s, "usage", 60);
  tcase_add_checked_fixture (tc, setup_tmp, teardown_tmp);
  tcase_add_test (tc, test_help_and_version);
  tcase_add_loop_test (tc, test_usage_error, 0, G_N_ELEMENTS (usage_cases));
  tcase_add_test (tc, test_missing_events_keeps_outputs);
  tcase_add_test (tc, test_full_disk);
  return s;
}

int
main (void)
{
  return tu_run_suites (cli_suite (), NULL);
}
