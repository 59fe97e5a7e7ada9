"""`aitk autocut`: edit a video by editing its transcript (Markdown checkboxes or subtitles)."""
