# CTest script, read after gtest_discover_tests has defined the tests: labels the slow ones so that
# `ctest -LE slow` (the sanitizer run in CI) leaves them out. One line per slow test: name, then labels.
set_tests_properties(BpeMerges.TenMegabyteWord PROPERTIES LABELS "tokenizer;slow")
set_tests_properties(BenchCompare.ScriptComparesCachedSynthModelsInOneRun PROPERTIES LABELS "tools;slow")
set_tests_properties(BenchReport.BusyComparisonIsWithheldNotLost PROPERTIES LABELS "tools;slow")
