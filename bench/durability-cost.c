/* durability-cost: what the journal's pieces cost (docs/durability.md).
 *
 *   durability-cost crc [--runs K]
 *       MB/s of each CRC-32C implementation (bytewise, slice-by-8, SSE4.2)
 *       on 64-byte, 256-byte, 4 KiB and 16 MiB buffers.
 *   durability-cost snapshot --events FILE --dir DIR [--runs K]
 *       applies the chain21 JSON Lines stream FILE through a journal in DIR
 *       (sync none; DIR must not exist), then times K snapshots
 *       (referral_journal_snapshot: encode, write, fsync, rename, fsync of
 *       the directory), the encoding alone (streamed to a sink that drops
 *       the bytes), the decoding (with the
 *       invariant check) of an in-memory copy, and reports the file's size.
 *   durability-cost decode --snapshot FILE [--runs K]
 *       times referral_snapshot_decode() (with the invariant check) of a
 *       chain21 snapshot file read into memory once.
 *   durability-cost recover --events FILE --dir DIR --tail T [--runs K]
 *       applies all but the last T events of FILE through a journal in DIR
 *       (sync none), takes a snapshot, applies the last T events, closes;
 *       then times K recoveries (referral_journal_open as the writer, then
 *       close) and K read-only opens.
 *
 * Times are wall-clock medians (g_get_monotonic_time).  Not a test.  DIR is
 * removed at the end unless --keep. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <referral/referral.h>

#include "durability-private.h"

static int runs = 5;
static char *events_path;
static char *dir;
static gint64 tail = 0;
static gboolean keep;
static guint decimals = 2;

static void
die (const char *what, GError *error)
{
  fprintf (stderr, "durability-cost: %s: %s\n", what, error ? error->message : "failed");
  exit (1);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (v, (size_t) n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
now_s (void)
{
  return (double) g_get_monotonic_time () / 1e6;
}

/* ---- crc ---------------------------------------------------------------- */

static int
cmd_crc (void)
{
  static const gsize sizes[] = { 64, 256, 4096, 16u << 20 };
  const gsize total = 256u << 20; /* bytes checksummed per run */
  guint8 *buf = g_malloc ((16u << 20) + 64);
  for (gsize i = 0; i < (16u << 20) + 64; i++)
    buf[i] = (guint8) (i * 2654435761u >> 13);
  printf ("# CRC-32C, MB/s (10^6 bytes/s), median of %d runs of %" G_GSIZE_FORMAT
          " MiB each; referral_crc32c() uses %s\n",
          runs, total >> 20, referral_crc32c_name (referral_crc32c_chosen ()));
  printf ("%-12s", "impl");
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    printf (" %12" G_GSIZE_FORMAT "B", sizes[s]);
  printf ("\n");
  for (int impl = REFERRAL_CRC32C_BYTEWISE; impl < REFERRAL_CRC32C_N_IMPLS; impl++)
    {
      if (!referral_crc32c_available ((ReferralCrc32cImpl) impl))
        {
          printf ("%-12s not available on this CPU\n", referral_crc32c_name (impl));
          continue;
        }
      printf ("%-12s", referral_crc32c_name (impl));
      for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
        {
          gsize n = sizes[s], reps = total / n;
          /* the bytewise path is slow: a quarter of the bytes */
          if (impl == REFERRAL_CRC32C_BYTEWISE)
            reps /= 4;
          double t[64];
          volatile guint32 sink = 0;
          for (int r = 0; r < runs; r++)
            {
              double t0 = now_s ();
              guint32 c = 0;
              for (gsize k = 0; k < reps; k++)
                c = referral_crc32c_with ((ReferralCrc32cImpl) impl, c, buf + (k & 7), n);
              t[r] = now_s () - t0;
              sink ^= c;
            }
          (void) sink;
          printf (" %13.0f", (double) (n * reps) / median (t, runs) / 1e6);
        }
      printf ("\n");
    }
  g_free (buf);
  return 0;
}

/* ---- journal helpers ---------------------------------------------------- */

static ReferralScheme *
chain21 (void)
{
  GError *error = NULL;
  ReferralScheme *s = referral_scheme_new_builtin ("chain21", &error);
  if (s == NULL)
    die ("chain21", error);
  decimals = referral_scheme_decimals (s);
  return s;
}

static ReferralJournal *
open_journal (ReferralScheme *scheme, gboolean read_only)
{
  ReferralJournalOptions opt = REFERRAL_JOURNAL_OPTIONS_INIT;
  opt.sync = REFERRAL_SYNC_NONE;
  opt.read_only = read_only;
  GError *error = NULL;
  ReferralJournal *j = referral_journal_open (dir, scheme, &opt, &error);
  if (j == NULL)
    die ("open", error);
  return j;
}

/* Applies the events of the stream from line-counted event @from up to
 * @to (exclusive; -1: the end).  Returns: how many the stream holds. */
static guint64
apply_range (ReferralJournal *j, guint64 from, gint64 to)
{
  GError *error = NULL;
  ReferralJsonlReader *reader = referral_jsonl_reader_open (events_path, decimals, &error);
  if (reader == NULL)
    die (events_path, error);
  guint64 k = 0;
  for (;;)
    {
      ReferralEvent ev;
      int r = referral_jsonl_reader_next (reader, &ev, &error);
      if (r == 0)
        break;
      if (r < 0)
        die (events_path, error);
      if (to >= 0 && k >= (guint64) to)
        {
          k++;
          continue; /* only counting */
        }
      if (k++ < from)
        continue;
      ReferralApplyResult result;
      if (!referral_journal_apply (j, &ev, &result, &error))
        die ("apply", error);
    }
  referral_jsonl_reader_free (reader);
  return k;
}

static void
close_journal (ReferralJournal *j)
{
  GError *error = NULL;
  if (!referral_journal_close (j, &error))
    die ("close", error);
}

static void
remove_dir (void)
{
  if (keep)
    return;
  GDir *d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

static guint64
dir_bytes (const char *suffix, guint *count)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  guint64 total = 0;
  *count = 0;
  const char *name;
  while (d && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, suffix))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        GStatBuf st;
        if (g_stat (path, &st) == 0)
          {
            total += (guint64) st.st_size;
            (*count)++;
          }
      }
  if (d)
    g_dir_close (d);
  return total;
}

static void
need_fresh_dir (void)
{
  if (events_path == NULL || dir == NULL)
    {
      fprintf (stderr, "durability-cost: --events and --dir are required\n");
      exit (2);
    }
  if (g_file_test (dir, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "durability-cost: %s exists; give a new directory\n", dir);
      exit (2);
    }
}

/* ---- snapshot ----------------------------------------------------------- */

static gboolean
discard (const guint8 *data, gsize len, gpointer user_data)
{
  (void) data;
  (void) len;
  (void) user_data;
  return TRUE;
}

static int
cmd_snapshot (void)
{
  need_fresh_dir ();
  ReferralScheme *scheme = chain21 ();
  ReferralJournal *j = open_journal (scheme, FALSE);
  double t0 = now_s ();
  apply_range (j, 0, -1);
  double t_apply = now_s () - t0;
  ReferralEngine *e = referral_journal_engine (j);
  guint32 n_events = referral_engine_n_events (e);
  GError *error = NULL;
  if (!referral_journal_sync (j, &error))
    die ("sync", error);

  double t_snap[64], t_enc[64], t_dec[64];
  gsize size = 0;
  for (int r = 0; r < runs; r++)
    {
      double a = now_s ();
      if (!referral_journal_snapshot (j, &error))
        die ("snapshot", error);
      t_snap[r] = now_s () - a;

      a = now_s ();
      guint64 streamed = 0;
      referral_snapshot_write (e, discard, NULL, &streamed);
      t_enc[r] = now_s () - a;

      GByteArray *b = g_byte_array_new ();
      referral_snapshot_encode (e, b);
      size = b->len;
      if (streamed != size)
        die ("encode", NULL);

      ReferralEngine *copy = NULL;
      a = now_s ();
      if (referral_snapshot_decode (scheme, b->data, b->len, &copy, &error)
          != REFERRAL_SNAPSHOT_OK)
        die ("decode", error);
      t_dec[r] = now_s () - a;
      if (referral_engine_state_hash (copy) != referral_engine_state_hash (e))
        die ("decode", NULL);
      referral_engine_free (copy);
      g_byte_array_unref (b);
    }
  guint n_snaps;
  guint64 snap_bytes = dir_bytes (".snap", &n_snaps);
  guint n_segs;
  guint64 seg_bytes = dir_bytes (".log", &n_segs);
  printf ("events %u  members %u  apply through journal (sync none, incl. JSON) %.2f s\n",
          n_events, referral_tree_size (referral_engine_tree (e)), t_apply);
  printf ("snapshot file %" G_GSIZE_FORMAT " bytes (%.1f MB, %.1f bytes/event); journal %"
          G_GUINT64_FORMAT " bytes in %u segment(s); %u snapshot file(s), %" G_GUINT64_FORMAT
          " bytes\n",
          size, size / 1e6, (double) size / MAX (n_events, 1), seg_bytes, n_segs, n_snaps,
          snap_bytes);
  printf ("median of %d: referral_journal_snapshot %.3f s  encode (streamed, discarded) %.3f s  "
          "decode+check (from memory) %.3f s\n",
          runs, median (t_snap, runs), median (t_enc, runs), median (t_dec, runs));
  close_journal (j);
  referral_scheme_unref (scheme);
  remove_dir ();
  return 0;
}

/* ---- decode ------------------------------------------------------------- */

static char *snapshot_path;

static int
cmd_decode (void)
{
  if (snapshot_path == NULL)
    {
      fprintf (stderr, "durability-cost: --snapshot is required\n");
      exit (2);
    }
  ReferralScheme *scheme = chain21 ();
  gchar *data;
  gsize len;
  GError *error = NULL;
  if (!g_file_get_contents (snapshot_path, &data, &len, &error))
    die (snapshot_path, error);
  double t[64];
  guint32 n_events = 0;
  for (int r = 0; r < runs; r++)
    {
      ReferralEngine *e = NULL;
      double a = now_s ();
      if (referral_snapshot_decode (scheme, (const guint8 *) data, len, &e, &error)
          != REFERRAL_SNAPSHOT_OK)
        die ("decode", error);
      t[r] = now_s () - a;
      n_events = referral_engine_n_events (e);
      referral_engine_free (e);
    }
  printf ("%s: %" G_GSIZE_FORMAT " bytes, %u events; median of %d: decode+check %.3f s\n",
          snapshot_path, len, n_events, runs, median (t, runs));
  g_free (data);
  referral_scheme_unref (scheme);
  return 0;
}

/* ---- recover ------------------------------------------------------------ */

static int
cmd_recover (void)
{
  need_fresh_dir ();
  ReferralScheme *scheme = chain21 ();
  ReferralJournal *j = open_journal (scheme, FALSE);
  /* count first */
  GError *error = NULL;
  guint64 total = 0;
  {
    ReferralJsonlReader *reader = referral_jsonl_reader_open (events_path, decimals, &error);
    if (reader == NULL)
      die (events_path, error);
    ReferralEvent ev;
    int r;
    while ((r = referral_jsonl_reader_next (reader, &ev, &error)) > 0)
      total++;
    if (r < 0)
      die (events_path, error);
    referral_jsonl_reader_free (reader);
  }
  if ((guint64) tail > total)
    {
      fprintf (stderr, "durability-cost: --tail %" G_GINT64_FORMAT " > %" G_GUINT64_FORMAT
               " events\n", tail, total);
      exit (2);
    }
  guint64 cut = total - (guint64) tail;
  apply_range (j, 0, (gint64) cut);
  if (!referral_journal_snapshot (j, &error))
    die ("snapshot", error);
  guint32 at_snapshot = referral_engine_n_events (referral_journal_engine (j));
  apply_range (j, cut, -1);
  guint64 hash = referral_engine_state_hash (referral_journal_engine (j));
  guint32 n_events = referral_engine_n_events (referral_journal_engine (j));
  close_journal (j);

  guint n_segs, n_snaps;
  guint64 seg_bytes = dir_bytes (".log", &n_segs);
  guint64 snap_bytes = dir_bytes (".snap", &n_snaps);
  double t_open[64], t_ro[64];
  for (int r = 0; r < runs; r++)
    {
      double a = now_s ();
      j = open_journal (scheme, FALSE);
      t_open[r] = now_s () - a;
      if (referral_engine_state_hash (referral_journal_engine (j)) != hash)
        die ("recovered state differs", NULL);
      close_journal (j);
      a = now_s ();
      j = open_journal (scheme, TRUE);
      t_ro[r] = now_s () - a;
      if (referral_engine_state_hash (referral_journal_engine (j)) != hash)
        die ("read-only state differs", NULL);
      close_journal (j);
    }
  printf ("events %u, snapshot at %u (%" G_GUINT64_FORMAT " bytes), tail %u events in %"
          G_GUINT64_FORMAT " journal bytes (%u segment(s))\n",
          n_events, at_snapshot, snap_bytes, n_events - at_snapshot, seg_bytes, n_segs);
  printf ("median of %d: open (writer) %.3f s  open (read-only) %.3f s\n", runs,
          median (t_open, runs), median (t_ro, runs));
  referral_scheme_unref (scheme);
  remove_dir ();
  return 0;
}

int
main (int argc, char **argv)
{
  const GOptionEntry entries[] = {
    { "runs", 'r', 0, G_OPTION_ARG_INT, &runs, "Runs, median reported (default 5, at most 64)", "K" },
    { "events", 'e', 0, G_OPTION_ARG_FILENAME, &events_path, "chain21 JSON Lines stream", "FILE" },
    { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir, "Journal directory (must not exist)", "DIR" },
    { "tail", 't', 0, G_OPTION_ARG_INT64, &tail, "recover: events after the snapshot", "T" },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "Keep DIR", NULL },
    { "snapshot", 0, 0, G_OPTION_ARG_FILENAME, &snapshot_path, "decode: the snapshot file", "FILE" },
    G_OPTION_ENTRY_NULL
  };
  GOptionContext *ctx = g_option_context_new ("crc|snapshot|decode|recover - journal costs");
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2 || runs < 1 || runs > 64
      || tail < 0)
    {
      fprintf (stderr, "durability-cost: %s\n",
               error ? error->message : "usage: durability-cost [OPTION...] crc|snapshot|decode|recover");
      return 2;
    }
  g_option_context_free (ctx);
  int status;
  if (strcmp (argv[1], "crc") == 0)
    status = cmd_crc ();
  else if (strcmp (argv[1], "snapshot") == 0)
    status = cmd_snapshot ();
  else if (strcmp (argv[1], "recover") == 0)
    status = cmd_recover ();
  else if (strcmp (argv[1], "decode") == 0)
    status = cmd_decode ();
  else
    {
      fprintf (stderr, "durability-cost: unknown command %s\n", argv[1]);
      status = 2;
    }
  g_free (events_path);
  g_free (dir);
  g_free (snapshot_path);
  return status;
}
