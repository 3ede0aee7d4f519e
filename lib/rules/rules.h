/* Built-in rule types.  Each lives in its own file of lib/rules/ and is
 * registered through the same public vtable (rule.h) as any plugin. */
#ifndef REFERRAL_RULES_H
#define REFERRAL_RULES_H

#include <referral/rule.h>

G_BEGIN_DECLS

extern const ReferralRuleType referral_rule_direct_award;
extern const ReferralRuleType referral_rule_unilevel;
/* chain 2+1 (issue 3) */
extern const ReferralRuleType referral_rule_bonus_pool;
extern const ReferralRuleType referral_rule_seller_award;
extern const ReferralRuleType referral_rule_team_award;
extern const ReferralRuleType referral_rule_help_fund;
extern const ReferralRuleType referral_rule_peer_award;
extern const ReferralRuleType referral_rule_rank_on_purchase;
extern const ReferralRuleType referral_rule_seeds;
extern const ReferralRuleType referral_rule_break_away;
extern const ReferralRuleType referral_rule_promote_by_sponsored;
extern const ReferralRuleType referral_rule_transpose;

/* NULL-terminated list of every built-in rule type (lib/rules/builtin.c). */
extern const ReferralRuleType *const referral_builtin_rule_types[];

G_END_DECLS

#endif
