/* Snapshots: the whole engine state as bytes, and back.
 *
 * The engine's state is a function of its events, so a snapshot is only a
 * shortcut: loading one must give an engine whose state hash, and whose
 * future behaviour, equal those of folding the same events.  Hence every
 * piece of state is written, including what the hash does not see but the
 * future does (sibling order, distinct skus in first-use order, event
 * posting ranges), and growth capacities are rebuilt the way the engine
 * grows them. */
#include <referral/error.h>

#include "durability-private.h"
#include "engine-private.h"

#include <string.h>

#define SNAP_MAGIC "REFSNAP"   /* 8 bytes with the NUL */
#define SNAP_VERSION 1u
#define SNAP_HEADER 32

/* The encoder streams: fields go into a fixed 1 MiB buffer that is handed
 * to the sink (and folded into the checksum) whenever it fills.  So a
 * snapshot never needs a second copy of the state in memory: building the
 * whole file in one growing array first made writing a 10^6-event state
 * cost a second, most of it faulting in the fresh pages of that array. */

#define WRITER_BUF (1u << 20)

typedef struct {
  guint8 *buf;
  gsize used;
  guint32 crc;
  guint64 total;
  gboolean failed;
  ReferralSnapshotSink sink;
  gpointer user_data;
} Writer;

static void
writer_emit (Writer *w, const guint8 *data, gsize n)
{
  w->crc = referral_crc32c (w->crc, data, n);
  w->total += n;
  if (!w->failed && !w->sink (data, n, w->user_data))
    w->failed = TRUE;
}

static G_GNUC_NO_INLINE void
writer_flush (Writer *w)
{
  if (w->used > 0)
    writer_emit (w, w->buf, w->used);
  w->used = 0;
}

static inline guint8 *
writer_room (Writer *w, gsize n)
{
  if (G_UNLIKELY (WRITER_BUF - w->used < n))
    writer_flush (w);
  guint8 *p = w->buf + w->used;
  w->used += n;
  return p;
}

static inline void
put_u32 (Writer *w, guint32 v)
{
  guint32 le = GUINT32_TO_LE (v);
  memcpy (writer_room (w, 4), &le, 4);
}

static inline void
put_u64 (Writer *w, guint64 v)
{
  guint64 le = GUINT64_TO_LE (v);
  memcpy (writer_room (w, 8), &le, 8);
}

static void
put_bytes (Writer *w, const void *data, gsize n)
{
  if (n > WRITER_BUF / 2)
    {
      writer_flush (w);
      writer_emit (w, data, n);
    }
  else if (n > 0)
    memcpy (writer_room (w, n), data, n);
}

static inline void
put_str (Writer *w, const char *s)
{
  gsize n = strlen (s);
  put_u32 (w, (guint32) n);
  put_bytes (w, s, n);
}

/* A bounds-checked reader: any overrun sets `bad` and yields zeros. */
typedef struct {
  const guint8 *p, *end;
  gboolean bad;
  char *scratch;
  gsize scratch_size;
} Reader;

static guint32
get_u32 (Reader *r)
{
  if (r->bad || r->end - r->p < 4)
    {
      r->bad = TRUE;
      return 0;
    }
  guint32 v = (guint32) r->p[0] | ((guint32) r->p[1] << 8) | ((guint32) r->p[2] << 16)
              | ((guint32) r->p[3] << 24);
  r->p += 4;
  return v;
}

static guint64
get_u64 (Reader *r)
{
  guint64 lo = get_u32 (r);
  return lo | ((guint64) get_u32 (r) << 32);
}

/* Returns: a NUL-terminated copy in the reader's scratch buffer, valid until
 * the next call. */
static const char *
get_str (Reader *r)
{
  guint32 n = get_u32 (r);
  if (r->bad || (gsize) (r->end - r->p) < n)
    {
      r->bad = TRUE;
      return "";
    }
  if (n + 1 > r->scratch_size)
    {
      r->scratch_size = MAX (n + 1, r->scratch_size * 2);
      r->scratch = g_realloc (r->scratch, r->scratch_size);
    }
  memcpy (r->scratch, r->p, n);
  r->scratch[n] = '\0';
  r->p += n;
  if (memchr (r->scratch, '\0', n) != NULL)
    r->bad = TRUE;
  return r->scratch;
}

/* Prefetching for the key tables.  Decoding adds every key of a table in a
 * row (after a lookup that refuses duplicates); once a table is larger
 * than the caches each lookup misses, so a second reader runs PREFETCH_AHEAD
 * records ahead and starts loading the slot where each key's probe will
 * begin.  A record is a length-prefixed key followed by @trailer bytes.  The
 * reader only guesses: it stops at anything odd and never decides. */
#define PREFETCH_AHEAD 16

typedef struct {
  const guint8 *p, *end;
  gsize trailer;
  const ReferralIntern *in;
} Ahead;

static void
ahead_step (Ahead *a)
{
  if (a->end - a->p < 4)
    {
      a->p = a->end;
      return;
    }
  guint32 n = (guint32) a->p[0] | ((guint32) a->p[1] << 8) | ((guint32) a->p[2] << 16)
              | ((guint32) a->p[3] << 24);
  a->p += 4;
  if ((gsize) (a->end - a->p) < (gsize) n + a->trailer)
    {
      a->p = a->end;
      return;
    }
  char key[128];
  if (n < sizeof key)
    {
      memcpy (key, a->p, n);
      key[n] = '\0';
      referral_intern_prefetch (a->in, referral_intern_hash (key));
    }
  a->p += n + a->trailer;
}

static void
ahead_start (Ahead *a, const Reader *r, const ReferralIntern *in, gsize trailer)
{
  *a = (Ahead) { r->p, r->end, trailer, in };
  for (int i = 0; i < PREFETCH_AHEAD; i++)
    ahead_step (a);
}

static guint32
pow2_at_least (guint32 start, guint64 n)
{
  guint64 cap = start;
  while (cap < n)
    cap *= 2;
  return (guint32) MIN (cap, (guint64) G_MAXUINT32);
}

/* Encoding. */

gboolean
referral_snapshot_write (const ReferralEngine *e, ReferralSnapshotSink sink, gpointer user_data,
                         guint64 *size)
{
  Writer writer = { g_malloc (WRITER_BUF), 0, 0, 0, FALSE, sink, user_data }, *b = &writer;
  put_bytes (b, SNAP_MAGIC, 8);
  put_u32 (b, SNAP_VERSION);
  put_u32 (b, 0);
  put_u64 (b, referral_scheme_identity (e->scheme));
  put_u32 (b, e->event_ids.n);
  put_u32 (b, 0);

  /* Shape, checked on load against the scheme's own. */
  put_u32 (b, e->row_words);
  put_u32 (b, e->n_lists);
  put_u32 (b, e->ledger.n_kinds);
  put_u32 (b, e->ledger.n_pools);

  const ReferralTree *t = &e->tree;
  put_u32 (b, t->n);
  for (ReferralMember m = 0; m < t->n; m++)
    {
      put_str (b, referral_intern_key (&t->keys, m));
      put_u32 (b, t->sponsor[m]);
    }
  for (ReferralMember m = 0; m < t->n; m++)
    {
      put_u32 (b, t->parent[m]);
      put_u32 (b, t->first_child[m]);
      put_u32 (b, t->last_child[m]);
      put_u32 (b, t->next_sibling[m]);
      put_u32 (b, t->prev_sibling[m]);
      put_u32 (b, t->n_children[m]);
      put_u32 (b, t->rank[m]);
    }
  for (gsize i = 0; i < (gsize) t->n * e->row_words; i++)
    put_u64 (b, (guint64) e->rows[i]);

  for (guint l = 0; l < e->n_lists; l++)
    {
      put_u32 (b, e->lists[l]->len);
      for (guint i = 0; i < e->lists[l]->len; i++)
        put_u64 (b, (guint64) g_array_index (e->lists[l], gint64, i));
    }

  put_u32 (b, e->skus.n);
  for (guint32 s = 0; s < e->skus.n; s++)
    put_str (b, referral_intern_key (&e->skus, s));
  put_u32 (b, e->n_orders);
  for (guint32 o = 0; o < e->n_orders; o++)
    {
      put_str (b, referral_intern_key (&e->order_keys, o));
      put_u32 (b, e->order_buyer[o]);
      put_u64 (b, (guint64) e->order_amount[o]);
      put_u32 (b, e->order_sku[o]);
      put_u32 (b, e->order_event[o]);
      put_u32 (b, e->order_period[o]);
      put_u32 (b, e->order_refunded[o]);
    }

  put_u32 (b, e->event_ids.n);
  for (guint32 s = 0; s < e->event_ids.n; s++)
    {
      put_str (b, referral_intern_key (&e->event_ids, s));
      put_u64 (b, e->event_fp[s]);
    }
  put_u32 (b, e->n_periods);

  const ReferralLedger *l = &e->ledger;
  put_u32 (b, l->n_accounts);
  for (guint32 a = 0; a < l->n_accounts; a++)
    put_u64 (b, (guint64) l->balances[a]);
  put_u64 (b, l->n_postings);
  for (guint64 i = 0; i < l->n_postings; i++)
    {
      const ReferralPosting *p = &l->postings[i];
      put_u64 (b, (guint64) p->amount);
      put_u32 (b, p->from);
      put_u32 (b, p->to);
      put_u32 (b, p->event);
      put_u32 (b, p->cause_delta);
      put_u32 (b, ((guint32) p->kind << 16) | ((guint32) p->rule << 8) | p->flags);
    }
  put_u32 (b, l->n_event_first);
  for (guint32 i = 0; i < l->n_event_first; i++)
    put_u64 (b, l->event_first[i]);

  writer_flush (b);
  guint32 crc = b->crc;
  put_u32 (b, crc);
  writer_flush (b);
  g_free (b->buf);
  if (size)
    *size = b->total;
  return !b->failed;
}

static gboolean
append_to_array (const guint8 *data, gsize len, gpointer user_data)
{
  GByteArray *out = user_data;
  g_assert (len <= G_MAXUINT - out->len);
  g_byte_array_append (out, data, (guint) len);
  return TRUE;
}

void
referral_snapshot_encode (const ReferralEngine *e, GByteArray *out)
{
  referral_snapshot_write (e, append_to_array, out, NULL);
}

/* Decoding. */

static ReferralSnapshotStatus
corrupt (GError **error, const char *why)
{
  g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_JOURNAL, "snapshot is damaged: %s", why);
  return REFERRAL_SNAPSHOT_CORRUPT;
}

static gboolean
member_ok (guint32 m, guint32 n)
{
  return m == REFERRAL_NO_MEMBER || m < n;
}

/* Fills the fresh engine @e from @r; returns a reason on failure. */
static const char *
load_state (ReferralEngine *e, Reader *r)
{
  if (get_u32 (r) != e->row_words || get_u32 (r) != e->n_lists
      || get_u32 (r) != e->ledger.n_kinds || get_u32 (r) != e->ledger.n_pools)
    return "its layout does not match the scheme";

  ReferralTree *t = &e->tree;
  guint32 n = get_u32 (r);
  if (r->bad || n > (gsize) (r->end - r->p) / 8)
    return "member count out of range";
  referral_intern_reserve (&t->keys, n);
  Ahead ahead;
  ahead_start (&ahead, r, &t->keys, 4);
  for (ReferralMember m = 0; m < n; m++)
    {
      ahead_step (&ahead);
      const char *key = get_str (r);
      ReferralMember sponsor = get_u32 (r);
      if (r->bad || (sponsor != REFERRAL_NO_MEMBER && sponsor >= m)
          || referral_intern_lookup (&t->keys, key) != REFERRAL_INTERN_NONE)
        return "bad member";
      if (referral_tree_add (t, key, sponsor) != m)
        return "bad member";
    }
  for (ReferralMember m = 0; m < n; m++)
    {
      t->parent[m] = get_u32 (r);
      t->first_child[m] = get_u32 (r);
      t->last_child[m] = get_u32 (r);
      t->next_sibling[m] = get_u32 (r);
      t->prev_sibling[m] = get_u32 (r);
      t->n_children[m] = get_u32 (r);
      guint32 rank = get_u32 (r);
      if (!member_ok (t->parent[m], n) || !member_ok (t->first_child[m], n)
          || !member_ok (t->last_child[m], n) || !member_ok (t->next_sibling[m], n)
          || !member_ok (t->prev_sibling[m], n) || rank >= e->scheme->n_ranks)
        return "bad placement";
      t->rank[m] = (ReferralRank) rank;
    }
  if (r->bad)
    return "truncated tree";

  /* Per-member storage, sized as the engine's own growth would size it. */
  referral_ledger_set_members (&e->ledger, n);
  if (n > 0)
    {
      guint32 cap = pow2_at_least (256, n);
      if (e->row_words > 0)
        e->rows = referral_new0 (gint64, (gsize) e->row_words * cap);
      e->field_cap = cap;
    }
  if ((gsize) (r->end - r->p) / 8 < (gsize) n * e->row_words)
    return "truncated member fields";
  for (gsize i = 0; i < (gsize) n * e->row_words; i++)
    e->rows[i] = (gint64) get_u64 (r);

  for (guint l = 0; l < e->n_lists; l++)
    {
      guint32 len = get_u32 (r);
      if (r->bad || len % e->list_words[l] != 0 || len > (gsize) (r->end - r->p) / 8)
        return "bad list";
      g_array_set_size (e->lists[l], len);
      for (guint32 i = 0; i < len; i++)
        g_array_index (e->lists[l], gint64, i) = (gint64) get_u64 (r);
    }

  guint32 n_skus = get_u32 (r);
  if (r->bad || n_skus > (gsize) (r->end - r->p) / 4)
    return "bad sku count";
  for (guint32 s = 0; s < n_skus; s++)
    {
      const char *sku = get_str (r);
      if (r->bad || referral_intern_lookup (&e->skus, sku) != REFERRAL_INTERN_NONE)
        return "bad sku";
      referral_intern_add (&e->skus, sku);
    }

  guint32 n_orders = get_u32 (r);
  if (r->bad || n_orders > (gsize) (r->end - r->p) / 32)
    return "bad order count";
  if (n_orders > 0)
    {
      e->cap_orders = pow2_at_least (256, n_orders);
      e->order_buyer = referral_renew (ReferralMember, NULL, e->cap_orders);
      e->order_amount = referral_renew (gint64, NULL, e->cap_orders);
      e->order_sku = referral_renew (guint32, NULL, e->cap_orders);
      e->order_event = referral_renew (guint32, NULL, e->cap_orders);
      e->order_period = referral_renew (guint32, NULL, e->cap_orders);
      e->order_refunded = referral_renew (guint8, NULL, e->cap_orders);
    }
  guint32 n_events_declared = 0;
  referral_intern_reserve (&e->order_keys, n_orders);
  ahead_start (&ahead, r, &e->order_keys, 28);
  for (guint32 o = 0; o < n_orders; o++)
    {
      ahead_step (&ahead);
      const char *key = get_str (r);
      if (r->bad || referral_intern_lookup (&e->order_keys, key) != REFERRAL_INTERN_NONE)
        return "bad order";
      referral_intern_add (&e->order_keys, key);
      e->order_buyer[o] = get_u32 (r);
      e->order_amount[o] = (gint64) get_u64 (r);
      e->order_sku[o] = get_u32 (r);
      e->order_event[o] = get_u32 (r);
      e->order_period[o] = get_u32 (r);
      guint32 refunded = get_u32 (r);
      if (e->order_buyer[o] >= n || refunded > 1
          || (e->order_sku[o] != REFERRAL_INTERN_NONE && e->order_sku[o] >= n_skus))
        return "bad order";
      e->order_refunded[o] = (guint8) refunded;
      n_events_declared = MAX (n_events_declared, e->order_event[o] + 1);
    }
  e->n_orders = n_orders;

  guint32 n_events = get_u32 (r);
  if (r->bad || n_events > (gsize) (r->end - r->p) / 12 || n_events < n_events_declared)
    return "bad event count";
  if (n_events > 0)
    e->event_fp = referral_renew (guint64, NULL, pow2_at_least (1, n_events));
  referral_intern_reserve (&e->event_ids, n_events);
  ahead_start (&ahead, r, &e->event_ids, 8);
  for (guint32 s = 0; s < n_events; s++)
    {
      ahead_step (&ahead);
      const char *id = get_str (r);
      if (r->bad || *id == '\0' || referral_intern_lookup (&e->event_ids, id) != REFERRAL_INTERN_NONE)
        return "bad event id";
      referral_intern_add (&e->event_ids, id);
      e->event_fp[s] = get_u64 (r);
    }
  e->n_periods = get_u32 (r);

  ReferralLedger *l = &e->ledger;
  if (get_u32 (r) != l->n_accounts)
    return "account count does not match the members";
  for (guint32 a = 0; a < l->n_accounts; a++)
    l->balances[a] = (gint64) get_u64 (r);
  guint64 n_postings = get_u64 (r);
  if (r->bad || n_postings > (guint64) (r->end - r->p) / 28)
    return "bad posting count";
  if (n_postings > 0)
    {
      l->cap_postings = 1024;
      while (l->cap_postings < n_postings)
        l->cap_postings *= 2;
      l->postings = referral_renew (ReferralPosting, NULL, l->cap_postings);
    }
  for (guint64 i = 0; i < n_postings; i++)
    {
      ReferralPosting *p = &l->postings[i];
      p->amount = (gint64) get_u64 (r);
      p->from = get_u32 (r);
      p->to = get_u32 (r);
      p->event = get_u32 (r);
      p->cause_delta = get_u32 (r);
      guint32 krf = get_u32 (r);
      p->kind = (ReferralKind) (krf >> 16);
      p->rule = (guint8) (krf >> 8);
      p->flags = (guint8) krf;
      if (p->from >= l->n_accounts || p->to >= l->n_accounts || p->event >= n_events
          || p->cause_delta > i || p->kind >= l->n_kinds || p->rule > e->n_rules)
        return "bad posting";
    }
  l->n_postings = n_postings;
  guint32 n_first = get_u32 (r);
  if (r->bad || n_first != n_events + 1)
    return "bad event posting ranges";
  if (n_first > l->cap_event_first)
    {
      l->cap_event_first = pow2_at_least (l->cap_event_first, n_first);
      l->event_first = referral_renew (guint64, l->event_first, l->cap_event_first);
    }
  guint64 prev = 0;
  for (guint32 i = 0; i < n_first; i++)
    {
      l->event_first[i] = get_u64 (r);
      if (l->event_first[i] < prev || l->event_first[i] > n_postings)
        return "bad event posting ranges";
      prev = l->event_first[i];
    }
  l->n_event_first = n_first;
  if (r->bad || prev != n_postings)
    return "truncated ledger";
  if (r->p != r->end)
    return "trailing bytes";
  return NULL;
}

ReferralSnapshotStatus
referral_snapshot_decode (ReferralScheme *scheme, const guint8 *data, gsize len,
                          ReferralEngine **engine, GError **error)
{
  *engine = NULL;
  if (len < SNAP_HEADER + 4 || memcmp (data, SNAP_MAGIC, 8) != 0)
    return corrupt (error, "not a snapshot");
  Reader r = { data + 8, data + len - 4, FALSE, NULL, 0 };
  guint32 want = (guint32) data[len - 4] | ((guint32) data[len - 3] << 8)
                 | ((guint32) data[len - 2] << 16) | ((guint32) data[len - 1] << 24);
  if (referral_crc32c (0, data, len - 4) != want)
    return corrupt (error, "checksum mismatch");
  if (get_u32 (&r) != SNAP_VERSION)
    return corrupt (error, "unknown format version");
  get_u32 (&r);
  guint64 identity = get_u64 (&r);
  guint32 n_events = get_u32 (&r);
  get_u32 (&r);
  if (identity != referral_scheme_identity (scheme))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_JOURNAL,
                   "snapshot belongs to another scheme (identity %016" G_GINT64_MODIFIER
                   "x, scheme %s has %016" G_GINT64_MODIFIER "x)",
                   identity, referral_scheme_name (scheme), referral_scheme_identity (scheme));
      return REFERRAL_SNAPSHOT_FOREIGN;
    }
  ReferralEngine *e = referral_engine_new (scheme, error);
  if (e == NULL)
    return REFERRAL_SNAPSHOT_CORRUPT;
  const char *why = load_state (e, &r);
  g_free (r.scratch);
  GError *inv = NULL;
  if (why == NULL && e->event_ids.n != n_events)
    why = "event count does not match its header";
  if (why == NULL && !referral_engine_check_invariants (e, &inv))
    {
      referral_engine_free (e);
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_JOURNAL, "snapshot is damaged: %s",
                   inv->message);
      g_error_free (inv);
      return REFERRAL_SNAPSHOT_CORRUPT;
    }
  if (why != NULL)
    {
      referral_engine_free (e);
      return corrupt (error, why);
    }
  *engine = e;
  return REFERRAL_SNAPSHOT_OK;
}
