/* libreferral: the umbrella header.  Include this one.
 *
 * libreferral models referral-tree incentive schemes: a tree of members, a
 * scheme of reward rules, and a stream of events (joins, orders, refunds,
 * promotions, period closes) folded into an exact double-entry ledger.
 *
 *   #include <referral/referral.h>
 *
 *   g_autoptr(ReferralScheme) scheme = referral_scheme_open ("chain21", &error);
 *   g_autoptr(ReferralEngine) engine = referral_engine_new (scheme, &error);
 *   ReferralEvent ev = REFERRAL_EVENT_INIT;
 *   ev.type = REFERRAL_EVENT_JOIN; ev.id = "e1"; ev.member = "A";
 *   referral_engine_apply (engine, &ev, NULL, &error);
 *
 * See examples/ for complete programs and rule.h for writing rules. */
#ifndef REFERRAL_H
#define REFERRAL_H

#include <referral/export.h>
#include <referral/version.h>
#include <referral/error.h>
#include <referral/money.h>
#include <referral/tree.h>
#include <referral/ledger.h>
#include <referral/event.h>
#include <referral/scheme.h>
#include <referral/engine.h>
#include <referral/journal.h>
#include <referral/rule.h>
#include <referral/jsonl.h>
#include <referral/sim.h>

#endif
