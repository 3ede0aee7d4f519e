/* A shared object that is not a libreferral plugin (no entry points). */
int referral_test_not_a_plugin (void);

int
referral_test_not_a_plugin (void)
{
  return 42;
}
