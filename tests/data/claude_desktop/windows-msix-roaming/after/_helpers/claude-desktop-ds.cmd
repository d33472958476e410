@echo off
rem Claude Desktop credential helper for the dsconfig profile ds: prints its key from the OS keyring.
rem Written by dsconfig; `dsconfig off --target claude-desktop` removes it.
setlocal DisableDelayedExpansion
set "DSCONFIG_HOME=@DSCONFIG_HOME@"
"/opt/dsconfig/bin/dsconfig" "key" "get" "ds"
exit /b %ERRORLEVEL%
