"""`aitk docqa`: grounded question answering over PDFs, scans, images and text files."""
