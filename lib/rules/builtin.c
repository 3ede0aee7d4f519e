/* The list of built-in rule types, registered when the registry is first used. */
#include "rules/rules.h"

const ReferralRuleType *const referral_builtin_rule_types[] = {
  &referral_rule_direct_award,
  &referral_rule_unilevel,
  /* chain 2+1 (issue 3) */
  &referral_rule_bonus_pool,
  &referral_rule_seller_award,
  &referral_rule_team_award,
  &referral_rule_help_fund,
  &referral_rule_peer_award,
  &referral_rule_rank_on_purchase,
  &referral_rule_seeds,
  &referral_rule_break_away,
  &referral_rule_promote_by_sponsored,
  &referral_rule_transpose,
  NULL,
};
