/* SQLite output of the `referral` tool; the schema is documented in
 * docs/sqlite-schema.md, and each CREATE below must stay in step with it. */
#include "sqlite-out.h"
#include "sim-output.h"
#include "output.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

struct _Database {
  char *path;     /* the target */
  char *tmp;      /* the file being written */
  gboolean force;
  sqlite3 *db;
  guint decimals;
};

static gboolean
db_error (Database *d, GError **error, const char *what)
{
  g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "cannot write %s: %s%s%s",
               d->path, what, d->db ? ": " : "", d->db ? sqlite3_errmsg (d->db) : "");
  return FALSE;
}

static gboolean
exec (Database *d, const char *sql, GError **error)
{
  if (sqlite3_exec (d->db, sql, NULL, NULL, NULL) == SQLITE_OK)
    return TRUE;
  return db_error (d, error, "SQL");
}

static sqlite3_stmt *
prepare (Database *d, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  if (sqlite3_prepare_v2 (d->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      db_error (d, error, "SQL");
      return NULL;
    }
  return stmt;
}

/* Runs a prepared insert once with its bound values, then resets it. */
static gboolean
step (Database *d, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  return db_error (d, error, "insert");
}

static void
bind_text (sqlite3_stmt *stmt, int i, const char *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, i);
  else
    sqlite3_bind_text (stmt, i, text, -1, SQLITE_TRANSIENT);
}

static void
bind_member (sqlite3_stmt *stmt, int i, ReferralMember m)
{
  if (m == REFERRAL_NO_MEMBER)
    sqlite3_bind_null (stmt, i);
  else
    sqlite3_bind_int64 (stmt, i, m);
}

/* An SQL expression formatting integer column @column as decimal money text
 * with @decimals decimals, as referral_money_format() does. */
static char *
money_sql (const char *column, guint decimals)
{
  if (decimals == 0)
    return g_strdup_printf ("CAST(%s AS TEXT)", column);
  gint64 den = 1;
  for (guint i = 0; i < decimals; i++)
    den *= 10;
  return g_strdup_printf ("(CASE WHEN %s < 0 THEN '-' ELSE '' END || (abs(%s) / %" G_GINT64_FORMAT
                          ") || '.' || substr('000000000' || (abs(%s) %% %" G_GINT64_FORMAT
                          "), -%u))", column, column, den, column, den, decimals);
}

static const char schema[] =
  "CREATE TABLE run (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
  "CREATE TABLE kinds (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
  "CREATE TABLE rules (id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL);\n"
  "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, member INTEGER,\n"
  "  held INTEGER, balance INTEGER NOT NULL);\n"
  "CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL);\n"
  "CREATE TABLE postings (idx INTEGER PRIMARY KEY, event INTEGER NOT NULL,\n"
  "  kind INTEGER NOT NULL, rule INTEGER NOT NULL, from_account INTEGER NOT NULL,\n"
  "  to_account INTEGER NOT NULL, amount INTEGER NOT NULL, cause INTEGER,\n"
  "  reversal INTEGER NOT NULL);\n"
  "CREATE TABLE members (id INTEGER PRIMARY KEY, key TEXT NOT NULL, sponsor INTEGER,\n"
  "  parent INTEGER, rank TEXT NOT NULL, available INTEGER NOT NULL, held INTEGER NOT NULL,\n"
  "  join_day INTEGER, active INTEGER, paid INTEGER, rewards INTEGER, net INTEGER);\n";

Database *
database_create (const char *path, gboolean force, GError **error)
{
  if (!database_check_target (path, force, error))
    return NULL;
  Database *d = g_new0 (Database, 1);
  d->path = g_strdup (path);
  d->force = force;
  d->tmp = g_strdup_printf ("%s.tmp-XXXXXX", path);
  int fd = output_mkstemp (d->tmp);
  if (fd < 0)
    {
      int err = errno;
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "cannot write %s: %s", path,
                   g_strerror (err));
      g_free (d->tmp);
      g_free (d->path);
      g_free (d);
      return NULL;
    }
  close (fd);
  if (sqlite3_open_v2 (d->tmp, &d->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    {
      db_error (d, error, "open");
      database_abort (d);
      return NULL;
    }
  /* The file is private until it is renamed: no journal is needed, a
   * failure removes it whole. */
  if (!exec (d, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
                "PRAGMA cache_size = -65536; BEGIN;", error)
      || !exec (d, schema, error))
    {
      database_abort (d);
      return NULL;
    }
  return d;
}

gboolean
database_check_target (const char *path, gboolean force, GError **error)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "cannot write %s: %s", path,
                   g_strerror (EISDIR));
      return FALSE;
    }
  if (g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      /* The database is renamed into place: never over a device or a pipe. */
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                   "cannot write %s: not a regular file", path);
      return FALSE;
    }
  if (!force && g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                   "%s exists (use --force to replace it)", path);
      return FALSE;
    }
  g_autofree char *dir = g_path_get_dirname (path);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "cannot write %s: %s", path,
                   g_strerror (ENOENT));
      return FALSE;
    }
  return TRUE;
}

gboolean
database_write_run (Database *d, const char *const *pairs, GError **error)
{
  sqlite3_stmt *stmt = prepare (d, "INSERT INTO run VALUES (?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  gboolean ok = TRUE;
  for (guint i = 0; ok && pairs[i] != NULL; i += 2)
    {
      bind_text (stmt, 1, pairs[i]);
      bind_text (stmt, 2, pairs[i + 1]);
      ok = step (d, stmt, error);
    }
  sqlite3_finalize (stmt);
  return ok;
}

static gboolean
write_kinds_rules (Database *d, const ReferralEngine *engine, GError **error)
{
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  guint n_kinds = referral_ledger_n_kinds (ledger);
  sqlite3_stmt *stmt = prepare (d, "INSERT INTO kinds VALUES (?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  gboolean ok = TRUE;
  for (guint k = 0; ok && k < n_kinds; k++)
    {
      sqlite3_bind_int64 (stmt, 1, k);
      bind_text (stmt, 2, referral_ledger_kind_name (ledger, (ReferralKind) k));
      ok = step (d, stmt, error);
    }
  sqlite3_finalize (stmt);
  if (!ok || (stmt = prepare (d, "INSERT INTO rules VALUES (?, ?, ?)", error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, 0);
  bind_text (stmt, 2, "engine");
  bind_text (stmt, 3, "engine");
  ok = step (d, stmt, error);
  for (guint r = 0; ok && r < referral_scheme_n_rules (scheme); r++)
    {
      sqlite3_bind_int64 (stmt, 1, r + 1);
      bind_text (stmt, 2, referral_scheme_rule_name (scheme, r));
      bind_text (stmt, 3, referral_scheme_rule_type (scheme, r));
      ok = step (d, stmt, error);
    }
  sqlite3_finalize (stmt);
  return ok;
}

static gboolean
write_accounts (Database *d, const ReferralEngine *engine, GError **error)
{
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  sqlite3_stmt *stmt = prepare (d, "INSERT INTO accounts VALUES (?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  gboolean ok = TRUE;
  guint32 n = referral_ledger_n_accounts (ledger);
  for (ReferralAccount a = 0; ok && a < n; a++)
    {
      g_autofree char *name = referral_ledger_account_name (ledger, a);
      gboolean held = FALSE;
      ReferralMember m = referral_ledger_account_member (ledger, a, &held);
      sqlite3_bind_int64 (stmt, 1, a);
      bind_text (stmt, 2, name);
      bind_member (stmt, 3, m);
      if (m != REFERRAL_NO_MEMBER)
        sqlite3_bind_int (stmt, 4, held ? 1 : 0);
      sqlite3_bind_int64 (stmt, 5, referral_ledger_balance (ledger, a));
      ok = step (d, stmt, error);
    }
  sqlite3_finalize (stmt);
  return ok;
}

static gboolean
write_events_postings (Database *d, const ReferralEngine *engine, GError **error)
{
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  sqlite3_stmt *stmt = prepare (d, "INSERT INTO events VALUES (?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  gboolean ok = TRUE;
  guint32 n_events = referral_engine_n_events (engine);
  for (guint32 e = 0; ok && e < n_events; e++)
    {
      sqlite3_bind_int64 (stmt, 1, e);
      /* Ids are static for the engine's life: no copy needed. */
      sqlite3_bind_text (stmt, 2, referral_engine_event_id (engine, e), -1, SQLITE_STATIC);
      ok = step (d, stmt, error);
    }
  sqlite3_finalize (stmt);
  if (!ok || (stmt = prepare (d, "INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              error)) == NULL)
    return FALSE;
  guint64 n = referral_ledger_n_postings (ledger);
  for (guint64 i = 0; ok && i < n; i++)
    {
      const ReferralPosting *p = referral_ledger_posting (ledger, i);
      guint64 cause = referral_posting_cause (p, i);
      sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) i);
      sqlite3_bind_int64 (stmt, 2, p->event);
      sqlite3_bind_int64 (stmt, 3, p->kind);
      sqlite3_bind_int64 (stmt, 4, p->rule);
      sqlite3_bind_int64 (stmt, 5, p->from);
      sqlite3_bind_int64 (stmt, 6, p->to);
      sqlite3_bind_int64 (stmt, 7, p->amount);
      if (cause != REFERRAL_NO_POSTING)
        sqlite3_bind_int64 (stmt, 8, (sqlite3_int64) cause);
      sqlite3_bind_int (stmt, 9, (p->flags & REFERRAL_POSTING_REVERSAL) ? 1 : 0);
      ok = step (d, stmt, error);
    }
  sqlite3_finalize (stmt);
  return ok;
}

static gboolean
write_members (Database *d, const ReferralEngine *engine, ReferralSim *sim, GError **error)
{
  const ReferralTree *tree = referral_engine_tree (engine);
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  sqlite3_stmt *stmt = prepare (d, "INSERT INTO members VALUES "
                                   "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  gboolean ok = TRUE;
  for (ReferralMember m = 0; ok && m < referral_tree_size (tree); m++)
    {
      sqlite3_bind_int64 (stmt, 1, m);
      sqlite3_bind_text (stmt, 2, referral_tree_key (tree, m), -1, SQLITE_STATIC);
      bind_member (stmt, 3, referral_tree_sponsor (tree, m));
      bind_member (stmt, 4, referral_tree_parent (tree, m));
      sqlite3_bind_text (stmt, 5, referral_scheme_rank_name (scheme, referral_tree_rank (tree, m)),
                         -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 6, referral_ledger_balance (
                            ledger, referral_ledger_member_account (ledger, m, FALSE)));
      sqlite3_bind_int64 (stmt, 7, referral_ledger_balance (
                            ledger, referral_ledger_member_account (ledger, m, TRUE)));
      if (sim != NULL)
        {
          sqlite3_bind_int64 (stmt, 8, referral_sim_member_join_day (sim, m));
          sqlite3_bind_int (stmt, 9, referral_sim_member_active (sim, m) ? 1 : 0);
          sqlite3_bind_int64 (stmt, 10, referral_sim_member_paid (sim, m));
          sqlite3_bind_int64 (stmt, 11, referral_sim_member_rewards (sim, m));
          sqlite3_bind_int64 (stmt, 12, referral_sim_member_net (sim, m));
        }
      ok = step (d, stmt, error);
    }
  sqlite3_finalize (stmt);
  return ok;
}

static gboolean
write_views (Database *d, GError **error)
{
  g_autofree char *amount = money_sql ("p.amount", d->decimals);
  g_autofree char *balance = money_sql ("balance", d->decimals);
  g_autofree char *sql = g_strdup_printf (
    "CREATE VIEW ledger AS SELECT p.idx AS idx, p.event AS event, e.id AS event_id,\n"
    "  k.name AS kind, r.name AS rule, fa.name AS from_name, ta.name AS to_name,\n"
    "  p.amount AS amount, %s AS amount_text, p.cause AS cause, p.reversal AS reversal\n"
    "  FROM postings p JOIN events e ON e.seq = p.event JOIN kinds k ON k.id = p.kind\n"
    "  JOIN rules r ON r.id = p.rule JOIN accounts fa ON fa.id = p.from_account\n"
    "  JOIN accounts ta ON ta.id = p.to_account;\n"
    "CREATE VIEW balances AS SELECT id, name, balance, %s AS balance_text FROM accounts;\n",
    amount, balance);
  return exec (d, sql, error);
}

gboolean
database_write_engine (Database *d, const ReferralEngine *engine, ReferralSim *sim,
                       GError **error)
{
  d->decimals = referral_scheme_decimals (referral_engine_scheme (engine));
  return write_kinds_rules (d, engine, error)
         && write_accounts (d, engine, error)
         && write_events_postings (d, engine, error)
         && write_members (d, engine, sim, error)
         && write_views (d, error);
}

/* ---- simulation metrics ------------------------------------------------------ */

static void
bind_column (sqlite3_stmt *stmt, int i, const Column *c, gconstpointer base)
{
  switch (c->type)
    {
    case COLUMN_U32:
    case COLUMN_U64:
      sqlite3_bind_int64 (stmt, i, (sqlite3_int64) column_u64 (c, base));
      break;
    case COLUMN_MONEY:
      sqlite3_bind_int64 (stmt, i, column_money (c, base));
      break;
    case COLUMN_REAL:
    default:
      sqlite3_bind_double (stmt, i, column_real (c, base));
      break;
    }
}

static gboolean
write_daily (Database *d, ReferralSim *sim, GError **error)
{
  GString *create = g_string_new ("CREATE TABLE daily (");
  GString *insert = g_string_new ("INSERT INTO daily VALUES (");
  for (const Column *c = sim_day_columns; c->name != NULL; c++)
    {
      gboolean first = c == sim_day_columns;
      g_string_append_printf (create, "%s%s %s%s", first ? "" : ", ", c->name,
                              c->type == COLUMN_REAL ? "REAL" : "INTEGER",
                              first ? " PRIMARY KEY" : " NOT NULL");
      g_string_append (insert, first ? "?" : ", ?");
    }
  g_string_append (create, ");\n"
                   "CREATE TABLE daily_ranks (day INTEGER NOT NULL, rank TEXT NOT NULL,\n"
                   "  members INTEGER NOT NULL, PRIMARY KEY (day, rank));\n"
                   "CREATE TABLE daily_kinds (day INTEGER NOT NULL, kind TEXT NOT NULL,\n"
                   "  rewards INTEGER NOT NULL, PRIMARY KEY (day, kind));\n");
  g_string_append (insert, ")");
  gboolean ok = exec (d, create->str, error);
  sqlite3_stmt *days = ok ? prepare (d, insert->str, error) : NULL;
  sqlite3_stmt *ranks = days ? prepare (d, "INSERT INTO daily_ranks VALUES (?, ?, ?)", error) : NULL;
  sqlite3_stmt *kinds = ranks ? prepare (d, "INSERT INTO daily_kinds VALUES (?, ?, ?)", error) : NULL;
  g_string_free (create, TRUE);
  g_string_free (insert, TRUE);
  ok = kinds != NULL;
  const ReferralScheme *scheme = referral_engine_scheme (referral_sim_engine (sim));
  const ReferralLedger *ledger = referral_engine_ledger (referral_sim_engine (sim));
  g_autoptr (GArray) reward_kinds = sim_reward_kinds (sim);
  for (guint day = 1; ok && day <= referral_sim_days_done (sim); day++)
    {
      const ReferralSimDay *figures = referral_sim_day (sim, day);
      int i = 1;
      for (const Column *c = sim_day_columns; c->name != NULL; c++)
        bind_column (days, i++, c, figures);
      ok = step (d, days, error);
      for (guint r = 0; ok && r < referral_scheme_n_ranks (scheme); r++)
        {
          sqlite3_bind_int64 (ranks, 1, day);
          sqlite3_bind_text (ranks, 2, referral_scheme_rank_name (scheme, (ReferralRank) r), -1,
                             SQLITE_STATIC);
          sqlite3_bind_int64 (ranks, 3, figures->by_rank[r]);
          ok = step (d, ranks, error);
        }
      for (guint k = 0; ok && k < reward_kinds->len; k++)
        {
          ReferralKind kind = g_array_index (reward_kinds, ReferralKind, k);
          sqlite3_bind_int64 (kinds, 1, day);
          sqlite3_bind_text (kinds, 2, referral_ledger_kind_name (ledger, kind), -1,
                             SQLITE_STATIC);
          sqlite3_bind_int64 (kinds, 3, referral_sim_day_kind_rewards (sim, day, kind));
          ok = step (d, kinds, error);
        }
    }
  sqlite3_finalize (days);
  sqlite3_finalize (ranks);
  sqlite3_finalize (kinds);
  return ok;
}

static void
bind_group (sqlite3_stmt *stmt, int first, const ReferralSimGroup *g)
{
  sqlite3_bind_int64 (stmt, first, g->members);
  sqlite3_bind_int64 (stmt, first + 1, g->losers);
  sqlite3_bind_double (stmt, first + 2, g->loss_share);
  sqlite3_bind_int64 (stmt, first + 3, g->net_total);
}

static gboolean
write_groups (Database *d, ReferralSim *sim, GError **error)
{
  if (!exec (d, "CREATE TABLE cohorts (first_day INTEGER PRIMARY KEY, last_day INTEGER NOT NULL,\n"
                "  members INTEGER NOT NULL, losers INTEGER NOT NULL, loss_share REAL NOT NULL,\n"
                "  net_total INTEGER NOT NULL);\n"
                "CREATE TABLE ranks (rank TEXT PRIMARY KEY, level INTEGER NOT NULL,\n"
                "  members INTEGER NOT NULL, losers INTEGER NOT NULL, loss_share REAL NOT NULL,\n"
                "  net_total INTEGER NOT NULL);\n", error))
    return FALSE;
  sqlite3_stmt *stmt = prepare (d, "INSERT INTO cohorts VALUES (?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  gboolean ok = TRUE;
  for (guint c = 0; ok && c < referral_sim_n_cohorts (sim); c++)
    {
      const ReferralSimGroup *g = referral_sim_cohort (sim, c);
      sqlite3_bind_int64 (stmt, 1, g->first_day);
      sqlite3_bind_int64 (stmt, 2, g->last_day);
      bind_group (stmt, 3, g);
      ok = step (d, stmt, error);
    }
  sqlite3_finalize (stmt);
  if (!ok || (stmt = prepare (d, "INSERT INTO ranks VALUES (?, ?, ?, ?, ?, ?)", error)) == NULL)
    return FALSE;
  const ReferralScheme *scheme = referral_engine_scheme (referral_sim_engine (sim));
  for (guint r = 0; ok && r < referral_scheme_n_ranks (scheme); r++)
    {
      bind_text (stmt, 1, referral_scheme_rank_name (scheme, (ReferralRank) r));
      sqlite3_bind_int64 (stmt, 2, r);
      bind_group (stmt, 3, referral_sim_rank_group (sim, (ReferralRank) r));
      ok = step (d, stmt, error);
    }
  sqlite3_finalize (stmt);
  return ok;
}

static gboolean
write_summary_table (Database *d, ReferralSim *sim, GError **error)
{
  if (!exec (d, "CREATE TABLE summary (metric TEXT PRIMARY KEY, value NUMERIC NOT NULL);", error))
    return FALSE;
  sqlite3_stmt *stmt = prepare (d, "INSERT INTO summary VALUES (?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  const ReferralSimSummary *s = referral_sim_summary (sim);
  gboolean ok = TRUE;
  for (const Column *c = sim_summary_columns; ok && c->name != NULL; c++)
    {
      sqlite3_bind_text (stmt, 1, c->name, -1, SQLITE_STATIC);
      bind_column (stmt, 2, c, s);
      ok = step (d, stmt, error);
    }
  const ReferralLedger *ledger = referral_engine_ledger (referral_sim_engine (sim));
  g_autoptr (GArray) kinds = sim_reward_kinds (sim);
  for (guint i = 0; ok && i < kinds->len; i++)
    {
      ReferralKind k = g_array_index (kinds, ReferralKind, i);
      g_autofree char *name = g_strdup_printf ("kind:%s", referral_ledger_kind_name (ledger, k));
      bind_text (stmt, 1, name);
      sqlite3_bind_int64 (stmt, 2, referral_sim_day_kind_rewards (sim, 0, k));
      ok = step (d, stmt, error);
    }
  sqlite3_finalize (stmt);
  return ok;
}

gboolean
database_write_sim (Database *d, ReferralSim *sim, GError **error)
{
  return write_daily (d, sim, error) && write_groups (d, sim, error)
         && write_summary_table (d, sim, error);
}

gboolean
database_commit (Database *d, GError **error)
{
  if (!exec (d, "COMMIT;", error))
    {
      database_abort (d);
      return FALSE;
    }
  if (sqlite3_close (d->db) != SQLITE_OK)
    {
      db_error (d, error, "close");
      database_abort (d);
      return FALSE;
    }
  d->db = NULL;
  /* Without --force, link() refuses to replace a file that appeared while
   * the database was being written; with it, rename() replaces it. */
  int rc = d->force ? g_rename (d->tmp, d->path) : link (d->tmp, d->path);
  int err = rc != 0 ? errno : 0;
  if (rc != 0 && !d->force && err != EEXIST && !g_file_test (d->path, G_FILE_TEST_EXISTS))
    {
      /* A file system without hard links: check, then rename. */
      rc = g_rename (d->tmp, d->path);
      err = rc != 0 ? errno : 0;
      d->force = TRUE; /* nothing left to unlink */
    }
  if (rc != 0)
    {
      if (err == EEXIST)
        g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                     "%s exists (use --force to replace it)", d->path);
      else
        g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "cannot write %s: %s", d->path,
                     g_strerror (err));
      database_abort (d);
      return FALSE;
    }
  if (!d->force)
    g_unlink (d->tmp);
  g_free (d->tmp);
  g_free (d->path);
  g_free (d);
  return TRUE;
}

void
database_abort (Database *d)
{
  if (d == NULL)
    return;
  if (d->db != NULL)
    sqlite3_close (d->db);
  g_unlink (d->tmp);
  g_free (d->tmp);
  g_free (d->path);
  g_free (d);
}
