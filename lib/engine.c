/* The engine: validates events, runs the scheme's rules, commits or undoes. */
#include <referral/error.h>

#include "engine-private.h"

#include <string.h>


/* Construction and destruction. */

static gboolean
rule_has_hook (const ReferralRuleType *t, HookId h)
{
  switch (h)
    {
    case HOOK_JOIN: return t->on_join != NULL;
    case HOOK_ORDER: return t->on_order != NULL;
    case HOOK_REFUND: return t->on_refund != NULL;
    case HOOK_PERIOD_CLOSE: return t->on_period_close != NULL;
    case HOOK_WITHDRAW: return t->on_withdraw != NULL;
    case HOOK_RANK_CHANGE: return t->on_rank_change != NULL;
    case HOOK_POSTING: return t->on_posting != NULL;
    case HOOK_REVERSE: return t->on_reverse != NULL;
    case HOOK_EVENT_END: return t->on_event_end != NULL;
    case N_HOOKS:
    default: return FALSE;
    }
}

ReferralEngine *
referral_engine_new (ReferralScheme *scheme, GError **error)
{
  g_return_val_if_fail (scheme != NULL, NULL);
  ReferralEngine *e = g_new0 (ReferralEngine, 1);
  e->scheme = referral_scheme_ref (scheme);
  e->n_rules = scheme->rules->len;
  e->rules = (ReferralRuleInstance **) scheme->rules->pdata;
  for (guint h = 0; h < N_HOOKS; h++)
    {
      e->hooks[h] = g_new0 (guint8, e->n_rules + 1);
      for (guint r = 0; r < e->n_rules; r++)
        if (rule_has_hook (e->rules[r]->type, (HookId) h))
          e->hooks[h][e->n_hooks[h]++] = (guint8) r;
    }
  guint n_kinds = scheme->kinds->len;
  e->kind_hooks = g_new0 (guint8 *, n_kinds + 1);
  e->n_kind_hooks = g_new0 (guint8, n_kinds + 1);
  for (guint k = 0; k < n_kinds; k++)
    {
      e->kind_hooks[k] = g_new0 (guint8, e->n_hooks[HOOK_POSTING] + 1);
      for (guint i = 0; i < e->n_hooks[HOOK_POSTING]; i++)
        {
          guint r = e->hooks[HOOK_POSTING][i];
          GArray *wants = e->rules[r]->posting_kinds;
          gboolean wanted = wants == NULL;
          for (guint j = 0; wants != NULL && j < wants->len && !wanted; j++)
            wanted = g_array_index (wants, ReferralKind, j) == k;
          if (wanted)
            e->kind_hooks[k][e->n_kind_hooks[k]++] = (guint8) r;
        }
    }

  referral_tree_init (&e->tree);
  referral_ledger_init (&e->ledger, &e->tree, (const char *const *) scheme->pools->pdata,
                        scheme->pools->len, (const char *const *) scheme->kinds->pdata,
                        scheme->kinds->len);

  e->n_fields = scheme->fields->len;
  e->field_words = g_new0 (guint, e->n_fields + 1);
  e->field_offset = g_new0 (guint, e->n_fields + 1);
  for (guint f = 0; f < e->n_fields; f++)
    {
      e->field_words[f] = g_array_index (scheme->fields, ReferralDataDecl, f).n_words;
      e->field_offset[f] = e->row_words;
      e->row_words += e->field_words[f];
    }

  e->n_lists = scheme->lists->len;
  e->list_words = g_new0 (guint, e->n_lists + 1);
  e->lists = g_new0 (GArray *, e->n_lists + 1);
  for (guint l = 0; l < e->n_lists; l++)
    {
      e->list_words[l] = g_array_index (scheme->lists, ReferralDataDecl, l).n_words;
      e->lists[l] = g_array_new (FALSE, FALSE, sizeof (gint64));
    }

  referral_intern_init (&e->order_keys);
  referral_intern_init (&e->skus);
  referral_intern_init (&e->event_ids);
  e->subscriptions = g_array_new (FALSE, FALSE, sizeof (Subscription));
  e->next_subscription = 1;
#ifdef REFERRAL_CHECK_INVARIANTS
  e->check_invariants = TRUE;
#endif
  (void) error; /* no failure is possible yet: rules were set up with the scheme */
  return e;
}

void
referral_engine_free (ReferralEngine *e)
{
  if (e == NULL)
    return;
  for (guint i = 0; i < e->subscriptions->len; i++)
    {
      Subscription *s = &g_array_index (e->subscriptions, Subscription, i);
      if (s->destroy)
        s->destroy (s->user_data);
    }
  g_array_free (e->subscriptions, TRUE);
  for (guint h = 0; h < N_HOOKS; h++)
    g_free (e->hooks[h]);
  for (guint k = 0; e->kind_hooks != NULL && k < e->scheme->kinds->len; k++)
    g_free (e->kind_hooks[k]);
  g_free (e->kind_hooks);
  g_free (e->n_kind_hooks);
  referral_tree_clear (&e->tree);
  referral_ledger_clear (&e->ledger);
  referral_mem_free (e->rows);
  g_free (e->field_offset);
  g_free (e->field_words);
  for (guint l = 0; l < e->n_lists; l++)
    g_array_free (e->lists[l], TRUE);
  g_free (e->lists);
  g_free (e->list_words);
  referral_intern_clear (&e->order_keys);
  referral_intern_clear (&e->skus);
  referral_intern_clear (&e->event_ids);
  referral_mem_free (e->order_buyer);
  referral_mem_free (e->order_amount);
  referral_mem_free (e->order_sku);
  referral_mem_free (e->order_event);
  referral_mem_free (e->order_period);
  referral_mem_free (e->order_refunded);
  referral_mem_free (e->event_fp);
  g_free (e->undo);
  g_free (e->changed);
  g_free (e->changed_set);
  referral_scheme_unref (e->scheme);
  g_free (e);
}

/* Per-member storage outside the tree grows with it. */
static void
grow_members (ReferralEngine *e)
{
  guint32 n = e->tree.n;
  referral_ledger_set_members (&e->ledger, n);
  if (n > e->field_cap)
    {
      guint32 cap = MAX (e->field_cap * 2, 256);
      gsize w = e->row_words;
      if (w > 0)
        {
          e->rows = referral_renew (gint64, e->rows, w * cap);
          memset (e->rows + w * e->field_cap, 0, w * (cap - e->field_cap) * sizeof (gint64));
        }
      e->field_cap = cap;
    }
}

static void
push_undo (ReferralEngine *e, UndoKind kind, guint32 a, guint32 b, guint32 c, guint32 d,
           gint64 v, gpointer p)
{
  referral_engine_push_undo (e, (UndoEntry) { kind, a, b, c, d, v, p });
}

/* Undo of everything the current event did, newest first. */
static void
rollback (ReferralEngine *e)
{
  for (guint i = e->n_undo; i-- > 0;)
    {
      UndoEntry *u = &e->undo[i];
      switch (u->kind)
        {
        case UNDO_JOIN:
          if (e->row_words > 0)
            memset (e->rows + (gsize) e->row_words * u->a, 0, e->row_words * sizeof (gint64));
          referral_tree_pop (&e->tree);
          referral_ledger_set_members (&e->ledger, e->tree.n);
          break;
        case UNDO_POST:
          referral_ledger_unappend (&e->ledger);
          break;
        case UNDO_RANK:
          referral_tree_set_rank (&e->tree, u->a, (ReferralRank) u->b);
          break;
        case UNDO_MOVE:
          referral_tree_place (&e->tree, u->a, u->b, u->c, FALSE);
          break;
        case UNDO_FIELD:
          e->rows[(gsize) e->row_words * u->b + e->field_offset[u->a] + u->c] = u->v;
          break;
        case UNDO_LIST_PUSH:
          g_array_set_size (e->lists[u->a], e->lists[u->a]->len - e->list_words[u->a]);
          break;
        case UNDO_LIST_CLEAR:
          g_array_free (e->lists[u->a], TRUE);
          e->lists[u->a] = u->p;
          u->p = NULL;
          break;
        case UNDO_ORDER:
          referral_intern_pop (&e->order_keys);
          e->n_orders--;
          break;
        case UNDO_REFUNDED:
          e->order_refunded[u->a] = 0;
          break;
        case UNDO_PERIOD:
          e->n_periods--;
          break;
        default:
          g_assert_not_reached ();
        }
    }
  e->n_undo = 0;
  e->n_undo_lists = 0;
}

/* Effects recorded for undo, reused as the subscribers' news.  Saved list
 * contents are dropped at commit. */
static void
commit_effects (ReferralEngine *e, const ReferralEvent *ev, guint32 seq, guint64 first_posting)
{
  guint64 posting = first_posting;
  gboolean notify = e->subscriptions->len > 0;
  if (!notify && e->n_undo_lists == 0)
    {
      /* Nothing to free, nobody to tell: the common case of a batch run. */
      e->n_undo = 0;
      return;
    }
  for (guint i = 0; i < e->n_undo; i++)
    {
      UndoEntry *u = &e->undo[i];
      if (u->kind == UNDO_LIST_CLEAR && u->p)
        {
          g_array_free (u->p, TRUE);
          u->p = NULL;
        }
      if (!notify)
        continue;
      for (guint s = 0; s < e->subscriptions->len; s++)
        {
          Subscription *sub = &g_array_index (e->subscriptions, Subscription, s);
          const ReferralPosting *p;
          switch (u->kind)
            {
            case UNDO_JOIN:
              if (sub->sub.joined)
                sub->sub.joined (sub->user_data, u->a);
              break;
            case UNDO_POST:
              p = &e->ledger.postings[posting];
              if (sub->sub.posted)
                sub->sub.posted (sub->user_data, p, posting);
              if (p->kind == REFERRAL_KIND_RELEASE && sub->sub.released)
                sub->sub.released (sub->user_data,
                                   referral_ledger_account_member (&e->ledger, p->to, NULL),
                                   p->amount, posting);
              break;
            case UNDO_RANK:
              if (sub->sub.rank_changed)
                sub->sub.rank_changed (sub->user_data, u->a, (ReferralRank) u->b,
                                       (ReferralRank) u->c);
              break;
            case UNDO_MOVE:
              if (sub->sub.moved)
                sub->sub.moved (sub->user_data, u->a, u->b, u->d);
              break;
            default:
              break;
            }
        }
      if (u->kind == UNDO_POST)
        posting++;
    }
  if (notify)
    for (guint s = 0; s < e->subscriptions->len; s++)
      {
        Subscription *sub = &g_array_index (e->subscriptions, Subscription, s);
        if (sub->sub.applied)
          sub->sub.applied (sub->user_data, ev, seq);
      }
  e->n_undo = 0;
  e->n_undo_lists = 0;
}

/* Validation helpers. */

static gboolean
fail (GError **error, ReferralErrorCode code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, ReferralErrorCode code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, REFERRAL_ERROR, code, msg);
  g_free (msg);
  return FALSE;
}

static gboolean
need_field (const char *value, const char *field, GError **error)
{
  if (value == NULL || *value == '\0')
    return fail (error, REFERRAL_ERROR_INVALID_EVENT, "field \"%s\" is missing or empty", field);
  return TRUE;
}

/* Fields each event type may carry; others must be unset. */
enum {
  F_MEMBER = 1 << 0, F_SPONSOR = 1 << 1, F_ORDER = 1 << 2, F_SKU = 1 << 3,
  F_PERIOD = 1 << 4, F_OLD = 1 << 5, F_NEW = 1 << 6, F_RANK = 1 << 7,
  F_AMOUNT = 1 << 8, F_COMMAND = 1 << 9
};

static gboolean
check_fields (const ReferralEvent *ev, guint allowed, GError **error)
{
  static const struct { guint flag; const char *name; gsize offset; } fields[] = {
    { F_MEMBER, "member", G_STRUCT_OFFSET (ReferralEvent, member) },
    { F_SPONSOR, "sponsor", G_STRUCT_OFFSET (ReferralEvent, sponsor) },
    { F_ORDER, "order", G_STRUCT_OFFSET (ReferralEvent, order) },
    { F_SKU, "sku", G_STRUCT_OFFSET (ReferralEvent, sku) },
    { F_PERIOD, "period", G_STRUCT_OFFSET (ReferralEvent, period) },
    { F_OLD, "old", G_STRUCT_OFFSET (ReferralEvent, old_member) },
    { F_NEW, "new", G_STRUCT_OFFSET (ReferralEvent, new_member) },
    { F_RANK, "rank", G_STRUCT_OFFSET (ReferralEvent, rank) },
    { F_COMMAND, "command", G_STRUCT_OFFSET (ReferralEvent, command) },
  };
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const char *v = G_STRUCT_MEMBER (const char *, ev, fields[i].offset);
      if (v != NULL && !(allowed & fields[i].flag))
        return fail (error, REFERRAL_ERROR_INVALID_EVENT, "field \"%s\" does not belong to a %s",
                     fields[i].name, referral_event_type_name (ev));
      if (v != NULL && *v == '\0')
        return fail (error, REFERRAL_ERROR_INVALID_EVENT, "field \"%s\" is empty",
                     fields[i].name);
    }
  if (!(allowed & F_AMOUNT) && (ev->amount != 0 || ev->amount_text != NULL))
    return fail (error, REFERRAL_ERROR_INVALID_EVENT, "field \"amount\" does not belong to a %s",
                 referral_event_type_name (ev));
  return TRUE;
}

static ReferralMember
need_member (ReferralEngine *e, const char *key, guint32 h, const char *role, GError **error)
{
  ReferralMember m = referral_intern_lookup_hashed (&e->tree.keys, key, h);
  if (m == REFERRAL_NO_MEMBER)
    fail (error, REFERRAL_ERROR_UNKNOWN_MEMBER, "%s \"%s\" does not exist", role, key);
  return m;
}

static gboolean
positive_amount (ReferralEngine *e, gint64 amount, GError **error)
{
  if (amount <= 0)
    {
      char buf[REFERRAL_MONEY_BUF_SIZE];
      return fail (error, REFERRAL_ERROR_INVALID_EVENT, "amount %s is not positive",
                   referral_money_format_buf (amount, e->scheme->decimals, buf));
    }
  return TRUE;
}

/* Calling the rules. */

#define RUN_HOOKS(ctx, hook, call)                                          \
  do {                                                                      \
    ReferralEngine *e_ = (ctx)->engine;                                     \
    guint8 saved_ = (ctx)->rule;                                            \
    for (guint i_ = 0; i_ < e_->n_hooks[hook]; i_++)                        \
      {                                                                     \
        ReferralRuleInstance *ri = e_->rules[e_->hooks[hook][i_]];          \
        (ctx)->rule = (guint8) (e_->hooks[hook][i_] + 1);                   \
        if (!(call))                                                        \
          {                                                                 \
            (ctx)->rule = saved_;                                           \
            return FALSE;                                                   \
          }                                                                 \
      }                                                                     \
    (ctx)->rule = saved_;                                                   \
  } while (0)

static gboolean
apply_join (ReferralCtx *ctx, const ReferralEvent *ev, GError **error)
{
  ReferralEngine *e = ctx->engine;
  if (!check_fields (ev, F_MEMBER | F_SPONSOR, error) || !need_field (ev->member, "member", error))
    return FALSE;
  if (referral_intern_lookup_hashed (&e->tree.keys, ev->member, ctx->hashes->member)
      != REFERRAL_NO_MEMBER)
    return fail (error, REFERRAL_ERROR_DUPLICATE_MEMBER, "member \"%s\" exists already",
                 ev->member);
  ReferralMember sponsor = REFERRAL_NO_MEMBER;
  if (ev->sponsor)
    {
      sponsor = need_member (e, ev->sponsor, ctx->hashes->sponsor, "sponsor", error);
      if (sponsor == REFERRAL_NO_MEMBER)
        return FALSE;
    }
  ReferralMember m = referral_tree_add_hashed (&e->tree, ev->member, ctx->hashes->member_len,
                                               ctx->hashes->member, sponsor);
  if (m == REFERRAL_NO_MEMBER)
    return fail (error, REFERRAL_ERROR_OVERFLOW, "the tree is full");
  grow_members (e);
  push_undo (e, UNDO_JOIN, m, 0, 0, 0, 0, NULL);
  RUN_HOOKS (ctx, HOOK_JOIN, ri->type->on_join (ctx, ri->config, m, error));
  return TRUE;
}

void
referral_engine_fill_order (const ReferralEngine *e, guint32 o, ReferralOrder *out)
{
  out->key = referral_intern_key (&e->order_keys, o);
  out->buyer = e->order_buyer[o];
  out->amount = e->order_amount[o];
  out->sku = e->order_sku[o] == REFERRAL_INTERN_NONE ? NULL
                                                      : referral_intern_key (&e->skus, e->order_sku[o]);
  out->event = e->order_event[o];
  out->period = e->order_period[o];
  out->refunded = e->order_refunded[o];
}

static gboolean
apply_order (ReferralCtx *ctx, const ReferralEvent *ev, GError **error)
{
  ReferralEngine *e = ctx->engine;
  if (!check_fields (ev, F_ORDER | F_MEMBER | F_AMOUNT | F_SKU, error)
      || !need_field (ev->order, "order", error) || !need_field (ev->member, "member", error)
      || !positive_amount (e, ev->amount, error))
    return FALSE;
  if (referral_intern_lookup_hashed (&e->order_keys, ev->order, ctx->hashes->order)
      != REFERRAL_INTERN_NONE)
    return fail (error, REFERRAL_ERROR_DUPLICATE_ORDER, "order \"%s\" exists already", ev->order);
  ReferralMember buyer = need_member (e, ev->member, ctx->hashes->member, "member", error);
  if (buyer == REFERRAL_NO_MEMBER)
    return FALSE;

  guint32 sku = REFERRAL_INTERN_NONE;
  if (ev->sku && (sku = referral_intern_lookup (&e->skus, ev->sku)) == REFERRAL_INTERN_NONE)
    sku = referral_intern_add (&e->skus, ev->sku); /* distinct skus are kept; harmless if undone */
  guint32 o = referral_intern_add_sized (&e->order_keys, ev->order, ctx->hashes->order_len,
                                          ctx->hashes->order);
  if (o == REFERRAL_INTERN_NONE || (ev->sku && sku == REFERRAL_INTERN_NONE))
    {
      if (o != REFERRAL_INTERN_NONE)
        referral_intern_pop (&e->order_keys);
      return fail (error, REFERRAL_ERROR_OVERFLOW, "too many orders");
    }
  if (o == e->cap_orders)
    {
      e->cap_orders = e->cap_orders ? e->cap_orders * 2 : 256;
      e->order_buyer = referral_renew (ReferralMember, e->order_buyer, e->cap_orders);
      e->order_amount = referral_renew (gint64, e->order_amount, e->cap_orders);
      e->order_sku = referral_renew (guint32, e->order_sku, e->cap_orders);
      e->order_event = referral_renew (guint32, e->order_event, e->cap_orders);
      e->order_period = referral_renew (guint32, e->order_period, e->cap_orders);
      e->order_refunded = referral_renew (guint8, e->order_refunded, e->cap_orders);
    }
  e->n_orders = o + 1;
  e->order_buyer[o] = buyer;
  e->order_amount[o] = ev->amount;
  e->order_sku[o] = sku;
  e->order_event[o] = ctx->seq;
  e->order_period[o] = e->n_periods;
  e->order_refunded[o] = 0;
  push_undo (e, UNDO_ORDER, o, 0, 0, 0, 0, NULL);

  if (!referral_engine_post (ctx, REFERRAL_ACCOUNT_OUTSIDE, REFERRAL_ACCOUNT_PLATFORM, ev->amount,
                             REFERRAL_KIND_SALE, REFERRAL_NO_POSTING, 0, TRUE, NULL, error))
    return FALSE;
  ReferralOrder order;
  referral_engine_fill_order (e, o, &order);
  RUN_HOOKS (ctx, HOOK_ORDER, ri->type->on_order (ctx, ri->config, &order, error));
  return TRUE;
}

static gboolean
apply_refund (ReferralCtx *ctx, const ReferralEvent *ev, GError **error)
{
  ReferralEngine *e = ctx->engine;
  if (!check_fields (ev, F_ORDER, error) || !need_field (ev->order, "order", error))
    return FALSE;
  guint32 o = referral_intern_lookup_hashed (&e->order_keys, ev->order, ctx->hashes->order);
  if (o == REFERRAL_INTERN_NONE)
    return fail (error, REFERRAL_ERROR_UNKNOWN_ORDER, "order \"%s\" does not exist", ev->order);
  if (e->order_refunded[o])
    return fail (error, REFERRAL_ERROR_ALREADY_REFUNDED, "order \"%s\" was already refunded",
                 ev->order);
  e->order_refunded[o] = 1;
  push_undo (e, UNDO_REFUNDED, o, 0, 0, 0, 0, NULL);

  /* Reverse the order event's postings, newest first, so that each
   * reward on a reward is taken back before the reward it rests on. */
  guint64 first, n;
  referral_ledger_event_postings (&e->ledger, e->order_event[o], &first, &n);
  for (guint64 i = first + n; i-- > first;)
    {
      ReferralPosting orig = e->ledger.postings[i];
      ReferralPosting rev = orig;
      rev.from = orig.to;
      rev.to = orig.from;
      gboolean skip = FALSE;
      RUN_HOOKS (ctx, HOOK_REVERSE,
                 ri->type->on_reverse (ctx, ri->config, &orig, i, &rev, &skip, error));
      if (skip)
        continue;
      guint8 saved = ctx->rule;
      ctx->rule = orig.rule;
      gboolean ok = referral_engine_post (ctx, rev.from, rev.to, rev.amount, orig.kind, i,
                                          REFERRAL_POSTING_REVERSAL, FALSE, NULL, error);
      ctx->rule = saved;
      if (!ok)
        return FALSE;
    }
  ReferralOrder order;
  referral_engine_fill_order (e, o, &order);
  RUN_HOOKS (ctx, HOOK_REFUND, ri->type->on_refund (ctx, ri->config, &order, error));
  return TRUE;
}

static gboolean
apply_period_close (ReferralCtx *ctx, const ReferralEvent *ev, GError **error)
{
  ReferralEngine *e = ctx->engine;
  if (!check_fields (ev, F_PERIOD, error) || !need_field (ev->period, "period", error))
    return FALSE;
  RUN_HOOKS (ctx, HOOK_PERIOD_CLOSE,
             ri->type->on_period_close (ctx, ri->config, ev->period, error));
  e->n_periods++;
  push_undo (e, UNDO_PERIOD, 0, 0, 0, 0, 0, NULL);
  return TRUE;
}

static gboolean
apply_withdraw (ReferralCtx *ctx, const ReferralEvent *ev, GError **error)
{
  ReferralEngine *e = ctx->engine;
  if (!check_fields (ev, F_MEMBER | F_AMOUNT, error) || !need_field (ev->member, "member", error)
      || !positive_amount (e, ev->amount, error))
    return FALSE;
  ReferralMember m = need_member (e, ev->member, ctx->hashes->member, "member", error);
  if (m == REFERRAL_NO_MEMBER)
    return FALSE;
  ReferralAccount avail = e->ledger.member_base + 2 * m;
  gint64 have = e->ledger.balances[avail];
  if (ev->amount > have)
    {
      char a[REFERRAL_MONEY_BUF_SIZE], b[REFERRAL_MONEY_BUF_SIZE];
      return fail (error, REFERRAL_ERROR_INSUFFICIENT_FUNDS, "amount %s exceeds available %s",
                   referral_money_format_buf (ev->amount, e->scheme->decimals, a),
                   referral_money_format_buf (have, e->scheme->decimals, b));
    }
  if (!referral_engine_post (ctx, avail, REFERRAL_ACCOUNT_OUTSIDE, ev->amount,
                             REFERRAL_KIND_WITHDRAW, REFERRAL_NO_POSTING, 0, TRUE, NULL, error))
    return FALSE;
  RUN_HOOKS (ctx, HOOK_WITHDRAW, ri->type->on_withdraw (ctx, ri->config, m, ev->amount, error));
  return TRUE;
}

static gboolean
apply_promote (ReferralCtx *ctx, const ReferralEvent *ev, GError **error)
{
  ReferralEngine *e = ctx->engine;
  if (!check_fields (ev, F_MEMBER | F_RANK, error) || !need_field (ev->member, "member", error)
      || !need_field (ev->rank, "rank", error))
    return FALSE;
  ReferralMember m = need_member (e, ev->member, ctx->hashes->member, "member", error);
  if (m == REFERRAL_NO_MEMBER)
    return FALSE;
  ReferralRank target;
  if (!referral_scheme_lookup_rank (e->scheme, ev->rank, &target))
    {
      g_autofree char *ranks = g_strjoinv (", ", e->scheme->ranks);
      return fail (error, REFERRAL_ERROR_INVALID_RANK, "rank \"%s\" is not a rank of scheme %s (%s)",
                   ev->rank, e->scheme->name, ranks);
    }
  ReferralRank cur = e->tree.rank[m];
  if (target <= cur)
    return fail (error, REFERRAL_ERROR_INVALID_RANK, "rank \"%s\" is not higher than \"%s\"",
                 ev->rank, e->scheme->ranks[cur]);
  /* Climb one rank at a time, so that rules see each step as they would
   * see it happen by itself; a rule reacting to one step may already have
   * raised the member further. */
  for (ReferralRank r = (ReferralRank) (cur + 1); r <= target; r++)
    if (e->tree.rank[m] < r && !referral_engine_set_rank (ctx, m, r, error))
      return FALSE;
  return TRUE;
}

static gboolean
apply_command (ReferralCtx *ctx, const ReferralEvent *ev, GError **error)
{
  ReferralEngine *e = ctx->engine;
  if (!check_fields (ev, F_COMMAND | F_MEMBER | F_OLD | F_NEW, error)
      || !need_field (ev->command, "command", error))
    return FALSE;
  GArray *cmds = e->scheme->commands;
  for (guint i = 0; i < cmds->len; i++)
    {
      const ReferralCommandDecl *c = &g_array_index (cmds, ReferralCommandDecl, i);
      if (strcmp (c->name, ev->command) == 0)
        {
          ReferralRuleInstance *ri = e->rules[c->rule];
          ctx->rule = (guint8) (c->rule + 1);
          gboolean ok = ri->type->on_command (ctx, ri->config, ev, error);
          ctx->rule = 0;
          return ok;
        }
    }
  return fail (error, REFERRAL_ERROR_UNKNOWN_COMMAND, "scheme %s has no command \"%s\"",
               e->scheme->name, ev->command);
}

static gboolean
run_event_end (ReferralCtx *ctx, GError **error)
{
  RUN_HOOKS (ctx, HOOK_EVENT_END, ri->type->on_event_end (ctx, ri->config, error));
  return TRUE;
}

static gboolean
dispatch (ReferralCtx *ctx, const ReferralEvent *ev, GError **error)
{
  gboolean ok;
  switch (ev->type)
    {
    case REFERRAL_EVENT_JOIN: ok = apply_join (ctx, ev, error); break;
    case REFERRAL_EVENT_ORDER: ok = apply_order (ctx, ev, error); break;
    case REFERRAL_EVENT_REFUND: ok = apply_refund (ctx, ev, error); break;
    case REFERRAL_EVENT_PERIOD_CLOSE: ok = apply_period_close (ctx, ev, error); break;
    case REFERRAL_EVENT_WITHDRAW: ok = apply_withdraw (ctx, ev, error); break;
    case REFERRAL_EVENT_PROMOTE: ok = apply_promote (ctx, ev, error); break;
    case REFERRAL_EVENT_COMMAND: ok = apply_command (ctx, ev, error); break;
    case REFERRAL_EVENT_NONE:
    default:
      return fail (error, REFERRAL_ERROR_INVALID_EVENT, "event type %d is unknown", (int) ev->type);
    }
  return ok && run_event_end (ctx, error);
}

/* The key an error message names the event by. */
static const char *
event_key (const ReferralEvent *ev)
{
  const char *k = NULL;
  switch (ev->type)
    {
    case REFERRAL_EVENT_ORDER:
    case REFERRAL_EVENT_REFUND: k = ev->order; break;
    case REFERRAL_EVENT_PERIOD_CLOSE: k = ev->period; break;
    case REFERRAL_EVENT_JOIN:
    case REFERRAL_EVENT_WITHDRAW:
    case REFERRAL_EVENT_PROMOTE:
    case REFERRAL_EVENT_COMMAND: k = ev->member; break;
    case REFERRAL_EVENT_NONE:
    default: break;
    }
  return k && *k ? k : ev->id; /* may be NULL when the id is missing too */
}

static void
notify_rejected (ReferralEngine *e, const ReferralEvent *ev, const GError *err)
{
  for (guint s = 0; s < e->subscriptions->len; s++)
    {
      Subscription *sub = &g_array_index (e->subscriptions, Subscription, s);
      if (sub->sub.rejected)
        sub->sub.rejected (sub->user_data, ev, err);
    }
}

/* The hashes of the keys @ev has (the others are left 0, and never read:
 * an event without a key is refused before its key is looked up). */
static inline void
event_hashes (const ReferralEvent *ev, EventHashes *h)
{
  h->id = ev->id ? referral_intern_hash_len (ev->id, &h->id_len) : 0;
  h->member = ev->member ? referral_intern_hash_len (ev->member, &h->member_len) : 0;
  h->sponsor = ev->sponsor ? referral_intern_hash_len (ev->sponsor, &h->sponsor_len) : 0;
  h->order = ev->order ? referral_intern_hash_len (ev->order, &h->order_len) : 0;
}

/* referral_engine_apply(), given the hashes of @ev's keys. */
static gboolean
apply_hashed (ReferralEngine *e, const ReferralEvent *ev, const EventHashes *hashes,
              ReferralApplyResult *result, GError **error)
{
  GError *local = NULL;

  if (ev->id == NULL || *ev->id == '\0')
    {
      fail (&local, REFERRAL_ERROR_INVALID_EVENT, "field \"id\" is missing or empty");
      goto rejected;
    }
  guint64 fp = referral_event_fingerprint_sized (ev, hashes);
  guint32 prior = referral_intern_lookup_hashed (&e->event_ids, ev->id, hashes->id);
  if (prior != REFERRAL_INTERN_NONE)
    {
      if (e->event_fp[prior] != fp)
        {
          fail (&local, REFERRAL_ERROR_ID_CONFLICT,
                "event id \"%s\" was already used for a different event (sequence %u)",
                ev->id, prior);
          goto rejected;
        }
      if (result)
        *result = (ReferralApplyResult) { REFERRAL_DUPLICATE, prior, 0, 0 };
      return TRUE;
    }
  if (e->event_ids.n >= G_MAXUINT32 - 1)
    {
      fail (&local, REFERRAL_ERROR_OVERFLOW, "the engine holds the most events it can");
      goto rejected;
    }

  guint32 seq = e->event_ids.n;
  guint64 first_posting = e->ledger.n_postings;
  referral_engine_reset_changed (e);
  ReferralCtx ctx = { e, ev, hashes, seq, 0, 0, NULL };

  gboolean ok = dispatch (&ctx, ev, &local);
  if (ok && ctx.failed)
    {
      /* A rule ignored the refusal of one of its effects. */
      ok = FALSE;
      local = g_steal_pointer (&ctx.failed);
    }
  g_clear_error (&ctx.failed);
  if (ok && e->check_invariants)
    ok = referral_engine_check_invariants (e, &local);
  if (!ok)
    {
      rollback (e);
      goto rejected;
    }

  /* Commit: record the id, close the posting range, tell subscribers. */
  if (referral_intern_add_sized (&e->event_ids, ev->id, hashes->id_len, hashes->id) != seq)
    g_assert_not_reached ();
  if ((seq & (seq - 1)) == 0 || seq == 0)
    e->event_fp = referral_renew (guint64, e->event_fp, seq ? (gsize) seq * 2 : 1);
  e->event_fp[seq] = fp;
  referral_ledger_commit_event (&e->ledger);
  if (result)
    *result = (ReferralApplyResult) { REFERRAL_APPLIED, seq, first_posting,
                                      e->ledger.n_postings - first_posting };
  commit_effects (e, ev, seq, first_posting);
  return TRUE;

rejected:
  g_prefix_error (&local, "%s \"%s\": ", referral_event_type_name (ev),
                  event_key (ev) ? event_key (ev) : "");
  notify_rejected (e, ev, local);
  g_propagate_error (error, local);
  return FALSE;
}

gboolean
referral_engine_apply (ReferralEngine *e, const ReferralEvent *ev,
                       ReferralApplyResult *result, GError **error)
{
  g_return_val_if_fail (e != NULL && ev != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  EventHashes hashes;
  event_hashes (ev, &hashes);
  return apply_hashed (e, ev, &hashes, result, error);
}

/* Batches. */

/* How far ahead of the event being applied the next events' key slots are
 * prefetched (PREFETCH_SLOTS), their members' own entries and key pointers
 * (PREFETCH_MEMBERS: by then the member's slot has arrived, so its index
 * can be read), and the members' keys and the entries of their memoised
 * superiors (PREFETCH_SUPERIORS: by then the key pointers and the memo
 * entries have arrived). */
#define PREFETCH_SLOTS 8
#define PREFETCH_MEMBERS 4
#define PREFETCH_SUPERIORS 2
#define PREFETCH_RING 8 /* > PREFETCH_MEMBERS, a power of two */

static inline void
prefetch_slots (const ReferralEngine *e, const ReferralEvent *ev, const EventHashes *h)
{
  if (ev->id)
    referral_intern_prefetch (&e->event_ids, h->id);
  if (ev->member)
    referral_intern_prefetch (&e->tree.keys, h->member);
  if (ev->order)
    referral_intern_prefetch (&e->order_keys, h->order);
  if (ev->sponsor)
    referral_intern_prefetch (&e->tree.keys, h->sponsor);
}

/* A member's own entries: tree, memo, field row, balances. */
static inline void
prefetch_entries (const ReferralEngine *e, ReferralMember m)
{
  const ReferralTree *t = &e->tree;
  __builtin_prefetch (&t->rank[m]);
  __builtin_prefetch (&t->parent[m]);
  __builtin_prefetch (&t->sponsor[m]);
  for (guint r = 1; r < e->scheme->n_ranks && r < REFERRAL_MAX_RANKS; r++)
    if (t->memo[r])
      __builtin_prefetch (&t->memo[r][m]);
  if (e->row_words > 0)
    __builtin_prefetch (e->rows + (gsize) e->row_words * m);
  __builtin_prefetch (&e->ledger.balances[e->ledger.member_base + 2 * (gsize) m]);
}

/* The member whose key hashes to @h probably (see referral_intern_peek),
 * with its entries prefetched, or REFERRAL_NO_MEMBER. */
static inline ReferralMember
prefetch_member (const ReferralEngine *e, guint32 h)
{
  guint32 m = referral_intern_peek (&e->tree.keys, h);
  if (m == REFERRAL_INTERN_NONE || m >= e->tree.n)
    return REFERRAL_NO_MEMBER;
  prefetch_entries (e, m);
  return m;
}

static inline ReferralMember
prefetch_members (const ReferralEngine *e, const ReferralEvent *ev, const EventHashes *h)
{
  ReferralMember m = REFERRAL_NO_MEMBER;
  if (ev->member)
    m = prefetch_member (e, h->member);
  if (ev->sponsor)
    prefetch_member (e, h->sponsor);
  if (ev->order && ev->type == REFERRAL_EVENT_REFUND)
    {
      guint32 o = referral_intern_peek (&e->order_keys, h->order);
      if (o != REFERRAL_INTERN_NONE && o < e->n_orders)
        __builtin_prefetch (&e->order_buyer[o]);
    }
  return m;
}

/* @m's key (its pointer was prefetched by prefetch_member: the lookup
 * compares it), and the entries of its memoised nearest members of each
 * rank (the superiors rules pay). */
static inline void
prefetch_superiors (const ReferralEngine *e, ReferralMember m)
{
  if (m == REFERRAL_NO_MEMBER || m >= e->tree.n)
    return;
  const ReferralTree *t = &e->tree;
  referral_intern_prefetch_key (&t->keys, m);
  for (guint r = 1; r < e->scheme->n_ranks && r < REFERRAL_MAX_RANKS; r++)
    if (t->memo[r] && t->memo[r][m].stamp == t->memo_version[r]
        && t->memo[r][m].value < t->n)
      prefetch_entries (e, t->memo[r][m].value);
}

gboolean
referral_engine_apply_many (ReferralEngine *engine, const ReferralEvent *events, gsize n_events,
                            gsize *n_done, gsize *n_duplicates, GError **error)
{
  g_return_val_if_fail (engine != NULL && (events != NULL || n_events == 0), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  /* For event k: ring[k % PREFETCH_RING], the member it probably names, and
   * hashes[k % PREFETCH_RING], the hashes of its keys (computed once, when
   * its slots are prefetched). */
  ReferralMember ring[PREFETCH_RING];
  EventHashes hashes[PREFETCH_RING];
  gsize dups = 0, i;
  for (i = 0; i < MIN (n_events, PREFETCH_SLOTS); i++)
    {
      event_hashes (&events[i], &hashes[i % PREFETCH_RING]);
      prefetch_slots (engine, &events[i], &hashes[i % PREFETCH_RING]);
    }
  for (i = 0; i < MIN (n_events, PREFETCH_MEMBERS); i++)
    ring[i % PREFETCH_RING] = prefetch_members (engine, &events[i], &hashes[i % PREFETCH_RING]);
  gboolean ok = TRUE;
  for (i = 0; i < n_events; i++)
    {
      /* Computing event i + PREFETCH_SLOTS's hashes overwrites event i's:
       * keep those first. */
      EventHashes h = hashes[i % PREFETCH_RING];
      if (i + PREFETCH_SLOTS < n_events)
        {
          EventHashes *ahead = &hashes[(i + PREFETCH_SLOTS) % PREFETCH_RING];
          event_hashes (&events[i + PREFETCH_SLOTS], ahead);
          prefetch_slots (engine, &events[i + PREFETCH_SLOTS], ahead);
        }
      if (i + PREFETCH_MEMBERS < n_events)
        ring[(i + PREFETCH_MEMBERS) % PREFETCH_RING] =
          prefetch_members (engine, &events[i + PREFETCH_MEMBERS],
                            &hashes[(i + PREFETCH_MEMBERS) % PREFETCH_RING]);
      if (i + PREFETCH_SUPERIORS < n_events)
        prefetch_superiors (engine, ring[(i + PREFETCH_SUPERIORS) % PREFETCH_RING]);
      ReferralApplyResult r;
      if (!apply_hashed (engine, &events[i], &h, &r, error))
        {
          ok = FALSE;
          break;
        }
      dups += r.status == REFERRAL_DUPLICATE;
    }
  if (n_done)
    *n_done = i;
  if (n_duplicates)
    *n_duplicates = dups;
  return ok;
}

/* Queries. */

ReferralScheme *
referral_engine_scheme (const ReferralEngine *engine)
{
  g_return_val_if_fail (engine != NULL, NULL);
  return engine->scheme;
}

const ReferralTree *
referral_engine_tree (const ReferralEngine *engine)
{
  g_return_val_if_fail (engine != NULL, NULL);
  return &engine->tree;
}

const ReferralLedger *
referral_engine_ledger (const ReferralEngine *engine)
{
  g_return_val_if_fail (engine != NULL, NULL);
  return &engine->ledger;
}

guint32
referral_engine_n_events (const ReferralEngine *engine)
{
  g_return_val_if_fail (engine != NULL, 0);
  return engine->event_ids.n;
}

const char *
referral_engine_event_id (const ReferralEngine *engine, guint32 seq)
{
  g_return_val_if_fail (engine != NULL && seq < engine->event_ids.n, NULL);
  return referral_intern_key (&engine->event_ids, seq);
}

guint32
referral_engine_n_periods (const ReferralEngine *engine)
{
  g_return_val_if_fail (engine != NULL, 0);
  return engine->n_periods;
}

gboolean
referral_engine_lookup_order (const ReferralEngine *engine, const char *key, ReferralOrder *out)
{
  g_return_val_if_fail (engine != NULL && key != NULL, FALSE);
  guint32 o = referral_intern_lookup (&engine->order_keys, key);
  if (o == REFERRAL_INTERN_NONE)
    return FALSE;
  if (out)
    referral_engine_fill_order (engine, o, out);
  return TRUE;
}

void
referral_engine_set_check_invariants (ReferralEngine *engine, gboolean check)
{
  g_return_if_fail (engine != NULL);
  engine->check_invariants = check;
}

gboolean
referral_engine_check_invariants (const ReferralEngine *e, GError **error)
{
  g_return_val_if_fail (e != NULL, FALSE);
  if (!referral_ledger_is_balanced (&e->ledger))
    return fail (error, REFERRAL_ERROR_REJECTED, "invariant broken: the ledger does not sum to zero");
  if (e->ledger.n_accounts != e->ledger.member_base + 2 * e->tree.n)
    return fail (error, REFERRAL_ERROR_REJECTED, "invariant broken: account count");
  char *why = referral_tree_check (&e->tree);
  if (why)
    {
      fail (error, REFERRAL_ERROR_REJECTED, "invariant broken: %s", why);
      g_free (why);
      return FALSE;
    }
  return TRUE;
}

/* A 64-bit hash over the state's bytes, in a fixed order. */
typedef struct {
  guint64 h;
} Hasher;

static void
hash_bytes (Hasher *hs, const void *data, gsize len)
{
  const guint8 *p = data;
  guint64 h = hs->h;
  for (gsize i = 0; i < len; i++)
    h = (h ^ p[i]) * 1099511628211ull;
  hs->h = h;
}

static void
hash_u64 (Hasher *hs, guint64 v)
{
  guint8 le[8];
  for (int i = 0; i < 8; i++)
    le[i] = (v >> (8 * i)) & 0xff;
  hash_bytes (hs, le, 8);
}

static void
hash_str (Hasher *hs, const char *s)
{
  hash_bytes (hs, s, strlen (s) + 1);
}

guint64
referral_engine_state_hash (const ReferralEngine *e)
{
  g_return_val_if_fail (e != NULL, 0);
  Hasher hs = { 14695981039346656037ull };
  hash_u64 (&hs, referral_scheme_identity (e->scheme));
  const ReferralTree *t = &e->tree;
  hash_u64 (&hs, t->n);
  for (ReferralMember m = 0; m < t->n; m++)
    {
      hash_str (&hs, referral_intern_key (&t->keys, m));
      hash_u64 (&hs, t->sponsor[m]);
      hash_u64 (&hs, t->parent[m]);
      hash_u64 (&hs, t->rank[m]);
      /* placement order among siblings is state too */
      hash_u64 (&hs, t->next_sibling[m]);
      for (guint w = 0; w < e->row_words; w++)
        hash_u64 (&hs, (guint64) e->rows[(gsize) e->row_words * m + w]);
    }
  for (guint l = 0; l < e->n_lists; l++)
    {
      hash_u64 (&hs, e->lists[l]->len);
      for (guint i = 0; i < e->lists[l]->len; i++)
        hash_u64 (&hs, (guint64) g_array_index (e->lists[l], gint64, i));
    }
  hash_u64 (&hs, e->n_orders);
  for (guint32 o = 0; o < e->n_orders; o++)
    {
      hash_str (&hs, referral_intern_key (&e->order_keys, o));
      hash_u64 (&hs, e->order_buyer[o]);
      hash_u64 (&hs, (guint64) e->order_amount[o]);
      hash_str (&hs, e->order_sku[o] == REFERRAL_INTERN_NONE ? ""
                                                              : referral_intern_key (&e->skus, e->order_sku[o]));
      hash_u64 (&hs, e->order_event[o]);
      hash_u64 (&hs, e->order_period[o]);
      hash_u64 (&hs, e->order_refunded[o]);
    }
  hash_u64 (&hs, e->n_periods);
  hash_u64 (&hs, e->event_ids.n);
  for (guint32 s = 0; s < e->event_ids.n; s++)
    {
      hash_str (&hs, referral_intern_key (&e->event_ids, s));
      hash_u64 (&hs, e->event_fp[s]);
    }
  for (guint32 a = 0; a < e->ledger.n_accounts; a++)
    hash_u64 (&hs, (guint64) e->ledger.balances[a]);
  hash_u64 (&hs, e->ledger.n_postings);
  for (guint64 i = 0; i < e->ledger.n_postings; i++)
    {
      const ReferralPosting *p = &e->ledger.postings[i];
      hash_u64 (&hs, (guint64) p->amount);
      hash_u64 (&hs, p->from);
      hash_u64 (&hs, p->to);
      hash_u64 (&hs, p->event);
      hash_u64 (&hs, p->cause_delta);
      hash_u64 (&hs, ((guint64) p->kind << 16) | ((guint64) p->rule << 8) | p->flags);
    }
  return hs.h;
}

/* Subscribers. */

guint
referral_engine_subscribe (ReferralEngine *engine, const ReferralSubscriber *subscriber,
                           gpointer user_data, GDestroyNotify destroy)
{
  g_return_val_if_fail (engine != NULL && subscriber != NULL, 0);
  g_return_val_if_fail (subscriber->version >= 1, 0);
  Subscription s = { engine->next_subscription++, *subscriber, user_data, destroy };
  g_array_append_val (engine->subscriptions, s);
  return s.id;
}

gboolean
referral_engine_unsubscribe (ReferralEngine *engine, guint id)
{
  g_return_val_if_fail (engine != NULL, FALSE);
  for (guint i = 0; i < engine->subscriptions->len; i++)
    {
      Subscription s = g_array_index (engine->subscriptions, Subscription, i);
      if (s.id == id)
        {
          g_array_remove_index (engine->subscriptions, i);
          if (s.destroy)
            s.destroy (s.user_data);
          return TRUE;
        }
    }
  return FALSE;
}
