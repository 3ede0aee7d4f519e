/* libreferral: exact money and rates.
 *
 * Money is an int64 count of minor units (fen for yuan, cents for dollars).
 * It is parsed from and printed to decimal text only through the functions of
 * this header; no floating point is ever involved.  A currency has a fixed
 * number of decimals (0 to 9), set by the scheme. */
#ifndef REFERRAL_MONEY_H
#define REFERRAL_MONEY_H

#include <glib.h>
#include <referral/export.h>

G_BEGIN_DECLS

/* The largest number of decimals a currency may have. */
#define REFERRAL_MAX_DECIMALS 9

/* Longest text referral_money_format_buf() writes, with the trailing NUL. */
#define REFERRAL_MONEY_BUF_SIZE 32

/* referral_money_parse:
 * @text: decimal text in major units: digits, optionally followed by a dot
 *   and between 1 and @decimals digits ("699", "699.00", "0.05").  A leading
 *   minus sign is accepted only when @allow_negative is TRUE; a plus sign,
 *   white space, exponents, grouping and empty parts are always refused.
 * @decimals: the currency's decimals, 0 to REFERRAL_MAX_DECIMALS
 * @allow_negative: whether "-1.50" is acceptable
 * @out_minor: (out): the amount in minor units
 * @error: REFERRAL_ERROR_INVALID_MONEY for a malformed text (the message says
 *   why: "has more than 2 decimals", "has an exponent", "has a sign", ...),
 *   REFERRAL_ERROR_OVERFLOW when the amount does not fit in int64.
 * Returns: TRUE on success; on failure *out_minor is not written. */
REFERRAL_API gboolean referral_money_parse (const char *text,
                                            guint decimals,
                                            gboolean allow_negative,
                                            gint64 *out_minor,
                                            GError **error);

/* referral_money_format_buf:
 * Writes @minor as decimal text with exactly @decimals decimals
 * ("699.00", "-0.05") into @buf, which must hold REFERRAL_MONEY_BUF_SIZE bytes.
 * Returns: @buf (borrowed). */
REFERRAL_API char *referral_money_format_buf (gint64 minor,
                                              guint decimals,
                                              char buf[REFERRAL_MONEY_BUF_SIZE]);

/* referral_money_format:
 * Returns: (transfer full): newly allocated text of @minor as by
 * referral_money_format_buf(); free with g_free(). */
REFERRAL_API char *referral_money_format (gint64 minor, guint decimals);

/* An exact rate: numerator / denominator, with denominator a power of ten. */
typedef struct {
  gint64 num;
  gint64 den;
} ReferralRate;

/* referral_rate_parse:
 * @text: a percentage ("5%", "12.5%") or a fraction ("0.05", "1"), at most
 *   12 decimals, no sign, no exponent.  Rates above 100% are allowed.
 * @out: (out): the exact rate
 * @error: REFERRAL_ERROR_INVALID_RATE with the reason.
 * Returns: TRUE on success. */
REFERRAL_API gboolean referral_rate_parse (const char *text,
                                           ReferralRate *out,
                                           GError **error);

/* referral_rate_apply:
 * Computes floor(@amount * @rate) rounding toward zero, exactly (128-bit
 * intermediate).
 * @out: (out): the result in minor units
 * @error: REFERRAL_ERROR_OVERFLOW when the result does not fit in int64.
 * Returns: TRUE on success. */
REFERRAL_API gboolean referral_rate_apply (ReferralRate rate,
                                           gint64 amount,
                                           gint64 *out,
                                           GError **error);

/* referral_rate_format:
 * Returns: (transfer full): the rate as a percentage text ("5%", "12.5%");
 * free with g_free(). */
REFERRAL_API char *referral_rate_format (ReferralRate rate);

/* referral_money_add / referral_money_sub / referral_money_mul_div:
 * Overflow-checked arithmetic on minor units.
 * Returns: FALSE (and leaves *out untouched) on overflow. */
REFERRAL_API gboolean referral_money_add (gint64 a, gint64 b, gint64 *out);
REFERRAL_API gboolean referral_money_sub (gint64 a, gint64 b, gint64 *out);

/* referral_money_mul_div:
 * Computes floor(@a * @b / @c) toward zero with a 128-bit intermediate.
 * @c must not be zero.
 * Returns: FALSE on overflow of the result. */
REFERRAL_API gboolean referral_money_mul_div (gint64 a, gint64 b, gint64 c,
                                              gint64 *out);

G_END_DECLS

#endif
