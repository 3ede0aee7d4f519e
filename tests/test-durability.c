/* Durability: snapshots, the journal, recovery, replay to a point, damaged
 * files and injected I/O errors (issue 6).  The crash test is in
 * test-crash.c. */
#include "durability-common.h"
#include "durability-private.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>

static ReferralScheme *scheme;

static void
setup (void)
{
  scheme = dur_scheme ();
}

static void
teardown (void)
{
  g_clear_pointer (&scheme, referral_scheme_unref);
}

static ReferralJournal *
open_journal (const char *dir, const ReferralJournalOptions *opt)
{
  GError *error = NULL;
  ReferralJournal *j = referral_journal_open (dir, scheme, opt, &error);
  assert_no_error (error);
  ck_assert_ptr_nonnull (j);
  return j;
}

static guint64
jhash (ReferralJournal *j)
{
  return referral_engine_state_hash (referral_journal_engine (j));
}

static guint32
jcount (ReferralJournal *j)
{
  return referral_engine_n_events (referral_journal_engine (j));
}

static guint64
ref_hash (const DurStream *s, guint32 k)
{
  ck_assert_uint_le (k, s->n_applied);
  return g_array_index (s->hashes, guint64, k);
}

static void
close_journal (ReferralJournal *j)
{
  GError *error = NULL;
  ck_assert (referral_journal_close (j, &error));
  assert_no_error (error);
}

static void
apply_all (ReferralJournal *j, const DurStream *s, guint from, guint to)
{
  GError *error = NULL;
  ck_assert (dur_apply_range (j, s, from, to, NULL, &error));
  assert_no_error (error);
}

static GBytes *
read_bytes (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *data;
  gsize len;
  ck_assert_msg (g_file_get_contents (path, &data, &len, NULL), "cannot read %s", path);
  return g_bytes_new_take (data, len);
}

static void
write_bytes (const char *dir, const char *name, const void *data, gsize len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  ck_assert (g_file_set_contents (path, data, (gssize) len, NULL));
}

/* ---- checksum and records ---------------------------------------------- */

START_TEST (test_crc32c)
{
  ck_assert_uint_eq (referral_crc32c (0, "123456789", 9), 0xE3069283u);
  ck_assert_uint_eq (referral_crc32c (0, "", 0), 0);
  /* continuing a checksum equals one pass */
  ck_assert_uint_eq (referral_crc32c (referral_crc32c (0, "1234", 4), "56789", 5), 0xE3069283u);
  guint8 zeros[32] = { 0 };
  ck_assert_uint_eq (referral_crc32c (0, zeros, 32), 0x8A9136AAu);
}
END_TEST

/* CRC-32C by its definition, one bit at a time: the reference every
 * implementation is checked against. */
static guint32
crc32c_bitwise (guint32 crc, const guint8 *p, gsize len)
{
  crc = ~crc;
  for (gsize i = 0; i < len; i++)
    {
      crc ^= p[i];
      for (int k = 0; k < 8; k++)
        crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
  return ~crc;
}

/* Each implementation, forced through referral_crc32c_with(): the check
 * value, then random buffers of every length 0..300 at every alignment
 * 0..15, whole and continued across a split (the two halves through
 * different implementations), against the bitwise reference. */
START_TEST (test_crc32c_impls)
{
  ReferralCrc32cImpl impls[REFERRAL_CRC32C_N_IMPLS];
  guint n_impls = 0;
  for (int i = 0; i < REFERRAL_CRC32C_N_IMPLS; i++)
    if (referral_crc32c_available ((ReferralCrc32cImpl) i))
      impls[n_impls++] = (ReferralCrc32cImpl) i;
  /* auto, bytewise and slice-by-8 always; SSE4.2 whenever the CPU has it. */
  ck_assert_uint_ge (n_impls, 3);
  ck_assert (referral_crc32c_available (REFERRAL_CRC32C_SLICE8));
  ck_assert (referral_crc32c_available (REFERRAL_CRC32C_BYTEWISE));
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init ();
  gboolean hw = __builtin_cpu_supports ("sse4.2") != 0;
  ck_assert_int_eq (referral_crc32c_available (REFERRAL_CRC32C_SSE42), hw);
  ck_assert_int_eq (referral_crc32c_chosen (),
                    hw ? REFERRAL_CRC32C_SSE42 : REFERRAL_CRC32C_SLICE8);
  if (hw)
    ck_assert_uint_eq (n_impls, 4);
#endif

  for (guint i = 0; i < n_impls; i++)
    {
      ck_assert_msg (referral_crc32c_with (impls[i], 0, "123456789", 9) == 0xE3069283u, "%s",
                     referral_crc32c_name (impls[i]));
      ck_assert_uint_eq (referral_crc32c_with (impls[i], 0, "", 0), 0);
    }

  enum { MAX_LEN = 300, MAX_ALIGN = 16 };
  /* 64-byte aligned base, so that offset k is alignment k. */
  guint8 *block = g_malloc (MAX_LEN + MAX_ALIGN + 64);
  guint8 *base = (guint8 *) (((guintptr) block + 63) & ~(guintptr) 63);
  GRand *rand = g_rand_new_with_seed (0xC32C);
  guint64 checked = 0;
  for (guint len = 0; len <= MAX_LEN; len++)
    for (guint align = 0; align < MAX_ALIGN; align++)
      {
        guint8 *p = base + align;
        for (guint b = 0; b < len; b++)
          p[b] = (guint8) g_rand_int (rand);
        guint32 seed = (len + align) % 3 == 0 ? 0 : g_rand_int (rand);
        guint32 want = crc32c_bitwise (seed, p, len);
        guint split = len ? g_rand_int_range (rand, 0, (gint32) len + 1) : 0;
        for (guint i = 0; i < n_impls; i++)
          {
            guint32 got = referral_crc32c_with (impls[i], seed, p, len);
            ck_assert_msg (got == want, "%s: length %u alignment %u: %08x, want %08x",
                           referral_crc32c_name (impls[i]), len, align, got, want);
            ReferralCrc32cImpl other = impls[(i + 1) % n_impls];
            guint32 part = referral_crc32c_with (impls[i], seed, p, split);
            got = referral_crc32c_with (other, part, p + split, len - split);
            ck_assert_msg (got == want, "%s then %s: length %u alignment %u split %u",
                           referral_crc32c_name (impls[i]), referral_crc32c_name (other), len,
                           align, split);
            checked++;
          }
        ck_assert_uint_eq (referral_crc32c (seed, p, len), want);
      }
  ck_assert_uint_eq (checked, (guint64) (MAX_LEN + 1) * MAX_ALIGN * n_impls);

  /* A large buffer with an odd length and offset. */
  gsize big = (1u << 20) + 13;
  guint8 *buf = g_malloc (big + 1);
  for (gsize b = 0; b < big + 1; b++)
    buf[b] = (guint8) g_rand_int (rand);
  guint32 want = crc32c_bitwise (0, buf + 1, big);
  for (guint i = 0; i < n_impls; i++)
    ck_assert_msg (referral_crc32c_with (impls[i], 0, buf + 1, big) == want, "%s, 1 MiB",
                   referral_crc32c_name (impls[i]));
  g_free (buf);
  g_rand_free (rand);
  g_free (block);
}
END_TEST

/* ---- snapshots ---------------------------------------------------------- */

/* For every cut point k of a stream: the snapshot of the fold of the first
 * events decodes to an engine with the same hash and the same snapshot
 * bytes, and that engine, fed the rest of the stream, ends where the full
 * fold ends. */
START_TEST (test_snapshot_every_cut)
{
  DurStream *s = dur_stream_new (scheme, 11, 160);
  GError *error = NULL;
  g_autoptr (ReferralEngine) a = referral_engine_new (scheme, &error);
  guint cuts = 0;
  for (guint i = 0; i <= s->events->len; i++)
    {
      g_autoptr (GByteArray) snap = g_byte_array_new ();
      referral_snapshot_encode (a, snap);
      ReferralEngine *b = NULL;
      ck_assert_int_eq (referral_snapshot_decode (scheme, snap->data, snap->len, &b, &error),
                        REFERRAL_SNAPSHOT_OK);
      assert_no_error (error);
      ck_assert_uint_eq (referral_engine_state_hash (b), referral_engine_state_hash (a));
      ck_assert_uint_eq (referral_engine_state_hash (b), ref_hash (s, referral_engine_n_events (a)));
      g_autoptr (GByteArray) again = g_byte_array_new ();
      referral_snapshot_encode (b, again);
      ck_assert (again->len == snap->len && memcmp (again->data, snap->data, snap->len) == 0);
      for (guint k = i; k < s->events->len; k++)
        {
          referral_engine_apply (b, &g_array_index (s->events, ReferralEvent, k), NULL, &error);
          g_clear_error (&error);
        }
      tu_check (referral_engine_state_hash (b) == ref_hash (s, s->n_applied),
                "cut at event %u: the rest of the stream ends elsewhere", i);
      referral_engine_free (b);
      cuts++;
      if (i < s->events->len)
        {
          referral_engine_apply (a, &g_array_index (s->events, ReferralEvent, i), NULL, &error);
          g_clear_error (&error);
        }
    }
  ck_assert_uint_eq (cuts, 161);
  ck_assert_uint_gt (s->n_applied, 100);
  dur_stream_free (s);
}
END_TEST

/* A sink that keeps the pieces it gets, and fails at piece `fail_at`
 * (1-based; 0: never). */
typedef struct {
  GByteArray *bytes;
  guint pieces;
  guint fail_at;
  guint calls_after_failure;
  gboolean failed;
} PieceSink;

static gboolean
piece_sink (const guint8 *data, gsize len, gpointer user_data)
{
  PieceSink *ps = user_data;
  if (ps->failed)
    {
      ps->calls_after_failure++;
      return FALSE;
    }
  ck_assert_uint_gt (len, 0);
  ck_assert_uint_le (len, 1u << 20);
  ps->pieces++;
  if (ps->pieces == ps->fail_at)
    {
      ps->failed = TRUE;
      errno = ENOSPC;
      return FALSE;
    }
  g_byte_array_append (ps->bytes, data, (guint) len);
  return TRUE;
}

/* An engine whose snapshot spans several 1 MiB pieces: @n joins with long
 * member keys and an order each. */
#define LONG_KEY "member-with-a-long-key-" \
  "...................................................................." \
  "...................................................................." \
  "...................................................................." "-"
#define BIG_N 12000
static ReferralEngine *
big_engine (guint n)
{
  GError *error = NULL;
  ReferralEngine *e = referral_engine_new (scheme, &error);
  assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      char id[32], member[256], sponsor[256], order[32];
      g_snprintf (id, sizeof id, "j%u", i);
      g_snprintf (member, sizeof member, LONG_KEY "%u", i);
      g_snprintf (sponsor, sizeof sponsor, LONG_KEY "%u", i / 3);
      ReferralEvent ev = REFERRAL_EVENT_INIT;
      ev.type = REFERRAL_EVENT_JOIN;
      ev.id = id;
      ev.member = member;
      ev.sponsor = i > 0 ? sponsor : NULL;
      ck_assert (referral_engine_apply (e, &ev, NULL, &error));
      g_snprintf (id, sizeof id, "o%u", i);
      g_snprintf (order, sizeof order, "order-%u", i);
      ReferralEvent o = REFERRAL_EVENT_INIT;
      o.type = REFERRAL_EVENT_ORDER;
      o.id = id;
      o.member = member;
      o.order = order;
      o.amount = 1000 + i % 7;
      ck_assert (referral_engine_apply (e, &o, NULL, &error));
    }
  return e;
}

/* The streaming encoder gives referral_snapshot_encode()'s bytes in pieces
 * of at most 1 MiB, stops calling a sink that failed, and
 * referral_journal_snapshot() writes exactly those bytes. */
START_TEST (test_snapshot_streaming)
{
  g_autoptr (ReferralEngine) e = big_engine (BIG_N);
  g_autoptr (GByteArray) whole = g_byte_array_new ();
  referral_snapshot_encode (e, whole);
  ck_assert_uint_gt (whole->len, 3u << 20);

  PieceSink ps = { g_byte_array_new (), 0, 0, 0, FALSE };
  guint64 size = 0;
  ck_assert (referral_snapshot_write (e, piece_sink, &ps, &size));
  ck_assert_uint_eq (size, whole->len);
  ck_assert_uint_ge (ps.pieces, 4);
  ck_assert (ps.bytes->len == whole->len && memcmp (ps.bytes->data, whole->data, whole->len) == 0);
  guint pieces = ps.pieces;
  g_byte_array_unref (ps.bytes);

  for (guint k = 1; k <= pieces; k++)
    {
      PieceSink f = { g_byte_array_new (), 0, k, 0, FALSE };
      ck_assert (!referral_snapshot_write (e, piece_sink, &f, NULL));
      ck_assert_uint_eq (f.pieces, k);
      ck_assert_uint_eq (f.calls_after_failure, 0);
      g_byte_array_unref (f.bytes);
    }

  /* Through a journal: the file is the encoding; a write failing at any
   * piece leaves no file, the journal usable, and the next snapshot whole. */
  GError *error = NULL;
  g_autofree char *dir = dur_tmpdir ();
  ReferralJournalOptions opt = REFERRAL_JOURNAL_OPTIONS_INIT;
  opt.sync = REFERRAL_SYNC_NONE;
  ReferralJournal *j = open_journal (dir, &opt);
  ReferralEngine *je = referral_journal_engine (j);
  for (guint i = 0; i < 2 * BIG_N; i++)
    {
      /* the same events as big_engine(), through the journal */
      char id[32], member[256], sponsor[256], order[32];
      guint m = i / 2;
      g_snprintf (member, sizeof member, LONG_KEY "%u", m);
      ReferralEvent ev = REFERRAL_EVENT_INIT;
      ev.id = id;
      ev.member = member;
      if (i % 2 == 0)
        {
          g_snprintf (id, sizeof id, "j%u", m);
          g_snprintf (sponsor, sizeof sponsor, LONG_KEY "%u", m / 3);
          ev.type = REFERRAL_EVENT_JOIN;
          ev.sponsor = m > 0 ? sponsor : NULL;
        }
      else
        {
          g_snprintf (id, sizeof id, "o%u", m);
          g_snprintf (order, sizeof order, "order-%u", m);
          ev.type = REFERRAL_EVENT_ORDER;
          ev.order = order;
          ev.amount = 1000 + m % 7;
        }
      ck_assert (referral_journal_apply (j, &ev, NULL, &error));
    }
  ck_assert_uint_eq (referral_engine_state_hash (je), referral_engine_state_hash (e));
  ck_assert (referral_journal_sync (j, &error));
  for (guint k = 1; k <= pieces; k++)
    {
      referral_journal_set_fault (REFERRAL_FAULT_WRITE, k, ENOSPC);
      ck_assert (!referral_journal_snapshot (j, &error));
      referral_journal_set_fault (0, 0, 0);
      ck_assert (g_error_matches (error, REFERRAL_ERROR, REFERRAL_ERROR_IO));
      g_clear_error (&error);
      g_autofree char *name = g_strdup_printf ("snapshot-%010u.snap", 2u * BIG_N);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);
      ck_assert (!g_file_test (path, G_FILE_TEST_EXISTS));
      ck_assert (!g_file_test (tmp, G_FILE_TEST_EXISTS));
    }
  ck_assert (referral_journal_snapshot (j, &error));
  assert_no_error (error);
  g_autofree char *snap_file = g_strdup_printf ("snapshot-%010u.snap", 2u * BIG_N);
  GBytes *file = read_bytes (dir, snap_file);
  gsize flen;
  const guint8 *fdata = g_bytes_get_data (file, &flen);
  ck_assert (flen == whole->len && memcmp (fdata, whole->data, flen) == 0);
  g_bytes_unref (file);
  close_journal (j);
  /* recovery from that snapshot (mapped) gives the same state */
  j = open_journal (dir, &opt);
  ck_assert_uint_eq (jhash (j), referral_engine_state_hash (e));
  ck_assert_uint_eq (jcount (j), 2 * BIG_N);
  close_journal (j);
  dur_rmdir (dir);
}
END_TEST

START_TEST (test_snapshot_damage)
{
  DurStream *s = dur_stream_new (scheme, 12, 60);
  GError *error = NULL;
  g_autoptr (ReferralEngine) a = referral_engine_new (scheme, &error);
  for (guint i = 0; i < s->events->len; i++)
    {
      referral_engine_apply (a, &g_array_index (s->events, ReferralEvent, i), NULL, &error);
      g_clear_error (&error);
    }
  g_autoptr (GByteArray) snap = g_byte_array_new ();
  referral_snapshot_encode (a, snap);
  /* Every truncation and every flipped byte is detected. */
  for (guint len = 0; len < snap->len; len += 7)
    {
      ReferralEngine *b = NULL;
      ck_assert_int_eq (referral_snapshot_decode (scheme, snap->data, len, &b, &error),
                        REFERRAL_SNAPSHOT_CORRUPT);
      ck_assert_ptr_null (b);
      g_clear_error (&error);
    }
  for (guint i = 0; i < snap->len; i += 5)
    {
      snap->data[i] ^= 0x10;
      ReferralEngine *b = NULL;
      ck_assert_int_eq (referral_snapshot_decode (scheme, snap->data, snap->len, &b, &error),
                        REFERRAL_SNAPSHOT_CORRUPT);
      assert_error_has (error, REFERRAL_ERROR_JOURNAL, "snapshot is damaged");
      g_clear_error (&error);
      snap->data[i] ^= 0x10;
    }
  /* Intact, but another scheme's. */
  g_autoptr (ReferralScheme) demo = referral_scheme_new_builtin ("demo", &error);
  ReferralEngine *b = NULL;
  ck_assert_int_eq (referral_snapshot_decode (demo, snap->data, snap->len, &b, &error),
                    REFERRAL_SNAPSHOT_FOREIGN);
  assert_error_has (error, REFERRAL_ERROR_JOURNAL, "another scheme", "demo");
  g_clear_error (&error);
  dur_stream_free (s);
}
END_TEST

/* ---- the journal -------------------------------------------------------- */

static const ReferralSyncPolicy policies[] = { REFERRAL_SYNC_EVERY, REFERRAL_SYNC_GROUP,
                                               REFERRAL_SYNC_NONE };

/* Each policy: a stream applied through the journal gives the reference
 * state; closing and reopening recovers it; applying the whole stream again
 * changes nothing (every event is a duplicate). */
START_TEST (test_policies_roundtrip)
{
  DurStream *s = dur_stream_new (scheme, 21, 300);
  for (guint p = 0; p < G_N_ELEMENTS (policies); p++)
    for (guint snap_every = 0; snap_every <= 40; snap_every += 40)
      {
        g_autofree char *dir = dur_tmpdir ();
        ReferralJournalOptions opt = REFERRAL_JOURNAL_OPTIONS_INIT;
        opt.sync = policies[p];
        opt.group_events = 5;
        opt.snapshot_every = snap_every;
        ReferralJournal *j = open_journal (dir, &opt);
        apply_all (j, s, 0, 150);
        if (policies[p] == REFERRAL_SYNC_EVERY)
          ck_assert_uint_eq (referral_journal_durable_events (j), jcount (j));
        if (policies[p] == REFERRAL_SYNC_GROUP)
          ck_assert_uint_ge (referral_journal_durable_events (j) + 5, jcount (j));
        ck_assert_uint_eq (jhash (j), ref_hash (s, jcount (j)));
        ck_assert_ptr_null (referral_journal_last_snapshot_error (j));
        close_journal (j);

        j = open_journal (dir, &opt);
        ck_assert_uint_eq (jhash (j), ref_hash (s, jcount (j)));
        /* an event applied before the reopening is a duplicate now */
        ReferralApplyResult res;
        GError *error = NULL;
        ck_assert (referral_journal_apply (j, &g_array_index (s->events, ReferralEvent, 0),
                                           &res, &error));
        ck_assert_int_eq (res.status, REFERRAL_DUPLICATE);
        apply_all (j, s, 150, s->events->len);
        ck_assert_uint_eq (jcount (j), s->n_applied);
        ck_assert_uint_eq (jhash (j), ref_hash (s, s->n_applied));
        close_journal (j);

        j = open_journal (dir, &opt);
        ck_assert_uint_eq (jhash (j), ref_hash (s, s->n_applied));
        ck_assert_uint_eq (referral_journal_durable_events (j), s->n_applied);
        close_journal (j);
        dur_rmdir (dir);
      }
  dur_stream_free (s);
}
END_TEST

/* On a real disk (fsync costs there): a short stream under each policy. */
START_TEST (test_disk)
{
  DurStream *s = dur_stream_new (scheme, 22, 40);
  for (guint p = 0; p < G_N_ELEMENTS (policies); p++)
    {
      g_autofree char *dir = dur_disk_tmpdir ();
      ReferralJournalOptions opt = REFERRAL_JOURNAL_OPTIONS_INIT;
      opt.sync = policies[p];
      opt.snapshot_every = 15;
      ReferralJournal *j = open_journal (dir, &opt);
      apply_all (j, s, 0, s->events->len);
      close_journal (j);
      j = open_journal (dir, &opt);
      ck_assert_uint_eq (jhash (j), ref_hash (s, s->n_applied));
      close_journal (j);
      dur_rmdir (dir);
    }
  dur_stream_free (s);
}
END_TEST

/* Snapshots every few events, then a read-only open at every K gives the
 * state after K events; K beyond the end is refused. */
START_TEST (test_replay_to_point)
{
  DurStream *s = dur_stream_new (scheme, 31, 120);
  g_autofree char *dir = dur_tmpdir ();
  ReferralJournalOptions opt = REFERRAL_JOURNAL_OPTIONS_INIT;
  opt.sync = REFERRAL_SYNC_GROUP;
  opt.snapshot_every = 7;
  ReferralJournal *j = open_journal (dir, &opt);
  apply_all (j, s, 0, s->events->len);
  close_journal (j);

  /* Pruning kept only what the two newest snapshots need, so the early
   * points are gone; the later ones are all there. */
  ReferralJournalOptions ro = REFERRAL_JOURNAL_OPTIONS_INIT;
  ro.read_only = TRUE;
  guint reachable = 0;
  for (guint32 k = 0; k <= s->n_applied; k++)
    {
      ro.until = k;
      GError *error = NULL;
      ReferralJournal *r = referral_journal_open (dir, scheme, &ro, &error);
      if (r == NULL)
        {
          assert_error_has (error, REFERRAL_ERROR_JOURNAL, "journal starts at event");
          g_clear_error (&error);
          ck_assert_uint_eq (reachable, 0); /* unreachable points come first */
          continue;
        }
      reachable++;
      ck_assert_uint_eq (jcount (r), k);
      ck_assert_uint_eq (jhash (r), ref_hash (s, k));
      GError *apply_error = NULL;
      ck_assert (!referral_journal_apply (r, &g_array_index (s->events, ReferralEvent, 0), NULL,
                                          &apply_error));
      assert_error_has (apply_error, REFERRAL_ERROR_JOURNAL, "read-only");
      g_clear_error (&apply_error);
      close_journal (r);
    }
  ck_assert_uint_ge (reachable, 8); /* from the older kept snapshot on */
  ro.until = s->n_applied + 1;
  GError *error = NULL;
  ck_assert_ptr_null (referral_journal_open (dir, scheme, &ro, &error));
  assert_error_has (error, REFERRAL_ERROR_JOURNAL, "fewer than");
  g_clear_error (&error);
  dur_rmdir (dir);

  /* Without snapshots, every point from 0 is reachable. */
  dir = (g_free (dir), dur_tmpdir ());
  j = open_journal (dir, NULL);
  apply_all (j, s, 0, s->events->len);
  close_journal (j);
  for (guint32 k = 0; k <= s->n_applied; k += 3)
    {
      ro.until = k;
      ReferralJournal *r = open_journal (dir, &ro);
      ck_assert_uint_eq (jhash (r), ref_hash (s, k));
      close_journal (r);
    }
  dur_rmdir (dir);
  dur_stream_free (s);
}
END_TEST

/* Journal of a short stream without snapshots; returns its one segment. */
static GBytes *
one_segment (const char *dir, const DurStream *s)
{
  ReferralJournal *j = open_journal (dir, NULL);
  apply_all (j, s, 0, s->events->len);
  close_journal (j);
  return read_bytes (dir, "journal-0000000000.log");
}

/* Record boundaries of a segment: offsets where each record ends. */
static GArray *
record_ends (GBytes *seg)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (seg, &len);
  GArray *ends = g_array_new (FALSE, FALSE, sizeof (gsize));
  gsize pos = 32;
  while (pos < len)
    {
      guint32 plen = (guint32) d[pos] | ((guint32) d[pos + 1] << 8) | ((guint32) d[pos + 2] << 16)
                     | ((guint32) d[pos + 3] << 24);
      pos += 8 + plen;
      g_array_append_val (ends, pos);
    }
  ck_assert_uint_eq (pos, len);
  return ends;
}

/* Every truncation of the journal (a torn last write) recovers the events
 * whose records are whole, cuts the rest for good, and the stream can go
 * on from there. */
START_TEST (test_torn_tail)
{
  DurStream *s = dur_stream_new (scheme, 41, 30);
  g_autofree char *dir = dur_tmpdir ();
  g_autoptr (GBytes) seg = one_segment (dir, s);
  dur_rmdir (dir);
  g_autoptr (GArray) ends = record_ends (seg);
  ck_assert_uint_eq (ends->len, s->n_applied);
  gsize len;
  const guint8 *d = g_bytes_get_data (seg, &len);
  for (gsize cut = 32; cut <= len; cut++)
    {
      guint32 whole = 0;
      while (whole < ends->len && g_array_index (ends, gsize, whole) <= cut)
        whole++;
      g_autofree char *tdir = dur_tmpdir ();
      write_bytes (tdir, "journal-0000000000.log", d, cut);
      ReferralJournal *j = open_journal (tdir, NULL);
      tu_check (jcount (j) == whole, "cut at %zu: %u events, want %u", cut, jcount (j), whole);
      tu_check (jhash (j) == ref_hash (s, whole), "cut at %zu: wrong state", cut);
      apply_all (j, s, 0, s->events->len);
      tu_check (jhash (j) == ref_hash (s, s->n_applied), "cut at %zu: wrong end", cut);
      close_journal (j);
      g_autoptr (GBytes) again = read_bytes (tdir, "journal-0000000000.log");
      tu_check (g_bytes_equal (again, seg), "cut at %zu: journal differs after resuming", cut);
      dur_rmdir (tdir);
    }
  dur_stream_free (s);
}
END_TEST

/* A flipped bit in the last record cuts that record; in an earlier record
 * (an acknowledged event followed by others) it is refused; in the header
 * too. */
START_TEST (test_bit_flips)
{
  DurStream *s = dur_stream_new (scheme, 42, 20);
  g_autofree char *dir = dur_tmpdir ();
  g_autoptr (GBytes) seg = one_segment (dir, s);
  dur_rmdir (dir);
  g_autoptr (GArray) ends = record_ends (seg);
  gsize len;
  const guint8 *orig = g_bytes_get_data (seg, &len);
  g_autofree guint8 *d = g_memdup2 (orig, len);
  gsize last_start = g_array_index (ends, gsize, ends->len - 2);
  gsize mid_start = g_array_index (ends, gsize, 4), mid_end = g_array_index (ends, gsize, 5);
  for (gsize i = 0; i < len; i++)
    {
      gboolean in_last = i >= last_start, in_mid = i >= mid_start && i < mid_end;
      if (!in_last && !in_mid && i >= 32)
        continue;
      for (int bit = 0; bit < 8; bit += 3)
        {
          d[i] ^= (guint8) (1u << bit);
          g_autofree char *tdir = dur_tmpdir ();
          write_bytes (tdir, "journal-0000000000.log", d, len);
          GError *error = NULL;
          ReferralJournal *j = referral_journal_open (tdir, scheme, NULL, &error);
          if (in_last)
            {
              assert_no_error (error);
              tu_check (jcount (j) == s->n_applied - 1, "flip at %zu: %u events", i, jcount (j));
              tu_check (jhash (j) == ref_hash (s, s->n_applied - 1), "flip at %zu", i);
              close_journal (j);
            }
          else
            {
              tu_check (j == NULL, "flip at %zu was not detected", i);
              assert_error_has (error, REFERRAL_ERROR_JOURNAL, "journal-0000000000.log");
              g_clear_error (&error);
            }
          dur_rmdir (tdir);
          d[i] ^= (guint8) (1u << bit);
        }
    }
  dur_stream_free (s);
}
END_TEST

/* Read-only opens read segments through a window (4 MiB by default).
 * With windows of 1 byte to more than the file, every prefix of the file
 * (every torn tail), every point K and flipped bytes give what the default
 * window gives: the same events, hash and error message. */
static char *
ro_open (const char *dir, guint32 until, guint32 *count, guint64 *hash)
{
  ReferralJournalOptions ro = REFERRAL_JOURNAL_OPTIONS_INIT;
  ro.read_only = TRUE;
  ro.until = until;
  GError *error = NULL;
  ReferralJournal *r = referral_journal_open (dir, scheme, &ro, &error);
  if (r == NULL)
    {
      char *msg = g_strdup (error->message);
      g_error_free (error);
      return msg;
    }
  *count = jcount (r);
  *hash = jhash (r);
  close_journal (r);
  return NULL;
}

START_TEST (test_read_window)
{
  DurStream *s = dur_stream_new (scheme, 61, 40);
  g_autofree char *dir = dur_tmpdir ();
  g_autoptr (GBytes) seg = one_segment (dir, s);
  dur_rmdir (dir);
  g_autoptr (GArray) ends = record_ends (seg);
  gsize len;
  const guint8 *orig = g_bytes_get_data (seg, &len);
  ck_assert_uint_gt (len, 1000);
  static const gsize windows[] = { 1, 5, 37, 200, 1000, 1u << 20 };

  /* every prefix of the file, as a torn tail */
  for (gsize cut = 32; cut <= len; cut += (cut < 100 || len - cut < 100) ? 1 : 13)
    {
      g_autofree char *tdir = dur_tmpdir ();
      write_bytes (tdir, "journal-0000000000.log", orig, cut);
      guint32 whole = 0;
      while (whole < ends->len && g_array_index (ends, gsize, whole) <= cut)
        whole++;
      for (guint w = 0; w < G_N_ELEMENTS (windows); w++)
        {
          referral_journal_set_read_window (windows[w]);
          guint32 count = 0;
          guint64 hash = 0;
          g_autofree char *msg = ro_open (tdir, REFERRAL_JOURNAL_ALL, &count, &hash);
          tu_check (msg == NULL, "cut %zu, window %zu: %s", cut, windows[w], msg);
          tu_check (count == whole && hash == ref_hash (s, whole),
                    "cut %zu, window %zu: %u events, want %u", cut, windows[w], count, whole);
        }
      referral_journal_set_read_window (0);
      dur_rmdir (tdir);
    }

  /* every point K, through each window */
  g_autofree char *tdir = dur_tmpdir ();
  write_bytes (tdir, "journal-0000000000.log", orig, len);
  for (guint w = 0; w < G_N_ELEMENTS (windows); w++)
    {
      referral_journal_set_read_window (windows[w]);
      for (guint32 k = 0; k <= s->n_applied; k++)
        {
          guint32 count = 0;
          guint64 hash = 0;
          g_autofree char *msg = ro_open (tdir, k, &count, &hash);
          tu_check (msg == NULL && count == k && hash == ref_hash (s, k),
                    "until %u, window %zu", k, windows[w]);
        }
    }
  referral_journal_set_read_window (0);
  dur_rmdir (tdir);

  /* flipped bytes in the middle and in the last record: the default
   * window's outcome, message included */
  g_autofree guint8 *d = g_memdup2 (orig, len);
  gsize mid = g_array_index (ends, gsize, 10) - 20, last = len - 5;
  gsize flips[] = { mid, mid + 11, last };
  for (guint f = 0; f < G_N_ELEMENTS (flips); f++)
    {
      d[flips[f]] ^= 0x10;
      g_autofree char *fdir = dur_tmpdir ();
      write_bytes (fdir, "journal-0000000000.log", d, len);
      referral_journal_set_read_window (0);
      guint32 want_count = 0;
      guint64 want_hash = 0;
      g_autofree char *want = ro_open (fdir, REFERRAL_JOURNAL_ALL, &want_count, &want_hash);
      ck_assert ((want == NULL) == (flips[f] == last));
      if (want != NULL)
        assert_contains (want, "damaged record at offset");
      for (guint w = 0; w < G_N_ELEMENTS (windows); w++)
        {
          referral_journal_set_read_window (windows[w]);
          guint32 count = 0;
          guint64 hash = 0;
          g_autofree char *msg = ro_open (fdir, REFERRAL_JOURNAL_ALL, &count, &hash);
          if (want != NULL)
            tu_check (msg != NULL && strcmp (msg, want) == 0, "flip at %zu, window %zu: %s",
                      flips[f], windows[w], msg ? msg : "opened");
          else
            tu_check (msg == NULL && count == want_count && hash == want_hash,
                      "flip at %zu, window %zu", flips[f], windows[w]);
        }
      referral_journal_set_read_window (0);
      dur_rmdir (fdir);
      d[flips[f]] ^= 0x10;
    }
  dur_stream_free (s);
}
END_TEST

/* A newest snapshot with a bad checksum: recovery falls back to the older
 * one and a longer replay.  Both bad: refused (the early journal is pruned). */
START_TEST (test_bad_snapshot_fallback)
{
  DurStream *s = dur_stream_new (scheme, 51, 80);
  g_autofree char *dir = dur_tmpdir ();
  ReferralJournalOptions opt = REFERRAL_JOURNAL_OPTIONS_INIT;
  opt.snapshot_every = 20;
  ReferralJournal *j = open_journal (dir, &opt);
  apply_all (j, s, 0, s->events->len);
  close_journal (j);
  ck_assert_uint_ge (s->n_applied, 60);

  g_autofree char *newest = g_strdup_printf ("snapshot-%010u.snap", 60);
  g_autofree char *older = g_strdup_printf ("snapshot-%010u.snap", 40);
  g_autofree char *oldest = g_strdup_printf ("snapshot-%010u.snap", 20);
  g_autofree char *p_old = g_build_filename (dir, oldest, NULL);
  ck_assert_msg (!g_file_test (p_old, G_FILE_TEST_EXISTS), "snapshot 20 was not pruned");
  g_autofree char *p_seg0 = g_build_filename (dir, "journal-0000000000.log", NULL);
  ck_assert_msg (!g_file_test (p_seg0, G_FILE_TEST_EXISTS), "segment 0 was not pruned");

  for (int damaged = 1; damaged <= 2; damaged++)
    {
      const char *name = damaged == 1 ? newest : older;
      g_autoptr (GBytes) b = read_bytes (dir, name);
      gsize len;
      const void *orig = g_bytes_get_data (b, &len);
      g_autofree guint8 *d = g_memdup2 (orig, len);
      d[len / 2] ^= 0x01;
      write_bytes (dir, name, d, len);
      GError *error = NULL;
      j = referral_journal_open (dir, scheme, NULL, &error);
      if (damaged == 1)
        {
          assert_no_error (error);
          ck_assert_uint_eq (jhash (j), ref_hash (s, s->n_applied));
          close_journal (j);
        }
      else
        {
          ck_assert_ptr_null (j);
          assert_error_has (error, REFERRAL_ERROR_JOURNAL, "no usable snapshot",
                            "checksum mismatch", "journal starts at event 40");
          g_clear_error (&error);
        }
    }
  dur_rmdir (dir);
  dur_stream_free (s);
}
END_TEST

START_TEST (test_foreign_scheme_and_lock)
{
  DurStream *s = dur_stream_new (scheme, 61, 10);
  g_autofree char *dir = dur_tmpdir ();
  ReferralJournal *j = open_journal (dir, NULL);
  apply_all (j, s, 0, s->events->len);

  /* A second writer is refused while the first holds the directory. */
  GError *error = NULL;
  ck_assert_ptr_null (referral_journal_open (dir, scheme, NULL, &error));
  assert_error_has (error, REFERRAL_ERROR_IO, "LOCK");
  g_clear_error (&error);
  close_journal (j);

  g_autoptr (ReferralScheme) demo = referral_scheme_new_builtin ("demo", &error);
  ck_assert_ptr_null (referral_journal_open (dir, demo, NULL, &error));
  assert_error_has (error, REFERRAL_ERROR_JOURNAL, "belongs to another scheme", "demo");
  g_clear_error (&error);

  /* also through a snapshot */
  j = open_journal (dir, NULL);
  ck_assert (referral_journal_snapshot (j, &error));
  close_journal (j);
  ck_assert_ptr_null (referral_journal_open (dir, demo, NULL, &error));
  assert_error_has (error, REFERRAL_ERROR_JOURNAL, "another scheme");
  g_clear_error (&error);
  dur_rmdir (dir);
  dur_stream_free (s);
}
END_TEST

/* ---- fault injection ---------------------------------------------------- */

typedef struct {
  guint32 acknowledged;   /* events known durable when the fault hit */
  gboolean failed;
} FaultRun;

/* Applies the stream with the @nth file operation failing; checks the
 * state stays a fold of a prefix, then recovers without faults and
 * finishes the stream. */
static void
fault_run (const DurStream *s, ReferralSyncPolicy policy, guint64 nth, int err, FaultRun *out)
{
  g_autofree char *dir = dur_tmpdir ();
  ReferralJournalOptions opt = REFERRAL_JOURNAL_OPTIONS_INIT;
  opt.sync = policy;
  opt.group_events = 3;
  opt.snapshot_every = 9;
  referral_journal_set_fault (REFERRAL_FAULT_ALL, nth, err);
  GError *error = NULL;
  guint32 acknowledged = 0;
  gboolean failed = FALSE;
  ReferralJournal *j = referral_journal_open (dir, scheme, &opt, &error);
  if (j == NULL)
    {
      assert_error_has (error, REFERRAL_ERROR_IO, strerror (err));
      g_clear_error (&error);
      failed = TRUE;
    }
  else
    {
      for (guint i = 0; i < s->events->len && !failed; i++)
        {
          const ReferralEvent *ev = &g_array_index (s->events, ReferralEvent, i);
          guint32 before = jcount (j);
          guint64 hash_before = jhash (j);
          if (!referral_journal_apply (j, ev, NULL, &error))
            {
              if (error->code == REFERRAL_ERROR_IO)
                {
                  failed = TRUE;
                  assert_contains (error->message, strerror (err));
                  if (policy == REFERRAL_SYNC_EVERY)
                    {
                      /* write-ahead: the state is as before the call */
                      tu_check (jcount (j) == before && jhash (j) == hash_before,
                                "fault %" G_GUINT64_FORMAT ": the state changed", nth);
                    }
                }
              g_clear_error (&error);
            }
          /* always a fold of a prefix of the stream */
          tu_check (jhash (j) == ref_hash (s, jcount (j)), "fault %" G_GUINT64_FORMAT
                    ": state is not the fold of %u events", nth, jcount (j));
          if (referral_journal_last_snapshot_error (j))
            failed = TRUE; /* counted as a hit; the journal goes on */
        }
      acknowledged = referral_journal_durable_events (j);
      if (!referral_journal_close (j, &error))
        {
          failed = TRUE;
          g_clear_error (&error);
        }
      else if (!failed)
        acknowledged = s->n_applied;
    }
  referral_journal_set_fault (0, 0, 0);

  /* Recovery: every acknowledged event is there, nothing but a prefix. */
  j = referral_journal_open (dir, scheme, &opt, &error);
  assert_no_error (error);
  tu_check (jcount (j) >= acknowledged, "fault %" G_GUINT64_FORMAT ": %u events recovered, %u "
            "were acknowledged", nth, jcount (j), acknowledged);
  tu_check (jhash (j) == ref_hash (s, jcount (j)), "fault %" G_GUINT64_FORMAT ": bad recovery", nth);
  apply_all (j, s, 0, s->events->len);
  tu_check (jhash (j) == ref_hash (s, s->n_applied), "fault %" G_GUINT64_FORMAT ": bad end", nth);
  close_journal (j);
  dur_rmdir (dir);
  out->acknowledged = acknowledged;
  out->failed = failed;
}

START_TEST (test_fault_injection)
{
  DurStream *s = dur_stream_new (scheme, 71, 45);
  static const int errs[] = { ENOSPC, EIO };
  ReferralSyncPolicy policy = policies[_i];
  /* Count the operations of a clean run. */
  FaultRun run;
  fault_run (s, policy, 0, 0, &run);
  ck_assert (!run.failed);
  g_autofree char *dir = dur_tmpdir ();
  ReferralJournalOptions opt = REFERRAL_JOURNAL_OPTIONS_INIT;
  opt.sync = policy;
  opt.group_events = 3;
  opt.snapshot_every = 9;
  referral_journal_set_fault (REFERRAL_FAULT_ALL, 0, 0);
  ReferralJournal *j = open_journal (dir, &opt);
  apply_all (j, s, 0, s->events->len);
  close_journal (j);
  guint64 n_ops = referral_journal_fault_count ();
  referral_journal_set_fault (0, 0, 0);
  dur_rmdir (dir);
  ck_assert_uint_gt (n_ops, 10);

  guint hits = 0;
  for (guint64 nth = 1; nth <= n_ops; nth++)
    {
      fault_run (s, policy, nth, errs[nth % 2], &run);
      hits += run.failed;
    }
  /* every operation's failure was seen by the caller */
  ck_assert_uint_eq (hits, n_ops);
  dur_stream_free (s);
}
END_TEST

/* ---- the CLI ------------------------------------------------------------ */

/* Runs the referral tool with the NULL-terminated arguments; returns its
 * exit status and (transfer full) its standard output and error. */
static int
tool (char **out, char **err, ...)
{
  const char *build = g_getenv ("REFERRAL_BUILD_DIR");
  ck_assert_msg (build != NULL, "REFERRAL_BUILD_DIR is not set");
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_build_filename (build, "tools", "referral", "referral", NULL));
  va_list ap;
  va_start (ap, err);
  const char *a;
  while ((a = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  int status;
  GError *error = NULL;
  ck_assert (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out,
                           err, &status, &error));
  assert_no_error (error);
  ck_assert (WIFEXITED (status));
  return WEXITSTATUS (status);
}

/* run --journal DIR on the first half of a file, then on the whole file:
 * the second run skips the first half as duplicates and ends with the
 * balances of a plain run; replay --until K gives the state after K. */
START_TEST (test_cli)
{
  g_autofree char *events = tu_source_path ("examples/events/chain21-pool.jsonl");
  g_autofree char *text = NULL;
  ck_assert (g_file_get_contents (events, &text, NULL, NULL));
  g_autofree char *dir = dur_tmpdir ();
  g_autofree char *jdir = g_build_filename (dir, "j", NULL);
  g_autofree char *half = g_build_filename (dir, "half.jsonl", NULL);
  /* the lines up to the 8th event */
  const char *p = text;
  for (int n = 0; n < 8 && (p = strstr (p, "\"type\"")) != NULL; n++)
    p++;
  ck_assert_ptr_nonnull (p);
  const char *eol = strchr (p, '\n');
  ck_assert (g_file_set_contents (half, text, eol - text + 1, NULL));

  char *out, *err;
  ck_assert_int_eq (tool (&out, &err, "run", "--scheme", "chain21", "--journal", jdir, half, NULL), 0);
  assert_contains (err, "events applied: 8");
  g_free (out);
  g_free (err);
  ck_assert_int_eq (tool (&out, &err, "run", "--scheme", "chain21", "--journal", jdir,
                          "--sync", "group", "--balances", "-", events, NULL), 0);
  assert_contains (err, "duplicates: 8");
  g_autofree char *journaled = out;
  g_free (err);
  ck_assert_int_eq (tool (&out, &err, "run", "--scheme", "chain21", "--balances", "-", events,
                          NULL), 0);
  ck_assert_str_eq (journaled, out);
  g_free (out);
  g_free (err);
  ck_assert_int_eq (tool (&out, &err, "replay", jdir, "--balances", "-", NULL), 0);
  ck_assert_str_eq (journaled, out);
  g_free (out);
  g_free (err);

  /* --until 8 is the state after the first run */
  ck_assert_int_eq (tool (&out, &err, "run", "--scheme", "chain21", "--balances", "-", half,
                          NULL), 0);
  g_autofree char *first = out;
  g_free (err);
  ck_assert_int_eq (tool (&out, &err, "replay", jdir, "--until", "8", "--balances", "-", NULL), 0);
  ck_assert_str_eq (first, out);
  assert_contains (err, "events: 8");
  g_free (out);
  g_free (err);

  ck_assert_int_eq (tool (&out, &err, "replay", jdir, "--until", "9999", NULL), 2);
  assert_contains (err, "fewer than the 9999 asked for");
  g_free (out);
  g_free (err);
  ck_assert_int_eq (tool (&out, &err, "run", "--scheme", "demo", "--journal", jdir, events, NULL), 2);
  assert_contains (err, "another scheme");
  g_free (out);
  g_free (err);
  dur_rmdir (jdir);

  /* --snapshot-every 5 --group-events 3: snapshots are written (two kept,
   * the segments before the older one pruned), the balances are the plain
   * run's, and a resumed run recovers from a snapshot. */
  ck_assert_int_eq (tool (&out, &err, "run", "--scheme", "chain21", "--journal", jdir,
                          "--sync", "group", "--group-events", "3", "--snapshot-every", "5",
                          half, NULL), 0);
  g_free (out);
  g_free (err);
  g_autofree char *snap5 = g_build_filename (jdir, "snapshot-0000000005.snap", NULL);
  ck_assert (g_file_test (snap5, G_FILE_TEST_EXISTS));
  ck_assert_int_eq (tool (&out, &err, "run", "--scheme", "chain21", "--journal", jdir,
                          "--snapshot-every", "5", "--balances", "-", events, NULL), 0);
  assert_contains (err, "duplicates: 8");
  ck_assert_str_eq (journaled, out);
  g_free (out);
  g_free (err);
  guint n_snaps = 0, n_segs = 0;
  GDir *d = g_dir_open (jdir, 0, NULL);
  ck_assert_ptr_nonnull (d);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      n_snaps += g_str_has_suffix (name, ".snap");
      n_segs += g_str_has_suffix (name, ".log");
    }
  g_dir_close (d);
  ck_assert_uint_eq (n_snaps, 2);
  ck_assert_uint_le (n_segs, 2);
  ck_assert_int_eq (tool (&out, &err, "replay", jdir, "--balances", "-", NULL), 0);
  ck_assert_str_eq (journaled, out);
  g_free (out);
  g_free (err);
  ck_assert_int_eq (tool (&out, &err, "run", "--scheme", "chain21", "--journal", jdir,
                          "--snapshot-every", "-1", events, NULL), 2);
  assert_contains (err, "--snapshot-every");
  g_free (out);
  g_free (err);
  dur_rmdir (jdir);
  dur_rmdir (dir);
}
END_TEST

static Suite *
durability_suite (void)
{
  Suite *s = suite_create ("durability");
  TCase *tc = tu_tcase (s, "snapshot", 60);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_crc32c);
  tcase_add_test (tc, test_crc32c_impls);
  tcase_add_test (tc, test_snapshot_every_cut);
  tcase_add_test (tc, test_snapshot_damage);
  tcase_add_test (tc, test_snapshot_streaming);
  tc = tu_tcase (s, "journal", 60);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_policies_roundtrip);
  tcase_add_test (tc, test_disk);
  tcase_add_test (tc, test_replay_to_point);
  tcase_add_test (tc, test_torn_tail);
  tcase_add_test (tc, test_bit_flips);
  tcase_add_test (tc, test_read_window);
  tcase_add_test (tc, test_bad_snapshot_fallback);
  tcase_add_test (tc, test_foreign_scheme_and_lock);
  tcase_add_test (tc, test_cli);
  tc = tu_tcase (s, "faults", 60);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_loop_test (tc, test_fault_injection, 0, G_N_ELEMENTS (policies));
  return s;
}

int
main (void)
{
  return tu_run_suites (durability_suite (), NULL);
}
