/* libreferral: schemes.
 *
 * A scheme is a named, ordered list of configured rule instances, plus the
 * currency's decimals and the names of the ranks.  It is immutable once
 * built and reference counted, so several engines (forks, what-if runs) can
 * share one.
 *
 * Scheme files are GKeyFile text:
 *
 *   [scheme]
 *   name = demo
 *   decimals = 2                 # currency decimals, 0..9
 *   ranks = user, agent, partner # lowest first; the first is the entry rank
 *
 *   [rule direct]                # one group per rule instance, in order
 *   type = direct_award          # a registered rule type
 *   amount = 100.00              # the type's own parameters
 *
 * Unknown groups, unknown keys and bad values are refused with the file,
 * line and key in the message. */
#ifndef REFERRAL_SCHEME_H
#define REFERRAL_SCHEME_H

#include <glib.h>
#include <referral/export.h>
#include <referral/tree.h>

G_BEGIN_DECLS

typedef struct _ReferralScheme ReferralScheme;
typedef struct _ReferralSchemeBuilder ReferralSchemeBuilder;

/* referral_scheme_load_file:
 * Returns: (transfer full): the scheme in file @path, or NULL with
 * REFERRAL_ERROR_IO (unreadable) or REFERRAL_ERROR_SCHEME /
 * REFERRAL_ERROR_UNKNOWN_RULE_TYPE (invalid; the message names file, line
 * and key). */
REFERRAL_API ReferralScheme *referral_scheme_load_file (const char *path,
                                                        GError **error);

/* referral_scheme_load_data:
 * As referral_scheme_load_file() for text in memory; @source names it in
 * error messages.  @length may be -1 for NUL-terminated text. */
REFERRAL_API ReferralScheme *referral_scheme_load_data (const char *data,
                                                        gssize length,
                                                        const char *source,
                                                        GError **error);

/* referral_scheme_new_builtin:
 * Returns: (transfer full): the built-in scheme called @name, or NULL with
 * REFERRAL_ERROR_SCHEME. */
REFERRAL_API ReferralScheme *referral_scheme_new_builtin (const char *name,
                                                          GError **error);

/* referral_scheme_builtin_names:
 * Returns: (transfer none): NULL-terminated names of the built-in schemes. */
REFERRAL_API const char *const *referral_scheme_builtin_names (void);

/* referral_scheme_builtin_text:
 * Returns: (transfer none): the scheme file text of built-in scheme @name, or
 * NULL.  Every built-in scheme is defined by such a text. */
REFERRAL_API const char *referral_scheme_builtin_text (const char *name);

/* referral_scheme_open:
 * Returns: (transfer full): the built-in scheme named @name_or_path if there
 * is one, else the scheme in that file. */
REFERRAL_API ReferralScheme *referral_scheme_open (const char *name_or_path,
                                                   GError **error);

/* Reference counting.  referral_scheme_unref(NULL) is a no-op. */
REFERRAL_API ReferralScheme *referral_scheme_ref (ReferralScheme *scheme);
REFERRAL_API void referral_scheme_unref (ReferralScheme *scheme);

/* Returns: (transfer none): the scheme's name. */
REFERRAL_API const char *referral_scheme_name (const ReferralScheme *scheme);
/* Returns: the currency's number of decimals. */
REFERRAL_API guint referral_scheme_decimals (const ReferralScheme *scheme);
/* Returns: the number of ranks (at least 1). */
REFERRAL_API guint referral_scheme_n_ranks (const ReferralScheme *scheme);
/* Returns: (transfer none): the name of @rank, or NULL when out of range. */
REFERRAL_API const char *referral_scheme_rank_name (const ReferralScheme *scheme,
                                                    ReferralRank rank);
/* Returns: TRUE and sets *@rank when a rank is named @name. */
REFERRAL_API gboolean referral_scheme_lookup_rank (const ReferralScheme *scheme,
                                                   const char *name,
                                                   ReferralRank *rank);
/* Returns: the number of rule instances. */
REFERRAL_API guint referral_scheme_n_rules (const ReferralScheme *scheme);
/* Returns: (transfer none): the instance name of rule @index ("direct"). */
REFERRAL_API const char *referral_scheme_rule_name (const ReferralScheme *scheme,
                                                    guint index);
/* Returns: (transfer none): the type name of rule @index ("direct_award"). */
REFERRAL_API const char *referral_scheme_rule_type (const ReferralScheme *scheme,
                                                    guint index);
/* referral_scheme_rule_n_params:
 * Returns: the number of parameters rule @rule's type declares (set or not),
 * or 0 when @rule is out of range. */
REFERRAL_API guint referral_scheme_rule_n_params (const ReferralScheme *scheme,
                                                  guint rule);
/* referral_scheme_rule_param:
 * Reads parameter @index (in the order the rule type declares them) of rule
 * @rule: its name in *@name, its effective value as text in *@value (the
 * configured text, or the type's default when it was not set) and in
 * *@is_set whether the scheme set it.  Any of the outputs may be NULL.
 * The strings are owned by @scheme and live as long as it does.
 * Returns: FALSE (outputs untouched) when @rule or @index is out of range. */
REFERRAL_API gboolean referral_scheme_rule_param (const ReferralScheme *scheme,
                                                  guint rule, guint index,
                                                  const char **name,
                                                  const char **value,
                                                  gboolean *is_set);

/* referral_scheme_identity:
 * Returns: a 64-bit digest of the scheme's whole definition (name, decimals,
 * ranks, rules, every parameter after defaults are applied).  Two schemes
 * with the same identity behave the same. */
REFERRAL_API guint64 referral_scheme_identity (const ReferralScheme *scheme);

/* Building a scheme in code.
 *
 *   b = referral_scheme_builder_new ("demo");
 *   referral_scheme_builder_set_ranks (b, (const char *[]) {"user", "agent", NULL});
 *   const char *params[] = {"amount", "100.00", NULL};
 *   referral_scheme_builder_add_rule (b, "direct_award", "direct", params, &error);
 *   scheme = referral_scheme_builder_finish (b, &error);
 */

/* Returns: (transfer full): a builder with 2 decimals and the single rank "user". */
REFERRAL_API ReferralSchemeBuilder *referral_scheme_builder_new (const char *name);
/* Frees @builder; NULL is a no-op. */
REFERRAL_API void referral_scheme_builder_free (ReferralSchemeBuilder *builder);
/* Returns: FALSE with REFERRAL_ERROR_SCHEME when @decimals > 9. */
REFERRAL_API gboolean referral_scheme_builder_set_decimals (ReferralSchemeBuilder *builder,
                                                            guint decimals,
                                                            GError **error);
/* @ranks: NULL-terminated, lowest first, 1 to REFERRAL_MAX_RANKS unique names.
 * Must be called before any rule is added.
 * Returns: FALSE with REFERRAL_ERROR_SCHEME for a bad list. */
REFERRAL_API gboolean referral_scheme_builder_set_ranks (ReferralSchemeBuilder *builder,
                                                         const char *const *ranks,
                                                         GError **error);
/* referral_scheme_builder_add_rule:
 * Appends an instance of rule type @type named @name, configured by
 * @params, a NULL-terminated list of key, value, key, value... (may be NULL);
 * unset parameters take their defaults.
 * Returns: FALSE with REFERRAL_ERROR_UNKNOWN_RULE_TYPE or REFERRAL_ERROR_SCHEME
 * (unknown or bad parameter, duplicate instance name); the builder is then
 * unchanged. */
REFERRAL_API gboolean referral_scheme_builder_add_rule (ReferralSchemeBuilder *builder,
                                                        const char *type,
                                                        const char *name,
                                                        const char *const *params,
                                                        GError **error);
/* referral_scheme_builder_finish:
 * Consumes @builder (always).
 * Returns: (transfer full): the scheme, or NULL with REFERRAL_ERROR_SCHEME. */
REFERRAL_API ReferralScheme *referral_scheme_builder_finish (ReferralSchemeBuilder *builder,
                                                             GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReferralScheme, referral_scheme_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReferralSchemeBuilder, referral_scheme_builder_free)

G_END_DECLS

#endif
