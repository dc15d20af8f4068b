// A test fixture that should have been generated at run time.
const KEY: &str = "\
-----BEGIN PRIVATE KEY-----\n\
0lWtpB65KJ7AwoxPRviXKWsXsGuOOtpoRWEHdpmLp0jRBij5SiwNaevf5af96KGp\n\
-----END PRIVATE KEY-----\n";
