/* The write-ahead journal: segments of event records, snapshots, recovery.
 * See include/referral/journal.h for the guarantees and docs/durability.md
 * for the file formats and how they are tested. */
/* The build defines _GNU_SOURCE (fdatasync, renameat, flock under -std=c11). */
#include <referral/error.h>

#include "durability-private.h"
#include "engine-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEG_MAGIC "REFJRNL"   /* 8 bytes with the NUL */
#define SEG_VERSION 1u
#define SEG_HEADER 28         /* magic, version, 0, identity, start seq, crc */
#define REC_HEADER 8          /* payload length, crc32c of the payload */
#define REPLAY_BATCH 256      /* records per referral_engine_apply_many() in recovery */
#define REC_MAX (64u << 20)   /* a record longer than this is garbage */
#define NONE_BUFFER (1u << 20)

struct _ReferralJournal {
  char *dir;
  int dir_fd;
  int lock_fd;
  int fd;                   /* the segment being appended to, or -1 */
  ReferralScheme *scheme;
  ReferralEngine *engine;
  ReferralJournalOptions opt;
  guint32 seg_start;        /* first sequence of the current segment */
  guint64 seg_size;         /* bytes of it on file (written, maybe unsynced) */
  GByteArray *buf;          /* records not yet written */
  guint32 written;          /* events whose records are in the file */
  guint32 durable;          /* events whose records are synced */
  gint64 oldest_unsynced;   /* monotonic µs of the oldest unsynced event */
  guint32 since_snapshot;
  char *stopped;            /* why the journal stopped, or NULL */
  GError *snapshot_error;
};

/* ---- fault injection ---------------------------------------------------- */

static guint fault_ops;
static guint64 fault_nth;
static guint64 fault_seen;
static int fault_errno;

void
referral_journal_set_fault (guint ops, guint64 nth, int errno_value)
{
  fault_ops = ops;
  fault_nth = nth;
  fault_seen = 0;
  fault_errno = errno_value;
}

guint64
referral_journal_fault_count (void)
{
  return fault_seen;
}

static gboolean
fault_hit (guint op)
{
  if (!(fault_ops & op))
    return FALSE;
  fault_seen++;
  if (fault_nth != 0 && fault_seen == fault_nth)
    {
      errno = fault_errno;
      return TRUE;
    }
  return FALSE;
}

/* ---- file operations (every one goes through the fault layer) ----------- */

static gboolean
io_pwrite (int fd, const guint8 *data, gsize len, guint64 offset)
{
  if (fault_hit (REFERRAL_FAULT_WRITE))
    {
      int saved = errno;
      /* A full disk may take part of a write: leave a torn record. */
      if (pwrite (fd, data, len / 2, (off_t) offset) < 0)
        { /* the failure is the injected one anyway */ }
      errno = saved;
      return FALSE;
    }
  while (len > 0)
    {
      ssize_t n = pwrite (fd, data, len, (off_t) offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = EIO;
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
      offset += (guint64) n;
    }
  return TRUE;
}

static gboolean
io_datasync (int fd)
{
  if (fault_hit (REFERRAL_FAULT_FSYNC))
    return FALSE;
  return fdatasync (fd) == 0;
}

static gboolean
io_fsync (int fd)
{
  if (fault_hit (REFERRAL_FAULT_FSYNC))
    return FALSE;
  return fsync (fd) == 0;
}

static gboolean
io_rename (int dir_fd, const char *from, const char *to)
{
  if (fault_hit (REFERRAL_FAULT_RENAME))
    return FALSE;
  return renameat (dir_fd, from, dir_fd, to) == 0;
}

static gboolean
io_truncate (int fd, guint64 size)
{
  if (fault_hit (REFERRAL_FAULT_TRUNCATE))
    return FALSE;
  return ftruncate (fd, (off_t) size) == 0;
}

static gboolean
io_error (GError **error, const ReferralJournal *j, const char *what, const char *file)
{
  int err = errno;
  g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "journal %s: cannot %s %s: %s",
               j->dir, what, file, g_strerror (err));
  return FALSE;
}

/* ---- little-endian helpers ---------------------------------------------- */

static void
put_u32 (guint8 *p, guint32 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static guint32
get_u32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static guint64
get_u64 (const guint8 *p)
{
  return (guint64) get_u32 (p) | ((guint64) get_u32 (p + 4) << 32);
}

static void
append_u32 (GByteArray *b, guint32 v)
{
  guint8 le[4];
  put_u32 (le, v);
  g_byte_array_append (b, le, 4);
}

/* ---- records ------------------------------------------------------------ */

#define N_REC_STRINGS 12

static const char **
event_string (ReferralEvent *ev, guint i)
{
  switch (i)
    {
    case 0: return &ev->id;
    case 1: return &ev->command;
    case 2: return &ev->member;
    case 3: return &ev->sponsor;
    case 4: return &ev->order;
    case 5: return &ev->sku;
    case 6: return &ev->period;
    case 7: return &ev->old_member;
    case 8: return &ev->new_member;
    case 9: return &ev->rank;
    case 10: return &ev->time;
    default: return &ev->amount_text;
    }
}

void
referral_record_encode (GByteArray *b, guint32 seq, const ReferralEvent *event)
{
  guint start = b->len;
  append_u32 (b, 0); /* length and checksum, filled in below */
  append_u32 (b, 0);
  append_u32 (b, seq);
  guint8 tq[2] = { (guint8) event->type, event->amount_quoted ? 1 : 0 };
  g_byte_array_append (b, tq, 2);
  append_u32 (b, (guint32) (guint64) event->amount);
  append_u32 (b, (guint32) ((guint64) event->amount >> 32));
  ReferralEvent copy = *event;
  for (guint i = 0; i < N_REC_STRINGS; i++)
    {
      const char *s = *event_string (&copy, i);
      if (s == NULL)
        append_u32 (b, 0);
      else
        {
          gsize n = strlen (s) + 1;
          append_u32 (b, (guint32) n);
          g_byte_array_append (b, (const guint8 *) s, (guint) n);
        }
    }
  guint32 len = b->len - start - REC_HEADER;
  put_u32 (b->data + start, len);
  put_u32 (b->data + start + 4, referral_crc32c (0, b->data + start + REC_HEADER, len));
}

gboolean
referral_record_decode (const guint8 *p, gsize len, guint32 *seq, ReferralEvent *ev)
{
  *ev = (ReferralEvent) REFERRAL_EVENT_INIT;
  if (len < 14)
    return FALSE;
  *seq = get_u32 (p);
  if (p[4] < REFERRAL_EVENT_JOIN || p[4] > REFERRAL_EVENT_COMMAND || p[5] > 1)
    return FALSE;
  ev->type = (ReferralEventType) p[4];
  ev->amount_quoted = p[5];
  ev->amount = (gint64) get_u64 (p + 6);
  gsize pos = 14;
  for (guint i = 0; i < N_REC_STRINGS; i++)
    {
      if (len - pos < 4)
        return FALSE;
      guint32 n = get_u32 (p + pos);
      pos += 4;
      if (n == 0)
        continue;
      if (len - pos < n || p[pos + n - 1] != '\0' || memchr (p + pos, '\0', n - 1) != NULL)
        return FALSE;
      *event_string (ev, i) = (const char *) p + pos;
      pos += n;
    }
  return pos == len && ev->id != NULL;
}

/* Checks the record at @pos of @data (@len bytes); sets *@next past it.
 * Returns: TRUE when it is whole and its checksum matches. */
static gboolean
record_at (const guint8 *data, gsize len, gsize pos, gsize *next)
{
  if (len - pos < REC_HEADER)
    return FALSE;
  guint32 plen = get_u32 (data + pos);
  if (plen > REC_MAX || len - pos - REC_HEADER < plen)
    return FALSE;
  if (referral_crc32c (0, data + pos + REC_HEADER, plen) != get_u32 (data + pos + 4))
    return FALSE;
  *next = pos + REC_HEADER + plen;
  return TRUE;
}

/* Returns: TRUE when a whole, decodable record starts anywhere after @pos
 * (the scan runs only when recovery met a damaged record). */
static gboolean
record_follows (const guint8 *data, gsize len, gsize pos)
{
  for (gsize p = pos + 1; p + REC_HEADER <= len; p++)
    {
      gsize next;
      guint32 seq;
      ReferralEvent ev;
      if (record_at (data, len, p, &next)
          && referral_record_decode (data + p + REC_HEADER, next - p - REC_HEADER, &seq, &ev))
        return TRUE;
    }
  return FALSE;
}

/* ---- names -------------------------------------------------------------- */

static char *
seg_name (guint32 seq)
{
  return g_strdup_printf ("journal-%010u.log", seq);
}

static char *
snap_name (guint32 seq)
{
  return g_strdup_printf ("snapshot-%010u.snap", seq);
}

/* Returns: TRUE and sets *@seq when @name is PREFIX + 10 digits + SUFFIX. */
static gboolean
parse_name (const char *name, const char *prefix, const char *suffix, guint32 *seq)
{
  gsize lp = strlen (prefix), ls = strlen (suffix);
  if (strlen (name) != lp + 10 + ls || strncmp (name, prefix, lp) != 0
      || strcmp (name + lp + 10, suffix) != 0)
    return FALSE;
  guint64 v = 0;
  for (gsize i = lp; i < lp + 10; i++)
    {
      if (name[i] < '0' || name[i] > '9')
        return FALSE;
      v = v * 10 + (guint64) (name[i] - '0');
    }
  if (v > G_MAXUINT32)
    return FALSE;
  *seq = (guint32) v;
  return TRUE;
}

static gint
cmp_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

/* Lists the directory: snapshot and segment sequences, ascending; removes
 * leftover temporary files when @writer. */
static gboolean
list_dir (ReferralJournal *j, GArray *snaps, GArray *segs, gboolean writer, GError **error)
{
  GError *local = NULL;
  GDir *d = g_dir_open (j->dir, 0, &local);
  if (d == NULL)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "journal %s: %s", j->dir,
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      guint32 seq;
      if (parse_name (name, "snapshot-", ".snap", &seq))
        g_array_append_val (snaps, seq);
      else if (parse_name (name, "journal-", ".log", &seq))
        g_array_append_val (segs, seq);
      else if (writer && g_str_has_suffix (name, ".tmp"))
        unlinkat (j->dir_fd, name, 0);
    }
  g_dir_close (d);
  g_array_sort (snaps, cmp_u32);
  g_array_sort (segs, cmp_u32);
  return TRUE;
}

/* ---- writing ------------------------------------------------------------ */

static void
seg_header (guint8 *h, guint64 identity, guint32 start)
{
  memcpy (h, SEG_MAGIC, 8);
  put_u32 (h + 8, SEG_VERSION);
  put_u32 (h + 12, 0);
  put_u32 (h + 16, (guint32) identity);
  put_u32 (h + 20, (guint32) (identity >> 32));
  put_u32 (h + 24, start);
}

/* Writes a file's content to @fd from offset 0; FALSE with errno set. */
typedef gboolean (*ContentFunc) (int fd, gconstpointer content);

typedef struct {
  const guint8 *data;
  gsize len;
} Bytes;

static gboolean
write_bytes (int fd, gconstpointer content)
{
  const Bytes *b = content;
  return io_pwrite (fd, b->data, b->len, 0);
}

/* Writes @name atomically: temporary file (its content from @fill),
 * fsync, rename, fsync of the directory.  With @keep_fd, returns the open
 * descriptor in *@keep_fd. */
static gboolean
write_atomic (ReferralJournal *j, const char *name, ContentFunc fill, gconstpointer content,
              int *keep_fd, GError **error)
{
  g_autofree char *tmp = g_strconcat (name, ".tmp", NULL);
  int fd = openat (j->dir_fd, tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    return io_error (error, j, "create", tmp);
  if (!fill (fd, content))
    {
      io_error (error, j, "write", tmp);
      goto fail;
    }
  if (!io_fsync (fd))
    {
      io_error (error, j, "sync", tmp);
      goto fail;
    }
  if (!io_rename (j->dir_fd, tmp, name))
    {
      io_error (error, j, "rename into place", tmp);
      goto fail;
    }
  if (!io_fsync (j->dir_fd))
    {
      /* The file is in place but its name may not be durable: undo, so that
       * the caller's view (failed) is the truth. */
      io_error (error, j, "sync the directory after writing", name);
      unlinkat (j->dir_fd, name, 0);
      close (fd);
      return FALSE;
    }
  if (keep_fd)
    *keep_fd = fd;
  else
    close (fd);
  return TRUE;

fail:
  close (fd);
  unlinkat (j->dir_fd, tmp, 0);
  return FALSE;
}

/* Starts segment @start: on success it is the current one. */
static gboolean
new_segment (ReferralJournal *j, guint32 start, GError **error)
{
  guint8 file[SEG_HEADER + 4];
  seg_header (file, referral_scheme_identity (j->scheme), start);
  put_u32 (file + SEG_HEADER, referral_crc32c (0, file, SEG_HEADER));
  g_autofree char *name = seg_name (start);
  int fd = -1;
  Bytes content = { file, sizeof file };
  if (!write_atomic (j, name, write_bytes, &content, &fd, error))
    return FALSE;
  if (j->fd >= 0)
    close (j->fd);
  j->fd = fd;
  j->seg_start = start;
  j->seg_size = sizeof file;
  return TRUE;
}

static void
stop (ReferralJournal *j, const GError *why)
{
  if (j->stopped == NULL)
    j->stopped = g_strdup (why->message);
}

/* Writes the buffered records; with @sync, fdatasyncs.  On failure the
 * journal stops: records of events applied in memory may not be durable. */
static gboolean
flush (ReferralJournal *j, gboolean sync, GError **error)
{
  guint32 n = j->engine->event_ids.n;
  GError *local = NULL;
  g_autofree char *name = seg_name (j->seg_start);
  if (j->buf->len > 0)
    {
      if (!io_pwrite (j->fd, j->buf->data, j->buf->len, j->seg_size))
        {
          io_error (&local, j, "append to", name);
          /* Cut what part of it was written, so the file ends on a record. */
          if (io_truncate (j->fd, j->seg_size))
            {
              g_byte_array_set_size (j->buf, 0);
              /* Nothing is lost yet in a way we cannot tell: the events
               * are in memory and a later write may succeed, but keep it
               * simple and honest: stop. */
            }
          goto failed;
        }
      j->seg_size += j->buf->len;
      g_byte_array_set_size (j->buf, 0);
      j->written = n;
    }
  if (sync && j->durable < j->written)
    {
      if (!io_datasync (j->fd))
        {
          io_error (&local, j, "sync", name);
          goto failed;
        }
      j->durable = j->written;
    }
  return TRUE;

failed:
  g_prefix_error (&local, "%u applied events are not durable; the journal stopped: ",
                  n - j->durable);
  stop (j, local);
  g_propagate_error (error, local);
  return FALSE;
}

static gboolean
check_usable (ReferralJournal *j, GError **error)
{
  if (j->opt.read_only)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_JOURNAL,
                   "journal %s is open read-only", j->dir);
      return FALSE;
    }
  if (j->stopped)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                   "journal %s stopped after an I/O error (%s); reopen it to recover",
                   j->dir, j->stopped);
      return FALSE;
    }
  return TRUE;
}

/* ---- snapshots ---------------------------------------------------------- */

/* Removes what recovery no longer needs: snapshots older than the two
 * newest, and segments that end before the older of those two. */
static void
prune (ReferralJournal *j)
{
  g_autoptr (GArray) snaps = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (GArray) segs = g_array_new (FALSE, FALSE, sizeof (guint32));
  if (!list_dir (j, snaps, segs, FALSE, NULL) || snaps->len < 2)
    return;
  guint32 keep_from = g_array_index (snaps, guint32, snaps->len - 2);
  for (guint i = 0; i + 2 < snaps->len; i++)
    {
      g_autofree char *name = snap_name (g_array_index (snaps, guint32, i));
      unlinkat (j->dir_fd, name, 0);
    }
  for (guint i = 0; i + 1 < segs->len; i++)
    if (g_array_index (segs, guint32, i + 1) <= keep_from)
      {
        g_autofree char *name = seg_name (g_array_index (segs, guint32, i));
        unlinkat (j->dir_fd, name, 0);
      }
}

typedef struct {
  int fd;
  guint64 offset;
  int err; /* errno of the failed write */
} SnapshotFile;

static gboolean
snapshot_sink (const guint8 *data, gsize len, gpointer user_data)
{
  SnapshotFile *f = user_data;
  if (!io_pwrite (f->fd, data, len, f->offset))
    {
      f->err = errno;
      return FALSE;
    }
  f->offset += len;
  return TRUE;
}

/* Streams the snapshot of the engine @content into @fd, 1 MiB at a time. */
static gboolean
write_snapshot (int fd, gconstpointer content)
{
  SnapshotFile f = { fd, 0, 0 };
  if (referral_snapshot_write (content, snapshot_sink, &f, NULL))
    return TRUE;
  errno = f.err;
  return FALSE;
}

gboolean
referral_journal_snapshot (ReferralJournal *j, GError **error)
{
  g_return_val_if_fail (j != NULL, FALSE);
  if (!check_usable (j, error) || !flush (j, TRUE, error))
    return FALSE;
  guint32 seq = j->engine->event_ids.n;
  g_autofree char *name = snap_name (seq);
  if (!write_atomic (j, name, write_snapshot, j->engine, NULL, error))
    return FALSE;
  j->since_snapshot = 0;
  /* Later records go to a new segment, so that older ones can be pruned. */
  if (seq != j->seg_start && !new_segment (j, seq, error))
    {
      g_prefix_error (error, "snapshot %s written, but ", name);
      return FALSE;
    }
  prune (j);
  return TRUE;
}

/* ---- applying ----------------------------------------------------------- */

gboolean
referral_journal_apply (ReferralJournal *j, const ReferralEvent *ev,
                        ReferralApplyResult *result, GError **error)
{
  g_return_val_if_fail (j != NULL && ev != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!check_usable (j, error))
    return FALSE;
  ReferralEngine *e = j->engine;
  /* Duplicates, id conflicts and id-less events change nothing: no record. */
  if (ev->id == NULL || *ev->id == '\0'
      || referral_intern_lookup (&e->event_ids, ev->id) != REFERRAL_INTERN_NONE)
    return referral_engine_apply (e, ev, result, error);

  guint32 seq = e->event_ids.n;
  if (j->opt.sync == REFERRAL_SYNC_EVERY)
    {
      /* Write ahead: the record is on stable storage before the event
       * changes the state, so that an I/O error leaves the state as it was. */
      guint64 mark = j->seg_size;
      g_byte_array_set_size (j->buf, 0);
      referral_record_encode (j->buf, seq, ev);
      g_autofree char *name = seg_name (j->seg_start);
      GError *local = NULL;
      if (!io_pwrite (j->fd, j->buf->data, j->buf->len, mark))
        {
          io_error (&local, j, "append to", name);
          g_byte_array_set_size (j->buf, 0);
          /* Cut what part of the record was written; if even that fails
           * the file's end is unknown: stop. */
          if (!io_truncate (j->fd, mark))
            {
              g_prefix_error (&local, "the event was not applied; the journal stopped: ");
              stop (j, local);
            }
          else
            g_prefix_error (&local, "the event was not applied: ");
          g_propagate_error (error, local);
          return FALSE;
        }
      j->seg_size += j->buf->len;
      g_byte_array_set_size (j->buf, 0);
      if (!io_datasync (j->fd))
        {
          /* After a failed fsync the file's content is unknown (the kernel
           * may have dropped the dirty pages): stop.  The record may or may
           * not survive; either way the event was not acknowledged. */
          io_error (&local, j, "sync", name);
          g_prefix_error (&local, "the event was not applied; the journal stopped: ");
          stop (j, local);
          g_propagate_error (error, local);
          return FALSE;
        }
      if (!referral_engine_apply (e, ev, result, error))
        {
          /* Take the record back.  Should that fail, it stays as the last
           * record, and recovery drops a last record that does not apply. */
          if (io_truncate (j->fd, mark))
            j->seg_size = mark;
          else
            {
              io_error (&local, j, "truncate", name);
              stop (j, local);
              g_error_free (local);
            }
          return FALSE;
        }
      j->written = j->durable = seq + 1;
    }
  else
    {
      ReferralApplyResult r;
      if (!referral_engine_apply (e, ev, &r, error))
        return FALSE;
      if (result)
        *result = r;
      if (r.status == REFERRAL_DUPLICATE)
        return TRUE;
      if (j->durable == seq)
        j->oldest_unsynced = g_get_monotonic_time ();
      referral_record_encode (j->buf, seq, ev);
      gboolean ok = TRUE;
      if (j->opt.sync == REFERRAL_SYNC_GROUP)
        {
          guint32 group = j->opt.group_events ? j->opt.group_events : 64;
          if (seq + 1 - j->durable >= group
              || (j->opt.group_ms > 0
                  && g_get_monotonic_time () - j->oldest_unsynced >= (gint64) j->opt.group_ms * 1000))
            ok = flush (j, TRUE, error);
        }
      else if (j->buf->len >= NONE_BUFFER)
        ok = flush (j, FALSE, error);
      if (!ok)
        return FALSE;
    }

  if (j->opt.snapshot_every > 0 && ++j->since_snapshot >= j->opt.snapshot_every)
    {
      g_clear_error (&j->snapshot_error);
      if (!referral_journal_snapshot (j, &j->snapshot_error))
        j->since_snapshot = 0;
    }
  return TRUE;
}

gboolean
referral_journal_sync (ReferralJournal *j, GError **error)
{
  g_return_val_if_fail (j != NULL, FALSE);
  if (j->opt.read_only)
    return TRUE;
  return check_usable (j, error) && flush (j, TRUE, error);
}

guint32
referral_journal_durable_events (const ReferralJournal *j)
{
  g_return_val_if_fail (j != NULL, 0);
  return j->opt.read_only ? j->engine->event_ids.n : j->durable;
}

const GError *
referral_journal_last_snapshot_error (const ReferralJournal *j)
{
  g_return_val_if_fail (j != NULL, NULL);
  return j->snapshot_error;
}

ReferralEngine *
referral_journal_engine (ReferralJournal *j)
{
  g_return_val_if_fail (j != NULL, NULL);
  return j->engine;
}

/* ---- recovery ----------------------------------------------------------- */

static gboolean
journal_error (GError **error, const ReferralJournal *j, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
journal_error (GError **error, const ReferralJournal *j, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_JOURNAL, "journal %s: %s", j->dir, msg);
  return FALSE;
}

/* A file's content, mapped or read into memory. */
typedef struct {
  const guint8 *data;
  gsize len;
  void *map;   /* the mapping, or NULL */
  gchar *heap; /* or the copy, or NULL */
} FileData;

static void
file_data_clear (FileData *f)
{
  if (f->map != NULL)
    munmap (f->map, f->len);
  g_free (f->heap);
  memset (f, 0, sizeof *f);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FileData, file_data_clear)

/* Loads @name.  With @may_map it is mapped read-only: reading a large file
 * into fresh heap pages costs a page fault per 4 KiB (on the VMs measured
 * in docs/durability.md, as much as the decoding), while a mapping of the
 * page cache faults in whole runs of pages.  Only files nobody truncates
 * while we read them may be mapped (a truncated mapping raises SIGBUS):
 * snapshots, which are never changed once renamed into place, and the
 * segments when we hold the writer's lock.  Otherwise, or when mapping
 * fails, the file is read. */
static gboolean
load_file (ReferralJournal *j, const char *name, gboolean may_map, FileData *f, GError **error)
{
  static const guint8 empty[1] = { 0 };
  memset (f, 0, sizeof *f);
  if (may_map)
    {
      int fd = openat (j->dir_fd, name, O_RDONLY | O_CLOEXEC);
      struct stat st;
      if (fd >= 0 && fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && st.st_size > 0
          && (guint64) st.st_size <= G_MAXSIZE)
        {
          int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
          flags |= MAP_POPULATE;
#endif
          void *map = mmap (NULL, (gsize) st.st_size, PROT_READ, flags, fd, 0);
          if (map != MAP_FAILED)
            {
              f->map = map;
              f->data = map;
              f->len = (gsize) st.st_size;
              close (fd);
              return TRUE;
            }
        }
      if (fd >= 0)
        close (fd);
    }
  g_autofree char *path = g_build_filename (j->dir, name, NULL);
  GError *local = NULL;
  if (!g_file_get_contents (path, &f->heap, &f->len, &local))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "journal %s: %s", j->dir,
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  f->data = f->heap ? (const guint8 *) f->heap : empty;
  return TRUE;
}

/* Loads the newest intact snapshot at or before @limit into j->engine. */
static gboolean
load_snapshot (ReferralJournal *j, GArray *snaps, guint32 limit, GString *skipped,
               GError **error)
{
  for (guint i = snaps->len; i-- > 0;)
    {
      guint32 seq = g_array_index (snaps, guint32, i);
      if (seq > limit)
        continue;
      g_autofree char *name = snap_name (seq);
      g_auto (FileData) file = { 0 };
      GError *local = NULL;
      if (!load_file (j, name, TRUE, &file, error))
        return FALSE;
      ReferralEngine *e = NULL;
      switch (referral_snapshot_decode (j->scheme, file.data, file.len, &e, &local))
        {
        case REFERRAL_SNAPSHOT_OK:
          if (e->event_ids.n != seq)
            {
              referral_engine_free (e);
              g_string_append_printf (skipped, "%s: holds another number of events; ", name);
              continue;
            }
          j->engine = e;
          return TRUE;
        case REFERRAL_SNAPSHOT_FOREIGN:
          journal_error (error, j, "%s: %s", name, local->message);
          g_error_free (local);
          return FALSE;
        case REFERRAL_SNAPSHOT_CORRUPT:
        default:
          /* Fall back to an older snapshot and a longer replay. */
          g_string_append_printf (skipped, "%s: %s; ", name, local->message);
          g_error_free (local);
          break;
        }
    }
  return TRUE;
}

/* The bytes of a segment being replayed: the whole file (mapped, for the
 * writer) or, for a read-only open, a window of it read with pread into one
 * reused buffer, so that replaying a large segment does not fault in a
 * fresh heap page per 4 KiB (a read-only open may not map: a writer may cut
 * a torn tail under it).  `data[0]` is the file's byte `base`. */
typedef struct {
  const guint8 *data;
  gsize len;
  guint64 base;
  guint64 file_len;
  int fd;         /* windowed: the file, else -1 */
  guint8 *buf;    /* windowed: the buffer */
  gsize cap;
} Segment;

static gsize read_window = 4u << 20;

void
referral_journal_set_read_window (gsize bytes)
{
  read_window = bytes ? bytes : 4u << 20;
}

static gboolean
segment_at_eof (const Segment *sg)
{
  return sg->base + sg->len == sg->file_len;
}

/* Points the window at file offset @at, holding at least @want bytes (or
 * up to the end of the file). */
static gboolean
segment_fill (ReferralJournal *j, Segment *sg, const char *name, guint64 at, gsize want,
              GError **error)
{
  gsize n = (gsize) MIN ((guint64) MAX (want, read_window), sg->file_len - at);
  if (n > sg->cap)
    {
      g_free (sg->buf);
      sg->cap = n;
      sg->buf = g_malloc (n);
    }
  gsize got = 0;
  while (got < n)
    {
      ssize_t r = pread (sg->fd, sg->buf + got, n - got, (off_t) (at + got));
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        {
          if (r == 0)
            errno = EIO; /* shorter than when we looked: cut under us */
          return io_error (error, j, "read", name);
        }
      got += (gsize) r;
    }
  sg->data = sg->buf;
  sg->len = n;
  sg->base = at;
  return TRUE;
}

/* Replays segment @name; @last says whether it is the last one.  Sets
 * *@valid_end to the end of its last good record, *@header_ok to whether
 * its header is intact, and *@done when read-only @until was reached. */
static gboolean
replay_segment (ReferralJournal *j, guint32 start, gboolean last, guint64 *valid_end,
                gboolean *header_ok, gboolean *done, GError **error)
{
  g_autofree char *name = seg_name (start);
  g_auto (FileData) file = { 0 };
  Segment sg = { NULL, 0, 0, 0, -1, NULL, 0 };
  gboolean ok = FALSE;
  *valid_end = 0;
  *header_ok = FALSE;
  if (!j->opt.read_only)
    {
      /* The writer's lock keeps other writers from truncating the segment. */
      if (!load_file (j, name, TRUE, &file, error))
        return FALSE;
      sg.data = file.data;
      sg.len = sg.file_len = file.len;
    }
  else
    {
      struct stat st;
      sg.fd = openat (j->dir_fd, name, O_RDONLY | O_CLOEXEC);
      if (sg.fd < 0)
        return io_error (error, j, "open", name);
      if (fstat (sg.fd, &st) != 0)
        {
          io_error (error, j, "stat", name);
          goto out;
        }
      sg.file_len = (guint64) st.st_size;
      if (!segment_fill (j, &sg, name, 0, SEG_HEADER + 4, error))
        goto out;
    }

  const guint8 *data = sg.data;
  gsize len = sg.len;
  if (len < SEG_HEADER + 4 || memcmp (data, SEG_MAGIC, 8) != 0
      || referral_crc32c (0, data, SEG_HEADER) != get_u32 (data + SEG_HEADER))
    {
      /* Segments are created whole (temporary file, rename), so a bad
       * header is damage, not a torn write. */
      journal_error (error, j, "%s: bad segment header", name);
      goto out;
    }
  guint64 identity = get_u64 (data + 16);
  if (identity != referral_scheme_identity (j->scheme))
    {
      journal_error (error, j,
                     "%s belongs to another scheme (identity %016" G_GINT64_MODIFIER
                     "x, scheme %s has %016" G_GINT64_MODIFIER "x)",
                     name, identity, referral_scheme_name (j->scheme),
                     referral_scheme_identity (j->scheme));
      goto out;
    }
  if (get_u32 (data + 8) != SEG_VERSION || get_u32 (data + 24) != start)
    {
      journal_error (error, j, "%s: unknown version or wrong start", name);
      goto out;
    }
  *header_ok = TRUE;

  ReferralEngine *e = j->engine;
  gsize pos = SEG_HEADER + 4; /* in the window: the file's offset sg.base + pos */
  /* Records are applied in batches through referral_engine_apply_many()
   * (which prefetches what the next events read).  A batch is a run of
   * whole records that continue the sequence; whatever ends a run (the
   * read-only limit, a damaged record, a sequence number out of line, the
   * end of the window) is handled on its own once the records before it
   * are applied (their events point into the window). */
  ReferralEvent batch[REPLAY_BATCH];
  gsize ends[REPLAY_BATCH];
  for (;;)
    {
      if (pos >= len)
        {
          if (segment_at_eof (&sg))
            break;
          if (!segment_fill (j, &sg, name, sg.base + pos, 0, error))
            goto out;
          data = sg.data;
          len = sg.len;
          pos = 0;
          continue;
        }
      guint nb = 0;
      gsize p = pos;
      guint32 expect = e->event_ids.n;
      while (nb < REPLAY_BATCH && p < len
             && !(j->opt.read_only && expect >= j->opt.until))
        {
          gsize next;
          guint32 seq;
          if (!record_at (data, len, p, &next)
              || !referral_record_decode (data + p + REC_HEADER, next - p - REC_HEADER, &seq,
                                          &batch[nb])
              || seq != expect)
            break;
          ends[nb++] = next;
          expect++;
          p = next;
        }
      if (nb > 0)
        {
          gsize n_done = 0, n_dup = 0;
          GError *local = NULL;
          gboolean applied = referral_engine_apply_many (e, batch, nb, &n_done, &n_dup, &local);
          if (n_dup > 0)
            {
              g_clear_error (&local);
              journal_error (error, j, "%s: a record before offset %" G_GUINT64_FORMAT
                             " holds an event applied before it", name,
                             sg.base + ends[MIN (n_done, nb - 1)]);
              goto out;
            }
          if (n_done > 0)
            *valid_end = sg.base + ends[n_done - 1];
          if (!applied)
            {
              guint32 seq = e->event_ids.n;
              /* The last record of an event that was rejected when applied
               * (its removal failed or a crash came first) is dropped. */
              if (last && sg.base + ends[n_done] == sg.file_len)
                {
                  g_error_free (local);
                  break;
                }
              journal_error (error, j, "%s: event %u (\"%s\") no longer applies: %s", name, seq,
                             batch[n_done].id, local->message);
              g_error_free (local);
              goto out;
            }
          pos = ends[nb - 1];
          continue;
        }

      /* What ended the run, at pos. */
      if (j->opt.read_only && e->event_ids.n >= j->opt.until)
        {
          *done = TRUE;
          break;
        }
      gsize next;
      guint32 seq;
      ReferralEvent ev;
      gboolean whole = record_at (data, len, pos, &next);
      if (whole && !referral_record_decode (data + pos + REC_HEADER, next - pos - REC_HEADER,
                                            &seq, &ev))
        whole = FALSE;
      if (!whole && !segment_at_eof (&sg))
        {
          /* Perhaps cut by the window's end: read on from this record,
           * with room for the length it claims. */
          gsize need = REC_HEADER;
          if (len - pos >= 4)
            need += MIN (get_u32 (data + pos), REC_MAX);
          if (pos > 0 || need > len)
            {
              if (!segment_fill (j, &sg, name, sg.base + pos, need, error))
                goto out;
              data = sg.data;
              len = sg.len;
              pos = 0;
              continue;
            }
          /* It is all in the window: damaged.  The check below looks at
           * everything after it. */
          if (last && !segment_fill (j, &sg, name, sg.base, sg.file_len - sg.base, error))
            goto out;
          data = sg.data;
          len = sg.len;
        }
      if (!whole)
        {
          /* A torn write leaves only a partial record at the end.  If a
           * whole record follows anywhere, this is damage to events that
           * may have been acknowledged: refuse rather than cut them. */
          if (!last || record_follows (data, len, pos))
            {
              journal_error (error, j, "%s: damaged record at offset %" G_GUINT64_FORMAT
                             " is followed by more records", name, sg.base + pos);
              goto out;
            }
          break; /* torn tail: cut */
        }
      if (seq < e->event_ids.n)
        {
          pos = next; /* in the snapshot already */
          *valid_end = sg.base + pos;
          continue;
        }
      journal_error (error, j, "%s: record of event %u follows event %u", name, seq,
                     e->event_ids.n);
      goto out;
    }
  if (*valid_end == 0)
    *valid_end = SEG_HEADER + 4;
  ok = TRUE;

out:
  if (sg.fd >= 0)
    close (sg.fd);
  g_free (sg.buf);
  return ok;
}

static gboolean
recover (ReferralJournal *j, GError **error)
{
  gboolean writer = !j->opt.read_only;
  g_autoptr (GArray) snaps = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (GArray) segs = g_array_new (FALSE, FALSE, sizeof (guint32));
  if (!list_dir (j, snaps, segs, writer, error))
    return FALSE;
  g_autoptr (GString) skipped = g_string_new (NULL);
  guint32 limit = j->opt.read_only ? j->opt.until : G_MAXUINT32;
  if (!load_snapshot (j, snaps, limit, skipped, error))
    return FALSE;
  if (j->engine == NULL)
    {
      if (segs->len > 0 && g_array_index (segs, guint32, 0) > 0)
        return journal_error (error, j,
                              "no usable snapshot (%s) and the journal starts at event %u",
                              skipped->len ? skipped->str : "none",
                              g_array_index (segs, guint32, 0));
      if ((j->engine = referral_engine_new (j->scheme, error)) == NULL)
        return FALSE;
    }

  guint64 valid_end = 0;
  gboolean header_ok = FALSE, done = FALSE;
  guint32 base = j->engine->event_ids.n;
  guint first = 0;
  /* Skip the segments wholly covered by the snapshot. */
  while (first + 1 < segs->len && g_array_index (segs, guint32, first + 1) <= base)
    first++;
  if (segs->len > 0 && g_array_index (segs, guint32, first) > base)
    return journal_error (error, j, "events %u to %u are missing (no segment holds them)",
                          base, g_array_index (segs, guint32, first) - 1);
  for (guint i = first; i < segs->len && !done; i++)
    if (!replay_segment (j, g_array_index (segs, guint32, i), i + 1 == segs->len, &valid_end,
                         &header_ok, &done, error))
      return FALSE;

  guint32 n = j->engine->event_ids.n;
  if (j->opt.read_only)
    {
      if (j->opt.until != REFERRAL_JOURNAL_ALL && n < j->opt.until)
        return journal_error (error, j, "holds %u events, fewer than the %u asked for", n,
                              j->opt.until);
      return TRUE;
    }
  j->written = j->durable = n;
  if (segs->len == 0)
    return new_segment (j, n, error);
  guint32 last = g_array_index (segs, guint32, segs->len - 1);
  g_autofree char *name = seg_name (last);
  j->fd = openat (j->dir_fd, name, O_WRONLY | O_CLOEXEC);
  if (j->fd < 0)
    return io_error (error, j, "open", name);
  j->seg_start = last;
  j->seg_size = valid_end;
  struct stat st;
  if (fstat (j->fd, &st) != 0)
    return io_error (error, j, "stat", name);
  if ((guint64) st.st_size != valid_end)
    {
      /* Cut the torn tail for good before anything is appended. */
      if (!io_truncate (j->fd, valid_end))
        return io_error (error, j, "cut the torn tail of", name);
      if (!io_datasync (j->fd))
        return io_error (error, j, "sync", name);
    }
  return TRUE;
}

ReferralJournal *
referral_journal_open (const char *dir, ReferralScheme *scheme,
                       const ReferralJournalOptions *options, GError **error)
{
  g_return_val_if_fail (dir != NULL && scheme != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  static const ReferralJournalOptions defaults = REFERRAL_JOURNAL_OPTIONS_INIT;
  ReferralJournal *j = g_new0 (ReferralJournal, 1);
  j->opt = options ? *options : defaults;
  j->dir = g_strdup (dir);
  j->dir_fd = j->lock_fd = j->fd = -1;
  j->scheme = referral_scheme_ref (scheme);
  j->buf = g_byte_array_new ();

  if (!j->opt.read_only && g_mkdir_with_parents (dir, 0777) != 0)
    {
      io_error (error, j, "create", "the directory");
      goto fail;
    }
  j->dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (j->dir_fd < 0)
    {
      io_error (error, j, "open", "the directory");
      goto fail;
    }
  if (!j->opt.read_only)
    {
      j->lock_fd = openat (j->dir_fd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0666);
      if (j->lock_fd < 0)
        {
          io_error (error, j, "create", "LOCK");
          goto fail;
        }
      if (flock (j->lock_fd, LOCK_EX | LOCK_NB) != 0)
        {
          io_error (error, j, "lock (another writer has it?)", "LOCK");
          goto fail;
        }
    }
  if (!recover (j, error))
    goto fail;
  return j;

fail:
  referral_journal_free (j);
  return NULL;
}

static void
journal_release (ReferralJournal *j)
{
  if (j->fd >= 0)
    close (j->fd);
  if (j->lock_fd >= 0)
    close (j->lock_fd);
  if (j->dir_fd >= 0)
    close (j->dir_fd);
  referral_engine_free (j->engine);
  referral_scheme_unref (j->scheme);
  g_byte_array_unref (j->buf);
  g_clear_error (&j->snapshot_error);
  g_free (j->stopped);
  g_free (j->dir);
  g_free (j);
}

gboolean
referral_journal_close (ReferralJournal *j, GError **error)
{
  if (j == NULL)
    return TRUE;
  gboolean ok = TRUE;
  if (!j->opt.read_only && j->stopped != NULL)
    ok = check_usable (j, error); /* says why it stopped */
  else if (!j->opt.read_only && j->fd >= 0)
    ok = flush (j, TRUE, error);
  journal_release (j);
  return ok;
}

void
referral_journal_free (ReferralJournal *j)
{
  referral_journal_close (j, NULL);
}
