/* Schemes, rule instances and parameters: internal layout. */
#ifndef REFERRAL_SCHEME_PRIVATE_H
#define REFERRAL_SCHEME_PRIVATE_H

#include <referral/rule.h>
#include <referral/scheme.h>

typedef struct {
  const ReferralParamSpec *spec;
  char *text;         /* the configured text, or the default */
  gboolean is_set;
  gint64 i;           /* MONEY, INT, RANK, BOOL */
  ReferralRate rate;  /* RATE */
  char **list;        /* LIST */
} ReferralParamValue;

struct _ReferralParams {
  ReferralParamValue *values;
  guint n;
};

typedef struct {
  char *name;
  const ReferralRuleType *type;
  ReferralParams *params;
  gpointer config;
  /* the kinds of posting its on_posting is called for (ReferralKind),
   * declared with referral_setup_posting_kind(); NULL: every kind */
  GArray *posting_kinds;
} ReferralRuleInstance;

typedef struct {
  char *name;
  guint n_words;
} ReferralDataDecl;

typedef struct {
  char *name;
  guint rule;         /* index of the rule that handles it */
} ReferralCommandDecl;

struct _ReferralScheme {
  gint ref_count;
  char *name;
  guint decimals;
  char **ranks;
  guint n_ranks;
  GPtrArray *rules;     /* ReferralRuleInstance* */
  GPtrArray *kinds;     /* char*; the first four are the built-in kinds */
  GPtrArray *pools;     /* char* */
  GArray *fields;       /* ReferralDataDecl */
  GArray *lists;        /* ReferralDataDecl */
  GArray *commands;     /* ReferralCommandDecl */
  guint64 identity;
};

struct _ReferralSetup {
  ReferralScheme *scheme;
  guint rule_index;
  GArray *posting_kinds;  /* declared so far, or NULL */
};

/* params.c */
ReferralParams *referral_params_parse (const ReferralRuleType *type,
                                       const char *const *kv,
                                       guint decimals,
                                       char **ranks, guint n_ranks,
                                       const char *where,
                                       char **bad_key,
                                       GError **error);
void referral_params_free (ReferralParams *params);

/* registry.c */
void referral_registry_ensure_builtins (void);

/* The number of kinds every engine knows (sale, withdraw, hold, release). */
#define REFERRAL_N_BUILTIN_KINDS 4

#endif
