const char *greet(void) { return "hello from the plugin"; }
