/* SQLite output of the `referral` tool (docs/sqlite-schema.md).
 *
 * `referral simulate --db` and `referral run --ledger FILE.sqlite` write
 * the same tables for what they share (run, kinds, rules, accounts,
 * events, postings, members and the views ledger and balances); simulate
 * adds its metrics (daily, daily_ranks, daily_kinds, cohorts, ranks,
 * summary).
 *
 * A database is written into a temporary file beside the target, in one
 * transaction, and renamed to the target only when complete, so a failure
 * never leaves a half-written database behind.  An existing target is
 * refused unless `force`.  SQLite is a dependency of the tool only, never
 * of the library. */
#ifndef REFERRAL_TOOL_SQLITE_OUT_H
#define REFERRAL_TOOL_SQLITE_OUT_H

#include <glib.h>
#include <referral/referral.h>

G_BEGIN_DECLS

typedef struct _Database Database;

/* database_check_target:
 * Returns: FALSE with REFERRAL_ERROR_IO when @path exists and not @force,
 * or names a directory, or is in a directory that does not exist. */
gboolean database_check_target (const char *path, gboolean force, GError **error);

/* database_create:
 * Creates the temporary database for target @path and its tables, and
 * begins the transaction.
 * Returns: (transfer full): the database, or NULL with REFERRAL_ERROR_IO. */
Database *database_create (const char *path, gboolean force, GError **error);

/* database_write_run:
 * Fills the table `run` with @pairs: NULL-terminated key, value, key,
 * value... (values may not be NULL). */
gboolean database_write_run (Database *db, const char *const *pairs, GError **error);

/* database_write_engine:
 * Fills kinds, rules, accounts, events, postings and members from
 * @engine; with @sim (may be NULL) the members' simulation columns too. */
gboolean database_write_engine (Database *db, const ReferralEngine *engine,
                                ReferralSim *sim, GError **error);

/* database_write_sim:
 * Fills daily, daily_ranks, daily_kinds, cohorts, ranks and summary. */
gboolean database_write_sim (Database *db, ReferralSim *sim, GError **error);

/* database_commit:
 * Commits, closes and moves the database to its target; consumes @db.
 * Returns: FALSE with REFERRAL_ERROR_IO (the temporary file is removed). */
gboolean database_commit (Database *db, GError **error);

/* database_abort:
 * Closes @db and removes its temporary file; NULL is a no-op. */
void database_abort (Database *db);

G_END_DECLS

#endif
