/* The crash test (issue 6): a child process applies a random chain 2+1
 * stream through a journal and is killed with SIGKILL at a random moment;
 * recovery must give the fold of a prefix of the stream that holds every
 * event the child saw acknowledged as durable, and the rest of the stream
 * applied after recovery must end in the state of an uninterrupted run.
 *
 * 200 trials by default (policies, group sizes and snapshot intervals
 * drawn at random); REFERRAL_CRASH_TRIALS=N runs N (the long mode).  The
 * journals live on /dev/shm when it is usable: a process crash is what is
 * tested here (the page cache survives it); power loss is not simulated. */
#include "durability-common.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STREAM_EVENTS 300
#define N_STREAMS 4

typedef struct {
  ReferralJournalOptions opt;
  guint kill_after;     /* kill once the child reported this many events
                           (G_MAXUINT: let it finish) ... */
  guint jitter_us;      /* ... and this many microseconds more */
} Trial;

/* The child: apply every event, reporting the durable count after each
 * through @fd; exit 0 at the end, 3 on an unexpected failure. */
static void G_GNUC_NORETURN
child (ReferralScheme *scheme, const DurStream *s, const char *dir,
       const ReferralJournalOptions *opt, int fd)
{
  GError *error = NULL;
  ReferralJournal *j = referral_journal_open (dir, scheme, opt, &error);
  if (j == NULL)
    _exit (3);
  for (guint i = 0; i < s->events->len; i++)
    {
      if (!referral_journal_apply (j, &g_array_index (s->events, ReferralEvent, i), NULL, &error))
        {
          if (error->code == REFERRAL_ERROR_IO || error->code == REFERRAL_ERROR_JOURNAL)
            _exit (3);
          g_clear_error (&error);
        }
      guint32 durable = referral_journal_durable_events (j);
      if (write (fd, &durable, sizeof durable) != sizeof durable)
        _exit (3);
    }
  if (!referral_journal_close (j, NULL))
    _exit (3);
  guint32 all = G_MAXUINT32;
  if (write (fd, &all, sizeof all) != sizeof all)
    _exit (3);
  _exit (0);
}

/* Runs one trial; returns the number of events recovered (G_MAXUINT32 when
 * the child finished before the kill). */
static guint32
trial (ReferralScheme *scheme, const DurStream *s, const Trial *t)
{
  g_autofree char *dir = dur_tmpdir ();
  int fds[2];
  ck_assert (pipe (fds) == 0);
  pid_t pid = fork ();
  ck_assert (pid >= 0);
  if (pid == 0)
    {
      close (fds[0]);
      child (scheme, s, dir, &t->opt, fds[1]);
    }
  close (fds[1]);
  /* Read every report until the child is gone (the pipe closes); kill it
   * at the chosen point.  The kill lands wherever the child is then: in
   * the engine, in a write, an fsync, a snapshot or a rename. */
  guint32 acknowledged = 0, v;
  gboolean finished = FALSE;
  guint reports = 0;
  if (t->kill_after == 0)
    {
      g_usleep (t->jitter_us);
      kill (pid, SIGKILL);
    }
  while (read (fds[0], &v, sizeof v) == sizeof v)
    {
      if (v == G_MAXUINT32)
        finished = TRUE;
      else
        acknowledged = v;
      if (++reports == t->kill_after)
        {
          if (t->jitter_us)
            g_usleep (t->jitter_us);
          kill (pid, SIGKILL);
        }
    }
  close (fds[0]);
  int status;
  ck_assert (waitpid (pid, &status, 0) == pid);
  if (WIFEXITED (status))
    ck_assert_msg (WEXITSTATUS (status) == 0, "the child failed (status %d)", WEXITSTATUS (status));
  else
    ck_assert_msg (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL, "the child died oddly");

  /* Recover. */
  GError *error = NULL;
  ReferralJournal *j = referral_journal_open (dir, scheme, &t->opt, &error);
  assert_no_error (error);
  ReferralEngine *e = referral_journal_engine (j);
  guint32 got = referral_engine_n_events (e);
  tu_check (got >= acknowledged, "recovered %u events; the child saw %u durable", got,
            acknowledged);
  tu_check (got <= s->n_applied, "recovered %u events of %u", got, s->n_applied);
  tu_check (referral_engine_state_hash (e) == g_array_index (s->hashes, guint64, got),
            "the recovered state is not the fold of the first %u events", got);
  if (finished)
    tu_check (got == s->n_applied, "a finished run recovered %u of %u", got, s->n_applied);

  /* Finish the stream. */
  guint from = g_array_index (s->resume, guint, got);
  ck_assert (dur_apply_range (j, s, from, s->events->len, NULL, &error));
  assert_no_error (error);
  tu_check (referral_engine_state_hash (e) == g_array_index (s->hashes, guint64, s->n_applied),
            "the finished stream differs from an uninterrupted run (recovered at %u)", got);
  ck_assert (referral_journal_close (j, &error));
  assert_no_error (error);
  dur_rmdir (dir);
  return finished ? G_MAXUINT32 : got;
}

START_TEST (test_crash)
{
  g_autoptr (ReferralScheme) scheme = dur_scheme ();
  const char *env = g_getenv ("REFERRAL_CRASH_TRIALS");
  guint trials = env ? (guint) strtoul (env, NULL, 10) : 200;
  DurStream *streams[N_STREAMS];
  for (guint k = 0; k < N_STREAMS; k++)
    {
      streams[k] = dur_stream_new (scheme, 1000 + k, STREAM_EVENTS);
      /* an uninterrupted child first */
      Trial t = { REFERRAL_JOURNAL_OPTIONS_INIT, G_MAXUINT, 0 };
      t.opt.snapshot_every = 50;
      ck_assert_uint_eq (trial (scheme, streams[k], &t), G_MAXUINT32);
    }

  GRand *rand = g_rand_new_with_seed (4242);
  guint interrupted = 0, policy_seen[3] = { 0, 0, 0 };
  for (guint i = 0; i < trials; i++)
    {
      guint k = i % N_STREAMS;
      Trial t = { REFERRAL_JOURNAL_OPTIONS_INIT, 0, 0 };
      t.opt.sync = (ReferralSyncPolicy) g_rand_int_range (rand, 0, 3);
      t.opt.group_events = (guint32) g_rand_int_range (rand, 1, 17);
      t.opt.snapshot_every = g_rand_boolean (rand) ? 0 : (guint32) g_rand_int_range (rand, 5, 60);
      t.kill_after = (guint) g_rand_int_range (rand, 0, STREAM_EVENTS + 1);
      t.jitter_us = (guint) g_rand_int_range (rand, 0, 300);
      guint32 got = trial (scheme, streams[k], &t);
      if (got != G_MAXUINT32 && got < streams[k]->n_applied)
        interrupted++;
      policy_seen[t.opt.sync]++;
    }
  g_rand_free (rand);
  for (guint k = 0; k < N_STREAMS; k++)
    dur_stream_free (streams[k]);
  /* The kills must have landed mid-stream often enough to mean something. */
  ck_assert_msg (interrupted * 4 >= trials, "only %u of %u trials were interrupted",
                 interrupted, trials);
  ck_assert (policy_seen[0] > 0 && policy_seen[1] > 0 && policy_seen[2] > 0);
}
END_TEST

static Suite *
crash_suite (void)
{
  Suite *s = suite_create ("crash");
  TCase *tc = tu_tcase (s, "crash", 300);
  tcase_add_test (tc, test_crash);
  return s;
}

int
main (void)
{
  return tu_run_suites (crash_suite (), NULL);
}
