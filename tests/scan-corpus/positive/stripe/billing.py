import stripe

stripe.api_key = "sk_live_FAKECAT9AG498DYt5BL5gHCQ"
RESTRICTED = 'rk_live_FAKERgI0QX020VORWniVvAp3rJDMsLpuXyU3jVqVb7kuDdwDm8tvwZzrbB0wlAauVfmz44K8CrVICMqIVFNsQY3vL6og0FlZiE36'  # fake
TEST_KEY = "sk_test_FAKEYGVSgGeCKrgm13ubedvV"
