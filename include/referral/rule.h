/* libreferral: the rule API, for built-in rules and plugins alike.
 *
 * A rule type is a table of hooks (ReferralRuleType) registered by name.  A
 * scheme configures instances of rule types; each instance gets its own
 * configuration (what `init` returns), which is immutable once the scheme is
 * built.  Rules never write state directly: they read the tree, the ledger
 * and their data, and propose effects through the ReferralCtx of the event
 * being applied (postings, holds, releases, rank changes, placement moves,
 * member fields, lists).  The engine validates each effect as it is
 * proposed (existence, positive amounts, overflow, cycles) and makes it
 * visible at once to later rules of the same event; if any rule fails, or an
 * effect is invalid, every effect of the event is undone and the event is
 * rejected.
 *
 * Mutable rule data lives in engine-owned storage (member fields and lists)
 * so that it is undone with the event, hashed, and later snapshotted: a rule
 * keeps nothing mutable of its own.
 *
 * ABI: the table's first field is its ABI version; new hooks are only ever
 * appended, and the engine reads no field past the end of the version a rule
 * was built for. */
#ifndef REFERRAL_RULE_H
#define REFERRAL_RULE_H

#include <glib.h>
#include <referral/engine.h>
#include <referral/event.h>
#include <referral/export.h>
#include <referral/ledger.h>
#include <referral/money.h>
#include <referral/tree.h>

G_BEGIN_DECLS

#define REFERRAL_RULE_ABI_VERSION 1

typedef struct _ReferralCtx ReferralCtx;
typedef struct _ReferralSetup ReferralSetup;
typedef struct _ReferralParams ReferralParams;

typedef enum {
  REFERRAL_PARAM_MONEY = 1, /* decimal text in the scheme's currency: "699.00" */
  REFERRAL_PARAM_RATE,      /* "5%" or "0.05" */
  REFERRAL_PARAM_INT,       /* a non-negative integer */
  REFERRAL_PARAM_STRING,    /* any text */
  REFERRAL_PARAM_RANK,      /* a rank name of the scheme */
  REFERRAL_PARAM_BOOL,      /* true / false */
  REFERRAL_PARAM_LIST       /* comma-separated words: "direct, team" */
} ReferralParamType;

typedef struct {
  const char *name;
  ReferralParamType type;
  const char *default_value; /* NULL: the parameter is required */
  const char *description;   /* one line, for documentation and --help */
} ReferralParamSpec;

/* Parameter accessors, for use in `init`.  Each returns the configured value
 * (or the default) of parameter @name, which must be declared by the rule
 * type with the matching type. */
REFERRAL_API gint64 referral_params_money (const ReferralParams *params, const char *name);
REFERRAL_API ReferralRate referral_params_rate (const ReferralParams *params, const char *name);
REFERRAL_API gint64 referral_params_int (const ReferralParams *params, const char *name);
REFERRAL_API const char *referral_params_string (const ReferralParams *params, const char *name);
REFERRAL_API ReferralRank referral_params_rank (const ReferralParams *params, const char *name);
REFERRAL_API gboolean referral_params_bool (const ReferralParams *params, const char *name);
/* Returns: (transfer none): NULL-terminated words of a LIST parameter. */
REFERRAL_API const char *const *referral_params_list (const ReferralParams *params, const char *name);
/* Returns: TRUE when @name was set explicitly rather than defaulted. */
REFERRAL_API gboolean referral_params_is_set (const ReferralParams *params, const char *name);

/* Setup: what a rule declares while its scheme is built (inside `init`). */

/* referral_setup_kind:
 * Returns: the posting kind named @name, interned (the same name always
 * gives the same kind within a scheme). */
REFERRAL_API ReferralKind referral_setup_kind (ReferralSetup *setup, const char *name);

/* referral_setup_posting_kind:
 * Declares that this rule's on_posting wants postings of @kind (a kind of
 * this scheme, from referral_setup_kind()).  A rule that declares no kind
 * is called for every posting; one that declares some is called only for
 * postings of those kinds, so a rule that reacts to a few kinds need not be
 * called for the others (and a scheme's other postings cost it nothing).
 * Declaring a kind twice is harmless.
 * Returns: FALSE with REFERRAL_ERROR_SCHEME when @kind is not a kind of the
 * scheme (declared so far). */
REFERRAL_API gboolean referral_setup_posting_kind (ReferralSetup *setup, ReferralKind kind,
                                                   GError **error);

/* referral_setup_pool:
 * Declares (or finds) the pool account named @name.
 * Returns: its account. */
REFERRAL_API ReferralAccount referral_setup_pool (ReferralSetup *setup, const char *name);

/* referral_setup_field:
 * Declares a per-member field of @n_words int64 words (1 to 64), zero for a
 * new member.  Fields are shared by name between the rules of a scheme, so
 * that one rule can write what another reads ("seeds").
 * Returns: the field's id, or -1 with REFERRAL_ERROR_SCHEME when a field of
 * that name exists with another width. */
REFERRAL_API gint referral_setup_field (ReferralSetup *setup, const char *name,
                                        guint n_words, GError **error);

/* referral_setup_list:
 * Declares an append-only list of records of @n_words int64 words, shared by
 * name like fields.  Lists are undone with the event like everything else.
 * Returns: its id, or -1 with REFERRAL_ERROR_SCHEME. */
REFERRAL_API gint referral_setup_list (ReferralSetup *setup, const char *name,
                                       guint n_words, GError **error);

/* referral_setup_command:
 * Makes this rule the handler of scheme command @name (an event of type
 * REFERRAL_EVENT_COMMAND, for example "transpose").
 * Returns: FALSE with REFERRAL_ERROR_SCHEME when another rule has it. */
REFERRAL_API gboolean referral_setup_command (ReferralSetup *setup, const char *name,
                                              GError **error);

/* Returns: the scheme's currency decimals and number of ranks. */
REFERRAL_API guint referral_setup_decimals (const ReferralSetup *setup);
REFERRAL_API guint referral_setup_n_ranks (const ReferralSetup *setup);
/* Returns: TRUE and sets *@rank when the scheme has a rank named @name. */
REFERRAL_API gboolean referral_setup_lookup_rank (const ReferralSetup *setup,
                                                  const char *name,
                                                  ReferralRank *rank);

/* The rule type. */
typedef struct {
  guint32 abi_version;     /* REFERRAL_RULE_ABI_VERSION */
  const char *name;        /* registry name, [a-z0-9_]+ */
  const char *description; /* one line */
  const ReferralParamSpec *params; /* terminated by an entry with name NULL */

  /* init: validate @params, declare kinds/pools/fields/lists/commands and
   * return the instance's immutable configuration in *@config.
   * Returns: FALSE with an error (REFERRAL_ERROR_SCHEME) to refuse.  A
   * message that begins with `parameter "KEY"` (for example `parameter
   * "rates" has 2 rates; it needs 3`) is about that parameter: a scheme
   * file's error then names KEY's line rather than the [rule] header. */
  gboolean (*init) (ReferralSetup *setup, const ReferralParams *params,
                    gpointer *config, GError **error);
  /* free_config: frees what init returned (may be NULL). */
  void (*free_config) (gpointer config);

  /* Event hooks, called in the scheme's rule order; any may be NULL.  Each
   * returns FALSE with an error to reject the whole event. */
  gboolean (*on_join) (ReferralCtx *ctx, gconstpointer config,
                       ReferralMember member, GError **error);
  /* on_order: after the engine validated the order and posted the buyer's
   * payment (kind "sale", outside -> platform). */
  gboolean (*on_order) (ReferralCtx *ctx, gconstpointer config,
                        const ReferralOrder *order, GError **error);
  /* on_refund: after the engine reversed every posting of the order's event
   * (see on_reverse) and marked it refunded. */
  gboolean (*on_refund) (ReferralCtx *ctx, gconstpointer config,
                         const ReferralOrder *order, GError **error);
  /* on_period_close: before the engine counts the period as closed. */
  gboolean (*on_period_close) (ReferralCtx *ctx, gconstpointer config,
                               const char *period, GError **error);
  /* on_withdraw: after the engine posted the withdrawal. */
  gboolean (*on_withdraw) (ReferralCtx *ctx, gconstpointer config,
                           ReferralMember member, gint64 amount, GError **error);
  /* on_command: a command this rule declared with referral_setup_command(). */
  gboolean (*on_command) (ReferralCtx *ctx, gconstpointer config,
                          const ReferralEvent *event, GError **error);

  /* on_rank_change: right after any rank change proposed in this event (by
   * a rule or an administrator's promote), before the proposer continues. */
  gboolean (*on_rank_change) (ReferralCtx *ctx, gconstpointer config,
                              ReferralMember member, ReferralRank old_rank,
                              ReferralRank new_rank, GError **error);
  /* on_posting: right after any posting is proposed (not for reversals), so
   * that rewards on rewards (peer award, hold) can be proposed with this
   * posting as their cause.  Beware of loops: a rule must not react to the
   * kinds it posts itself. */
  gboolean (*on_posting) (ReferralCtx *ctx, gconstpointer config,
                          const ReferralPosting *posting, guint64 index,
                          GError **error);
  /* on_reverse: a refund is about to post @reversal (to -> from of
   * @original, same amount and kind).  A rule may change its accounts, or
   * set *@skip to post nothing (for example when held funds were released
   * since). */
  gboolean (*on_reverse) (ReferralCtx *ctx, gconstpointer config,
                          const ReferralPosting *original, guint64 original_index,
                          ReferralPosting *reversal, gboolean *skip, GError **error);
  /* on_event_end: after every other hook of the event; see
   * referral_ctx_n_changed() for the members changed by it. */
  gboolean (*on_event_end) (ReferralCtx *ctx, gconstpointer config,
                            GError **error);
} ReferralRuleType;

/* referral_rule_type_register:
 * Adds @type (not copied: it must outlive every scheme using it) to the
 * process-wide registry.  Thread-safe.
 * Returns: FALSE with REFERRAL_ERROR_ABI when @type->abi_version is 0 or
 * newer than REFERRAL_RULE_ABI_VERSION, REFERRAL_ERROR_SCHEME when the name
 * is taken or malformed or init is NULL. */
REFERRAL_API gboolean referral_rule_type_register (const ReferralRuleType *type,
                                                   GError **error);

/* referral_rule_type_lookup:
 * Returns: (transfer none): the registered type named @name, or NULL.
 * The built-in types are always registered. */
REFERRAL_API const ReferralRuleType *referral_rule_type_lookup (const char *name);

/* referral_rule_type_names:
 * Returns: (transfer container): sorted names of the registered types; free
 * with g_free() (not the strings). */
REFERRAL_API const char **referral_rule_type_names (void);

/* The context of the event being applied.  Borrowed; valid during the hook. */

REFERRAL_API const ReferralTree *referral_ctx_tree (const ReferralCtx *ctx);
REFERRAL_API const ReferralLedger *referral_ctx_ledger (const ReferralCtx *ctx);
/* Returns: (transfer none): the event being applied. */
REFERRAL_API const ReferralEvent *referral_ctx_event (const ReferralCtx *ctx);
/* Returns: the sequence number the event will have. */
REFERRAL_API guint32 referral_ctx_event_seq (const ReferralCtx *ctx);
/* Returns: the number of period closes before this event. */
REFERRAL_API guint32 referral_ctx_period (const ReferralCtx *ctx);
/* Returns: the currency decimals. */
REFERRAL_API guint referral_ctx_decimals (const ReferralCtx *ctx);
/* Returns: (transfer none): the scheme. */
REFERRAL_API const ReferralScheme *referral_ctx_scheme (const ReferralCtx *ctx);

/* referral_ctx_post:
 * Proposes moving @amount (> 0) from @from to @to with @kind; @cause is the
 * index of the posting that caused it or REFERRAL_NO_POSTING.  The
 * on_posting hooks run before this returns.
 * @index: (out) (optional): the new posting's index
 * Returns: FALSE with REFERRAL_ERROR_INVALID_EVENT (bad account or amount)
 * or REFERRAL_ERROR_OVERFLOW. */
REFERRAL_API gboolean referral_ctx_post (ReferralCtx *ctx, ReferralAccount from,
                                         ReferralAccount to, gint64 amount,
                                         ReferralKind kind, guint64 cause,
                                         guint64 *index, GError **error);

/* referral_ctx_hold:
 * Moves @amount from @member's available to its held funds (kind "hold"),
 * caused by posting @cause. */
REFERRAL_API gboolean referral_ctx_hold (ReferralCtx *ctx, ReferralMember member,
                                         gint64 amount, guint64 cause, GError **error);

/* referral_ctx_release:
 * Moves all of @member's held funds to available (kind "release") and tells
 * subscribers; nothing when none are held.
 * @amount: (out) (optional): how much was released */
REFERRAL_API gboolean referral_ctx_release (ReferralCtx *ctx, ReferralMember member,
                                            gint64 *amount, GError **error);

/* referral_ctx_set_rank:
 * Gives @member @rank (any rank of the scheme; no-op when unchanged); every
 * rule's on_rank_change runs before this returns. */
REFERRAL_API gboolean referral_ctx_set_rank (ReferralCtx *ctx, ReferralMember member,
                                             ReferralRank rank, GError **error);

/* referral_ctx_move:
 * Re-parents @member (with its whole placement subtree) under @new_parent
 * (REFERRAL_NO_MEMBER makes it a root).
 * Returns: FALSE with REFERRAL_ERROR_CYCLE when @new_parent is @member or
 * one of its descendants. */
REFERRAL_API gboolean referral_ctx_move (ReferralCtx *ctx, ReferralMember member,
                                         ReferralMember new_parent, GError **error);

/* Member fields (see referral_setup_field()). */
REFERRAL_API gint64 referral_ctx_field_get (const ReferralCtx *ctx, gint field,
                                            ReferralMember member, guint word);
REFERRAL_API void referral_ctx_field_set (ReferralCtx *ctx, gint field,
                                          ReferralMember member, guint word,
                                          gint64 value);

/* Lists (see referral_setup_list()).  Records are @n_words int64 words. */
REFERRAL_API void referral_ctx_list_push (ReferralCtx *ctx, gint list,
                                          const gint64 *record);
REFERRAL_API guint64 referral_ctx_list_length (const ReferralCtx *ctx, gint list);
/* Returns: (transfer none): record @index, valid until the next push or clear. */
REFERRAL_API const gint64 *referral_ctx_list_get (const ReferralCtx *ctx, gint list,
                                                  guint64 index);
REFERRAL_API void referral_ctx_list_clear (ReferralCtx *ctx, gint list);

/* referral_ctx_lookup_order:
 * Returns: TRUE and fills @out for the order with id @key. */
REFERRAL_API gboolean referral_ctx_lookup_order (const ReferralCtx *ctx,
                                                 const char *key,
                                                 ReferralOrder *out);

/* Members whose rank or fields changed so far in this event, in the order
 * of their first change, each once. */
REFERRAL_API guint referral_ctx_n_changed (const ReferralCtx *ctx);
REFERRAL_API ReferralMember referral_ctx_changed (const ReferralCtx *ctx, guint index);

G_END_DECLS

#endif
