/* Exact money: the one parser and the one formatter of decimal text. */
#include <referral/error.h>
#include <referral/money.h>

#include <string.h>

__extension__ typedef __int128 i128;

static const gint64 pow10_table[] = {
  1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
  1000000000, 10000000000, 100000000000, 1000000000000, 10000000000000,
  100000000000000, 1000000000000000, 10000000000000000,
  100000000000000000, 1000000000000000000,
};

static gboolean
money_error (GError **error, const char *text, const char *why)
{
  g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_MONEY,
               "amount \"%s\" %s", text, why);
  return FALSE;
}

gboolean
referral_money_parse (const char *text, guint decimals, gboolean allow_negative,
                      gint64 *out_minor, GError **error)
{
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (decimals <= REFERRAL_MAX_DECIMALS, FALSE);

  const char *p = text;
  gboolean negative = FALSE;
  if (*p == '\0')
    return money_error (error, text, "is empty");
  if (*p == '+' || (*p == '-' && !allow_negative))
    return money_error (error, text, "has a sign");
  if (*p == '-')
    {
      negative = TRUE;
      p++;
    }
  /* The magnitude may reach 2^63 for a negative amount (G_MININT64). */
  const i128 limit = negative ? (i128) G_MAXINT64 + 1 : (i128) G_MAXINT64;
  /* The integer part: one or more digits. */
  i128 value = 0;
  const char *int_start = p;
  for (; *p >= '0' && *p <= '9'; p++)
    {
      value = value * 10 + (*p - '0');
      if (value > limit)
        goto overflow;
    }
  if (p == int_start)
    {
      if (*p == '.')
        return money_error (error, text, "has no digits before the decimal point");
      return money_error (error, text, "is not a decimal number");
    }
  guint frac_digits = 0;
  if (*p == '.')
    {
      p++;
      const char *frac_start = p;
      for (; *p >= '0' && *p <= '9'; p++)
        {
          frac_digits++;
          if (frac_digits > decimals)
            continue;
          value = value * 10 + (*p - '0');
          if (value > limit)
            goto overflow;
        }
      if (p == frac_start && *p == '\0')
        return money_error (error, text, "has no digits after the decimal point");
    }
  if (*p == 'e' || *p == 'E')
    return money_error (error, text, "has an exponent");
  if (*p != '\0')
    return money_error (error, text, "is not a decimal number");
  if (frac_digits > decimals)
    {
      char why[64];
      if (decimals == 0)
        g_snprintf (why, sizeof why, "has decimals but the currency has none");
      else
        g_snprintf (why, sizeof why, "has more than %u decimal%s", decimals,
                    decimals == 1 ? "" : "s");
      return money_error (error, text, why);
    }
  value *= pow10_table[decimals - frac_digits];
  if (value > limit)
    goto overflow;
  *out_minor = (gint64) (negative ? -value : value);
  return TRUE;

overflow:
  g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_OVERFLOW,
               "amount \"%s\" is too large", text);
  return FALSE;
}

char *
referral_money_format_buf (gint64 minor, guint decimals, char buf[REFERRAL_MONEY_BUF_SIZE])
{
  g_return_val_if_fail (decimals <= REFERRAL_MAX_DECIMALS, NULL);
  /* Work on the magnitude as unsigned so that G_MININT64 formats too. */
  guint64 mag = minor < 0 ? (guint64) 0 - (guint64) minor : (guint64) minor;
  char digits[24];
  int n = 0;
  do
    {
      digits[n++] = (char) ('0' + mag % 10);
      mag /= 10;
    }
  while (mag > 0);
  while (n < (int) decimals + 1)
    digits[n++] = '0';
  char *o = buf;
  if (minor < 0)
    *o++ = '-';
  for (int i = n - 1; i >= 0; i--)
    {
      *o++ = digits[i];
      if (i == (int) decimals && decimals > 0)
        *o++ = '.';
    }
  *o = '\0';
  return buf;
}

char *
referral_money_format (gint64 minor, guint decimals)
{
  char buf[REFERRAL_MONEY_BUF_SIZE];
  return g_strdup (referral_money_format_buf (minor, decimals, buf));
}

gboolean
referral_rate_parse (const char *text, ReferralRate *out, GError **error)
{
  g_return_val_if_fail (text != NULL && out != NULL, FALSE);
  gsize len = strlen (text);
  gboolean percent = len > 0 && text[len - 1] == '%';
  gsize body = percent ? len - 1 : len;
  const char *why = NULL;
  gint64 num = 0;
  guint frac = 0;
  gboolean seen_dot = FALSE, seen_digit = FALSE;

  if (body == 0)
    why = "is empty";
  for (gsize i = 0; why == NULL && i < body; i++)
    {
      char c = text[i];
      if (c >= '0' && c <= '9')
        {
          if (num > (G_MAXINT64 - 9) / 10)
            why = "is too large";
          else
            num = num * 10 + (c - '0');
          seen_digit = TRUE;
          if (seen_dot && ++frac > 12)
            why = "has more than 12 decimals";
        }
      else if (c == '.' && !seen_dot && seen_digit && i + 1 < body)
        seen_dot = TRUE;
      else if (c == '+' || c == '-')
        why = "has a sign";
      else if (c == 'e' || c == 'E')
        why = "has an exponent";
      else
        why = "is not a decimal number or percentage";
    }
  if (why)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_RATE,
                   "rate \"%s\" %s", text, why);
      return FALSE;
    }
  guint den_exp = frac + (percent ? 2 : 0);
  /* Reduce trailing zeros so that "5%" and "0.05" are the same rate. */
  while (den_exp > 0 && num % 10 == 0)
    {
      num /= 10;
      den_exp--;
    }
  out->num = num;
  out->den = pow10_table[den_exp];
  return TRUE;
}

gboolean
referral_money_mul_div (gint64 a, gint64 b, gint64 c, gint64 *out)
{
  g_return_val_if_fail (c != 0, FALSE);
  i128 r = (i128) a * (i128) b / (i128) c; /* C division truncates toward zero */
  if (r > (i128) G_MAXINT64 || r < (i128) G_MININT64)
    return FALSE;
  *out = (gint64) r;
  return TRUE;
}

gboolean
referral_rate_apply (ReferralRate rate, gint64 amount, gint64 *out, GError **error)
{
  g_return_val_if_fail (rate.den > 0, FALSE);
  if (!referral_money_mul_div (amount, rate.num, rate.den, out))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_OVERFLOW,
                   "rate applied to %" G_GINT64_FORMAT " overflows", amount);
      return FALSE;
    }
  return TRUE;
}

char *
referral_rate_format (ReferralRate rate)
{
  /* As a percentage: num/den * 100 with as many decimals as needed. */
  i128 num = (i128) rate.num * 100;
  gint64 den = rate.den;
  guint dec = 0;
  while (den > 1 && num % den != 0)
    {
      /* den is a power of ten: find how many decimals the percentage needs. */
      den /= 10;
      dec++;
    }
  gint64 scaled = (gint64) (num / den);
  char buf[REFERRAL_MONEY_BUF_SIZE];
  referral_money_format_buf (scaled, dec, buf);
  return g_strdup_printf ("%s%%", buf);
}

gboolean
referral_money_add (gint64 a, gint64 b, gint64 *out)
{
  gint64 r;
  if (__builtin_add_overflow (a, b, &r))
    return FALSE;
  *out = r;
  return TRUE;
}

gboolean
referral_money_sub (gint64 a, gint64 b, gint64 *out)
{
  gint64 r;
  if (__builtin_sub_overflow (a, b, &r))
    return FALSE;
  *out = r;
  return TRUE;
}
