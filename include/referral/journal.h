/* libreferral: durability — a write-ahead journal, snapshots, recovery.
 *
 * The state of an engine is a function of the events it applied, so an
 * engine is made durable by recording those events.  A journal directory
 * holds:
 *
 *   journal-NNNNNNNNNN.log   segments of applied events, NNNNNNNNNN being
 *                            the sequence number of the first; each record
 *                            is length-prefixed and CRC-32C-checksummed
 *   snapshot-NNNNNNNNNN.snap the whole state after NNNNNNNNNN events
 *   LOCK                     held (flock) by the one writer
 *
 * referral_journal_open() recovers the engine: the newest intact snapshot
 * (falling back to older ones), then the journal's records after it.  A
 * torn or garbled record at the end of the last segment (a crash while it
 * was written: it was never acknowledged) is cut off.  A directory written
 * under another scheme is refused with REFERRAL_ERROR_JOURNAL.
 *
 * Events are applied through referral_journal_apply(); what an APPLIED
 * answer guarantees after a crash depends on the sync policy:
 *
 *   REFERRAL_SYNC_EVERY  the event's record is written and fdatasync'ed
 *                        before the event is applied: every acknowledged
 *                        event survives a crash of the process or of the
 *                        machine.
 *   REFERRAL_SYNC_GROUP  events are applied, then their records buffered
 *                        and written + fdatasync'ed together every
 *                        `group_events` events or, when `group_ms` > 0,
 *                        at the first apply that finds the oldest unsynced
 *                        event older than that (no timer thread).  An event
 *                        is durable once referral_journal_durable_events()
 *                        counts it; up to one group can be lost in a crash.
 *   REFERRAL_SYNC_NONE   records are buffered and written when the buffer
 *                        holds 1 MiB, on referral_journal_sync(), on a
 *                        snapshot and on close; never fdatasync'ed except on
 *                        sync, snapshot and close.  A process crash loses
 *                        the buffer, a machine crash what the kernel had not
 *                        written.
 *
 * Under every policy the recovered state is the fold of a prefix of the
 * applied events: never a partial event, never an event twice.  Resending
 * events after a crash is safe: those already applied are recognised by id
 * (REFERRAL_DUPLICATE).
 *
 * An I/O error (ENOSPC, EIO...) is returned as REFERRAL_ERROR_IO.  Under
 * SYNC_EVERY the event is then not applied: the engine's state is unchanged.
 * Under GROUP and NONE a failed write or sync concerns events that were
 * already applied in memory: the call that met it returns FALSE, the
 * message says how many applied events are not durable, and the journal
 * stops (every later apply fails) until it is reopened, which recovers the
 * durable prefix.  Nothing is lost silently.
 *
 * A journal is not thread-safe. */
#ifndef REFERRAL_JOURNAL_H
#define REFERRAL_JOURNAL_H

#include <glib.h>
#include <referral/export.h>
#include <referral/engine.h>
#include <referral/scheme.h>

G_BEGIN_DECLS

typedef struct _ReferralJournal ReferralJournal;

typedef enum {
  REFERRAL_SYNC_EVERY = 0, /* fdatasync before each event is applied */
  REFERRAL_SYNC_GROUP,     /* fdatasync every group_events events / group_ms */
  REFERRAL_SYNC_NONE       /* no fdatasync until sync, snapshot or close */
} ReferralSyncPolicy;

#define REFERRAL_JOURNAL_OPTIONS_VERSION 1

/* Until the latest sequence a read-only open replays by default. */
#define REFERRAL_JOURNAL_ALL G_MAXUINT32

typedef struct {
  guint32 version;          /* REFERRAL_JOURNAL_OPTIONS_VERSION */
  ReferralSyncPolicy sync;
  guint32 group_events;     /* GROUP: events per sync (0: 64) */
  guint32 group_ms;         /* GROUP: also sync when the oldest unsynced event
                               is this old (0: never by age) */
  guint32 snapshot_every;   /* take a snapshot every this many events (0:
                               only on referral_journal_snapshot()) */
  gboolean read_only;       /* recover without writing anything */
  guint32 until;            /* read-only: stop after this many events
                               (REFERRAL_JOURNAL_ALL: all) */
} ReferralJournalOptions;

#define REFERRAL_JOURNAL_OPTIONS_INIT \
  { REFERRAL_JOURNAL_OPTIONS_VERSION, REFERRAL_SYNC_EVERY, 0, 0, 0, FALSE, \
    REFERRAL_JOURNAL_ALL }

/* referral_journal_open:
 * Opens (creating it and the directory when missing) the journal in @dir
 * for @scheme and recovers its engine.  @options may be NULL (the defaults
 * of REFERRAL_JOURNAL_OPTIONS_INIT).
 * Returns: (transfer full): the journal, or NULL with REFERRAL_ERROR_IO
 * (the directory cannot be created, read, written or locked: another
 * writer has it) or REFERRAL_ERROR_JOURNAL (another scheme's journal; a
 * damaged record that is not at the end; no intact snapshot and the
 * journal does not start at event 0; read-only @until beyond the
 * journal's end; an event that no longer applies). */
REFERRAL_API ReferralJournal *referral_journal_open (const char *dir,
                                                     ReferralScheme *scheme,
                                                     const ReferralJournalOptions *options,
                                                     GError **error);

/* referral_journal_engine:
 * Returns: (transfer none): the journal's engine, valid until the journal
 * is closed.  Read it and subscribe to it freely, but apply events only
 * through referral_journal_apply(), or they are not journaled. */
REFERRAL_API ReferralEngine *referral_journal_engine (ReferralJournal *journal);

/* referral_journal_apply:
 * As referral_engine_apply(), journaling the event under the sync policy.
 * Duplicates and rejected events are not journaled.
 * Returns: TRUE when applied (and, under SYNC_EVERY, durable) or a
 * duplicate; FALSE with the engine's error when rejected, or with
 * REFERRAL_ERROR_IO (see above) or REFERRAL_ERROR_JOURNAL (read-only). */
REFERRAL_API gboolean referral_journal_apply (ReferralJournal *journal,
                                              const ReferralEvent *event,
                                              ReferralApplyResult *result,
                                              GError **error);

/* referral_journal_sync:
 * Writes and fdatasyncs every buffered record.
 * Returns: FALSE with REFERRAL_ERROR_IO on failure (the journal stops). */
REFERRAL_API gboolean referral_journal_sync (ReferralJournal *journal, GError **error);

/* referral_journal_durable_events:
 * Returns: the number of events known to be on stable storage. */
REFERRAL_API guint32 referral_journal_durable_events (const ReferralJournal *journal);

/* referral_journal_snapshot:
 * Syncs the journal, writes a snapshot of the state atomically (temporary
 * file, fsync, rename, fsync of the directory), starts a new segment and
 * removes what recovery no longer needs (the two newest snapshots are kept,
 * and the segments from the older one on).
 * Returns: FALSE with REFERRAL_ERROR_IO on failure; the journal and the
 * engine are then as before and still usable (unless syncing failed). */
REFERRAL_API gboolean referral_journal_snapshot (ReferralJournal *journal, GError **error);

/* referral_journal_last_snapshot_error:
 * Returns: (transfer none) (nullable): why the last automatic snapshot
 * (snapshot_every) failed, or NULL.  Such a failure does not fail the
 * apply that triggered it: the journal still holds every event. */
REFERRAL_API const GError *referral_journal_last_snapshot_error (const ReferralJournal *journal);

/* referral_journal_close:
 * Syncs, closes and frees @journal (and its engine) even on failure.
 * Returns: FALSE with REFERRAL_ERROR_IO when the final sync failed. */
REFERRAL_API gboolean referral_journal_close (ReferralJournal *journal, GError **error);

/* referral_journal_free: as referral_journal_close() ignoring errors; NULL
 * is a no-op. */
REFERRAL_API void referral_journal_free (ReferralJournal *journal);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReferralJournal, referral_journal_free)

G_END_DECLS

#endif
