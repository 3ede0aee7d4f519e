/* libreferral: symbol export macro.
 *
 * The library is built with hidden visibility; only functions marked
 * REFERRAL_API are exported.  Consumers see a plain declaration. */
#ifndef REFERRAL_EXPORT_H
#define REFERRAL_EXPORT_H

#if defined(REFERRAL_COMPILATION) && defined(__GNUC__)
#define REFERRAL_API __attribute__((visibility("default")))
#else
#define REFERRAL_API
#endif

#endif
