/* Built-in schemes: each is the text of a scheme file, compiled in. */
#ifndef REFERRAL_BUILTIN_SCHEMES_H
#define REFERRAL_BUILTIN_SCHEMES_H

#include <glib.h>

typedef struct {
  const char *name;
  const char *text;
} ReferralBuiltinScheme;

/* Terminated by an entry with name NULL. */
extern const ReferralBuiltinScheme referral_builtin_schemes[];

#endif
