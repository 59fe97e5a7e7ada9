"""`aitk passk`: run generated code samples in a sandbox and score them with unbiased pass@k."""
