/* `referral simulate`, `referral explain` and `referral run --ledger
 * FILE.sqlite`, end to end: the built tool is run with g_spawn_sync(), its
 * JSON is parsed with json-glib and its databases are read back with the
 * SQLite C API. */
#include "testutil.h"

#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* ---- running the tool -------------------------------------------------------- */

typedef struct {
  int status;  /* exit status, -1 when killed */
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

static char *tmp_dir;

/* Runs the tool with the NULL-terminated arguments; "@TMP@" in an argument
 * is replaced by the test's temporary directory. */
static void G_GNUC_NULL_TERMINATED
tool (Run *r, ...)
{
  const char *build = g_getenv ("REFERRAL_BUILD_DIR");
  ck_assert_msg (build != NULL, "REFERRAL_BUILD_DIR is not set");
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_build_filename (build, "tools", "referral", "referral", NULL));
  va_list ap;
  va_start (ap, r);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    {
      g_auto (GStrv) parts = g_strsplit (a, "@TMP@", -1);
      g_ptr_array_add (argv, g_strjoinv (tmp_dir, parts));
    }
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_autoptr (GError) error = NULL;
  int wait_status = 0;
  r->out = r->err = NULL;
  ck_assert (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                           &r->out, &r->err, &wait_status, &error));
  assert_no_error (error);
  g_ptr_array_unref (argv);
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      GDir *d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      if (d != NULL)
        g_dir_close (d);
      g_rmdir (path);
    }
  else
    g_remove (path);
}

static void
setup (void)
{
  tmp_dir = g_dir_make_tmp ("referral-cli-sim-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_dir);
}

static void
teardown (void)
{
  remove_tree (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

static char *
tmp (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

static char *
slurp (const char *path)
{
  char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  assert_no_error (error);
  return text;
}

static guint
count_lines (const char *text)
{
  guint n = 0;
  for (const char *c = text; *c; c++)
    n += *c == '\n';
  return n;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  /* g_ptr_array_sort passes pointers to the elements. */
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Names of the files in @dir, sorted, "a,b,". */
static char *
listing (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  ck_assert_ptr_nonnull (d);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_names);
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < names->len; i++)
    g_string_append_printf (s, "%s,", (const char *) g_ptr_array_index (names, i));
  g_ptr_array_unref (names);
  return g_string_free (s, FALSE);
}

/* ---- SQLite ------------------------------------------------------------------------ */

static sqlite3 *
db_open (const char *path)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL);
  ck_assert_msg (rc == SQLITE_OK, "cannot open %s: %s", path, db ? sqlite3_errmsg (db) : "?");
  return db;
}

/* The first column of the first row of @sql as an integer. */
static gint64
db_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  ck_assert_msg (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg (db));
  ck_assert_msg (sqlite3_step (stmt) == SQLITE_ROW, "%s: no row", sql);
  gint64 v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return v;
}

/* Every row of @sql, columns joined by ',' and rows ended by '\n'. */
static char *
db_text (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  ck_assert_msg (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg (db));
  GString *s = g_string_new (NULL);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      for (int c = 0; c < sqlite3_column_count (stmt); c++)
        {
          const unsigned char *t = sqlite3_column_text (stmt, c);
          g_string_append_printf (s, "%s%s", c ? "," : "", t ? (const char *) t : "");
        }
      g_string_append_c (s, '\n');
    }
  ck_assert_int_eq (rc, SQLITE_DONE);
  sqlite3_finalize (stmt);
  return g_string_free (s, FALSE);
}

/* ---- simulate: report, progress, determinism ------------------------------------------ */

#define SMALL "--members", "2000", "--days", "20"

START_TEST (test_simulate_report)
{
  Run a, b, c;
  tool (&a, "simulate", "--scheme", "chain21", SMALL, "--seed", "1", NULL);
  ck_assert_msg (a.status == 0, "%s", a.err);
  assert_contains (a.out, "Simulation of scheme chain21: a market of 2000 people, 20 days, "
                          "seed 1\n");
  const char *sections[] = { "\nPeople\n", "\nSales ", "\nRewards paid, net of refunds",
                             "\nWhere the rewards came from\n",
                             "  entry purchases (recruitment) ",
                             "\nNet result of each member", "  loss share by rank\n",
                             "  loss share by join cohort\n", "    days 1-7 ",
                             "\nInequality of rewards received\n  Gini coefficient 0.",
                             "\nDaily trajectory\n", "  rank partner " };
  for (guint i = 0; i < G_N_ELEMENTS (sections); i++)
    assert_contains (a.out, sections[i]);
  /* stderr is not a terminal here: a plain progress line every 2 days. */
  ck_assert_uint_eq (count_lines (a.err), 10);
  assert_contains (a.err, "referral simulate: day 2/20, ");
  assert_contains (a.err, "referral simulate: day 20/20, ");
  ck_assert_ptr_null (strchr (a.err, '\r'));

  /* The same seed: the same report, byte for byte; another seed: not. */
  tool (&b, "simulate", "--scheme", "chain21", SMALL, "--seed", "1", "--quiet", NULL);
  ck_assert_int_eq (b.status, 0);
  ck_assert_str_eq (a.out, b.out);
  ck_assert_str_eq (b.err, "");
  tool (&c, "simulate", "--scheme", "chain21", SMALL, "--seed", "2", "-q", NULL);
  ck_assert_int_eq (c.status, 0);
  ck_assert_str_ne (a.out, c.out);
  run_clear (&a);
  run_clear (&b);
  run_clear (&c);
}
END_TEST

static gint64
json_money (JsonObject *o, const char *member)
{
  const char *text = json_object_get_string_member (o, member);
  ck_assert_msg (text != NULL, "%s is not a string", member);
  gint64 v = 0;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (referral_money_parse (text, 2, TRUE, &v, &error), "%s = %s", member, text);
  return v;
}

START_TEST (test_simulate_json)
{
  Run a, b;
  tool (&a, "simulate", "--scheme", "chain21", SMALL, "--seed", "5", "--json", "-q", NULL);
  ck_assert_msg (a.status == 0, "%s", a.err);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  ck_assert_msg (json_parser_load_from_data (parser, a.out, -1, &error), "%s",
                 error ? error->message : "");
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  ck_assert_str_eq (json_object_get_string_member (root, "scheme"), "chain21");
  ck_assert_int_eq (json_object_get_int_member (root, "decimals"), 2);
  ck_assert_uint_eq (strlen (json_object_get_string_member (root, "state_hash")), 16);
  JsonObject *config = json_object_get_object_member (root, "config");
  ck_assert_str_eq (json_object_get_string_member (config, "seed"), "5");
  ck_assert_str_eq (json_object_get_string_member (config, "members"), "2000");
  ck_assert_str_eq (json_object_get_string_member (config, "entry_sku"), "gift");

  JsonObject *summary = json_object_get_object_member (root, "summary");
  gint64 members = json_object_get_int_member (summary, "members");
  ck_assert_int_gt (members, 100);
  ck_assert_int_eq (json_object_get_int_member (summary, "market"), 2000);
  double gini = json_object_get_double_member (summary, "gini");
  ck_assert (gini > 0.0 && gini < 1.0);
  gint64 rewards = json_money (summary, "rewards");
  JsonObject *kinds = json_object_get_object_member (summary, "rewards_by_kind");
  gint64 by_kind = 0;
  g_autoptr (GList) names = json_object_get_members (kinds);
  for (GList *l = names; l != NULL; l = l->next)
    by_kind += json_money (kinds, l->data);
  ck_assert_int_eq (by_kind, rewards);
  ck_assert (json_object_has_member (kinds, "direct"));
  JsonObject *by_rank = json_object_get_object_member (summary, "by_rank");
  ck_assert_int_eq (json_object_get_int_member (by_rank, "user")
                    + json_object_get_int_member (by_rank, "agent")
                    + json_object_get_int_member (by_rank, "partner"), members);

  JsonArray *days = json_object_get_array_member (root, "days");
  ck_assert_uint_eq (json_array_get_length (days), 20);
  gint64 daily = 0;
  for (guint d = 0; d < 20; d++)
    {
      JsonObject *day = json_array_get_object_element (days, d);
      ck_assert_int_eq (json_object_get_int_member (day, "day"), d + 1);
      daily += json_money (day, "rewards");
    }
  JsonObject *last = json_array_get_object_element (days, 19);
  ck_assert_int_eq (json_object_get_int_member (last, "members"), members);
  ck_assert_int_eq (daily, rewards);
  ck_assert_int_eq (json_money (last, "rewards_total"), rewards);
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (root, "ranks")), 3);
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (root, "cohorts")), 3);

  tool (&b, "simulate", "--scheme", "chain21", SMALL, "--seed", "5", "--json", "-q", NULL);
  ck_assert_str_eq (a.out, b.out);
  run_clear (&a);
  run_clear (&b);
}
END_TEST

/* ---- simulate: the database and the CSV files ---------------------------------------- */

START_TEST (test_simulate_db_and_csv)
{
  Run r;
  tool (&r, "simulate", "--scheme", "chain21", SMALL, "--seed", "3", "-q",
        "--db", "@TMP@/sim.sqlite", "--csv", "@TMP@/csv", NULL);
  ck_assert_msg (r.status == 0, "%s", r.err);
  g_autofree char *files = listing (tmp_dir);
  ck_assert_str_eq (files, "csv,sim.sqlite,"); /* no temporary file left */
  g_autofree char *csv_dir = tmp ("csv");
  g_autofree char *csv_files = listing (csv_dir);
  ck_assert_str_eq (csv_files, "cohorts.csv,daily.csv,ledger.csv,members.csv,ranks.csv,"
                               "summary.csv,");

  g_autofree char *path = tmp ("sim.sqlite");
  /* An output gets a new file's usual permissions, not mkstemp's 0600. */
  GStatBuf st;
  ck_assert_int_eq (g_stat (path, &st), 0);
  mode_t mask = umask (0);
  umask (mask);
  ck_assert_uint_eq (st.st_mode & 0777, 0666 & ~mask);
  sqlite3 *db = db_open (path);
  g_autofree char *tables = db_text (db, "SELECT type, name FROM sqlite_schema "
                                         "WHERE name NOT LIKE 'sqlite_%' ORDER BY name");
  ck_assert_str_eq (tables, "table,accounts\nview,balances\ntable,cohorts\ntable,daily\n"
                            "table,daily_kinds\ntable,daily_ranks\ntable,events\n"
                            "table,kinds\nview,ledger\ntable,members\ntable,postings\n"
                            "table,ranks\ntable,rules\ntable,run\ntable,summary\n");

  gint64 members = db_int (db, "SELECT value FROM summary WHERE metric = 'members'");
  ck_assert_int_gt (members, 100);
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM members"), members);
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM daily"), 20);
  ck_assert_int_eq (db_int (db, "SELECT members FROM daily WHERE day = 20"), members);
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM daily_ranks"), 20 * 3);
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM events"),
                    db_int (db, "SELECT value FROM summary WHERE metric = 'events'"));
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM ranks"), 3);
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM cohorts"), 3);
  /* Every posting, as many as in the CSV ledger; the view shows them all. */
  g_autofree char *ledger_path = g_build_filename (csv_dir, "ledger.csv", NULL);
  g_autofree char *ledger_csv = slurp (ledger_path);
  gint64 postings = db_int (db, "SELECT count(*) FROM postings");
  ck_assert_int_gt (postings, 1000);
  ck_assert_int_eq (postings, count_lines (ledger_csv) - 1);
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM ledger"), postings);
  /* The view's rows are the CSV's rows. */
  g_autofree char *view = db_text (db, "SELECT idx, event, event_id, kind, rule, from_name, "
                                       "to_name, amount_text, ifnull(cause, ''), reversal "
                                       "FROM ledger ORDER BY idx");
  ck_assert_str_eq (view, strchr (ledger_csv, '\n') + 1);
  /* Money adds up: the accounts sum to zero; net results are rewards less
   * sales; the members' balances are their accounts'. */
  ck_assert_int_eq (db_int (db, "SELECT sum(balance) FROM accounts"), 0);
  ck_assert_int_eq (db_int (db, "SELECT sum(net) FROM members"),
                    db_int (db, "SELECT value FROM summary WHERE metric = 'rewards'")
                    - db_int (db, "SELECT value FROM summary WHERE metric = 'sales'"));
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM members m JOIN accounts a "
                                "ON a.member = m.id AND a.held = 0 WHERE a.balance != m.available"),
                    0);
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM members WHERE net != rewards - paid"), 0);
  ck_assert_int_eq (db_int (db, "SELECT sum(rewards) FROM daily_kinds"),
                    db_int (db, "SELECT value FROM summary WHERE metric = 'rewards'"));
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM members WHERE sponsor IS NULL"), 20);
  g_autofree char *run = db_text (db, "SELECT key, value FROM run WHERE key IN "
                                      "('command', 'scheme', 'sim.seed', 'sim.members', "
                                      "'decimals') ORDER BY key");
  ck_assert_str_eq (run, "command,simulate\ndecimals,2\nscheme,chain21\nsim.members,2000\n"
                         "sim.seed,3\n");
  /* The outside paid for every sale and got the withdrawals back. */
  g_autofree char *balance = db_text (db, "SELECT balance_text FROM balances WHERE id = 0");
  ck_assert_msg (balance[0] == '-' && strchr (balance, '.') != NULL, "%s", balance);
  sqlite3_close (db);

  /* The CSV files agree with the database. */
  g_autofree char *members_path = g_build_filename (csv_dir, "members.csv", NULL);
  g_autofree char *members_csv = slurp (members_path);
  ck_assert_int_eq (count_lines (members_csv) - 1, members);
  assert_contains (members_csv, "member,sponsor,parent,rank,join_day,active,paid,rewards,net,"
                                "available,held\nm1,,,");
  g_autofree char *daily_path = g_build_filename (csv_dir, "daily.csv", NULL);
  g_autofree char *daily_csv = slurp (daily_path);
  ck_assert_uint_eq (count_lines (daily_csv), 21);
  assert_contains (daily_csv, ",rank:user,rank:agent,rank:partner,kind:direct,");
  run_clear (&r);

  /* The same run again: the same database, byte for byte. */
  tool (&r, "simulate", "--scheme", "chain21", SMALL, "--seed", "3", "-q",
        "--db", "@TMP@/again.sqlite", NULL);
  ck_assert_int_eq (r.status, 0);
  g_autofree char *again_path = tmp ("again.sqlite");
  gsize n1 = 0, n2 = 0;
  g_autofree char *bytes1 = NULL, *bytes2 = NULL;
  ck_assert (g_file_get_contents (path, &bytes1, &n1, NULL));
  ck_assert (g_file_get_contents (again_path, &bytes2, &n2, NULL));
  ck_assert_uint_eq (n1, n2);
  ck_assert (memcmp (bytes1, bytes2, n1) == 0);
  run_clear (&r);
}
END_TEST

/* An existing --db or --csv file is refused before the run and left as it
 * was; --force replaces it. */
START_TEST (test_simulate_refuses_existing)
{
  g_autofree char *path = tmp ("old.sqlite");
  ck_assert (g_file_set_contents (path, "precious\n", -1, NULL));
  Run r;
  tool (&r, "simulate", "--scheme", "chain21", SMALL, "--db", "@TMP@/old.sqlite", NULL);
  ck_assert_int_eq (r.status, 2);
  g_autofree char *message = g_strdup_printf ("referral simulate: %s exists (use --force to "
                                              "replace it)\n", path);
  ck_assert_str_eq (r.err, message);
  ck_assert_str_eq (r.out, "");
  g_autofree char *kept = slurp (path);
  ck_assert_str_eq (kept, "precious\n");
  run_clear (&r);

  tool (&r, "simulate", "--scheme", "chain21", SMALL, "-q", "--force", "--db",
        "@TMP@/old.sqlite", NULL);
  ck_assert_msg (r.status == 0, "%s", r.err);
  sqlite3 *db = db_open (path);
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM daily"), 20);
  sqlite3_close (db);
  run_clear (&r);

  g_autofree char *dir = tmp ("csv");
  g_mkdir (dir, 0700);
  g_autofree char *daily = g_build_filename (dir, "daily.csv", NULL);
  ck_assert (g_file_set_contents (daily, "mine\n", -1, NULL));
  tool (&r, "simulate", "--scheme", "chain21", SMALL, "--csv", "@TMP@/csv", NULL);
  ck_assert_int_eq (r.status, 2);
  assert_contains (r.err, "daily.csv exists (use --force to replace it)");
  g_autofree char *mine = slurp (daily);
  ck_assert_str_eq (mine, "mine\n");
  g_autofree char *files = listing (dir);
  ck_assert_str_eq (files, "daily.csv,");
  run_clear (&r);
  tool (&r, "simulate", "--scheme", "chain21", SMALL, "-q", "--force", "--csv", "@TMP@/csv",
        NULL);
  ck_assert_int_eq (r.status, 0);
  g_autofree char *replaced = slurp (daily);
  ck_assert (g_str_has_prefix (replaced, "day,members,"));
  run_clear (&r);
}
END_TEST

/* A configuration file, with options overriding it. */
START_TEST (test_simulate_config_file)
{
  g_autofree char *example = tu_source_path ("examples/sim/chain21.ini");
  Run r;
  tool (&r, "simulate", "--scheme", "chain21", "--config", example, "--members", "300",
        "--days", "10", "-q", "--json", NULL);
  ck_assert_msg (r.status == 0, "%s", r.err);
  assert_contains (r.out, "\"members\":\"300\",\"days\":\"10\",\"founders\":\"20\"");
  assert_contains (r.out, "\"entry_price\":\"699.00\"");
  run_clear (&r);
}
END_TEST

typedef struct {
  const char *args[12];
  const char *message;
} Usage;

static const Usage usages[] = {
  { { "simulate", NULL }, "referral simulate: --scheme is required" },
  { { "simulate", "--scheme", "chain21", "extra", NULL }, "unexpected argument extra" },
  { { "simulate", "--scheme", "chain21", "--bogus", NULL }, "--bogus" },
  { { "simulate", "--scheme", "nope", NULL }, "scheme nope is neither a built-in scheme" },
  { { "simulate", "--scheme", "chain21", "--days", "0", NULL },
    "referral simulate: option --days: \"0\" is not a whole number from 1 to 100000\n" },
  { { "simulate", "--scheme", "chain21", "--recruit-rates", "1%, 2%, 3%, 4%", NULL },
    "option --recruit-rates: has 4 entries but scheme \"chain21\" has 3 ranks" },
  { { "simulate", "--scheme", "chain21", "--founder-rank", "boss", NULL },
    "option --founder-rank: scheme \"chain21\" has no rank \"boss\"" },
  { { "simulate", "--scheme", "chain21", "--config", "@BADCONFIG@", NULL },
    "bad.ini:3: [sim] key \"membres\": unknown simulation key" },
  { { "simulate", "--scheme", "chain21", "--config", "@TMP@/none.ini", NULL },
    "none.ini" },
  { { "simulate", "--scheme", "chain21", "--db", "@TMP@/no/dir/x.sqlite", NULL },
    "cannot write @TMP@/no/dir/x.sqlite: No such file or directory" },
  { { "simulate", "--scheme", "chain21", "--db", "@TMP@", NULL }, "cannot write @TMP@: " },
  { { "simulate", "--scheme", "chain21", "--force", "--db", "/dev/null", NULL },
    "cannot write /dev/null: not a regular file" },
  { { "explain", "--scheme", "chain21", "@RELEASE@", NULL }, "give an events file" },
  { { "explain", "@RELEASE@", "A", NULL }, "--scheme is required" },
  { { "explain", "--scheme", "chain21", "@RELEASE@", "Zed", NULL },
    "referral explain: member \"Zed\" does not exist after 23 events" },
  { { "explain", "--scheme", "chain21", "@TMP@/none.jsonl", "A", NULL }, "none.jsonl" },
};

/* Bad usage: exit status 2, a message, nothing on stdout, no file made. */
START_TEST (test_usage)
{
  const Usage *u = &usages[_i];
  g_autofree char *bad = tmp ("bad.ini");
  ck_assert (g_file_set_contents (bad, "[sim]\nmembers = 10\nmembres = 5\n", -1, NULL));
  g_autofree char *release = tu_source_path ("examples/events/chain21-release.jsonl");
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; u->args[i] != NULL; i++)
    {
      g_auto (GStrv) a = g_strsplit (u->args[i], "@BADCONFIG@", -1);
      g_autofree char *b = g_strjoinv (bad, a);
      g_auto (GStrv) c = g_strsplit (b, "@RELEASE@", -1);
      g_ptr_array_add (args, g_strjoinv (release, c));
    }
  /* tool() takes a NULL-terminated list: pass 8, padded with NULLs. */
  for (guint i = 0; i < 8; i++)
    g_ptr_array_add (args, NULL);
  const char **a = (const char **) args->pdata;
  Run r;
  tool (&r, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
  g_ptr_array_unref (args);
  g_auto (GStrv) parts = g_strsplit (u->message, "@TMP@", -1);
  g_autofree char *message = g_strjoinv (tmp_dir, parts);
  ck_assert_msg (r.status == 2, "status %d, stderr %s", r.status, r.err);
  assert_contains (r.err, message);
  ck_assert_str_eq (r.out, "");
  g_autofree char *files = listing (tmp_dir);
  ck_assert_str_eq (files, "bad.ini,");
  run_clear (&r);
}
END_TEST

START_TEST (test_help)
{
  Run r;
  tool (&r, "simulate", "--help", NULL);
  ck_assert_int_eq (r.status, 0);
  const char *expected[] = { "--scheme=SCHEME", "--config=FILE", "--db=FILE.sqlite",
                             "--csv=DIR", "--json", "--force", "--members=N",
                             "--entry-price=AMOUNT", "--recruit-rates=RATE,...",
                             "--recruit-saturation=true|false", "  recruit_rates      2%, 30%\n",
                             "Exit status:" };
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    assert_contains (r.out, expected[i]);
  run_clear (&r);
  tool (&r, "explain", "--help", NULL);
  ck_assert_int_eq (r.status, 0);
  assert_contains (r.out, "EVENTS|- MEMBER");
  run_clear (&r);
  tool (&r, "--help", NULL);
  assert_contains (r.out, "  simulate ");
  assert_contains (r.out, "  explain ");
  run_clear (&r);
}
END_TEST

/* ---- run --ledger FILE.sqlite ------------------------------------------------------------- */

START_TEST (test_run_ledger_sqlite)
{
  g_autofree char *events = tu_source_path ("examples/events/chain21-release.jsonl");
  Run csv, r;
  tool (&csv, "run", "--scheme", "chain21", "--ledger", "-", events, NULL);
  ck_assert_int_eq (csv.status, 0);
  for (int round = 0; round < 2; round++) /* the second replaces the first */
    {
      tool (&r, "run", "--scheme", "chain21", "--ledger", "@TMP@/l.sqlite", "--balances",
            "@TMP@/b.jsonl", events, NULL);
      ck_assert_msg (r.status == 0, "%s", r.err);
      ck_assert_str_eq (r.out, "");
      run_clear (&r);
    }
  g_autofree char *files = listing (tmp_dir);
  ck_assert_str_eq (files, "b.jsonl,l.sqlite,");
  g_autofree char *path = tmp ("l.sqlite");
  sqlite3 *db = db_open (path);
  g_autofree char *view = db_text (db, "SELECT idx, event, event_id, kind, rule, from_name, "
                                       "to_name, amount_text, ifnull(cause, ''), reversal "
                                       "FROM ledger ORDER BY idx");
  ck_assert_str_eq (view, strchr (csv.out, '\n') + 1);
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM events"), 23);
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM members WHERE join_day IS NULL"),
                    db_int (db, "SELECT count(*) FROM members"));
  ck_assert_int_eq (db_int (db, "SELECT count(*) FROM sqlite_schema WHERE name = 'daily'"), 0);
  g_autofree char *run = db_text (db, "SELECT value FROM run WHERE key = 'command'");
  ck_assert_str_eq (run, "run\n");
  /* The members' balances are those of --balances. */
  g_autofree char *balances = db_text (
    db, "SELECT '{\"member\":\"' || m.key || '\",\"rank\":\"' || m.rank || '\",\"available\":\"'"
        " || a.balance_text || '\",\"held\":\"' || h.balance_text || '\"}' FROM members m"
        " JOIN balances a ON a.name = m.key || ':available'"
        " JOIN balances h ON h.name = m.key || ':held' ORDER BY m.id");
  g_autofree char *b_path = tmp ("b.jsonl");
  g_autofree char *b = slurp (b_path);
  ck_assert (g_str_has_prefix (b, balances));
  sqlite3_close (db);
  run_clear (&csv);
}
END_TEST

/* ---- explain -------------------------------------------------------------------------- */

/* Every member of the release story: the explained totals are the
 * member's balances (as --balances prints them). */
START_TEST (test_explain_totals)
{
  g_autofree char *events = tu_source_path ("examples/events/chain21-release.jsonl");
  Run b;
  tool (&b, "run", "--scheme", "chain21", "--balances", "-", events, NULL);
  ck_assert_int_eq (b.status, 0);
  g_auto (GStrv) lines = g_strsplit (b.out, "\n", -1);
  guint explained = 0;
  for (guint i = 0; lines[i] != NULL && g_str_has_prefix (lines[i], "{\"member\":\""); i++)
    {
      const char *key = lines[i] + strlen ("{\"member\":\"");
      g_autofree char *member = g_strndup (key, strcspn (key, "\""));
      const char *avail = strstr (lines[i], "\"available\":\"") + strlen ("\"available\":\"");
      const char *held = strstr (lines[i], "\"held\":\"") + strlen ("\"held\":\"");
      g_autofree char *a = g_strndup (avail, strcspn (avail, "\""));
      g_autofree char *h = g_strndup (held, strcspn (held, "\""));
      Run r;
      tool (&r, "explain", "--scheme", "chain21", events, member, NULL);
      ck_assert_msg (r.status == 0, "%s: %s", member, r.err);
      g_autofree char *total = g_strdup_printf ("\n  %-26s %13s %13s\n", "total", a, h);
      assert_contains (r.out, total);
      g_autofree char *ledger = g_strdup_printf ("\n  %-26s %13s %13s  (equal to the totals)\n",
                                                 "balances in the ledger", a, h);
      assert_contains (r.out, ledger);
      g_autofree char *head = g_strdup_printf ("Member \"%s\" (rank ", member);
      ck_assert (g_str_has_prefix (r.out, head));
      run_clear (&r);
      explained++;
    }
  ck_assert_uint_ge (explained, 8);
  run_clear (&b);
}
END_TEST

/* A's story, traced: holds, a release, a reversal with its cause in an
 * earlier event, and what A paid. */
START_TEST (test_explain_trace)
{
  g_autofree char *events = tu_source_path ("examples/events/chain21-release.jsonl");
  Run r;
  tool (&r, "explain", "--scheme", "chain21", events, "A", NULL);
  ck_assert_msg (r.status == 0, "%s", r.err);
  const char *expected[] = {
    "event 7 \"e8\": order \"o3\" by \"A1\", 699.00, sku gift\n",
    "       10 direct                    100.00                      100.00          0.00\n"
    "           platform -> A:available, rule seller\n",
    "       11 hold                      -20.00         20.00         80.00         20.00\n"
    "           A:available -> A:held, rule help_fund\n"
    "           caused by posting 10 (direct 100.00, platform -> A:available, rule seller)\n",
    "       43 release                   100.00       -100.00        500.00          0.00\n",
    "       47 direct (reversal)        -300.00                      234.95          0.00\n"
    "           A:available -> platform, rule seller\n"
    "           reverses posting 35 (direct 300.00, platform -> A:available, rule seller)\n"
    "             in event 15 \"e16\": order \"o7\" by \"A3\", 699.00, sku gift\n",
    "  hold                             -100.00        100.00\n",
    "Rewards received, net of reversals: 234.95; withdrawn: 0.00\n"
    "Paid for its own orders, less refunds: 699.00\n"
    "  event 3 \"e4\": order \"o1\" paid 699.00\n"
    "Net result (rewards received - paid): -464.05\n",
  };
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    assert_contains (r.out, expected[i]);
  run_clear (&r);
}
END_TEST

/* A rejected event stops the run: the member is explained as of the stop,
 * and the exit status is 1. */
START_TEST (test_explain_stops_at_bad_event)
{
  g_autofree char *events = tmp ("e.jsonl");
  g_autofree char *text = g_strdup (
    "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\"}\n"
    "{\"type\":\"promote\",\"id\":\"e2\",\"member\":\"A\",\"rank\":\"partner\"}\n"
    "{\"type\":\"join\",\"id\":\"e3\",\"member\":\"B\",\"sponsor\":\"A\"}\n"
    "{\"type\":\"order\",\"id\":\"e4\",\"order\":\"o1\",\"member\":\"B\",\"amount\":\"699.00\",\"sku\":\"gift\"}\n"
    "{\"type\":\"withdraw\",\"id\":\"e5\",\"member\":\"A\",\"amount\":\"9999.00\"}\n"
    "{\"type\":\"withdraw\",\"id\":\"e6\",\"member\":\"A\",\"amount\":\"10.00\"}\n");
  ck_assert (g_file_set_contents (events, text, -1, NULL));
  Run r;
  tool (&r, "explain", "--scheme", "chain21", events, "A", NULL);
  ck_assert_int_eq (r.status, 1);
  assert_contains (r.err, "e.jsonl:5: withdraw \"A\": amount 9999.00 exceeds available 240.00");
  assert_contains (r.out, "  total                             240.00         60.00\n");
  run_clear (&r);
  tool (&r, "explain", "--keep-going", "--scheme", "chain21", events, "A", NULL);
  ck_assert_int_eq (r.status, 1);
  assert_contains (r.out, "  total                             230.00         60.00\n");
  assert_contains (r.out, "Rewards received, net of reversals: 300.00; withdrawn: 10.00\n");
  run_clear (&r);
}
END_TEST

static Suite *
cli_sim_suite (void)
{
  Suite *s = suite_create ("cli-sim");
  TCase *tc = tu_tcase (s, "simulate", 60);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_simulate_report);
  tcase_add_test (tc, test_simulate_json);
  tcase_add_test (tc, test_simulate_db_and_csv);
  tcase_add_test (tc, test_simulate_refuses_existing);
  tcase_add_test (tc, test_simulate_config_file);
  tcase_add_loop_test (tc, test_usage, 0, G_N_ELEMENTS (usages));
  tcase_add_test (tc, test_help);
  tc = tu_tcase (s, "run and explain", 60);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_run_ledger_sqlite);
  tcase_add_test (tc, test_explain_totals);
  tcase_add_test (tc, test_explain_trace);
  tcase_add_test (tc, test_explain_stops_at_bad_event);
  return s;
}

int
main (void)
{
  return tu_run_suites (cli_sim_suite (), NULL);
}
