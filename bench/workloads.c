/* referral-bench: deterministic workload generators (see workloads.h). */
#include "workloads.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A period closes every PERIOD_EVENTS events ("daily"): the stream's event
 * number i is a close when i % PERIOD_EVENTS == PERIOD_EVENTS - 1. */
#define PERIOD_EVENTS 20000

/* Refunds are of one of the last REFUND_WINDOW orders; the generator keeps
 * the refunded flags of the last REFUNDED_RING (> REFUND_WINDOW, a power of
 * two) orders only, order o in slot o % REFUNDED_RING. */
#define REFUND_WINDOW 5000u
#define REFUNDED_RING 8192u
G_STATIC_ASSERT (REFUNDED_RING > REFUND_WINDOW && (REFUNDED_RING & (REFUNDED_RING - 1)) == 0);

/* chain21 ranks, as in examples/schemes/chain21.ini. */
enum { RANK_USER = 0, RANK_AGENT = 1, RANK_PARTNER = 2 };
static const char *const rank_names[] = { "user", "agent", "partner" };

#define GIFT_AMOUNT 69900 /* 699.00 */

const BenchWorkloadInfo bench_workloads[] = {
  { "chain21", "chain 2+1 (built-in scheme): joins, gift and other orders, refunds, "
               "daily period closes, transposes, withdrawals; ~10 events per member",
    1000000, TRUE },
  { "bare", "the bare limit: the chain21 stream's effects (postings, ancestor walks, "
            "rank changes, moves) replayed over plain arrays, no rule logic, no keys",
    1000000, TRUE },
  { "deep_chain", "chain21 on a chain of agents as deep as the membership; gift orders at "
                  "random depths", 1000000, FALSE },
  { "wide_star", "chain21 on a star: every member sponsored by one partner", 1000000, FALSE },
  { "deep_binary", "chain21 on a binary caterpillar (a spine as deep as half the membership, "
                   "a leaf on each spine node); the leaves buy last, in random order, so "
                   "every purchase breaks a spine node away (moves flush the superior memo)",
    1000000, FALSE },
  { "unilevel", "unilevel, 10 levels, 10 rates (a scheme built in code); 9 orders per member",
    1000000, FALSE },
  { NULL, NULL, 0, FALSE }
};

const BenchWorkloadInfo *
bench_workload_lookup (const char *name)
{
  for (const BenchWorkloadInfo *w = bench_workloads; w->name; w++)
    if (strcmp (w->name, name) == 0)
      return w;
  return NULL;
}

ReferralScheme *
bench_scheme_new (const char *workload, GError **error)
{
  if (strcmp (workload, "unilevel") != 0)
    return referral_scheme_new_builtin ("chain21", error);

  ReferralSchemeBuilder *b = referral_scheme_builder_new ("unilevel10");
  const char *const ranks[] = { "member", NULL };
  const char *const params[] = {
    "levels", "10",
    "rates", "10%, 5%, 4%, 3%, 2%, 1%, 1%, 1%, 1%, 1%",
    NULL
  };
  if (!referral_scheme_builder_set_ranks (b, ranks, error)
      || !referral_scheme_builder_add_rule (b, "unilevel", "unilevel", params, error))
    {
      referral_scheme_builder_free (b);
      return NULL;
    }
  return referral_scheme_builder_finish (b, error);
}

/* xorshift64*: small, fast and the same everywhere. */
static guint64
rng_next (guint64 *s)
{
  guint64 x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n), n > 0 (the modulo bias is irrelevant here). */
static guint32
rng_below (guint64 *s, guint64 n)
{
  return (guint32) ((rng_next (s) >> 11) % n);
}

static guint64
rng_seed (guint64 seed)
{
  /* splitmix64 of the seed, so that seeds 0 and 1 both give a good state */
  guint64 z = seed + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return z ? z : 1;
}

static gboolean
pwrite_all (int fd, const void *data, gsize len, guint64 offset)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t w = pwrite (fd, p, len, (off_t) offset);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return FALSE;
      if (w == 0)
        {
          errno = EIO;
          return FALSE;
        }
      p += w;
      len -= (gsize) w;
      offset += (guint64) w;
    }
  return TRUE;
}

static gboolean
pread_all (int fd, void *data, gsize len, guint64 offset)
{
  char *p = data;
  while (len > 0)
    {
      ssize_t r = pread (fd, p, len, (off_t) offset);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return FALSE;
      if (r == 0)
        {
          errno = 0; /* end of file */
          return FALSE;
        }
      p += r;
      len -= (gsize) r;
      offset += (guint64) r;
    }
  return TRUE;
}

static guint64
spill_offset (gsize event)
{
  return BENCH_SPILL_HEADER + (guint64) event * sizeof (BenchEvent);
}

/* Writes the buffered events [base, n) to the spill file and empties the
 * buffer.  A failed write is kept in spill_errno (the events are lost; the
 * generator stops at the next event). */
static void
spill_flush (BenchStream *s)
{
  gsize count = s->n - s->base;
  if (count > 0 && s->spill_errno == 0
      && !pwrite_all (s->spill_fd, s->ev, count * sizeof (BenchEvent), spill_offset (s->base)))
    s->spill_errno = errno ? errno : EIO;
  s->base = s->n;
}

static void
stream_push (BenchStream *s, const BenchEvent *ev)
{
  if (s->n - s->base == s->cap)
    {
      if (s->spill)
        spill_flush (s);
      else
        {
          s->cap = s->cap ? s->cap * 2 : 4096;
          s->ev = g_renew (BenchEvent, s->ev, s->cap);
        }
    }
  s->ev[s->n++ - s->base] = *ev;
}

void
bench_stream_clear (BenchStream *stream)
{
  g_free (stream->ev);
  memset (stream, 0, sizeof *stream);
}

void
bench_stream_spill_to (BenchStream *stream, int fd, gsize window)
{
  g_return_if_fail (stream->n == 0 && stream->ev == NULL && window > 0);
  stream->spill = TRUE;
  stream->spill_fd = fd;
  stream->spill_errno = 0;
  stream->cap = window;
  stream->ev = g_new (BenchEvent, stream->cap);
}

static const char spill_magic[8] = { 'R', 'B', 'S', 'P', 'I', 'L', 'L', '1' };

/* Header layout (native byte order; the file never leaves this machine):
 * magic 8, sizeof (BenchEvent) 4, members 4, seed 8, events 8, orders 8,
 * oracle hash present 8, oracle hash 8; zero to BENCH_SPILL_HEADER. */
gboolean
bench_stream_spill_finish (BenchStream *stream, guint32 members, guint64 seed, GError **error)
{
  g_return_val_if_fail (stream->spill, FALSE);
  spill_flush (stream);
  char h[BENCH_SPILL_HEADER] = { 0 };
  guint32 size = sizeof (BenchEvent);
  guint64 n = stream->n, have = stream->have_oracle_hash;
  memcpy (h, spill_magic, 8);
  memcpy (h + 8, &size, 4);
  memcpy (h + 12, &members, 4);
  memcpy (h + 16, &seed, 8);
  memcpy (h + 24, &n, 8);
  memcpy (h + 32, &stream->n_orders, 8);
  memcpy (h + 40, &have, 8);
  memcpy (h + 48, &stream->oracle_hash, 8);
  if (stream->spill_errno == 0 && !pwrite_all (stream->spill_fd, h, sizeof h, 0))
    stream->spill_errno = errno ? errno : EIO;
  if (stream->spill_errno == 0 && fdatasync (stream->spill_fd) != 0)
    stream->spill_errno = errno;
  if (stream->spill_errno != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (stream->spill_errno),
                   "cannot write the spill file: %s", g_strerror (stream->spill_errno));
      return FALSE;
    }
  /* The file is on disk: its pages need not stay in memory. */
  posix_fadvise (stream->spill_fd, 0, 0, POSIX_FADV_DONTNEED);
  return TRUE;
}

gboolean
bench_spill_read_info (int fd, BenchSpillInfo *info, GError **error)
{
  char h[BENCH_SPILL_HEADER];
  struct stat st;
  guint32 size;
  guint64 have;
  if (!pread_all (fd, h, sizeof h, 0) || fstat (fd, &st) != 0)
    {
      int e = errno ? errno : EIO;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                   "cannot read the spill file's header: %s", g_strerror (e));
      return FALSE;
    }
  memcpy (&size, h + 8, 4);
  memcpy (&info->members, h + 12, 4);
  memcpy (&info->seed, h + 16, 8);
  memcpy (&info->n_events, h + 24, 8);
  memcpy (&info->n_orders, h + 32, 8);
  memcpy (&have, h + 40, 8);
  memcpy (&info->oracle_hash, h + 48, 8);
  info->have_oracle_hash = have != 0;
  if (memcmp (h, spill_magic, 8) != 0 || size != sizeof (BenchEvent)
      || (guint64) st.st_size != spill_offset (info->n_events))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "the spill file is incomplete or not a spill file (%" G_GUINT64_FORMAT
                   " bytes)", (guint64) st.st_size);
      return FALSE;
    }
  return TRUE;
}

gboolean
bench_spill_read (int fd, gsize first, gsize n, BenchStream *window, GError **error)
{
  g_return_val_if_fail (!window->spill, FALSE);
  if (n > window->cap)
    {
      window->cap = n;
      g_free (window->ev);
      window->ev = g_new (BenchEvent, n);
    }
  guint64 offset = spill_offset (first);
  gsize len = n * sizeof (BenchEvent);
  if (!pread_all (fd, window->ev, len, offset))
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e ? e : EIO),
                   "cannot read events %zu..%zu of the spill file: %s", first, first + n,
                   e ? g_strerror (e) : "the file ends early");
      return FALSE;
    }
  window->base = first;
  window->n = first + n;
  posix_fadvise (fd, (off_t) offset, (off_t) len, POSIX_FADV_DONTNEED);
  return TRUE;
}

static void
bare_push (BareProgram *p, guint32 op, guint32 a, guint32 b, gint64 amount)
{
  if (p->n == p->cap)
    {
      p->cap = p->cap ? p->cap * 2 : 4096;
      p->ops = g_renew (BareOp, p->ops, p->cap);
    }
  p->ops[p->n++] = (BareOp) { op, a, b, 0, amount };
}

void
bare_program_clear (BareProgram *bare)
{
  g_free (bare->ops);
  memset (bare, 0, sizeof *bare);
}

gsize
bench_key (char *buf, char prefix, guint64 number)
{
  char digits[24];
  gsize n = 0;
  do
    {
      digits[n++] = (char) ('0' + number % 10);
      number /= 10;
    }
  while (number);
  buf[0] = prefix;
  for (gsize i = 0; i < n; i++)
    buf[1 + i] = digits[n - 1 - i];
  buf[n + 1] = '\0';
  return n + 1;
}

/* Keys of one event need at most 4 keys of 21 bytes. */
#define ARENA_PER_EVENT 96

void
bench_chunk_fill (BenchChunk *chunk, const BenchStream *stream, gsize first, gsize n)
{
  if (n > chunk->cap_events)
    {
      chunk->cap_events = n;
      chunk->events = g_renew (ReferralEvent, chunk->events, n);
      chunk->cap_arena = n * ARENA_PER_EVENT;
      chunk->arena = g_renew (char, chunk->arena, chunk->cap_arena);
    }
  g_assert (first >= stream->base && first + n <= stream->n);
  const BenchEvent *events = stream->ev + (first - stream->base);
  char *p = chunk->arena;
  for (gsize k = 0; k < n; k++)
    {
      const BenchEvent *b = &events[k];
      ReferralEvent *ev = &chunk->events[k];
      *ev = (ReferralEvent) REFERRAL_EVENT_INIT;
#define KEY(field, prefix, number) \
      do { ev->field = p; p += bench_key (p, prefix, number) + 1; } while (0)
      KEY (id, 'e', first + k);
      switch ((BenchEventType) b->type)
        {
        case BENCH_JOIN:
          ev->type = REFERRAL_EVENT_JOIN;
          KEY (member, 'm', b->a);
          if (b->b)
            KEY (sponsor, 'm', b->b - 1);
          break;
        case BENCH_PROMOTE:
          ev->type = REFERRAL_EVENT_PROMOTE;
          KEY (member, 'm', b->a);
          ev->rank = rank_names[b->rank];
          break;
        case BENCH_ORDER:
          ev->type = REFERRAL_EVENT_ORDER;
          KEY (order, 'o', b->b);
          KEY (member, 'm', b->a);
          ev->amount = b->amount;
          ev->sku = b->sku == BENCH_SKU_GIFT ? "gift" : b->sku == BENCH_SKU_STD ? "std" : NULL;
          break;
        case BENCH_REFUND:
          ev->type = REFERRAL_EVENT_REFUND;
          KEY (order, 'o', b->b);
          break;
        case BENCH_CLOSE:
          ev->type = REFERRAL_EVENT_PERIOD_CLOSE;
          KEY (period, 'd', b->b);
          break;
        case BENCH_WITHDRAW:
          ev->type = REFERRAL_EVENT_WITHDRAW;
          KEY (member, 'm', b->a);
          ev->amount = b->amount;
          break;
        case BENCH_TRANSPOSE:
          ev->type = REFERRAL_EVENT_COMMAND;
          ev->command = "transpose";
          KEY (member, 'm', b->a);
          KEY (old_member, 'm', b->b);
          KEY (new_member, 'm', b->c);
          break;
        default:
          g_assert_not_reached ();
        }
#undef KEY
    }
}

void
bench_chunk_clear (BenchChunk *chunk)
{
  g_free (chunk->events);
  g_free (chunk->arena);
  memset (chunk, 0, sizeof *chunk);
}

gboolean
bench_write_jsonl (FILE *out, const BenchStream *stream)
{
  char k1[24], k2[24], k3[24], money[REFERRAL_MONEY_BUF_SIZE];
  g_return_val_if_fail (stream->base == 0 && !stream->spill, FALSE);
  for (gsize i = 0; i < stream->n; i++)
    {
      const BenchEvent *b = &stream->ev[i];
      switch ((BenchEventType) b->type)
        {
        case BENCH_JOIN:
          bench_key (k1, 'm', b->a);
          if (b->b)
            fprintf (out, "{\"type\":\"join\",\"id\":\"e%zu\",\"member\":\"%s\",\"sponsor\":\"%s\"}\n",
                     i, k1, (bench_key (k2, 'm', b->b - 1), k2));
          else
            fprintf (out, "{\"type\":\"join\",\"id\":\"e%zu\",\"member\":\"%s\"}\n", i, k1);
          break;
        case BENCH_PROMOTE:
          bench_key (k1, 'm', b->a);
          fprintf (out, "{\"type\":\"promote\",\"id\":\"e%zu\",\"member\":\"%s\",\"rank\":\"%s\"}\n",
                   i, k1, rank_names[b->rank]);
          break;
        case BENCH_ORDER:
          bench_key (k1, 'o', b->b);
          bench_key (k2, 'm', b->a);
          referral_money_format_buf (b->amount, 2, money);
          if (b->sku == BENCH_SKU_NONE)
            fprintf (out, "{\"type\":\"order\",\"id\":\"e%zu\",\"order\":\"%s\",\"member\":\"%s\","
                     "\"amount\":\"%s\"}\n", i, k1, k2, money);
          else
            fprintf (out, "{\"type\":\"order\",\"id\":\"e%zu\",\"order\":\"%s\",\"member\":\"%s\","
                     "\"amount\":\"%s\",\"sku\":\"%s\"}\n", i, k1, k2, money,
                     b->sku == BENCH_SKU_GIFT ? "gift" : "std");
          break;
        case BENCH_REFUND:
          bench_key (k1, 'o', b->b);
          fprintf (out, "{\"type\":\"refund\",\"id\":\"e%zu\",\"order\":\"%s\"}\n", i, k1);
          break;
        case BENCH_CLOSE:
          bench_key (k1, 'd', b->b);
          fprintf (out, "{\"type\":\"period_close\",\"id\":\"e%zu\",\"period\":\"%s\"}\n", i, k1);
          break;
        case BENCH_WITHDRAW:
          bench_key (k1, 'm', b->a);
          referral_money_format_buf (b->amount, 2, money);
          fprintf (out, "{\"type\":\"withdraw\",\"id\":\"e%zu\",\"member\":\"%s\",\"amount\":\"%s\"}\n",
                   i, k1, money);
          break;
        case BENCH_TRANSPOSE:
          bench_key (k1, 'm', b->a);
          bench_key (k2, 'm', b->b);
          bench_key (k3, 'm', b->c);
          fprintf (out, "{\"type\":\"transpose\",\"id\":\"e%zu\",\"member\":\"%s\",\"old\":\"%s\","
                   "\"new\":\"%s\"}\n", i, k1, k2, k3);
          break;
        default:
          g_assert_not_reached ();
        }
      if (ferror (out))
        return FALSE;
    }
  return fflush (out) == 0 && !ferror (out);
}

/* The generator's state, shared by every workload. */
typedef struct {
  guint64 rng;
  BenchStream *stream;
  guint32 members;     /* target */
  guint32 joined;
  guint32 n_orders;
  guint32 n_periods;
  gboolean progress;
  gint64 next_progress;

  /* chain21 only: the oracle and what the generator tracks beside it */
  ReferralEngine *oracle;
  const ReferralTree *tree;
  const ReferralLedger *ledger;
  BenchChunk one;
  BareProgram *bare;
  guint8 *refunded;    /* REFUNDED_RING flags: the last orders refunded */
  GArray *users;       /* members that may still be users (for first gifts) */
  guint32 *seeds;      /* 2 per member: seed + 1, 0 when empty (as rule "seeds") */
  GArray *candidates;  /* guint32 pairs (m, n): n became a partner, sponsor(n) = m */
} Gen;

static void
gen_progress (Gen *g, const char *name)
{
  if (!g->progress)
    return;
  gint64 now = g_get_monotonic_time ();
  if (now < g->next_progress)
    return;
  g->next_progress = now + 2 * G_USEC_PER_SEC;
  fprintf (stderr, "  generating %s: %zu events, %u/%u members%s\n", name, g->stream->n,
           g->joined, g->members, g->stream->spill ? " (written to the spill file)" : "");
}

static gboolean emit (Gen *g, BenchEvent ev, GError **error);

static gboolean
emit_one (Gen *g, const BenchEvent *ev, GError **error)
{
  gsize i = g->stream->n;
  stream_push (g->stream, ev);
  if (G_UNLIKELY (g->stream->spill_errno != 0))
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (g->stream->spill_errno),
                   "cannot write the spill file: %s", g_strerror (g->stream->spill_errno));
      return FALSE;
    }
  if (ev->type == BENCH_ORDER)
    g->stream->n_orders++;
  if (g->oracle == NULL)
    return TRUE;

  if (g->bare && ev->type == BENCH_ORDER && ev->sku == BENCH_SKU_GIFT)
    {
      /* The superior walk the team award needs: the seller is the buyer
       * when an agent or partner, else its sponsor; only an agent seller's
       * superior is paid. */
      ReferralMember seller = ev->a;
      if (referral_tree_rank (g->tree, seller) < RANK_AGENT)
        seller = referral_tree_sponsor (g->tree, seller);
      if (seller != REFERRAL_NO_MEMBER && referral_tree_rank (g->tree, seller) == RANK_AGENT)
        bare_push (g->bare, BARE_WALK, seller, 0, 0);
    }
  bench_chunk_fill (&g->one, g->stream, i, 1);
  if (!referral_engine_apply (g->oracle, &g->one.events[0], NULL, error))
    {
      g_prefix_error (error, "oracle refused generated event e%zu: ", i);
      return FALSE;
    }
  if (g->bare)
    bare_push (g->bare, BARE_EVENT_END, 0, 0, 0);
  return TRUE;
}

/* Appends @ev, preceded by the period close that falls due, if any. */
static gboolean
emit (Gen *g, BenchEvent ev, GError **error)
{
  if (g->stream->n % PERIOD_EVENTS == PERIOD_EVENTS - 1)
    {
      BenchEvent close = { .type = BENCH_CLOSE, .b = g->n_periods++ };
      if (!emit_one (g, &close, error))
        return FALSE;
    }
  return emit_one (g, &ev, error);
}

static gboolean
emit_order (Gen *g, guint32 buyer, gint64 amount, BenchSku sku, GError **error)
{
  guint32 o = g->n_orders++;
  if (g->refunded)
    g->refunded[o % REFUNDED_RING] = 0;
  return emit (g, (BenchEvent) { .type = BENCH_ORDER, .sku = (guint8) sku, .a = buyer, .b = o,
                                 .amount = amount }, error);
}

static gboolean
emit_other_order (Gen *g, GError **error)
{
  guint32 buyer = rng_below (&g->rng, g->joined);
  gint64 amount = 1000 + rng_below (&g->rng, 49001); /* 10.00 .. 500.00 */
  BenchSku sku = rng_next (&g->rng) & 1 ? BENCH_SKU_STD : BENCH_SKU_NONE;
  return emit_order (g, buyer, amount, sku, error);
}

/* Oracle subscriber: tracks seeds as rule "seeds" does, and the members
 * that became partners (transpose candidates); records effects for bare. */
static void
on_rank_changed (gpointer user_data, ReferralMember m, ReferralRank old_rank, ReferralRank new_rank)
{
  Gen *g = user_data;
  ReferralMember s = referral_tree_sponsor (g->tree, m);
  if (g->bare)
    {
      bare_push (g->bare, BARE_RANK, m, new_rank, 0);
      if (old_rank < RANK_PARTNER && new_rank >= RANK_PARTNER)
        bare_push (g->bare, BARE_WALK, m, 0, 0); /* break-away's superior */
    }
  if (s == REFERRAL_NO_MEMBER)
    return;
  if (old_rank < RANK_AGENT && new_rank >= RANK_AGENT)
    {
      guint32 *sd = &g->seeds[2 * (gsize) s];
      if (sd[0] != m + 1 && sd[1] != m + 1)
        {
          if (sd[0] == 0)
            sd[0] = m + 1;
          else if (sd[1] == 0)
            sd[1] = m + 1;
        }
    }
  if (old_rank < RANK_PARTNER && new_rank >= RANK_PARTNER)
    {
      guint32 pair[2] = { s, m };
      g_array_append_vals (g->candidates, pair, 2);
    }
}

static void
on_joined (gpointer user_data, ReferralMember m)
{
  Gen *g = user_data;
  bare_push (g->bare, BARE_JOIN, m, referral_tree_parent (g->tree, m), 0);
}

static void
on_posted (gpointer user_data, const ReferralPosting *p, guint64 index)
{
  Gen *g = user_data;
  bare_push (g->bare, BARE_POST, p->from, p->to, p->amount);
  g->bare->n_postings++;
}

static void
on_moved (gpointer user_data, ReferralMember m, ReferralMember old_parent, ReferralMember new_parent)
{
  Gen *g = user_data;
  bare_push (g->bare, BARE_MOVE, m, new_parent, 0);
}

/* A valid transposition from the candidates, if any: see chain21.md. */
static gboolean
pick_transpose (Gen *g, BenchEvent *out)
{
  while (g->candidates->len > 0)
    {
      guint32 k = rng_below (&g->rng, g->candidates->len / 2);
      guint32 *pairs = (guint32 *) (void *) g->candidates->data;
      guint32 m = pairs[2 * k], n = pairs[2 * k + 1];
      /* remove pair k (swap with the last) */
      pairs[2 * k] = pairs[g->candidates->len - 2];
      pairs[2 * k + 1] = pairs[g->candidates->len - 1];
      g_array_set_size (g->candidates, g->candidates->len - 2);

      guint32 *sd = &g->seeds[2 * (gsize) m];
      if (sd[0] == n + 1 || sd[1] == n + 1)
        continue;
      for (guint i = 0; i < 2; i++)
        if (sd[i] != 0 && referral_tree_rank (g->tree, sd[i] - 1) < RANK_PARTNER)
          {
            *out = (BenchEvent) { .type = BENCH_TRANSPOSE, .a = m, .b = sd[i] - 1, .c = n };
            sd[i] = n + 1;
            return TRUE;
          }
    }
  return FALSE;
}

static gboolean
gen_join (Gen *g, guint32 founders, GError **error)
{
  guint32 m = g->joined++;
  guint32 sponsor1 = m < founders ? 0 : rng_below (&g->rng, m) + 1;
  if (!emit (g, (BenchEvent) { .type = BENCH_JOIN, .a = m, .b = sponsor1 }, error))
    return FALSE;
  if (m < founders)
    return emit (g, (BenchEvent) { .type = BENCH_PROMOTE, .a = m, .rank = RANK_PARTNER }, error);
  g_array_append_val (g->users, m);
  return TRUE;
}

static gboolean
gen_first_gift (Gen *g, GError **error)
{
  while (g->users->len > 0)
    {
      guint32 k = rng_below (&g->rng, g->users->len);
      guint32 *u = (guint32 *) (void *) g->users->data;
      guint32 m = u[k];
      u[k] = u[g->users->len - 1];
      g_array_set_size (g->users, g->users->len - 1);
      if (referral_tree_rank (g->tree, m) == RANK_USER)
        return emit_order (g, m, GIFT_AMOUNT, BENCH_SKU_GIFT, error);
    }
  return emit_other_order (g, error);
}

static gboolean
gen_refund (Gen *g, GError **error)
{
  for (int tries = 0; g->n_orders > 0 && tries < 4; tries++)
    {
      guint32 o = g->n_orders - 1 - rng_below (&g->rng, MIN (g->n_orders, REFUND_WINDOW));
      if (!g->refunded[o % REFUNDED_RING])
        {
          g->refunded[o % REFUNDED_RING] = 1;
          return emit (g, (BenchEvent) { .type = BENCH_REFUND, .b = o }, error);
        }
    }
  return emit_other_order (g, error);
}

static gboolean
gen_withdraw (Gen *g, GError **error)
{
  for (int tries = 0; tries < 8; tries++)
    {
      guint32 m = rng_below (&g->rng, g->joined);
      gint64 avail = referral_ledger_balance (g->ledger,
                                              referral_ledger_member_account (g->ledger, m, FALSE));
      if (avail >= 2000)
        return emit (g, (BenchEvent) { .type = BENCH_WITHDRAW, .a = m,
                                       .amount = avail / 2 / 100 * 100 }, error);
    }
  return emit_other_order (g, error);
}

/* chain21: E = 10 N events.  Joins are spread so that the last member joins
 * by the end; the rest is drawn from a fixed mix (per 900 non-join events:
 * 75 first gift purchases, 20 gift repurchases, 45 refunds, 100
 * withdrawals, 5 transpositions, 655 other orders), plus a close every
 * PERIOD_EVENTS events.  The first max(1, N/10000) members are roots
 * promoted to partner by an administrator. */
static gboolean
gen_chain21 (Gen *g, GError **error)
{
  guint64 total = (guint64) g->members * 10;
  guint32 founders = MAX (1u, g->members / 10000);
  while (g->stream->n < total || g->joined < g->members)
    {
      gen_progress (g, "chain21");
      guint64 left = g->stream->n < total ? total - g->stream->n : 1;
      guint32 joins_left = g->members - g->joined;
      gboolean ok;
      if (g->joined == 0 || (joins_left > 0 && rng_below (&g->rng, left) < joins_left))
        ok = gen_join (g, founders, error);
      else
        {
          guint32 r = rng_below (&g->rng, 900);
          BenchEvent t;
          if (r < 75)
            ok = gen_first_gift (g, error);
          else if (r < 95)
            ok = emit_order (g, rng_below (&g->rng, g->joined), GIFT_AMOUNT, BENCH_SKU_GIFT, error);
          else if (r < 140)
            ok = gen_refund (g, error);
          else if (r < 240)
            ok = gen_withdraw (g, error);
          else if (r < 245 && pick_transpose (g, &t))
            ok = emit (g, t, error);
          else
            ok = emit_other_order (g, error);
        }
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

typedef enum { SHAPE_CHAIN, SHAPE_STAR, SHAPE_BINARY } Shape;

/* Adversarial shapes: member 0 is a partner root; member i joins under
 * sponsor(i) and (on the chain, the star, and the binary spine) buys the
 * gift pack at once, then 8 gift orders (7 after a spine member) by random
 * members follow: each pays a rebate or direct award and, for an agent
 * seller, a team award to the superior found by walking up the placement
 * tree.  On the binary caterpillar, the leaves buy at the end, in random
 * order, each followed by one more random gift order. */
static gboolean
gen_shape (Gen *g, Shape shape, GError **error)
{
  GArray *leaves = g_array_new (FALSE, FALSE, sizeof (guint32));
  gboolean ok = TRUE;
  for (guint32 i = 0; ok && i < g->members; i++)
    {
      gen_progress (g, "shape");
      guint32 sponsor1 = 0;
      if (i > 0)
        sponsor1 = 1 + (shape == SHAPE_CHAIN ? i - 1 : shape == SHAPE_STAR ? 0 : (i - 1) / 2 * 2);
      g->joined++;
      ok = emit (g, (BenchEvent) { .type = BENCH_JOIN, .a = i, .b = sponsor1 }, error);
      gboolean leaf = shape == SHAPE_BINARY && (i & 1);
      if (ok && i == 0)
        ok = emit (g, (BenchEvent) { .type = BENCH_PROMOTE, .a = 0, .rank = RANK_PARTNER }, error);
      else if (ok && !leaf)
        ok = emit_order (g, i, GIFT_AMOUNT, BENCH_SKU_GIFT, error);
      else if (ok)
        g_array_append_val (leaves, i);
      guint reps = shape == SHAPE_BINARY && !leaf ? 7 : 8;
      /* On the caterpillar, only spine members (even) buy now, so that the
       * leaves stay users until the end. */
      for (guint r = 0; ok && r < reps; r++)
        ok = emit_order (g, shape == SHAPE_BINARY ? rng_below (&g->rng, i / 2 + 1) * 2
                                                  : rng_below (&g->rng, i + 1),
                         GIFT_AMOUNT, BENCH_SKU_GIFT, error);
    }
  /* Fisher-Yates, then the leaves buy. */
  guint32 *lv = (guint32 *) (void *) leaves->data;
  for (guint32 k = leaves->len; k > 1; k--)
    {
      guint32 j = rng_below (&g->rng, k);
      guint32 t = lv[k - 1];
      lv[k - 1] = lv[j];
      lv[j] = t;
    }
  for (guint32 k = 0; ok && k < leaves->len; k++)
    {
      gen_progress (g, "shape");
      ok = emit_order (g, lv[k], GIFT_AMOUNT, BENCH_SKU_GIFT, error)
           && emit_order (g, rng_below (&g->rng, g->members), GIFT_AMOUNT, BENCH_SKU_GIFT, error);
    }
  g_array_free (leaves, TRUE);
  return ok;
}

/* unilevel: member i joins under a uniformly random earlier member (a
 * random recursive tree: depth about ln i, so most orders pay 10 levels),
 * followed by 9 orders of 10.00 .. 500.00 by random members. */
static gboolean
gen_unilevel (Gen *g, GError **error)
{
  gboolean ok = TRUE;
  for (guint32 i = 0; ok && i < g->members; i++)
    {
      gen_progress (g, "unilevel");
      guint32 sponsor1 = i ? rng_below (&g->rng, i) + 1 : 0;
      g->joined++;
      ok = emit (g, (BenchEvent) { .type = BENCH_JOIN, .a = i, .b = sponsor1 }, error);
      for (guint r = 0; ok && r < 9; r++)
        ok = emit_order (g, rng_below (&g->rng, i + 1), 1000 + rng_below (&g->rng, 49001),
                         BENCH_SKU_NONE, error);
    }
  return ok;
}

gboolean
bench_generate (const char *name, guint32 members, guint64 seed, BenchStream *stream,
                BareProgram *bare, gboolean progress, GError **error)
{
  const BenchWorkloadInfo *w = bench_workload_lookup (name);
  g_return_val_if_fail (w != NULL && members > 0, FALSE);
  Gen g = { 0 };
  g.rng = rng_seed (seed);
  g.stream = stream;
  g.members = members;
  g.progress = progress;
  gboolean ok;

  if (!w->needs_oracle)
    {
      if (strcmp (name, "unilevel") == 0)
        ok = gen_unilevel (&g, error);
      else
        ok = gen_shape (&g, strcmp (name, "deep_chain") == 0 ? SHAPE_CHAIN
                            : strcmp (name, "wide_star") == 0 ? SHAPE_STAR : SHAPE_BINARY, error);
      return ok;
    }

  ReferralScheme *scheme = bench_scheme_new ("chain21", error);
  if (scheme == NULL)
    return FALSE;
  g.oracle = referral_engine_new (scheme, error);
  referral_scheme_unref (scheme);
  if (g.oracle == NULL)
    return FALSE;
  g.tree = referral_engine_tree (g.oracle);
  g.ledger = referral_engine_ledger (g.oracle);
  g.bare = bare;
  g.refunded = g_new0 (guint8, REFUNDED_RING);
  g.users = g_array_new (FALSE, FALSE, sizeof (guint32));
  g.candidates = g_array_new (FALSE, FALSE, sizeof (guint32));
  g.seeds = g_new0 (guint32, 2 * (gsize) members);
  ReferralSubscriber sub = { .version = REFERRAL_SUBSCRIBER_VERSION,
                             .rank_changed = on_rank_changed };
  if (bare)
    {
      sub.joined = on_joined;
      sub.posted = on_posted;
      sub.moved = on_moved;
    }
  referral_engine_subscribe (g.oracle, &sub, &g, NULL);

  ok = gen_chain21 (&g, error);

  if (ok)
    {
      /* What every timed run must end in (referral-bench checks it). */
      stream->oracle_hash = referral_engine_state_hash (g.oracle);
      stream->have_oracle_hash = TRUE;
    }
  if (ok && bare)
    {
      bare->n_members = referral_tree_size (g.tree);
      bare->n_accounts_base = referral_ledger_member_account (g.ledger, 0, FALSE);
    }
  referral_engine_free (g.oracle);
  bench_chunk_clear (&g.one);
  g_free (g.refunded);
  g_free (g.seeds);
  g_array_free (g.users, TRUE);
  g_array_free (g.candidates, TRUE);
  return ok;
}
