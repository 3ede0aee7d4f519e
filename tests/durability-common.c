/* Helpers of the durability suites; see durability-common.h. */
#include "durability-common.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

ReferralScheme *
dur_scheme (void)
{
  GError *error = NULL;
  ReferralScheme *s = referral_scheme_new_builtin ("chain21", &error);
  assert_no_error (error);
  return s;
}

typedef struct {
  GRand *rand;
  DurStream *s;
  guint n_members;
  guint n_orders;
  guint n_ids;
} Gen;

/* @prefix followed by @n: "m12". */
static const char *
str (Gen *g, const char *prefix, guint n)
{
  char buf[32];
  g_snprintf (buf, sizeof buf, "%s%u", prefix, n);
  return g_string_chunk_insert_const (g->s->strings, buf);
}

static const char *
member (Gen *g)
{
  /* mostly existing members; now and then one that never joined */
  guint n = g_rand_int_range (g->rand, 0, 50) == 0 ? g->n_members + 3
                                                    : (guint) g_rand_int_range (g->rand, 0, (gint) g->n_members);
  return str (g, "m", n);
}

static ReferralEvent
gen_event (Gen *g)
{
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  ev.id = str (g, "e", g->n_ids++);
  gint r = g->n_members < 3 ? 0 : g_rand_int_range (g->rand, 0, 100);
  if (r < 28)
    {
      ev.type = REFERRAL_EVENT_JOIN;
      ev.member = str (g, "m", g->n_members);
      if (g->n_members > 0)
        ev.sponsor = str (g, "m", (guint) g_rand_int_range (g->rand, 0, (gint) g->n_members));
      g->n_members++;
    }
  else if (r < 65)
    {
      ev.type = REFERRAL_EVENT_ORDER;
      ev.order = str (g, "o", g->n_orders++);
      ev.member = member (g);
      ev.sku = g_rand_int_range (g->rand, 0, 8) ? "gift" : "other";
      ev.amount = g_rand_int_range (g->rand, 0, 6) ? 69900 : g_rand_int_range (g->rand, 1, 100000);
      gint how = g_rand_int_range (g->rand, 0, 4);
      if (how == 1 && ev.amount == 69900)
        {
          ev.amount_text = "699.00";
          ev.amount_quoted = TRUE;
        }
      else if (how == 2 && ev.amount == 69900)
        ev.amount_text = "699";
      if (g_rand_boolean (g->rand))
        ev.time = "2024-03-01T10:00:00Z";
    }
  else if (r < 72 && g->n_orders > 0)
    {
      ev.type = REFERRAL_EVENT_REFUND;
      ev.order = str (g, "o", (guint) g_rand_int_range (g->rand, 0, (gint) g->n_orders));
    }
  else if (r < 80)
    {
      ev.type = REFERRAL_EVENT_PROMOTE;
      ev.member = member (g);
      ev.rank = g_rand_int_range (g->rand, 0, 3) ? "agent" : "partner";
    }
  else if (r < 85)
    {
      ev.type = REFERRAL_EVENT_PERIOD_CLOSE;
      ev.period = str (g, "p", g->n_ids);
    }
  else if (r < 92)
    {
      ev.type = REFERRAL_EVENT_WITHDRAW;
      ev.member = member (g);
      ev.amount = g_rand_int_range (g->rand, 1, 40000);
    }
  else if (r < 96)
    {
      ev.type = REFERRAL_EVENT_COMMAND;
      ev.command = "transpose";
      ev.member = member (g);
      ev.old_member = member (g);
      ev.new_member = member (g);
    }
  else
    {
      /* a duplicate of an earlier event (same id, same content) */
      g->n_ids--;
      guint k = (guint) g_rand_int_range (g->rand, 0, (gint) g->s->events->len);
      ev = g_array_index (g->s->events, ReferralEvent, k);
    }
  return ev;
}

DurStream *
dur_stream_new (ReferralScheme *scheme, guint32 seed, guint n)
{
  DurStream *s = g_new0 (DurStream, 1);
  s->strings = g_string_chunk_new (4096);
  s->events = g_array_new (FALSE, FALSE, sizeof (ReferralEvent));
  s->hashes = g_array_new (FALSE, FALSE, sizeof (guint64));
  s->resume = g_array_new (FALSE, FALSE, sizeof (guint));
  guint zero = 0;
  g_array_append_val (s->resume, zero);
  Gen g = { g_rand_new_with_seed (seed), s, 0, 0, 0 };
  GError *error = NULL;
  g_autoptr (ReferralEngine) e = referral_engine_new (scheme, &error);
  assert_no_error (error);
  guint64 h = referral_engine_state_hash (e);
  g_array_append_val (s->hashes, h);
  while (s->events->len < n)
    {
      ReferralEvent ev = gen_event (&g);
      g_array_append_val (s->events, ev);
      ReferralApplyResult res;
      if (referral_engine_apply (e, &ev, &res, &error) && res.status == REFERRAL_APPLIED)
        {
          h = referral_engine_state_hash (e);
          g_array_append_val (s->hashes, h);
          guint next = s->events->len;
          g_array_append_val (s->resume, next);
        }
      g_clear_error (&error);
    }
  s->n_applied = referral_engine_n_events (e);
  g_rand_free (g.rand);
  return s;
}

void
dur_stream_free (DurStream *s)
{
  if (s == NULL)
    return;
  g_string_chunk_free (s->strings);
  g_array_unref (s->events);
  g_array_unref (s->hashes);
  g_array_unref (s->resume);
  g_free (s);
}

static char *
make_tmpdir (const char *base)
{
  char *tmpl = g_build_filename (base, "referral-dur-XXXXXX", NULL);
  char *dir = g_mkdtemp (tmpl);
  ck_assert_msg (dir != NULL, "cannot make a directory under %s", base);
  return dir;
}

char *
dur_tmpdir (void)
{
  const char *base = g_getenv ("REFERRAL_DURABILITY_TMP");
  if (base == NULL && access ("/dev/shm", W_OK) == 0)
    base = "/dev/shm";
  return make_tmpdir (base ? base : g_get_tmp_dir ());
}

char *
dur_disk_tmpdir (void)
{
  return make_tmpdir (g_get_tmp_dir ());
}

void
dur_rmdir (const char *dir)
{
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

gboolean
dur_apply_range (ReferralJournal *j, const DurStream *s, guint from, guint to,
                 guint *stopped_at, GError **error)
{
  for (guint i = from; i < to; i++)
    {
      const ReferralEvent *ev = &g_array_index (s->events, ReferralEvent, i);
      GError *local = NULL;
      if (!referral_journal_apply (j, ev, NULL, &local))
        {
          if (local->code != REFERRAL_ERROR_IO && local->code != REFERRAL_ERROR_JOURNAL)
            {
              /* rejected as by the reference fold (checked by the hashes) */
              g_error_free (local);
              continue;
            }
          if (stopped_at)
            *stopped_at = i;
          g_propagate_error (error, local);
          return FALSE;
        }
    }
  return TRUE;
}
