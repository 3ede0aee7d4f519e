/* referral-bench: throughput and memory of libreferral on deterministic
 * workloads.  See docs/performance.md for what each figure means.
 *
 *   referral-bench [--workload NAME[,NAME...]|all] [--members N[,N...]]
 *                  [--runs K] [--seed S] [--json] [--chunk N] [--quiet]
 *                  [--spill DIR | --in-memory]
 *   referral-bench --workload chain21 --members N --write-jsonl FILE
 *   referral-bench --workload unilevel --scheme FILE ...
 *
 * Each (workload, size) runs in a child process, so that workloads do not
 * share an allocator or a peak RSS.  The child generates the event stream
 * (compact, in memory; chain21 with an oracle engine that is freed again),
 * then forks one process per run: each run builds a fresh engine, turns the
 * stream into ReferralEvent structs one chunk at a time with the clock
 * stopped, and applies each chunk with the clock running.  The figure is
 * the median of the runs.
 *
 * Spilling.  Above SPILL_AUTO_MEMBERS members (or with --spill DIR), the
 * stream is not held in memory: a generator process writes it to a
 * temporary file as it goes (only its oracle engine and a window of
 * --spill-window events are in memory) and exits before the first run;
 * each run reads the file back --spill-window events at a time, with the
 * clock stopped, and applies the same --chunk batches as from memory.  The
 * file is unlinked as soon as it is created, so it goes away with the last
 * process holding it open, however that process ends.  bare always holds
 * its stream and its effects program in memory, and --write-jsonl its
 * stream.
 *
 * --scheme FILE runs the workloads' streams under a scheme file instead of
 * their own scheme (a rule plugin or a Lua rule, say; its `plugins` are
 * loaded from REFERRAL_PLUGIN_PATH).  The memory model then does not apply
 * and is left out. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <referral/referral.h>

#include "measure.h"
#include "workloads.h"

typedef struct {
  char *workloads;
  char *members;
  gint runs;
  gint64 seed;
  gboolean json;
  gint chunk;
  gboolean quiet;
  gboolean list;
  char *write_jsonl;
  char *scheme;
  char *spill_dir;
  gboolean in_memory;
  gint spill_window;
} Options;

/* Streams of more members than this are spilled to a file unless
 * --in-memory is given (see the comment at the top). */
#define SPILL_AUTO_MEMBERS 2000000

/* Where the runs take their events from: the whole stream in memory, or a
 * spill file read back a window at a time. */
typedef struct {
  const BenchStream *stream; /* in memory, or NULL */
  int fd;                    /* the spill file when stream is NULL */
  gsize n;                   /* events */
  guint64 n_orders;
  gboolean have_oracle_hash;
  guint64 oracle_hash;
} Source;

/* What one run reports to its parent through a pipe. */
typedef struct {
  gint64 wall_ns;
  gint64 cpu_ns;
  guint64 events;      /* events in the stream */
  guint64 applied;
  guint64 rejected;
  guint64 postings;
  guint64 members;
  guint64 orders;
  guint64 rss_before;  /* before the engine was created */
  guint64 peak_rss;    /* VmHWM at the end */
  gboolean peak_reset; /* VmHWM was reset before the engine was created */
  guint64 state_hash;
  BenchModel model;
  char first_error[160];
} RunResult;

static void
die (const char *fmt, ...) G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN;

static void
die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("referral-bench: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (2);
}

/* --scheme: the scheme file every run uses instead of the workload's own. */
static const char *scheme_file;
/* --one-by-one: referral_engine_apply() per event instead of
 * referral_engine_apply_many() per chunk. */
static gboolean one_by_one;

static BenchSchemeShape
scheme_shape (const char *workload)
{
  /* chain21 (examples/schemes/chain21.ini): the superior memo for rank
   * "partner"; fields seeds (2 words), help_fund_released,
   * performance:pool, sponsored_at_least:1, counted_at_least:1 (1 each).
   * unilevel: no memo, no fields. */
  if (strcmp (workload, "unilevel") == 0)
    return (BenchSchemeShape) { 0, 0 };
  return (BenchSchemeShape) { 1, 6 };
}

static guint64
digits (guint64 v)
{
  guint64 n = 1;
  while (v >= 10)
    {
      v /= 10;
      n++;
    }
  return n;
}

/* Sum of (strlen + 1) over the keys prefix0 .. prefix(n-1). */
static guint64
key_bytes (guint64 n)
{
  guint64 total = 0;
  for (guint64 lo = 0, hi = 10; lo < n; lo = hi, hi *= 10)
    total += (MIN (hi, n) - lo) * (digits (lo) + 2);
  return total;
}

/* Gives the pages the generator freed back to the system (so that the run
 * cannot reuse them unseen), then starts the peak RSS afresh. */
static void
start_memory (RunResult *r)
{
  malloc_trim (0);
  r->peak_reset = bench_reset_peak_rss ();
  r->rss_before = bench_rss_bytes ();
}

/* --spill-window: events the generator buffers and a run reads back at a
 * time from a spill file (a run: at least --chunk). */
static gsize spill_window = BENCH_SPILL_EVENTS;

static void
run_engine (const char *workload, const Source *src, gsize chunk_size,
            const char *label, gboolean progress, RunResult *r)
{
  GError *error = NULL;
  /* From a spill file: the window of events read back (its first part is
   * read before the memory baseline, as the stream is when in memory). */
  BenchStream window = { 0 };
  const BenchStream *stream = src->stream;
  gsize window_events = MAX (spill_window, chunk_size);
  if (stream == NULL)
    {
      if (!bench_spill_read (src->fd, 0, MIN (window_events, src->n), &window, &error))
        die ("%s: %s", label, error->message);
      stream = &window;
    }
  start_memory (r);

  ReferralScheme *scheme = scheme_file ? referral_scheme_load_file (scheme_file, &error)
                                       : bench_scheme_new (workload, &error);
  if (scheme == NULL)
    die ("%s", error->message);
  ReferralEngine *engine = referral_engine_new (scheme, &error);
  if (engine == NULL)
    die ("%s", error->message);

  BenchChunk chunk = { 0 };
  gint64 next_progress = bench_wall_ns () + 2000000000;
  for (gsize first = 0; first < src->n; first += chunk_size)
    {
      gsize n = MIN (chunk_size, src->n - first);
      /* Clock stopped: read the next window when this batch is not in it. */
      if (first + n > stream->n
          && !bench_spill_read (src->fd, first, MIN (window_events, src->n - first), &window,
                                &error))
        die ("%s: %s", label, error->message);
      bench_chunk_fill (&chunk, stream, first, n);

      gint64 w0 = bench_wall_ns (), c0 = bench_cpu_ns ();
      if (one_by_one)
        {
          for (gsize k = 0; k < n; k++)
            if (G_UNLIKELY (!referral_engine_apply (engine, &chunk.events[k], NULL, &error)))
              {
                if (r->rejected++ == 0)
                  g_strlcpy (r->first_error, error->message, sizeof r->first_error);
                g_clear_error (&error);
              }
        }
      else
        {
          /* apply_many stops at a rejected event: note it, go on after it. */
          gsize done = 0;
          for (gsize k = 0; k < n; k += done + 1)
            {
              if (referral_engine_apply_many (engine, &chunk.events[k], n - k, &done, NULL, &error))
                break;
              if (r->rejected++ == 0)
                g_strlcpy (r->first_error, error->message, sizeof r->first_error);
              g_clear_error (&error);
            }
        }
      gint64 w1 = bench_wall_ns (), c1 = bench_cpu_ns ();
      r->wall_ns += w1 - w0;
      r->cpu_ns += c1 - c0;

      if (progress && w1 > next_progress)
        {
          next_progress = w1 + 2000000000;
          fprintf (stderr, "  %s: %zu/%zu events\n", label, first + n, src->n);
        }
    }
  r->peak_rss = bench_peak_rss_bytes ();

  const ReferralTree *tree = referral_engine_tree (engine);
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  r->events = src->n;
  r->applied = referral_engine_n_events (engine);
  r->postings = referral_ledger_n_postings (ledger);
  r->members = referral_tree_size (tree);
  r->orders = src->n_orders;
  r->state_hash = referral_engine_state_hash (engine);

  if (scheme_file == NULL)
    {
      BenchSchemeShape shape = scheme_shape (workload);
      BenchCounts counts = { r->members, r->applied, r->orders, r->postings,
                             key_bytes (r->members), key_bytes (r->applied),
                             key_bytes (r->orders) };
      bench_model_compute (&shape, &counts, &r->model);
    }

  bench_chunk_clear (&chunk);
  bench_stream_clear (&window);
  referral_engine_free (engine);
  referral_scheme_unref (scheme);
}

/* The bare limit: the same effects over plain arrays (see workloads.h). */
static void
run_bare (const BareProgram *bare, RunResult *r)
{
  start_memory (r);

  guint32 n = bare->n_members;
  guint32 *parent = g_new (guint32, n);
  guint8 *rank = g_new0 (guint8, n);
  gsize n_accounts = bare->n_accounts_base + 2 * (gsize) n;
  gint64 *balance = g_new0 (gint64, n_accounts);
  ReferralPosting *postings = g_new (ReferralPosting, bare->n_postings);
  guint64 np = 0;
  guint32 seq = 0;
  guint32 sink = 0;
  guint64 overflow = 0;

  gint64 w0 = bench_wall_ns (), c0 = bench_cpu_ns ();
  for (gsize i = 0; i < bare->n; i++)
    {
      const BareOp *op = &bare->ops[i];
      switch (op->op)
        {
        case BARE_EVENT_END:
          seq++;
          break;
        case BARE_JOIN:
          parent[op->a] = op->b;
          rank[op->a] = 0;
          break;
        case BARE_POST:
          {
            gint64 *from = &balance[op->a], *to = &balance[op->b];
            gint64 f, t;
            overflow |= __builtin_sub_overflow (*from, op->amount, &f);
            overflow |= __builtin_add_overflow (*to, op->amount, &t);
            *from = f;
            *to = t;
            postings[np++] = (ReferralPosting) { .amount = op->amount, .from = op->a,
                                                 .to = op->b, .event = seq };
            break;
          }
        case BARE_RANK:
          rank[op->a] = (guint8) op->b;
          break;
        case BARE_MOVE:
          parent[op->a] = op->b;
          break;
        case BARE_WALK:
          {
            guint32 p = parent[op->a];
            while (p != REFERRAL_NO_MEMBER && rank[p] < 2)
              p = parent[p];
            sink += p;
            break;
          }
        default:
          g_assert_not_reached ();
        }
    }
  gint64 w1 = bench_wall_ns (), c1 = bench_cpu_ns ();
  r->wall_ns = w1 - w0;
  r->cpu_ns = c1 - c0;
  r->peak_rss = bench_peak_rss_bytes ();

  gint64 sum = 0;
  for (gsize a = 0; a < n_accounts; a++)
    sum += balance[a];
  if (sum != 0 || overflow || np != bare->n_postings)
    die ("bare: the replay does not balance (sum %" G_GINT64_FORMAT ")", sum);
  r->events = r->applied = seq;
  r->postings = np;
  r->members = n;
  r->state_hash = sink;
  r->model.bytes_per_member = sizeof (guint32) + sizeof (guint8) + 2 * sizeof (gint64);
  r->model.bytes_per_posting = sizeof (ReferralPosting);
  r->model.total_bytes = (guint64) n * (guint64) r->model.bytes_per_member
                         + np * sizeof (ReferralPosting);
  g_free (parent);
  g_free (rank);
  g_free (balance);
  g_free (postings);
}

static int
compare_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static double
median_ns (gint64 *v, gint n)
{
  qsort (v, (size_t) n, sizeof *v, compare_i64);
  return n % 2 ? (double) v[n / 2] : ((double) v[n / 2 - 1] + (double) v[n / 2]) / 2;
}

static void
write_all (int fd, const void *data, gsize len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        _exit (3);
      p += w;
      len -= (gsize) w;
    }
}

static gboolean
read_all (int fd, void *data, gsize len)
{
  char *p = data;
  while (len > 0)
    {
      ssize_t r = read (fd, p, len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return FALSE;
      p += r;
      len -= (gsize) r;
    }
  return TRUE;
}

/* fork() with stdio flushed first (so that nothing buffered is written
 * twice); dies if it fails. */
static pid_t
fork_flushed (void)
{
  fflush (stdout);
  fflush (stderr);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork: %s", g_strerror (errno));
  return pid;
}

static gboolean
wait_ok (pid_t pid)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return FALSE;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

/* One run in a child process. */
static void
run_in_child (const char *workload, const Source *src, const BareProgram *bare,
              gsize chunk, const char *label, gboolean progress, RunResult *out)
{
  int fds[2];
  if (pipe (fds) != 0)
    die ("pipe: %s", g_strerror (errno));
  pid_t pid = fork_flushed ();
  if (pid == 0)
    {
      close (fds[0]);
      RunResult r = { 0 };
      if (bare)
        run_bare (bare, &r);
      else
        run_engine (workload, src, chunk, label, progress, &r);
      write_all (fds[1], &r, sizeof r);
      close (fds[1]);
      _exit (0);
    }
  close (fds[1]);
  gboolean ok = read_all (fds[0], out, sizeof *out);
  close (fds[0]);
  if (!wait_ok (pid) || !ok)
    die ("%s: the run process failed", label);
}

static void
print_result (const Options *o, const char *workload, guint32 members, const RunResult *runs,
              gint n, double generate_s, gboolean spilled)
{
  gint64 *wall = g_new (gint64, n), *cpu = g_new (gint64, n);
  for (gint i = 0; i < n; i++)
    {
      wall[i] = runs[i].wall_ns;
      cpu[i] = runs[i].cpu_ns;
    }
  double med = median_ns (wall, n);
  double min = (double) wall[0], max = (double) wall[n - 1];
  double cpu_med = median_ns (cpu, n);
  const RunResult *r = &runs[0];
  guint64 peak = 0, delta = 0;
  for (gint i = 0; i < n; i++)
    {
      peak = MAX (peak, runs[i].peak_rss);
      delta = MAX (delta, runs[i].peak_rss - MIN (runs[i].peak_rss, runs[i].rss_before));
    }
  double eps = r->events / (med / 1e9);
  double ns = med / (double) r->events;
  double pps = r->postings / (med / 1e9);
  double rss_over_model = r->model.total_bytes ? (double) delta / (double) r->model.total_bytes : 0;

  if (o->json)
    {
      printf ("{\"workload\":\"%s\",\"members\":%u,\"events\":%" G_GUINT64_FORMAT
              ",\"runs\":%d,\"seed\":%" G_GINT64_FORMAT
              ",\"events_per_s\":%.0f,\"ns_per_event\":%.1f,\"cpu_ns_per_event\":%.1f"
              ",\"seconds_median\":%.4f,\"seconds_min\":%.4f,\"seconds_max\":%.4f"
              ",\"postings\":%" G_GUINT64_FORMAT ",\"postings_per_s\":%.0f"
              ",\"peak_rss_bytes\":%" G_GUINT64_FORMAT ",\"rss_delta_bytes\":%" G_GUINT64_FORMAT
              ",\"bytes_per_member\":%.1f,\"bytes_per_posting\":%.1f,\"bytes_per_event\":%.1f"
              ",\"model_bytes\":%" G_GUINT64_FORMAT ",\"rss_over_model\":%.3f"
              ",\"rejected\":%" G_GUINT64_FORMAT ",\"state_hash\":\"%016" G_GINT64_MODIFIER "x\""
              ",\"generate_s\":%.2f,\"api\":\"%s\",\"spill\":%s}\n",
              workload, members, r->events, n, o->seed, eps, ns, cpu_med / (double) r->events,
              med / 1e9, min / 1e9, max / 1e9, r->postings, pps, peak, delta,
              r->model.bytes_per_member, r->model.bytes_per_posting, r->model.bytes_per_event,
              r->model.total_bytes, rss_over_model, r->rejected, r->state_hash, generate_s,
              one_by_one ? "apply" : "apply_many", spilled ? "true" : "false");
    }
  else
    {
      printf ("%-12s members %9u  events %10" G_GUINT64_FORMAT "  %6.3f s (min %.3f, max %.3f)"
              "  %7.3f M events/s  %7.1f ns/event  %6.2f M postings/s"
              "  peak RSS %7.1f MiB (engine %7.1f MiB, %.2f x model)  %.0f B/member  %.0f B/posting\n",
              workload, members, r->events, med / 1e9, min / 1e9, max / 1e9, eps / 1e6, ns,
              pps / 1e6, peak / 1048576.0, delta / 1048576.0, rss_over_model,
              r->model.bytes_per_member, r->model.bytes_per_posting);
    }
  if (r->rejected)
    fprintf (stderr, "referral-bench: %s: %" G_GUINT64_FORMAT " events rejected; first: %s\n",
             workload, r->rejected, r->first_error);
  fflush (stdout);
  g_free (wall);
  g_free (cpu);
}

/* A new spill file in @dir, already unlinked: it goes away when the last
 * process that has it open exits, whichever way.  Signals are held off
 * between creating and unlinking it. */
static int
spill_file_new (const char *dir, guint64 bytes_needed)
{
  struct statvfs vfs;
  if (statvfs (dir, &vfs) == 0 && (guint64) vfs.f_bavail * vfs.f_frsize < bytes_needed)
    die ("--spill: %s has %" G_GUINT64_FORMAT " MB free, the stream needs about %" G_GUINT64_FORMAT
         " MB", dir, (guint64) vfs.f_bavail * vfs.f_frsize / 1000000, bytes_needed / 1000000);
  sigset_t all, old;
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, &old);
  char *path = g_build_filename (dir, "referral-bench-spill-XXXXXX", NULL);
  int fd = g_mkstemp_full (path, O_RDWR, 0600);
  int e = errno;
  if (fd >= 0 && unlink (path) != 0)
    {
      e = errno;
      close (fd);
      fd = -1;
    }
  sigprocmask (SIG_SETMASK, &old, NULL);
  if (fd < 0)
    die ("--spill: cannot create a file in %s: %s", dir, g_strerror (e));
  g_free (path);
  return fd;
}

/* Generates the stream into the spill file @fd in a child process, so that
 * the oracle engine is gone (with its process) before the first run. */
static void
generate_spilled (const Options *o, const char *workload, guint32 members, const char *dir,
                  int fd, Source *src)
{
  gboolean progress = !o->quiet;
  pid_t pid = fork_flushed ();
  if (pid == 0)
    {
      BenchStream stream = { 0 };
      GError *error = NULL;
      bench_stream_spill_to (&stream, fd, spill_window);
      if (!bench_generate (workload, members, (guint64) o->seed, &stream, NULL, progress, &error)
          || !bench_stream_spill_finish (&stream, members, (guint64) o->seed, &error))
        {
          fprintf (stderr, "referral-bench: %s\n", error->message);
          _exit (2);
        }
      if (progress)
        fprintf (stderr, "  wrote %zu events (%.0f MB) to a spill file in %s; generator's "
                 "peak RSS %.0f MiB\n", stream.n,
                 (BENCH_SPILL_HEADER + (double) stream.n * sizeof (BenchEvent)) / 1e6, dir,
                 bench_peak_rss_bytes () / 1048576.0);
      fflush (stderr);
      _exit (0);
    }
  if (!wait_ok (pid))
    die ("%s, %u members: the generator failed", workload, members);
  BenchSpillInfo info;
  GError *error = NULL;
  if (!bench_spill_read_info (fd, &info, &error))
    die ("%s", error->message);
  if (info.members != members || info.seed != (guint64) o->seed)
    die ("the spill file holds another stream (%u members, seed %" G_GUINT64_FORMAT ")",
         info.members, info.seed);
  *src = (Source) { NULL, fd, info.n_events, info.n_orders, info.have_oracle_hash,
                    info.oracle_hash };
}

/* One workload at one size, in a child process. */
static void
run_workload (const Options *o, const char *workload, guint32 members)
{
  gboolean progress = !o->quiet;
  BenchStream stream = { 0 };
  BareProgram bare = { 0 };
  gboolean is_bare = strcmp (workload, "bare") == 0;
  gboolean spilled = !is_bare && !o->in_memory
                     && (o->spill_dir != NULL || members > SPILL_AUTO_MEMBERS);
  const char *dir = o->spill_dir ? o->spill_dir : g_get_tmp_dir ();
  Source src = { 0 };
  GError *error = NULL;
  if (progress)
    fprintf (stderr, "%s, %u members: generating%s%s\n", workload, members,
             spilled ? " into a spill file in " : "", spilled ? dir : "");
  gint64 g0 = bench_wall_ns ();
  if (spilled)
    {
      /* about 10 events per member; the adversarial shapes up to 10.0005 */
      int fd = spill_file_new (dir, BENCH_SPILL_HEADER + (guint64) members * 11 * sizeof (BenchEvent));
      generate_spilled (o, workload, members, dir, fd, &src);
    }
  else
    {
      if (!bench_generate (workload, members, (guint64) o->seed, &stream, is_bare ? &bare : NULL,
                           progress, &error))
        die ("%s", error->message);
      src = (Source) { &stream, -1, stream.n, stream.n_orders, stream.have_oracle_hash,
                       stream.oracle_hash };
    }
  double generate_s = (bench_wall_ns () - g0) / 1e9;
  /* The oracle applied the same events one at a time: a run of the
   * workload's own scheme must end in its state. */
  gboolean check_oracle = src.have_oracle_hash && !is_bare && scheme_file == NULL;

  RunResult *runs = g_new0 (RunResult, o->runs);
  for (gint i = 0; i < o->runs; i++)
    {
      char label[96];
      g_snprintf (label, sizeof label, "%s %u run %d/%d", workload, members, i + 1, o->runs);
      if (progress)
        fprintf (stderr, "%s%s\n", label, spilled ? " (events read back from the spill file)" : "");
      run_in_child (workload, &src, is_bare ? &bare : NULL, (gsize) o->chunk, label,
                    progress, &runs[i]);
      if (runs[i].state_hash != runs[0].state_hash)
        die ("%s: run %d ended in another state than run 1: the engine is not deterministic",
             workload, i + 1);
      if (check_oracle && runs[i].state_hash != src.oracle_hash)
        die ("%s: run %d ended in state %016" G_GINT64_MODIFIER "x, the generator's oracle "
             "(the same events, one referral_engine_apply() each) in %016" G_GINT64_MODIFIER "x",
             workload, i + 1, runs[i].state_hash, src.oracle_hash);
    }
  print_result (o, workload, members, runs, o->runs, generate_s, spilled);
  g_free (runs);
  if (spilled)
    close (src.fd);
  bench_stream_clear (&stream);
  bare_program_clear (&bare);
}

static guint32
parse_members (const char *text)
{
  char *end;
  guint64 v = g_ascii_strtoull (text, &end, 10);
  /* also accept 1e6 */
  if (*end == 'e' || *end == 'E')
    {
      guint64 exp = g_ascii_strtoull (end + 1, &end, 10);
      while (exp--)
        v *= 10;
    }
  if (*end != '\0' || v == 0 || v > 100000000)
    die ("--members: \"%s\" is not a number of members between 1 and 10^8", text);
  return (guint32) v;
}

/* Frees the strings g_option_context_parse() filled in. */
static void
options_clear (Options *o)
{
  g_clear_pointer (&o->workloads, g_free);
  g_clear_pointer (&o->members, g_free);
  g_clear_pointer (&o->write_jsonl, g_free);
  g_clear_pointer (&o->scheme, g_free);
  g_clear_pointer (&o->spill_dir, g_free);
}

int
main (int argc, char **argv)
{
  Options o = { .runs = 5, .seed = 1, .chunk = 65536, .spill_window = BENCH_SPILL_EVENTS };
  GOptionEntry entries[] = {
    { "workload", 'w', 0, G_OPTION_ARG_STRING, &o.workloads,
      "Workloads to run, comma-separated, or \"all\" (default)", "NAME" },
    { "members", 'n', 0, G_OPTION_ARG_STRING, &o.members,
      "Members, comma-separated sizes (default: each workload's own)", "N" },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &o.runs, "Runs per workload, median reported (default 5)", "K" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &o.seed, "Seed of the generators (default 1)", "S" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &o.json, "One JSON object per workload on stdout", NULL },
    { "chunk", 0, 0, G_OPTION_ARG_INT, &o.chunk,
      "Events materialised per clock stop (default 65536)", "N" },
    { "one-by-one", 0, 0, G_OPTION_ARG_NONE, &one_by_one,
      "Apply with referral_engine_apply() per event, not referral_engine_apply_many() per chunk",
      NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet, "No progress on stderr", NULL },
    { "list", 'l', 0, G_OPTION_ARG_NONE, &o.list, "List the workloads", NULL },
    { "write-jsonl", 0, 0, G_OPTION_ARG_FILENAME, &o.write_jsonl,
      "Write the stream of one workload as JSON Lines to FILE (\"-\": stdout) instead of timing it",
      "FILE" },
    { "scheme", 0, 0, G_OPTION_ARG_FILENAME, &o.scheme,
      "Run the streams under this scheme file instead of each workload's own "
      "(plugins from REFERRAL_PLUGIN_PATH; no memory model)", "FILE" },
    { "spill", 0, 0, G_OPTION_ARG_FILENAME, &o.spill_dir,
      "Write each stream to a temporary file in DIR while generating it, and read it back "
      "2^20 events at a time in each run (the default above 2,000,000 members, in $TMPDIR "
      "or /tmp)", "DIR" },
    { "in-memory", 0, 0, G_OPTION_ARG_NONE, &o.in_memory,
      "Hold every stream in memory, at any size", NULL },
    { "spill-window", 0, 0, G_OPTION_ARG_INT, &o.spill_window,
      "Events buffered by the generator and read back at a time from a spill file "
      "(default 1048576; a run reads at least --chunk)", "N" },
    { NULL, 0, 0, 0, NULL, NULL, NULL }
  };
  GError *error = NULL;
  GOptionContext *ctx = g_option_context_new ("- benchmark libreferral");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Each (workload, size) runs in a process of its own, each run in a fresh process and a\n"
    "fresh engine; the figure is the median of the runs (see docs/performance.md).\n"
    "\n"
    "Large streams.  Up to 2,000,000 members the whole stream is generated into memory\n"
    "(chain21: through an oracle engine that is freed before the runs) and each run\n"
    "converts --chunk events at a time, clock stopped, then applies them, clock running.\n"
    "Above 2,000,000 members (or at any size with --spill DIR) a generator process writes\n"
    "the stream to a temporary file in DIR (default $TMPDIR or /tmp; unlinked at once, so\n"
    "it disappears however the bench ends) and exits, oracle and all, before the first\n"
    "run.  Each run then reads the file back 2^20 events (--spill-window) at a time with\n"
    "the clock stopped: the events are held in memory one window at a time, not all at\n"
    "once.  Nothing in the timed work changes (apply_many gets the same --chunk batches\n"
    "of the same events and strings); the run process only has less memory in use before\n"
    "the engine, and the untimed reading takes longer.  The file takes 24 bytes per\n"
    "event (2.4 GB at 10^7 members).  Every run must end in the oracle's state hash\n"
    "(chain21) and in the same state as run 1.  bare always holds its stream in memory.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    die ("%s", error->message);
  g_option_context_free (ctx);
  if (o.runs < 1 || o.chunk < 1 || o.spill_window < 1)
    die ("--runs, --chunk and --spill-window must be positive");
  spill_window = (gsize) o.spill_window;
  if (o.spill_dir && o.in_memory)
    die ("--spill and --in-memory exclude each other");
  scheme_file = o.scheme;

  if (o.list)
    {
      for (const BenchWorkloadInfo *w = bench_workloads; w->name; w++)
        printf ("%-12s %s (default %u members)\n", w->name, w->description, w->default_members);
      options_clear (&o);
      return 0;
    }

  char **names = g_strsplit (o.workloads && strcmp (o.workloads, "all") != 0 ? o.workloads : "",
                             ",", -1);
  if (names[0] == NULL)
    {
      g_strfreev (names);
      GStrvBuilder *b = g_strv_builder_new ();
      for (const BenchWorkloadInfo *w = bench_workloads; w->name; w++)
        g_strv_builder_add (b, w->name);
      names = g_strv_builder_end (b);
      g_strv_builder_unref (b);
    }
  for (char **n = names; *n; n++)
    if (bench_workload_lookup (*n) == NULL)
      die ("unknown workload \"%s\" (see --list)", *n);
  char **sizes = o.members ? g_strsplit (o.members, ",", -1) : NULL;

  if (o.write_jsonl)
    {
      if (names[1] != NULL || !bench_workload_lookup (names[0])->needs_oracle
          || strcmp (names[0], "bare") == 0)
        die ("--write-jsonl writes one chain21 stream: use --workload chain21");
      guint32 members = sizes ? parse_members (sizes[0]) : bench_workload_lookup (names[0])->default_members;
      BenchStream stream = { 0 };
      if (!bench_generate (names[0], members, (guint64) o.seed, &stream, NULL, !o.quiet, &error))
        die ("%s", error->message);
      FILE *out = strcmp (o.write_jsonl, "-") == 0 ? stdout : fopen (o.write_jsonl, "w");
      if (out == NULL)
        die ("cannot write %s: %s", o.write_jsonl, g_strerror (errno));
      if (!bench_write_jsonl (out, &stream) || (out != stdout && fclose (out) != 0))
        die ("cannot write %s: %s", o.write_jsonl, g_strerror (errno));
      if (!o.quiet)
        fprintf (stderr, "wrote %zu events (%u members, seed %" G_GINT64_FORMAT ") to %s\n",
                 stream.n, members, o.seed, o.write_jsonl);
      bench_stream_clear (&stream);
      g_strfreev (names);
      g_strfreev (sizes);
      options_clear (&o);
      return 0;
    }

  int status = 0;
  for (char **n = names; *n; n++)
    {
      guint n_sizes = sizes ? g_strv_length (sizes) : 1;
      for (guint s = 0; s < n_sizes; s++)
        {
          guint32 members = sizes ? parse_members (sizes[s]) : bench_workload_lookup (*n)->default_members;
          pid_t pid = fork_flushed ();
          if (pid == 0)
            {
              run_workload (&o, *n, members);
              fflush (stdout);
              _exit (0);
            }
          if (!wait_ok (pid))
            {
              fprintf (stderr, "referral-bench: workload %s (%u members) failed\n", *n, members);
              status = 1;
            }
        }
    }
  g_strfreev (names);
  g_strfreev (sizes);
  options_clear (&o);
  return status;
}
