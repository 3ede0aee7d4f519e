/* Helpers shared by the durability suites (test-durability.c,
 * test-crash.c): a random chain 2+1 stream made in advance, its reference
 * fold, and scratch directories. */
#ifndef TEST_DURABILITY_COMMON_H
#define TEST_DURABILITY_COMMON_H

#include "testutil.h"

G_BEGIN_DECLS

typedef struct {
  GStringChunk *strings;
  GArray *events;   /* ReferralEvent, strings in `strings` */
  /* the fold of the stream by a plain engine: hashes[k] is the state hash
   * after k applied events (k = 0 .. n_applied) */
  GArray *hashes;   /* guint64 */
  guint32 n_applied;
  /* resume[k]: the index of the event after the one whose application made
   * state k (resume[0] = 0): where a run recovered at k goes on */
  GArray *resume;   /* guint */
} DurStream;

/* The built-in chain21 scheme (transfer full). */
ReferralScheme *dur_scheme (void);

/* A stream of @n events from @seed: joins, orders (some with amounts as
 * text, quoted or not, and times), refunds, promotions, withdrawals,
 * period closes, transpositions, duplicates and events that are rejected.
 * Folds it to fill `hashes`. */
DurStream *dur_stream_new (ReferralScheme *scheme, guint32 seed, guint n);
void dur_stream_free (DurStream *s);

/* A new empty directory for a journal (transfer full): under
 * $REFERRAL_DURABILITY_TMP, else /dev/shm when usable (fsync is cheap
 * there, which the suites' many trials need), else the temporary
 * directory.  dur_rmdir() removes it with what it holds. */
char *dur_tmpdir (void);
char *dur_disk_tmpdir (void);  /* always under g_get_tmp_dir() */
void dur_rmdir (const char *dir);

/* Applies events [@from, @to) of @s to @j; those rejected must be the ones
 * the reference fold rejected.  Returns: FALSE at the first other failure,
 * with @error set and *@stopped_at the index of that event. */
gboolean dur_apply_range (ReferralJournal *j, const DurStream *s, guint from, guint to,
                          guint *stopped_at, GError **error);

G_END_DECLS

#endif
