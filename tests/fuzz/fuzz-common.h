/* Shared by the libFuzzer targets: an assertion that aborts (so libFuzzer
 * reports a crash and saves the input) in every build type. */
#ifndef REFERRAL_FUZZ_COMMON_H
#define REFERRAL_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <referral/referral.h>

#define FUZZ_ASSERT(expr) do { \
    if (!(expr)) \
      { \
        fprintf (stderr, "%s:%d: fuzz assertion failed: %s\n", __FILE__, __LINE__, #expr); \
        abort (); \
      } \
  } while (0)

#endif
