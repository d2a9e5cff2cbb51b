/* keeps rc_test_support non-empty when no helper files exist */
