package hostfuncs

// Shortcuts is shortcuts, for the tests of package hostfuncs_test.
var Shortcuts = shortcuts
