/* referral_engine_apply_jsonl() and referral_journal_apply_jsonl() read and
 * parse a regular file on a second thread (lib/jsonl.c).  Every test here
 * runs the same input three ways and wants the same outcome from each: the
 * default (the reading thread), REFERRAL_RUN_ONE_THREAD, and a reference
 * that reads one line and applies one event at a time.  The same outcome is
 * the same reports (file, line, message) in the same order, the same stats
 * (`lines` included), the same error, the same state. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio_ext.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <glib/gstdio.h>

/* ---- temporary files ----------------------------------------------------- */

static char *tmp_dir;

static void
setup_tmp (void)
{
  tmp_dir = g_dir_make_tmp ("referral-threads-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_dir);
}

static void
teardown_tmp (void)
{
  tu_remove_tree (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

static char *
write_tmp (const char *name, const char *data, gsize len)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  GError *error = NULL;
  g_file_set_contents (path, data, (gssize) len, &error);
  assert_no_error (error);
  return path;
}

/* ---- streams ------------------------------------------------------------------
 * Events for the demo scheme: 300 joins, then orders by those members.  The
 * reading thread keeps 6 batches of at most 256 events in flight, so 4,000
 * events fill the ring several times over. */

#define N_EVENTS 4000

typedef enum {
  ERR_NONE,
  ERR_BAD_JSON,   /* a line that is no JSON */
  ERR_MONEY,      /* a line whose amount has too many decimals */
  ERR_REJECT,     /* an order by an unknown member: the engine refuses it */
  ERR_BIG_REJECT, /* the same, with strings that alone exceed a batch */
} ErrKind;

/* A string longer than a batch's 64 KiB arena. */
static void
append_long (GString *s)
{
  for (guint k = 0; k < 70000; k++)
    g_string_append_c (s, (char) ('a' + k % 26));
}

static void
append_error (GString *s, ErrKind kind, guint i)
{
  switch (kind)
    {
    case ERR_BAD_JSON:
      g_string_append_printf (s, "{\"type\":\"join\",\"id\":\"bad%u\" oops}\n", i);
      break;
    case ERR_MONEY:
      g_string_append_printf (s, "{\"type\":\"order\",\"id\":\"mo%u\",\"order\":\"mo%u\","
                              "\"member\":\"m1\",\"amount\":\"1.999\"}\n", i, i);
      break;
    case ERR_REJECT:
      g_string_append_printf (s, "{\"type\":\"order\",\"id\":\"x%u\",\"order\":\"ox%u\","
                              "\"member\":\"nobody\",\"amount\":\"1.00\"}\n", i, i);
      break;
    case ERR_BIG_REJECT:
      g_string_append_printf (s, "{\"type\":\"order\",\"id\":\"xb%u\",\"order\":\"oxb%u\","
                              "\"member\":\"nobody\",\"amount\":\"1.00\",\"sku\":\"", i, i);
      append_long (s);
      g_string_append (s, "\"}\n");
      break;
    case ERR_NONE:
    default:
      break;
    }
}

/* Event @i of the stream (a duplicate of the order before it when @dup). */
static void
append_event (GString *s, guint i, gboolean dup)
{
  if (i == 0)
    g_string_append (s, "{\"type\":\"join\",\"id\":\"j0\",\"member\":\"m0\"}\n");
  else if (i < 300)
    g_string_append_printf (s, "{\"type\":\"join\",\"id\":\"j%u\",\"member\":\"m%u\","
                            "\"sponsor\":\"m%u\"}\n", i, i, i / 2);
  else if (i == 900 || i == 901)
    {
      /* Two good events in a row whose strings alone exceed a batch. */
      g_string_append_printf (s, "{\"type\":\"join\",\"id\":\"big%u\",\"member\":\"L%u\","
                              "\"sponsor\":\"m3\",\"time\":\"", i, i);
      append_long (s);
      g_string_append (s, "\"}\n");
    }
  else
    {
      guint k = dup ? i - 1 : i;
      g_string_append_printf (s, "{\"type\":\"order\",\"id\":\"o%u\",\"order\":\"o%u\","
                              "\"member\":\"m%u\",\"amount\":\"%u.25\"}\n",
                              k, k, k % 300, k % 90 + 1);
    }
}

/* Blank and comment lines now and then, so that line numbers are not event
 * numbers. */
static void
append_filler (GString *s, guint i)
{
  if (i % 53 == 7)
    g_string_append (s, "# a comment\n\n");
}

/* Every kind of trouble, many times: rejections, duplicates, bad lines (one
 * of them right after the first full batch), events too big for a batch. */
static GString *
mixed_stream (guint n)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    {
      append_filler (s, i);
      if (i == 256 || i == 700 || i == 1536 || i == 2500)
        append_error (s, ERR_BAD_JSON, i);
      else if (i == 2000)
        append_error (s, ERR_MONEY, i);
      else if (i == 1500 || i == 1501)
        append_error (s, ERR_BIG_REJECT, i);
      else if (i >= 300 && i % 37 == 0)
        append_error (s, ERR_REJECT, i);
      else
        append_event (s, i, i >= 300 && i % 41 == 0 && i != 901);
    }
  return s;
}

/* Good events but one error of @kind instead of event @at.  *@line: the
 * error's line number. */
static GString *
one_error_stream (ErrKind kind, guint at, guint64 *line)
{
  GString *s = g_string_new (NULL);
  guint64 lines = 0;
  for (guint i = 0; i < N_EVENTS; i++)
    {
      append_filler (s, i);
      if (i == at)
        {
          for (const char *c = s->str; *c != '\0'; c++)
            lines += *c == '\n';
          *line = lines + 1;
          append_error (s, kind, i);
        }
      else
        append_event (s, i, FALSE);
    }
  return s;
}

/* ---- running --------------------------------------------------------------- */

typedef struct {
  GString *log;       /* "FILE:LINE: message\n" per report */
  ReferralRunStats st;
  gboolean ok;        /* what the call returned */
  GError *error;
  guint64 hash;       /* the engine's state hash afterwards */
  guint32 n_events;
} Outcome;

static void
outcome_clear (Outcome *o)
{
  if (o->log != NULL)
    g_string_free (o->log, TRUE);
  o->log = NULL;
  g_clear_error (&o->error);
}

static void
collect_report (const char *file, guint64 line, const char *message, gpointer data)
{
  GString *log = data;
  g_string_append_printf (log, "%s:%" G_GUINT64_FORMAT ": %s\n", file, line, message);
}

static void
outcome_take_engine (Outcome *o, const ReferralEngine *engine)
{
  o->hash = referral_engine_state_hash (engine);
  o->n_events = referral_engine_n_events (engine);
}

/* referral_engine_apply_jsonl() with @flags. */
static void
run_library (const char *path, ReferralRunFlags flags, Outcome *o)
{
  g_autoptr (ReferralEngine) engine = tu_demo_engine ();
  o->log = g_string_new (NULL);
  o->error = NULL;
  o->st = (ReferralRunStats) { 7, 7, 7, 7 };
  o->ok = referral_engine_apply_jsonl (engine, path, flags, collect_report, o->log, &o->st,
                                       &o->error);
  outcome_take_engine (o, engine);
}

/* One line, one referral_engine_apply() at a time, as `referral run` is
 * specified. */
static void
run_reference (const char *path, ReferralRunFlags flags, Outcome *o)
{
  g_autoptr (ReferralEngine) engine = tu_demo_engine ();
  o->log = g_string_new (NULL);
  o->error = NULL;
  o->st = (ReferralRunStats) { 0, 0, 0, 0 };
  g_autoptr (ReferralJsonlReader) r = referral_jsonl_reader_open (path, 2, &o->error);
  assert_no_error (o->error);
  for (;;)
    {
      ReferralEvent ev;
      ReferralApplyResult res;
      GError *local = NULL;
      int k = referral_jsonl_reader_next (r, &ev, &local);
      if (k == 0)
        break;
      if (k > 0 && referral_engine_apply (engine, &ev, &res, &local))
        {
          if (res.status == REFERRAL_DUPLICATE)
            o->st.duplicates++;
          else
            o->st.applied++;
          continue;
        }
      if (g_error_matches (local, REFERRAL_ERROR, REFERRAL_ERROR_IO))
        {
          o->error = local;
          break;
        }
      o->st.errors++;
      collect_report (referral_jsonl_reader_name (r), referral_jsonl_reader_line (r),
                      local->message, o->log);
      g_error_free (local);
      if (!(flags & REFERRAL_RUN_KEEP_GOING))
        break;
    }
  o->st.lines = referral_jsonl_reader_line (r);
  o->ok = o->error == NULL && o->st.errors == 0;
  outcome_take_engine (o, engine);
}

#define assert_same(a, b, what) assert_same_at (__FILE__, __LINE__, (a), (b), (what))
static void
assert_same_at (const char *file, int line, const Outcome *a, const Outcome *b,
                const char *what)
{
  if (strcmp (a->log->str, b->log->str) != 0)
    {
      /* The first report that differs (whole logs are too long for Check). */
      g_auto (GStrv) la = g_strsplit (a->log->str, "\n", -1);
      g_auto (GStrv) lb = g_strsplit (b->log->str, "\n", -1);
      guint k = 0;
      while (la[k] != NULL && lb[k] != NULL && strcmp (la[k], lb[k]) == 0)
        k++;
      _ck_assert_failed (file, line, "reports differ", "%s: report %u is\n%.300s\nagainst\n%.300s",
                         what, k + 1, la[k] ? la[k] : "(none)", lb[k] ? lb[k] : "(none)");
    }
  if (memcmp (&a->st, &b->st, sizeof a->st) != 0)
    _ck_assert_failed (file, line, "stats differ",
                       "%s: lines %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
                       " applied %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
                       " duplicates %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
                       " errors %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, what,
                       a->st.lines, b->st.lines, a->st.applied, b->st.applied,
                       a->st.duplicates, b->st.duplicates, a->st.errors, b->st.errors);
  if (a->ok != b->ok)
    _ck_assert_failed (file, line, "results differ", "%s: returned %d and %d", what, a->ok,
                       b->ok);
  if ((a->error == NULL) != (b->error == NULL)
      || (a->error != NULL
          && (a->error->domain != b->error->domain || a->error->code != b->error->code
              || strcmp (a->error->message, b->error->message) != 0)))
    _ck_assert_failed (file, line, "errors differ", "%s: error %s against %s", what,
                       a->error ? a->error->message : "none",
                       b->error ? b->error->message : "none");
  if (a->hash != b->hash || a->n_events != b->n_events)
    _ck_assert_failed (file, line, "states differ", "%s: %u events against %u", what,
                       a->n_events, b->n_events);
}

/* Runs @path three ways (@prepare, when not NULL, before each: it sets up
 * standard input) and checks they agree; *@out gets the outcome. */
static void
run_three_ways (const char *path, ReferralRunFlags flags, void (*prepare) (gpointer),
                gpointer data, Outcome *out)
{
  Outcome one, ref;
  if (prepare != NULL)
    prepare (data);
  run_library (path, flags, out);
  if (prepare != NULL)
    prepare (data);
  run_library (path, flags | REFERRAL_RUN_ONE_THREAD, &one);
  if (prepare != NULL)
    prepare (data);
  run_reference (path, flags, &ref);
  assert_same (out, &ref, "two threads against one event at a time");
  assert_same (&one, &ref, "one thread against one event at a time");
  outcome_clear (&one);
  outcome_clear (&ref);
}

static guint
count_lines (const char *text)
{
  guint n = 0;
  for (const char *c = text; *c != '\0'; c++)
    n += *c == '\n';
  return n;
}

/* Returns: how many times @needle occurs in @text. */
static guint
count (const char *text, const char *needle)
{
  guint n = 0;
  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* ---- regular files ------------------------------------------------------------ */

START_TEST (test_mixed_keep_going)
{
  GString *s = mixed_stream (N_EVENTS);
  g_autofree char *path = write_tmp ("mixed.jsonl", s->str, s->len);
  Outcome o;
  run_three_ways (path, REFERRAL_RUN_KEEP_GOING, NULL, NULL, &o);
  /* The file holds what it should. */
  ck_assert (!o.ok);
  ck_assert_uint_eq (o.st.lines, count_lines (s->str));
  ck_assert_uint_gt (o.st.errors, 90);
  ck_assert_uint_gt (o.st.duplicates, 70);
  ck_assert_uint_gt (o.st.applied, 3700);
  ck_assert_uint_eq (count (o.log->str, "invalid JSON: expected ',' or '}'"), 4);
  ck_assert_uint_eq (count (o.log->str, "amount \"1.999\" has more than 2 decimals"), 1);
  ck_assert_uint_eq (count (o.log->str, "order \"oxb15"), 2);
  ck_assert_uint_eq (o.n_events, o.st.applied);
  outcome_clear (&o);
  g_string_free (s, TRUE);
}
END_TEST

START_TEST (test_mixed_stop)
{
  GString *s = mixed_stream (N_EVENTS);
  g_autofree char *path = write_tmp ("mixed.jsonl", s->str, s->len);
  Outcome o;
  run_three_ways (path, REFERRAL_RUN_STOP_AT_ERROR, NULL, NULL, &o);
  ck_assert_uint_eq (o.st.errors, 1);
  ck_assert_uint_eq (o.st.applied, 256);
  outcome_clear (&o);
  g_string_free (s, TRUE);
}
END_TEST

START_TEST (test_all_good)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < N_EVENTS; i++)
    append_event (s, i, FALSE);
  g_autofree char *path = write_tmp ("good.jsonl", s->str, s->len);
  Outcome o;
  run_three_ways (path, REFERRAL_RUN_STOP_AT_ERROR, NULL, NULL, &o);
  ck_assert (o.ok);
  ck_assert_uint_eq (o.st.applied, N_EVENTS);
  ck_assert_uint_eq (o.st.lines, N_EVENTS);
  outcome_clear (&o);
  g_string_free (s, TRUE);
}
END_TEST

/* One error at a batch's first or last event, at the ring's edge, at the
 * first and at the last line, after the two big events. */
typedef struct {
  ErrKind kind;
  guint at;
} OneError;

static const OneError one_errors[] = {
  { ERR_BAD_JSON, 0 }, { ERR_REJECT, 300 }, { ERR_BAD_JSON, 255 }, { ERR_MONEY, 256 },
  { ERR_REJECT, 511 }, { ERR_REJECT, 512 }, { ERR_BAD_JSON, 1535 }, { ERR_REJECT, 1536 },
  { ERR_BIG_REJECT, 899 }, { ERR_BAD_JSON, 902 }, { ERR_BIG_REJECT, 1537 },
  { ERR_MONEY, 3000 }, { ERR_REJECT, N_EVENTS - 1 }, { ERR_BIG_REJECT, N_EVENTS - 1 },
};

START_TEST (test_one_error)
{
  const OneError *c = &one_errors[_i];
  guint64 line = 0;
  GString *s = one_error_stream (c->kind, c->at, &line);
  g_autofree char *path = write_tmp ("one.jsonl", s->str, s->len);
  Outcome o;
  run_three_ways (path, REFERRAL_RUN_STOP_AT_ERROR, NULL, NULL, &o);
  ck_assert (!o.ok);
  ck_assert_uint_eq (o.st.errors, 1);
  ck_assert_uint_eq (o.st.lines, line);
  g_autofree char *prefix = g_strdup_printf ("%s:%" G_GUINT64_FORMAT ": ", path, line);
  ck_assert (g_str_has_prefix (o.log->str, prefix));
  outcome_clear (&o);

  /* Keeping going: an error among the joins leaves a member out, and
   * every later order of that member is rejected too. */
  run_three_ways (path, REFERRAL_RUN_KEEP_GOING, NULL, NULL, &o);
  if (c->at >= 300)
    ck_assert_uint_eq (o.st.errors, 1);
  else
    ck_assert_uint_gt (o.st.errors, 1);
  ck_assert_uint_eq (o.st.lines, count_lines (s->str));
  ck_assert (g_str_has_prefix (o.log->str, prefix));
  outcome_clear (&o);
  g_string_free (s, TRUE);
}
END_TEST

/* ---- standard input -------------------------------------------------------------- */

/* Makes @fd the process's standard input, dropping what stdio buffered. */
static void
set_stdin (int fd)
{
  __fpurge (stdin);
  ck_assert_int_eq (dup2 (fd, STDIN_FILENO), STDIN_FILENO);
  clearerr (stdin);
}

static void
stdin_from_file (gpointer path)
{
  int fd = open (path, O_RDONLY);
  ck_assert_int_ge (fd, 0);
  set_stdin (fd);
  close (fd);
}

START_TEST (test_stdin_regular_file)
{
  GString *s = mixed_stream (N_EVENTS);
  g_autofree char *path = write_tmp ("mixed.jsonl", s->str, s->len);
  static const ReferralRunFlags modes[] = { REFERRAL_RUN_KEEP_GOING, REFERRAL_RUN_STOP_AT_ERROR };
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      Outcome o;
      run_three_ways ("-", modes[m], stdin_from_file, path, &o);
      ck_assert (g_str_has_prefix (o.log->str, "<stdin>:"));
      ck_assert_uint_gt (o.st.applied, 250);
      outcome_clear (&o);
    }
  g_string_free (s, TRUE);
}
END_TEST

/* A pipe on standard input fed by a thread: @text, then (when @hold) the
 * write end stays open until the test says it may close or 20 s passed. */
typedef struct {
  int fd;
  const char *text;
  gsize len;
  gboolean hold;
  /* POSIX rather than GMutex: ThreadSanitizer sees these. */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  gboolean release;
  gboolean timed_out;
} Feeder;

static gpointer
feed (gpointer data)
{
  Feeder *f = data;
  gsize done = 0;
  while (done < f->len)
    {
      ssize_t n = write (f->fd, f->text + done, f->len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break; /* EPIPE: the reader is gone */
      done += (gsize) n;
    }
  if (f->hold)
    {
      struct timespec deadline;
      clock_gettime (CLOCK_REALTIME, &deadline);
      deadline.tv_sec += 20;
      pthread_mutex_lock (&f->lock);
      while (!f->release)
        if (pthread_cond_timedwait (&f->cond, &f->lock, &deadline) == ETIMEDOUT)
          {
            f->timed_out = TRUE;
            break;
          }
      pthread_mutex_unlock (&f->lock);
    }
  close (f->fd);
  return NULL;
}

static GThread *
stdin_from_feeder (Feeder *f)
{
  int fds[2];
  ck_assert_int_eq (pipe (fds), 0);
  set_stdin (fds[0]);
  close (fds[0]);
  f->fd = fds[1];
  pthread_mutex_init (&f->lock, NULL);
  pthread_cond_init (&f->cond, NULL);
  f->release = FALSE;
  f->timed_out = FALSE;
  return g_thread_new ("feeder", feed, f);
}

/* Closes standard input (the feeder sees EPIPE if still writing) and waits
 * for the feeder. */
static void
feeder_finish (Feeder *f, GThread *thread)
{
  pthread_mutex_lock (&f->lock);
  f->release = TRUE;
  pthread_cond_signal (&f->cond);
  pthread_mutex_unlock (&f->lock);
  int null = open ("/dev/null", O_RDONLY);
  set_stdin (null);
  close (null);
  g_thread_join (thread);
  pthread_mutex_destroy (&f->lock);
  pthread_cond_destroy (&f->cond);
}

typedef struct {
  Feeder feeder;
  GThread *thread;
} PipeInput;

static void
stdin_from_pipe (gpointer data)
{
  PipeInput *p = data;
  if (p->thread != NULL)
    feeder_finish (&p->feeder, p->thread);
  p->thread = stdin_from_feeder (&p->feeder);
}

START_TEST (test_stdin_pipe)
{
  signal (SIGPIPE, SIG_IGN);
  GString *s = mixed_stream (N_EVENTS);
  static const ReferralRunFlags modes[] = { REFERRAL_RUN_KEEP_GOING, REFERRAL_RUN_STOP_AT_ERROR };
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      PipeInput p = { .feeder = { .fd = -1, .text = s->str, .len = s->len, .hold = FALSE },
                      .thread = NULL };
      Outcome o;
      run_three_ways ("-", modes[m], stdin_from_pipe, &p, &o);
      feeder_finish (&p.feeder, p.thread);
      ck_assert (g_str_has_prefix (o.log->str, "<stdin>:"));
      ck_assert_uint_gt (o.st.applied, 250);
      outcome_clear (&o);
    }
  g_string_free (s, TRUE);
}
END_TEST

/* A run that stops at an error on a pipe returns at once, without waiting
 * for more input or its end (the pipe is not read ahead). */
START_TEST (test_stop_on_open_pipe)
{
  signal (SIGPIPE, SIG_IGN);
  static const char text[] = "{\"type\":\"join\",\"id\":\"j0\",\"member\":\"m0\"}\n{oops\n";
  static const ReferralRunFlags modes[] = { 0, REFERRAL_RUN_ONE_THREAD };
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      Feeder f = { .fd = -1, .text = text, .len = sizeof text - 1, .hold = TRUE };
      GThread *t = stdin_from_feeder (&f);
      Outcome o;
      run_library ("-", modes[m], &o);
      pthread_mutex_lock (&f.lock);
      gboolean late = f.timed_out;
      pthread_mutex_unlock (&f.lock);
      feeder_finish (&f, t);
      ck_assert_msg (!late, "the run waited for the pipe to be closed");
      ck_assert_uint_eq (o.st.lines, 2);
      ck_assert_uint_eq (o.st.applied, 1);
      ck_assert_str_eq (o.log->str, "<stdin>:2: invalid JSON: expected a string key at column 2\n");
      outcome_clear (&o);
    }
}
END_TEST

/* ---- read errors ------------------------------------------------------------------
 * A regular file that fails with EIO part way: /proc/self/mem read from the
 * address of a mapping of @path one page longer than the file (reading the
 * page past the end of the file fails). */

static void
stdin_from_memory (gpointer data)
{
  const char *at = data;
  int fd = open ("/proc/self/mem", O_RDONLY);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (lseek (fd, (off_t) (guintptr) at, SEEK_SET), (off_t) (guintptr) at);
  set_stdin (fd);
  close (fd);
}

START_TEST (test_read_error)
{
  /* The events, padded with a comment to a whole number of pages. */
  GString *s = mixed_stream (3000);
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  g_string_append (s, "#");
  while ((s->len + 1) % page != 0)
    g_string_append_c (s, '-');
  g_string_append_c (s, '\n');
  g_autofree char *path = write_tmp ("mem.jsonl", s->str, s->len);
  int fd = open (path, O_RDONLY);
  ck_assert_int_ge (fd, 0);
  char *map = mmap (NULL, s->len + page, PROT_READ, MAP_PRIVATE, fd, 0);
  ck_assert (map != MAP_FAILED);
  close (fd);

  /* Keep going: every line is read, then the read error ends the run. */
  Outcome o;
  run_three_ways ("-", REFERRAL_RUN_KEEP_GOING, stdin_from_memory, map, &o);
  ck_assert (!o.ok);
  ck_assert (g_error_matches (o.error, REFERRAL_ERROR, REFERRAL_ERROR_IO));
  assert_contains (o.error->message, "cannot read <stdin>");
  ck_assert_uint_eq (o.st.lines, count_lines (s->str));
  ck_assert_uint_gt (o.st.errors, 50);
  outcome_clear (&o);

  /* Stopping at the first error: the read error is never met. */
  run_three_ways ("-", REFERRAL_RUN_STOP_AT_ERROR, stdin_from_memory, map, &o);
  ck_assert_ptr_null (o.error);
  ck_assert_uint_eq (o.st.errors, 1);
  outcome_clear (&o);

  /* A file that fails at once. */
  run_three_ways ("/proc/self/mem", REFERRAL_RUN_KEEP_GOING, NULL, NULL, &o);
  ck_assert (g_error_matches (o.error, REFERRAL_ERROR, REFERRAL_ERROR_IO));
  ck_assert_uint_eq (o.st.lines, 0);
  outcome_clear (&o);

  munmap (map, s->len + page);
  g_string_free (s, TRUE);
}
END_TEST

/* ---- no second thread ---------------------------------------------------------
 * When no thread can be started (here: every new thread asks for a stack
 * larger than the address space), the runner reads on the calling thread. */

static gpointer
nothing (gpointer data)
{
  return data;
}

START_TEST (test_no_thread)
{
  pthread_attr_t attr;
  ck_assert_int_eq (pthread_getattr_default_np (&attr), 0);
  ck_assert_int_eq (pthread_attr_setstacksize (&attr, (size_t) 1 << 50), 0);
  ck_assert_int_eq (pthread_setattr_default_np (&attr), 0);
  pthread_attr_destroy (&attr);
  GError *error = NULL;
  GThread *t = g_thread_try_new ("none", nothing, NULL, &error);
  ck_assert_msg (t == NULL, "a thread could still be started");
  g_clear_error (&error);

  GString *s = mixed_stream (N_EVENTS);
  g_autofree char *path = write_tmp ("mixed.jsonl", s->str, s->len);
  static const ReferralRunFlags modes[] = { REFERRAL_RUN_KEEP_GOING, REFERRAL_RUN_STOP_AT_ERROR };
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      Outcome o;
      run_three_ways (path, modes[m], NULL, NULL, &o);
      ck_assert_uint_gt (o.st.applied, 250);
      outcome_clear (&o);
    }
  g_string_free (s, TRUE);
}
END_TEST

/* ---- through a journal --------------------------------------------------------- */

static ReferralJournal *
open_journal (const char *dir, gboolean read_only)
{
  g_autoptr (ReferralScheme) scheme = referral_scheme_new_builtin ("demo", NULL);
  ReferralJournalOptions opt = REFERRAL_JOURNAL_OPTIONS_INIT;
  opt.sync = REFERRAL_SYNC_NONE;
  opt.read_only = read_only;
  GError *error = NULL;
  ReferralJournal *j = referral_journal_open (dir, scheme, &opt, &error);
  assert_no_error (error);
  return j;
}

/* referral_journal_apply_jsonl() into a new journal @name; the outcome's
 * state is the journal's after reopening it. */
static void
run_journal (const char *path, const char *name, ReferralRunFlags flags, Outcome *o)
{
  g_autofree char *dir = g_build_filename (tmp_dir, name, NULL);
  ReferralJournal *j = open_journal (dir, FALSE);
  o->log = g_string_new (NULL);
  o->error = NULL;
  o->st = (ReferralRunStats) { 7, 7, 7, 7 };
  o->ok = referral_journal_apply_jsonl (j, path, flags, collect_report, o->log, &o->st,
                                        &o->error);
  guint64 hash = referral_engine_state_hash (referral_journal_engine (j));
  GError *error = NULL;
  ck_assert (referral_journal_close (j, &error));
  assert_no_error (error);
  j = open_journal (dir, TRUE);
  outcome_take_engine (o, referral_journal_engine (j));
  ck_assert_uint_eq (o->hash, hash);
  referral_journal_free (j);
}

START_TEST (test_journal)
{
  GString *s = mixed_stream (N_EVENTS);
  g_autofree char *path = write_tmp ("mixed.jsonl", s->str, s->len);
  static const ReferralRunFlags modes[] = { REFERRAL_RUN_KEEP_GOING, REFERRAL_RUN_STOP_AT_ERROR };
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      Outcome two, one, ref;
      g_autofree char *a = g_strdup_printf ("j2-%u", m);
      g_autofree char *b = g_strdup_printf ("j1-%u", m);
      run_journal (path, a, modes[m], &two);
      run_journal (path, b, modes[m] | REFERRAL_RUN_ONE_THREAD, &one);
      run_reference (path, modes[m], &ref);
      assert_same (&two, &ref, "journal, two threads");
      assert_same (&one, &ref, "journal, one thread");
      ck_assert_uint_gt (two.st.applied, 250);
      outcome_clear (&two);
      outcome_clear (&one);
      outcome_clear (&ref);
    }
  g_string_free (s, TRUE);
}
END_TEST

/* The journal refuses every event (it is read-only): the run ends there
 * with the journal's error, on that event's line, after reporting the bad
 * line before it. */
START_TEST (test_journal_fatal)
{
  g_autofree char *dir = g_build_filename (tmp_dir, "ro", NULL);
  referral_journal_free (open_journal (dir, FALSE));
  GString *s = g_string_new ("# first\n{oops\n\n");
  for (guint i = 0; i < N_EVENTS; i++)
    append_event (s, i, FALSE);
  g_autofree char *path = write_tmp ("events.jsonl", s->str, s->len);
  static const ReferralRunFlags modes[] = { REFERRAL_RUN_KEEP_GOING,
                                            REFERRAL_RUN_KEEP_GOING | REFERRAL_RUN_ONE_THREAD };
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      ReferralJournal *j = open_journal (dir, TRUE);
      GString *log = g_string_new (NULL);
      ReferralRunStats st;
      GError *error = NULL;
      ck_assert (!referral_journal_apply_jsonl (j, path, modes[m], collect_report, log, &st,
                                                &error));
      assert_error_has (error, REFERRAL_ERROR_JOURNAL, "read-only");
      g_clear_error (&error);
      g_autofree char *expected = g_strdup_printf (
        "%s:2: invalid JSON: expected a string key at column 2\n", path);
      ck_assert_str_eq (log->str, expected);
      ck_assert_uint_eq (st.lines, 4);
      ck_assert_uint_eq (st.errors, 1);
      ck_assert_uint_eq (st.applied, 0);
      ck_assert_uint_eq (referral_engine_n_events (referral_journal_engine (j)), 0);
      referral_journal_free (j);
      g_string_free (log, TRUE);
    }
  g_string_free (s, TRUE);
}
END_TEST

static Suite *
threads_suite (void)
{
  Suite *s = suite_create ("jsonl-threads");
  TCase *tc = tu_tcase (s, "files", 120);
  tcase_add_checked_fixture (tc, setup_tmp, teardown_tmp);
  tcase_add_test (tc, test_mixed_keep_going);
  tcase_add_test (tc, test_mixed_stop);
  tcase_add_test (tc, test_all_good);
  tcase_add_loop_test (tc, test_one_error, 0, G_N_ELEMENTS (one_errors));

  tc = tu_tcase (s, "stdin", 120);
  tcase_add_checked_fixture (tc, setup_tmp, teardown_tmp);
  tcase_add_test (tc, test_stdin_regular_file);
  tcase_add_test (tc, test_stdin_pipe);
  tcase_add_test (tc, test_stop_on_open_pipe);
  tcase_add_test (tc, test_read_error);

  tc = tu_tcase (s, "fallback", 120);
  tcase_add_checked_fixture (tc, setup_tmp, teardown_tmp);
  tcase_add_test (tc, test_no_thread);

  tc = tu_tcase (s, "journal", 120);
  tcase_add_checked_fixture (tc, setup_tmp, teardown_tmp);
  tcase_add_test (tc, test_journal);
  tcase_add_test (tc, test_journal_fatal);
  return s;
}

int
main (void)
{
  return tu_run_suites (threads_suite (), NULL);
}
