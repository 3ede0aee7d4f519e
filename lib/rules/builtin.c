/* The list of built-in rule types, registered when the registry is first used. */
#include "rules/rules.h"

const ReferralRuleType *const referral_builtin_rule_types[] = {
  &referral_rule_direct_award,
  &referral_rule_unilevel,
  NULL,
};
