/* Durability internals: the checksum, the snapshot codec, the journal's
 * record codec and the fault-injection layer the tests drive. */
#ifndef REFERRAL_DURABILITY_PRIVATE_H
#define REFERRAL_DURABILITY_PRIVATE_H

#include <referral/engine.h>
#include <referral/export.h>
#include <referral/journal.h>

/* crc32c.c: CRC-32C of @len bytes, continuing from @crc (0 to start).
 * referral_crc32c (0, "123456789", 9) == 0xE3069283. */
REFERRAL_API guint32 referral_crc32c (guint32 crc, const void *data, gsize len);

/* The implementations behind referral_crc32c(), which uses the fastest one
 * the CPU has (SSE4.2 when __builtin_cpu_supports says so, else slice-by-8).
 * Every one gives the same bits; tests and the bench force each. */
typedef enum {
  REFERRAL_CRC32C_AUTO,     /* what referral_crc32c() uses */
  REFERRAL_CRC32C_BYTEWISE, /* one table lookup per byte (the reference) */
  REFERRAL_CRC32C_SLICE8,   /* slice-by-8, portable C */
  REFERRAL_CRC32C_SSE42     /* the crc32 instruction (x86-64 with SSE4.2) */
} ReferralCrc32cImpl;
#define REFERRAL_CRC32C_N_IMPLS 4

/* Returns: whether @impl can run here (SSE4.2: built for x86-64 and the CPU
 * has it). */
REFERRAL_API gboolean referral_crc32c_available (ReferralCrc32cImpl impl);
/* Returns: which implementation referral_crc32c() uses (never AUTO). */
REFERRAL_API ReferralCrc32cImpl referral_crc32c_chosen (void);
/* Returns: a short name of @impl ("bytewise", "slice-by-8", "sse4.2"). */
REFERRAL_API const char *referral_crc32c_name (ReferralCrc32cImpl impl);
/* referral_crc32c() through @impl, which must be available. */
REFERRAL_API guint32 referral_crc32c_with (ReferralCrc32cImpl impl, guint32 crc,
                                           const void *data, gsize len);

/* snapshot.c.  A snapshot file is
 *   "REFSNAP\0" u32 version u32 0 u64 scheme-identity u32 n_events u32 0
 *   payload (the whole engine state)  u32 crc32c-of-everything-before
 * all little-endian. */
typedef enum {
  REFERRAL_SNAPSHOT_OK,
  REFERRAL_SNAPSHOT_CORRUPT, /* short, bad magic or version, bad checksum,
                                inconsistent content */
  REFERRAL_SNAPSHOT_FOREIGN  /* intact, but of another scheme */
} ReferralSnapshotStatus;

/* Appends the snapshot of @engine to @out. */
REFERRAL_API void referral_snapshot_encode (const ReferralEngine *engine, GByteArray *out);

/* Receives the next @len bytes of a snapshot; returns FALSE (errno set) to
 * fail the write. */
typedef gboolean (*ReferralSnapshotSink) (const guint8 *data, gsize len, gpointer user_data);
/* Streams the snapshot of @engine (the same bytes as
 * referral_snapshot_encode()) to @sink in pieces of at most 1 MiB, with
 * the checksum computed on the way, so no copy of the whole state is
 * built.  Sets *@size (may be NULL) to its length.
 * Returns: FALSE when @sink did (nothing more is passed to it then). */
REFERRAL_API gboolean referral_snapshot_write (const ReferralEngine *engine,
                                               ReferralSnapshotSink sink, gpointer user_data,
                                               guint64 *size);

/* Decodes @data into a new engine of @scheme (*@engine, transfer full) on
 * REFERRAL_SNAPSHOT_OK; otherwise *@engine is NULL and @error says why
 * (REFERRAL_ERROR_JOURNAL). */
REFERRAL_API ReferralSnapshotStatus referral_snapshot_decode (ReferralScheme *scheme,
                                                              const guint8 *data, gsize len,
                                                              ReferralEngine **engine,
                                                              GError **error);

/* Journal records: u32 payload length, u32 crc32c of the payload, payload
 * = u32 seq, u8 type, u8 amount_quoted, i64 amount, then 12 strings (id,
 * command, member, sponsor, order, sku, period, old_member, new_member,
 * rank, time, amount_text), each as u32 0 for NULL, else u32 (length + 1)
 * and the bytes with their NUL. */
void referral_record_encode (GByteArray *out, guint32 seq, const ReferralEvent *event);
/* Decodes a payload; the event's strings point into @payload.
 * Returns: FALSE when it is malformed. */
gboolean referral_record_decode (const guint8 *payload, gsize len, guint32 *seq,
                                 ReferralEvent *event);

/* Fault injection (tests): the @nth (1-based) file operation of a kind in
 * @ops (a mask of REFERRAL_FAULT_*) made from now on fails with @errno_value
 * (a failing write writes half its bytes first, as a full disk may).
 * @nth 0 turns injection off.  Process-wide; not thread-safe. */
enum {
  REFERRAL_FAULT_WRITE = 1 << 0,
  REFERRAL_FAULT_FSYNC = 1 << 1,
  REFERRAL_FAULT_RENAME = 1 << 2,
  REFERRAL_FAULT_TRUNCATE = 1 << 3,
  REFERRAL_FAULT_ALL = 0xf
};
REFERRAL_API void referral_journal_set_fault (guint ops, guint64 nth, int errno_value);
/* Returns: how many operations of a kind in the current mask were made since
 * the last referral_journal_set_fault(); with @nth 0 it counts them. */
REFERRAL_API guint64 referral_journal_fault_count (void);

/* Tests: read-only opens read segments through a window of @bytes (0: the
 * default, 4 MiB), grown when a record needs more.  Process-wide. */
REFERRAL_API void referral_journal_set_read_window (gsize bytes);

#endif
