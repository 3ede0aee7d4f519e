/* The context of an event: every effect a rule (or the engine) proposes,
 * validated, applied at once so later rules see it, and logged for undo. */
#include <referral/error.h>

#include "engine-private.h"

#include <string.h>

#define MAX_HOOK_DEPTH 64

static gboolean
too_deep (ReferralCtx *ctx, GError **error)
{
  if (ctx->depth < MAX_HOOK_DEPTH)
    return FALSE;
  g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED,
               "rule hooks nested more than %d deep (a rule reacting to its own effects?)",
               MAX_HOOK_DEPTH);
  return TRUE;
}

#define CHANGED_SET_MIN 64 /* slots; a power of two */

static inline guint32
changed_home (const ReferralEngine *e, ReferralMember m)
{
  return (m * 0x9e3779b1u) >> e->changed_shift; /* Fibonacci hashing */
}

static void
changed_set_alloc (ReferralEngine *e, guint slots)
{
  g_free (e->changed_set);
  e->changed_set = g_new (ReferralMember, slots);
  memset (e->changed_set, 0xff, slots * sizeof (ReferralMember)); /* REFERRAL_NO_MEMBER */
  e->changed_mask = slots - 1;
  e->changed_shift = 32 - (guint) g_bit_storage (slots - 1);
}

static void
changed_set_put (ReferralEngine *e, ReferralMember m)
{
  guint32 i = changed_home (e, m);
  while (e->changed_set[i] != REFERRAL_NO_MEMBER)
    i = (i + 1) & e->changed_mask;
  e->changed_set[i] = m;
}

void
referral_engine_reset_changed (ReferralEngine *e)
{
  if (e->changed_set == NULL || e->changed_mask + 1 > 4 * CHANGED_SET_MIN)
    changed_set_alloc (e, CHANGED_SET_MIN); /* back to small after a big event */
  else if (e->n_changed > 0)
    memset (e->changed_set, 0xff, (e->changed_mask + 1) * sizeof (ReferralMember));
  e->n_changed = 0;
}

void
referral_engine_mark_changed (ReferralEngine *e, ReferralMember m)
{
  for (guint32 i = changed_home (e, m); e->changed_set[i] != REFERRAL_NO_MEMBER;
       i = (i + 1) & e->changed_mask)
    if (e->changed_set[i] == m)
      return;
  if (G_UNLIKELY (e->n_changed == e->cap_changed))
    {
      e->cap_changed = e->cap_changed ? e->cap_changed * 2 : 64;
      e->changed = g_renew (ReferralMember, e->changed, e->cap_changed);
    }
  e->changed[e->n_changed++] = m;
  /* Keep the set at most half full: rebuild it twice as large from the
   * list, or insert into it. */
  if ((gsize) e->n_changed * 2 > (gsize) e->changed_mask + 1)
    {
      changed_set_alloc (e, (e->changed_mask + 1) * 2);
      for (guint k = 0; k < e->n_changed; k++)
        changed_set_put (e, e->changed[k]);
    }
  else
    changed_set_put (e, m);
}

gboolean
referral_engine_post (ReferralCtx *ctx, ReferralAccount from, ReferralAccount to, gint64 amount,
                      ReferralKind kind, guint64 cause, guint8 flags, gboolean run_hooks,
                      guint64 *index, GError **error)
{
  ReferralEngine *e = ctx->engine;
  ReferralLedger *l = &e->ledger;
  if (from >= l->n_accounts || to >= l->n_accounts || from == to)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_EVENT,
                   "posting from account %u to account %u is not possible", from, to);
      return FALSE;
    }
  if (amount <= 0)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_EVENT,
                   "posting of %" G_GINT64_FORMAT " minor units: amounts must be positive",
                   amount);
      return FALSE;
    }
  if (kind >= l->n_kinds)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_EVENT,
                   "posting kind %u is not a kind of the scheme", kind);
      return FALSE;
    }
  guint64 idx = l->n_postings;
  if (cause != REFERRAL_NO_POSTING && (cause >= idx || idx - cause > G_MAXUINT32))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_EVENT,
                   "posting cause %" G_GUINT64_FORMAT " is not an earlier posting", cause);
      return FALSE;
    }
  ReferralPosting p = {
    .amount = amount, .from = from, .to = to, .event = ctx->seq,
    .cause_delta = cause == REFERRAL_NO_POSTING ? 0 : (guint32) (idx - cause),
    .kind = kind, .rule = ctx->rule, .flags = flags,
  };
  if (!referral_ledger_append (l, &p))
    {
      g_autofree char *a = referral_ledger_account_name (l, from);
      g_autofree char *b = referral_ledger_account_name (l, to);
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_OVERFLOW,
                   "moving %" G_GINT64_FORMAT " minor units from %s to %s would overflow a balance",
                   amount, a, b);
      return FALSE;
    }
  referral_engine_push_undo (e, (UndoEntry) { .kind = UNDO_POST });
  if (index)
    *index = idx;
  /* The rules whose on_posting wants this kind (see
   * referral_setup_posting_kind). */
  const guint8 *hooks = e->kind_hooks[kind];
  guint n_hooks = e->n_kind_hooks[kind];
  if (!run_hooks || n_hooks == 0)
    return TRUE;
  if (too_deep (ctx, error))
    return FALSE;
  ctx->depth++;
  guint8 saved = ctx->rule;
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < n_hooks; i++)
    {
      ReferralRuleInstance *ri = e->rules[hooks[i]];
      ctx->rule = (guint8) (hooks[i] + 1);
      ok = ri->type->on_posting (ctx, ri->config, &p, idx, error);
    }
  ctx->rule = saved;
  ctx->depth--;
  return ok;
}

gboolean
referral_engine_set_rank (ReferralCtx *ctx, ReferralMember m, ReferralRank r, GError **error)
{
  ReferralEngine *e = ctx->engine;
  if (m >= e->tree.n)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_UNKNOWN_MEMBER,
                   "member %u does not exist", m);
      return FALSE;
    }
  if (r >= e->scheme->n_ranks)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_RANK,
                   "rank %u is not a rank of scheme %s", r, e->scheme->name);
      return FALSE;
    }
  ReferralRank old = e->tree.rank[m];
  if (old == r)
    return TRUE;
  referral_tree_set_rank (&e->tree, m, r);
  referral_engine_push_undo (e, (UndoEntry) { .kind = UNDO_RANK, .a = m, .b = old, .c = r });
  referral_engine_mark_changed (e, m);
  if (e->n_hooks[HOOK_RANK_CHANGE] == 0)
    return TRUE;
  if (too_deep (ctx, error))
    return FALSE;
  ctx->depth++;
  guint8 saved = ctx->rule;
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < e->n_hooks[HOOK_RANK_CHANGE]; i++)
    {
      ReferralRuleInstance *ri = e->rules[e->hooks[HOOK_RANK_CHANGE][i]];
      ctx->rule = (guint8) (e->hooks[HOOK_RANK_CHANGE][i] + 1);
      ok = ri->type->on_rank_change (ctx, ri->config, m, old, r, error);
    }
  ctx->rule = saved;
  ctx->depth--;
  return ok;
}

/* The public context API. */

/* Every effect a rule proposes goes through here on failure: the first
 * refusal is remembered so that the event is rejected even when the rule
 * ignores the error it was given. */
static gboolean
effect_result (ReferralCtx *ctx, gboolean ok, GError *local, GError **error)
{
  if (ok)
    return TRUE;
  if (ctx->failed == NULL)
    ctx->failed = g_error_copy (local);
  g_propagate_error (error, local);
  return FALSE;
}

const ReferralTree *
referral_ctx_tree (const ReferralCtx *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return &ctx->engine->tree;
}

const ReferralLedger *
referral_ctx_ledger (const ReferralCtx *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return &ctx->engine->ledger;
}

const ReferralEvent *
referral_ctx_event (const ReferralCtx *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->event;
}

guint32
referral_ctx_event_seq (const ReferralCtx *ctx)
{
  g_return_val_if_fail (ctx != NULL, 0);
  return ctx->seq;
}

guint32
referral_ctx_period (const ReferralCtx *ctx)
{
  g_return_val_if_fail (ctx != NULL, 0);
  return ctx->engine->n_periods;
}

guint
referral_ctx_decimals (const ReferralCtx *ctx)
{
  g_return_val_if_fail (ctx != NULL, 0);
  return ctx->engine->scheme->decimals;
}

const ReferralScheme *
referral_ctx_scheme (const ReferralCtx *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->engine->scheme;
}

gboolean
referral_ctx_post (ReferralCtx *ctx, ReferralAccount from, ReferralAccount to, gint64 amount,
                   ReferralKind kind, guint64 cause, guint64 *index, GError **error)
{
  g_return_val_if_fail (ctx != NULL, FALSE);
  GError *local = NULL;
  gboolean ok = referral_engine_post (ctx, from, to, amount, kind, cause, 0, TRUE, index, &local);
  return effect_result (ctx, ok, local, error);
}

static gboolean
hold (ReferralCtx *ctx, ReferralMember member, gint64 amount, guint64 cause, GError **error)
{
  const ReferralLedger *l = &ctx->engine->ledger;
  if (member >= ctx->engine->tree.n)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_UNKNOWN_MEMBER,
                   "member %u does not exist", member);
      return FALSE;
    }
  ReferralAccount avail = l->member_base + 2 * member;
  return referral_engine_post (ctx, avail, avail + 1, amount, REFERRAL_KIND_HOLD, cause, 0, TRUE,
                               NULL, error);
}

gboolean
referral_ctx_hold (ReferralCtx *ctx, ReferralMember member, gint64 amount, guint64 cause,
                   GError **error)
{
  g_return_val_if_fail (ctx != NULL, FALSE);
  GError *local = NULL;
  gboolean ok = hold (ctx, member, amount, cause, &local);
  return effect_result (ctx, ok, local, error);
}

static gboolean
release (ReferralCtx *ctx, ReferralMember member, gint64 *amount, GError **error)
{
  const ReferralLedger *l = &ctx->engine->ledger;
  if (member >= ctx->engine->tree.n)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_UNKNOWN_MEMBER,
                   "member %u does not exist", member);
      return FALSE;
    }
  ReferralAccount avail = l->member_base + 2 * member;
  gint64 held = l->balances[avail + 1];
  if (amount)
    *amount = held > 0 ? held : 0;
  if (held <= 0)
    return TRUE;
  return referral_engine_post (ctx, avail + 1, avail, held, REFERRAL_KIND_RELEASE,
                               REFERRAL_NO_POSTING, 0, TRUE, NULL, error);
}

gboolean
referral_ctx_release (ReferralCtx *ctx, ReferralMember member, gint64 *amount, GError **error)
{
  g_return_val_if_fail (ctx != NULL, FALSE);
  GError *local = NULL;
  gboolean ok = release (ctx, member, amount, &local);
  return effect_result (ctx, ok, local, error);
}

gboolean
referral_ctx_set_rank (ReferralCtx *ctx, ReferralMember member, ReferralRank rank, GError **error)
{
  g_return_val_if_fail (ctx != NULL, FALSE);
  GError *local = NULL;
  gboolean ok = referral_engine_set_rank (ctx, member, rank, &local);
  return effect_result (ctx, ok, local, error);
}

static gboolean
move (ReferralCtx *ctx, ReferralMember member, ReferralMember new_parent, GError **error)
{
  ReferralEngine *e = ctx->engine;
  ReferralTree *t = &e->tree;
  if (member >= t->n || (new_parent != REFERRAL_NO_MEMBER && new_parent >= t->n))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_UNKNOWN_MEMBER,
                   "move of member %u under %u: no such member", member, new_parent);
      return FALSE;
    }
  if (new_parent == member
      || (new_parent != REFERRAL_NO_MEMBER && referral_tree_is_ancestor (t, member, new_parent)))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_CYCLE,
                   "moving \"%s\" under \"%s\" would make a cycle",
                   referral_intern_key (&t->keys, member),
                   referral_intern_key (&t->keys, new_parent));
      return FALSE;
    }
  ReferralMember old_parent = t->parent[member];
  if (old_parent == new_parent)
    return TRUE;
  ReferralMember old_prev = t->prev_sibling[member];
  referral_tree_place (t, member, new_parent, REFERRAL_NO_MEMBER, TRUE);
  referral_engine_push_undo (e, (UndoEntry) { .kind = UNDO_MOVE, .a = member, .b = old_parent,
                                               .c = old_prev, .d = new_parent });
  referral_engine_mark_changed (e, member);
  return TRUE;
}

gboolean
referral_ctx_move (ReferralCtx *ctx, ReferralMember member, ReferralMember new_parent,
                   GError **error)
{
  g_return_val_if_fail (ctx != NULL, FALSE);
  GError *local = NULL;
  gboolean ok = move (ctx, member, new_parent, &local);
  return effect_result (ctx, ok, local, error);
}

gint64
referral_ctx_field_get (const ReferralCtx *ctx, gint field, ReferralMember member, guint word)
{
  g_return_val_if_fail (ctx != NULL, 0);
  const ReferralEngine *e = ctx->engine;
  g_return_val_if_fail (field >= 0 && (guint) field < e->n_fields, 0);
  g_return_val_if_fail (member < e->tree.n && word < e->field_words[field], 0);
  return e->rows[(gsize) e->row_words * member + e->field_offset[field] + word];
}

void
referral_ctx_field_set (ReferralCtx *ctx, gint field, ReferralMember member, guint word,
                        gint64 value)
{
  g_return_if_fail (ctx != NULL);
  ReferralEngine *e = ctx->engine;
  g_return_if_fail (field >= 0 && (guint) field < e->n_fields);
  g_return_if_fail (member < e->tree.n && word < e->field_words[field]);
  gint64 *slot = &e->rows[(gsize) e->row_words * member + e->field_offset[field] + word];
  if (*slot == value)
    return;
  referral_engine_push_undo (e, (UndoEntry) { .kind = UNDO_FIELD, .a = (guint32) field,
                                               .b = member, .c = word, .v = *slot });
  *slot = value;
  referral_engine_mark_changed (e, member);
}

void
referral_ctx_list_push (ReferralCtx *ctx, gint list, const gint64 *record)
{
  g_return_if_fail (ctx != NULL && record != NULL);
  ReferralEngine *e = ctx->engine;
  g_return_if_fail (list >= 0 && (guint) list < e->n_lists);
  g_array_append_vals (e->lists[list], record, e->list_words[list]);
  referral_engine_push_undo (e, (UndoEntry) { .kind = UNDO_LIST_PUSH, .a = (guint32) list });
}

guint64
referral_ctx_list_length (const ReferralCtx *ctx, gint list)
{
  g_return_val_if_fail (ctx != NULL, 0);
  const ReferralEngine *e = ctx->engine;
  g_return_val_if_fail (list >= 0 && (guint) list < e->n_lists, 0);
  return e->lists[list]->len / e->list_words[list];
}

const gint64 *
referral_ctx_list_get (const ReferralCtx *ctx, gint list, guint64 index)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  const ReferralEngine *e = ctx->engine;
  g_return_val_if_fail (list >= 0 && (guint) list < e->n_lists, NULL);
  g_return_val_if_fail (index < e->lists[list]->len / e->list_words[list], NULL);
  return &g_array_index (e->lists[list], gint64, index * e->list_words[list]);
}

void
referral_ctx_list_clear (ReferralCtx *ctx, gint list)
{
  g_return_if_fail (ctx != NULL);
  ReferralEngine *e = ctx->engine;
  g_return_if_fail (list >= 0 && (guint) list < e->n_lists);
  if (e->lists[list]->len == 0)
    return;
  /* Keep the old records until commit, for undo. */
  GArray *old = e->lists[list];
  e->lists[list] = g_array_new (FALSE, FALSE, sizeof (gint64));
  referral_engine_push_undo (e, (UndoEntry) { .kind = UNDO_LIST_CLEAR, .a = (guint32) list,
                                               .p = old });
  e->n_undo_lists++;
}

gboolean
referral_ctx_lookup_order (const ReferralCtx *ctx, const char *key, ReferralOrder *out)
{
  g_return_val_if_fail (ctx != NULL, FALSE);
  return referral_engine_lookup_order (ctx->engine, key, out);
}

guint
referral_ctx_n_changed (const ReferralCtx *ctx)
{
  g_return_val_if_fail (ctx != NULL, 0);
  return ctx->engine->n_changed;
}

ReferralMember
referral_ctx_changed (const ReferralCtx *ctx, guint index)
{
  g_return_val_if_fail (ctx != NULL && index < ctx->engine->n_changed, REFERRAL_NO_MEMBER);
  return ctx->engine->changed[index];
}
